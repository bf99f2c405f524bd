//! Decisions. Every agency, whatever its family, decides through one choice architecture:
//! the same options, the same information, the same procedure. Families differ only in the
//! weights of their utility and in dispositions (brief section 3).
//!
//! # Layout: theory in one place, procedure in another
//!
//! - [`options`]: what each option would bring, valued twice: for the **shared objective**
//!   `W` (severity-weighted need met across the system, less what it costs the arena) and
//!   for the agency's **organisational interest** `O` (own targets, budget and survival,
//!   turf, blame, autonomy, workload, charges; residual altruism as a share of `W`).
//! - [`motives`]: how a family weighs them, `U = (1 - lambda) W + lambda O`. With lambda 0
//!   the organisational terms are multiplied by zero: rational administration exactly.
//! - [`choice`]: the procedure: which options an agency looks at (synoptic: every agency
//!   that could serve; bounded: a few contacts and its protocol partners, satisficing against
//!   an aspiration) and how it picks among them. Search is set per agency, not per family.
//! - Beliefs (about partners and mechanisms, [`crate::model::Beliefs`]) are learned by the
//!   engine from what each agency observes (`model/learning.rs`); rules read them.
//!
//! # The contract
//!
//! A rule is a *pure policy*: it reads the world (`&World`), its own agency's index and,
//! where a choice is random, draws from **its own agency's** random stream. It returns a
//! decision; the step code (`model/step.rs`) applies it, checks it against what the world
//! allows (money, staff time, statutory duties) and records what happened. A rule never
//! mutates the world, another agency, or any other stream, and it never reports its own
//! outcomes: observables are measured from outside (`metrics.rs`). A rule never reads an
//! observable's definition (what counts as dumping, capture or free riding) nor another
//! agency's power: power acts through institutions (forum rules, funding, duties) and
//! through what others do.
//!
//! Why the engine applies decisions: one place enforces conservation of cases, money and
//! staff time, and rules can be swapped or mixed in one arena (a classroom player's choices
//! can stand in for a rule) without the engine knowing which is which. [`build`] is the
//! only place a family maps to its motives; the engine never branches on a family.

mod choice;
pub mod motives;
pub mod options;
pub mod seat;

pub use choice::Deliberator;

use std::cell::{Cell, RefCell};

use rand_chacha::ChaCha8Rng;

use crate::model::{Case, RuleState, World};
use crate::scenario::{Family, MAX_DIMENSIONS, MAX_HOPS, Scenario};

/// What each agency could achieve leading one case (`World::expected_lead`), remembered while
/// the case is being routed. Nothing is served until the case is accepted, so the values
/// cannot change between hops; the memo only saves recomputing them. Cleared per case by the
/// engine in O(1) (a generation counter, so the cost does not grow with the arena);
/// allocated once per run, one slot per agency.
#[derive(Debug, Clone)]
pub struct LeadMemo {
    /// (generation the value belongs to, need met, cost).
    v: Vec<Cell<(u32, f64, f64)>>,
    generation: Cell<u32>,
    /// The agencies that serve any dimension the case needs, and the generation they were
    /// gathered for (once per case, reused at every hop).
    servers: RefCell<(u32, crate::model::AgentSet)>,
}

impl LeadMemo {
    pub fn new(n_agencies: usize) -> LeadMemo {
        LeadMemo {
            v: vec![Cell::new((0, f64::NAN, f64::NAN)); n_agencies],
            generation: Cell::new(1),
            servers: RefCell::new((0, crate::model::AgentSet::with_capacity(n_agencies))),
        }
    }

    /// Forget every value (a new case).
    pub fn clear(&self) {
        let g = self.generation.get().wrapping_add(1);
        if g == 0 {
            // After 2^32 - 1 cases: reset the slots so no stale value matches.
            for c in &self.v {
                c.set((0, f64::NAN, f64::NAN));
            }
            self.servers.borrow_mut().0 = 0;
            self.generation.set(1);
        } else {
            self.generation.set(g);
        }
    }

    /// Forget agency `j`'s value (its money changed: a price or charge was paid).
    pub fn forget(&self, j: usize) {
        self.v[j].set((0, f64::NAN, f64::NAN));
    }

