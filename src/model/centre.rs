//! The centre: funding rounds, central initiatives, the staff time levers take, hosts the
//! centre names, enforcement of a duty to cooperate, inspection of referrals, and the
//! cascade of targets down funding lines and from powerful departments. Every lever's
//! default leaves these phases doing nothing.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::{Account, Case, Sink, World, YearTally};
use crate::behaviour::Behaviour;
use crate::levers::{BudgetRule, FundingMode};
use crate::scenario::{Funder, Level};

/// What an arena brings to the centre's own contests in a tick: the annual budget round's
/// envelope and claims among the agencies the centre funds, and a funding round's pot and
/// bid weights among its contestants. A single arena shares these among its own agencies; a
/// national run sums them over every locality first (`+`), so the centre's
/// money goes where the claims and bids are strongest, nationally. Zero outside a round.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CentreContest {
    /// Budget round: the sum of the centre's fundees' formula budgets.
    pub envelope: f64,
    /// Budget round: the sum of their claims.
    pub claims: f64,
    /// Funding round: the contestable share of the centre's contestants' budgets.
    pub pot: f64,
    /// Funding round: the sum of their bid weights.
    pub bids: f64,
}

impl std::ops::Add for CentreContest {
    type Output = CentreContest;

    /// The sum of two arenas' contributions.
    fn add(self, o: CentreContest) -> CentreContest {
        CentreContest {
            envelope: self.envelope + o.envelope,
            claims: self.claims + o.claims,
            pot: self.pot + o.pot,
            bids: self.bids + o.bids,
        }
    }
}

impl World {
    /// Replace central initiatives whose time is up with new ones, each on a client group
    /// drawn from the centre's stream (initiativitis, 002:332-342). The first set is
    /// staggered over one period so that initiatives do not all turn over together.
    pub(super) fn initiatives_update(&mut self, r: &mut ChaCha8Rng) {
        let n = self.levers.p.initiatives as usize;
        if n == 0 {
            self.initiatives.clear();
            return;
        }
        let period = self.levers.centre.initiative_period;
        let n_groups = self.n_groups();
        if self.initiatives.is_empty() {
            for k in 0..n {
                let g = r.random_range(0..n_groups);
                let ends = self.tick + (period * (k as u32 + 1)).div_ceil(n as u32);
                self.initiatives.push((g, ends));
            }
        }
        for slot in self.initiatives.iter_mut() {
            if self.tick >= slot.1 {
                *slot = (r.random_range(0..n_groups), self.tick + period);
            }
        }
    }

    /// The first half of a funding round (competitive bidding or tender): what this arena
    /// brings to the centre's contest (funder `centre`): the pot (the contestable share of
    /// its contestants' budgets) and the sum of their bid weights. Zero outside a round.
    pub(super) fn funding_bids(&self) -> CentreContest {
        let mut c = CentreContest::default();
        if !self.levers.funding_round(self.tick) {
            return c;
        }
        let share = self.levers.centre.contestable_share;
        for i in 0..self.n_agencies() {
            if self.contestant(i) && self.agencies[i].funder == Funder::Centre {
                c.pot += share * self.agencies[i].budget;
                c.bids += self.bid_weight(i);
            }
        }
        c
    }

