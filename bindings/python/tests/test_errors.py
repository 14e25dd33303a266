"""Every error class from a real server answer."""

from __future__ import annotations

import socket
from typing import Any, Optional, Tuple, Type

import pytest

import auditwire
from conftest import seed_event

ORG = "org_1"


@pytest.mark.parametrize(
    "args, cls, status",
    [
        (("--fail-rate", "1", "--fail-with", "400"), auditwire.BadRequestError, 400),
        (("--api-key", "sk_other"), auditwire.AuthenticationError, 401),
        (("--fail-rate", "1", "--fail-with", "403"), auditwire.AuthorizationError, 403),
        (("--orgs", "org_other"), auditwire.NotFoundError, 404),
        (("--fail-rate", "1", "--fail-with", "422"), auditwire.UnprocessableEntityError, 422),
        (("--fail-rate", "1", "--fail-with", "429", "--retry-after", "2"), auditwire.RateLimitExceededError, 429),
        (("--fail-rate", "1", "--fail-with", "500"), auditwire.ServerError, 500),
        (("--fail-rate", "1", "--fail-with", "timeout", "--hold-ms", "3000"), auditwire.WorkOSTimeoutError, None),
    ],
)
def test_error_class(make_server: Any, args: Tuple[str, ...], cls: Type[auditwire.APIError], status: Optional[int]) -> None:
    s = make_server(*args)
    with auditwire.Client("sk_test", s.url, max_retries=0, timeout=0.5) as c:
        with pytest.raises(cls) as e:
            c.audit_logs.create_event(organization_id=ORG, event=seed_event())
        err = e.value
        assert isinstance(err, auditwire.APIError)
        assert err.status_code == status
        assert isinstance(err.message, str) and err.message
        if status is not None:
            assert err.request_id
        if cls is auditwire.RateLimitExceededError:
            assert err.retry_after == 2.0 and err.code == "rate_limit_exceeded"
        # The management calls raise the same classes.
        if status not in (None, 404):
            with pytest.raises(cls):
                c.audit_logs.get_retention(ORG)


def test_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with auditwire.Client("sk_test", f"http://127.0.0.1:{port}", max_retries=0, timeout=2) as c:
        with pytest.raises(auditwire.WorkOSConnectionError) as e:
            c.audit_logs.create_event(organization_id=ORG, event=seed_event())
        assert e.value.status_code is None
        with pytest.raises(auditwire.WorkOSConnectionError):
            c.audit_logs.list_actions()


def test_bad_request_carries_errors(make_server: Any) -> None:
    s = make_server()
    with auditwire.Client("sk_test", s.url) as c:
        c.audit_logs.create_schema("doc.signed", {"targets": [{"type": "doc"}], "metadata": {"type": "object", "properties": {"n": {"type": "number"}}, "required": ["n"]}})
        ev = seed_event(action="doc.signed", targets=[{"id": "d1", "type": "doc"}], metadata={"x": "y"})
        with pytest.raises(auditwire.BadRequestError) as e:
            c.audit_logs.create_event(organization_id=ORG, event=ev)
        assert e.value.status_code == 400 and e.value.code
        assert e.value.errors is not None
