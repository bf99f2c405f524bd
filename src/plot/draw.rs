//! Chart descriptions ([`Figure`]) and the one renderer that draws them onto any plotters
//! backend. Charts are built as data first (in `run.rs` and `sweep.rs`), then drawn twice:
//! to PNG and to SVG. Everything is laid out in pixels here, so titles, legends and labels
//! never cover the data: the legend sits in its own strip under the title.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::style::*;
use super::text::{BitmapMode, draw_str};

/// A complete chart.
pub struct Figure {
    /// File stem under `plots/`.
    pub name: String,
    pub title: String,
    /// Second line: the data behind the chart, including the number of runs (seeds).
    pub subtitle: String,
    pub legend: Vec<LegendItem>,
    /// Bottom line: the files the chart was drawn from, and notes.
    pub footer: String,
    pub body: Body,
}

pub struct LegendItem {
    pub label: String,
    pub colour: RGBColor,
    pub swatch: Swatch,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Swatch {
    Line,
    Dashed,
    /// A line with its confidence band.
    LineBand,
    /// A dashed line with its confidence band.
    DashedBand,
    Bar,
    Marker(Marker),
    /// A cell of a heatmap (drawn with a grey outline).
    Cell,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
}

impl Marker {
    pub fn nth(i: usize) -> Marker {
        [
            Marker::Circle,
            Marker::Triangle,
            Marker::Square,
            Marker::Diamond,
        ][i % 4]
    }
}

pub enum Body {
    Lines(LineChart),
    Scatter(ScatterChart),
    Heatmap(HeatmapChart),
    Bars(BarChart),
    Strip(StripChart),
}

/// Lines over a numeric x, with optional confidence bands, in one or more panels that share
/// both axes.
pub struct LineChart {
    pub panels: Vec<LinePanel>,
    pub x_label: String,
    pub y_label: String,
    /// Include zero in the y range.
    pub y_zero: bool,
    /// A dashed horizontal reference line at this y (e.g. 0 for differences).
    pub h_line: Option<f64>,
    /// x values are integers (ticks): label them without decimals.
    pub x_integer: bool,
    /// The values' possible range: the y axis and the bands are clipped to it.
    pub y_bounds: Option<(f64, f64)>,
    /// A shaded x interval with a label (e.g. the window a test looks at).
    pub x_window: Option<(f64, f64, String)>,
}

pub struct LinePanel {
    pub title: Option<String>,
    pub series: Vec<Series>,
}

pub struct Series {
    pub colour: RGBColor,
    /// (x, y); NaN y breaks the line.
    pub points: Vec<(f64, f64)>,
    /// (x, low, high); NaN breaks the band.
    pub band: Vec<(f64, f64, f64)>,
    pub dashed: bool,
    pub markers: bool,
}

/// Labelled points on equal axes, optionally with the 45-degree line.
pub struct ScatterChart {
    pub panels: Vec<ScatterPanel>,
    pub x_label: String,
    pub y_label: String,
    pub diagonal: Option<String>,
    /// Square-root scale on both axes (labels show the original values).
    pub sqrt: bool,
}

pub struct ScatterPanel {
    pub title: Option<String>,
    pub points: Vec<ScatterPoint>,
}

pub struct ScatterPoint {
    pub x: f64,
    pub y: f64,
    pub label: Option<String>,
    pub colour: RGBColor,
    pub marker: Marker,
}

/// Category x category grids coloured by value, with a colour bar.
pub struct HeatmapChart {
    pub panels: Vec<HeatPanel>,
    pub x_label: String,
    pub y_label: String,
    pub colour_label: String,
    /// Low values light, high values dark (for counts); otherwise viridis as is.
    pub reverse: bool,
    /// Write each cell's value in the cell when it fits.
    pub annotate: bool,
    pub decimals: usize,
    /// Fixed colour range (low, high); default: the data's range.
    pub range: Option<(f64, f64)>,
}

pub struct HeatPanel {
    pub title: Option<String>,
    pub x_cats: Vec<String>,
    pub y_cats: Vec<String>,
    /// `values[row][col]`, rows top to bottom in `y_cats` order; NaN = no data (grey).
    pub values: Vec<Vec<f64>>,
}

/// Horizontal grouped bars: categories top to bottom, one bar per series in each.
pub struct BarChart {
    pub panels: Vec<BarPanel>,
    pub value_label: String,
    pub category_label: String,
    pub decimals: usize,
    /// Appended to the value written at each bar's end, e.g. "%".
    pub value_suffix: &'static str,
}

pub struct BarPanel {
    pub title: Option<String>,
    pub categories: Vec<String>,
    pub bars: Vec<BarSeries>,
}

pub struct BarSeries {
    pub colour: RGBColor,
    pub values: Vec<f64>,
    /// Optional (low, high) per category.
    pub err: Vec<(f64, f64)>,
}

/// Box-and-strip plot: categories along x, one box (with every value as a dot) per series.
pub struct StripChart {
    pub categories: Vec<String>,
    pub x_label: String,
    pub y_label: String,
    /// `boxes[category]` = list of (colour, values).
    pub boxes: Vec<Vec<(RGBColor, Vec<f64>)>>,
}

/// Drawing errors carry the backend's message.
type R<T> = Result<T, String>;

trait Ctx<T> {
    fn d(self) -> R<T>;
}

impl<T, E: std::fmt::Display> Ctx<T> for Result<T, E> {
    fn d(self) -> R<T> {
        self.map_err(|e| e.to_string())
    }
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
        pos: Pos::default(),
    }
}

fn text_w<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, s: &str, st: &TextStyle) -> R<i32> {
    Ok(area.estimate_text_size(s, st).d()?.0 as i32)
}

/// Greedy word wrap to `max_w` pixels. Breaks at spaces.
fn wrap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    st: &TextStyle,
    max_w: i32,
) -> R<Vec<String>> {
    let mut lines: Vec<String> = Vec::new();
    let mut cur = String::new();
    for word in s.split(' ') {
        let cand = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if !cur.is_empty() && text_w(area, &cand, st)? > max_w {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        } else {
            cur = cand;
        }
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    Ok(lines)
}

/// Render `fig` as a PNG into the file at `png` (the caller gives a temporary path and
/// renames it into place).
pub fn save_png(fig: &Figure, png: &Path) -> R<()> {
    let _glyphs = BitmapMode::on();
    let root = BitMapBackend::new(png, (WIDTH, HEIGHT)).into_drawing_area();
    render(fig, &root)?;
    root.present().d()
}

/// Render `fig` as SVG text.
pub fn svg(fig: &Figure) -> R<String> {
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (WIDTH, HEIGHT)).into_drawing_area();
        render(fig, &root)?;
        root.present().d()?;
    }
    Ok(text)
}

