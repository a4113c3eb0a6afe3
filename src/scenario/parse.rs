//! Reading a scenario file: TOML into the schema, then the limits, with every error naming the
//! file, the line and column, and the key (`workload.price-chain[0].tickets`), and showing the
//! offending line with a caret under the value. Never a panic, never a silent default for a
//! typo: unknown keys are errors.

use crate::scenario::input::{read_text, SCENARIO_MAX_BYTES};
use crate::scenario::limits::{Invalid, Seg};
use crate::scenario::schema::Scenario;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A scenario that could not be loaded: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line and column, when the problem has a place in the file.
    pub position: Option<(usize, usize)>,
    /// The key, as a path (`workload.price-chain[0].tickets`), when one is concerned.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
    /// The offending source line and a caret under the span, when there is a position.
    pub snippet: Option<String>,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.position {
            write!(f, ":{line}:{col}")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(snippet) = &self.snippet {
            write!(f, "\n{snippet}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

impl Scenario {
    /// Read and validate a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = read_text(path, SCENARIO_MAX_BYTES).map_err(|e| ScenarioError {
            file: path.to_owned(),
            position: None,
            key: None,
            message: format!("cannot read the scenario file: {e}"),
            snippet: None,
        })?;
        Self::parse(&text, path)
    }

    /// Parse and validate scenario text; `file` names it in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Scenario, ScenarioError> {
        reject_positional(text, file)?;
        let mut scenario: Scenario = from_toml(text, file)?;
        scenario.source = file.to_owned();
        if let Err(invalid) = scenario.validate() {
            return Err(invalid.into_error(text, file));
        }
        Ok(scenario)
    }
}

impl Invalid {
    /// The error, pointing at the key in `text`.
    pub(crate) fn into_error(self, text: &str, file: &Path) -> ScenarioError {
        let span = key_span(text, &self.path);
        located_error(text, file, span, Some(self.path_string()), self.message)
    }
}

/// Deserialize a TOML document into `T`; a syntax error, an unknown key or a wrong type becomes
/// an error naming `file`, the line and column, and the key.
pub(crate) fn from_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    file: &Path,
) -> Result<T, ScenarioError> {
    let de = toml::Deserializer::parse(text)
        .map_err(|e| located_error(text, file, e.span(), None, first_line(e.message())))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = Some(e.path().to_string()).filter(|k| k != ".");
        let inner = e.into_inner();
        located_error(text, file, inner.span(), key, first_line(inner.message()))
    })
}

fn located_error(
    text: &str,
    file: &Path,
    span: Option<Range<usize>>,
    key: Option<String>,
    message: String,
) -> ScenarioError {
    let located = span.map(|span| locate(text, span));
    ScenarioError {
        file: file.to_owned(),
        position: located.as_ref().map(|l| l.0),
        key,
        message,
        snippet: located.map(|l| l.1),
    }
}

/// The keys whose value is a list of plain values (prices, claims, properties); every other list
/// in a scenario is a list of tables.
const LISTS_OF_VALUES: [&str; 7] = [
    "updates",
    "switches",
    "price-updates",
    "exercises",
    "off",
    "on",
    "dedup",
];

/// Refuse a list of values where a table (or a list of tables) is meant: serde would read
/// `http = [1000, 3000]` as `{ min-us = 1000, max-us = 3000 }` by position, and
/// `crash = [["tickets", 1, 1]]` likewise; a scenario says what each value is.
fn reject_positional(text: &str, file: &Path) -> Result<(), ScenarioError> {
    let Ok(root) = toml::de::DeTable::parse(text) else {
        return Ok(()); // not TOML: reading it says where and why
    };
    let mut path = Vec::new();
    check_table(text, file, root.get_ref(), &mut path)
}

fn check_table(
    text: &str,
    file: &Path,
    table: &toml::de::DeTable<'_>,
    path: &mut Vec<String>,
) -> Result<(), ScenarioError> {
    for (key, value) in table.iter() {
        path.push(key.get_ref().to_string());
        check_value(text, file, key.get_ref(), value, path)?;
        path.pop();
    }
    Ok(())
}

