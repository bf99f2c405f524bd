//! Charts and an HTML report from an output directory, a single run's or a sweep's.
//!
//! [`plot_dir`] reads the CSV and JSON files in a directory, decides whether it holds one run
//! (`ticks.csv`, `agencies.csv`, `groups.csv`, `dumping.csv`) or a sweep (`runs.csv`,
//! `summary.csv`, `paired.csv`, ...), and draws every chart the files support into
//! `DIR/plots/`, each as PNG (1600x1000) and SVG. It then writes `DIR/report.html`: one
//! self-contained page (charts inlined as base64 PNG) with the settings from
//! `manifest.json` and summary tables, readable offline. Charts the files cannot support are
//! listed, with the reason, in [`PlotReport::skipped`].
//!
//! Every file is checked before anything is drawn: a missing required column or a
//! non-numeric value is a [`PlotError`] naming the file, line and column. Output is a pure
//! function of the input files: the same files give byte-identical PNG, SVG and HTML.
//!
//! Text uses DejaVu Sans embedded in the binary, so no system fonts are needed.

mod data;
pub(crate) mod draw;
mod error;
mod fact;
mod labels;
mod national;
mod report;
mod run;
mod stats;
mod style;
mod sweep;
pub(crate) mod text;

use std::fmt;
use std::path::{Path, PathBuf};

pub use error::PlotError;
pub use fact::fact_chart;
pub use labels::KEY_OBSERVABLES;

/// What kind of output directory was drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// One run: `ticks.csv`, `agencies.csv`, `groups.csv`, `dumping.csv`, `manifest.json`.
    Run,
    /// A sweep: `runs.csv`, `summary.csv`, `paired.csv`, `points.csv`, ... and `manifest.json`.
    Sweep,
    /// A national run: `localities.csv`, `ticks.csv` with a `locality` column,
    /// `locality_agencies.csv`, `manifest.json`.
    National,
}

impl fmt::Display for OutputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OutputKind::Run => "run",
            OutputKind::Sweep => "sweep",
            OutputKind::National => "national run",
        })
    }
}

/// Choices for [`plot_dir`].
#[derive(Debug, Clone)]
pub struct PlotOptions {
    /// Observables drawn over time (and, for a sweep, as paired differences, dose-response,
    /// heatmaps and distributions), by CSV column name. Default: [`KEY_OBSERVABLES`].
    /// Names absent from the files are listed as skipped.
    pub observables: Vec<String>,
    /// Write `DIR/report.html` (default true).
    pub report: bool,
    /// A sweep with more design points than this draws per-point charts (panels, or one
    /// file per point) for this many evenly spaced points only (default 9).
    pub max_points: usize,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            observables: KEY_OBSERVABLES.iter().map(|s| s.to_string()).collect(),
            report: true,
            max_points: 9,
        }
    }
}

/// One chart written.
#[derive(Debug, Clone)]
pub struct ChartFile {
    /// File stem, e.g. `time_share_need_met`.
    pub name: String,
    pub title: String,
    pub png: PathBuf,
    pub svg: PathBuf,
}

/// One chart not drawn, and why.
#[derive(Debug, Clone)]
pub struct Skipped {
    /// The chart (or chart family) not drawn, e.g. `agenda_vs_need`.
    pub chart: String,
    pub reason: String,
}

/// What [`plot_dir`] did.
#[derive(Debug, Clone)]
pub struct PlotReport {
    pub kind: OutputKind,
    /// The directory drawn.
    pub dir: PathBuf,
    /// `DIR/plots`.
    pub plots_dir: PathBuf,
    pub charts: Vec<ChartFile>,
    pub skipped: Vec<Skipped>,
    /// Rows and values of the input files that were skipped or are doubtful (rows with the
    /// wrong number of fields, infinite values, a file cut short), one sentence each naming
    /// the file. The charts are drawn without them.
    pub warnings: Vec<String>,
    /// `DIR/report.html`, if written.
    pub report: Option<PathBuf>,
}

impl fmt::Display for PlotReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "drew {} charts (PNG + SVG) of the {} in {}",
            self.charts.len(),
            self.kind,
            self.plots_dir.display()
        )?;
        if let Some(r) = &self.report {
            write!(f, "; report {}", r.display())?;
        }
        for w in &self.warnings {
            write!(f, "\nwarning: {w}")?;
        }
        if !self.skipped.is_empty() {
            write!(f, "\nskipped {}:", self.skipped.len())?;
            for s in &self.skipped {
                write!(f, "\n  {}: {}", s.chart, s.reason)?;
            }
        }
        Ok(())
    }
}