/// Draw a whole figure.
pub fn render<DB: DrawingBackend>(fig: &Figure, root: &DrawingArea<DB, Shift>) -> R<()> {
    root.fill(&WHITE).d()?;
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let max_w = w - 2 * MARGIN;
    let mut y = 24;
    let title = font(TITLE_PX, true, BLACK);
    for line in wrap(root, &fig.title, &title, max_w)?.iter().take(2) {
        draw_str(root, line, &title, (MARGIN, y)).d()?;
        y += (TITLE_PX * 1.25) as i32;
    }
    let sub = font(SUBTITLE_PX, false, TEXT_GREY);
    for line in wrap(root, &fig.subtitle, &sub, max_w)?.iter().take(3) {
        draw_str(root, line, &sub, (MARGIN, y)).d()?;
        y += (SUBTITLE_PX * 1.3) as i32;
    }
    y += 6;
    y = draw_legend(root, &fig.legend, y, max_w)?;
    let foot = font(FOOTER_PX, false, TEXT_GREY);
    let footer_lines = wrap(root, &fig.footer, &foot, max_w)?;
    let footer_h = (footer_lines.len().min(2) as f64 * FOOTER_PX * 1.3) as i32 + 14;
    for (i, line) in footer_lines.iter().take(2).enumerate() {
        let fy = h - footer_h + 4 + (i as f64 * FOOTER_PX * 1.3) as i32;
        draw_str(root, line, &foot, (MARGIN, fy)).d()?;
    }
    let body = root.margin(y + 4, footer_h, MARGIN / 2, MARGIN);
    match &fig.body {
        Body::Lines(c) => draw_lines(&body, c),
        Body::Scatter(c) => draw_scatter(&body, c),
        Body::Heatmap(c) => draw_heatmap(&body, c),
        Body::Bars(c) => draw_bars(&body, c),
        Body::Strip(c) => draw_strip(&body, c),
    }
}

const SWATCH_W: i32 = 46;

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    item: &LegendItem,
    (x, y): (i32, i32),
) -> R<()> {
    let c = item.colour;
    let (x1, ym) = (x + SWATCH_W, y);
    match item.swatch {
        Swatch::Line => {
            area.draw(&PathElement::new(
                vec![(x, ym), (x1, ym)],
                c.stroke_width(4),
            ))
            .d()?;
        }
        Swatch::Dashed => {
            for k in 0..3 {
                let xa = x + k * 17;
                area.draw(&PathElement::new(
                    vec![(xa, ym), (xa + 11, ym)],
                    c.stroke_width(4),
                ))
                .d()?;
            }
        }
        Swatch::DashedBand => {
            area.draw(&Rectangle::new(
                [(x, ym - 10), (x1, ym + 10)],
                c.mix(0.22).filled(),
            ))
            .d()?;
            for k in 0..3 {
                let xa = x + k * 17;
                area.draw(&PathElement::new(
                    vec![(xa, ym), (xa + 11, ym)],
                    c.stroke_width(4),
                ))
                .d()?;
            }
        }
        Swatch::LineBand => {
            area.draw(&Rectangle::new(
                [(x, ym - 10), (x1, ym + 10)],
                c.mix(0.22).filled(),
            ))
            .d()?;
            area.draw(&PathElement::new(
                vec![(x, ym), (x1, ym)],
                c.stroke_width(4),
            ))
            .d()?;
        }
        Swatch::Bar => {
            area.draw(&Rectangle::new(
                [(x + 6, ym - 11), (x1 - 6, ym + 11)],
                c.filled(),
            ))
            .d()?;
        }
        Swatch::Cell => {
            area.draw(&Rectangle::new(
                [(x + 10, ym - 12), (x1 - 10, ym + 12)],
                c.filled(),
            ))
            .d()?;
            area.draw(&Rectangle::new(
                [(x + 10, ym - 12), (x1 - 10, ym + 12)],
                GRID_BOLD.stroke_width(1),
            ))
            .d()?;
        }
        Swatch::Marker(m) => marker(area, m, (x + SWATCH_W / 2, ym), 9, c, true)?,
    }
    Ok(())
}

/// Lay the legend out left to right, wrapping; returns the y below it.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    items: &[LegendItem],
    y0: i32,
    max_w: i32,
) -> R<i32> {
    if items.is_empty() {
        return Ok(y0);
    }
    let st = font(LEGEND_PX, false, BLACK);
    let row_h = (LEGEND_PX * 1.6) as i32;
    let (mut x, mut y) = (MARGIN, y0);
    for item in items {
        let tw = text_w(root, &item.label, &st)?;
        let item_w = SWATCH_W + 10 + tw + 34;
        if x > MARGIN && x + item_w - 34 > MARGIN + max_w {
            x = MARGIN;
            y += row_h;
        }
        let ym = y + row_h / 2;
        draw_swatch(root, item, (x, ym))?;
        draw_str(
            root,
            &item.label,
            &st.pos(Pos::new(HPos::Left, VPos::Center)),
            (x + SWATCH_W + 10, ym),
        )
        .d()?;
        x += item_w;
    }
    Ok(y + row_h + 6)
}

fn marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    m: Marker,
    (x, y): (i32, i32),
    r: i32,
    c: RGBColor,
    outline: bool,
) -> R<()> {
    let fill = c.filled();
    let edge = WHITE.stroke_width(2);
    match m {
        Marker::Circle => {
            area.draw(&Circle::new((x, y), r, fill)).d()?;
            if outline {
                area.draw(&Circle::new((x, y), r, edge)).d()?;
            }
        }
        Marker::Square => {
            let q = (r as f64 * 0.9) as i32;
            area.draw(&Rectangle::new([(x - q, y - q), (x + q, y + q)], fill))
                .d()?;
        }
        Marker::Triangle => {
            let q = (r as f64 * 1.2) as i32;
            area.draw(&Polygon::new(
                vec![(x, y - q), (x + q, y + q * 3 / 4), (x - q, y + q * 3 / 4)],
                fill,
            ))
            .d()?;
        }
        Marker::Diamond => {
            let q = (r as f64 * 1.25) as i32;
            area.draw(&Polygon::new(
                vec![(x, y - q), (x + q, y), (x, y + q), (x - q, y)],
                fill,
            ))
            .d()?;
        }
    }
    Ok(())
}

/// Rows and columns for `n` panels.
fn grid(n: usize) -> (usize, usize) {
    match n {
        0 | 1 => (1, 1),
        2 => (1, 2),
        3 => (1, 3),
        4 => (2, 2),
        5 | 6 => (2, 3),
        7..=9 => (3, 3),
        _ => {
            let c = (n as f64).sqrt().ceil() as usize;
            (n.div_ceil(c), c)
        }
    }
}

/// Split `area` into panels, each with its title drawn; returns the areas under the titles.
fn panels<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    titles: &[Option<&str>],
) -> R<Vec<DrawingArea<DB, Shift>>> {
    let (rows, cols) = grid(titles.len());
    let areas = area.split_evenly((rows, cols));
    let any_title = titles.iter().any(|t| t.is_some());
    let st = font(PANEL_TITLE_PX, true, BLACK);
    let mut out = Vec::new();
    for (a, t) in areas.into_iter().zip(titles) {
        if !any_title {
            out.push(a);
            continue;
        }
        let th = (PANEL_TITLE_PX * 1.6) as i32;
        if let Some(t) = t {
            let (w, _) = a.dim_in_pixel();
            let mut s = t.to_string();
            // Shorten a title wider than its panel.
            while s.chars().count() > 4 && text_w(&a, &s, &st)? > w as i32 - 20 {
                let keep = s.chars().count() - 2;
                s = s.chars().take(keep).collect::<String>() + "…";
                s = s.replace("……", "…");
            }
            draw_str(
                &a,
                &s,
                &st.pos(Pos::new(HPos::Center, VPos::Top)),
                (w as i32 / 2, 4),
            )
            .d()?;
        }
        out.push(a.margin(th, 0, 0, 0));
    }
    Ok(out)
}

