//! The sweep engine: runs in parallel, results folded in a fixed order, outputs committed
//! point by point so that an interrupted sweep loses nothing finished.
//!
//! Each run is written, as soon as it ends, to its own file under `DIR/.runs/` (written under
//! a temporary name and renamed). A design point is *committed* when all its runs have
//! ended: its rows are folded in run order, appended to every output CSV, the files are
//! synced, `progress.json` records the new file lengths (atomically), and the point's run
//! files are deleted. On restart, the CSVs are cut back to the lengths `progress.json`
//! records (dropping anything half-written), committed points are skipped, and runs whose
//! files exist are not run again. Because rows are folded in run order from exact binary
//! results, the CSVs are byte-identical whatever the thread count or the interruptions.

use std::fs::{self, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use super::experiment::{Experiment, Format, RunRef};
use super::run::{CUMULATIVE, RunOutput, run_one};
use super::stats::Acc;
use crate::metrics::{AGENCY, TICK};
use crate::output::{CsvBuf, fmt_num, sha256_hex, write_atomic, write_num};

/// The CSV files of a sweep, in the order they are written.
pub const SWEEP_FILES: [&str; 11] = [
    "points.csv",
    "runs.csv",
    "summary.csv",
    "paired.csv",
    "effects.csv",
    "agencies_summary.csv",
    "dumping_summary.csv",
    "agenda_summary.csv",
    "failures.csv",
    "localities_summary.csv",
    "series.csv",
];

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{dir}: {message}")]
    Conflict { dir: String, message: String },
}

fn io(path: &Path, e: impl std::fmt::Display) -> SweepError {
    SweepError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// How to run a sweep.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Run only design points `p` with `p % n == i`.
    pub shard: Option<(usize, usize)>,
    /// Show progress on stderr (a bar on a terminal, plain lines otherwise).
    pub progress: bool,
    /// Fault injection for tests of failure handling: these run ids fail as if a run had
    /// broken an invariant. Empty in normal use; the CLI never sets it.
    pub fail_runs: Vec<u64>,
}

