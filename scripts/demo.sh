#!/usr/bin/env bash
# The main job: build auditwire, start the local server, check and send the seed events
# (the current-API `user.signed_in` and the legacy `user.login` and `tweet.update`), then
# export them back as CSV.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== building auditwire (release)"
cargo build --release --locked -p auditwire-cli
bin=target/release/auditwire

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

now=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
cat >"$work/current.ndjson" <<JSON
{"organization_id":"org_01EHWNCE74X7JSDV0X3SZ3KJNY","event":{"action":"user.signed_in","occurred_at":"$now","version":1,"actor":{"id":"user_01GBNJC3MX9ZZJW1FSTF4C5938","type":"user","name":"Jon Smith","metadata":{"role":"admin"}},"targets":[{"id":"team_01GBNJD4MKHVKJGEWK42JNMBGS","type":"team","name":"Team","metadata":{}}],"context":{"location":"123.123.123.123","user_agent":"Chrome/104.0.0.0"},"metadata":{"owner":"user_01GBTCQ2"}}}
JSON
cat >"$work/legacy.ndjson" <<JSON
{"group":"org_01EHWNCE74X7JSDV0X3SZ3KJNY","action":"user.login","action_type":"C","actor_name":"user@email.com","actor_id":"user_1","target_name":"user@email.com","target_id":"user_1","location":"1.1.1.1","occurred_at":"$now","metadata":{}}
{"group":"org_01EHWNCE74X7JSDV0X3SZ3KJNY","action":"tweet.update","action_type":"U","actor_name":"Jon Smith","actor_id":"user_01DGZ0FAXN978HCET66Q98QMTQ","target_name":"What I am eating for dinner","target_id":"tweet_5","location":"1.1.1.1","occurred_at":"$now","metadata":{"body_was":"What I am eating for dinner","body":"What I am eating for lunch"}}
JSON

echo "== auditwire validate: the wire bodies that will be sent"
"$bin" validate <"$work/current.ndjson"
while IFS= read -r line; do printf '%s' "$line" | "$bin" validate --legacy; done <"$work/legacy.ndjson"

echo "== auditwire serve on a free port"
"$bin" serve --addr 127.0.0.1:0 --api-key sk_demo >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
base_url=$(sed -n 's/^listening on //p' "$work/server.out" | head -n 1)
[ -n "$base_url" ] || { echo "server did not start:"; cat "$work/server.err"; exit 1; }
echo "$base_url"

export WORKOS_API_KEY=sk_demo WORKOS_BASE_URL="$base_url"
echo "== auditwire emit (current API)"
"$bin" emit --flush-timeout 10 <"$work/current.ndjson"
echo "== auditwire emit --legacy (v1 events, delivered through the current API)"
"$bin" emit --legacy --flush-timeout 10 <"$work/legacy.ndjson"

echo "== C: libauditwire (examples/c) built against an installed copy"
scripts/install-c.sh "$work/prefix" >/dev/null
for ex in legacy_events current_event; do
  cc -std=c11 -O2 -I"$work/prefix/include" "examples/c/$ex.c" -o "$work/$ex" \
    -L"$work/prefix/lib" -lauditwire -Wl,-rpath,"$work/prefix/lib"
  "$work/$ex"
done

echo "== Python: the wheel in a venv (examples/python/seed_events.py)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/auditwire"
venv="$cache/demo-venv"
[ -x "$venv/bin/maturin" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install --quiet "maturin>=1.5,<2"; }
rm -rf "$work/wheels"
"$venv/bin/maturin" build --quiet --release -m bindings/python/Cargo.toml -o "$work/wheels" 2>/dev/null
"$venv/bin/pip" install --quiet --force-reinstall "$work"/wheels/auditwire-*.whl
"$venv/bin/python" examples/python/seed_events.py

echo "== Node: npm install ./bindings/node (examples/node/seed_events.js)"
root="$PWD"
mkdir -p "$work/node-app"
(cd "$work/node-app" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "$root/bindings/node" >/dev/null)
NODE_PATH="$work/node-app/node_modules" node examples/node/seed_events.js

echo "== auditwire export: the organization's events as CSV (CLI, C, Python and Node)"
"$bin" export --org org_01EHWNCE74X7JSDV0X3SZ3KJNY \
  --since 2019-01-01 --until "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)" -o -
