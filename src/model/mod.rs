//! The world: agencies, client groups, cases, coordination mechanisms and the relations
//! between agencies, held in flat vectors addressed by index. The model never does I/O.
//!
//! `World` is built once per run from a validated [`Scenario`]; `step.rs` advances it one
//! tick. Behaviour rules read the world through the query methods here and return decisions;
//! only the step code mutates it.

mod centre;
pub use centre::CentreContest;
mod learning;
pub mod ledger;
pub mod step;

pub use ledger::{Account, Ledger, Sink};
pub use step::{CaseStatus, FellReason};

use crate::scenario::{
    AgendaRule, Family, Funder, Level, MAX_DIMENSIONS, MAX_HOPS, MechanismKind, Scenario,
    SearchMode,
};

/// An agency's dispositions, drawn once per run from its family's distributions (or fixed
/// by the scenario for that agency). Written to `agencies.csv`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dispositions {
    /// Weight on organisational interest against the shared objective.
    pub lambda: f64,
    pub altruism: f64,
    pub reciprocity: f64,
    pub risk_aversion: f64,
    /// Initial aspiration (bounded search).
    pub aspiration: f64,
}

/// What the engine decides about an agency before the run: family, dispositions, search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentSetup {
    pub family: Family,
    pub disp: Dispositions,
    pub search: SearchMode,
}
use crate::tally::Tally;

/// A set of agencies: a bit set sized to the arena's agency count when the world is built,
/// so it grows with the arena (no cap) and nothing in the tick allocates.
pub type AgentSet = fixedbitset::FixedBitSet;

/// One agency's state.
#[derive(Debug, Clone)]
pub struct Agency {
    pub name: String,
    pub label: String,
    pub level: Level,
    pub family: Family,
    /// Dispositions drawn at the start of the run.
    pub disp: Dispositions,
    /// How it searches (synoptic or bounded).
    pub search: SearchMode,
    pub funder: Funder,
    /// Income this tick (changes only in funding rounds).
    pub income: f64,
    /// Income as the scenario gives it.
    pub base_income: f64,
    /// Monthly budget the centre allocated in the last budget round (the scenario's income
    /// under the formula rule). Funding rounds put part of it out to bid.
    pub budget: f64,
    /// What the agency saw over the budget year so far (reset at each budget round).
    pub year: YearTally,
    /// What it owes the centre for fixed costs it could not pay (deficits), repaid first out
    /// of later income.
    pub debt: f64,
    pub fixed_costs: f64,
    pub staff: f64,
    pub reporting_share: f64,
    /// Remit over need dimensions, 0..1.
    pub remit: Vec<f64>,
    /// The agency's own targets from the scenario (sum 1, or all 0).
    pub own_targets: Vec<f64>,
    /// Targets the centre holds it to this tick: its own, blended with the shared
    /// cross-cutting target when that lever is on (sum 1, or all 0).
    pub targets: Vec<f64>,
    /// Targets after forum agendas pull members toward agenda groups (sum at most 1).
    pub effective_targets: Vec<f64>,
    pub duties: Vec<bool>,
    pub information: f64,
    pub legitimacy_base: f64,
    pub legitimacy: f64,
    pub political_base: f64,
    pub political: f64,
    pub autonomy: f64,
    pub throughput_pay: f64,
    /// Whether the agency takes part in casework: it serves some dimension (remit at or above
    /// the floor) or is a first point of contact for some group. Others (policy departments)
    /// cannot be referred to.
    pub serves_cases: bool,
    /// Current power index, 0..1.
    pub power: f64,
    /// Staff-days earmarked to each group this tick.
    pub earmark: Vec<f64>,
    /// Staff-days not earmarked, open to any case and to joint work, this tick.
    pub flex: f64,
    /// State private to the agency's decision rule.
    pub rule: RuleState,
}

/// An agency's running totals over the budget year, which its budget bid looks back on.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct YearTally {
    pub ticks: u32,
    pub income: f64,
    /// Casework it could not afford.
    pub rationed: f64,
    /// Sum of the attainment it reported (over ticks with a figure).
    pub reported: f64,
    pub reported_n: u32,
}

/// State a decision rule keeps between ticks. Only the agency's own rule changes it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleState {
    /// Aspiration level (bounded rationality).
    pub aspiration: f64,
    /// Need met on the cases that reached this agency last tick, as a share (NaN if none).
    pub achieved: f64,
}

/// What agencies believe about each other and about need, learned from what they observe
/// (docs/ODD.md 7.14). Rules read beliefs, never the quantities they estimate.
#[derive(Debug, Clone)]
pub struct Beliefs {
    pub n: usize,
    pub n_groups: usize,
    /// accept[i * n + j]: i's belief that j accepts a case i refers to it.
    pub accept: Vec<f64>,
    /// reliable[i * n + j]: i's belief that j agrees when asked to serve on i's case.
    pub reliable: Vec<f64>,
    /// charge[i * n + j]: i's expected charge (k GBP) per referral to j, learned from the
    /// inspection charges it has paid.
    pub charge: Vec<f64>,
    /// need[i * G + g]: i's belief about group g's share of need.
    pub need: Vec<f64>,
}

