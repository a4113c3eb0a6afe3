//! Writing what a command prints. Standard output is written through [`print`]: when its reader
//! has gone (`ticketsim sweep --json | head -1`), the rest of the output is dropped quietly and
//! the command ends as it would have; any other failure to write (a full disk, `/dev/full`)
//! ends it with an error and exit 2. Notes on standard error ([`note`]) are best effort.

use crate::harness::error::Error;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// The reader of standard output has gone: nothing more is written to it.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Write `text` to standard output, and flush it.
pub fn print(text: &str) -> Result<(), Error> {
    if CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(source) => Err(Error::Output(source)),
    }
}

/// Write `text` and a newline to standard output.
pub fn println(text: &str) -> Result<(), Error> {
    print(&format!("{text}\n"))
}

/// Write a line to standard error, if it can be written: a note is never worth failing for.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
