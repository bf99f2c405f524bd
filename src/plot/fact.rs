//! The chart of one validation fact (`silos validate`): the fact's measure over time in its
//! arm and in its reference, each with a 95% band, and the window the test looks at shaded;
//! beside it, the same with the fact's mechanism switched off (its ablation).

use std::path::Path;

use super::draw::*;
use super::labels::obs_label;
use super::style::{register_fonts, series};
use super::{ChartFile, PlotError};
use crate::validate::FactResult;

/// Draw `dir/<fact id>.png` and `.svg` for one fact's result; `reps` is the number of
/// replicate seeds per arm behind each band.
pub fn fact_chart(r: &FactResult, dir: &Path, reps: u32) -> Result<ChartFile, PlotError> {
    register_fonts()?;
    std::fs::create_dir_all(dir).map_err(|source| PlotError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let f = &r.fact;
    let (label, y_bounds) = match (&f.measure, &f.minus, &f.agency_measure) {
        (Some(m), None, _) => {
            let l = obs_label(m);
            (l.axis(), None)
        }
        (Some(m), Some(x), _) => (format!("{m} minus {x} (as in the CSV columns)"), None),
        (None, _, Some(a)) => (format!("Slope of {a} on power (per unit of power)"), None),
        _ => ("Measure (as in the fact file)".to_string(), None),
    };
    // Trajectory values are in CSV units; a single share-valued measure is shown in percent.
    let scale = match (&f.measure, &f.minus) {
        (Some(m), None) => obs_label(m).scale,
        _ => 1.0,
    };
    let panel = |traj: &[[f64; 7]], title: Option<String>| -> LinePanel {
        let col = |k: usize| -> Vec<(f64, f64)> {
            traj.iter().map(|row| (row[0], row[k] * scale)).collect()
        };
        let band = |k: usize| -> Vec<(f64, f64, f64)> {
            traj.iter()
                .map(|row| (row[0], row[k] * scale, row[k + 1] * scale))
                .collect()
        };
        let arm = Series {
            colour: series(0),
            points: col(1),
            band: band(2),
            dashed: false,
            markers: false,
        };
        let reference = Series {
            colour: series(1),
            points: col(4),
            band: band(5),
            dashed: true,
            markers: false,
        };
        LinePanel {
            title,
            series: vec![reference, arm],
        }
    };
    let mut panels = Vec::new();
    match &r.ablated_trajectory {
        Some(ab) => {
            panels.push(panel(&r.trajectory, Some("Full model".into())));
            panels.push(panel(ab, Some(format!("Ablated: {}", f.ablation_text()))));
        }
        None => panels.push(panel(&r.trajectory, None)),
    }
    let ablated = match &r.ablated {
        Some(a) => format!(
            " · ablated {} [{}, {}]: {}",
            fmt_num(a.mean, 3),
            fmt_num(a.ci.0, 3),
            fmt_num(a.ci.1, 3),
            r.explained.as_str()
        ),
        None => String::new(),
    };
    let fig = Figure {
        name: sanitize(&f.id),
        title: format!("{}: {}", f.id, f.statement),
        subtitle: format!(
            "{} · SESOI {} · full {} [{}, {}]: {}{ablated} · n\u{a0}=\u{a0}{reps} seeds per arm",
            r.what(),
            fmt_num(f.sesoi, 3),
            fmt_num(r.full.mean, 3),
            fmt_num(r.full.ci.0, 3),
            fmt_num(r.full.ci.1, 3),
            r.verdict.as_str()
        ),
        legend: vec![
            LegendItem {
                label: format!("arm {} (mean, 95% band)", f.arm),
                colour: series(0),
                swatch: Swatch::LineBand,
            },
            LegendItem {
                label: format!("reference {} (mean, 95% band)", f.reference),
                colour: series(1),
                swatch: Swatch::DashedBand,
            },
        ],
        footer: format!(
            "Fact {} from {}; experiment {}. Shaded: the ticks the test uses.",
            f.id, f.source, f.experiment
        ),
        body: Body::Lines(LineChart {
            panels,
            x_label: "Tick (month)".into(),
            y_label: label,
            y_zero: false,
            h_line: None,
            x_integer: true,
            y_bounds,
            x_window: Some((
                f.window[0] as f64,
                f.window[1] as f64,
                "window tested".into(),
            )),
        }),
    };
    super::write_figure(dir, &fig)
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
