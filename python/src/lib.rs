//! `silos._silos`: the native layer of the Python package. It is thin on purpose: scenario
//! text, overrides, seed and behaviour go in; the files `silos run` and `silos sweep` write
//! come out (written by the same library code into a directory the Python side chooses).
//! Everything a user sees (DataFrames, exceptions, EMA models) is built in Python
//! (`python/silos/`). The GIL is released while the model runs.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;

use silos::api::{self, RunSpec};
use silos::error::ScenarioError;
use silos::overrides::Override;
use silos::scenario::{DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, Scenario};
use silos::sweep::{Experiment, ExperimentError, SweepError, SweepOptions, run_sweep};

/// Build one of the exception classes of `silos._errors` with its message and attributes.
fn error(py: Python<'_>, class: &str, message: &str, attrs: &[(&str, Option<String>)]) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let cls = py.import("silos._errors")?.getattr(class)?;
        let kwargs = PyDict::new(py);
        for (k, v) in attrs {
            kwargs.set_item(k, v)?;
        }
        let obj = cls.call((message,), Some(&kwargs))?;
        Ok(PyErr::from_value(obj))
    };
    build().unwrap_or_else(|e| e)
}

fn scenario_error(py: Python<'_>, e: &ScenarioError) -> PyErr {
    error(py, "ScenarioError", &e.to_string(), &scenario_attrs(e))
}

fn scenario_attrs(e: &ScenarioError) -> Vec<(&'static str, Option<String>)> {
    match e {
        ScenarioError::Io { file, .. } | ScenarioError::Parse { file, .. } => vec![
            ("file", Some(file.clone())),
            ("field", None),
            ("value", None),
            ("allowed", None),
        ],
        ScenarioError::Invalid {
            file,
            field,
            value,
            allowed,
        } => vec![
            ("file", Some(file.clone())),
            ("field", Some(field.clone())),
            ("value", Some(value.clone())),
            ("allowed", Some(allowed.clone())),
        ],
    }
}

fn experiment_error(py: Python<'_>, e: &ExperimentError) -> PyErr {
    let msg = e.to_string();
    let attrs: Vec<(&str, Option<String>)> = match e {
        ExperimentError::Io { file, .. } | ExperimentError::Parse { file, .. } => {
            vec![("file", Some(file.clone()))]
        }
        ExperimentError::Invalid {
            file,
            field,
            value,
            allowed,
        } => vec![
            ("file", Some(file.clone())),
            ("field", Some(field.clone())),
            ("value", Some(value.clone())),
            ("allowed", Some(allowed.clone())),
        ],
        ExperimentError::Scenario {
            file,
            point,
            settings,
            arm,
            cause,
        } => {
            let mut a = vec![
                ("file", Some(file.clone())),
                ("point", Some(point.to_string())),
                ("settings", Some(settings.clone())),
                ("arm", Some(arm.clone())),
                ("scenario_file", None),
            ];
            for (k, v) in scenario_attrs(cause) {
                match k {
                    "file" => a[4].1 = v,
                    _ => a.push((k, v)),
                }
            }
            a
        }
    };
    error(py, "ExperimentError", &msg, &attrs)
}

