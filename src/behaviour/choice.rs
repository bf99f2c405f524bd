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
use crate::model::{AgentSet, RuleState, World};
use crate::scenario::{Family, MAX_BREADTH, Motives, SearchMode, SearchParams};

/// The one decision rule: a family's motives applied through the common procedure.
#[derive(Debug, Clone)]
pub struct Deliberator {
    family: Family,
    motives: Motives,
    search: SearchParams,
}

/// The agencies an agency looks at for one dimension, in index order: every server
/// (synoptic), or the servers it shares a live protocol with plus `breadth` drawn contacts
/// (bounded).
enum Contacts<'a> {
    All(&'a [usize]),
    Some {
        /// The agencies it shares a live protocol with, and the servers of the dimension.
        known: &'a AgentSet,
        servers: &'a AgentSet,
        /// Drawn contacts, sorted, without repeats.
        drawn: [u32; MAX_BREADTH],
        n_drawn: usize,
    },
}

impl Contacts<'_> {
    /// In index order: every server (synoptic), or the known servers merged with the drawn
    /// contacts (bounded). The cost grows with what is looked at, not with the arena.
    fn iter(&self) -> ContactsIter<'_> {
        match self {
            Contacts::All(s) => ContactsIter::All(s.iter()),
            Contacts::Some {
                known,
                servers,
                drawn,
                n_drawn,
            } => {
                let mut both = BlockAnd {
                    a: known.as_slice(),
                    b: servers.as_slice(),
                    i: 0,
                    cur: 0,
                    base: 0,
                };
                let next = both.next();
                ContactsIter::Merge {
                    both,
                    next,
                    drawn: &drawn[..*n_drawn],
                }
            }
        }
    }
}

/// The members of two bit sets of the same length, in index order, a block at a time.
struct BlockAnd<'a> {
    a: &'a [fixedbitset::Block],
    b: &'a [fixedbitset::Block],
    i: usize,
    cur: fixedbitset::Block,
    base: usize,
}

impl Iterator for BlockAnd<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        const BITS: usize = fixedbitset::Block::BITS as usize;
        loop {
            if self.cur != 0 {
                let t = self.cur.trailing_zeros() as usize;
                self.cur &= self.cur - 1;
                return Some(self.base + t);
            }
            if self.i >= self.a.len().min(self.b.len()) {
                return None;
            }
            self.cur = self.a[self.i] & self.b[self.i];
            self.base = self.i * BITS;
            self.i += 1;
        }
    }
}

enum ContactsIter<'a> {
    All(std::slice::Iter<'a, usize>),
    Merge {
        both: BlockAnd<'a>,
        /// The next known server, if any.
        next: Option<usize>,
        drawn: &'a [u32],
    },
}

impl Iterator for ContactsIter<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        match self {
            ContactsIter::All(it) => it.next().copied(),
            ContactsIter::Merge { both, next, drawn } => {
                let d = drawn.first().map(|&x| x as usize);
                let out = match (*next, d) {
                    (None, None) => return None,
                    (Some(k), None) => k,
                    (None, Some(x)) => x,
                    (Some(k), Some(x)) => k.min(x),
                };
                if *next == Some(out) {
                    *next = both.next();
                }
                if d == Some(out) {
                    *drawn = &drawn[1..];
                }
                Some(out)
            }
        }
    }
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
    fn contacts<'w>(
        &self,
        w: &'w World,
        me: usize,
        d: usize,
        rng: &mut ChaCha8Rng,
    ) -> Contacts<'w> {
        let servers = &w.servers[d];
        if w.agencies[me].search == SearchMode::Synoptic {
            return Contacts::All(servers);
        }
        let mut drawn = [0u32; MAX_BREADTH];
        let mut n_drawn = 0;
        if !servers.is_empty() {
            for _ in 0..self.search.breadth {
                drawn[n_drawn] = servers[rng.random_range(0..servers.len())] as u32;
                n_drawn += 1;
            }
        }
        drawn[..n_drawn].sort_unstable();
        // Remove repeats (the list is sorted).
        let mut k = 0;
        for i in 0..n_drawn {
            if k == 0 || drawn[i] != drawn[k - 1] {
                drawn[k] = drawn[i];
                k += 1;
            }
        }
        Contacts::Some {
            known: &w.known[me],
            servers: &w.server_mask[d],
            drawn,
            n_drawn: k,
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
            let listed;
            let mut from_memo;
            let bounded;
            let looked: &mut dyn Iterator<Item = usize> = match w.agencies[me].search {
                // Every agency serving a dimension the case needs, gathered once per case.
                SearchMode::Synoptic => {
                    listed = cv.memo.case_servers(w, cv.case);
                    from_memo = listed.ones();
                    &mut from_memo
                }
                SearchMode::Bounded => {
                    bounded = self.contacts(w, me, Self::primary_dim(w, cv), rng);
                    &mut bounded.iter()
                }
            };
            for j in looked {
                if j == me || cv.held.contains(j) || !w.referrable(j) {
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
        let looked = self.contacts(w, me, q.dim, rng);
        let mut best: Option<(usize, f64)> = None;
        for p in looked.iter() {
            if p == me || !partner_can(w, p, q.dim, q.case) {
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
