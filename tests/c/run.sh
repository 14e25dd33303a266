#!/usr/bin/env bash
# The C and C++ front door, end to end: header drift, build, install (pkg-config + CMake),
# exported symbols, C tests under AddressSanitizer + UBSan against `auditwire serve`, two
# tests under valgrind against the debug and the release library, the examples, and a C++17
# consumer built with CMake find_package.
# Prints a summary and exits non-zero on any failure.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
CBINDGEN_VERSION=0.29.4
started=$(date +%s)

passed=0
failed=0
failures=()
step() { printf '\n== %s\n' "$*"; }
ok() { passed=$((passed + 1)); printf 'PASS %s\n' "$1"; }
ko() { failed=$((failed + 1)); failures+=("$1"); printf 'FAIL %s\n' "$1"; }
run() { # run NAME CMD...: one counted check
  local name=$1; shift
  if "$@"; then ok "$name"; else ko "$name"; fi
}

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

step "tools"
need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(gcc libc6-dev)
command -v c++ >/dev/null 2>&1 || need_apt+=(g++)
command -v cmake >/dev/null 2>&1 || need_apt+=(cmake)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
command -v valgrind >/dev/null 2>&1 || need_apt+=(valgrind)
command -v nm >/dev/null 2>&1 || need_apt+=(binutils)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
command -v make >/dev/null 2>&1 || need_apt+=(make)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >"$work/apt.log" 2>&1 \
      || { cat "$work/apt.log"; echo "cannot install ${need_apt[*]}"; exit 1; }
  else
    echo "missing tools (${need_apt[*]}) and not root: install them first"; exit 1
  fi
fi
if ! cbindgen --version 2>/dev/null | grep -qx "cbindgen $CBINDGEN_VERSION"; then
  echo "installing cbindgen $CBINDGEN_VERSION into ~/.cargo/bin"
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked >"$work/cbindgen.log" 2>&1 \
    || { tail -20 "$work/cbindgen.log"; echo "cannot install cbindgen"; exit 1; }
fi
export PATH="$HOME/.cargo/bin:$PATH"

step "header: include/auditwire.h is what cbindgen $CBINDGEN_VERSION generates"
header_check() {
  cbindgen --config ffi/cbindgen.toml --crate auditwire-ffi --output "$work/auditwire.h" ffi 2>"$work/cbindgen.err" \
    || { cat "$work/cbindgen.err"; return 1; }
  diff -u include/auditwire.h "$work/auditwire.h" || {
    echo "include/auditwire.h is stale: regenerate with"
    echo "  cbindgen --config ffi/cbindgen.toml --crate auditwire-ffi --output include/auditwire.h ffi"
    return 1
  }
}
run "header up to date" header_check

step "build (debug): auditwire-ffi and auditwire-cli"
if ! cargo build -p auditwire-ffi -p auditwire-cli 2>&1 | tail -n 3; then
  ko "cargo build"; echo "build failed"; exit 1
fi
[ -f target/debug/libauditwire.so ] || { ko "cargo build"; exit 1; }
ok "cargo build"
run "soname is libauditwire.so.0" sh -c "readelf -d target/debug/libauditwire.so | grep -q 'SONAME.*libauditwire.so.0'"

step "install into a temporary prefix"
prefix="$work/prefix"
run "install-c.sh" scripts/install-c.sh "$prefix" --profile debug --no-build
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
run "pkg-config --cflags --libs auditwire" pkg-config --exists --print-errors "auditwire = $(pkg-config --modversion auditwire 2>/dev/null)"
pkg-config --cflags --libs auditwire

step "exported symbols: declared in the header, wrapped in the boundary"
run "exports and boundary" tests/c/check_exports.sh "$prefix/lib/libauditwire.so"

step "auditwire serve on 127.0.0.1"
target/debug/auditwire serve --addr 127.0.0.1:0 --test-endpoints --api-key sk_test_c_secret_key \
  --orgs org_01EHWNCE74X7JSDV0X3SZ3KJNY >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '^listening on ' "$work/server.out" 2>/dev/null && break
  sleep 0.1
done
base_url=$(sed -n 's/^listening on //p' "$work/server.out" | head -n 1)
[ -n "$base_url" ] || { cat "$work/server.err"; ko "server start"; exit 1; }
echo "$base_url"
export AUDITWIRE_TEST_BASE_URL="$base_url"

cflags=(-std=c11 -Wall -Wextra -Werror -g $(pkg-config --cflags auditwire))
libs=($(pkg-config --libs auditwire) -pthread -Wl,-rpath,"$prefix/lib")
san=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
python3 tests/c/vectors_to_text.py "$root" >"$work/vectors.txt"

