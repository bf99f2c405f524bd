//! Charts and report of a national run (`localities.csv`, `ticks.csv` with a `locality`
//! column): the spread across localities, which of them join up and which do not, and what
//! distinguishes them.
//!
//! - `localities_spread`: for four outcomes, the median locality each tick and the band
//!   holding the middle 80% of localities (10th to 90th percentile), beside the national
//!   mean.
//! - `localities_coordination`, `localities_need_met`: each locality's run mean against what
//!   it drew (behaviour mix, arrivals, budgets).
//! - Report tables: the spread of run means over localities; the most and least joined-up
//!   localities; and, for each draw, its rank correlation with each outcome over localities
//!   and its mean in the most and least joined-up quarters.
//!
//! What distinguishes localities is read from one run's localities: associations, not
//! effects. A sweep that varies a draw tests it.

use std::path::Path;

use super::data::{Manifest, Spec, Table};
use super::draw::*;
use super::labels::obs_label;
use super::report::{Content, Table as ReportTable};
use super::stats::{quantile, sorted_finite};
use super::style::series;
use super::{Built, PlotError, PlotOptions};
use crate::validate::judge::spearman;

/// The outcomes the national charts and tables follow, as shares.
const OUTCOMES: [&str; 4] = [
    "coordination_index",
    "share_need_met",
    "dumped_share",
    "share_fell_through",
];

/// What each locality drew, as written in `localities.csv`, with a readable name.
const DRAWS: [(&str, &str); 4] = [
    ("bp_share", "bureaucratic-politics share"),
    ("arrivals_multiplier", "arrivals multiplier"),
    ("income_multiplier", "budget multiplier"),
    ("levers", "levers apply (1) or not (0)"),
];

const LOCALITIES: Spec = Spec {
    required: &[
        "locality",
        "arrivals_multiplier",
        "income_multiplier",
        "bp_share",
        "levers",
        "coordination_index",
        "share_need_met",
        "dumped_share",
        "share_fell_through",
    ],
    text: &[],
    all_numeric: false,
    numeric: &[],
};

const TICKS: Spec = Spec {
    required: &[
        "tick",
        "locality",
        "coordination_index",
        "share_need_met",
        "dumped_share",
        "share_fell_through",
    ],
    text: &["locality"],
    all_numeric: false,
    numeric: &["tick"],
};

/// Whether `dir` holds a national run's output.
pub fn is_national(dir: &Path) -> bool {
    dir.join("localities.csv").is_file()
}

/// Figures and report content for a national run's directory.
pub(crate) fn build(dir: &Path, _opts: &PlotOptions) -> Result<Built, PlotError> {
    let manifest = Manifest::read_opt(&dir.join("manifest.json"))?;
    let loc = Table::read(&dir.join("localities.csv"), &LOCALITIES)?;
    let ticks = Table::read_opt(&dir.join("ticks.csv"), &TICKS)?;
    let mut b = Built::default();
    b.note_tables([Some(&loc), ticks.as_ref()]);
    let n = loc.n_rows();
    if n == 0 {
        b.skip("localities_*", "localities.csv has a header but no rows");
    } else {
        match &ticks {
            Some(t) => spread_chart(t, &mut b),
            None => b.skip("localities_spread", "no ticks.csv in the directory"),
        }
        draw_charts(&loc, &mut b);
    }
    let scenario = manifest
        .as_ref()
        .and_then(|m| m.nested("scenario", "name"))
        .unwrap_or_else(|| "national run".into());
    let seed = manifest
        .as_ref()
        .and_then(|m| m.scalar("seed").ok().flatten())
        .unwrap_or_else(|| "?".into());
    b.report = Content {
        title: format!("silos national run: {scenario}, seed {seed}"),
        intro: format!(
            "{n} localities under one centre, each an arena of its own with its own draws \
(behaviour mix, arrivals, budgets, whether the levers apply). The tables show how far the \
localities spread, which join up and which do not, and which draws go with joining up. \
These are associations across the localities of one run, not effects: a sweep that varies \
a draw tests it."
        ),
        manifest: manifest.map(|m| m.value),
        tables: if n == 0 {
            Vec::new()
        } else {
            vec![
                spread_table(&loc),
                ranked_table(&loc),
                distinguish_table(&loc),
            ]
        },
    };
    Ok(b)
}

fn col<'a>(t: &'a Table, name: &str) -> &'a [f64] {
    t.num(name)
        .expect("required numeric column, checked on reading")
}