/// Reserve a strip on the left for a rotated y description and one at the bottom for the x
/// description, draw them, and return the inner area.
fn axis_descs<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    x_label: &str,
    y_label: &str,
) -> R<DrawingArea<DB, Shift>> {
    let (w, h) = area.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let strip = (AXIS_DESC_PX * 1.7) as i32;
    let mut px = AXIS_DESC_PX;
    let mut st = font(px, false, BLACK);
    while px > 15.0 && text_w(area, y_label, &st)? > h - strip - 20 {
        px -= 2.0;
        st = font(px, false, BLACK);
    }
    if !y_label.is_empty() {
        draw_str(
            area,
            y_label,
            &st.transform(FontTransform::Rotate270)
                .pos(Pos::new(HPos::Center, VPos::Center)),
            (strip / 2, (h - strip) / 2),
        )
        .d()?;
    }
    let st = font(AXIS_DESC_PX, false, BLACK);
    if !x_label.is_empty() {
        draw_str(
            area,
            x_label,
            &st.pos(Pos::new(HPos::Center, VPos::Bottom)),
            (strip + (w - strip) / 2, h - 4),
        )
        .d()?;
    }
    Ok(area.margin(0, strip, strip, 0))
}

/// The largest magnitude an axis reaches. Data beyond it (up to f64's 1.8e308) is drawn at
/// the edge of the chart: an axis from -1e308 to 1e308 would have an infinite span, and its
/// ticks and pixel positions would be infinite or NaN.
pub(crate) const AXIS_MAX: f64 = 1e300;

/// At most this many ticks on an axis or a colour bar (a guard: steps from [`nice_step`]
/// give about the number asked for).
const MAX_TICKS: usize = 100;

/// `lo..=hi` limited to +-[`AXIS_MAX`], so that its span is finite.
fn limited(lo: f64, hi: f64) -> (f64, f64) {
    (lo.clamp(-AXIS_MAX, AXIS_MAX), hi.clamp(-AXIS_MAX, AXIS_MAX))
}

/// Tick values: the multiples of `step` in `lo..=hi` (plus a hair), at most [`MAX_TICKS`],
/// none at all for a range or step that is not finite.
pub(crate) fn tick_values(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite() && step.is_finite() && step > 0.0) {
        return Vec::new();
    }
    let first = (lo / step).ceil();
    (0..MAX_TICKS)
        .map(|k| (first + k as f64) * step)
        .take_while(|&v| v <= hi + step * 1e-9)
        .collect()
}

/// A "nice" tick step for a range, about `n` ticks.
pub(crate) fn nice_step(lo: f64, hi: f64, n: f64) -> f64 {
    // hi/n - lo/n, not (hi - lo)/n: the difference of two huge numbers overflows.
    let raw = (hi / n - lo / n).abs();
    if raw <= 0.0 || !raw.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    let f = raw / p;
    let m = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    m * p
}

/// Decimals needed to tell ticks `step` apart.
fn decimals_for(step: f64) -> usize {
    if step <= 0.0 || !step.is_finite() {
        return 2;
    }
    let d = -step.log10().floor();
    let d = if (step / 10f64.powf(-d) - 2.5).abs() < 1e-9 {
        d + 1.0
    } else {
        d
    };
    d.clamp(0.0, 6.0) as usize
}

/// Format a number with `dec` decimals, with thousands separators for big ones, never "-0".
pub fn fmt_num(v: f64, dec: usize) -> String {
    if !v.is_finite() {
        return "NA".into();
    }
    if v.abs() >= 1e15 {
        // Scientific beyond a quadrillion: "1.5e300", not three hundred digits.
        let s = format!("{v:.2e}");
        return match s.split_once('e') {
            Some((m, e)) => {
                let m = m.trim_end_matches('0').trim_end_matches('.');
                format!("{m}e{e}")
            }
            None => s,
        };
    }
    let s = format!("{:.*}", dec, v);
    let s = if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
        s[1..].to_string()
    } else {
        s
    };
    // Thousands separators for the integer part.
    let (sign, rest) = if let Some(r) = s.strip_prefix('-') {
        ("-", r)
    } else {
        ("", s.as_str())
    };
    let (int, frac) = match rest.find('.') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if int.len() <= 4 {
        return s.clone();
    }
    let mut out = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    format!("{sign}{out}{frac}")
}

/// Range of finite values, padded; `zero` forces 0 inside.
fn padded(values: impl Iterator<Item = f64>, zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    // Room for the padding below inside f64 too.
    let (l, h) = limited(lo, hi);
    (lo, hi) = (l, h);
    if hi - lo < 1e-12 {
        let d = if hi.abs() > 1e-12 {
            hi.abs() * 0.1
        } else {
            1.0
        };
        return (lo - d, hi + d);
    }
    let pad = (hi - lo) * 0.06;
    let lo2 = if zero && lo >= 0.0 { lo } else { lo - pad };
    (lo2, hi + pad)
}

