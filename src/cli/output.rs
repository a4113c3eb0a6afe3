//! Writing what a command prints. Standard output is written through [`print`]: when its reader
//! has gone (`ticketsim sweep --json | head -1`), the rest of the output is dropped quietly and
//! the command ends as it would have; any other failure to write (a full disk, `/dev/full`)
//! ends it with an error and exit 2. Notes on standard error ([`note`]) are best effort.

use crate::harness::error::Error;
use std::io::{ErrorKind, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// The reader of standard output has gone: nothing more is written to it.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// The output holds a command to paste (`ticketsim run ...`).
static SHOWED_COMMAND: AtomicBool = AtomicBool::new(false);

/// Write `text` to standard output, and flush it.
pub fn print(text: &str) -> Result<(), Error> {
    if text.contains("ticketsim run ") {
        SHOWED_COMMAND.store(true, Ordering::Relaxed);
    }
    write_out(text)
}

/// Write a JSON document and a newline to standard output: for tools, so no hint follows.
pub fn print_json(json: &str) -> Result<(), Error> {
    write_out(&format!("{json}\n"))
}

fn write_out(text: &str) -> Result<(), Error> {
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

/// If the output showed commands to paste and this program was not launched as `ticketsim`
/// from the PATH (`cargo run --release -- demo` runs `target/release/ticketsim`), say how to
/// run them here.
pub fn launcher_hint() {
    if !SHOWED_COMMAND.load(Ordering::Relaxed) {
        return;
    }
    let Some(argv0) = std::env::args_os().next() else {
        return;
    };
    let launched = std::path::Path::new(&argv0);
    if launched.as_os_str() == "ticketsim" {
        return;
    }
    note(&format!(
        "note: the commands above start with `ticketsim`; launched this way it is {} (or install it on your PATH: cargo install --path .)",
        crate::present::report::shell_quote(&launched.display().to_string())
    ));
}

/// Write a line to standard error, if it can be written: a note is never worth failing for.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
