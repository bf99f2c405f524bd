//! Reliability (issue 15): one writer per output folder, merges that refuse what they cannot
//! merge honestly, no temporary files left on any error (a full disk included), names that
//! cannot corrupt output, every number finite or NA, and per-needs rows that add up.

mod common;
use common::{fixture_path, silos};

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Hidden files (temporary files, a lock file) anywhere under `dir`.
fn hidden_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().unwrap().is_dir() {
            out.extend(hidden_files(&p));
        } else if name.starts_with('.') {
            out.push(p);
        }
    }
    out
}

/// Every record of a CSV file, checked to have as many fields as the header.
fn read_csv(path: &Path) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let header = rdr.headers().unwrap().clone();
    let rows: Vec<_> = rdr.records().map(|r| r.unwrap()).collect();
    for r in &rows {
        assert_eq!(
            r.len(),
            header.len(),
            "{}: ragged row {r:?}",
            path.display()
        );
    }
    (header, rows)
}

fn column_sum(path: &Path, col: &str) -> f64 {
    let (h, rows) = read_csv(path);
    let k = h.iter().position(|c| c == col).unwrap();
    rows.iter().map(|r| r[k].parse::<f64>().unwrap()).sum()
}

/// `silos run` of the small arena for 3 ticks into `out`, with `extra` arguments.
fn run_small(out: &Path, extra: &[&str]) -> std::process::Output {
    let scenario = fixture_path("small.toml");
    let mut a = vec![
        "run",
        scenario.to_str().unwrap(),
        "--ticks",
        "3",
        "--no-plots",
        "-q",
        "--out",
        out.to_str().unwrap(),
    ];
    a.extend_from_slice(extra);
    silos(&a)
}

// ---- 1. one writer per output folder ------------------------------------------------------

#[test]
fn a_second_writer_is_refused_naming_the_holder_and_runs_once_it_is_gone() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let out_s = out.to_str().unwrap();
    let held = silos::outdir::lock(&out).unwrap();
    let me = std::process::id();
    let o = run_small(&out, &[]);
    assert!(!o.status.success());
    let msg = stderr(&o);
    assert!(
        msg.contains("is being written by another silos process")
            && msg.contains(&format!("(pid {me})"))
            && msg.contains("--out"),
        "{msg}"
    );
    assert!(
        !out.join("ticks.csv").exists(),
        "the refused run wrote nothing"
    );
    // A sweep and a merge into the held folder are refused the same way.
    let exp = fixture_path("experiment-small.toml");
    let o = silos(&["sweep", exp.to_str().unwrap(), "-q", "--out", out_s]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains(&format!("(pid {me})")),
        "{}",
        stderr(&o)
    );
    let o = silos(&["merge", d.path().to_str().unwrap(), "--out", out_s]);
    assert!(
        stderr(&o).contains(&format!("(pid {me})")),
        "{}",
        stderr(&o)
    );
    // A second lock in this process is refused too (one writer, whoever it is).
    assert!(matches!(
        silos::outdir::lock(&out),
        Err(silos::outdir::LockError::Busy { .. })
    ));
    drop(held);
    let o = run_small(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(out.join("ticks.csv").is_file());
    assert_eq!(
        hidden_files(&out),
        Vec::<PathBuf>::new(),
        "lock file removed"
    );
}

