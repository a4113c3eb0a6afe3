//! `ticketsim view` and the demo's page, without a browser: the same bytes every time, one
//! self-contained file, the data it carries (the race beside its cure, aligned; the later
//! services' records the story tells, even those that name only an order), and the command's
//! files and errors. tests/it/browser.rs opens the pages in Chromium.

use crate::support::*;
use serde_json::Value;
use std::path::Path;
use ticketsim::harness::demo::{Demo, DEFAULT_SEED};
use ticketsim::harness::shrink::Budget;
use ticketsim::harness::view::{demo_page, view_page, Run};
use ticketsim::model::node::Node;
use ticketsim::present::html::{self, Page, Side, View};
use ticketsim::sim::record::{Event, Record};
use ticketsim::sim::tape::Tape;
use ticketsim::sim::trace::Trace;
use ticketsim::Occ;
use ticketsim::Scenario;

/// The tape of explore-u2r2's first failing schedule without OCC (README, "Exploring every
/// schedule of a small scope").
const U2R2_TAPE: &str = "t1HZmfpNjR7uqF3gECBQEG3As";

/// The data a page carries.
pub fn page_data(html: &str) -> Value {
    let start = html
        .find(r#"<script type="application/json" id="ticketsim-data">"#)
        .expect("the page carries its data")
        + r#"<script type="application/json" id="ticketsim-data">"#.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("the data is JSON")
}

fn budget(jobs: usize) -> Budget {
    Budget {
        jobs,
        ..Budget::default()
    }
}

fn marks(side: &Value) -> Vec<&str> {
    side["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["mark"].as_str().unwrap())
        .collect()
}

#[test]
fn the_demo_page_is_the_same_bytes_on_any_number_of_threads_and_self_contained() {
    let build = |jobs| {
        let demo = Demo::build(
            &scenario("did-it-work"),
            DEFAULT_SEED,
            budget(jobs),
            Path::new("reports/demo"),
            &|_| {},
        )
        .unwrap();
        demo_page(&demo).unwrap()
    };
    let html = build(1);
    assert_eq!(html, build(2));
    // One file: nothing to fetch. The only address in it is the SVG namespace's name.
    for fetch in [
        "<link",
        " src=",
        "@import",
        "url(http",
        "url(//",
        "https://",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(!html.contains(fetch), "the page holds {fetch:?}");
    }
    assert_eq!(
        html.matches("http://").count(),
        html.matches("http://www.w3.org/2000/svg").count()
    );
    let data = page_data(&html);
    let views = data["views"].as_array().unwrap();
    let ids: Vec<&str> = views.iter().map(|v| v["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["seed", "smallest", "schedule"]);
    for view in views {
        let sides = view["sides"].as_array().unwrap();
        assert_eq!(sides.len(), 2, "{}: the race beside its cure", view["id"]);
        assert!(marks(&sides[0]).contains(&"stale"), "{}", view["id"]);
        assert!(marks(&sides[1]).contains(&"refused"), "{}", view["id"]);
        // Every step of each side is on exactly one row, in order.
        for (s, side) in sides.iter().enumerate() {
            let on_rows: Vec<u64> = view["rows"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|row| row[s].as_u64())
                .collect();
            let n = side["steps"].as_array().unwrap().len() as u64;
            assert_eq!(on_rows, (0..n).collect::<Vec<_>>(), "{}", view["id"]);
        }
    }
    // The seed's view: the race and the cure share their first steps, on the same rows.
    let seed = &views[0];
    let first_rows = &seed["rows"].as_array().unwrap()[..5];
    assert!(first_rows
        .iter()
        .enumerate()
        .all(|(i, r)| r[0] == i && r[1] == i));
    assert_eq!(seed["sides"][0]["title"], "Without OCC (--occ off)");
    assert_eq!(seed["sides"][1]["title"], "With OCC (--occ on)");
    assert_eq!(
        seed["sides"][0]["reproduce"],
        "ticketsim run scenarios/did-it-work.toml --seed 4 --occ off"
    );
    // The smallest failing run carries its scenario file.
    assert_eq!(views[1]["attachment"]["name"], "did-it-work.minimal.toml");
}

#[test]
fn a_tape_is_viewed_beside_the_same_schedule_with_the_cure() {
    let s = Scenario::load(&root().join("tests/fixtures/explore-u2r2.toml")).unwrap();
    let tape = Tape::from_token(U2R2_TAPE).unwrap();
    let page = |tape: &Tape| {
        view_page(
            &s,
            &Run::Tape(tape.clone()),
            Occ::Off,
            budget(1),
            Path::new("/nonexistent/x.html"),
            &|_| {},
        )
        .unwrap()
    };
    let html = page(&tape);
    assert_eq!(html, page(&tape), "the same bytes every time");
    let data = page_data(&html);
    let view = &data["views"][0];
    assert_eq!(view["sides"].as_array().unwrap().len(), 2, "{view}");
    assert!(marks(&view["sides"][0]).contains(&"stale"));
    assert!(marks(&view["sides"][1]).contains(&"refused"));
    assert_eq!(view["sides"][0]["outcome_kind"], "diverged");
    assert_eq!(view["sides"][1]["outcome_kind"], "converged");
}

#[test]
fn view_writes_its_page_and_never_overwrites_one_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("race.html");
    let out = out.to_str().unwrap();
    let args = [
        "view",
        "reports/demo/did-it-work.minimal.toml",
        "--seed",
        "199",
        "--out",
        out,
    ];
    let (code, stdout, stderr) = ticketsim(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with(&format!("wrote {out} (")), "{stdout}");
    let html = std::fs::read_to_string(out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    let data = page_data(&html);
    assert_eq!(
        data["made_by"],
        "ticketsim view reports/demo/did-it-work.minimal.toml --seed 199 --occ off"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the page is written"
    );
    let (code, _, stderr) = ticketsim(&args);
    assert_eq!(code, 2);
    assert!(
        stderr
            .contains("exists already: pass --force to overwrite it, or --out to write elsewhere"),
        "{stderr}"
    );
    std::fs::write(out, "mine").unwrap();
    let (code, _, _) = ticketsim(&args);
    assert_eq!(code, 2);
    assert_eq!(
        std::fs::read_to_string(out).unwrap(),
        "mine",
        "left as it was"
    );
    let forced: Vec<&str> = args.iter().copied().chain(["--force"]).collect();
    let (code, _, stderr) = ticketsim(&forced);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(std::fs::read_to_string(out).unwrap(), html);
}

#[test]
fn view_refuses_bad_input_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.html");
    let out = out.to_str().unwrap();
    for (args, said) in [
        (
            vec!["view", "scenarios/did-it-work.toml", "--out", out],
            "--seed",
        ),
        (
            vec![
                "view",
                "scenarios/price-burst.toml",
                "--scoped",
                "--tape",
                U2R2_TAPE,
                "--out",
                out,
            ],
            "has no [explore] table",
        ),
        (
            vec![
                "view",
                "tests/fixtures/explore-u2r2.toml",
                "--tape",
                "nonsense",
                "--out",
                out,
            ],
            "is not a tape token",
        ),
        (
            vec![
                "view",
                "tests/fixtures/explore-u2r2.toml",
                "--tape",
                U2R2_TAPE,
                "--occ",
                "dedup",
                "--out",
                out,
            ],
            "this tape no longer fits",
        ),
        (
            vec![
                "view",
                "reports/demo/did-it-work.minimal.toml",
                "--seed",
                "1",
                "--out",
                "reports/demo/did-it-work.minimal.toml",
            ],
            "is the scenario file",
        ),
        (
            vec!["view", "no/such/file.toml", "--seed", "1", "--out", out],
            "no/such/file.toml",
        ),
    ] {
        let (code, stdout, stderr) = ticketsim(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stdout.is_empty(), "{args:?}: {stdout}");
        assert!(stderr.contains(said), "{args:?}: {stderr}");
    }
    assert!(!Path::new(out).exists(), "nothing written");
}

/// The steps of `side` whose record is of `kind`, as (record, text).
fn told<'a>(side: &'a Value, kind: &str) -> Vec<(&'a Value, &'a str)> {
    side["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let record = &side["records"][s["r"].as_u64().unwrap() as usize];
            (record, s["text"].as_str().unwrap())
        })
        .filter(|(record, _)| record["kind"] == kind)
        .collect()
}

/// The later services' records that carry only an order, not its ticket (a payment saved, a
/// job stalled), reach the page when the story tells them: each is its step's record.
#[test]
fn records_keyed_only_by_an_order_reach_the_page_when_the_story_tells_them() {
    let demo = Demo::build(
        &scenario("payment-after-expiration"),
        DEFAULT_SEED,
        budget(1),
        Path::new("reports/demo"),
        &|_| {},
    )
    .unwrap();
    let data = page_data(&demo_page(&demo).unwrap());
    let race = &data["views"][0]["sides"][0];
    let payments: Vec<_> = told(race, "db.write")
        .into_iter()
        .filter(|(record, _)| record["collection"] == "payments")
        .collect();
    assert!(!payments.is_empty(), "{race}");
    for (record, text) in payments {
        assert!(record.get("ticket").is_none() && record["order"].is_u64());
        assert!(text.starts_with("saves payment"), "{text}");
    }
    assert_eq!(data["compared"], serde_json::json!(["tickets"]));
    // A job stalls when the expiration process dies while the job runs: a run that recorded
    // one (its record inserted after the job's start, as the process's death records it).
    let s = Scenario::parse(
        r#"
        name = "stalled"
        description = "one ticket ordered once, its expiration job stalled"
        [topology]
        orders-replicas = 1
        expiration-service = true
        [[workload.reserve]]
        tickets = 1
        price = 20
        "#,
        Path::new("stalled.toml"),
    )
    .unwrap();
    let run = ticketsim::run(&s, 0, Occ::Off);
    let mut trace = Trace::with_capacity(run.trace.records().len() + 1);
    for record in run.trace.records() {
        trace.push(record);
        if let Event::JobActive { job, order, .. } = record.event {
            trace.push(&Record {
                t_us: record.t_us,
                node: Node::Faults,
                event: Event::JobStalled {
                    job,
                    order,
                    retry_at_ms: Some(record.t_us / 1000 + 30_000),
                },
            });
        }
    }
    let side = || Side {
        title: "Without OCC (--occ off)".to_owned(),
        trace: &trace,
        report: &run.report,
        replicas: 1,
        reproduce: "ticketsim run stalled.toml --seed 0 --occ off".to_owned(),
    };
    let page = Page {
        title: "stalled".to_owned(),
        description: String::new(),
        made_by: "a test".to_owned(),
        views: vec![View {
            id: "seed".to_owned(),
            name: "Seed 0".to_owned(),
            heading: "Seed 0".to_owned(),
            about: Vec::new(),
            ticket: 1,
            race: side(),
            cure: Err("no cure beside it".to_owned()),
            attachment: None,
        }],
    };
    let data = page_data(&html::render(&page));
    let race = &data["views"][0]["sides"][0];
    let stalled = told(race, "job.stalled");
    assert_eq!(stalled.len(), 1, "{race}");
    let (record, text) = stalled[0];
    assert!(
        record.get("ticket").is_none() && record["order"] == 1,
        "{record}"
    );
    assert!(text.contains("stalls, and runs again at"), "{text}");
    let step = race["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["text"] == text)
        .unwrap();
    assert_eq!(step["mark"], "fault");
}
