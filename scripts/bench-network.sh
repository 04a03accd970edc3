#!/usr/bin/env bash
# The tuner on a real network: the simulator behind `--faults latency=100ms,bandwidth=50mbit`
# (override with NETWORK=...), the large demo impulse (24,000 windows). Measures, from the
# tuner's start (tmux, a real pseudo-terminal), when the first slider shows and when the
# preview is ready, over RUNS runs; then `ei-tune results --impulse 2` against
# `curl --compressed` fetching the same answer on loopback.
# Needs: cargo, tmux, curl; hyperfine where installed.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/ei-tune
network=${NETWORK:-latency=100ms,bandwidth=50mbit}
runs=${RUNS:-5}
work=$(mktemp -d)
trap 'tmux kill-session -t eitune-net 2>/dev/null || true; kill ${pids:-} 2>/dev/null || true; rm -rf "$work"' EXIT
pids=""

# Starts a simulator with ARGS; its endpoint in $endpoint.
serve() {
  "$bin" serve --api-key ei_bench_key --log-file /dev/null "$@" > "$work/serve.out" &
  pids="$pids $!"
  for _ in $(seq 50); do grep -q EI_API_ENDPOINT "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
  endpoint=$(sed -n 's/^export EI_API_ENDPOINT=//p' "$work/serve.out")
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

echo "## The tuner on --faults $network, impulse 2 (24,000 windows)"
serve --faults "$network"
for run in $(seq "$runs"); do
  tmux kill-session -t eitune-net 2>/dev/null || true
  start=$(now_ms)
  tmux new-session -d -s eitune-net -x 160 -y 48 \
    "EI_API_ENDPOINT=$endpoint EI_API_KEY=ei_bench_key EI_PROJECT_ID=4242 $bin --impulse 2"
  slider="" preview=""
  for _ in $(seq 3000); do
    screen=$(tmux capture-pane -p -t eitune-net 2>/dev/null || true)
    if [ -z "$slider" ] && grep -q "min_score" <<< "$screen"; then slider=$(( $(now_ms) - start )); fi
    if grep -q "  preview" <<< "$screen"; then preview=$(( $(now_ms) - start )); break; fi
    sleep 0.01
  done
  echo "run $run: first slider ${slider:-?} ms, preview ready ${preview:-?} ms"
  tmux send-keys -t eitune-net q
  sleep 0.3
done

echo
echo "## ei-tune results --impulse 2 / curl --compressed, loopback"
serve
if command -v hyperfine > /dev/null; then
  hyperfine -N --warmup 2 --runs 20 --export-json "$work/results.json" \
    "$bin results --impulse 2" \
    "curl -s --compressed -o /dev/null -H 'x-api-key: ei_bench_key' $endpoint/api/4242/classify/all/result?impulseId=2"
  python3 - "$work/results.json" <<'PY'
import json, sys
r = {("ei-tune" if "ei-tune" in x["command"] else "curl"): x for x in json.load(open(sys.argv[1]))["results"]}
print(f"ei-tune results / curl --compressed (medians): {r['ei-tune']['median'] / r['curl']['median']:.2f}")
PY
else
  echo "(hyperfine not installed)"
fi
