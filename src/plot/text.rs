//! Text placement that corrects two flaws of plotters 0.3.7's `ab_glyph` renderer in
//! bitmaps:
//!
//! - it drops each glyph's left side bearing, so letters crowd or gap unevenly ("ro w");
//! - its vertical anchors miss by about an eighth of the font size (text sits high).
//!
//! For PNG output each character is drawn on its own at its pen position plus its left side
//! bearing, read from the embedded font's `hmtx` table, with the baseline placed from the
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

/// Horizontal metrics of one TrueType font.
struct Metrics {
    /// ascender - descender (font units): ab_glyph's pixel scale divides by this.
    height: f64,
    cap: f64,
    descent: f64,
    /// Left side bearing per glyph id.
    lsb: Vec<i16>,
    /// cmap format 4 segments: (end, start, delta, range offset, position of the range offset).
    segs: Vec<(u16, u16, u16, u16, usize)>,
    bytes: &'static [u8],
}

fn u16_at(b: &[u8], o: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(o)?, *b.get(o + 1)?]))
}

fn u32_at(b: &[u8], o: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(o)?,
        *b.get(o + 1)?,
        *b.get(o + 2)?,
        *b.get(o + 3)?,
    ]))
}

impl Metrics {
    fn parse(bytes: &'static [u8]) -> Option<Metrics> {
        let n = u16_at(bytes, 4)? as usize;
        let table = |tag: &[u8; 4]| -> Option<usize> {
            (0..n).find_map(|i| {
                let r = 12 + 16 * i;
                (bytes.get(r..r + 4)? == tag).then(|| u32_at(bytes, r + 8).map(|o| o as usize))?
            })
        };
        let hhea = table(b"hhea")?;
        let ascender = u16_at(bytes, hhea + 4)? as i16 as f64;
        let descender = u16_at(bytes, hhea + 6)? as i16 as f64;
        let n_hmetrics = u16_at(bytes, hhea + 34)? as usize;
        let maxp = table(b"maxp")?;
        let n_glyphs = u16_at(bytes, maxp + 4)? as usize;
        let hmtx = table(b"hmtx")?;
        let mut lsb = Vec::with_capacity(n_glyphs);
        for g in 0..n_glyphs {
            let o = if g < n_hmetrics {
                hmtx + 4 * g + 2
            } else {
                hmtx + 4 * n_hmetrics + 2 * (g - n_hmetrics)
            };
            lsb.push(u16_at(bytes, o)? as i16);
        }
        let cap = table(b"OS/2")
            .and_then(|os2| {
                let version = u16_at(bytes, os2)?;
                if version >= 2 {
                    Some(u16_at(bytes, os2 + 88)? as i16 as f64)
                } else {
                    None
                }
            })
            .unwrap_or(0.7 * (ascender - descender) * 0.86);
        let cmap = table(b"cmap")?;
        let n_sub = u16_at(bytes, cmap + 2)? as usize;
        let mut sub = None;
        for i in 0..n_sub {
            let r = cmap + 4 + 8 * i;
            let (pid, eid) = (u16_at(bytes, r)?, u16_at(bytes, r + 2)?);
            let off = cmap + u32_at(bytes, r + 4)? as usize;
            if u16_at(bytes, off)? == 4 && ((pid == 3 && eid == 1) || pid == 0) {
                sub = Some(off);
                break;
            }
        }
        let sub = sub?;
        let seg_count = u16_at(bytes, sub + 6)? as usize / 2;
        let ends = sub + 14;
        let starts = ends + 2 * seg_count + 2;
        let deltas = starts + 2 * seg_count;
        let ranges = deltas + 2 * seg_count;
        let mut segs = Vec::with_capacity(seg_count);
        for i in 0..seg_count {
            segs.push((
                u16_at(bytes, ends + 2 * i)?,
                u16_at(bytes, starts + 2 * i)?,
                u16_at(bytes, deltas + 2 * i)?,
                u16_at(bytes, ranges + 2 * i)?,
                ranges + 2 * i,
            ));
        }
        Some(Metrics {
            height: ascender - descender,
            cap,
            descent: -descender,
            lsb,
            segs,
            bytes,
        })
    }

    fn glyph(&self, c: char) -> u16 {
        let Ok(c) = u16::try_from(c as u32) else {
            return 0;
        };
        for &(end, start, delta, ro, ro_pos) in &self.segs {
            if c > end {
                continue;
            }
            if c < start {
                return 0;
            }
            if ro == 0 {
                return c.wrapping_add(delta);
            }
            let at = ro_pos + ro as usize + 2 * (c - start) as usize;
            return match u16_at(self.bytes, at) {
                Some(0) | None => 0,
                Some(g) => g.wrapping_add(delta),
            };
        }
        0
    }

    /// Left side bearing of `c` in pixels at font size `px`.
    fn lsb_px(&self, c: char, px: f64) -> i32 {
        let g = self.glyph(c) as usize;
        let lsb = self.lsb.get(g).copied().unwrap_or(0) as f64;
        (lsb * px / self.height).floor() as i32
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
        assert!(m.glyph('A') != 0 && m.glyph('w') != 0 && m.glyph('é') != 0);
        assert_ne!(m.glyph('A'), m.glyph('B'));
        // 'r' sits further from its pen position than 'w' does.
        assert!(m.lsb_px('r', 100.0) > m.lsb_px('w', 100.0));
        assert!(metrics(true).is_some());
        assert!(m.cap > 0.0 && m.descent > 0.0 && m.height > m.cap);
    }
}
