//! Entry points for front ends other than the command line (the Python package in
//! `python/`): a run written to a directory with its manifest, the manifests of runs and
//! sweeps, and the list of output columns. The CLI builds its manifests here too, so a run
//! from Python and `silos run` write the same files.

use std::path::Path;

use crate::engine::{self, BehaviourChoice, Simulation};
use crate::error::InvariantError;
use crate::metrics::{AGENCY, TICK};
use crate::model::World;
use crate::output::{self, RunWriter};
use crate::overrides::Override;
use crate::scenario::Scenario;
use crate::sweep::{Experiment, SweepReport};

/// One seeded run, as `silos run` describes it.
pub struct RunSpec<'a> {
    /// The validated scenario, overrides applied.
    pub scenario: &'a Scenario,
    /// The scenario's name in messages and the manifest: its path as given, or
    /// `<embedded>/scenarios/homelessness.toml`.
    pub label: &'a str,
    /// The scenario file's bytes (the manifest records their SHA-256).
    pub bytes: &'a [u8],
    pub seed: u64,
    pub ticks: u32,
    pub behaviour: BehaviourChoice,
    /// The `--set` overrides already applied to `scenario`, recorded in the manifest.
    pub overrides: &'a [Override],
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("run of {label} with seed {seed}: {source}")]
    Invariant {
        label: String,
        seed: u64,
        source: InvariantError,
    },
    #[error("{dir}: cannot write output: {source}")]
    Io { dir: String, source: std::io::Error },
    #[error(
        "{label}: a national scenario ([localities]) is run by `silos run`, not by this entry point"
    )]
    National { label: String },
    #[error(transparent)]
    Occupied(#[from] crate::outdir::Occupied),
    /// The run cannot fit: too many ticks, money beyond the ledger at this length, or more
    /// memory than the limit (`limits::admit`; the message names the field).
    #[error("{label}: {message}")]
    Limit { label: String, message: String },
    /// Another process is writing the folder ([`crate::outdir::lock`]).
    #[error(transparent)]
    Locked(#[from] crate::outdir::LockError),
}

/// Run a single-locality scenario and write `ticks.csv`, `agencies.csv`, `groups.csv`,
/// `needs.csv`, `dumping.csv` and `manifest.json` into `dir`: the files `silos run --no-plots` writes.
/// `dir` must not hold another kind of output (`writer`, the caller's name, says who
/// refused it). Returns the finished simulation.
pub fn run_to_dir(
    spec: &RunSpec,
    dir: &Path,
    writer: &'static str,
) -> Result<Simulation, RunError> {
    if spec.scenario.localities.is_some() {
        return Err(RunError::National {
            label: spec.label.to_string(),
        });
    }
    crate::limits::admit(spec.scenario, spec.ticks).map_err(|message| RunError::Limit {
        label: spec.label.to_string(),
        message,
    })?;
    let _lock = crate::outdir::lock(dir)?;
    crate::outdir::claim(dir, crate::outdir::OutputKind::Run, writer)?;
    let io = |source| RunError::Io {
        dir: dir.display().to_string(),
        source,
    };
    let started = output::now_rfc3339();
    let mut sim = Simulation::new(spec.scenario, spec.seed, spec.behaviour);
    let mut writer = RunWriter::create(dir).map_err(io)?;
    engine::run(&mut sim, spec.ticks, &mut writer).map_err(|e| match e {
        engine::RunError::Invariant(source) => RunError::Invariant {
            label: spec.label.to_string(),
            seed: spec.seed,
            source,
        },
        engine::RunError::Observer(source) => io(source),
    })?;
    writer.finish(&sim.world).map_err(io)?;
    let manifest = run_manifest(spec, &sim.world, &started);
    let text = serde_json::to_string_pretty(&manifest).expect("a JSON value serialises") + "\n";
    output::write_atomic(dir, "manifest.json", text.as_bytes()).map_err(io)?;
    Ok(sim)
}

/// A behaviour choice as `--behaviour` takes it (`ra`, `bp` or `mixed`), or the message
/// that says what is allowed.
pub fn parse_behaviour(s: &str) -> Result<BehaviourChoice, String> {
    BehaviourChoice::parse(s).ok_or_else(|| {
        if s == "ra-bounded" {
            format!(
                "unknown behaviour {s:?}; allowed: ra, bp, mixed ({})",
                crate::scenario::BOUNDED_MOVED
            )
        } else {
            format!("unknown behaviour {s:?}; allowed: ra, bp, mixed")
        }
    })
}

/// `manifest.json` of a single-locality run that started at `started` and finishes now.
pub fn run_manifest(spec: &RunSpec, world: &World, started: &str) -> serde_json::Value {
    serde_json::json!({
        "silos_version": env!("CARGO_PKG_VERSION"),
        "build": output::build_info(),
        "scenario": {
            "name": spec.scenario.name,
            "path": spec.label,
            "sha256": output::sha256_hex(spec.bytes),
        },
        "seed": spec.seed,
        "ticks": spec.ticks,
        "behaviour": spec.behaviour.as_str(),
        "overrides": spec.overrides.iter().map(|o| o.text.clone()).collect::<Vec<_>>(),
        "agencies": world.agencies.iter().map(|a| serde_json::json!({
            "agency": a.name, "level": a.level.as_str(), "behaviour": a.family.as_str(),
        })).collect::<Vec<_>>(),
        "files": output::RUN_FILES,
        "started": started,
        "finished": output::now_rfc3339(),
    })
}

/// `manifest.json` of a sweep: the experiment's own record plus what this invocation did.
pub fn sweep_manifest(
    exp: &Experiment,
    report: &SweepReport,
    shard: Option<(usize, usize)>,
    started: &str,
) -> serde_json::Value {
    let mut manifest = crate::sweep::exec::manifest(exp, env!("CARGO_PKG_VERSION"));
    let extra = serde_json::json!({
        "runs_in_this_output": report.runs_total,
        "runs_done_by_this_invocation": report.runs_done_now,
        "points_resumed": report.points_resumed,
        "failures": report.failures,
        "shard": shard.map_or("all".to_string(), |(i, n)| format!("{i}/{n}")),
        "threads": report.threads,
        "started": started,
        "finished": output::now_rfc3339(),
    });
    if let (Some(m), Some(e)) = (manifest.as_object_mut(), extra.as_object()) {
        m.extend(e.clone());
    }
    manifest
}

/// One column of a run's output files.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// `ticks.csv`, `agencies.csv`, `groups.csv`, `needs.csv` or `dumping.csv`.
    pub file: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    pub meaning: String,
}

