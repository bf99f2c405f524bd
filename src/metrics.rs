//! Observables: functions of the world state and the tick's tally, measured from outside the
//! behaviour rules, the same way whatever rule an agency follows (brief section 6).
//!
//! Each observable is one entry in a list ([`TICK`], [`AGENCY`]); the CSV writer and, later,
//! the charts read the same lists. Adding a recorded quantity is one function and one entry.
//! Values that are undefined in a tick (a share of zero cases) are NaN and written as `NA`.

use crate::model::{Case, Sink, World};
use crate::scenario::MechanismKind;
use crate::tally::Outcomes;

/// A per-tick observable of the whole arena.
pub struct Observable {
    pub name: &'static str,
    pub unit: &'static str,
    pub doc: &'static str,
    pub value: fn(&World) -> f64,
}

/// A per-tick observable of one agency.
pub struct AgencyObservable {
    pub name: &'static str,
    pub unit: &'static str,
    pub doc: &'static str,
    pub value: fn(&World, usize) -> f64,
}

/// A referral counts as dumping when it shifts cost (002:233, 002:634): the sender would have
/// spent money serving part of the case itself, and the receiver fits the case no better than
/// the sender (by remit, as need met if it served alone) or lacks the staff time or money to
/// serve its part now. Measured the same way whoever sends (002:593-595); no rule reads it.
pub fn is_dumping(w: &World, sender: usize, receiver: usize, case: &Case) -> bool {
    shifted_cost(w, sender, case) > 0.0
        && (w.fit(receiver, case) <= w.fit(sender, case) + 1e-9 || !w.capacity(receiver, case))
}

/// The money a referral saves its sender: what serving the case's needs within its own remit
/// would have cost it (the cost shifted, 002:634).
pub fn shifted_cost(w: &World, sender: usize, case: &Case) -> f64 {
    w.own_cost(sender, case)
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { f64::NAN }
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut k) = (0.0, 0.0);
    for v in values {
        if !v.is_nan() {
            s += v;
            k += 1.0;
        }
    }
    if k > 0.0 { s / k } else { f64::NAN }
}

/// Gini coefficient of non-negative values (0 = equal).
pub fn gini(values: impl Iterator<Item = f64> + Clone) -> f64 {
    let n = values.clone().count() as f64;
    let total: f64 = values.clone().sum();
    if n == 0.0 || total <= 0.0 {
        return 0.0;
    }
    let mut diff = 0.0;
    for a in values.clone() {
        for b in values.clone() {
            diff += (a - b).abs();
        }
    }
    diff / (2.0 * n * total)
}

/// Agenda capture of forum `m`: total-variation distance between its agenda weights and the
/// groups' need shares, 0 (agenda follows need) to 1.
/// A contributor type, read from outside by the strategy method (Fischbacher, Gachter and
/// Fehr 2001): the contribution ratio an agency would choose if it believed its partners paid
/// nothing (`x0`) and if it believed they paid their fair share (`x1`), all else as it is this
/// tick. Unconditional: `x0 >= 0.5`. Free rider: `x1 < 0.25` (and not unconditional).
/// Conditional: `x1 - x0 >= 0.25` (and neither). Other: the rest. Types are not assigned:
/// they follow from each agency's drawn dispositions and its situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContributorType {
    Unconditional,
    Conditional,
    FreeRider,
    Other,
}

/// The response of agency `i` to believed partner contributions 0 and 1 in the first pooled
/// fund it is a candidate of (None if it is a candidate of none).
pub fn contribution_responses(w: &World, i: usize) -> Option<(f64, f64)> {
    let m = w.mechanisms.iter().position(|m| {
        m.kind == crate::scenario::MechanismKind::PooledFund && m.candidates.contains(&i)
    })?;
    let motives = w.behaviours.motives(w.agencies[i].family);
    let wg = crate::behaviour::motives::Weigh::new(motives, w, i);
    let f = |rho| crate::behaviour::options::contribution_response(w, i, m, &wg, rho);
    Some((f(0.0), f(1.0)))
}

pub fn contributor_type(w: &World, i: usize) -> Option<ContributorType> {
    let (x0, x1) = contribution_responses(w, i)?;
    Some(if x0 >= 0.5 {
        ContributorType::Unconditional
    } else if x1 < 0.25 {
        ContributorType::FreeRider
    } else if x1 - x0 >= 0.25 {
        ContributorType::Conditional
    } else {
        ContributorType::Other
    })
}

fn count_type(w: &World, t: ContributorType) -> f64 {
    (0..w.n_agencies())
        .filter(|&i| contributor_type(w, i) == Some(t))
        .count() as f64
}

