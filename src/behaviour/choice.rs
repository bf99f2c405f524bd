//! The choice procedure, the same for every agency: which options it looks at, and how it
//! picks. Synoptic agencies compare every agency that could serve; bounded ones compare a
//! few contacts drawn from those agencies plus the partners they share a live protocol with
//! (information sharing widens what they see), and take the first option that meets their
//! aspiration (001:32, after Simon). Search is the agency's setting, not its family's.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::motives::Weigh;
use super::options::{self, Value};
use super::{Behaviour, CaseView, PartnerQuery, ServeRequest, Triage, logistic, partner_can};
use crate::model::{RuleState, World};
use crate::scenario::{Family, Motives, SearchMode, SearchParams};

/// The one decision rule: a family's motives applied through the common procedure.
#[derive(Debug, Clone)]
pub struct Deliberator {
    family: Family,
    motives: Motives,
    search: SearchParams,
}

/// Iterate the set bits of a mask in index order.
fn bits(mut mask: u128) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            None
        } else {
            let i = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            Some(i)
        }
    })
}

impl Deliberator {
    pub fn new(family: Family, motives: Motives, search: SearchParams) -> Deliberator {
        Deliberator {
            family,
            motives,
            search,
        }
    }

    fn weigh<'a>(&'a self, w: &World, me: usize) -> Weigh<'a> {
        Weigh::new(&self.motives, w, me)
    }

    /// The agencies `me` looks at for a need on dimension `d`: every server of `d`
    /// (synoptic), or `breadth` contacts drawn from them plus its protocol partners who serve
    /// `d` (bounded). Draws from the agency's own stream; the same number of draws whatever
    /// the motives.
    fn contacts(&self, w: &World, me: usize, d: usize, rng: &mut ChaCha8Rng) -> u128 {
        let servers = &w.servers[d];
        match w.agencies[me].search {
            SearchMode::Synoptic => w.server_mask[d],
            SearchMode::Bounded => {
                let mut set = w.known[me] & w.server_mask[d];
                if !servers.is_empty() {
                    for _ in 0..self.search.breadth {
                        set |= 1u128 << servers[rng.random_range(0..servers.len())];
                    }
                }
                set
            }
        }
    }

    /// The dimension of the case's largest need (where a bounded agency looks first).
    fn primary_dim(w: &World, cv: &CaseView) -> usize {
        let mut best = 0;
        for d in 0..w.dims.len() {
            if cv.case.needs[d] > cv.case.needs[best] {
                best = d;
            }
        }
        best
    }

    /// Whether an option's utility meets the agency's aspiration (per unit of severity, so on
    /// the scale of a share of need met).
    fn satisfies(&self, w: &World, me: usize, u: f64, severity: f64) -> bool {
        w.agencies[me].search == SearchMode::Bounded
            && u / severity >= w.agencies[me].rule.aspiration
    }
}

impl Behaviour for Deliberator {
    fn family(&self) -> Family {
        self.family
    }

    /// Ring-fence case time for target groups: `lambda x target_commitment` of it, spread by
    /// target weight raised to `target_focus` (what is measured gets effort, 001:226, 003:72).
    /// An agency that weighs only the shared objective earmarks nothing.
    fn effort(&self, w: &World, me: usize, out: &mut [f64]) {
        let lam = w.agencies[me].disp.lambda;
        out.fill(0.0);
        if lam == 0.0 {
            return;
        }
        for (o, t) in out.iter_mut().zip(&w.agencies[me].effective_targets) {
            *o = t.powf(self.motives.target_focus);
        }
        super::normalise(out);
        let share = lam * self.motives.target_commitment;
        out.iter_mut().for_each(|x| *x *= share);
    }

    /// Keep, refer or decline: value each option it looks at and take the best (synoptic) or
    /// the first that meets its aspiration (bounded), keeping first in view.
    fn triage(&self, w: &World, me: usize, cv: &CaseView, rng: &mut ChaCha8Rng) -> Triage {
        let wg = self.weigh(w, me);
        let g = cv.case.group;
        let sev = w.groups[g].severity;
        let keep_v = options::keep(w, me, &wg, cv);
        let keep_u = wg.u(keep_v.shared, keep_v.own);
        let mut best = (Triage::Accept, keep_u);
        if self.satisfies(w, me, keep_u, sev) {
            return Triage::Accept;
        }
        if cv.can_refer {
            let mut looked: u128 = 0;
            match w.agencies[me].search {
                SearchMode::Synoptic => {
                    for d in 0..w.dims.len() {
                        if cv.case.needs[d] > 0.0 {
                            looked |= w.server_mask[d];
                        }
                    }
                }
                SearchMode::Bounded => {
                    looked = self.contacts(w, me, Self::primary_dim(w, cv), rng);
                }
            }
            looked &= !cv.held & !(1u128 << me);
            for j in bits(looked) {
                if !w.referrable(j) {
                    continue;
                }
                let v = options::refer(w, me, j, &wg, cv, keep_v);
                let u = wg.u(v.shared, v.own);
                if u > best.1 {
                    best = (Triage::Refer(j), u);
                    if self.satisfies(w, me, u, sev) {
                        return best.0;
                    }
                }
            }
        }
        if !w.agencies[me].duties[g] {
            let v = options::decline(w, me, &wg, cv);
            let u = wg.u(v.shared, v.own);
            if u > best.1 {
                best = (Triage::Decline, u);
            }
        }
        best.0
    }

