#!/usr/bin/env bash
# Fault soak: every accepted event reaches the server exactly once, through injected faults
# and a server crash.
#
#   tests/soak/run.sh                    # 1,000,000 events (release build, ~11 min on this 2-core machine)
#   tests/soak/run.sh --events 50000     # the short run of the test command (debug build, ~2.5-3.5 min)
#
# What it does:
#   1. builds `auditwire` (cargo build -p auditwire-cli; release for 200,000 events or more,
#      debug below; --profile overrides, AUDITWIRE_BIN=path skips the build);
#   2. starts `auditwire serve` on a free loopback port with a SQLite file (--db) and
#      --fail-rate 0.3 --fail-with 500,503,429,reset,timeout (a `timeout` holds the request
#      --hold-ms 2000, past the clients' 1 s request timeout);
#   3. pushes N distinct events (actor id soak_00000000 ... and a metadata counter) through
#      K concurrent `auditwire emit --spool DIR` clients, each with its own disk spool.
#      Several clients, because a 429 pauses one whole client (by design), so one client
#      under 6% injected 429s moves only ~20 events/s;
#   4. when half the events are stored, kills the server with SIGKILL and, after a short
#      outage, starts it again on the same port and the same database file (the clients keep
#      retrying meanwhile; idempotency keys live in the database, so retries of events the
#      dead server had already stored are answered as replays, not stored twice);
#   5. checks: every client delivered what it accepted with nothing left (emit summary and
#      `auditwire spool status`), and the database holds each of the N events exactly once
#      (count of rows vs distinct actor ids, all within the expected range);
#   6. prints `soak: N emitted, S stored, L lost, D duplicates, restarts R, T s` and exits
#      non-zero on any loss, duplicate, leftover or client failure.
#
# Options: --events N (1000000)  --clients K (40)  --workers W per client (4)
#          --queue Q (64: events each client holds in memory; the rest waits in its spool)
#          --fail-rate R (0.3)  --fail-with LIST (500,503,429,reset,timeout)
#          --restart-at F (0.5: fraction stored before the crash)  --down S (2: outage, s)
#          --timeout S (5400: give up after)  --profile debug|release  --keep (keep temp dir)
# Needs: cargo, python3, curl. Traffic stays on 127.0.0.1.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"

events=1000000
clients=40
workers=4
queue=64
fail_rate=0.3
fail_with=500,503,429,reset,timeout
restart_at=0.5
down=2
timeout=5400
profile=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --events) events=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --queue) queue=$2; shift 2 ;;
    --fail-rate) fail_rate=$2; shift 2 ;;
    --fail-with) fail_with=$2; shift 2 ;;
    --restart-at) restart_at=$2; shift 2 ;;
    --down) down=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --profile) profile=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) sed -n '2,33p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$events$clients$workers" in *[!0-9]*) echo "soak: --events/--clients/--workers take integers" >&2; exit 2 ;; esac
[ "$events" -ge 1 ] && [ "$clients" -ge 1 ] || { echo "soak: --events and --clients must be >= 1" >&2; exit 2; }
[ "$clients" -le "$events" ] || clients=$events
for tool in python3 curl; do
  command -v "$tool" >/dev/null || { echo "soak: $tool is needed" >&2; exit 2; }
done

say() { printf 'soak: %s\n' "$*"; }
now() { date +%s.%N; }
started=$(now)

# --- the binary --------------------------------------------------------------------------
if [ -n "${AUDITWIRE_BIN:-}" ]; then
  bin=$AUDITWIRE_BIN