/// Break a polyline at NaN values.
fn segments(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            out.last_mut().expect("non-empty").push((x, y));
        } else if !out.last().expect("non-empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn band_segments(band: &[(f64, f64, f64)]) -> Vec<Vec<(f64, f64, f64)>> {
    let mut out = vec![Vec::new()];
    for &(x, l, h) in band {
        if x.is_finite() && l.is_finite() && h.is_finite() {
            out.last_mut().expect("non-empty").push((x, l, h));
        } else if !out.last().expect("non-empty").is_empty() {
            out.push(Vec::new());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

type Chart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

struct Axes<'s> {
    x: (f64, f64),
    y: (f64, f64),
    x_dec: usize,
    y_dec: usize,
    x_labels: usize,
    y_labels: usize,
    /// Hide the numeric x tick labels (categorical x drawn by the caller).
    x_hidden: bool,
    y_hidden: bool,
    x_label_area: i32,
    y_label_area: i32,
    _p: std::marker::PhantomData<&'s ()>,
}

impl Axes<'_> {
    fn numeric(x: (f64, f64), y: (f64, f64)) -> Self {
        let xs = nice_step(x.0, x.1, 8.0);
        let ys = nice_step(y.0, y.1, 7.0);
        Axes {
            x,
            y,
            x_dec: decimals_for(xs),
            y_dec: decimals_for(ys),
            x_labels: 9,
            y_labels: 8,
            x_hidden: false,
            y_hidden: false,
            x_label_area: (TICK_PX * 2.0) as i32,
            y_label_area: 0,
            _p: std::marker::PhantomData,
        }
    }
}

/// Build a cartesian frame with light grid lines and our tick formatting.
fn frame<'a, DB: DrawingBackend>(area: &'a DrawingArea<DB, Shift>, ax: &Axes) -> R<Chart<'a, DB>> {
    let tick = font(TICK_PX, false, BLACK);
    let y_area = if ax.y_label_area > 0 {
        ax.y_label_area
    } else {
        // Wide enough for the widest y tick label.
        let mut wmax = 0;
        let step = nice_step(ax.y.0, ax.y.1, 7.0);
        for v in tick_values(ax.y.0, ax.y.1, step) {
            wmax = wmax.max(text_w(area, &fmt_num(v, ax.y_dec), &tick)?);
        }
        wmax + 22
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(12)
        .margin_right(28)
        .x_label_area_size(ax.x_label_area)
        .y_label_area_size(y_area)
        .build_cartesian_2d(ax.x.0..ax.x.1, ax.y.0..ax.y.1)
        .d()?;
    let xd = ax.x_dec;
    let yd = ax.y_dec;
    // plotters' tick values carry rounding error: "0" may come as -4.6e282 on a 1e300 axis.
    let (xz, yz) = ((ax.x.1 - ax.x.0) * 1e-9, (ax.y.1 - ax.y.0) * 1e-9);
    let snap = |v: f64, z: f64| if v.abs() < z { 0.0 } else { v };
    let xf = move |v: &f64| fmt_num(snap(*v, xz), xd);
    let yf = move |v: &f64| fmt_num(snap(*v, yz), yd);
    let blank = |_: &f64| String::new();
    let mut mesh = chart.configure_mesh();
    mesh.label_style(tick.clone())
        .axis_style(BLACK.stroke_width(2))
        .bold_line_style(GRID.stroke_width(1))
        .light_line_style(TRANSPARENT)
        .x_labels(ax.x_labels)
        .y_labels(ax.y_labels)
        .x_label_formatter(if ax.x_hidden { &blank } else { &xf })
        .y_label_formatter(if ax.y_hidden { &blank } else { &yf });
    if ax.x_hidden {
        mesh.disable_x_mesh();
        mesh.set_tick_mark_size(LabelAreaPosition::Bottom, 0);
    }
    if ax.y_hidden {
        mesh.disable_y_mesh();
        mesh.set_tick_mark_size(LabelAreaPosition::Left, 0);
    }
    mesh.draw().d()?;
    Ok(chart)
}

fn draw_lines<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &LineChart) -> R<()> {
    let inner = axis_descs(area, &c.x_label, &c.y_label)?;
    let all = || c.panels.iter().flat_map(|p| p.series.iter());
    let x = padded(all().flat_map(|s| s.points.iter().map(|p| p.0)), false);
    // Lines start and end at the data's x range.
    let (mut x0, mut x1) = (f64::INFINITY, f64::NEG_INFINITY);
    for s in all() {
        for p in &s.points {
            if p.0.is_finite() {
                x0 = x0.min(p.0);
                x1 = x1.max(p.0);
            }
        }
    }
    let x = if x0.is_finite() && x1 > x0 {
        limited(x0, x1)
    } else {
        x
    };
    // The range of the values as drawn: clipped to the possible range first, so that a
    // stray value far outside it does not stretch the axis.
    let bound = |v: f64| match c.y_bounds {
        Some((lo, hi)) => v.clamp(lo, hi),
        None => v,
    };
    let y = padded(
        all()
            .flat_map(|s| {
                s.points
                    .iter()
                    .map(|p| p.1)
                    .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
            })
            .chain(c.h_line)
            .map(bound),
        c.y_zero,
    );
    let y = match c.y_bounds {
        Some((lo, hi)) => {
            let pad = (y.1 - y.0) * 0.02;
            (y.0.max(lo - pad), y.1.min(hi + pad))
        }
        None => y,
    };
    // Values far outside the axes (beyond AXIS_MAX) are drawn at one span past the edge,
    // where plotters clips them, not at an astronomical pixel position.
    let (xs, ys) = (x.1 - x.0, y.1 - y.0);
    let clip = |v: f64| {
        let v = match c.y_bounds {
            Some((lo, hi)) => v.clamp(lo, hi),
            None => v,
        };
        v.clamp(y.0 - ys, y.1 + ys)
    };
    let clip_x = |v: f64| v.clamp(x.0 - xs, x.1 + xs);
    let titles: Vec<Option<&str>> = c.panels.iter().map(|p| p.title.as_deref()).collect();
    let areas = panels(&inner, &titles)?;
    for (p, a) in c.panels.iter().zip(&areas) {
        let mut ax = Axes::numeric(x, y);
        let (pw, ph) = a.dim_in_pixel();
        ax.x_labels = (pw as usize / 90).clamp(3, 13);
        ax.y_labels = (ph as usize / 70).clamp(3, 10);
        if c.x_integer {
            ax.x_dec = 0;
            let span = x.1 - x.0;
            ax.x_labels = ax.x_labels.min(span as usize + 1).max(2);
        }
        let dot = if c.panels.len() > 1 { 4 } else { 6 };
        let mut chart = frame(a, &ax)?;
        if let Some((w0, w1, label)) = &c.x_window {
            let (w0, w1) = (w0.max(x.0), w1.min(x.1));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(w0, y.0), (w1, y.1)],
                    TEXT_GREY.mix(0.08).filled(),
                )))
                .d()?;
            let base = a.get_base_pixel();
            let (px, py) = chart.backend_coord(&((w0 + w1) / 2.0, y.1));
            draw_str(
                a,
                label,
                &font(POINT_LABEL_PX, false, TEXT_GREY).pos(Pos::new(HPos::Center, VPos::Top)),
                (px - base.0, py - base.1 + 6),
            )?;
        }
        if let Some(h) = c.h_line {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x.0, h), (x.1, h)],
                    12,
                    8,
                    BLACK.stroke_width(2),
                ))
                .d()?;
        }
        for s in &p.series {
            for seg in band_segments(&s.band) {
                let mut poly: Vec<(f64, f64)> =
                    seg.iter().map(|b| (clip_x(b.0), clip(b.2))).collect();
                poly.extend(seg.iter().rev().map(|b| (clip_x(b.0), clip(b.1))));
                chart
                    .draw_series(std::iter::once(Polygon::new(poly, s.colour.mix(0.2))))
                    .d()?;
            }
        }
        for s in &p.series {
            let points: Vec<(f64, f64)> = s
                .points
                .iter()
                .map(|&(px, py)| (clip_x(px), clip(py)))
                .collect();
            for seg in segments(&points) {
                let style = s
                    .colour
                    .stroke_width(if c.panels.len() > 1 { 3 } else { 4 });
                if s.dashed {
                    chart
                        .draw_series(DashedLineSeries::new(seg.clone(), 14, 8, style))
                        .d()?;
                } else {
                    chart.draw_series(LineSeries::new(seg.clone(), style)).d()?;
                }
                if s.markers || seg.len() == 1 {
                    chart
                        .draw_series(
                            seg.iter()
                                .map(|&(x, y)| Circle::new((x, y), dot, s.colour.filled())),
                        )
                        .d()?;
                }
            }
        }
    }
    Ok(())
}

fn rects_overlap(a: (i32, i32, i32, i32), b: (i32, i32, i32, i32)) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

