//! Options and their consequences: what each option open to an agency would bring, valued
//! for the shared objective (`shared`, W) and for the organisational interest (`own`, O).
//!
//! Every agency values every option with these functions, whatever its family; a family
//! only weighs the two columns differently ([`super::motives`]). Units: case-equivalents,
//! the severity-weighted need met of one mean case. Money enters W at `model.cost_weight`
//! per mean case cost (a real resource used anywhere in the arena is a system cost; a
//! transfer between agencies or with the centre is not) and O at the agency's budget weight
//! (every payment it makes or receives counts, charges and subsidies included). Sources for
//! each term are in docs/ODD.md 7.

use super::motives::Weigh;
use super::{CaseView, PartnerQuery, ServeRequest, need_weight};
use crate::levers::{Accountability, PriceOn};
use crate::model::World;
use crate::scenario::{AgendaRule, MechanismKind};

/// An option's worth to the shared objective and to the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Value {
    pub shared: f64,
    pub own: f64,
}

impl Value {
    pub fn new(shared: f64, own: f64) -> Value {
        Value { shared, own }
    }

    /// The probability mix of two outcomes.
    pub fn mix(p: f64, a: Value, b: Value) -> Value {
        Value {
            shared: p * a.shared + (1.0 - p) * b.shared,
            own: p * a.own + (1.0 - p) * b.own,
        }
    }
}

fn outcome_accountability(w: &World) -> bool {
    w.levers.p.accountability == Accountability::Outcome
}

/// The shared objective's value of agency `j` leading the case (its own service and the
/// partners it could reach, by the one need-met function), less what it costs the arena.
pub fn lead_shared(w: &World, j: usize, cv: &CaseView) -> f64 {
    let (met, cost) = cv.lead(w, j);
    w.groups[cv.case.group].severity * met - w.params.cost_weight * cost / w.mean_case_cost
}

/// Keeping a case as lead.
///
/// O: credit on own targets (outputs: the need weight it covers itself; outcomes: the need
/// met on the whole case, 001:125), the money it spends net of any per-case payment
/// (001:144), the staff time, blame risk from risky clients (001:158), and any price on
/// accepting a referred case.
pub fn keep(w: &World, me: usize, wg: &Weigh, cv: &CaseView) -> Value {
    let case = cv.case;
    let g = case.group;
    let (met, cost) = cv.lead(w, me);
    let shared = w.groups[g].severity * met - w.params.cost_weight * cost / w.mean_case_cost;
    if wg.lambda == 0.0 {
        return Value::new(shared, 0.0);
    }
    let credit = if outcome_accountability(w) {
        met
    } else {
        w.coverage(me, case)
    };
    let a = &w.agencies[me];
    let price = match cv.from {
        Some(f) => w.levers.price(PriceOn::Acceptance, f, me, g),
        None => 0.0,
    };
    let own = wg.target(w, me, g) * credit
        - wg.money(w, w.own_cost(me, case) - a.throughput_pay + price)
        - wg.work(w, w.own_staff(me, case))
        - wg.blame * w.groups[g].risk;
    Value::new(shared, own)
}

/// Referring a case to `j`. With the chance the sender believes `j` accepts, the case is
/// led there (less the chance a referral loses it, cut by a protocol between them);
/// otherwise it bounces back and the sender is where it was (`keep`).
///
/// O: the prices on the channel and the inspection charges it has learned to expect on it
/// (002:593-595); no credit, no cost, no blame of its own if the case is accepted.
pub fn refer(w: &World, me: usize, j: usize, wg: &Weigh, cv: &CaseView, keep: Value) -> Value {
    let case = cv.case;
    let a = w.beliefs.accept(me, j);
    let loss = w.params.referral_loss * (1.0 - w.protocol_depth(me, j));
    let there = Value::new((1.0 - loss) * lead_shared(w, j, cv), 0.0);
    let mut v = Value::mix(a, there, keep);
    // Prices and inspection charges fall on the referral itself, accepted or not.
    if wg.lambda != 0.0 {
        let price = w.levers.price(PriceOn::Referral, me, j, case.group);
        v.own -= wg.money(w, price + w.beliefs.charge(me, j));
    }
    v
}