else
  if [ -z "$profile" ]; then
    if [ "$events" -ge 200000 ]; then profile=release; else profile=debug; fi
  fi
  target_dir=${CARGO_TARGET_DIR:-$root/target}
  case "$target_dir" in /*) ;; *) target_dir=$root/$target_dir ;; esac
  say "building auditwire ($profile)"
  if [ "$profile" = release ]; then
    cargo build --quiet --release -p auditwire-cli
  else
    cargo build --quiet -p auditwire-cli
  fi
  bin=$target_dir/$profile/auditwire
fi
[ -x "$bin" ] || { echo "soak: no executable at $bin" >&2; exit 2; }

# --- scratch space and cleanup -----------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/auditwire-soak.XXXXXX")
server_pid=""
client_pids=()
cleanup() {
  local pid
  for pid in "${client_pids[@]}"; do
    pkill -P "$pid" 2>/dev/null || true # the emit and generator of this client
    kill "$pid" 2>/dev/null || true
  done
  if [ -n "$server_pid" ]; then kill -9 "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

db=$work/server.db
mkdir -p "$work/spool"

# Starts the server on $1 (host:port) with the database; sets server_pid and port.
start_server() {
  local addr=$1 log=$2 i
  "$bin" serve --addr "$addr" --db "$db" --test-endpoints \
    --fail-rate "$fail_rate" --fail-with "$fail_with" --hold-ms 2000 --retry-after 0 \
    >"$log" 2>&1 &
  server_pid=$!
  for i in $(seq 1 200); do
    if grep -q '^listening on http://' "$log" 2>/dev/null; then
      port=$(sed -n 's#^listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$log" | head -n1)
      return 0
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      server_pid=""
      return 1
    fi
    sleep 0.05
  done
  return 1
}

stats() { curl -s --max-time 5 "http://127.0.0.1:$port/__stats" 2>/dev/null || true; }
field() { # field NAME JSON -> integer, or empty
  python3 -c 'import json,sys
try: print(int(json.loads(sys.argv[2])[sys.argv[1]]))
except Exception: pass' "$1" "$2"
}

port=""
start_server 127.0.0.1:0 "$work/server-1.log" || { cat "$work/server-1.log" >&2; echo "soak: the server did not start" >&2; exit 1; }
base_url=http://127.0.0.1:$port
say "server on $base_url: --fail-rate $fail_rate --fail-with $fail_with"
say "$events events through $clients clients ($workers workers each, disk spool each), $bin"

# --- the clients -------------------------------------------------------------------------
cat >"$work/gen.py" <<'EOF'
import sys
start, end = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout
line = ('{"organization_id":"org_soak","event":{"action":"soak.event",'
        '"occurred_at":"2026-01-01T00:00:00.000Z",'
        '"actor":{"id":"soak_%08d","type":"user","name":"Soak %d"},'
        '"targets":[{"id":"doc_%d","type":"document"}],'
        '"context":{"location":"127.0.0.1","user_agent":"auditwire-soak"},'
        '"metadata":{"n":%d}}}\n')
for i in range(start, end):
    out.write(line % (i, i, i, i))
EOF

for k in $(seq 0 $((clients - 1))); do
  lo=$((events * k / clients))
  hi=$((events * (k + 1) / clients))
  (
    rc=0
    python3 "$work/gen.py" "$lo" "$hi" |
      WORKOS_API_KEY=sk_test_soak WORKOS_REQUEST_TIMEOUT=1 "$bin" emit \
        --base-url "$base_url" --spool "$work/spool/c$k" --workers "$workers" --queue "$queue" \
        --flush-timeout "$timeout" >"$work/client-$k.json" 2>"$work/client-$k.err" || rc=$?
    echo "$rc" >"$work/client-$k.rc"
  ) &
  client_pids+=($!)
done

# --- watch, crash the server once, restart it ----------------------------------------
restarts=0
restart_threshold=$(python3 -c "print(int($events * $restart_at))")
faults_before=0
last_print=0
deadline=$(python3 -c "print(int($(date +%s) + $timeout + 120))")
while :; do
  alive=0
  for pid in "${client_pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then alive=$((alive + 1)); fi
  done
  [ "$alive" -eq 0 ] && break
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "soak: gave up after $timeout s with $alive clients still running" >&2
    exit 1
  fi
  s=$(stats)
  stored=$(field events_stored "$s")
  if [ -n "$stored" ]; then
    t=$(date +%s)
    if [ $((t - last_print)) -ge 15 ]; then
      last_print=$t
      elapsed=$(python3 -c "print(round($(now) - $started))")
      say "$(printf '%6ss  stored %s/%s  (%s clients running)' "$elapsed" "$stored" "$events" "$alive")"
    fi
    if [ "$restarts" -eq 0 ] && [ "$stored" -ge "$restart_threshold" ]; then
      faults_before=$(field faults_injected "$s")
      say "SIGKILL the server at $stored stored events"
      kill -9 "$server_pid"
      wait "$server_pid" 2>/dev/null || true
      server_pid=""
      sleep "$down"
      ok=0
      for i in $(seq 1 50); do
        if start_server "127.0.0.1:$port" "$work/server-2.log"; then ok=1; break; fi
        sleep 0.2
      done
      if [ "$ok" != 1 ]; then
        cat "$work/server-2.log" >&2
        echo "soak: the server did not restart on port $port" >&2
        exit 1
      fi
      restarts=1
      say "server restarted on the same port after ${down}s down: $(field events_stored "$(stats)") events in its database"
    fi
  fi
  sleep 1
done

# --- the verdict --------------------------------------------------------------------------
final=$(stats)
say "server stats since the restart: $final"
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""

client_fail=0
for k in $(seq 0 $((clients - 1))); do
  rc=$(cat "$work/client-$k.rc" 2>/dev/null || echo missing)
  if [ "$rc" != 0 ]; then
    client_fail=$((client_fail + 1))
    echo "soak: client $k exited with $rc: $(cat "$work/client-$k.json" 2>/dev/null) $(tail -n 5 "$work/client-$k.err" 2>/dev/null)" >&2
  fi
  "$bin" spool status "$work/spool/c$k" >"$work/spool-$k.json" 2>>"$work/client-$k.err" || client_fail=$((client_fail + 1))
done

verdict=$(python3 - "$work" "$clients" "$events" "$db" <<'EOF'
import json, sqlite3, sys
work, clients, events, db = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
tot = dict(accepted=0, delivered=0, rejected=0, expired=0, remaining=0, lost=0, invalid=0, refused=0)
pending = dead = 0
for k in range(clients):
    try:
        s = json.load(open(f"{work}/client-{k}.json"))
        for key in tot:
            tot[key] += int(s.get(key, 0))
    except Exception as e:
        tot["lost"] += 0
        print(f"client {k}: no summary ({e})", file=sys.stderr)
    try:
        st = json.load(open(f"{work}/spool-{k}.json"))
        pending += int(st["pending"]); dead += int(st["dead_letters"])
    except Exception as e:
        pending += 1
        print(f"client {k}: no spool status ({e})", file=sys.stderr)
con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
seen = {}
extra = 0
for (actor,) in con.execute("SELECT actor_id FROM events"):
    try:
        n = int(actor[5:]) if actor.startswith("soak_") else -1
    except ValueError:
        n = -1
    if 0 <= n < events:
        seen[n] = seen.get(n, 0) + 1
    else:
        extra += 1
keys = con.execute("SELECT count(*) FROM idempotency_keys").fetchone()[0]
distinct = len(seen)
print(json.dumps(dict(rows=rows, distinct=distinct, lost=events - distinct,
                      duplicates=rows - distinct - extra, extra=extra, keys=keys,
                      pending=pending, dead=dead, **{"c_" + k: v for k, v in tot.items()})))
EOF
)
g() { field "$1" "$verdict"; }
elapsed=$(python3 -c "print(round($(now) - $started))")
say "clients: accepted $(g c_accepted), delivered $(g c_delivered), rejected $(g c_rejected), expired $(g c_expired), remaining $(g c_remaining), invalid $(g c_invalid); spools: pending $(g pending), dead letters $(g dead)"
say "database: $(g rows) event rows, $(g distinct) distinct events, $(g keys) idempotency keys, $(g extra) unexpected; faults injected: $faults_before before the crash, $(field faults_injected "$final") after"
echo "soak: $events emitted, $(g rows) stored, $(g lost) lost, $(g duplicates) duplicates, restarts $restarts, $elapsed s"

status=0
[ "$(g lost)" = 0 ] || { echo "soak: FAIL: $(g lost) events lost" >&2; status=1; }
[ "$(g duplicates)" = 0 ] || { echo "soak: FAIL: $(g duplicates) duplicates" >&2; status=1; }
[ "$(g extra)" = 0 ] || { echo "soak: FAIL: $(g extra) unexpected rows" >&2; status=1; }
[ "$(g c_accepted)" = "$events" ] || { echo "soak: FAIL: clients accepted $(g c_accepted) of $events" >&2; status=1; }
[ "$(g c_delivered)" = "$events" ] || { echo "soak: FAIL: clients delivered $(g c_delivered) of $events" >&2; status=1; }
[ "$(g c_remaining)" = 0 ] && [ "$(g pending)" = 0 ] && [ "$(g dead)" = 0 ] || { echo "soak: FAIL: events left in the client spools" >&2; status=1; }
[ "$client_fail" = 0 ] || { echo "soak: FAIL: $client_fail client problems" >&2; status=1; }
[ "$restarts" -ge 1 ] || { echo "soak: FAIL: the server was never restarted (delivery ended first)" >&2; status=1; }
if [ "$status" != 0 ] && [ "$keep" != 1 ]; then
  keep=1
  say "keeping $work for inspection"
fi
exit "$status"
