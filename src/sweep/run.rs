//! One run of a sweep: what it records, and its on-disk form while its design point is open.

use crate::engine::{self, Observer, Simulation};
use crate::metrics::{AGENCY, TICK};
use crate::model::World;
use crate::scenario::MechanismKind;
use crate::sweep::stats::Acc;

use super::experiment::{Experiment, RunRef};

/// Run totals written to `runs.csv`, after the run-averaged observables.
pub const CUMULATIVE: [&str; 8] = [
    "total_arrivals",
    "total_served",
    "total_partly_served",
    "total_fell_through",
    "total_need",
    "total_need_met",
    "total_referrals",
    "total_dumped_referrals",
];

/// The observables a national run keeps per locality (run means), for
/// `localities_summary.csv`.
pub const LOCALITY_OBSERVABLES: [&str; 8] = [
    "share_need_met",
    "coordination_index",
    "dumped_share",
    "share_fell_through",
    "free_riding",
    "agenda_capture",
    "mean_trust",
    "spend_pooled",
];

/// What a sweep keeps of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    pub ticks: u32,
    /// `ticks x TICK.len()`, tick-major.
    pub tick_values: Vec<f64>,
    pub cumulative: Vec<f64>,
    /// `agencies x AGENCY.len()`: each agency observable averaged over ticks.
    pub agency_means: Vec<f64>,
    /// `agencies x agencies x 3`: referrals, dumped referrals, dumped cost over the run.
    pub dumping: Vec<f64>,
    /// Per group: forum agenda weight averaged over live forums and ticks (NaN if no forum
    /// was ever live).
    pub agenda: Vec<f64>,
    /// Per group: need share.
    pub need_share: Vec<f64>,
    /// National runs only: `localities x LOCALITY_OBSERVABLES.len()` run means (empty for a
    /// single locality).
    pub localities: Vec<f64>,
}

impl RunOutput {
    /// Each tick observable averaged over the run's ticks (NaN ticks skipped).
    pub fn run_means(&self) -> Vec<f64> {
        self.window_means(1, self.ticks)
    }

    /// Each tick observable averaged over ticks `from..=to` (1-based; NaN ticks skipped).
    pub fn window_means(&self, from: u32, to: u32) -> Vec<f64> {
        (0..TICK.len())
            .map(|k| self.window_mean(k, None, from, to))
            .collect()
    }

    /// Tick observable `k` (minus observable `minus`, tick by tick, when given) averaged
    /// over ticks `from..=to` (1-based; NaN ticks skipped).
    pub fn window_mean(&self, k: usize, minus: Option<usize>, from: u32, to: u32) -> f64 {
        let o = TICK.len();
        let mut a = Acc::default();
        for t in from.max(1) - 1..to.min(self.ticks) {
            let i = t as usize * o;
            a.push(self.tick_values[i + k] - minus.map_or(0.0, |m| self.tick_values[i + m]));
        }
        a.mean()
    }

    /// The statistics `outputs` asks for, statistic by statistic, each a value per tick
    /// observable; `means` are the window's means (already computed for the effects).
    pub fn run_stats(&self, outputs: &super::experiment::Outputs, means: &[f64]) -> Vec<f64> {
        use super::experiment::Stat;
        let o = TICK.len();
        let (from, to) = (outputs.from.max(1), outputs.to.min(self.ticks));
        let mut out = Vec::with_capacity(o * outputs.statistics.len());
        for st in &outputs.statistics {
            match st {
                Stat::Mean => out.extend_from_slice(means),
                Stat::Final => {
                    let t = to as usize - 1;
                    out.extend_from_slice(&self.tick_values[t * o..(t + 1) * o]);
                }
                Stat::Total => out.extend((0..o).map(|k| {
                    (from - 1..to)
                        .map(|t| self.tick_values[t as usize * o + k])
                        .filter(|v| v.is_finite())
                        .sum::<f64>()
                })),
            }
        }
        out
    }

    const MAGIC: &'static [u8; 8] = b"SILOSRN2";