/// Declining a case. Refused at first contact (or at the hop limit) it falls through: worth
/// nothing to the shared objective, and blame if the group is salient. Refused after a
/// referral it goes back to the sender, worth what the sender could do with it; a receiver
/// that distrusts the sender is glad to return it (negative reciprocity, 001:119).
pub fn decline(w: &World, me: usize, wg: &Weigh, cv: &CaseView) -> Value {
    let case = cv.case;
    let g = case.group;
    match cv.from {
        Some(f) if cv.can_refer => {
            let shared = lead_shared(w, f, cv);
            let own = wg.reciprocity * (-w.trust(me, f)).max(0.0);
            Value::new(shared, own)
        }
        _ => Value::new(0.0, -wg.blame * w.groups[g].salience),
    }
}

/// Asking `p` to serve the dimension in question: the rise in need met on the case by the
/// one need-met function (which charges the fragmentation penalty on every dimension,
/// the lead's own included), times the chance `p` agrees, less the work's cost and both
/// sides' joint overhead. O: under outcome accountability the lead is credited with the
/// rise; under outputs, with nothing; it bears its own overhead.
pub fn ask_partner(w: &World, me: usize, p: usize, wg: &Weigh, q: &PartnerQuery) -> Value {
    let case = q.case;
    let g = case.group;
    let base = q.base;
    let mut server = *q.server;
    let mut level = *q.level;
    server[q.dim] = p as u32;
    level[q.dim] = w.quality(p, q.dim);
    let with = w.need_met(case, me, &server, &level);
    let gain = with - base;
    let r = w.beliefs.reliable(me, p);
    let overhead = w.params.joint_overhead * (1.0 - w.protocol_depth(me, p));
    let work_cost = w.dim_cost(p, q.dim, case.needs[q.dim] as f64);
    let sev = w.groups[g].severity;
    // Both the lead and the partner spend the joint overhead (step.rs: serve), hence 2.
    let shared = r
        * (sev * gain
            - w.params.cost_weight * (work_cost + 2.0 * overhead * w.staff_value)
                / w.mean_case_cost);
    if wg.lambda == 0.0 {
        return Value::new(shared, 0.0);
    }
    let credit = if outcome_accountability(w) { gain } else { 0.0 };
    let own = r * wg.target(w, me, g) * credit - r * wg.money(w, overhead * w.staff_value);
    Value::new(shared, own)
}

/// Serving a need on a partner's case when asked. W: the rise in need met less the work's
/// cost (pooled money is still the arena's). O: credit (outputs: the need weight served;
/// outcomes: the rise in need met), the money it pays unless a pool does, the staff time,
/// favours owed to the lead (reciprocity, 001:119, 001:182), and the expected sanction for
/// refusing under a duty to cooperate.
pub fn serve(w: &World, me: usize, wg: &Weigh, req: &ServeRequest) -> Value {
    let case = req.case;
    let g = case.group;
    let d = req.dim;
    let need = case.needs[d] as f64;
    let money = w.dim_cost(me, d, need);
    let staff = w.dim_staff(need) + w.params.joint_overhead;
    let sev = w.groups[g].severity;
    let shared = sev * req.gain - w.params.cost_weight * money / w.mean_case_cost;
    if wg.lambda == 0.0 {
        return Value::new(shared, 0.0);
    }
    let credit = if outcome_accountability(w) {
        req.gain
    } else {
        need_weight(case, d) * w.quality(me, d)
    };
    let owed = (w.favours(req.lead, me) - w.favours(me, req.lead)).tanh();
    let own = wg.target(w, me, g) * credit
        - wg.money(w, if req.pool_pays { 0.0 } else { money })
        - wg.work(w, staff)
        + wg.reciprocity * owed
        + wg.money(w, w.expected_sanction() * w.mean_case_cost);
    Value::new(shared, own)
}

/// Turf a forum offers an agency: how far the forum's current agenda (public, observed)
/// already serves its own targets, on the scale where an agenda spread like its targets over
/// equal groups scores 1. Read from what the forum did, never from who is powerful; a forum
/// whose rule ignores bids (need-weighted) offers none.
fn agenda_control(w: &World, me: usize, m: usize) -> f64 {
    let mech = &w.mechanisms[m];
    if mech.kind != MechanismKind::Forum || w.agenda_rule(m) == AgendaRule::NeedWeighted {
        return 0.0;
    }
    let ng = w.n_groups() as f64;
    mech.agenda
        .iter()
        .zip(&w.agencies[me].targets)
        .map(|(a, t)| a * t)
        .sum::<f64>()
        * ng
}

