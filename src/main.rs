//! `ticketsim`: parse the command line, run it, map the result to an exit code.

use clap::Parser;
use std::process::ExitCode;
use ticketsim::cli::{execute, Cli};

/// mimalloc instead of the system allocator: a run spawns ~1,400 tasks of about 600 bytes each,
/// hundreds alive at once, more than glibc's per-size thread cache holds, and glibc's malloc and
/// free were 15% of a sweep's time. No decision depends on an address, so outcomes do not move.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    match execute(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default: warnings), stamped with simulated time.
fn init_logging() {
    use tracing_subscriber::fmt::{format::Writer, time::FormatTime};
    use tracing_subscriber::EnvFilter;

    struct SimTime;
    impl FormatTime for SimTime {
        fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
            match madsim::time::TimeHandle::try_current() {
                Some(time) => write!(w, "{:>12.6}s", time.elapsed().as_secs_f64()),
                None => write!(w, "{:>13}", "-"),
            }
        }
    }

    // madsim warns that it could not seed std's HashMap hasher when the process made one before
    // the runtime (clap does). ticketsim's simulation uses no std HashMap, so that is noise.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("warn,madsim::sim::rand=error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(SimTime)
        .with_writer(std::io::stderr)
        .init();
}
