//! Moseley's Tables 4 and 5 as patterns measured from outside the rules (001:168-178,
//! 001:196-204): for every member of a live mechanism, which motive for belonging weighs
//! most this tick; and, for every live mechanism, which challenge of managing it shows.
//! Each is computed from world state and the tick's tally, in money (k GBP) where motives
//! are compared, the same way whatever rule an agency follows.

use crate::model::World;
use crate::scenario::MechanismKind;

/// Table 4's motives, most salient first (001:170-178).
pub const MOTIVES: [&str; 5] = [
    "pooling",
    "levering",
    "rationalising",
    "risk",
    "client_needs",
];

/// Table 5's challenges, most recurrent first (001:196-204).
pub const CHALLENGES: [&str; 5] = [
    "no_lead",
    "free_riding",
    "conflicting_priorities",
    "threat",
    "dominance",
];

/// Money value (k GBP) of each motive for member `i` of mechanism `m` this tick:
/// - pooling: what the mechanism's pool paid for the member's casework (M-L174);
/// - levering: throughput income on cases fellow members referred to it (M-L175);
/// - rationalising: under competitive or tender funding, the contestable income at stake
///   per funding period shared over its memberships, as partnership counts in bids (M-L176);
/// - risk: the expected value of cases not lost on referrals to and from fellow members,
///   thanks to a protocol's depth (M-L177);
/// - client needs: the need met the mechanism added within its remit, at the unit cost
///   (M-L178).
pub fn motives(w: &World, m: usize, i: usize) -> [f64; 5] {
    let n = w.n_agencies();
    let mech = &w.mechanisms[m];
    let a = &w.agencies[i];
    let pooling = if mech.kind == MechanismKind::PooledFund {
        mech.pool_paid[i]
    } else {
        0.0
    };
    let (mut from_members, mut exchanged) = (0.0, 0.0);
    for j in 0..n {
        if j != i && mech.is_member(j) {
            from_members += w.tally.referrals_tick[j * n + i] as f64;
            exchanged +=
                (w.tally.referrals_tick[j * n + i] + w.tally.referrals_tick[i * n + j]) as f64;
        }
    }
    let levering = from_members * a.throughput_pay;
    let rationalising =
        if w.levers.p.funding_mode != crate::levers::FundingMode::Formula && w.contestant(i) {
            let memberships = w
                .mechanisms
                .iter()
                .filter(|x| x.alive() && x.is_member(i))
                .count()
                .max(1) as f64;
            w.levers.centre.contestable_share * a.base_income / memberships
        } else {
            0.0
        };
    let risk = if mech.kind == MechanismKind::Protocol {
        exchanged * w.params.referral_loss * mech.depth * w.mean_case_cost
    } else {
        0.0
    };
    let client = w.tally.mech_benefit[m * n + i] * w.params.unit_cost;
    [pooling, levering, rationalising, risk, client]
}

/// Count, over members of live mechanisms, which motive weighs most (members with no
/// positive motive are not counted).
pub fn motive_counts(w: &World) -> [u32; 5] {
    cached(w).0
}

/// The challenge counts of this tick (see `count_challenges`), computed once a tick.
pub fn challenge_counts(w: &World) -> [u32; 5] {
    cached(w).1
}

/// Both counts for the world's current tick: computed on the first call in a tick and kept,
/// so the ten observables that read them cost one pass, not ten.
fn cached(w: &World) -> ([u32; 5], [u32; 5]) {
    let (t, m, c) = w.pattern_cache.get();
    if t == w.tick {
        return (m, c);
    }
    let v = (count_motives(w), count_challenges(w));
    w.pattern_cache.set((w.tick, v.0, v.1));
    v
}

fn count_motives(w: &World) -> [u32; 5] {
    let mut c = [0u32; 5];
    for m in 0..w.mechanisms.len() {
        let mech = &w.mechanisms[m];
        if !mech.alive() {
            continue;
        }
        for i in 0..w.n_agencies() {
            if !mech.is_member(i) {
                continue;
            }
            let v = motives(w, m, i);
            let (k, best) =
                v.iter().enumerate().fold(
                    (0, 0.0),
                    |acc, (k, &x)| if x > acc.1 { (k, x) } else { acc },
                );
            if best > 0.0 {
                c[k] += 1;
            }
        }
    }
    c
}

/// Count the challenges that show this tick:
/// - no_lead: mechanisms without a host (M-L200);
/// - free_riding: members of live mechanisms whose share of the benefit exceeds their share
///   of the cost (M-L201);
/// - conflicting_priorities: forum members whose own top target group is not the top of the
///   agenda (M-L202);
/// - threat: candidates staying out of live mechanisms with an autonomy threat of 0.4 or more
///   (M-L203);
/// - dominance: live forums whose agenda leans toward their most powerful member's groups
///   (M-L204).
fn count_challenges(w: &World) -> [u32; 5] {
    let n = w.n_agencies();
    let mut c = [0u32; 5];
    for m in 0..w.mechanisms.len() {
        let mech = &w.mechanisms[m];
        if !mech.alive() {
            c[0] += 1;
            continue;
        }
        let cost: f64 = (0..n).map(|i| w.tally.mech_cost[m * n + i]).sum();
        let benefit: f64 = (0..n).map(|i| w.tally.mech_benefit[m * n + i]).sum();
        for i in 0..n {
            if !mech.is_member(i) {
                if mech.threat >= 0.4 && mech.candidates.contains(&i) {
                    c[3] += 1;
                }
                continue;
            }
            if cost > 0.0
                && benefit > 0.0
                && w.tally.mech_benefit[m * n + i] / benefit > w.tally.mech_cost[m * n + i] / cost
            {
                c[1] += 1;
            }
            if mech.kind == MechanismKind::Forum {
                let top = |v: &[f64]| {
                    v.iter()
                        .enumerate()
                        .fold(
                            (usize::MAX, 0.0),
                            |acc, (g, &x)| if x > acc.1 { (g, x) } else { acc },
                        )
                        .0
                };
                let own = top(&w.agencies[i].targets);
                if own != usize::MAX && own != top(&mech.agenda) {
                    c[2] += 1;
                }
            }
        }
        if mech.kind == MechanismKind::Forum && crate::metrics::capture_power_lean(w, m) > 0.0 {
            c[4] += 1;
        }
    }
    c
}

/// Kendall's tau-b between two rankings given as scores (higher = ranked first).
pub fn kendall_tau(a: &[f64], b: &[f64]) -> f64 {
    let (mut conc, mut disc, mut ta, mut tb) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for i in 0..a.len() {
        for j in i + 1..a.len() {
            let x = (a[i] - a[j]).signum();
            let y = (b[i] - b[j]).signum();
            if x == 0.0 && y == 0.0 {
                continue;
            } else if x == 0.0 {
                ta += 1.0;
            } else if y == 0.0 {
                tb += 1.0;
            } else if x == y {
                conc += 1.0;
            } else {
                disc += 1.0;
            }
        }
    }
    let d = ((conc + disc + ta) * (conc + disc + tb)).sqrt();
    if d > 0.0 { (conc - disc) / d } else { f64::NAN }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_of_identical_and_reversed_rankings() {
        let a = [5.0, 4.0, 3.0, 2.0, 1.0];
        assert!((kendall_tau(&a, &a) - 1.0).abs() < 1e-12);
        let r = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert!((kendall_tau(&a, &r) + 1.0).abs() < 1e-12);
    }
}
