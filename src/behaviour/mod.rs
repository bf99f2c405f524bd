//! Decision rules. A behaviour family is one implementation of [`Behaviour`].
//!
//! # The contract
//!
//! A rule is a *pure policy*: it reads the world (`&World`), its own agency's index and,
//! where a choice is random, draws from **its own agency's** random stream. It returns a
//! decision; the step code (`model/step.rs`) applies it, checks it against what the world
//! allows (money, staff time, statutory duties) and records what happened. A rule never
//! mutates the world, another agency, or any other stream, and it never reports its own
//! outcomes: observables are measured from outside (`metrics.rs`), the same way for every
//! family, so no family scores well by definition.
//!
//! Why the engine applies decisions: one place enforces conservation of cases, money and
//! staff time, and families can be swapped or mixed in one arena without the engine knowing
//! which is which. The engine never branches on a family; [`build`] is the only place a
//! family name maps to code.

mod bounded;
mod bp;
mod ra;

pub use bounded::RaBounded;
pub use bp::BureaucraticPolitics;
pub use ra::RaSynoptic;

use rand_chacha::ChaCha8Rng;

use crate::model::{Case, RuleState, World};
use crate::scenario::{BehaviourParams, Family};

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
    pub held: u128,
    /// The agency that referred it here, if any.
    pub from: Option<usize>,
    /// Referrals and bounces so far.
    pub hops: u32,
    /// Whether a referral is still possible (hops below the hop limit).
    pub can_refer: bool,
}

impl CaseView<'_> {
    pub fn has_held(&self, j: usize) -> bool {
        self.held & (1u128 << j) != 0
    }
}

/// A decision rule. See the module docs for the contract.
pub trait Behaviour: Send + Sync {
    /// The family, for labelling output only.
    fn family(&self) -> Family;

    /// (f) Effort across targets: write into `out` the share of this tick's case time to
    /// earmark for each client group (sum at most 1); the rest stays flexible, open to any
    /// case and to joint work.
    fn effort(&self, w: &World, me: usize, out: &mut [f64]);

    /// (c) Accept, refer or decline a case this agency holds.
    fn triage(&self, w: &World, me: usize, case: &CaseView, rng: &mut ChaCha8Rng) -> Triage;

    /// For a need on dimension `dim` of a case it leads but does not cover itself, which
    /// partner to ask to serve it, if any (joint work).
    fn choose_partner(
        &self,
        w: &World,
        me: usize,
        case: &CaseView,
        dim: usize,
        rng: &mut ChaCha8Rng,
    ) -> Option<usize>;

    /// (a) Asked by `lead` to serve dimension `dim` of its case, whether to put in the work
    /// (a contribution to cross-cutting work). `pool_pays` says whether a pooled fund would
    /// pay the money cost.
    fn co_serve(
        &self,
        w: &World,
        me: usize,
        lead: usize,
        case: &CaseView,
        dim: usize,
        pool_pays: bool,
    ) -> bool;

    /// (b) Offer to host mechanism `m`, which has no host.
    fn volunteer_to_host(&self, w: &World, me: usize, m: usize, rng: &mut ChaCha8Rng) -> bool;

    /// (b) Go on hosting mechanism `m`, which this agency hosts.
    fn keep_hosting(&self, w: &World, me: usize, m: usize) -> bool;

    /// (d) Be a member of mechanism `m` this tick (join, stay, or leave).
    fn join(&self, w: &World, me: usize, m: usize) -> bool;

    /// (a) Money to pay into pooled fund `m` this tick.
    fn contribution(&self, w: &World, me: usize, m: usize) -> f64;

    /// (e) Bid over client groups for forum `m`'s agenda: write non-negative weights into
    /// `out` (the forum normalises them).
    fn agenda_bid(&self, w: &World, me: usize, m: usize, out: &mut [f64]);

    /// The target attainment to report, given the true figure and the favourable one
    /// (counting only the cases it chose to serve; game playing, 003:72).
    fn report(&self, w: &World, me: usize, true_attainment: f64, favourable: f64) -> f64;

    /// End of tick: update the rule's own state (aspiration).
    fn learn(&self, state: &mut RuleState);
}

/// The rule object for a family. The one place a family name maps to code.
pub fn build(family: Family, params: &BehaviourParams) -> Box<dyn Behaviour> {
    match family {
        Family::RaSynoptic => Box::new(RaSynoptic::new(params.ra.clone())),
        Family::RaBounded => Box::new(RaBounded::new(params.ra_bounded.clone())),
        Family::BureaucraticPolitics => Box::new(BureaucraticPolitics::new(params.bp.clone())),
    }
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

/// The system's value of mechanism `m` per candidate: an equal share of what it adds.
pub(crate) fn member_share_of_value(w: &World, m: usize) -> f64 {
    let mech = &w.mechanisms[m];
    mech.value / mech.candidates.len().max(1) as f64
}

/// What agency `me` expects mechanism `m` to add within its own remit per tick.
pub(crate) fn own_value(w: &World, me: usize, m: usize) -> f64 {
    w.mechanisms[m].own_value[me]
}

/// How much of the case's need weight lies on dimension `d`.
pub(crate) fn need_weight(case: &Case, d: usize) -> f64 {
    if case.total_need > 0.0 {
        case.needs[d] as f64 / case.total_need
    } else {
        0.0
    }
}

/// Whether `j` could serve dimension `d` of a case for `lead` now (remit, flexible staff
/// time for the work plus joint overhead).
pub(crate) fn partner_can(w: &World, j: usize, d: usize, case: &Case) -> bool {
    w.quality(j, d) > 0.0
        && w.agencies[j].flex + 1e-9 >= w.dim_staff(case.needs[d] as f64) + w.params.joint_overhead
}
