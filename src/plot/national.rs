//! The chart of a national run (`localities.csv`): which localities join up and which do
//! not, against what they drew: each locality's run-mean coordination index (and need met)
//! against its behaviour mix, its arrivals and its budgets. The scatter shares one scale on
//! both axes, so the outcome is shown as a share (0 to 1) beside multipliers near 1.

use std::path::Path;

use super::draw::*;
use super::style::{register_fonts, series};
use super::{ChartFile, PlotError};

/// Draw `dir/plots/localities.png` and `.svg` from `dir/localities.csv`.
pub fn national_charts(dir: &Path) -> Result<Vec<ChartFile>, PlotError> {
    register_fonts()?;
    let path = dir.join("localities.csv");
    let mut rdr = csv::Reader::from_path(&path).map_err(|e| PlotError::Read {
        path: path.clone(),
        source: std::io::Error::other(e.to_string()),
    })?;
    let headers = rdr
        .headers()
        .map_err(|e| PlotError::Read {
            path: path.clone(),
            source: std::io::Error::other(e.to_string()),
        })?
        .clone();
    let col = |name: &str| -> Result<usize, PlotError> {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| PlotError::Header {
                path: path.clone(),
                missing: name.to_string(),
                expected: "locality,arrivals_multiplier,income_multiplier,bp_share,...".into(),
                found: headers.iter().collect::<Vec<_>>().join(","),
            })
    };
    let (cb, ca, ci, cc, cm) = (
        col("bp_share")?,
        col("arrivals_multiplier")?,
        col("income_multiplier")?,
        col("coordination_index")?,
        col("share_need_met")?,
    );
    let mut rows: Vec<[f64; 5]> = Vec::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| PlotError::Malformed {
            path: path.clone(),
            line: line as u64 + 2,
            message: e.to_string(),
        })?;
        let num = |c: usize| -> f64 { rec.get(c).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN) };
        rows.push([num(cb), num(ca), num(ci), num(cc), num(cm)]);
    }
    let plots = dir.join("plots");
    std::fs::create_dir_all(&plots).map_err(|source| PlotError::Write {
        path: plots.clone(),
        source,
    })?;
    let panel = |title: &str, x: usize, y: usize| ScatterPanel {
        title: Some(title.to_string()),
        points: rows
            .iter()
            .filter(|r| r[x].is_finite() && r[y].is_finite())
            .map(|r| ScatterPoint {
                x: r[x],
                y: r[y],
                label: None,
                colour: series(0),
                marker: Marker::Circle,
            })
            .collect(),
    };
    let mut out = Vec::new();
    for (name, y, what) in [
        (
            "localities_coordination",
            3,
            "Coordination index (share of multi-need cases served jointly)",
        ),
        ("localities_need_met", 4, "Share of need met"),
    ] {
        let mut panels = Vec::new();
        if rows.iter().any(|r| r[0].is_finite()) {
            panels.push(panel("against its share of bureaucratic politics", 0, y));
        }
        panels.push(panel("against its arrivals multiplier", 1, y));
        panels.push(panel("against its budget multiplier", 2, y));
        let fig = Figure {
            name: name.to_string(),
            title: format!(
                "Which localities join up: {} by locality",
                what.split(" (").next().unwrap_or(what)
            ),
            subtitle: format!(
                "{} localities of one national run, each point a locality's run mean, against what it drew",
                rows.len()
            ),
            legend: Vec::new(),
            footer: "From localities.csv (silos run on a scenario with [localities]).".into(),
            body: Body::Scatter(ScatterChart {
                panels,
                x_label: "The locality's draw (see each panel)".into(),
                y_label: what.to_string(),
                diagonal: None,
                sqrt: false,
            }),
        };
        out.push(super::write_figure(&plots, &fig)?);
    }
    Ok(out)
}