/// Every column of a run's CSV files, in file order, with its unit and meaning (what
/// `silos columns` prints). Observables come from [`TICK`] and [`AGENCY`]; the columns of
/// `groups.csv` and `needs.csv` are the arena observables of the same name, measured on one
/// slice of cases.
pub fn columns() -> Vec<Column> {
    let key = |file, name, unit, meaning: &str| Column {
        file,
        name,
        unit,
        meaning: meaning.to_string(),
    };
    let mut out = vec![key("ticks.csv", "tick", "1..", "tick number (month)")];
    out.extend(TICK.iter().map(|o| key("ticks.csv", o.name, o.unit, o.doc)));
    out.push(key("agencies.csv", "tick", "1..", "tick number (month)"));
    out.push(key("agencies.csv", "agency", "name", "the agency's name"));
    out.push(key(
        "agencies.csv",
        "level",
        "name",
        "the agency's level (local or central)",
    ));
    out.push(key(
        "agencies.csv",
        "behaviour",
        "name",
        "the agency's family in this run (ra or bp)",
    ));
    out.extend(
        AGENCY
            .iter()
            .map(|o| key("agencies.csv", o.name, o.unit, o.doc)),
    );
    // groups.csv and needs.csv: the same cases broken down by client group and by number of
    // needs, each row with the arena observables of the same name measured on its slice.
    for (file, slice, unit, meaning) in [
        ("groups.csv", "group", "name", "the client group"),
        (
            "needs.csv",
            "needs",
            "count",
            "the number of needs the cases have (1, 2, ...)",
        ),
    ] {
        out.push(key(file, "tick", "1..", "tick number (month)"));
        out.push(key(file, slice, unit, meaning));
        for name in output::GROUP_COLUMNS {
            let o = TICK
                .iter()
                .find(|o| o.name == name)
                .expect("every groups.csv column is an arena observable");
            out.push(Column {
                file,
                name: o.name,
                unit: o.unit,
                meaning: format!("for this slice of cases: {}", o.doc),
            });
        }
    }
    out.push(key("dumping.csv", "sender", "name", "the referring agency"));
    out.push(key(
        "dumping.csv",
        "receiver",
        "name",
        "the agency referred to",
    ));
    out.push(key(
        "dumping.csv",
        "referrals",
        "referrals",
        "referrals from sender to receiver over the run",
    ));
    out.push(key(
        "dumping.csv",
        "dumped_referrals",
        "referrals",
        "those referrals that counted as dumping",
    ));
    out.push(key(
        "dumping.csv",
        "dumped_cost",
        "k GBP",
        "the cost those dumped referrals shifted from sender to receiver",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_follow_the_files_headers() {
        let cols = columns();
        let names = |file: &str| -> Vec<&str> {
            cols.iter()
                .filter(|c| c.file == file)
                .map(|c| c.name)
                .collect()
        };
        let dir = std::env::temp_dir().join(format!("silos-api-columns-{}", std::process::id()));
        let s = Scenario::default_scenario();
        let spec = RunSpec {
            scenario: &s,
            label: "default",
            bytes: b"",
            seed: 1,
            ticks: 2,
            behaviour: BehaviourChoice::Mixed,
            overrides: &[],
        };
        run_to_dir(&spec, &dir, "test").unwrap();
        for file in [
            "ticks.csv",
            "agencies.csv",
            "groups.csv",
            "needs.csv",
            "dumping.csv",
        ] {
            let text = std::fs::read_to_string(dir.join(file)).unwrap();
            let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
            assert_eq!(header, names(file), "{file}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
