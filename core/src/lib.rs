//! auditwire core: the WorkOS Audit Logs event model, strict validation and the wire format.
//!
//! Parse with [`CreateEventBody::from_json`] or [`LegacyEvent::from_json`] (every problem
//! reported at once, with its wire path), or build [`Event`] values in Rust and call
//! [`Event::validate`]. Bodies serialise with `to_json` to the exact bytes sent.

mod event;
mod event_parse;
mod legacy;
mod metadata;
mod problem;
mod reader;
mod strict_json;
mod timestamp;

pub use event::{Actor, Context, CreateEventBody, Event, Target};
pub use legacy::{ActionType, LegacyEvent, ACTION_TYPE_METADATA_KEY};
pub use metadata::{
    is_valid_metadata_key, Metadata, MetadataValue, NonFiniteNumber, MAX_METADATA_KEYS,
    MAX_METADATA_KEY_CHARS, MAX_METADATA_STRING_CHARS,
};
pub use problem::{Problem, Rule, ValidationError};
pub use strict_json::ParseLimits;
pub use timestamp::{Timestamp, TimestampError};