/// What a sweep did.
#[derive(Debug, Clone)]
pub struct SweepReport {
    pub runs_total: u64,
    pub runs_done_now: u64,
    pub failures: u64,
    pub points_resumed: usize,
    pub threads: usize,
    pub secs: f64,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Progress {
    experiment_sha256: String,
    shard: String,
    committed: usize,
    lengths: Vec<(String, u64)>,
    failures: u64,
    complete: bool,
}

fn shard_label(s: Option<(usize, usize)>) -> String {
    match s {
        Some((i, n)) => format!("{i}/{n}"),
        None => "all".to_string(),
    }
}

/// The experiment's fingerprint: its text, its base scenario and its design.
pub fn experiment_sha(exp: &Experiment) -> String {
    let mut bytes = exp.text.as_bytes().to_vec();
    bytes.extend_from_slice(b"\n--scenario--\n");
    bytes.extend_from_slice(exp.scenario_text.as_bytes());
    if let Some(d) = &exp.design_text {
        bytes.extend_from_slice(b"\n--design--\n");
        bytes.extend_from_slice(d.as_bytes());
    }
    sha256_hex(&bytes)
}

/// The header record of each file in `SWEEP_FILES`, as CSV bytes.
fn headers(exp: &Experiment) -> Vec<Vec<u8>> {
    let factors = exp.factor_names.iter().map(String::as_str);
    // runs.csv: one column per tick observable and statistic ([outputs]).
    let stat_cols: Vec<String> = exp
        .outputs
        .statistics
        .iter()
        .flat_map(|st| TICK.iter().map(move |o| st.column(o.name)))
        .collect();
    let obs = stat_cols.iter().map(String::as_str);
    let fixed = |cols: &'static str| cols.split(',').collect::<Vec<_>>();
    let records: Vec<Vec<&str>> = vec![
        ["point"].into_iter().chain(factors.clone()).collect(),
        fixed("run_id,point,arm,replicate,seed")
            .into_iter()
            .chain(factors)
            .chain(obs)
            .chain(CUMULATIVE)
            .collect(),
        fixed("point,arm,tick,observable,n,mean,sd,ci_low,ci_high"),
        fixed("point,arm,reference,tick,observable,n,mean_diff,sd_diff,ci_low,ci_high"),
        fixed(
            "point,arm,reference,observable,n,mean,ci_low,ci_high,n_pairs,mean_diff,diff_ci_low,diff_ci_high",
        ),
        fixed("point,arm,agency,observable,n,mean,sd,ci_low,ci_high"),
        fixed("point,arm,sender,receiver,n,mean_referrals,mean_dumped_referrals,mean_dumped_cost"),
        fixed("point,arm,group,n,agenda_weight,need_weight"),
        fixed("run_id,point,arm,replicate,seed,error"),
        fixed("point,arm,locality,observable,n,mean,sd,ci_low,ci_high"),
        fixed("run_id,point,arm,replicate,tick")
            .into_iter()
            .chain(exp.outputs.series.iter().map(|&k| TICK[k].name))
            .collect(),
    ];
    records
        .into_iter()
        .map(|r| {
            let mut c = CsvBuf::new();
            c.record(r);
            c.into_bytes()
        })
        .collect()
}

/// The experiment part of a sweep's `manifest.json` (the CLI adds times, threads, shard).
pub fn manifest(exp: &Experiment, version: &str) -> serde_json::Value {
    serde_json::json!({
        "silos_version": version,
        "build": crate::output::build_info(),
        "experiment": {
            "name": exp.name,
            "description": exp.description,
            "path": exp.file,
            "sha256": sha256_hex(exp.text.as_bytes()),
            "fingerprint": experiment_sha(exp),
        },
        "scenario": { "path": exp.scenario_label, "sha256": sha256_hex(exp.scenario_text.as_bytes()) },
        "arms": exp.arms.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
        "arm_settings": exp.arms.iter().map(|a| serde_json::json!({
            "arm": a.name, "behaviour": a.choice.as_str(),
            "set": a.overrides.iter().map(|o| o.text.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "reference_arm": exp.arms[exp.reference].name,
        "factors": exp.factor_names,
        "factor_paths": exp.factor_paths,
        "points": exp.n_points(),
        "replicates": exp.replicates,
        "ticks": exp.ticks,
        "master_seed": exp.master_seed,
        "seed_rule": "seed = derive_seed(master_seed, point, replicate) (src/rng.rs); every arm at a point and replicate shares it",
        "runs": exp.n_runs(),
        "files": SWEEP_FILES,
        "formats": exp.outputs.formats.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
    })
}

/// A worker pool with `threads` threads; `None` or 0 means every core (rayon's default).
/// Every command that takes `--threads` builds its pool here.
pub fn thread_pool(
    threads: Option<usize>,
) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads.filter(|&t| t > 0) {
        b = b.num_threads(t);
    }
    b.build()
}

/// Run (or resume) a sweep.
pub fn run_sweep(exp: &Experiment, opts: &SweepOptions) -> Result<SweepReport, SweepError> {
    let clock = Instant::now();
    let dir = &opts.out;
    fs::create_dir_all(dir.join(".runs")).map_err(|e| io(dir, e))?;
    let sha = experiment_sha(exp);
    let shard = shard_label(opts.shard);
    let progress_path = dir.join("progress.json");
    let mut progress = if progress_path.exists() {
        let text = fs::read_to_string(&progress_path).map_err(|e| io(&progress_path, e))?;
        let p: Progress = serde_json::from_str(&text)
            .map_err(|e| io(&progress_path, format!("unreadable ({e})")))?;
        if p.experiment_sha256 != sha || p.shard != shard {
            return Err(SweepError::Conflict {
                dir: dir.display().to_string(),
                message: format!(
                    "holds a sweep of another experiment or shard (shard {}); use another --out, or delete the directory to start again",
                    p.shard
                ),
            });
        }
        // Cut every file back to what the last commit recorded.
        cut_back(dir, &p.lengths)?;
        p
    } else {
        if let Some(f) = SWEEP_FILES.iter().find(|f| dir.join(f).exists()) {
            return Err(SweepError::Conflict {
                dir: dir.display().to_string(),
                message: format!(
                    "already holds {f} from another sweep; use another --out, or delete it"
                ),
            });
        }
        let copies = ["experiment.toml", "scenario.toml", "design.csv"];
        let existed: Vec<&str> = copies
            .into_iter()
            .filter(|n| dir.join(n).exists())
            .collect();
        let start = || -> Result<Progress, SweepError> {
            let mut lengths = Vec::new();
            for (name, header) in SWEEP_FILES.iter().zip(headers(exp)) {
                let path = dir.join(name);
                write_atomic(dir, name, &header).map_err(|e| io(&path, e))?;
                lengths.push((name.to_string(), header.len() as u64));
            }
            write_atomic(dir, "experiment.toml", exp.text.as_bytes()).map_err(|e| io(dir, e))?;
            write_atomic(dir, "scenario.toml", exp.scenario_text.as_bytes())
                .map_err(|e| io(dir, e))?;
            if let Some(d) = &exp.design_text {
                write_atomic(dir, "design.csv", d.as_bytes()).map_err(|e| io(dir, e))?;
            }
            let p = Progress {
                experiment_sha256: sha.clone(),
                shard: shard.clone(),
                committed: 0,
                lengths,
                failures: 0,
                complete: false,
            };
            save_progress(dir, &p)?;
            Ok(p)
        };
        match start() {
            Ok(p) => p,
            Err(e) => {
                // Not started (a full disk): remove what this start wrote, so the same
                // command can start again in this folder once there is room.
                for name in SWEEP_FILES
                    .iter()
                    .chain(copies.iter().filter(|n| !existed.contains(n)))
                {
                    let _ = fs::remove_file(dir.join(name));
                }
                let _ = fs::remove_dir(dir.join(".runs"));
                return Err(e);
            }
        }
    };

    let items = shard_items(exp, opts.shard);
    let per_point = exp.runs_per_point();
    let a_n = exp.arms.len() as u64;
    let runs_total: u64 = items.iter().map(|it| it.runs(a_n)).sum();
    let points_resumed = progress.committed;

    let pool = thread_pool(opts.threads)
        .map_err(|e| io(dir, format!("cannot start worker threads: {e}")))?;
    let threads = pool.current_num_threads();
    let already: u64 = items[..progress.committed.min(items.len())]
        .iter()
        .map(|it| it.runs(a_n))
        .sum();
    let bar = Progress_::new(opts.progress, runs_total, already);
    let done_now = AtomicU64::new(0);

    // Points in flight together: enough runs to keep every thread busy.
    let window = ((4 * threads as u64).div_ceil(per_point.max(1)) as usize).clamp(1, 64);
    let mut k = progress.committed;
    while k < items.len() {
        let batch = &items[k..(k + window).min(items.len())];
        let todo: Vec<u64> = batch
            .iter()
            .flat_map(|it| it.ids(per_point, a_n))
            .filter(|&id| !run_file(dir, id).exists() && !fail_file(dir, id).exists())
            .collect();
        bar.add(batch.iter().map(|it| it.runs(a_n)).sum::<u64>() - todo.len() as u64);
        let results: Vec<Result<(), SweepError>> = pool.install(|| {
            todo.par_iter()
                .map(|&id| {
                    let r = exp.run_ref(id);
                    let outcome = if opts.fail_runs.contains(&id) {
                        Err("injected failure (fault-injection test)".to_string())
                    } else {
                        run_one(exp, r)
                    };
                    let res = match outcome {
                        Ok(out) => {
                            write_atomic(&dir.join(".runs"), &format!("{id}.bin"), &out.encode())
                        }
                        Err(msg) => {
                            write_atomic(&dir.join(".runs"), &format!("{id}.fail"), msg.as_bytes())
                        }
                    };
                    done_now.fetch_add(1, Ordering::Relaxed);
                    bar.add(1);
                    res.map_err(|e| io(&run_file(dir, id), e))
                })
                .collect()
        });
        for r in results {
            r?;
        }
        for it in batch {
            if it.whole(exp.replicates) {
                commit_point(exp, dir, it.point, &mut progress)?;
            } else {
                // Part of a point another shard shares: its run files stay in `.runs` for
                // `silos merge` to fold with the other shards' (nothing is written here).
                progress.committed += 1;
                save_progress(dir, &progress)?;
            }
            k += 1;
        }
    }
    progress.complete = true;
    save_progress(dir, &progress)?;
    // Parquet copies of the final CSVs; a shard writes none (`silos merge` does).
    if opts.shard.is_none() {
        write_formats(exp, dir)?;
    }
    let _ = fs::remove_dir(dir.join(".runs"));
    bar.finish();
    Ok(SweepReport {
        runs_total,
        runs_done_now: done_now.load(Ordering::Relaxed),
        failures: progress.failures,
        points_resumed,
        threads,
        secs: clock.elapsed().as_secs_f64(),
    })
}

/// The error of a build without the `parquet` feature asked for Parquet files.
pub(crate) fn no_parquet(dir: &Path) -> SweepError {
    SweepError::Conflict {
        dir: dir.display().to_string(),
        message: "the experiment's [outputs] formats include \"parquet\", and this silos was built without Parquet support; rebuild with `cargo build --release --features parquet`".to_string(),
    }
}

/// The other formats of `[outputs] formats`, converted from a finished sweep's CSVs (every
/// format but CSV needs its cargo feature: loading an experiment file checks it, and
/// `silos merge` before it starts).
pub(crate) fn write_formats(exp: &Experiment, dir: &Path) -> Result<(), SweepError> {
    for f in &exp.outputs.formats {
        match f {
            Format::Csv => {}
            #[cfg(feature = "parquet")]
            Format::Parquet => super::parquet::write_all(exp, dir)?,
            #[cfg(not(feature = "parquet"))]
            Format::Parquet => return Err(no_parquet(dir)),
        }
    }
    Ok(())
}

/// The replicates `[first, last)` of design point `point` that a sweep (or a shard of it)
/// runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub point: usize,
    pub first: u32,
    pub last: u32,
}

impl Item {
    fn runs(&self, arms: u64) -> u64 {
        (self.last - self.first) as u64 * arms
    }

    fn whole(&self, replicates: u32) -> bool {
        self.first == 0 && self.last == replicates
    }

    fn ids(&self, per_point: u64, arms: u64) -> impl Iterator<Item = u64> + use<> {
        let base = self.point as u64 * per_point;
        (self.first as u64 * arms..self.last as u64 * arms).map(move |j| base + j)
    }
}

/// What shard `i` of `n` runs: the (point, replicate) pairs of the design, in order, cut
/// into `n` contiguous blocks as even as can be (`i * P * R / n` up to `(i + 1) * P * R / n`),
/// so a design with one point still splits. A shard folds the points it holds whole; the
/// replicates of a point it shares with another shard are kept as run files for
/// `silos merge`. Without a shard: every point, whole.
pub fn shard_items(exp: &Experiment, shard: Option<(usize, usize)>) -> Vec<Item> {
    let r = exp.replicates as u64;
    let units = exp.n_points() as u64 * r;
    let (lo, hi) = match shard {
        None => (0, units),
        Some((i, n)) => (
            (i as u64 * units) / n as u64,
            ((i as u64 + 1) * units) / n as u64,
        ),
    };
    let mut items = Vec::new();
    let mut u = lo;
    while u < hi {
        let p = u / r;
        let end = ((p + 1) * r).min(hi);
        items.push(Item {
            point: p as usize,
            first: (u - p * r) as u32,
            last: (end - p * r) as u32,
        });
        u = end;
    }
    items
}

pub(crate) fn run_file(dir: &Path, id: u64) -> PathBuf {
    dir.join(".runs").join(format!("{id}.bin"))
}

pub(crate) fn fail_file(dir: &Path, id: u64) -> PathBuf {
    dir.join(".runs").join(format!("{id}.fail"))
}

fn save_progress(dir: &Path, p: &Progress) -> Result<(), SweepError> {
    let text = serde_json::to_string_pretty(p).expect("progress serialises") + "\n";
    write_atomic(dir, "progress.json", text.as_bytes())
        .map_err(|e| io(&dir.join("progress.json"), e))
}

/// Cut each file back to the length the last commit recorded.
fn cut_back(dir: &Path, lengths: &[(String, u64)]) -> Result<(), SweepError> {
    for (name, len) in lengths {
        let path = dir.join(name);
        let f = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        f.set_len(*len).map_err(|e| io(&path, e))?;
        f.sync_all().map_err(|e| io(&path, e))?;
    }
    Ok(())
}

/// Commit design point `p` ([`append_point`], then `progress.json`). If any step fails (a
/// full disk), the files are cut back to the last commit's lengths at once, so a failed
/// sweep leaves no half-written rows even if it is never resumed, and `progress` is left as
/// it was.
fn commit_point(
    exp: &Experiment,
    dir: &Path,
    p: usize,
    progress: &mut Progress,
) -> Result<(), SweepError> {
    let before = (
        progress.lengths.clone(),
        progress.committed,
        progress.failures,
    );
    let done = append_point(exp, dir, p, progress).and_then(|()| save_progress(dir, progress));
    if let Err(e) = done {
        (progress.lengths, progress.committed, progress.failures) = before;
        // Best effort: a restart cuts back to these lengths anyway.
        let _ = cut_back(dir, &progress.lengths);
        return Err(e);
    }
    let per_point = exp.runs_per_point();
    for j in 0..per_point {
        let id = p as u64 * per_point + j;
        let _ = fs::remove_file(run_file(dir, id));
        let _ = fs::remove_file(fail_file(dir, id));
    }
    Ok(())
}

/// Fold one design point's runs (in run order) and append its rows to every output. The
/// runs.csv rows are written to the file as they are made (not held for the whole point), so
/// memory stays flat however many replicates a point has; a crash before the commit leaves
/// rows the next start cuts off.
fn append_point(
    exp: &Experiment,
    dir: &Path,
    p: usize,
    progress: &mut Progress,
) -> Result<(), SweepError> {
    let runs_path = dir.join(SWEEP_FILES[1]);
    let runs_file = OpenOptions::new()
        .append(true)
        .open(&runs_path)
        .map_err(|e| io(&runs_path, e))?;
    let mut runs_out = std::io::BufWriter::new(runs_file);
    let (buf, failures) = fold_point(exp, &|_| dir, dir, p, &mut runs_out)?;
    let runs_file = runs_out
        .into_inner()
        .map_err(|e| io(&runs_path, e.error().to_string()))?;
    runs_file.sync_all().map_err(|e| io(&runs_path, e))?;
    progress.failures += failures;
    // Append, sync, then record the new lengths: a crash before the record leaves rows that
    // the next start cuts off; a crash after it leaves run files that are deleted below.
    for (name, bytes) in SWEEP_FILES.iter().zip(&buf) {
        let path = dir.join(name);
        let mut f = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| io(&path, e))?;
        f.write_all(bytes).map_err(|e| io(&path, e))?;
        f.sync_all().map_err(|e| io(&path, e))?;
        let len = f.metadata().map_err(|e| io(&path, e))?.len();
        if let Some(entry) = progress.lengths.iter_mut().find(|(n, _)| n == name) {
            entry.1 = len;
        }
    }
    progress.committed += 1;
    Ok(())
}

/// Fold design point `p` from its run files (`run_dir(id)` says which directory's `.runs`
/// holds run `id`): the rows of every output but runs.csv, whose rows go to `runs_out` as
/// they are made, and the number of failed runs. `dir` names the output in messages.
pub(crate) fn fold_point<'d>(
    exp: &Experiment,
    run_dir: &dyn Fn(u64) -> &'d Path,
    dir: &Path,
    p: usize,
    runs_out: &mut dyn Write,
) -> Result<(Vec<Vec<u8>>, u64), SweepError> {
    let per_point = exp.runs_per_point();
    let mut failures = 0u64;
    let a_n = exp.arms.len();
    let o_n = TICK.len();
    let t_n = exp.ticks as usize;
    let s0 = exp.scenario_for(p, 0).map_err(|e| io(dir, e))?;
    let agencies: Vec<&str> = s0.agencies.iter().map(|a| a.name.as_str()).collect();
    let groups: Vec<&str> = s0.groups.iter().map(|g| g.name.as_str()).collect();
    let n_ag = agencies.len();
    let ao_n = AGENCY.len();
    let reference = exp.reference;

    let mut summary = vec![Acc::default(); a_n * t_n * o_n];
    let mut paired = vec![Acc::default(); a_n * t_n * o_n];
    let mut eff = vec![Acc::default(); a_n * o_n];
    let mut eff_diff = vec![Acc::default(); a_n * o_n];
    let mut agency = vec![Acc::default(); a_n * n_ag * ao_n];
    let mut dumping = vec![Acc::default(); a_n * n_ag * n_ag * 3];
    let mut agenda = vec![Acc::default(); a_n * groups.len()];
    // National runs: each locality's run means, per arm (sized at the first run that has
    // them; empty for single-locality scenarios).
    let lk = super::run::LOCALITY_OBSERVABLES.len();
    let mut localities: Vec<Acc> = Vec::new();
    let mut need_share: Vec<f64> = vec![f64::NAN; groups.len()];

    let mut buf: Vec<CsvBuf> = (0..SWEEP_FILES.len()).map(|_| CsvBuf::new()).collect();
    let factor_values: Vec<String> = exp.points[p].iter().map(value_text).collect();
    buf[0].field(p.to_string());
    buf[0].record(&factor_values);
    // runs.csv rows go straight to `runs_out`.
    let runs_path = dir.join(SWEEP_FILES[1]);
    let mut runs_csv = csv::Writer::from_writer(runs_out);
    let mut num = String::new();

    for rep in 0..exp.replicates {
        let mut outs: Vec<Option<(RunOutput, Vec<f64>)>> = Vec::with_capacity(a_n);
        for a in 0..a_n {
            let id = p as u64 * per_point + rep as u64 * a_n as u64 + a as u64;
            let r = exp.run_ref(id);
            let fail = fail_file(run_dir(id), id);
            if fail.exists() {
                let msg = fs::read_to_string(&fail).map_err(|e| io(&fail, e))?;
                buf[8]
                    .fields(&[
                        &id.to_string(),
                        &p.to_string(),
                        &exp.arms[a].name,
                        &rep.to_string(),
                        &r.seed.to_string(),
                        msg.trim(),
                    ])
                    .end();
                failures += 1;
                outs.push(None);
                continue;
            }
            let path = run_file(run_dir(id), id);
            let bytes = fs::read(&path).map_err(|e| io(&path, e))?;
            let out = RunOutput::decode(&bytes).ok_or_else(|| {
                io(
                    &path,
                    "damaged run file; delete it and rerun to redo this run",
                )
            })?;
            // The window's means once per run: for runs.csv, the effects and the paired
            // effects.
            let means = out.window_means(exp.outputs.from, exp.outputs.to);
            runs_row(
                &mut runs_csv,
                &mut num,
                exp,
                r,
                &factor_values,
                &out,
                &means,
            )
            .map_err(|e| io(&runs_path, e))?;
            // series.csv: the chosen observables tick by tick over the window.
            if !exp.outputs.series.is_empty() {
                let c = &mut buf[10];
                let (id, rep_s) = (id.to_string(), rep.to_string());
                let point = p.to_string();
                for t in exp.outputs.from..=exp.outputs.to.min(out.ticks) {
                    c.fields(&[&id, &point, &exp.arms[a].name, &rep_s, &t.to_string()]);
                    for &k in &exp.outputs.series {
                        c.num(out.tick_values[(t as usize - 1) * o_n + k]);
                    }
                    c.end();
                }
            }
            outs.push(Some((out, means)));
        }
        for a in 0..a_n {
            let Some((out, means)) = &outs[a] else {
                continue;
            };
            for t in 0..t_n {
                for k in 0..o_n {
                    summary[(a * t_n + t) * o_n + k].push(out.tick_values[t * o_n + k]);
                }
            }
            for k in 0..o_n {
                eff[a * o_n + k].push(means[k]);
            }
            for (j, v) in out.agency_means.iter().enumerate() {
                agency[a * n_ag * ao_n + j].push(*v);
            }
            for (j, v) in out.dumping.iter().enumerate() {
                dumping[a * n_ag * n_ag * 3 + j].push(*v);
            }
            for (g, v) in out.agenda.iter().enumerate() {
                agenda[a * groups.len() + g].push(*v);
            }
            need_share.clone_from(&out.need_share);
            if !out.localities.is_empty() {
                if localities.is_empty() {
                    localities = vec![Acc::default(); a_n * out.localities.len()];
                }
                let per_arm = localities.len() / a_n;
                for (j, v) in out.localities.iter().enumerate().take(per_arm) {
                    localities[a * per_arm + j].push(*v);
                }
            }
            if a != reference
                && let Some((base, base_means)) = &outs[reference]
            {
                for t in 0..t_n {
                    for k in 0..o_n {
                        let i = t * o_n + k;
                        paired[(a * t_n + t) * o_n + k]
                            .push(out.tick_values[i] - base.tick_values[i]);
                    }
                }
                for k in 0..o_n {
                    eff_diff[a * o_n + k].push(means[k] - base_means[k]);
                }
            }
        }
    }

    let ref_name = &exp.arms[reference].name;
    let point = p.to_string();
    for a in 0..a_n {
        let arm = &exp.arms[a].name;
        for t in 0..t_n {
            let tick = (t + 1).to_string();
            for (k, o) in TICK.iter().enumerate() {
                let acc = &summary[(a * t_n + t) * o_n + k];
                stat_row(&mut buf[2], [&point, arm, &tick, o.name], acc);
                if a != reference {
                    let acc = &paired[(a * t_n + t) * o_n + k];
                    stat_row(&mut buf[3], [&point, arm, ref_name, &tick, o.name], acc);
                }
            }
        }
        for (k, o) in TICK.iter().enumerate() {
            let e = &eff[a * o_n + k];
            let d = &eff_diff[a * o_n + k];
            let (lo, hi) = e.ci95();
            let (dlo, dhi) = if a == reference { (0.0, 0.0) } else { d.ci95() };
            let dmean = if a == reference { 0.0 } else { d.mean() };
            let pairs = if a == reference { e.n } else { d.n };
            let c = &mut buf[4];
            c.fields(&[&point, arm, ref_name, o.name, &e.n.to_string()]);
            for v in [e.mean(), lo, hi, pairs as f64, dmean, dlo, dhi] {
                c.num(v);
            }
            c.end();
        }
        for (i, ag) in agencies.iter().enumerate() {
            for (j, o) in AGENCY.iter().enumerate() {
                let acc = &agency[a * n_ag * ao_n + i * ao_n + j];
                stat_row(&mut buf[5], [&point, arm, ag, o.name], acc);
            }
        }
        for s in 0..n_ag {
            for r in 0..n_ag {
                let base = a * n_ag * n_ag * 3 + (s * n_ag + r) * 3;
                let (refs, dumped, cost) = (&dumping[base], &dumping[base + 1], &dumping[base + 2]);
                if refs.mean().is_nan() || refs.mean() <= 0.0 {
                    continue;
                }
                let c = &mut buf[6];
                c.fields(&[&point, arm, agencies[s], agencies[r], &refs.n.to_string()]);
                for v in [refs.mean(), dumped.mean(), cost.mean()] {
                    c.num(v);
                }
                c.end();
            }
        }
        for (g, name) in groups.iter().enumerate() {
            let acc = &agenda[a * groups.len() + g];
            let c = &mut buf[7];
            c.fields(&[&point, arm, name, &acc.n.to_string()]);
            for v in [acc.mean(), need_share[g]] {
                c.num(v);
            }
            c.end();
        }
    }

    if !localities.is_empty() {
        let per_arm = localities.len() / a_n;
        for a in 0..a_n {
            let arm = &exp.arms[a].name;
            for j in 0..per_arm {
                let (l, c) = (j / lk, j % lk);
                stat_row(
                    &mut buf[9],
                    [
                        &point,
                        arm,
                        &l.to_string(),
                        super::run::LOCALITY_OBSERVABLES[c],
                    ],
                    &localities[a * per_arm + j],
                );
            }
        }
    }
    runs_csv.flush().map_err(|e| io(&runs_path, e))?;
    Ok((buf.into_iter().map(CsvBuf::into_bytes).collect(), failures))
}

fn runs_row<W: Write>(
    w: &mut csv::Writer<W>,
    num: &mut String,
    exp: &Experiment,
    r: RunRef,
    factors: &[String],
    out: &RunOutput,
    means: &[f64],
) -> csv::Result<()> {
    w.write_field(r.run_id.to_string())?;
    w.write_field(r.point.to_string())?;
    w.write_field(&exp.arms[r.arm].name)?;
    w.write_field(r.replicate.to_string())?;
    w.write_field(r.seed.to_string())?;
    for f in factors {
        w.write_field(f)?;
    }
    for v in out
        .run_stats(&exp.outputs, means)
        .iter()
        .chain(&out.cumulative)
    {
        write_num(w, num, *v)?;
    }
    w.write_record(None::<&[u8]>)
}

/// A row of count, mean, sd and 95% interval after the key fields.
fn stat_row<const K: usize>(c: &mut CsvBuf, key: [&str; K], acc: &Acc) {
    c.fields(&key);
    c.field(acc.n.to_string());
    let (lo, hi) = acc.ci95();
    for v in [acc.mean(), acc.sd(), lo, hi] {
        c.num(v);
    }
    c.end();
}

/// A factor value as the text of a CSV field (the CSV writer quotes it where needed):
/// strings as they are, numbers in the CSV number format, other values in TOML syntax.
pub fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => {
            let mut b = String::new();
            fmt_num(&mut b, *f);
            b
        }
        other => other.to_string(),
    }
}

