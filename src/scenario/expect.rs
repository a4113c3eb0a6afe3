//! What a scenario expects (`[expect]`): claims per OCC mode, and the names of the invariants
//! and properties a claim can be about. The checks ([`crate::check`]) judge them; the names
//! live here because a scenario file spells them.

use crate::model::occ::Occ;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An invariant of the system (DESIGN §5), as expectations and reports name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Invariant {
    /// At most one order that reserves a ticket (status not cancelled) at any time.
    AtMostOneActiveOrder,
    /// At quiescence a ticket's `order_id` names the order reserving it, or is empty when no
    /// order does.
    OrderIdNamesActiveOrder,
    /// No edit of a ticket is accepted while it is reserved.
    NoEditOfReservedTicket,
    /// A replica's version of a ticket never goes backwards.
    VersionsNeverGoBack,
    /// At most one order of a ticket is ever completed (paid).
    TicketSoldAtMostOnce,
    /// A complete order is never cancelled, and at quiescence every order paid (and not
    /// refunded) is complete.
    PaidOrderNeverCancelled,
    /// The tickets service releases a ticket only on the cancellation of the order holding it.
    CancellationReleasesOnlyItsOrder,
    /// At quiescence every charge at the card processor has a payment record or was refunded.
    EveryChargeRecorded,
}

impl Invariant {
    /// Every invariant.
    pub const ALL: [Invariant; 8] = [
        Invariant::AtMostOneActiveOrder,
        Invariant::OrderIdNamesActiveOrder,
        Invariant::NoEditOfReservedTicket,
        Invariant::VersionsNeverGoBack,
        Invariant::TicketSoldAtMostOnce,
        Invariant::PaidOrderNeverCancelled,
        Invariant::CancellationReleasesOnlyItsOrder,
        Invariant::EveryChargeRecorded,
    ];

    /// The name scenario files and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Invariant::AtMostOneActiveOrder => "at-most-one-active-order",
            Invariant::OrderIdNamesActiveOrder => "order-id-names-active-order",
            Invariant::NoEditOfReservedTicket => "no-edit-of-reserved-ticket",
            Invariant::VersionsNeverGoBack => "versions-never-go-back",
            Invariant::TicketSoldAtMostOnce => "ticket-sold-at-most-once",
            Invariant::PaidOrderNeverCancelled => "paid-order-never-cancelled",
            Invariant::CancellationReleasesOnlyItsOrder => "cancellation-releases-only-its-order",
            Invariant::EveryChargeRecorded => "every-charge-recorded",
        }
    }
}

/// Something a scenario is meant to exercise; a run reports whether it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Property {
    /// A ticket's event was delivered before an event published earlier about the same ticket
    /// was first delivered.
    Reordering,
    /// A message was delivered again after its ack wait.
    Redelivery,
    /// The bus held a message twice.
    DuplicateDelivery,
    /// A conditional save failed its version check.
    VersionConflict,
    /// Two create-order requests for one ticket were between their is-reserved check and their
    /// insert at the same time.
    OrdersRaced,
    /// A crash dropped work in flight on the node it hit.
    CrashMidHandler,
    /// A replica crashed (or its process exited) after one of its listeners wrote to the
    /// database and before that listener acked: the write stays and the message is redelivered.
    CrashAfterWrite,
    /// A service's process exited on its own: an unhandled rejection under Node 15 and later,
    /// or its NATS client closed.
    ProcessExit,
}

impl Property {
    /// Every property.
    pub const ALL: [Property; 8] = [
        Property::Reordering,
        Property::Redelivery,
        Property::DuplicateDelivery,
        Property::VersionConflict,
        Property::OrdersRaced,
        Property::CrashMidHandler,
        Property::CrashAfterWrite,
        Property::ProcessExit,
    ];

    /// The name scenario files and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Property::Reordering => "reordering",
            Property::Redelivery => "redelivery",
            Property::DuplicateDelivery => "duplicate-delivery",
            Property::VersionConflict => "version-conflict",
            Property::OrdersRaced => "orders-raced",
            Property::CrashMidHandler => "crash-mid-handler",
            Property::CrashAfterWrite => "crash-after-write",
            Property::ProcessExit => "process-exit",
        }
    }
}

macro_rules! named_enum {
    ($t:ty, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                <$t>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        let names: Vec<&str> = <$t>::ALL.iter().map(|v| v.as_str()).collect();
                        format!("`{s}` is not {}: write one of {}", $what, names.join(", "))
                    })
            }
        }
    };
}
named_enum!(Invariant, "an invariant");
named_enum!(Property, "a property");

