//! One arm of a lesson: a simulation stepped tick by tick, its run written with
//! [`RunWriter`] plus three small files the lessons narrate from, and what happened added up
//! over spans of ticks (a quarter, the whole run).
//!
//! Every number a lesson states is a sum (or a ratio of sums) of per-tick values read from
//! the world after each tick, through the same observables that fill the CSV files
//! ([`crate::metrics::AGENCY`], [`crate::metrics::TICK`]), so each can be recomputed from the
//! files the arm writes:
//!
//! | file | one row per | holds |
//! |---|---|---|
//! | `mechanisms.csv` | tick x mechanism x agency | member, host, cost borne, benefit credited, depth |
//! | `agenda.csv` | tick x live forum x group | agenda weight and need share |
//! | `flows.csv` | tick x sender x receiver (non-zero) | referrals and dumped referrals that tick |

use std::path::{Path, PathBuf};

use crate::engine::{BehaviourChoice, Observer, Simulation};
use crate::metrics::{AGENCY, TICK};
use crate::model::World;
use crate::output::{self, CsvBuf, RunWriter};
use crate::scenario::{Family, MechanismKind, Scenario};

use super::TeachError;

/// Which decision rule every agency of an arm follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arm {
    /// Rational administration: `BehaviourChoice::All(Family::Ra)`.
    Ra,
    /// Bureaucratic politics: `BehaviourChoice::All(Family::Bp)`.
    Bp,
}

impl Arm {
    pub const BOTH: [Arm; 2] = [Arm::Ra, Arm::Bp];

    pub fn title(self) -> &'static str {
        match self {
            Arm::Ra => "Rational administration",
            Arm::Bp => "Bureaucratic politics",
        }
    }

    /// Directory name under the lesson's output directory (`ra`, `bp`).
    pub fn dir(self) -> &'static str {
        match self {
            Arm::Ra => "ra",
            Arm::Bp => "bp",
        }
    }

    pub fn choice(self) -> BehaviourChoice {
        BehaviourChoice::All(match self {
            Arm::Ra => Family::Ra,
            Arm::Bp => Family::Bp,
        })
    }
}

/// One agency over a span of ticks: sums of its `agencies.csv` columns, and two values at the
/// span's last tick.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgencySpan {
    pub name: String,
    pub label: String,
    pub spend_hosting: f64,
    pub coordination_cost: f64,
    pub coordination_benefit: f64,
    pub spend_pool: f64,
    pub pool_paid_for: f64,
    pub reimbursed: f64,
    pub charges_paid: f64,
    pub charges_received: f64,
    pub referrals_out: u64,
    pub referrals_in: u64,
    pub cases_led: u64,
    /// Ticks x mechanisms hosted (the sum of the `hosting` column).
    pub hosting: u64,
    /// `resentment_out` at the span's last tick.
    pub resentment_out: f64,
    /// `power` at the span's last tick.
    pub power: f64,
}

/// One client group over a span: sums of its `groups.csv` rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupSpan {
    pub name: String,
    pub label: String,
    /// The group's share of the arena's expected need (fixed for the run).
    pub need_share: f64,
    pub arrivals: u64,
    pub need: f64,
    pub need_met: f64,
    pub referrals: u64,
    pub dumped: u64,
    pub fell_through: u64,
}

impl GroupSpan {
    pub fn share_met(&self) -> f64 {
        ratio(self.need_met, self.need)
    }
}

/// One mechanism over a span (from `mechanisms.csv` and `agenda.csv`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MechSpan {
    pub name: String,
    pub kind: Option<MechanismKind>,
    /// Ticks it had a host.
    pub ticks_alive: u32,
    /// Ticks each agency hosted it.
    pub host_ticks: Vec<u32>,
    /// Ticks each agency was a member (host included).
    pub member_ticks: Vec<u32>,
    /// Cost each agency bore for it (k GBP, staff time valued; net of reimbursement).
    pub cost: Vec<f64>,
    /// Need met it added within each agency's remit (need units x severity).
    pub benefit: Vec<f64>,
    /// Sum over live ticks of the agenda weight of each group (forums).
    pub agenda_sum: Vec<f64>,
    /// Host and depth at the span's last tick.
    pub host_end: Option<usize>,
    pub depth_end: f64,
}

