//! Reading an input file safely: only a regular file, at most a stated size, as UTF-8 text.
//! A device or a FIFO (`/dev/zero`, a shell's `<(...)`) would be read forever, and a huge file
//! would fill memory; both are refused with the reason, before anything is read.

use std::io::Read;
use std::path::Path;

/// The largest scenario file read: the largest bundled one is a few KB.
pub const SCENARIO_MAX_BYTES: u64 = 1 << 20;

/// The largest baseline or `sweep --json` report read: they list seeds, so they grow with the
/// seed range, but a range of millions of seeds stays far below this.
pub const REPORT_MAX_BYTES: u64 = 256 << 20;

/// The text of the regular file `path`, if it is at most `max_bytes` long; otherwise a
/// sentence saying why not.
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(
            "it is not a regular file (a directory, a device or a pipe): ticketsim reads only regular files".to_owned(),
        );
    }
    let too_big = || {
        format!(
            "it is larger than {} bytes, the most ticketsim reads from such a file",
            max_bytes
        )
    };
    if meta.len() > max_bytes {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::fs::File::open(path)
        .and_then(|f| f.take(max_bytes + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_big());
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_cap_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.toml");
        std::fs::write(&file, "abc").unwrap();
        assert_eq!(read_text(&file, 3).unwrap(), "abc");
        assert!(read_text(&file, 2)
            .unwrap_err()
            .contains("larger than 2 bytes"));
        assert!(read_text(dir.path(), 10)
            .unwrap_err()
            .contains("not a regular file"));
        std::fs::write(&file, [0xff, 0xfe]).unwrap();
        assert!(read_text(&file, 10).unwrap_err().contains("not UTF-8"));
        assert!(read_text(&dir.path().join("missing"), 10).is_err());
    }
}
