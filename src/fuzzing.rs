//! The bodies of the fuzz targets (`fuzz/fuzz_targets/`), shared with the property tests
//! (`tests/fuzz_props.rs`), so both exercise exactly the same code on arbitrary input.
//!
//! Each function takes raw bytes and never panics on any input: it returns `Ok` when the
//! input was accepted, or the error message the user would see. [`names_a_place`] is the
//! property every such message must have (it says where the problem is). `fuzz/README.md`
//! says how to run the targets.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::engine::{self, BehaviourChoice, NoObserver, Simulation};
use crate::overrides::Override;
use crate::scenario::{DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, Scenario};
use crate::sweep::experiment::Experiment;

/// The input as text (`None` if it is not UTF-8: the CLI refuses such files before parsing).
fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Whether an error message says where the problem is: a line, a column, a field, a row, a
/// `--set` or a quoted name.
pub fn names_a_place(msg: &str) -> bool {
    ["line ", "column", "field", "row ", "--set", "`"]
        .iter()
        .any(|w| msg.contains(w))
}

/// Parse and validate a scenario file (`silos check FILE`).
pub fn scenario(data: &[u8]) -> Result<Scenario, String> {
    let text = text(data).ok_or("fuzz.toml: not UTF-8 text, line 1")?;
    Scenario::from_toml_str(text, "fuzz.toml").map_err(|e| e.to_string())
}

/// `--set` overrides, one `path=value` per line, applied to the default scenario and
/// validated (`silos check --set ...`).
pub fn set(data: &[u8]) -> Result<Scenario, String> {
    let text = text(data).ok_or("--set: not UTF-8 text")?;
    let overrides = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(Override::parse)
        .collect::<Result<Vec<_>, _>>()?;
    Scenario::from_toml_str_with(DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, &overrides)
        .map_err(|e| e.to_string())
}

/// At most this many design points and arms have their scenario built and validated.
const POINTS_CHECKED: usize = 8;

/// An experiment's every checked (point, arm) scenario, its run ids and point settings.
fn exercise(exp: &Experiment) -> Result<(), String> {
    let n = exp.n_points();
    for p in (0..n).take(POINTS_CHECKED).chain(n.checked_sub(1)) {
        let _ = exp.point_settings(p);
        for a in 0..exp.arms.len().min(POINTS_CHECKED) {
            exp.scenario_for(p, a).map_err(|e| e.to_string())?;
        }
    }
    let runs = exp.n_runs();
    for id in [0, runs / 2, runs.saturating_sub(1)] {
        if id < runs {
            let _ = exp.run_ref(id);
        }
    }
    Ok(())
}

/// An experiment file read from `dir` (its relative `scenario` and `design_csv` paths are
/// taken from there), validated, with some of its design points' scenarios built.
pub fn experiment(data: &[u8], dir: &Path) -> Result<Experiment, String> {
    let text = text(data).ok_or("fuzz-experiment.toml: not UTF-8 text")?;
    let exp = Experiment::from_str_in(text, "fuzz-experiment.toml", dir, false)
        .map_err(|e| e.to_string())?;
    exercise(&exp)?;
    Ok(exp)
}

thread_local! {
    /// One scratch directory per thread, reused across calls (removed at thread exit).
    static SCRATCH: RefCell<Option<tempfile::TempDir>> = const { RefCell::new(None) };
}

/// A fresh, empty directory `name` inside this thread's scratch directory.
fn scratch(name: &str) -> Result<PathBuf, String> {
    SCRATCH.with(|s| {
        let mut s = s.borrow_mut();
        if s.is_none() {
            *s = Some(tempfile::tempdir().map_err(|e| format!("scratch directory: {e}"))?);
        }
        let d = s.as_ref().expect("set above").path().join(name);
        if d.exists() {
            std::fs::remove_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        }
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        Ok(d)
    })
}

/// The experiment a design CSV is read by: the default scenario, two arms, the CSV as its
/// design.
const DESIGN_EXPERIMENT: &str = "[experiment]\nname = \"fuzz-design\"\nscenario = \"default\"\n\
replicates = 2\nmaster_seed = 1\ndesign_csv = \"design.csv\"\n\n\
[[arms]]\nname = \"ra\"\nbehaviour = \"ra\"\n\n[[arms]]\nname = \"bp\"\nbehaviour = \"bp\"\n";

/// A design CSV (`design_csv = "design.csv"`) imported by an experiment on the default
/// scenario, with some of its points' scenarios built and validated.
pub fn design_csv(data: &[u8]) -> Result<Experiment, String> {
    let dir = scratch("design")?;
    std::fs::write(dir.join("design.csv"), data).map_err(|e| e.to_string())?;
    let exp = Experiment::from_str_in(DESIGN_EXPERIMENT, "fuzz-design.toml", &dir, false)
        .map_err(|e| e.to_string())?;
    exercise(&exp)?;
    Ok(exp)
}

