//! One tick (brief section 4). The order within a tick:
//!
//! 0. the levers' window (levers in or out of force);
//! 1. shocks (media salience) and central initiatives;
//! 2. budget round and funding round (if any), funding and fixed costs (a shortfall is
//!    recorded);
//! 3. staff time (reporting first, then what levers take);
//! 4. mechanisms (hosting, membership, costs, pooled contributions, agendas, depth), then the
//!    per-tick caches the searches read (`World::refresh_caches`);
//! 5. effort (earmarks by target);
//! 6. cases arrive and are triaged, referred, bounced, served (alone or jointly) or fall
//!    through; beliefs about partners are updated as referrals and requests happen;
//! 7. mechanisms' outcomes (resentment, measured value), peer sanctions; outcomes scored and
//!    inspected;
//! 8. beliefs learned (`learning.rs`), relations, aspiration and power updated;
//! 9. invariants checked.
//!
//! Mechanism decisions come before casework so that this tick's membership and agenda apply
//! to this tick's cases. Decisions come from the rules; this code applies them, enforcing
//! money, staff time and duties, and records everything in the tally.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::centre::CentreContest;
use super::{Account, Case, World};
use crate::behaviour::{Behaviour, CaseView, PartnerQuery, ServeRequest, Triage};
use crate::error::InvariantError;
use crate::levers::Accountability;
use crate::levers::PriceOn;
use crate::model::Beliefs;
use crate::model::Sink;
use crate::rng::{self, Stream, poisson};
use crate::scenario::{AgendaRule, Funder, MAX_DIMENSIONS, MAX_HOPS, MechanismKind};

/// The state a case ends a tick in. Every case ends in exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    Served,
    PartlyServed,
    FellThrough(FellReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FellReason {
    Refused,
    Lost,
    NothingMet,
}

/// The random streams of one run.
#[derive(Debug, Clone)]
pub struct Streams {
    pub arrivals: ChaCha8Rng,
    pub shocks: ChaCha8Rng,
    pub schedule: ChaCha8Rng,
    pub inspection: ChaCha8Rng,
    pub centre: ChaCha8Rng,
    pub enforcement: ChaCha8Rng,
    pub agencies: Vec<ChaCha8Rng>,
}

impl Streams {
    pub fn new(seed: u64, n_agencies: usize) -> Streams {
        Streams {
            arrivals: rng::stream(seed, Stream::Arrivals),
            shocks: rng::stream(seed, Stream::Shocks),
            schedule: rng::stream(seed, Stream::Schedule),
            inspection: rng::stream(seed, Stream::Inspection),
            centre: rng::stream(seed, Stream::Centre),
            enforcement: rng::stream(seed, Stream::Enforcement),
            agencies: (0..n_agencies)
                .map(|i| rng::agency_stream(seed, i))
                .collect(),
        }
    }
}

/// Buffers reused every tick.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// Leads' expected achievement on the case being routed.
    memo: crate::behaviour::LeadMemo,
    order: Vec<usize>,
    mech_order: Vec<usize>,
    effort: Vec<f64>,
    bids: Vec<f64>,
    agenda: Vec<f64>,
}

impl Scratch {
    pub fn new(w: &World) -> Scratch {
        let n = w.n_agencies();
        let g = w.n_groups();
        Scratch {
            memo: crate::behaviour::LeadMemo::new(n),
            order: (0..n).collect(),
            mech_order: (0..w.mechanisms.len()).collect(),
            effort: vec![0.0; g],
            bids: vec![0.0; g],
            agenda: vec![0.0; g],
        }
    }
}

/// Marks a dimension nobody serves.
pub const NONE: u32 = u32::MAX;

/// How joined-up a lead is with its partners on one case (see `World::join_terms`).
struct JoinTerms {
    partners: u32,
    join_sum: f64,
    knowledge_sum: f64,
    credited: Option<usize>,
}

/// What joined-up (or fragmented) service achieved on one case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JointOutcome {
    /// Need met, 0..1.
    pub met: f64,
    /// Need met had only shared knowledge joined the servers.
    pub met_knowledge_only: f64,
    /// Partners besides the lead.
    pub partners: u32,
    /// Mean join between the lead and its partners (1 when there are none).
    pub join_mean: f64,
    /// The mechanism credited with joining them, if any.
    pub credited: Option<usize>,
}

impl World {
    /// Advance one tick. Returns an error if an accounting invariant broke (a bug).
    pub fn step(
        &mut self,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
        scratch: &mut Scratch,
    ) -> Result<(), InvariantError> {
        self.begin_tick(rules, streams, scratch);
        self.finish_tick(rules, streams, scratch)
    }

    /// Phases 6-9 of a tick, after [`begin_tick`](World::begin_tick) (or its three phases):
    /// arrivals, casework, outcomes, learning and the invariant check.
    pub fn finish_tick(
        &mut self,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
        scratch: &mut Scratch,
    ) -> Result<(), InvariantError> {
        self.arrivals(&mut streams.arrivals);
        for k in 0..self.cases.len() {
            let case = self.cases[k];
            scratch.memo.clear();
            self.process_case(&case, rules, streams, &scratch.memo);
        }
        self.end_tick(rules, streams)
    }

    /// Phases 1-5 of a tick: shocks, initiatives, funding, staff time, mechanisms, targets
    /// and effort. Public so that tests can inspect the world just before casework.
    pub fn begin_tick(
        &mut self,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
        scratch: &mut Scratch,
    ) {
        let budget = self.open_tick(rules, streams);
        let bids = self.share_budgets_and_bid(&budget);
        self.close_rounds(rules, streams, scratch, &bids);
    }

    /// The start of a tick up to the centre's budget round: shocks, initiatives and the
    /// claims of the annual budget round. Returns what this arena brings to the centre's
    /// round. The first of the three phases of [`begin_tick`](World::begin_tick), which a
    /// national run calls with the centre's sums over every locality in between.
    pub fn open_tick(
        &mut self,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
    ) -> CentreContest {
        self.tally.reset_tick();
        self.tick += 1;
        self.schedule_levers();
        self.shocks(&mut streams.shocks);
        self.initiatives_update(&mut streams.centre);
        self.budget_claims(rules)
    }

    /// The second phase: the centre shares its budget envelope (`budget`, this arena's or
    /// the nation's), and the arena's bids to a funding round are counted.
    pub fn share_budgets_and_bid(&mut self, budget: &CentreContest) -> CentreContest {
        self.budget_shares(budget);
        self.funding_bids()
    }

    /// The third phase: funding-round awards (the centre's from `bids`, this arena's or the
    /// nation's), income, staff time, mechanisms, targets and effort.
    pub fn close_rounds(
        &mut self,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
        scratch: &mut Scratch,
        bids: &CentreContest,
    ) {
        self.funding_awards(bids);
        self.funding();
        self.open_staff_time();
        self.lever_staff();
        self.mechanisms(rules, streams, scratch);
        self.refresh_caches();
        self.effective_targets();
        self.effort(rules, scratch);
    }

