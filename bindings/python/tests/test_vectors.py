"""The shared validation vectors of tests/vectors/, through the Python front door."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any, Dict, List

import pytest

import auditwire
from auditwire import _native
from conftest import REPO

VECTORS = REPO / "tests" / "vectors"


def cases(kind: str) -> List[Dict[str, Any]]:
    return list(json.loads((VECTORS / f"{kind}.json").read_text())["cases"])


def run(case: Dict[str, Any], legacy: bool) -> bytes:
    if "input" in case:
        return auditwire.validate(case["input"], legacy=legacy)
    raw = case["input_text"].encode() if "input_text" in case else base64.b64decode(case["input_base64"])
    try:
        return bytes(_native.validate(raw, legacy))
    except _native.NativeError as e:
        raise auditwire.errors.error_from(e.args[0]) from None


@pytest.mark.parametrize("kind", ["current", "legacy"])
def test_vectors(kind: str) -> None:
    legacy = kind == "legacy"
    all_cases = cases(kind)
    assert len(all_cases) > 10
    failures = []
    for case in all_cases:
        if case["valid"]:
            try:
                wire = run(case, legacy)
            except auditwire.ValidationError as e:
                failures.append((case["name"], "refused", e.errors))
                continue
            if wire.decode() != case["wire"]:
                failures.append((case["name"], wire.decode(), case["wire"]))
        else:
            with pytest.raises(auditwire.ValidationError) as e:
                run(case, legacy)
            want = [(p["path"], p["message"]) for p in case["problems"]]
            if e.value.errors != want:
                failures.append((case["name"], e.value.errors, want))
    assert not failures, failures