impl Beliefs {
    pub fn new(n: usize, n_groups: usize, prior: f64) -> Beliefs {
        Beliefs {
            n,
            n_groups,
            accept: vec![prior; n * n],
            reliable: vec![prior; n * n],
            charge: vec![0.0; n * n],
            need: vec![0.0; n * n_groups],
        }
    }

    pub fn accept(&self, i: usize, j: usize) -> f64 {
        self.accept[i * self.n + j]
    }

    pub fn reliable(&self, i: usize, j: usize) -> f64 {
        self.reliable[i * self.n + j]
    }

    pub fn charge(&self, i: usize, j: usize) -> f64 {
        self.charge[i * self.n + j]
    }

    pub fn need(&self, i: usize, g: usize) -> f64 {
        self.need[i * self.n_groups + g]
    }

    /// Move belief `b` toward observation `x` at rate `r`.
    pub fn learn(b: &mut f64, x: f64, r: f64) {
        *b += r * (x - *b);
    }
}

/// A client group.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub label: String,
    pub arrivals: f64,
    pub need_prob: Vec<f64>,
    pub need_size: f64,
    pub severity: f64,
    pub salience_base: f64,
    pub salience: f64,
    pub risk: f64,
    /// Cumulative entry shares over agencies, for drawing the first contact.
    pub entry_cdf: Vec<f64>,
    /// Last agency with a positive entry share (for a draw at the very top of the cdf).
    pub entry_last: usize,
    /// Share of all expected need (arrivals x need x severity) this group carries.
    pub need_share: f64,
    /// Chance a case of this group has two or more needs.
    pub multi_need_prob: f64,
}

/// A coordination mechanism and its current state.
#[derive(Debug, Clone)]
pub struct Mechanism {
    pub name: String,
    pub kind: MechanismKind,
    pub candidates: Vec<usize>,
    pub host_money: f64,
    pub host_staff: f64,
    pub member_staff: f64,
    pub threat: f64,
    pub growth: f64,
    pub decay: f64,
    pub agenda_rule: AgendaRule,
    pub gamma: f64,
    pub agenda_pull: f64,
    pub pool_share: f64,
    /// Index of the pool account (pooled funds only).
    pub pool: Option<usize>,
    pub host: Option<usize>,
    /// Members as a bit set over agencies (the host is a member), sized to the arena.
    pub members: AgentSet,
    pub depth: f64,
    /// Agenda weights over groups (forums), sum 1 once set.
    pub agenda: Vec<f64>,
    /// What the mechanism added last tick, measured (need met in case-equivalents). For
    /// output only: no rule reads it; agencies act on their beliefs below.
    pub value: f64,
    /// The prior of every agency's belief about `value`: `search.mechanism_prior` times what
    /// the mechanism costs the arena. Beliefs drift back to it while the mechanism is
    /// unhosted.
    pub prior_value: f64,
    /// Each agency's belief about what the mechanism adds to the arena per tick.
    pub value_belief: Vec<f64>,
    /// Each agency's belief about what the mechanism adds within its own work per tick
    /// (prior: an equal share of the prior value), learned while a member.
    pub own_value: Vec<f64>,
    /// Each candidate's belief that another candidate would host if it did not.
    pub others_host: Vec<f64>,
    /// Each member's belief about its partners' contribution ratio (pooled funds).
    pub contrib_belief: Vec<f64>,
    /// Each agency's belief about the sanctions (k GBP a tick) it risks in this mechanism.
    pub sanction_belief: Vec<f64>,
    /// Fines each member suffered in this mechanism this tick (scratch, reset each tick).
    pub fined: Vec<f64>,
    /// Last tick: each agency's pool contribution as a share of its fair share (pooled funds).
    pub contrib_ratio: Vec<f64>,
    /// Last tick: pool money spent on each agency's cases.
    pub pool_paid: Vec<f64>,
    /// Ticks since the mechanism last had a host (0 while hosted).
    pub vacancy: u32,
}

impl Mechanism {
    pub fn is_member(&self, a: usize) -> bool {
        self.members.contains(a)
    }

    pub fn n_members(&self) -> u32 {
        self.members.count_ones(..) as u32
    }

    /// A mechanism is alive while it has a host.
    pub fn alive(&self) -> bool {
        self.host.is_some()
    }
}

/// A case: one person with needs over several dimensions.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub group: usize,
    pub entry: usize,
    pub needs: [f32; MAX_DIMENSIONS],
    pub n_needs: u8,
    /// Sum of need units over dimensions.
    pub total_need: f64,
    /// Uniform numbers drawn at arrival, one per hop, deciding referral losses.
    pub loss_u: [f32; MAX_HOPS],
    /// Uniform numbers drawn at arrival, one per hop, deciding whether referral inspection
    /// detects a dumped referral.
    pub inspect_u: [f32; MAX_HOPS],
}

