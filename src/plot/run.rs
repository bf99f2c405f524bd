//! Charts and tables of a single run's output directory.

use std::path::Path;

use super::data::{Manifest, Spec, Table, distinct, fmt_plain};
use super::draw::*;
use super::labels::{FELL_THROUGH_ALIASES, ObsLabel, obs_label, pretty_name};
use super::report::{Content, Table as HtmlTable};
use super::style::series;
use super::{Built, PlotError, PlotOptions};

const TICKS: Spec = Spec {
    required: &["tick"],
    text: &[],
    all_numeric: true,
    numeric: &[],
};
const AGENCIES: Spec = Spec {
    required: &["tick", "agency"],
    text: &["agency", "level", "behaviour"],
    all_numeric: true,
    numeric: &[],
};
const GROUPS: Spec = Spec {
    required: &["tick", "group", "need", "need_met"],
    text: &["group"],
    all_numeric: true,
    numeric: &[],
};
const NEEDS: Spec = Spec {
    required: &["tick", "needs", "need", "need_met"],
    text: &[],
    all_numeric: true,
    numeric: &[],
};
const DUMPING: Spec = Spec {
    required: &["sender", "receiver", "dumped_referrals"],
    text: &["sender", "receiver"],
    all_numeric: true,
    numeric: &[],
};

/// What every chart of the run says about where it came from.
struct Ctx {
    /// "1 run (seed 42) · scenario small · behaviour mixed · 24 ticks (months)"
    about: String,
    seed: String,
}

fn ctx(manifest: Option<&Manifest>, ticks: Option<&Table>) -> Result<Ctx, PlotError> {
    let (mut seed, mut behaviour, mut scenario, mut n_ticks) = (None, None, None, None);
    if let Some(m) = manifest {
        seed = m.scalar("seed")?;
        behaviour = m.scalar("behaviour")?;
        n_ticks = m.scalar("ticks")?;
        scenario = m.nested("scenario", "name");
    }
    if n_ticks.is_none() {
        n_ticks = ticks.map(|t| t.n_rows().to_string());
    }
    let seed = seed.unwrap_or_else(|| "unknown (no manifest.json)".into());
    let mut about = format!("1 run (seed {seed})");
    if let Some(s) = scenario {
        about += &format!(" · scenario {s}");
    }
    if let Some(b) = behaviour {
        about += &format!(" · behaviour {b}");
    }
    if let Some(t) = n_ticks {
        let unit = if t == "1" {
            "tick (month)"
        } else {
            "ticks (months)"
        };
        about += &format!(" · {t} {unit}");
    }
    Ok(Ctx { about, seed })
}