impl MechSpan {
    /// The agency that hosted it for the most ticks of the span (the earliest in file order
    /// on a tie), if anyone did.
    pub fn main_host(&self) -> Option<usize> {
        let (i, &t) = self
            .host_ticks
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))?;
        (t > 0).then_some(i)
    }

    /// How many different agencies hosted it in the span.
    pub fn n_hosts(&self) -> usize {
        self.host_ticks.iter().filter(|&&t| t > 0).count()
    }

    pub fn total_cost(&self) -> f64 {
        self.cost.iter().sum()
    }

    pub fn total_benefit(&self) -> f64 {
        self.benefit.iter().sum()
    }

    /// Agency `i`'s share of the cost and of the benefit over the span (NaN when none).
    pub fn shares(&self, i: usize) -> (f64, f64) {
        (
            ratio(self.cost[i], self.total_cost()),
            ratio(self.benefit[i], self.total_benefit()),
        )
    }

    /// Mean agenda weight of each group over the ticks the forum was alive (NaN if never,
    /// or if the mechanism is not a forum).
    pub fn agenda_mean(&self) -> Vec<f64> {
        if self.kind != Some(MechanismKind::Forum) {
            return vec![f64::NAN; self.agenda_sum.len()];
        }
        self.agenda_sum
            .iter()
            .map(|s| ratio(*s, self.ticks_alive as f64))
            .collect()
    }
}

/// What happened in one arm over a span of ticks (`first_tick..=last_tick`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub first_tick: u32,
    pub last_tick: u32,
    /// From `ticks.csv`, summed.
    pub arrivals: u64,
    pub served: u64,
    pub partly_served: u64,
    pub fell_through: u64,
    pub fell_refused: u64,
    pub fell_lost: u64,
    pub need: f64,
    pub need_met: f64,
    pub referrals: u64,
    pub bounces: u64,
    pub dumped: u64,
    pub reimbursed: f64,
    pub dumping_charges: f64,
    pub dumping_detected: u64,
    /// From `ticks.csv`: sum and count of the defined (not `NA`) values of per-tick ratios.
    pub free_riding: Mean,
    pub agenda_capture: Mean,
    pub coordination_index: Mean,
    pub agencies: Vec<AgencySpan>,
    pub groups: Vec<GroupSpan>,
    pub mechanisms: Vec<MechSpan>,
    /// Referrals and dumped referrals sender x receiver over the span, `[s * n + r]`
    /// (`flows.csv`; over the whole run, `dumping.csv`).
    pub flows: Vec<u64>,
    pub dumped_flows: Vec<u64>,
}

/// A running mean of the defined values of a per-tick ratio.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Mean {
    pub sum: f64,
    pub n: u32,
}

impl Mean {
    fn add(&mut self, v: f64) {
        if !v.is_nan() {
            self.sum += v;
            self.n += 1;
        }
    }

    /// The mean, NaN if no tick had a value.
    pub fn value(&self) -> f64 {
        ratio(self.sum, self.n as f64)
    }
}

pub(crate) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

impl Span {
    fn new(w: &World, first_tick: u32) -> Span {
        let n = w.n_agencies();
        Span {
            first_tick,
            last_tick: first_tick.saturating_sub(1),
            agencies: w
                .agencies
                .iter()
                .map(|a| AgencySpan {
                    name: a.name.clone(),
                    label: a.label.clone(),
                    ..AgencySpan::default()
                })
                .collect(),
            groups: w
                .groups
                .iter()
                .map(|g| GroupSpan {
                    name: g.name.clone(),
                    label: g.label.clone(),
                    need_share: g.need_share,
                    ..GroupSpan::default()
                })
                .collect(),
            mechanisms: w
                .mechanisms
                .iter()
                .map(|m| MechSpan {
                    name: m.name.clone(),
                    kind: Some(m.kind),
                    host_ticks: vec![0; n],
                    member_ticks: vec![0; n],
                    cost: vec![0.0; n],
                    benefit: vec![0.0; n],
                    agenda_sum: vec![0.0; w.n_groups()],
                    ..MechSpan::default()
                })
                .collect(),
            flows: vec![0; n * n],
            dumped_flows: vec![0; n * n],
            ..Span::default()
        }
    }

    pub fn ticks(&self) -> u32 {
        (self.last_tick + 1).saturating_sub(self.first_tick)
    }

    pub fn share_met(&self) -> f64 {
        ratio(self.need_met, self.need)
    }

    pub fn dumped_share(&self) -> f64 {
        ratio(self.dumped as f64, self.referrals as f64)
    }

    pub fn n_agencies(&self) -> usize {
        self.agencies.len()
    }

