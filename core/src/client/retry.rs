//! Retry policy: which failures are retried, exponential backoff with full jitter,
//! `Retry-After` parsing and the per-event retry budget.

use std::time::{Duration, Instant, SystemTime};

use rand::Rng;

use super::errors::ConfigError;

/// Exponential backoff with full jitter: attempt `n` waits a uniform time in
/// `[0, min(cap, base × factor^(n-1))]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The ceiling of the first retry's wait.
    pub base: Duration,
    /// How much the ceiling grows per retry.
    pub factor: f64,
    /// The largest ceiling.
    pub cap: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(500),
            factor: 2.0,
            cap: Duration::from_secs(30),
        }
    }
}

impl Backoff {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let bad = |message: &str| ConfigError::Invalid {
            field: "backoff",
            message: message.to_owned(),
        };
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            return Err(bad("factor must be a finite number of at least 1"));
        }
        if self.cap < self.base {
            return Err(bad("cap must be at least the base"));
        }
        Ok(())
    }

    /// The jitter ceiling before retry number `retry` (1 for the first retry).
    pub fn ceiling(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(64) as i32;
        let secs = self.base.as_secs_f64() * self.factor.powi(exp);
        let cap = self.cap.as_secs_f64();
        Duration::from_secs_f64(if secs.is_finite() { secs.min(cap) } else { cap })
    }

    /// A random wait before retry number `retry`, with full jitter.
    pub fn delay(&self, retry: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(retry);
        if ceiling.is_zero() {
            return ceiling;
        }
        Duration::from_nanos(rng.random_range(0..=ceiling.as_nanos().min(u64::MAX as u128) as u64))
    }
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date (relative to `now`).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if v.is_empty() {
        return None;
    }
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return Some(Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX)));
    }
    if let Ok(secs) = v.parse::<f64>() {
        // Not in the RFC, but some servers send fractions; negative means "now".
        return secs
            .is_finite()
            .then(|| Duration::from_secs_f64(secs.clamp(0.0, 1e9)));
    }
    let at = httpdate::parse_http_date(v).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Whether an HTTP status is worth another attempt: 408, 429 and 5xx.
pub fn is_retryable_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..600).contains(&status)
}

/// The rules deciding when an event has spent its retries.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RetryPolicy {
    pub(crate) backoff: Backoff,
    pub(crate) max_retries: Option<u32>,
    pub(crate) window: Duration,
    pub(crate) retry_after_cap: Duration,
}

impl RetryPolicy {
    /// When to try again after `attempts` failed attempts and a chosen `wait`, or `None`
    /// when the budget is spent.
    pub(crate) fn next_attempt(
        &self,
        attempts: u32,
        accepted_at: Instant,
        wait: Duration,
        now: Instant,
    ) -> Option<Instant> {
        if self.max_retries.is_some_and(|max| attempts > max) {
            return None;
        }
        let at = now + wait;
        // Without an attempt cap the window bounds the retries; with one, the cap alone does.
        if self.max_retries.is_none() && at > accepted_at + self.window {
            return None;
        }
        Some(at)
    }

    /// The wait before the next attempt: jittered backoff, floored by a capped `Retry-After`.
    pub(crate) fn wait(
        &self,
        attempts: u32,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let jitter = self.backoff.delay(attempts, rng);
        match retry_after {
            Some(ra) => jitter.max(ra.min(self.retry_after_cap)),
            None => jitter,
        }
    }

    /// How long a 429 holds every worker: what the server asked for (capped), else one
    /// first-step backoff. Not the failing event's own backoff, which grows with its
    /// attempts and would stall the whole client for up to the backoff cap.
    pub(crate) fn rate_limit_pause(&self, retry_after: Option<Duration>) -> Duration {
        match retry_after {
            Some(ra) => ra.min(self.retry_after_cap),
            None => self.backoff.base,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn a_rate_limit_pauses_for_retry_after_not_the_events_backoff() {
        let p = RetryPolicy {
            backoff: Backoff::default(),
            max_retries: None,
            window: Duration::from_secs(600),
            retry_after_cap: Duration::from_secs(60),
        };
        assert_eq!(p.rate_limit_pause(Some(Duration::ZERO)), Duration::ZERO);
        assert_eq!(
            p.rate_limit_pause(Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert_eq!(
            p.rate_limit_pause(Some(Duration::from_secs(600))),
            Duration::from_secs(60)
        );
        assert_eq!(p.rate_limit_pause(None), Backoff::default().base);
    }

    #[test]
    fn backoff_grows_to_the_cap_with_full_jitter() {
        let b = Backoff::default();
        assert_eq!(b.ceiling(1), Duration::from_millis(500));
        assert_eq!(b.ceiling(2), Duration::from_secs(1));
        assert_eq!(b.ceiling(4), Duration::from_secs(4));
        assert_eq!(b.ceiling(7), Duration::from_secs(30));
        assert_eq!(b.ceiling(1000), Duration::from_secs(30));
        let mut rng = SmallRng::seed_from_u64(7);
        let samples: Vec<_> = (0..2000).map(|_| b.delay(3, &mut rng)).collect();
        assert!(samples.iter().all(|d| *d <= Duration::from_secs(2)));
        let small = samples
            .iter()
            .filter(|d| **d < Duration::from_millis(500))
            .count();
        let large = samples
            .iter()
            .filter(|d| **d > Duration::from_millis(1500))
            .count();
        assert!(small > 300 && large > 300, "not uniform: {small} {large}");
        assert!(Backoff { factor: 0.5, ..b }.check().is_err());
        assert!(Backoff {
            cap: Duration::ZERO,
            ..b
        }
        .check()
        .is_err());
    }

    #[test]
    fn retry_after_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("1.5", now),
            Some(Duration::from_millis(1500))
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(42));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(42))
        );
        let past = httpdate::fmt_http_date(now - Duration::from_secs(42));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn statuses() {
        for s in [408, 429, 500, 502, 503, 504, 599] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 409, 422] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn budget_by_window_or_attempts() {
        let mut rng = SmallRng::seed_from_u64(1);
        let t0 = Instant::now();
        let p = RetryPolicy {
            backoff: Backoff::default(),
            max_retries: None,
            window: Duration::from_secs(10),
            retry_after_cap: Duration::from_secs(60),
        };
        let next = |p: &RetryPolicy, n, ra, now, rng: &mut SmallRng| {
            let wait = p.wait(n, ra, rng);
            p.next_attempt(n, t0, wait, now)
        };
        assert!(next(&p, 2, None, t0, &mut rng).is_some());
        assert!(next(&p, 1, None, t0 + Duration::from_secs(11), &mut rng).is_none());
        // Retry-After is a floor, capped.
        let at = next(&p, 1, Some(Duration::from_secs(3)), t0, &mut rng).unwrap();
        assert!(at >= t0 + Duration::from_secs(3));
        assert!(next(&p, 1, Some(Duration::from_secs(30)), t0, &mut rng).is_none());
        let capped = RetryPolicy {
            retry_after_cap: Duration::from_secs(2),
            ..p
        };
        let at = next(&capped, 1, Some(Duration::from_secs(3600)), t0, &mut rng).unwrap();
        assert!(at <= t0 + Duration::from_secs(2));
        let limited = RetryPolicy {
            max_retries: Some(3),
            ..p
        };
        assert!(next(&limited, 3, None, t0, &mut rng).is_some());
        assert!(next(&limited, 4, None, t0, &mut rng).is_none());
    }
}
