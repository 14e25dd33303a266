#!/usr/bin/env bash
# Python benchmark: auditwire (release wheel) vs the official `workos` package from PyPI on
# the same local `auditwire serve`, in one run. Usage: bench/python.sh [bench args...]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/auditwire"
VENV="$CACHE/py-bench-venv"
WHEELS="$CACHE/py-bench-wheels"
PYTHON="${PYTHON:-python3}"

[[ -x "$VENV/bin/maturin" ]] || { "$PYTHON" -m venv "$VENV"; "$VENV/bin/pip" install --quiet "maturin>=1.5,<2" workos; }
(cd "$ROOT" && cargo build --release --quiet -p auditwire-cli)
rm -rf "$WHEELS"
(cd "$ROOT" && "$VENV/bin/maturin" build --quiet --release -m bindings/python/Cargo.toml -o "$WHEELS")
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$WHEELS"/auditwire-*.whl

log="$(mktemp)"
"$ROOT/target/release/auditwire" serve --addr 127.0.0.1:0 >"$log" 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$log" | head -n 1)"
[[ -n "$url" ]] || { echo "auditwire serve did not start" >&2; exit 1; }
"$VENV/bin/python" "$ROOT/bench/python_vs_workos.py" "$url" "$@"
