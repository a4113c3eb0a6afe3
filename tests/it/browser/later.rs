//! The catalogue pages of the services the course adds after section 19, in Chromium: the
//! expiration service's Bull jobs, the payments service's copy of the orders, its charges and
//! payments, and the invariants they promise. Stepped through from the first step to the last
//! (the catalogue's test walks every page once, with [`WALK`]), each shows the expiration and
//! payments services as lanes, the payments database's copies and payments as documents, a
//! message that several services listen to as pending in each until each acks it, the job,
//! charge, crash and refund steps in their words, and each new invariant's check holding until
//! the step where it breaks.

use super::{breaks_at_its_button, Browser};
use serde_json::Value;

/// The later services' scenarios [`shows_the_later_services`] checks, in file order.
pub const SCENARIOS: [&str; 4] = [
    "cancel-completed-order",
    "charge-without-record",
    "payment-after-expiration",
    "stale-expiration",
];

/// Every view of the open page, every step, first to last: how many steps (`rows`), the
/// marked sentences without their word (`bad`), and what the first view showed (`seen`): each
/// side's lane titles and arrow labels, every document, every sentence (side, mark, word and
/// text), the most queue groups one message was pending in at once, and the documents that
/// say they differ from their source. It ends on the first view's first step.
pub const WALK: &str = r#"(() => {
  const q = (s) => [...document.querySelectorAll(s)];
  // Each mark's word; the cure applied is "CURED" where it writes nothing (a refund).
  const words = { stale: ['STALE WRITE'], refused: ['REFUSED'], applied: ['APPLIED IN ORDER', 'CURED'], fault: ['FAULT'] };
  const bad = [];
  let rows = 0;
  const seen = { lanes: {}, labels: {}, docs: [], said: [], groups: 0, differs: [] };
  const add = (list, v) => { if (!list.includes(v)) list.push(v); };
  const views = q('nav [data-view]');
  for (const [v, button] of (views.length ? views : [null]).entries()) {
    if (button) button.click();
    for (const side of v === 0 ? ['race', 'cure'] : []) {
      seen.lanes[side] = q(`[data-side=${side}] .lane-title`).map((t) => t.textContent);
      seen.labels[side] = q(`[data-side=${side}] svg .label`).map((t) => t.textContent);
    }
    for (let n = 0; n < 5000; n++) {
      rows++;
      for (const s of q('[data-part=now] .sentence')) {
        const w = s.dataset.word;
        const ok = words[s.dataset.mark] ? words[s.dataset.mark].includes(w) && s.textContent.includes(w) : !w;
        if (!ok) bad.push(s.textContent);
      }
      for (const side of v === 0 ? ['race', 'cure'] : []) {
        for (const s of q(`[data-side=${side}] [data-part=now] .sentence`)) {
          if (s.dataset.mark !== 'none') add(seen.said, [side, s.dataset.mark, s.dataset.word, s.textContent].join('|'));
        }
        for (const d of q(`[data-side=${side}] [data-doc]`)) {
          add(seen.docs, d.dataset.doc);
          if (d.querySelector('[data-differs]')) add(seen.differs, d.dataset.doc);
        }
        const groups = {};
        for (const m of q(`[data-side=${side}] [data-message]`)) {
          (groups[m.dataset.message] = groups[m.dataset.message] || []).push(m.dataset.group);
        }
        for (const g of Object.values(groups)) seen.groups = Math.max(seen.groups, new Set(g).size);
      }
      const [, at, of] = /^Step (\d+) of (\d+)/.exec(document.querySelector('#where').textContent);
      if (at === of) break;
      document.querySelector('[data-go=next]').click();
    }
  }
  if (views.length) views[0].click();
  document.querySelector('[data-go=first]').click();
  return { rows, bad, seen };
})()"#;

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

/// Whether a sentence of `side` with `mark` and `word` (empty for a plain step) says `text`.
fn said(seen: &Value, side: &str, mark: &str, word: &str, text: &str) -> bool {
    strings(&seen["said"]).iter().any(|s| {
        let parts: Vec<&str> = s.splitn(4, '|').collect();
        parts[..3] == [side, mark, word] && parts[3].contains(text)
    })
}

/// For one of [`SCENARIOS`] (else false), with its page open at the first step of its seed's
/// view and `seen` what [`WALK`] saw of that view: its lanes, documents, steps and checks.
pub fn shows_the_later_services(
    name: &str,
    seen: &Value,
    browser: &mut Browser,
    session: &str,
) -> bool {
    if !SCENARIOS.contains(&name) {
        return false;
    }
    let lanes = strings(&seen["lanes"]["race"]);
    let docs = strings(&seen["docs"]);
    let labels = strings(&seen["labels"]["race"]);
    let has_doc = |prefix: &str| docs.iter().any(|d| d.starts_with(prefix));
    let plain = |side, text| said(seen, side, "plain", "", text);
    assert!(plain("race", "creates ticket"), "{name}: {seen}");
    let (check, broken, at) = match name {
        "stale-expiration" => {
            assert!(lanes.contains(&"expiration"), "{name}: {lanes:?}");
            assert!(labels.iter().any(|l| l.starts_with("job ")), "{labels:?}");
            assert!(plain("race", "expiration queues job"), "{seen}");
            assert!(plain("race", "falls due: order"), "{seen}");
            (
                "cancellation-releases-only-its-order",
                "by the cancellation of order",
                "free again",
            )
        }
        "payment-after-expiration" => {
            for lane in ["expiration", "payments", "payments database"] {
                assert!(lanes.contains(&lane), "{name}: {lane}: {lanes:?}");
            }
            // The payments database's copy of each order, and its payments.
            assert!(has_doc("payments/orders/"), "{docs:?}");
            assert!(has_doc("payments/payments/"), "{docs:?}");
            let differs = strings(&seen["differs"]);
            assert!(
                differs.iter().any(|d| d.starts_with("payments/orders/")),
                "a copy that differs from the orders database's says so: {seen}"
            );
            // order:created goes to the tickets, expiration and payments services.
            assert_eq!(seen["groups"], 3, "{seen}");
            assert!(plain("race", "payments charges the buyer"), "{seen}");
            assert!(plain("race", "saves payment"), "{seen}");
            assert!(
                said(seen, "cure", "applied", "CURED", "refunds charge"),
                "{seen}"
            );
            (
                "ticket-sold-at-most-once",
                "sold 2 times",
                "as complete: it is paid",
            )
        }
        "cancel-completed-order" => {
            assert!(lanes.contains(&"payments"), "{name}: {lanes:?}");
            assert!(
                said(seen, "cure", "refused", "REFUSED", "a status guard"),
                "{seen}"
            );
            (
                "paid-order-never-cancelled",
                "was complete (paid) and was cancelled",
                "as cancelled",
            )
        }
        "charge-without-record" => {
            assert!(lanes.contains(&"payments database"), "{name}: {lanes:?}");
            assert!(
                said(seen, "race", "fault", "FAULT", "payments crashes"),
                "{seen}"
            );
            (
                "every-charge-recorded",
                "has no payment record",
                "charges the buyer",
            )
        }
        _ => unreachable!(),
    };
    let now = breaks_at_its_button(browser, session, check, broken);
    assert!(now.contains(at), "{name}: {check} breaks at: {now}");
    true
}
