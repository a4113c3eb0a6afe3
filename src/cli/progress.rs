//! Progress on long work, on stderr and only when it is a terminal: a bar for sweeps, a
//! spinner for shrinking. Piped or in CI, nothing is drawn.

use std::io::IsTerminal;

/// A bar counting a sweep's runs.
pub fn progress_bar(runs: u64) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(runs), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "sweeping [{bar:32}] {human_pos}/{human_len} runs · {per_sec} · {eta} left",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar
}

/// A spinner on stderr counting an exploration's schedules (none when stderr is piped).
pub fn explore_spinner() -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} exploring… {wide_msg}").expect("a valid template"),
    );
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    spinner
}

/// A spinner on stderr naming the last change shrinking kept (none when stderr is piped).
pub fn shrink_spinner() -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressStyle};
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner();
    spinner.set_style(
        ProgressStyle::with_template("{spinner} shrinking… kept: {wide_msg}")
            .expect("a valid template"),
    );
    spinner.enable_steady_tick(std::time::Duration::from_millis(100));
    spinner
}