/// A label's box in pixels: (left, top, right, bottom).
type Rect = (i32, i32, i32, i32);

/// Where a label may go.
#[derive(Clone, Copy)]
struct Search<'a> {
    bounds: Rect,
    /// Boxes already taken (markers and labels).
    placed: &'a [Rect],
    /// A line the label must not cross.
    avoid: Option<((i32, i32), (i32, i32))>,
    /// All points: the label must sit clearly nearer its own.
    others: Option<&'a [(i32, i32)]>,
    /// Farthest distance from the marker to try, pixels.
    max_d: i32,
}

/// Where to put a point's label: the nearest free spot around the marker, searched outwards
/// in 16 directions, inside `bounds`, overlapping no placed box and (if given) not crossing
/// the line `avoid`. Returns the label's box and its distance from the marker.
fn place_label(
    (x, y): (i32, i32),
    r: i32,
    (tw, th): (i32, i32),
    q: &Search,
) -> Option<(Rect, i32)> {
    let Search {
        bounds,
        placed,
        avoid,
        others,
        max_d,
    } = *q;
    // Distance from a point to a box (0 inside).
    let dist = |rect: (i32, i32, i32, i32), (px, py): (i32, i32)| {
        let dx = (rect.0 - px).max(0).max(px - rect.2) as f64;
        let dy = (rect.1 - py).max(0).max(py - rect.3) as f64;
        dx.hypot(dy)
    };
    // The label must sit clearly nearer its own point than any other, so it cannot be
    // read as another point's.
    let owned = |rect: (i32, i32, i32, i32)| match others {
        None => true,
        Some(pts) => {
            let own = dist(rect, (x, y));
            pts.iter()
                .filter(|&&q| q != (x, y))
                .all(|&q| dist(rect, q) > own + 14.0)
        }
    };
    let crosses = |rect: (i32, i32, i32, i32)| {
        let Some(((x0, y0), (x1, y1))) = avoid else {
            return false;
        };
        let side = |px: i32, py: i32| {
            ((px - x0) as i64 * (y1 - y0) as i64 - (py - y0) as i64 * (x1 - x0) as i64).signum()
        };
        let s = [
            side(rect.0, rect.1),
            side(rect.2, rect.1),
            side(rect.0, rect.3),
            side(rect.2, rect.3),
        ];
        s.iter().any(|&v| v > 0) && s.iter().any(|&v| v < 0)
    };
    // A leader line from the point to the box must not run through another label.
    let leader_blocked = |rect: (i32, i32, i32, i32)| {
        let (ex, ey) = (x.clamp(rect.0, rect.2), y.clamp(rect.1, rect.3));
        let len = ((ex - x) as f64).hypot((ey - y) as f64);
        let steps = (len / 3.0).ceil().max(1.0) as i32;
        (0..=steps).any(|k| {
            let t = k as f64 / steps as f64;
            let px = x + ((ex - x) as f64 * t).round() as i32;
            let py = y + ((ey - y) as f64 * t).round() as i32;
            // Past its own marker.
            ((px - x).abs() > r + 1 || (py - y).abs() > r + 1)
                && placed
                    .iter()
                    .any(|o| px > o.0 + 1 && px < o.2 - 1 && py > o.1 + 1 && py < o.3 - 1)
        })
    };
    // Right, left, up, down first, then the diagonals, then the rest.
    const ANGLES: [f64; 16] = [
        0.0, 180.0, 90.0, 270.0, 45.0, 315.0, 135.0, 225.0, 22.5, 337.5, 157.5, 202.5, 67.5, 292.5,
        112.5, 247.5,
    ];
    let mut d = 6;
    while d <= max_d {
        for deg in ANGLES {
            let (sin, cos) = deg.to_radians().sin_cos();
            let ax = x + ((r + d) as f64 * cos).round() as i32;
            let ay = y - ((r + d) as f64 * sin).round() as i32;
            let lx = if cos > 0.3 {
                ax
            } else if cos < -0.3 {
                ax - tw
            } else {
                ax - tw / 2
            };
            let ly = if sin > 0.3 {
                ay - th
            } else if sin < -0.3 {
                ay
            } else {
                ay - th / 2
            };
            let rect = (lx, ly, lx + tw, ly + th);
            let inside =
                lx >= bounds.0 && rect.2 <= bounds.2 && ly >= bounds.1 && rect.3 <= bounds.3;
            if inside
                && !placed.iter().any(|&o| rects_overlap(o, rect))
                && !crosses(rect)
                && owned(rect)
                && (d <= 6 || others.is_none() || !leader_blocked(rect))
            {
                return Some((rect, d));
            }
        }
        d += if d < 30 { 6 } else { 12 };
    }
    None
}

