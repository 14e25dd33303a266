#!/usr/bin/env bash
# Load test of `auditwire serve`: POST /audit_logs/events with wrk, 64 connections for 10 s,
# each request a valid event with a unique Idempotency-Key. Prints requests/s and error counts.
# Env: DURATION (10s), CONNECTIONS (64), THREADS (2), DB (a SQLite file; default in memory).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration="${DURATION:-10s}"
connections="${CONNECTIONS:-64}"
threads="${THREADS:-2}"
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }

(cd "$root" && cargo build --quiet --release -p auditwire-cli --bin auditwire)
work="$(mktemp -d)"
db_args=()
if [ -n "${DB:-}" ]; then db_args=(--db "$DB"); fi
"$root/target/release/auditwire" serve --addr 127.0.0.1:0 --test-endpoints "${db_args[@]}" >"$work/out" 2>"$work/err" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
base=""
for _ in $(seq 1 100); do
    line="$(head -n 1 "$work/out" 2>/dev/null || true)"
    if [[ "$line" == "listening on "* ]]; then base="${line#listening on }"; break; fi
    sleep 0.1
done
[ -n "$base" ] || { cat "$work/err" >&2; echo "server did not start" >&2; exit 1; }

cat >"$work/post.lua" <<'LUA'
local counter = 0
local threads = {}
local body = '{"organization_id":"org_01EHWNCE74X7JSDV0X3SZ3KJNY","event":{"action":"user.signed_in",'
  .. '"occurred_at":"2026-02-02T16:35:39.317Z","version":1,"actor":{"id":"user_01GBNJC3MX9ZZJW1FSTF4C5938",'
  .. '"type":"user","name":"Jon Smith","metadata":{"role":"admin"}},"targets":[{"id":"team_01GBNJD4MKHVKJGEWK42JNMBGS",'
  .. '"type":"team","name":"Team","metadata":{}}],"context":{"location":"123.123.123.123","user_agent":"Chrome/104.0.0.0"},'
  .. '"metadata":{"owner":"user_01GBTCQ2"}}}'

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer sk_bench"
end

function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "bench-" .. tid .. "-" .. counter
  return wrk.format("POST", "/audit_logs/events", nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("requests: %d in %.2f s\n", summary.requests, summary.duration / 1e6))
  io.write(string.format("requests/s: %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("latency p50 %.2f ms, p99 %.2f ms\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  io.write(string.format("errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n",
    e.connect, e.read, e.write, e.timeout, e.status))
end
LUA

echo "wrk -t$threads -c$connections -d$duration POST $base/audit_logs/events ${DB:+(db $DB)}"
wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$work/post.lua" "$base/audit_logs/events" | tee "$work/wrk"
echo "server stats: $(curl -s "$base/__stats")"
if grep -q "Non-2xx\|Socket errors" "$work/wrk"; then
    echo "FAIL: errors during the run" >&2
    exit 1
fi
