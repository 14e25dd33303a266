"""Every call of the Python surface against a real `auditwire serve`."""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import json
import logging
import threading
import time
from collections import UserDict
from typing import Any, List

import pytest

import auditwire
from conftest import Server, seed_event

ORG = "org_01EHWNCE74X7JSDV0X3SZ3KJNY"
UTC = dt.timezone.utc


def client(server: Server, **kw: Any) -> auditwire.Client:
    return auditwire.Client("sk_test_123", server.url, **kw)


def test_create_event_blocks_until_delivered(server: Server) -> None:
    with client(server) as c:
        before = server.stats()["events_accepted"]
        assert c.audit_logs.create_event(organization_id=ORG, event=seed_event()).delivered
        assert server.stats()["events_accepted"] == before + 1
        assert c.stats()["delivered"] == 1


def test_emit_returns_receipt(server: Server) -> None:
    with client(server) as c:
        r = c.audit_logs.emit(organization_id=ORG, event=seed_event(), idempotency_key="py-key-1")
        assert isinstance(r, auditwire.Receipt)
        assert r.idempotency_key == "py-key-1"
        out = r.result(timeout=10)
        assert r.done()
        assert out.delivered and out.status is not None and 200 <= out.status < 300
        assert out.organization_id == ORG and out.attempts == 1


def test_receipt_is_awaitable(server: Server) -> None:
    with client(server) as c:
        async def main() -> auditwire.Outcome:
            return await c.audit_logs.emit(organization_id=ORG, event=seed_event())

        assert asyncio.run(asyncio.wait_for(main(), 10)).delivered


def test_datetimes_and_mappings(server: Server) -> None:
    when = dt.datetime(2026, 2, 2, 17, 35, 39, 317000, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    event = UserDict(seed_event(occurred_at=when, metadata={"at": when, "n": 3, "ok": True}))
    wire = auditwire.validate({"organization_id": ORG, "event": event})
    assert b'"occurred_at":"2026-02-02T16:35:39.317Z"' in wire
    assert b'"at":"2026-02-02T16:35:39.317Z"' in wire
    with client(server) as c:
        c.audit_logs.create_event(organization_id=ORG, event=event)


def test_naive_datetime_is_an_error_naming_the_path(server: Server) -> None:
    with client(server) as c:
        with pytest.raises(auditwire.ValidationError) as e:
            c.audit_logs.emit(organization_id=ORG, event=seed_event(metadata={"at": dt.datetime(2026, 1, 1)}))
        assert isinstance(e.value, ValueError)
        assert [p for p, _ in e.value.errors] == ["event.metadata.at"]
        assert c.stats()["accepted"] == 0


def test_validation_error_lists_every_problem(server: Server) -> None:
    with client(server) as c:
        with pytest.raises(auditwire.ValidationError) as e:
            c.audit_logs.create_event(organization_id="", event={"action": 1, "actor": {"type": "user"}})
        paths = {p for p, _ in e.value.errors}
        assert {"organization_id", "event.action", "event.occurred_at", "event.actor.id", "event.targets"} <= paths
        assert all(isinstance(m, str) and m for _, m in e.value.errors)


def test_exports(server: Server) -> None:
    with client(server) as c:
        c.audit_logs.create_event(organization_id="org_export", event=seed_event(occurred_at=dt.datetime.now(UTC)))
        x = c.audit_logs.create_export(
            organization_id="org_export",
            range_start=dt.datetime.now(UTC) - dt.timedelta(days=1),
            range_end=dt.datetime.now(UTC) + dt.timedelta(minutes=1),
            actions=["user.signed_in"],
        )
        assert isinstance(x, auditwire.AuditLogExport)
        assert x.object == "audit_log_export" and x.id.startswith("audit_log_export")
        deadline = time.monotonic() + 10
        got = c.audit_logs.get_export(x.id)
        while got.state == "pending" and time.monotonic() < deadline:
            time.sleep(0.05)
            got = c.audit_logs.get_export(x.id)
        assert got.state == "ready" and got.url


def test_schemas_and_actions(server: Server) -> None:
    with client(server) as c:
        s = c.audit_logs.create_schema(
            "invoice.paid",
            {"targets": [{"type": "invoice", "metadata": {"type": "object"}}], "metadata": {"type": "object"}},
        )
        assert isinstance(s, auditwire.AuditLogSchema)
        assert s.version >= 1 and s.targets[0].type == "invoice"
        actions = c.audit_logs.list_actions(limit=100)
        assert "invoice.paid" in [a.name for a in actions.data]
        assert isinstance(actions.list_metadata, auditwire.ListMetadata)
        schemas = c.audit_logs.list_schemas("invoice.paid", order="desc")
        assert schemas.data and schemas.data[0].version == s.version


def test_retention(server: Server) -> None:
    with client(server) as c:
        assert c.audit_logs.set_retention("org_ret", 365) == auditwire.AuditLogRetention(365)
        assert c.audit_logs.get_retention("org_ret").retention_period_in_days == 365


def legacy_event(**overrides: Any) -> dict:
    e = {
        "group": "organization_1",
        "action": "user.login",
        "action_type": "C",
        "actor_name": "user@email.com",
        "actor_id": "user_1",
        "target_name": "user@email.com",
        "target_id": "user_1",
        "location": "1.1.1.1",
        "occurred_at": dt.datetime(2019, 5, 1, 1, 15, 55, 619000, tzinfo=UTC),
        "metadata": {"when": dt.datetime.now(UTC)},
    }
    e.update(overrides)
    return e


def test_legacy_create_event(server: Server) -> None:
    with client(server) as c:
        before = server.stats()["events_accepted"]
        c.audit_log.create_event(legacy_event())
        assert server.stats()["events_accepted"] == before + 1
        with pytest.raises(auditwire.ValidationError) as e:
            c.audit_log.create_event(legacy_event(action="login", action_type="X"))
        assert {"action", "action_type"} <= {p for p, _ in e.value.errors}
        with pytest.raises(auditwire.ValidationError):
            c.audit_log.create_event({"group": "g"})
        assert c.stats()["refused_invalid"] == 2


def test_flush_close_stats_and_closed_error(server: Server) -> None:
    c = client(server)
    for _ in range(100):
        c.audit_logs.emit(organization_id=ORG, event=seed_event())
    assert c.flush(10) == 0
    stats = c.stats()
    assert isinstance(stats, dict) and stats["accepted"] == 100 and stats["delivered"] == 100
    assert c.close(5) == 0
    with pytest.raises(auditwire.ClosedError):
        c.audit_logs.emit(organization_id=ORG, event=seed_event())


def test_queue_full(make_server: Any) -> None:
    slow = make_server("--latency-ms", "500")
    c = client(slow, workers=1, queue_capacity=2, overflow="reject")
    with pytest.raises(auditwire.QueueFullError):
        for _ in range(10):
            c.audit_logs.emit(organization_id=ORG, event=seed_event())
    c.close(0)


def test_on_outcome_runs_on_a_worker_thread(server: Server) -> None:
    seen: List[Any] = []
    done = threading.Event()

    def on_outcome(o: auditwire.Outcome) -> None:
        seen.append((o.outcome, threading.current_thread() is threading.main_thread()))
        done.set()

    with client(server, on_outcome=on_outcome) as c:
        c.audit_logs.create_event(organization_id=ORG, event=seed_event())
        assert done.wait(10)
    assert seen == [("delivered", False)]


def test_workos_alias_accepts_client_id(server: Server) -> None:
    with auditwire.WorkOSClient(api_key="sk_test_secret_abc", client_id="client_123", base_url=server.url) as c:
        c.audit_logs.create_event(organization_id=ORG, event=seed_event())
        assert "sk_test_secret_abc" not in repr(c)


def test_api_key_never_in_errors(make_server: Any) -> None:
    s = make_server("--api-key", "sk_right")
    with client(s, max_retries=0) as c:
        with pytest.raises(auditwire.AuthenticationError) as e:
            c.audit_logs.create_event(organization_id=ORG, event=seed_event())
        assert "sk_test_123" not in repr(e.value) + str(e.value) + repr(vars(e.value))


def test_missing_api_key_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, server: Server) -> None:
    monkeypatch.delenv("WORKOS_API_KEY", raising=False)
    with pytest.raises(auditwire.ConfigurationError):
        auditwire.Client(base_url=server.url)


