#!/usr/bin/env bash
# Delivery benchmark: wrk against `auditwire serve`, then the auditwire Client against the
# same server in the same run. Prints wrk req/s, auditwire events/s, their ratio and the
# client's CPU microseconds per delivered event.
# Usage: bench/delivery.sh [events (100000)] [workers (8,16,32,64)]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-100000}"
WORKERS="${2:-8,16,32,64}"
target_dir="${CARGO_TARGET_DIR:-target}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install -y wrk" >&2; exit 2; }

cargo build --release -q -p auditwire-cli
cargo bench -q -p auditwire --bench delivery --no-run 2>/dev/null

work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

"$target_dir"/release/auditwire serve --addr 127.0.0.1:0 --test-endpoints >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q "listening on" "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
url="$(sed -n 's/^listening on //p' "$work/serve.out" | head -1)"
[ -n "$url" ] || { echo "server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }

now="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer sk_bench"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"organization_id":"org_wrk","event":{"action":"user.signed_in","occurred_at":"$now","actor":{"id":"user_1","type":"user","name":"Jon Smith"},"targets":[{"id":"team_1","type":"team"}],"context":{"location":"123.123.123.123"}}}'
LUA

echo "== wrk: 10 s, 64 connections, POST /audit_logs/events on $url"
wrk -t2 -c64 -d10s -s "$work/post.lua" "$url/audit_logs/events" | tee "$work/wrk.out"
wrk_rps="$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")"

echo "== auditwire Client: $EVENTS events, workers $WORKERS (store emptied before each run, as for wrk)"
AUDITWIRE_BENCH_RESET=1 AUDITWIRE_BENCH_URL="$url" AUDITWIRE_BENCH_EVENTS="$EVENTS" AUDITWIRE_BENCH_WORKERS="$WORKERS" \
  cargo bench -q -p auditwire --bench delivery 2>/dev/null | tee "$work/delivery.out"

python3 - "$wrk_rps" "$work/delivery.out" <<'PY'
import json, sys
wrk = float(sys.argv[1])
runs = [json.loads(l) for l in open(sys.argv[2]) if l.startswith("{")]
best = max(runs, key=lambda r: r["events_per_sec"])
print(f"wrk req/s:                 {wrk:,.0f}")
print(f"auditwire events/s (best): {best['events_per_sec']:,.0f}  (workers {best['workers']})")
print(f"ratio:                     {best['events_per_sec'] / wrk:.0%}  (target >= 50%)")
print(f"client CPU us/event:       {best['cpu_us_per_event']:.1f}  (target <= 25; user {best['user_us_per_event']:.1f}, system {best['system_us_per_event']:.1f})")
PY