pub fn capture(w: &World, m: usize) -> f64 {
    0.5 * w.mechanisms[m]
        .agenda
        .iter()
        .zip(&w.groups)
        .map(|(o, g)| (o - g.need_share).abs())
        .sum::<f64>()
}

/// How the agenda's departure from need leans toward the most powerful member's target
/// groups: sum over groups of (agenda - need share) x that member's target weight, -1..1.
pub fn capture_power_lean(w: &World, m: usize) -> f64 {
    let mech = &w.mechanisms[m];
    let top = (0..w.n_agencies())
        .filter(|&i| mech.is_member(i))
        .max_by(|&a, &b| {
            w.agencies[a]
                .power
                .total_cmp(&w.agencies[b].power)
                .then(b.cmp(&a))
        });
    let Some(top) = top else { return f64::NAN };
    mech.agenda
        .iter()
        .zip(&w.groups)
        .zip(&w.agencies[top].targets)
        .map(|((o, g), t)| (o - g.need_share) * t)
        .sum()
}

/// The host's share of mechanism `m`'s cost this tick and its share of the need met the
/// mechanism added within each member's remit (NaN when nothing was added).
pub fn host_shares(w: &World, m: usize) -> (f64, f64) {
    let n = w.n_agencies();
    let Some(h) = w.mechanisms[m].host else {
        return (f64::NAN, f64::NAN);
    };
    let cost: f64 = (0..n).map(|i| w.tally.mech_cost[m * n + i]).sum();
    let benefit: f64 = (0..n).map(|i| w.tally.mech_benefit[m * n + i]).sum();
    (
        ratio(w.tally.mech_cost[m * n + h], cost),
        ratio(w.tally.mech_benefit[m * n + h], benefit),
    )
}

fn shared_mechanisms(w: &World) -> impl Iterator<Item = usize> + '_ {
    (0..w.mechanisms.len()).filter(|&m| w.mechanisms[m].alive() && w.mechanisms[m].n_members() >= 2)
}

fn live_forums(w: &World) -> impl Iterator<Item = usize> + '_ {
    (0..w.mechanisms.len())
        .filter(|&m| w.mechanisms[m].alive() && w.mechanisms[m].kind == MechanismKind::Forum)
}

fn multi_need(w: &World) -> Outcomes {
    let mut o = Outcomes::default();
    for s in w.tally.by_needs.iter().skip(2) {
        o.arrivals += s.arrivals;
        o.need += s.need;
        o.need_met += s.need_met;
    }
    o
}

fn spend_nonfixed(w: &World) -> f64 {
    w.tally
        .agencies
        .iter()
        .map(|a| a.spend_cases + a.spend_hosting + a.pool_paid_for)
        .sum::<f64>()
        + lever_money(w)
}

/// Money the centre spent running levers this tick (inspection and enforcement). Transfers
/// (reimbursements, sanctions, charges, pooled budgets) move money between accounts and are
/// reported separately.
fn lever_money(w: &World) -> f64 {
    w.tally.inspection_cost + w.tally.enforcement_cost
}

fn lever_staff(w: &World) -> f64 {
    w.tally.agencies.iter().map(|a| a.staff_levers).sum()
}

fn sum_agencies(w: &World, f: fn(&crate::tally::AgencyTick) -> f64) -> f64 {
    w.tally.agencies.iter().map(f).sum()
}

/// Herfindahl index of income among providers (voluntary and accommodation): 1 when one
/// provider has it all (001:218).
fn provider_hhi(w: &World) -> f64 {
    let total: f64 = (0..w.n_agencies())
        .filter(|&i| w.contestant(i))
        .map(|i| w.agencies[i].income)
        .sum();
    if total <= 0.0 {
        return f64::NAN;
    }
    (0..w.n_agencies())
        .filter(|&i| w.contestant(i))
        .map(|i| (w.agencies[i].income / total).powi(2))
        .sum()
}

fn matrix_mean(w: &World, m: &[f64]) -> f64 {
    let n = w.n_agencies();
    if n < 2 {
        return f64::NAN;
    }
    let mut s = 0.0;
    for i in 0..n {
        for j in 0..n {
            if i != j {
                s += m[i * n + j];
            }
        }
    }
    s / (n * (n - 1)) as f64
}

macro_rules! obs {
    ($name:literal, $unit:literal, $doc:literal, $f:expr) => {
        Observable {
            name: $name,
            unit: $unit,
            doc: $doc,
            value: $f,
        }
    };
}