    /// Phases 7-9: mechanism outcomes, scoring and inspection, relations, learning, power,
    /// and the invariant check.
    fn end_tick(
        &mut self,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
    ) -> Result<(), InvariantError> {
        self.mechanism_outcomes();
        self.sanctions(rules);
        self.outcomes(rules, &mut streams.inspection);
        self.learn_beliefs();
        self.relations();
        for i in 0..self.n_agencies() {
            let mut st = self.agencies[i].rule;
            rules[i].learn(&mut st);
            self.agencies[i].rule = st;
        }
        self.update_power();
        self.check_invariants()
    }

    // ---- 1. shocks --------------------------------------------------------------------------

    /// Media shocks raise a group's salience, which fades back to its base (001:113, 001:132);
    /// agencies whose targets cover salient groups gain political capital.
    fn shocks(&mut self, r: &mut ChaCha8Rng) {
        let decay = self.params.salience_decay;
        for g in &mut self.groups {
            g.salience = g.salience_base + (g.salience - g.salience_base) * (1.0 - decay);
        }
        let k = poisson(r, self.params.shock_rate);
        let n_groups = self.n_groups();
        for _ in 0..k {
            let g = r.random_range(0..n_groups);
            self.groups[g].salience += self.params.shock_size;
        }
        self.tally.shocks = k;
        for a in &mut self.agencies {
            let excess: f64 = self
                .groups
                .iter()
                .zip(&a.targets)
                .map(|(g, t)| t * (g.salience - g.salience_base))
                .sum();
            a.political = (a.political_base + self.params.political_gain * excess).clamp(0.0, 1.0);
        }
    }

    // ---- 2. funding ---------------------------------------------------------------------------

    fn funding(&mut self) {
        for k in 0..self.funding_order.len() {
            let i = self.funding_order[k];
            let a = &self.agencies[i];
            let from = match a.funder {
                Funder::Centre => Account::Centre,
                Funder::Agency(j) => Account::Agency(j),
            };
            // Outside funding rounds (formula funding, or after a funding lever ends) income
            // is the scenario's.
            let formula = self.levers.p.funding_mode == crate::levers::FundingMode::Formula;
            let income = if formula { a.budget } else { a.income };
            let fixed = a.fixed_costs;
            let paid = self.ledger.transfer(from, Account::Agency(i), income);
            // Debt from earlier deficits is repaid first, out of what it holds.
            let owed = self.agencies[i].debt;
            let repaid = if owed > 0.0 {
                self.ledger
                    .transfer(Account::Agency(i), Account::Centre, owed)
            } else {
                0.0
            };
            let spent = self
                .ledger
                .transfer(Account::Agency(i), Account::Sink(Sink::Core), fixed);
            // Fixed costs it cannot pay are not dropped: it runs a deficit, the centre covering
            // the rest as a loan that the agency owes (recorded as `debt`).
            let short = (fixed - spent).max(0.0);
            let lent = if short > 0.0 {
                self.ledger
                    .transfer(Account::Centre, Account::Sink(Sink::Core), short)
            } else {
                0.0
            };
            let a = &mut self.agencies[i];
            a.income = income;
            a.debt = (a.debt - repaid + lent).max(0.0);
            let t = &mut self.tally.agencies[i];
            t.income = paid;
            t.income_shortfall = income - paid;
            t.spend_core = spent + lent;
            t.fixed_shortfall = short;
            t.debt_repaid = repaid;
        }
    }

    // ---- 3. staff time ------------------------------------------------------------------------

    /// Start a tick's staff time: targets, plans and reporting take their share first
    /// (003:82); the rest is open (flexible) until effort earmarks part of it.
    pub fn open_staff_time(&mut self) {
        for (a, t) in self.agencies.iter_mut().zip(&mut self.tally.agencies) {
            t.staff_reporting = a.staff * a.reporting_share;
            a.flex = a.staff - t.staff_reporting;
            a.earmark.fill(0.0);
        }
    }

    // ---- 4. mechanisms ------------------------------------------------------------------------

    fn mechanisms(
        &mut self,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
        sc: &mut Scratch,
    ) {
        let n = self.n_agencies();
        // Poll agencies in an order drawn from the schedule stream.
        for i in (1..n).rev() {
            let j = streams.schedule.random_range(0..=i);
            sc.order.swap(i, j);
        }
        for i in (1..sc.mech_order.len()).rev() {
            let j = streams.schedule.random_range(0..=i);
            sc.mech_order.swap(i, j);
        }
        for k in 0..sc.mech_order.len() {
            let m = sc.mech_order[k];
            self.hosting(m, rules, streams, sc);
            self.membership(m, rules, streams, sc);
            self.mechanism_costs(m);
            if self.mechanisms[m].kind == MechanismKind::PooledFund {
                self.pool_contributions(m, rules);
            }
            if self.mechanisms[m].kind == MechanismKind::Forum {
                self.agenda(m, rules, sc);
            }
            let mech = &mut self.mechanisms[m];
            // Grows while nurtured by a host with members; decays otherwise (001:244).
            if mech.alive() && mech.n_members() >= 2 {
                mech.depth += mech.growth * (1.0 - mech.depth);
            } else {
                mech.depth *= 1.0 - mech.decay;
            }
        }
    }

    fn hosting(
        &mut self,
        m: usize,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
        sc: &Scratch,
    ) {
        // A host the centre names for a mechanism it convenes takes the role.
        if self.levers.convene.contains(&m)
            && let Some(h) = self.levers.steer_host
            && self.name_host(m) == Some(h)
        {
            self.mechanisms[m].host = Some(h);
        }
        if let Some(h) = self.mechanisms[m].host {
            let mech = &self.mechanisms[m];
            let can = self.ledger.can_pay(Account::Agency(h), mech.host_money)
                && self.agencies[h].flex >= mech.host_staff;
            // A host the centre requires stays while it can pay; others decide.
            if !(can && (self.hosting_required(m) || rules[h].keep_hosting(self, h, m))) {
                self.mechanisms[m].host = None;
            }
        }
        if self.mechanisms[m].host.is_none() {
            for &i in &sc.order {
                let mech = &self.mechanisms[m];
                if !mech.candidates.contains(&i) {
                    continue;
                }
                let can = self.ledger.can_pay(Account::Agency(i), mech.host_money)
                    && self.agencies[i].flex >= mech.host_staff;
                if can && rules[i].volunteer_to_host(self, i, m, &mut streams.agencies[i]) {
                    self.mechanisms[m].host = Some(i);
                    break;
                }
            }
        }
        if self.mechanisms[m].host.is_none() && self.hosting_required(m) {
            self.mechanisms[m].host = self.name_host(m);
        }
        let mech = &mut self.mechanisms[m];
        match mech.host {
            Some(h) => {
                mech.vacancy = 0;
                mech.members.insert(h);
            }
            None => {
                mech.vacancy += 1;
                mech.members.clear();
            }
        }
    }

