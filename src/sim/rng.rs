//! The run's random numbers: one stream per kind of choice, each derived from the seed.
//!
//! Every random choice of a run (latencies, ready-set ties, slow tails, fault strikes, crash
//! times and places) is drawn from the stream of its [`ChoiceKind`]. The streams are derived
//! from the run's seed as TigerBeetle's simulator derives its sub-seeds: a root
//! `Xoshiro256PlusPlus::seed_from_u64(seed)` gives one `u64` per kind, in
//! [`ChoiceKind::ALL`] order, and each kind's stream is `Xoshiro256PlusPlus::seed_from_u64`
//! of its value. So a change to how many ties a run draws does not shift its latencies, and a
//! kind added later (at the end of `ALL`) leaves every other stream as it was.

use crate::sim::tape::ChoiceKind;
use madsim::rand::{GlobalRng, RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use std::cell::Cell;

/// The run's streams, one per kind of choice.
pub struct Streams {
    streams: [Xoshiro256PlusPlus; ChoiceKind::ALL.len()],
    /// When set ([`draw_through_madsim`]), every draw also takes one value from madsim's
    /// generator, so that madsim's determinism checker sees when each choice is made.
    madsim: Option<GlobalRng>,
}

thread_local! {
    static THROUGH_MADSIM: Cell<bool> = const { Cell::new(false) };
}

/// Make streams created on this thread also draw once from madsim's generator at every choice,
/// so that `madsim::runtime::Runtime::check_determinism` sees each choice and the simulated
/// time it is made at. The values drawn are the streams' either way: the determinism tests use
/// this to check madsim's log, and compare the trace with an ordinary run's.
pub fn draw_through_madsim(on: bool) {
    THROUGH_MADSIM.with(|t| t.set(on));
}

impl Streams {
    /// The streams of `seed`; `madsim` is the runtime's generator, drawn from only when
    /// [`draw_through_madsim`] is on.
    pub fn new(seed: u64, madsim: GlobalRng) -> Streams {
        let mut root = Xoshiro256PlusPlus::seed_from_u64(seed);
        Streams {
            streams: ChoiceKind::ALL.map(|_| Xoshiro256PlusPlus::seed_from_u64(root.next_u64())),
            madsim: THROUGH_MADSIM.with(Cell::get).then_some(madsim),
        }
    }

    /// The stream of `kind`.
    #[inline]
    pub fn of(&mut self, kind: ChoiceKind) -> &mut Xoshiro256PlusPlus {
        if let Some(madsim) = &mut self.madsim {
            madsim.next_u64();
        }
        &mut self.streams[kind as usize]
    }
}
