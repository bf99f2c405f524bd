//! Experiment files: a base scenario, arms, factors and replicates (`docs/experiments.md`).
//!
//! An experiment is validated completely before any run starts: the file's fields, every
//! factor path and value, and the scenario of every (design point, arm) pair. Errors name
//! the experiment file, the field, the value and what is allowed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rand::RngExt;
use serde::Deserialize;
use toml::Value;

use crate::engine::BehaviourChoice;
use crate::overrides::Override;
use crate::rng::{self, Stream};
use crate::scenario::{DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, Scenario};

/// Anything wrong with an experiment.
#[derive(Debug, thiserror::Error)]
pub enum ExperimentError {
    #[error("{file}: cannot read: {message}")]
    Io { file: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: field `{field}` has value {value}; allowed: {allowed}")]
    Invalid {
        file: String,
        field: String,
        value: String,
        allowed: String,
    },
    #[error("{file}: design point {point} ({settings}), arm {arm:?}: {cause}")]
    Scenario {
        file: String,
        point: usize,
        settings: String,
        arm: String,
        cause: Box<crate::error::ScenarioError>,
    },
}

mod raw {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub experiment: Meta,
        #[serde(default)]
        pub arms: Vec<Arm>,
        #[serde(default)]
        pub factors: Vec<Factor>,
        #[serde(default)]
        pub outputs: Option<Outputs>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Outputs {
        #[serde(default)]
        pub window: Option<Window>,
        #[serde(default)]
        pub statistics: Option<Vec<String>>,
        #[serde(default)]
        pub series: Option<Vec<String>>,
        #[serde(default)]
        pub formats: Option<Vec<String>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Window {
        pub from: u32,
        pub to: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Meta {
        pub name: String,
        #[serde(default)]
        pub description: String,
        pub scenario: String,
        pub replicates: u32,
        pub master_seed: u64,
        #[serde(default)]
        pub ticks: Option<u32>,
        #[serde(default)]
        pub reference_arm: Option<String>,
        #[serde(default)]
        pub lhs_points: Option<u32>,
        #[serde(default)]
        pub design_csv: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Arm {
        pub name: String,
        #[serde(default)]
        pub behaviour: Option<String>,
        #[serde(default)]
        pub set: BTreeMap<String, Value>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Factor {
        pub path: String,
        #[serde(default)]
        pub name: Option<String>,
        #[serde(default)]
        pub values: Option<Vec<Value>>,
        #[serde(default)]
        pub range: Option<Range>,
        #[serde(default)]
        pub lhs: Option<Lhs>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Range {
        pub from: Value,
        pub to: Value,
        pub step: Value,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Lhs {
        pub from: f64,
        pub to: f64,
        #[serde(default)]
        pub integer: bool,
    }
}

/// One arm: a behaviour choice and overrides applied on top of the design point.
#[derive(Debug, Clone)]
pub struct Arm {
    pub name: String,
    pub choice: BehaviourChoice,
    pub overrides: Vec<Override>,
}

/// A per-run statistic of a tick observable in `runs.csv`, over the outputs window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    /// The mean over the window's ticks, NA ticks skipped (column `obs`).
    Mean,
    /// The value at the window's last tick (column `obs_final`).
    Final,
    /// The sum over the window's ticks, NA ticks skipped (column `obs_total`).
    Total,
}

impl Stat {
    pub const NAMES: [&'static str; 3] = ["mean", "final", "total"];

    fn parse(s: &str) -> Option<Stat> {
        match s {
            "mean" => Some(Stat::Mean),
            "final" => Some(Stat::Final),
            "total" => Some(Stat::Total),
            _ => None,
        }
    }

    /// The runs.csv column of observable `obs` under this statistic.
    pub fn column(self, obs: &str) -> String {
        match self {
            Stat::Mean => obs.to_string(),
            Stat::Final => format!("{obs}_final"),
            Stat::Total => format!("{obs}_total"),
        }
    }
}

/// What a sweep reports of each run (`[outputs]`): the ticks its statistics cover (1-based,
/// inclusive) and the statistics `runs.csv` holds for every tick observable. The effects
/// (`effects.csv`) compare the window's means. The default, the whole run and its means,
/// is the sweep's output without an `[outputs]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outputs {
    pub from: u32,
    pub to: u32,
    pub statistics: Vec<Stat>,
    /// Tick observables (indices into `metrics::TICK`) whose per-run time series, over the
    /// window, go to `series.csv`.
    pub series: Vec<usize>,
    /// The file formats of the sweep's tables: CSV always, and Parquet beside it
    /// (`NAME.parquet` next to each `NAME.csv`, feature `parquet`).
    pub formats: Vec<Format>,
}

/// A file format of a sweep's tables (`[outputs] formats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }
}

/// A validated experiment.
#[derive(Debug, Clone)]
pub struct Experiment {
    pub name: String,
    pub description: String,
    /// Where the experiment came from (for messages and the manifest).
    pub file: String,
    /// The experiment file's text (copied into the output for replay).
    pub text: String,
    /// The base scenario's label and text.
    pub scenario_label: String,
    pub scenario_text: String,
    pub replicates: u32,
    pub master_seed: u64,
    pub ticks: u32,
    pub arms: Vec<Arm>,
    pub reference: usize,
    /// Factor column names and the scenario paths they set.
    pub factor_names: Vec<String>,
    pub factor_paths: Vec<String>,
    /// Design points: one value per factor.
    pub points: Vec<Vec<Value>>,
    /// The design CSV's text, if the design was imported (copied into the output).
    pub design_text: Option<String>,
    /// What runs.csv and effects.csv report of each run.
    pub outputs: Outputs,
}

/// Which run a run id is: design point, arm, replicate and seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunRef {
    pub run_id: u64,
    pub point: usize,
    pub arm: usize,
    pub replicate: u32,
    pub seed: u64,
}

impl Experiment {
    pub fn from_path(path: &Path) -> Result<Experiment, ExperimentError> {
        let file = path.display().to_string();
        let text = crate::limits::read_text(path).map_err(|e| ExperimentError::Io {
            file: file.clone(),
            message: e.to_string(),
        })?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Experiment::from_str_in(&text, &file, &dir, false)
    }

    /// The experiment of a sweep's output directory, from the copies the sweep saved there
    /// (`experiment.toml`, `scenario.toml`, `design.csv`), so that replay does not depend on
    /// the original files.
    pub fn from_sweep_dir(dir: &Path) -> Result<Experiment, ExperimentError> {
        let path = dir.join("experiment.toml");
        let file = path.display().to_string();
        let text = crate::limits::read_text(&path).map_err(|e| ExperimentError::Io {
            file: file.clone(),
            message: format!("{e} (is this a sweep's output directory?)"),
        })?;
        Experiment::from_str_in(&text, &file, dir, true)
    }

    /// Parse and validate experiment text; relative paths are taken from `dir`. With
    /// `saved`, the scenario and design are read from the copies a sweep saved in `dir`.
    pub fn from_str_in(
        text: &str,
        file: &str,
        dir: &Path,
        saved: bool,
    ) -> Result<Experiment, ExperimentError> {
        let raw: raw::File = toml::from_str(text).map_err(|e| ExperimentError::Parse {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        let err =
            |field: &str, value: &dyn std::fmt::Display, allowed: &str| ExperimentError::Invalid {
                file: file.to_string(),
                field: field.to_string(),
                value: value.to_string(),
                allowed: allowed.to_string(),
            };
        let m = raw.experiment;
        // The name is the default output folder (output/<name>/) and appears in messages.
        if !crate::names::is_name(&m.name) {
            return Err(err(
                "experiment.name",
                &format!("{:?}", m.name),
                crate::names::NAME_RULE,
            ));
        }
        if m.replicates == 0 {
            return Err(err("experiment.replicates", &0, "a whole number >= 1"));
        }
        // The base scenario.
        let (scenario_label, scenario_text) = if saved {
            let p = dir.join("scenario.toml");
            let t = crate::limits::read_text(&p).map_err(|e| ExperimentError::Io {
                file: p.display().to_string(),
                message: e.to_string(),
            })?;
            (
                if m.scenario == "default" {
                    DEFAULT_SCENARIO_NAME.to_string()
                } else {
                    p.display().to_string()
                },
                t,
            )
        } else if m.scenario == "default" {
            (
                DEFAULT_SCENARIO_NAME.to_string(),
                DEFAULT_SCENARIO.to_string(),
            )
        } else {
            let p: PathBuf = dir.join(&m.scenario);
            let t = crate::limits::read_text(&p).map_err(|e| {
                err("experiment.scenario", &format!("{:?}", m.scenario), &format!("\"default\" or a readable scenario file relative to the experiment ({}: {e})", p.display()))
            })?;
            (p.display().to_string(), t)
        };
        let base = Scenario::from_toml_str(&scenario_text, &scenario_label).map_err(|e| {
            ExperimentError::Scenario {
                file: file.to_string(),
                point: 0,
                settings: "base scenario".to_string(),
                arm: "-".to_string(),
                cause: Box::new(e),
            }
        })?;
        let ticks = m.ticks.unwrap_or(base.ticks);
        if ticks == 0 {
            return Err(err("experiment.ticks", &0, "a whole number >= 1"));
        }
        if ticks > crate::limits::MAX_TICKS {
            return Err(err(
                "experiment.ticks",
                &ticks,
                &format!(
                    "a whole number >= 1 and at most {}",
                    crate::limits::MAX_TICKS
                ),
            ));
        }
        let outputs = {
            let o = raw.outputs.as_ref();
            let (from, to) = o
                .and_then(|o| o.window.as_ref())
                .map_or((1, ticks), |w| (w.from, w.to));
            if from < 1 || from > ticks {
                return Err(err(
                    "outputs.window.from",
                    &from,
                    &format!("a tick from 1 to the run's {ticks} ticks"),
                ));
            }
            if to < from || to > ticks {
                return Err(err(
                    "outputs.window.to",
                    &to,
                    &format!("a tick from window.from ({from}) to the run's {ticks} ticks"),
                ));
            }
            let names = o
                .and_then(|o| o.statistics.clone())
                .unwrap_or_else(|| vec!["mean".to_string()]);
            if names.is_empty() {
                return Err(err(
                    "outputs.statistics",
                    &"[]",
                    "a non-empty list of \"mean\", \"final\", \"total\"",
                ));
            }
            let mut statistics = Vec::new();
            for (i, n) in names.iter().enumerate() {
                let st = Stat::parse(n).ok_or_else(|| {
                    err(
                        &format!("outputs.statistics[{i}]"),
                        &format!("{n:?}"),
                        "\"mean\", \"final\" or \"total\"",
                    )
                })?;
                if statistics.contains(&st) {
                    return Err(err(
                        &format!("outputs.statistics[{i}]"),
                        &format!("{n:?}"),
                        "each statistic once",
                    ));
                }
                statistics.push(st);
            }
            let mut series = Vec::new();
            for (i, n) in o
                .and_then(|o| o.series.clone())
                .unwrap_or_default()
                .iter()
                .enumerate()
            {
                let k = crate::metrics::TICK
                    .iter()
                    .position(|t| t.name == n.as_str())
                    .ok_or_else(|| {
                        err(
                            &format!("outputs.series[{i}]"),
                            &format!("{n:?}"),
                            "the name of a ticks.csv column (silos columns ticks.csv lists them)",
                        )
                    })?;
                if series.contains(&k) {
                    return Err(err(
                        &format!("outputs.series[{i}]"),
                        &format!("{n:?}"),
                        "each observable once",
                    ));
                }
                series.push(k);
            }
            let format_names = o
                .and_then(|o| o.formats.clone())
                .unwrap_or_else(|| vec!["csv".to_string()]);
            let mut formats = Vec::new();
            for (i, n) in format_names.iter().enumerate() {
                let f = format!("outputs.formats[{i}]");
                let fmt = Format::parse(n)
                    .ok_or_else(|| err(&f, &format!("{n:?}"), "\"csv\" or \"parquet\""))?;
                if formats.contains(&fmt) {
                    return Err(err(&f, &format!("{n:?}"), "each format once"));
                }
                // A sweep's saved copy loads anyway, so a build without the feature can still
                // replay and plot it (`silos merge` checks for itself).
                if fmt == Format::Parquet && !cfg!(feature = "parquet") && !saved {
                    return Err(err(
                        &f,
                        &format!("{n:?}"),
                        "\"csv\" only: this silos was built without Parquet support; rebuild with `cargo build --release --features parquet`, or use formats = [\"csv\"]",
                    ));
                }
                formats.push(fmt);
            }
            if !formats.contains(&Format::Csv) {
                return Err(err(
                    "outputs.formats",
                    &format!("{format_names:?}"),
                    "a list that includes \"csv\" (the sweep always writes its CSVs; \"parquet\" adds a copy of each beside it)",
                ));
            }
            Outputs {
                from,
                to,
                statistics,
                series,
                formats,
            }
        };

        // Arms.
        let mut arms = Vec::new();
        if raw.arms.is_empty() {
            arms.push(Arm {
                name: "mixed".to_string(),
                choice: BehaviourChoice::Mixed,
                overrides: Vec::new(),
            });
        }
        for (i, a) in raw.arms.iter().enumerate() {
            let f = format!("arms[{i}]");
            // The `arm` column of every CSV: kept to characters no reader treats specially.
            if !crate::names::is_name(&a.name) {
                return Err(err(
                    &format!("{f}.name"),
                    &format!("{:?}", a.name),
                    crate::names::NAME_RULE,
                ));
            }
            if raw.arms[..i].iter().any(|o| o.name == a.name) {
                return Err(err(
                    &format!("{f}.name"),
                    &a.name,
                    "a name no other arm has",
                ));
            }
            let choice = match &a.behaviour {
                None => BehaviourChoice::Mixed,
                Some(b) => BehaviourChoice::parse(b).ok_or_else(|| {
                    err(
                        &format!("{f}.behaviour"),
                        &format!("{b:?}"),
                        "one of \"ra\", \"bp\", \"mixed\" (bounded search: set = { \"search.mode\" = \"bounded\" })",
                    )
                })?,
            };
            let mut overrides = Vec::new();
            for (path, v) in &a.set {
                flatten(path, v, &mut overrides);
            }
            for o in &overrides {
                check_path(&format!("{f}.set"), &o.path)
                    .map_err(|why| err(&format!("{f}.set"), &o.path, &why))?;
            }
            arms.push(Arm {
                name: a.name.clone(),
                choice,
                overrides,
            });
        }
        let reference = match &m.reference_arm {
            None => 0,
            Some(r) => arms.iter().position(|a| &a.name == r).ok_or_else(|| {
                let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
                err(
                    "experiment.reference_arm",
                    r,
                    &format!("one of the arms: {}", names.join(", ")),
                )
            })?,
        };

        // Design.
        let mut factor_names = Vec::new();
        let mut factor_paths = Vec::new();
        let mut points: Vec<Vec<Value>>;
        let mut design_text = None;
        if let Some(csv_name) = &m.design_csv {
            if !raw.factors.is_empty() || m.lhs_points.is_some() {
                return Err(err(
                    "experiment.design_csv",
                    csv_name,
                    "a design CSV on its own, without [[factors]] or lhs_points",
                ));
            }
            let p = if saved {
                dir.join("design.csv")
            } else {
                dir.join(csv_name)
            };
            let t = crate::limits::read_text(&p).map_err(|e| {
                err(
                    "experiment.design_csv",
                    csv_name,
                    &format!(
                        "a readable CSV file relative to the experiment ({}: {e})",
                        p.display()
                    ),
                )
            })?;
            let mut rdr = csv::ReaderBuilder::new().from_reader(t.as_bytes());
            let headers = rdr.headers().map_err(|e| {
                err(
                    "experiment.design_csv",
                    csv_name,
                    &format!("a CSV with a header row of scenario paths ({e})"),
                )
            })?;
            factor_paths = headers.iter().map(|h| h.trim().to_string()).collect();
            for (i, p) in factor_paths.iter().enumerate() {
                check_path("experiment.design_csv", p).map_err(|why| {
                    err(
                        "experiment.design_csv",
                        &format!("column {} ({p})", i + 1),
                        &why,
                    )
                })?;
            }
            factor_names = factor_paths.clone();
            if let Some((i, bad)) = factor_paths
                .iter()
                .enumerate()
                .find(|(_, n)| !n.is_empty() && !crate::names::is_factor_name(n))
            {
                return Err(err(
                    "experiment.design_csv",
                    &format!("column {} ({bad:?})", i + 1),
                    crate::names::FACTOR_RULE,
                ));
            }
            if factor_paths.is_empty() || factor_paths.iter().any(String::is_empty) {
                return Err(err(
                    "experiment.design_csv",
                    csv_name,
                    "a header row naming a scenario path in every column",
                ));
            }
            points = Vec::new();
            for (k, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| {
                    err(
                        "experiment.design_csv",
                        &format!("{csv_name} row {}", k + 2),
                        &format!("a well-formed CSV row ({e})"),
                    )
                })?;
                if rec.len() != factor_paths.len() {
                    return Err(err(
                        "experiment.design_csv",
                        &format!("{csv_name} row {} with {} fields", k + 2, rec.len()),
                        &format!("{} fields, one per column", factor_paths.len()),
                    ));
                }
                points.push(
                    rec.iter()
                        .map(|v| {
                            Override::parse(&format!("x={}", v.trim()))
                                .map(|o| o.value)
                                .unwrap_or(Value::String(v.to_string()))
                        })
                        .collect(),
                );
            }
            if points.is_empty() {
                return Err(err(
                    "experiment.design_csv",
                    csv_name,
                    "at least one design row",
                ));
            }
            design_text = Some(t);
        } else {
            let any_lhs = raw.factors.iter().any(|f| f.lhs.is_some());
            if any_lhs && raw.factors.iter().any(|f| f.lhs.is_none()) {
                return Err(err(
                    "factors",
                    &"a mix of lhs and other factors",
                    "either every factor sampled by lhs (a Latin hypercube) or none",
                ));
            }
            if any_lhs != m.lhs_points.is_some() {
                return Err(err(
                    "experiment.lhs_points",
                    &m.lhs_points
                        .map_or("missing".to_string(), |n| n.to_string()),
                    "a number of points exactly when factors are sampled by lhs",
                ));
            }
            let mut levels: Vec<Vec<Value>> = Vec::new();
            for (i, fac) in raw.factors.iter().enumerate() {
                let f = format!("factors[{i}]");
                let name = fac.name.clone().unwrap_or_else(|| fac.path.clone());
                check_path(&format!("{f}.path"), &fac.path)
                    .map_err(|why| err(&format!("{f}.path"), &fac.path, &why))?;
                if factor_paths.contains(&fac.path) {
                    return Err(err(
                        &format!("{f}.path"),
                        &fac.path,
                        "a path no other factor sets",
                    ));
                }
                let reserved = ["point", "run_id", "arm", "replicate", "seed"];
                if !crate::names::is_factor_name(&name) {
                    return Err(err(
                        &format!("{f}.name"),
                        &format!("{name:?}"),
                        crate::names::FACTOR_RULE,
                    ));
                }
                if factor_names.contains(&name)
                    || reserved.contains(&name.as_str())
                    || crate::metrics::TICK.iter().any(|o| o.name == name)
                {
                    return Err(err(
                        &format!("{f}.name"),
                        &format!("{name:?}"),
                        "a name that no other factor, output column or observable has",
                    ));
                }
                let given = [fac.values.is_some(), fac.range.is_some(), fac.lhs.is_some()]
                    .iter()
                    .filter(|&&b| b)
                    .count();
                if given != 1 {
                    return Err(err(
                        &f,
                        &format!("{given} of values/range/lhs"),
                        "exactly one of values, range or lhs",
                    ));
                }
                if let Some(v) = &fac.values {
                    if v.is_empty() {
                        return Err(err(&format!("{f}.values"), &"[]", "at least one value"));
                    }
                    levels.push(v.clone());
                } else if let Some(r) = &fac.range {
                    levels.push(range_values(r).map_err(|why| {
                        err(
                            &format!("{f}.range"),
                            &format!("{{ from = {}, to = {}, step = {} }}", r.from, r.to, r.step),
                            &why,
                        )
                    })?);
                }
                factor_names.push(name);
                factor_paths.push(fac.path.clone());
            }
            if let Some(n) = m.lhs_points {
                if n == 0 {
                    return Err(err("experiment.lhs_points", &0, "a whole number >= 1"));
                }
                let specs: Vec<&raw::Lhs> =
                    raw.factors.iter().filter_map(|f| f.lhs.as_ref()).collect();
                for (i, l) in specs.iter().enumerate() {
                    if !(l.from.is_finite() && l.to.is_finite() && l.from <= l.to) {
                        return Err(err(
                            &format!("factors[{i}].lhs"),
                            &format!("from {} to {}", l.from, l.to),
                            "finite numbers with from <= to",
                        ));
                    }
                }
                points = latin_hypercube(&specs, n as usize, m.master_seed);
            } else {
                // Full factorial, first factor slowest.
                points = vec![Vec::new()];
                for lv in &levels {
                    let mut next = Vec::with_capacity(points.len() * lv.len());
                    for p in &points {
                        for v in lv {
                            let mut q = p.clone();
                            q.push(v.clone());
                            next.push(q);
                        }
                    }
                    points = next;
                }
            }
        }

        let exp = Experiment {
            name: m.name,
            description: m.description,
            file: file.to_string(),
            text: text.to_string(),
            scenario_label,
            scenario_text,
            replicates: m.replicates,
            master_seed: m.master_seed,
            ticks,
            arms,
            reference,
            factor_names,
            factor_paths,
            points,
            design_text,
            outputs,
        };
        // Every (point, arm) must give a valid scenario.
        for p in 0..exp.points.len() {
            for a in 0..exp.arms.len() {
                exp.scenario_for(p, a)?;
            }
        }
        Ok(exp)
    }

    pub fn n_points(&self) -> usize {
        self.points.len()
    }

    pub fn n_runs(&self) -> u64 {
        self.points.len() as u64 * self.arms.len() as u64 * self.replicates as u64
    }

    /// Runs of one design point.
    pub fn runs_per_point(&self) -> u64 {
        self.arms.len() as u64 * self.replicates as u64
    }

    /// Run ids are point-major, then replicate, then arm, so the arms of one replicate sit
    /// side by side and a point's runs are contiguous.
    pub fn run_ref(&self, run_id: u64) -> RunRef {
        let a = self.arms.len() as u64;
        let per_point = self.runs_per_point();
        let point = (run_id / per_point) as usize;
        let within = run_id % per_point;
        let replicate = (within / a) as u32;
        let arm = (within % a) as usize;
        RunRef {
            run_id,
            point,
            arm,
            replicate,
            seed: rng::derive_seed(self.master_seed, point as u64, replicate as u64),
        }
    }

    /// The overrides of design point `p` (before the arm's).
    pub fn point_overrides(&self, p: usize) -> Vec<Override> {
        self.factor_paths
            .iter()
            .zip(&self.points[p])
            .map(|(path, v)| Override {
                path: path.clone(),
                value: v.clone(),
                text: format!("{path}={v}"),
            })
            .collect()
    }

    /// The scenario of design point `p` under arm `a`.
    pub fn scenario_for(&self, p: usize, a: usize) -> Result<Scenario, ExperimentError> {
        let mut o = self.point_overrides(p);
        o.extend(self.arms[a].overrides.iter().cloned());
        Scenario::from_toml_str_with(&self.scenario_text, &self.scenario_label, &o).map_err(|e| {
            ExperimentError::Scenario {
                file: self.file.clone(),
                point: p,
                settings: self.point_settings(p),
                arm: self.arms[a].name.clone(),
                cause: Box::new(e),
            }
        })
    }

    /// "path=value, ..." for design point `p`.
    pub fn point_settings(&self, p: usize) -> String {
        if self.factor_names.is_empty() {
            return "no factors".to_string();
        }
        self.factor_names
            .iter()
            .zip(&self.points[p])
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Paths an experiment may not set: the run length and seed come from the experiment.
fn check_path(_field: &str, path: &str) -> Result<(), String> {
    match path {
        "scenario.ticks" => Err("a scenario path other than scenario.ticks (set [experiment] ticks instead)".into()),
        "scenario.seed" => Err("a scenario path other than scenario.seed (run seeds derive from master_seed, design point and replicate)".into()),
        _ => Ok(()),
    }
}

/// Turn `set` entries into overrides, one per leaf value: `{ levers = { control = 0.5 } }`
/// and `{ "levers.control" = 0.5 }` both set `levers.control` (and leave the rest of
/// `[levers]` alone). Arrays are values, not walked.
fn flatten(path: &str, v: &Value, out: &mut Vec<Override>) {
    match v {
        Value::Table(t) if !t.is_empty() => {
            for (k, x) in t {
                flatten(&format!("{path}.{k}"), x, out);
            }
        }
        _ => out.push(Override {
            path: path.to_string(),
            value: v.clone(),
            text: format!("{path}={v}"),
        }),
    }
}

fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Values of a range factor, `from` to `to` inclusive in steps; integers if all three are.
fn range_values(r: &raw::Range) -> Result<Vec<Value>, String> {
    let ints = matches!(
        (&r.from, &r.to, &r.step),
        (Value::Integer(_), Value::Integer(_), Value::Integer(_))
    );
    let (Some(from), Some(to), Some(step)) = (as_f64(&r.from), as_f64(&r.to), as_f64(&r.step))
    else {
        return Err("numbers for from, to and step".to_string());
    };
    if !(step > 0.0 && from <= to && from.is_finite() && to.is_finite()) {
        return Err("from <= to and step > 0".to_string());
    }
    // Counted in f64 first: the span of -1e308..1e308 is infinite, and a cast of it to
    // usize would saturate and overflow at the + 1.
    let n = ((to - from) / step + 1e-9).floor() + 1.0;
    if !n.is_finite() || n > 100_000.0 {
        return Err("at most 100,000 values".to_string());
    }
    let n = n as usize;
    Ok((0..n)
        .map(|k| {
            let x = from + step * k as f64;
            if ints {
                Value::Integer(x.round() as i64)
            } else {
                Value::Float((x * 1e12).round() / 1e12)
            }
        })
        .collect())
}

/// A Latin hypercube sample: `n` points, each factor's range cut into `n` equal strata, one
/// point per stratum, strata matched at random across factors; drawn from the design stream
/// of the master seed, so the same experiment gives the same design.
fn latin_hypercube(specs: &[&raw::Lhs], n: usize, master_seed: u64) -> Vec<Vec<Value>> {
    let mut r = rng::stream(master_seed, Stream::Design);
    let mut cols: Vec<Vec<Value>> = Vec::with_capacity(specs.len());
    for l in specs {
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = r.random_range(0..=i);
            perm.swap(i, j);
        }
        let col = perm
            .iter()
            .map(|&k| {
                let u: f64 = r.random();
                let x = l.from + (l.to - l.from) * (k as f64 + u) / n as f64;
                if l.integer {
                    Value::Integer(x.round() as i64)
                } else {
                    Value::Float(x)
                }
            })
            .collect();
        cols.push(col);
    }
    (0..n)
        .map(|i| cols.iter().map(|c| c[i].clone()).collect())
        .collect()
}
