//! Files the harness writes: created with their directory, and an error that names the path.

use crate::harness::error::Error;
use std::path::Path;

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
