//! The demo's page in a real browser: headless Chromium, driven over its DevTools pipe
//! ([`cdp`]). The page of did-it-work's seed 4 (the demo's own) loads offline with no console
//! error; stepping to the stale write shows the orders database's stale price and the check
//! failing while the cure's side shows its refusal; the keys step; the smallest failing run
//! loads from its button and from a link; a screenshot is not blank, in light and in dark; and
//! every catalogue scenario's page loads and steps through every step to its end without an
//! error; and the later services' pages show their lanes, documents, steps and checks
//! ([`later`]).
//!
//! Without Chromium these tests fail, saying how to install it: they never pass unrun.

mod cdp;
mod later;

use crate::support::*;
use cdp::Browser;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use ticketsim::harness::demo::{Demo, DEFAULT_SEED};
use ticketsim::harness::shrink::Budget;
use ticketsim::harness::view::demo_page;

/// Where the tests write their pages: cargo's scratch folder for integration tests.
fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The demo's page of `name` at the demo's default seed, written in `dir` of [`scratch`].
fn page_of(name: &str, dir: &str) -> PathBuf {
    let demo = Demo::build(
        &scenario(name),
        DEFAULT_SEED,
        Budget {
            jobs: 1,
            ..Budget::default()
        },
        Path::new("reports/demo"),
        &|_| {},
    )
    .unwrap();
    let dir = scratch().join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.html"));
    std::fs::write(&path, demo_page(&demo).unwrap()).unwrap();
    path
}

/// did-it-work's page: the pinned seed 4.
fn did_it_work() -> &'static Path {
    static PAGE: OnceLock<PathBuf> = OnceLock::new();
    PAGE.get_or_init(|| page_of("did-it-work", "pinned"))
}

/// A browser with `page` open at `fragment`, `width` × `height`, and its session; the page has
/// run its script.
fn opened(page: &Path, fragment: &str, width: u32, height: u32) -> (Browser, String) {
    let mut browser = Browser::start();
    let session = browser.open(width, height);
    browser.load(&session, page, fragment);
    let ready = browser.eval(&session, "document.documentElement.dataset.ready");
    assert_eq!(ready, "true", "the page's script ran to its end");
    (browser, session)
}

/// What the page shows now, for the ticket followed (ticket 1 in did-it-work's views).
const SHOWN: &str = r#"(() => {
  const q = (s) => document.querySelector(s);
  const text = (s) => q(s) ? q(s).textContent : null;
  const data = (s, k) => q(s) ? q(s).dataset[k] : null;
  return {
    where: text('#where'),
    range: q('#step-range').value,
    heading: text('.view-heading'),
    hash: location.hash,
    announce: text('#announce'),
    raceMark: data('[data-side=race] [data-part=now] .sentence', 'mark'),
    raceNow: text('[data-side=race] [data-part=now] .sentence'),
    raceOrdersPrice: text('[data-side=race] tr[data-doc="orders/tickets/1"] [data-field=price] b'),
    raceTicketsPrice: text('[data-side=race] tr[data-doc="tickets/tickets/1"] [data-field=price] b'),
    raceStale: data('[data-side=race] [data-check=stale]', 'status'),
    raceStaleText: text('[data-side=race] [data-check=stale]'),
    raceCopies: data('[data-side=race] [data-check=copies]', 'status'),
    cureStale: data('[data-side=cure] [data-check=stale]', 'status'),
    cureMessages: [...document.querySelectorAll('[data-side=cure] [data-message]')]
      .map((li) => [li.dataset.message, li.dataset.status, li.textContent]),
  };
})()"#;

fn shown(browser: &mut Browser, session: &str) -> Value {
    browser.eval(session, SHOWN)
}

fn click(browser: &mut Browser, session: &str, selector: &str) {
    let found = browser.eval(
        session,
        &format!("(() => {{ const b = document.querySelector({selector:?}); if (b) b.click(); return !!b; }})()"),
    );
    assert_eq!(found, true, "{selector} is on the page");
}

