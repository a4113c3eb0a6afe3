//! A run's choice tape: every choice the run made, as a token a later run replays exactly.
//!
//! Every random decision of a run is a choice among `n` options of some [`ChoiceKind`]
//! (`sim::choice`). Option 0 is the *nominal* one: the oldest ready task of a tie, a latency at
//! its minimum, no fault. A tape records the choices that were not nominal, as (index, option)
//! pairs, with how many choices the run made and a fingerprint of their kinds and option
//! counts. Replaying it makes the same choices; a model that asks for a different sequence of
//! choices (another kind, another number of options, more or fewer choices) no longer fits the
//! tape, and the replay says so instead of running something else.
//!
//! The token is `t1` followed by URL-safe base64 (no padding) of LEB128 varints: the number of
//! choices, the fingerprint (64 bits), the number of deviations, then each deviation as the gap
//! from the previous one's index and its option. It needs no quoting in a shell. A tape of an
//! explored schedule starts `e1` instead: it was made with the scenario's faults anchored to
//! events (`sim::faults`), which asks choices a seeded run does not, so it replays that way.

use crate::model::node::Node;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use std::fmt;

/// What a choice chooses between.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChoiceKind {
    /// Which of several ready tasks runs next (option 0: the oldest).
    Tie,
    /// A latency, in microseconds above its minimum (a database call, a publish, a delivery,
    /// an HTTP request, a stall).
    Latency,
    /// Whether a latency falls in its slow tail (option 1: it does).
    SlowTail,
    /// Whether a fault strikes here (option 1: it does): a lost ack, a lost delivery, a
    /// retried publish, a stalled handler.
    Strike,
    /// The gap before the next crash of `faults.crash-rate`, as a fraction in 2^-53 units.
    CrashGap,
    /// Which replica the next crash of `faults.crash-rate` hits.
    CrashNode,
}

impl ChoiceKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ChoiceKind; 6] = [
        ChoiceKind::Tie,
        ChoiceKind::Latency,
        ChoiceKind::SlowTail,
        ChoiceKind::Strike,
        ChoiceKind::CrashGap,
        ChoiceKind::CrashNode,
    ];

    /// The kind as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ChoiceKind::Tie => "tie",
            ChoiceKind::Latency => "latency",
            ChoiceKind::SlowTail => "slow-tail",
            ChoiceKind::Strike => "strike",
            ChoiceKind::CrashGap => "crash-gap",
            ChoiceKind::CrashNode => "crash-node",
        }
    }

    fn code(self) -> u64 {
        self as u64 + 1
    }
}

impl fmt::Display for ChoiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a choice is about, for a reader (and for the fingerprint): which latency, which fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChoiceOf {
    /// The ready set.
    Ready,
    /// An HTTP request's way to its service.
    Http,
    /// A database call.
    Db,
    /// A publish's way to the bus.
    Publish,
    /// A delivery's way to its listener.
    Delivery,
    /// A stalled handler (`faults.slow-handler`): whether, and how long.
    SlowHandler,
    /// A publish stored twice (`faults.publisher-retry`).
    PublisherRetry,
    /// An ack lost (`faults.lost-ack`).
    LostAck,
    /// `faults.crash-rate`: when and where the next crash strikes (under a seed).
    CrashRate,
    /// With faults anchored to events: whether this node's crash of `faults.crash` strikes at
    /// this await, before its time.
    Crash(Node),
    /// With faults anchored to events: whether `faults.crash-rate` crashes this orders replica
    /// at this await.
    RandomCrash(Node),
    /// A charge at the card processor (the payments service).
    Charge,
}

