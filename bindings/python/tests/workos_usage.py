"""Written for the official `workos` package (v6+, typed models); the tests run it against
auditwire with only the `WorkOSClient` import changed."""

import os
from datetime import datetime

from workos import WorkOSClient
from workos.audit_logs.models import (
    AuditLogEvent,
    AuditLogEventActor,
    AuditLogEventContext,
    AuditLogEventTarget,
)

workos_client = WorkOSClient(
    api_key=os.environ["WORKOS_API_KEY"],
    client_id=os.environ["WORKOS_CLIENT_ID"],
    base_url=os.environ["WORKOS_BASE_URL"],
)

workos_client.audit_logs.create_event(
    organization_id="org_01EHWNCE74X7JSDV0X3SZ3KJNY",
    event=AuditLogEvent(
        action="user.signed_in",
        occurred_at=datetime.fromisoformat("2026-02-02T16:35:39.317+00:00"),
        version=1,
        actor=AuditLogEventActor(
            id="user_01GBNJC3MX9ZZJW1FSTF4C5938",
            type="user",
            name="Jon Smith",
            metadata={"role": "admin"},
        ),
        targets=[
            AuditLogEventTarget(
                id="team_01GBNJD4MKHVKJGEWK42JNMBGS",
                type="team",
                name="Team",
                metadata={},
            ),
        ],
        context=AuditLogEventContext(location="123.123.123.123", user_agent="Chrome/104.0.0.0"),
        metadata={"owner": "user_01GBTCQ2"},
    ),
)
print("ok")