fn no_errors(browser: &Browser, session: &str, what: &str) {
    let errors = browser.errors(session);
    assert!(
        errors.is_empty(),
        "{what}: console errors:\n{}",
        errors.join("\n")
    );
}

#[test]
fn the_demo_page_loads_offline_with_no_console_error() {
    let page = did_it_work();
    let size = std::fs::metadata(page).unwrap().len();
    assert!(
        size < 250_000,
        "small enough to attach to an issue: {size} bytes"
    );
    let (mut browser, session) = opened(page, "", 1280, 900);
    // Every view, every step: the script folds every record without an error.
    let views = browser.eval(
        &session,
        r#"(() => {
          const counts = [];
          for (const b of document.querySelectorAll('nav [data-view]')) {
            b.click();
            let n = 1;
            for (;;) {
              const [, at, of] = /^Step (\d+) of (\d+)/.exec(document.querySelector('#where').textContent);
              if (at === of || n > 10000) break;
              document.querySelector('[data-go=next]').click();
              n += 1;
            }
            counts.push([b.dataset.view, n]);
          }
          return counts;
        })()"#,
    );
    let ids: Vec<&str> = views
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v[0].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["seed", "smallest", "schedule"], "{views}");
    no_errors(&browser, &session, "did-it-work's page");
    let url = format!("file://{}", page.display());
    let requests = browser.requests(&session);
    assert!(
        !requests.is_empty() && requests.iter().all(|r| *r == url),
        "the page loads nothing but itself: {requests:?}"
    );
}

