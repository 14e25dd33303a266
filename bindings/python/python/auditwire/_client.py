"""The Python client: the ``workos`` v6 surface over the Rust core."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import datetime as _dt
import json
import logging
import os
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Any, Callable, Dict, Generator, List, Mapping, Optional, Protocol, Sequence, Tuple, Union

from . import _native
from .errors import ValidationError, api_error_from, error_from, shutdown_error_from
from .types import (
    AuditLogAction,
    AuditLogExport,
    AuditLogRetention,
    AuditLogSchema,
    ListMetadata,
    ListPage,
    Outcome,
    ShutdownReport,
)

if TYPE_CHECKING:
    from ._native import Stats

__all__ = ["Client", "WorkOSClient", "AuditLogs", "AuditLog", "Receipt", "validate"]

logger = logging.getLogger("auditwire")
logger.addHandler(logging.NullHandler())

Timestamp = Union[_dt.datetime, str]


class SupportsToDict(Protocol):
    """A model object of the official ``workos`` package (v6+): anything with ``to_dict()``."""

    def to_dict(self) -> Dict[str, Any]: ...


EventLike = Union[Mapping[str, Any], SupportsToDict]
OutcomeCallback = Callable[[Outcome], None]


class _NaiveDatetime(Exception):
    """Internal: a naive datetime was met on the fast path."""


def _format_datetime(value: _dt.datetime) -> str:
    utc = value.astimezone(_dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _default(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise _NaiveDatetime()
        return _format_datetime(value)
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (tuple, list)):
        return list(value)
    raise _NaiveDatetime()


def _problems(value: Any, path: str, out: List[Tuple[str, str]]) -> None:
    """Collects the values JSON cannot carry, with their paths (the slow path)."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            out.append((path, "naive datetime: give a timezone-aware datetime (e.g. tzinfo=timezone.utc)"))
    elif callable(getattr(value, "to_dict", None)):
        _problems(value.to_dict(), path, out)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            _problems(v, f"{path}.{k}" if path else str(k), out)
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _problems(v, f"{path}[{i}]", out)
    elif value is not None and not isinstance(value, (str, int, float, bool)):
        out.append((path, f"unsupported type {type(value).__name__}: use a string, number, boolean or datetime"))


_ENCODER = json.JSONEncoder(default=_default, ensure_ascii=False, separators=(",", ":"))


def _encode(body: Any) -> bytes:
    """JSON bytes of a body; aware datetimes become RFC 3339 UTC, naive ones are refused."""
    try:
        return _ENCODER.encode(body).encode("utf-8")
    except (_NaiveDatetime, ValueError, TypeError) as exc:
        found: List[Tuple[str, str]] = []
        _problems(body, "", found)
        if not found:
            found.append(("", f"not JSON-serialisable: {exc}"))
        message = "; ".join(f"{p}: {m}" if p else m for p, m in found)
        raise ValidationError(message, found, ["invalid_type"] * len(found)) from None


def _timestamp(value: Timestamp, path: str) -> str:
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
            raise ValidationError(
                f"{path}: naive datetime",
                [(path, "naive datetime: give a timezone-aware datetime")],
                ["invalid_type"],
            )
        return _format_datetime(value)
    return value


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except _native.NativeError as exc:
        raise error_from(exc.args[0]) from None


def _outcome(d: Mapping[str, Any]) -> Outcome:
    err = d.get("error")
    return Outcome(
        outcome=str(d["outcome"]),
        organization_id=str(d["organization_id"]),
        idempotency_key=str(d["idempotency_key"]),
        attempts=int(d["attempts"]),
        status=d.get("status"),
        request_id=d.get("request_id"),
        error=api_error_from(err) if err else None,
        description=str(d.get("description", "")),
    )


def validate(body: EventLike, *, legacy: bool = False) -> bytes:
    """Validates a request body (or a v1 event) without a client; returns the wire bytes."""
    return bytes(_call(_native.validate, _encode(body), legacy))


Receipt = _native.Receipt
"""The handle of an accepted event, like a ``concurrent.futures.Future``; also awaitable
(native: ``done()``, ``outcome()``, ``result()``, ``idempotency_key``)."""


def _receipt_outcome(receipt: Receipt, timeout: Optional[float] = None) -> Outcome:
    """``Receipt.outcome``: waits (GIL released) and returns the outcome, whatever it is."""
    d = receipt._wait(timeout)
    if d is None:
        raise concurrent.futures.TimeoutError(f"no outcome within {timeout} s")
    return _outcome(d)


