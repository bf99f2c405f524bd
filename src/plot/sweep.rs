//! Charts and tables of a sweep's output directory.
//!
//! A sweep runs every arm (a behaviour or arrangement) at every design point (a combination
//! of factor levels) over several replicate seeds; runs with the same point and replicate
//! share a seed, so arms are compared pairwise. The files (all optional except that at
//! least one must exist): `manifest.json`, `points.csv`, `runs.csv`, `summary.csv`,
//! `paired.csv`, `agencies_summary.csv`, `dumping_summary.csv`, `agenda_summary.csv`.

use std::path::Path;

use plotters::style::RGBColor;

use super::data::{Manifest, Spec, Table, distinct, parse_num};
use super::draw::*;
use super::labels::{FELL_THROUGH_ALIASES, ObsLabel, obs_label, pretty_name, title_name};
use super::report::{Content, Table as HtmlTable};
use super::run::{
    FREE_RIDING_NOTE, FREE_RIDING_X, FREE_RIDING_Y, agency_order, dumping_panel, empty_cell_legend,
    free_riding_panel,
};
use super::stats::summarise;
use super::style::{TEXT_GREY, series};
use super::{Built, PlotError, PlotOptions};

/// Design points drawn as separate files (free riding, dumping, agenda): first, middle, last.
const PER_POINT_FILES: usize = 3;

const POINTS: Spec = Spec {
    required: &["point"],
    text: &["point"],
    all_numeric: false,
    numeric: &[],
};
const SUMMARY: Spec = Spec {
    required: &[
        "point",
        "arm",
        "tick",
        "observable",
        "mean",
        "ci_low",
        "ci_high",
    ],
    text: &["point", "arm", "observable"],
    all_numeric: false,
    numeric: &["tick", "n", "mean", "sd", "ci_low", "ci_high"],
};
const PAIRED: Spec = Spec {
    required: &[
        "point",
        "arm",
        "reference",
        "tick",
        "observable",
        "mean_diff",
        "ci_low",
        "ci_high",
    ],
    text: &["point", "arm", "reference", "observable"],
    all_numeric: false,
    numeric: &["tick", "n", "mean_diff", "sd_diff", "ci_low", "ci_high"],
};
const AGENCIES_SUMMARY: Spec = Spec {
    required: &["point", "arm", "agency", "observable", "mean"],
    text: &["point", "arm", "agency", "observable"],
    all_numeric: false,
    numeric: &["n", "mean", "sd", "ci_low", "ci_high"],
};
const DUMPING_SUMMARY: Spec = Spec {
    required: &[
        "point",
        "arm",
        "sender",
        "receiver",
        "mean_dumped_referrals",
    ],
    text: &["point", "arm", "sender", "receiver"],
    all_numeric: false,
    numeric: &[
        "n",
        "mean_referrals",
        "mean_dumped_referrals",
        "mean_dumped_cost",
    ],
};
const AGENDA_SUMMARY: Spec = Spec {
    required: &["point", "arm", "group", "agenda_weight", "need_weight"],
    text: &["point", "arm", "group"],
    all_numeric: false,
    numeric: &["n", "agenda_weight", "need_weight"],
};

/// The sweep's design, gathered from the manifest and the files.
struct Design {
    experiment: String,
    arms: Vec<String>,
    reference: Option<String>,
    factors: Vec<String>,
    /// Point ids in order.
    points: Vec<String>,
    /// Factor values per point (text), `[point][factor]`.
    levels: Vec<Vec<String>>,
    /// "runs (seeds) per arm" text, e.g. "n = 20 runs (seeds) per arm".
    n_text: String,
}

impl Design {
    fn arm_colour(&self, arm: &str) -> RGBColor {
        series(self.arms.iter().position(|a| a == arm).unwrap_or(0))
    }

    fn point_index(&self, p: &str) -> Option<usize> {
        self.points.iter().position(|q| q == p)
    }

