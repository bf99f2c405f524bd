//! Text placement that corrects two flaws of plotters 0.3.7's `ab_glyph` renderer in
//! bitmaps:
//!
//! - it drops each glyph's left side bearing, so letters crowd or gap unevenly ("ro w");
//! - its vertical anchors miss by about an eighth of the font size (text sits high).
//!
//! For PNG output each character is drawn on its own at its pen position plus its left side
//! bearing, read from the embedded font with `ttf-parser`, with the baseline placed from the
//! font's own cap height and descender. SVG output is left to plotters: the viewer lays the
//! text out.

use std::cell::Cell;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, Pos, VPos};

thread_local! {
    static BITMAP: Cell<bool> = const { Cell::new(false) };
}

/// While alive, text is drawn glyph by glyph (set while drawing a PNG).
pub struct BitmapMode;

impl BitmapMode {
    pub fn on() -> BitmapMode {
        BITMAP.with(|b| b.set(true));
        BitmapMode
    }
}

impl Drop for BitmapMode {
    fn drop(&mut self) {
        BITMAP.with(|b| b.set(false));
    }
}

/// The metrics of one TrueType font that the placement needs, read with `ttf-parser`.
struct Metrics {
    face: ttf_parser::Face<'static>,
    /// hhea ascender - descender (font units): ab_glyph's pixel scale divides by this.
    height: f64,
    /// Cap height (OS/2 version 2 and later; otherwise estimated from the height).
    cap: f64,
    /// -(hhea descender), font units.
    descent: f64,
}

impl Metrics {
    fn parse(bytes: &'static [u8]) -> Option<Metrics> {
        let face = ttf_parser::Face::parse(bytes, 0).ok()?;
        let hhea = face.tables().hhea;
        let (ascender, descender) = (f64::from(hhea.ascender), f64::from(hhea.descender));
        let cap = face
            .capital_height()
            .map_or(0.7 * (ascender - descender) * 0.86, f64::from);
        Some(Metrics {
            face,
            height: ascender - descender,
            cap,
            descent: -descender,
        })
    }

    /// Glyph id of `c` (0, the missing glyph, when the font has none).
    fn glyph(&self, c: char) -> ttf_parser::GlyphId {
        self.face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0))
    }

    /// Left side bearing of `c` in pixels at font size `px`.
    fn lsb_px(&self, c: char, px: f64) -> i32 {
        let lsb = self.face.glyph_hor_side_bearing(self.glyph(c)).unwrap_or(0);
        (f64::from(lsb) * px / self.height).floor() as i32
    }
}

fn metrics(bold: bool) -> Option<&'static Metrics> {
    static REGULAR: OnceLock<Option<Metrics>> = OnceLock::new();
    static BOLD: OnceLock<Option<Metrics>> = OnceLock::new();
    if bold {
        BOLD.get_or_init(|| Metrics::parse(dejavu::sans::bold()))
            .as_ref()
    } else {
        REGULAR
            .get_or_init(|| Metrics::parse(dejavu::sans::regular()))
            .as_ref()
    }
}

fn transform(t: &FontTransform, x: i32, y: i32) -> (i32, i32) {
    match t {
        FontTransform::None => (x, y),
        FontTransform::Rotate90 => (-y, x),
        FontTransform::Rotate180 => (-x, -y),
        FontTransform::Rotate270 => (y, -x),
    }
}

/// Draw `text` anchored at `pos` (relative to `area`) with the anchor and rotation of `st`.
pub fn draw_str<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    st: &TextStyle,
    pos: (i32, i32),
) -> Result<(), String> {
    if text.is_empty() {
        return Ok(());
    }
    let bold = matches!(st.font.get_style(), FontStyle::Bold);
    let m = match (BITMAP.with(|b| b.get()), metrics(bold)) {
        (true, Some(m)) => m,
        _ => return area.draw_text(text, st, pos).map_err(|e| e.to_string()),
    };
    let px = st.font.get_size();
    // Widths at 16 times the size, so pen positions keep sub-pixel precision (plotters
    // reports whole pixels).
    const SUB: f64 = 16.0;
    let big = TextStyle {
        font: st.font.resize(px * SUB),
        color: st.color,
        pos: st.pos,
    };
    let width = |s: &str| -> Result<f64, String> {
        Ok(area
            .estimate_text_size(s, &big)
            .map_err(|e| e.to_string())?
            .0 as f64
            / SUB)
    };
    let w = width(text)?;
    let dx = match st.pos.h_pos {
        HPos::Left => 0.0,
        HPos::Center => -w / 2.0,
        HPos::Right => -w,
    };
    // Baseline offset from the anchor, from the font's cap height and descender.
    let scale = px / m.height;
    let baseline = match st.pos.v_pos {
        VPos::Top => m.cap * scale,
        VPos::Center => m.cap * scale / 2.0,
        VPos::Bottom => -m.descent * scale,
    };
    // plotters puts the baseline at size/2 below the top of a glyph drawn with VPos::Top.
    let dy = (baseline - px / 2.0).round() as i32;
    let trans = st.font.get_transform();
    let glyph_style = st.pos(Pos::new(HPos::Left, VPos::Top));
    let mut prefix = String::new();
    let mut buf = [0u8; 4];
    for c in text.chars() {
        if !c.is_whitespace() {
            // Pen position, including the kerning with the previous character.
            let pen = if prefix.is_empty() {
                0.0
            } else {
                width(&format!("{prefix}{c}"))? - width(c.encode_utf8(&mut buf))?
            };
            // plotters puts the glyph's ink box (whole pixels) at the position given.
            let ox = (dx + pen).round() as i32 + m.lsb_px(c, px);
            let (tx, ty) = transform(&trans, ox, dy);
            area.draw_text(
                c.encode_utf8(&mut buf),
                &glyph_style,
                (pos.0 + tx, pos.1 + ty),
            )
            .map_err(|e| e.to_string())?;
        }
        prefix.push(c);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dejavu_metrics_parse() {
        let m = metrics(false).expect("DejaVu Sans parses");
        let missing = ttf_parser::GlyphId(0);
        assert!(m.glyph('A') != missing && m.glyph('w') != missing && m.glyph('é') != missing);
        assert_ne!(m.glyph('A'), m.glyph('B'));
        // 'r' sits further from its pen position than 'w' does.
        assert!(m.lsb_px('r', 100.0) > m.lsb_px('w', 100.0));
        assert!(metrics(true).is_some());
        assert!(m.cap > 0.0 && m.descent > 0.0 && m.height > m.cap);
    }
}
