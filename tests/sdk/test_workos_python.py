"""The official `workos` Python SDK against `auditwire serve` (started by run_workos_python.sh).

AUDITWIRE_BASE_URL points at the server; AUDITWIRE_API_KEY is the key it accepts.
"""

import csv
import io
import os
import time
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from workos import BadRequestError, NotFoundError, UnprocessableEntityError, WorkOSClient
from workos.audit_logs.models import (
    AuditLogEvent,
    AuditLogEventActor,
    AuditLogEventContext,
    AuditLogEventTarget,
    AuditLogSchemaTargetInput,
)

BASE_URL = os.environ["AUDITWIRE_BASE_URL"]
API_KEY = os.environ["AUDITWIRE_API_KEY"]
ORG = "org_01EHWNCE74X7JSDV0X3SZ3KJNY"


@pytest.fixture(scope="module")
def client():
    c = WorkOSClient(api_key=API_KEY, client_id="client_auditwire", base_url=BASE_URL, max_retries=0)
    yield c
    c.close()


def event(action="user.signed_in", actor_name="Jon Smith", metadata=None, when=None):
    return AuditLogEvent(
        action=action,
        occurred_at=when or datetime.now(timezone.utc),
        actor=AuditLogEventActor(id="user_01GBNJC3MX9ZZJW1FSTF4C5938", type="user", name=actor_name),
        targets=[AuditLogEventTarget(id="team_01GBNJD4MKHVKJGEWK42JNMBGS", type="team", name="Team")],
        context=AuditLogEventContext(location="123.123.123.123", user_agent="Chrome/104.0.0.0"),
        metadata=metadata if metadata is not None else {"owner": "user_01GBTCQ2"},
    )


def test_create_events_and_export_them(client):
    tag = uuid.uuid4().hex[:8]
    action = f"sdk_{tag}.signed_in"
    when = datetime.now(timezone.utc) - timedelta(minutes=5)
    for name in ("Ann", "Bob", "Ann"):
        resp = client.audit_logs.create_event(organization_id=ORG, event=event(action, name, when=when))
        assert resp.success is True
    key = f"sdk-key-{tag}"
    for _ in range(2):
        client.audit_logs.create_event(organization_id=ORG, event=event(action, "Cy", when=when), idempotency_key=key)

    export = client.audit_logs.create_export(
        organization_id=ORG,
        range_start=when - timedelta(minutes=1),
        range_end=datetime.now(timezone.utc),
        actions=[action],
        actor_names=["Ann", "Cy"],
    )
    assert export.id.startswith("audit_log_export_")
    assert export.state.value == "pending"
    deadline = time.monotonic() + 10
    while True:
        fetched = client.audit_logs.get_export(export.id)
        if fetched.state.value == "ready":
            break
        assert fetched.state.value == "pending"
        assert time.monotonic() < deadline, "export never became ready"
        time.sleep(0.05)
    assert fetched.url
    with urllib.request.urlopen(fetched.url, timeout=10) as r:
        rows = list(csv.DictReader(io.StringIO(r.read().decode("utf-8"))))
    # Ann twice, Cy once (the repeated idempotency key stored one event), Bob filtered out.
    assert sorted(row["actor_name"] for row in rows) == ["Ann", "Ann", "Cy"]
    assert {row["action"] for row in rows} == {action}
    assert all(row["organization_id"] == ORG for row in rows)


def test_schemas_are_created_listed_and_enforced(client):
    action = f"sdk_{uuid.uuid4().hex[:8]}.paid"
    metadata_schema = {"type": "object", "properties": {"owner": {"type": "string"}}, "required": ["owner"]}
    schema = client.audit_logs.create_schema(
        action, targets=[AuditLogSchemaTargetInput(type="team")], metadata=metadata_schema
    )
    assert schema.version == 1
    again = client.audit_logs.create_schema(
        action, targets=[AuditLogSchemaTargetInput(type="team")], metadata=metadata_schema
    )
    assert again.version == 1
    page = client.audit_logs.list_action_schemas(action)
    assert [s.version for s in page.data] == [1]
    names = [a.name for a in client.audit_logs.list_actions(limit=100).data]
    assert action in names
    client.audit_logs.create_event(organization_id=ORG, event=event(action, metadata={"owner": "u1"}))
    with pytest.raises(BadRequestError) as info:
        client.audit_logs.create_event(organization_id=ORG, event=event(action, metadata={"other": 1}))
    assert info.value.code == "invalid_audit_log_event"


def test_invalid_events_are_refused(client):
    with pytest.raises((BadRequestError, UnprocessableEntityError)):
        client.audit_logs.create_event(organization_id=ORG, event=event(metadata={"bad key!": "x"}))
    with pytest.raises(UnprocessableEntityError) as info:
        client.audit_logs.create_event(organization_id=ORG, event=event(action=""))
    assert any(e.get("field") == "event.action" for e in info.value.errors)
    with pytest.raises(NotFoundError):
        client.audit_logs.get_export("audit_log_export_missing")


def test_retention(client):
    from workos.audit_logs._resource import RetentionPeriodInDays

    updated = client.audit_logs.update_organization_audit_logs_retention(
        ORG, retention=RetentionPeriodInDays(retention_period_in_days=30)
    )
    assert updated.retention_period_in_days == 30
    assert client.audit_logs.get_organization_audit_logs_retention(ORG).retention_period_in_days == 30
