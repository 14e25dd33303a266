"""Type stubs of the native module ``auditwire._native`` (internal: use ``auditwire``)."""

from os import PathLike
from typing import Any, Callable, Dict, Generator, List, Mapping, Optional, Tuple, TypedDict, Union

from ._client import EventLike
from .types import Outcome

__version__: str

class Stats(TypedDict):
    """The counters of ``stats()``: core's ``Stats::FIELD_NAMES`` in order, then ``pending``
    (``tests/test_api.py`` fails when they drift apart)."""

    accepted: int
    queued: int
    in_flight: int
    delivered: int
    retried: int
    rejected: int
    expired: int
    in_doubt: int
    lost: int
    spooled: int
    adopted: int
    delivered_late: int
    refused_invalid: int
    refused_queue_full: int
    refused_closed: int
    pending: int

class ShutdownReportDict(TypedDict):
    """What ``NativeClient.shutdown`` returns: core's ``ShutdownReport`` and its exit line."""

    remaining: int
    spooled: int
    lost: int
    in_doubt: int
    last_error: Optional[str]
    exit_message: Optional[str]

class NativeError(Exception):
    """A core error; ``args[0]`` is a dict with ``kind`` and details."""

class Receipt:
    """The handle of an accepted event, like a ``concurrent.futures.Future``; also awaitable."""

    @property
    def idempotency_key(self) -> str: ...
    @property
    def organization_id(self) -> str: ...
    def done(self) -> bool: ...
    def outcome(self, timeout: Optional[float] = None) -> Outcome: ...
    def result(self, timeout: Optional[float] = None) -> Outcome: ...
    def __await__(self) -> Generator[Any, None, Outcome]: ...
    def _wait(self, timeout: Optional[float] = None) -> Optional[Dict[str, Any]]: ...

class AuditLogsBase:
    def __init__(self, client: Any) -> None: ...
    def emit(self, *, organization_id: str, event: EventLike, idempotency_key: Optional[str] = None) -> Receipt: ...

class NativeClient:
    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        workers: Optional[int] = None,
        queue_capacity: Optional[int] = None,
        overflow: Optional[str] = None,
        block_timeout: Optional[float] = None,
        spool_dir: Optional[Union[str, PathLike[str]]] = None,
        shutdown_timeout: Optional[float] = None,
        on_outcome: Optional[Callable[[Mapping[str, Any]], None]] = None,
        user_agent_suffix: Optional[str] = None,
        ca_file: Optional[Union[str, PathLike[str]]] = None,
        spool_max_bytes: Optional[int] = None,
        durability: Optional[str] = None,
    ) -> None: ...
    @property
    def base_url(self) -> str: ...
    @property
    def shutdown_timeout(self) -> float: ...
    def emit_json(self, body: bytes, idempotency_key: Optional[str] = None) -> Receipt: ...
    def emit_legacy_json(self, body: bytes, idempotency_key: Optional[str] = None) -> Receipt: ...
    def flush(self, timeout: float) -> int: ...
    def shutdown(self, timeout: float) -> ShutdownReportDict: ...
    def stats(self) -> Stats: ...
    def create_export(self, request: bytes) -> str: ...
    def get_export(self, export_id: str) -> str: ...
    def create_schema(self, action: str, schema: bytes) -> str: ...
    def list_actions(
        self, limit: Optional[int] = None, order: Optional[str] = None, before: Optional[str] = None, after: Optional[str] = None
    ) -> str: ...
    def list_schemas(
        self,
        action: str,
        limit: Optional[int] = None,
        order: Optional[str] = None,
        before: Optional[str] = None,
        after: Optional[str] = None,
    ) -> str: ...
    def get_retention(self, organization_id: str) -> int: ...
    def set_retention(self, organization_id: str, days: int) -> int: ...

def validate(body: bytes, legacy: bool = False) -> bytes: ...
def drain_logs(timeout: float) -> List[Tuple[int, str, str]]: ...
def set_log_level(levelno: int) -> None: ...
def reset_logs_after_fork() -> None: ...

def encode_body(organization_id: Any, event: Any) -> Optional[bytes]: ...
def direct_body(organization_id: Any, event: Any) -> Optional[bytes]: ...
