#!/usr/bin/env python3
"""Turns tests/vectors/{current,legacy}.json into a line format a C program reads without a
JSON library: `KIND VALID HEX(input) HEX(expected last-error text)`, one case a line.

The expected text is every problem as `PATH: message` (or the message alone for the whole
document), one per line, exactly as auditwire_last_error_message gives it."""
import base64
import json
import sys


def main(root: str) -> None:
    for kind, name in (("C", "current.json"), ("L", "legacy.json")):
        with open(f"{root}/tests/vectors/{name}", encoding="utf-8") as f:
            doc = json.load(f)
        for case in doc["cases"]:
            if "input_base64" in case:
                raw = base64.b64decode(case["input_base64"])
            elif "input_text" in case:
                raw = case["input_text"].encode("utf-8")
            else:
                raw = json.dumps(case["input"], ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            text = "\n".join(
                f"{p['path']}: {p['message']}" if p["path"] else p["message"]
                for p in case.get("problems", [])
            )
            valid = "1" if case["valid"] else "0"
            print(kind, valid, raw.hex() or "-", text.encode("utf-8").hex() or "-")


if __name__ == "__main__":
    main(sys.argv[1])