    /// "pool_share = 0.5, forum_depth = 0.8" (or "point 3" without factors).
    fn point_label(&self, p: usize) -> String {
        if self.factors.is_empty() || self.levels.get(p).is_none() {
            return format!("point {}", self.points[p]);
        }
        self.factors
            .iter()
            .zip(&self.levels[p])
            // Non-breaking spaces keep each "factor = value" on one line when labels wrap.
            .map(|(f, v)| format!("{}\u{a0}=\u{a0}{v}", pretty_name(f).replace(' ', "\u{a0}")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Up to `max` evenly spaced point indices, always including the first and last.
    fn subset(&self, max: usize) -> Vec<usize> {
        let n = self.points.len();
        if n <= max || max == 0 {
            return (0..n).collect();
        }
        if max == 1 {
            return vec![0];
        }
        let mut out: Vec<usize> = (0..max)
            .map(|k| ((k * (n - 1)) as f64 / (max - 1) as f64).round() as usize)
            .collect();
        out.dedup();
        out
    }

    fn about(&self) -> String {
        let mut s = format!("experiment {}", self.experiment);
        if !self.n_text.is_empty() {
            s += &format!(" · {}", self.n_text);
        }
        s
    }
}

fn build_design(
    manifest: Option<&Manifest>,
    points: Option<&Table>,
    runs: Option<&Table>,
    summary: Option<&Table>,
    paired: Option<&Table>,
) -> Result<Design, PlotError> {
    let mut experiment = None;
    let mut arms = None;
    let mut reference = None;
    let mut factors = None;
    let mut replicates = None;
    if let Some(m) = manifest {
        // `experiment` is a name, or an object with one.
        experiment = match m.value.get("experiment") {
            Some(serde_json::Value::Object(_)) => m.nested("experiment", "name"),
            _ => m.scalar("experiment")?,
        };
        arms = m.strings("arms")?;
        reference = m.scalar("reference_arm")?;
        factors = m.strings("factors")?;
        replicates = m.scalar("replicates")?;
    }
    // Arms: the manifest's order, then any others in order of appearance.
    let mut arm_list = arms.unwrap_or_default();
    for t in [runs, summary, paired].into_iter().flatten() {
        if let Some(col) = t.text_ref("arm") {
            for a in distinct(col.iter()) {
                if !arm_list.contains(&a) {
                    arm_list.push(a);
                }
            }
        }
    }
    if reference.is_none() {
        reference = paired
            .and_then(|p| p.text_ref("reference"))
            .and_then(|r| r.first().cloned());
    }
    // Points and factors: points.csv, else the points seen in the other files.
    let (point_ids, factor_names, levels) = match points {
        Some(p) => {
            let ids = p.text_ref("point").map(|v| v.to_vec()).unwrap_or_default();
            let names: Vec<String> = match &factors {
                Some(f) => f.clone(),
                None => p.header().iter().skip(1).cloned().collect(),
            };
            let cols: Vec<Vec<String>> = names
                .iter()
                .map(|f| {
                    p.text(f)
                        .unwrap_or_else(|| vec!["NA".to_string(); p.n_rows()])
                })
                .collect();
            let levels = (0..p.n_rows())
                .map(|r| cols.iter().map(|c| c[r].clone()).collect())
                .collect();
            (ids, names, levels)
        }
        None => {
            let mut ids: Vec<String> = Vec::new();
            for t in [runs, summary, paired].into_iter().flatten() {
                if let Some(col) = t.text_ref("point") {
                    for p in distinct(col.iter()) {
                        if !ids.contains(&p) {
                            ids.push(p);
                        }
                    }
                }
            }
            (ids, Vec::new(), Vec::new())
        }
    };
    // Runs per arm and point, from runs.csv, else summary's n, else the manifest.
    let mut counts: Vec<usize> = Vec::new();
    if let Some(r) = runs
        && let (Some(pt), Some(arm)) = (r.text_ref("point"), r.text_ref("arm"))
    {
        let mut keys: Vec<(&String, &String)> = Vec::new();
        let mut n: Vec<usize> = Vec::new();
        for (p, a) in pt.iter().zip(arm) {
            match keys.iter().position(|k| *k == (p, a)) {
                Some(i) => n[i] += 1,
                None => {
                    keys.push((p, a));
                    n.push(1);
                }
            }
        }
        counts = n;
    } else if let Some(s) = summary
        && let Some(n) = s.num("n")
    {
        counts = n
            .iter()
            .filter(|x| x.is_finite())
            .map(|&x| x as usize)
            .collect();
    }
    let n_text = match (counts.iter().min(), counts.iter().max()) {
        (Some(&lo), Some(&hi)) if lo == hi => format!("n\u{a0}=\u{a0}{lo} runs (seeds) per arm"),
        (Some(&lo), Some(&hi)) => format!("n\u{a0}=\u{a0}{lo} to {hi} runs (seeds) per arm"),
        _ => match &replicates {
            Some(r) => format!("n\u{a0}=\u{a0}{r} runs (seeds) per arm"),
            None => "number of runs unknown".into(),
        },
    };
    Ok(Design {
        experiment: experiment.unwrap_or_else(|| "(unnamed)".into()),
        arms: arm_list,
        reference,
        factors: factor_names,
        points: point_ids,
        levels,
        n_text,
    })
}

pub fn build(dir: &Path, opts: &PlotOptions) -> Result<Built, PlotError> {
    let manifest = Manifest::read_opt(&dir.join("manifest.json"))?;
    let points = Table::read_opt(&dir.join("points.csv"), &POINTS)?;
    // runs.csv: observable columns (named like ticks.csv's) must be numeric.
    let strict: Vec<&str> = crate::metrics::TICK
        .iter()
        .map(|o| o.name)
        .chain(FELL_THROUGH_ALIASES)
        .collect();
    let runs_spec = Spec {
        required: &["point", "arm"],
        text: &["run_id", "point", "arm", "replicate", "seed"],
        all_numeric: false,
        numeric: &strict,
    };
    let runs = Table::read_opt(&dir.join("runs.csv"), &runs_spec)?;
    let summary = Table::read_opt(&dir.join("summary.csv"), &SUMMARY)?;
    let paired = Table::read_opt(&dir.join("paired.csv"), &PAIRED)?;
    let agencies = Table::read_opt(&dir.join("agencies_summary.csv"), &AGENCIES_SUMMARY)?;
    let dumping = Table::read_opt(&dir.join("dumping_summary.csv"), &DUMPING_SUMMARY)?;
    let agenda = Table::read_opt(&dir.join("agenda_summary.csv"), &AGENDA_SUMMARY)?;
    let d = build_design(
        manifest.as_ref(),
        points.as_ref(),
        runs.as_ref(),
        summary.as_ref(),
        paired.as_ref(),
    )?;
    let mut b = Built::default();
    b.note_tables([
        points.as_ref(),
        runs.as_ref(),
        summary.as_ref(),
        paired.as_ref(),
        agencies.as_ref(),
        dumping.as_ref(),
        agenda.as_ref(),
    ]);
    let obs = &opts.observables;

    match &summary {
        Some(s) => time_charts(s, &d, obs, opts, &mut b),
        None => b.skip("time_*", "no summary.csv in the directory"),
    }
    match &paired {
        Some(p) => paired_charts(p, &d, obs, opts, &mut b),
        None => b.skip("paired_*", "no paired.csv in the directory"),
    }
    match &runs {
        Some(r) => {
            dose_charts(r, &d, obs, &mut b);
            heatmaps(r, &d, obs, &mut b);
            distributions(r, &d, obs, opts, &mut b);
        }
        None => b.skip("dose_*, heatmap_*, dist_*", "no runs.csv in the directory"),
    }
    match &agencies {
        Some(a) => free_riding(a, &d, &mut b),
        None => b.skip(
            "free_riding_agencies_*",
            "no agencies_summary.csv in the directory",
        ),
    }
    match &dumping {
        Some(t) => dumping_charts(t, &d, manifest.as_ref(), &mut b),
        None => b.skip(
            "dumping_matrix_*",
            "no dumping_summary.csv in the directory",
        ),
    }
    match &agenda {
        Some(t) => agenda_charts(t, &d, &mut b),
        None => b.skip("agenda_vs_need", "no agenda_summary.csv in the directory"),
    }

    let mut tables = Vec::new();
    tables.extend(design_table(&d, runs.as_ref()));
    if let Some(r) = &runs {
        tables.extend(outcome_tables(r, &d, obs));
    }
    b.report = Content {
        title: format!("silos sweep: {}", d.experiment),
        intro: format!(
            "Charts and summary tables of a sweep ({}; arms: {}; {} design point{}), drawn from \
the CSV files in this directory. Bands and intervals are 95% confidence intervals of the mean \
over runs; differences between arms are paired by seed.",
            d.about(),
            d.arms.join(", "),
            d.points.len(),
            if d.points.len() == 1 { "" } else { "s" }
        ),
        manifest: manifest.map(|m| m.value),
        tables,
    };
    Ok(b)
}

/// The name an observable has in `available`, allowing the fell-through aliases.
fn find_name<'a>(name: &str, available: &'a [String]) -> Option<&'a String> {
    if FELL_THROUGH_ALIASES.contains(&name) {
        FELL_THROUGH_ALIASES
            .iter()
            .find_map(|a| available.iter().find(|x| x == a))
    } else {
        available.iter().find(|x| *x == name)
    }
}

/// Rows of a long table grouped by (point, arm, observable) with (tick, mean, lo, hi).
struct Long<'t> {
    point: &'t [String],
    arm: &'t [String],
    obs: &'t [String],
    tick: &'t [f64],
    mean: &'t [f64],
    lo: &'t [f64],
    hi: &'t [f64],
}

