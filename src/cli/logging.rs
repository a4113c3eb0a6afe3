//! Logs: to stderr, filtered by `RUST_LOG` (default: warnings), stamped with simulated time,
//! coloured only when stderr is a terminal.

/// Install the subscriber: stderr, `RUST_LOG`, simulated time.
pub fn init() {
    use std::io::{IsTerminal, Write};
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
    // the runtime (clap does). ticketsim's simulation uses no std HashMap, so that is noise:
    // silenced unless RUST_LOG asks about madsim itself.
    const QUIET_MADSIM: &str = "madsim::sim::rand=error";
    let asked = std::env::var("RUST_LOG").unwrap_or_default();
    let directives = match asked.trim() {
        "" => format!("warn,{QUIET_MADSIM}"),
        asked if asked.contains("madsim") => asked.to_owned(),
        asked => format!("{asked},{QUIET_MADSIM}"),
    };
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        let _ = writeln!(
            std::io::stderr(),
            "RUST_LOG `{asked}` is not a log filter ({e}); logging warnings only"
        );
        EnvFilter::new(format!("warn,{QUIET_MADSIM}"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_timer(SimTime)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