impl ChoiceOf {
    /// As a reader says it: "a delivery", "a lost ack", "the crash of tickets".
    pub fn name(self) -> std::borrow::Cow<'static, str> {
        let name = match self {
            ChoiceOf::Ready => "the ready set",
            ChoiceOf::Http => "an HTTP request",
            ChoiceOf::Db => "a database call",
            ChoiceOf::Publish => "a publish",
            ChoiceOf::Delivery => "a delivery",
            ChoiceOf::SlowHandler => "a slow handler",
            ChoiceOf::PublisherRetry => "a publisher retry",
            ChoiceOf::LostAck => "a lost ack",
            ChoiceOf::CrashRate => "a random crash",
            ChoiceOf::Crash(node) => return format!("the crash of {node}").into(),
            ChoiceOf::RandomCrash(node) => return format!("a random crash of {node}").into(),
            ChoiceOf::Charge => "a charge",
        };
        name.into()
    }

    fn code(self) -> u64 {
        match self {
            ChoiceOf::Ready => 1,
            ChoiceOf::Http => 2,
            ChoiceOf::Db => 3,
            ChoiceOf::Publish => 4,
            ChoiceOf::Delivery => 5,
            ChoiceOf::SlowHandler => 6,
            ChoiceOf::PublisherRetry => 7,
            ChoiceOf::LostAck => 8,
            ChoiceOf::CrashRate => 9,
            ChoiceOf::Crash(node) => 16 + node.process_index().map_or(0, |i| i as u64 + 1),
            ChoiceOf::RandomCrash(node) => 48 + node.process_index().map_or(0, |i| i as u64 + 1),
            ChoiceOf::Charge => 10,
        }
    }
}

impl serde::Serialize for ChoiceOf {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

/// A run's choices: how many, their fingerprint, and the ones that were not nominal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tape {
    /// Choices the run made.
    pub choices: u64,
    /// A hash of every choice's kind and number of options, in order.
    pub fingerprint: u64,
    /// The choices that were not option 0, as (index, option), by index.
    pub deviations: Vec<(u64, u64)>,
    /// Whether the run had its faults anchored to events, as an explored schedule has.
    pub anchored: bool,
}

/// A token that is not a tape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{token}` is not a tape token ({why}); a tape is the token a report prints as `tape:` (`ticketsim run ... --print-tape`)")]
pub struct BadToken {
    token: String,
    why: &'static str,
}

impl Tape {
    const PREFIX: &'static str = "t1";
    const ANCHORED: &'static str = "e1";

    /// The tape as a token.
    pub fn token(&self) -> String {
        let mut bytes = Vec::with_capacity(16 + 4 * self.deviations.len());
        put(&mut bytes, self.choices);
        put(&mut bytes, self.fingerprint);
        put(&mut bytes, self.deviations.len() as u64);
        let mut last = 0;
        for &(index, option) in &self.deviations {
            put(&mut bytes, index - last);
            put(&mut bytes, option);
            last = index;
        }
        let prefix = if self.anchored {
            Self::ANCHORED
        } else {
            Self::PREFIX
        };
        format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Read a token back.
    pub fn from_token(token: &str) -> Result<Tape, BadToken> {
        let bad = |why| BadToken {
            token: shorten(token),
            why,
        };
        let (anchored, body) = match (
            token.strip_prefix(Self::PREFIX),
            token.strip_prefix(Self::ANCHORED),
        ) {
            (Some(body), _) => (false, body),
            (None, Some(body)) => (true, body),
            (None, None) => return Err(bad("it does not start with t1 or e1")),
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| bad("it is not base64"))?;
        let mut at = 0;
        let next = |at: &mut usize| take(&bytes, at).ok_or_else(|| bad("it is cut short"));
        let choices = next(&mut at)?;
        let fingerprint = next(&mut at)?;
        let n = next(&mut at)?;
        if n > choices {
            return Err(bad("it deviates at more choices than it has"));
        }
        // Each deviation takes at least two bytes: a count beyond them is a broken token, not
        // an allocation to attempt.
        if n > (bytes.len() - at) as u64 / 2 {
            return Err(bad("it is cut short"));
        }
        let mut deviations = Vec::with_capacity(n as usize);
        let mut index = 0u64;
        for i in 0..n {
            let gap = next(&mut at)?;
            let option = next(&mut at)?;
            if (i > 0 && gap == 0) || option == 0 {
                return Err(bad("its deviations are not in order"));
            }
            index = index
                .checked_add(gap)
                .filter(|&x| x < choices)
                .ok_or_else(|| bad("a deviation lies past its last choice"))?;
            deviations.push((index, option));
        }
        if at != bytes.len() {
            return Err(bad("it has bytes after its end"));
        }
        Ok(Tape {
            choices,
            fingerprint,
            deviations,
            anchored,
        })
    }
}

/// At most 40 characters of a token, for an error message.
fn shorten(token: &str) -> String {
    match token.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &token[..i]),
        None => token.to_owned(),
    }
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// One LEB128 varint, as [`put`] writes it: the shortest encoding, within 64 bits.
fn take(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        if shift == 63 && byte > 1 {
            return None; // past 64 bits
        }
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            // A last byte of 0 after others is a padded encoding `put` never writes.
            return (byte != 0 || shift == 0).then_some(v);
        }
    }
    None
}