/// Columns of `ticks.csv`, after `tick`.
pub const TICK: &[Observable] = &[
    obs!(
        "arrivals",
        "cases",
        "Cases arriving this tick.",
        |w| w.tally.all.arrivals as f64
    ),
    obs!(
        "served",
        "cases",
        "Cases whose need met reached the served threshold.",
        |w| w.tally.all.served as f64
    ),
    obs!(
        "partly_served",
        "cases",
        "Cases with some but not enough need met.",
        |w| w.tally.all.partly_served as f64
    ),
    obs!(
        "fell_through",
        "cases",
        "Cases nobody served: refused, lost in referral, or nothing met.",
        |w| w.tally.all.fell_through as f64
    ),
    obs!(
        "share_fell_through",
        "share",
        "fell_through / arrivals.",
        |w| ratio(w.tally.all.fell_through as f64, w.tally.all.arrivals as f64)
    ),
    obs!(
        "fell_refused",
        "cases",
        "Fell through: declined at first contact or at the hop limit.",
        |w| w.tally.fell.refused as f64
    ),
    obs!(
        "fell_lost",
        "cases",
        "Fell through: lost between agencies on a referral.",
        |w| w.tally.fell.lost as f64
    ),
    obs!(
        "fell_nothing_met",
        "cases",
        "Fell through: taken on but no need met.",
        |w| w.tally.fell.nothing_met as f64
    ),
    obs!(
        "need",
        "need units x severity",
        "Severity-weighted need arriving.",
        |w| w.tally.all.need
    ),
    obs!(
        "need_met",
        "need units x severity",
        "Severity-weighted need met.",
        |w| w.tally.all.need_met
    ),
    obs!("share_need_met", "share", "need_met / need.", |w| w
        .tally
        .all
        .share_met()),
    obs!(
        "share_need_met_single",
        "share",
        "Share of need met on cases with one need.",
        |w| w.tally.by_needs[1].share_met()
    ),
    obs!(
        "share_need_met_multi",
        "share",
        "Share of need met on cases with two or more needs.",
        |w| multi_need(w).share_met()
    ),
    obs!(
        "referrals",
        "referrals",
        "Referrals made.",
        |w| w.tally.all.referrals as f64
    ),
    obs!(
        "bounces",
        "bounces",
        "Referrals refused and sent back.",
        |w| w.tally.all.bounces as f64
    ),
    obs!(
        "referrals_per_case",
        "referrals / case",
        "referrals / arrivals.",
        |w| ratio(w.tally.all.referrals as f64, w.tally.all.arrivals as f64)
    ),
    obs!(
        "bounces_per_case",
        "bounces / case",
        "bounces / arrivals.",
        |w| ratio(w.tally.all.bounces as f64, w.tally.all.arrivals as f64)
    ),
    obs!(
        "dumped_referrals",
        "referrals",
        "Referrals counted as dumping (see is_dumping).",
        |w| w.tally.all.dumped as f64
    ),
    obs!(
        "dumped_share",
        "share",
        "dumped_referrals / referrals.",
        |w| ratio(w.tally.all.dumped as f64, w.tally.all.referrals as f64)
    ),
    obs!(
        "dumped_cost",
        "k GBP",
        "Cost shifted by dumped referrals: what serving the case within its own remit would have cost each sender (002:634).",
        |w| w.tally.dumped_cost
    ),
    obs!(
        "coordination_index",
        "share",
        "Share of multi-need cases served jointly: every need served, by two or more agencies joined at least 0.5.",
        |w| ratio(w.tally.joint_cases as f64, w.tally.multi_need_cases as f64)
    ),
    obs!(
        "mechanisms_alive",
        "mechanisms",
        "Mechanisms with a host.",
        |w| w.mechanisms.iter().filter(|m| m.alive()).count() as f64
    ),
    obs!(
        "mean_depth",
        "0..1",
        "Mean depth over all mechanisms (lapsed ones decay toward 0).",
        |w| mean(w.mechanisms.iter().map(|m| m.depth))
    ),
    obs!(
        "protocol_members",
        "agencies",
        "Members of live protocols (information sharing), summed over protocols.",
        |w| w
            .mechanisms
            .iter()
            .filter(|m| m.kind == MechanismKind::Protocol && m.alive())
            .map(|m| m.n_members() as f64)
            .sum()
    ),
    obs!(
        "lead_vacancy",
        "ticks",
        "Mean over mechanisms of the ticks since each last had a host (0 while hosted; 001:200).",
        |w| mean(w.mechanisms.iter().map(|m| m.vacancy as f64))
    ),
    obs!(
        "host_cost_share",
        "share",
        "Mean over shared live mechanisms of the host's share of their cost.",
        |w| { mean(shared_mechanisms(w).map(|m| host_shares(w, m).0)) }
    ),
    obs!(
        "host_benefit_share",
        "share",
        "Mean over shared live mechanisms of the host's share of the need met they added.",
        |w| mean(shared_mechanisms(w).map(|m| host_shares(w, m).1))
    ),
    obs!(
        "free_riding",
        "share",
        "host_cost_share - host_benefit_share, per mechanism, averaged.",
        |w| mean(shared_mechanisms(w).map(|m| {
            let (c, b) = host_shares(w, m);
            c - b
        }))
    ),
    obs!(
        "agenda_capture",
        "0..1",
        "Mean over live forums of the distance between agenda and need shares.",
        |w| { mean(live_forums(w).map(|m| capture(w, m))) }
    ),
    obs!(
        "capture_power_lean",
        "-1..1",
        "Mean over live forums of how the agenda's departure from need leans to the most powerful member's targets.",
        |w| mean(live_forums(w).map(|m| capture_power_lean(w, m)))
    ),
    obs!(
        "budget_gini",
        "0..1",
        "Gini coefficient of reserves over agencies that take part in casework.",
        |w| gini(
            (0..w.n_agencies())
                .filter(|&i| w.agencies[i].serves_cases)
                .map(|i| w.reserves(i))
        )
    ),
    obs!(
        "mean_true_attainment",
        "share",
        "Mean true target attainment over agencies with targets.",
        |w| mean(w.tally.agencies.iter().map(|a| a.true_attainment))
    ),
    obs!(
        "mean_reported_attainment",
        "share",
        "Mean reported target attainment.",
        |w| mean(w.tally.agencies.iter().map(|a| a.reported_attainment))
    ),
    obs!(
        "gaming_detected",
        "agencies",
        "Agencies caught reporting above their true attainment.",
        |w| w
            .tally
            .agencies
            .iter()
            .filter(|a| a.gaming_detected)
            .count() as f64
    ),
    obs!(
        "mean_trust",
        "-1..1",
        "Mean trust over ordered pairs of agencies.",
        |w| matrix_mean(w, &w.trust)
    ),
    obs!(
        "mean_resentment",
        ">= 0",
        "Mean resentment over ordered pairs.",
        |w| matrix_mean(w, &w.resentment)
    ),
    obs!(
        "mean_knowledge",
        "0..1",
        "Mean shared knowledge over pairs.",
        |w| matrix_mean(w, &w.knowledge)
    ),
    obs!("spend_cases", "k GBP", "Casework paid by agencies.", |w| w
        .tally
        .agencies
        .iter()
        .map(|a| a.spend_cases)
        .sum()),
    obs!(
        "spend_pooled",
        "k GBP",
        "Casework paid by pooled funds.",
        |w| w.tally.agencies.iter().map(|a| a.pool_paid_for).sum()
    ),
    obs!(
        "spend_coordination",
        "k GBP",
        "Money spent hosting mechanisms.",
        |w| w.tally.agencies.iter().map(|a| a.spend_hosting).sum()
    ),
    obs!("spend_core", "k GBP", "Fixed running costs paid.", |w| w
        .tally
        .agencies
        .iter()
        .map(|a| a.spend_core)
        .sum()),
    obs!(
        "cost_per_need_met",
        "k GBP / need unit",
        "(casework + pooled casework + coordination + lever running costs) / need_met.",
        |w| ratio(spend_nonfixed(w), w.tally.all.need_met)
    ),
    obs!(
        "staff_joint_share",
        "share",
        "Share of all staff time spent on joint work.",
        |w| ratio(
            w.tally.agencies.iter().map(|a| a.staff_joint).sum(),
            w.agencies.iter().map(|a| a.staff).sum()
        )
    ),
    obs!(
        "pooled_balance",
        "k GBP",
        "Money held in pooled funds.",
        |w| w
            .mechanisms
            .iter()
            .filter_map(|m| m.pool)
            .map(|p| w.ledger.balance(crate::model::Account::Pool(p)))
            .sum()
    ),
    obs!(
        "money_spent_total",
        "k GBP",
        "Everything spent since the start (all sinks).",
        |w| w.ledger.sink(Sink::Core)
            + w.ledger.sink(Sink::Cases)
            + w.ledger.sink(Sink::PooledCases)
            + w.ledger.sink(Sink::Coordination)
            + w.ledger.sink(Sink::Levers)
            + w.ledger.sink(Sink::Sanctions)
    ),
    obs!(
        "lever_money",
        "k GBP",
        "What the centre spent running levers: referral inspection and duty enforcement.",
        lever_money
    ),
    obs!(
        "lever_staff",
        "staff-days",
        "Staff time levers took: extra reporting (cascade, control), initiatives, bids, joint plans.",
        lever_staff
    ),
    obs!(
        "lever_cost",
        "k GBP",
        "lever_money + lever_staff at the money value of a staff-day.",
        |w| lever_money(w) + lever_staff(w) * w.staff_value
    ),
    obs!(
        "reimbursed",
        "k GBP",
        "Hosting costs the centre reimbursed (a transfer).",
        |w| sum_agencies(w, |a| a.reimbursed)
    ),
    obs!(
        "sanctions",
        "k GBP",
        "Sanctions paid to the centre for breaches of a duty to cooperate.",
        |w| { sum_agencies(w, |a| a.sanctions) }
    ),
    obs!(
        "breaches",
        "breaches",
        "Breaches of a duty to cooperate (refusals), detected or not.",
        |w| { sum_agencies(w, |a| a.breaches as f64) }
    ),
    obs!(
        "breaches_detected",
        "breaches",
        "Breaches detected and sanctioned.",
        |w| sum_agencies(w, |a| a.breaches_detected as f64)
    ),
    obs!(
        "referrals_inspected",
        "referrals",
        "Referrals the centre inspected.",
        |w| w.tally.inspections as f64
    ),
    obs!(
        "dumping_detected",
        "referrals",
        "Dumped referrals detected by inspection.",
        |w| w.tally.dumping_detected as f64
    ),
    obs!(
        "dumping_charges",
        "k GBP",
        "Charges moved from senders to receivers of detected dumping.",
        |w| { sum_agencies(w, |a| a.charges_paid) }
    ),
    obs!(
        "pooled_mandated",
        "k GBP",
        "Money the pooled-budget lever moved into pooled funds.",
        |w| sum_agencies(w, |a| a.pooled_mandated)
    ),
    obs!(
        "bids",
        "bids",
        "Bids written in a funding round this tick.",
        |w| sum_agencies(w, |a| a.bids as f64)
    ),
    obs!(
        "provider_funding_hhi",
        "0..1",
        "Herfindahl index of providers' income (concentration).",
        provider_hhi
    ),
    obs!(
        "motive_pooling",
        "members",
        "Members of live mechanisms whose largest motive (Moseley Table 4) is pooling resources (pool paid its casework).",
        |w| crate::patterns::motive_counts(w)[0] as f64
    ),
    obs!(
        "motive_levering",
        "members",
        "Members of live mechanisms whose largest motive (Moseley Table 4) is levering in resources (throughput income on members' referrals).",
        |w| crate::patterns::motive_counts(w)[1] as f64
    ),
    obs!(
        "motive_rationalising",
        "members",
        "Members of live mechanisms whose largest motive (Moseley Table 4) is rationalising funding (contestable income at stake).",
        |w| crate::patterns::motive_counts(w)[2] as f64
    ),
    obs!(
        "motive_risk",
        "members",
        "Members of live mechanisms whose largest motive (Moseley Table 4) is protection against risk (cases not lost on protocol referrals).",
        |w| crate::patterns::motive_counts(w)[3] as f64
    ),
    obs!(
        "motive_client_needs",
        "members",
        "Members of live mechanisms whose largest motive (Moseley Table 4) is client needs (need met the mechanism added).",
        |w| crate::patterns::motive_counts(w)[4] as f64
    ),
    obs!(
        "challenge_no_lead",
        "count",
        "Moseley Table 5 challenge: mechanisms without a host.",
        |w| crate::patterns::challenge_counts(w)[0] as f64
    ),
    obs!(
        "challenge_free_riding",
        "count",
        "Moseley Table 5 challenge: members whose benefit share exceeds their cost share.",
        |w| crate::patterns::challenge_counts(w)[1] as f64
    ),
    obs!(
        "challenge_conflicting_priorities",
        "count",
        "Moseley Table 5 challenge: forum members whose top target group is not the agenda's top.",
        |w| crate::patterns::challenge_counts(w)[2] as f64
    ),
    obs!(
        "challenge_threat",
        "count",
        "Moseley Table 5 challenge: candidates out of threatening mechanisms (threat >= 0.4).",
        |w| crate::patterns::challenge_counts(w)[3] as f64
    ),
    obs!(
        "challenge_dominance",
        "count",
        "Moseley Table 5 challenge: live forums whose agenda leans to the most powerful member.",
        |w| crate::patterns::challenge_counts(w)[4] as f64
    ),
    obs!(
        "fixed_shortfall",
        "k GBP",
        "Fixed costs agencies could not pay from their own money this tick (deficits, lent by the centre).",
        |w| w.tally.agencies.iter().map(|a| a.fixed_shortfall).sum()
    ),
    obs!(
        "debt",
        "k GBP",
        "What agencies owe the centre for past deficits.",
        |w| w.agencies.iter().map(|a| a.debt).sum()
    ),
    obs!(
        "rationed",
        "k GBP",
        "Cost of casework agencies could not afford this tick.",
        |w| w.tally.agencies.iter().map(|a| a.rationed).sum()
    ),
    obs!(
        "sanctions_imposed",
        "sanctions",
        "Peer sanctions imposed this tick.",
        |w| w
            .tally
            .agencies
            .iter()
            .map(|a| a.sanctions_imposed as f64)
            .sum()
    ),
    obs!(
        "unconditional_contributors",
        "agencies",
        "Pooled-fund candidates that would pay at least half their fair share believing partners paid nothing (strategy method; see ContributorType).",
        |w| count_type(w, ContributorType::Unconditional)
    ),
    obs!(
        "conditional_contributors",
        "agencies",
        "Pooled-fund candidates whose contribution rises by at least a quarter of the fair share when they believe partners pay theirs.",
        |w| count_type(w, ContributorType::Conditional)
    ),
    obs!(
        "free_riders",
        "agencies",
        "Pooled-fund candidates that would pay under a quarter of their fair share even believing partners paid theirs.",
        |w| count_type(w, ContributorType::FreeRider)
    ),
    obs!(
        "shocks",
        "shocks",
        "Media-salience shocks this tick.",
        |w| w.tally.shocks as f64
    ),
];

