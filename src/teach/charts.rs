//! The lesson's charts, as PNG for slides and for the handout: one comparing the two runs
//! over the whole run (by agency or by client group), one following the lesson's key number
//! quarter by quarter (with the baseline dashed when a lever was pulled).
//!
//! Drawn directly with plotters in pixel coordinates. Text goes through the chart module's
//! glyph placement (`crate::plot::text`), which corrects plotters'
//! bitmap text, and uses the embedded DejaVu Sans, so no system fonts are needed.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::Kind;
use super::narrate::Context;
use super::record::{Arm, Span};
use crate::plot::text::{BitmapMode, draw_str};

const FONT: &str = "sans-serif";
const BLUE: RGBColor = RGBColor(0x00, 0x72, 0xB2);
const VERMILION: RGBColor = RGBColor(0xD5, 0x5E, 0x00);
const GREY: RGBColor = RGBColor(0x9A, 0x9A, 0x9A);
const TEXT_GREY: RGBColor = RGBColor(0x4D, 0x4D, 0x4D);
const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);

type R<T> = Result<T, String>;

/// Pixels per printed millimetre of the chart that follows the key number by quarter: its
/// PNG is drawn at its printed width on the handout times this (about 180 dpi), so its
/// 24-pixel text prints at about 10 pt.
const QUARTER_PX_PER_MM: f64 = 7.0;

thread_local! {
    /// The smallest text drawn since the last [`save`] began, in pixels (em size).
    static SMALLEST_TEXT: Cell<f64> = const { Cell::new(f64::INFINITY) };
}

fn e<E: std::fmt::Display>(x: E) -> String {
    x.to_string()
}

fn register_fonts() -> R<()> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "DejaVu Sans regular is not a readable font".to_string())?;
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| "DejaVu Sans bold is not a readable font".to_string())?;
        Ok(())
    })
    .clone()
}

fn font(px: f64, bold: bool, colour: RGBColor) -> TextStyle<'static> {
    let style = if bold {
        FontStyle::Bold
    } else {
        FontStyle::Normal
    };
    TextStyle {
        font: (FONT, px, style).into_font(),
        color: colour.to_backend_color(),
        pos: Pos::new(HPos::Left, VPos::Top),
    }
}

fn text_w<DB: DrawingBackend>(a: &DrawingArea<DB, Shift>, s: &str, st: &TextStyle) -> i32 {
    a.estimate_text_size(s, st).map(|x| x.0 as i32).unwrap_or(0)
}

fn put<DB: DrawingBackend>(
    a: &DrawingArea<DB, Shift>,
    s: &str,
    st: &TextStyle,
    h: HPos,
    v: VPos,
    at: (i32, i32),
) -> R<()> {
    if !s.is_empty() {
        let px = st.font.get_size();
        SMALLEST_TEXT.with(|m| m.set(m.get().min(px)));
    }
    draw_str(a, s, &st.pos(Pos::new(h, v)), at)
}

/// Shorten `s` with an ellipsis to fit `w` pixels.
fn shorten<DB: DrawingBackend>(
    a: &DrawingArea<DB, Shift>,
    s: &str,
    st: &TextStyle,
    w: i32,
) -> String {
    if text_w(a, s, st) <= w {
        return s.to_string();
    }
    let mut t: Vec<char> = s.chars().collect();
    while !t.is_empty() {
        t.pop();
        let c: String = t.iter().collect::<String>() + "…";
        if text_w(a, &c, st) <= w {
            return c;
        }
    }
    String::new()
}

/// A round step for about `n` gridlines up to `hi` (the chart module's rule).
fn nice_step(hi: f64, n: f64) -> f64 {
    crate::plot::draw::nice_step(0.0, hi, n)
}