    /// Agency `i`'s share of all coordination cost and of all coordination benefit (every
    /// mechanism together, as in `agencies.csv`).
    pub fn coordination_shares(&self, i: usize) -> (f64, f64) {
        let c: f64 = self.agencies.iter().map(|a| a.coordination_cost).sum();
        let b: f64 = self.agencies.iter().map(|a| a.coordination_benefit).sum();
        (
            ratio(self.agencies[i].coordination_cost, c),
            ratio(self.agencies[i].coordination_benefit, b),
        )
    }

    /// Sender x receiver pairs with referrals, most referrals first (then file order).
    pub fn top_flows(&self) -> Vec<(usize, usize, u64, u64)> {
        let n = self.n_agencies();
        let mut v: Vec<(usize, usize, u64, u64)> = (0..n * n)
            .filter(|&k| self.flows[k] > 0)
            .map(|k| (k / n, k % n, self.flows[k], self.dumped_flows[k]))
            .collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
        v
    }

    /// Dumped referrals received by each agency over the span.
    pub fn dumped_in(&self, r: usize) -> u64 {
        let n = self.n_agencies();
        (0..n).map(|s| self.dumped_flows[s * n + r]).sum()
    }

    /// Dumped referrals sent by each agency over the span.
    pub fn dumped_out(&self, s: usize) -> u64 {
        let n = self.n_agencies();
        (0..n).map(|r| self.dumped_flows[s * n + r]).sum()
    }
}

fn agency_obs(name: &str) -> fn(&World, usize) -> f64 {
    AGENCY
        .iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("metrics::AGENCY has no observable {name}"))
        .value
}

fn tick_obs(name: &str) -> fn(&World) -> f64 {
    TICK.iter()
        .find(|o| o.name == name)
        .unwrap_or_else(|| panic!("metrics::TICK has no observable {name}"))
        .value
}

/// The observables a span adds up, looked up once by their CSV column names.
struct Obs {
    coordination_cost: fn(&World, usize) -> f64,
    coordination_benefit: fn(&World, usize) -> f64,
    resentment_out: fn(&World, usize) -> f64,
    power: fn(&World, usize) -> f64,
    hosting: fn(&World, usize) -> f64,
    free_riding: fn(&World) -> f64,
    agenda_capture: fn(&World) -> f64,
    coordination_index: fn(&World) -> f64,
    reimbursed: fn(&World) -> f64,
    dumping_charges: fn(&World) -> f64,
}

impl Obs {
    fn new() -> Obs {
        Obs {
            coordination_cost: agency_obs("coordination_cost"),
            coordination_benefit: agency_obs("coordination_benefit"),
            resentment_out: agency_obs("resentment_out"),
            power: agency_obs("power"),
            hosting: agency_obs("hosting"),
            free_riding: tick_obs("free_riding"),
            agenda_capture: tick_obs("agenda_capture"),
            coordination_index: tick_obs("coordination_index"),
            reimbursed: tick_obs("reimbursed"),
            dumping_charges: tick_obs("dumping_charges"),
        }
    }
}

