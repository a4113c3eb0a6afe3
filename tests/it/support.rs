//! Helpers shared by the tests: a world with no workload to publish into, and scenario loading.

use std::path::{Path, PathBuf};
use std::rc::Rc;
use ticketsim::model::documents::ReplicaTicket;
use ticketsim::model::events::{Event, TicketData};
use ticketsim::model::node::Node;
use ticketsim::scenario::Scenario;
use ticketsim::sim::bus;
use ticketsim::sim::record::Record;
use ticketsim::sim::run::MAX_STEPS;
use ticketsim::sim::world::World;
use ticketsim::Occ;

/// The crate root, so tests find `scenarios/` and the binary's relative paths are stable.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A bundled scenario, loaded with the relative path a user would type.
pub fn scenario(name: &str) -> Scenario {
    let path = PathBuf::from(format!("scenarios/{name}.toml"));
    let mut s = Scenario::load(&root().join(&path)).expect("bundled scenarios are valid");
    s.source = path;
    s
}

/// A scenario with `replicas` orders replicas and a workload that is never started.
pub fn bare(replicas: u32) -> Scenario {
    let text = format!(
        r#"
        name = "bare"
        description = "listeners in isolation"
        topology = {{ orders-replicas = {replicas}, ack-wait-ms = 5000 }}
        [[workload.create-tickets]]
        count = 1
        price = 1
        "#
    );
    Scenario::parse(&text, Path::new("bare.toml")).unwrap()
}

/// Run `f` against a fresh world (bus started, no workload) inside a madsim runtime.
pub fn with_world<R>(occ: Occ, replicas: u32, f: impl FnOnce(&Rc<World>) -> R) -> R {
    let scenario = bare(replicas);
    let runtime = madsim::runtime::Runtime::with_seed_and_config(1, madsim::Config::default());
    runtime.block_on(async {
        let world = World::new(&scenario, occ);
        bus::start(&world);
        let result = f(&world);
        world.exec.clear();
        result
    })
}

/// Publish `event` from the tickets service at `at_ms`.
pub fn publish_at(world: &Rc<World>, at_ms: u64, event: Event) {
    let w = world.clone();
    world.exec.spawn(Node::Tickets, async move {
        w.exec.sleep_until(at_ms * 1000).await;
        bus::publish(&w, Node::Tickets, event)
            .await
            .expect("nothing is partitioned in these worlds");
    });
}

/// Run the world until nothing is left to do.
pub fn run_to_end(world: &World) {
    world.exec.run(u64::MAX, MAX_STEPS);
}

/// Event data for ticket `id`.
pub fn data(id: u32, version: Option<u64>, title: &str, price: u32) -> TicketData {
    TicketData {
        id,
        version,
        title: title.into(),
        price,
        user_id: 1,
        order_id: None,
    }
}

/// A replica record.
pub fn replica(id: u32, version: u64, title: &str, price: u32) -> ReplicaTicket {
    ReplicaTicket {
        id,
        version,
        title: title.into(),
        price,
    }
}

/// The trace's records as JSON values (what a user of `--trace` sees).
pub fn json_records(records: &[Record]) -> Vec<serde_json::Value> {
    records
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect()
}

/// The `kind` of every record.
pub fn kinds(records: &[Record]) -> Vec<String> {
    json_records(records)
        .iter()
        .map(|v| v["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// The catalogue's scenario files (`scenarios/*.toml`), by file name.
pub fn catalogue_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Path of the built binary.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_ticketsim")
}

/// Run the binary from the crate root: (exit code, stdout, stderr).
pub fn ticketsim(args: &[&str]) -> (i32, String, String) {
    let out = std::process::Command::new(bin())
        .current_dir(root())
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Publish one event at time 0 into a world with `replicas` replicas whose orders database holds
/// `stored`, run to the end, and return the orders database's copy of the event's ticket and the
/// trace.
pub fn deliver_once(
    occ: Occ,
    replicas: u32,
    stored: Option<ReplicaTicket>,
    event: Event,
) -> (Option<ReplicaTicket>, Vec<Record>) {
    with_world(occ, replicas, |w| {
        if let Some(doc) = stored {
            w.databases().orders_db.borrow_mut().insert(doc).unwrap();
        }
        let id = event.ticket_id();
        publish_at(w, 0, event);
        run_to_end(w);
        let doc = w.databases().orders_db.borrow().find(id);
        (doc, w.trace().records().to_vec())
    })
}