    /// The agencies that serve any dimension `case` needs (what a synoptic agency looks
    /// at; iterate with `ones()` for index order), gathered once per case.
    pub fn case_servers(
        &self,
        w: &World,
        case: &Case,
    ) -> std::cell::Ref<'_, crate::model::AgentSet> {
        let g = self.generation.get();
        if self.servers.borrow().0 != g {
            let mut s = self.servers.borrow_mut();
            s.1.clear();
            for d in 0..w.dims.len() {
                if case.needs[d] > 0.0 {
                    s.1.union_with(&w.server_mask[d]);
                }
            }
            s.0 = g;
        }
        std::cell::Ref::map(self.servers.borrow(), |s| &s.1)
    }

    /// `World::expected_lead(j, case)`, computed once per case.
    pub fn lead(&self, w: &World, j: usize, case: &Case) -> (f64, f64) {
        let (g, a, b) = self.v[j].get();
        if g == self.generation.get() {
            return (a, b);
        }
        let x = w.expected_lead(j, case);
        self.v[j].set((self.generation.get(), x.0, x.1));
        x
    }
}

/// The agencies that have held a case on its way (never referred to again): at most the
/// hop limit plus one, so a short list, whatever the size of the arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    ids: [u32; MAX_HOPS + 1],
    len: u8,
}

impl Held {
    /// The entry agency alone.
    pub fn new(first: usize) -> Held {
        let mut ids = [0; MAX_HOPS + 1];
        ids[0] = first as u32;
        Held { ids, len: 1 }
    }

    /// Add an agency (ignored if present; the list never outgrows the hop limit + 1).
    pub fn push(&mut self, j: usize) {
        if !self.contains(j) && (self.len as usize) < self.ids.len() {
            self.ids[self.len as usize] = j as u32;
            self.len += 1;
        }
    }

    pub fn contains(&self, j: usize) -> bool {
        self.ids[..self.len as usize].contains(&(j as u32))
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.ids[..self.len as usize].iter().map(|&j| j as usize)
    }
}

/// What an agency holding a case does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage {
    /// Take the case on as lead agency.
    Accept,
    /// Refer it to another agency.
    Refer(usize),
    /// Refuse it. A case refused after a referral bounces back to the sender; refused at
    /// first contact, or at the hop limit, it falls through the cracks. An agency with a
    /// statutory duty toward the case's group cannot refuse: the engine treats its refusal
    /// as acceptance.
    Decline,
}

/// A case as an agency holding it sees it.
#[derive(Debug, Clone, Copy)]
pub struct CaseView<'a> {
    pub case: &'a Case,
    /// Agencies that already held the case (never referred to again).
    pub held: Held,
    /// The agency that referred it here, if any.
    pub from: Option<usize>,
    /// Referrals and bounces so far.
    pub hops: u32,
    /// Whether a referral is still possible (hops below the hop limit).
    pub can_refer: bool,
    /// Leads' expected achievement and the case's servers, remembered while the case is
    /// routed (the engine clears it per case).
    pub memo: &'a LeadMemo,
}

impl CaseView<'_> {
    /// What agency `j` could achieve leading this case (need met, cost to the arena).
    pub fn lead(&self, w: &World, j: usize) -> (f64, f64) {
        self.memo.lead(w, j, self.case)
    }

    pub fn has_held(&self, j: usize) -> bool {
        self.held.contains(j)
    }
}

/// A lead's question: who, if anyone, to ask to serve dimension `dim` of its case, given
/// who serves what so far (`server`, `NONE` = nobody) and at what level (`level`).
#[derive(Debug, Clone, Copy)]
pub struct PartnerQuery<'a> {
    pub case: &'a Case,
    pub dim: usize,
    pub server: &'a [u32; MAX_DIMENSIONS],
    pub level: &'a [f64; MAX_DIMENSIONS],
    /// Need met on the case as it stands (`World::joined_need_met` of `server`, `level`).
    pub base: f64,
}

