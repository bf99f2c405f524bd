//! Bureaucratic politics (001:38-48): strategic, organisationally instrumental, aims in
//! conflict. Each choice maximises
//!
//! `V = lambda * U_own + (1 - lambda) * W`
//!
//! where `W` is the shared objective (severity-weighted need met less cost) and `U_own` the
//! agency's organisational utility, after the seed-001-003 extract, section 1.6.1:
//!
//! `U_own = target_weight * targets + budget terms (scaled up by survival pressure)
//!          - blame_weight * risk_aversion * blame - autonomy_weight * autonomy * threat
//!          + turf_weight * agenda control + altruism * W`.
//!
//! Which terms a choice touches is written beside each method. Power enters through the
//! world (who can refuse whom, forum rules), not through a label.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use super::{
    Behaviour, CaseView, Triage, logistic, member_share_of_value, need_weight, normalise,
    own_value, partner_can,
};
use crate::levers::Accountability;
use crate::model::{Account, RuleState, World};
use crate::scenario::{AgendaRule, BpParams, Family, MechanismKind};

/// A sitting host's reluctance to give up a role it has (assumed): hosting, once taken, is
/// dropped only when resentment or cost outweighs it by this much.
pub const HOST_INERTIA: f64 = 0.5;

#[derive(Debug, Clone)]
pub struct BureaucraticPolitics {
    p: BpParams,
}

impl BureaucraticPolitics {
    pub fn new(p: BpParams) -> Self {
        BureaucraticPolitics { p }
    }

    fn lambda(w: &World, me: usize) -> f64 {
        w.agencies[me].lambda
    }

    /// Budget protection weight, raised by survival pressure (M-L142, M-L234).
    fn budget(&self, w: &World, me: usize) -> f64 {
        self.p.budget_weight * (1.0 + self.p.survival_weight * w.survival_pressure(me))
    }

    /// Target credit for group `g`: effective target weight on the scale where an average
    /// target group scores 1 (M-L115, M-L125, M-L226), raised by central control (targets
    /// bind harder, 000:1125-1126).
    fn target(&self, w: &World, me: usize, g: usize) -> f64 {
        self.p.target_weight
            * (1.0 + w.levers.p.control)
            * w.agencies[me].effective_targets[g]
            * w.n_groups() as f64
    }

    /// Blame weight, scaled by the blame culture lever (002:354-362).
    fn blame(&self, w: &World) -> f64 {
        self.p.blame_weight * w.levers.p.blame
    }

    fn outcome_accountability(w: &World) -> bool {
        w.levers.p.accountability == Accountability::Outcome
    }

    /// Own utility of taking a case as lead. Under output accountability targets count the
    /// share of the case's need the agency covers itself; under outcome accountability, the
    /// need met on the case as a whole (here: what it can meet alone).
    fn own_accept(&self, w: &World, me: usize, cv: &CaseView) -> f64 {
        let case = cv.case;
        let a = &w.agencies[me];
        let credit = if Self::outcome_accountability(w) {
            w.fit(me, case)
        } else {
            w.coverage(me, case)
        };
        let cost = w.own_cost(me, case) / w.mean_case_cost;
        let pay = a.throughput_pay / w.mean_case_cost;
        self.target(w, me, case.group) * credit
            - self.budget(w, me) * (cost - pay)
            - self.blame(w) * a.risk_aversion * w.groups[case.group].risk
            + self.p.altruism * w.shared_value(me, case)
    }

    /// Own utility of referring a case on: the expected charge if referral inspection bills
    /// the sender, counted when the receiver fits the case no better (002:593-595).
    fn own_refer(&self, w: &World, me: usize, to: usize, cv: &CaseView) -> f64 {
        let ri = &w.levers.p.referral_inspection;
        let looks_like_dumping =
            w.fit(to, cv.case) <= w.fit(me, cv.case) || !w.capacity(to, cv.case);
        if ri.detection <= 0.0 || ri.charge <= 0.0 || !looks_like_dumping {
            return 0.0;
        }
        -self.budget(w, me) * ri.detection * ri.charge / w.mean_case_cost
    }