/// Everything a run needs, in flat, index-addressed vectors.
#[derive(Debug, Clone)]
pub struct World {
    pub tick: u32,
    /// Output only: Moseley's Table 4 and 5 counts of the tick they were computed in
    /// (`patterns.rs`), so the observables that read them cost one pass a tick.
    pub pattern_cache: std::cell::Cell<(u32, [u32; 5], [u32; 5])>,
    pub dims: Vec<String>,
    pub params: crate::scenario::ModelParams,
    pub power_weights: crate::scenario::PowerWeights,
    pub agencies: Vec<Agency>,
    pub groups: Vec<Group>,
    pub mechanisms: Vec<Mechanism>,
    pub ledger: Ledger,
    /// Agency indices in funding order: every funder before the agencies it funds.
    pub funding_order: Vec<usize>,
    /// trust[i * n + j]: i's trust in j, -1..1.
    pub trust: Vec<f64>,
    /// resentment[i * n + j]: i's resentment of j as a free rider, >= 0.
    pub resentment: Vec<f64>,
    /// favours[i * n + j]: favours i has done for j (decaying count).
    pub favours: Vec<f64>,
    /// knowledge[i * n + j]: shared knowledge and culture of i and j, 0..1, symmetric.
    pub knowledge: Vec<f64>,
    /// Beliefs agencies hold about each other and about need (see [`Beliefs`]).
    pub beliefs: Beliefs,
    /// The information and search settings (`[search]`).
    pub search: crate::scenario::SearchParams,
    /// The families' motives (for observables that read an agency's response function).
    pub behaviours: crate::scenario::BehaviourParams,
    /// servers[d]: agencies in casework that serve dimension `d` themselves (quality > 0),
    /// in index order. The triage and partner searches look here, not at every agency.
    pub servers: Vec<Vec<usize>>,
    /// server_mask[d]: the same as a bit set.
    pub server_mask: Vec<AgentSet>,
    /// known[i]: agencies that share a live protocol with `i` this tick (bit set): what
    /// information sharing lets a bounded agency see besides its contacts.
    pub known: Vec<AgentSet>,
    /// reach[j * D + d]: the best service on dimension `d` agency `j` could get from a
    /// partner this tick (quality x the join penalty), refreshed each tick.
    pub reach: Vec<f64>,
    /// reach_join[j * D + d]: how joined-up `j` is with that best partner.
    pub reach_join: Vec<f64>,
    /// Expected money cost of a case, for putting costs on the scale of need met.
    pub mean_case_cost: f64,
    /// Expected need units of a case (converts need met to case-equivalents).
    pub mean_case_need: f64,
    /// Money value of a staff-day.
    pub staff_value: f64,
    /// Cases arriving this tick (buffer reused every tick).
    pub cases: Vec<Case>,
    /// What happened this tick and over the run, read by the observables.
    pub tally: Tally,
    /// The centre's levers in force this tick.
    pub levers: crate::levers::Levers,
    /// The other set (levers off while the scenario's are on, or the reverse), swapped in
    /// when the tick crosses `levers.active_from` or `active_until`.
    pub levers_parked: crate::levers::Levers,
    /// Whether the scenario's levers are the ones in force.
    pub levers_active: bool,
    /// Current central initiatives: (client group, tick at which it ends).
    pub initiatives: Vec<(usize, u32)>,
}

