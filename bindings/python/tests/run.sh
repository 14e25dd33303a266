#!/usr/bin/env bash
# Builds the wheel with maturin, installs it into a clean venv, and runs the pytest suite
# against `auditwire serve`. Usage: bindings/python/tests/run.sh [--release] [pytest args...]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/auditwire"
TOOLS="$CACHE/py-tools"      # maturin, pytest, mypy (kept between runs)
VENV="$CACHE/py-test-venv"   # recreated every run: the wheel goes into a clean venv
WHEELS="$CACHE/py-wheels"
PYTHON="${PYTHON:-python3}"
PROFILE=()
if [[ "${1:-}" == "--release" ]]; then PROFILE=(--release); shift; fi

start=$(date +%s)
mkdir -p "$CACHE"
if [[ ! -x "$TOOLS/bin/maturin" || ! -x "$TOOLS/bin/pytest" || ! -x "$TOOLS/bin/mypy" ]]; then
  "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --upgrade pip
  "$TOOLS/bin/pip" install --quiet "maturin>=1.5,<2" pytest mypy
fi

echo "== building auditwire serve"
(cd "$ROOT" && cargo build --quiet -p auditwire-cli)

echo "== building the wheel (maturin build ${PROFILE[*]:-})"
rm -rf "$WHEELS"
(cd "$ROOT" && "$TOOLS/bin/maturin" build --quiet "${PROFILE[@]}" -m bindings/python/Cargo.toml -o "$WHEELS")
WHEEL="$(ls "$WHEELS"/auditwire-*.whl | head -n 1)"

echo "== installing $(basename "$WHEEL") into a clean venv"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet "$WHEEL"
# pytest, mypy and the official workos package (for the drop-in test) from PyPI.
"$VENV/bin/pip" install --quiet pytest mypy workos

echo "== pytest"
cd "$ROOT/bindings/python/tests"
set +e
AUDITWIRE_BIN="$ROOT/target/debug/auditwire" "$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
rc=$?
set -e
echo "== python tests: $([[ $rc -eq 0 ]] && echo passed || echo FAILED) (exit $rc) in $(( $(date +%s) - start ))s"
exit $rc
