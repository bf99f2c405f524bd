//! Sizes, fonts and colours shared by every chart.
//!
//! Text is drawn with DejaVu Sans embedded in the binary (the `dejavu` crate) and registered
//! with plotters' `ab_glyph` renderer, so charts render the same on a machine with no
//! system fonts. Licence: `assets/fonts/DejaVu-LICENSE.txt`.

use std::sync::OnceLock;

use plotters::style::{BLACK, FontStyle, RGBColor, WHITE};

use super::PlotError;

/// Chart size in pixels (PNG) and user units (SVG): slide-sized.
pub const WIDTH: u32 = 1600;
pub const HEIGHT: u32 = 1000;

/// The one font family every chart uses (registered by [`register_fonts`]).
pub const FONT: &str = "sans-serif";

// Font sizes in pixels. They are even: plotters' glyph placement truncates size/2, and an odd
// size makes the baseline wobble by a pixel between tall and short letters.
pub const TITLE_PX: f64 = 38.0;
pub const SUBTITLE_PX: f64 = 24.0;
pub const PANEL_TITLE_PX: f64 = 24.0;
pub const AXIS_DESC_PX: f64 = 24.0;
pub const TICK_PX: f64 = 22.0;
pub const LEGEND_PX: f64 = 22.0;
pub const POINT_LABEL_PX: f64 = 20.0;
pub const CELL_PX: f64 = 18.0;
pub const FOOTER_PX: f64 = 18.0;

/// Outer margin of a chart, pixels.
pub const MARGIN: i32 = 36;

/// Okabe-Ito, the colour-blind-safe palette (Okabe and Ito 2008), in its usual order.
pub const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
];

/// The order series take colours in: strongest contrast on white first, yellow last.
const SERIES_ORDER: [usize; 8] = [5, 6, 3, 1, 7, 2, 0, 4];

/// Colour of the `i`th series (arm, group, level, ...).
pub fn series(i: usize) -> RGBColor {
    OKABE_ITO[SERIES_ORDER[i % SERIES_ORDER.len()]]
}

pub const TEXT_GREY: RGBColor = RGBColor(0x4D, 0x4D, 0x4D);
pub const GRID: RGBColor = RGBColor(0xE3, 0xE3, 0xE3);
pub const GRID_BOLD: RGBColor = RGBColor(0xC8, 0xC8, 0xC8);
pub const EMPTY_CELL: RGBColor = RGBColor(0xF2, 0xF2, 0xF2);

/// Viridis, the perceptually uniform colour-blind-safe sequential map, at 11 stops.
const VIRIDIS: [(u8, u8, u8); 11] = [
    (0x44, 0x01, 0x54),
    (0x48, 0x24, 0x75),
    (0x41, 0x44, 0x87),
    (0x35, 0x5F, 0x8D),
    (0x2A, 0x78, 0x8E),
    (0x21, 0x91, 0x8C),
    (0x22, 0xA8, 0x84),
    (0x44, 0xBF, 0x70),
    (0x7A, 0xD1, 0x51),
    (0xBC, 0xDF, 0x27),
    (0xFD, 0xE7, 0x25),
];

/// Viridis colour at `t` in 0..=1 (clamped; NaN maps to the low end).
pub fn viridis(t: f64) -> RGBColor {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let x = t * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    let mix = |p: u8, q: u8| (p as f64 + (q as f64 - p as f64) * f).round() as u8;
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Black or white, whichever reads better on `c`.
pub fn text_on(c: RGBColor) -> RGBColor {
    let lum = 0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64;
    if lum > 140.0 { BLACK } else { WHITE }
}

/// Register the embedded DejaVu Sans (regular and bold) as plotters' `sans-serif`. Runs once
/// per process; later calls return the first result.
pub fn register_fonts() -> Result<(), PlotError> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .map_err(|_| "DejaVu Sans regular is not a readable font".to_string())?;
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .map_err(|_| "DejaVu Sans bold is not a readable font".to_string())?;
        Ok(())
    })
    .clone()
    .map_err(PlotError::Font)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_ends_and_contrast() {
        assert_eq!(viridis(0.0), RGBColor(0x44, 0x01, 0x54));
        assert_eq!(viridis(1.0), RGBColor(0xFD, 0xE7, 0x25));
        assert_eq!(text_on(viridis(0.0)), WHITE);
        assert_eq!(text_on(viridis(1.0)), BLACK);
        assert_eq!(series(0), RGBColor(0x00, 0x72, 0xB2));
    }
}
