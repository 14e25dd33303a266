//! The client-wide pause after a 429: no worker starts a request before it ends.

use std::time::{Duration, Instant};

/// When the client may send again; kept inside the queue's lock.
#[derive(Debug, Default)]
pub(crate) struct PauseGate {
    until: Option<Instant>,
}

impl PauseGate {
    /// Pauses until `until`, never shortening a longer pause already in force.
    pub(crate) fn extend(&mut self, until: Instant) {
        if self.until.map_or(true, |u| u < until) {
            self.until = Some(until);
        }
    }

    /// How long the pause still lasts at `now`, if it does.
    pub(crate) fn remaining(&mut self, now: Instant) -> Option<Duration> {
        match self.until {
            Some(u) if u > now => Some(u - now),
            Some(_) => {
                self.until = None;
                None
            }
            None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_only_grow_and_then_lapse() {
        let t0 = Instant::now();
        let mut g = PauseGate::default();
        assert_eq!(g.remaining(t0), None);
        g.extend(t0 + Duration::from_secs(5));
        g.extend(t0 + Duration::from_secs(1));
        assert_eq!(g.remaining(t0), Some(Duration::from_secs(5)));
        assert_eq!(g.remaining(t0 + Duration::from_secs(6)), None);
    }
}
