//! The envelope: an accepted event's body bytes, endpoint, idempotency key and retry state.

use std::sync::Arc;
use std::time::Instant;

use std::cell::RefCell;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use super::fork;

use super::receipt::Slot;

/// Longest idempotency key accepted from a caller.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// An idempotency key: a UUID v4 kept inline, or the caller's own string.
pub(crate) enum IdempotencyKey {
    Uuid([u8; 36]),
    Custom(Box<str>),
}

impl IdempotencyKey {
    /// A new random UUID v4 from a per-thread CSPRNG (no system call per key).
    pub(crate) fn new_v4() -> Self {
        let mut bytes = [0u8; 16];
        fill_random(&mut bytes);
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut buf = [0u8; 36];
        id.hyphenated().encode_lower(&mut buf);
        IdempotencyKey::Uuid(buf)
    }

    /// A caller's key, already checked.
    pub(crate) fn custom(key: &str) -> Self {
        IdempotencyKey::Custom(key.into())
    }

    /// The key as sent in the `Idempotency-Key` header.
    pub(crate) fn as_str(&self) -> &str {
        match self {
            IdempotencyKey::Uuid(b) => std::str::from_utf8(b).unwrap_or_default(),
            IdempotencyKey::Custom(s) => s,
        }
    }
}

/// Why a caller's idempotency key is refused, if it is.
pub(crate) fn check_key(key: &str) -> Option<String> {
    if key.is_empty() {
        return Some("must not be empty".into());
    }
    if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Some(format!(
            "must be at most {MAX_IDEMPOTENCY_KEY_LEN} bytes (found {})",
            key.len()
        ));
    }
    if key.bytes().any(|b| !(0x21..0x7f).contains(&b)) {
        return Some(
            "must be printable ASCII without spaces (it travels as an HTTP header)".into(),
        );
    }
    None
}

/// The API path an envelope is sent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST /audit_logs/events`.
    Events,
    /// `POST /events`, the v1 API.
    LegacyV1,
}

impl Endpoint {
    pub(crate) fn path(self) -> &'static str {
        match self {
            Endpoint::Events => "/audit_logs/events",
            Endpoint::LegacyV1 => "/events",
        }
    }
}

/// One accepted event on its way to the API.
pub(crate) struct Envelope {
    /// The exact request body, serialised once.
    pub(crate) body: Vec<u8>,
    pub(crate) endpoint: Endpoint,
    /// Identity and outcome slot, shared with the receipt.
    pub(crate) slot: Arc<Slot>,
    pub(crate) accepted_at: Instant,
    /// Attempts made so far.
    pub(crate) attempts: u32,
    /// First accepted, Unix milliseconds (kept across restarts by the spool).
    pub(crate) accepted_ms: i64,
    /// The event's row in the spool, once written there.
    pub(crate) spool_id: Option<i64>,
}

impl std::fmt::Debug for Envelope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Envelope")
            .field("key", &self.key())
            .field("endpoint", &self.endpoint)
            .field("bytes", &self.body.len())
            .field("attempts", &self.attempts)
            .finish()
    }
}

impl Envelope {
    pub(crate) fn new(body: Vec<u8>, endpoint: Endpoint, slot: Arc<Slot>) -> Self {
        Envelope {
            body,
            endpoint,
            slot,
            accepted_at: Instant::now(),
            attempts: 0,
            accepted_ms: super::spool::now_ms(),
            spool_id: None,
        }
    }

    /// Bytes this envelope counts against the queue's byte bound.
    pub(crate) fn size(&self) -> usize {
        self.body.len()
    }

    pub(crate) fn key(&self) -> &str {
        self.slot.key.as_str()
    }
}

thread_local! {
    /// The key generator of this thread and the fork generation it was seeded in.
    static KEY_RNG: RefCell<Option<(u64, StdRng)>> = const { RefCell::new(None) };
}

/// Random bytes for keys. A forked child copies its parent's generator state, so a
/// generator seeded before a fork is reseeded from the OS: otherwise parent and child
/// would make the same keys and the server would drop one side's events as replays.
fn fill_random(out: &mut [u8]) {
    fork::install();
    let generation = fork::generation();
    KEY_RNG.with(|cell| {
        let mut slot = cell.borrow_mut();
        let fresh = match slot.as_ref() {
            Some((seeded_in, _)) => *seeded_in != generation,
            None => true,
        };
        if fresh {
            *slot = Some((generation, StdRng::from_os_rng()));
        }
        if let Some((_, rng)) = slot.as_mut() {
            rng.fill_bytes(out);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_distinct_uuid_v4() {
        let a = IdempotencyKey::new_v4();
        let b = IdempotencyKey::new_v4();
        assert_ne!(a.as_str(), b.as_str());
        let parsed = uuid::Uuid::parse_str(a.as_str()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_eq!(IdempotencyKey::custom("mine").as_str(), "mine");
        assert!(check_key("abc-123").is_none());
        assert!(check_key("").is_some());
        assert!(check_key("a b").is_some());
        assert!(check_key(&"x".repeat(256)).is_some());
    }
}
