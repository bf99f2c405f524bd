//! Output folders: the default name of a run's folder, and the check that a command writes
//! only into a folder that is empty or holds its own kind of output.
//!
//! A run's default folder carries what distinguishes it (scenario, seed, behaviour, ticks
//! when given, and a short hash of the overrides), so two runs that differ never share a
//! folder by default. Writing a run into a sweep's folder (or a sweep into a run's, and so
//! on) is refused: the files of the two would mix, and a manifest would be replaced.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// What a folder of output holds, told by the files each command writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Run,
    National,
    Sweep,
    Validation,
    Sensitivity,
    Lesson,
}

impl OutputKind {
    pub fn describe(self) -> &'static str {
        match self {
            OutputKind::Run => "a run's output",
            OutputKind::National => "a national run's output",
            OutputKind::Sweep => "a sweep's output",
            OutputKind::Validation => "a validation suite's output",
            OutputKind::Sensitivity => "a sensitivity study's output",
            OutputKind::Lesson => "a lesson's output",
        }
    }

    /// The command that writes it.
    pub fn command(self) -> &'static str {
        match self {
            OutputKind::Run | OutputKind::National => "silos run",
            OutputKind::Sweep => "silos sweep (or merge)",
            OutputKind::Validation => "silos validate",
            OutputKind::Sensitivity => "silos sensitivity",
            OutputKind::Lesson => "silos teach",
        }
    }
}

/// Files that mark each kind, checked in this order (the first that matches decides).
const MARKERS: [(OutputKind, &[&str]); 6] = [
    (
        OutputKind::Sweep,
        &["progress.json", "runs.csv", "points.csv", "paired.csv"],
    ),
    (
        OutputKind::Validation,
        &["validation.csv", "robustness.csv"],
    ),
    (OutputKind::Sensitivity, &["sensitivity.csv", "sobol.csv"]),
    (OutputKind::Lesson, &["handout.html", "narration.txt"]),
    (
        OutputKind::National,
        &["localities.csv", "locality_agencies.csv"],
    ),
    (
        OutputKind::Run,
        &[
            "agencies.csv",
            "groups.csv",
            "needs.csv",
            "dumping.csv",
            "ticks.csv",
        ],
    ),
];

/// What `dir` holds, and the file that tells; `None` for a missing or unmarked folder.
pub fn holds(dir: &Path) -> Option<(OutputKind, &'static str)> {
    MARKERS.iter().find_map(|(kind, files)| {
        files
            .iter()
            .find(|f| dir.join(f).is_file())
            .map(|f| (*kind, *f))
    })
}

/// A command would write into a folder that holds another kind of output.
#[derive(Debug, thiserror::Error)]
#[error(
    "{dir}: holds {} ({file}, written by {}); {} would mix its files with it and replace its \
manifest.json. Give another --out, or remove the folder first",
    .found.describe(), .found.command(), .writer
)]
pub struct Occupied {
    pub dir: String,
    pub found: OutputKind,
    pub file: &'static str,
    pub writer: &'static str,
}

/// Check that `dir` is missing, empty of output, or holds `kind` (a sweep may also resume
/// in its own folder; a national run and a run are different kinds).
pub fn claim(dir: &Path, kind: OutputKind, writer: &'static str) -> Result<(), Occupied> {
    match holds(dir) {
        Some((found, file)) if found != kind => Err(Occupied {
            dir: dir.display().to_string(),
            found,
            file,
            writer,
        }),
        _ => Ok(()),
    }
}

/// The default folder of a run: `output/<scenario>-seed<seed>-<behaviour>`, then
/// `-ticks<T>` when the ticks were given, then `-set<8 hex digits>` (a hash of the
/// overrides, in order) when there are any.
pub fn default_run_dir(
    scenario: &str,
    seed: u64,
    behaviour: &str,
    ticks: Option<u32>,
    overrides: &[String],
) -> PathBuf {
    let mut name = format!("{}-seed{seed}-{behaviour}", safe(scenario));
    if let Some(t) = ticks {
        name.push_str(&format!("-ticks{t}"));
    }
    if !overrides.is_empty() {
        let mut h = Sha256::new();
        for o in overrides {
            h.update(o.as_bytes());
            h.update(b"\n");
        }
        let d = h.finalize();
        name.push_str("-set");
        for b in &d[..4] {
            name.push_str(&format!("{b:02x}"));
        }
    }
    PathBuf::from("output").join(name)
}

/// A name safe as one path component: letters, digits, `-`, `_` and `.` kept, the rest `_`.
fn safe(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() || t.chars().all(|c| c == '.') {
        "run".into()
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_names_carry_what_differs() {
        let a = default_run_dir("homelessness", 7, "ra", None, &[]);
        assert_eq!(a, PathBuf::from("output/homelessness-seed7-ra"));
        let b = default_run_dir(
            "homelessness",
            7,
            "ra",
            Some(24),
            &["model.hop_limit=2".into()],
        );
        let c = default_run_dir(
            "homelessness",
            7,
            "ra",
            Some(24),
            &["model.hop_limit=3".into()],
        );
        assert!(
            b.to_string_lossy()
                .starts_with("output/homelessness-seed7-ra-ticks24-set")
        );
        assert_ne!(b, c, "different overrides, different folders");
        assert_eq!(
            default_run_dir("a/b c", 1, "bp", None, &[]),
            PathBuf::from("output/a_b_c-seed1-bp")
        );
        assert_eq!(
            default_run_dir("..", 1, "bp", None, &[]),
            PathBuf::from("output/run-seed1-bp")
        );
    }

    #[test]
    fn a_folder_of_another_kind_is_refused_and_its_own_kind_accepted() {
        let d = tempfile::tempdir().unwrap();
        assert!(
            claim(d.path(), OutputKind::Run, "silos run").is_ok(),
            "empty"
        );
        std::fs::write(d.path().join("runs.csv"), "x\n").unwrap();
        let e = claim(d.path(), OutputKind::Run, "silos run").unwrap_err();
        assert_eq!(e.found, OutputKind::Sweep);
        let msg = e.to_string();
        assert!(msg.contains("runs.csv") && msg.contains("--out"), "{msg}");
        assert!(claim(d.path(), OutputKind::Sweep, "silos sweep").is_ok());
        let n = tempfile::tempdir().unwrap();
        std::fs::write(n.path().join("ticks.csv"), "x\n").unwrap();
        std::fs::write(n.path().join("localities.csv"), "x\n").unwrap();
        assert_eq!(holds(n.path()).map(|h| h.0), Some(OutputKind::National));
        assert!(claim(n.path(), OutputKind::Run, "silos run").is_err());
    }
}
