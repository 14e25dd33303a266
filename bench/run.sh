#!/usr/bin/env bash
# The side-by-side benchmark: official SDKs vs auditwire (Node, Python, C, Rust), delivery
# vs the wrk ceiling, spool emit and drain, memory with 1,000,000 events queued, and the
# stripped library size. Writes bench/RESULTS.md and bench/chart.png.
#   bench/run.sh [--repeats N (3)] [--quick]
# Installs what it needs: wrk (apt), `workos` from PyPI and matplotlib in a venv under
# ~/.cache/auditwire, `@workos-inc/node` from npm (through bench/node.sh's scratch folder).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/auditwire"
VENV="$CACHE/bench-venv"
PYTHON="${PYTHON:-python3}"
cd "$ROOT"

if ! command -v wrk >/dev/null; then
  echo "== installing wrk"
  (apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk; }) >/dev/null
fi
if [[ ! -x "$VENV/bin/maturin" ]] || ! "$VENV/bin/python" -c "import workos, matplotlib" 2>/dev/null; then
  echo "== python tools (maturin, workos, matplotlib)"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "maturin>=1.5,<2" workos matplotlib
fi

echo "== release builds"
cargo build --release -q -p auditwire-cli -p auditwire-ffi
cargo bench -q -p auditwire --bench delivery --bench memory --bench spool --no-run 2>/dev/null
wheels="$(mktemp -d)"
"$VENV/bin/maturin" build --quiet --release -m bindings/python/Cargo.toml -o "$wheels" 2>/dev/null
"$VENV/bin/pip" install --quiet --force-reinstall --no-deps "$wheels"/auditwire-*.whl
rm -rf "$wheels"

exec "$VENV/bin/python" "$ROOT/bench/run.py" "$@"
