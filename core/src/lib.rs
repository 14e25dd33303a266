//! auditwire core: the WorkOS Audit Logs event model, strict validation and the wire format.
//!
//! Parse with [`CreateEventBody::from_json`] or [`LegacyEvent::from_json`] (every problem
//! reported at once, with its wire path), or build [`Event`] values in Rust and call
//! [`Event::validate`]. Bodies serialise with `to_json` to the exact bytes sent.

#![warn(missing_docs)]

mod client;
mod event;
mod event_parse;
mod legacy;
mod metadata;
mod problem;
mod shape;
mod strict_json;
mod timestamp;
mod wire;

pub use client::{
    is_retryable_status, parse_retry_after, spool_dead_letters, spool_retry, spool_status,
    ApiError, AuditLogAction, AuditLogExport, AuditLogSchema, Backoff, Client, Config,
    ConfigBuilder, ConfigError, CreateEventError, CreateExportRequest, CreateSchemaRequest,
    DeadLetter, Durability, EmitError, EmitOptions, ErrorKind, ExportState, LegacyEndpoint, List,
    ListMetadata, ListOptions, Order, Outcome, OutcomeCallback, OutcomeReport, Overflow,
    QueueLimit, Receipt, Retention, RetryReport, SchemaActor, SchemaTarget, ShutdownReport,
    SpoolError, SpoolRun, SpoolStatus, Stats, DEFAULT_BASE_URL, DEFAULT_QUEUE_CAPACITY,
    DEFAULT_QUEUE_MAX_BYTES, DEFAULT_RETRY_AFTER_CAP, DEFAULT_RETRY_WINDOW,
    DEFAULT_SHUTDOWN_TIMEOUT, DEFAULT_SPOOL_MAX_BYTES, DEFAULT_SPOOL_RETRY_WINDOW, DEFAULT_TIMEOUT,
    DEFAULT_WORKERS, ENV_API_KEY, ENV_BASE_URL, ENV_REQUEST_TIMEOUT, MAX_IDEMPOTENCY_KEY_LEN,
    SPOOL_SCHEMA_VERSION,
};
pub use event::{Actor, Context, CreateEventBody, Event, Target};
pub use legacy::{ActionType, LegacyEvent, ACTION_TYPE_METADATA_KEY};
pub use metadata::{
    is_valid_metadata_key, is_valid_metadata_string, Metadata, MetadataValue, NonFiniteNumber,
    MAX_METADATA_KEYS, MAX_METADATA_KEY_CHARS, MAX_METADATA_STRING_CHARS,
};
pub use problem::{Problem, Rule, ValidationError};
pub use strict_json::ParseLimits;
pub use timestamp::{Timestamp, TimestampError};