def _receipt_result(receipt: Receipt, timeout: Optional[float] = None) -> Outcome:
    """``Receipt.result``: the outcome when delivered, else its error raised."""
    out = _receipt_outcome(receipt, timeout)
    if out.outcome == "delivered":
        return out
    if out.error is not None:
        raise out.error
    raise shutdown_error_from(out.outcome, out.description, out.idempotency_key)


def _receipt_await(receipt: Receipt) -> Generator[Any, None, Outcome]:
    """``Receipt.__await__``: ``result()`` in the running loop's default executor."""
    loop = asyncio.get_running_loop()
    return loop.run_in_executor(None, receipt.result).__await__()


def _emit_python(native: _native.NativeClient, organization_id: Any, event: Any, idempotency_key: Optional[str]) -> Receipt:
    """``AuditLogs.emit`` for values only the Python encoder handles (model objects, ...)."""
    body = _encode({"organization_id": organization_id, "event": event})
    receipt: Receipt = _call(native.emit_json, body, idempotency_key)
    return receipt


class AuditLogs(_native.AuditLogsBase):
    """``client.audit_logs``: the ``workos`` v6 Audit Logs calls.

    ``emit(*, organization_id, event, idempotency_key=None)`` validates and queues an
    event and returns at once with its ``Receipt``; it is native (one call, no Python
    frame), inherited from ``_native.AuditLogsBase``.
    """

    def __init__(self, client: "Client") -> None:
        self._client = client

    def create_event(
        self,
        *,
        organization_id: str,
        event: EventLike,
        idempotency_key: Optional[str] = None,
        request_options: Optional[Mapping[str, Any]] = None,
    ) -> Outcome:
        """Sends an event and blocks until it is delivered; raises on rejection or expiry,
        and ``ClosedError`` (``InDoubtError`` when in doubt, with ``idempotency_key``) when
        the client shuts down first.

        ``request_options`` is accepted for compatibility with ``workos`` and ignored.
        """
        return self.emit(organization_id=organization_id, event=event, idempotency_key=idempotency_key).result()

    def create_export(
        self,
        *,
        organization_id: str,
        range_start: Timestamp,
        range_end: Timestamp,
        actions: Optional[Sequence[str]] = None,
        targets: Optional[Sequence[str]] = None,
        actor_names: Optional[Sequence[str]] = None,
        actor_ids: Optional[Sequence[str]] = None,
        actors: Optional[Sequence[str]] = None,
    ) -> AuditLogExport:
        """Starts an export of an organization's events in a time range."""
        req: Dict[str, Any] = {
            "organization_id": organization_id,
            "range_start": _timestamp(range_start, "range_start"),
            "range_end": _timestamp(range_end, "range_end"),
        }
        names = actor_names if actor_names is not None else actors
        for key, value in (("actions", actions), ("targets", targets), ("actor_names", names), ("actor_ids", actor_ids)):
            if value is not None:
                req[key] = list(value)
        text = _call(self._client._native.create_export, json.dumps(req).encode())
        return AuditLogExport.from_wire(json.loads(text))

    def get_export(self, audit_log_export_id: str) -> AuditLogExport:
        """An export's state and, when ready, its CSV URL."""
        return AuditLogExport.from_wire(json.loads(_call(self._client._native.get_export, audit_log_export_id)))

    def create_schema(self, action: str, schema: EventLike) -> AuditLogSchema:
        """Creates a new schema version of an action (``{"actor", "targets", "metadata"}``)."""
        text = _call(self._client._native.create_schema, action, _encode(schema))
        return AuditLogSchema.from_wire(json.loads(text))

    def list_actions(
        self,
        *,
        limit: Optional[int] = None,
        order: Optional[str] = None,
        before: Optional[str] = None,
        after: Optional[str] = None,
    ) -> ListPage[AuditLogAction]:
        """One page of actions."""
        d = json.loads(_call(self._client._native.list_actions, limit, order, before, after))
        return ListPage(
            object=str(d.get("object", "list")),
            data=[AuditLogAction.from_wire(a) for a in d.get("data", [])],
            list_metadata=ListMetadata(**_cursors(d)),
        )

    def list_schemas(
        self,
        action: str,
        *,
        limit: Optional[int] = None,
        order: Optional[str] = None,
        before: Optional[str] = None,
        after: Optional[str] = None,
    ) -> ListPage[AuditLogSchema]:
        """One page of an action's schema versions."""
        d = json.loads(_call(self._client._native.list_schemas, action, limit, order, before, after))
        return ListPage(
            object=str(d.get("object", "list")),
            data=[AuditLogSchema.from_wire(s) for s in d.get("data", [])],
            list_metadata=ListMetadata(**_cursors(d)),
        )

    def get_retention(self, organization_id: str) -> AuditLogRetention:
        """An organization's retention period."""
        return AuditLogRetention(int(_call(self._client._native.get_retention, organization_id)))

    def set_retention(self, organization_id: str, retention_period_in_days: int) -> AuditLogRetention:
        """Sets an organization's retention period (30 or 365 days)."""
        days = _call(self._client._native.set_retention, organization_id, retention_period_in_days)
        return AuditLogRetention(int(days))