    fn membership(
        &mut self,
        m: usize,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
        sc: &Scratch,
    ) {
        let Some(h) = self.mechanisms[m].host else {
            return;
        };
        let required = self.membership_required(m);
        let duty = self.levers.p.duty_to_cooperate.mandate;
        for &i in &sc.order {
            let mech = &self.mechanisms[m];
            if i == h || !mech.candidates.contains(&i) {
                continue;
            }
            let feasible = self.agencies[i].flex >= mech.member_staff;
            let chose = required || rules[i].join(self, i, m);
            if duty {
                // Under a duty to cooperate every candidate is checked; staying out is a breach.
                self.enforcement_cost();
                if !chose {
                    self.breach(i, &mut streams.enforcement);
                }
            }
            let want = feasible && chose;
            let mech = &mut self.mechanisms[m];
            mech.members.set(i, want);
        }
    }

    fn mechanism_costs(&mut self, m: usize) {
        let Some(h) = self.mechanisms[m].host else {
            return;
        };
        let n = self.n_agencies();
        let (host_money, host_staff, member_staff) = {
            let mech = &self.mechanisms[m];
            (mech.host_money, mech.host_staff, mech.member_staff)
        };
        let paid = self.ledger.transfer(
            Account::Agency(h),
            Account::Sink(Sink::Coordination),
            host_money,
        );
        self.agencies[h].flex -= host_staff;
        let r = self.levers.p.host_reimbursement;
        let reimbursed = if r > 0.0 {
            self.ledger.transfer(
                Account::Centre,
                Account::Agency(h),
                r * (host_money + host_staff * self.staff_value),
            )
        } else {
            0.0
        };
        let t = &mut self.tally.agencies[h];
        t.reimbursed += reimbursed;
        t.spend_hosting += paid;
        self.tally.mech_cost[m * n + h] -= reimbursed;
        t.staff_mechanisms += host_staff;
        t.hosting += 1;
        self.tally.mech_cost[m * n + h] += paid + host_staff * self.staff_value;
        for i in 0..n {
            if i == h || !self.mechanisms[m].is_member(i) {
                continue;
            }
            self.agencies[i].flex -= member_staff;
            let t = &mut self.tally.agencies[i];
            t.staff_mechanisms += member_staff;
            t.memberships += 1;
            self.tally.mech_cost[m * n + i] += member_staff * self.staff_value;
        }
        // A joint plan the centre requires takes every member's time (000:1138-1148).
        if self.levers.p.steer.joint_plan && self.levers.convene.contains(&m) {
            let plan = self.levers.centre.plan_staff;
            for i in 0..n {
                if self.mechanisms[m].is_member(i) {
                    let a = &mut self.agencies[i];
                    let got = plan.min(a.flex).max(0.0);
                    a.flex -= got;
                    self.tally.agencies[i].staff_levers += got;
                }
            }
        }
    }

    fn pool_contributions(&mut self, m: usize, rules: &[Box<dyn Behaviour>]) {
        let n = self.n_agencies();
        let Some(pool) = self.mechanisms[m].pool else {
            return;
        };
        if self.mechanisms[m].alive() {
            for i in 0..n {
                if !self.mechanisms[m].is_member(i) {
                    continue;
                }
                let want = rules[i].contribution(self, i, m);
                let want = if want.is_finite() && want > 0.0 {
                    want
                } else {
                    0.0
                };
                let paid = self
                    .ledger
                    .transfer(Account::Agency(i), Account::Pool(pool), want);
                let fair = self.mechanisms[m].pool_share * self.agencies[i].income;
                let ratio = if fair > 0.0 { paid / fair } else { 1.0 };
                self.mechanisms[m].contrib_ratio[i] = ratio;
                // The mean over the pools it pays into this tick.
                let t = &mut self.tally.agencies[i];
                t.pools += 1;
                t.contribution_ratio = if t.pools == 1 {
                    ratio
                } else {
                    t.contribution_ratio + (ratio - t.contribution_ratio) / t.pools as f64
                };
                self.tally.agencies[i].spend_pool += paid;
                self.tally.mech_cost[m * n + i] += paid;
                // Pooled budgets: a share of every member's income moves into the fund
                // (002:342), on top of what it chose to pay.
                let share = self.levers.p.pooled_budget_share;
                if share > 0.0 {
                    let moved = self.ledger.transfer(
                        Account::Agency(i),
                        Account::Pool(pool),
                        share * self.agencies[i].income,
                    );
                    self.tally.agencies[i].pooled_mandated += moved;
                    self.tally.agencies[i].spend_pool += moved;
                    self.tally.mech_cost[m * n + i] += moved;
                }
            }
        }
        self.mechanisms[m].pool_paid.fill(0.0);
    }

    /// Set forum `m`'s agenda from its members' bids under the forum's rule (its own, or the
    /// one the forum-rule lever imposes). A rule of the forum, not of the agents.
    pub fn agenda(&mut self, m: usize, rules: &[Box<dyn Behaviour>], sc: &mut Scratch) {
        if !self.mechanisms[m].alive() {
            return;
        }
        let rule = self.agenda_rule(m);
        sc.agenda.fill(0.0);
        match rule {
            AgendaRule::NeedWeighted => {
                for (o, g) in sc.agenda.iter_mut().zip(&self.groups) {
                    *o = g.need_share;
                }
            }
            AgendaRule::RotatingChair => {
                // The chair passes among members in index order, one tick each.
                let members = self.mechanisms[m].n_members();
                if members == 0 {
                    return;
                }
                let k = (self.tick as usize - 1) % members as usize;
                let chair = (0..self.n_agencies())
                    .filter(|&i| self.mechanisms[m].is_member(i))
                    .nth(k);
                let Some(chair) = chair else { return };
                sc.bids.fill(0.0);
                rules[chair].agenda_bid(self, chair, m, &mut sc.bids);
                let s: f64 = sc.bids.iter().filter(|b| b.is_finite() && **b > 0.0).sum();
                if s <= 0.0 {
                    return;
                }
                for (o, b) in sc.agenda.iter_mut().zip(&sc.bids) {
                    if b.is_finite() && *b > 0.0 {
                        *o = b / s;
                    }
                }
            }
            AgendaRule::PowerWeighted | AgendaRule::EqualVotes => {
                let gamma = self.mechanisms[m].gamma;
                let mut total_weight = 0.0;
                for i in 0..self.n_agencies() {
                    if !self.mechanisms[m].is_member(i) {
                        continue;
                    }
                    sc.bids.fill(0.0);
                    rules[i].agenda_bid(self, i, m, &mut sc.bids);
                    let s: f64 = sc.bids.iter().filter(|b| b.is_finite() && **b > 0.0).sum();
                    if s <= 0.0 {
                        continue;
                    }
                    let weight = if rule == AgendaRule::PowerWeighted {
                        self.agencies[i].power.powf(gamma)
                    } else {
                        1.0
                    };
                    total_weight += weight;
                    for (o, b) in sc.agenda.iter_mut().zip(&sc.bids) {
                        if b.is_finite() && *b > 0.0 {
                            *o += weight * b / s;
                        }
                    }
                }
                if total_weight <= 0.0 {
                    return;
                }
                sc.agenda.iter_mut().for_each(|o| *o /= total_weight);
            }
        }
        self.mechanisms[m].agenda.copy_from_slice(&sc.agenda);
    }

