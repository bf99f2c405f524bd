//! `silos merge`: combine the outputs of shards (`--shard I/N`) into the files a
//! single-machine sweep writes, byte for byte (the manifest's times and shard aside).
//!
//! Every CSV row of a sweep belongs to one design point, and a single-machine sweep writes
//! points in order. A shard runs a contiguous block of (point, replicate) pairs: it folds the
//! points it holds whole and writes their rows, identical to a single machine's; the
//! replicates of a point it shares with another shard stay in its `.runs` folder. So the
//! merge reads each file's rows (as raw bytes, keeping their quoting), groups them by the
//! `point` column, folds every shared point from the shards' run files with the same code a
//! single machine uses, and writes all rows out in point order.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::exec::{SWEEP_FILES, SweepError, fail_file, fold_point, run_file};
use crate::output::write_atomic;

fn err(path: &Path, message: impl std::fmt::Display) -> SweepError {
    SweepError::Io {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

#[derive(serde::Deserialize, serde::Serialize)]
struct Progress {
    experiment_sha256: String,
    shard: String,
    committed: usize,
    lengths: Vec<(String, u64)>,
    failures: u64,
    complete: bool,
}

/// A CSV file's header bytes, and its rows' bytes by design point.
type Split = (Vec<u8>, BTreeMap<u64, Vec<u8>>);

/// Rows of one CSV file by point.
fn rows_by_point(path: &Path) -> Result<Split, SweepError> {
    let bytes = fs::read(path).map_err(|e| err(path, e))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(bytes.as_slice());
    let headers = rdr.headers().map_err(|e| err(path, e))?.clone();
    let col = headers
        .iter()
        .position(|h| h == "point")
        .ok_or_else(|| err(path, "no `point` column"))?;
    let header_end = rdr.position().byte() as usize;
    let mut by_point: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
    let mut rec = csv::ByteRecord::new();
    let mut start = header_end;
    loop {
        let more = rdr.read_byte_record(&mut rec).map_err(|e| err(path, e))?;
        if !more {
            break;
        }
        let end = rdr.position().byte() as usize;
        let p: u64 = std::str::from_utf8(&rec[col])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                err(
                    path,
                    format!("row at byte {start}: `point` is not a whole number"),
                )
            })?;
        by_point
            .entry(p)
            .or_default()
            .extend_from_slice(&bytes[start..end]);
        start = end;
    }
    Ok((bytes[..header_end].to_vec(), by_point))
}

/// The build that wrote a shard, from its `manifest.json`: version, commit, build id.
fn build_of(dir: &Path) -> Result<[String; 3], SweepError> {
    let p = dir.join("manifest.json");
    let text = fs::read_to_string(&p).map_err(|e| {
        err(
            &p,
            format!("{e} (a shard's manifest is written when its sweep finishes; rerun its sweep command)"),
        )
    })?;
    let m: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| err(&p, format!("unreadable ({e})")))?;
    let text = |v: &serde_json::Value| v.as_str().unwrap_or("unknown").to_string();
    Ok([
        text(&m["silos_version"]),
        text(&m["build"]["git_commit"]),
        text(&m["build"]["build_id"]),
    ])
}

/// Refuse shards written by different silos builds: their runs may differ, and a merge of
/// them would not be the sweep any one build writes. Compares each shard's version, git
/// commit and build id with the first shard's.
fn same_build(dirs: &[PathBuf]) -> Result<(), SweepError> {
    let first = build_of(&dirs[0])?;
    const WHAT: [&str; 3] = ["silos version", "git commit", "build id"];
    for d in &dirs[1..] {
        let b = build_of(d)?;
        if let Some(k) = (0..3).find(|&k| b[k] != first[k]) {
            return Err(err(
                &d.join("manifest.json"),
                format!(
                    "this shard was written by a different silos build from the first shard's ({}): {} {} here, {} there (version {}, commit {}, build id {} against {}, {}, {}); run every shard with the same silos build, then merge",
                    dirs[0].display(),
                    WHAT[k],
                    b[k],
                    first[k],
                    b[0],
                    b[1],
                    b[2],
                    first[0],
                    first[1],
                    first[2],
                ),
            ));
        }
    }
    Ok(())
}

