"""A typed use of every public call: `mypy --strict` checks it against the stubs."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import List, Optional

import auditwire
from auditwire import WorkOSClient


def on_outcome(outcome: auditwire.Outcome) -> None:
    status: Optional[int] = outcome.status
    print(outcome.outcome, status, outcome.delivered)


def main(url: str) -> int:
    event = {
        "action": "user.signed_in",
        "occurred_at": dt.datetime.now(dt.timezone.utc),
        "actor": {"id": "u1", "type": "user"},
        "targets": [{"id": "t1", "type": "team"}],
        "context": {"location": "1.1.1.1"},
    }
    with auditwire.Client("sk_test", url, timeout=5.0, max_retries=1, workers=2, on_outcome=on_outcome) as client:
        out: auditwire.Outcome = client.audit_logs.create_event(organization_id="org_1", event=event)
        receipt: auditwire.Receipt = client.audit_logs.emit(organization_id="org_1", event=event, idempotency_key="k")
        done: bool = receipt.done()
        again: auditwire.Outcome = receipt.result(timeout=5.0)

        async def wait() -> auditwire.Outcome:
            return await receipt

        asyncio.run(wait())
        export: auditwire.AuditLogExport = client.audit_logs.create_export(
            organization_id="org_1", range_start="2026-01-01T00:00:00Z", range_end=dt.datetime.now(dt.timezone.utc)
        )
        state: str = client.audit_logs.get_export(export.id).state
        schema: auditwire.AuditLogSchema = client.audit_logs.create_schema("a.b", {"targets": [{"type": "t"}]})
        names: List[str] = [a.name for a in client.audit_logs.list_actions(limit=10).data]
        versions: List[int] = [s.version for s in client.audit_logs.list_schemas("a.b").data]
        days: int = client.audit_logs.set_retention("org_1", 30).retention_period_in_days
        days = client.audit_logs.get_retention("org_1").retention_period_in_days
        client.audit_log.create_event(
            {
                "group": "org_1",
                "action": "user.login",
                "action_type": "C",
                "actor_name": "a@b.c",
                "actor_id": "u1",
                "target_name": "a@b.c",
                "target_id": "u1",
                "location": "1.1.1.1",
                "occurred_at": dt.datetime.now(dt.timezone.utc),
            }
        )
        left: int = client.flush(5.0)
        stats = client.stats()
        pending: int = stats["pending"]
        in_doubt: int = stats["in_doubt"]
        print(out, done, again, state, schema, names, versions, days, left, pending, in_doubt, out.description)
    try:
        WorkOSClient(api_key="k", client_id="c", base_url=url).close(1.0)
    except auditwire.RateLimitExceededError as e:
        retry: Optional[float] = e.retry_after
        print(retry)
    except auditwire.APIError as e:
        print(e.status_code, e.code, e.message, e.errors, e.request_id)
    except auditwire.ValidationError as e:
        print([(path, message) for path, message in e.errors])
    except auditwire.InDoubtError as e:
        key: Optional[str] = e.idempotency_key
        print(key, e.outcome)
    report: auditwire.ShutdownReport = client.close(1.0)
    line: Optional[str] = report.exit_message
    print(report.in_doubt, report.lost, report.spooled, report.last_error, line)
    return report