fn fmt_tick(v: f64, step: f64) -> String {
    if step >= 1.0 {
        format!("{v:.0}")
    } else if step >= 0.1 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

struct LegendItem {
    label: String,
    colour: RGBColor,
    dashed: bool,
    bar: bool,
}

/// Title, subtitle and legend at the top; returns the y where the body starts.
fn header<DB: DrawingBackend>(
    a: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
    legend: &[LegendItem],
) -> R<i32> {
    let (w, _) = a.dim_in_pixel();
    let w = w as i32;
    put(
        a,
        title,
        &font(36.0, true, BLACK),
        HPos::Left,
        VPos::Top,
        (36, 22),
    )?;
    put(
        a,
        subtitle,
        &font(24.0, false, TEXT_GREY),
        HPos::Left,
        VPos::Top,
        (36, 70),
    )?;
    let st = font(24.0, false, BLACK);
    let mut x = 36;
    let y = 112;
    for it in legend {
        let tw = text_w(a, &it.label, &st);
        if x + 56 + tw > w - 36 {
            break;
        }
        if it.bar {
            a.draw(&Rectangle::new(
                [(x, y + 4), (x + 40, y + 24)],
                it.colour.filled(),
            ))
            .map_err(e)?;
        } else {
            let style = it.colour.stroke_width(5);
            if it.dashed {
                for k in 0..3 {
                    a.draw(&PathElement::new(
                        vec![(x + k * 15, y + 14), (x + k * 15 + 9, y + 14)],
                        style,
                    ))
                    .map_err(e)?;
                }
            } else {
                a.draw(&PathElement::new(
                    vec![(x, y + 14), (x + 40, y + 14)],
                    style,
                ))
                .map_err(e)?;
            }
        }
        put(
            a,
            &it.label,
            &st,
            HPos::Left,
            VPos::Center,
            (x + 50, y + 14),
        )?;
        x += 50 + tw + 40;
    }
    Ok(y + 46)
}

/// A bar series of a panel: values, and optionally a darker part of each bar.
struct Bars {
    colour: RGBColor,
    values: Vec<f64>,
    part: Option<(RGBColor, Vec<f64>)>,
}

/// Horizontal grouped bars, one panel.
#[allow(clippy::too_many_arguments)]
fn bar_panel<DB: DrawingBackend>(
    a: &DrawingArea<DB, Shift>,
    title: &str,
    categories: &[String],
    series: &[Bars],
    hi: f64,
    suffix: &str,
    decimals: usize,
    axis: &str,
) -> R<()> {
    let (w, h) = a.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    put(
        a,
        title,
        &font(28.0, true, BLACK),
        HPos::Left,
        VPos::Top,
        (0, 0),
    )?;
    let lab = font(24.0, false, BLACK);
    let label_w = categories
        .iter()
        .map(|c| text_w(a, c, &lab))
        .max()
        .unwrap_or(0)
        .min(w * 2 / 5);
    let x0 = label_w + 16;
    let x1 = w - 90;
    let top = 46;
    let bottom = h - 64;
    let k = categories.len().max(1) as i32;
    let band = (bottom - top) / k;
    let step = nice_step(hi, 4.0);
    let tick = font(24.0, false, TEXT_GREY);
    let xv = |v: f64| x0 + ((v / hi).clamp(0.0, 1.0) * (x1 - x0) as f64) as i32;
    let mut t = 0.0;
    while t <= hi + 1e-9 {
        let x = xv(t);
        a.draw(&PathElement::new(
            vec![(x, top), (x, bottom)],
            GRID.stroke_width(2),
        ))
        .map_err(e)?;
        put(
            a,
            &fmt_tick(t, step),
            &tick,
            HPos::Center,
            VPos::Top,
            (x, bottom + 6),
        )?;
        t += step;
    }
    put(
        a,
        axis,
        &tick,
        HPos::Center,
        VPos::Top,
        ((x0 + x1) / 2, bottom + 34),
    )?;
    let m = series.len().max(1) as i32;
    let bar_h = ((band - 14) / m).clamp(8, 40);
    let vst = font(24.0, false, BLACK);
    for (i, c) in categories.iter().enumerate() {
        let yc = top + band * i as i32 + band / 2;
        let c = shorten(a, c, &lab, label_w);
        put(a, &c, &lab, HPos::Right, VPos::Center, (x0 - 10, yc))?;
        let y_first = yc - bar_h * m / 2;
        for (j, s) in series.iter().enumerate() {
            let v = s.values.get(i).copied().unwrap_or(f64::NAN);
            let y = y_first + bar_h * j as i32;
            if v.is_finite() && v > 0.0 {
                a.draw(&Rectangle::new(
                    [(x0, y + 1), (xv(v), y + bar_h - 2)],
                    s.colour.filled(),
                ))
                .map_err(e)?;
            }
            if let Some((pc, pv)) = &s.part {
                let p = pv.get(i).copied().unwrap_or(0.0);
                if p.is_finite() && p > 0.0 {
                    a.draw(&Rectangle::new(
                        [(x0, y + 1), (xv(p), y + bar_h - 2)],
                        pc.filled(),
                    ))
                    .map_err(e)?;
                }
            }
            let txt = if v.is_finite() {
                format!("{v:.decimals$}{suffix}")
            } else {
                "–".into()
            };
            let end = if v.is_finite() { xv(v.max(0.0)) } else { x0 };
            put(
                a,
                &txt,
                &vst,
                HPos::Left,
                VPos::Center,
                (end + 6, y + bar_h / 2),
            )?;
        }
    }
    a.draw(&PathElement::new(
        vec![(x0, top), (x0, bottom)],
        BLACK.stroke_width(2),
    ))
    .map_err(e)?;
    Ok(())
}

/// One panel of a comparison: its title, categories and bar series.
type Panel = (String, Vec<String>, Vec<Bars>);

/// The comparison chart of a lesson, before drawing.
struct Comparison {
    file: &'static str,
    title: String,
    legend: Vec<LegendItem>,
    panels: Vec<Panel>,
    /// Top of the value axis.
    hi: f64,
    suffix: &'static str,
    decimals: usize,
    axis: &'static str,
}

impl Comparison {
    #[allow(clippy::too_many_arguments)]
    fn new(
        file: &'static str,
        title: String,
        legend: Vec<LegendItem>,
        panels: Vec<Panel>,
        hi: f64,
        suffix: &'static str,
        decimals: usize,
        axis: &'static str,
    ) -> Comparison {
        Comparison {
            file,
            title,
            legend,
            panels,
            hi,
            suffix,
            decimals,
            axis,
        }
    }
}

struct Line {
    colour: RGBColor,
    dashed: bool,
    values: Vec<f64>,
}

fn line_body<DB: DrawingBackend>(
    a: &DrawingArea<DB, Shift>,
    x_labels: &[String],
    lines: &[Line],
    (lo, hi): (f64, f64),
    y_label: &str,
    decimals_hint: f64,
) -> R<()> {
    let (w, h) = a.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let tick = font(24.0, false, TEXT_GREY);
    let x0 = 90;
    let x1 = w - 40;
    let top = 10;
    let label_st = font(24.0, false, TEXT_GREY);
    let label_lines = wrap_px(a, y_label, &label_st, w - x0 - 10);
    let bottom = h - 56 - 30 * label_lines.len() as i32;
    // About one gridline per 60 pixels of height, from two to five, so that the value
    // labels never crowd.
    let gridlines = ((bottom - top) as f64 / 60.0).clamp(2.0, 5.0);
    let step = nice_step(hi - lo, gridlines).max(decimals_hint);
    let lo = (lo / step).floor() * step;
    let hi = ((hi / step).ceil() * step).max(lo + step);
    let yv =
        |v: f64| bottom - (((v - lo) / (hi - lo)).clamp(0.0, 1.0) * (bottom - top) as f64) as i32;
    let n = x_labels.len().max(1);
    let xv = |i: usize| {
        if n == 1 {
            (x0 + x1) / 2
        } else {
            x0 + 30 + ((x1 - x0 - 60) as f64 * i as f64 / (n - 1) as f64) as i32
        }
    };
    let mut t = lo;
    while t <= hi + 1e-9 {
        let y = yv(t);
        a.draw(&PathElement::new(
            vec![(x0, y), (x1, y)],
            GRID.stroke_width(2),
        ))
        .map_err(e)?;
        put(
            a,
            &fmt_tick(t, step),
            &tick,
            HPos::Right,
            VPos::Center,
            (x0 - 10, y),
        )?;
        t += step;
    }
    let xs: Vec<i32> = (0..x_labels.len()).map(xv).collect();
    for (i, _, _) in x_label_boxes(a, x_labels, &xs, &tick) {
        put(
            a,
            &x_labels[i],
            &tick,
            HPos::Center,
            VPos::Top,
            (xs[i], bottom + 12),
        )?;
    }
    for (k, l) in label_lines.iter().enumerate() {
        put(
            a,
            l,
            &label_st,
            HPos::Left,
            VPos::Top,
            (x0, bottom + 50 + 30 * k as i32),
        )?;
    }
    a.draw(&PathElement::new(
        vec![(x0, bottom), (x1, bottom)],
        BLACK.stroke_width(2),
    ))
    .map_err(e)?;
    for l in lines {
        let pts: Vec<(i32, i32)> = l
            .values
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_finite())
            .map(|(i, v)| (xv(i), yv(*v)))
            .collect();
        if l.dashed {
            for w in pts.windows(2) {
                let (p, q) = (w[0], w[1]);
                let len = (((q.0 - p.0).pow(2) + (q.1 - p.1).pow(2)) as f64).sqrt();
                let k = (len / 22.0).ceil().max(1.0) as i32;
                for s in 0..k {
                    let f0 = s as f64 / k as f64;
                    let f1 = (s as f64 + 0.55) / k as f64;
                    let at = |f: f64| {
                        (
                            p.0 + ((q.0 - p.0) as f64 * f) as i32,
                            p.1 + ((q.1 - p.1) as f64 * f) as i32,
                        )
                    };
                    a.draw(&PathElement::new(
                        vec![at(f0), at(f1)],
                        l.colour.stroke_width(4),
                    ))
                    .map_err(e)?;
                }
            }
        } else {
            a.draw(&PathElement::new(pts.clone(), l.colour.stroke_width(5)))
                .map_err(e)?;
        }
        // Dots no wider than a third of the space between quarters.
        let r = if n > 1 {
            ((x1 - x0 - 60) / (n as i32 - 1) / 3).clamp(2, 7)
        } else {
            7
        };
        for p in &pts {
            a.draw(&Circle::new(*p, r, l.colour.filled())).map_err(e)?;
        }
    }
    Ok(())
}

