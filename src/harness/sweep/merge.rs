//! `ticketsim merge`: the reports of every shard of one sweep, combined into the whole sweep's
//! report. Tallies are sums, so the merged report is the one a single process would have
//! written: the same counts, seed lists, verdicts and combined hash.

use crate::harness::sweep::plan::Shard;
use crate::harness::sweep::report::{GroupReport, SweepReport};

impl SweepReport {
    /// Combine the reports of every shard of one sweep into the report of the whole sweep.
    pub fn merge(parts: Vec<SweepReport>) -> Result<SweepReport, String> {
        let mut parts = parts;
        parts.sort_by_key(|p| p.shard.index);
        let Some(first) = parts.first() else {
            return Err("no shard reports to merge".into());
        };
        let count = first.shard.count;
        let indices: Vec<u64> = parts.iter().map(|p| p.shard.index).collect();
        if parts.iter().any(|p| p.shard.count != count)
            || indices != (1..=count).collect::<Vec<_>>()
        {
            let have: Vec<String> = parts.iter().map(|p| p.shard.to_string()).collect();
            return Err(format!(
                "the reports must be every shard of one sweep, once each (1/{count} to {count}/{count}); got {}",
                have.join(", ")
            ));
        }
        let key = |g: &GroupReport| (g.scenario.clone(), g.file.clone(), g.occ, g.seeds);
        let mut parts = parts.into_iter();
        let mut whole = parts.next().expect("checked above");
        for part in parts {
            let changed = whole
                .groups
                .iter()
                .zip(&part.groups)
                .find(|(a, b)| key(a) == key(b) && a.scenario_hash != b.scenario_hash);
            if let Some((a, _)) = changed {
                return Err(format!(
                    "shard {} ran {} with other settings than shard 1 did (scenario hash {} there): the file changed between the shards' runs; run every shard on the same files",
                    part.shard, a.file, a.scenario_hash
                ));
            }
            let same = whole.total_runs == part.total_runs
                && whole.groups.len() == part.groups.len()
                && whole
                    .groups
                    .iter()
                    .zip(&part.groups)
                    .all(|(a, b)| key(a) == key(b))
                && whole.baseline.is_some() == part.baseline.is_some();
            if !same {
                return Err(format!(
                    "shard {} is not a shard of the same sweep as shard 1: its scenarios, modes, seeds or --check differ",
                    part.shard
                ));
            }
            for (into, g) in whole.groups.iter_mut().zip(part.groups) {
                into.tally.merge(g.tally);
            }
            whole.panics.extend(part.panics);
            if let (Some(into), Some(b)) = (&mut whole.baseline, part.baseline) {
                into.compared += b.compared;
                into.mismatches.extend(b.mismatches);
            }
        }
        whole.shard = Shard::WHOLE;
        for g in &mut whole.groups {
            g.rejudge(true);
        }
        whole
            .panics
            .sort_by(|a, b| (&a.scenario, a.occ, a.seed).cmp(&(&b.scenario, b.occ, b.seed)));
        if let Some(b) = &mut whole.baseline {
            b.mismatches.sort();
        }
        whole.sum_up();
        Ok(whole)
    }
}
