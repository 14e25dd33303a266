#!/usr/bin/env bash
# Checks that every symbol libauditwire.so exports is declared in include/auditwire.h (and
# the reverse), and that every extern "C" function in ffi/src runs its body inside the
# panic-catching boundary (boundary, boundary_value or boundary_quiet).
#   tests/c/check_exports.sh path/to/libauditwire.so
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
lib=${1:?usage: check_exports.sh path/to/libauditwire.so}
header="$root/include/auditwire.h"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWw]$/ {print $3}' | sed 's/@.*//' | sort -u >"$work/exported"
grep -oE '\bauditwire_[a-z0-9_]+\(' "$header" | tr -d '(' | sort -u >"$work/declared"
status=0
if ! diff -u "$work/declared" "$work/exported" >"$work/diff"; then
  echo "exported symbols and header declarations differ (- header only, + library only):"
  cat "$work/diff"
  status=1
fi
echo "exports: $(wc -l <"$work/exported") functions exported, $(wc -l <"$work/declared") declared"

# Every declared function is called by a C test.
untested=0
while IFS= read -r fn; do
  if ! grep -q "$fn(" "$root"/tests/c/test_*.c; then
    echo "not called by any tests/c/test_*.c: $fn"
    untested=1
  fi
done <"$work/declared"
[ "$untested" = 0 ] && echo "tests: every declared function is called by a C test" || status=1

# Each `extern "C" fn` body must start with a boundary call.
python3 - "$root/ffi/src" <<'PY' || status=1
import pathlib, re, sys
bad, count = [], 0
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.rs")):
    text = path.read_text()
    for m in re.finditer(r'extern "C" fn (\w+)\s*\(', text):
        count += 1
        # The body starts at the first '{' after the signature's closing parenthesis.
        depth, i = 0, m.end() - 1
        while True:
            c = text[i]
            depth += c == '('
            depth -= c == ')'
            i += 1
            if depth == 0:
                break
        body = text[text.index('{', i) + 1:].lstrip()
        if not re.match(r'((crate::)?error::)?boundary(_value|_quiet)?\(', body):
            bad.append(f"{path.name}: {m.group(1)}")
if bad:
    print("extern \"C\" functions not wrapped in the boundary:")
    print("\n".join("  " + b for b in bad))
    sys.exit(1)
print(f"boundary: all {count} extern \"C\" functions run inside the panic boundary")
PY
exit $status