/// A request to serve dimension `dim` of `lead`'s case.
#[derive(Debug, Clone, Copy)]
pub struct ServeRequest<'a> {
    pub case: &'a Case,
    pub lead: usize,
    pub dim: usize,
    /// How much the case's need met (0..1) would rise if the request is met, by the one
    /// need-met function (computed by the engine, the same for every agency asked).
    pub gain: f64,
    /// Whether a pooled fund both belong to would pay the money cost.
    pub pool_pays: bool,
}

/// A decision rule. See the module docs for the contract.
pub trait Behaviour: Send + Sync {
    /// The family, for labelling output only.
    fn family(&self) -> Family;

    /// Effort across targets: write into `out` the share of this tick's case time to
    /// earmark for each client group (sum at most 1); the rest stays open to any case and
    /// to joint work.
    fn effort(&self, w: &World, me: usize, out: &mut [f64]);

    /// Keep, refer or decline a case this agency holds.
    fn triage(&self, w: &World, me: usize, case: &CaseView, rng: &mut ChaCha8Rng) -> Triage;

    /// For a need of a case it leads but does not cover itself, which partner to ask, if any.
    fn choose_partner(
        &self,
        w: &World,
        me: usize,
        q: &PartnerQuery,
        rng: &mut ChaCha8Rng,
    ) -> Option<usize>;

    /// Asked to serve a need on a partner's case, whether to put in the work.
    fn co_serve(&self, w: &World, me: usize, req: &ServeRequest) -> bool;

    /// Offer to host mechanism `m`, which has no host.
    fn volunteer_to_host(&self, w: &World, me: usize, m: usize, rng: &mut ChaCha8Rng) -> bool;

    /// Go on hosting mechanism `m`, which this agency hosts.
    fn keep_hosting(&self, w: &World, me: usize, m: usize) -> bool;

    /// Be a member of mechanism `m` this tick (join, stay, or leave).
    fn join(&self, w: &World, me: usize, m: usize) -> bool;

    /// Money to pay into pooled fund `m` this tick (any amount from zero up).
    fn contribution(&self, w: &World, me: usize, m: usize) -> f64;

    /// Whether to sanction fellow member `target` of mechanism `m` (when sanctions are on).
    fn sanction(&self, w: &World, me: usize, m: usize, target: usize) -> bool;

    /// Its annual budget bid, as a multiple of its formula budget.
    fn budget_bid(&self, w: &World, me: usize) -> f64;

    /// Bid over client groups for forum `m`'s agenda: write non-negative weights into `out`
    /// (the forum's rule turns bids into an agenda).
    fn agenda_bid(&self, w: &World, me: usize, m: usize, out: &mut [f64]);

    /// The target attainment to report, given the true figure and the favourable one
    /// (counting only the cases it chose to serve; game playing, 003:72).
    fn report(&self, w: &World, me: usize, true_attainment: f64, favourable: f64) -> f64;

    /// End of tick: update the rule's own state (aspiration).
    fn learn(&self, state: &mut RuleState);
}

/// The rule object for an agency of `family`: the one choice procedure with that family's
/// motives. The one place a family maps to anything.
pub fn build(family: Family, s: &Scenario) -> Box<dyn Behaviour> {
    Box::new(Deliberator::new(
        family,
        s.behaviours.motives(family).clone(),
        s.search.clone(),
    ))
}

/// Logistic function.
pub(crate) fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Normalise `v` in place to sum 1 (left as is if it sums to 0).
pub(crate) fn normalise(v: &mut [f64]) {
    let s: f64 = v.iter().sum();
    if s > 0.0 {
        v.iter_mut().for_each(|x| *x /= s);
    }
}

/// How much of the case's need weight lies on dimension `d`.
pub(crate) fn need_weight(case: &Case, d: usize) -> f64 {
    if case.total_need > 0.0 {
        case.needs[d] as f64 / case.total_need
    } else {
        0.0
    }
}

/// Whether `j` could serve dimension `d` of a case now (remit, open staff time for the work
/// plus joint overhead).
pub fn partner_can(w: &World, j: usize, d: usize, case: &Case) -> bool {
    w.quality(j, d) > 0.0
        && w.agencies[j].flex + 1e-9 >= w.dim_staff(case.needs[d] as f64) + w.params.joint_overhead
}
