#!/usr/bin/env bash
# docs/SCALING.md's figures: a cold build of a project locally, then through `run --queue` with 1, 2 and 4
# workers (each with --concurrency 1), and a second project over the same raw files through a shared cache.
# Redis counters (commands, bytes in/out) are read before and after each run.
# Usage: bench/scaling.sh PROJECT_DIR   (a folder with mdpipe.config.json, e.g. from `mdpipe synth --config-out`)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="$ROOT/bin/mdpipe.js"
PROJECT="$(cd "$1" && pwd)"
PORT=${PORT:-16500}
PW="bench-$$"
URL="redis://:$PW@127.0.0.1:$PORT/0"
DIR=$(mktemp -d)
redis-server --port "$PORT" --bind 127.0.0.1 --requirepass "$PW" --dir "$DIR" --save '' --appendonly no --loglevel warning &
REDIS=$!
WORKERS=()
cleanup() { for w in "${WORKERS[@]:-}"; do [ -n "$w" ] && kill "$w" 2>/dev/null || true; done; kill "$REDIS" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
sleep 1
rcli() { redis-cli -p "$PORT" -a "$PW" --no-auth-warning "$@"; }
counters() { rcli info stats | tr -d '\r' | awk -F: '/^(total_commands_processed|total_net_input_bytes|total_net_output_bytes):/ {printf "%s ", $2}'; }
fresh() { rm -rf "$PROJECT/.mdpipe" "$PROJECT/out"; }
measure() { # label, args...
  local label=$1; shift
  fresh
  local before after
  before=$(counters)
  local t0=$(date +%s%N)
  (cd "$PROJECT" && node "$BIN" run --json --no-progress "$@" > "$DIR/summary.json" 2> "$DIR/stderr")
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  after=$(counters)
  read -r c0 i0 o0 <<< "$before"; read -r c1 i1 o1 <<< "$after"
  local executed; executed=$(node -e "const s=require('$DIR/summary.json'); console.log(s.executed + ' executed, ' + s.tasks.filter(t=>t.worker).length + ' on workers')")
  echo "$label: wall ${ms} ms; $executed; redis commands $((c1 - c0)), bytes in $((i1 - i0)), out $((o1 - o0))"
  sha256sum "$PROJECT"/out/*/* | sha256sum | cut -c1-16
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "local"
for n in 1 2 4; do
  while [ "${#WORKERS[@]}" -lt "$n" ]; do
    node "$BIN" worker --queue "$URL" --quiet & WORKERS+=($!)
  done
  sleep 2
  measure "queue, $n worker(s)" --queue "$URL"
done
for w in "${WORKERS[@]}"; do kill "$w"; done; WORKERS=()
rcli flushall > /dev/null
measure "shared cache, first project (writes)" --shared-cache "$URL"
rm -rf "$PROJECT/.mdpipe"
before=$(counters)
(cd "$PROJECT" && node "$BIN" run --json --no-progress --shared-cache "$URL" --debug 2>&1 >/dev/null | grep '^shared cache') || true
echo "shared cache, second project (empty local cache, outputs kept): redis $(counters) (before: $before)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