/// Add the world's latest tick to a span.
fn add_tick(s: &mut Span, w: &World, o: &Obs, prev_ref: &[u64], prev_dump: &[u64]) {
    let t = &w.tally;
    s.last_tick = w.tick;
    s.arrivals += t.all.arrivals;
    s.served += t.all.served;
    s.partly_served += t.all.partly_served;
    s.fell_through += t.all.fell_through;
    s.fell_refused += t.fell.refused;
    s.fell_lost += t.fell.lost;
    s.need += t.all.need;
    s.need_met += t.all.need_met;
    s.referrals += t.all.referrals;
    s.bounces += t.all.bounces;
    s.dumped += t.all.dumped;
    s.reimbursed += (o.reimbursed)(w);
    s.dumping_charges += (o.dumping_charges)(w);
    s.dumping_detected += t.dumping_detected;
    s.free_riding.add((o.free_riding)(w));
    s.agenda_capture.add((o.agenda_capture)(w));
    s.coordination_index.add((o.coordination_index)(w));
    for (i, a) in s.agencies.iter_mut().enumerate() {
        let at = &t.agencies[i];
        a.spend_hosting += at.spend_hosting;
        a.coordination_cost += (o.coordination_cost)(w, i);
        a.coordination_benefit += (o.coordination_benefit)(w, i);
        a.spend_pool += at.spend_pool;
        a.pool_paid_for += at.pool_paid_for;
        a.reimbursed += at.reimbursed;
        a.charges_paid += at.charges_paid;
        a.charges_received += at.charges_received;
        a.referrals_out += at.referrals_out;
        a.referrals_in += at.referrals_in;
        a.cases_led += at.cases_led;
        a.hosting += (o.hosting)(w, i) as u64;
        a.resentment_out = (o.resentment_out)(w, i);
        a.power = (o.power)(w, i);
    }
    for (g, gs) in s.groups.iter_mut().enumerate() {
        let o = &t.groups[g];
        gs.arrivals += o.arrivals;
        gs.need += o.need;
        gs.need_met += o.need_met;
        gs.referrals += o.referrals;
        gs.dumped += o.dumped;
        gs.fell_through += o.fell_through;
    }
    let n = w.n_agencies();
    for (m, ms) in s.mechanisms.iter_mut().enumerate() {
        let mech = &w.mechanisms[m];
        if let Some(h) = mech.host {
            ms.ticks_alive += 1;
            ms.host_ticks[h] += 1;
            if mech.kind == MechanismKind::Forum {
                for (a, x) in ms.agenda_sum.iter_mut().zip(&mech.agenda) {
                    *a += x;
                }
            }
        }
        for i in 0..n {
            if mech.is_member(i) {
                ms.member_ticks[i] += 1;
            }
            ms.cost[i] += t.mech_cost[m * n + i];
            ms.benefit[i] += t.mech_benefit[m * n + i];
        }
        ms.host_end = mech.host;
        ms.depth_end = mech.depth;
    }
    for k in 0..n * n {
        s.flows[k] += t.referrals[k] - prev_ref[k];
        s.dumped_flows[k] += t.dumped[k] - prev_dump[k];
    }
}

/// Rows of the three extra files, kept in memory (a lesson is small) and written at the end.
struct Extra {
    mechanisms: CsvBuf,
    agenda: CsvBuf,
    flows: CsvBuf,
}

impl Extra {
    fn new() -> Extra {
        let header = |cols: &str| {
            let mut c = CsvBuf::new();
            c.record(cols.split(','));
            c
        };
        Extra {
            mechanisms: header("tick,mechanism,kind,agency,member,host,cost,benefit,depth"),
            agenda: header("tick,mechanism,group,agenda_weight,need_share"),
            flows: header("tick,sender,receiver,referrals,dumped_referrals"),
        }
    }

    fn add(&mut self, w: &World, prev_ref: &[u64], prev_dump: &[u64]) {
        let n = w.n_agencies();
        let tick = w.tick.to_string();
        for (m, mech) in w.mechanisms.iter().enumerate() {
            for (i, a) in w.agencies.iter().enumerate() {
                self.mechanisms
                    .fields(&[&tick, &mech.name, mech.kind.as_str(), &a.name])
                    .fields(&[
                        &u8::from(mech.is_member(i)).to_string(),
                        &u8::from(mech.host == Some(i)).to_string(),
                    ])
                    .num(w.tally.mech_cost[m * n + i])
                    .num(w.tally.mech_benefit[m * n + i])
                    .num(mech.depth)
                    .end();
            }
            if mech.kind == MechanismKind::Forum && mech.alive() {
                for (g, grp) in w.groups.iter().enumerate() {
                    self.agenda
                        .fields(&[&tick, &mech.name, &grp.name])
                        .num(mech.agenda[g])
                        .num(grp.need_share)
                        .end();
                }
            }
        }
        for k in 0..n * n {
            let r = w.tally.referrals[k] - prev_ref[k];
            if r > 0 {
                let d = w.tally.dumped[k] - prev_dump[k];
                self.flows
                    .fields(&[
                        &tick,
                        &w.agencies[k / n].name,
                        &w.agencies[k % n].name,
                        &r.to_string(),
                        &d.to_string(),
                    ])
                    .end();
            }
        }
    }
}

/// The extra files an arm writes beside the run's CSV files.
pub const EXTRA_FILES: [&str; 3] = ["mechanisms.csv", "agenda.csv", "flows.csv"];

/// Where the lesson's scenario came from, for the manifest.
pub struct Source<'a> {
    pub lesson: &'a str,
    pub path: &'a str,
    pub text: &'a str,
    pub overrides: &'a [String],
}