/// Merge finished shard directories into `out`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<usize, SweepError> {
    if dirs.is_empty() {
        return Err(err(out, "name at least one sweep directory to merge"));
    }
    // A merge writes a new sweep: into a missing or empty folder only (its lock file aside,
    // `outdir::lock`), never over another sweep's files.
    if let Some(f) = crate::outdir::first_entry(out).map_err(|e| err(out, e))? {
        return Err(SweepError::Conflict {
            dir: out.display().to_string(),
            message: format!(
                "is not empty (it holds {f}); silos merge writes into a new or empty folder: use another --out, or delete it"
            ),
        });
    }
    let mut sha = None;
    for d in dirs {
        let p = d.join("progress.json");
        let text = fs::read_to_string(&p)
            .map_err(|e| err(&p, format!("{e} (is this a sweep's output directory?)")))?;
        let prog: Progress = serde_json::from_str(&text).map_err(|e| err(&p, e))?;
        if !prog.complete {
            return Err(err(
                &p,
                "this shard has not finished; rerun its sweep command to complete it, then merge",
            ));
        }
        match &sha {
            None => sha = Some(prog.experiment_sha256.clone()),
            Some(s) if *s != prog.experiment_sha256 => {
                return Err(err(
                    &p,
                    "this directory holds a sweep of a different experiment from the first one",
                ));
            }
            _ => {}
        }
    }
    same_build(dirs)?;
    let exp = super::Experiment::from_sweep_dir(&dirs[0]).map_err(|e| err(&dirs[0], e))?;
    if !cfg!(feature = "parquet")
        && exp
            .outputs
            .formats
            .contains(&super::experiment::Format::Parquet)
    {
        return Err(super::exec::no_parquet(&dirs[0]));
    }
    let n_points = exp.n_points();
    let per_point = exp.runs_per_point();
    // Points no shard folded whole: fold them from the run files the shards kept.
    let mut whole = std::collections::BTreeSet::new();
    for d in dirs {
        let (_, rows) = rows_by_point(&d.join(SWEEP_FILES[0]))?;
        whole.extend(rows.into_keys());
    }
    let where_is = |id: u64| -> Option<&Path> {
        dirs.iter()
            .map(|d| d.as_path())
            .find(|d| run_file(d, id).exists() || fail_file(d, id).exists())
    };
    let mut folded: BTreeMap<u64, (Vec<Vec<u8>>, Vec<u8>)> = BTreeMap::new();
    let mut missing = Vec::new();
    for p in (0..n_points).filter(|p| !whole.contains(&(*p as u64))) {
        let ids = p as u64 * per_point..(p as u64 + 1) * per_point;
        if ids.clone().any(|id| where_is(id).is_none()) {
            missing.push(p);
            continue;
        }
        let lookup = |id: u64| where_is(id).expect("checked above");
        let mut runs = Vec::new();
        let (rows, _) = fold_point(&exp, &lookup, out, p, &mut runs)?;
        folded.insert(p as u64, (rows, runs));
    }
    if !missing.is_empty() {
        let show: Vec<String> = missing.iter().take(10).map(|p| p.to_string()).collect();
        return Err(err(
            out,
            format!(
                "{} of {n_points} design points are missing (first: {}); merge every shard",
                missing.len(),
                show.join(", ")
            ),
        ));
    }
    let mut lengths = Vec::new();
    let mut failures = 0u64;
    for (f, name) in SWEEP_FILES.iter().enumerate() {
        let mut header: Option<Vec<u8>> = None;
        let mut all: BTreeMap<u64, Vec<u8>> = BTreeMap::new();
        for d in dirs {
            let (h, rows) = rows_by_point(&d.join(name))?;
            match &header {
                None => header = Some(h),
                Some(x) if *x != h => {
                    return Err(err(
                        &d.join(name),
                        "its header differs from the first directory's",
                    ));
                }
                _ => {}
            }
            for (p, r) in rows {
                if folded.contains_key(&p) {
                    continue;
                }
                if all.insert(p, r).is_some() {
                    return Err(err(
                        &d.join(name),
                        format!("design point {p} appears in more than one directory"),
                    ));
                }
            }
        }
        for (p, (rows, runs)) in &folded {
            let r = if f == 1 {
                runs.clone()
            } else {
                rows[f].clone()
            };
            all.insert(*p, r);
        }
        let mut bytes = header.unwrap_or_default();
        for (_, r) in all {
            if *name == "failures.csv" {
                // Records, not lines: an error message may hold a (quoted) line break.
                let mut rdr = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(r.as_slice());
                failures += rdr.byte_records().count() as u64;
            }
            bytes.extend_from_slice(&r);
        }
        // Created only now, after points.csv passed the completeness check.
        fs::create_dir_all(out).map_err(|e| err(out, e))?;
        write_atomic(out, name, &bytes).map_err(|e| err(&out.join(name), e))?;
        lengths.push((name.to_string(), bytes.len() as u64));
    }
    for name in ["experiment.toml", "scenario.toml", "design.csv"] {
        let src = dirs[0].join(name);
        if src.exists() {
            let b = fs::read(&src).map_err(|e| err(&src, e))?;
            write_atomic(out, name, &b).map_err(|e| err(&out.join(name), e))?;
        }
    }
    let prog = Progress {
        experiment_sha256: sha.unwrap_or_default(),
        shard: "all".to_string(),
        committed: n_points,
        lengths,
        failures,
        complete: true,
    };
    let text = serde_json::to_string_pretty(&prog).expect("serialises") + "\n";
    write_atomic(out, "progress.json", text.as_bytes()).map_err(|e| err(out, e))?;
    super::exec::write_formats(&exp, out)?;
    Ok(n_points)
}