def _cursors(d: Mapping[str, Any]) -> Dict[str, Optional[str]]:
    meta = d.get("list_metadata") or {}
    return {"before": meta.get("before"), "after": meta.get("after")}


class AuditLog:
    """``client.audit_log``: the v1 call of the seed package (``group``, ``action_type``, ...)."""

    def __init__(self, client: "Client") -> None:
        self._client = client

    def emit(self, event: EventLike, *, idempotency_key: Optional[str] = None) -> Receipt:
        """Validates a v1 event with v1 rules and queues it; returns at once."""
        receipt: Receipt = _call(self._client._native.emit_legacy_json, _encode(event), idempotency_key)
        return receipt

    def create_event(self, event: EventLike, *, idempotency_key: Optional[str] = None) -> Outcome:
        """Sends a v1 event and blocks until it is delivered; raises on rejection or expiry."""
        return self.emit(event, idempotency_key=idempotency_key).result()


class _LogPump:
    """Moves the core's log records into the ``auditwire`` logger from a Python thread,
    so that delivery workers never take the GIL for logging."""

    lock = threading.Lock()
    thread: Optional[threading.Thread] = None
    pid = 0
    stop = threading.Event()

    @classmethod
    def start(cls) -> None:
        level = logger.getEffectiveLevel()
        _native.set_log_level(level)
        with cls.lock:
            if cls.thread is not None and cls.pid == os.getpid() and cls.thread.is_alive():
                return
            cls.stop = threading.Event()
            cls.pid = os.getpid()
            cls.thread = threading.Thread(target=cls._run, args=(cls.stop,), name="auditwire-log", daemon=True)
            cls.thread.start()

    @staticmethod
    def _run(stop: threading.Event) -> None:
        while not stop.is_set():
            for levelno, target, message in _native.drain_logs(0.25):
                logger.log(levelno, "%s", message, extra={"rust_target": target})

    @classmethod
    def after_fork_in_child(cls) -> None:
        _native.reset_logs_after_fork()
        running = cls.thread is not None
        cls.lock = threading.Lock()
        cls.thread = None
        if running:
            cls.start()

    @classmethod
    def shutdown(cls) -> None:
        cls.stop.set()
        thread = cls.thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(2.0)
        for levelno, target, message in _native.drain_logs(0.0):
            logger.log(levelno, "%s", message, extra={"rust_target": target})


def _logging_configured() -> bool:
    """True when a handler other than a ``NullHandler`` would see the ``auditwire`` logger's records."""
    current: Optional[logging.Logger] = logger
    while current is not None:
        if any(not isinstance(h, logging.NullHandler) for h in current.handlers):
            return True
        if not current.propagate:
            return False
        current = current.parent
    return False


def _close_at_exit(ref: "weakref.ReferenceType[Client]") -> None:
    client = ref()
    if client is not None:
        client._close_at_exit()


