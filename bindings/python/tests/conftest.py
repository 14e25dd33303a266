"""Fixtures: real `auditwire serve` processes on free ports."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.request
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

REPO = Path(__file__).resolve().parents[3]
START_TIMEOUT = 20.0


def server_binary() -> str:
    """The `auditwire` CLI: $AUDITWIRE_BIN, else the workspace's debug build."""
    return os.environ.get("AUDITWIRE_BIN") or str(REPO / "target" / "debug" / "auditwire")


class Server:
    """A running `auditwire serve --test-endpoints` child; stopped by the fixture."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [server_binary(), "serve", "--addr", "127.0.0.1:0", "--test-endpoints", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line: List[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(START_TIMEOUT)
        if not line or not line[0].startswith("listening on "):
            self.stop()
            raise RuntimeError(f"auditwire serve did not start: {line!r}")
        self.url = line[0].strip()[len("listening on ") :]
        # Keep draining stdout so the server never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stdout], daemon=True).start()  # type: ignore[union-attr]

    def stats(self) -> Dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/__stats", timeout=10) as r:
            return dict(json.loads(r.read()))

    def reset(self) -> None:
        req = urllib.request.Request(f"{self.url}/__reset", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.stop()


@pytest.fixture
def make_server() -> Iterator[Any]:
    started: List[Server] = []

    def make(*args: str) -> Server:
        s = Server(*args)
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


def seed_event(**overrides: Any) -> Dict[str, Any]:
    """The seed example from the WorkOS docs."""
    event: Dict[str, Any] = {
        "action": "user.signed_in",
        "occurred_at": "2026-02-02T16:35:39.317Z",
        "version": 1,
        "actor": {"id": "user_01GBNJC3MX9ZZJW1FSTF4C5938", "type": "user", "name": "Jon Smith", "metadata": {"role": "admin"}},
        "targets": [{"id": "team_01GBNJD4MKHVKJGEWK42JNMBGS", "type": "team", "name": "Team", "metadata": {}}],
        "context": {"location": "123.123.123.123", "user_agent": "Chrome/104.0.0.0"},
        "metadata": {"owner": "user_01GBTCQ2"},
    }
    event.update(overrides)
    return event