    /// After casework: members who bore more of a mechanism's cost than they got of its
    /// benefit resent those whose share of the benefit exceeds their share of the cost: free
    /// riders (001:182, 001:201). The mechanism's measured value (for output) follows what
    /// it added; agencies' beliefs are updated in `learn_beliefs`.
    fn mechanism_outcomes(&mut self) {
        let n = self.n_agencies();
        let step = self.params.trust_step;
        let per_case = self.mean_case_need;
        for m in 0..self.mechanisms.len() {
            if !self.mechanisms[m].alive() {
                self.mechanisms[m].value = 0.0;
                continue;
            }
            let cost: f64 = (0..n).map(|i| self.tally.mech_cost[m * n + i]).sum();
            let benefit: f64 = (0..n).map(|i| self.tally.mech_benefit[m * n + i]).sum();
            if self.mechanisms[m].n_members() >= 2 && cost > 0.0 && benefit > 0.0 {
                for i in 0..n {
                    if !self.mechanisms[m].is_member(i) {
                        continue;
                    }
                    let net_i = self.tally.mech_cost[m * n + i] / cost
                        - self.tally.mech_benefit[m * n + i] / benefit;
                    if net_i <= 0.0 {
                        continue;
                    }
                    for j in 0..n {
                        if j == i || !self.mechanisms[m].is_member(j) {
                            continue;
                        }
                        let gap = (self.tally.mech_benefit[m * n + j] / benefit
                            - self.tally.mech_cost[m * n + j] / cost)
                            .max(0.0);
                        self.resentment[i * n + j] += step * gap;
                        self.trust[i * n + j] = (self.trust[i * n + j] - step * gap).max(-1.0);
                    }
                }
            }
            self.mechanisms[m].value = benefit / per_case;
        }
    }

    /// Peer sanctions (levers.sanctions; 001:182, 001:201): each member of a live mechanism
    /// may sanction a fellow member it resents. The fine and the sanctioner's cost are lost.
    /// Every member then updates its belief about the sanctions it risks in that mechanism
    /// (fines suffered this tick; zero when sanctions are off, so the belief fades after the
    /// lever ends).
    fn sanctions(&mut self, rules: &[Box<dyn Behaviour>]) {
        let n = self.n_agencies();
        let (fine, cost) = (self.levers.p.sanctions.fine, self.levers.p.sanctions.cost);
        let rate = self.search.belief_rate;
        for m in 0..self.mechanisms.len() {
            self.mechanisms[m].fined.fill(0.0);
            if !self.mechanisms[m].alive() {
                continue;
            }
            if fine > 0.0 {
                for i in 0..n {
                    if !self.mechanisms[m].is_member(i) {
                        continue;
                    }
                    for j in 0..n {
                        if j == i
                            || !self.mechanisms[m].is_member(j)
                            || self.resentment[i * n + j] <= 0.0
                            || !rules[i].sanction(self, i, m, j)
                        {
                            continue;
                        }
                        let c = self.ledger.transfer(
                            Account::Agency(i),
                            Account::Sink(Sink::Sanctions),
                            cost,
                        );
                        let f = self.ledger.transfer(
                            Account::Agency(j),
                            Account::Sink(Sink::Sanctions),
                            fine,
                        );
                        let ti = &mut self.tally.agencies[i];
                        ti.sanctions_imposed += 1;
                        ti.sanction_cost += c;
                        let tj = &mut self.tally.agencies[j];
                        tj.sanctions_suffered += 1;
                        tj.sanction_fines += f;
                        // A payer pays at most what it holds; the rest is recorded, not lost.
                        tj.fines_unpaid += (fine - f).max(0.0);
                        self.mechanisms[m].fined[j] += f;
                    }
                }
            }
            for j in 0..n {
                if self.mechanisms[m].is_member(j) {
                    let mech = &mut self.mechanisms[m];
                    Beliefs::learn(&mut mech.sanction_belief[j], mech.fined[j], rate);
                }
            }
        }
    }

    /// Forum members' targets are pulled toward the forum's agenda in proportion to its depth
    /// (001:119: a powerful member's client group diverts others' effort).
    fn effective_targets(&mut self) {
        for (i, a) in self.agencies.iter_mut().enumerate() {
            a.effective_targets.copy_from_slice(&a.targets);
            for m in &self.mechanisms {
                if m.kind != MechanismKind::Forum || !m.alive() || !m.is_member(i) {
                    continue;
                }
                let pull = m.agenda_pull * m.depth;
                for (t, o) in a.effective_targets.iter_mut().zip(&m.agenda) {
                    *t = (1.0 - pull) * *t + pull * o;
                }
            }
        }
        self.central_targets();
    }

    // ---- 5. effort ----------------------------------------------------------------------------

    fn effort(&mut self, rules: &[Box<dyn Behaviour>], sc: &mut Scratch) {
        for i in 0..self.n_agencies() {
            sc.effort.fill(0.0);
            rules[i].effort(self, i, &mut sc.effort);
            // Central control: targets bind every agency, whatever its rule, with at least
            // `control` of its effective target weight (000:1125-1126).
            let control = self.levers.p.control;
            if control > 0.0 {
                for (e, t) in sc
                    .effort
                    .iter_mut()
                    .zip(&self.agencies[i].effective_targets)
                {
                    let floor = control * t;
                    if e.is_nan() || *e < floor {
                        *e = floor;
                    }
                }
            }
            let a = &mut self.agencies[i];
            // Earmarks are shares of the open time; invalid or excess shares are scaled down
            // (the engine, not the rule, guarantees the time exists).
            let s: f64 = sc
                .effort
                .iter()
                .map(|e| if e.is_finite() { e.max(0.0) } else { 0.0 })
                .sum();
            let scale = if s > 1.0 { 1.0 / s } else { 1.0 };
            let open = a.flex.max(0.0);
            let mut used = 0.0;
            for (em, e) in a.earmark.iter_mut().zip(&sc.effort) {
                let e = if e.is_finite() { e.max(0.0) } else { 0.0 };
                *em = open * e * scale;
                used += *em;
            }
            a.flex = open - used;
        }
    }

    // ---- 6. cases -----------------------------------------------------------------------------