/// A warning when ticks.csv stops before the last tick the manifest records (a file cut
/// short at a line end).
fn short_ticks(
    manifest: Option<&Manifest>,
    ticks: Option<&Table>,
) -> Result<Option<String>, PlotError> {
    let (Some(m), Some(t)) = (manifest, ticks) else {
        return Ok(None);
    };
    let Some(want) = m.scalar("ticks")?.and_then(|s| s.parse::<f64>().ok()) else {
        return Ok(None);
    };
    let last = t
        .num("tick")
        .into_iter()
        .flatten()
        .copied()
        .filter(|x| x.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    Ok((last.is_finite() && last < want).then(|| {
        format!(
            "ticks.csv ends at tick {} but manifest.json records {} ticks: the file may be cut short",
            fmt_plain(last),
            fmt_plain(want)
        )
    }))
}

pub fn build(dir: &Path, opts: &PlotOptions) -> Result<Built, PlotError> {
    let manifest = Manifest::read_opt(&dir.join("manifest.json"))?;
    let ticks = Table::read_opt(&dir.join("ticks.csv"), &TICKS)?;
    let agencies = Table::read_opt(&dir.join("agencies.csv"), &AGENCIES)?;
    // groups.csv and needs.csv, read as one long table by breakdown (the charts' layout).
    let groups = Table::read_opt(&dir.join("groups.csv"), &GROUPS)?
        .map(|g| -> Result<Table, PlotError> {
            let needs = Table::read_opt(&dir.join("needs.csv"), &NEEDS)?;
            Ok(Table::stack_breakdowns(g, needs))
        })
        .transpose()?;
    let dumping = Table::read_opt(&dir.join("dumping.csv"), &DUMPING)?;
    let cx = ctx(manifest.as_ref(), ticks.as_ref())?;
    let mut b = Built::default();
    b.note_tables([
        ticks.as_ref(),
        agencies.as_ref(),
        groups.as_ref(),
        dumping.as_ref(),
    ]);
    if let Some(w) = short_ticks(manifest.as_ref(), ticks.as_ref())? {
        b.warnings.push(w);
    }

    match &ticks {
        Some(t) if t.n_rows() == 0 => b.skip("time_*", "ticks.csv has a header but no rows"),
        Some(t) => time_charts(t, opts, &cx, &mut b),
        None => b.skip("time_*", "no ticks.csv in the directory"),
    }
    match &groups {
        Some(g) => group_charts(g, &cx, &mut b),
        None => b.skip(
            "groups_need_met, needs_need_met",
            "no groups.csv in the directory",
        ),
    }
    match &agencies {
        Some(a) => free_riding(a, &cx, &mut b),
        None => b.skip("free_riding_agencies", "no agencies.csv in the directory"),
    }
    match &dumping {
        Some(d) => dumping_matrix(d, manifest.as_ref(), &cx, &mut b),
        None => b.skip("dumping_matrix", "no dumping.csv in the directory"),
    }
    b.skip(
        "agenda_vs_need",
        "a single run's CSV files do not record the forums' agendas per client group; \
the agenda-versus-need chart is drawn for sweeps (agenda_summary.csv)",
    );
    b.skip(
        "paired_*, dose_*, heatmap_*, dist_*",
        "these compare arms, design points or seeds, and need a sweep's output",
    );

    let scenario = manifest
        .as_ref()
        .and_then(|m| m.nested("scenario", "name"))
        .unwrap_or_else(|| "run".into());
    b.report = Content {
        title: format!("silos run: {scenario}, seed {}", cx.seed),
        intro: format!(
            "Charts and summary tables of one run ({}), drawn from the CSV files in this \
directory. One seed illustrates the model; it is not evidence of an effect. Compare arms \
over many seeds with a sweep.",
            cx.about
        ),
        manifest: manifest.map(|m| m.value),
        tables: run_tables(
            ticks.as_ref(),
            groups.as_ref(),
            agencies.as_ref(),
            dumping.as_ref(),
            opts,
        ),
    };
    Ok(b)
}

/// x (tick) and y (scaled) pairs.
fn xy(ticks: &[f64], ys: &[f64], scale: f64) -> Vec<(f64, f64)> {
    ticks
        .iter()
        .zip(ys)
        .map(|(&t, &y)| (t, y * scale))
        .collect()
}

fn line(colour: plotters::style::RGBColor, points: Vec<(f64, f64)>, dashed: bool) -> Series {
    let markers = points.len() <= 40;
    Series {
        colour,
        points,
        band: Vec::new(),
        dashed,
        markers,
    }
}

fn fell_through_share(t: &Table) -> Option<Vec<f64>> {
    for a in FELL_THROUGH_ALIASES {
        if let Some(v) = t.num(a) {
            return Some(v.to_vec());
        }
    }
    let (f, a) = (t.num("fell_through")?, t.num("arrivals")?);
    Some(
        f.iter()
            .zip(a)
            .map(|(&f, &a)| if a > 0.0 { f / a } else { f64::NAN })
            .collect(),
    )
}

fn time_charts(t: &Table, opts: &PlotOptions, cx: &Ctx, b: &mut Built) {
    let Some(tick) = t.num("tick") else {
        return;
    };
    let footer =
        "Data: ticks.csv (one row per tick). Gaps mark ticks where the value is undefined (NA).";
    for name in &opts.observables {
        let name = name.as_str();
        let chart = format!("time_{name}");
        if name == "share_need_met_multi" {
            let Some(multi) = t.num("share_need_met_multi") else {
                b.skip(chart, "ticks.csv has no column `share_need_met_multi`");
                continue;
            };
            let l = obs_label("share_need_met");
            let mut series_v = vec![line(series(1), xy(tick, multi, l.scale), false)];
            let mut legend = vec![LegendItem {
                label: "cases with two or more needs".into(),
                colour: series(1),
                swatch: Swatch::Line,
            }];
            if let Some(single) = t.num("share_need_met_single") {
                series_v.push(line(series(0), xy(tick, single, l.scale), true));
                legend.push(LegendItem {
                    label: "cases with one need".into(),
                    colour: series(0),
                    swatch: Swatch::Dashed,
                });
            }
            if all_nan(multi) {
                b.skip(chart, "share_need_met_multi is NA in every tick");
                continue;
            }
            b.figures.push(Figure {
                name: "time_share_need_met_multi_vs_single".into(),
                title: "Need met for multi-need against single-need cases".into(),
                subtitle: cx.about.clone(),
                legend,
                footer: footer.into(),
                body: Body::Lines(LineChart {
                    panels: vec![LinePanel {
                        title: None,
                        series: series_v,
                    }],
                    x_label: "Tick (month)".into(),
                    y_label: l.axis(),
                    y_zero: true,
                    h_line: None,
                    x_integer: true,
                    y_bounds: l.bounds,
                    x_window: None,
                }),
            });
            continue;
        }
        let (values, l): (Vec<f64>, ObsLabel) = if FELL_THROUGH_ALIASES.contains(&name) {
            match fell_through_share(t) {
                Some(v) => (v, obs_label(name)),
                None => {
                    b.skip(
                        chart,
                        "ticks.csv has neither share_fell_through nor fell_through and arrivals",
                    );
                    continue;
                }
            }
        } else {
            match t.num(name) {
                Some(v) => (v.to_vec(), obs_label(name)),
                None => {
                    b.skip(chart, format!("ticks.csv has no numeric column `{name}`"));
                    continue;
                }
            }
        };
        if all_nan(&values) {
            b.skip(chart, format!("`{name}` is NA in every tick"));
            continue;
        }
        b.figures.push(Figure {
            name: chart,
            title: format!("{} over time", l.name),
            subtitle: cx.about.clone(),
            legend: vec![LegendItem {
                label: format!("this run (seed {})", cx.seed),
                colour: series(0),
                swatch: Swatch::Line,
            }],
            footer: footer.into(),
            body: Body::Lines(LineChart {
                panels: vec![LinePanel {
                    title: None,
                    series: vec![line(series(0), xy(tick, &values, l.scale), false)],
                }],
                x_label: "Tick (month)".into(),
                y_label: l.axis(),
                y_zero: l.zero,
                h_line: if name == "free_riding" || name == "mean_trust" {
                    Some(0.0)
                } else {
                    None
                },
                x_integer: true,
                y_bounds: l.bounds,
                x_window: None,
            }),
        });
    }
}

fn all_nan(v: &[f64]) -> bool {
    v.iter().all(|x| !x.is_finite())
}

/// Number-of-needs class: "1 need", "2 needs", "3+ needs".
fn needs_class(needs: &str) -> Option<usize> {
    let k: usize = needs.trim().parse().ok()?;
    match k {
        0 => None,
        1 => Some(0),
        2 => Some(1),
        _ => Some(2),
    }
}

const NEEDS_CLASSES: [&str; 3] = ["1 need", "2 needs", "3 or more needs"];

fn group_charts(g: &Table, cx: &Ctx, b: &mut Built) {
    let (Some(tick), Some(group), Some(needs), Some(need), Some(met)) = (
        g.num("tick"),
        g.text_ref("group"),
        g.text_ref("needs"),
        g.num("need"),
        g.num("need_met"),
    ) else {
        return;
    };
    let ticks_all = distinct_f(tick);
    // Per client group, share of need met per tick.
    let group_rows: Vec<usize> = (0..g.n_rows()).filter(|&r| needs[r] == "all").collect();
    let names = distinct(group_rows.iter().map(|&r| &group[r]));
    let l = obs_label("share_need_met");
    if names.is_empty() {
        b.skip("groups_need_met", "groups.csv has no rows");
    } else {
        // All groups together, per tick: the reference line in every panel.
        let overall: Vec<(f64, f64)> = ticks_all
            .iter()
            .map(|&t| {
                let (mut nd, mut mt) = (0.0, 0.0);
                for &r in group_rows.iter().filter(|&&r| tick[r] == t) {
                    if need[r].is_finite() && met[r].is_finite() {
                        nd += need[r];
                        mt += met[r];
                    }
                }
                (
                    t,
                    if nd > 0.0 {
                        mt / nd * l.scale
                    } else {
                        f64::NAN
                    },
                )
            })
            .collect();
        let arrivals = g.num("arrivals");
        let mut panels = Vec::new();
        for name in &names {
            let rows: Vec<usize> = group_rows
                .iter()
                .copied()
                .filter(|&r| &group[r] == name)
                .collect();
            let pts: Vec<(f64, f64)> = rows
                .iter()
                .map(|&r| {
                    let s = if need[r] > 0.0 {
                        met[r] / need[r]
                    } else {
                        f64::NAN
                    };
                    (tick[r], s * l.scale)
                })
                .collect();
            let cases: f64 = arrivals
                .map(|a| rows.iter().map(|&r| a[r]).filter(|x| x.is_finite()).sum())
                .unwrap_or(f64::NAN);
            let title = if cases.is_finite() {
                format!("{} ({} cases)", pretty_name(name), fmt_num(cases, 0))
            } else {
                pretty_name(name)
            };
            let mut reference = line(super::style::TEXT_GREY, overall.clone(), true);
            reference.markers = false;
            let mut own = line(series(0), pts, false);
            own.markers = ticks_all.len() <= 24;
            panels.push(LinePanel {
                title: Some(title),
                series: vec![reference, own],
            });
        }
        b.figures.push(Figure {
            name: "groups_need_met".into(),
            title: "Need met per client group over time".into(),
            subtitle: cx.about.clone(),
            legend: vec![
                LegendItem {
                    label: "need met, this client group".into(),
                    colour: series(0),
                    swatch: Swatch::Line,
                },
                LegendItem {
                    label: "need met, all cases".into(),
                    colour: super::style::TEXT_GREY,
                    swatch: Swatch::Dashed,
                },
            ],
            footer: "Data: groups.csv; share = need_met / need in each tick. \
Gaps: no cases of that group arrived in the tick. Small groups swing widely from tick to tick."
                .into(),
            body: Body::Lines(LineChart {
                panels,
                x_label: "Tick (month)".into(),
                y_label: l.axis(),
                y_zero: true,
                h_line: None,
                x_integer: true,
                y_bounds: l.bounds,
                x_window: None,
            }),
        });
    }

    // By number of needs: sum need and need met over 3+ per tick.
    let need_rows: Vec<(usize, usize)> = (0..g.n_rows())
        .filter(|&r| group[r] == "all")
        .filter_map(|r| needs_class(&needs[r]).map(|c| (r, c)))
        .collect();
    if need_rows.is_empty() {
        b.skip(
            "needs_need_met",
            "no needs.csv rows (cases by number of needs) in the directory",
        );
        return;
    }
    let nt = ticks_all.len();
    let mut sums = vec![[(0.0f64, 0.0f64); 3]; nt];
    let mut present = [false; 3];
    let arrivals = g.num("arrivals");
    let fell = g.num("fell_through");
    let mut totals = [(0.0f64, 0.0f64, 0.0f64, 0.0f64); 3];
    for &(r, c) in &need_rows {
        let ti = ticks_all
            .iter()
            .position(|&t| t == tick[r])
            .unwrap_or_default();
        if need[r].is_finite() && met[r].is_finite() {
            sums[ti][c].0 += need[r];
            sums[ti][c].1 += met[r];
            totals[c].0 += need[r];
            totals[c].1 += met[r];
        }
        if let (Some(a), Some(f)) = (arrivals, fell)
            && a[r].is_finite()
            && f[r].is_finite()
        {
            totals[c].2 += a[r];
            totals[c].3 += f[r];
        }
        present[c] = true;
    }
    let mut series_v = Vec::new();
    let mut legend = Vec::new();
    for c in 0..3 {
        if !present[c] {
            continue;
        }
        let pts = ticks_all
            .iter()
            .zip(&sums)
            .map(|(&t, s)| {
                let (nd, mt) = s[c];
                (t, if nd > 0.0 { mt / nd * 100.0 } else { f64::NAN })
            })
            .collect();
        let mut s = line(series(c), pts, c == 0);
        s.markers = nt <= 40;
        series_v.push(s);
        legend.push(LegendItem {
            label: format!("cases with {}", NEEDS_CLASSES[c]),
            colour: series(c),
            swatch: if c == 0 { Swatch::Dashed } else { Swatch::Line },
        });
    }
    b.figures.push(Figure {
        name: "needs_need_met".into(),
        title: "Need met by number of needs over time".into(),
        subtitle: cx.about.clone(),
        legend,
        footer: "Data: needs.csv; share = need_met / need, summed over \
3 or more needs."
            .into(),
        body: Body::Lines(LineChart {
            panels: vec![LinePanel {
                title: None,
                series: series_v,
            }],
            x_label: "Tick (month)".into(),
            y_label: l.axis(),
            y_zero: true,
            h_line: None,
            x_integer: true,
            y_bounds: l.bounds,
            x_window: None,
        }),
    });

    // Run totals: the harm to multi-need clients.
    let cats: Vec<usize> = (0..3).filter(|&c| present[c]).collect();
    let mut bars = vec![BarSeries {
        colour: series(0),
        values: cats
            .iter()
            .map(|&c| {
                let (nd, mt, _, _) = totals[c];
                if nd > 0.0 { mt / nd * 100.0 } else { f64::NAN }
            })
            .collect(),
        err: Vec::new(),
    }];
    let mut legend = vec![LegendItem {
        label: "need met (% of severity-weighted need)".into(),
        colour: series(0),
        swatch: Swatch::Bar,
    }];
    if arrivals.is_some() && fell.is_some() {
        bars.push(BarSeries {
            colour: series(1),
            values: cats
                .iter()
                .map(|&c| {
                    let (_, _, a, f) = totals[c];
                    if a > 0.0 { f / a * 100.0 } else { f64::NAN }
                })
                .collect(),
            err: Vec::new(),
        });
        legend.push(LegendItem {
            label: "cases falling through (% of arriving cases)".into(),
            colour: series(1),
            swatch: Swatch::Bar,
        });
    }
    let cases: Vec<String> = cats
        .iter()
        .map(|&c| {
            let a = totals[c].2;
            if a > 0.0 {
                format!("{} ({} cases)", NEEDS_CLASSES[c], fmt_num(a, 0))
            } else {
                NEEDS_CLASSES[c].to_string()
            }
        })
        .collect();
    b.figures.push(Figure {
        name: "needs_need_met_total".into(),
        title: "Need met and cases falling through, by number of needs".into(),
        subtitle: format!("Run totals by number of needs · {}", cx.about),
        legend,
        footer: "Data: needs.csv, summed over all ticks.".into(),
        body: Body::Bars(BarChart {
            panels: vec![BarPanel {
                title: None,
                categories: cases,
                bars,
            }],
            value_label: "Percent (%)".into(),
            category_label: "Cases by number of needs".into(),
            decimals: 1,
            value_suffix: "%",
        }),
    });
}

fn distinct_f(v: &[f64]) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for &x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

/// Per agency: (name, level, total cost, total benefit), in file order.
fn agency_totals(a: &Table) -> Option<Vec<(String, String, f64, f64)>> {
    let names = a.text_ref("agency")?;
    let cost = a.num("coordination_cost")?;
    let benefit = a.num("coordination_benefit")?;
    let levels = a.text_ref("level");
    let mut out: Vec<(String, String, f64, f64)> = Vec::new();
    for r in 0..a.n_rows() {
        let i = match out.iter().position(|o| o.0 == names[r]) {
            Some(i) => i,
            None => {
                let level = levels.map(|l| l[r].clone()).unwrap_or_default();
                out.push((names[r].clone(), level, 0.0, 0.0));
                out.len() - 1
            }
        };
        if cost[r].is_finite() {
            out[i].2 += cost[r];
        }
        if benefit[r].is_finite() {
            out[i].3 += benefit[r];
        }
    }
    Some(out)
}

/// The free-riding picture from per-agency (name, group label, cost, benefit).
pub(crate) fn free_riding_panel(
    rows: &[(String, String, f64, f64)],
    levels: &[String],
) -> Option<(ScatterPanel, usize)> {
    let tc: f64 = rows.iter().map(|r| r.2).sum();
    let tb: f64 = rows.iter().map(|r| r.3).sum();
    if tc <= 0.0 && tb <= 0.0 {
        return None;
    }
    let mut idle = 0;
    let points = rows
        .iter()
        .map(|(name, level, c, bn)| {
            let x = if tc > 0.0 { c / tc * 100.0 } else { 0.0 };
            let y = if tb > 0.0 { bn / tb * 100.0 } else { 0.0 };
            let li = levels.iter().position(|l| l == level).unwrap_or(0);
            let active = x > 0.05 || y > 0.05;
            if !active {
                idle += 1;
            }
            ScatterPoint {
                x,
                y,
                label: active.then(|| pretty_name(name)),
                colour: series(li),
                marker: Marker::nth(li),
            }
        })
        .collect();
    Some((
        ScatterPanel {
            title: None,
            points,
        },
        idle,
    ))
}

pub(crate) fn level_legend(levels: &[String]) -> Vec<LegendItem> {
    levels
        .iter()
        .enumerate()
        .map(|(i, l)| LegendItem {
            label: if l.is_empty() {
                "agency".into()
            } else {
                pretty_name(l)
            },
            colour: series(i),
            swatch: Swatch::Marker(Marker::nth(i)),
        })
        .collect()
}

pub(crate) const FREE_RIDING_X: &str =
    "Share of all coordination cost borne (%, square-root scale)";
pub(crate) const FREE_RIDING_Y: &str =
    "Share of all coordination benefit received (%, square-root scale)";
pub(crate) const FREE_RIDING_NOTE: &str = "Above the line: more benefit than cost (free riding). Below: \
more cost than benefit (hosts).";

fn free_riding(a: &Table, cx: &Ctx, b: &mut Built) {
    let Some(rows) = agency_totals(a) else {
        b.skip(
            "free_riding_agencies",
            "agencies.csv lacks coordination_cost or coordination_benefit",
        );
        return;
    };
    let levels = distinct(rows.iter().map(|r| &r.1));
    let Some((panel, idle)) = free_riding_panel(&rows, &levels) else {
        b.skip(
            "free_riding_agencies",
            "no agency bore coordination cost or received coordination benefit in this run",
        );
        return;
    };
    b.figures.push(Figure {
        name: "free_riding_agencies".into(),
        title: "Who bears the cost of coordination, and who benefits".into(),
        subtitle: format!(
            "{} {}Totals over the run · {}",
            FREE_RIDING_NOTE,
            if idle > 0 {
                format!(
                    "{idle} {} with neither sit{} unlabelled at the origin. ",
                    if idle == 1 { "agency" } else { "agencies" },
                    if idle == 1 { "s" } else { "" }
                )
            } else {
                String::new()
            },
            cx.about
        ),
        legend: level_legend(&levels),
        footer: "Data: agencies.csv, coordination_cost (k GBP: money, staff time valued, pool \
payments) and coordination_benefit (need met that mechanisms added within the agency's remit), \
summed over ticks; each as a share of the total over agencies."
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

/// Agencies in scenario order (from the manifest) restricted to `present`, then any others.
pub(crate) fn agency_order(manifest: Option<&Manifest>, present: &[String]) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    if let Some(serde_json::Value::Array(items)) = manifest.and_then(|m| m.value.get("agencies")) {
        for it in items {
            let name = it
                .get("agency")
                .or_else(|| it.get("name"))
                .and_then(|v| v.as_str())
                .or_else(|| it.as_str());
            if let Some(n) = name
                && present.iter().any(|p| p == n)
                && !order.iter().any(|o| o == n)
            {
                order.push(n.to_string());
            }
        }
    }
    for p in present {
        if !order.contains(p) {
            order.push(p.clone());
        }
    }
    order
}

/// A sender x receiver panel of `value` over `pairs` (sender, receiver, value).
pub(crate) fn dumping_panel(order: &[String], pairs: &[(String, String, f64)]) -> HeatPanel {
    let n = order.len();
    let mut values = vec![vec![f64::NAN; n]; n];
    for (s, r, v) in pairs {
        if let (Some(i), Some(j)) = (
            order.iter().position(|o| o == s),
            order.iter().position(|o| o == r),
        ) {
            values[i][j] = if values[i][j].is_nan() {
                *v
            } else {
                values[i][j] + v
            };
        }
    }
    HeatPanel {
        title: None,
        x_cats: order.iter().map(|s| pretty_name(s)).collect(),
        y_cats: order.iter().map(|s| pretty_name(s)).collect(),
        values,
    }
}

pub(crate) fn empty_cell_legend() -> LegendItem {
    LegendItem {
        label: "no referrals between the pair".into(),
        colour: super::style::EMPTY_CELL,
        swatch: Swatch::Cell,
    }
}

fn dumping_matrix(d: &Table, manifest: Option<&Manifest>, cx: &Ctx, b: &mut Built) {
    let (Some(s), Some(r), Some(v)) = (
        d.text_ref("sender"),
        d.text_ref("receiver"),
        d.num("dumped_referrals"),
    ) else {
        return;
    };
    if d.n_rows() == 0 {
        b.skip(
            "dumping_matrix",
            "dumping.csv has no rows: no referrals in the run",
        );
        return;
    }
    let present = distinct(s.iter().chain(r.iter()));
    let order = agency_order(manifest, &present);
    let pairs: Vec<(String, String, f64)> = (0..d.n_rows())
        .map(|i| (s[i].clone(), r[i].clone(), v[i]))
        .collect();
    let total: f64 = v.iter().filter(|x| x.is_finite()).sum();
    let refs: f64 = d
        .num("referrals")
        .map(|x| x.iter().filter(|x| x.is_finite()).sum())
        .unwrap_or(f64::NAN);
    let share = if refs > 0.0 {
        format!(
            " of {} referrals ({:.0}%)",
            fmt_num(refs, 0),
            total / refs * 100.0
        )
    } else {
        String::new()
    };
    b.figures.push(Figure {
        name: "dumping_matrix".into(),
        title: "Dumping: who passes cases to whom".into(),
        subtitle: format!(
            "Dumped referrals, run totals: {}{share} · rows send, columns receive · {}",
            fmt_num(total, 0),
            cx.about
        ),
        legend: vec![empty_cell_legend()],
        footer: "Data: dumping.csv. A referral counts as dumping when the receiver fits the case \
no better than the sender or lacks the capacity to serve it now."
            .into(),
        body: Body::Heatmap(HeatmapChart {
            panels: vec![dumping_panel(&order, &pairs)],
            x_label: "Receiving agency".into(),
            y_label: "Sending agency".into(),
            colour_label: "Dumped referrals (count, run total)".into(),
            reverse: true,
            annotate: true,
            decimals: 0,
            range: None,
        }),
    });
}

fn run_tables(
    ticks: Option<&Table>,
    groups: Option<&Table>,
    agencies: Option<&Table>,
    dumping: Option<&Table>,
    opts: &PlotOptions,
) -> Vec<HtmlTable> {
    let mut out = Vec::new();
    if let Some(t) = ticks {
        let mut rows = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for o in &opts.observables {
            names.push(o.clone());
            if o == "share_need_met_multi" {
                names.push("share_need_met_single".into());
            }
        }
        for name in &names {
            let values = if FELL_THROUGH_ALIASES.contains(&name.as_str()) {
                fell_through_share(t)
            } else {
                t.num(name).map(|v| v.to_vec())
            };
            let Some(v) = values else { continue };
            let l = obs_label(name);
            let fin: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            let d = l.decimals();
            let f = |x: f64| fmt_num(x * l.scale, d);
            let mean = if fin.is_empty() {
                f64::NAN
            } else {
                fin.iter().sum::<f64>() / fin.len() as f64
            };
            let (mn, mx) = fin
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |a, &x| {
                    (a.0.min(x), a.1.max(x))
                });
            rows.push(vec![
                l.name.clone(),
                name.clone(),
                l.unit.clone(),
                f(mean),
                f(*v.first().unwrap_or(&f64::NAN)),
                f(*v.last().unwrap_or(&f64::NAN)),
                if fin.is_empty() { "NA".into() } else { f(mn) },
                if fin.is_empty() { "NA".into() } else { f(mx) },
            ]);
        }
        out.push(HtmlTable {
            title: "Key observables".into(),
            note: "From ticks.csv. Mean over ticks with a defined value; shares in percent.".into(),
            header: [
                "observable",
                "column",
                "unit",
                "mean over ticks",
                "first tick",
                "final tick",
                "min",
                "max",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        });
    }
    if let Some(g) = groups
        && let (Some(group), Some(needs), Some(need), Some(met)) = (
            g.text_ref("group"),
            g.text_ref("needs"),
            g.num("need"),
            g.num("need_met"),
        )
    {
        let col = |n: &str| g.num(n);
        let (arr, fell, refs) = (col("arrivals"), col("fell_through"), col("referrals"));
        let mut keys: Vec<String> = Vec::new();
        let mut acc: Vec<[f64; 5]> = Vec::new();
        for r in 0..g.n_rows() {
            let key = if needs[r] == "all" {
                pretty_name(&group[r])
            } else if group[r] == "all" {
                match needs_class(&needs[r]) {
                    Some(c) => format!("all groups, {}", NEEDS_CLASSES[c]),
                    None => continue,
                }
            } else {
                continue;
            };
            let i = match keys.iter().position(|k| *k == key) {
                Some(i) => i,
                None => {
                    keys.push(key);
                    acc.push([0.0; 5]);
                    acc.len() - 1
                }
            };
            let add = |v: Option<&[f64]>| v.map(|v| v[r]).filter(|x| x.is_finite()).unwrap_or(0.0);
            acc[i][0] += add(arr);
            acc[i][1] += add(Some(need));
            acc[i][2] += add(Some(met));
            acc[i][3] += add(fell);
            acc[i][4] += add(refs);
        }
        let pct = |a: f64, b: f64| {
            if b > 0.0 {
                fmt_num(a / b * 100.0, 1)
            } else {
                "NA".into()
            }
        };
        let rows = keys
            .iter()
            .zip(&acc)
            .map(|(k, a)| {
                vec![
                    k.clone(),
                    fmt_num(a[0], 0),
                    pct(a[2], a[1]),
                    pct(a[3], a[0]),
                    if a[0] > 0.0 {
                        fmt_num(a[4] / a[0], 2)
                    } else {
                        "NA".into()
                    },
                ]
            })
            .collect();
        out.push(HtmlTable {
            title: "Client groups and number of needs (run totals)".into(),
            note: "From groups.csv and needs.csv, summed over ticks.".into(),
            header: [
                "client group / number of needs",
                "cases arrived",
                "need met (% of need)",
                "fell through (% of cases)",
                "referrals per case",
            ]
            .map(String::from)
            .to_vec(),
            rows,
        });
    }
    if let Some(a) = agencies
        && let Some(rows) = agency_totals(a)
    {
        let tc: f64 = rows.iter().map(|r| r.2).sum();
        let tb: f64 = rows.iter().map(|r| r.3).sum();
        let mut rows: Vec<_> = rows
            .into_iter()
            .filter(|r| r.2 > 0.0 || r.3 > 0.0)
            .collect();
        rows.sort_by(|x, y| y.2.total_cmp(&x.2));
        out.push(HtmlTable {
            title: "Coordination cost and benefit by agency (run totals)".into(),
            note: "From agencies.csv. Agencies with neither cost nor benefit are left out.".into(),
            header: [
                "agency",
                "level",
                "coordination cost (k GBP)",
                "share of cost (%)",
                "coordination benefit (need units x severity)",
                "share of benefit (%)",
            ]
            .map(String::from)
            .to_vec(),
            rows: rows
                .iter()
                .map(|r| {
                    vec![
                        pretty_name(&r.0),
                        pretty_name(&r.1),
                        fmt_num(r.2, 1),
                        if tc > 0.0 {
                            fmt_num(r.2 / tc * 100.0, 1)
                        } else {
                            "NA".into()
                        },
                        fmt_num(r.3, 1),
                        if tb > 0.0 {
                            fmt_num(r.3 / tb * 100.0, 1)
                        } else {
                            "NA".into()
                        },
                    ]
                })
                .collect(),
        });
    }
    if let Some(d) = dumping
        && let (Some(s), Some(r), Some(v)) = (
            d.text_ref("sender"),
            d.text_ref("receiver"),
            d.num("dumped_referrals"),
        )
    {
        let refs = d.num("referrals");
        let mut idx: Vec<usize> = (0..d.n_rows()).collect();
        idx.sort_by(|&i, &j| v[j].total_cmp(&v[i]).then(i.cmp(&j)));
        out.push(HtmlTable {
            title: "Largest dumping flows (run totals)".into(),
            note: "From dumping.csv: the ten sender-receiver pairs with the most dumped referrals."
                .into(),
            header: [
                "sender",
                "receiver",
                "referrals",
                "dumped referrals",
                "dumped (%)",
            ]
            .map(String::from)
            .to_vec(),
            rows: idx
                .iter()
                .take(10)
                .map(|&i| {
                    let n = refs.map(|x| x[i]).unwrap_or(f64::NAN);
                    vec![
                        pretty_name(&s[i]),
                        pretty_name(&r[i]),
                        fmt_num(n, 0),
                        fmt_num(v[i], 0),
                        if n > 0.0 {
                            fmt_num(v[i] / n * 100.0, 1)
                        } else {
                            "NA".into()
                        },
                    ]
                })
                .collect(),
        });
    }
    out
}
