#!/usr/bin/env bash
# Runs every check and test in the repository: formatting, lints, Rust tests, SDK checks,
# the C, Python and Node front doors, a short soak and a short fuzzing run.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "toolchain components"
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo test --workspace"
cargo test --workspace --locked

step "official workos Python SDK against auditwire serve"
tests/sdk/run_workos_python.sh

step "C and C++ front door (sanitizers, valgrind, CMake consumer)"
tests/c/run.sh

step "Python front door (wheel in a clean venv, pytest, mypy)"
bindings/python/tests/run.sh

step "Node front door (packed addon in an empty project, node --test, tsc --strict)"
bindings/node/tests/run.sh

step "soak: 50,000 events through faults and a server crash, with spools"
tests/soak/run.sh --events 50000

step "fuzzing: 60 s per cargo-fuzz target"
fuzz/run.sh 60
