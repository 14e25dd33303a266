#!/usr/bin/env bash
# Runs every cargo-fuzz target (libFuzzer + AddressSanitizer) for a while and reports.
#
#   fuzz/run.sh            # 60 s per target
#   fuzz/run.sh 300        # 5 minutes per target
#   fuzz/run.sh 60 parse_current ffi_buffers   # only these targets
#
# Targets (fuzz/fuzz_targets/):
#   parse_current  bytes -> CreateEventBody::from_json; accepted bodies must validate and
#                  round-trip through to_json byte for byte
#   parse_legacy   bytes -> LegacyEvent::from_json -> to_json round trip -> to_current, whose
#                  body must validate and round-trip as a current body
#   ffi_buffers    the C entry points taking buffers (auditwire_validate_json,
#                  auditwire_validate_legacy_json, auditwire_last_error_message with buffers
#                  of 0 / too small / exact / larger, auditwire_result_str, the event builder
#                  setters and auditwire_event_to_json): no caught panic, no write outside or
#                  into a refused buffer, answers agreeing with the Rust core
#
# It installs cargo-fuzz if missing (cargo install cargo-fuzz --locked), builds with stable
# Rust (RUSTC_BOOTSTRAP=1 lets cargo fuzz use its nightly flags) into fuzz/target, seeds
# fuzz/corpus/<target>/ from tests/vectors (fuzz/seed_corpus.sh), replays the saved crash
# inputs in fuzz/regressions/<target>/ (each must now pass), runs each target for the given
# time, all side by side (they share the cores), and prints executions and crashes per
# target.
# A crash leaves its input in fuzz/artifacts/<target>/; keep it as a regression by copying
# it into fuzz/regressions/<target>/. Exits non-zero on any crash or failed regression.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"

seconds=${1:-60}
case "$seconds" in '' | *[!0-9]*) echo "fuzz: SECONDS_PER_TARGET must be an integer" >&2; exit 2 ;; esac
shift || true
all_targets=(parse_current parse_legacy ffi_buffers)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")

say() { printf 'fuzz: %s\n' "$*"; }

# The fuzz crate is its own workspace with its own target directory (fuzz/target).
unset CARGO_TARGET_DIR
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz from crates.io"
  cargo install cargo-fuzz --locked
fi
command -v c++ >/dev/null 2>&1 || { echo "fuzz: a C++ compiler is needed to build libFuzzer (apt-get install g++)" >&2; exit 2; }

started=$(date +%s)
say "building ${targets[*]} ($(cargo fuzz --version))"
if [ ${#targets[@]} = ${#all_targets[@]} ]; then
  cargo fuzz build --debug-assertions # all at once: one cargo run, compiled in parallel
else
  for t in "${targets[@]}"; do
    cargo fuzz build --debug-assertions "$t"
  done
fi
"$here/seed_corpus.sh" "${targets[@]}"

logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=0
declare -A reg_status before pid
for t in "${targets[@]}"; do
  mkdir -p "$here/artifacts/$t"
  # Saved crash inputs first: each must pass now.
  reg_status[$t]=""
  if [ -d "$here/regressions/$t" ] && [ -n "$(ls -A "$here/regressions/$t" 2>/dev/null)" ]; then
    n=$(find "$here/regressions/$t" -type f | wc -l)
    if cargo fuzz run --debug-assertions "$t" "$here/regressions/$t"/* -- -runs=1 >"$logs/$t.reg" 2>&1; then
      reg_status[$t]="$n regressions pass"
    else
      reg_status[$t]="REGRESSION FAILED"
      failed=1
      tail -n 40 "$logs/$t.reg" >&2
    fi
  fi
done
# The targets run side by side, each for the whole time.
say "running ${targets[*]} for ${seconds}s each, side by side"
for t in "${targets[@]}"; do
  before[$t]=$(find "$here/artifacts/$t" -type f | wc -l)
  cargo fuzz run --debug-assertions "$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=4096 \
    >"$logs/$t.log" 2>&1 &
  pid[$t]=$!
done
rows=()
for t in "${targets[@]}"; do
  rc=0
  wait "${pid[$t]}" || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t.log" | tail -n1)
  [ -n "$execs" ] || execs=$(grep -o '#[0-9]*' "$logs/$t.log" | tail -n1 | tr -d '#')
  [ -n "$execs" ] || execs="?"
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t.log" | tail -n1)
  corpus=$(find "$here/corpus/$t" -type f | wc -l)
  after=$(find "$here/artifacts/$t" -type f | wc -l)
  crashes=$((after - before[$t]))
  if [ "$rc" != 0 ] && [ "$crashes" = 0 ]; then crashes=1; fi
  if [ "$crashes" != 0 ]; then
    failed=1
    echo "---- $t failed (exit $rc); the end of its log:" >&2
    grep -v '^#' "$logs/$t.log" | tail -n 60 >&2
    find "$here/artifacts/$t" -type f -newer "$logs" -printf '  crash input: %p\n' >&2 || true
  fi
  rows+=("$(printf '%-14s %12s execs %8s/s  corpus %6s  crashes %s%s' "$t" "$execs" "${rate:-?}" "$corpus" "$crashes" "${reg_status[$t]:+ (${reg_status[$t]})}")")
done

say "results after $(( $(date +%s) - started )) s (${seconds}s per target, side by side):"
for r in "${rows[@]}"; do printf '  %s\n' "$r"; done
if [ "$failed" != 0 ]; then
  echo "fuzz: FAIL: crashes found (inputs in fuzz/artifacts/<target>/)" >&2
  exit 1
fi
say "no crashes"