/// One arm in progress.
pub struct ArmRun {
    pub arm: Arm,
    pub dir: PathBuf,
    pub sim: Simulation,
    writer: Option<RunWriter>,
    extra: Extra,
    obs: Obs,
    prev_ref: Vec<u64>,
    prev_dump: Vec<u64>,
    /// The span in progress (the current period) and the whole run so far.
    current: Span,
    pub run: Span,
    /// The month last run alone.
    pub month: Span,
    /// Closed periods.
    pub periods: Vec<Span>,
    /// Whether this is a baseline arm (the lesson without its overrides).
    pub baseline: bool,
    /// Who decides, for the manifest: the arm's behaviour choice, or a class town's note.
    pub behaviour: String,
    started: String,
    scenario_name: String,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> TeachError + '_ {
    move |source| TeachError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl ArmRun {
    pub fn new(s: &Scenario, seed: u64, arm: Arm, dir: PathBuf) -> Result<ArmRun, TeachError> {
        let sim = Simulation::new(s, seed, arm.choice());
        let writer = RunWriter::create(&dir).map_err(io_err(&dir))?;
        let n = sim.world.n_agencies();
        let current = Span::new(&sim.world, 1);
        let run = current.clone();
        let month = current.clone();
        Ok(ArmRun {
            arm,
            dir,
            writer: Some(writer),
            extra: Extra::new(),
            obs: Obs::new(),
            prev_ref: vec![0; n * n],
            prev_dump: vec![0; n * n],
            current,
            run,
            month,
            periods: Vec::new(),
            baseline: false,
            behaviour: arm.choice().as_str().to_string(),
            started: output::now_rfc3339(),
            scenario_name: s.name.clone(),
            sim,
        })
    }

    /// Advance one tick, record it, and add it to the current period and the run.
    pub fn step(&mut self) -> Result<(), TeachError> {
        self.sim.step()?;
        let w = &self.sim.world;
        if let Some(wr) = self.writer.as_mut() {
            wr.observe(w).map_err(io_err(&self.dir))?;
        }
        self.extra.add(w, &self.prev_ref, &self.prev_dump);
        add_tick(
            &mut self.current,
            w,
            &self.obs,
            &self.prev_ref,
            &self.prev_dump,
        );
        add_tick(&mut self.run, w, &self.obs, &self.prev_ref, &self.prev_dump);
        self.month = Span::new(w, w.tick);
        add_tick(
            &mut self.month,
            w,
            &self.obs,
            &self.prev_ref,
            &self.prev_dump,
        );
        self.prev_ref.copy_from_slice(&w.tally.referrals);
        self.prev_dump.copy_from_slice(&w.tally.dumped);
        Ok(())
    }

    /// Close the current period and start the next.
    pub fn close_period(&mut self) -> &Span {
        let next = Span::new(&self.sim.world, self.sim.world.tick + 1);
        let done = std::mem::replace(&mut self.current, next);
        self.periods.push(done);
        self.periods.last().expect("just pushed")
    }

    /// Finish the run's files: the CSV files, the three extra files and `manifest.json`.
    pub fn finish(&mut self, src: &Source<'_>) -> Result<(), TeachError> {
        let dir = self.dir.clone();
        if let Some(wr) = self.writer.take() {
            wr.finish(&self.sim.world).map_err(io_err(&dir))?;
        }
        let x = &mut self.extra;
        for (name, rows) in [
            ("mechanisms.csv", &mut x.mechanisms),
            ("agenda.csv", &mut x.agenda),
            ("flows.csv", &mut x.flows),
        ] {
            output::write_atomic(&dir, name, rows.as_bytes()).map_err(io_err(&dir.join(name)))?;
        }
        let w = &self.sim.world;
        let mut files: Vec<&str> = output::RUN_FILES.to_vec();
        files.extend(EXTRA_FILES);
        let manifest = serde_json::json!({
            "silos_version": env!("CARGO_PKG_VERSION"),
            "build": output::build_info(),
            "lesson": src.lesson,
            "scenario": {
                "name": self.scenario_name,
                "path": src.path,
                "sha256": output::sha256_hex(src.text.as_bytes()),
            },
            "seed": self.sim.seed,
            "ticks": w.tick,
            "behaviour": self.behaviour,
            "overrides": src.overrides,
            "agencies": w.agencies.iter().map(|a| serde_json::json!({
                "agency": a.name, "level": a.level.as_str(), "behaviour": a.family.as_str(),
            })).collect::<Vec<_>>(),
            "files": files,
            "started": self.started,
            "finished": output::now_rfc3339(),
        });
        let text = serde_json::to_string_pretty(&manifest).unwrap_or_default() + "\n";
        output::write_atomic(&dir, "manifest.json", text.as_bytes())
            .map_err(io_err(&dir.join("manifest.json")))
    }
}
