//! The handout: `handout.html`, self-contained (charts inlined as base64 PNG), laid out to
//! print on one A4 page, or two with a lever (its baseline comparison is longer). Each chart
//! is printed at the width [`chart_width_mm`] gives and drawn for it, so its text prints at
//! 8 pt or more (tested in tests/teach.rs).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use super::narrate::{self, Cell, Context};
use super::record::{Arm, Span};
use super::{Lesson, PrintedChart};
use crate::output::{html_escape as esc, png_data_uri};

const CSS: &str = r#"
@page { size: A4; margin: 8mm 10mm; }
* { box-sizing: border-box; }
html { background: #fff; }
body { font-family: "DejaVu Sans", "Segoe UI", Arial, sans-serif; color: #111; font-size: 8.6pt;
  line-height: 1.3; width: 190mm; margin: 6mm auto; }
h1 { font-size: 15pt; margin: 0 0 0.8mm; }
h2 { font-size: 9.5pt; margin: 2mm 0 0.8mm; color: #0b4f8a; }
p { margin: 0 0 1.2mm; }
.meta { color: #555; font-size: 7.5pt; margin-bottom: 1.5mm; }
.setup { font-size: 8.2pt; }
img { display: block; width: 100%; height: auto; }
img.main { margin: 1mm 0 0; }
.cols { display: grid; grid-template-columns: 55fr 45fr; column-gap: 5mm; align-items: start; }
table { border-collapse: collapse; width: 100%; font-size: 7.8pt; }
th, td { padding: 0.35mm 1.2mm; border-bottom: 0.3mm solid #ddd; vertical-align: top; }
th { text-align: right; font-weight: bold; color: #333; border-bottom: 0.4mm solid #888; }
th:first-child, td:first-child { text-align: left; }
td { text-align: right; }
td:first-child { white-space: nowrap; }
td.sub { padding-left: 3.5mm; color: #333; }
td.sub2 { padding-left: 6mm; color: #333; }
.punch p { font-size: 8.3pt; }
ol { margin: 0; padding-left: 5mm; font-size: 8.2pt; }
li { margin-bottom: 0.6mm; }
footer { margin-top: 1.5mm; font-size: 7pt; color: #555; border-top: 0.3mm solid #ccc; padding-top: 1mm; }
code { font-family: "DejaVu Sans Mono", Consolas, monospace; font-size: 7.2pt; white-space: nowrap; }
body.lever .cols { grid-template-columns: 62fr 38fr; }
body.lever table { font-size: 7.3pt; }
body.lever td:first-child { white-space: normal; }
table.fixed { table-layout: fixed; }
body.lever .punch p { font-size: 8pt; margin-bottom: 0.9mm; }
@media print {
  body { margin: 0 auto; }
  h2 { break-after: avoid; }
  .cols, table, img { break-inside: avoid; }
}
"#;

/// The handout's text width on A4 (210 mm less 10 mm margins each side), in millimetres.
#[cfg(feature = "plots")]
const PAGE_MM: f64 = 190.0;
/// The gap between the two columns, in millimetres (`.cols` column-gap).
#[cfg(feature = "plots")]
const GAP_MM: f64 = 5.0;

/// How wide lesson chart `index` prints, in millimetres: the comparison (0) spans the page;
/// the key number by quarter (1) fills the right-hand column, 45% of the columns (38% on a
/// lever handout, as `.cols` sets). The charts are drawn, and tested, for these widths.
#[cfg(feature = "plots")]
pub(crate) fn chart_width_mm(index: usize, lever: bool) -> f64 {
    match index {
        0 => PAGE_MM,
        _ => (PAGE_MM - GAP_MM) * if lever { 0.38 } else { 0.45 },
    }
}

fn img(c: &PrintedChart, alt: &str, class: &str) -> std::io::Result<String> {
    let bytes = std::fs::read(&c.path)?;
    Ok(format!(
        "<img class=\"{class}\" style=\"width: {:.1}mm\" alt=\"{}\" src=\"{}\">\n",
        c.width_mm,
        esc(alt),
        png_data_uri(&bytes)
    ))
}

/// Row labels are indented with spaces in the narration; in HTML, with a class.
fn indent_class(label: &str) -> &'static str {
    let n = label.len() - label.trim_start().len();
    match n {
        0 | 1 => "",
        2 | 3 => " class=\"sub\"",
        _ => " class=\"sub2\"",
    }
}

fn cell_html(c: &Cell) -> String {
    esc(c.text())
}

fn command(l: &Lesson, ctx: &Context, overrides: &[String]) -> String {
    let mut c = format!("silos teach {} --seed {}", l.name, ctx.seed);
    for o in overrides {
        c.push_str(&format!(" --set '{o}'"));
    }
    c
}

/// Write `dir/handout.html`; returns its path.
pub(crate) fn write(
    ctx: &Context,
    dir: &Path,
    s: [&Span; 2],
    last: Option<[&Span; 2]>,
    base: Option<[&Span; 2]>,
    overrides: &[String],
    charts: &[PrintedChart],
) -> std::io::Result<PathBuf> {
    let l = ctx.lesson;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body{}>\n",
        esc(l.title),
        if base.is_some() {
            " class=\"lever\""
        } else {
            ""
        }
    );
    let _ = writeln!(h, "<h1>{}</h1>", esc(l.title));
    let lever = if overrides.is_empty() {
        String::new()
    } else {
        let sets: Vec<String> = overrides.iter().map(|o| format!("--set {o}")).collect();
        format!(" · lever: <code>{}</code>", esc(&sets.join(" ")))
    };
    let _ = writeln!(
        h,
        "<p class=\"meta\">A silos classroom lesson · {} months · seed {}{lever} · arena <code>{}</code></p>",
        s[0].ticks(),
        ctx.seed,
        esc(&ctx.path)
    );

    // The arena in two sentences.
    let agencies: Vec<String> = ctx.agencies.iter().map(|a| esc(&a.label)).collect();
    let groups: Vec<String> = ctx
        .groups
        .iter()
        .map(|g| {
            format!(
                "{} (about {} a month, {} of the need)",
                esc(&g.label.to_lowercase()),
                g.arrivals.round(),
                narrate::pct(g.need_share)
            )
        })
        .collect();
    let mechs: Vec<String> = ctx.mechs.iter().map(|m| esc(&m.label)).collect();
    let _ = writeln!(
        h,
        "<p class=\"setup\"><b>The town.</b> {} agencies: {}. Clients: {}.{} \
Two runs with the same people arriving: every agency following <b>rational \
administration</b> (the shared good), then <b>bureaucratic politics</b> (its own budget, \
targets and turf too).</p>",
        ctx.agencies.len(),
        agencies.join(", "),
        groups.join("; "),
        if mechs.is_empty() {
            String::new()
        } else {
            format!(" Shared arrangements: {}.", mechs.join(", "))
        }
    );

    if let Some(c) = charts.first() {
        h.push_str(&img(c, l.title, "main")?);
    }

    h.push_str("<div class=\"cols\">\n<div>\n");
    // Key numbers.
    match base {
        None => {
            h.push_str(
                "<h2>Key numbers, whole run</h2>\n<table>\n<tr><th></th>\
<th>Rational administration</th><th>Bureaucratic politics</th></tr>\n",
            );
            for r in narrate::rows(ctx, s, false, false) {
                let _ = writeln!(
                    h,
                    "<tr><td{}>{}</td><td>{}</td><td>{}</td></tr>",
                    indent_class(&r.label),
                    esc(r.label.trim()),
                    cell_html(&r.cells[0]),
                    cell_html(&r.cells[1])
                );
            }
        }
        Some(b) => {
            let c = narrate::lever_comparison(ctx, s, b, overrides);
            h.push_str(
                "<h2>Key numbers, whole run: baseline and with the lever</h2>\n<table class=\"fixed\">\n\
<colgroup><col style=\"width:30%\"><col><col><col><col></colgroup>\n\
<tr><th></th><th colspan=\"2\">Rational admin.</th><th colspan=\"2\">Bureaucratic politics</th></tr>\n\
<tr><th></th><th>baseline</th><th>lever</th><th>baseline</th><th>lever</th></tr>\n",
            );
            for (label, ra, bp) in &c.rows {
                let _ = writeln!(
                    h,
                    "<tr><td{}>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    indent_class(label),
                    esc(label.trim()),
                    cell_html(&ra[0]),
                    cell_html(&ra[1]),
                    cell_html(&bp[0]),
                    cell_html(&bp[1])
                );
            }
        }
    }
    h.push_str("</table>\n</div>\n<div>\n");
    if let Some(c) = charts.get(1) {
        h.push_str(&img(c, "The key number by quarter", "time")?);
    }
    h.push_str("<h2>Questions for the class</h2>\n<ol>\n");
    for q in l.questions {
        let _ = writeln!(h, "<li>{}</li>", esc(q));
    }
    h.push_str("</ol>\n</div>\n</div>\n<div class=\"punch\">\n");
    h.push_str("<h2>What the numbers show in this run</h2>\n");
    for p in narrate::punchlines(ctx, s, last) {
        let _ = writeln!(h, "<p>{}</p>", esc(&p));
    }
    if let Some(b) = base {
        let c = narrate::lever_comparison(ctx, s, b, overrides);
        h.push_str("<h2>What the lever changed</h2>\n");
        for p in &c.short {
            let _ = writeln!(h, "<p>{}</p>", esc(p));
        }
    }
    h.push_str("</div>\n");
    let _ = writeln!(
        h,
        "<footer>One seed of a small made-up arena: it illustrates the two accounts, it is not \
evidence about real agencies. Run it yourself: <code>{}</code> (add <code>--step</code> to pause \
each {}). Numbers are from the runs in <code>{}/</code> and <code>{}/</code> \
(CSV). Lesson plan: <code>docs/teaching.md</code>. silos {}.</footer>",
        esc(&command(l, ctx, overrides)),
        narrate::period_word(),
        Arm::Ra.dir(),
        Arm::Bp.dir(),
        env!("CARGO_PKG_VERSION")
    );
    h.push_str("</body>\n</html>\n");
    crate::output::write_atomic(dir, "handout.html", h.as_bytes())?;
    Ok(dir.join("handout.html"))
}