    /// The second half of a funding round: each funder puts the contestable share of its
    /// contestants' scenario income into a pot and shares it out in proportion to bid
    /// weight: the bidder's resources to write the bid (staff) times one plus the
    /// partnership it can show (live mechanisms it belongs to) (002:344-348, 002:450). The
    /// centre's contest uses `centre`'s pot and weights (the sums over every locality in a
    /// national run, so money moves to where the bids are strongest); a funding agency's
    /// contest is the arena's own. A tender gives a funder's whole pot to its best bidder in
    /// the arena (a contract is let per locality). Income then holds until the next round.
    pub(super) fn funding_awards(&mut self, centre: &CentreContest) {
        if !self.levers.funding_round(self.tick) {
            return;
        }
        let c = self.levers.centre.contestable_share;
        let n = self.n_agencies();
        for first in 0..n {
            if !self.contestant(first) {
                continue;
            }
            let funder = self.agencies[first].funder;
            // Handle each funder's contest once, at its first contestant.
            if (0..first).any(|j| self.contestant(j) && self.agencies[j].funder == funder) {
                continue;
            }
            let in_contest =
                |w: &World, i: usize| w.contestant(i) && w.agencies[i].funder == funder;
            let (mut pot, mut bids, mut best) = (0.0, 0.0, None::<(usize, f64)>);
            for i in 0..n {
                if !in_contest(self, i) {
                    continue;
                }
                pot += c * self.agencies[i].budget;
                let weight = self.bid_weight(i);
                bids += weight;
                if best.is_none_or(|(_, s)| weight > s) {
                    best = Some((i, weight));
                }
            }
            let mode = self.levers.p.funding_mode;
            if funder == Funder::Centre && mode == FundingMode::Competitive {
                (pot, bids) = (centre.pot, centre.bids);
            }
            for i in 0..n {
                if !in_contest(self, i) {
                    continue;
                }
                let award = match mode {
                    FundingMode::Competitive if bids > 0.0 => pot * self.bid_weight(i) / bids,
                    FundingMode::Tender if best.map(|b| b.0) == Some(i) => pot,
                    _ => 0.0,
                };
                let a = &mut self.agencies[i];
                a.income = (1.0 - c) * a.budget + award;
            }
        }
    }

    /// The first half of the annual budget round (levers.budget_rule; 002:344-348,
    /// 002:450): at ticks 1, 13, 25, ... every agency in casework bids a multiple of its
    /// formula budget (its rule's choice), its claim is bid x formula budget x a weight (its
    /// standing under bargaining, its reported performance over the year under
    /// competition), and a funding agency shares its envelope (the sum of its fundees'
    /// scenario incomes) in proportion to claims. Returns what this arena brings to the
    /// centre's round: its fundees' envelope and claims (shared out by [`budget_shares`]).
    /// Under the formula rule budgets are the scenario's incomes.
    ///
    /// [`budget_shares`]: World::budget_shares
    pub(super) fn budget_claims(&mut self, rules: &[Box<dyn Behaviour>]) -> CentreContest {
        let mut centre = CentreContest::default();
        let rule = self.levers.p.budget_rule;
        if !(self.tick - 1).is_multiple_of(12) {
            return centre;
        }
        let n = self.n_agencies();
        if rule == BudgetRule::Formula {
            for a in &mut self.agencies {
                a.budget = a.base_income;
                a.year = YearTally::default();
            }
            return centre;
        }
        // Each funder (the centre, or an agency that funds others) runs its own round among
        // the agencies in casework it funds.
        for first in 0..n {
            if !self.agencies[first].serves_cases {
                continue;
            }
            let funder = self.agencies[first].funder;
            if (0..first)
                .any(|j| self.agencies[j].serves_cases && self.agencies[j].funder == funder)
            {
                continue;
            }
            let in_round =
                |w: &World, i: usize| w.agencies[i].serves_cases && w.agencies[i].funder == funder;
            let (mut envelope, mut total) = (0.0, 0.0);
            for i in 0..n {
                if !in_round(self, i) {
                    continue;
                }
                let bid = rules[i].budget_bid(self, i);
                let bid = if bid.is_finite() {
                    bid.clamp(0.0, self.params.max_bid)
                } else {
                    1.0
                };
                let a = &self.agencies[i];
                let weight = match rule {
                    BudgetRule::Bargaining => 0.5 * (a.legitimacy + a.political),
                    BudgetRule::Competition => {
                        if a.year.reported_n > 0 {
                            a.year.reported / a.year.reported_n as f64
                        } else {
                            0.5
                        }
                    }
                    BudgetRule::Formula => 1.0,
                };
                envelope += a.base_income;
                let claim = bid * a.base_income * weight.max(0.0);
                self.tally.agencies[i].budget_bid = bid;
                self.agencies[i].budget = claim;
                total += claim;
            }
            if funder == Funder::Centre {
                centre = CentreContest {
                    envelope,
                    claims: total,
                    ..centre
                };
            } else {
                self.share_budgets(funder, envelope, total);
            }
        }
        centre
    }

    /// The second half of the annual budget round: the centre shares `centre`'s envelope
    /// among its fundees in proportion to their claims (in a national run, the envelope and
    /// claims of every locality, so budgets move to where claims are strongest).
    pub(super) fn budget_shares(&mut self, centre: &CentreContest) {
        if !(self.tick - 1).is_multiple_of(12) || self.levers.p.budget_rule == BudgetRule::Formula {
            return;
        }
        self.share_budgets(Funder::Centre, centre.envelope, centre.claims);
    }

