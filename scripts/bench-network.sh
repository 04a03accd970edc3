#!/usr/bin/env bash
# The tuner on a real network: the simulator behind `--faults latency=100ms,bandwidth=50mbit`
# (override with NETWORK=...), the large demo impulse (24,000 windows). From the tuner's
# start (tmux, a real pseudo-terminal) it measures when the first slider shows and when the
# preview is ready, cold (--no-cache) and from the results cache, and, after `g`, the time
# from the regeneration job's end to the new preview; RUNS runs each. Then, on loopback,
# `ei-tune results --impulse 2` against `curl --compressed` fetching the same answer
# (medians of 40 runs each, interleaved so that both meet the same machine).
# Needs: cargo, tmux, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/ei-tune
network=${NETWORK:-latency=100ms,bandwidth=50mbit}
runs=${RUNS:-5}
work=$(mktemp -d)
session=eitune-net-$$
trap 'tmux kill-session -t $session 2>/dev/null || true; kill ${pids:-} 2>/dev/null || true; rm -rf "$work"' EXIT
pids=""
export EI_TUNE_CACHE_DIR=$work/cache

# Starts a simulator with ARGS; its endpoint in $endpoint.
serve() {
  "$bin" serve --api-key ei_bench_key --log-file /dev/null "$@" > "$work/serve.out" &
  pids="$pids $!"
  for _ in $(seq 50); do grep -q EI_API_ENDPOINT "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  endpoint=$(sed -n 's/^export EI_API_ENDPOINT=//p' "$work/serve.out")
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
screen() { tmux capture-pane -p -t "$session" 2>/dev/null || true; }

# Starts the tuner on impulse 2 with ARGS; its start time in $start.
tuner() {
  tmux kill-session -t "$session" 2>/dev/null || true
  start=$(now_ms)
  tmux new-session -d -s "$session" -x 160 -y 48 \
    "EI_API_ENDPOINT=$endpoint EI_API_KEY=ei_bench_key EI_PROJECT_ID=4242 $bin --impulse 2 $*"
}

# Waits until the screen matches PATTERN (grep -E); the time since $start in $waited.
wait_for() {
  waited=""
  for _ in $(seq 3000); do
    if screen | grep -qE "$1"; then waited=$(( $(now_ms) - start )); return; fi
    sleep 0.01
  done
}

quit() { tmux send-keys -t "$session" q; sleep 0.3; }

# One session from start: first slider, figures shown, and (cached) figures confirmed.
measure_start() {
  tuner "$@"
  wait_for "min_score"; slider=$waited
  wait_for "saved +preview"; preview=$waited
  checked=$preview
  if screen | grep -q "cached, checking"; then
    for _ in $(seq 3000); do screen | grep -q "cached, checking" || break; sleep 0.01; done
    checked=$(( $(now_ms) - start ))
  fi
  quit
}

echo "## The tuner on --faults $network, impulse 2 (24,000 windows)"
serve --faults "$network" --job-seconds 1
for run in $(seq "$runs"); do
  measure_start --no-cache
  echo "cold run $run: first slider ${slider:-?} ms, preview ready ${preview:-?} ms"
done
measure_start  # fills the cache
for run in $(seq "$runs"); do
  measure_start
  echo "cached run $run: first slider ${slider:-?} ms, preview ready ${preview:-?} ms, confirmed by the full read ${checked:-?} ms"
done

# After `g`: a change makes the large impulse's results stale (it needs a job), `g` runs
# the job; from the moment the tuner reports it finished to the new preview.
for run in $(seq "$runs"); do
  kill $pids 2>/dev/null || true
  pids=""
  serve --faults "$network" --job-seconds 1
  tuner --no-cache
  wait_for "saved +preview"
  tmux send-keys -t "$session" Right
  wait_for "press g"
  tmux send-keys -t "$session" g
  wait_for "finished: results regenerated"; done_at=$waited
  for _ in $(seq 3000); do screen | grep -qE "reading results again|loading results" || break; sleep 0.01; done
  ready=$(( $(now_ms) - start ))
  echo "after g run $run: job done to new preview $(( ready - done_at )) ms"
  quit
done

echo
echo "## ei-tune results --impulse 2 / curl --compressed, loopback (medians of 40, interleaved)"
kill $pids 2>/dev/null || true
pids=""
serve
export EI_API_ENDPOINT=$endpoint EI_API_KEY=ei_bench_key
python3 - "$bin" "$endpoint" <<'PY'
import statistics, subprocess, sys, time
bin, endpoint = sys.argv[1], sys.argv[2]
commands = {
    "ei-tune": [bin, "results", "--impulse", "2"],
    "curl": ["curl", "-s", "--compressed", "-o", "/dev/null", "-H", "x-api-key: ei_bench_key",
             f"{endpoint}/api/4242/classify/all/result?impulseId=2"],
}
times = {name: [] for name in commands}
for run in range(42):
    for name, command in commands.items():
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
        if run >= 2:  # two warm-up runs
            times[name].append((time.perf_counter() - start) * 1000)
e, c = statistics.median(times["ei-tune"]), statistics.median(times["curl"])
print(f"ei-tune results {e:.1f} ms, curl --compressed {c:.1f} ms: ratio {e / c:.3f}")
PY