/// Median and 10-90% band over localities, each tick, for each outcome; the national mean
/// row dashed.
fn spread_chart(t: &Table, b: &mut Built) {
    let Some(loc) = t.text_ref("locality") else {
        b.skip("localities_spread", "ticks.csv has no locality column");
        return;
    };
    let tick = col(t, "tick");
    let mut panels = Vec::new();
    for o in OUTCOMES {
        let v = col(t, o);
        let l = obs_label(o);
        // Rows come tick by tick: the localities' rows, then `mean` and `total`.
        let (mut line, mut band, mut mean) = (Vec::new(), Vec::new(), Vec::new());
        let mut at = 0;
        while at < loc.len() {
            let tk = tick[at];
            let mut vals = Vec::new();
            while at < loc.len() && tick[at] == tk {
                match loc[at].as_str() {
                    "mean" => mean.push((tk, v[at] * l.scale)),
                    "total" => {}
                    _ => vals.push(v[at]),
                }
                at += 1;
            }
            let s = sorted_finite(vals);
            if s.is_empty() {
                continue;
            }
            line.push((tk, quantile(&s, 0.5) * l.scale));
            band.push((tk, quantile(&s, 0.1) * l.scale, quantile(&s, 0.9) * l.scale));
        }
        panels.push(LinePanel {
            title: Some(l.name.clone()),
            series: vec![
                Series {
                    colour: series(0),
                    points: line,
                    band,
                    dashed: false,
                    markers: false,
                },
                Series {
                    colour: series(1),
                    points: mean,
                    band: Vec::new(),
                    dashed: true,
                    markers: false,
                },
            ],
        });
    }
    b.figures.push(Figure {
        name: "localities_spread".into(),
        title: "How far localities spread, month by month".into(),
        subtitle: "Median locality (line) and the middle 80% of localities (band, 10th to 90th percentile); dashed: the mean over localities".into(),
        legend: vec![
            LegendItem {
                label: "median locality, with the 10th to 90th percentile of localities".into(),
                colour: series(0),
                swatch: Swatch::LineBand,
            },
            LegendItem {
                label: "mean over localities".into(),
                colour: series(1),
                swatch: Swatch::Dashed,
            },
        ],
        footer: "From ticks.csv of a national run (rows per locality, and the row 'mean').".into(),
        body: Body::Lines(LineChart {
            panels,
            x_label: "Tick (month)".into(),
            y_label: "% (see each panel)".into(),
            y_zero: true,
            h_line: None,
            x_integer: true,
            y_bounds: Some((0.0, 100.0)),
            x_window: None,
        }),
    });
}

/// A value's percentile rank among the finite values of `x` (0 the lowest, 100 the highest,
/// ties at their mean rank); NaN for a missing value.
fn percentile_ranks(x: &[f64]) -> Vec<f64> {
    let finite: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    let n = finite.len();
    let mut r = crate::validate::judge::ranks(&finite).into_iter();
    x.iter()
        .map(|v| {
            if !v.is_finite() {
                return f64::NAN;
            }
            let rank = r.next().expect("one rank per finite value");
            if n == 1 {
                50.0
            } else {
                100.0 * (rank - 1.0) / (n - 1) as f64
            }
        })
        .collect()
}

/// Each locality's run mean of coordination and need met against its draws. The draws have
/// different scales, so each is shown as the locality's percentile rank on it; the panel
/// title gives the draw's range.
fn draw_charts(t: &Table, b: &mut Built) {
    for (name, outcome) in [
        ("localities_coordination", "coordination_index"),
        ("localities_need_met", "share_need_met"),
    ] {
        let l = obs_label(outcome);
        let y = col(t, outcome);
        let mut panels = Vec::new();
        let mut constant = Vec::new();
        for (d, what) in &DRAWS[..3] {
            let x = col(t, d);
            let s = sorted_finite(x.iter().copied());
            if s.len() < 2 || s[0] == s[s.len() - 1] {
                constant.push(*what);
                continue;
            }
            let ranks = percentile_ranks(x);
            panels.push(ScatterPanel {
                title: Some(format!(
                    "{} ({} to {})",
                    what.split(" (").next().unwrap_or(what),
                    fmt_num(s[0], 2),
                    fmt_num(s[s.len() - 1], 2)
                )),
                points: ranks
                    .iter()
                    .zip(y)
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .map(|(&x, &y)| ScatterPoint {
                        x,
                        y: y * l.scale,
                        label: None,
                        colour: series(0),
                        marker: Marker::Circle,
                    })
                    .collect(),
            });
        }
        if panels.is_empty() {
            b.skip(
                name,
                "no draw (behaviour mix, arrivals, budgets) varied between localities",
            );
            continue;
        }
        b.figures.push(Figure {
            name: name.to_string(),
            title: format!("Which localities join up: {} by what they drew", l.name),
            subtitle: format!(
                "{} localities of one national run, each point a locality's run mean, against its rank on each draw{}",
                t.n_rows(),
                if constant.is_empty() {
                    String::new()
                } else {
                    format!("; not varied: {}", constant.join(", "))
                }
            ),
            legend: Vec::new(),
            footer: "From localities.csv (silos run on a scenario with [localities]). Associations in one run, not effects."
                .into(),
            body: Body::Scatter(ScatterChart {
                panels,
                x_label: "The locality's rank on the draw, percentile (0 lowest, 100 highest)".into(),
                y_label: format!("{}, {}", l.name, l.unit),
                diagonal: None,
                sqrt: false,
            }),
        });
    }
}

fn pct(x: f64) -> String {
    fmt_num(100.0 * x, 1)
}

