"""Exception classes of auditwire, named as in the official ``workos`` package."""

from __future__ import annotations

from typing import Any, List, Mapping, Optional, Tuple

__all__ = [
    "AuditWireError",
    "ValidationError",
    "QueueFullError",
    "ClosedError",
    "InDoubtError",
    "SpoolError",
    "ConfigurationError",
    "APIError",
    "BadRequestError",
    "AuthenticationError",
    "AuthorizationError",
    "NotFoundError",
    "UnprocessableEntityError",
    "RateLimitExceededError",
    "ServerError",
    "WorkOSConnectionError",
    "WorkOSTimeoutError",
]


class AuditWireError(Exception):
    """Base class of every auditwire error."""


class ValidationError(AuditWireError, ValueError):
    """The event breaks the API's rules; nothing was queued.

    ``errors`` lists every problem as ``(path, message)``; ``rules`` gives the rule
    code of each problem in the same order.
    """

    def __init__(self, message: str, errors: List[Tuple[str, str]], rules: Optional[List[str]] = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.rules = rules if rules is not None else ["" for _ in errors]


class QueueFullError(AuditWireError):
    """The in-memory queue is full (under the ``reject`` or ``block`` overflow policy)."""


class ClosedError(AuditWireError):
    """The client was closed: no more events are accepted, or an event ended at shutdown
    without being delivered.

    For an event, ``outcome`` says how it ended (``lost``, ``spooled`` or ``in_doubt``) and
    ``idempotency_key`` is the key it was (or will be) sent with; both are ``None`` when
    ``emit`` was refused.
    """

    def __init__(self, message: str, *, outcome: Optional[str] = None, idempotency_key: Optional[str] = None) -> None:
        super().__init__(message)
        self.message = message
        self.outcome = outcome
        self.idempotency_key = idempotency_key


class InDoubtError(ClosedError):
    """The event was sent but no answer came before the client shut down: the server may
    have stored it. Re-sending it under ``idempotency_key`` is safe (the server deduplicates)."""


class SpoolError(AuditWireError):
    """The event could not be written to the disk spool (or the spool is full)."""


class ConfigurationError(AuditWireError, ValueError):
    """A client option is invalid, or no API key was given."""


class APIError(AuditWireError):
    """The API (or the network on the way to it) answered with a failure."""

    def __init__(
        self,
        message: str,
        *,
        status_code: Optional[int] = None,
        code: Optional[str] = None,
        errors: Any = None,
        request_id: Optional[str] = None,
        retry_after: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.errors = errors
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None:
            parts.append(f"status {self.status_code}")
        if self.code:
            parts.append(f"code {self.code}")
        if self.request_id:
            parts.append(f"request id {self.request_id}")
        return ", ".join(parts)


class BadRequestError(APIError):
    """HTTP 400: the event or request was refused (e.g. schema or metadata check)."""


class AuthenticationError(APIError):
    """HTTP 401: the API key is missing or wrong."""


class AuthorizationError(APIError):
    """HTTP 403: the API key lacks permission."""


class NotFoundError(APIError):
    """HTTP 404: e.g. an unknown organization."""


class UnprocessableEntityError(APIError):
    """HTTP 422: a missing or malformed field."""


class RateLimitExceededError(APIError):
    """HTTP 429 until the retry budget ran out; ``retry_after`` is in seconds."""


class ServerError(APIError):
    """HTTP 5xx (or another unexpected status) until the retry budget ran out."""


class WorkOSConnectionError(APIError):
    """The server could not be reached."""


class WorkOSTimeoutError(APIError):
    """A request timed out."""


_API_CLASSES = {
    "BadRequestError": BadRequestError,
    "AuthenticationError": AuthenticationError,
    "AuthorizationError": AuthorizationError,
    "NotFoundError": NotFoundError,
    "UnprocessableEntityError": UnprocessableEntityError,
    "RateLimitExceededError": RateLimitExceededError,
    "ServerError": ServerError,
    "WorkOSConnectionError": WorkOSConnectionError,
    "WorkOSTimeoutError": WorkOSTimeoutError,
}


def api_error_from(d: Mapping[str, Any]) -> APIError:
    """The exception for a native API error dict."""
    cls = _API_CLASSES.get(str(d.get("error_kind")), APIError)
    return cls(
        str(d.get("message", "")),
        status_code=d.get("status"),
        code=d.get("code"),
        errors=d.get("errors"),
        request_id=d.get("request_id"),
        retry_after=d.get("retry_after"),
    )


_SHUTDOWN_CLASSES = {"in_doubt": InDoubtError}


def shutdown_error_from(outcome: str, message: str, idempotency_key: str) -> ClosedError:
    """The exception for an event that ended at shutdown (``in_doubt``, ``lost``, ``spooled``)."""
    cls = _SHUTDOWN_CLASSES.get(outcome, ClosedError)
    return cls(message, outcome=outcome, idempotency_key=idempotency_key)


def error_from(d: Mapping[str, Any]) -> AuditWireError:
    """The exception for any native error dict."""
    kind = d.get("kind")
    message = str(d.get("message", ""))
    if kind == "validation":
        problems = list(d.get("problems", []))
        return ValidationError(
            message,
            [(str(p[0]), str(p[2])) for p in problems],
            [str(p[1]) for p in problems],
        )
    if kind == "api":
        return api_error_from(d)
    if kind == "queue_full":
        return QueueFullError(message)
    if kind == "closed":
        return ClosedError(message)
    if kind in ("spool", "spool_full"):
        return SpoolError(message)
    return ConfigurationError(message)
