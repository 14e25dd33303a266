#!/usr/bin/env bash
# C benchmark of auditwire_client_emit_json: median ns per event from 1 and 4 threads.
#   bench/c_emit.sh [EVENTS_PER_THREAD]   (default 100000)
# Builds the release library, installs it into a temporary prefix, compiles
# tests/c/bench_emit.c with -O2 and runs it (events stay in the in-memory queue).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/scripts/install-c.sh" "$work/prefix" >/dev/null
cc -std=c11 -O2 -Wall -Wextra -Werror -I"$work/prefix/include" "$root/tests/c/bench_emit.c" \
  -o "$work/bench_emit" -L"$work/prefix/lib" -lauditwire -pthread -Wl,-rpath,"$work/prefix/lib"
"$work/bench_emit" "${1:-100000}"
