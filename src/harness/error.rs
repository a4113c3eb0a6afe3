//! Errors that end a command, and the exit code each maps to (DESIGN §8): every one is bad
//! input or usage, exit 2. A command that did its job returns 0, or 1 when an expectation
//! failed; that is not an error.

use crate::scenario::parse::ScenarioError;
use std::path::PathBuf;

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
    /// Standard output could not be written (other than its reader having gone).
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
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