/// `text` broken into lines at spaces, each at most `max_w` pixels wide where a word allows.
fn wrap_px<DB: DrawingBackend>(
    a: &DrawingArea<DB, Shift>,
    text: &str,
    st: &TextStyle,
    max_w: i32,
) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let cand = if line.is_empty() {
            word.to_string()
        } else {
            format!("{line} {word}")
        };
        if !line.is_empty() && text_w(a, &cand, st) > max_w {
            lines.push(std::mem::take(&mut line));
            line = word.to_string();
        } else {
            line = cand;
        }
    }
    lines.push(line);
    lines
}

/// The x-axis labels to draw, as (index, left edge, right edge) in pixels, centred on `xs`:
/// every `k`-th label counting back from the last, so the end of the run is always
/// labelled, with `k` the smallest step at which neighbouring labels keep a gap of half the
/// text size. Widths are measured in the chart's font, so no run length makes them overlap.
fn x_label_boxes<DB: DrawingBackend>(
    a: &DrawingArea<DB, Shift>,
    labels: &[String],
    xs: &[i32],
    st: &TextStyle,
) -> Vec<(usize, i32, i32)> {
    let n = labels.len().min(xs.len());
    let widths: Vec<i32> = labels.iter().map(|l| text_w(a, l, st)).collect();
    let gap = (st.font.get_size() / 2.0).ceil() as i32;
    let boxes = |k: usize| -> Vec<(usize, i32, i32)> {
        let mut b: Vec<(usize, i32, i32)> = (0..n)
            .rev()
            .step_by(k)
            .map(|i| (i, xs[i] - widths[i] / 2, xs[i] - widths[i] / 2 + widths[i]))
            .collect();
        b.reverse();
        b
    };
    for k in 1..n {
        let b = boxes(k);
        if b.windows(2).all(|w| w[0].2 + gap <= w[1].1) {
            return b;
        }
    }
    boxes(n.max(1))
}