fn draw_scatter<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &ScatterChart) -> R<()> {
    let inner = axis_descs(area, &c.x_label, &c.y_label)?;
    let hi = c
        .panels
        .iter()
        .flat_map(|p| p.points.iter().flat_map(|q| [q.x, q.y]))
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .min(AXIS_MAX);
    let hi = if hi > 0.0 { hi * 1.08 } else { 1.0 };
    // On a square-root scale the diagonal stays the diagonal, and points crowded near zero
    // spread out.
    let f = |v: f64| if c.sqrt { v.max(0.0).sqrt() } else { v };
    let ticks: Vec<f64> = if c.sqrt {
        [0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 50.0, 75.0, 100.0]
            .into_iter()
            .filter(|&t| t <= hi)
            .collect()
    } else {
        tick_values(0.0, hi, nice_step(0.0, hi, 7.0))
    };
    let tick_text = |t: f64| fmt_num(t, if t.fract() == 0.0 { 0 } else { 1 });
    let titles: Vec<Option<&str>> = c.panels.iter().map(|p| p.title.as_deref()).collect();
    let areas = panels(&inner, &titles)?;
    let label_st = font(POINT_LABEL_PX, false, BLACK);
    let tick_st = font(TICK_PX, false, BLACK);
    for (p, a) in c.panels.iter().zip(&areas) {
        let mut ax = Axes::numeric((0.0, f(hi)), (0.0, f(hi)));
        ax.x_hidden = true;
        ax.y_hidden = true;
        let mut wmax = 0;
        for &t in &ticks {
            wmax = wmax.max(text_w(a, &tick_text(t), &tick_st)?);
        }
        ax.y_label_area = wmax + 22;
        let chart = frame(a, &ax)?;
        let base = a.get_base_pixel();
        let to_px = |x: f64, y: f64| {
            let (px, py) = chart.backend_coord(&(f(x), f(y)));
            (px - base.0, py - base.1)
        };
        let (bx0, by1) = to_px(0.0, 0.0);
        let (bx1, by0) = to_px(hi, hi);
        for &t in &ticks {
            let (tx, ty) = to_px(t, t);
            if t > 0.0 {
                a.draw(&PathElement::new(
                    vec![(tx, by0), (tx, by1)],
                    GRID.stroke_width(1),
                ))
                .d()?;
                a.draw(&PathElement::new(
                    vec![(bx0, ty), (bx1, ty)],
                    GRID.stroke_width(1),
                ))
                .d()?;
            }
            let s = tick_text(t);
            draw_str(
                a,
                &s,
                &tick_st.pos(Pos::new(HPos::Center, VPos::Top)),
                (tx, by1 + 8),
            )?;
            draw_str(
                a,
                &s,
                &tick_st.pos(Pos::new(HPos::Right, VPos::Center)),
                (bx0 - 8, ty),
            )?;
        }
        if let Some(label) = &c.diagonal {
            a.draw(&PathElement::new(
                vec![(bx0, by1), (bx1, by0)],
                TEXT_GREY.stroke_width(2),
            ))
            .d()?;
            // Label the line near its top end, above it.
            let st = font(POINT_LABEL_PX, false, TEXT_GREY);
            draw_str(
                a,
                label,
                &st.pos(Pos::new(HPos::Right, VPos::Top)),
                (bx1 - 80, by0 + 2),
            )?;
        }
        let pts: Vec<(i32, i32)> = p.points.iter().map(|q| to_px(q.x, q.y)).collect();
        let r = 9;
        // Obstacles: every marker.
        let mut placed: Vec<Rect> = pts
            .iter()
            .map(|&(x, y)| (x - r, y - r, x + r, y + r))
            .collect();
        // Label the points farthest from the origin first: they matter most.
        let mut order: Vec<usize> = (0..p.points.len()).collect();
        order.sort_by(|&i, &j| {
            let di = p.points[i].x + p.points[i].y;
            let dj = p.points[j].x + p.points[j].y;
            dj.total_cmp(&di).then(i.cmp(&j))
        });
        // Three rounds, so that every label gets a chance at a spot next to its point before
        // any label takes a spot farther out: (1) next to the point, clearly its own;
        // (2) anywhere, clearly its own, with a leader line; (3) anywhere free, with a leader.
        let bounds = (bx0 + 2, by0, bx1, by1);
        let diag = c.diagonal.as_ref().map(|_| ((bx0, by1), (bx1, by0)));
        let mut sizes = Vec::new();
        for q in &p.points {
            sizes.push(match &q.label {
                Some(text) => {
                    let (tw, th) = a.estimate_text_size(text, &label_st).d()?;
                    Some((tw as i32, th as i32 + 4))
                }
                None => None,
            });
        }
        let mut labels: Vec<(usize, Rect, i32)> = Vec::new();
        for round in 0..3 {
            for &i in &order {
                let Some(size) = sizes[i] else { continue };
                if labels.iter().any(|l| l.0 == i) {
                    continue;
                }
                let at = pts[i];
                let q = |avoid, others, max_d| Search {
                    bounds,
                    placed: &placed,
                    avoid,
                    others,
                    max_d,
                };
                let found = match round {
                    0 => place_label(at, r, size, &q(diag, Some(&pts), 6))
                        .or_else(|| place_label(at, r, size, &q(None, Some(&pts), 6))),
                    1 => place_label(at, r, size, &q(diag, Some(&pts), 260))
                        .or_else(|| place_label(at, r, size, &q(None, Some(&pts), 260))),
                    _ => Some(
                        place_label(at, r, size, &q(None, None, 260))
                            .map(|(rect, d)| (rect, d.max(7)))
                            .unwrap_or_else(|| {
                                let (x, y) = at;
                                let (tw, th) = size;
                                let lx = if x + r + 6 + tw <= bx1 {
                                    x + r + 6
                                } else {
                                    x - r - 6 - tw
                                };
                                ((lx, y - th / 2, lx + tw, y + th / 2), 6)
                            }),
                    ),
                };
                if let Some((rect, d)) = found {
                    placed.push(rect);
                    labels.push((i, rect, d));
                }
            }
        }
        for &(i, rect, d) in &labels {
            if d > 6 {
                // Leader line from the marker to the nearest point of the label box.
                let (x, y) = pts[i];
                let lx = x.clamp(rect.0, rect.2);
                let ly = y.clamp(rect.1, rect.3);
                a.draw(&PathElement::new(
                    vec![(x, y), (lx, ly)],
                    TEXT_GREY.stroke_width(1),
                ))
                .d()?;
            }
        }
        for (q, &(x, y)) in p.points.iter().zip(&pts) {
            marker(a, q.marker, (x, y), r, q.colour, true)?;
        }
        for &(i, rect, _) in &labels {
            let text = p.points[i].label.as_deref().unwrap_or("");
            draw_str(a, text, &label_st, (rect.0, rect.1 + 2)).d()?;
        }
    }
    Ok(())
}

fn shorten<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &str,
    st: &TextStyle,
    max_w: i32,
) -> R<String> {
    let mut out = s.to_string();
    while out.chars().count() > 3 && text_w(area, &out, st)? > max_w {
        let keep = out.trim_end_matches('…').chars().count().saturating_sub(1);
        out = out.chars().take(keep).collect::<String>() + "…";
    }
    Ok(out)
}

