"""auditwire: an audit-log client for the WorkOS Audit Logs API.

Events are validated on the caller's thread and delivered in the background by a Rust
core, with retries, idempotency keys and an optional disk spool. The surface mirrors the
official ``workos`` package: ``Client(...).audit_logs.create_event(organization_id=...,
event={...})``; ``emit(...)`` returns at once with a ``Receipt``.
"""

from . import _native
from ._client import AuditLog, AuditLogs, Client, Receipt, WorkOSClient, validate
from .errors import (
    APIError,
    AuditWireError,
    AuthenticationError,
    AuthorizationError,
    BadRequestError,
    ClosedError,
    ConfigurationError,
    InDoubtError,
    NotFoundError,
    QueueFullError,
    RateLimitExceededError,
    ServerError,
    SpoolError,
    UnprocessableEntityError,
    ValidationError,
    WorkOSConnectionError,
    WorkOSTimeoutError,
)
from .types import (
    AuditLogAction,
    AuditLogExport,
    AuditLogRetention,
    AuditLogSchema,
    AuditLogSchemaActor,
    AuditLogSchemaTarget,
    ListMetadata,
    ListPage,
    Outcome,
    ShutdownReport,
)

__version__: str = _native.__version__

__all__ = [
    "APIError",
    "AuditLog",
    "AuditLogAction",
    "AuditLogExport",
    "AuditLogRetention",
    "AuditLogSchema",
    "AuditLogSchemaActor",
    "AuditLogSchemaTarget",
    "AuditLogs",
    "AuditWireError",
    "AuthenticationError",
    "AuthorizationError",
    "BadRequestError",
    "Client",
    "ClosedError",
    "ConfigurationError",
    "InDoubtError",
    "ListMetadata",
    "ListPage",
    "NotFoundError",
    "Outcome",
    "QueueFullError",
    "RateLimitExceededError",
    "Receipt",
    "ServerError",
    "ShutdownReport",
    "SpoolError",
    "UnprocessableEntityError",
    "ValidationError",
    "WorkOSClient",
    "WorkOSConnectionError",
    "WorkOSTimeoutError",
    "validate",
]
