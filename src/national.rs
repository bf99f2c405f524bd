//! A national system: the scenario's arena is a template, instantiated once per locality
//! (`[localities]`), all under one centre, stepped in parallel within each tick.
//!
//! Each locality is a `Simulation` of its own, built from the template with its own draws
//! (arrivals, budgets, behaviour mix) and its own random streams, derived from the run's seed
//! and the locality's index, so a national run is a pure function of (scenario, seed) and its
//! output is the same whatever the number of threads. What the localities share:
//! - the centre's draws: media shocks and the client group each central initiative targets
//!   come from national streams, so every locality sees the same shocks and initiatives;
//! - the central departments (agencies at level `central`): after every tick, each one's
//!   beliefs about how need divides among client groups, its legitimacy and its political
//!   capital become their means over all localities, so what it sees, its standing (and so
//!   its power in every forum), and then what it chooses in every locality, depend on all of
//!   them. Its money stays per locality (each locality's ledger balances on its own);
//! - the centre's own contests (`CentreContest`): the annual budget round among the agencies
//!   the centre funds, and a competitive funding round among its contestants, are national.
//!   A tick runs in three phases (`Simulation::open_tick`, `share_budgets_and_bid`,
//!   `close_tick`); between them the localities' envelopes, claims, pots and bids are summed,
//!   so each locality's share depends on every locality's claims (ODD 8.20).
//!
//! Localities step in parallel (rayon); the sums between phases and the central phase run on
//! one thread, in locality order.

use rand::RngExt;
use rayon::prelude::*;

use crate::engine::{BehaviourChoice, Simulation};
use crate::error::InvariantError;
use crate::model::CentreContest;
use crate::rng::{self, Stream};
use crate::scenario::{Level, Scenario};

/// What one locality drew.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalityDraw {
    /// Multiplier on client groups' arrivals.
    pub arrivals: f64,
    /// Multiplier on local agencies' income and reserves.
    pub income: f64,
    /// Share of bureaucratic politics in its population (NaN when the scenario's is kept).
    pub bp_share: f64,
    /// Whether the scenario's levers apply here.
    pub levers: bool,
}

/// A national run in progress.
pub struct National {
    pub localities: Vec<Simulation>,
    pub draws: Vec<LocalityDraw>,
    /// Indices of the central departments (the same in every locality).
    pub central: Vec<usize>,
    pub tick: u32,
    /// Each locality's part in the centre's contests this tick (reused every tick).
    parts: Vec<CentreContest>,
}

/// The seed of locality `k`'s own streams.
pub fn locality_seed(seed: u64, k: usize) -> u64 {
    rng::derive_seed(seed, k as u64 + 1, 0x4C4F_4341_4C49_5459)
}

/// The scenario of locality `k`: the template with its draws applied.
pub fn locality_scenario(s: &Scenario, d: &LocalityDraw) -> Scenario {
    let mut t = s.clone();
    t.localities = None;
    for g in &mut t.groups {
        g.arrivals *= d.arrivals;
    }
    for a in &mut t.agencies {
        if a.level != Level::Central {
            a.income *= d.income;
            a.reserves *= d.income;
        }
    }
    if d.bp_share.is_finite() && t.population.is_some() {
        t.population = Some([1.0 - d.bp_share, d.bp_share]);
    }
    if !d.levers {
        // The locality runs without the scenario's levers; the centre's own settings
        // (`[centre]`: funding periods, initiative sizes) stay, as they are national.
        let centre = t.levers.centre.clone();
        t.levers = crate::levers::Levers::none();
        t.levers.centre = centre;
    }
    t
}

/// Each locality's draws, in locality order, from the run's localities stream.
pub fn draws(s: &Scenario, seed: u64) -> Vec<LocalityDraw> {
    let Some(l) = &s.localities else {
        return vec![LocalityDraw {
            arrivals: 1.0,
            income: 1.0,
            bp_share: f64::NAN,
            levers: true,
        }];
    };
    let mut r = rng::stream(seed, Stream::Localities);
    (0..l.count)
        .map(|_| {
            // Four draws per locality whatever is varied, so adding a variation does not
            // move the others'.
            let u: [f64; 4] = [r.random(), r.random(), r.random(), r.random()];
            let at = |s: crate::scenario::Span, u: f64| s.low + u * (s.high - s.low);
            LocalityDraw {
                arrivals: at(l.arrivals, u[0]),
                income: at(l.income, u[1]),
                bp_share: l.bp_share.map_or(f64::NAN, |s| at(s, u[2])),
                levers: u[3] < l.levers_share,
            }
        })
        .collect()
}

impl National {
    /// Build every locality of `s` (which must have `[localities]`).
    pub fn new(s: &Scenario, seed: u64, choice: BehaviourChoice) -> National {
        let draws = draws(s, seed);
        let localities = draws
            .par_iter()
            .enumerate()
            .map(|(k, d)| {
                let t = locality_scenario(s, d);
                let mut sim = Simulation::new(&t, locality_seed(seed, k), choice);
                sim.share_national_streams(seed);
                sim
            })
            .collect();
        let central = s
            .agencies
            .iter()
            .enumerate()
            .filter(|(_, a)| a.level == Level::Central)
            .map(|(i, _)| i)
            .collect();
        National {
            parts: vec![CentreContest::default(); draws.len()],
            localities,
            draws,
            central,
            tick: 0,
        }
    }

    /// One national tick: every locality steps (in parallel, on the current rayon pool),
    /// then the central phase.
    pub fn step(&mut self) -> Result<(), InvariantError> {
        // The centre's contests are national: its budget envelope and funding pot, and the
        // claims and bids on them, are summed over localities (in locality order, so the sums
        // do not depend on the threads) before any locality is given its share.
        let parts = &mut self.parts;
        self.localities
            .par_iter_mut()
            .zip(parts.par_iter_mut())
            .for_each(|(s, p)| *p = s.open_tick());
        let budget = parts.iter().fold(CentreContest::default(), |a, &p| a + p);
        self.localities
            .par_iter_mut()
            .zip(parts.par_iter_mut())
            .for_each(|(s, p)| *p = s.share_budgets_and_bid(&budget));
        let bids = parts.iter().fold(CentreContest::default(), |a, &p| a + p);
        self.localities
            .par_iter_mut()
            .try_for_each(|s| s.close_tick(&bids))?;
        self.central_phase();
        self.tick += 1;
        Ok(())
    }

    /// Central departments see all their localities: each one's beliefs about need shares,
    /// its legitimacy and its political capital become their means over the localities
    /// (summed in locality order).
    fn central_phase(&mut self) {
        let Some(first) = self.localities.first() else {
            return;
        };
        let ng = first.world.n_groups();
        let n = self.localities.len() as f64;
        for &i in &self.central {
            for g in 0..ng {
                let k = i * ng + g;
                let mean = self
                    .localities
                    .iter()
                    .map(|s| s.world.beliefs.need[k])
                    .sum::<f64>()
                    / n;
                for s in &mut self.localities {
                    s.world.beliefs.need[k] = mean;
                }
            }
            let legitimacy = self
                .localities
                .iter()
                .map(|s| s.world.agencies[i].legitimacy)
                .sum::<f64>()
                / n;
            let political = self
                .localities
                .iter()
                .map(|s| s.world.agencies[i].political)
                .sum::<f64>()
                / n;
            for s in &mut self.localities {
                s.world.agencies[i].legitimacy = legitimacy;
                s.world.agencies[i].political = political;
            }
        }
    }
}
