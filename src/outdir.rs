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

/// The lock file a writer holds in its output folder ([`lock`]).
pub const LOCK_FILE: &str = ".silos.lock";

/// An output folder's exclusive lock, held while a command writes into it: an OS file lock
/// (`File::try_lock`, `flock` on Unix) on `DIR/.silos.lock`, which holds the writer's process
/// id. The OS releases it when the process ends however it ends, so a killed writer never
/// leaves a stale lock. Dropping the value releases the lock, removes the lock file, and
/// removes the folder too when [`lock`] created it and nothing was written into it.
#[derive(Debug)]
pub struct OutLock {
    dir: PathBuf,
    file: std::fs::File,
    created: bool,
}

/// Why an output folder could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{dir} is being written by another silos process{}; wait for it to finish or choose another --out",
        .pid.as_ref().map_or(String::new(), |p| format!(" (pid {p})"))
    )]
    Busy { dir: String, pid: Option<String> },
    #[error("{dir}: cannot lock the output folder: {source}")]
    Io { dir: String, source: std::io::Error },
}

impl OutLock {
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Take the exclusive lock on output folder `dir`, creating the folder if needed. Every
/// command that writes an output folder (run, national run, sweep, merge, validate,
/// sensitivity, teach, and the Python package's run and sweep) holds it for as long as it
/// writes, so two silos processes never write one folder. A second writer gets
/// [`LockError::Busy`], naming the holder's process id. Leftover temporary files of an
/// earlier writer that was killed (hidden `.NAME.XXXXXX.tmp` files, [`AtomicFile`]) are
/// removed once the lock is held: no live writer can own them.
///
/// [`AtomicFile`]: crate::output::AtomicFile
pub fn lock(dir: &Path) -> Result<OutLock, LockError> {
    use std::io::{Read, Seek, Write};
    let io = |source| LockError::Io {
        dir: dir.display().to_string(),
        source,
    };
    let created = !dir.exists();
    let path = dir.join(LOCK_FILE);
    // The lock file may be removed by its holder just after we open it (an [`OutLock`] is
    // dropped, and with it maybe the folder); a lock on a removed file guards nothing, so
    // try again on the new one.
    for _ in 0..100 {
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let pid = text
                    .split_whitespace()
                    .next()
                    .filter(|p| p.chars().all(|c| c.is_ascii_digit()))
                    .map(str::to_string);
                return Err(LockError::Busy {
                    dir: dir.display().to_string(),
                    pid,
                });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
        }
        if !same_file(&file, &path) {
            continue;
        }
        file.set_len(0).map_err(io)?;
        file.rewind().map_err(io)?;
        writeln!(file, "{}", std::process::id()).map_err(io)?;
        file.flush().map_err(io)?;
        remove_stale_temporaries(dir);
        return Ok(OutLock {
            dir: dir.to_path_buf(),
            file,
            created,
        });
    }
    Err(io(std::io::Error::other(
        "the lock file kept changing under us",
    )))
}

/// Whether the open `file` is still the file at `path` (not removed or replaced).
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = file;
        path.exists()
    }
}

/// Whether `name` is one of [`crate::output::AtomicFile`]'s temporary files.
pub fn is_temporary(name: &str) -> bool {
    name.starts_with('.') && name.contains(".tmp") && name != LOCK_FILE
}

/// Remove temporary files an earlier, killed writer left in `dir` and in the folders a
/// command writes below it (`.runs`, `plots`, `charts`).
fn remove_stale_temporaries(dir: &Path) {
    for d in [
        dir.to_path_buf(),
        dir.join(".runs"),
        dir.join("plots"),
        dir.join("charts"),
    ] {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            if is_temporary(&e.file_name().to_string_lossy())
                && e.file_type().is_ok_and(|t| t.is_file())
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

impl Drop for OutLock {
    fn drop(&mut self) {
        // Remove the file while still holding the lock (a writer that opened it meanwhile
        // sees it gone and retries on a new one), then release.
        let _ = std::fs::remove_file(self.dir.join(LOCK_FILE));
        let _ = self.file.unlock();
        if self.created {
            // Only succeeds when nothing was written (a command that failed early).
            let _ = std::fs::remove_dir(&self.dir);
        }
    }
}

/// The first entry (by name) of `dir` other than the lock file; `None` for a missing or
/// empty folder.
pub fn first_entry(dir: &Path) -> std::io::Result<Option<String>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let mut names: Vec<String> = Vec::new();
    for e in entries {
        let name = e?.file_name().to_string_lossy().into_owned();
        if name != LOCK_FILE {
            names.push(name);
        }
    }
    names.sort();
    Ok(names.into_iter().next())
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
    fn the_lock_is_exclusive_names_its_pid_and_cleans_up() {
        let d = tempfile::tempdir().unwrap();
        // A folder the lock created and nothing was written into: removed with the lock.
        let fresh = d.path().join("fresh");
        drop(lock(&fresh).unwrap());
        assert!(!fresh.exists());
        // An existing folder: kept, the lock file removed; a killed writer's temporary
        // files are removed when the next writer locks it, other files kept.
        let out = d.path().join("out");
        std::fs::create_dir_all(out.join(".runs")).unwrap();
        std::fs::write(out.join(".ticks.AbC123.tmp.csv"), "half").unwrap();
        std::fs::write(out.join(".runs").join(".7.XyZ.tmp.bin"), "half").unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let held = lock(&out).unwrap();
        assert_eq!(held.dir(), out.as_path());
        let pid = std::fs::read_to_string(out.join(LOCK_FILE)).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        assert!(!out.join(".ticks.AbC123.tmp.csv").exists());
        assert!(!out.join(".runs").join(".7.XyZ.tmp.bin").exists());
        assert_eq!(first_entry(&out).unwrap().as_deref(), Some(".runs"));
        let e = lock(&out).unwrap_err();
        assert!(matches!(e, LockError::Busy { .. }));
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("(pid {})", std::process::id()))
                && msg.contains("being written by another silos process"),
            "{msg}"
        );
        drop(held);
        assert!(!out.join(LOCK_FILE).exists());
        assert!(out.join("notes.txt").exists());
        drop(lock(&out).unwrap());
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
