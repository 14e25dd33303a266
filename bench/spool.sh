#!/usr/bin/env bash
# Spool benchmarks.
#  1. `emit` into the spool: rate and p50/p99 from 1 and 8 threads, without and with fsync
#     (cargo bench -p auditwire --bench spool).
#  2. Drain rate of a backlog (default 200,000 events) against the local server, compared
#     with in-memory delivery of the same events by `auditwire emit` without a spool.
# Usage: bench/spool.sh [events (200000)] [workers (32)]
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${1:-200000}"
WORKERS="${2:-32}"
target_dir="${CARGO_TARGET_DIR:-target}"

# SKIP_EMIT_BENCH=1 runs only the drain comparison.
if [ -z "${SKIP_EMIT_BENCH:-}" ]; then
  cargo bench -q -p auditwire --bench spool 2>/dev/null | grep '^spool emit'
fi
cargo build --release -q -p auditwire-cli
bin="$target_dir/release/auditwire"

work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A fresh server per phase, so both deliver into an empty database.
start_server() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  : >"$work/serve.out"
  "$bin" serve --addr 127.0.0.1:0 --test-endpoints >"$work/serve.out" 2>"$work/serve.err" &
  server_pid=$!
  for _ in $(seq 100); do
    grep -q "listening on" "$work/serve.out" 2>/dev/null && break
    sleep 0.1
  done
  url="$(sed -n 's/^listening on //p' "$work/serve.out" | head -1)"
  [ -n "$url" ] || { echo "server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }
}
export WORKOS_API_KEY=sk_bench_spool

python3 - "$EVENTS" >"$work/events.ndjson" <<'PY'
import json, sys
for i in range(int(sys.argv[1])):
    print(json.dumps({"organization_id": "org_bench", "event": {
        "action": "user.signed_in", "occurred_at": "2026-02-02T16:35:39.317Z",
        "actor": {"id": "user_01GBNJC3MX9ZZJW1FSTF4C5938", "type": "user", "name": "Jon Smith"},
        "targets": [{"id": "team_01GBNJD4MKHVKJGEWK42JNMBGS", "type": "team"}],
        "context": {"location": "123.123.123.123"}, "metadata": {"n": str(i)}}}))
PY

start_server
# In-memory delivery: emit without a spool (reading is far faster than delivery).
mem="$("$bin" emit --workers "$WORKERS" --queue 1000000 --base-url "$url" <"$work/events.ndjson" 2>/dev/null)"
mem_s="$(echo "$mem" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')"

# Backlog: emit into a spool with the API unreachable, then drain it.
dead="http://127.0.0.1:9"
"$bin" emit --workers 1 --spool "$work/spool" --base-url "$dead" --flush-timeout 0 \
  <"$work/events.ndjson" >/dev/null 2>&1 || true
"$bin" spool status "$work/spool" | python3 -c 'import json,sys; s=json.load(sys.stdin); print("backlog: %d events, %.1f MB" % (s["pending"], s["size_bytes"] / 1e6))'
start_server
drain="$("$bin" spool drain "$work/spool" --workers "$WORKERS" --base-url "$url")"
drain_s="$(echo "$drain" | python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])')"
python3 - "$EVENTS" "$mem_s" "$drain_s" <<'PY'
import sys
n, mem, drain = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(f"in-memory delivery: {n / mem:,.0f} events/s ({mem:.2f} s)")
print(f"spool drain:        {n / drain:,.0f} events/s ({drain:.2f} s)")
print(f"drain / in-memory:  {mem / drain:.2f}")
PY