    fn arrivals(&mut self, r: &mut ChaCha8Rng) {
        self.cases.clear();
        let n_dims = self.dims.len();
        for g in 0..self.n_groups() {
            let grp = &self.groups[g];
            let k = poisson(r, grp.arrivals);
            for _ in 0..k {
                let mut case = Case {
                    group: g,
                    entry: 0,
                    needs: [0.0; MAX_DIMENSIONS],
                    n_needs: 0,
                    total_need: 0.0,
                    loss_u: [0.0; MAX_HOPS],
                    inspect_u: [0.0; MAX_HOPS],
                };
                for d in 0..n_dims {
                    let hit = r.random::<f64>() < grp.need_prob[d];
                    let size = grp.need_size * (0.5 + r.random::<f64>());
                    if hit {
                        case.needs[d] = present(size);
                    }
                }
                if case.needs.iter().all(|&x| x == 0.0) {
                    let d = (0..n_dims)
                        .max_by(|&a, &b| {
                            grp.need_prob[a]
                                .total_cmp(&grp.need_prob[b])
                                .then(b.cmp(&a))
                        })
                        .unwrap_or(0);
                    case.needs[d] = present(grp.need_size);
                }
                case.n_needs = case.needs.iter().filter(|&&x| x > 0.0).count() as u8;
                case.total_need = case.needs.iter().map(|&x| x as f64).sum();
                let u: f64 = r.random();
                case.entry = grp
                    .entry_cdf
                    .iter()
                    .position(|&c| u < c)
                    .unwrap_or(grp.entry_last);
                for l in case.loss_u.iter_mut() {
                    *l = r.random::<f32>();
                }
                for l in case.inspect_u.iter_mut() {
                    *l = r.random::<f32>();
                }
                self.cases.push(case);
            }
        }
        // Shuffle so that no group is always served first.
        for i in (1..self.cases.len()).rev() {
            let j = r.random_range(0..=i);
            self.cases.swap(i, j);
        }
    }

    fn record_arrival(&mut self, case: &Case) {
        let need = case.total_need * self.groups[case.group].severity;
        let t = &mut self.tally;
        for o in [
            &mut t.all,
            &mut t.groups[case.group],
            &mut t.by_needs[case.n_needs as usize],
            &mut t.run,
        ] {
            o.arrivals += 1;
            o.need += need;
        }
        if case.n_needs >= 2 {
            t.multi_need_cases += 1;
        }
    }

    fn record_status(&mut self, case: &Case, status: CaseStatus, met: f64) {
        let t = &mut self.tally;
        for o in [
            &mut t.all,
            &mut t.groups[case.group],
            &mut t.by_needs[case.n_needs as usize],
            &mut t.run,
        ] {
            match status {
                CaseStatus::Served => o.served += 1,
                CaseStatus::PartlyServed => o.partly_served += 1,
                CaseStatus::FellThrough(_) => o.fell_through += 1,
            }
            o.need_met += met;
        }
        if let CaseStatus::FellThrough(r) = status {
            for f in [&mut t.fell, &mut t.run_fell] {
                match r {
                    FellReason::Refused => f.refused += 1,
                    FellReason::Lost => f.lost += 1,
                    FellReason::NothingMet => f.nothing_met += 1,
                }
            }
        }
    }

    fn mark_reached(&mut self, i: usize, case: &Case) {
        let k = self.tally.ag(i, case.group);
        self.tally.reached[k] += case.total_need * self.groups[case.group].severity;
    }

    fn process_case(
        &mut self,
        case: &Case,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
        memo: &crate::behaviour::LeadMemo,
    ) {
        self.record_arrival(case);
        let n = self.n_agencies();
        let g = case.group;
        let hop_limit = self.params.hop_limit;
        let mut holder = case.entry;
        let mut held = crate::behaviour::Held::new(holder);
        let mut from: Option<usize> = None;
        let mut hops: u32 = 0;
        self.mark_reached(holder, case);
        loop {
            let can_refer = hops < hop_limit;
            let cv = CaseView {
                case,
                held,
                from,
                hops,
                can_refer,
                memo,
            };
            let mut d = rules[holder].triage(self, holder, &cv, &mut streams.agencies[holder]);
            // Validate: a referral must go to an agency that has not held the case.
            if let Triage::Refer(j) = d
                && (!can_refer || j >= n || held.contains(j) || !self.referrable(j))
            {
                d = Triage::Decline;
            }
            // A statutory duty: the agency cannot refuse (001:156).
            if d == Triage::Decline && self.agencies[holder].duties[g] {
                d = Triage::Accept;
            }
            match d {
                Triage::Accept => {
                    if let Some(f) = from {
                        self.favours[holder * n + f] += 1.0;
                        self.bump_trust(f, holder, 1.0);
                        let r = self.search.belief_rate;
                        Beliefs::learn(&mut self.beliefs.accept[f * n + holder], 1.0, r);
                        let price = self.levers.price(PriceOn::Acceptance, f, holder, g);
                        self.pay_price(holder, price);
                    }
                    self.serve(case, holder, rules, streams);
                    return;
                }
                Triage::Refer(j) => {
                    hops += 1;
                    self.record_referral(case, (hops - 1) as usize, holder, j);
                    let price = self.levers.price(PriceOn::Referral, holder, j, g);
                    self.pay_price(holder, price);
                    // Money moved (prices, inspection charges): recompute those two.
                    memo.forget(holder);
                    memo.forget(j);
                    let p = self.params.referral_loss * (1.0 - self.protocol_depth(holder, j));
                    if (case.loss_u[(hops - 1) as usize] as f64) < p {
                        self.record_status(case, CaseStatus::FellThrough(FellReason::Lost), 0.0);
                        return;
                    }
                    from = Some(holder);
                    holder = j;
                    held.push(j);
                    self.mark_reached(j, case);
                }
                Triage::Decline => match from {
                    Some(prev) if can_refer => {
                        // Bounced back to the sender (the referral "battle", 001:220).
                        hops += 1;
                        for o in [
                            &mut self.tally.all,
                            &mut self.tally.groups[g],
                            &mut self.tally.run,
                        ] {
                            o.bounces += 1;
                        }
                        self.tally.by_needs[case.n_needs as usize].bounces += 1;
                        self.tally.agencies[holder].declined_referrals += 1;
                        self.bump_trust(prev, holder, -1.0);
                        let r = self.search.belief_rate;
                        Beliefs::learn(&mut self.beliefs.accept[prev * n + holder], 0.0, r);
                        holder = prev;
                        from = None;
                    }
                    _ => {
                        self.record_status(case, CaseStatus::FellThrough(FellReason::Refused), 0.0);
                        return;
                    }
                },
            }
        }
    }

    /// A targeted price: a charge (positive) paid by `i` to the centre, or a subsidy
    /// (negative) paid by the centre to `i`. A charge it cannot pay in full is paid as far
    /// as it can; the rest is recorded in `prices_unpaid`, never dropped silently.
    fn pay_price(&mut self, i: usize, amount: f64) {
        if amount > 0.0 {
            let paid = self
                .ledger
                .transfer(Account::Agency(i), Account::Centre, amount);
            let t = &mut self.tally.agencies[i];
            t.prices_paid += paid;
            t.prices_unpaid += (amount - paid).max(0.0);
        } else if amount < 0.0 {
            let got = self
                .ledger
                .transfer(Account::Centre, Account::Agency(i), -amount);
            self.tally.agencies[i].prices_paid -= got;
        }
    }

