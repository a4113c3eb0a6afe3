//! Errors that end a command, and the exit code each maps to (DESIGN §8).

use crate::scenario::ScenarioError;
use std::path::{Path, PathBuf};

/// A command that could not do its job.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file is missing or invalid.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// A command line that asks for something impossible.
    #[error("{0}")]
    Usage(String),
    /// An input file (other than a scenario) is missing or not what it should be.
    #[error("{path}: {message}")]
    Input {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An output file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl Error {
    /// Bad input or usage: 2.
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// Write `text` to `path`, creating its directory first if need be.
pub fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| Error::Write {
        path: path.to_owned(),
        source,
    })
}