    /// Control a host gains over a forum's agenda: its weight under the forum's own rule.
    fn agenda_control(w: &World, me: usize, m: usize) -> f64 {
        let mech = &w.mechanisms[m];
        if mech.kind != MechanismKind::Forum {
            return 0.0;
        }
        match w.agenda_rule(m) {
            AgendaRule::NeedWeighted => 0.0,
            AgendaRule::EqualVotes | AgendaRule::RotatingChair => {
                1.0 / mech.candidates.len().max(1) as f64
            }
            AgendaRule::PowerWeighted => {
                let total: f64 = mech
                    .candidates
                    .iter()
                    .map(|&c| w.agencies[c].power.powf(mech.gamma))
                    .sum();
                if total > 0.0 {
                    w.agencies[me].power.powf(mech.gamma) / total
                } else {
                    0.0
                }
            }
        }
    }

    /// Net value of leading mechanism `m` against waiting for someone else to (the
    /// volunteer's dilemma, M-L182, M-L200). The own value of the mechanism accrues whoever
    /// hosts, except with the chance that nobody else would (taken as 1 in k candidates);
    /// leading adds agenda control (turf) and costs the hosting. The shared term counts what
    /// the mechanism adds against what it costs the arena.
    fn lead_minus_wait(&self, w: &World, me: usize, m: usize) -> f64 {
        let lambda = Self::lambda(w, me);
        let k = w.mechanisms[m].candidates.len().max(1) as f64;
        let cost = w.host_cost_to_host(m);
        let own = self.p.turf_weight * Self::agenda_control(w, me, m)
            + self.p.target_weight * own_value(w, me, m) / k
            - self.budget(w, me) * cost;
        let shared = w.mechanisms[m].value - w.system_cost(m);
        lambda * own + (1.0 - lambda) * shared
    }

    /// Least-resistance receiver for a case it will not keep (M-L156, M-L220): someone with
    /// a duty toward the group first, then the less powerful, then anyone not bound to it by
    /// a protocol. Fit to the case plays no part.
    fn least_resistance(
        &self,
        w: &World,
        me: usize,
        cv: &CaseView,
        rng: &mut ChaCha8Rng,
    ) -> Option<usize> {
        let g = cv.case.group;
        let max_p = w.max_power().max(1e-9);
        let mut best: Option<(usize, f64)> = None;
        for j in 0..w.n_agencies() {
            if j == me || cv.has_held(j) || !w.referrable(j) {
                continue;
            }
            let a = &w.agencies[j];
            let duty = if a.duties[g] { 2.0 } else { 0.0 };
            let weakness = 1.0 - a.power / max_p;
            let bound = w.protocol_depth(me, j);
            let score = duty + weakness - bound + 0.1 * rng.random::<f64>();
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((j, score));
            }
        }
        best.map(|(j, _)| j)
    }
}

impl Behaviour for BureaucraticPolitics {
    fn family(&self) -> Family {
        Family::BureaucraticPolitics
    }

    /// Effort concentrates on what is measured: earmarks proportional to target weight raised
    /// to `target_focus`, leaving only `flex` for everything else (M-L226, S-L72).
    fn effort(&self, w: &World, me: usize, out: &mut [f64]) {
        for (o, t) in out.iter_mut().zip(&w.agencies[me].effective_targets) {
            *o = t.powf(self.p.target_focus);
        }
        normalise(out);
        let s: f64 = out.iter().sum();
        if s > 0.0 {
            out.iter_mut().for_each(|x| *x *= 1.0 - self.p.flex);
        }
    }

    /// Keep the case if `V` of keeping it is at least `V` of passing it to the receiver of
    /// least resistance (targets, budget and blame against residual altruism, and any charge
    /// for dumping); otherwise pass it on, or decline it if there is nobody to pass it to.
    fn triage(&self, w: &World, me: usize, cv: &CaseView, rng: &mut ChaCha8Rng) -> Triage {
        let case = cv.case;
        let lambda = Self::lambda(w, me);
        let keep = lambda * self.own_accept(w, me, cv) + (1.0 - lambda) * w.shared_value(me, case);
        let to = if cv.can_refer {
            self.least_resistance(w, me, cv, rng)
        } else {
            None
        };
        let pass = to.map_or(0.0, |j| lambda * self.own_refer(w, me, j, cv));
        if keep >= pass && w.capacity(me, case) {
            return Triage::Accept;
        }
        match to {
            Some(j) => Triage::Refer(j),
            None => Triage::Decline,
        }
    }

