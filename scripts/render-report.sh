#!/usr/bin/env bash
# Renders `ei-tune report` in a real headless browser and keeps what it drew: the report of
# the demo's classifier + anomaly impulse (after two calls, so that it has a history) and of
# its object detection impulse, each as Chromium's screenshot (PNG, to look at) and as the
# DOM Chromium built from it (which must hold every table and chart the file has).
# Needs: cargo, chromium (Debian: apt-get install chromium).
# Usage: scripts/render-report.sh [OUT_DIR]   (default target/report-render)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$PWD/target/report-render}
mkdir -p "$out"
command -v chromium > /dev/null || { echo "needs chromium (apt-get install chromium)" >&2; exit 2; }
cargo build --release --quiet
bin=${CARGO_TARGET_DIR:-$PWD/target}/release/ei-tune
work=$(mktemp -d)
trap 'kill "${serve_pid:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

key=ei_render_key
"$bin" serve --api-key "$key" --log-file /dev/null > "$work/serve.out" &
serve_pid=$!
for _ in $(seq 50); do grep -q EI_API_ENDPOINT "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
export EI_API_ENDPOINT=$(sed -n 's/^export EI_API_ENDPOINT=//p' "$work/serve.out")
export EI_API_KEY=$key EI_TUNE_STATE_DIR=$work/state
"$bin" set 3.min_score=0.7 > /dev/null
"$bin" suggest --apply --force > /dev/null
"$bin" report "$out/report.html"
"$bin" --impulse 4 report "$out/detection.html"

# A new profile, no network of its own: the report must need none.
browser() {
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" "$@" 2> /dev/null
}
status=0
for name in report detection; do
  browser --window-size=1100,3400 --screenshot="$out/$name.png" "file://$out/$name.html"
  browser --dump-dom "file://$out/$name.html" > "$out/$name.dom.html"
  tables=$(grep -o '<table' "$out/$name.html" | wc -l)
  charts=$(grep -o '<svg' "$out/$name.html" | wc -l)
  drawn_tables=$(grep -o '<table' "$out/$name.dom.html" | wc -l)
  drawn_charts=$(grep -o '<svg' "$out/$name.dom.html" | wc -l)
  echo "$name: $tables tables, $charts charts in the file; Chromium built $drawn_tables and $drawn_charts; screenshot $out/$name.png ($(stat -c %s "$out/$name.png") bytes)"
  if [ "$tables" != "$drawn_tables" ] || [ "$charts" != "$drawn_charts" ] || [ ! -s "$out/$name.png" ]; then
    echo "$name: Chromium did not draw what the file holds" >&2
    status=1
  fi
done
exit $status