impl World {
    /// Build the initial world from a scenario with each agency's family already decided.
    pub fn new(s: &Scenario, setups: &[AgentSetup]) -> World {
        let n = s.agencies.len();
        let n_groups = s.groups.len();
        let p = &s.model;
        let mut groups: Vec<Group> = s
            .groups
            .iter()
            .map(|g| {
                let mut acc = 0.0;
                let entry_cdf = g
                    .entry
                    .iter()
                    .map(|e| {
                        acc += e;
                        acc
                    })
                    .collect();
                Group {
                    name: g.name.clone(),
                    label: g.label.clone(),
                    arrivals: g.arrivals,
                    need_prob: g.need_prob.clone(),
                    need_size: g.need_size,
                    severity: g.severity,
                    salience_base: g.salience,
                    salience: g.salience,
                    risk: g.risk,
                    entry_cdf,
                    entry_last: g.entry.iter().rposition(|&e| e > 0.0).unwrap_or(0),
                    need_share: 0.0,
                    multi_need_prob: multi_need_prob(&g.need_prob),
                }
            })
            .collect();
        // Expected need per tick by group (a case has at least one need: see step.rs).
        let expected: Vec<f64> = groups
            .iter()
            .map(|g| g.arrivals * expected_needs(&g.need_prob) * g.need_size * g.severity)
            .collect();
        let total: f64 = expected.iter().sum();
        for (g, e) in groups.iter_mut().zip(&expected) {
            g.need_share = if total > 0.0 {
                e / total
            } else {
                1.0 / n_groups as f64
            };
        }
        let mean_need = {
            let w: f64 = groups.iter().map(|g| g.arrivals).sum();
            if w > 0.0 {
                groups
                    .iter()
                    .map(|g| g.arrivals * expected_needs(&g.need_prob) * g.need_size)
                    .sum::<f64>()
                    / w
            } else {
                1.0
            }
        };
        let mean_case_cost = (mean_need * p.unit_cost).max(1e-9);
        let staff_value = p.unit_cost / p.unit_staff;

        let agencies: Vec<Agency> = s
            .agencies
            .iter()
            .zip(setups)
            .enumerate()
            .map(|(i, (a, setup))| Agency {
                serves_cases: a.remit.iter().any(|&r| r >= p.remit_floor && r > 0.0)
                    || s.groups.iter().any(|g| g.entry[i] > 0.0),
                name: a.name.clone(),
                label: a.label.clone(),
                level: a.level,
                family: setup.family,
                disp: setup.disp,
                search: setup.search,
                funder: a.funder,
                income: a.income,
                base_income: a.income,
                budget: a.income,
                year: YearTally::default(),
                debt: 0.0,
                fixed_costs: a.fixed_costs,
                staff: a.staff,
                reporting_share: a.reporting_share,
                remit: a.remit.clone(),
                own_targets: a.targets.clone(),
                targets: a.targets.clone(),
                effective_targets: a.targets.clone(),
                duties: a.duties.clone(),
                information: a.information,
                legitimacy_base: a.legitimacy,
                legitimacy: a.legitimacy,
                political_base: a.political,
                political: a.political,
                autonomy: a.autonomy,
                throughput_pay: a.throughput_pay,
                power: 0.0,
                earmark: vec![0.0; n_groups],
                flex: 0.0,
                rule: RuleState {
                    aspiration: setup.disp.aspiration,
                    achieved: f64::NAN,
                },
            })
            .collect();

        let mut n_pools = 0;
        let mechanisms: Vec<Mechanism> = s
            .mechanisms
            .iter()
            .map(|m| {
                let pool = if m.kind == MechanismKind::PooledFund {
                    n_pools += 1;
                    Some(n_pools - 1)
                } else {
                    None
                };
                Mechanism {
                    name: m.name.clone(),
                    kind: m.kind,
                    candidates: m.candidates.clone(),
                    host_money: m.host_money,
                    host_staff: m.host_staff,
                    member_staff: m.member_staff,
                    threat: m.threat,
                    growth: m.growth,
                    decay: m.decay,
                    agenda_rule: m.agenda_rule,
                    gamma: m.gamma,
                    agenda_pull: m.agenda_pull,
                    pool_share: m.pool_share,
                    pool,
                    host: None,
                    members: AgentSet::with_capacity(n),
                    depth: m.initial_depth,
                    agenda: groups.iter().map(|g| g.need_share).collect(),
                    // Priors are set once the world's scales are known (below).
                    value: 0.0,
                    prior_value: 0.0,
                    value_belief: vec![0.0; n],
                    own_value: vec![0.0; n],
                    others_host: vec![s.search.others_host_prior; n],
                    contrib_belief: vec![1.0; n],
                    sanction_belief: vec![0.0; n],
                    fined: vec![0.0; n],
                    contrib_ratio: vec![1.0; n],
                    pool_paid: vec![0.0; n],
                    vacancy: 0,
                }
            })
            .collect();

        let mut ledger = Ledger::new(n, n_pools);
        for (i, a) in s.agencies.iter().enumerate() {
            ledger.transfer(Account::Centre, Account::Agency(i), a.reserves);
        }

        // Funding order: repeatedly take agencies whose funder is already placed.
        let mut funding_order = Vec::with_capacity(n);
        let mut placed = vec![false; n];
        while funding_order.len() < n {
            for i in 0..n {
                if placed[i] {
                    continue;
                }
                let ready = match s.agencies[i].funder {
                    Funder::Centre => true,
                    Funder::Agency(j) => placed[j],
                };
                if ready {
                    placed[i] = true;
                    funding_order.push(i);
                }
            }
        }

        let mut w = World {
            tick: 0,
            pattern_cache: std::cell::Cell::new((u32::MAX, [0; 5], [0; 5])),
            dims: s.dimensions.clone(),
            params: s.model.clone(),
            power_weights: s.power.clone(),
            agencies,
            groups,
            mechanisms,
            ledger,
            funding_order,
            trust: vec![0.0; n * n],
            resentment: vec![0.0; n * n],
            favours: vec![0.0; n * n],
            knowledge: vec![0.0; n * n],
            beliefs: Beliefs::new(n, n_groups, s.search.partner_prior),
            search: s.search.clone(),
            behaviours: s.behaviours.clone(),
            servers: Vec::new(),
            server_mask: Vec::new(),
            known: vec![AgentSet::with_capacity(n); n],
            reach: vec![0.0; n * s.dimensions.len()],
            reach_join: vec![0.0; n * s.dimensions.len()],
            mean_case_cost,
            mean_case_need: mean_need.max(1e-9),
            staff_value,
            cases: Vec::with_capacity(case_capacity(s)),
            tally: Tally::new(n, n_groups, s.dimensions.len(), s.mechanisms.len()),
            levers: s.levers.clone(),
            levers_parked: s.levers.switched_off(),
            levers_active: true,
            initiatives: Vec::with_capacity(s.levers.p.initiatives as usize),
        };
        w.levers_active = w.levers.active_at(1);
        if !w.levers_active {
            std::mem::swap(&mut w.levers, &mut w.levers_parked);
        }
        w.set_centre_targets();
        for a in &mut w.agencies {
            a.effective_targets.copy_from_slice(&a.targets);
        }
        w.servers = (0..w.dims.len())
            .map(|d| {
                (0..n)
                    .filter(|&j| w.referrable(j) && w.quality(j, d) > 0.0)
                    .collect()
            })
            .collect();
        w.server_mask = w
            .servers
            .iter()
            .map(|v| {
                let mut m = AgentSet::with_capacity(n);
                for &j in v {
                    m.insert(j);
                }
                m
            })
            .collect();
        // Every agency starts believing need is shared as expected.
        for i in 0..n {
            for g in 0..n_groups {
                w.beliefs.need[i * n_groups + g] = w.groups[g].need_share;
            }
        }
        // A mechanism's prior value: what it costs the arena, times the prior multiple. It
        // must prove its worth (brief section 3).
        for m in 0..w.mechanisms.len() {
            let prior = s.search.mechanism_prior * w.system_cost(m);
            let k = w.mechanisms[m].candidates.len().max(1) as f64;
            let mech = &mut w.mechanisms[m];
            mech.prior_value = prior;
            mech.value_belief.fill(prior);
            mech.own_value.fill(prior / k);
        }
        w.update_power();
        w
    }