/// `[expect]`: what must hold, per OCC mode, and what every run must exercise. A mode without
/// an entry expects nothing.
///
/// ```toml
/// [expect]
/// off = "diverges-on-some-seed"
/// on = ["converges", "exercises-redelivery"]
/// dedup = "converges"
/// exercises = ["reordering"]   # in every mode
/// ```
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Expectations {
    /// With `--occ off`.
    #[serde(default, skip_serializing_if = "Claims::is_empty")]
    pub off: Claims,
    /// With `--occ on`.
    #[serde(default, skip_serializing_if = "Claims::is_empty")]
    pub on: Claims,
    /// With `--occ dedup`.
    #[serde(default, skip_serializing_if = "Claims::is_empty")]
    pub dedup: Claims,
    /// What runs in every mode must exercise (on some seed of a sweep).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exercises: Vec<Property>,
}

impl Expectations {
    /// Everything declared for `occ`: the mode's claims, then `exercises`.
    pub fn get(&self, occ: Occ) -> Vec<Claim> {
        let claims = match occ {
            Occ::Off => &self.off,
            Occ::On => &self.on,
            Occ::Dedup => &self.dedup,
        };
        let mut all = claims.0.clone();
        for &p in &self.exercises {
            if !all.contains(&Claim::Exercises(p)) {
                all.push(Claim::Exercises(p));
            }
        }
        all
    }

    /// Every property any mode must exercise: what a run looks for.
    pub fn properties(&self) -> Vec<Property> {
        let mut out: Vec<Property> = Occ::ALL
            .into_iter()
            .flat_map(|occ| self.get(occ))
            .filter_map(|c| match c {
                Claim::Exercises(p) => Some(p),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The claims of one mode: one string or a list of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Claims(pub Vec<Claim>);

impl Claims {
    /// Whether nothing is claimed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Claims;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an expectation or a list of expectations")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Claims, E> {
                s.parse().map(|c| Claims(vec![c])).map_err(E::custom)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Claims, A::Error> {
                let mut claims = Vec::new();
                while let Some(c) = seq.next_element::<Claim>()? {
                    if claims.contains(&c) {
                        return Err(serde::de::Error::custom(format!("names `{c}` twice")));
                    }
                    claims.push(c);
                }
                if claims.is_empty() {
                    return Err(serde::de::Error::custom(
                        "an empty list claims nothing: name at least one claim, or leave the key out",
                    ));
                }
                if let Some(other) = claims.iter().find(|c| {
                    matches!(
                        c,
                        Claim::DivergesOnSomeSeed | Claim::StuckOnSomeSeed | Claim::Violates(_)
                    )
                }) {
                    if claims.contains(&Claim::Converges) {
                        return Err(serde::de::Error::custom(format!(
                            "`converges` and `{other}` contradict each other: `converges` means every seed converges and breaks no invariant"
                        )));
                    }
                }
                Ok(Claims(claims))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// One thing a scenario expects of a mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Claim {
    /// Every seed converges and quiesces, and no invariant breaks. One run can refute it.
    Converges,
    /// Some seed of a sweep diverges.
    DivergesOnSomeSeed,
    /// Some seed of a sweep gets stuck.
    StuckOnSomeSeed,
    /// Some seed of a sweep breaks this invariant.
    Violates(Invariant),
    /// Some seed of a sweep exercises this property; a run that does not, says so.
    Exercises(Property),
}

impl Claim {
    /// Whether a single run can refute it (the others need a range of seeds).
    pub fn refutable_by_one_run(self) -> bool {
        self == Claim::Converges
    }
}

impl fmt::Display for Claim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Claim::Converges => f.write_str("converges"),
            Claim::DivergesOnSomeSeed => f.write_str("diverges-on-some-seed"),
            Claim::StuckOnSomeSeed => f.write_str("stuck-on-some-seed"),
            Claim::Violates(i) => write!(f, "violates-{i}-on-some-seed"),
            Claim::Exercises(p) => write!(f, "exercises-{p}"),
        }
    }
}

impl FromStr for Claim {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "converges" => return Ok(Claim::Converges),
            "diverges-on-some-seed" => return Ok(Claim::DivergesOnSomeSeed),
            "stuck-on-some-seed" => return Ok(Claim::StuckOnSomeSeed),
            _ => {}
        }
        if let Some(p) = s.strip_prefix("exercises-") {
            return p.parse().map(Claim::Exercises);
        }
        if let Some(rest) = s.strip_prefix("violates-") {
            let Some(i) = rest.strip_suffix("-on-some-seed") else {
                return Err(format!("`{s}`: write violates-<invariant>-on-some-seed"));
            };
            return i.parse().map(Claim::Violates);
        }
        Err(format!(
            "`{s}` is not an expectation: write converges, diverges-on-some-seed, \
             stuck-on-some-seed, violates-<invariant>-on-some-seed or exercises-<property>"
        ))
    }
}

serde_as_string!(Claim);

impl Serialize for Claim {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Claim {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invariant_and_property_names_round_trip() {
        for i in Invariant::ALL {
            assert_eq!(i.as_str().parse(), Ok(i));
            assert_eq!(serde_json::to_value(i).unwrap(), i.as_str());
        }
        for p in Property::ALL {
            assert_eq!(p.as_str().parse(), Ok(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        assert!("reorder"
            .parse::<Property>()
            .unwrap_err()
            .contains("reordering"));
    }
}