/// A JSON value (from Python's `json.dumps`) as a TOML value: whole numbers stay integers,
/// other numbers are floats; `null` has no TOML form.
fn json_to_toml(v: &serde_json::Value) -> Result<toml::Value, String> {
    use serde_json::Value as J;
    Ok(match v {
        J::Null => return Err("None has no TOML form".to_string()),
        J::Bool(b) => toml::Value::Boolean(*b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => toml::Value::Integer(i),
            (None, Some(f)) if n.is_f64() => toml::Value::Float(f),
            _ => {
                return Err(format!(
                    "{n} is beyond TOML's whole numbers (-2^63 to 2^63-1)"
                ));
            }
        },
        J::String(s) => toml::Value::String(s.clone()),
        J::Array(a) => toml::Value::Array(a.iter().map(json_to_toml).collect::<Result<_, _>>()?),
        J::Object(o) => toml::Value::Table(
            o.iter()
                .map(|(k, v)| Ok((k.clone(), json_to_toml(v)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

/// Overrides as the Python side sends them: `(text, None)` is a `--set` string (`path=value`,
/// the value read as TOML as on the command line); `(path, Some(json))` is a typed value.
fn overrides(py: Python<'_>, items: Vec<(String, Option<String>)>) -> PyResult<Vec<Override>> {
    items
        .into_iter()
        .map(|(a, json)| match json {
            None => Override::parse(&a).map_err(|m| error(py, "ScenarioError", &m, &[])),
            Some(j) => {
                let v: serde_json::Value = serde_json::from_str(&j).map_err(|e| {
                    error(
                        py,
                        "ScenarioError",
                        &format!("set[{a:?}]: {e}"),
                        &[("field", Some(a.clone()))],
                    )
                })?;
                let value = json_to_toml(&v).map_err(|e| {
                    error(
                        py,
                        "ScenarioError",
                        &format!("set[{a:?}] = {v}: {e}"),
                        &[("field", Some(a.clone())), ("value", Some(v.to_string()))],
                    )
                })?;
                let shown = match &value {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Ok(Override {
                    text: format!("{a}={shown}"),
                    path: a,
                    value,
                })
            }
        })
        .collect()
}

/// The embedded default scenario: `(label, text)`.
#[pyfunction]
fn default_scenario() -> (&'static str, &'static str) {
    (DEFAULT_SCENARIO_NAME, DEFAULT_SCENARIO)
}

/// Validate a scenario with overrides; returns a JSON summary of it.
#[pyfunction]
fn check(
    py: Python<'_>,
    text: &str,
    label: &str,
    set: Vec<(String, Option<String>)>,
) -> PyResult<String> {
    let set = overrides(py, set)?;
    let s = Scenario::from_toml_str_with(text, label, &set).map_err(|e| scenario_error(py, &e))?;
    let summary = serde_json::json!({
        "name": s.name,
        "description": s.description,
        "ticks": s.ticks,
        "seed": s.seed,
        "dimensions": s.dimensions,
        "groups": s.groups.iter().map(|g| &g.name).collect::<Vec<_>>(),
        "agencies": s.agencies.iter().map(|a| &a.name).collect::<Vec<_>>(),
        "mechanisms": s.mechanisms.iter().map(|m| &m.name).collect::<Vec<_>>(),
        "localities": s.localities.as_ref().map(|l| l.count),
        "overrides": set.iter().map(|o| &o.text).collect::<Vec<_>>(),
    });
    Ok(summary.to_string())
}

/// The scenario file with overrides applied, as JSON (after validating it).
#[pyfunction]
fn to_json(
    py: Python<'_>,
    text: &str,
    label: &str,
    set: Vec<(String, Option<String>)>,
) -> PyResult<String> {
    let set = overrides(py, set)?;
    Scenario::from_toml_str_with(text, label, &set).map_err(|e| scenario_error(py, &e))?;
    let mut table: toml::Table = toml::from_str(text).map_err(|e| {
        scenario_error(
            py,
            &ScenarioError::Parse {
                file: label.to_string(),
                message: e.to_string(),
            },
        )
    })?;
    for o in &set {
        silos::overrides::apply(&mut table, o, label).map_err(|e| scenario_error(py, &e))?;
    }
    serde_json::to_string(&table).map_err(|e| error(py, "SilosError", &e.to_string(), &[]))
}

/// TOML text from a JSON object (a scenario or an experiment given as a Python dict);
/// errors are raised as `class` (`ScenarioError` or `ExperimentError`).
#[pyfunction]
fn toml_from_json(py: Python<'_>, json: &str, label: &str, class: &str) -> PyResult<String> {
    let fail = |m: String| {
        error(
            py,
            class,
            &format!("{label}: {m}"),
            &[("file", Some(label.to_string()))],
        )
    };
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| fail(e.to_string()))?;
    let table = match json_to_toml(&v).map_err(fail)? {
        toml::Value::Table(t) => t,
        other => return Err(fail(format!("{other} is not a table of fields"))),
    };
    toml::to_string(&table).map_err(|e| fail(e.to_string()))
}

/// Run a single-locality scenario and write its files (as `silos run --no-plots`) into
/// `dir`. The GIL is released while the model runs.
#[pyfunction]
#[pyo3(signature = (text, label, set, seed, behaviour, ticks, dir))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    text: &str,
    label: &str,
    set: Vec<(String, Option<String>)>,
    seed: Option<u64>,
    behaviour: &str,
    ticks: Option<u32>,
    dir: PathBuf,
) -> PyResult<()> {
    let set = overrides(py, set)?;
    let choice = api::parse_behaviour(behaviour).map_err(|m| {
        error(
            py,
            "SilosError",
            &m,
            &[
                ("field", Some("behaviour".into())),
                ("value", Some(behaviour.into())),
            ],
        )
    })?;
    let scenario =
        Scenario::from_toml_str_with(text, label, &set).map_err(|e| scenario_error(py, &e))?;
    let ticks = ticks.unwrap_or(scenario.ticks);
    if ticks == 0 {
        return Err(error(
            py,
            "SilosError",
            "ticks must be at least 1",
            &[("field", Some("ticks".into())), ("value", Some("0".into()))],
        ));
    }
    let spec = RunSpec {
        scenario: &scenario,
        label,
        bytes: text.as_bytes(),
        seed: seed.unwrap_or(scenario.seed),
        ticks,
        behaviour: choice,
        overrides: &set,
    };
    let done = py.detach(|| api::run_to_dir(&spec, &dir, "silos.run()").map(|_| ()));
    done.map_err(|e| match &e {
        api::RunError::Invariant { .. } => error(py, "ModelError", &e.to_string(), &[]),
        api::RunError::Io { dir, .. } => error(
            py,
            "SilosError",
            &e.to_string(),
            &[("file", Some(dir.clone()))],
        ),
        api::RunError::Occupied(o) => error(
            py,
            "SilosError",
            &e.to_string(),
            &[("file", Some(o.dir.clone()))],
        ),
        api::RunError::Locked(_) => error(
            py,
            "SilosError",
            &e.to_string(),
            &[("file", Some(dir.display().to_string()))],
        ),
        api::RunError::National { label } => error(
            py,
            "SilosError",
            &e.to_string(),
            &[("file", Some(label.clone()))],
        ),
        api::RunError::Limit { label, .. } => error(
            py,
            "ScenarioError",
            &e.to_string(),
            &[("file", Some(label.clone()))],
        ),
    })
}

/// Run a sweep (as `silos sweep --quiet`, without charts) into `out` and write its manifest.
/// `path` names an experiment file; otherwise `text` is the experiment, with relative paths
/// taken from `base`. Returns the number of failed runs. The GIL is released while it runs.
#[pyfunction]
#[pyo3(signature = (path, text, label, base, out, threads))]
fn sweep(
    py: Python<'_>,
    path: Option<PathBuf>,
    text: Option<String>,
    label: &str,
    base: PathBuf,
    out: PathBuf,
    threads: Option<usize>,
) -> PyResult<u64> {
    let exp = match (path, text) {
        (Some(p), _) => Experiment::from_path(&p),
        (None, Some(t)) => Experiment::from_str_in(&t, label, &base, false),
        (None, None) => Err(ExperimentError::Io {
            file: label.to_string(),
            message: "no experiment given".to_string(),
        }),
    }
    .map_err(|e| experiment_error(py, &e))?;
    // One writer per folder, as `silos sweep` (held until this function returns).
    let _lock = silos::outdir::lock(&out).map_err(|e| {
        error(
            py,
            "SweepError",
            &e.to_string(),
            &[("file", Some(out.display().to_string()))],
        )
    })?;
    silos::outdir::claim(&out, silos::outdir::OutputKind::Sweep, "silos.sweep()").map_err(|e| {
        error(
            py,
            "SweepError",
            &e.to_string(),
            &[("file", Some(e.dir.clone()))],
        )
    })?;
    let started = silos::output::now_rfc3339();
    let opts = SweepOptions {
        out: out.clone(),
        threads,
        shard: None,
        progress: false,
        fail_runs: Vec::new(),
    };
    let report = py.detach(|| run_sweep(&exp, &opts)).map_err(|e| {
        let file = match &e {
            SweepError::Io { path, .. } => path.clone(),
            SweepError::Conflict { dir, .. } => dir.clone(),
        };
        error(py, "SweepError", &e.to_string(), &[("file", Some(file))])
    })?;
    let manifest = api::sweep_manifest(&exp, &report, None, &started);
    let text = serde_json::to_string_pretty(&manifest).expect("a JSON value serialises") + "\n";
    silos::output::write_atomic(&out, "manifest.json", text.as_bytes()).map_err(|e| {
        error(
            py,
            "SweepError",
            &format!("{}: cannot write manifest.json: {e}", out.display()),
            &[("file", Some(out.display().to_string()))],
        )
    })?;
    Ok(report.failures)
}

/// Every output column of a run: `(file, column, unit, meaning)`.
#[pyfunction]
fn columns() -> Vec<(&'static str, &'static str, &'static str, String)> {
    api::columns()
        .into_iter()
        .map(|c| (c.file, c.name, c.unit, c.meaning))
        .collect()
}

/// Every scenario parameter and lever (`silos::params::all()`), as a JSON list of objects.
#[pyfunction]
fn parameters() -> String {
    serde_json::to_string(&silos::params::all()).expect("parameters serialise")
}

/// A run seed from (master seed, design point, replicate), as sweeps derive them.
#[pyfunction]
fn derive_seed(master: u64, point: u64, replicate: u64) -> u64 {
    silos::rng::derive_seed(master, point, replicate)
}

/// The build of the native module, as `manifest.json` records it, in JSON.
#[pyfunction]
fn build_info() -> String {
    silos::output::build_info().to_string()
}

#[pymodule]
fn _silos(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(default_scenario, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(to_json, m)?)?;
    m.add_function(wrap_pyfunction!(toml_from_json, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(sweep, m)?)?;
    m.add_function(wrap_pyfunction!(columns, m)?)?;
    m.add_function(wrap_pyfunction!(parameters, m)?)?;
    m.add_function(wrap_pyfunction!(derive_seed, m)?)?;
    m.add_function(wrap_pyfunction!(build_info, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
