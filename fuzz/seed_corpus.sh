#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ for every fuzz target from the shared test vectors
# (tests/vectors/current.json and legacy.json): each case's input (JSON objects written
# compact, `input_text` as is, `input_base64` decoded: the raw non-UTF-8 cases) and each
# expected wire body. Every target gets every seed: the current-API parser also sees legacy
# events and the other way round. Idempotent: files are named by content hash.
#
#   fuzz/seed_corpus.sh            # all targets
#   fuzz/seed_corpus.sh TARGET...  # only these
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(parse_current parse_legacy ffi_buffers)
python3 - "$root" "$here/corpus" "${targets[@]}" <<'PY'
import base64, hashlib, json, os, sys
root, corpus, targets = sys.argv[1], sys.argv[2], sys.argv[3:]
seeds = []
for name in ("current.json", "legacy.json"):
    with open(os.path.join(root, "tests", "vectors", name)) as f:
        doc = json.load(f)
    for case in doc["cases"]:
        if "input" in case:
            seeds.append(json.dumps(case["input"], separators=(",", ":"), ensure_ascii=False).encode())
            seeds.append(json.dumps(case["input"], indent=1, ensure_ascii=True).encode())
        if "input_text" in case:
            seeds.append(case["input_text"].encode())
        if "input_base64" in case:
            seeds.append(base64.b64decode(case["input_base64"]))
        for key in ("wire", "v1_wire"):
            if isinstance(case.get(key), str):
                seeds.append(case[key].encode())
for t in targets:
    d = os.path.join(corpus, t)
    os.makedirs(d, exist_ok=True)
    for s in seeds:
        with open(os.path.join(d, "seed-" + hashlib.sha1(s).hexdigest()[:16]), "wb") as f:
            f.write(s)
print(f"seeded {len(set(seeds))} inputs into {', '.join(targets)}")
PY