/// Progress on stderr: a bar with rate and ETA on a terminal, a plain line every 10%
/// otherwise. Rates count only the runs done by this invocation.
struct Progress_ {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    total: u64,
    done: AtomicU64,
    initial: u64,
    last_pct: AtomicU64,
    start: Instant,
}

impl Progress_ {
    fn new(show: bool, total: u64, done: u64) -> Progress_ {
        let term = std::io::stderr().is_terminal();
        let bar = (show && term).then(|| {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} runs  {per_sec}  elapsed {elapsed_precise}  eta {eta_precise}",
                )
                .expect("valid template"),
            );
            b.set_position(done);
            b
        });
        Progress_ {
            bar,
            plain: show && !term,
            total,
            done: AtomicU64::new(done),
            initial: done,
            last_pct: AtomicU64::new(0),
            start: Instant::now(),
        }
    }

    fn add(&self, n: u64) {
        if n == 0 {
            return;
        }
        if let Some(b) = &self.bar {
            b.inc(n);
        }
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if self.plain && self.total > 0 {
            let pct = done * 10 / self.total;
            if pct > self.last_pct.swap(pct, Ordering::Relaxed) {
                let secs = self.start.elapsed().as_secs_f64();
                let rate = (done - self.initial.min(done)) as f64 / secs.max(1e-9);
                let eta = (self.total - done) as f64 / rate.max(1e-9);
                eprintln!(
                    "silos sweep: {done}/{} runs ({}%), {rate:.1} runs/s, {secs:.0}s elapsed, eta {eta:.0}s",
                    self.total,
                    pct * 10
                );
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