    /// Budgets of `funder`'s fundees in casework: `envelope` x claim / `total` (each holds
    /// its claim in `budget` until now); their formula budgets when no one claims.
    fn share_budgets(&mut self, funder: Funder, envelope: f64, total: f64) {
        for a in &mut self.agencies {
            if !(a.serves_cases && a.funder == funder) {
                continue;
            }
            a.budget = if total > 0.0 {
                envelope * a.budget / total
            } else {
                a.base_income
            };
            a.income = a.budget;
            a.year = YearTally::default();
        }
    }

    /// A bidder's weight in a funding round: its staff times one plus its live memberships.
    fn bid_weight(&self, i: usize) -> f64 {
        let partnership = self
            .mechanisms
            .iter()
            .filter(|m| m.alive() && m.is_member(i))
            .count() as f64;
        self.agencies[i].staff * (1.0 + partnership)
    }

    /// Staff time the levers take at the start of a tick: extra reporting from the target
    /// cascade and central control (003:82), central initiatives' plans and partnership
    /// meetings (002:332-342), and bid writing in a funding round. An agency gives what it
    /// has; the shortfall is not carried over.
    pub(super) fn lever_staff(&mut self) {
        let extra_share = (self.levers.reporting_multiplier() - 1.0).max(0.0);
        let round = self.levers.funding_round(self.tick);
        let initiatives = self.levers.p.initiatives as f64 * self.levers.centre.initiative_staff;
        let bid = self.levers.centre.bid_staff;
        for i in 0..self.n_agencies() {
            let contestant = self.contestant(i);
            let a = &self.agencies[i];
            // Frontline targets cascade onto agencies that deliver (003:82); departments
            // that take no cases are not loaded by the cascade or by initiatives.
            let mut want = 0.0;
            if a.serves_cases {
                want += a.staff * a.reporting_share * extra_share + initiatives;
            }
            if round && contestant {
                want += bid;
                self.tally.agencies[i].bids += 1;
            }
            let a = &mut self.agencies[i];
            let got = want.min(a.flex).max(0.0);
            a.flex -= got;
            self.tally.agencies[i].staff_levers += got;
        }
    }

    /// The host the centre names for a mechanism it requires: the steer's named host if it
    /// is a candidate able to pay and staff it, else the most legitimate such candidate.
    pub(super) fn name_host(&self, m: usize) -> Option<usize> {
        let mech = &self.mechanisms[m];
        let able = |i: usize| {
            self.ledger.can_pay(Account::Agency(i), mech.host_money)
                && self.agencies[i].flex >= mech.host_staff
        };
        if let Some(h) = self.levers.steer_host
            && self.levers.convene.contains(&m)
            && mech.candidates.contains(&h)
            && able(h)
        {
            return Some(h);
        }
        let mut best: Option<(usize, f64)> = None;
        for &c in &mech.candidates {
            if able(c) && best.is_none_or(|(_, l)| self.agencies[c].legitimacy > l) {
                best = Some((c, self.agencies[c].legitimacy));
            }
        }
        best.map(|(c, _)| c)
    }

    /// A breach of a duty to cooperate by agency `i`: detected with the enforcement rate
    /// (enforcement stream), a detected breach costs the sanction, paid to the centre.
    pub(super) fn breach(&mut self, i: usize, r: &mut ChaCha8Rng) {
        let d = &self.levers.p.duty_to_cooperate;
        let (enforcement, sanction) = (d.enforcement, d.sanction);
        self.tally.agencies[i].breaches += 1;
        if r.random::<f64>() < enforcement {
            let paid = self
                .ledger
                .transfer(Account::Agency(i), Account::Centre, sanction);
            let t = &mut self.tally.agencies[i];
            t.breaches_detected += 1;
            t.sanctions += paid;
        }
    }

    /// What checking compliance with a duty costs the centre for one agency this tick.
    pub(super) fn enforcement_cost(&mut self) {
        let cost = self.levers.p.duty_to_cooperate.cost;
        if cost > 0.0 {
            self.tally.enforcement_cost +=
                self.ledger
                    .transfer(Account::Centre, Account::Sink(Sink::Levers), cost);
        }
    }