macro_rules! aobs {
    ($name:literal, $unit:literal, $doc:literal, $f:expr) => {
        AgencyObservable {
            name: $name,
            unit: $unit,
            doc: $doc,
            value: $f,
        }
    };
}

/// Columns of `agencies.csv`, after `tick`, `agency`, `level`, `behaviour`.
pub const AGENCY: &[AgencyObservable] = &[
    aobs!(
        "reserves",
        "k GBP",
        "Money held at the end of the tick.",
        |w, i| w.reserves(i)
    ),
    aobs!(
        "income",
        "k GBP",
        "Income received from its funder.",
        |w, i| w.tally.agencies[i].income
    ),
    aobs!(
        "income_shortfall",
        "k GBP",
        "Income its funder could not pay.",
        |w, i| w.tally.agencies[i].income_shortfall
    ),
    aobs!(
        "throughput_income",
        "k GBP",
        "Per-case payments from its funder.",
        |w, i| w.tally.agencies[i].throughput_income
    ),
    aobs!("spend_core", "k GBP", "Fixed running costs.", |w, i| w
        .tally
        .agencies[i]
        .spend_core),
    aobs!("spend_cases", "k GBP", "Casework.", |w, i| w.tally.agencies
        [i]
        .spend_cases),
    aobs!("spend_hosting", "k GBP", "Hosting mechanisms.", |w, i| w
        .tally
        .agencies[i]
        .spend_hosting),
    aobs!("spend_pool", "k GBP", "Paid into pooled funds.", |w, i| w
        .tally
        .agencies[i]
        .spend_pool),
    aobs!(
        "pool_paid_for",
        "k GBP",
        "Its joint casework paid by pooled funds.",
        |w, i| w.tally.agencies[i].pool_paid_for
    ),
    aobs!("staff", "staff-days", "Staff time available.", |w, i| w
        .agencies[i]
        .staff),
    aobs!(
        "staff_reporting",
        "staff-days",
        "Taken by targets, plans and reporting.",
        |w, i| w.tally.agencies[i].staff_reporting
    ),
    aobs!(
        "staff_mechanisms",
        "staff-days",
        "Hosting and attending mechanisms.",
        |w, i| w.tally.agencies[i].staff_mechanisms
    ),
    aobs!("staff_cases", "staff-days", "Casework as lead.", |w, i| w
        .tally
        .agencies[i]
        .staff_cases),
    aobs!(
        "staff_joint",
        "staff-days",
        "Joint work on other agencies' cases and its overhead.",
        |w, i| w.tally.agencies[i].staff_joint
    ),
    aobs!(
        "cases_led",
        "cases",
        "Cases taken on as lead.",
        |w, i| w.tally.agencies[i].cases_led as f64
    ),
    aobs!(
        "co_served",
        "needs",
        "Needs served on other agencies' cases.",
        |w, i| w.tally.agencies[i].co_served as f64
    ),
    aobs!(
        "referrals_out",
        "referrals",
        "Referrals sent.",
        |w, i| w.tally.agencies[i].referrals_out as f64
    ),
    aobs!(
        "referrals_in",
        "referrals",
        "Referrals received.",
        |w, i| w.tally.agencies[i].referrals_in as f64
    ),
    aobs!(
        "declined_referrals",
        "referrals",
        "Referrals it refused (bounced).",
        |w, i| w.tally.agencies[i].declined_referrals as f64
    ),
    aobs!(
        "true_attainment",
        "share",
        "Need met on its target groups' cases that reached it.",
        |w, i| w.tally.agencies[i].true_attainment
    ),
    aobs!(
        "reported_attainment",
        "share",
        "What it reported.",
        |w, i| w.tally.agencies[i].reported_attainment
    ),
    aobs!("power", "0..1", "Power index.", |w, i| w.agencies[i].power),
    aobs!(
        "legitimacy",
        "0..1",
        "Legitimacy (falls when gaming is detected).",
        |w, i| w.agencies[i].legitimacy
    ),
    aobs!("political", "0..1", "Political capital.", |w, i| w.agencies
        [i]
        .political),
    aobs!(
        "trust_in",
        "-1..1",
        "Mean trust other agencies hold in it.",
        |w, i| {
            let n = w.n_agencies();
            mean((0..n).filter(|&j| j != i).map(|j| w.trust(j, i)))
        }
    ),
    aobs!(
        "trust_out",
        "-1..1",
        "Mean trust it holds in others.",
        |w, i| {
            let n = w.n_agencies();
            mean((0..n).filter(|&j| j != i).map(|j| w.trust(i, j)))
        }
    ),
    aobs!(
        "resentment_out",
        ">= 0",
        "Total resentment it holds toward free riders.",
        |w, i| {
            let n = w.n_agencies();
            (0..n).map(|j| w.resentment(i, j)).sum()
        }
    ),
    aobs!(
        "hosting",
        "mechanisms",
        "Mechanisms it hosts.",
        |w, i| w.tally.agencies[i].hosting as f64
    ),
    aobs!(
        "memberships",
        "mechanisms",
        "Mechanisms it belongs to without hosting.",
        |w, i| w.tally.agencies[i].memberships as f64
    ),
    aobs!(
        "coordination_cost",
        "k GBP",
        "Cost it bore for mechanisms (money, staff valued, pool payments).",
        |w, i| {
            let n = w.n_agencies();
            (0..w.mechanisms.len())
                .map(|m| w.tally.mech_cost[m * n + i])
                .sum()
        }
    ),
    aobs!(
        "coordination_benefit",
        "need units x severity",
        "Need met mechanisms added within its remit.",
        |w, i| {
            let n = w.n_agencies();
            (0..w.mechanisms.len())
                .map(|m| w.tally.mech_benefit[m * n + i])
                .sum()
        }
    ),
    aobs!(
        "aspiration",
        "share",
        "Aspiration level (used by bounded search).",
        |w, i| w.agencies[i].rule.aspiration
    ),
    aobs!(
        "lambda",
        "0..1",
        "Weight on organisational interest (drawn at the start of the run).",
        |w, i| w.agencies[i].disp.lambda
    ),
    aobs!(
        "altruism",
        "weight",
        "Residual altruism inside organisational interest (drawn).",
        |w, i| w.agencies[i].disp.altruism
    ),
    aobs!("reciprocity", "weight", "Reciprocity (drawn).", |w, i| w
        .agencies[i]
        .disp
        .reciprocity),
    aobs!(
        "risk_aversion",
        "0..1",
        "Risk aversion (drawn, or the scenario's).",
        |w, i| w.agencies[i].disp.risk_aversion
    ),
    aobs!(
        "search_bounded",
        "0/1",
        "1 if the agency searches boundedly, 0 if synoptically.",
        |w, i| (w.agencies[i].search == crate::scenario::SearchMode::Bounded) as u8 as f64
    ),
    aobs!(
        "contribute_if_none",
        "x fair share",
        "Strategy method: the pool contribution it would choose believing partners paid nothing (NA if no pooled-fund candidate).",
        |w, i| contribution_responses(w, i).map_or(f64::NAN, |r| r.0)
    ),
    aobs!(
        "contribute_if_all",
        "x fair share",
        "Strategy method: the pool contribution it would choose believing partners paid their fair share (NA if no pooled-fund candidate).",
        |w, i| contribution_responses(w, i).map_or(f64::NAN, |r| r.1)
    ),
    aobs!(
        "contribution_ratio",
        "x fair share",
        "Pool contribution as a multiple of its fair share (NA if in no live pool).",
        |w, i| w.tally.agencies[i].contribution_ratio
    ),
    aobs!(
        "budget",
        "k GBP",
        "Monthly budget from the centre's last budget round (the formula budget unless levers.budget_rule says otherwise).",
        |w, i| w.agencies[i].budget
    ),
    aobs!(
        "budget_bid",
        "x formula budget",
        "Its budget bid in this tick's budget round (0 in other ticks).",
        |w, i| w.tally.agencies[i].budget_bid
    ),
    aobs!(
        "fixed_shortfall",
        "k GBP",
        "Fixed costs it could not pay from its own money this tick (a deficit: the centre lends the rest).",
        |w, i| w.tally.agencies[i].fixed_shortfall
    ),
    aobs!(
        "debt",
        "k GBP",
        "What it owes the centre for past deficits, at the end of the tick.",
        |w, i| w.agencies[i].debt
    ),
    aobs!(
        "debt_repaid",
        "k GBP",
        "Debt repaid to the centre this tick.",
        |w, i| w.tally.agencies[i].debt_repaid
    ),
    aobs!(
        "rationed",
        "k GBP",
        "Cost of its own casework it could not afford (rationed).",
        |w, i| w.tally.agencies[i].rationed
    ),
    aobs!(
        "prices_paid",
        "k GBP",
        "Targeted charges paid (subsidies received count negative).",
        |w, i| w.tally.agencies[i].prices_paid
    ),
    aobs!(
        "prices_unpaid",
        "k GBP",
        "Targeted charges it could not pay (it held too little).",
        |w, i| w.tally.agencies[i].prices_unpaid
    ),
    aobs!(
        "fines_unpaid",
        "k GBP",
        "Peer-sanction fines it could not pay (it held too little).",
        |w, i| w.tally.agencies[i].fines_unpaid
    ),
    aobs!(
        "charges_unpaid",
        "k GBP",
        "Charges for detected dumping it could not pay (it held too little).",
        |w, i| w.tally.agencies[i].charges_unpaid
    ),
    aobs!(
        "sanctions_imposed",
        "sanctions",
        "Peer sanctions it imposed.",
        |w, i| w.tally.agencies[i].sanctions_imposed as f64
    ),
    aobs!(
        "sanctions_suffered",
        "sanctions",
        "Peer sanctions imposed on it.",
        |w, i| w.tally.agencies[i].sanctions_suffered as f64
    ),
    aobs!(
        "sanction_fines",
        "k GBP",
        "Fines it lost to peer sanctions.",
        |w, i| w.tally.agencies[i].sanction_fines
    ),
    aobs!(
        "sanction_cost",
        "k GBP",
        "What imposing sanctions cost it.",
        |w, i| w.tally.agencies[i].sanction_cost
    ),
    aobs!(
        "staff_levers",
        "staff-days",
        "Staff time levers took from it.",
        |w, i| w.tally.agencies[i].staff_levers
    ),
    aobs!(
        "reimbursed",
        "k GBP",
        "Hosting costs reimbursed to it.",
        |w, i| w.tally.agencies[i].reimbursed
    ),
    aobs!("sanctions", "k GBP", "Sanctions it paid.", |w, i| w
        .tally
        .agencies[i]
        .sanctions),
    aobs!(
        "breaches",
        "breaches",
        "Its breaches of a duty to cooperate.",
        |w, i| w.tally.agencies[i].breaches as f64
    ),
    aobs!(
        "charges_paid",
        "k GBP",
        "Charges it paid for detected dumping.",
        |w, i| w.tally.agencies[i].charges_paid
    ),
    aobs!(
        "charges_received",
        "k GBP",
        "Charges it received as the receiver of dumping.",
        |w, i| w.tally.agencies[i].charges_received
    ),
    aobs!(
        "pooled_mandated",
        "k GBP",
        "Money the pooled-budget lever moved from it.",
        |w, i| w.tally.agencies[i].pooled_mandated
    ),
    aobs!(
        "bids",
        "bids",
        "Bids it wrote this tick.",
        |w, i| w.tally.agencies[i].bids as f64
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gini_of_equal_and_concentrated() {
        assert_eq!(gini([1.0, 1.0, 1.0].into_iter()), 0.0);
        let g = gini([0.0, 0.0, 0.0, 4.0].into_iter());
        assert!((g - 0.75).abs() < 1e-12, "{g}");
    }

    #[test]
    fn observable_names_are_unique() {
        let mut names: Vec<&str> = TICK.iter().map(|o| o.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), TICK.len());
        let mut names: Vec<&str> = AGENCY.iter().map(|o| o.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), AGENCY.len());
    }
}
