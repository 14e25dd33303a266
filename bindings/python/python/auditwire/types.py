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
    """How an accepted event ended: ``outcome`` is delivered, rejected, expired or shutdown."""

    outcome: str
    organization_id: str
    idempotency_key: str
    attempts: int
    status: Optional[int] = None
    request_id: Optional[str] = None
    error: Optional[Exception] = None

    @property
    def delivered(self) -> bool:
        """True when the API accepted the event."""
        return self.outcome == "delivered"
