//! WorkOS-style object ids and RFC 3339 timestamps.

use rand::Rng;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new id: `prefix_` then a 26-character ULID (48-bit milliseconds, 80 random bits).
pub fn new_id(prefix: &str) -> String {
    let millis = u128::from(now_millis().max(0) as u64) & ((1 << 48) - 1);
    let random = rand::rng().random::<u128>() & ((1 << 80) - 1);
    let mut value = (millis << 80) | random;
    let mut out = [b'0'; 26];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    format!("{prefix}_{}", String::from_utf8_lossy(&out))
}

/// The current Unix time in milliseconds.
pub fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Unix milliseconds as `2026-02-02T16:35:39.317Z`.
pub fn rfc3339(millis: i64) -> String {
    auditwire::Timestamp::from_unix_millis(millis)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_and_ulid_shape() {
        let id = new_id("audit_log_export");
        let ulid = id.strip_prefix("audit_log_export_").unwrap();
        assert_eq!(ulid.len(), 26);
        assert!(ulid.bytes().all(|b| CROCKFORD.contains(&b)));
        assert_ne!(new_id("x"), new_id("x"));
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    }
}