/// Files whose presence marks a run's output directory.
pub const RUN_MARKERS: [&str; 5] = [
    "ticks.csv",
    "agencies.csv",
    "groups.csv",
    "needs.csv",
    "dumping.csv",
];
/// Files whose presence marks a sweep's output directory.
pub const SWEEP_MARKERS: [&str; 4] = ["runs.csv", "summary.csv", "paired.csv", "points.csv"];

/// Decide whether `dir` holds a run's or a sweep's output.
pub fn detect(dir: &Path) -> Result<OutputKind, PlotError> {
    let meta = std::fs::metadata(dir).map_err(|source| PlotError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(PlotError::NotAnOutputDir {
            dir: dir.to_path_buf(),
        });
    }
    if SWEEP_MARKERS.iter().any(|f| dir.join(f).is_file()) {
        Ok(OutputKind::Sweep)
    } else if national::is_national(dir) {
        Ok(OutputKind::National)
    } else if RUN_MARKERS.iter().any(|f| dir.join(f).is_file()) {
        Ok(OutputKind::Run)
    } else {
        Err(PlotError::NotAnOutputDir {
            dir: dir.to_path_buf(),
        })
    }
}

/// What the run and sweep modules hand back: figures to draw and the report's content.
#[derive(Default)]
pub(crate) struct Built {
    pub figures: Vec<draw::Figure>,
    pub skipped: Vec<Skipped>,
    /// See [`PlotReport::warnings`].
    pub warnings: Vec<String>,
    pub report: report::Content,
}

impl Built {
    pub fn skip(&mut self, chart: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            chart: chart.into(),
            reason: reason.into(),
        });
    }

    /// Keep what reading these tables skipped or doubted, as warnings.
    pub fn note_tables<'t>(&mut self, tables: impl IntoIterator<Item = Option<&'t data::Table>>) {
        for t in tables.into_iter().flatten() {
            self.warnings.extend_from_slice(t.notes());
        }
    }
}

/// Draw every chart the files in `dir` support into `dir/plots/` (PNG and SVG) and write
/// `dir/report.html`. See the module documentation.
pub fn plot_dir(dir: &Path, opts: &PlotOptions) -> Result<PlotReport, PlotError> {
    style::register_fonts()?;
    let kind = detect(dir)?;
    let built = match kind {
        OutputKind::Run => run::build(dir, opts)?,
        OutputKind::Sweep => sweep::build(dir, opts)?,
        OutputKind::National => national::build(dir, opts)?,
    };
    let plots_dir = dir.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|source| PlotError::Write {
        path: plots_dir.clone(),
        source,
    })?;
    let mut charts = Vec::new();
    for fig in &built.figures {
        charts.push(write_figure(&plots_dir, fig)?);
    }
    let report = if opts.report {
        Some(report::write(dir, kind, &built, &charts)?)
    } else {
        None
    };
    Ok(PlotReport {
        kind,
        dir: dir.to_path_buf(),
        plots_dir,
        charts,
        skipped: built.skipped,
        warnings: built.warnings,
        report,
    })
}

/// Render one figure to `plots/NAME.png` and `plots/NAME.svg`, each written under a
/// temporary name and renamed into place when complete ([`crate::output::AtomicFile`]).
fn write_figure(plots: &Path, fig: &draw::Figure) -> Result<ChartFile, PlotError> {
    let png_name = format!("{}.png", fig.name);
    let svg_name = format!("{}.svg", fig.name);
    let (png, svg) = (plots.join(&png_name), plots.join(&svg_name));
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PlotError::Write { path, source }
    };
    let draw_err = |message| PlotError::Draw {
        path: png.clone(),
        message,
    };
    let svg_text = draw::svg(fig).map_err(draw_err)?;
    let png_file = crate::output::AtomicFile::create(plots, &png_name).map_err(write_err(&png))?;
    draw::save_png(fig, png_file.temp_path()).map_err(draw_err)?;
    png_file.commit().map_err(write_err(&png))?;
    crate::output::write_atomic(plots, &svg_name, svg_text.as_bytes()).map_err(write_err(&svg))?;
    Ok(ChartFile {
        name: fig.name.clone(),
        title: fig.title.clone(),
        png,
        svg,
    })
}
