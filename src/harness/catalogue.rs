//! The race catalogue: the scenario files under `scenarios/`, each opening with a one-line
//! header that says what it shows (`# Catalogue #5 — double reservation: ...`), which
//! `ticketsim demo --list` prints with the `[cure]` each race declares, and which a sweep without arguments runs.

use crate::harness::error::Error;
use crate::scenario::cure::CureTable;
use crate::scenario::schema::Scenario;
use std::path::{Path, PathBuf};

/// Where the catalogue lives, relative to the repository's root.
pub const DIR: &str = "scenarios";

/// One scenario of the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Its file.
    pub path: PathBuf,
    /// Its `name`.
    pub name: String,
    /// Its number in the catalogue (`# Catalogue #N — ...`), if it has one.
    pub number: Option<u32>,
    /// What it shows: its header line, without the `#` and the catalogue number.
    pub summary: String,
    /// What cures its race, as its `[cure]` table declares (none for a cured scenario).
    pub cure: Option<CureTable>,
}

/// The scenario files of the catalogue (`scenarios/*.toml`), by file name.
///
/// # Errors
/// The directory cannot be read (not run from the repository's root), or holds no scenario.
pub fn files() -> Result<Vec<PathBuf>, Error> {
    let dir = Path::new(DIR);
    let entries = std::fs::read_dir(dir).map_err(|e| {
        Error::Usage(format!(
            "no scenario files given, and cannot read {}/ ({e}): run from the repository root or name the files",
            dir.display()
        ))
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Error::Usage(format!(
            "{}/ holds no .toml scenario files",
            dir.display()
        )));
    }
    Ok(paths)
}

/// Every scenario of the catalogue, unnumbered ones (the course's own tests) first, then by
/// number, then by name.
///
/// # Errors
/// As [`files`]; a scenario that does not load; a file whose first line is not a `# ` header.
pub fn entries() -> Result<Vec<Entry>, Error> {
    let mut entries = Vec::new();
    for path in files()? {
        let scenario = Scenario::load(&path)?;
        let text = std::fs::read_to_string(&path).map_err(|e| Error::Input {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let Some((number, summary)) = header(&text) else {
            return Err(Error::Input {
                path: path.clone(),
                message: "line 1: a catalogue scenario opens with a one-line `# ` header saying what it shows".to_owned(),
            });
        };
        entries.push(Entry {
            path,
            name: scenario.name.clone(),
            number,
            summary,
            cure: scenario.cure.clone(),
        });
    }
    entries.sort_by(|a, b| {
        (a.number.is_some(), a.number, &a.name).cmp(&(b.number.is_some(), b.number, &b.name))
    });
    Ok(entries)
}

/// The catalogue number and the summary in a file's first line: `# Catalogue #N — summary`,
/// `# Catalogue #N, aside — summary` (read `aside: summary`) or `# summary`.
fn header(text: &str) -> Option<(Option<u32>, String)> {
    let line = text.lines().next()?.strip_prefix("# ")?.trim();
    if line.is_empty() {
        return None;
    }
    // `Catalogue #5 — what`, or `Catalogue #5, cured — what` for a race's cure, which is
    // listed with its race and says so: `cured: what`.
    let numbered = line.strip_prefix("Catalogue #").and_then(|rest| {
        let (number, summary) = rest.split_once(" — ")?;
        let digits = number
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(number.len());
        let (digits, aside) = number.split_at(digits);
        let aside = aside.trim_start_matches(',').trim();
        let summary = summary.trim();
        let summary = if aside.is_empty() {
            summary.to_owned()
        } else {
            format!("{aside}: {summary}")
        };
        Some((digits.parse().ok()?, summary))
    });
    Some(match numbered {
        Some((number, summary)) => (Some(number), summary),
        None => (None, line.to_owned()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_gives_the_number_and_what_the_scenario_shows() {
        assert_eq!(
            header("# Catalogue #5 — double reservation: two users at once.\n#\nname = \"x\""),
            Some((Some(5), "double reservation: two users at once.".to_owned()))
        );
        assert_eq!(
            header("# Catalogue #5, cured — the same race with an index.\n"),
            Some((Some(5), "cured: the same race with an index.".to_owned()))
        );
        assert_eq!(
            header("# The course's own test.\n"),
            Some((None, "The course's own test.".to_owned()))
        );
        assert_eq!(
            header("# Catalogue #x — not a number.\n"),
            Some((None, "Catalogue #x — not a number.".to_owned()))
        );
        assert_eq!(header("name = \"x\"\n"), None);
        assert_eq!(header("#\n"), None);
        assert_eq!(header(""), None);
    }
}