    /// A compact, exact binary form (little-endian f64s), for the run files of open points.
    pub fn encode(&self) -> Vec<u8> {
        let parts: [&[f64]; 7] = [
            &self.tick_values,
            &self.cumulative,
            &self.agency_means,
            &self.dumping,
            &self.agenda,
            &self.need_share,
            &self.localities,
        ];
        let mut out = Vec::with_capacity(16 + parts.iter().map(|p| 8 + 8 * p.len()).sum::<usize>());
        out.extend_from_slice(Self::MAGIC);
        out.extend_from_slice(&(self.ticks as u64).to_le_bytes());
        for p in parts {
            out.extend_from_slice(&(p.len() as u64).to_le_bytes());
            for x in p {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<RunOutput> {
        let mut pos = 0;
        let mut take = |n: usize| -> Option<&[u8]> {
            let s = bytes.get(pos..pos + n)?;
            pos += n;
            Some(s)
        };
        if take(8)? != Self::MAGIC {
            return None;
        }
        let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("8 bytes"));
        let ticks = word(take(8)?) as u32;
        let mut parts: Vec<Vec<f64>> = Vec::with_capacity(7);
        for _ in 0..7 {
            let len = word(take(8)?) as usize;
            let raw = take(len.checked_mul(8)?)?;
            parts.push(
                raw.chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
            );
        }
        if pos != bytes.len() {
            return None;
        }
        let mut it = parts.into_iter();
        Some(RunOutput {
            ticks,
            tick_values: it.next()?,
            cumulative: it.next()?,
            agency_means: it.next()?,
            dumping: it.next()?,
            agenda: it.next()?,
            need_share: it.next()?,
            localities: it.next()?,
        })
    }
}

/// Collects a run's per-tick observables, agency averages and forum agendas.
struct SweepObserver {
    tick_values: Vec<f64>,
    agency: Vec<Acc>,
    agenda: Vec<Acc>,
}

impl Observer for SweepObserver {
    type Error = std::convert::Infallible;
    fn observe(&mut self, w: &World) -> Result<(), Self::Error> {
        for o in TICK {
            self.tick_values.push((o.value)(w));
        }
        self.observe_agencies(w);
        Ok(())
    }
}

impl SweepObserver {
    /// Agency averages and forum agendas (a national run feeds every locality's world).
    fn observe_agencies(&mut self, w: &World) {
        let k = AGENCY.len();
        for i in 0..w.n_agencies() {
            for (j, o) in AGENCY.iter().enumerate() {
                self.agency[i * k + j].push((o.value)(w, i));
            }
        }
        for (g, acc) in self.agenda.iter_mut().enumerate() {
            let (mut s, mut n) = (0.0, 0.0);
            for m in &w.mechanisms {
                if m.kind == MechanismKind::Forum && m.alive() {
                    s += m.agenda[g];
                    n += 1.0;
                }
            }
            if n > 0.0 {
                acc.push(s / n);
            }
        }
    }
}

/// A national scenario (`[localities]`) in a sweep: the run's tick observables are the
/// unweighted means over localities (as the `mean` rows of a national run's ticks.csv), its
/// agency and agenda averages are over localities and ticks (agencies of the template), its
/// totals and dumping counts are sums over localities. One national run is held at a time
/// per worker.
fn run_national(
    s: &crate::scenario::Scenario,
    seed: u64,
    choice: crate::engine::BehaviourChoice,
    ticks: u32,
) -> Result<RunOutput, String> {
    let mut nat = crate::national::National::new(s, seed, choice);
    let n = s.agencies.len();
    let mut obs = SweepObserver {
        tick_values: Vec::with_capacity(ticks as usize * TICK.len()),
        agency: vec![Acc::default(); n * AGENCY.len()],
        agenda: vec![Acc::default(); s.groups.len()],
    };
    let keys: Vec<usize> = LOCALITY_OBSERVABLES
        .iter()
        .map(|k| {
            TICK.iter()
                .position(|o| o.name == *k)
                .expect("a tick observable")
        })
        .collect();
    let mut per_locality = vec![Acc::default(); nat.localities.len() * keys.len()];
    // Each observable once per locality and tick: the means over localities and the kept
    // per-locality values both come from this buffer.
    let mut values = vec![0.0; nat.localities.len() * TICK.len()];
    for _ in 0..ticks {
        nat.step().map_err(|e| e.to_string())?;
        for (l, loc) in nat.localities.iter().enumerate() {
            let row = &mut values[l * TICK.len()..(l + 1) * TICK.len()];
            for (v, o) in row.iter_mut().zip(TICK) {
                *v = (o.value)(&loc.world);
            }
            for (c, &k) in keys.iter().enumerate() {
                per_locality[l * keys.len() + c].push(row[k]);
            }
            obs.observe_agencies(&loc.world);
        }
        for k in 0..TICK.len() {
            let mut a = Acc::default();
            for row in values.chunks(TICK.len()) {
                a.push(row[k]);
            }
            obs.tick_values.push(a.mean());
        }
    }
    let mut cumulative = vec![0.0; CUMULATIVE.len()];
    let mut dumping = vec![0.0; n * n * 3];
    let mut need_share = vec![0.0; s.groups.len()];
    let nl = nat.localities.len() as f64;
    for l in &nat.localities {
        let w = &l.world;
        for (c, v) in cumulative.iter_mut().zip(run_totals(w)) {
            *c += v;
        }
        for (c, v) in dumping.iter_mut().zip(dumping_counts(w)) {
            *c += v;
        }
        for (x, g) in need_share.iter_mut().zip(&w.groups) {
            *x += g.need_share / nl;
        }
    }
    Ok(RunOutput {
        ticks,
        tick_values: obs.tick_values,
        cumulative,
        agency_means: obs.agency.iter().map(Acc::mean).collect(),
        dumping,
        agenda: obs.agenda.iter().map(Acc::mean).collect(),
        need_share,
        localities: per_locality.iter().map(Acc::mean).collect(),
    })
}

/// The run totals of `CUMULATIVE`, in its order.
fn run_totals(w: &World) -> [f64; CUMULATIVE.len()] {
    let t = &w.tally.run;
    [
        t.arrivals as f64,
        t.served as f64,
        t.partly_served as f64,
        t.fell_through as f64,
        t.need,
        t.need_met,
        t.referrals as f64,
        t.dumped as f64,
    ]
}

/// Referrals, dumped referrals and dumped cost for each (sender, receiver) pair, flattened.
fn dumping_counts(w: &World) -> impl Iterator<Item = f64> + '_ {
    let t = &w.tally;
    (0..t.referrals.len()).flat_map(move |k| {
        [
            t.referrals[k] as f64,
            t.dumped[k] as f64,
            t.dumped_cost_matrix[k],
        ]
    })
}

/// Run one run of the experiment. A broken invariant or a panic comes back as an error
/// message; the sweep records it and goes on.
pub fn run_one(exp: &Experiment, r: RunRef) -> Result<RunOutput, String> {
    let s = exp
        .scenario_for(r.point, r.arm)
        .map_err(|e| e.to_string())?;
    run_scenario(&s, r.seed, exp.arms[r.arm].choice, exp.ticks)
}

/// Run a scenario with a seed and behaviour choice for `ticks` ticks, keeping what a sweep
/// keeps. A broken invariant or a panic comes back as an error message.
pub fn run_scenario(
    s: &crate::scenario::Scenario,
    seed: u64,
    choice: crate::engine::BehaviourChoice,
    ticks: u32,
) -> Result<RunOutput, String> {
    // Before anything is allocated: a run that cannot fit (ticks, the ledger's worst case at
    // this length, the estimated memory against the limit) is a failure naming the field,
    // never an abort of the whole sweep.
    crate::limits::admit(s, ticks)?;
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(
        || -> Result<RunOutput, String> {
            if s.localities.is_some() {
                return run_national(s, seed, choice, ticks);
            }
            let mut sim = Simulation::new(s, seed, choice);
            let n = s.agencies.len();
            let mut tick_values = Vec::new();
            tick_values
                .try_reserve_exact(ticks as usize * TICK.len())
                .map_err(|e| format!("cannot hold {ticks} ticks of observables: {e}"))?;
            let mut obs = SweepObserver {
                tick_values,
                agency: vec![Acc::default(); n * AGENCY.len()],
                agenda: vec![Acc::default(); s.groups.len()],
            };
            engine::run(&mut sim, ticks, &mut obs).map_err(|e| e.to_string())?;
            let w = &sim.world;
            Ok(RunOutput {
                ticks,
                tick_values: obs.tick_values,
                cumulative: run_totals(w).to_vec(),
                dumping: dumping_counts(w).collect(),
                agency_means: obs.agency.iter().map(Acc::mean).collect(),
                agenda: obs.agenda.iter().map(Acc::mean).collect(),
                need_share: w.groups.iter().map(|g| g.need_share).collect(),
                localities: Vec::new(),
            })
        },
    ));
    match outcome {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(format!("panic: {msg}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_exactly() {
        let r = RunOutput {
            ticks: 2,
            tick_values: vec![0.1, f64::NAN, -3.5, 1e-300],
            cumulative: vec![1.0; 8],
            agency_means: vec![0.25],
            dumping: vec![],
            agenda: vec![f64::NAN, 0.5],
            need_share: vec![0.5, 0.5],
            localities: vec![0.3, f64::NAN],
        };
        let back = RunOutput::decode(&r.encode()).unwrap();
        assert_eq!(back.encode(), r.encode());
        assert!(RunOutput::decode(&r.encode()[..20]).is_none());
    }
}
