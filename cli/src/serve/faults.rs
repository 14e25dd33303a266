//! Fault injection: a seeded generator drawn once per request attempt.

use std::sync::Mutex;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::args::FaultKind;

/// Decides, per attempt, whether a request gets a fault and which.
pub struct Faults {
    rate: f64,
    kinds: Vec<FaultKind>,
    seed: u64,
    rng: Mutex<StdRng>,
}

impl Faults {
    /// A plan failing `rate` of attempts with kinds drawn uniformly; random seed when `None`.
    pub fn new(rate: f64, kinds: Vec<FaultKind>, seed: Option<u64>) -> Self {
        let seed = seed.unwrap_or_else(|| rand::rng().random());
        Faults {
            rate,
            kinds,
            seed,
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    /// True when no fault can ever be drawn.
    pub fn is_off(&self) -> bool {
        self.rate <= 0.0 || self.kinds.is_empty()
    }

    /// One draw for one attempt: no fault, or the fault to apply.
    pub fn draw(&self) -> Option<FaultKind> {
        if self.is_off() {
            return None;
        }
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        if rng.random::<f64>() >= self.rate {
            return None;
        }
        let i = rng.random_range(0..self.kinds.len());
        Some(self.kinds[i])
    }

    /// Restarts the sequence from the seed.
    pub fn reseed(&self) {
        *self.rng.lock().unwrap_or_else(|e| e.into_inner()) = StdRng::seed_from_u64(self.seed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_rate_roughly_kept() {
        let kinds = vec![FaultKind::Status(500), FaultKind::Reset];
        let a = Faults::new(0.3, kinds.clone(), Some(42));
        let b = Faults::new(0.3, kinds, Some(42));
        let xs: Vec<_> = (0..1000).map(|_| a.draw()).collect();
        let ys: Vec<_> = (0..1000).map(|_| b.draw()).collect();
        assert_eq!(xs, ys);
        let hits = xs.iter().filter(|x| x.is_some()).count();
        assert!((240..=360).contains(&hits), "{hits}");
        a.reseed();
        assert_eq!(a.draw(), xs[0]);
        assert!(Faults::new(0.0, vec![FaultKind::Reset], None)
            .draw()
            .is_none());
    }
}
