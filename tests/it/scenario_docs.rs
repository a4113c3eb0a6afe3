//! `docs/scenarios.md` documents every key a scenario file accepts, and its examples parse.
//!
//! The reference is written by hand, the schema (`src/scenario/schema.rs`) by code, and the two
//! drift apart silently: a key added to a struct works at once and nobody reads about it. So the
//! keys are not listed here either. They are discovered from the schema itself by probing its
//! deserializer: every struct denies unknown fields, and serde's error for an unknown field
//! (`zzz`) lists every field the struct accepts. Each field is then probed as a table
//! (`[path.field]`) and as an array of tables (`[[path.field]]`): if either answers "unknown field
//! `zzz`", it is a struct and is explored in turn; otherwise it is a leaf. Every leaf's dotted
//! path (`latency.http.min-us`, `workload.price-chain.updates`) must appear in the reference in
//! backticks. A second test keeps the reference's examples, and the bundled scenarios, parsing.

use crate::support::root;
use std::path::Path;
use ticketsim::scenario::ScenarioError;
use ticketsim::Scenario;

/// The name no schema uses, placed in each table to make serde list the fields it accepts.
const PROBE: &str = "zzz";

/// The reference under test.
const DOC: &str = "docs/scenarios.md";

/// How a table is written in TOML.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Form {
    /// `[a.b]`, or an inline table.
    Table,
    /// `[[a.b]]`: an array of tables.
    Array,
}

/// One key of a path to a table, and how that table is written.
type Seg = (String, Form);

/// The TOML document that puts `zzz = 1` inside the table at `path`: a `[[...]]` header for each
/// array of tables on the way (so the next header lands in its first element), then the table's
/// own header.
fn probe_document(path: &[Seg]) -> String {
    let mut doc = String::new();
    for depth in 1..=path.len() {
        let (_, form) = &path[depth - 1];
        let dotted = dotted(&path[..depth]);
        if *form == Form::Array {
            doc.push_str(&format!("[[{dotted}]]\n"));
        } else if depth == path.len() {
            doc.push_str(&format!("[{dotted}]\n"));
        }
    }
    doc.push_str(&format!("{PROBE} = 1\n"));
    doc
}

