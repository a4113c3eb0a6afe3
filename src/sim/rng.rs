//! The run's random numbers: madsim's seeded stream, drawn without madsim's lock.
//!
//! Every random choice of a run (latencies, queue-group ties, the ready task to run next,
//! fault strikes) is a draw from this one generator, seeded with the run's seed.

use madsim::rand::{GlobalRng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::cell::Cell;

/// The run's random numbers: madsim's stream, drawn without madsim's lock.
///
/// madsim 0.2's `GlobalRng` is a `Xoshiro256PlusPlus::seed_from_u64(seed)` behind a spin lock
/// that also checks for a determinism log; every draw pays for the lock (8% of a run). At the
/// start of a run the executor takes one draw from madsim's generator and finds it among the
/// first outputs of a private generator seeded the same way (madsim has drawn a few values of
/// its own by then). From there on it draws from the private copy, whose stream is the one
/// madsim's would have given, so every outcome is what it was. Should a future madsim seed or
/// build its generator differently, the draw is not found and the executor keeps drawing from
/// madsim's generator: slower, equally deterministic. A test checks the fast path is taken.
pub struct SimRng(Source);

enum Source {
    /// A copy of madsim's generator, in step with it.
    Copy(Xoshiro256PlusPlus),
    /// madsim's generator itself; `first` is the value drawn from it while looking for the
    /// copy's step, handed out before its next ones.
    Madsim { rng: GlobalRng, first: Option<u64> },
}

thread_local! {
    static THROUGH_MADSIM: Cell<bool> = const { Cell::new(false) };
}

/// Make executors created on this thread draw through madsim's own generator (and its lock),
/// so that `madsim::runtime::Runtime::check_determinism` sees every draw. The stream is the
/// same either way; the determinism tests use this to check both that and madsim's log.
pub fn draw_through_madsim(on: bool) {
    THROUGH_MADSIM.with(|t| t.set(on));
}

impl SimRng {
    /// How far into the stream madsim may have drawn before the model's first draw.
    const SEARCH: usize = 64;

    /// The stream of madsim's generator `madsim`, seeded with `seed`.
    pub fn new(mut madsim: GlobalRng, seed: u64) -> SimRng {
        let v = madsim.next_u64();
        if !THROUGH_MADSIM.with(Cell::get) {
            let mut copy = Xoshiro256PlusPlus::seed_from_u64(seed);
            for _ in 0..Self::SEARCH {
                // The copy as it was before it gave `v` gives `v` first, then what madsim's
                // generator would give next.
                let before = copy.clone();
                if copy.next_u64() == v {
                    return SimRng(Source::Copy(before));
                }
            }
        }
        SimRng(Source::Madsim {
            rng: madsim,
            first: Some(v),
        })
    }
}

impl RngCore for SimRng {
    #[inline]
    fn next_u64(&mut self) -> u64 {
        match &mut self.0 {
            Source::Copy(rng) => rng.next_u64(),
            Source::Madsim { rng, first } => first.take().unwrap_or_else(|| rng.next_u64()),
        }
    }

    #[inline]
    fn next_u32(&mut self) -> u32 {
        // As Xoshiro256PlusPlus (and so madsim) does: the upper bits of a 64-bit draw.
        (self.next_u64() >> 32) as u32
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::impls::fill_bytes_via_next(self, dest);
    }

    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), madsim::rand::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl SimRng {
    /// Whether draws come from the lock-free copy of madsim's generator.
    pub fn is_copy(&self) -> bool {
        matches!(self.0, Source::Copy(_))
    }
}
