"""Process-level behaviour: exit without close(), fork, many threads."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Any, List

import pytest

import auditwire
from conftest import Server, seed_event

ORG = "org_process"


def wait_for(pred: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return bool(pred())


def test_exit_without_close_delivers(make_server: Any) -> None:
    s = make_server("--latency-ms", "20")
    code = (
        "import auditwire, sys\n"
        "sys.path.insert(0, sys.argv[2])\n"
        "from conftest import seed_event\n"
        "c = auditwire.Client('sk_test', sys.argv[1], workers=2, shutdown_timeout=20)\n"
        "for _ in range(200):\n"
        "    c.audit_logs.emit(organization_id='org_exit', event=seed_event())\n"
        "print(c.stats()['delivered'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, s.url, os.path.dirname(__file__)],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) < 200, "the test must exit with events still queued"
    assert s.stats()["events_accepted"] == 200


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_delivers_its_own_events(server: Server) -> None:
    c = auditwire.Client("sk_test", server.url)
    c.audit_logs.create_event(organization_id=ORG, event=seed_event())
    before = server.stats()["events_accepted"]
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            receipts = [c.audit_logs.emit(organization_id=ORG, event=seed_event()) for _ in range(10)]
            ok = c.flush(10) == 0 and all(r.result(timeout=5).delivered for r in receipts)
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        assert time.monotonic() < deadline, "child did not finish"
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent still works after the fork.
    c.audit_logs.create_event(organization_id=ORG, event=seed_event())
    assert c.close(10) == 0
    stats = server.stats()
    # Parent and child must not share idempotency keys (the server would drop replays).
    assert stats["events_accepted"] == before + 11, stats


def test_threads_share_one_client_and_lose_nothing(make_server: Any) -> None:
    s = make_server()
    per_thread, threads = 10_000, 8
    c = auditwire.Client("sk_test", s.url, workers=8, queue_capacity=100_000, overflow="block")
    errors: List[BaseException] = []

    def work() -> None:
        try:
            for _ in range(per_thread):
                c.audit_logs.emit(organization_id="org_threads", event=seed_event())
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    ts = [threading.Thread(target=work) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors[:3]
    assert c.close(120) == 0
    stats = c.stats()
    assert stats["accepted"] == stats["delivered"] == per_thread * threads
    assert wait_for(lambda: s.stats()["events_accepted"] == per_thread * threads, 10)


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_logs_through_python_logging(make_server: Any) -> None:
    import logging

    s = make_server("--orgs", "org_ok")
    c = auditwire.Client("sk_test", s.url)
    c.audit_logs.create_event(organization_id="org_ok", event=seed_event())
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            records: List[str] = []

            class Collect(logging.Handler):
                def emit(self, record: logging.LogRecord) -> None:
                    records.append(record.getMessage())

            log = logging.getLogger("auditwire")
            log.addHandler(Collect())
            log.setLevel(logging.WARNING)
            try:
                c.audit_logs.create_event(organization_id="org_missing", event=seed_event())
            except auditwire.NotFoundError:
                ok = wait_for(lambda: any("rejected" in m and "org_missing" in m for m in records), 5)
        finally:
            os._exit(0 if ok else 1)
    deadline = time.monotonic() + 30
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        assert time.monotonic() < deadline, "child did not finish"
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
    assert c.close(10) == 0
