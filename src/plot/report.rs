//! `report.html`: one self-contained page (no external files, scripts or fonts; the PNG
//! charts are inlined as base64 data URIs) with the settings from `manifest.json`, the
//! summary tables, every chart and the list of charts not drawn.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Built, ChartFile, OutputKind, PlotError};
use crate::output::{html_escape as esc, png_data_uri};

/// What the report says besides the charts.
#[derive(Default)]
pub struct Content {
    /// Page heading, e.g. "silos run: homelessness, seed 20090907".
    pub title: String,
    /// A sentence or two on what the page shows.
    pub intro: String,
    /// The parsed manifest, shown as the settings.
    pub manifest: Option<Value>,
    pub tables: Vec<Table>,
}

/// A summary table.
pub struct Table {
    pub title: String,
    pub note: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(String::new()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// Any JSON value as HTML: scalars as text, lists of scalars comma-separated, objects as
/// key/value tables, lists of objects as tables with one column per key.
fn json_html(v: &Value, out: &mut String) {
    if let Some(s) = scalar(v) {
        out.push_str(&esc(&s));
        return;
    }
    match v {
        Value::Array(items) => {
            if items.iter().all(|i| scalar(i).is_some()) {
                let parts: Vec<String> = items.iter().filter_map(scalar).collect();
                out.push_str(&esc(&parts.join(", ")));
            } else if items.iter().all(Value::is_object) {
                let mut keys: Vec<&String> = Vec::new();
                for i in items {
                    for k in i.as_object().into_iter().flat_map(|o| o.keys()) {
                        if !keys.contains(&k) {
                            keys.push(k);
                        }
                    }
                }
                out.push_str("<table class=\"inner\"><tr>");
                for k in &keys {
                    let _ = write!(out, "<th>{}</th>", esc(k));
                }
                out.push_str("</tr>");
                for i in items {
                    out.push_str("<tr>");
                    for k in &keys {
                        out.push_str("<td>");
                        if let Some(x) = i.get(k.as_str()) {
                            json_html(x, out);
                        }
                        out.push_str("</td>");
                    }
                    out.push_str("</tr>");
                }
                out.push_str("</table>");
            } else {
                for (n, i) in items.iter().enumerate() {
                    if n > 0 {
                        out.push_str("<br>");
                    }
                    json_html(i, out);
                }
            }
        }
        Value::Object(map) => {
            out.push_str("<table class=\"inner kv\">");
            for (k, x) in map {
                let _ = write!(out, "<tr><th>{}</th><td>", esc(k));
                json_html(x, out);
                out.push_str("</td></tr>");
            }
            out.push_str("</table>");
        }
        _ => {}
    }
}

fn looks_numeric(s: &str) -> bool {
    let t = s.trim_start_matches(['-', '+']).replace([',', '%'], "");
    !t.is_empty() && (t.parse::<f64>().is_ok() || t == "NA")
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Verdana,Arial,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#111;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{margin-top:2em;border-bottom:2px solid #ddd;padding-bottom:.2em}
h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:.92em}
th,td{border:1px solid #ccc;padding:.25em .6em;vertical-align:top;text-align:left}
th{background:#f2f2f2}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.inner{margin:0;font-size:.95em}table.kv th{background:#fafafa}
figure{margin:1.5em 0}figure img{width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.9em;color:#444}.note{color:#444;font-size:.9em}
nav ol{columns:2;font-size:.92em}.wide{overflow-x:auto}code{background:#f4f4f4;padding:0 .2em}";

/// Write `dir/report.html` and return its path.
pub fn write(
    dir: &Path,
    kind: OutputKind,
    built: &Built,
    charts: &[ChartFile],
) -> Result<PathBuf, PlotError> {
    let c = &built.report;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
<title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(&c.title)
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(&c.title));
    let _ = writeln!(h, "<p>{}</p>", esc(&c.intro));
    h.push_str("<nav><ol>");
    h.push_str("<li><a href=\"#settings\">Settings</a></li>");
    for (i, t) in c.tables.iter().enumerate() {
        let _ = write!(h, "<li><a href=\"#table-{i}\">{}</a></li>", esc(&t.title));
    }
    for ch in charts {
        let _ = write!(
            h,
            "<li><a href=\"#{}\">{}</a></li>",
            esc(&ch.name),
            esc(&ch.title)
        );
    }
    if !built.skipped.is_empty() {
        h.push_str("<li><a href=\"#skipped\">Charts not drawn</a></li>");
    }
    h.push_str("</ol></nav>\n");

    let _ = writeln!(
        h,
        "<h2 id=\"settings\">Settings</h2><p class=\"note\">From <code>manifest.json</code> of this {kind}.</p>"
    );
    match &c.manifest {
        Some(m) => json_html(m, &mut h),
        None => h.push_str("<p>No <code>manifest.json</code> in this directory.</p>"),
    }
    h.push('\n');

    for (i, t) in c.tables.iter().enumerate() {
        let _ = writeln!(h, "<h2 id=\"table-{i}\">{}</h2>", esc(&t.title));
        if !t.note.is_empty() {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(&t.note));
        }
        h.push_str("<div class=\"wide\"><table><tr>");
        for col in &t.header {
            let _ = write!(h, "<th>{}</th>", esc(col));
        }
        h.push_str("</tr>\n");
        for row in &t.rows {
            h.push_str("<tr>");
            for cell in row {
                let class = if looks_numeric(cell) {
                    " class=\"n\""
                } else {
                    ""
                };
                let _ = write!(h, "<td{class}>{}</td>", esc(cell));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table></div>\n");
    }

    h.push_str("<h2>Charts</h2>\n");
    if charts.is_empty() {
        h.push_str("<p>No chart could be drawn from these files.</p>\n");
    }
    for ch in charts {
        let bytes = std::fs::read(&ch.png).map_err(|source| PlotError::Read {
            path: ch.png.clone(),
            source,
        })?;
        let file = |p: &Path| {
            p.file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let _ = writeln!(
            h,
            "<figure id=\"{id}\"><h3>{t}</h3><img alt=\"{t}\" src=\"{uri}\">\
<figcaption>Files: <a href=\"plots/{svg}\">plots/{svg}</a> (vector), <a href=\"plots/{png}\">plots/{png}</a></figcaption></figure>",
            id = esc(&ch.name),
            t = esc(&ch.title),
            uri = png_data_uri(&bytes),
            svg = esc(&file(&ch.svg)),
            png = esc(&file(&ch.png)),
        );
    }
    if !built.skipped.is_empty() {
        h.push_str("<h2 id=\"skipped\">Charts not drawn</h2><ul>\n");
        for s in &built.skipped {
            let _ = writeln!(
                h,
                "<li><code>{}</code>: {}</li>",
                esc(&s.chart),
                esc(&s.reason)
            );
        }
        h.push_str("</ul>\n");
    }
    let _ = writeln!(
        h,
        "<p class=\"note\">Drawn by silos {} from the files in this directory.</p></body></html>",
        env!("CARGO_PKG_VERSION")
    );
    crate::output::write_atomic(dir, "report.html", h.as_bytes()).map_err(|source| {
        PlotError::Write {
            path: dir.join("report.html"),
            source,
        }
    })?;
    Ok(dir.join("report.html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_the_page() {
        let dir = tempfile::tempdir().unwrap();
        let mut built = Built::default();
        built.report.title = "run of <a&b>".into();
        built.report.tables.push(Table {
            title: "agencies".into(),
            note: String::new(),
            header: vec!["agency".into()],
            rows: vec![vec!["<a&b>".into()]],
        });
        built.skip("x", "agency \"<a&b>\" has no rows");
        let path = write(dir.path(), OutputKind::Run, &built, &[]).unwrap();
        let h = std::fs::read_to_string(path).unwrap();
        assert!(h.contains("<title>run of &lt;a&amp;b&gt;</title>"));
        assert!(h.contains("<td>&lt;a&amp;b&gt;</td>"));
        assert!(h.contains("agency &quot;&lt;a&amp;b&gt;&quot; has no rows"));
        assert!(!h.contains("<a&b>"));
    }
}