/// Draw a PNG into `path`, written under a temporary name and renamed into place when
/// complete ([`crate::output::AtomicFile`]); returns the size of the smallest text drawn,
/// in pixels.
fn save(
    path: &Path,
    size: (u32, u32),
    f: impl Fn(&DrawingArea<BitMapBackend, Shift>) -> R<()>,
) -> R<f64> {
    SMALLEST_TEXT.with(|m| m.set(f64::INFINITY));
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(d), Some(n)) => (d, n.to_string_lossy()),
        _ => return Err(format!("{}: not a file path", path.display())),
    };
    let io = |x: std::io::Error| format!("{}: {x}", path.display());
    let file = crate::output::AtomicFile::create(dir, &name).map_err(io)?;
    {
        let _glyphs = BitmapMode::on();
        let root = BitMapBackend::new(file.temp_path(), size).into_drawing_area();
        root.fill(&WHITE).map_err(e)?;
        f(&root)?;
        root.present().map_err(e)?;
    }
    file.commit().map_err(io)?;
    Ok(SMALLEST_TEXT.with(Cell::get))
}

fn pct(v: f64) -> f64 {
    v * 100.0
}

/// A chart as drawn: its file, its width and its smallest text, in pixels.
pub(crate) struct Drawn {
    pub path: PathBuf,
    pub width_px: u32,
    pub smallest_text_px: f64,
}

