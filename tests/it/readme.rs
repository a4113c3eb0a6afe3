//! The documents' examples are what the program prints: every output block in README.md and
//! docs/ that follows "`ticketsim ...` prints:" (or opens with `$ ticketsim ...`) is checked
//! against a fresh run of that command, so the documents cannot go stale again.
//!
//! A line `…` in a block stands for any number of lines; a block may show the middle of an
//! output. Commands run in a scratch folder holding a copy of `scenarios/` and `reports/`, so
//! the files they write (the demo's, shrink's) land there, under the same relative names.

use crate::support::*;
use std::path::Path;
use std::process::Command;

/// Each example of `doc`: (line of the block, the command's arguments, the shown lines).
fn examples(doc: &str) -> Vec<(usize, Vec<String>, Vec<String>)> {
    let text = std::fs::read_to_string(root().join(doc)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut pending: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(cmd) = introduced_command(line) {
            pending = Some(cmd);
        }
        if line.starts_with("```text") {
            let start = i + 1;
            let mut end = start;
            while !lines[end].starts_with("```") {
                end += 1;
            }
            let mut block: Vec<String> = lines[start..end].iter().map(|l| l.to_string()).collect();
            let mut command = pending.take();
            if let Some(first) = block.first() {
                if let Some(cmd) = first.strip_prefix("$ ") {
                    command = Some(cmd.to_owned());
                    block.remove(0);
                }
            }
            if let Some(cmd) = command {
                let args: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
                let concrete = args
                    .iter()
                    .all(|a| !a.chars().any(|c| c.is_ascii_uppercase()));
                if args.first().map(String::as_str) == Some("ticketsim") && concrete {
                    out.push((start, args[1..].to_vec(), block));
                }
            }
            i = end;
        } else if line.starts_with("```") {
            pending = None;
        }
        i += 1;
    }
    out
}

/// The command of a sentence ending "`ticketsim ...` prints:".
fn introduced_command(line: &str) -> Option<String> {
    let end = line.find("` prints:")?;
    let start = line[..end].rfind('`')? + 1;
    let cmd = &line[start..end];
    cmd.starts_with("ticketsim").then(|| cmd.to_owned())
}

/// Whether `shown` appears in `actual`, in order and contiguous, `…` lines matching any run of
/// lines, and anything before and after.
fn shows(shown: &[String], actual: &[&str]) -> bool {
    fn from(shown: &[String], actual: &[&str]) -> bool {
        match shown.split_first() {
            None => true,
            Some((first, rest)) if first.trim() == "…" => {
                (0..=actual.len()).any(|skip| from(rest, &actual[skip..]))
            }
            Some((first, rest)) => {
                actual
                    .first()
                    .is_some_and(|a| a.trim_end() == first.trim_end())
                    && from(rest, &actual[1..])
            }
        }
    }
    (0..=actual.len()).any(|skip| from(shown, &actual[skip..]))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn every_shown_output_is_what_the_command_prints() {
    let scratch = tempfile::tempdir().unwrap();
    copy_dir(&root().join("scenarios"), &scratch.path().join("scenarios"));
    copy_dir(&root().join("reports"), &scratch.path().join("reports"));
    copy_dir(
        &root().join("tests/fixtures"),
        &scratch.path().join("tests/fixtures"),
    );
    let mut checked = 0;
    let mut stale = Vec::new();
    for doc in ["README.md", "docs/ci.md", "docs/scenarios.md"] {
        for (line, args, shown) in examples(doc) {
            let out = Command::new(bin())
                .current_dir(scratch.path())
                .args(&args)
                .output()
                .unwrap();
            let printed = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let actual: Vec<&str> = printed.lines().collect();
            if !shows(&shown, &actual) {
                stale.push(format!(
                    "{doc}:{line}: `ticketsim {}` no longer prints what is shown; it prints:\n{printed}",
                    args.join(" ")
                ));
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "found only {checked} examples");
    assert!(stale.is_empty(), "{}", stale.join("\n\n"));
}

#[test]
fn the_matcher_lets_an_ellipsis_stand_for_lines() {
    let shown = |s: &[&str]| s.iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let actual = ["a", "b", "c", "d"];
    assert!(shows(&shown(&["b", "c"]), &actual));
    assert!(shows(&shown(&["a", "…", "d"]), &actual));
    assert!(!shows(&shown(&["a", "c"]), &actual));
    assert!(!shows(&shown(&["d", "…", "a"]), &actual));
}