impl Long<'_> {
    fn series(&self, point: &str, arm: &str, obs: &str, scale: f64) -> Series {
        let mut rows: Vec<usize> = (0..self.point.len())
            .filter(|&r| self.point[r] == point && self.arm[r] == arm && self.obs[r] == obs)
            .collect();
        rows.sort_by(|&i, &j| self.tick[i].total_cmp(&self.tick[j]));
        Series {
            colour: series(0),
            points: rows
                .iter()
                .map(|&r| (self.tick[r], self.mean[r] * scale))
                .collect(),
            band: rows
                .iter()
                .map(|&r| (self.tick[r], self.lo[r] * scale, self.hi[r] * scale))
                .collect(),
            dashed: false,
            markers: false,
        }
    }
}

fn arm_legend(d: &Design, arms: &[String], swatch: Swatch) -> Vec<LegendItem> {
    arms.iter()
        .map(|a| LegendItem {
            label: a.clone(),
            colour: d.arm_colour(a),
            swatch,
        })
        .collect()
}

fn panel_title(d: &Design, p: usize) -> Option<String> {
    (d.points.len() > 1).then(|| d.point_label(p))
}

fn points_note(d: &Design, shown: &[usize]) -> String {
    match d.points.len() {
        0 | 1 => String::new(),
        n if shown.len() < n => format!(
            " · {} of {n} design points shown (evenly spaced; raise max_points for more)",
            shown.len()
        ),
        _ => " · one panel per design point".into(),
    }
}

fn time_charts(s: &Table, d: &Design, obs: &[String], opts: &PlotOptions, b: &mut Built) {
    let (Some(point), Some(arm), Some(o), Some(tick), Some(mean), Some(lo), Some(hi)) = (
        s.text_ref("point"),
        s.text_ref("arm"),
        s.text_ref("observable"),
        s.num("tick"),
        s.num("mean"),
        s.num("ci_low"),
        s.num("ci_high"),
    ) else {
        return;
    };
    let long = Long {
        point,
        arm,
        obs: o,
        tick,
        mean,
        lo,
        hi,
    };
    let available = distinct(o.iter());
    let shown = d.subset(opts.max_points);
    for name in obs {
        let chart = format!("time_{name}");
        let Some(col) = find_name(name, &available) else {
            let why = if FELL_THROUGH_ALIASES.contains(&name.as_str()) {
                "summary.csv has no per-tick fell-through share (a share of each tick's cases \
cannot be rebuilt from the means of counts); its run-level form, from runs.csv totals, is \
in dose_*, heatmap_*, dist_* and the report's tables"
                    .to_string()
            } else {
                format!("summary.csv has no observable `{name}`")
            };
            b.skip(chart, why);
            continue;
        };
        let multi = name == "share_need_met_multi";
        let single = multi
            .then(|| find_name("share_need_met_single", &available))
            .flatten();
        let l = obs_label(col);
        let mut panels = Vec::new();
        for &p in &shown {
            let mut ser = Vec::new();
            for a in &d.arms {
                let mut s = long.series(&d.points[p], a, col, l.scale);
                if s.points.is_empty() {
                    continue;
                }
                s.colour = d.arm_colour(a);
                ser.push(s);
                if let Some(sn) = single {
                    let mut s2 = long.series(&d.points[p], a, sn, l.scale);
                    s2.colour = d.arm_colour(a);
                    s2.dashed = true;
                    ser.push(s2);
                }
            }
            panels.push(LinePanel {
                title: panel_title(d, p),
                series: ser,
            });
        }
        if panels.iter().all(|p| p.series.is_empty()) {
            b.skip(chart, format!("summary.csv has no rows for `{col}`"));
            continue;
        }
        let mut legend = arm_legend(d, &d.arms, Swatch::LineBand);
        let (title, file) = if single.is_some() {
            legend.push(LegendItem {
                label: "solid: two or more needs".into(),
                colour: TEXT_GREY,
                swatch: Swatch::Line,
            });
            legend.push(LegendItem {
                label: "dashed: one need".into(),
                colour: TEXT_GREY,
                swatch: Swatch::Dashed,
            });
            (
                "Need met for multi-need against single-need cases, by arm".to_string(),
                "time_share_need_met_multi_vs_single".to_string(),
            )
        } else {
            (format!("{} over time, by arm", l.name), chart)
        };
        b.figures.push(Figure {
            name: file,
            title,
            subtitle: format!(
                "Mean over runs with 95% confidence band · {}{}",
                d.about(),
                points_note(d, &shown)
            ),
            legend,
            footer: format!("Data: summary.csv, observable {col}."),
            body: Body::Lines(LineChart {
                panels,
                x_label: "Tick (month)".into(),
                y_label: if single.is_some() {
                    obs_label("share_need_met").axis()
                } else {
                    l.axis()
                },
                y_zero: l.zero,
                h_line: None,
                x_integer: true,
                y_bounds: l.bounds,
                x_window: None,
            }),
        });
    }
}

