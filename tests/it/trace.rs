//! The trace's promises: every line has `t_us`, `node` and `kind`, time never goes backwards,
//! and the `db.write` lines alone rebuild both databases.

use crate::support::*;
use ticketsim::model::store::Db;
use ticketsim::sim::run::MAX_STEPS;
use ticketsim::sim::world::World;
use ticketsim::Occ;

#[test]
fn db_write_lines_rebuild_both_databases() {
    for occ in Occ::ALL {
        let scenario = scenario("price-burst");
        let runtime = madsim::runtime::Runtime::with_seed_and_config(4, madsim::Config::default());
        runtime.block_on(async {
            let world = World::new(&scenario, occ);
            ticketsim::sim::run::start(&world, &scenario);
            world.exec.run(u64::MAX, MAX_STEPS);
            let rebuilt = world.trace().final_state().tickets;
            let mut expected = Vec::new();
            for t in world.databases().tickets_db.borrow().iter() {
                expected.push((
                    (Db::Tickets, t.id),
                    (t.version, t.title.clone(), t.price, t.order_id),
                ));
            }
            for t in world.databases().orders_db.borrow().iter() {
                expected.push((
                    (Db::Orders, t.id),
                    (t.version, t.title.clone(), t.price, None),
                ));
            }
            let rebuilt: Vec<_> = rebuilt
                .into_iter()
                .map(|(k, s)| (k, (s.version, s.title, s.price, s.order_id)))
                .collect();
            assert_eq!(rebuilt, expected, "{occ}");
            assert_eq!(expected.len(), 10, "{occ}: 5 tickets in each database");
            world.exec.clear();
        });
    }
}

#[test]
fn every_line_has_time_node_and_kind_and_time_never_goes_back() {
    let result = ticketsim::run(&scenario("did-it-work"), 3, Occ::On);
    let mut out = Vec::new();
    result.trace.write_jsonl(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut last = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let t = v["t_us"].as_u64().unwrap();
        assert!(t >= last, "{line}");
        last = t;
        assert!(v["node"].is_string(), "{line}");
        kinds.insert(v["kind"].as_str().unwrap().to_owned());
    }
    let expected = [
        "ack",
        "db.write",
        "deliver",
        "http",
        "nack",
        "publish",
        "redeliver",
        "send",
    ];
    assert_eq!(kinds.into_iter().collect::<Vec<_>>(), expected);
}