#[test]
fn stepping_to_the_stale_write_shows_the_stale_price_and_the_cures_refusal() {
    let (mut browser, session) = opened(did_it_work(), "", 1280, 900);
    // Step on with the Next button until the race's step is the stale write.
    let mut steps = 1;
    let mut now = shown(&mut browser, &session);
    while now["raceMark"] != "stale" {
        assert_eq!(now["raceStale"], "holds", "no stale write before it: {now}");
        click(&mut browser, &session, "[data-go=next]");
        steps += 1;
        now = shown(&mut browser, &session);
        assert!(steps < 100, "no stale write found: {now}");
    }
    assert!(now["where"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Step {steps} of ")));
    // The race: the orders database holds the stale price 10, the tickets database 15, and
    // the check fails, in words.
    assert_eq!(now["raceOrdersPrice"], "10", "{now}");
    assert_eq!(now["raceTicketsPrice"], "15", "{now}");
    assert_eq!(now["raceStale"], "fails", "{now}");
    let stale_text = now["raceStaleText"].as_str().unwrap();
    assert!(
        stale_text.contains("FAILS") && stale_text.contains("saves price 10 over 15"),
        "{stale_text}"
    );
    assert!(
        now["raceNow"].as_str().unwrap().contains("STALE WRITE"),
        "{now}"
    );
    assert_eq!(now["raceCopies"], "fails", "{now}");
    // The cure, at the same step: the early update to 15 is refused and waits, unacked, for
    // its redelivery; no stale write.
    assert_eq!(now["cureStale"], "holds", "{now}");
    let refused: Vec<&Value> = now["cureMessages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m[1] == "refused")
        .collect();
    assert_eq!(refused.len(), 1, "{now}");
    assert_eq!(refused[0][0], "ticket:updated #243", "{now}");
    assert!(
        refused[0][2]
            .as_str()
            .unwrap()
            .contains("REFUSED by orders-3"),
        "{now}"
    );
    // The jump button lands on the same step.
    click(&mut browser, &session, "[data-go=first]");
    click(&mut browser, &session, "[data-jump=stale]");
    assert_eq!(shown(&mut browser, &session)["where"], now["where"]);
    no_errors(&browser, &session, "stepping");
}

#[test]
fn the_keys_step_through_the_story() {
    let (mut browser, session) = opened(did_it_work(), "", 1280, 900);
    let step = |b: &mut Browser| -> String {
        let w = shown(b, &session)["where"].as_str().unwrap().to_owned();
        w.split(" \u{b7} ").next().unwrap().to_owned()
    };
    assert!(step(&mut browser).starts_with("Step 1 of "));
    let total = step(&mut browser).rsplit(' ').next().unwrap().to_owned();
    for _ in 0..3 {
        browser.press(&session, "ArrowRight");
    }
    assert_eq!(step(&mut browser), format!("Step 4 of {total}"));
    browser.press(&session, "ArrowLeft");
    assert_eq!(step(&mut browser), format!("Step 3 of {total}"));
    let now = shown(&mut browser, &session);
    assert_eq!(now["range"], "2", "the slider follows");
    assert_eq!(now["hash"], "#seed/3", "the address names the step");
    let said = now["announce"].as_str().unwrap();
    assert!(
        said.starts_with("Step 3 of ") && said.contains("Without OCC (--occ off): tickets"),
        "{said}"
    );
    browser.press(&session, "End");
    assert_eq!(step(&mut browser), format!("Step {total} of {total}"));
    browser.press(&session, "Home");
    assert_eq!(step(&mut browser), format!("Step 1 of {total}"));
    // On the slider its own arrow keys step once, not twice.
    browser.eval(&session, "document.querySelector('#step-range').focus()");
    browser.press(&session, "ArrowRight");
    assert_eq!(step(&mut browser), format!("Step 2 of {total}"));
    no_errors(&browser, &session, "keys");
}

#[test]
fn the_smallest_failing_run_loads_from_its_button_and_its_link() {
    let (mut browser, session) = opened(did_it_work(), "", 1280, 900);
    click(&mut browser, &session, "nav [data-view=smallest]");
    let now = shown(&mut browser, &session);
    assert!(now["heading"].as_str().unwrap().starts_with("The smallest run that fails the same way: 1 ticket, 2 price updates, 1 replica, seed 199"), "{now}");
    assert_eq!(now["hash"], "#smallest/1");
    click(&mut browser, &session, "[data-jump=stale]");
    let stale = shown(&mut browser, &session);
    assert_eq!(stale["raceOrdersPrice"], "10", "{stale}");
    assert_eq!(stale["raceStale"], "fails", "{stale}");
    let refused = stale["cureMessages"].as_array().unwrap();
    assert!(
        refused
            .iter()
            .any(|m| m[0] == "ticket:updated #2" && m[1] == "refused"),
        "{stale}"
    );
    // The address is a link to that step: opened afresh, it shows the same.
    let hash = stale["hash"].as_str().unwrap().to_owned();
    let linked = browser.open(1280, 900);
    browser.load(&linked, did_it_work(), &hash);
    let again = shown(&mut browser, &linked);
    assert_eq!(
        (&again["heading"], &again["where"]),
        (&stale["heading"], &stale["where"])
    );
    no_errors(&browser, &session, "the smallest run");
}

/// The screenshot's size and how much of it differs from its first pixel, measured by the
/// browser's own PNG decoder.
const PIXELS: &str = r#"new Promise((done) => {
  const img = new Image();
  img.onload = () => {
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    let other = 0;
    for (let i = 0; i < d.length; i += 4) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]) > 48) other++;
    }
    done({ width: c.width, height: c.height, colours: colours.size, share: other / (d.length / 4), first: [d[0], d[1], d[2]] });
  };
  img.src = 'data:image/png;base64,PNG';
})"#;

/// The contrast ratio of the body's text on its background (WCAG's formula).
const CONTRAST: &str = r#"(() => {
  const rgb = (s) => s.match(/\d+(\.\d+)?/g).slice(0, 3).map(Number);
  const lum = (c) => { const [r, g, b] = c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const s = getComputedStyle(document.body);
  const a = lum(rgb(s.color)), b = lum(rgb(s.backgroundColor));
  return [(Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), b];
})()"#;