def test_env_configuration(monkeypatch: pytest.MonkeyPatch, server: Server) -> None:
    monkeypatch.setenv("WORKOS_API_KEY", "sk_env")
    monkeypatch.setenv("WORKOS_BASE_URL", server.url)
    with auditwire.Client() as c:
        assert c.base_url == server.url
        c.audit_logs.create_event(organization_id=ORG, event=seed_event())


def test_result_timeout(make_server: Any) -> None:
    slow = make_server("--latency-ms", "2000")
    c = client(slow)
    r = c.audit_logs.emit(organization_id=ORG, event=seed_event())
    t = time.monotonic()
    with pytest.raises(concurrent.futures.TimeoutError):
        r.result(timeout=0.2)
    assert time.monotonic() - t < 1.5 and not r.done()
    c.close(0)


def test_rejections_are_logged(make_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    s = make_server("--orgs", "org_known")
    caplog.set_level(logging.WARNING, logger="auditwire")
    with client(s) as c:
        with pytest.raises(auditwire.NotFoundError):
            c.audit_logs.create_event(organization_id="org_unknown", event=seed_event())
        deadline = time.monotonic() + 5
        while not any("rejected" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
            time.sleep(0.05)
    msgs = [r.getMessage() for r in caplog.records if r.name == "auditwire"]
    assert any("rejected" in m and "org_unknown" in m for m in msgs), msgs
    assert not any("sk_test_123" in m for m in msgs)


def test_native_encoder_agrees_with_the_python_encoder(server: Server) -> None:
    from auditwire import _client, _native

    plus_one = dt.timezone(dt.timedelta(hours=1))
    cases: List[Any] = [
        seed_event(),
        seed_event(metadata={"s": "é \u2028 \"q\" \\ \n", "i": -(2**63), "f": 1.5, "g": 1e16, "t": True, "z": 0}),
        seed_event(occurred_at=dt.datetime(2026, 2, 2, 17, 35, 39, 317999, tzinfo=plus_one)),
        dict(seed_event(), targets=(dict(id="t_1", type="team"),)),
        {"nested": [[{"a": None}], [], {}], "emoji": "\U0001f600"},
    ]
    for event in cases:
        native = _native.encode_body(ORG, event)
        assert native is not None, event
        assert json.loads(native) == json.loads(_client._encode({"organization_id": ORG, "event": event}))
    # Values the native encoder leaves to Python: the Python path still handles them.
    for event in [
        UserDict(seed_event()),
        seed_event(metadata={"big": 2**70}),
        seed_event(metadata={"nan": float("nan")}),
        seed_event(metadata={"naive": dt.datetime(2026, 1, 1)}),
        {1: "non-str key"},
        seed_event(metadata={"bad": "\ud800"}),
    ]:
        assert _native.encode_body(ORG, event) is None, event
    with client(server) as c:
        assert c.audit_logs.emit(organization_id=ORG, event=UserDict(seed_event())).result(10).delivered
        with pytest.raises(auditwire.ValidationError):
            c.audit_logs.emit(organization_id=ORG, event=seed_event(metadata={"bad": "\ud800"}))
        assert c.stats()["accepted"] == 1


def _varied_events() -> List[Any]:
    """Valid and invalid events in an order that makes the reused scratch body shrink and grow."""
    plus_one = dt.timezone(dt.timedelta(hours=1))
    when = dt.datetime(2026, 2, 2, 17, 35, 39, 317999, tzinfo=plus_one)
    party = {"id": "t_1", "type": "team"}
    return [
        seed_event(),
        seed_event(metadata={"s": "é \u2028 \"q\" \\ \n \x00", "i": -(2**63), "f": 1.5, "g": 1e16, "h": -0.0, "t": True, "at": when}),
        seed_event(occurred_at=when, version=None, metadata=None),
        seed_event(occurred_at="2026-02-02T18:35:39.5123456789+02:00", targets=(party, dict(party, name=None, metadata=None))),
        seed_event(targets=[], actor={"id": "a\u4e2d", "type": "user", "name": None}, context={"location": "x", "user_agent": None}),
        seed_event(metadata={f"k{i}": i for i in range(50)}),
        seed_event(metadata={"owner": "x" * 500, "role": "é" * 500}),
        seed_event(metadata={"role": 1, "owner": "y"}),
        seed_event(targets=[dict(party, metadata={"a": 1}), party, dict(party, id="t_3")]),
        seed_event(version=0),
        seed_event(action=""),
        seed_event(acton="x"),
        seed_event(metadata={f"k{i}": i for i in range(51)}),
        seed_event(metadata={"a b": 1, "n": None}),
        seed_event(metadata={"s": "x" * 501}),
        seed_event(targets=[party, None]),
        seed_event(actor={"id": "", "type": "user"}),
        seed_event(version=True),
        seed_event(occurred_at="yesterday"),
        seed_event(context={}),
        seed_event(),
    ]


def test_direct_path_agrees_with_the_json_path() -> None:
    from auditwire import _native

    for event in _varied_events():
        direct = _native.direct_body(ORG, event)
        encoded = _native.encode_body(ORG, event)
        assert encoded is not None, event
        try:
            wire = bytes(_native.validate(encoded))
        except _native.NativeError:
            assert direct is None, event  # invalid input is left to the JSON path
            continue
        assert direct == wire, event
    assert _native.direct_body("", seed_event()) is None
    assert _native.direct_body(ORG, UserDict(seed_event())) is None
    assert _native.direct_body(ORG, seed_event(metadata={"naive": dt.datetime(2026, 1, 1)})) is None


def test_emit_reports_what_validate_reports(server: Server) -> None:
    with client(server) as c:
        for event in _varied_events():
            body = {"organization_id": ORG, "event": event}
            try:
                auditwire.validate(body)
            except auditwire.ValidationError as want:
                with pytest.raises(auditwire.ValidationError) as got:
                    c.audit_logs.emit(organization_id=ORG, event=event)
                assert (got.value.errors, got.value.rules) == (want.errors, want.rules)
                assert got.value.__suppress_context__
            else:
                c.audit_logs.emit(organization_id=ORG, event=event)
        assert c.flush(10) == 0


def test_unreadable_ca_file_is_a_configuration_error(server: Server, tmp_path: Any) -> None:
    with pytest.raises(auditwire.ConfigurationError) as e:
        auditwire.Client("sk_test_123", server.url, ca_file=tmp_path / "missing.pem")
    assert "ca_certificates: cannot read" in str(e.value)
    with pytest.raises(auditwire.ConfigurationError) as e2:
        auditwire.Client("sk_test_123", server.url, durability="sometimes")
    assert "durability must be process or power_loss" in str(e2.value)