/// Hosting mechanism `m` against leaving it to others (the volunteer's dilemma, 001:182,
/// 001:201). The agency believes another candidate would host with chance `q`
/// (`others_host`, learned). If it hosts, the mechanism runs for sure; if it waits, only with
/// chance `q`, at no hosting cost to itself. W: the believed value the mechanism adds less
/// what it costs the arena, on the extra chance that it runs. O: its own believed share of
/// that value (on the target scale), agenda control (turf), the hosting cost net of any
/// reimbursement (its staff time valued as money), and resentment of members it sees as free riders.
pub fn host(w: &World, me: usize, m: usize, wg: &Weigh) -> Value {
    let mech = &w.mechanisms[m];
    let q = mech.others_host[me];
    let shared = (1.0 - q) * (mech.value_belief[me] - w.system_cost(m));
    if wg.lambda == 0.0 {
        return Value::new(shared, 0.0);
    }
    let n = w.n_agencies();
    let (mut resent, mut k) = (0.0, 0.0);
    for j in 0..n {
        if j != me && mech.is_member(j) {
            resent += w.resentment(me, j);
            k += 1.0;
        }
    }
    let resent = if k > 0.0 { resent / k } else { 0.0 };
    let own = (1.0 - q) * wg.m.target_weight * mech.own_value[me]
        + wg.m.turf_weight * agenda_control(w, me, m)
        - wg.budget * w.host_cost_to_host(m) / w.params.cost_weight.max(1e-12)
        - wg.m.resentment_weight * resent;
    Value::new(shared, own)
}

/// Being a member of `m` against staying out. W: an equal share of the value the agency
/// believes the mechanism adds, less its own meeting time's cost to the arena. O: its own
/// believed share of the value, weighted up when a forum's agenda covers its targets; the
/// instrumental motives of Moseley's Table 4 (001:174-178): pooled money its cases drew,
/// referral sources for throughput-funded agencies, protection from blame for risky
/// clients; less participation cost, information given to funding rivals (001:214), and the
/// threat to autonomy, growing with depth (001:186, 001:203). A duty to cooperate adds the
/// expected sanction for staying out.
pub fn member(w: &World, me: usize, m: usize, wg: &Weigh) -> Value {
    let mech = &w.mechanisms[m];
    let k = mech.candidates.len().max(1) as f64;
    let shared = mech.value_belief[me] / k - w.member_staff_cost(m);
    if wg.lambda == 0.0 {
        return Value::new(shared, 0.0);
    }
    let a = &w.agencies[me];
    let share = mech.own_value[me];
    let risk = if mech.kind == MechanismKind::Protocol {
        let r: f64 = w
            .groups
            .iter()
            .zip(&a.targets)
            .map(|(g, t)| g.risk * t)
            .sum();
        wg.blame * r
    } else {
        0.0
    };
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
            wg.m.rivalry_weight * w.levers.centre.contestable_share * rivals / members
        } else {
            0.0
        }
    } else {
        0.0
    };
    let referrals = if mech.kind == MechanismKind::Forum {
        a.throughput_pay / w.mean_case_cost
    } else {
        0.0
    };
    let pooling = wg.money(w, mech.pool_paid[me]);
    let agenda = if mech.kind == MechanismKind::Forum {
        w.groups.len() as f64
            * mech
                .agenda
                .iter()
                .zip(&a.targets)
                .map(|(o, t)| o * t)
                .sum::<f64>()
    } else {
        1.0
    };
    let te = w.params.threat_exponent;
    let grow = if te == 2.0 {
        (1.0 + mech.depth).powi(2)
    } else {
        (1.0 + mech.depth).powf(te)
    };
    let threat = wg.m.autonomy_weight * a.autonomy * mech.threat * grow;
    let cost = w.member_cost(m, me) / w.params.cost_weight.max(1e-12);
    let own =
        wg.m.target_weight * share * agenda.max(w.params.agenda_floor) + risk + referrals + pooling
            - wg.budget * cost
            - rivalry
            - threat
            + wg.money(w, w.expected_sanction() * w.mean_case_cost);
    Value::new(shared, own)
}

/// The contribution to pooled fund `m`, as a multiple `x` of the fair share (0 up to
/// `model.max_contribution`), that maximises utility. Per unit of the fair share's worth:
/// W = -(x - 1)^2 / 2 (the plan is the fair share; money is the arena's either way, so
/// only the plan's balance counts, an assumption); O = -beta x - r (x - rho)^2 / 2 + sigma x,
/// where beta is the budget weight on money the agency will not get back through its own
/// cases (the share of the fair share the pool spent on them last tick), r its reciprocity
/// and rho its belief about partners' contribution ratios (conditional cooperation, 001:119),
/// and sigma the sanctions it expects per unit withheld. The optimum is closed-form; a
/// contribution can be zero.
pub fn contribution_ratio(w: &World, me: usize, m: usize, wg: &Weigh) -> f64 {
    contribution_response(w, me, m, wg, w.mechanisms[m].contrib_belief[me])
}