    fn bump_trust(&mut self, i: usize, j: usize, sign: f64) {
        let n = self.n_agencies();
        let t = &mut self.trust[i * n + j];
        *t = (*t + sign * self.params.trust_step).clamp(-1.0, 1.0);
    }

    fn record_referral(&mut self, case: &Case, hop: usize, s: usize, r: usize) {
        let n = self.n_agencies();
        let dumped = crate::metrics::is_dumping(self, s, r, case);
        let charged = self.inspect_referral(case, hop, s, r, dumped);
        // The sender learns what referring on this channel costs it.
        let rate = self.search.belief_rate;
        Beliefs::learn(&mut self.beliefs.charge[s * n + r], charged, rate);
        let cost = crate::metrics::shifted_cost(self, s, case);
        let t = &mut self.tally;
        for o in [
            &mut t.all,
            &mut t.groups[case.group],
            &mut t.by_needs[case.n_needs as usize],
            &mut t.run,
        ] {
            o.referrals += 1;
            if dumped {
                o.dumped += 1;
            }
        }
        t.referrals[s * n + r] += 1;
        t.referrals_tick[s * n + r] += 1;
        t.agencies[s].referrals_out += 1;
        t.agencies[r].referrals_in += 1;
        if dumped {
            t.dumped[s * n + r] += 1;
            t.dumped_cost_matrix[s * n + r] += cost;
            t.dumped_cost += cost;
        }
    }

    /// Take staff time from agency `i`: its earmark for group `g` first, then flex.
    fn take_time(&mut self, i: usize, g: usize, want: f64, earmark_ok: bool) -> f64 {
        let a = &mut self.agencies[i];
        let mut got = 0.0;
        if earmark_ok {
            let e = want.min(a.earmark[g]).max(0.0);
            a.earmark[g] -= e;
            got += e;
        }
        let f = (want - got).min(a.flex).max(0.0);
        a.flex -= f;
        got + f
    }

    /// Need met on a case (0..1) given who served each dimension (`server`, `NONE` if
    /// nobody) and the service level reached on each (`s`). When partners serve besides the
    /// lead, every dimension's service loses `fragmentation_penalty x (1 - J)`, where `J` is
    /// the mean over partners of how joined-up the lead and the partner are (mechanisms or
    /// shared knowledge; 002:233, 003:30). Also returns need met had only shared knowledge
    /// joined them (so the difference is what mechanisms added) and the mechanism credited.
    pub fn joined_need_met(
        &self,
        case: &Case,
        lead: usize,
        server: &[u32; MAX_DIMENSIONS],
        s: &[f64; MAX_DIMENSIONS],
    ) -> JointOutcome {
        let t = self.join_terms(case.group, lead, server, true);
        if t.partners == 0 {
            let met = self.combine(case, s);
            return JointOutcome {
                met,
                met_knowledge_only: met,
                partners: 0,
                join_mean: 1.0,
                credited: None,
            };
        }
        let j = t.join_sum / t.partners as f64;
        let k_only = t.knowledge_sum / t.partners as f64;
        JointOutcome {
            met: self.combine(case, &self.cut(s, j)),
            met_knowledge_only: self.combine(case, &self.cut(s, k_only)),
            partners: t.partners,
            join_mean: j,
            credited: t.credited,
        }
    }

    /// Need met alone, as `joined_need_met(..).met` computes it (the same function, without
    /// the attribution to mechanisms): what the searches evaluate per candidate.
    pub fn need_met(
        &self,
        case: &Case,
        lead: usize,
        server: &[u32; MAX_DIMENSIONS],
        s: &[f64; MAX_DIMENSIONS],
    ) -> f64 {
        let t = self.join_terms(case.group, lead, server, false);
        if t.partners == 0 {
            return self.combine(case, s);
        }
        self.combine(case, &self.cut(s, t.join_sum / t.partners as f64))
    }

    /// Service levels cut by the fragmentation penalty at mean join `j`.
    fn cut(&self, s: &[f64; MAX_DIMENSIONS], j: f64) -> [f64; MAX_DIMENSIONS] {
        let x = 1.0 - j;
        let e = self.params.fragmentation_exponent;
        let f = 1.0 - self.params.fragmentation_penalty * if e == 1.0 { x } else { x.powf(e) };
        let mut out = *s;
        for v in out.iter_mut().take(self.dims.len()) {
            *v *= f;
        }
        out
    }

    /// How joined-up the lead is with the case's other servers: their number, the sum of
    /// joins (mechanisms or shared knowledge), the sum of shared knowledge alone, and (if
    /// `credit`) the mechanism joining most.
    fn join_terms(
        &self,
        g: usize,
        lead: usize,
        server: &[u32; MAX_DIMENSIONS],
        credit: bool,
    ) -> JoinTerms {
        let mut t = JoinTerms {
            partners: 0,
            join_sum: 0.0,
            knowledge_sum: 0.0,
            credited: None,
        };
        let mut best_mech = 0.0;
        let n_dims = self.dims.len();
        for (d, &p) in server.iter().enumerate().take(n_dims) {
            // Each partner once (it may serve several dimensions).
            if p == NONE || p as usize == lead || server[..d].contains(&p) {
                continue;
            }
            let p = p as usize;
            t.partners += 1;
            let (jm, which) = self.mechanism_join(lead, p, g);
            let k = self.knowledge(lead, p);
            t.join_sum += 1.0 - (1.0 - jm) * (1.0 - k);
            t.knowledge_sum += k;
            if credit && jm > best_mech {
                best_mech = jm;
                t.credited = which;
            }
        }
        t
    }