class Client:
    """An auditwire client: validates on the caller's thread, delivers in the background.

    ``on_outcome`` is called once per accepted event, on a delivery worker thread (holding
    the GIL only for that call; at shutdown, on the closing thread); keep it short and never
    block in it. No call runs after ``close()`` returns.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        workers: Optional[int] = None,
        queue_capacity: Optional[int] = None,
        overflow: Optional[str] = None,
        spool_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
        shutdown_timeout: Optional[float] = None,
        on_outcome: Optional[OutcomeCallback] = None,
        block_timeout: Optional[float] = None,
        spool_max_bytes: Optional[int] = None,
        durability: Optional[str] = None,
        ca_file: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> None:
        """``overflow`` is ``"reject"``, ``"block"`` (wait up to ``block_timeout`` seconds,
        default 5) or ``"spill"`` (to the spool); ``durability`` is ``"process"`` or
        ``"power_loss"`` (fsync each spool commit); ``ca_file`` makes the client trust only
        the CA certificates in that PEM file."""
        callback = None
        if on_outcome is not None:
            user = on_outcome

            def callback(d: Mapping[str, Any]) -> None:
                user(_outcome(d))

        _LogPump.start()
        self._native = _call(
            _native.NativeClient,
            api_key,
            base_url,
            timeout,
            max_retries,
            workers,
            queue_capacity,
            overflow,
            block_timeout,
            os.fspath(spool_dir) if spool_dir is not None else None,
            shutdown_timeout,
            callback,
            ca_file=os.fspath(ca_file) if ca_file is not None else None,
            spool_max_bytes=spool_max_bytes,
            durability=durability,
        )
        self._closed = False
        self.audit_logs = AuditLogs(self)
        self.audit_log = AuditLog(self)
        self._atexit = lambda ref=weakref.ref(self): _close_at_exit(ref)
        atexit.register(self._atexit)

    @property
    def base_url(self) -> str:
        """The API base URL in use."""
        return str(self._native.base_url)

    def flush(self, timeout: Optional[float] = None) -> int:
        """Waits up to ``timeout`` seconds (default ``shutdown_timeout``) for every accepted
        event to get an outcome; returns how many have none yet."""
        t = self._native.shutdown_timeout if timeout is None else timeout
        return int(_call(self._native.flush, float(t)))

    def close(self, timeout: Optional[float] = None) -> ShutdownReport:
        """Stops accepting events, delivers for up to ``timeout`` seconds (default
        ``shutdown_timeout``); returns how many accepted events were not delivered, as a
        ``ShutdownReport`` (an ``int`` with ``in_doubt``, ``lost`` and ``spooled``). Once it
        returns, no ``on_outcome`` call runs and no receipt changes."""
        t = self._native.shutdown_timeout if timeout is None else timeout
        report = ShutdownReport(**_call(self._native.shutdown, float(t)))
        if not self._closed:
            self._closed = True
            atexit.unregister(self._atexit)
        return report

    def _close_at_exit(self) -> None:
        # The core logs its exit line at WARNING; the log pump (its atexit hook runs after
        # this one) hands it to the `auditwire` logger. Without a handler there, print it.
        _native.set_log_level(logger.getEffectiveLevel())
        report = self._native.shutdown(float(self._native.shutdown_timeout))
        line = report["exit_message"]
        if line and not _logging_configured():
            sys.stderr.write(f"{line}\n")
            sys.stderr.flush()

    def stats(self) -> "Stats":
        """The client's counters: those of the core (accepted, delivered, in_doubt, ...) and ``pending``."""
        stats: Stats = self._native.stats()
        return stats

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<auditwire.Client base_url={self.base_url!r}>"


class WorkOSClient(Client):
    """Drop-in for ``workos.WorkOSClient``: also accepts (and ignores) ``client_id`` and the
    other ``workos`` options that do not concern audit logs (``jwt_leeway``, ``jwt_issuer``,
    ``is_public``); ``request_timeout`` is ``timeout``."""

    def __init__(
        self,
        api_key: Optional[str] = None,
        client_id: Optional[str] = None,
        base_url: Optional[str] = None,
        *,
        request_timeout: Optional[float] = None,
        jwt_leeway: float = 0.0,
        jwt_issuer: Optional[Union[str, Sequence[str]]] = None,
        is_public: bool = False,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        workers: Optional[int] = None,
        queue_capacity: Optional[int] = None,
        overflow: Optional[str] = None,
        spool_dir: Optional[Union[str, "os.PathLike[str]"]] = None,
        shutdown_timeout: Optional[float] = None,
        on_outcome: Optional[OutcomeCallback] = None,
        block_timeout: Optional[float] = None,
        spool_max_bytes: Optional[int] = None,
        durability: Optional[str] = None,
        ca_file: Optional[Union[str, "os.PathLike[str]"]] = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout=timeout if timeout is not None else request_timeout,
            max_retries=max_retries,
            workers=workers,
            queue_capacity=queue_capacity,
            overflow=overflow,
            spool_dir=spool_dir,
            shutdown_timeout=shutdown_timeout,
            on_outcome=on_outcome,
            block_timeout=block_timeout,
            spool_max_bytes=spool_max_bytes,
            durability=durability,
            ca_file=ca_file,
        )


atexit.register(_LogPump.shutdown)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_LogPump.after_fork_in_child)
