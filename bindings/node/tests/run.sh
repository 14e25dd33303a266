#!/usr/bin/env bash
# Builds `auditwire serve` and the addon, packs the npm package, installs the tarball into a
# fresh scratch project and runs the node --test suite there against `auditwire serve`.
# Also fails when napi's generated native/index.d.ts differs from the checked-in one.
# Usage: bindings/node/tests/run.sh [--release]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
PKG="$ROOT/bindings/node"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/auditwire"
SCRATCH="$CACHE/node-test-project"   # recreated every run: the tarball goes into a clean project
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BUILD=(--debug)
if [[ "${1:-}" == "--release" ]]; then BUILD=(); shift; fi

start=$(date +%s)
mkdir -p "$CACHE"

echo "== building auditwire serve"
(cd "$ROOT" && cargo build --quiet -p auditwire-cli)

echo "== napi build tools (npm install in bindings/node)"
(cd "$PKG" && npm install --ignore-scripts --no-package-lock --no-audit --no-fund --loglevel=error)

echo "== building the addon (napi build ${BUILD[*]:-})"
fresh="$(mktemp -d)"
trap 'rm -rf "$fresh"' EXIT
(cd "$PKG" && node scripts/build.js "${BUILD[@]}" --out "$fresh")
if ! diff -u "$PKG/native/index.d.ts" "$fresh/index.d.ts"; then
  echo "== node tests: FAILED: native/index.d.ts is out of date (copy $fresh/index.d.ts over it)"
  exit 1
fi
cp "$fresh/auditwire.node" "$PKG/native/auditwire.node"

echo "== npm pack"
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH"
tarball="$(cd "$PKG" && npm pack --silent --pack-destination "$SCRATCH" | tail -n 1)"

echo "== installing $tarball into a fresh project"
cd "$SCRATCH"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "./$tarball" typescript @types/node
mkdir tests
cp "$PKG"/tests/*.test.js "$PKG"/tests/*.test.mjs "$PKG"/tests/helpers.js "$PKG"/tests/typed_usage.ts tests/

echo "== node --test"
set +e
AUDITWIRE_BIN="$TARGET/debug/auditwire" AUDITWIRE_VECTORS="$ROOT/tests/vectors" \
  node --test --test-concurrency=2 tests/
rc=$?
set -e
echo "== node tests: $([[ $rc -eq 0 ]] && echo passed || echo FAILED) (exit $rc) in $(( $(date +%s) - start ))s"
exit $rc
