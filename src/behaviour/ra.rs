//! Rational administration, synoptic variant (001:30-32): full information, one shared aim
//! (severity-weighted need met, less cost), the best option taken.

use rand_chacha::ChaCha8Rng;

use super::{Behaviour, CaseView, Triage, member_share_of_value, need_weight, partner_can};
use crate::model::{Account, RuleState, World};
use crate::scenario::{Family, RaParams};

#[derive(Debug, Clone)]
pub struct RaSynoptic {
    p: RaParams,
}

impl RaSynoptic {
    pub fn new(p: RaParams) -> Self {
        RaSynoptic { p }
    }

    /// The candidate the whole arena would pick as host: able to pay, most legitimate and
    /// widest in remit (every synoptic agency computes the same answer, M-L36 contingency).
    fn best_host(w: &World, m: usize) -> Option<usize> {
        let mech = &w.mechanisms[m];
        let mut best: Option<(usize, f64)> = None;
        for &c in &mech.candidates {
            if !w.ledger.can_pay(Account::Agency(c), mech.host_money)
                || w.agencies[c].flex < mech.host_staff
            {
                continue;
            }
            let a = &w.agencies[c];
            let breadth = a.remit.iter().sum::<f64>() / a.remit.len() as f64;
            let score = a.legitimacy + breadth;
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((c, score));
            }
        }
        best.map(|(c, _)| c)
    }
}

impl Behaviour for RaSynoptic {
    fn family(&self) -> Family {
        Family::RaSynoptic
    }

    /// No earmarks: time goes wherever need is.
    fn effort(&self, _w: &World, _me: usize, out: &mut [f64]) {
        out.fill(0.0);
    }

    /// Route the case to the agency that serves it best (by the shared objective) among those
    /// with capacity; keep it unless another does better by the routing margin.
    fn triage(&self, w: &World, me: usize, cv: &CaseView, _rng: &mut ChaCha8Rng) -> Triage {
        let case = cv.case;
        let mine = w.capacity(me, case);
        let my_value = w.shared_value(me, case);
        if cv.can_refer {
            let mut best: Option<(usize, f64)> = None;
            for j in 0..w.n_agencies() {
                if j == me
                    || cv.has_held(j)
                    || !w.referrable(j)
                    || w.fit(j, case) <= 0.0
                    || !w.capacity(j, case)
                {
                    continue;
                }
                let v = w.shared_value(j, case);
                if best.is_none_or(|(_, b)| v > b) {
                    best = Some((j, v));
                }
            }
            if let Some((j, v)) = best {
                let margin = self.p.routing_margin * w.groups[case.group].severity;
                if !mine || v > my_value + margin {
                    return Triage::Refer(j);
                }
            }
        }
        if mine || w.fit(me, case) > 0.0 {
            Triage::Accept
        } else {
            Triage::Decline
        }
    }

    /// The best-matched partner with time to spare, preferring joined-up ones on ties.
    fn choose_partner(
        &self,
        w: &World,
        me: usize,
        cv: &CaseView,
        d: usize,
        _rng: &mut ChaCha8Rng,
    ) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for j in 0..w.n_agencies() {
            if j == me || !partner_can(w, j, d, cv.case) {
                continue;
            }
            let score = w.quality(j, d) * (1.0 + 0.1 * w.join(me, j, cv.case.group));
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((j, score));
            }
        }
        best.map(|(j, _)| j)
    }

    /// Serve if the system gains more need met than the work costs (pooled money is still
    /// the system's money, so who pays does not matter).
    fn co_serve(
        &self,
        w: &World,
        me: usize,
        _lead: usize,
        cv: &CaseView,
        d: usize,
        _pool_pays: bool,
    ) -> bool {
        let case = cv.case;
        let gain = w.groups[case.group].severity * need_weight(case, d) * w.quality(me, d);
        let cost = w.dim_cost(me, d, case.needs[d] as f64);
        gain >= w.params.cost_weight * cost / w.mean_case_cost
    }

    fn volunteer_to_host(&self, w: &World, me: usize, m: usize, _rng: &mut ChaCha8Rng) -> bool {
        Self::best_host(w, m) == Some(me) && w.mechanisms[m].value > w.system_cost(m)
    }

    /// Go on while the mechanism adds more than it costs the arena.
    fn keep_hosting(&self, w: &World, _me: usize, m: usize) -> bool {
        w.mechanisms[m].value > w.system_cost(m)
    }

    fn join(&self, w: &World, _me: usize, m: usize) -> bool {
        member_share_of_value(w, m) >= w.member_staff_cost(m)
    }

    /// The planned fair share: no under-contribution (seed-001-003 extract 1.6.2 (a)).
    fn contribution(&self, w: &World, me: usize, m: usize) -> f64 {
        w.mechanisms[m].pool_share * w.agencies[me].income
    }

    /// Bid by need (M-L119: need-led agenda).
    fn agenda_bid(&self, w: &World, _me: usize, _m: usize, out: &mut [f64]) {
        for (o, g) in out.iter_mut().zip(&w.groups) {
            *o = g.need_share;
        }
    }

    fn report(&self, _w: &World, _me: usize, true_attainment: f64, _favourable: f64) -> f64 {
        true_attainment
    }

    fn learn(&self, _state: &mut RuleState) {}
}
