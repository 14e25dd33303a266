"""Typed results of the Audit Logs calls, with the API's wire field names."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Generic, List, Mapping, Optional, TypeVar

__all__ = [
    "AuditLogExport",
    "AuditLogSchemaActor",
    "AuditLogSchemaTarget",
    "AuditLogSchema",
    "AuditLogAction",
    "ListMetadata",
    "ListPage",
    "AuditLogRetention",
    "Outcome",
    "ShutdownReport",
]

T = TypeVar("T")


@dataclass(frozen=True)
class AuditLogExport:
    """An export: ``state`` is pending, ready, error, expired (or unknown); ``url`` once ready."""

    object: str
    id: str
    state: str
    created_at: str
    updated_at: str
    url: Optional[str] = None

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> "AuditLogExport":
        """Builds it from the API's JSON object."""
        return cls(
            object=str(d.get("object", "")),
            id=str(d["id"]),
            state=str(d.get("state", "unknown")),
            created_at=str(d.get("created_at", "")),
            updated_at=str(d.get("updated_at", "")),
            url=d.get("url"),
        )


@dataclass(frozen=True)
class AuditLogSchemaActor:
    """The JSON Schema of the actor's metadata."""

    metadata: Dict[str, Any]


@dataclass(frozen=True)
class AuditLogSchemaTarget:
    """A target type and the JSON Schema of its metadata."""

    type: str
    metadata: Optional[Dict[str, Any]] = None


@dataclass(frozen=True)
class AuditLogSchema:
    """A schema version of an action."""

    object: str
    version: int
    targets: List[AuditLogSchemaTarget]
    created_at: str
    actor: Optional[AuditLogSchemaActor] = None
    metadata: Optional[Dict[str, Any]] = None

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> "AuditLogSchema":
        """Builds it from the API's JSON object."""
        actor = d.get("actor")
        return cls(
            object=str(d.get("object", "")),
            version=int(d["version"]),
            targets=[AuditLogSchemaTarget(type=str(t["type"]), metadata=t.get("metadata")) for t in d.get("targets", [])],
            created_at=str(d.get("created_at", "")),
            actor=AuditLogSchemaActor(metadata=actor["metadata"]) if actor else None,
            metadata=d.get("metadata"),
        )


@dataclass(frozen=True)
class AuditLogAction:
    """An action with its latest schema."""

    object: str
    name: str
    created_at: str
    updated_at: str
    schema: Optional[AuditLogSchema] = None

    @classmethod
    def from_wire(cls, d: Mapping[str, Any]) -> "AuditLogAction":
        """Builds it from the API's JSON object."""
        schema = d.get("schema")
        return cls(
            object=str(d.get("object", "")),
            name=str(d["name"]),
            created_at=str(d.get("created_at", "")),
            updated_at=str(d.get("updated_at", "")),
            schema=AuditLogSchema.from_wire(schema) if schema else None,
        )


@dataclass(frozen=True)
class ListMetadata:
    """Cursors of a list page: pass ``after`` for the next page."""

    before: Optional[str] = None
    after: Optional[str] = None


@dataclass(frozen=True)
class ListPage(Generic[T]):
    """One page of a list: ``data`` and ``list_metadata``."""

    object: str
    data: List[T]
    list_metadata: ListMetadata = field(default_factory=ListMetadata)


@dataclass(frozen=True)
class AuditLogRetention:
    """An organization's retention: 30 or 365 days."""

    retention_period_in_days: int


@dataclass(frozen=True)
class Outcome:
    """How an accepted event ended.

    ``outcome`` is the core's name: ``delivered``, ``rejected``, ``expired``, ``in_doubt``
    (sent, no answer before shutdown: the server may have it; re-send under
    ``idempotency_key`` to be safe), ``lost`` (shutdown without a spool) or ``spooled`` (left
    in the disk spool; the next client on that directory delivers it). ``description`` is
    the core's one-line account of it.
    """

    outcome: str
    organization_id: str
    idempotency_key: str
    attempts: int
    status: Optional[int] = None
    request_id: Optional[str] = None
    error: Optional[Exception] = None
    description: str = ""

    @property
    def delivered(self) -> bool:
        """True when the API accepted the event."""
        return self.outcome == "delivered"


class ShutdownReport(int):
    """What ``Client.close()`` returns: the number of accepted events not delivered
    (``in_doubt + lost + spooled``), with the breakdown as attributes.

    ``last_error`` is the last delivery failure; ``exit_message`` is the core's one line
    telling what was not delivered (``None`` when everything was).
    """

    spooled: int
    lost: int
    in_doubt: int
    last_error: Optional[str]
    exit_message: Optional[str]

    def __new__(
        cls,
        remaining: int,
        *,
        spooled: int = 0,
        lost: int = 0,
        in_doubt: int = 0,
        last_error: Optional[str] = None,
        exit_message: Optional[str] = None,
    ) -> "ShutdownReport":
        self = super().__new__(cls, remaining)
        self.spooled = spooled
        self.lost = lost
        self.in_doubt = in_doubt
        self.last_error = last_error
        self.exit_message = exit_message
        return self

    @property
    def remaining(self) -> int:
        """Accepted events not delivered: ``in_doubt + lost + spooled``."""
        return int(self)

    __str__ = int.__repr__

    def __repr__(self) -> str:
        return (
            f"ShutdownReport(remaining={int(self)}, spooled={self.spooled}, lost={self.lost}, "
            f"in_doubt={self.in_doubt}, last_error={self.last_error!r})"
        )