    fn serve(
        &mut self,
        case: &Case,
        lead: usize,
        rules: &[Box<dyn Behaviour>],
        streams: &mut Streams,
    ) {
        let n = self.n_agencies();
        let g = case.group;
        let n_dims = self.dims.len();
        let sev_need = case.total_need * self.groups[g].severity;
        let mut server = [NONE; MAX_DIMENSIONS];
        let mut s = [0.0f64; MAX_DIMENSIONS];
        self.tally.agencies[lead].cases_led += 1;

        // Throughput funding (001:144).
        let pay = self.agencies[lead].throughput_pay;
        if pay > 0.0 {
            let from = match self.agencies[lead].funder {
                Funder::Centre => Account::Centre,
                Funder::Agency(j) => Account::Agency(j),
            };
            let got = self.ledger.transfer(from, Account::Agency(lead), pay);
            self.tally.agencies[lead].throughput_income += got;
        }

        // The lead serves what lies within its remit, as far as time and money allow.
        for d in 0..n_dims {
            let need = case.needs[d] as f64;
            let q = self.quality(lead, d);
            if need <= 0.0 || q <= 0.0 {
                continue;
            }
            let want_t = self.dim_staff(need);
            let cost = self.dim_cost(lead, d, need);
            let avail_t = self.time_for(lead, g);
            let money = self.reserves(lead);
            if money < cost {
                // Money binds: the agency rations its own work (recorded).
                self.tally.agencies[lead].rationed += cost - money.max(0.0);
            }
            let frac = (avail_t / want_t).min(money / cost).clamp(0.0, 1.0);
            if frac <= 0.0 {
                continue;
            }
            let t = self.take_time(lead, g, want_t * frac, true);
            let paid = self.ledger.transfer(
                Account::Agency(lead),
                Account::Sink(Sink::Cases),
                cost * frac,
            );
            let ta = &mut self.tally.agencies[lead];
            ta.staff_cases += t;
            ta.spend_cases += paid;
            s[d] = q * frac;
            server[d] = lead as u32;
        }

        // Needs outside its remit: joint work with partners, if the lead seeks it and the
        // partner agrees (contribution to cross-cutting work).
        for d in 0..n_dims {
            let need = case.needs[d] as f64;
            if need <= 0.0 || server[d] != NONE {
                continue;
            }
            let base = self.need_met(case, lead, &server, &s);
            let q = PartnerQuery {
                case,
                dim: d,
                server: &server,
                level: &s,
                base,
            };
            let Some(p) = rules[lead].choose_partner(self, lead, &q, &mut streams.agencies[lead])
            else {
                continue;
            };
            if p >= n || p == lead || !crate::behaviour::partner_can(self, p, d, case) {
                continue;
            }
            let cost = self.dim_cost(p, d, need);
            let pool = self.pool_covering(lead, p, cost);
            // What the partner's work would add to the case, by the one need-met function.
            let (mut server2, mut s2) = (server, s);
            server2[d] = p as u32;
            s2[d] = self.quality(p, d);
            let gain = self.need_met(case, lead, &server2, &s2) - base;
            let req = ServeRequest {
                case,
                lead,
                dim: d,
                gain,
                pool_pays: pool.is_some(),
            };
            let agreed = rules[p].co_serve(self, p, &req);
            let r = self.search.belief_rate;
            Beliefs::learn(
                &mut self.beliefs.reliable[lead * n + p],
                if agreed { 1.0 } else { 0.0 },
                r,
            );
            if !agreed {
                // Under a duty to cooperate, refusing a partner's request is a breach.
                if self.levers.p.duty_to_cooperate.mandate {
                    self.breach(p, &mut streams.enforcement);
                }
                continue;
            }
            let paid = match pool.and_then(|m| self.mechanisms[m].pool.map(|acc| (m, acc))) {
                Some((m, acc)) => {
                    let paid = self.ledger.transfer(
                        Account::Pool(acc),
                        Account::Sink(Sink::PooledCases),
                        cost,
                    );
                    self.mechanisms[m].pool_paid[p] += paid;
                    self.tally.agencies[p].pool_paid_for += paid;
                    paid
                }
                None => {
                    let paid =
                        self.ledger
                            .transfer(Account::Agency(p), Account::Sink(Sink::Cases), cost);
                    self.tally.agencies[p].spend_cases += paid;
                    paid
                }
            };
            let frac = if cost > 0.0 {
                (paid / cost).clamp(0.0, 1.0)
            } else {
                1.0
            };
            let overhead = self.params.joint_overhead * (1.0 - self.protocol_depth(lead, p));
            let tp = self.take_time(
                p,
                g,
                self.dim_staff(need) * frac + overhead,
                self.params.partner_uses_earmark,
            );
            let tl = self.take_time(lead, g, overhead, false);
            self.tally.agencies[p].staff_joint += tp;
            self.tally.agencies[p].co_served += 1;
            self.tally.agencies[lead].staff_joint += tl;
            s[d] = self.quality(p, d) * frac;
            server[d] = p as u32;
            self.favours[p * n + lead] += 1.0;
            self.bump_trust(lead, p, 1.0);
            let kg = self.params.knowledge_growth;
            let k = &mut self.knowledge[lead * n + p];
            *k += kg * (1.0 - *k);
            let k = *k;
            self.knowledge[p * n + lead] = k;
        }

        let jo = self.joined_need_met(case, lead, &server, &s);
        let (met, met_knowledge_only, credited) = (jo.met, jo.met_knowledge_only, jo.credited);

        // Credit the need met the mechanism added to the agencies that served the case, each
        // by the need weight of the dimensions it served (within its own remit): the
        // free-riding picture. The credits sum to what the mechanism added on the served
        // share of the case's need.
        if let Some(m) = credited {
            let added = (met - met_knowledge_only).max(0.0) * sev_need;
            if added > 0.0 {
                for d in 0..n_dims {
                    let p = server[d];
                    if p == NONE || case.needs[d] <= 0.0 {
                        continue;
                    }
                    let p = p as usize;
                    self.tally.mech_benefit[m * n + p] +=
                        added * case.needs[d] as f64 / case.total_need;
                }
            }
        }

        let all_served = (0..n_dims).all(|d| case.needs[d] <= 0.0 || server[d] != NONE);
        if case.n_needs >= 2
            && jo.partners > 0
            && all_served
            && jo.join_mean >= self.params.joint_threshold
        {
            self.tally.joint_cases += 1;
        }

        // Credit need met to each server by the need weight it covered (attainment).
        let met_units = met * sev_need;
        for d in 0..n_dims {
            let p = server[d];
            if p == NONE {
                continue;
            }
            let p = p as usize;
            let k = self.tally.ag(p, g);
            // Outputs credit each server with the need weight it served; outcomes credit every
            // server with the need met on the whole case (once).
            if self.levers.p.accountability == Accountability::Output {
                self.tally.met[k] += met_units * case.needs[d] as f64 / case.total_need;
            } else if !server[..d].contains(&server[d]) {
                self.tally.met[k] += met_units;
            }
            // Each server once, however many dimensions it served.
            if !server[..d].contains(&server[d]) {
                self.tally.served_on[k] += sev_need;
            }
        }

        let status = if met >= self.params.served_threshold {
            CaseStatus::Served
        } else if met > 0.0 {
            CaseStatus::PartlyServed
        } else {
            CaseStatus::FellThrough(FellReason::NothingMet)
        };
        self.record_status(case, status, met_units);
    }

    // ---- 7. outcomes --------------------------------------------------------------------------