    /// Inspect a referral from `s` to `r` at hop `hop` (002:593-595): the centre pays the
    /// inspection; a referral that counts as dumping is detected with the lever's chance
    /// (using the case's pre-drawn number for that hop), and the sender pays the receiver
    /// the charge. Returns the charge paid.
    pub(super) fn inspect_referral(
        &mut self,
        case: &Case,
        hop: usize,
        s: usize,
        r: usize,
        dumped: bool,
    ) -> f64 {
        let ri = &self.levers.p.referral_inspection;
        let (detection, charge, cost) = (ri.detection, ri.charge, ri.cost);
        if detection <= 0.0 && cost <= 0.0 {
            return 0.0;
        }
        self.tally.inspections += 1;
        self.tally.inspection_cost +=
            self.ledger
                .transfer(Account::Centre, Account::Sink(Sink::Levers), cost);
        if dumped && (case.inspect_u[hop] as f64) < detection {
            self.tally.dumping_detected += 1;
            let paid = self
                .ledger
                .transfer(Account::Agency(s), Account::Agency(r), charge);
            self.tally.agencies[s].charges_paid += paid;
            // A sender pays at most what it holds; the rest is recorded, not lost.
            self.tally.agencies[s].charges_unpaid += (charge - paid).max(0.0);
            self.tally.agencies[r].charges_received += paid;
            return paid;
        }
        0.0
    }

    /// The centre's hand on targets, after forum agendas: the most powerful central
    /// department turns media salience of its groups into pressure on the other
    /// departments' targets (001:119, 001:132); targets then cascade down funding lines,
    /// funders first (001:192); and central initiatives pull agencies in casework toward
    /// their client groups (002:332-342).
    pub(super) fn central_targets(&mut self) {
        let n = self.n_agencies();
        let n_groups = self.n_groups();
        // Salience pressure.
        let p = self.levers.p.salience_pressure;
        if p > 0.0 {
            let top = (0..n)
                .filter(|&i| {
                    self.agencies[i].level == Level::Central
                        && self.agencies[i].targets.iter().sum::<f64>() > 0.0
                })
                .max_by(|&a, &b| {
                    self.agencies[a]
                        .power
                        .total_cmp(&self.agencies[b].power)
                        .then(b.cmp(&a))
                });
            if let Some(d) = top {
                let excess: f64 = (0..n_groups)
                    .map(|g| {
                        self.agencies[d].targets[g]
                            * (self.groups[g].salience - self.groups[g].salience_base)
                    })
                    .sum();
                let pd = self.agencies[d].power.max(1e-9);
                for i in 0..n {
                    if i == d || self.agencies[i].level != Level::Central {
                        continue;
                    }
                    let s =
                        (p * excess * (1.0 - self.agencies[i].power / pd).max(0.0)).clamp(0.0, 1.0);
                    for g in 0..n_groups {
                        let td = self.agencies[d].targets[g];
                        let t = &mut self.agencies[i].effective_targets[g];
                        *t = (1.0 - s) * *t + s * td;
                    }
                }
            }
        }
        // Funding-line cascade, in funding order so that a funder's own cascade comes first.
        let f = self.levers.centre.funder_target_weight;
        if f > 0.0 {
            for k in 0..n {
                let i = self.funding_order[k];
                let Funder::Agency(j) = self.agencies[i].funder else {
                    continue;
                };
                if self.agencies[j].effective_targets.iter().sum::<f64>() <= 0.0 {
                    continue;
                }
                for g in 0..n_groups {
                    let tj = self.agencies[j].effective_targets[g];
                    let t = &mut self.agencies[i].effective_targets[g];
                    *t = (1.0 - f) * *t + f * tj;
                }
            }
        }
        // Initiatives.
        let w = self.levers.centre.initiative_weight;
        for k in 0..self.initiatives.len() {
            let g0 = self.initiatives[k].0;
            for a in self.agencies.iter_mut().filter(|a| a.serves_cases) {
                for (g, t) in a.effective_targets.iter_mut().enumerate() {
                    *t = (1.0 - w) * *t + if g == g0 { w } else { 0.0 };
                }
            }
        }
    }
}