fn draw_heatmap<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &HeatmapChart) -> R<()> {
    let inner = axis_descs(area, &c.x_label, &c.y_label)?;
    let (lo, hi) = if let Some(r) = c.range {
        r
    } else {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in &c.panels {
            for v in p.values.iter().flatten().filter(|v| v.is_finite()) {
                lo = lo.min(*v);
                hi = hi.max(*v);
            }
        }
        if !lo.is_finite() {
            (0.0, 1.0)
        } else if c.reverse {
            (lo.min(0.0), if hi > lo.min(0.0) { hi } else { 1.0 })
        } else if hi - lo < 1e-12 {
            (lo - 0.5, hi + 0.5)
        } else {
            (lo, hi)
        }
    };
    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
        limited(lo, hi)
    } else {
        (0.0, 1.0)
    };
    let colour = |v: f64| {
        let t = ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
        if c.reverse {
            viridis(1.0 - t)
        } else {
            viridis(t)
        }
    };
    // Colour bar on the right.
    let (w, h) = inner.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let bar_w = 180;
    let (maps, bar) = inner.split_horizontally(w - bar_w);
    draw_colour_bar(&bar, lo, hi, c.reverse, &c.colour_label, h)?;
    let titles: Vec<Option<&str>> = c.panels.iter().map(|p| p.title.as_deref()).collect();
    let areas = panels(&maps, &titles)?;
    let tick = font(TICK_PX, false, BLACK);
    for (p, a) in c.panels.iter().zip(&areas) {
        let (aw, ah) = a.dim_in_pixel();
        let (aw, ah) = (aw as i32, ah as i32);
        let nx = p.x_cats.len().max(1) as i32;
        let ny = p.y_cats.len().max(1) as i32;
        // Left: y category names (shortened to at most 40% of the panel).
        let mut y_names = Vec::new();
        let mut ylw = 0;
        for s in &p.y_cats {
            let s = shorten(a, s, &tick, aw * 2 / 5)?;
            ylw = ylw.max(text_w(a, &s, &tick)?);
            y_names.push(s);
        }
        let left = ylw + 14;
        let avail_w = aw - left - 16;
        let cell_w = (avail_w / nx).max(1);
        // Bottom: x category names, rotated when they do not fit across a cell.
        let mut x_names = Vec::new();
        let mut xlw = 0;
        for s in &p.x_cats {
            let s = shorten(a, s, &tick, ah * 2 / 5)?;
            xlw = xlw.max(text_w(a, &s, &tick)?);
            x_names.push(s);
        }
        let rotate = xlw > cell_w - 6;
        let bottom = if rotate {
            xlw + 14
        } else {
            (TICK_PX * 1.8) as i32
        };
        let avail_h = ah - bottom - 8;
        let cell_h = (avail_h / ny).max(1);
        let (x0, y0) = (left, 8);
        // Cell numbers grow with the cells, within 18..30 px (even sizes).
        let cell_px = ((cell_h / 3).min(cell_w / 5).clamp(18, 30) / 2 * 2) as f64;
        let val_st = font(cell_px, false, BLACK);
        for (r, row) in p.values.iter().enumerate() {
            for (k, &v) in row.iter().enumerate() {
                let cx = x0 + k as i32 * cell_w;
                let cy = y0 + r as i32 * cell_h;
                let fill = if v.is_finite() { colour(v) } else { EMPTY_CELL };
                a.draw(&Rectangle::new(
                    [(cx + 1, cy + 1), (cx + cell_w - 1, cy + cell_h - 1)],
                    fill.filled(),
                ))
                .d()?;
                if c.annotate && v.is_finite() {
                    // A small mean shown as "0" would read as none.
                    let dec = if c.decimals == 0 && v.fract() != 0.0 && v.abs() < 9.95 {
                        1
                    } else {
                        c.decimals
                    };
                    let s = fmt_num(v, dec);
                    let (tw, th) = a.estimate_text_size(&s, &val_st).d()?;
                    if (tw as i32) < cell_w - 4 && (th as i32) < cell_h - 2 {
                        draw_str(
                            a,
                            &s,
                            &val_st
                                .color(&text_on(fill))
                                .pos(Pos::new(HPos::Center, VPos::Center)),
                            (cx + cell_w / 2, cy + cell_h / 2),
                        )
                        .d()?;
                    }
                }
            }
        }
        // Frame.
        a.draw(&Rectangle::new(
            [(x0, y0), (x0 + nx * cell_w, y0 + ny * cell_h)],
            GRID_BOLD.stroke_width(1),
        ))
        .d()?;
        for (r, s) in y_names.iter().enumerate() {
            draw_str(
                a,
                s,
                &tick.pos(Pos::new(HPos::Right, VPos::Center)),
                (x0 - 8, y0 + r as i32 * cell_h + cell_h / 2),
            )
            .d()?;
        }
        let yb = y0 + ny * cell_h + 8;
        for (k, s) in x_names.iter().enumerate() {
            let cx = x0 + k as i32 * cell_w + cell_w / 2;
            if rotate {
                draw_str(
                    a,
                    s,
                    &tick
                        .transform(FontTransform::Rotate270)
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                    (cx, yb),
                )
                .d()?;
            } else {
                draw_str(a, s, &tick.pos(Pos::new(HPos::Center, VPos::Top)), (cx, yb)).d()?;
            }
        }
    }
    Ok(())
}

fn draw_colour_bar<DB: DrawingBackend>(
    bar: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
    reverse: bool,
    label: &str,
    h: i32,
) -> R<()> {
    let tick = font(TICK_PX, false, BLACK);
    let (x0, x1) = (20, 52);
    let (y0, y1) = (30, h - 60);
    let steps = 120;
    for i in 0..steps {
        let t0 = i as f64 / steps as f64;
        let ya = y1 - ((y1 - y0) as f64 * (i + 1) as f64 / steps as f64) as i32;
        let yb = y1 - ((y1 - y0) as f64 * i as f64 / steps as f64) as i32;
        let t = t0 + 0.5 / steps as f64;
        let col = if reverse {
            viridis(1.0 - t)
        } else {
            viridis(t)
        };
        bar.draw(&Rectangle::new([(x0, ya), (x1, yb + 1)], col.filled()))
            .d()?;
    }
    bar.draw(&Rectangle::new([(x0, y0), (x1, y1)], BLACK.stroke_width(1)))
        .d()?;
    let step = nice_step(lo, hi, 5.0);
    let dec = decimals_for(step);
    for v in tick_values(lo, hi, step) {
        let y = y1 - ((v - lo) / (hi - lo) * (y1 - y0) as f64) as i32;
        bar.draw(&PathElement::new(
            vec![(x1, y), (x1 + 6, y)],
            BLACK.stroke_width(2),
        ))
        .d()?;
        draw_str(
            bar,
            &fmt_num(v, dec),
            &tick.pos(Pos::new(HPos::Left, VPos::Center)),
            (x1 + 10, y),
        )
        .d()?;
    }
    // The quantity, rotated, at the right edge.
    let (bw, _) = bar.dim_in_pixel();
    let mut px = AXIS_DESC_PX - 2.0; // even
    let mut st = font(px, false, BLACK);
    while px > 14.0 && text_w(bar, label, &st)? > y1 - y0 {
        px -= 2.0;
        st = font(px, false, BLACK);
    }
    draw_str(
        bar,
        label,
        &st.transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Center, VPos::Center)),
        (bw as i32 - 18, (y0 + y1) / 2),
    )
    .d()?;
    Ok(())
}

fn draw_bars<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &BarChart) -> R<()> {
    let inner = axis_descs(area, &c.value_label, &c.category_label)?;
    let hi = c
        .panels
        .iter()
        .flat_map(|p| {
            p.bars
                .iter()
                .flat_map(|b| b.values.iter().copied().chain(b.err.iter().map(|e| e.1)))
        })
        .filter(|v| v.is_finite())
        .fold(0.0f64, f64::max)
        .min(AXIS_MAX);
    let hi = if hi > 0.0 { hi * 1.12 } else { 1.0 };
    let titles: Vec<Option<&str>> = c.panels.iter().map(|p| p.title.as_deref()).collect();
    let areas = panels(&inner, &titles)?;
    let tick = font(TICK_PX, false, BLACK);
    for (p, a) in c.panels.iter().zip(&areas) {
        let (aw, _) = a.dim_in_pixel();
        let k = p.categories.len().max(1);
        let mut names = Vec::new();
        let mut lw = 0;
        for s in &p.categories {
            let s = shorten(a, s, &tick, aw as i32 * 2 / 5)?;
            lw = lw.max(text_w(a, &s, &tick)?);
            names.push(s);
        }
        let mut ax = Axes::numeric((0.0, hi), (-0.5, k as f64 - 0.5));
        ax.y_hidden = true;
        ax.y_label_area = lw + 18;
        let chart = frame(a, &ax)?;
        let base = a.get_base_pixel();
        let m = p.bars.len().max(1) as f64;
        let band = 0.8 / m;
        // Value labels no taller than a bar (even sizes, 14..20 px).
        let bar_px =
            (chart.backend_coord(&(0.0, 0.0)).1 - chart.backend_coord(&(0.0, band)).1).abs();
        let px = (bar_px + 2).clamp(14, CELL_PX as i32 + 2) / 2 * 2;
        let val_st = font(px as f64, false, BLACK);
        for (j, b) in p.bars.iter().enumerate() {
            for (i, &v) in b.values.iter().enumerate() {
                let yc = (k - 1 - i) as f64;
                let top = yc + 0.4 - j as f64 * band;
                let bot = top - band * 0.92;
                if v.is_finite() {
                    chart
                        .plotting_area()
                        .draw(&Rectangle::new([(0.0, bot), (v, top)], b.colour.filled()))
                        .d()?;
                }
                let mut end = v;
                if let Some(&(el, eh)) = b.err.get(i)
                    && el.is_finite()
                    && eh.is_finite()
                {
                    let ym = (top + bot) / 2.0;
                    chart
                        .plotting_area()
                        .draw(&PathElement::new(
                            vec![(el, ym), (eh, ym)],
                            BLACK.stroke_width(2),
                        ))
                        .d()?;
                    end = end.max(eh);
                }
                let (px, py) = chart
                    .backend_coord(&(if end.is_finite() { end } else { 0.0 }, (top + bot) / 2.0));
                let s = if v.is_finite() {
                    format!("{}{}", fmt_num(v, c.decimals), c.value_suffix)
                } else {
                    "NA".into()
                };
                draw_str(
                    a,
                    &s,
                    &val_st.pos(Pos::new(HPos::Left, VPos::Center)),
                    (px - base.0 + 8, py - base.1),
                )
                .d()?;
            }
        }
        for (i, s) in names.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(0.0, (k - 1 - i) as f64));
            draw_str(
                a,
                s,
                &tick.pos(Pos::new(HPos::Right, VPos::Center)),
                (px - base.0 - 10, py - base.1),
            )
            .d()?;
        }
    }
    Ok(())
}

