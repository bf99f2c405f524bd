//! Motives: how an agency weighs the shared objective against its organisational interest.
//!
//! `U = (1 - lambda) W + lambda O`. `W` and `O` come from [`super::options`]; the weights
//! inside `O` come from the agency's family ([`Motives`]) and its own dispositions
//! ([`crate::model::Dispositions`]). This file is the whole difference between the two
//! accounts: a family is these numbers.

use crate::model::World;
use crate::scenario::Motives;

/// An agency's motives in force this tick: its family's weights, its dispositions and the
/// levers that scale them (control, blame culture).
#[derive(Debug, Clone, Copy)]
pub struct Weigh<'a> {
    pub m: &'a Motives,
    pub lambda: f64,
    pub altruism: f64,
    pub reciprocity: f64,
    pub risk_aversion: f64,
    /// Budget protection, raised by survival pressure as reserves run low (001:142, 001:234).
    pub budget: f64,
    /// Blame weight x the blame-culture lever x the agency's risk aversion (002:354-362).
    pub blame: f64,
}

impl<'a> Weigh<'a> {
    pub fn new(m: &'a Motives, w: &World, me: usize) -> Weigh<'a> {
        let d = &w.agencies[me].disp;
        Weigh {
            m,
            lambda: d.lambda,
            altruism: d.altruism,
            reciprocity: d.reciprocity,
            risk_aversion: d.risk_aversion,
            budget: m.budget_weight * (1.0 + m.survival_weight * w.survival_pressure(me)),
            blame: m.blame_weight * w.levers.p.blame * d.risk_aversion,
        }
    }

    /// Utility of an option worth `shared` to the shared objective and `own` to the
    /// organisation. Residual altruism counts a share of the shared value inside `own`.
    /// With lambda 0 the organisational side is not evaluated at all: the result is `shared`,
    /// bit for bit.
    #[inline]
    pub fn u(&self, shared: f64, own: f64) -> f64 {
        if self.lambda == 0.0 {
            shared
        } else {
            (1.0 - self.lambda) * shared + self.lambda * (own + self.altruism * shared)
        }
    }

    /// Credit on own targets for group `g`, per unit of need met: the effective target
    /// weight on the scale where an average target group scores 1 (001:115, 001:125,
    /// 001:226), raised by central control (targets bind harder, 000:1125-1126).
    pub fn target(&self, w: &World, me: usize, g: usize) -> f64 {
        self.m.target_weight
            * (1.0 + w.params.control_pull * w.levers.p.control)
            * w.agencies[me].effective_targets[g]
            * w.n_groups() as f64
    }

    /// Money (k GBP) on the organisational scale: budget weight per mean case cost.
    pub fn money(&self, w: &World, k_gbp: f64) -> f64 {
        self.budget * k_gbp / w.mean_case_cost
    }

    /// Staff time (staff-days) on the organisational scale: workload weight per mean case's
    /// staff time.
    pub fn work(&self, w: &World, days: f64) -> f64 {
        self.m.workload_weight * days / (w.mean_case_need * w.params.unit_staff)
    }
}