fn check_value(
    text: &str,
    file: &Path,
    key: &str,
    value: &toml::Spanned<toml::de::DeValue<'_>>,
    path: &mut Vec<String>,
) -> Result<(), ScenarioError> {
    use toml::de::DeValue;
    match value.get_ref() {
        DeValue::Table(t) => check_table(text, file, t, path),
        DeValue::Array(items) if !LISTS_OF_VALUES.contains(&key) => {
            for (i, item) in items.iter().enumerate() {
                let DeValue::Table(t) = item.get_ref() else {
                    let message = if items
                        .iter()
                        .all(|i| !matches!(i.get_ref(), DeValue::Table(_)))
                    {
                        "must be a table of named keys ({ key = value, ... }), not a list of values"
                            .to_owned()
                    } else {
                        format!("entry {i} must be a table of named keys ({{ key = value, ... }}), not a value")
                    };
                    return Err(located_error(
                        text,
                        file,
                        Some(item.span()),
                        Some(path.join(".")),
                        message,
                    ));
                };
                path.push(format!("[{i}]"));
                check_table(text, file, t, path)?;
                path.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The span of the deepest part of `path` present in the document, so a validation error points
/// at the offending value, or at its table when the key was left to its default.
fn key_span(text: &str, path: &[Seg]) -> Option<Range<usize>> {
    let root = toml::de::DeTable::parse(text).ok()?;
    let mut span = None;
    let mut table = root.get_ref();
    let mut value: Option<&toml::de::DeValue<'_>> = None;
    for seg in path {
        let next = match (seg, value) {
            (Seg::Key(k), None) => table.get(*k),
            (Seg::Key(k), Some(v)) => v.get(*k),
            (Seg::Idx(i), Some(v)) => v.get(*i),
            (Seg::Idx(_), None) => None,
        };
        let Some(next) = next else { break };
        span = Some(next.span());
        value = Some(next.get_ref());
        if let toml::de::DeValue::Table(t) = next.get_ref() {
            table = t;
        }
    }
    span
}

/// The first line of a parser message, with Rust type names put in the scenario's terms.
fn first_line(message: &str) -> String {
    let mut line = message.lines().next().unwrap_or("").trim().to_owned();
    // "expected struct Latency": a Rust type, where the file has a table.
    while let Some(at) = line.find("expected struct ") {
        let name_end = line[at + 16..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .map_or(line.len(), |i| at + 16 + i);
        line.replace_range(at..name_end, "expected a table ({ key = value, ... })");
    }
    let line = line
        .replace("invalid type: ", "got ")
        .replace("expected a sequence", "expected a list ([ ... ])");
    line.replace(
        "expected u32",
        "expected a whole number from 0 to 4294967295",
    )
    .replace(
        "expected u64",
        "expected a whole number from 0 to 18446744073709551615",
    )
    .replace("expected f64", "expected a number")
}

/// 1-based (line, column) of `span.start`, and a two-line snippet with a caret underline.
fn locate(text: &str, span: Range<usize>) -> ((usize, usize), String) {
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_no = text[..start].matches('\n').count() + 1;
    let col = text[line_start..start].chars().count() + 1;
    let source = &text[line_start..line_end];
    let width = text[start..span.end.clamp(start, line_end)]
        .chars()
        .count()
        .max(1);
    let gutter = line_no.to_string().len();
    let snippet = format!(
        "{:gutter$} |\n{line_no} | {source}\n{:gutter$} | {}{}",
        "",
        "",
        " ".repeat(col - 1),
        "^".repeat(width)
    );
    ((line_no, col), snippet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locate_points_at_the_span() {
        let text = "a = 1\nbb = -5\n";
        let ((line, col), snippet) = locate(text, 11..13);
        assert_eq!((line, col), (2, 6));
        assert_eq!(snippet, "  |\n2 | bb = -5\n  |      ^^");
    }
}
