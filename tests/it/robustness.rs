//! Never crash, never lose a file, never run unbounded: what happens when the output cannot be
//! written, an input is not a small regular file, a knob is absurd, or an output would land on
//! an input.

use crate::support::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use ticketsim::Occ;

/// Run the binary from the crate root with `args`, stdout going to `stdout`; (exit code,
/// stderr). Fails the test if it has not ended within 20 s.
fn with_stdout(args: &[&str], stdout: Stdio, close_early: bool) -> (i32, String) {
    let mut child = Command::new(bin())
        .current_dir(root())
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if close_early {
        // The reader goes away before anything is written, as `| head -0` would.
        drop(child.stdout.take());
    }
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(20) {
            child.kill().unwrap();
            panic!("ticketsim {args:?} did not end within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let demo_out = tempfile::tempdir().unwrap();
    let demo_dir = demo_out.path().to_str().unwrap();
    let commands: [&[&str]; 4] = [
        &[
            "run",
            "scenarios/did-it-work.toml",
            "--seed",
            "1",
            "--occ",
            "on",
        ],
        &[
            "sweep",
            "scenarios/price-burst.toml",
            "--seeds",
            "0..3",
            "--json",
        ],
        &["sweep", "scenarios/price-burst.toml", "--seeds", "0..3"],
        &["demo", "scenarios/did-it-work.toml", "--out", demo_dir],
    ];
    for args in commands {
        let (code, stderr) = with_stdout(args, Stdio::piped(), true);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(code, 0, "{args:?} ends as it would have: {stderr}");
    }
}

#[test]
fn an_output_that_cannot_be_written_is_an_error_with_exit_2() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full exists on Linux");
    let args = ["run", "scenarios/did-it-work.toml", "--seed", "1"];
    let (code, stderr) = with_stdout(&args, Stdio::from(full), false);
    assert_eq!(code, 2, "{stderr}");
    // The help too: clap would print it and exit 0 whatever became of it.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let (help_code, help_stderr) = with_stdout(&["--help"], Stdio::from(full), false);
    assert_eq!(help_code, 2, "{help_stderr}");
    assert!(
        stderr.contains("error: cannot write the output: No space left on device"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn only_small_regular_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success(), "mkfifo is part of coreutils");
    let big = dir.path().join("big.toml");
    std::fs::write(&big, "#".repeat(2 << 20)).unwrap();
    let cases = [
        (vec!["run", "/dev/zero"], "not a regular file"),
        (vec!["run", fifo.to_str().unwrap()], "not a regular file"),
        (
            vec!["run", big.to_str().unwrap()],
            "larger than 1048576 bytes",
        ),
        (vec!["merge", "/dev/zero"], "not a regular file"),
        (
            vec!["sweep", "--check", "--reports", "/dev"],
            "cannot read the baseline",
        ),
    ];
    for (args, says) in cases {
        let (code, stderr) = with_stdout(&args, Stdio::null(), false);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

#[test]
fn absurd_knobs_are_refused() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["sweep", "--jobs", "5000"],
            "must be from 1 to 256 worker threads, not 5000",
        ),
        // A sweep's runs (their seed lists stay in memory) and its simulated requests (its
        // time) are bounded per process; sharding splits a bigger one.
        (
            &["sweep", "--seeds", "0..400000"],
            "this sweep makes 26400000 runs; one process makes at most 10000000: narrow --seeds, or split the sweep with --shard K/N",
        ),
        (
            &["sweep", "--seeds", "0..18446744073709551615"],
            "more than a sweep can number",
        ),
        (
            &[
                "shrink",
                "scenarios/did-it-work.toml",
                "--seed",
                "4",
                "--budget",
                "99999999999",
            ],
            "99999999999 is not in 1..=10000000000",
        ),
        (
            &[
                "shrink",
                "scenarios/did-it-work.toml",
                "--seed",
                "4",
                "--occ",
                "off",
                "--search",
                "99999999",
            ],
            "99999999 is not in 1..=100000",
        ),
        (
            &[
                "shrink",
                "scenarios/did-it-work.toml",
                "--seed",
                "4",
                "--occ",
                "off",
                "--search",
                "0",
            ],
            "0 is not in 1..=100000",
        ),
    ];
    for (args, says) in cases {
        let (code, _, stderr) = ticketsim(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    // The course's script with 20,000 chains sends 60,000 requests: 600,000 seeds of it in one
    // mode, even a third of them, is more than one process simulates.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    let text = std::fs::read_to_string(root().join("scenarios/did-it-work.toml")).unwrap();
    std::fs::write(
        &big,
        text.replace("\ntickets = 200\n", "\ntickets = 20000\n"),
    )
    .unwrap();
    let big = big.to_str().unwrap();
    let (code, _, stderr) = ticketsim(&[
        "sweep",
        big,
        "--seeds",
        "0..600000",
        "--occ",
        "off",
        "--shard",
        "1/3",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("this sweep simulates 12000000000 requests in this shard"),
        "{stderr}"
    );
    // Every duration a scenario sets is bounded, like limits.sim-time-ms: at most a day.
    for fault in [
        r#"crash = [{ node = "orders-1", at-ms = 1, restart-after-ms = 18446744073709551615 }]"#,
        r#"partition = [{ node = "orders-1", at-ms = 1, for-ms = 86400001 }]"#,
        r#"heal-at-ms = 10
        crash-rate = { mean-interval-ms = 5, restart-after-ms = 100000000 }"#,
    ] {
        let text = format!(
            "name = \"x\"\ndescription = \"x\"\n[faults]\n{fault}\n[[workload.create-tickets]]\ncount = 1\nprice = 1\n"
        );
        let error = ticketsim::Scenario::parse(&text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("must be at most 86400000 ms (a day)"),
            "{error}"
        );
    }
}

#[test]
fn the_trace_is_written_as_the_run_goes_and_never_over_the_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trace.jsonl");
    let (code, stdout, stderr) = ticketsim(&[
        "run",
        "scenarios/price-burst.toml",
        "--seed",
        "3",
        "--occ",
        "off",
        "--json",
        "--trace",
        path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    // Streamed line by line, it is what a kept trace writes, and the report is the same.
    let kept = ticketsim::run(&scenario("price-burst"), 3, Occ::Off);
    let mut expected = Vec::new();
    kept.trace.write_jsonl(&mut expected).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), expected);
    assert_eq!(stdout.trim_end(), kept.report.to_json().trim_end());
    // The scenario file itself is refused as the trace's file, and left as it was.
    let copy = dir.path().join("copy.toml");
    std::fs::copy(root().join("scenarios/price-burst.toml"), &copy).unwrap();
    let before = std::fs::read(&copy).unwrap();
    let copy = copy.to_str().unwrap();
    let (code, _, stderr) = ticketsim(&["run", copy, "--seed", "1", "--trace", copy]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is the scenario file"), "{stderr}");
    assert_eq!(std::fs::read(copy).unwrap(), before);
}

#[test]
fn two_scenarios_that_would_share_a_baseline_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("price-burst.toml");
    std::fs::copy(root().join("scenarios/price-burst.toml"), &other).unwrap();
    let (code, _, stderr) = ticketsim(&[
        "sweep",
        "scenarios/price-burst.toml",
        other.to_str().unwrap(),
        "--seeds",
        "0..2",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("scenarios/price-burst.toml and ")
            && stderr.contains("would share the baseline reports/price-burst.baseline.toml"),
        "{stderr}"
    );
}

#[test]
fn logs_are_plain_when_piped_and_madsim_is_quiet() {
    for filter in ["warn", "debug"] {
        let out = Command::new(bin())
            .current_dir(root())
            .args(["run", "scenarios/price-burst.toml", "--seed", "1"])
            .env("RUST_LOG", filter)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(
            !stderr.contains('\u{1b}'),
            "{filter}: colour codes in a pipe"
        );
        assert!(
            !stderr.contains("std HashMap will not be deterministic"),
            "{filter}: {stderr:.300}"
        );
    }
}

#[test]
fn merge_refuses_shards_that_ran_one_file_with_different_settings() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("burst.toml");
    let original = std::fs::read_to_string(root().join("scenarios/price-burst.toml")).unwrap();
    let shard = |k: &str, text: &str| {
        std::fs::write(&file, text).unwrap();
        let (code, json, stderr) = ticketsim(&[
            "sweep",
            file.to_str().unwrap(),
            "--seeds",
            "0..4",
            "--shard",
            k,
            "--json",
        ]);
        assert!(code < 2, "{stderr}");
        let path = dir.path().join(format!("shard-{}.json", &k[..1]));
        std::fs::write(&path, json).unwrap();
        path
    };
    let a = shard("1/2", &original);
    let b = shard("2/2", &original.replace("price = 10", "price = 11"));
    let (code, _, stderr) = ticketsim(&["merge", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("with other settings than shard 1 did"),
        "{stderr}"
    );
    // The same settings merge, whatever the comments.
    let b = shard("2/2", &format!("# a comment\n{original}"));
    let (code, _, stderr) = ticketsim(&["merge", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert!(code < 2, "{stderr}");
}

/// The error a scenario named `name` (the inside of a TOML string) with `body` after its
/// workload gets, or `None`.
fn refusal(name: &str, body: &str) -> Option<String> {
    let text = format!(
        "name = \"{name}\"\ndescription = \"x\"\n[[workload.create-tickets]]\ncount = 1\nprice = 1\n{body}"
    );
    ticketsim::Scenario::parse(&text, Path::new("x.toml"))
        .err()
        .map(|e| e.to_string())
}

#[test]
fn loose_input_is_refused_with_its_line_and_key() {
    // A name is a file name: only safe characters.
    for bad in [
        "../evil",
        "a/b",
        "a b",
        "",
        ".hidden",
        "-flag",
        "x\\ny",
        "nul\\u0000",
    ] {
        let error = refusal(bad, "").unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert!(
            error.starts_with("x.toml:1:8: key `name`: must be 1 to 64 letters"),
            "{error}"
        );
    }
    assert_eq!(refusal("did-it-work_2.v1", ""), None);
    // A list of values where a table is meant.
    let cases = [
        (
            "[latency]\nhttp = [1000, 3000]",
            "x.toml:7:9: key `latency.http`",
        ),
        (
            "[faults]\ncrash = [[\"tickets\", 1, 1]]",
            "x.toml:7:10: key `faults.crash`",
        ),
    ];
    for (body, at) in cases {
        let error = refusal("x", body).unwrap();
        assert!(
            error.starts_with(at) && error.contains("must be a table of named keys"),
            "{error}"
        );
    }
    // A workload times the deliveries a message may take is bounded: no run for hours.
    let text = "name = \"x\"\ndescription = \"x\"\n[limits]\ndeliveries-per-message = 10000\n[[workload.price-chain]]\ntickets = 100000\nprice = 1\nupdates = [2]\n";
    let error = ticketsim::Scenario::parse(text, Path::new("x.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with("x.toml:4:26: key `limits.deliveries-per-message`")
            && error.contains("lower this to 500"),
        "{error}"
    );
    // Wrong types are said in the scenario's words, not serde's.
    for body in [
        "[faults]\nslow-handler = \"x\"",
        "[faults]\ncrash = \"tickets\"",
        "[latency]\nhttp = 5",
    ] {
        let error = refusal("x", body).unwrap();
        assert!(error.starts_with("x.toml:7:"), "{error}");
        assert!(
            !error.contains("struct")
                && !error.contains("sequence")
                && !error.contains("invalid type"),
            "{error}"
        );
        assert!(
            error.contains("expected a table") || error.contains("expected a list"),
            "{error}"
        );
    }
    // Claims that say nothing, or contradict each other, or repeat.
    let cases = [
        ("[expect]\non = []", "an empty list claims nothing"),
        (
            "[expect]\non = [\"converges\", \"diverges-on-some-seed\"]",
            "`converges` and `diverges-on-some-seed` contradict each other",
        ),
        (
            "[expect]\noff = [\"converges\", \"violates-at-most-one-active-order-on-some-seed\"]",
            "contradict each other",
        ),
        (
            "[expect]\ndedup = [\"converges\", \"converges\"]",
            "names `converges` twice",
        ),
    ];
    for (body, says) in cases {
        let error = refusal("x", body).unwrap();
        assert!(error.starts_with("x.toml:7:"), "{error}");
        assert!(error.contains(says), "{error}");
    }
}

#[test]
fn printed_commands_paste_into_a_shell_and_say_how_to_run_them_here() {
    let dir = tempfile::tempdir().unwrap();
    let spaced = dir.path().join("my scenario's copy.toml");
    std::fs::copy(root().join("scenarios/price-burst.toml"), &spaced).unwrap();
    let (_, stdout, stderr) = ticketsim(&["run", spaced.to_str().unwrap(), "--seed", "3"]);
    let quoted = format!(
        "reproduce: ticketsim run '{}' --seed 3 --occ on",
        spaced.display().to_string().replace('\'', "'\\''")
    );
    assert!(stdout.contains(&quoted), "{stdout}");
    // Launched by its path, not as `ticketsim` from the PATH: it says what `ticketsim` is here.
    assert!(
        stderr.contains(&format!(
            "note: the commands above start with `ticketsim`; launched this way it is {}",
            bin()
        )),
        "{stderr}"
    );
    // JSON is for tools: no note.
    let (_, _, stderr) = ticketsim(&["run", "scenarios/price-burst.toml", "--seed", "3", "--json"]);
    assert_eq!(stderr, "");
}

#[test]
fn shrink_without_occ_takes_the_first_mode_that_fails() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("min.toml");
    let out = out.to_str().unwrap();
    let (code, stdout, stderr) = ticketsim(&[
        "shrink",
        "scenarios/did-it-work.toml",
        "--seed",
        "4",
        "--out",
        out,
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("ticketsim shrink · did-it-work · seed 4 · occ off\n"),
        "{stdout}"
    );
    let (code, _, stderr) = ticketsim(&[
        "shrink",
        "scenarios/updated-before-created.toml",
        "--seed",
        "4",
        "--out",
        out,
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("converges with seed 4 in every mode"),
        "{stderr}"
    );
}

#[test]
fn shrinking_stops_at_its_budget_the_same_way_on_any_number_of_threads() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("min.toml");
    let out = out.to_str().unwrap();
    let shrink = |jobs: &str, extra: &[&str]| {
        let mut args = vec![
            "shrink",
            "scenarios/did-it-work.toml",
            "--seed",
            "4",
            "--occ",
            "off",
            "--jobs",
            jobs,
            "--out",
            out,
        ];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = ticketsim(&args);
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    // The course's script sends 600 requests; a smaller scenario may take 300 of the 3,000.
    let one = shrink("1", &["--budget", "3000", "--json"]);
    assert_eq!(one, shrink("2", &["--budget", "3000", "--json"]));
    let json: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(json["budget_cut_short"], true, "{one}");
    let spent = json["requests_simulated"].as_u64().unwrap();
    assert!(spent > 0 && spent <= 3000, "{one}");
    let text = shrink("2", &["--budget", "3000"]);
    assert!(
        text.contains(&format!(
            "The budget cut shrinking short after {spent} simulated requests; a larger --budget may shrink it further."
        )),
        "{text}"
    );
    // The default budget is far more than the course's script needs.
    let json: serde_json::Value = serde_json::from_str(&shrink("2", &["--json"])).unwrap();
    assert_eq!(json["budget_cut_short"], false);
    assert!(json["requests_simulated"].as_u64().unwrap() > 3000);
    let (code, _, stderr) = ticketsim(&[
        "shrink",
        "scenarios/did-it-work.toml",
        "--seed",
        "4",
        "--budget",
        "0",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--budget"), "{stderr}");
}

#[test]
fn a_run_cut_off_by_the_time_limit_says_what_held_it_up() {
    // orders-1 is paused from 5 ms for 100 s, past the 3 s limit.
    let text = r#"
        name = "held"
        description = "a pause outlasts the time limit"
        limits = { sim-time-ms = 3000 }
        faults = { pause = [{ node = "orders-1", at-ms = 5, for-ms = 100000 }] }
        [[workload.price-chain]]
        tickets = 5
        price = 5
        updates = [10]
    "#;
    let s = ticketsim::Scenario::parse(text, Path::new("held.toml")).unwrap();
    let report = ticketsim::run_report(&s, 1, Occ::On);
    let rendered = report.render(&s);
    let line = rendered
        .lines()
        .find(|l| l.contains("stuck: time limit"))
        .unwrap_or_else(|| panic!("{rendered}"));
    assert!(line.contains("time limit of 3000 ms reached"), "{line}");
    assert!(line.contains("at the end orders-1 paused"), "{line}");
    assert!(line.contains("(held by orders-1)"), "{line}");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(
        json["violations"],
        serde_json::json!([]),
        "a limit is not a violation"
    );
    let v = &json["why_stuck"][0];
    assert_eq!(v["kind"], "time-limit");
    assert_eq!(v["held"][0]["node"], "orders-1");
    assert_eq!(v["held"][0]["why"], "paused");
}

#[test]
fn the_demo_refuses_a_workload_whose_traces_it_could_not_keep() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    std::fs::write(
        &big,
        "name = \"big\"\ndescription = \"x\"\n[[workload.price-chain]]\ntickets = 20000\nprice = 1\nupdates = [2]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = ticketsim(&[
        "demo",
        big.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("sends 40000 requests; the demo keeps both runs' whole traces"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written");
}
