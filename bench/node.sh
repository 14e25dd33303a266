#!/usr/bin/env bash
# Node benchmark: auditwire (release addon) vs @workos-inc/node (newest release that runs on
# Node 20, from npm) on the same local `auditwire serve`, in one run.
# Usage: bench/node.sh [--url BASE_URL] [--seq N] [--batches 1000,10000] [--emits N] [--json]
# --url: measure against that server instead of starting one (bench/run.sh passes its own).
set -euo pipefail
given_url=""
if [[ "${1:-}" == "--url" ]]; then given_url="$2"; shift 2; fi
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/auditwire"
DIR="$CACHE/node-bench"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

(cd "$ROOT" && cargo build --release --quiet -p auditwire-cli)
(cd "$ROOT/bindings/node" && npm install --ignore-scripts --no-package-lock --no-audit --no-fund --loglevel=error)
(cd "$ROOT/bindings/node" && node scripts/build.js)

rm -rf "$DIR"
mkdir -p "$DIR"
tarball="$(cd "$ROOT/bindings/node" && npm pack --silent --pack-destination "$DIR" | tail -n 1)"
cd "$DIR"
npm init -y >/dev/null
# @workos-inc/node 9 and later need Node 22; 8.x is the newest line for Node 20.
npm install --no-audit --no-fund --loglevel=error "./$tarball" "@workos-inc/node@^8"
echo "@workos-inc/node $(node -p "require('@workos-inc/node/package.json').version"), node $(node --version)"

log="$(mktemp)"
idle_log="$(mktemp)"
"$TARGET/release/auditwire" serve --addr 127.0.0.1:0 >"$log" 2>/dev/null &
server=$!
# A second server that holds every request for a minute: emit timed with delivery idle.
"$TARGET/release/auditwire" serve --addr 127.0.0.1:0 --latency-ms 60000 >"$idle_log" 2>/dev/null &
idle=$!
trap 'kill "$server" "$idle" 2>/dev/null; wait "$server" "$idle" 2>/dev/null; rm -f "$log" "$idle_log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && grep -q "listening on" "$idle_log" && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$log" | head -n 1)"
idle_url="$(sed -n 's/^listening on //p' "$idle_log" | head -n 1)"
[[ -n "$url" && -n "$idle_url" ]] || { echo "auditwire serve did not start" >&2; exit 1; }
node "$ROOT/bench/node_vs_workos.mjs" "${given_url:-$url}" --idle-url "$idle_url" "$@"
