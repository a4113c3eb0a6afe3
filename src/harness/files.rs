//! Files the harness writes: created with their directory, written whole or not at all (to a
//! temporary file beside the target, then renamed over it), and an error that names the path.

use crate::harness::error::Error;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write `text` to `path`, creating its directory first if need be; atomically.
pub fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    write_with(path, |mut file| {
        file.write_all(text.as_bytes())?;
        file.sync_all()
    })
}

/// Write `path` through `fill`, atomically: `fill` writes a temporary file in the same
/// folder, which replaces `path` only once `fill` succeeded. A failure leaves `path` as it was.
pub fn write_with<T>(
    path: &Path,
    fill: impl FnOnce(File) -> std::io::Result<T>,
) -> Result<T, Error> {
    let error = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Write { path, source }
    };
    let temp = staged(path)?;
    let written = File::create(&temp).and_then(fill).map_err(error(path));
    match written {
        Ok(value) => {
            std::fs::rename(&temp, path).map_err(error(path))?;
            Ok(value)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&temp);
            Err(e)
        }
    }
}

/// Write every `(path, text)`, all or none: each is written to its temporary file first, and
/// only when every one succeeded are they renamed into place.
pub fn write_files(files: &[(PathBuf, String)]) -> Result<(), Error> {
    let mut staged_files = Vec::with_capacity(files.len());
    let cleanup = |staged_files: &[(PathBuf, &Path)]| {
        for (temp, _) in staged_files {
            let _ = std::fs::remove_file(temp);
        }
    };
    for (path, text) in files {
        let temp = match staged(path) {
            Ok(temp) => temp,
            Err(e) => {
                cleanup(&staged_files);
                return Err(e);
            }
        };
        let written = File::create(&temp).and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        });
        staged_files.push((temp, path.as_path()));
        if let Err(source) = written {
            cleanup(&staged_files);
            return Err(Error::Write {
                path: path.clone(),
                source,
            });
        }
    }
    for (temp, path) in &staged_files {
        std::fs::rename(temp, path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })?;
    }
    Ok(())
}

/// The temporary file beside `path` that [`write_with`] fills, its folder created.
fn staged(path: &Path) -> Result<PathBuf, Error> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })?;
    }
    let name = path
        .file_name()
        .ok_or_else(|| Error::Usage(format!("{} names a folder, not a file", path.display())))?;
    let mut temp = std::ffi::OsString::from(".");
    temp.push(name);
    temp.push(format!(".{}.tmp", std::process::id()));
    Ok(dir.map_or_else(|| PathBuf::from(&temp), |d| d.join(&temp)))
}

/// Refuse to write `output` when it is the input file `input` itself.
pub fn not_the_input(output: &Path, input: &Path, what: &str) -> Result<(), Error> {
    let same = match (std::fs::canonicalize(output), std::fs::canonicalize(input)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(Error::Usage(format!(
            "{what} {} is the scenario file {} itself; write it elsewhere",
            output.display(),
            input.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_file_as_it_was_and_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_file(&path, "first").unwrap();
        let failed = write_with(&path, |mut f| {
            f.write_all(b"half")?;
            Err::<(), _>(std::io::Error::other("disk full"))
        });
        assert!(matches!(failed, Err(Error::Write { .. })));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "first");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file is left behind");
        write_file(&dir.path().join("new/dir/x.txt"), "x").unwrap();
        // All or none: the second file cannot be written (its folder would be a file), so the
        // first is not written either.
        let a = dir.path().join("a.txt");
        let files = [
            (a.clone(), "a".to_owned()),
            (path.join("b.txt"), "b".to_owned()),
        ];
        assert!(write_files(&files).is_err());
        assert!(!a.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "out.txt and new/"
        );
        assert!(not_the_input(&path, &path, "--trace").is_err());
        assert!(not_the_input(&dir.path().join("other"), &path, "--trace").is_ok());
    }
}