    pub fn n_agencies(&self) -> usize {
        self.agencies.len()
    }

    pub fn n_groups(&self) -> usize {
        self.groups.len()
    }

    pub fn reserves(&self, i: usize) -> f64 {
        self.ledger.balance(Account::Agency(i))
    }

    /// How close an agency is to not covering its fixed costs: 0 when reserves (less any
    /// debt) cover a year of fixed costs, rising to 1 as they run out.
    pub fn survival_pressure(&self, i: usize) -> f64 {
        let a = &self.agencies[i];
        let cushion = self.params.survival_horizon * a.fixed_costs;
        if cushion <= 0.0 {
            0.0
        } else {
            (1.0 - (self.reserves(i) - a.debt) / cushion).clamp(0.0, 1.0)
        }
    }

    pub fn trust(&self, i: usize, j: usize) -> f64 {
        self.trust[i * self.n_agencies() + j]
    }

    pub fn favours(&self, i: usize, j: usize) -> f64 {
        self.favours[i * self.n_agencies() + j]
    }

    pub fn resentment(&self, i: usize, j: usize) -> f64 {
        self.resentment[i * self.n_agencies() + j]
    }

    pub fn knowledge(&self, i: usize, j: usize) -> f64 {
        self.knowledge[i * self.n_agencies() + j]
    }

    /// Quality with which agency `j` serves dimension `d` on its own: its remit if at least
    /// the remit floor, else 0 (it does not do that work).
    pub fn quality(&self, j: usize, d: usize) -> f64 {
        let r = self.agencies[j].remit[d];
        if r >= self.params.remit_floor { r } else { 0.0 }
    }

    /// Need met (0..1) by combining per-dimension service levels `s` with the case's need
    /// weights `w_d` (need on `d` over the case's total): a blend of the weighted mean and a
    /// complementarity term, `1 - max_d (w_d / w_max) (1 - s_d)`, the shortfall on the worst
    /// served need, counted by its size against the largest need (003:30, 002:624). With
    /// equal needs the term is the minimum service level; a small need left unserved hurts
    /// less than a large one. This is the one need-met function: the engine scores cases
    /// with it and every rule values its options with it.
    pub fn combine(&self, case: &Case, s: &[f64]) -> f64 {
        let c = self.params.complementarity;
        let mut mean = 0.0;
        let mut w_max = 0.0f64;
        let mut worst = 0.0f64;
        let mut any = false;
        for (d, &need) in case.needs.iter().enumerate().take(self.dims.len()) {
            if need > 0.0 {
                any = true;
                let w = need as f64 / case.total_need;
                mean += w * s[d];
                w_max = w_max.max(w);
                worst = worst.max(w * (1.0 - s[d]));
            }
        }
        if !any || w_max <= 0.0 {
            return 0.0;
        }
        (1.0 - c) * mean + c * (1.0 - worst / w_max)
    }

    /// Refresh the per-tick caches the searches read: who shares a live protocol with whom
    /// (`known`), and the best partner service each agency could reach on each dimension
    /// (`reach`). Called once a tick after the mechanisms phase.
    pub fn refresh_caches(&mut self) {
        let n = self.n_agencies();
        for k in &mut self.known {
            k.clear();
        }
        for m in &self.mechanisms {
            if m.kind == MechanismKind::Protocol && m.alive() {
                for i in m.members.ones() {
                    self.known[i].union_with(&m.members);
                }
            }
        }
        for (i, k) in self.known.iter_mut().enumerate() {
            k.remove(i);
        }
        let n_dims = self.dims.len();
        let frag = self.params.fragmentation_penalty;
        for j in 0..n {
            for d in 0..n_dims {
                let (mut best, mut best_join) = (0.0f64, 0.0);
                for &p in &self.servers[d] {
                    if p == j {
                        continue;
                    }
                    let (jm, _) = self.mechanism_join(j, p, usize::MAX);
                    let join = 1.0 - (1.0 - jm) * (1.0 - self.knowledge(j, p));
                    let v = self.quality(p, d) * (1.0 - frag * (1.0 - join));
                    if v > best {
                        best = v;
                        best_join = join;
                    }
                }
                self.reach[j * n_dims + d] = best;
                self.reach_join[j * n_dims + d] = best_join;
            }
        }
    }