/// Draw the lesson's two charts into `dir` (the comparison first).
pub(crate) fn draw(
    ctx: &Context,
    dir: &Path,
    run: [&Span; 2],
    periods: [&[Span]; 2],
    base: Option<[&[Span]; 2]>,
) -> R<Vec<Drawn>> {
    register_fonts()?;
    std::fs::create_dir_all(dir).map_err(|x| format!("{}: {x}", dir.display()))?;
    let lesson = ctx.lesson;
    let months = run[0].ticks();
    let sub = format!(
        "Lesson {} · {} months · seed {}{}",
        lesson.name,
        months,
        ctx.seed,
        if base.is_some() {
            " · with the lever"
        } else {
            ""
        }
    );
    let mut out = Vec::new();

    // 1. The comparison over the whole run, one panel per run.
    let names: Vec<String> = ctx.agencies.iter().map(|a| a.label.clone()).collect();
    let c = match lesson.kind {
        Kind::FreeRiding => {
            // The first hosted arrangement (forum or protocol), as in the narration.
            let conference = (0..ctx.mechs.len())
                .find(|&m| ctx.mechs[m].kind != crate::scenario::MechanismKind::PooledFund);
            let panels: Vec<Panel> = Arm::BOTH
                .iter()
                .zip(run)
                .map(|(arm, s)| {
                    let sh: Vec<(f64, f64)> = (0..s.n_agencies())
                        .map(|i| match conference {
                            Some(m) => s.mechanisms[m].shares(i),
                            None => s.coordination_shares(i),
                        })
                        .collect();
                    (
                        arm.title().to_string(),
                        names.clone(),
                        vec![
                            Bars {
                                colour: VERMILION,
                                values: sh.iter().map(|x| pct(x.0)).collect(),
                                part: None,
                            },
                            Bars {
                                colour: BLUE,
                                values: sh.iter().map(|x| pct(x.1)).collect(),
                                part: None,
                            },
                        ],
                    )
                })
                .collect();
            let hi = panels
                .iter()
                .flat_map(|p| p.2.iter().flat_map(|b| b.values.iter().copied()))
                .filter(|v| v.is_finite())
                .fold(10.0f64, f64::max);
            Comparison::new(
                "cost_and_benefit_by_agency.png",
                match conference {
                    Some(m) => format!("{}: who paid, and who gained", ctx.mechs[m].label),
                    None => "Who paid for joining up, and who gained".to_string(),
                },
                vec![
                    LegendItem {
                        label: "share of its cost (money and staff time)".into(),
                        colour: VERMILION,
                        dashed: false,
                        bar: true,
                    },
                    LegendItem {
                        label: "share of the extra need it helped meet".into(),
                        colour: BLUE,
                        dashed: false,
                        bar: true,
                    },
                ],
                panels,
                (hi * 1.12).min(100.0),
                "%",
                0,
                "% of the whole run's total",
            )
        }
        Kind::Dumping => {
            let mut hi: f64 = 1.0;
            let panels = Arm::BOTH
                .iter()
                .zip(run)
                .map(|(arm, s)| {
                    let n = s.n_agencies();
                    let out_all: Vec<f64> =
                        s.agencies.iter().map(|a| a.referrals_out as f64).collect();
                    let in_all: Vec<f64> =
                        s.agencies.iter().map(|a| a.referrals_in as f64).collect();
                    hi = out_all.iter().chain(&in_all).fold(hi, |m, v| m.max(*v));
                    (
                        arm.title().to_string(),
                        names.clone(),
                        vec![
                            Bars {
                                colour: RGBColor(0xF2, 0xB8, 0x8C),
                                values: out_all,
                                part: Some((
                                    VERMILION,
                                    (0..n).map(|i| s.dumped_out(i) as f64).collect(),
                                )),
                            },
                            Bars {
                                colour: RGBColor(0x8C, 0xC3, 0xE6),
                                values: in_all,
                                part: Some((BLUE, (0..n).map(|i| s.dumped_in(i) as f64).collect())),
                            },
                        ],
                    )
                })
                .collect();
            Comparison::new(
                "referrals_by_agency.png",
                "Who passed clients on, and who received them".to_string(),
                vec![
                    LegendItem {
                        label: "passed on".into(),
                        colour: RGBColor(0xF2, 0xB8, 0x8C),
                        dashed: false,
                        bar: true,
                    },
                    LegendItem {
                        label: "of which dumping".into(),
                        colour: VERMILION,
                        dashed: false,
                        bar: true,
                    },
                    LegendItem {
                        label: "received".into(),
                        colour: RGBColor(0x8C, 0xC3, 0xE6),
                        dashed: false,
                        bar: true,
                    },
                    LegendItem {
                        label: "of which dumping".into(),
                        colour: BLUE,
                        dashed: false,
                        bar: true,
                    },
                ],
                panels,
                hi * 1.15,
                "",
                0,
                "referrals over the whole run",
            )
        }
        Kind::Capture => {
            let forum = (0..ctx.mechs.len())
                .find(|&m| ctx.mechs[m].kind == crate::scenario::MechanismKind::Forum);
            let groups: Vec<String> = ctx.groups.iter().map(|g| g.label.clone()).collect();
            let need: Vec<f64> = ctx.groups.iter().map(|g| pct(g.need_share)).collect();
            let panels: Vec<Panel> = Arm::BOTH
                .iter()
                .zip(run)
                .map(|(arm, s)| {
                    let agenda = match forum {
                        Some(m) => s.mechanisms[m].agenda_mean().into_iter().map(pct).collect(),
                        None => vec![f64::NAN; groups.len()],
                    };
                    (
                        arm.title().to_string(),
                        groups.clone(),
                        vec![
                            Bars {
                                colour: BLUE,
                                values: agenda,
                                part: None,
                            },
                            Bars {
                                colour: GREY,
                                values: need.clone(),
                                part: None,
                            },
                        ],
                    )
                })
                .collect();
            let hi = panels
                .iter()
                .flat_map(|p| p.2.iter().flat_map(|b| b.values.iter().copied()))
                .filter(|v| v.is_finite())
                .fold(10.0f64, f64::max);
            Comparison::new(
                "agenda_vs_need.png",
                "Whose clients topped the forum's agenda".to_string(),
                vec![
                    LegendItem {
                        label: "share of the forum's agenda (mean over months)".into(),
                        colour: BLUE,
                        dashed: false,
                        bar: true,
                    },
                    LegendItem {
                        label: "share of the need".into(),
                        colour: GREY,
                        dashed: false,
                        bar: true,
                    },
                ],
                panels,
                (hi * 1.12).min(100.0),
                "%",
                0,
                "%",
            )
        }
    };
    let path = dir.join(c.file);
    let size = (1600, 640);
    let smallest = save(&path, size, |root| {
        let y = header(root, &c.title, &sub, &c.legend)?;
        let body = root.margin(y, 10, 36, 36);
        let (bw, _) = body.dim_in_pixel();
        let parts = body.split_horizontally((bw as i32 - 60) / 2);
        let (left, right) = parts;
        let right = right.margin(0, 0, 60, 0);
        for ((t, cats, bars), area) in c.panels.iter().zip([&left, &right]) {
            bar_panel(area, t, cats, bars, c.hi, c.suffix, c.decimals, c.axis)?;
        }
        Ok(())
    })?;
    out.push(Drawn {
        path,
        width_px: size.0,
        smallest_text_px: smallest,
    });

    // 2. The key number by quarter.
    let conference = (0..ctx.mechs.len())
        .find(|&m| ctx.mechs[m].kind != crate::scenario::MechanismKind::PooledFund);
    let conf_label = conference.map_or("no shared arrangement".to_string(), |m| {
        ctx.mechs[m].label.to_lowercase()
    });
    let gap_label = format!("percentage points, by quarter ({conf_label})");
    let host_gap = move |s: &Span| {
        let ms = conference.map(|m| &s.mechanisms[m]);
        match ms.and_then(|m| m.main_host().map(|h| m.shares(h))) {
            Some((c, b)) => 100.0 * (c - b),
            None => f64::NAN,
        }
    };
    type KeyNumber<'a> = (&'a str, &'a str, Box<dyn Fn(&Span) -> f64 + 'a>, f64);
    let (title, y_label, f, hint): KeyNumber = match lesson.kind {
        Kind::FreeRiding => (
            "The host's share of the cost minus its share of the benefit",
            &gap_label,
            Box::new(host_gap),
            1.0,
        ),
        Kind::Dumping => (
            "Referrals counted as dumping",
            "referrals per quarter",
            Box::new(|s: &Span| s.dumped as f64),
            1.0,
        ),
        Kind::Capture => (
            "Agenda capture: how far the agenda strays from need",
            "0 = agenda follows need, 1 = ignores it; mean per quarter",
            Box::new(|s: &Span| s.agenda_capture.value()),
            0.05,
        ),
    };
    let q = periods[0].len();
    let x_labels: Vec<String> = (1..=q).map(|i| format!("Q{i}")).collect();
    let mut lines = Vec::new();
    let mut legend = Vec::new();
    for (k, arm) in Arm::BOTH.iter().enumerate() {
        let colour = if k == 0 { BLUE } else { VERMILION };
        lines.push(Line {
            colour,
            dashed: false,
            values: periods[k].iter().map(&f).collect(),
        });
        legend.push(LegendItem {
            label: arm.title().to_string(),
            colour,
            dashed: false,
            bar: false,
        });
    }
    if let Some(b) = base {
        for k in 0..2 {
            let colour = if k == 0 { BLUE } else { VERMILION };
            lines.push(Line {
                colour,
                dashed: true,
                values: b[k].iter().map(&f).collect(),
            });
        }
        legend.push(LegendItem {
            label: "dashed: baseline".into(),
            colour: TEXT_GREY,
            dashed: true,
            bar: false,
        });
    }
    let vals = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .filter(|v| v.is_finite());
    let (lo, hi) = vals.fold((0.0f64, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    let hi = if hi - lo < 1e-9 { lo + 1.0 } else { hi };
    let path = dir.join("by_quarter.png");
    let w = (super::handout::chart_width_mm(1, base.is_some()) * QUARTER_PX_PER_MM).round();
    // Taller on a lever handout, where the column is narrower and the legend longer.
    let aspect = if base.is_some() { 0.9 } else { 0.75 };
    let size = (w as u32, (w * aspect).round() as u32);
    let smallest = save(&path, size, |root| {
        let width = size.0 as i32;
        let st = font(30.0, true, BLACK);
        let mut y = 20;
        // The title may need two lines at this width.
        for l in &wrap_px(root, title, &st, width - 60) {
            put(root, l, &st, HPos::Left, VPos::Top, (30, y))?;
            y += 40;
        }
        let lst = font(26.0, false, BLACK);
        let mut x = 30;
        for it in &legend {
            let tw = text_w(root, &it.label, &lst);
            if x > 30 && x + 44 + tw > width - 20 {
                x = 30;
                y += 34;
            }
            let style = it.colour.stroke_width(5);
            if it.dashed {
                for k in 0..3 {
                    root.draw(&PathElement::new(
                        vec![(x + k * 13, y + 14), (x + k * 13 + 8, y + 14)],
                        style,
                    ))
                    .map_err(e)?;
                }
            } else {
                root.draw(&PathElement::new(
                    vec![(x, y + 14), (x + 36, y + 14)],
                    style,
                ))
                .map_err(e)?;
            }
            put(
                root,
                &it.label,
                &lst,
                HPos::Left,
                VPos::Center,
                (x + 44, y + 14),
            )?;
            x += 44 + tw + 30;
        }
        let body = root.margin(y + 44, 10, 20, 20);
        line_body(&body, &x_labels, &lines, (lo, hi), y_label, hint)
    })?;
    out.push(Drawn {
        path,
        width_px: size.0,
        smallest_text_px: smallest,
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Quarter labels at the handout's narrowest chart (a lever handout's key number by
    /// quarter) and at the widest, for every run length from one quarter to 100 years: the
    /// drawn labels never overlap, the last quarter is always labelled, and thinning starts
    /// only when the labels would collide.
    #[test]
    fn quarter_labels_never_overlap_at_any_run_length() {
        register_fonts().unwrap();
        let _glyphs = BitmapMode::on();
        let tick = font(24.0, false, TEXT_GREY);
        for width in [
            (super::super::handout::chart_width_mm(1, true) * QUARTER_PX_PER_MM) as u32,
            1600,
        ] {
            let mut buf = vec![0u8; width as usize * 3 * 10];
            let root = BitMapBackend::with_buffer(&mut buf, (width, 10)).into_drawing_area();
            let (x0, x1) = (90, width as i32 - 40);
            let mut thinned_somewhere = false;
            for n in 1..=400usize {
                let labels: Vec<String> = (1..=n).map(|i| format!("Q{i}")).collect();
                let xs: Vec<i32> = (0..n)
                    .map(|i| {
                        if n == 1 {
                            (x0 + x1) / 2
                        } else {
                            x0 + 30 + ((x1 - x0 - 60) as f64 * i as f64 / (n - 1) as f64) as i32
                        }
                    })
                    .collect();
                let b = x_label_boxes(&root, &labels, &xs, &tick);
                assert_eq!(b.last().map(|x| x.0), Some(n - 1), "{n} quarters");
                for w in b.windows(2) {
                    assert!(
                        w[0].2 < w[1].1,
                        "{n} quarters at {width} px: {} and {} overlap",
                        labels[w[0].0],
                        labels[w[1].0]
                    );
                }
                // Every label is drawn while they fit side by side.
                let all_fit = (1..n).all(|i| {
                    let wi = |k: usize| text_w(&root, &labels[k], &tick);
                    xs[i - 1] + wi(i - 1) / 2 + 12 <= xs[i] - wi(i) / 2
                });
                if all_fit {
                    assert_eq!(b.len(), n, "{n} quarters fit but were thinned");
                } else {
                    thinned_somewhere = true;
                }
            }
            assert!(thinned_somewhere, "400 quarters fit at {width} px?");
        }
    }
}
