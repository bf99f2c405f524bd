//! Beliefs and how they are learned (docs/ODD.md 7.14). Each agency updates what it believes
//! from what it observes, at `search.belief_rate` (mechanism values at
//! `model.value_learning`), the same way whatever its family:
//!
//! - **partners**: whether a receiver accepts its referrals and whether a partner agrees to
//!   co-serve (updated as each referral and request happens, in `step.rs`), and the
//!   inspection charge it pays per referral on each channel;
//! - **need**: each group's share of need. A synoptic agency observes every arrival; a
//!   bounded one observes the cases that reach it and, through protocols it belongs to, the
//!   cases that reach its protocol partners;
//! - **mechanisms**: the value a mechanism adds, to the arena and within the agency's own
//!   work, observed by members while it runs. Unobserved, beliefs drift back to the prior
//!   (a modest one: what the mechanism costs, times `search.mechanism_prior`);
//! - **others**: whether another candidate hosts a mechanism when it does not, and
//!   partners' contributions to a pooled fund.
//!
//! Information sharing: members of a live protocol pool what they know of every agency's
//! acceptance and reliability each tick (a step toward the members' mean).

use super::{Beliefs, World};
use crate::scenario::{MechanismKind, SearchMode};

impl World {
    /// End-of-tick learning.
    pub(super) fn learn_beliefs(&mut self) {
        let n = self.n_agencies();
        let ng = self.n_groups();
        let rate = self.search.belief_rate;

        // Need shares.
        let total_all: f64 = self.tally.groups.iter().map(|o| o.need).sum();
        for i in 0..n {
            match self.agencies[i].search {
                SearchMode::Synoptic => {
                    if total_all > 0.0 {
                        for g in 0..ng {
                            let x = self.tally.groups[g].need / total_all;
                            Beliefs::learn(&mut self.beliefs.need[i * ng + g], x, rate);
                        }
                    }
                }
                SearchMode::Bounded => {
                    let seen = |j: usize| j == i || self.known[i].contains(j);
                    let mut total = 0.0;
                    for j in 0..n {
                        if seen(j) {
                            for g in 0..ng {
                                total += self.tally.reached[self.tally.ag(j, g)];
                            }
                        }
                    }
                    if total > 0.0 {
                        for g in 0..ng {
                            let mut x = 0.0;
                            for j in 0..n {
                                if seen(j) {
                                    x += self.tally.reached[self.tally.ag(j, g)];
                                }
                            }
                            Beliefs::learn(&mut self.beliefs.need[i * ng + g], x / total, rate);
                        }
                    }
                }
            }
        }

        // Mechanisms.
        let per_case = self.mean_case_need;
        let vr = self.params.value_learning;
        for m in 0..self.mechanisms.len() {
            let k = self.mechanisms[m].candidates.len().max(1) as f64;
            let alive = self.mechanisms[m].alive();
            let host = self.mechanisms[m].host;
            let mech = &mut self.mechanisms[m];
            let prior = mech.prior_value;
            for idx in 0..mech.candidates.len() {
                let i = mech.candidates[idx];
                if alive && mech.is_member(i) {
                    let own = self.tally.mech_benefit[m * n + i] / per_case;
                    Beliefs::learn(&mut mech.value_belief[i], mech.value, vr);
                    Beliefs::learn(&mut mech.own_value[i], own, vr);
                } else {
                    Beliefs::learn(&mut mech.value_belief[i], prior, vr);
                    Beliefs::learn(&mut mech.own_value[i], prior / k, vr);
                }
                if host != Some(i) {
                    let x = if host.is_some() { 1.0 } else { 0.0 };
                    Beliefs::learn(&mut mech.others_host[i], x, rate);
                }
            }
            if mech.kind == MechanismKind::PooledFund && alive {
                for idx in 0..mech.candidates.len() {
                    let i = mech.candidates[idx];
                    if !mech.is_member(i) {
                        continue;
                    }
                    let (mut sum, mut cnt) = (0.0, 0.0);
                    for &j in &mech.candidates {
                        if j != i && mech.is_member(j) {
                            sum += mech.contrib_ratio[j];
                            cnt += 1.0;
                        }
                    }
                    if cnt > 0.0 {
                        Beliefs::learn(&mut mech.contrib_belief[i], sum / cnt, rate);
                    }
                }
            }
        }

        // Information sharing through live protocols.
        for m in 0..self.mechanisms.len() {
            let mech = &self.mechanisms[m];
            if mech.kind != MechanismKind::Protocol || !mech.alive() || mech.n_members() < 2 {
                continue;
            }
            let members = &mech.members;
            let count = members.count_ones(..) as f64;
            let share = rate * mech.depth;
            for j in 0..n {
                let (mut a, mut r) = (0.0, 0.0);
                for i in members.ones() {
                    a += self.beliefs.accept[i * n + j];
                    r += self.beliefs.reliable[i * n + j];
                }
                let (a, r) = (a / count, r / count);
                for i in members.ones() {
                    Beliefs::learn(&mut self.beliefs.accept[i * n + j], a, share);
                    Beliefs::learn(&mut self.beliefs.reliable[i * n + j], r, share);
                }
            }
        }
    }
}
