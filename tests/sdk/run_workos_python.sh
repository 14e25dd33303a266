#!/usr/bin/env bash
# Runs the official `workos` Python SDK (from PyPI) against `auditwire serve`.
# Skips (exit 0, "skipped") only when pip cannot install the package.
# Env: AUDITWIRE_BIN (default: builds target/debug/auditwire), AUDITWIRE_SDK_VENV (venv dir).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${AUDITWIRE_SDK_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/auditwire/workos-python-venv}"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "workos>=10.8,<11" "pytest>=7"; then
    echo "skipped: pip could not install the workos package"
    exit 0
fi

bin="${AUDITWIRE_BIN:-}"
if [ -z "$bin" ]; then
    (cd "$root" && cargo build --quiet -p auditwire-cli --bin auditwire)
    bin="$root/target/debug/auditwire"
fi

key="sk_test_$RANDOM$RANDOM"
out="$(mktemp)"
"$bin" serve --addr 127.0.0.1:0 --api-key "$key" --export-delay-ms 50 >"$out" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -f "$out"' EXIT

base=""
for _ in $(seq 1 100); do
    line="$(head -n 1 "$out" 2>/dev/null || true)"
    if [[ "$line" == "listening on "* ]]; then
        base="${line#listening on }"
        break
    fi
    if ! kill -0 "$server" 2>/dev/null; then
        cat "$out" >&2
        echo "auditwire serve exited early" >&2
        exit 1
    fi
    sleep 0.1
done
if [ -z "$base" ]; then
    cat "$out" >&2
    echo "auditwire serve did not start within 10 s" >&2
    exit 1
fi

AUDITWIRE_BASE_URL="$base" AUDITWIRE_API_KEY="$key" \
    "$venv/bin/python" -m pytest -q -p no:cacheprovider "$root/tests/sdk/test_workos_python.py"
