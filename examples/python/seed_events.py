"""The seed events from Python: the current-API `user.signed_in` with `create_event`
(blocking, as in the official `workos` package), and the legacy `user.login` and
`tweet.update` of `@workos-inc/js` through `audit_log.create_event`.

    WORKOS_API_KEY=... WORKOS_BASE_URL=http://127.0.0.1:8787 python examples/python/seed_events.py
"""

from datetime import datetime, timezone

from auditwire import WorkOSClient

ORG = "org_01EHWNCE74X7JSDV0X3SZ3KJNY"

with WorkOSClient(client_id="client_demo") as workos:  # key and URL from the environment
    now = datetime.now(timezone.utc)
    workos.audit_logs.create_event(
        organization_id=ORG,
        event={
            "action": "user.signed_in",
            "occurred_at": now,
            "version": 1,
            "actor": {"id": "user_01GBNJC3MX9ZZJW1FSTF4C5938", "type": "user", "name": "Jon Smith", "metadata": {"role": "admin"}},
            "targets": [{"id": "team_01GBNJD4MKHVKJGEWK42JNMBGS", "type": "team", "name": "Team", "metadata": {}}],
            "context": {"location": "123.123.123.123", "user_agent": "Chrome/104.0.0.0"},
            "metadata": {"owner": "user_01GBTCQ2", "sent_from": "python"},
        },
    )
    workos.audit_log.create_event(
        {
            "group": ORG,
            "action": "user.login",
            "action_type": "C",
            "actor_name": "user@email.com",
            "actor_id": "user_1",
            "target_name": "user@email.com",
            "target_id": "user_1",
            "location": "1.1.1.1",
            "occurred_at": now,
            "metadata": {"sent_from": "python"},
        }
    )
    workos.audit_log.create_event(
        {
            "group": ORG,
            "action": "tweet.update",
            "action_type": "U",
            "actor_name": "Jon Smith",
            "actor_id": "user_01DGZ0FAXN978HCET66Q98QMTQ",
            "target_name": "What I am eating for dinner",
            "target_id": "tweet_5",
            "location": "1.1.1.1",
            "occurred_at": now,
            "metadata": {"body_was": "What I am eating for dinner", "body": "What I am eating for lunch", "sent_from": "python"},
        }
    )
    print("python: 3 seed events delivered")
