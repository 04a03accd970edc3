#!/usr/bin/env bash
# Process-level figures for BENCHMARKS.md: `ei-tune set` against curl posting the same JSON
# to the same simulator, `ei-tune list` cold start, idle CPU and wake-ups of the TUI, peak
# RSS of the demo with the large impulse loaded, and key press to frame latency.
# Needs: cargo, curl, tmux; hyperfine where installed (apt-get install hyperfine).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/ei-tune
work=$(mktemp -d)
trap 'tmux kill-session -t eitune-bench 2>/dev/null || true; kill "${serve_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

key=ei_bench_key
"$bin" serve --api-key "$key" --log-file /dev/null > "$work/serve.out" &
serve_pid=$!
for _ in $(seq 50); do grep -q EI_API_ENDPOINT "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sed -n 's/^export EI_API_ENDPOINT=//p' "$work/serve.out")
export EI_API_ENDPOINT=$endpoint EI_API_KEY=$key EI_PROJECT_ID=4242
body='{"thresholds":[{"blockId":3,"key":"min_score","value":0.61}],"allowCreatingRegenerateModelTestingJobs":false}'
curl_cmd="curl -s -o /dev/null -X POST -H 'x-api-key: $key' -H 'content-type: application/json' -d '$body' $endpoint/api/4242/impulse/1/set-thresholds"

if [ "${1:-}" != "--no-hyperfine" ]; then
echo "## ei-tune set vs curl, list cold start"
if command -v hyperfine > /dev/null; then
  hyperfine -N --warmup 10 --runs 100 --export-json "$work/set.json" \
    "$bin set 3.min_score=0.61" "$curl_cmd" "$bin list"
  python3 - "$work/set.json" <<'PY'
import json, sys
r = {x["command"].split()[1] if "ei-tune" in x["command"] else "curl": x for x in json.load(open(sys.argv[1]))["results"]}
ratio = r["set"]["median"] / r["curl"]["median"]
print(f"ei-tune set / curl (medians): {ratio:.2f}")
PY
  echo
  echo "## Summary of the large impulse (24,000 windows, 45 MB of JSON): ei-tune results vs curl"
  large_cmd="curl -s -o /dev/null -H 'x-api-key: $key' $endpoint/api/4242/classify/all/result?impulseId=2"
  hyperfine -N --warmup 2 --runs 20 --export-json "$work/large.json" \
    "$bin results --impulse 2" "$large_cmd"
  python3 - "$work/large.json" <<'PY'
import json, sys
r = {("ei-tune" if "ei-tune" in x["command"] else "curl"): x for x in json.load(open(sys.argv[1]))["results"]}
print(f"ei-tune results / curl (medians): {r['ei-tune']['median'] / r['curl']['median']:.2f}")
PY
  echo "peak RSS of ei-tune results --impulse 2: $( { /usr/bin/time -f %M "$bin" results --impulse 2 > /dev/null; } 2>&1 | tail -1) KiB"
else
  t() { local s=$(date +%s%N); for _ in $(seq 50); do eval "$1" > /dev/null; done; echo $(( ($(date +%s%N) - s) / 50000 ))us; }
  echo "set: $(t "$bin set 3.min_score=0.61")  curl: $(t "$curl_cmd")  list: $(t "$bin list")"
fi
fi

proc_cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }      # utime + stime, clock ticks
# Context switches of every thread (tokio's workers included), one line per thread:
# each is a wake-up. Threads that end between two readings are left out of the difference.
proc_wakeups() {
  for t in /proc/"$1"/task/*; do
    awk -v t="${t##*/}" '/^(voluntary|nonvoluntary)_ctxt_switches/ {s += $2} END {print t, s}' "$t/status"
  done | sort
}
# Starts ei-tune ARGS in a tmux pane (a real pseudo-terminal); its pid in $work/pid.
start_tui() {
  tmux kill-session -t eitune-bench 2>/dev/null || true
  rm -f "$work/pid"
  tmux new-session -d -s eitune-bench -x 160 -y 48 \
    "bash -c 'echo \$\$ > $work/pid; exec $bin $* 2> $work/stats.txt'"
  for _ in $(seq 50); do [ -s "$work/pid" ] && break; sleep 0.1; done
  pid=$(cat "$work/pid")
}

echo
echo "## Idle: the demo left alone for 10 s"
start_tui demo --stats
for _ in $(seq 100); do tmux capture-pane -p -t eitune-bench | grep -q "saved  preview" && break; sleep 0.1; done
sleep 1
cpu0=$(proc_cpu "$pid"); proc_wakeups "$pid" > "$work/wake0"
sleep 10
cpu1=$(proc_cpu "$pid"); proc_wakeups "$pid" > "$work/wake1"
hz=$(getconf CLK_TCK)
wakeups=$(join "$work/wake0" "$work/wake1" | awk '{s += $3 - $2} END {print s + 0}')
echo "CPU in 10 s idle: $(( (cpu1 - cpu0) * 1000 / hz )) ms (clock tick $((1000 / hz)) ms); wake-ups (context switches, all threads): $wakeups"

echo
echo "## Key press to finished frame (300 presses through tmux)"
for i in $(seq 300); do
  case $((i % 6)) in 0) k=Down ;; 1|2) k=Right ;; *) k=Left ;; esac
  tmux send-keys -t eitune-bench "$k"; sleep 0.01
done
sleep 1
tmux send-keys -t eitune-bench q; sleep 1; tmux send-keys -t eitune-bench q 2>/dev/null || true; sleep 1
cat "$work/stats.txt"

echo
echo "## Peak RSS: the demo on the large impulse (24,000 windows), after loading"
start_tui demo --impulse 2
for _ in $(seq 150); do tmux capture-pane -p -t eitune-bench | grep -q "saved  preview" && break; sleep 0.2; done
grep -E "VmHWM|VmRSS" "/proc/$pid/status"
