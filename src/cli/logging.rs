//! Logs: to stderr, filtered by `RUST_LOG` (default: warnings), stamped with simulated time.

/// Install the subscriber: stderr, `RUST_LOG`, simulated time.
pub fn init() {
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