/// The spread of run means over localities: minimum, deciles, median, maximum.
fn spread_table(t: &Table) -> ReportTable {
    let rows = OUTCOMES
        .iter()
        .map(|o| {
            let s = sorted_finite(col(t, o).iter().copied());
            let mut r = vec![obs_label(o).name];
            for p in [0.0, 0.1, 0.5, 0.9, 1.0] {
                r.push(pct(quantile(&s, p)));
            }
            r.push(pct(s.iter().sum::<f64>() / s.len().max(1) as f64));
            r
        })
        .collect();
    ReportTable {
        title: "How far localities spread".into(),
        note: "Each locality's run mean of the outcome, in %, summarised over localities \
(the mean is unweighted: every locality counts once)."
            .into(),
        header: ["Outcome", "min", "10%", "median", "90%", "max", "mean"]
            .map(String::from)
            .to_vec(),
        rows,
    }
}

/// Order of localities by coordination, most joined-up first (ties by index).
fn by_coordination(t: &Table) -> Vec<usize> {
    let c = col(t, "coordination_index");
    let mut idx: Vec<usize> = (0..t.n_rows()).filter(|&i| c[i].is_finite()).collect();
    idx.sort_by(|&a, &b| c[b].total_cmp(&c[a]).then(a.cmp(&b)));
    idx
}

/// The five most and five least joined-up localities, with their outcomes and draws.
fn ranked_table(t: &Table) -> ReportTable {
    let order = by_coordination(t);
    let k = 5.min(order.len() / 2).max(1.min(order.len()));
    let mut picks: Vec<(&str, usize)> = order[..k].iter().map(|&i| ("most", i)).collect();
    if order.len() > k {
        let from = order.len() - k.min(order.len() - k);
        picks.extend(order[from..].iter().map(|&i| ("least", i)));
    }
    let locality = col(t, "locality");
    let rows = picks
        .into_iter()
        .map(|(which, i)| {
            let mut r = vec![which.to_string(), fmt_num(locality[i], 0)];
            for o in OUTCOMES {
                r.push(pct(col(t, o)[i]));
            }
            for (d, _) in DRAWS {
                r.push(fmt_num(col(t, d)[i], 2));
            }
            r
        })
        .collect();
    let mut header = vec!["Joined up".to_string(), "Locality".to_string()];
    header.extend(OUTCOMES.iter().map(|o| format!("{} %", obs_label(o).name)));
    header.extend(DRAWS.iter().map(|(d, _)| d.to_string()));
    ReportTable {
        title: "Which localities join up, and which do not".into(),
        note: "The localities with the highest and the lowest run-mean coordination index \
(share of multi-need cases served jointly), with their other outcomes and their draws. \
NA: not drawn in this run."
            .into(),
        header,
        rows,
    }
}

/// For each draw: its Spearman correlation with each outcome over localities, and its mean
/// in the most and least joined-up quarters.
fn distinguish_table(t: &Table) -> ReportTable {
    let order = by_coordination(t);
    let q = order.len() / 4;
    let rows = DRAWS
        .iter()
        .map(|(d, name)| {
            let x = col(t, d);
            let mut r = vec![name.to_string()];
            for o in OUTCOMES {
                r.push(fmt_num(spearman(x, col(t, o)), 2));
            }
            let mean = |idx: &[usize]| {
                let v: Vec<f64> = idx
                    .iter()
                    .map(|&i| x[i])
                    .filter(|v| v.is_finite())
                    .collect();
                if v.is_empty() {
                    f64::NAN
                } else {
                    v.iter().sum::<f64>() / v.len() as f64
                }
            };
            let (top, bottom) = if q > 0 {
                (mean(&order[..q]), mean(&order[order.len() - q..]))
            } else {
                (f64::NAN, f64::NAN)
            };
            r.push(fmt_num(top, 2));
            r.push(fmt_num(bottom, 2));
            r
        })
        .collect();
    let mut header = vec!["Draw".to_string()];
    header.extend(
        OUTCOMES
            .iter()
            .map(|o| format!("rho with {}", obs_label(o).name.to_lowercase())),
    );
    header.push("mean, most joined-up quarter".into());
    header.push("mean, least joined-up quarter".into());
    ReportTable {
        title: "What distinguishes them".into(),
        note: format!(
            "Spearman rank correlation over the {} localities between each draw and each \
run-mean outcome (NA where the draw did not vary), and the draw's mean in the quarter of \
localities with the highest and the lowest coordination index ({q} each). Associations in one \
run, not effects.",
            t.n_rows()
        ),
        header,
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::percentile_ranks;

    #[test]
    fn percentile_ranks_span_0_to_100_with_ties_at_their_mean_rank() {
        let r = percentile_ranks(&[3.0, 1.0, 2.0, 2.0, f64::NAN, 5.0]);
        assert_eq!(&r[..4], &[75.0, 0.0, 37.5, 37.5]);
        assert!(r[4].is_nan());
        assert_eq!(r[5], 100.0);
        assert_eq!(percentile_ranks(&[7.0]), vec![50.0]);
    }
}