/// The contribution ratio the agency would choose if it believed partners paid `rho` times
/// their fair share, all else as it is: its response function, read by the strategy method
/// (Fischbacher, Gachter and Fehr 2001) to classify contributor types from outside.
pub fn contribution_response(w: &World, me: usize, m: usize, wg: &Weigh, rho: f64) -> f64 {
    let lam = wg.lambda;
    if lam == 0.0 {
        return 1.0;
    }
    let mech = &w.mechanisms[m];
    let fair = mech.pool_share * w.agencies[me].income;
    if fair <= 0.0 {
        return 0.0;
    }
    let cw = w.params.cost_weight.max(1e-12);
    let use_share = (mech.pool_paid[me] / fair).clamp(0.0, 1.0);
    let beta = wg.budget * (1.0 - use_share) / cw;
    let sigma = wg.budget * mech.sanction_belief[me] / (cw * fair);
    let r = wg.reciprocity;
    let alt = wg.altruism;
    // d/dx of (1 - lam) W + lam (O + alt W) = 0.
    let a = (1.0 - lam) + lam * alt;
    let num = a + lam * (r * rho - beta + sigma);
    let den = a + lam * r;
    let x = if den > 1e-12 {
        num / den
    } else if num > 0.0 {
        w.params.max_contribution
    } else {
        0.0
    };
    x.clamp(0.0, w.params.max_contribution)
}

/// A tick is a month: the budget year's length in ticks (a unit, not a parameter).
const MONTHS_PER_YEAR: f64 = 12.0;

/// The annual budget bid as a multiple `b` of the formula budget that maximises utility.
/// What its work needs, `need`: one, plus the casework it could not afford over the year as
/// a share of its income, less reserves beyond three months' income spread over a year.
/// W = -(b - need)^2 / 2 (the envelope is fixed: asking for more than it needs takes money
/// from work elsewhere); O = budget_weight x b - (b - need)^2 / 2 (a bigger budget is an
/// organisational interest, 001:52-57; padding beyond need costs credibility). The optimum
/// is `need + lambda x budget_weight / (1 + lambda x altruism)`: an agency that weighs only the
/// shared objective bids what it needs.
pub fn budget_bid(w: &World, me: usize, wg: &Weigh) -> f64 {
    let a = &w.agencies[me];
    let y = &a.year;
    let monthly = a.budget.max(1e-9);
    let short = if y.income > 0.0 {
        y.rationed / y.income
    } else {
        0.0
    };
    let idle =
        (w.reserves(me) - w.params.reserve_buffer * monthly).max(0.0) / (MONTHS_PER_YEAR * monthly);
    let need = (1.0 + short - idle).clamp(0.0, w.params.max_bid);
    let lam = wg.lambda;
    (need + lam * wg.m.budget_weight / (1.0 + lam * wg.altruism)).clamp(0.0, w.params.max_bid)
}

/// Sanctioning fellow member `j` of a mechanism. W: the fine and the sanctioner's cost are
/// lost to the arena. O: the sanctioner's resentment of `j` as a free rider, weighed by its
/// reciprocity (001:182, 001:201), less its own cost.
pub fn sanction(w: &World, me: usize, j: usize, wg: &Weigh) -> Value {
    let s = &w.levers.p.sanctions;
    let shared = -w.params.cost_weight * (s.fine + s.cost) / w.mean_case_cost;
    let own = wg.reciprocity * wg.m.resentment_weight * w.resentment(me, j) - wg.money(w, s.cost);
    Value::new(shared, own)
}

/// Reporting the favourable figure rather than the true one (game playing, 003:72). W: the
/// distortion of what the centre knows. O: the target credit gained, less the expected
/// blame if inspection sees through it.
pub fn game_report(w: &World, wg: &Weigh, true_att: f64, favourable: f64) -> Value {
    let gap = favourable - true_att;
    let detect = w.levers.detection(w.params.detection_rate);
    Value::new(-gap, wg.m.target_weight * gap - detect * wg.blame)
}
