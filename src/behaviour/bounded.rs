//! Rational administration, bounded variant (001:32, after Simon): the same shared aim, but
//! a few options considered, the first satisfactory one taken, and an aspiration level that
//! follows achievement.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::{Behaviour, CaseView, Triage, member_share_of_value, normalise, partner_can};
use crate::model::{Account, RuleState, World};
use crate::scenario::{BoundedParams, Family};

#[derive(Debug, Clone)]
pub struct RaBounded {
    p: BoundedParams,
}

impl RaBounded {
    pub fn new(p: BoundedParams) -> Self {
        RaBounded { p }
    }

    /// Whether this agency currently sees a gap: what it achieved fell short of aspiration.
    fn sees_gap(w: &World, me: usize) -> bool {
        let r = w.agencies[me].rule;
        !r.achieved.is_nan() && r.achieved < r.aspiration
    }
}

impl Behaviour for RaBounded {
    fn family(&self) -> Family {
        Family::RaBounded
    }

    /// Targets act as the agenda of attention: earmark `1 - flex` of case time by target weight.
    fn effort(&self, w: &World, me: usize, out: &mut [f64]) {
        out.copy_from_slice(&w.agencies[me].effective_targets);
        normalise(out);
        let s: f64 = out.iter().sum();
        if s > 0.0 {
            out.iter_mut().for_each(|x| *x *= 1.0 - self.p.flex);
        }
    }

    /// Keep the case if it would meet the aspiration here; otherwise ask up to `search`
    /// contacts drawn at random and refer to the first that would; else keep it anyway.
    fn triage(&self, w: &World, me: usize, cv: &CaseView, rng: &mut ChaCha8Rng) -> Triage {
        let case = cv.case;
        let asp = w.agencies[me].rule.aspiration;
        let mine = w.capacity(me, case);
        if mine && w.fit(me, case) >= asp {
            return Triage::Accept;
        }
        if cv.can_refer {
            let n = w.n_agencies();
            for _ in 0..self.p.search {
                let j = rng.random_range(0..n);
                if j == me || cv.has_held(j) || !w.referrable(j) {
                    continue;
                }
                if w.fit(j, case) >= asp && w.capacity(j, case) {
                    return Triage::Refer(j);
                }
            }
        }
        if mine && w.fit(me, case) > 0.0 {
            Triage::Accept
        } else {
            Triage::Decline
        }
    }

    /// The first of a few random contacts who covers the need and has time.
    fn choose_partner(
        &self,
        w: &World,
        me: usize,
        cv: &CaseView,
        d: usize,
        rng: &mut ChaCha8Rng,
    ) -> Option<usize> {
        let n = w.n_agencies();
        for _ in 0..self.p.search {
            let j = rng.random_range(0..n);
            if j != me && partner_can(w, j, d, cv.case) {
                return Some(j);
            }
        }
        None
    }

    /// Help if it has the time and covers the need: a satisfactory contribution.
    fn co_serve(
        &self,
        w: &World,
        me: usize,
        _lead: usize,
        cv: &CaseView,
        d: usize,
        pool_pays: bool,
    ) -> bool {
        let cost = w.dim_cost(me, d, cv.case.needs[d] as f64);
        w.quality(me, d) > 0.0 && (pool_pays || w.ledger.can_pay(Account::Agency(me), cost))
    }

    /// Volunteer when it sees a gap and has the slack to pay three months of hosting, net of
    /// any reimbursement.
    fn volunteer_to_host(&self, w: &World, me: usize, m: usize, _rng: &mut ChaCha8Rng) -> bool {
        let mech = &w.mechanisms[m];
        let net = mech.host_money * (1.0 - w.levers.p.host_reimbursement);
        Self::sees_gap(w, me)
            && w.ledger.can_pay(Account::Agency(me), 3.0 * net)
            && w.agencies[me].flex >= mech.host_staff
    }

    /// Habit: go on while it can afford to.
    fn keep_hosting(&self, w: &World, me: usize, m: usize) -> bool {
        let net = w.mechanisms[m].host_money * (1.0 - w.levers.p.host_reimbursement);
        w.ledger.can_pay(Account::Agency(me), net)
    }

    /// Stay once in (what works is kept); join when it sees a gap and the mechanism looks
    /// worth its cost, or when a duty to cooperate requires it (a rule is a satisfactory
    /// option in itself).
    fn join(&self, w: &World, me: usize, m: usize) -> bool {
        w.levers.p.duty_to_cooperate.mandate
            || w.mechanisms[m].is_member(me)
            || (Self::sees_gap(w, me) && member_share_of_value(w, m) >= w.member_staff_cost(m))
    }

    /// A fixed heuristic: the fair share.
    fn contribution(&self, w: &World, me: usize, m: usize) -> f64 {
        w.mechanisms[m].pool_share * w.agencies[me].income
    }

    /// Take items in order of salience-weighted need until the meeting's time (`search`
    /// items) runs out; each taken item gets an equal bid.
    fn agenda_bid(&self, w: &World, _me: usize, _m: usize, out: &mut [f64]) {
        out.fill(0.0);
        let k = (self.p.search as usize).min(out.len());
        for _ in 0..k {
            let mut best: Option<(usize, f64)> = None;
            for (g, grp) in w.groups.iter().enumerate() {
                if out[g] > 0.0 {
                    continue;
                }
                let score = grp.need_share * grp.salience.max(1e-9);
                if best.is_none_or(|(_, s)| score > s) {
                    best = Some((g, score));
                }
            }
            if let Some((g, _)) = best {
                out[g] = 1.0;
            }
        }
    }

    fn report(&self, _w: &World, _me: usize, true_attainment: f64, _favourable: f64) -> f64 {
        true_attainment
    }

    fn learn(&self, state: &mut RuleState) {
        if !state.achieved.is_nan() {
            state.aspiration += self.p.adapt_rate * (state.achieved - state.aspiration);
        }
    }
}