fn paired_charts(t: &Table, d: &Design, obs: &[String], opts: &PlotOptions, b: &mut Built) {
    let (Some(point), Some(arm), Some(o), Some(tick), Some(mean), Some(lo), Some(hi)) = (
        t.text_ref("point"),
        t.text_ref("arm"),
        t.text_ref("observable"),
        t.num("tick"),
        t.num("mean_diff"),
        t.num("ci_low"),
        t.num("ci_high"),
    ) else {
        return;
    };
    let reference = t
        .text_ref("reference")
        .and_then(|r| r.first().cloned())
        .or_else(|| d.reference.clone())
        .unwrap_or_else(|| "the reference arm".into());
    let long = Long {
        point,
        arm,
        obs: o,
        tick,
        mean,
        lo,
        hi,
    };
    let available = distinct(o.iter());
    let arms: Vec<String> = d.arms.iter().filter(|a| arm.contains(a)).cloned().collect();
    let shown = d.subset(opts.max_points);
    for name in obs {
        let chart = format!("paired_{name}");
        let Some(col) = find_name(name, &available) else {
            b.skip(chart, format!("paired.csv has no observable `{name}`"));
            continue;
        };
        let l = obs_label(col);
        let mut panels = Vec::new();
        for &p in &shown {
            let mut ser = Vec::new();
            for a in &arms {
                let mut s = long.series(&d.points[p], a, col, l.scale);
                s.colour = d.arm_colour(a);
                if !s.points.is_empty() {
                    ser.push(s);
                }
            }
            panels.push(LinePanel {
                title: panel_title(d, p),
                series: ser,
            });
        }
        if panels.iter().all(|p| p.series.is_empty()) {
            b.skip(chart, format!("paired.csv has no rows for `{col}`"));
            continue;
        }
        let mut legend: Vec<LegendItem> = arms
            .iter()
            .map(|a| LegendItem {
                label: format!("{a} minus {reference}"),
                colour: d.arm_colour(a),
                swatch: Swatch::LineBand,
            })
            .collect();
        legend.push(LegendItem {
            label: "no difference".into(),
            colour: plotters::style::BLACK,
            swatch: Swatch::Dashed,
        });
        b.figures.push(Figure {
            name: chart,
            title: format!("{}: difference from {reference}, paired by seed", l.name),
            subtitle: format!(
                "Mean paired difference with 95% confidence band · {}{}",
                d.about(),
                points_note(d, &shown)
            ),
            legend,
            footer: format!(
                "Data: paired.csv, observable {col}. Each run is compared with the {reference} run \
that has the same seed, so arrivals and shocks are identical."
            ),
            body: Body::Lines(LineChart {
                panels,
                x_label: "Tick (month)".into(),
                y_label: format!("Difference in {} ({})", lower_first(&l.name), l.diff_unit()),
                y_zero: true,
                h_line: Some(0.0),
                x_integer: true,
                y_bounds: None,
                x_window: None,
            }),
        });
    }
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// A run-level column of runs.csv. The fell-through share, if not a column, is derived
/// from the run totals `total_fell_through / total_arrivals`.
fn run_col(r: &Table, col: &str) -> Option<Vec<f64>> {
    if let Some(v) = r.num(col) {
        return Some(v.to_vec());
    }
    if FELL_THROUGH_ALIASES.contains(&col) {
        let (f, a) = (r.num("total_fell_through")?, r.num("total_arrivals")?);
        return Some(
            f.iter()
                .zip(a)
                .map(|(&f, &a)| if a > 0.0 { f / a } else { f64::NAN })
                .collect(),
        );
    }
    None
}

/// Run-level values of `col` per (point index, arm), from runs.csv.
fn run_values(r: &Table, d: &Design, col: &str) -> Option<Vec<Vec<Vec<f64>>>> {
    let (point, arm, v) = (r.text_ref("point")?, r.text_ref("arm")?, run_col(r, col)?);
    let mut out = vec![vec![Vec::new(); d.arms.len()]; d.points.len()];
    for i in 0..r.n_rows() {
        if let (Some(p), Some(a)) = (
            d.point_index(&point[i]),
            d.arms.iter().position(|x| *x == arm[i]),
        ) {
            out[p][a].push(v[i]);
        }
    }
    Some(out)
}

/// How a runs.csv value was obtained: its column, or the totals it is derived from.
fn source(r: &Table, col: &str) -> String {
    if r.num(col).is_none() && FELL_THROUGH_ALIASES.contains(&col) {
        format!("{col} = total_fell_through / total_arrivals, per run")
    } else {
        col.to_string()
    }
}

/// Numeric columns of runs.csv, plus the derived fell-through share.
fn runs_columns(r: &Table) -> Vec<String> {
    let mut out: Vec<String> = r
        .header()
        .iter()
        .filter(|h| r.num(h).is_some())
        .cloned()
        .collect();
    if !FELL_THROUGH_ALIASES
        .iter()
        .any(|a| out.iter().any(|o| o == a))
        && run_col(r, FELL_THROUGH_ALIASES[0]).is_some()
    {
        out.push(FELL_THROUGH_ALIASES[0].to_string());
    }
    out
}

fn dose_charts(r: &Table, d: &Design, obs: &[String], b: &mut Built) {
    if d.factors.len() != 1 {
        let why = if d.factors.is_empty() {
            "the sweep has no swept factor".to_string()
        } else {
            format!(
                "dose-response needs exactly one swept factor; this sweep has {} (see heatmap_*)",
                d.factors.len()
            )
        };
        b.skip("dose_*", why);
        return;
    }
    let factor = &d.factors[0];
    let xs: Vec<Option<f64>> = d
        .levels
        .iter()
        .map(|l| {
            l.first()
                .and_then(|v| parse_num(v))
                .filter(|x| x.is_finite())
        })
        .collect();
    if xs.is_empty() || xs.iter().any(Option::is_none) {
        b.skip(
            "dose_*",
            format!("factor `{factor}` is not numeric at every design point"),
        );
        return;
    }
    let available = runs_columns(r);
    for name in obs {
        let chart = format!("dose_{name}");
        let Some(col) = find_name(name, &available) else {
            b.skip(chart, format!("runs.csv has no numeric column `{name}`"));
            continue;
        };
        let Some(vals) = run_values(r, d, col) else {
            continue;
        };
        let l = obs_label(col);
        let mut ser = Vec::new();
        for (ai, a) in d.arms.iter().enumerate() {
            let mut pts = Vec::new();
            let mut band = Vec::new();
            for (p, x) in xs.iter().enumerate() {
                let x = x.unwrap_or(f64::NAN);
                let s = summarise(vals[p][ai].iter().copied());
                if s.n > 0 {
                    pts.push((x, s.mean * l.scale));
                    band.push((x, s.lo * l.scale, s.hi * l.scale));
                }
            }
            let order = |v: &mut Vec<(f64, f64)>| v.sort_by(|p, q| p.0.total_cmp(&q.0));
            order(&mut pts);
            band.sort_by(|p, q| p.0.total_cmp(&q.0));
            if !pts.is_empty() {
                ser.push(Series {
                    colour: d.arm_colour(a),
                    points: pts,
                    band,
                    dashed: false,
                    markers: true,
                });
            }
        }
        if ser.is_empty() {
            b.skip(chart, format!("runs.csv has no values of `{col}`"));
            continue;
        }
        b.figures.push(Figure {
            name: chart,
            title: format!("{} against {}", l.name, pretty_name(factor)),
            subtitle: format!(
                "Mean over runs (each averaged over its ticks) with 95% confidence band · {}",
                d.about()
            ),
            legend: arm_legend(d, &d.arms, Swatch::LineBand),
            footer: format!(
                "Data: runs.csv ({}) and points.csv ({factor}).",
                source(r, col)
            ),
            body: Body::Lines(LineChart {
                panels: vec![LinePanel {
                    title: None,
                    series: ser,
                }],
                x_label: format!(
                    "{} (swept factor; units as in the experiment file)",
                    title_name(factor)
                ),
                y_label: l.axis(),
                y_zero: l.zero,
                h_line: None,
                x_integer: false,
                y_bounds: l.bounds,
                x_window: None,
            }),
        });
    }
}

/// Distinct levels of factor `k`, sorted numerically when all are numbers.
fn factor_levels(d: &Design, k: usize) -> Vec<String> {
    let mut lv = distinct(d.levels.iter().filter_map(|l| l.get(k)));
    let nums: Vec<Option<f64>> = lv.iter().map(|v| parse_num(v)).collect();
    if nums.iter().all(|x| x.is_some_and(f64::is_finite)) {
        lv.sort_by(|a, b| {
            parse_num(a)
                .unwrap_or(0.0)
                .total_cmp(&parse_num(b).unwrap_or(0.0))
        });
    }
    lv
}

fn heatmaps(r: &Table, d: &Design, obs: &[String], b: &mut Built) {
    if d.factors.len() != 2 {
        b.skip(
            "heatmap_*",
            format!(
                "a heatmap needs exactly two swept factors; this sweep has {}",
                d.factors.len()
            ),
        );
        return;
    }
    let xl = factor_levels(d, 0);
    let mut yl = factor_levels(d, 1);
    yl.reverse(); // highest level at the top
    let available = runs_columns(r);
    for name in obs {
        let chart = format!("heatmap_{name}");
        let Some(col) = find_name(name, &available) else {
            b.skip(chart, format!("runs.csv has no numeric column `{name}`"));
            continue;
        };
        let Some(vals) = run_values(r, d, col) else {
            continue;
        };
        let l = obs_label(col);
        let mut panels = Vec::new();
        for (ai, a) in d.arms.iter().enumerate() {
            let mut grid = vec![vec![f64::NAN; xl.len()]; yl.len()];
            for (p, lv) in d.levels.iter().enumerate() {
                let (Some(i), Some(j)) = (
                    yl.iter().position(|v| Some(v) == lv.get(1)),
                    xl.iter().position(|v| Some(v) == lv.first()),
                ) else {
                    continue;
                };
                grid[i][j] = summarise(vals[p][ai].iter().copied()).mean * l.scale;
            }
            panels.push(HeatPanel {
                title: Some(format!("arm {a}")),
                x_cats: xl.clone(),
                y_cats: yl.clone(),
                values: grid,
            });
        }
        b.figures.push(Figure {
            name: chart,
            title: format!(
                "{} across {} and {}",
                l.name,
                pretty_name(&d.factors[0]),
                pretty_name(&d.factors[1])
            ),
            subtitle: format!(
                "Colour and number: mean over runs, each averaged over its ticks · one panel per arm · {}",
                d.about()
            ),
            legend: vec![LegendItem {
                label: "no runs at this combination".into(),
                colour: super::style::EMPTY_CELL,
                swatch: Swatch::Cell,
            }],
            footer: format!("Data: runs.csv ({}) and points.csv.", source(r, col)),
            body: Body::Heatmap(HeatmapChart {
                panels,
                x_label: format!("{} (swept factor)", title_name(&d.factors[0])),
                y_label: format!("{} (swept factor)", title_name(&d.factors[1])),
                colour_label: l.axis(),
                reverse: false,
                annotate: true,
                decimals: l.decimals(),
                range: None,
            }),
        });
    }
}

fn distributions(r: &Table, d: &Design, obs: &[String], opts: &PlotOptions, b: &mut Built) {
    let available = runs_columns(r);
    let shown = d.subset(opts.max_points);
    for name in obs {
        let chart = format!("dist_{name}");
        let Some(col) = find_name(name, &available) else {
            b.skip(chart, format!("runs.csv has no numeric column `{name}`"));
            continue;
        };
        let Some(vals) = run_values(r, d, col) else {
            continue;
        };
        let l = obs_label(col);
        let scaled = |v: &[f64]| v.iter().map(|x| x * l.scale).collect::<Vec<f64>>();
        let (categories, boxes, x_label): (Vec<String>, Boxes, String) = if d.points.len() <= 1 {
            let p = 0;
            (
                d.arms.clone(),
                d.arms
                    .iter()
                    .enumerate()
                    .map(|(ai, a)| {
                        vec![(
                            d.arm_colour(a),
                            vals.get(p).map(|v| scaled(&v[ai])).unwrap_or_default(),
                        )]
                    })
                    .collect(),
                "Arm".into(),
            )
        } else {
            (
                shown.iter().map(|&p| d.point_label(p)).collect(),
                shown
                    .iter()
                    .map(|&p| {
                        d.arms
                            .iter()
                            .enumerate()
                            .map(|(ai, a)| (d.arm_colour(a), scaled(&vals[p][ai])))
                            .collect()
                    })
                    .collect(),
                "Design point (one box per arm)".into(),
            )
        };
        if boxes.iter().flatten().all(|(_, v)| v.is_empty()) {
            b.skip(chart, format!("runs.csv has no values of `{col}`"));
            continue;
        }
        b.figures.push(Figure {
            name: chart,
            title: format!("{}: spread across seeds", l.name),
            subtitle: format!(
                "Each dot is one run (seed), averaged over its ticks; box: quartiles and median; \
whiskers: 1.5 IQR · {}{}",
                d.about(),
                points_note(d, &shown).replace("one panel", "one group")
            ),
            legend: arm_legend(d, &d.arms, Swatch::Bar),
            footer: format!("Data: runs.csv ({}).", source(r, col)),
            body: Body::Strip(StripChart {
                categories,
                x_label,
                y_label: l.axis(),
                boxes,
            }),
        });
    }
}

/// Per arm, the rows of a table that belong to it.
type ArmRows = Vec<(String, Vec<usize>)>;

/// Per category, (colour, values) of each box.
type Boxes = Vec<Vec<(RGBColor, Vec<f64>)>>;

/// (point index, arm, rows) groups of a per-point, per-arm table, for the points drawn.
fn per_point_arm(t: &Table, d: &Design) -> Vec<(usize, ArmRows)> {
    let (Some(point), Some(arm)) = (t.text_ref("point"), t.text_ref("arm")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in d.subset(PER_POINT_FILES) {
        let mut arms = Vec::new();
        for a in &d.arms {
            let rows: Vec<usize> = (0..t.n_rows())
                .filter(|&r| point[r] == d.points[p] && arm[r] == *a)
                .collect();
            if !rows.is_empty() {
                arms.push((a.clone(), rows));
            }
        }
        if !arms.is_empty() {
            out.push((p, arms));
        }
    }
    out
}

fn file_name(d: &Design, stem: &str, p: usize) -> String {
    if d.points.len() > 1 {
        format!("{stem}_p{}", sanitize(&d.points[p]))
    } else {
        stem.to_string()
    }
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// ", pool share = 0.5" for a sweep with several design points, else "".
fn point_suffix(d: &Design, p: usize) -> String {
    if d.points.len() > 1 {
        format!(", {}", d.point_label(p))
    } else {
        String::new()
    }
}

fn per_point_note(d: &Design) -> String {
    if d.points.len() > PER_POINT_FILES {
        format!(
            "drawn for {PER_POINT_FILES} of {} design points (first, middle, last)",
            d.points.len()
        )
    } else {
        String::new()
    }
}

fn free_riding(t: &Table, d: &Design, b: &mut Built) {
    let (Some(agency), Some(o), Some(mean)) = (
        t.text_ref("agency"),
        t.text_ref("observable"),
        t.num("mean"),
    ) else {
        return;
    };
    let have = |name: &str| o.iter().any(|x| x == name);
    if !have("coordination_cost") || !have("coordination_benefit") {
        b.skip(
            "free_riding_agencies_*",
            "agencies_summary.csv lacks the observables coordination_cost and coordination_benefit",
        );
        return;
    }
    let groups = per_point_arm(t, d);
    let mut drawn = 0;
    // One file per arm: two dozen labelled agencies need the whole picture.
    for (p, arms) in &groups {
        for (a, rows) in arms {
            let names = distinct(rows.iter().map(|&r| &agency[r]));
            let per: Vec<(String, String, f64, f64)> = names
                .iter()
                .map(|n| {
                    let get = |obs: &str| {
                        rows.iter()
                            .filter(|&&r| agency[r] == *n && o[r] == obs)
                            .map(|&r| mean[r])
                            .filter(|x| x.is_finite())
                            .sum::<f64>()
                    };
                    (
                        n.clone(),
                        a.clone(),
                        get("coordination_cost"),
                        get("coordination_benefit"),
                    )
                })
                .collect();
            let Some((mut panel, idle)) = free_riding_panel(&per, std::slice::from_ref(a)) else {
                continue;
            };
            for q in &mut panel.points {
                q.colour = d.arm_colour(a);
                q.marker = Marker::Circle;
            }
            drawn += 1;
            b.figures.push(Figure {
                name: file_name(d, &format!("free_riding_agencies_{}", sanitize(a)), *p),
                title: format!(
                    "Who bears the cost of coordination, and who benefits: arm {a}{}",
                    point_suffix(d, *p)
                ),
                subtitle: format!(
                    "{FREE_RIDING_NOTE} {}Means over runs · {}{}",
                    if idle > 0 {
                        format!(
                            "{idle} {} with neither sit{} unlabelled at the origin. ",
                            if idle == 1 { "agency" } else { "agencies" },
                            if idle == 1 { "s" } else { "" }
                        )
                    } else {
                        String::new()
                    },
                    d.about(),
                    if d.points.len() > 1 {
                        format!(" · {}", d.point_label(*p))
                    } else {
                        String::new()
                    }
                ),
                legend: vec![LegendItem {
                    label: format!("agency, arm {a}"),
                    colour: d.arm_colour(a),
                    swatch: Swatch::Marker(Marker::Circle),
                }],
                footer: "Data: agencies_summary.csv, coordination_cost (k GBP) and \
coordination_benefit (need units x severity), run-averaged per agency; each as a share of the \
total over agencies."
                    .into(),
                body: Body::Scatter(ScatterChart {
                    panels: vec![panel],
                    x_label: FREE_RIDING_X.into(),
                    y_label: FREE_RIDING_Y.into(),
                    diagonal: Some("equal shares".into()),
                    sqrt: true,
                }),
            });
        }
    }
    if drawn == 0 {
        b.skip(
            "free_riding_agencies_*",
            "no agency bore coordination cost or received benefit at any design point drawn",
        );
    } else if !per_point_note(d).is_empty() {
        b.skip("free_riding_agencies_* (other points)", per_point_note(d));
    }
}

fn dumping_charts(t: &Table, d: &Design, manifest: Option<&Manifest>, b: &mut Built) {
    let (Some(s), Some(r), Some(v)) = (
        t.text_ref("sender"),
        t.text_ref("receiver"),
        t.num("mean_dumped_referrals"),
    ) else {
        return;
    };
    let present = distinct(s.iter().chain(r.iter()));
    let order = agency_order(manifest, &present);
    let groups = per_point_arm(t, d);
    // One colour scale for every matrix, so arms compare at a glance.
    let max = v
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .fold(0.0, f64::max);
    let mut drawn = 0;
    for (p, arms) in &groups {
        for (a, rows) in arms {
            let pairs: Vec<(String, String, f64)> = rows
                .iter()
                .map(|&i| (s[i].clone(), r[i].clone(), v[i]))
                .collect();
            let total: f64 = pairs.iter().map(|x| x.2).filter(|x| x.is_finite()).sum();
            drawn += 1;
            b.figures.push(Figure {
                name: file_name(d, &format!("dumping_matrix_{}", sanitize(a)), *p),
                title: format!(
                    "Dumping: who passes cases to whom, arm {a}{}",
                    point_suffix(d, *p)
                ),
                subtitle: format!(
                    "Mean dumped referrals per run: {} in all · rows send, columns receive · {}{}",
                    fmt_num(total, 1),
                    d.about(),
                    if d.points.len() > 1 {
                        format!(" · {}", d.point_label(*p))
                    } else {
                        String::new()
                    }
                ),
                legend: vec![empty_cell_legend()],
                footer: "Data: dumping_summary.csv (mean_dumped_referrals). Every arm's matrix \
uses the same colour scale."
                    .into(),
                body: Body::Heatmap(HeatmapChart {
                    panels: vec![dumping_panel(&order, &pairs)],
                    x_label: "Receiving agency".into(),
                    y_label: "Sending agency".into(),
                    colour_label: "Dumped referrals (mean count per run)".into(),
                    reverse: true,
                    annotate: true,
                    decimals: if max >= 100.0 { 0 } else { 1 },
                    range: Some((0.0, if max > 0.0 { max } else { 1.0 })),
                }),
            });
        }
    }
    if drawn == 0 {
        b.skip("dumping_matrix_*", "dumping_summary.csv has no rows");
    } else if !per_point_note(d).is_empty() {
        b.skip("dumping_matrix_* (other points)", per_point_note(d));
    }
}

fn agenda_charts(t: &Table, d: &Design, b: &mut Built) {
    let (Some(group), Some(aw), Some(nw)) = (
        t.text_ref("group"),
        t.num("agenda_weight"),
        t.num("need_weight"),
    ) else {
        return;
    };
    let groups = per_point_arm(t, d);
    let mut drawn = 0;
    for (p, arms) in &groups {
        let mut panels = Vec::new();
        for (a, rows) in arms {
            let names = distinct(rows.iter().map(|&r| &group[r]));
            let pick = |col: &[f64], n: &String| {
                rows.iter()
                    .find(|&&r| group[r] == *n)
                    .map(|&r| col[r] * 100.0)
                    .unwrap_or(f64::NAN)
            };
            panels.push(BarPanel {
                title: Some(format!("arm {a}")),
                categories: names.iter().map(|n| pretty_name(n)).collect(),
                bars: vec![
                    BarSeries {
                        colour: d.arm_colour(a),
                        values: names.iter().map(|n| pick(aw, n)).collect(),
                        err: Vec::new(),
                    },
                    BarSeries {
                        colour: TEXT_GREY,
                        values: names.iter().map(|n| pick(nw, n)).collect(),
                        err: Vec::new(),
                    },
                ],
            });
        }
        let mut legend: Vec<LegendItem> = arms
            .iter()
            .map(|(a, _)| LegendItem {
                label: format!("forum agenda, arm {a}"),
                colour: d.arm_colour(a),
                swatch: Swatch::Bar,
            })
            .collect();
        legend.push(LegendItem {
            label: "need".into(),
            colour: TEXT_GREY,
            swatch: Swatch::Bar,
        });
        drawn += 1;
        b.figures.push(Figure {
            name: file_name(d, "agenda_vs_need", *p),
            title: format!(
                "Agenda capture: forum agendas against client need{}",
                point_suffix(d, *p)
            ),
            subtitle: format!(
                "Agenda weight of the forums (averaged over runs and ticks) next to each group's \
share of need; a gap means the agenda has moved away from need · {}{}",
                d.about(),
                if d.points.len() > 1 {
                    format!(" · {}", d.point_label(*p))
                } else {
                    String::new()
                }
            ),
            legend,
            footer: "Data: agenda_summary.csv (agenda_weight, need_weight).".into(),
            body: Body::Bars(BarChart {
                panels,
                value_label: "Share (%)".into(),
                category_label: "Client group".into(),
                decimals: 1,
                value_suffix: "%",
            }),
        });
    }
    if drawn == 0 {
        b.skip("agenda_vs_need", "agenda_summary.csv has no rows");
    } else if !per_point_note(d).is_empty() {
        b.skip("agenda_vs_need (other points)", per_point_note(d));
    }
}

fn design_table(d: &Design, runs: Option<&Table>) -> Option<HtmlTable> {
    if d.points.is_empty() {
        return None;
    }
    let counts = |p: &str| -> String {
        runs.and_then(|r| r.text_ref("point"))
            .map(|pt| pt.iter().filter(|x| *x == p).count().to_string())
            .unwrap_or_else(|| "NA".into())
    };
    let mut header = vec!["point".to_string()];
    header.extend(d.factors.iter().cloned());
    header.push("runs (all arms)".into());
    Some(HtmlTable {
        title: "Design points".into(),
        note: "From points.csv; runs counted in runs.csv.".into(),
        header,
        rows: d
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut row = vec![p.clone()];
                row.extend(
                    d.levels
                        .get(i)
                        .cloned()
                        .unwrap_or_else(|| vec![String::new(); d.factors.len()]),
                );
                row.push(counts(p));
                row
            })
            .collect(),
    })
}

fn ci_text(s: &super::stats::Summary, l: &ObsLabel) -> String {
    let dec = l.decimals();
    if s.n == 0 {
        "NA".into()
    } else if s.lo.is_finite() {
        format!(
            "{} [{}, {}]",
            fmt_num(s.mean * l.scale, dec),
            fmt_num(s.lo * l.scale, dec),
            fmt_num(s.hi * l.scale, dec)
        )
    } else {
        fmt_num(s.mean * l.scale, dec)
    }
}

/// Run-averaged outcomes per point and arm, and paired differences from the reference arm.
fn outcome_tables(r: &Table, d: &Design, obs: &[String]) -> Vec<HtmlTable> {
    let available = runs_columns(r);
    let mut cols: Vec<&String> = Vec::new();
    for name in obs {
        if let Some(c) = find_name(name, &available) {
            cols.push(c);
        }
        if name == "share_need_met_multi"
            && let Some(c) = find_name("share_need_met_single", &available)
        {
            cols.push(c);
        }
    }
    if cols.is_empty() {
        return Vec::new();
    }
    // Only columns whose values could be gathered, so labels, values and cols line up.
    cols.retain(|c| run_values(r, d, c).is_some());
    let labels: Vec<ObsLabel> = cols.iter().map(|c| obs_label(c)).collect();
    let values: Vec<Vec<Vec<Vec<f64>>>> = cols.iter().filter_map(|c| run_values(r, d, c)).collect();
    let mut header = vec!["design point".to_string(), "arm".into(), "n".into()];
    header.extend(labels.iter().map(|l| format!("{} ({})", l.name, l.unit)));
    let mut rows = Vec::new();
    for p in 0..d.points.len() {
        for (ai, a) in d.arms.iter().enumerate() {
            let n = values.first().map(|v| v[p][ai].len()).unwrap_or_default();
            if n == 0 {
                continue;
            }
            let mut row = vec![d.point_label(p), a.clone(), n.to_string()];
            for (k, l) in labels.iter().enumerate() {
                row.push(ci_text(&summarise(values[k][p][ai].iter().copied()), l));
            }
            rows.push(row);
        }
    }
    let mut out = vec![HtmlTable {
        title: "Outcomes by arm (run averages)".into(),
        note: "From runs.csv: each run's observables averaged over its ticks; mean over runs \
[95% confidence interval]. Shares in percent."
            .into(),
        header,
        rows,
    }];

    // Paired differences: match runs on point and replicate (else seed).
    let key_col = ["replicate", "seed"]
        .into_iter()
        .find(|k| r.text_ref(k).is_some());
    let (Some(reference), Some(key_col)) = (&d.reference, key_col) else {
        return out;
    };
    let (Some(point), Some(arm), Some(key)) =
        (r.text_ref("point"), r.text_ref("arm"), r.text_ref(key_col))
    else {
        return out;
    };
    let mut header = vec!["design point".to_string(), "arm".into(), "pairs".into()];
    header.extend(
        labels
            .iter()
            .map(|l| format!("{} ({})", l.name, l.diff_unit())),
    );
    let mut rows = Vec::new();
    for (pi, p) in d.points.iter().enumerate() {
        for a in d.arms.iter().filter(|a| *a != reference) {
            let mut row = vec![d.point_label(pi), format!("{a} minus {reference}")];
            let mut pairs = 0;
            let mut cells = Vec::new();
            for (k, c) in cols.iter().enumerate() {
                let Some(v) = run_col(r, c) else {
                    cells.push("NA".into());
                    continue;
                };
                let mut diffs = Vec::new();
                for i in 0..r.n_rows() {
                    if point[i] != *p || arm[i] != *a {
                        continue;
                    }
                    if let Some(j) = (0..r.n_rows())
                        .find(|&j| point[j] == *p && arm[j] == *reference && key[j] == key[i])
                    {
                        diffs.push(v[i] - v[j]);
                    }
                }
                pairs = pairs.max(diffs.len());
                cells.push(ci_text(&summarise(diffs), &labels[k]));
            }
            if pairs == 0 {
                continue;
            }
            row.push(pairs.to_string());
            row.extend(cells);
            rows.push(row);
        }
    }
    if !rows.is_empty() {
        out.push(HtmlTable {
            title: format!("Paired differences from {reference} (run averages)"),
            note: format!(
                "From runs.csv: each run minus the {reference} run with the same design point and \
{key_col}; mean [95% confidence interval]. Shares in percentage points."
            ),
            header,
            rows,
        });
    }
    out
}