#[test]
fn a_screenshot_is_not_blank_in_light_or_dark_and_printing_hides_the_controls() {
    use base64::Engine as _;
    let (mut browser, session) = opened(did_it_work(), "#seed/14", 1280, 900);
    let analysis = browser.open(400, 300);
    for scheme in ["light", "dark"] {
        browser.call(
            Some(&session),
            "Emulation.setEmulatedMedia",
            serde_json::json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        );
        let contrast = browser.eval(&session, CONTRAST);
        let (ratio, background) = (contrast[0].as_f64().unwrap(), contrast[1].as_f64().unwrap());
        assert!(ratio >= 7.0, "{scheme}: text contrast {ratio:.1}:1");
        assert_eq!(
            background < 0.2,
            scheme == "dark",
            "{scheme}: background luminance {background}"
        );
        let png = browser.screenshot(&session);
        std::fs::write(scratch().join(format!("did-it-work-{scheme}.png")), &png).unwrap();
        let data = base64::engine::general_purpose::STANDARD.encode(&png);
        let pixels = browser.eval(&analysis, &PIXELS.replace("PNG", &data));
        assert_eq!(
            (pixels["width"].as_u64(), pixels["height"].as_u64()),
            (Some(1280), Some(900))
        );
        assert!(
            pixels["colours"].as_u64().unwrap() >= 16,
            "{scheme}: {pixels}"
        );
        assert!(
            pixels["share"].as_f64().unwrap() >= 0.04,
            "{scheme}: mostly one colour: {pixels}"
        );
    }
    browser.call(
        Some(&session),
        "Emulation.setEmulatedMedia",
        serde_json::json!({ "media": "print" }),
    );
    let printed = browser.eval(
        &session,
        "[getComputedStyle(document.querySelector('#controls')).display, getComputedStyle(document.querySelector('.story table')).display, document.querySelectorAll('.story tbody tr').length]",
    );
    assert_eq!(printed[0], "none", "no controls on paper");
    assert_eq!(printed[1], "table", "the whole story on paper");
    assert!(printed[2].as_u64().unwrap() > 10);
    no_errors(&browser, &session, "screenshots");
}

/// Every catalogue scenario's page, every view, every step: no error, every marked sentence
/// with its word; each invariant broken in the race holds until its button's step (shown on
/// double-reservation and on the later services' pages, whose lanes, documents and steps
/// [`later`] checks from what the walk saw of the seed's view).
#[test]
fn every_catalogue_page_loads_and_steps_to_its_end_with_every_mark_in_words() {
    let mut browser = Browser::start();
    let session = browser.open(1280, 900);
    let mut later = Vec::new();
    // The pages are built on a thread of their own while the browser walks the one before.
    let (built, pages) = std::sync::mpsc::sync_channel(1);
    let builder = std::thread::spawn(move || {
        for file in catalogue_files() {
            let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
            let page = page_of(&name, "catalogue");
            if built.send((name, page)).is_err() {
                break;
            }
        }
    });
    for (name, page) in pages {
        browser.load(&session, &page, "");
        let walked = browser.eval(&session, later::WALK);
        let data = crate::view::page_data(&std::fs::read_to_string(&page).unwrap());
        let rows: usize = data["views"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["rows"].as_array().unwrap().len())
            .sum();
        assert_eq!(
            walked["rows"].as_u64(),
            Some(rows as u64),
            "{name}: every step of every view"
        );
        assert_eq!(
            walked["bad"],
            serde_json::json!([]),
            "{name}: a mark without its word"
        );
        if name == "double-reservation" {
            breaks_at_its_button(
                &mut browser,
                &session,
                "at-most-one-active-order",
                "reserved by 2 orders at once",
            );
        }
        if later::shows_the_later_services(&name, &walked["seen"], &mut browser, &session) {
            later.push(name.clone());
        }
        no_errors(&browser, &session, &name);
    }
    builder.join().unwrap();
    assert_eq!(
        later,
        later::SCENARIOS,
        "the later services' scenarios are in the catalogue"
    );
}