    /// Ask the partner whose help is worth most, if any is worth asking.
    fn choose_partner(
        &self,
        w: &World,
        me: usize,
        q: &PartnerQuery,
        rng: &mut ChaCha8Rng,
    ) -> Option<usize> {
        let wg = self.weigh(w, me);
        let looked = self.contacts(w, me, q.dim, rng) & !(1u128 << me);
        let mut best: Option<(usize, f64)> = None;
        for p in bits(looked) {
            if !partner_can(w, p, q.dim, q.case) {
                continue;
            }
            let v = options::ask_partner(w, me, p, &wg, q);
            let u = wg.u(v.shared, v.own);
            if u > 0.0 && best.is_none_or(|(_, b)| u > b) {
                best = Some((p, u));
            }
        }
        best.map(|(p, _)| p)
    }

    fn co_serve(&self, w: &World, me: usize, req: &ServeRequest) -> bool {
        let wg = self.weigh(w, me);
        let v = options::serve(w, me, &wg, req);
        let money = w.dim_cost(me, req.dim, req.case.needs[req.dim] as f64);
        wg.u(v.shared, v.own) >= 0.0
            && (req.pool_pays || w.ledger.can_pay(crate::model::Account::Agency(me), money))
    }

    /// Volunteer with probability logistic(U(host) / noise): a noisy best reply.
    fn volunteer_to_host(&self, w: &World, me: usize, m: usize, rng: &mut ChaCha8Rng) -> bool {
        let wg = self.weigh(w, me);
        let v = options::host(w, me, m, &wg);
        let p = logistic(wg.u(v.shared, v.own) / self.search.noise);
        rng.random::<f64>() < p
    }

    /// Go on while hosting is worth at least leaving it to others.
    fn keep_hosting(&self, w: &World, me: usize, m: usize) -> bool {
        let wg = self.weigh(w, me);
        let v = options::host(w, me, m, &wg);
        wg.u(v.shared, v.own) >= 0.0
    }

    fn join(&self, w: &World, me: usize, m: usize) -> bool {
        let wg = self.weigh(w, me);
        let v = options::member(w, me, m, &wg);
        wg.u(v.shared, v.own) >= 0.0
    }

    fn contribution(&self, w: &World, me: usize, m: usize) -> f64 {
        let wg = self.weigh(w, me);
        let x = options::contribution_ratio(w, me, m, &wg);
        x * w.mechanisms[m].pool_share * w.agencies[me].income
    }

    fn sanction(&self, w: &World, me: usize, _m: usize, target: usize) -> bool {
        let wg = self.weigh(w, me);
        let v = options::sanction(w, me, target, &wg);
        wg.u(v.shared, v.own) > 0.0
    }

    fn budget_bid(&self, w: &World, me: usize) -> f64 {
        options::budget_bid(w, me, &self.weigh(w, me))
    }

    /// Bid (1 - lambda) x its belief about need shares + lambda x its targets' weights
    /// (each viewing its own client group as most important, 001:115).
    fn agenda_bid(&self, w: &World, me: usize, _m: usize, out: &mut [f64]) {
        let lam = w.agencies[me].disp.lambda;
        let ng = w.n_groups();
        let mut tsum = 0.0;
        for (g, o) in out.iter_mut().enumerate().take(ng) {
            *o = w.agencies[me].targets[g].powf(self.motives.target_focus);
            tsum += *o;
        }
        for (g, o) in out.iter_mut().enumerate().take(ng) {
            let own = if tsum > 0.0 { *o / tsum } else { 0.0 };
            let need = w.beliefs.need(me, g);
            *o = if lam == 0.0 {
                need
            } else {
                (1.0 - lam) * need + lam * own
            };
        }
    }

    fn report(&self, w: &World, me: usize, true_attainment: f64, favourable: f64) -> f64 {
        if true_attainment.is_nan() || favourable.is_nan() {
            return true_attainment;
        }
        let wg = self.weigh(w, me);
        let v: Value = options::game_report(w, &wg, true_attainment, favourable);
        if favourable > true_attainment && wg.u(v.shared, v.own) > 0.0 {
            favourable
        } else {
            true_attainment
        }
    }

    /// Aspiration follows achievement (001:32).
    fn learn(&self, state: &mut RuleState) {
        if !state.achieved.is_nan() {
            state.aspiration += self.search.adapt_rate * (state.achieved - state.aspiration);
        }
    }
}