#[test]
fn a_killed_writer_leaves_no_stale_lock() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let out_s = out.to_str().unwrap();
    // A long run (the default arena for many years), killed while it writes.
    let mut child = Command::new(env!("CARGO_BIN_EXE_silos"))
        .args([
            "run",
            "--ticks",
            "10000",
            "--no-plots",
            "-q",
            "--out",
            out_s,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let lock = out.join(silos::outdir::LOCK_FILE);
    let pid = child.id().to_string();
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |t| t.trim() != pid) {
        assert!(t0.elapsed().as_secs() < 60, "the child never took the lock");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let o = run_small(&out, &[]);
    assert!(
        stderr(&o).contains(&format!("(pid {pid})")),
        "{}",
        stderr(&o)
    );
    child.kill().unwrap();
    child.wait().unwrap();
    // The dead writer's lock file (and its temporary files) are still there, but its lock
    // died with it: the next run goes ahead and cleans up.
    assert!(lock.exists());
    let o = run_small(&out, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(hidden_files(&out), Vec::<PathBuf>::new());
}

// ---- 2. merge -----------------------------------------------------------------------------

#[test]
fn merge_refuses_a_non_empty_out_and_shards_of_different_builds() {
    let d = tempfile::tempdir().unwrap();
    let exp = fixture_path("experiment-small.toml");
    let shards: Vec<PathBuf> = (0..2).map(|i| d.path().join(format!("s{i}"))).collect();
    for (i, s) in shards.iter().enumerate() {
        let o = silos(&[
            "sweep",
            exp.to_str().unwrap(),
            "--shard",
            &format!("{i}/2"),
            "-q",
            "--threads",
            "1",
            "--out",
            s.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let merge = |out: &Path| {
        let mut a = vec!["merge".to_string()];
        a.extend(shards.iter().map(|s| s.display().to_string()));
        a.extend(["--out".to_string(), out.display().to_string()]);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        silos(&a)
    };
    // Not empty: refused, and the file there is untouched.
    let busy = d.path().join("busy");
    std::fs::create_dir_all(&busy).unwrap();
    std::fs::write(busy.join("notes.txt"), "mine").unwrap();
    let o = merge(&busy);
    assert!(!o.status.success());
    let msg = stderr(&o);
    assert!(
        msg.contains("is not empty (it holds notes.txt)") && msg.contains("another --out"),
        "{msg}"
    );
    assert_eq!(
        std::fs::read_to_string(busy.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&busy).unwrap().count(), 1);
    // A merged sweep is not merged over either.
    let good = d.path().join("merged");
    let o = merge(&good);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = merge(&good);
    assert!(stderr(&o).contains("is not empty"), "{}", stderr(&o));
    // A shard of another build: refused, naming the shard and what differs.
    let manifest = shards[1].join("manifest.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let mut m: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ours = m["build"]["build_id"].as_str().unwrap().to_string();
    assert_eq!(ours.len(), 16, "{ours}");
    for (field, value, what) in [
        (
            "git_commit",
            "0123456789abcdef0123456789abcdef01234567",
            "git commit",
        ),
        ("build_id", "ffffffffffffffff", "build id"),
    ] {
        let mut changed = m.clone();
        changed["build"][field] = value.into();
        std::fs::write(&manifest, changed.to_string()).unwrap();
        let out = d.path().join(format!("m-{field}"));
        let o = merge(&out);
        assert!(!o.status.success());
        let msg = stderr(&o);
        assert!(
            msg.contains(&manifest.display().to_string())
                && msg.contains("different silos build")
                && msg.contains(&format!("{what} {value} here")),
            "{msg}"
        );
        assert!(!out.exists(), "a refused merge writes nothing");
    }
    m["silos_version"] = "9.9.9".into();
    std::fs::write(&manifest, m.to_string()).unwrap();
    let o = merge(&d.path().join("m-version"));
    assert!(
        stderr(&o).contains("silos version 9.9.9 here"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&manifest, text).unwrap();
    let o = merge(&d.path().join("m-again"));
    assert!(o.status.success(), "{}", stderr(&o));
}

// ---- 3. no temporary files on a full disk -------------------------------------------------

/// A tiny tmpfs mounted for one test, unmounted when dropped; `None` (with a message) where
/// mounting is not allowed (not root, no mount namespace).
struct TinyDisk {
    dir: tempfile::TempDir,
}

impl TinyDisk {
    fn mount(size: &str) -> Option<TinyDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            println!(
                "skipped: cannot mount a tmpfs here (needs root); the full-disk test did not run"
            );
            return None;
        }
        Some(TinyDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for TinyDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

#[test]
fn a_full_disk_leaves_no_temporary_files_and_no_half_written_rows() {
    let Some(disk) = TinyDisk::mount("96k") else {
        return;
    };
    // A run: its per-tick files outgrow the disk.
    let run = disk.path().join("run");
    let o = silos(&[
        "run",
        "--ticks",
        "120",
        "--no-plots",
        "-q",
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(!o.status.success(), "the disk was meant to fill up");
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
    assert_eq!(hidden_files(disk.path()), Vec::<PathBuf>::new());
    assert!(!run.join("ticks.csv").exists(), "no half-written file");
    drop(disk);
    // A sweep, on disks that fill up at different steps: while writing a run's file (the
    // smallest), while appending a point's rows (the larger ones: a point's run files fit,
    // its rows do not). Whatever the sweep leaves is what progress.json records (no
    // half-written rows, even if the sweep is never resumed), and no temporary file.
    let exp = fixture_path("experiment-small.toml");
    for size in ["128k", "200k", "256k", "320k", "400k"] {
        let Some(disk) = TinyDisk::mount(size) else {
            return;
        };
        let sweep = disk.path().join("sweep");
        let o = silos(&[
            "sweep",
            exp.to_str().unwrap(),
            "-q",
            "--threads",
            "1",
            "--out",
            sweep.to_str().unwrap(),
        ]);
        assert!(!o.status.success(), "{size}: the disk was meant to fill up");
        assert!(
            stderr(&o).contains("No space left on device"),
            "{size}: {}",
            stderr(&o)
        );
        assert_eq!(hidden_files(disk.path()), Vec::<PathBuf>::new(), "{size}");
        let text = std::fs::read_to_string(sweep.join("progress.json")).unwrap();
        let p: serde_json::Value = serde_json::from_str(&text).unwrap();
        for pair in p["lengths"].as_array().unwrap() {
            let name = pair[0].as_str().unwrap();
            let len = std::fs::metadata(sweep.join(name)).unwrap().len();
            assert_eq!(len, pair[1].as_u64().unwrap(), "{size}: {name}");
        }
    }
}

// ---- 4. names -----------------------------------------------------------------------------

const NAME_RULE: &str = "each an ASCII letter (A-Z, a-z), a digit, '_' or '-'";

#[test]
fn names_outside_the_documented_set_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let small = std::fs::read_to_string(fixture_path("small.toml")).unwrap();
    std::fs::write(d.path().join("small.toml"), &small).unwrap();
    // Scenario names: a group, an agency, the scenario itself.
    for (from, to, field) in [
        (
            "name = \"families\"",
            "name = \"families\\nx\"",
            "groups[1].name",
        ),
        (
            "name = \"housing\"",
            "name = \"housing, council\"",
            "agencies[0].name",
        ),
        ("name = \"small\"", "name = \"../small\"", "scenario.name"),
    ] {
        assert!(small.contains(from), "{from}");
        let p = d.path().join("bad.toml");
        std::fs::write(&p, small.replacen(from, to, 1)).unwrap();
        let o = silos(&["check", p.to_str().unwrap()]);
        assert!(!o.status.success());
        let msg = stderr(&o);
        assert!(
            msg.contains("bad.toml")
                && msg.contains(&format!("`{field}`"))
                && msg.contains(NAME_RULE),
            "{msg}"
        );
    }
    // Experiment, arm and factor names. A line break in an arm name used to give ragged CSVs
    // and exit 0.
    let exp = |name: &str, arm: &str, factor: &str| {
        format!(
            "[experiment]\nname = \"{name}\"\nscenario = \"small.toml\"\nreplicates = 1\n\
             master_seed = 1\nticks = 2\nreference_arm = \"ra\"\n\n[[arms]]\nname = \"ra\"\n\
             behaviour = \"ra\"\n\n[[arms]]\nname = \"{arm}\"\nbehaviour = \"bp\"\n\n\
             [[factors]]\npath = \"model.hop_limit\"\nname = \"{factor}\"\nvalues = [1, 2]\n"
        )
    };
    for (text, field, rule) in [
        (exp("e", "b\\np", "hops"), "arms[1].name", NAME_RULE),
        (exp("e", "b\\u2028p", "hops"), "arms[1].name", NAME_RULE),
        (exp("e", "b,p", "hops"), "arms[1].name", NAME_RULE),
        (exp("../e", "bp", "hops"), "experiment.name", NAME_RULE),
        (
            exp("e", "bp", "hops, max"),
            "factors[0].name",
            "a scenario path",
        ),
    ] {
        let p = d.path().join("exp.toml");
        std::fs::write(&p, &text).unwrap();
        let out = d.path().join("out");
        let o = silos(&[
            "sweep",
            p.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        let msg = stderr(&o);
        assert!(
            msg.contains("exp.toml") && msg.contains(&format!("`{field}`")) && msg.contains(rule),
            "{msg}"
        );
        assert!(!out.join("runs.csv").exists());
    }
    // The same experiment with plain names runs.
    let p = d.path().join("exp.toml");
    std::fs::write(&p, exp("e", "bp-2", "hops")).unwrap();
    let out = d.path().join("ok");
    let o = silos(&[
        "sweep",
        p.to_str().unwrap(),
        "-q",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    read_csv(&out.join("runs.csv"));
}

// ---- 5. every number finite or NA ---------------------------------------------------------

/// Extreme values that `check` accepts (the limits in docs/scenarios.md stop the ones that
/// used to overflow, such as `need_size = 1e300`, which wrote `inf`): every number the run
/// writes is finite or `NA`. (`output::fmt_num`'s unit test covers the writer itself on
/// infinities.)
#[test]
fn extreme_accepted_values_write_finite_numbers_or_na() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let o = run_small(&out, &["--set", "groups.families.need_size=1e300"]);
    assert!(!o.status.success(), "need_size = 1e300 is refused now");
    assert!(stderr(&o).contains("need_size"), "{}", stderr(&o));
    let o = run_small(
        &out,
        &[
            "--set",
            "groups.families.need_size=1e9",
            "--set",
            "groups.families.severity=1e300",
            "--set",
            "model.cost_weight=1e300",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut na = 0;
    for f in [
        "ticks.csv",
        "agencies.csv",
        "groups.csv",
        "needs.csv",
        "dumping.csv",
    ] {
        let (_, rows) = read_csv(&out.join(f));
        for r in &rows {
            for v in r.iter() {
                if let Ok(x) = v.parse::<f64>() {
                    assert!(x.is_finite(), "{f}: {v} in {r:?}");
                }
                na += (v == "NA") as usize;
            }
        }
    }
    // Ratios with nothing to divide by (no referrals in a tick, say) are NA.
    assert!(na > 0, "no NA at all");
}

// ---- 6. per-needs rows add up -------------------------------------------------------------

#[test]
fn per_needs_rows_count_every_case_however_small_the_needs() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let o = run_small(
        &out,
        &[
            "--set",
            "groups.ex_offenders.need_size=1e-46",
            "--set",
            "groups.families.need_size=1e-300",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let total = column_sum(&out.join("ticks.csv"), "arrivals");
    assert!(total > 10.0, "{total}");
    assert_eq!(column_sum(&out.join("groups.csv"), "arrivals"), total);
    assert_eq!(column_sum(&out.join("needs.csv"), "arrivals"), total);
    for col in ["served", "partly_served", "fell_through"] {
        assert_eq!(
            column_sum(&out.join("needs.csv"), col),
            column_sum(&out.join("groups.csv"), col),
            "{col}"
        );
    }
}