    /// What agency `j` could achieve as lead on a case (need met, 0..1) and what serving it
    /// would cost the arena (k GBP): its own dimensions as far as its time and money go, the
    /// others through the best partner it could reach, with every dimension's service cut by
    /// the fragmentation penalty when partners are involved (the same function the engine
    /// scores cases with). Partner costs are priced at the lead's own edge-of-remit rate.
    pub fn expected_lead(&self, j: usize, case: &Case) -> (f64, f64) {
        let n_dims = self.dims.len();
        let a = &self.agencies[j];
        let floor = self.params.remit_floor;
        let (unit_cost, unit_staff) = (self.params.unit_cost, self.params.unit_staff);
        let reach = &self.reach[j * n_dims..(j + 1) * n_dims];
        let reach_join = &self.reach_join[j * n_dims..(j + 1) * n_dims];
        // One pass: own service levels, own staff and cost, partners' service and cost.
        let mut s = [0.0f64; MAX_DIMENSIONS];
        let mut own = [false; MAX_DIMENSIONS];
        let (mut own_t, mut own_c, mut partner_c) = (0.0, 0.0, 0.0);
        let (mut partner_dims, mut join_sum) = (0.0, 0.0);
        for d in 0..n_dims {
            let need = case.needs[d] as f64;
            if need <= 0.0 {
                continue;
            }
            let r = a.remit[d];
            let edge =
                need * unit_cost * ((1.0 + self.params.edge_cost) - self.params.edge_cost * r);
            if r >= floor && r > 0.0 {
                s[d] = r;
                own[d] = true;
                own_t += need * unit_staff;
                own_c += edge;
            } else if reach[d] > 0.0 {
                s[d] = reach[d];
                partner_dims += 1.0;
                join_sum += reach_join[d];
                partner_c += edge;
            }
        }
        let mut frac = 1.0f64;
        if own_t > 0.0 {
            frac = frac.min((a.earmark[case.group] + a.flex) / own_t);
        }
        if own_c > 0.0 {
            frac = frac.min(self.reserves(j).max(0.0) / own_c);
        }
        let frac = frac.clamp(0.0, 1.0);
        let own_scale = if partner_dims > 0.0 {
            let jbar = (join_sum / partner_dims).clamp(0.0, 1.0);
            frac * (1.0 - self.params.fragmentation_penalty * (1.0 - jbar))
        } else {
            frac
        };
        for d in 0..n_dims {
            if own[d] {
                s[d] *= own_scale;
            }
        }
        (self.combine(case, &s), own_c * frac + partner_c)
    }

    /// Share of the case's need weight agency `j` covers, quality-weighted (an output
    /// measure: what it did, whatever happened to the rest of the case).
    pub fn coverage(&self, j: usize, case: &Case) -> f64 {
        let mut c = 0.0;
        for (d, &need) in case.needs.iter().enumerate().take(self.dims.len()) {
            if need > 0.0 {
                c += self.quality(j, d) * need as f64 / case.total_need;
            }
        }
        c
    }

    /// Whether a case may be referred to agency `j`.
    pub fn referrable(&self, j: usize) -> bool {
        self.agencies[j].serves_cases
    }

    /// Need met (0..1) if agency `j` served the case alone, with no partners.
    pub fn fit(&self, j: usize, case: &Case) -> f64 {
        let mut s = [0.0; MAX_DIMENSIONS];
        for (d, v) in s.iter_mut().enumerate().take(self.dims.len()) {
            *v = self.quality(j, d);
        }
        self.combine(case, &s)
    }

    /// Money agency `j` would spend serving the dimensions of the case within its remit.
    pub fn own_cost(&self, j: usize, case: &Case) -> f64 {
        let mut cost = 0.0;
        for (d, &need) in case.needs.iter().enumerate().take(self.dims.len()) {
            if need > 0.0 && self.quality(j, d) > 0.0 {
                cost += self.dim_cost(j, d, need as f64);
            }
        }
        cost
    }

    /// Money agency `j` spends serving `need` units on dimension `d`: working at the edge of
    /// its remit costs more (up to double at remit 0).
    pub fn dim_cost(&self, j: usize, d: usize, need: f64) -> f64 {
        let e = self.params.edge_cost;
        need * self.params.unit_cost * ((1.0 + e) - e * self.agencies[j].remit[d])
    }

    /// Staff-days agency `j` needs to serve `need` units.
    pub fn dim_staff(&self, need: f64) -> f64 {
        need * self.params.unit_staff
    }

    /// Staff-days agency `j` would need for the dimensions of the case within its remit.
    pub fn own_staff(&self, j: usize, case: &Case) -> f64 {
        let mut t = 0.0;
        for (d, &need) in case.needs.iter().enumerate().take(self.dims.len()) {
            if need > 0.0 && self.quality(j, d) > 0.0 {
                t += self.dim_staff(need as f64);
            }
        }
        t
    }

    /// Staff-days open to agency `j` for a case of group `g`: its earmark for `g` plus its flex.
    pub fn time_for(&self, j: usize, g: usize) -> f64 {
        self.agencies[j].earmark[g] + self.agencies[j].flex
    }

