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

    /// A funding round (competitive bidding or tender): each funder puts the contestable
    /// share of its providers' scenario income into a pot and shares it out by bid score.
    /// A bid scores the bidder's resources to write it (staff, relative to the other
    /// bidders) times one plus the partnership it can show (live mechanisms it belongs to)
    /// (002:344-348, 002:450). Income then holds until the next round.
    pub(super) fn funding_round(&mut self) {
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
            let (mut staff_sum, mut k) = (0.0, 0.0);
            for i in 0..n {
                if in_contest(self, i) {
                    staff_sum += self.agencies[i].staff;
                    k += 1.0;
                }
            }
            let mean_staff = (staff_sum / k).max(1e-9);
            let (mut pot, mut score_sum, mut best) = (0.0, 0.0, None::<(usize, f64)>);
            for i in 0..n {
                if !in_contest(self, i) {
                    continue;
                }
                pot += c * self.agencies[i].budget;
                let score = self.bid_score(i, mean_staff);
                score_sum += score;
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((i, score));
                }
            }
            for i in 0..n {
                if !in_contest(self, i) {
                    continue;
                }
                let score = self.bid_score(i, mean_staff);
                let award = match self.levers.p.funding_mode {
                    FundingMode::Competitive if score_sum > 0.0 => pot * score / score_sum,
                    FundingMode::Tender if best.map(|b| b.0) == Some(i) => pot,
                    _ => 0.0,
                };
                let a = &mut self.agencies[i];
                a.income = (1.0 - c) * a.budget + award;
            }
        }
    }

    /// The annual budget round (levers.budget_rule; 002:344-348, 002:450): at ticks 1, 13,
    /// 25, ... every agency in casework bids a multiple of its formula budget (its rule's
    /// choice), and its funder (the centre or a funding agency) shares the envelope (the sum
    /// of its fundees' scenario incomes) in proportion to bid x formula budget x a weight:
    /// the bidder's standing (bargaining) or its reported performance over the year
    /// (competition). Under the formula rule budgets are the scenario's incomes.
    pub(super) fn budget_round(&mut self, rules: &[Box<dyn Behaviour>]) {
        let rule = self.levers.p.budget_rule;
        if !(self.tick - 1).is_multiple_of(12) {
            return;
        }
        let n = self.n_agencies();
        if rule == BudgetRule::Formula {
            for a in &mut self.agencies {
                a.budget = a.base_income;
                a.year = YearTally::default();
            }
            return;
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
            for i in 0..n {
                if !in_round(self, i) {
                    continue;
                }
                let a = &mut self.agencies[i];
                a.budget = if total > 0.0 {
                    envelope * a.budget / total
                } else {
                    a.base_income
                };
                a.income = a.budget;
                a.year = YearTally::default();
            }
        }
    }

    fn bid_score(&self, i: usize, mean_staff: f64) -> f64 {
        let partnership = self
            .mechanisms
            .iter()
            .filter(|m| m.alive() && m.is_member(i))
            .count() as f64;
        (self.agencies[i].staff / mean_staff) * (1.0 + partnership)
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
