"""auditwire vs the official `workos` package on the same local server, in one run.

Measures caller time per `create_event` (both), caller time per `emit` (auditwire) and
end-to-end events/s (official: sequential create_event, the only way it sends; auditwire:
emit everything, then flush). Usage: python bench/python_vs_workos.py SERVER_URL
[--official N] [--emit N] [--json]. Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from importlib.metadata import version as _version
from typing import Any, Dict

ORG = "org_01EHWNCE74X7JSDV0X3SZ3KJNY"
EVENT: Dict[str, Any] = {
    "action": "user.signed_in",
    "occurred_at": "2026-02-02T16:35:39.317Z",
    "version": 1,
    "actor": {"id": "user_01GBNJC3MX9ZZJW1FSTF4C5938", "type": "user", "name": "Jon Smith", "metadata": {"role": "admin"}},
    "targets": [{"id": "team_01GBNJD4MKHVKJGEWK42JNMBGS", "type": "team", "name": "Team", "metadata": {}}],
    "context": {"location": "123.123.123.123", "user_agent": "Chrome/104.0.0.0"},
    "metadata": {"owner": "user_01GBTCQ2"},
}


def _cpu() -> float:
    """User + system CPU seconds of this process (every thread)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--official", type=int, default=500, help="create_event calls per client")
    ap.add_argument("--emit", type=int, default=50_000, help="auditwire emit calls")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    import auditwire
    import workos

    try:  # workos v6+ takes typed models; v5 took the dict itself
        from workos.audit_logs.models import AuditLogEvent

        official_event: Any = AuditLogEvent.from_dict(EVENT)
    except ImportError:
        official_event = EVENT
    official = workos.WorkOSClient(api_key="sk_bench", client_id="client_bench", base_url=a.url)
    for _ in range(20):  # warm-up: connection, imports
        official.audit_logs.create_event(organization_id=ORG, event=official_event)
    cpu = _cpu()
    t = time.perf_counter()
    for _ in range(a.official):
        official.audit_logs.create_event(organization_id=ORG, event=official_event)
    official_s = (time.perf_counter() - t) / a.official
    official_cpu_us = (_cpu() - cpu) * 1e6 / a.official

    aw = auditwire.Client("sk_bench", a.url, workers=a.workers, queue_capacity=max(a.emit, 10_000))
    for _ in range(20):
        aw.audit_logs.create_event(organization_id=ORG, event=EVENT)
    t = time.perf_counter()
    for _ in range(a.official):
        aw.audit_logs.create_event(organization_id=ORG, event=EVENT)
    aw_create_s = (time.perf_counter() - t) / a.official

    delivered_before = aw.stats()["delivered"]
    cpu = _cpu()
    t = time.perf_counter()
    for _ in range(a.emit):
        aw.audit_logs.emit(organization_id=ORG, event=EVENT)
    emit_done = time.perf_counter()
    left = aw.flush(300)
    end = time.perf_counter()
    stats = aw.stats()
    aw_cpu_us = (_cpu() - cpu) * 1e6 / max(1, stats["delivered"] - delivered_before)
    aw.close(10)
    emit_s = (emit_done - t) / a.emit
    aw_eps = a.emit / (end - t)
    official_eps = 1.0 / official_s

    r = {
        "workos_version": _version("workos"),
        "official_create_event_us": official_s * 1e6,
        "auditwire_create_event_us": aw_create_s * 1e6,
        "auditwire_emit_us": emit_s * 1e6,
        "official_events_per_s": official_eps,
        "auditwire_events_per_s": aw_eps,
        "emit_speedup": official_s / emit_s,
        "throughput_ratio": aw_eps / official_eps,
        "official_cpu_us_per_event": official_cpu_us,
        "auditwire_cpu_us_per_event": aw_cpu_us,
        "undelivered": left,
        "rejected_or_expired": stats["rejected"] + stats["expired"],
    }
    ok = r["emit_speedup"] >= 100 and r["throughput_ratio"] >= 10 and left == 0 and r["rejected_or_expired"] == 0
    if a.json:
        print(json.dumps(r, indent=1))
    else:
        print(f"workos {r['workos_version']} vs auditwire {auditwire.__version__}")
        print(f"official workos create_event : {r['official_create_event_us']:10.1f} us/call  ({official_eps:,.0f} events/s)")
        print(f"auditwire create_event       : {r['auditwire_create_event_us']:10.1f} us/call")
        print(f"auditwire emit (caller)      : {r['auditwire_emit_us']:10.2f} us/call  ({r['emit_speedup']:,.0f}x faster; target >= 100x)")
        print(f"auditwire end-to-end         : {aw_eps:10,.0f} events/s ({r['throughput_ratio']:,.1f}x; target >= 10x), {a.emit} events, {left} undelivered")
        print(f"client CPU per event         : official {official_cpu_us:.1f} us, auditwire {aw_cpu_us:.1f} us")
        print("targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