    /// Whether agency `j` has the staff time and money to serve its part of the case now.
    pub fn capacity(&self, j: usize, case: &Case) -> bool {
        let t = self.own_staff(j, case);
        t <= self.time_for(j, case.group) + 1e-9
            && self
                .ledger
                .can_pay(Account::Agency(j), self.own_cost(j, case))
    }

    /// How strongly mechanisms join agencies `i` and `j` for a case of group `g`, 0..1, and
    /// the mechanism contributing most (the one credited with the gain).
    pub fn mechanism_join(&self, i: usize, j: usize, g: usize) -> (f64, Option<usize>) {
        let mut best = 0.0;
        let mut which = None;
        let n_groups = self.n_groups() as f64;
        for (k, m) in self.mechanisms.iter().enumerate() {
            if !m.alive() || !m.is_member(i) || !m.is_member(j) {
                continue;
            }
            let strength = match m.kind {
                MechanismKind::Protocol => m.depth,
                // A forum joins its members' work on the groups on its agenda (for no group
                // in particular, `g` = usize::MAX, at the agenda's average weight).
                MechanismKind::Forum => match m.agenda.get(g) {
                    Some(a) => m.depth * (a * n_groups).min(1.0),
                    None => m.depth,
                },
                // Money is a trigger, not a bond (002:911): half strength.
                MechanismKind::PooledFund => self.params.pool_bond * m.depth,
            };
            if strength > best {
                best = strength;
                which = Some(k);
            }
        }
        (best, which)
    }

    /// How joined-up agencies `i` and `j` are for a case of group `g`: mechanisms or shared
    /// knowledge, whichever route, 0..1 (002:911, 002:917).
    pub fn join(&self, i: usize, j: usize, g: usize) -> f64 {
        let (m, _) = self.mechanism_join(i, j, g);
        1.0 - (1.0 - m) * (1.0 - self.knowledge(i, j))
    }

    /// Depth of the deepest live protocol both agencies belong to (cuts referral losses).
    /// Two agencies that share no live protocol this tick (`known`, refreshed after the
    /// mechanisms phase) have depth 0 without a scan of the mechanisms.
    pub fn protocol_depth(&self, i: usize, j: usize) -> f64 {
        if i != j && !self.known[i].contains(j) {
            return 0.0;
        }
        self.mechanisms
            .iter()
            .filter(|m| {
                m.kind == MechanismKind::Protocol && m.alive() && m.is_member(i) && m.is_member(j)
            })
            .map(|m| m.depth)
            .fold(0.0, f64::max)
    }

    /// The live pooled fund both agencies belong to that can pay `amount`, if any.
    pub fn pool_covering(&self, i: usize, j: usize, amount: f64) -> Option<usize> {
        self.mechanisms.iter().position(|m| {
            m.kind == MechanismKind::PooledFund
                && m.alive()
                && m.is_member(i)
                && m.is_member(j)
                && m.pool
                    .is_some_and(|p| self.ledger.can_pay(Account::Pool(p), amount))
        })
    }

    /// The targets the centre holds each agency to: its own, blended with a shared
    /// cross-cutting target (need shares over all groups) by the lever's weight (001:125).
    pub fn set_centre_targets(&mut self) {
        let w_shared = self.levers.p.shared_target_weight;
        for a in &mut self.agencies {
            let own: f64 = a.own_targets.iter().sum();
            for ((t, o), g) in a.targets.iter_mut().zip(&a.own_targets).zip(&self.groups) {
                *t = if own > 0.0 {
                    (1.0 - w_shared) * o + w_shared * g.need_share
                } else {
                    w_shared * g.need_share
                };
            }
        }
    }

    /// Put the scenario's levers in force, or take them out, as the tick enters or leaves
    /// the levers' window.
    pub fn schedule_levers(&mut self) {
        let want = if self.levers_active {
            self.levers.active_at(self.tick)
        } else {
            self.levers_parked.active_at(self.tick)
        };
        if want != self.levers_active {
            std::mem::swap(&mut self.levers, &mut self.levers_parked);
            self.levers_active = want;
            self.set_centre_targets();
        }
    }

    /// The agenda rule forum `m` follows: the lever's, if set, else its own.
    pub fn agenda_rule(&self, m: usize) -> AgendaRule {
        self.levers
            .p
            .forum_rule
            .resolve(self.mechanisms[m].agenda_rule)
    }

    /// A host's own cost of hosting `m` in case-equivalents, after any reimbursement.
    pub fn host_cost_to_host(&self, m: usize) -> f64 {
        self.host_cost(m) * (1.0 - self.levers.p.host_reimbursement)
    }

    /// Whether membership of `m` is required of its candidates this tick (mandated
    /// information sharing, mandatory pooling, or a required joint plan).
    pub fn membership_required(&self, m: usize) -> bool {
        let p = &self.levers.p;
        match self.mechanisms[m].kind {
            MechanismKind::Protocol if p.mandate_information_sharing => true,
            MechanismKind::PooledFund if p.pooled_budget_share > 0.0 => true,
            _ => p.steer.joint_plan && self.levers.convene.contains(&m),
        }
    }

    /// Whether the centre keeps `m` hosted whatever its members decide.
    pub fn hosting_required(&self, m: usize) -> bool {
        self.membership_required(m) || self.levers.convene.contains(&m)
    }