    /// Seek a partner only when the gain to its own targets (and, by (1 - lambda), to the
    /// shared aim) beats its share of the joint overhead; prefer trusted, joined partners.
    /// Under output accountability a partner's work earns the lead no credit; under outcome
    /// accountability the lead is credited with the rise in need met on the whole case.
    fn choose_partner(
        &self,
        w: &World,
        me: usize,
        cv: &CaseView,
        d: usize,
        _rng: &mut ChaCha8Rng,
    ) -> Option<usize> {
        let case = cv.case;
        let lambda = Self::lambda(w, me);
        let overhead =
            w.params.cost_weight * w.params.joint_overhead * w.staff_value / w.mean_case_cost;
        let gain = w.outcome_gain(me, case, d);
        let credit = if Self::outcome_accountability(w) {
            gain
        } else {
            0.0
        };
        let own = self.target(w, me, case.group) * credit - self.budget(w, me) * overhead;
        let shared = w.groups[case.group].severity * gain - overhead;
        if lambda * own + (1.0 - lambda) * shared <= 0.0 {
            return None;
        }
        let mut best: Option<(usize, f64)> = None;
        for j in 0..w.n_agencies() {
            if j == me || !partner_can(w, j, d, case) {
                continue;
            }
            let score =
                w.quality(j, d) * (1.0 + w.trust(me, j).max(-0.9) + w.join(me, j, case.group));
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((j, score));
            }
        }
        best.map(|(j, _)| j)
    }

    /// Help another agency's client when it serves own targets, costs little (or a pool pays),
    /// or repays a favour; favours are repaid rarely (weight `reciprocity`, M-L119, M-L182).
    /// Under a duty to cooperate, refusing risks the expected sanction.
    fn co_serve(
        &self,
        w: &World,
        me: usize,
        lead: usize,
        cv: &CaseView,
        d: usize,
        pool_pays: bool,
    ) -> bool {
        let case = cv.case;
        let lambda = Self::lambda(w, me);
        let q = w.quality(me, d);
        let nw = need_weight(case, d);
        let money = w.dim_cost(me, d, case.needs[d] as f64) / w.mean_case_cost;
        let own_money = if pool_pays { 0.0 } else { money };
        let owed = (w.favours(lead, me) - w.favours(me, lead)).tanh();
        let gain = w.groups[case.group].severity * nw * q;
        let shared = gain - w.params.cost_weight * money;
        // Outputs credit the partner with the need weight it serves; outcomes with the rise
        // in need met on the whole case.
        let credit = if Self::outcome_accountability(w) {
            w.outcome_gain(lead, case, d) * q
        } else {
            nw * q
        };
        let own = self.target(w, me, case.group) * credit - self.budget(w, me) * own_money
            + self.p.reciprocity * owed
            + self.budget(w, me) * w.expected_sanction()
            + self.p.altruism * shared;
        lambda * own + (1.0 - lambda) * shared >= 0.0
            && (pool_pays
                || w.ledger
                    .can_pay(Account::Agency(me), money * w.mean_case_cost))
    }

    /// Volunteer with probability logistic(steepness x (V_lead - V_wait)).
    fn volunteer_to_host(&self, w: &World, me: usize, m: usize, rng: &mut ChaCha8Rng) -> bool {
        let mech = &w.mechanisms[m];
        if !w.ledger.can_pay(Account::Agency(me), mech.host_money)
            || w.agencies[me].flex < mech.host_staff
        {
            return false;
        }
        let p = logistic(self.p.host_steepness * self.lead_minus_wait(w, me, m));
        rng.random::<f64>() < p
    }

    /// Go on hosting while leading still beats waiting once resentment of free riders is
    /// counted (M-L201): the proactive withdraw when others do not pull their weight.
    fn keep_hosting(&self, w: &World, me: usize, m: usize) -> bool {
        let mech = &w.mechanisms[m];
        let members = mech.n_members().saturating_sub(1).max(1) as f64;
        let resent: f64 = (0..w.n_agencies())
            .filter(|&j| j != me && mech.is_member(j))
            .map(|j| w.resentment(me, j))
            .sum();
        self.lead_minus_wait(w, me, m) + HOST_INERTIA - Self::lambda(w, me) * resent / members
            >= 0.0
    }

    /// Join or stay when the instrumental motives beat participation cost and the threat to
    /// autonomy, which grows convexly with depth (M-L186, M-L203, M-L234; Table 4 motives
    /// M-L174-178: pooling, referrals, risk protection, client needs).
    fn join(&self, w: &World, me: usize, m: usize) -> bool {
        let lambda = Self::lambda(w, me);
        let a = &w.agencies[me];
        let mech = &w.mechanisms[m];
        let share = own_value(w, me, m);
        let cost = w.member_cost(m, me);
        // Risk protection: protocols shield against blame for risky clients (M-L177).
        let risk = if mech.kind == MechanismKind::Protocol {
            let r: f64 = w
                .groups
                .iter()
                .zip(&a.targets)
                .map(|(g, t)| g.risk * t)
                .sum();
            self.blame(w) * a.risk_aversion * r
        } else {
            0.0
        };
        // Information sharing with funding rivals gives away advantage (001:214).
        let rivalry = if mech.kind == MechanismKind::Protocol {
            let (mut rivals, mut members) = (0.0, 0.0);
            for j in 0..w.n_agencies() {
                if j != me && mech.is_member(j) {
                    members += 1.0;
                    if w.rivals(me, j) {
                        rivals += 1.0;
                    }
                }
            }
            if members > 0.0 {
                w.levers.centre.contestable_share * rivals / members
            } else {
                0.0
            }
        } else {
            0.0
        };
        // Levering in resources: throughput-funded agencies seek referral sources (M-L175).
        let referrals = if mech.kind == MechanismKind::Forum {
            a.throughput_pay / w.mean_case_cost
        } else {
            0.0
        };
        // Pooling: what the pool paid for its cases last tick (M-L174).
        let pooling = mech.pool_paid[me] / w.mean_case_cost;
        // Own targets on the agenda (forums).
        let agenda = if mech.kind == MechanismKind::Forum {
            w.groups.len() as f64
                * mech
                    .agenda
                    .iter()
                    .zip(&a.targets)
                    .map(|(o, t)| o * t)
                    .sum::<f64>()
        } else {
            0.0
        };
        let threat = self.p.autonomy_weight * a.autonomy * mech.threat * (1.0 + mech.depth).powi(2);
        let own = self.p.target_weight * share * agenda.max(0.5)
            + risk
            + referrals
            + pooling
            + self.budget(w, me) * w.expected_sanction()
            - self.budget(w, me) * cost
            - rivalry
            - threat
            + self.p.altruism * (share - cost);
        let shared =
            member_share_of_value(w, m) - w.system_cost(m) / mech.candidates.len().max(1) as f64;
        lambda * own + (1.0 - lambda) * shared >= 0.0
    }

    /// Reciprocity (M-L119): pay the fair share scaled by how fully partners paid theirs last
    /// tick and by what the pool did for its own cases, mixed by lambda with the fair share.
    fn contribution(&self, w: &World, me: usize, m: usize) -> f64 {
        let mech = &w.mechanisms[m];
        let fair = mech.pool_share * w.agencies[me].income;
        if fair <= 0.0 {
            return 0.0;
        }
        let (mut sum, mut k) = (0.0, 0.0);
        for j in 0..w.n_agencies() {
            if j != me && mech.is_member(j) {
                sum += mech.contrib_ratio[j];
                k += 1.0;
            }
        }
        let partners = if k > 0.0 { sum / k } else { 1.0 };
        let own_use = (mech.pool_paid[me] / fair).min(1.0);
        let ratio =
            (0.5 * partners.min(1.0) + 0.5 * own_use) * (1.0 - 0.5 * w.survival_pressure(me));
        let lambda = Self::lambda(w, me);
        fair * (lambda * ratio + (1.0 - lambda))
    }

    /// Bid for its own targets' groups (M-L115: each viewing its own client group as most
    /// important).
    fn agenda_bid(&self, w: &World, me: usize, _m: usize, out: &mut [f64]) {
        for (o, t) in out.iter_mut().zip(&w.agencies[me].targets) {
            *o = t.powf(self.p.target_focus);
        }
        normalise(out);
    }

    /// Game the report when the own gain beats the expected blame: the chance of detection
    /// times the blame weight and the agency's risk aversion (S-L72).
    fn report(&self, w: &World, me: usize, true_attainment: f64, favourable: f64) -> f64 {
        if true_attainment.is_nan() || favourable.is_nan() {
            return true_attainment;
        }
        let a = &w.agencies[me];
        let gain = a.lambda * self.p.target_weight * (favourable - true_attainment);
        let blame = w.levers.detection(w.params.detection_rate) * self.blame(w) * a.risk_aversion;
        if gain > blame {
            favourable
        } else {
            true_attainment
        }
    }

    fn learn(&self, _state: &mut RuleState) {}
}