step "C tests (C11, -Wall -Wextra -Werror) under AddressSanitizer + UBSan"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in test_api test_vectors test_client test_threads; do
  if cc "${cflags[@]}" "${san[@]}" "tests/c/$t.c" -o "$work/$t" "${libs[@]}"; then
    args=()
    [ "$t" = test_vectors ] && args=("$work/vectors.txt")
    run "$t (asan+ubsan, shared lib)" "$work/$t" "${args[@]}"
  else
    ko "$t (compile)"
  fi
done
# The static library too, with the system libraries pkg-config lists for it.
if cc "${cflags[@]}" "${san[@]}" tests/c/test_api.c -o "$work/test_api_static" \
    "$prefix/lib/libauditwire.a" $(pkg-config --libs-only-l --static auditwire | sed 's/-lauditwire//') -pthread; then
  run "test_api (asan+ubsan, static lib)" "$work/test_api_static"
else
  ko "test_api (static link)"
fi

step "benchmark compiles (run it with bench/c_emit.sh)"
run "bench_emit.c compiles" cc "${cflags[@]}" -O2 tests/c/bench_emit.c -o "$work/bench_emit" "${libs[@]}"
run "bench_e2e.c compiles" cc "${cflags[@]}" -O2 tests/c/bench_e2e.c -o "$work/bench_e2e" "${libs[@]}"

step "examples/c against the server"
for e in legacy_events current_event; do
  if cc "${cflags[@]}" "${san[@]}" "examples/c/$e.c" -o "$work/$e" "${libs[@]}"; then
    run "example $e" env WORKOS_API_KEY=sk_test_c_secret_key WORKOS_BASE_URL="$base_url" "$work/$e"
  else
    ko "example $e (compile)"
  fi
done

step "valgrind: test_api and test_client without sanitizers, against the debug library"
# (test_threads is not run here: its fork child _exits holding the parent's engine, which the
# core leaks on purpose in a child, and valgrind's leak check would count that.)
unset ASAN_OPTIONS UBSAN_OPTIONS
valgrind_suite() { # valgrind_suite LABEL PREFIX: test_api and test_client linked against PREFIX/lib
  local label=$1 lib=$2/lib t
  for t in test_api test_client; do
    if cc "${cflags[@]}" "tests/c/$t.c" -o "$work/$t.$label" -L"$lib" -lauditwire -pthread \
        -Wl,-rpath,"$lib"; then
      if valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect \
          --show-leak-kinds=definite,indirect \
          "$work/$t.$label" >"$work/$t.$label.valgrind" 2>&1; then
        ok "$t under valgrind ($label library)"
      else
        ko "$t under valgrind ($label library)"
        tail -n 60 "$work/$t.$label.valgrind"
      fi
      grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|still reachable' "$work/$t.$label.valgrind" \
        | sed 's/^==[0-9]*== /  /'
    else
      ko "$t (compile, $label library)"
    fi
  done
}
valgrind_suite debug "$prefix"

# C users run valgrind on their own programs linked against the release library: it must be
# clean too (optimised code has reported errors the debug build did not).
step "valgrind: test_api and test_client against the release library"
release_started=$(date +%s)
if cargo build --release -p auditwire-ffi 2>&1 | tail -n 3 && [ -f target/release/libauditwire.so ]; then
  ok "cargo build --release -p auditwire-ffi ($(( $(date +%s) - release_started ))s)"
  if scripts/install-c.sh "$work/prefix-release" --profile release --no-build >/dev/null; then
    valgrind_suite release "$work/prefix-release"
  else
    ko "install-c.sh (release)"
  fi
else
  ko "cargo build --release -p auditwire-ffi"
fi

step "C++17 consumer with CMake find_package(auditwire)"
cpp_consumer() {
  cmake -S tests/c/cpp_consumer -B "$work/cpp" -DCMAKE_PREFIX_PATH="$prefix" >"$work/cmake.log" 2>&1 \
    && cmake --build "$work/cpp" -j 2 >>"$work/cmake.log" 2>&1 \
    && "$work/cpp/consumer" && "$work/cpp/consumer_static" \
    || { tail -n 40 "$work/cmake.log"; return 1; }
}
run "C++ consumer (shared and static imported targets)" cpp_consumer

elapsed=$(( $(date +%s) - started ))
printf '\n== summary (%ss)\n' "$elapsed"
for f in "${failures[@]}"; do printf '  failed: %s\n' "$f"; done
printf 'c-api: %d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]