    fn outcomes(&mut self, rules: &[Box<dyn Behaviour>], inspection: &mut ChaCha8Rng) {
        let n_groups = self.n_groups();
        for i in 0..self.n_agencies() {
            let (mut t_num, mut t_w, mut f_num, mut f_w) = (0.0, 0.0, 0.0, 0.0);
            let (mut met_all, mut reached_all) = (0.0, 0.0);
            for g in 0..n_groups {
                let k = self.tally.ag(i, g);
                let tau = self.agencies[i].targets[g];
                let (reached, met, served_on) = (
                    self.tally.reached[k],
                    self.tally.met[k],
                    self.tally.served_on[k],
                );
                met_all += met;
                reached_all += reached;
                if reached > 0.0 {
                    t_num += tau * (met / reached).min(1.0);
                    t_w += tau;
                }
                if served_on > 0.0 {
                    f_num += tau * (met / served_on).min(1.0);
                    f_w += tau;
                }
            }
            let true_att = if t_w > 0.0 { t_num / t_w } else { f64::NAN };
            // Under outcome accountability the centre measures need met on every case that
            // reached the agency, so there is no favourable measure to report instead.
            let favourable = if f_w > 0.0 && self.levers.p.accountability == Accountability::Output
            {
                f_num / f_w
            } else {
                true_att
            };
            let mut reported = rules[i].report(self, i, true_att, favourable);
            if !(reported.is_finite() || reported.is_nan()) {
                reported = true_att;
            }
            // One inspection draw per agency per tick, used or not, so that the stream does
            // not depend on what agencies report.
            let u: f64 = inspection.random();
            let mut detected = false;
            if reported > true_att + 1e-12 && u < self.levers.detection(self.params.detection_rate)
            {
                detected = true;
                reported = true_att;
                let a = &mut self.agencies[i];
                a.legitimacy =
                    (a.legitimacy - self.params.blame_penalty * self.levers.p.blame).max(0.0);
            }
            let t = &mut self.tally.agencies[i];
            t.true_attainment = true_att;
            t.reported_attainment = reported;
            let y = &mut self.agencies[i].year;
            y.ticks += 1;
            y.income += t.income;
            y.rationed += t.rationed;
            if reported.is_finite() {
                y.reported += reported;
                y.reported_n += 1;
            }
            t.gaming_detected = detected;
            self.agencies[i].rule.achieved = if reached_all > 0.0 {
                (met_all / reached_all).min(1.0)
            } else {
                f64::NAN
            };
        }
    }

    // ---- 8. relations -------------------------------------------------------------------------

    fn relations(&mut self) {
        let td = self.params.trust_decay;
        let kd = self.params.knowledge_decay;
        for x in &mut self.trust {
            *x *= 1.0 - td;
        }
        for x in &mut self.resentment {
            *x *= 1.0 - td;
        }
        for x in &mut self.favours {
            *x *= 1.0 - td;
        }
        for x in &mut self.knowledge {
            *x *= 1.0 - kd;
        }
        let lr = self.params.legitimacy_recovery;
        for a in &mut self.agencies {
            a.legitimacy += lr * (a.legitimacy_base - a.legitimacy);
        }
    }

    // ---- 9. invariants ------------------------------------------------------------------------

    /// Cases: every arrival ended in exactly one state, in total, per group and per number of
    /// needs. Money: the ledger sums to zero with no account but the centre overdrawn. Staff:
    /// no agency used more time than it had.
    pub fn check_invariants(&self) -> Result<(), InvariantError> {
        let tick = self.tick;
        let t = &self.tally;
        let ended = |o: &crate::tally::Outcomes| o.served + o.partly_served + o.fell_through;
        if ended(&t.all) != t.all.arrivals {
            return Err(InvariantError::Cases {
                tick,
                detail: format!(
                    "{} arrived but {} ended in a state",
                    t.all.arrivals,
                    ended(&t.all)
                ),
            });
        }
        let fell = t.fell.refused + t.fell.lost + t.fell.nothing_met;
        if fell != t.all.fell_through {
            return Err(InvariantError::Cases {
                tick,
                detail: format!(
                    "{} fell through but reasons count {fell}",
                    t.all.fell_through
                ),
            });
        }
        // Every case has at least one need: the slice of cases with none stays empty (it is
        // not written; a case counted there would be missing from needs.csv).
        if t.by_needs.first().is_some_and(|o| o.arrivals > 0) {
            return Err(InvariantError::Cases {
                tick,
                detail: format!("{} cases arrived with no need", t.by_needs[0].arrivals),
            });
        }
        for (name, slices) in [("group", &t.groups), ("needs", &t.by_needs)] {
            let arrivals: u64 = slices.iter().map(|o| o.arrivals).sum();
            let e: u64 = slices.iter().map(ended).sum();
            if arrivals != t.all.arrivals || e != t.all.arrivals {
                return Err(InvariantError::Cases {
                    tick,
                    detail: format!(
                        "{name} slices count {arrivals} arrivals and {e} ends, all cases {}",
                        t.all.arrivals
                    ),
                });
            }
        }
        if ended(&t.run) != t.run.arrivals {
            return Err(InvariantError::Cases {
                tick,
                detail: "run totals disagree".to_string(),
            });
        }
        if let Some((from, to)) = self.ledger.overflow {
            use super::ledger::{Account, Sink};
            let agency = |i: usize| format!("agencies[{i}] ({})", self.agencies[i].name);
            let likely = match (from, to) {
                (Account::Centre, Account::Agency(i)) => format!(
                    "{}: its income, reserves or throughput_pay (or a subsidy in levers.prices, or levers.host_reimbursement)",
                    agency(i)
                ),
                (Account::Agency(_), Account::Agency(i)) => {
                    format!("{}: its income or throughput_pay", agency(i))
                }
                (_, Account::Sink(Sink::Core)) => "agencies[].fixed_costs".to_string(),
                (_, Account::Sink(Sink::Levers)) => {
                    "levers.referral_inspection.cost or levers.duty_to_cooperate.cost".to_string()
                }
                _ => "a money field".to_string(),
            };
            return Err(InvariantError::Money {
                tick,
                detail: format!(
                    "a payment would go beyond what the ledger holds ({:.3e} k GBP in i64 micro-units); lower {likely}",
                    crate::limits::LEDGER_MAX
                ),
            });
        }
        if self.ledger.total() != 0 {
            return Err(InvariantError::Money {
                tick,
                detail: format!("ledger sums to {} micro-units", self.ledger.total()),
            });
        }
        if let Some(acc) = self.ledger.first_negative() {
            return Err(InvariantError::Money {
                tick,
                detail: format!("account {acc} is overdrawn"),
            });
        }
        for (a, ta) in self.agencies.iter().zip(&t.agencies) {
            let used = ta.staff_reporting
                + ta.staff_levers
                + ta.staff_mechanisms
                + ta.staff_cases
                + ta.staff_joint;
            let left = a.flex + a.earmark.iter().sum::<f64>();
            if used > a.staff + 1e-6
                || a.flex < -1e-6
                || (used + left - a.staff).abs() > 1e-6 * a.staff.max(1.0)
            {
                return Err(InvariantError::Staff {
                    tick,
                    agency: a.name.clone(),
                    detail: format!("staff {} used {used} left {left}", a.staff),
                });
            }
        }
        Ok(())
    }
}

/// A drawn need's size as stored in a case (`f32`): never rounded to zero, so a need that
/// was drawn is present (`> 0`) and counted in the case's number of needs however small
/// `need_size` is (below about 1e-45 the plain conversion gives 0 and the case would be
/// counted under no number of needs).
fn present(size: f64) -> f32 {
    let s = size as f32;
    if s > 0.0 { s } else { f32::from_bits(1) }
}