/// Deterministic jitter in -0.5..0.5 (golden-ratio sequence).
fn jitter(i: usize) -> f64 {
    ((i as f64 + 1.0) * 0.618_033_988_749_895).fract() - 0.5
}

fn draw_strip<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &StripChart) -> R<()> {
    let inner = axis_descs(area, &c.x_label, &c.y_label)?;
    let y = padded(
        c.boxes
            .iter()
            .flatten()
            .flat_map(|(_, v)| v.iter().copied()),
        false,
    );
    let k = c.categories.len().max(1);
    let tick = font(TICK_PX, false, BLACK);
    let (aw, _) = inner.dim_in_pixel();
    let slot = (aw as i32 - 120) / k as i32;
    // Category names, wrapped to the slot width.
    let mut names = Vec::new();
    let mut lines_max = 1;
    for s in &c.categories {
        let lines = wrap(
            &inner,
            &s.replace(", ", ",\u{a0}").replace(",\u{a0}", ", "),
            &tick,
            slot - 8,
        )?;
        lines_max = lines_max.max(lines.len().min(3));
        names.push(lines);
    }
    let mut ax = Axes::numeric((-0.5, k as f64 - 0.5), y);
    ax.x_hidden = true;
    ax.x_label_area = (lines_max as f64 * TICK_PX * 1.3) as i32 + 16;
    let chart = frame(&inner, &ax)?;
    let base = inner.get_base_pixel();
    let pa = chart.plotting_area();
    for (ci, boxes) in c.boxes.iter().enumerate() {
        let m = boxes.len().max(1) as f64;
        let width = 0.8 / m;
        for (j, (colour, values)) in boxes.iter().enumerate() {
            let xc = ci as f64 - 0.4 + width * (j as f64 + 0.5);
            let v = super::stats::sorted_finite(values.iter().copied());
            if v.is_empty() {
                continue;
            }
            let q1 = super::stats::quantile(&v, 0.25);
            let q2 = super::stats::quantile(&v, 0.5);
            let q3 = super::stats::quantile(&v, 0.75);
            let iqr = q3 - q1;
            let wlo = v
                .iter()
                .copied()
                .find(|&x| x >= q1 - 1.5 * iqr)
                .unwrap_or(q1);
            let whi = v
                .iter()
                .rev()
                .copied()
                .find(|&x| x <= q3 + 1.5 * iqr)
                .unwrap_or(q3);
            let hw = width * 0.36;
            pa.draw(&Rectangle::new(
                [(xc - hw, q1), (xc + hw, q3)],
                colour.mix(0.18).filled(),
            ))
            .d()?;
            pa.draw(&Rectangle::new(
                [(xc - hw, q1), (xc + hw, q3)],
                colour.stroke_width(2),
            ))
            .d()?;
            pa.draw(&PathElement::new(
                vec![(xc - hw, q2), (xc + hw, q2)],
                colour.stroke_width(5),
            ))
            .d()?;
            for (a, b) in [(wlo, q1), (q3, whi)] {
                pa.draw(&PathElement::new(
                    vec![(xc, a), (xc, b)],
                    colour.stroke_width(2),
                ))
                .d()?;
            }
            for wv in [wlo, whi] {
                pa.draw(&PathElement::new(
                    vec![(xc - hw * 0.5, wv), (xc + hw * 0.5, wv)],
                    colour.stroke_width(2),
                ))
                .d()?;
            }
            for (i, &val) in values.iter().enumerate() {
                if val.is_finite() {
                    let xj = xc + jitter(i) * hw * 1.4;
                    pa.draw(&Circle::new((xj, val), 5, colour.mix(0.75).filled()))
                        .d()?;
                }
            }
        }
    }
    for (ci, lines) in names.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(ci as f64, y.0));
        for (li, line) in lines.iter().take(3).enumerate() {
            draw_str(
                &inner,
                line,
                &tick.pos(Pos::new(HPos::Center, VPos::Top)),
                (
                    px - base.0,
                    py - base.1 + 10 + (li as f64 * TICK_PX * 1.3) as i32,
                ),
            )
            .d()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_formatting() {
        assert_eq!(fmt_num(-0.0001, 2), "0.00");
        assert_eq!(fmt_num(12345.6, 1), "12,345.6");
        assert_eq!(fmt_num(1234.0, 0), "1234");
        assert_eq!(fmt_num(-1234567.0, 0), "-1,234,567");
        assert_eq!(decimals_for(0.25), 2);
        assert_eq!(decimals_for(0.5), 1);
        assert_eq!(decimals_for(10.0), 0);
        assert_eq!(nice_step(0.0, 100.0, 5.0), 20.0);
        assert_eq!(fmt_num(1.5e300, 0), "1.5e300");
        assert_eq!(fmt_num(-2e20, 2), "-2e20");
        // A range of +-1e308 has an infinite span: its axis is limited, and has few ticks.
        let (lo, hi) = padded([1e308, -1e308].into_iter(), false);
        assert!(
            lo.is_finite() && hi.is_finite() && (hi - lo).is_finite(),
            "{lo} {hi}"
        );
        let ticks = tick_values(lo, hi, nice_step(lo, hi, 7.0));
        assert!((3..=15).contains(&ticks.len()), "{ticks:?}");
        assert!(tick_values(0.0, f64::INFINITY, 1.0).is_empty());
        assert!(tick_values(-1e308, 1e308, 1.0).len() <= MAX_TICKS);
        assert_eq!(grid(5), (2, 3));
    }
}