/// The running fingerprint of a sequence of choices.
#[derive(Clone, Copy, Debug, Default)]
pub struct Fingerprint(crate::sim::hash::StableHasher);

impl Fingerprint {
    /// Add a choice of `kind` about `of` among `options`.
    #[inline]
    pub fn add(&mut self, kind: ChoiceKind, of: ChoiceOf, options: u64) {
        use std::hash::Hasher;
        self.0.write_u64(kind.code() << 8 | of.code());
        self.0.write_u64(options);
    }

    /// The fingerprint so far.
    pub fn finish(&self) -> u64 {
        use std::hash::Hasher;
        self.0.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_as_its_tape() {
        let tape = Tape {
            choices: 45,
            fingerprint: 0xdead_beef_0123_4567,
            deviations: vec![(0, 2), (7, 1), (44, 1_000_000)],
            anchored: false,
        };
        let token = tape.token();
        assert!(token.starts_with("t1"));
        assert!(token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(Tape::from_token(&token), Ok(tape.clone()));
        let explored = Tape {
            anchored: true,
            ..tape
        };
        let token = explored.token();
        assert!(token.starts_with("e1"));
        assert_eq!(Tape::from_token(&token), Ok(explored));
        let nominal = Tape::default();
        assert_eq!(Tape::from_token(&nominal.token()), Ok(nominal));
    }

    #[test]
    fn a_broken_token_is_refused_with_why() {
        let token = Tape {
            choices: 10,
            fingerprint: 1,
            deviations: vec![(3, 1)],
            anchored: false,
        }
        .token();
        let why = |t: &str| Tape::from_token(t).unwrap_err().to_string();
        assert!(why("x1AAAA").contains("does not start with t1 or e1"));
        assert!(why("t1***").contains("not base64"));
        assert!(why(&token[..token.len() - 1]).contains("cut short"));
        // Ten choices, a deviation at index 12.
        let past = Tape {
            choices: 10,
            fingerprint: 1,
            deviations: vec![(12, 1)],
            anchored: false,
        }
        .token();
        assert!(why(&past).contains("past its last choice"));
        let mut longer = URL_SAFE_NO_PAD.decode(&token[2..]).unwrap();
        longer.push(0);
        let longer = format!("t1{}", URL_SAFE_NO_PAD.encode(longer));
        assert!(why(&longer).contains("after its end"));
        // Counts far beyond the token's bytes are refused, not allocated.
        assert!(why("t1gICAgICAgAIAgICAgICAgAI").contains("cut short"));
        assert!(why("t1gICAgICAgIAIAICAgICAgICACA").contains("cut short"));
        // An encoding past 64 bits, or padded, is not one `put` writes.
        let mut over = vec![0xff; 9];
        over.push(0x02);
        assert!(why(&format!("t1{}", URL_SAFE_NO_PAD.encode(over))).contains("cut short"));
        assert!(
            why(&format!("t1{}", URL_SAFE_NO_PAD.encode([0x80, 0x00, 0, 0]))).contains("cut short")
        );
    }
}
