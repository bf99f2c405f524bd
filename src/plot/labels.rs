//! How observables are named and scaled on charts: a readable name, the unit on the axis, and
//! a scale (shares are shown as percentages).

use crate::metrics::TICK;

/// Display information for one observable.
#[derive(Debug, Clone)]
pub struct ObsLabel {
    /// Short readable name, e.g. "Need met".
    pub name: String,
    /// Unit shown on the axis, e.g. "% of severity-weighted need".
    pub unit: String,
    /// Multiply values by this before drawing (100 for shares shown as %).
    pub scale: f64,
    /// Include zero on the value axis.
    pub zero: bool,
    /// The values' possible range after scaling (shares 0..100), to which axes and
    /// confidence bands are clipped.
    pub bounds: Option<(f64, f64)>,
}

impl ObsLabel {
    /// "Need met (% of severity-weighted need)".
    pub fn axis(&self) -> String {
        format!("{} ({})", self.name, self.unit)
    }

    /// Unit for a difference between two values (percentage points for percentages).
    pub fn diff_unit(&self) -> String {
        if self.scale == 100.0 {
            format!("percentage points; {}", self.unit)
        } else {
            self.unit.clone()
        }
    }

    /// Decimals for values in tables and cells.
    pub fn decimals(&self) -> usize {
        if self.scale == 100.0 { 1 } else { 3 }
    }
}

fn l(name: &str, unit: &str, scale: f64, zero: bool) -> ObsLabel {
    let bounds = if scale == 100.0 {
        Some((0.0, 100.0))
    } else if unit.contains("0-1") {
        Some((0.0, 1.0))
    } else if unit.contains("-1 to 1") {
        Some((-1.0, 1.0))
    } else {
        None
    };
    ObsLabel {
        name: name.into(),
        unit: unit.into(),
        scale,
        zero,
        bounds,
    }
}

/// The observables charted by default, in order. `share_need_met_multi` is drawn together
/// with `share_need_met_single`; `share_fell_through` is derived from `fell_through` and
/// `arrivals` for a single run.
pub const KEY_OBSERVABLES: [&str; 10] = [
    "share_need_met",
    "share_need_met_multi",
    "share_fell_through",
    "dumped_share",
    "coordination_index",
    "agenda_capture",
    "free_riding",
    "budget_gini",
    "mean_trust",
    "mean_knowledge",
];

/// Other names the fell-through share may go by in a sweep's files.
pub const FELL_THROUGH_ALIASES: [&str; 2] = ["share_fell_through", "fell_through_share"];

pub fn obs_label(name: &str) -> ObsLabel {
    match name {
        "share_need_met" => l("Need met", "% of severity-weighted need", 100.0, true),
        "share_need_met_multi" => l(
            "Need met, multi-need cases",
            "% of severity-weighted need",
            100.0,
            true,
        ),
        "share_need_met_single" => l(
            "Need met, single-need cases",
            "% of severity-weighted need",
            100.0,
            true,
        ),
        "share_fell_through" | "fell_through_share" => l(
            "Cases falling through the cracks",
            "% of arriving cases",
            100.0,
            true,
        ),
        "dumped_share" => l(
            "Referrals counted as dumping",
            "% of referrals",
            100.0,
            true,
        ),
        "coordination_index" => l(
            "Coordination index",
            "% of multi-need cases served jointly",
            100.0,
            true,
        ),
        "agenda_capture" => l(
            "Agenda capture",
            "distance of forum agendas from need shares, 0-1",
            1.0,
            true,
        ),
        "free_riding" => ObsLabel {
            bounds: Some((-100.0, 100.0)),
            ..l(
                "Free riding",
                "host's cost share minus benefit share, percentage points",
                100.0,
                true,
            )
        },
        "budget_gini" => l(
            "Budget inequality",
            "Gini coefficient of reserves, 0-1",
            1.0,
            true,
        ),
        "mean_trust" => l("Mean trust", "index, -1 to 1", 1.0, true),
        "mean_knowledge" => l("Mean shared knowledge", "index, 0-1", 1.0, true),
        other => generic(other),
    }
}

fn generic(name: &str) -> ObsLabel {
    let mut pretty: String = name.replace('_', " ");
    if let Some(first) = pretty.get(0..1) {
        pretty = first.to_uppercase() + &pretty[1..];
    }
    let unit = TICK
        .iter()
        .find(|o| o.name == name)
        .map(|o| o.unit)
        .unwrap_or("");
    match unit {
        "share" => l(&pretty, "%", 100.0, true),
        "0..1" => l(&pretty, "index, 0-1", 1.0, true),
        "-1..1" => l(&pretty, "index, -1 to 1", 1.0, true),
        "" => l(&pretty, "units as in the CSV", 1.0, false),
        u => l(&pretty, u, 1.0, true),
    }
}

/// "day_centre" -> "day centre".
pub fn pretty_name(s: &str) -> String {
    s.replace('_', " ")
}

/// "host_reimbursement" -> "Host reimbursement".
pub fn title_name(s: &str) -> String {
    let p = pretty_name(s);
    let mut c = p.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => p,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_have_units() {
        for o in KEY_OBSERVABLES {
            let l = obs_label(o);
            assert!(!l.unit.is_empty(), "{o}");
        }
        assert_eq!(obs_label("dumped_cost").unit, "k GBP");
        assert_eq!(obs_label("staff_joint_share").scale, 100.0);
    }
}