/// An invariant's status at every step, on the page open in `session` at its first step: the
/// race's check `id` holds until the step where it breaks, which its button goes to, and there
/// it fails, saying `said`. Returns the race's sentence at that step.
fn breaks_at_its_button(browser: &mut Browser, session: &str, id: &str, said: &str) -> String {
    let race = format!("[data-side=race] [data-check={id}]");
    let status = format!("document.querySelector('{race}').dataset.status");
    assert_eq!(browser.eval(session, &status), "holds", "{id} at first");
    click(browser, session, &format!("[data-jump={id}]"));
    assert_eq!(
        browser.eval(session, &status),
        "fails",
        "{id} at its button"
    );
    let text = browser.eval(
        session,
        &format!("document.querySelector('{race}').textContent"),
    );
    assert!(text.as_str().unwrap().contains(said), "{id}: {text}");
    let now = shown(browser, session)["raceNow"]
        .as_str()
        .unwrap()
        .to_owned();
    click(browser, session, "[data-go=prev]");
    assert_eq!(browser.eval(session, &status), "holds", "{id}: not before");
    now
}

/// The page draws what the trace holds, not a list it knows: a node, a database and a record
/// kind it has never seen (as the expiration and payments services will add) show as lanes, a
/// stored document, a pending message and a plain labelled step.
#[test]
fn an_unknown_node_database_and_record_kind_show_as_lanes_documents_and_steps() {
    let html = std::fs::read_to_string(did_it_work()).unwrap();
    let mut data = crate::view::page_data(&html);
    let view = &mut data["views"][0];
    let n = view["sides"][0]["records"].as_array().unwrap().len();
    let steps = view["sides"][0]["steps"].as_array().unwrap().len();
    let t = 900_000_000u64;
    let added = [
        serde_json::json!({"t_us": t, "node": "expiration", "kind": "timer-fired", "ticket": 1, "order": 9}),
        serde_json::json!({"t_us": t + 1, "node": "payments", "kind": "db.write", "db": "payments",
            "collection": "payments", "by": "POST /api/payments", "payment": 5, "order": 9, "ticket": 1}),
        serde_json::json!({"t_us": t + 2, "node": "payments", "kind": "publish",
            "subject": "payment:created", "seq": 1, "ticket": 1, "order": 9}),
    ];
    for (i, record) in added.into_iter().enumerate() {
        let kind = record["kind"].as_str().unwrap().to_owned();
        let race = &mut view["sides"][0];
        race["records"].as_array_mut().unwrap().push(record);
        race["steps"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({
            "r": n + i, "t": t + i as u64, "time": "900 000.000 ms", "actor": "someone",
            "text": format!("does {kind}"), "label": kind, "mark": "plain"}));
        view["rows"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!([steps + i, null]));
    }
    let json = serde_json::to_string(&data)
        .unwrap()
        .replace('<', "\\u003c");
    let start = html.find(r#"id="ticketsim-data">"#).unwrap() + r#"id="ticketsim-data">"#.len();
    let end = start + html[start..].find("</script>").unwrap();
    let page = scratch().join("unknown.html");
    std::fs::write(&page, format!("{}{json}{}", &html[..start], &html[end..])).unwrap();
    let (mut browser, session) = opened(&page, "", 1280, 900);
    browser.press(&session, "End");
    let seen = browser.eval(
        &session,
        r#"(() => ({
          lanes: [...document.querySelectorAll('[data-side=race] .lane-title')].map((t) => t.textContent),
          docs: [...document.querySelectorAll('[data-side=race] [data-doc]')].map((r) => r.dataset.doc),
          messages: [...document.querySelectorAll('[data-side=race] [data-message]')].map((m) => m.dataset.message),
          now: document.querySelector('[data-side=race] .sentence').textContent,
        }))()"#,
    );
    let has = |key: &str, what: &str| {
        seen[key]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v.as_str() == Some(what))
    };
    for lane in [
        "expiration",
        "payments",
        "payments database",
        "orders database",
    ] {
        assert!(has("lanes", lane), "lane {lane}: {seen}");
    }
    assert!(has("docs", "payments/payments/5"), "{seen}");
    assert!(has("messages", "payment:created #1"), "{seen}");
    assert!(
        seen["now"].as_str().unwrap().ends_with("does publish"),
        "{seen}"
    );
    no_errors(&browser, &session, "unknown kinds");
}
