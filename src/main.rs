//! `ticketsim`: the command line ([`ticketsim::cli`]) with the allocator its speed is measured
//! with.

/// mimalloc instead of the system allocator: a run spawns ~1,400 tasks of about 600 bytes each,
/// hundreds alive at once, more than glibc's per-size thread cache holds, and glibc's malloc and
/// free were 15% of a sweep's time. No decision depends on an address, so outcomes do not move.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ticketsim::cli::main()
}
