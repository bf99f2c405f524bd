//! What can go wrong when drawing an output directory. Every message names the file, and
//! where it applies the line, the column, what was expected and what was found.

use std::path::PathBuf;

/// An error from [`super::plot_dir`]. Absent optional files are not errors (the charts they
/// would support are listed as skipped in the [`super::PlotReport`]); unreadable or malformed
/// files are.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error(
        "{}: not a silos output directory: it holds none of ticks.csv, agencies.csv, groups.csv, \
dumping.csv (a run's output) or runs.csv, summary.csv, paired.csv (a sweep's output)",
        dir.display()
    )]
    NotAnOutputDir { dir: PathBuf },

    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}: cannot write: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}: the file is empty; expected a header line like `{expected}`", path.display())]
    Empty { path: PathBuf, expected: String },

    #[error(
        "{}: the header lacks column(s) {missing}; expected a header like `{expected}`, found `{found}`",
        path.display()
    )]
    Header {
        path: PathBuf,
        missing: String,
        expected: String,
        found: String,
    },

    #[error("{}, line {line}, column `{column}`: expected {expected}, found `{value}`", path.display())]
    Value {
        path: PathBuf,
        line: u64,
        column: String,
        value: String,
        expected: String,
    },

    #[error("{}, line {line}: {message}", path.display())]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },

    #[error("{}: not valid JSON: {source}", path.display())]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },

    #[error("{}: field `{field}`: expected {expected}", path.display())]
    Manifest {
        path: PathBuf,
        field: String,
        expected: String,
    },

    #[error("cannot load the embedded chart font: {0}")]
    Font(String),

    #[error("{}: drawing failed: {message}", path.display())]
    Draw { path: PathBuf, message: String },
}
