"""Shutdown: in-doubt, lost and spooled outcomes, no callback after close(), the exit line."""

from __future__ import annotations

import ast
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, List, Optional

import pytest

import auditwire
from conftest import Server, seed_event

ORG = "org_shutdown"
HERE = os.path.dirname(os.path.abspath(__file__))


def client(server_url: str, **kw: Any) -> auditwire.Client:
    return auditwire.Client("sk_test_123", server_url, **kw)


def test_stats_keys_match_the_stub(server: Server) -> None:
    stub = Path(auditwire.__file__).with_name("_native.pyi")
    tree = ast.parse(stub.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Stats"]
    names = [n.target.id for n in cls.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    with client(server.url) as c:
        assert names == list(c.stats())


def test_no_callback_after_close_and_in_flight_events_are_in_doubt(make_server: Any) -> None:
    # The scenario: 4 requests in flight on a slow server when close() gives up.
    slow = make_server("--latency-ms", "1500")
    seen: List[auditwire.Outcome] = []
    lock = threading.Lock()

    def on_outcome(o: auditwire.Outcome) -> None:
        with lock:
            seen.append(o)

    c = client(slow.url, workers=4, shutdown_timeout=0.2, on_outcome=on_outcome)
    receipts = [c.audit_logs.emit(organization_id=ORG, event=seed_event()) for _ in range(4)]
    time.sleep(0.3)
    report = c.close()
    with lock:
        at_return = list(seen)
    assert sorted(o.outcome for o in at_return) == ["in_doubt"] * 4
    assert report == 4 and report.in_doubt == 4 and report.lost == 0 and report.spooled == 0
    assert report.exit_message is not None and "4 in doubt" in report.exit_message
    time.sleep(1.6)  # the server answers every request by now
    with lock:
        assert seen == at_return
    keys = {r.idempotency_key for r in receipts}
    assert {o.idempotency_key for o in at_return} == keys
    for r in receipts:
        out = r.outcome(timeout=0)
        assert out.outcome == "in_doubt" and out.idempotency_key == r.idempotency_key
        assert r.idempotency_key in out.description
    assert c.stats()["in_doubt"] == 4 and c.stats()["delivered"] == 0


def test_create_event_in_doubt_raises_with_its_key(make_server: Any) -> None:
    slow = make_server("--latency-ms", "1500")
    c = client(slow.url, shutdown_timeout=0.2)
    raised: List[BaseException] = []

    def call() -> None:
        try:
            c.audit_logs.create_event(organization_id=ORG, event=seed_event(), idempotency_key="key-in-doubt-1")
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            raised.append(e)

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.3)
    c.close()
    t.join(5)
    assert len(raised) == 1
    e = raised[0]
    assert isinstance(e, auditwire.InDoubtError) and isinstance(e, auditwire.ClosedError)
    assert e.idempotency_key == "key-in-doubt-1" and e.outcome == "in_doubt"
    assert '"key-in-doubt-1"' in str(e) and "in doubt" in str(e)


def test_close_reports_lost_events_with_their_keys(make_server: Any) -> None:
    slow = make_server("--latency-ms", "300")
    c = client(slow.url, workers=1)
    receipts = [c.audit_logs.emit(organization_id=ORG, event=seed_event()) for _ in range(20)]
    report = c.close(0.1)
    assert isinstance(report, auditwire.ShutdownReport) and isinstance(report, int)
    assert report.lost > 0 and report == report.lost + report.in_doubt + report.spooled
    assert str(report) == str(int(report))
    with pytest.raises(auditwire.ClosedError) as e:
        receipts[-1].result(timeout=5)
    assert e.value.outcome == "lost" and e.value.idempotency_key == receipts[-1].idempotency_key
    assert c.stats()["lost"] == report.lost


def dead_url() -> str:
    """A loopback URL with nothing listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def run_and_exit(url: str, spool_dir: Optional[Path] = None, setup: str = "") -> subprocess.CompletedProcess[str]:
    """Runs a script that emits 3 events and exits without close()."""
    code = (
        "import sys\n"
        f"{setup}"
        "import auditwire\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from conftest import seed_event\n"
        "spool = sys.argv[3] or None\n"
        "c = auditwire.Client('sk_test', sys.argv[1], shutdown_timeout=0.5, spool_dir=spool)\n"
        "for _ in range(3):\n"
        "    c.audit_logs.emit(organization_id='org_exit', event=seed_event())\n"
    )
    args = [sys.executable, "-c", code, url, HERE, str(spool_dir) if spool_dir else ""]
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


EXIT_LINE = re.compile(r"auditwire: 3 event\(s\) not delivered at exit: (\d+) lost, (\d+) spooled, (\d+) in doubt")


def test_exit_with_undelivered_events_prints_one_line() -> None:
    out = run_and_exit(dead_url())
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("not delivered at exit") == 1, out.stderr
    m = EXIT_LINE.search(out.stderr)
    assert m is not None and int(m.group(1)) > 0 and int(m.group(2)) == 0, out.stderr
    assert "last error:" in out.stderr and "sk_test" not in out.stderr


def test_exit_with_a_spool_says_spooled(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir(mode=0o700)
    out = run_and_exit(dead_url(), spool)
    assert out.returncode == 0, out.stderr
    m = EXIT_LINE.search(out.stderr)
    assert m is not None and m.group(1) == "0" and int(m.group(2)) > 0, out.stderr


def test_exit_with_logging_configured_logs_it_once() -> None:
    out = run_and_exit(dead_url(), setup="import logging; logging.basicConfig(format='LOG %(levelname)s %(name)s: %(message)s')\n")
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("not delivered at exit") == 1, out.stderr
    assert re.search(r"^LOG WARNING auditwire: auditwire: 3 event\(s\) not delivered at exit", out.stderr, re.M), out.stderr


def test_exit_with_everything_delivered_prints_nothing(server: Server) -> None:
    out = run_and_exit(server.url)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