fn dotted(path: &[Seg]) -> String {
    path.iter()
        .map(|(key, _)| key.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// The key the parser names for the probe inside the table at `path`, as scenario errors spell
/// it: `workload.price-chain[0].zzz`.
fn probe_key(path: &[Seg]) -> String {
    let mut key = String::new();
    for (name, form) in path {
        key.push_str(name);
        if *form == Form::Array {
            key.push_str("[0]");
        }
        key.push('.');
    }
    key.push_str(PROBE);
    key
}

/// The fields the table at `path` accepts, or `None` when it is not a table of fixed fields (a
/// leaf: a string, a number, a list of values...).
fn accepted_fields(path: &[Seg]) -> Option<Vec<String>> {
    let doc = probe_document(path);
    let err: ScenarioError = Scenario::parse(&doc, Path::new("probe.toml"))
        .expect_err("a probe is never a valid scenario (`name` and `workload` are missing)");
    let unknown = format!("unknown field `{PROBE}`");
    let rest = err.message.strip_prefix(&unknown)?;
    assert_eq!(
        err.key.as_deref(),
        Some(probe_key(path).as_str()),
        "the probe landed in another table than meant:\n{doc}\n{err}"
    );
    Some(parse_expected_fields(rest, &err.message))
}

/// serde's list of accepted fields after "unknown field `zzz`", in each of its spellings:
/// ", there are no fields", ", expected `a`", ", expected `a` or `b`", and
/// ", expected one of `a`, `b`, `c`".
fn parse_expected_fields(rest: &str, message: &str) -> Vec<String> {
    let unquote = |s: &str| -> String {
        s.strip_prefix('`')
            .and_then(|s| s.strip_suffix('`'))
            .unwrap_or_else(|| panic!("unexpected field list in serde's error: {message}"))
            .to_owned()
    };
    if rest == ", there are no fields" {
        Vec::new()
    } else if let Some(list) = rest.strip_prefix(", expected one of ") {
        list.split(", ").map(unquote).collect()
    } else if let Some(list) = rest.strip_prefix(", expected ") {
        list.split(" or ").map(unquote).collect()
    } else {
        panic!("unexpected spelling of serde's unknown-field error: {message}")
    }
}

/// Every leaf key of the table at `path`, as dotted paths, depth first in schema order.
fn leaves(path: &mut Vec<Seg>, fields: Vec<String>, out: &mut Vec<String>) {
    for field in fields {
        let mut nested = None;
        for form in [Form::Table, Form::Array] {
            path.push((field.clone(), form));
            if let Some(inner) = accepted_fields(path) {
                nested = Some(inner);
                break;
            }
            path.pop();
        }
        match nested {
            Some(inner) => {
                leaves(path, inner, out);
                path.pop();
            }
            None => {
                let mut full = dotted(path);
                if !full.is_empty() {
                    full.push('.');
                }
                full.push_str(&field);
                out.push(full);
            }
        }
    }
}

/// Every key the scenario schema accepts, discovered from the deserializer.
fn schema_keys() -> Vec<String> {
    let top = accepted_fields(&[]).expect("the top level denies unknown fields");
    let mut out = Vec::new();
    leaves(&mut Vec::new(), top, &mut out);
    out
}

fn read_doc() -> String {
    std::fs::read_to_string(root().join(DOC))
        .unwrap_or_else(|e| panic!("{DOC} is the scenario file reference: {e}"))
}

#[test]
fn every_key_the_schema_accepts_is_documented() {
    let keys = schema_keys();
    for known in [
        "name",
        "topology.orders-replicas",
        "tickets-service.publish-on-reserve",
        "latency.delivery.slow-max-us",
        "faults.slow-handler.max-ms",
        "faults.crash.restart-after-ms",
        "workload.price-chain.updates",
        "workload.reserve.cancel-after-ms",
        "expect.exercises",
    ] {
        assert!(
            keys.iter().any(|k| k == known),
            "the probe did not discover `{known}`; it found:\n{}",
            keys.join("\n")
        );
    }
    assert!(
        keys.len() >= 40,
        "the probe found only {} keys, too few to be the whole schema:\n{}",
        keys.len(),
        keys.join("\n")
    );

    let doc = read_doc();
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "{DOC} does not document {} of the {} keys scenario files accept. Add each, in \
         backticks with its full dotted path, to its table's section with its type, default \
         and range:\n{}",
        missing.len(),
        keys.len(),
        missing
            .iter()
            .map(|k| format!("  `{k}`"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The ```toml blocks of a Markdown text, in order.
fn toml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match &mut current {
            None if line.trim() == "```toml" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim() == "```" => blocks.extend(current.take()),
            Some(block) => {
                block.push_str(line);
                block.push('\n');
            }
        }
    }
    assert!(current.is_none(), "{DOC} has an unclosed ```toml block");
    blocks
}

#[test]
fn the_documented_example_and_every_bundled_scenario_parse() {
    let doc = read_doc();
    let blocks = toml_blocks(&doc);
    let minimal = blocks
        .first()
        .unwrap_or_else(|| panic!("{DOC} opens with a minimal example in a ```toml block"));
    if let Err(e) = Scenario::parse(minimal, Path::new("docs/scenarios.md (minimal example)")) {
        panic!("the minimal example in {DOC} does not parse:\n{e}");
    }
    // Other blocks that are whole scenarios (they start with `name = `) parse too; the rest
    // are fragments of one table.
    for (i, block) in blocks.iter().enumerate().skip(1) {
        let first = block
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'));
        if first.is_some_and(|l| l.starts_with("name =")) {
            let file = format!("docs/scenarios.md (```toml block {})", i + 1);
            if let Err(e) = Scenario::parse(block, Path::new(&file)) {
                panic!("an example in {DOC} does not parse:\n{e}");
            }
        }
    }

    let mut parsed = 0;
    for entry in std::fs::read_dir(root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            if let Err(e) = Scenario::load(&path) {
                panic!("a bundled scenario does not parse:\n{e}");
            }
            parsed += 1;
        }
    }
    assert!(parsed > 0, "no scenarios/*.toml found");
}