    /// Expected sanction, in case-equivalents, for refusing to cooperate under a duty.
    pub fn expected_sanction(&self) -> f64 {
        let d = &self.levers.p.duty_to_cooperate;
        if d.mandate {
            d.enforcement * d.sanction / self.mean_case_cost
        } else {
            0.0
        }
    }

    /// How much the need met on `case` rises (0..1) if dimension `d` is served fully, given
    /// what agency `j` covers itself: the value of joining up under complementarity.
    pub fn outcome_gain(&self, j: usize, case: &Case, d: usize) -> f64 {
        let mut s = [0.0; MAX_DIMENSIONS];
        for (k, v) in s.iter_mut().enumerate().take(self.dims.len()) {
            *v = self.quality(j, k);
        }
        let before = self.combine(case, &s);
        s[d] = 1.0;
        self.combine(case, &s) - before
    }

    /// Whether agency `i` competes for funding with agency `j` (same funder, both providers,
    /// funding by competition or tender).
    pub fn rivals(&self, i: usize, j: usize) -> bool {
        self.levers.p.funding_mode != crate::levers::FundingMode::Formula
            && i != j
            && self.contestant(i)
            && self.contestant(j)
            && self.agencies[i].funder == self.agencies[j].funder
    }

    /// Whether agency `i` bids in funding rounds: a voluntary agency or accommodation provider.
    pub fn contestant(&self, i: usize) -> bool {
        matches!(
            self.agencies[i].level,
            Level::Voluntary | Level::Accommodation
        )
    }

    /// A mechanism's host cost in case-equivalents (money and staff time on the scale of the
    /// shared objective).
    pub fn host_cost(&self, m: usize) -> f64 {
        let m = &self.mechanisms[m];
        self.params.cost_weight * (m.host_money + m.host_staff * self.staff_value)
            / self.mean_case_cost
    }

    /// What mechanism `m` costs the whole arena per tick in case-equivalents: hosting plus
    /// every other candidate's staff time at meetings. Pool contributions are not counted:
    /// the money stays in the arena and is spent on casework.
    pub fn system_cost(&self, m: usize) -> f64 {
        let mech = &self.mechanisms[m];
        let others = mech.candidates.len().saturating_sub(1) as f64;
        self.host_cost(m)
            + others * self.params.cost_weight * mech.member_staff * self.staff_value
                / self.mean_case_cost
    }

    /// A member's participation cost in case-equivalents.
    /// What a member's participation costs the arena: its meeting staff time, in
    /// case-equivalents (pool contributions stay in the arena and are not a system cost).
    pub fn member_staff_cost(&self, m: usize) -> f64 {
        self.params.cost_weight * self.mechanisms[m].member_staff * self.staff_value
            / self.mean_case_cost
    }

    pub fn member_cost(&self, m: usize, i: usize) -> f64 {
        let mech = &self.mechanisms[m];
        let pool = if mech.kind == MechanismKind::PooledFund {
            mech.pool_share * self.agencies[i].income
        } else {
            0.0
        };
        self.params.cost_weight * (mech.member_staff * self.staff_value + pool)
            / self.mean_case_cost
    }

    /// Recompute every agency's power from its resources (001:46, 001:194).
    pub fn update_power(&mut self) {
        let n = self.n_agencies();
        let max_income = self
            .agencies
            .iter()
            .map(|a| a.income)
            .fold(0.0, f64::max)
            .max(1e-9);
        let total_income: f64 = self
            .agencies
            .iter()
            .map(|a| a.income)
            .sum::<f64>()
            .max(1e-9);
        let w = self.power_weights.clone();
        for i in 0..n {
            let finance = self.agencies[i].income / max_income;
            let leverage: f64 = self
                .agencies
                .iter()
                .filter(|a| a.funder == Funder::Agency(i))
                .map(|a| a.income)
                .sum::<f64>()
                / total_income;
            let a = &mut self.agencies[i];
            a.power = w.finance * finance
                + w.information * a.information
                + w.legitimacy * a.legitimacy
                + w.political * a.political
                + w.leverage * leverage.min(1.0);
        }
    }
}

/// Expected number of needs of a case, given each dimension's chance (at least one need).
fn expected_needs(p: &[f64]) -> f64 {
    let sum: f64 = p.iter().sum();
    let none: f64 = p.iter().map(|q| 1.0 - q).product();
    // When no need is drawn the case gets its most likely need: one extra need with
    // probability `none`.
    sum + none
}

fn multi_need_prob(p: &[f64]) -> f64 {
    let none: f64 = p.iter().map(|q| 1.0 - q).product();
    let one: f64 = p
        .iter()
        .enumerate()
        .map(|(i, &q)| {
            q * p
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, r)| 1.0 - r)
                .product::<f64>()
        })
        .sum();
    (1.0 - none - one).max(0.0)
}

/// Room for a tick's arrivals: mean plus a wide margin, so the buffer almost never grows.
fn case_capacity(s: &Scenario) -> usize {
    let mean: f64 = s.groups.iter().map(|g| g.arrivals).sum();
    (mean + 10.0 * mean.sqrt() + 64.0) as usize
}