/// The files of an output directory packed in one input: sections, each a line
/// `### NAME` followed by the file's bytes. Input without a first `### ` line is all
/// `ticks.csv`. Names are reduced to a plain file name.
pub fn unpack_dir(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    const MARK: &[u8] = b"### ";
    if !data.starts_with(MARK) {
        return vec![("ticks.csv".into(), data.to_vec())];
    }
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rest = data;
    while let Some(after) = rest.strip_prefix(MARK) {
        let (name, body) = match after.iter().position(|&b| b == b'\n') {
            Some(i) => (&after[..i], &after[i + 1..]),
            None => (after, &after[after.len()..]),
        };
        // The body runs to the next "\n### " (which starts the next section).
        let end = body
            .windows(MARK.len() + 1)
            .position(|w| w[0] == b'\n' && &w[1..] == MARK)
            .map_or(body.len(), |i| i + 1);
        let name: String = String::from_utf8_lossy(name)
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            .collect();
        let name = name.trim_start_matches('.').to_string();
        if !name.is_empty() && name != "plots" {
            out.retain(|(n, _)| *n != name);
            out.push((name, body[..end].to_vec()));
        }
        rest = &body[end..];
    }
    out
}

/// Pack files into one input for [`plot`] (the inverse of [`unpack_dir`]).
pub fn pack_dir(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, body) in files {
        let mut head = String::new();
        let _ = writeln!(head, "### {name}");
        out.extend_from_slice(head.as_bytes());
        out.extend_from_slice(body);
        if !body.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    out
}

/// `silos plot DIR` on an output directory holding the files packed in `data` (see
/// [`unpack_dir`]), without report.html, for two of the key observables (one bounded, one
/// not: each PNG costs a good fraction of a second under the fuzzers' sanitizers). Returns
/// what was drawn and skipped.
#[cfg(feature = "plots")]
pub fn plot(data: &[u8]) -> Result<crate::plot::PlotReport, String> {
    let dir = scratch("plot")?;
    for (name, body) in unpack_dir(data) {
        std::fs::write(dir.join(&name), body).map_err(|e| format!("{name}: {e}"))?;
    }
    let opts = crate::plot::PlotOptions {
        report: false,
        observables: vec!["share_need_met".into(), "mean_trust".into()],
        ..Default::default()
    };
    crate::plot::plot_dir(&dir, &opts).map_err(|e| e.to_string())
}

/// The most ticks [`engine`] runs.
pub const ENGINE_TICKS: u32 = 3;

/// A scenario that `silos check` accepts, run for three ticks (a national one through
/// every locality), with the conservation checks of every tick. The input is a scenario
/// file or, failing that, `--set` lines on the default scenario (as [`set`]): mutated files
/// rarely validate, overrides of a valid file mostly do, so both reach the engine.
pub fn engine(data: &[u8]) -> Result<(), String> {
    let s = match scenario(data) {
        Ok(s) => s,
        Err(e) => set(data).map_err(|_| e)?,
    };
    run_first_ticks(&s)
}

/// [`engine`]'s run: the first [`ENGINE_TICKS`] ticks of a validated scenario.
pub fn run_first_ticks(s: &Scenario) -> Result<(), String> {
    let ticks = s.ticks.min(ENGINE_TICKS);
    if s.localities.is_some() {
        let mut n = crate::national::National::new(s, s.seed, BehaviourChoice::Mixed);
        for _ in 0..ticks {
            n.step().map_err(|e| format!("national run: {e}"))?;
        }
    } else {
        let mut sim = Simulation::new(s, s.seed, BehaviourChoice::Mixed);
        engine::run(&mut sim, ticks, &mut NoObserver).map_err(|e| format!("run: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_directories_unpack() {
        let packed = pack_dir(&[("ticks.csv", b"tick\n1\n"), ("../x.json", b"{}")]);
        let files = unpack_dir(&packed);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0], ("ticks.csv".to_string(), b"tick\n1\n".to_vec()));
        assert_eq!(files[1], ("x.json".to_string(), b"{}\n".to_vec()));
        assert_eq!(
            unpack_dir(b"a,b\n"),
            [("ticks.csv".into(), b"a,b\n".to_vec())]
        );
    }

    #[test]
    fn the_default_scenario_runs_three_ticks() {
        engine(DEFAULT_SCENARIO.as_bytes()).unwrap();
        engine(b"model.hop_limit=2\nlevers.host_reimbursement=0.5").unwrap();
        assert!(engine(b"[scenario]\nname = 1").is_err_and(|m| m.contains("fuzz.toml")));
        assert!(set(b"model.hop_limit=x").is_err_and(|m| names_a_place(&m)));
    }
}
