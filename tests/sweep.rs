//! Sweeps: paired seeds, byte-identical outputs whatever the thread count, resumption after
//! an interruption, shards merged byte for byte, failures recorded, clear errors, replay.

mod common;
use common::silos;

use std::path::Path;
use std::process::Command;

use silos::sweep::{Experiment, SweepOptions, run_sweep};

const FILES: [&str; 11] = silos::sweep::exec::SWEEP_FILES;

fn small() -> Experiment {
    Experiment::from_path(&common::fixture_path("experiment-small.toml"))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn opts(out: &Path, threads: usize) -> SweepOptions {
    SweepOptions {
        out: out.to_path_buf(),
        threads: Some(threads),
        shard: None,
        progress: false,
        fail_runs: Vec::new(),
    }
}

/// Run shard `i` of `n` into `out` and write its manifest, as `silos sweep --shard` does (a
/// merge reads the shards' builds from their manifests).
fn run_shard(exp: &Experiment, o: SweepOptions) {
    let report = run_sweep(exp, &o).unwrap();
    let m = silos::api::sweep_manifest(exp, &report, o.shard, "start");
    silos::output::write_atomic(&o.out, "manifest.json", m.to_string().as_bytes()).unwrap();
}

fn same_files(a: &Path, b: &Path) {
    for f in FILES {
        let x = std::fs::read(a.join(f)).unwrap();
        let y = std::fs::read(b.join(f)).unwrap();
        assert!(
            x == y,
            "{f} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn arms_share_seeds_and_outputs_do_not_depend_on_threads() {
    let exp = small();
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let r1 = run_sweep(&exp, &opts(d1.path(), 1)).unwrap();
    let r2 = run_sweep(&exp, &opts(d2.path(), 2)).unwrap();
    assert_eq!((r1.runs_total, r1.failures), (24, 0));
    assert_eq!(r2.threads, 2);
    same_files(d1.path(), d2.path());
    // Seeds derive from (master seed, point, replicate): equal across arms, different across
    // points and replicates.
    let runs = std::fs::read_to_string(d1.path().join("runs.csv")).unwrap();
    let rows: Vec<Vec<&str>> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 24);
    for pair in rows.chunks(2) {
        assert_eq!(pair[0][1], pair[1][1], "same point");
        assert_eq!(pair[0][3], pair[1][3], "same replicate");
        assert_eq!(pair[0][4], pair[1][4], "same seed for both arms");
        assert_eq!((pair[0][2], pair[1][2]), ("ra", "bp"));
    }
    let mut seeds: Vec<&str> = rows.iter().map(|r| r[4]).collect();
    seeds.sort();
    seeds.dedup();
    assert_eq!(seeds.len(), 12, "3 points x 4 replicates");
    // Summaries have the promised shape: per point, arm, tick and observable.
    let summary = std::fs::read_to_string(d1.path().join("summary.csv")).unwrap();
    assert_eq!(
        summary.lines().count(),
        1 + 3 * 2 * 12 * silos::metrics::TICK.len()
    );
    let paired = std::fs::read_to_string(d1.path().join("paired.csv")).unwrap();
    assert_eq!(
        paired.lines().count(),
        1 + 3 * 12 * silos::metrics::TICK.len()
    );
    assert!(paired.lines().nth(1).unwrap().starts_with("0,bp,ra,1,"));
}

#[test]
fn paired_differences_are_the_mean_of_per_replicate_differences() {
    let exp = small();
    let d = tempfile::tempdir().unwrap();
    run_sweep(&exp, &opts(d.path(), 2)).unwrap();
    // From runs.csv: run-mean share_need_met per (point, replicate, arm).
    let runs = std::fs::read_to_string(d.path().join("runs.csv")).unwrap();
    let header: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "share_need_met").unwrap();
    let rows: Vec<Vec<&str>> = runs
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let diffs: Vec<f64> = rows[..8]
        .chunks(2)
        .map(|p| p[1][col].parse::<f64>().unwrap() - p[0][col].parse::<f64>().unwrap())
        .collect();
    let mean = diffs.iter().sum::<f64>() / 4.0;
    let effects = std::fs::read_to_string(d.path().join("effects.csv")).unwrap();
    let line = effects
        .lines()
        .find(|l| l.starts_with("0,bp,ra,share_need_met,"))
        .unwrap();
    let f: Vec<&str> = line.split(',').collect();
    assert_eq!(f[8], "4", "four pairs");
    let reported: f64 = f[9].parse().unwrap();
    assert!((reported - mean).abs() < 1e-12, "{reported} vs {mean}");
    let (lo, hi): (f64, f64) = (f[10].parse().unwrap(), f[11].parse().unwrap());
    assert!(lo <= mean && mean <= hi);
}

#[test]
fn an_interrupted_sweep_resumes_without_redoing_or_duplicating() {
    let exp = small();
    let full = tempfile::tempdir().unwrap();
    run_sweep(&exp, &opts(full.path(), 2)).unwrap();

    // The state a kill during the second design point leaves: point 0 committed (made here
    // by running shard 0/3, whose only point is 0, and relabelling its progress), half a row
    // appended to runs.csv and summary.csv, and two finished run files of point 1.
    let part = tempfile::tempdir().unwrap();
    run_sweep(
        &exp,
        &SweepOptions {
            shard: Some((0, 3)),
            ..opts(part.path(), 2)
        },
    )
    .unwrap();
    let mut p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(part.path().join("progress.json")).unwrap())
            .unwrap();
    assert_eq!(p["committed"], 1);
    p["shard"] = "all".into();
    p["complete"] = false.into();
    std::fs::write(
        part.path().join("progress.json"),
        serde_json::to_string(&p).unwrap(),
    )
    .unwrap();
    for f in ["runs.csv", "summary.csv"] {
        use std::io::Write;
        let mut h = std::fs::OpenOptions::new()
            .append(true)
            .open(part.path().join(f))
            .unwrap();
        h.write_all(b"1,1,ra,0,1234,0.5,0.2").unwrap();
    }
    std::fs::create_dir_all(part.path().join(".runs")).unwrap();
    for id in [8u64, 9] {
        let out = silos::sweep::run::run_one(&exp, exp.run_ref(id)).unwrap();
        std::fs::write(
            part.path().join(".runs").join(format!("{id}.bin")),
            out.encode(),
        )
        .unwrap();
    }
    let report = run_sweep(&exp, &opts(part.path(), 2)).unwrap();
    assert_eq!(report.points_resumed, 1);
    assert_eq!(
        report.runs_done_now,
        16 - 2,
        "the two finished runs of point 1 were not redone"
    );
    same_files(full.path(), part.path());

    // A finished sweep rerun does nothing and changes nothing.
    let before: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(full.path().join(f)).unwrap())
        .collect();
    let again = run_sweep(&exp, &opts(full.path(), 1)).unwrap();
    assert_eq!(again.runs_done_now, 0);
    let after: Vec<Vec<u8>> = FILES
        .iter()
        .map(|f| std::fs::read(full.path().join(f)).unwrap())
        .collect();
    assert_eq!(before, after);
}

#[test]
fn killing_the_process_midway_loses_nothing_finished() {
    // A real kill: start a sweep of the default scenario as a child process, kill it once
    // some design points are committed, then rerun the same command.
    let dir = tempfile::tempdir().unwrap();
    let exp_path = dir.path().join("exp.toml");
    std::fs::write(
        &exp_path,
        "[experiment]\nname = \"kill\"\nscenario = \"default\"\nreplicates = 2\nmaster_seed = 3\nticks = 60\n\n\
         [[arms]]\nname = \"ra\"\nbehaviour = \"ra\"\n\n[[arms]]\nname = \"bp\"\nbehaviour = \"bp\"\n\n\
         [[factors]]\npath = \"model.hop_limit\"\nrange = { from = 1, to = 8, step = 1 }\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (e, o) = (exp_path.to_str().unwrap(), out.to_str().unwrap());
    let mut child = Command::new(env!("CARGO_BIN_EXE_silos"))
        .args(["sweep", e, "--out", o, "--threads", "1", "--quiet"])
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let mut killed_at = None;
    while start.elapsed().as_secs() < 60 {
        if let Ok(t) = std::fs::read_to_string(out.join("progress.json"))
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&t)
            && v["committed"].as_u64().unwrap_or(0) >= 2
        {
            child.kill().unwrap();
            killed_at = v["committed"].as_u64();
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let _ = child.wait();
    let resumed = silos(&["sweep", e, "--out", o, "--threads", "2", "--quiet"]);
    assert!(
        resumed.status.success(),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let clean = dir.path().join("clean");
    let fresh = silos(&["sweep", e, "--out", clean.to_str().unwrap(), "--quiet"]);
    assert!(fresh.status.success());
    same_files(&out, &clean);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    if let Some(k) = killed_at
        && k < 8
    {
        assert!(
            m["points_resumed"].as_u64().unwrap() >= k,
            "committed points were kept"
        );
        assert!(m["runs_done_by_this_invocation"].as_u64().unwrap() < 32);
    }
}

#[test]
fn shards_merge_into_the_single_machine_files_byte_for_byte() {
    let exp = small();
    let whole = tempfile::tempdir().unwrap();
    run_sweep(&exp, &opts(whole.path(), 2)).unwrap();
    let shards: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    for (i, d) in shards.iter().enumerate() {
        run_shard(
            &exp,
            SweepOptions {
                shard: Some((i, 2)),
                ..opts(d.path(), 1)
            },
        );
    }
    let merged = tempfile::tempdir().unwrap();
    let dirs: Vec<std::path::PathBuf> = shards.iter().map(|d| d.path().to_path_buf()).collect();
    silos::sweep::merge::merge(&dirs, merged.path()).unwrap();
    same_files(whole.path(), merged.path());
    // Merging one shard alone is refused: points are missing.
    let alone = tempfile::tempdir().unwrap();
    let refused = alone.path().join("merged");
    let err = silos::sweep::merge::merge(&dirs[..1], &refused)
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing"), "{err}");
    assert!(!refused.exists(), "a refused merge writes nothing");
}

#[test]
fn failed_runs_are_recorded_and_the_sweep_goes_on() {
    let exp = small();
    let d = tempfile::tempdir().unwrap();
    let report = run_sweep(
        &exp,
        &SweepOptions {
            fail_runs: vec![3, 17],
            ..opts(d.path(), 2)
        },
    )
    .unwrap();
    assert_eq!(report.failures, 2);
    let failures = std::fs::read_to_string(d.path().join("failures.csv")).unwrap();
    let lines: Vec<&str> = failures.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].starts_with("3,0,bp,1,") && lines[1].contains("injected failure"),
        "{}",
        lines[1]
    );
    assert!(lines[2].starts_with("17,2,bp,0,"));
    let runs = std::fs::read_to_string(d.path().join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 22);
    // The failed replicate's pair is left out of the paired difference.
    let effects = std::fs::read_to_string(d.path().join("effects.csv")).unwrap();
    let line = effects
        .lines()
        .find(|l| l.starts_with("0,bp,ra,share_need_met,"))
        .unwrap();
    assert_eq!(line.split(',').nth(4), Some("3"));
}

#[test]
fn bad_experiment_files_get_clear_errors_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture_path("small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    let base = std::fs::read_to_string(common::fixture_path("experiment-small.toml")).unwrap();
    for (from, to, needles) in [
        (
            "replicates = 4",
            "replicates = 0",
            vec!["experiment.replicates"],
        ),
        (
            "master_seed = 11",
            "master_seed = 11\ncolour = 1",
            vec!["colour"],
        ),
        (
            "path = \"levers.host_reimbursement\"",
            "path = \"agencies.nobody.income\"",
            vec!["design point 0", "nobody"],
        ),
        (
            "values = [0.0, 0.5, 1.0]",
            "values = [0.0, 2.0]",
            vec!["design point 1", "levers.host_reimbursement", "0 to 1"],
        ),
        (
            "behaviour = \"bp\"",
            "behaviour = \"greedy\"",
            vec!["arms[1].behaviour"],
        ),
        (
            "reference_arm = \"ra\"",
            "reference_arm = \"none\"",
            vec!["experiment.reference_arm", "ra, bp"],
        ),
        (
            "scenario = \"small.toml\"",
            "scenario = \"missing.toml\"",
            vec!["experiment.scenario", "missing.toml"],
        ),
        (
            "path = \"levers.host_reimbursement\"",
            "path = \"scenario.ticks\"",
            vec!["factors[0].path", "[experiment] ticks"],
        ),
        (
            "name = \"reimbursement\"",
            "name = \"share_need_met\"",
            vec!["factors[0].name"],
        ),
        (
            "name = \"reimbursement\"",
            "name = \"a\\nb\"",
            vec!["factors[0].name", "the characters of a scenario path"],
        ),
        (
            "name = \"bp\"",
            "name = \"b\\tp\"",
            vec!["arms[1].name", "each an ASCII letter"],
        ),
    ] {
        assert!(base.contains(from), "test bug: {from}");
        let p = dir.path().join("bad.toml");
        std::fs::write(&p, base.replacen(from, to, 1)).unwrap();
        let out = dir.path().join("out");
        let res = silos(&[
            "sweep",
            p.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(res.status.code(), Some(2), "{to}");
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains("bad.toml"), "{err}");
        for n in needles {
            assert!(err.contains(n), "{to}: {err:?} should mention {n:?}");
        }
        assert!(!out.join("runs.csv").exists(), "no run started");
    }
}

#[test]
fn replay_reruns_one_run_with_full_output() {
    let exp = small();
    let d = tempfile::tempdir().unwrap();
    run_sweep(&exp, &opts(d.path(), 2)).unwrap();
    let out = d.path().join("replay");
    let res = silos(&[
        "replay",
        d.path().to_str().unwrap(),
        "13",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    // The replay's per-tick share of need met averages to the sweep's run mean.
    let ticks = std::fs::read_to_string(out.join("ticks.csv")).unwrap();
    let header: Vec<&str> = ticks.lines().next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "share_need_met").unwrap();
    let vals: Vec<f64> = ticks
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().parse().unwrap())
        .collect();
    assert_eq!(vals.len(), 12);
    let mean = vals.iter().sum::<f64>() / 12.0;
    let runs = std::fs::read_to_string(d.path().join("runs.csv")).unwrap();
    let rh: Vec<&str> = runs.lines().next().unwrap().split(',').collect();
    let rc = rh.iter().position(|h| *h == "share_need_met").unwrap();
    let row = runs.lines().find(|l| l.starts_with("13,")).unwrap();
    let want: f64 = row.split(',').nth(rc).unwrap().parse().unwrap();
    assert!((mean - want).abs() < 1e-12, "{mean} vs {want}");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["replay_of"]["run_id"], 13);
    let bad = silos(&["replay", d.path().to_str().unwrap(), "999"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("0 to 23"));
}

#[test]
fn latin_hypercubes_are_stratified_and_repeatable_and_design_csvs_import() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture_path("small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    let lhs = "[experiment]\nname = \"lhs\"\nscenario = \"small.toml\"\nreplicates = 1\nmaster_seed = 4\nlhs_points = 10\n\n\
               [[factors]]\npath = \"levers.host_reimbursement\"\nlhs = { from = 0.0, to = 1.0 }\n\n\
               [[factors]]\npath = \"model.hop_limit\"\nlhs = { from = 0, to = 8, integer = true }\n";
    let a = Experiment::from_str_in(lhs, "lhs.toml", dir.path(), false).unwrap();
    let b = Experiment::from_str_in(lhs, "lhs.toml", dir.path(), false).unwrap();
    assert_eq!(a.points, b.points, "same master seed, same design");
    assert_eq!(a.n_points(), 10);
    // One point in each tenth of the first factor's range.
    let mut strata: Vec<usize> = a
        .points
        .iter()
        .map(|p| (p[0].as_float().unwrap() * 10.0).floor() as usize)
        .collect();
    strata.sort();
    assert_eq!(strata, (0..10).collect::<Vec<_>>());
    assert!(
        a.points
            .iter()
            .all(|p| matches!(p[1], toml::Value::Integer(0..=8)))
    );

    std::fs::write(
        dir.path().join("design.csv"),
        "levers.host_reimbursement,agencies.health.income\n0.1,30\n0.9,45.5\n",
    )
    .unwrap();
    let csv = "[experiment]\nname = \"csv\"\nscenario = \"small.toml\"\nreplicates = 2\nmaster_seed = 4\ndesign_csv = \"design.csv\"\n";
    let e = Experiment::from_str_in(csv, "csv.toml", dir.path(), false).unwrap();
    assert_eq!(e.n_points(), 2);
    assert_eq!(
        e.factor_paths,
        vec!["levers.host_reimbursement", "agencies.health.income"]
    );
    let s = e.scenario_for(1, 0).unwrap();
    assert_eq!(s.agencies[1].income, 45.5);
    assert_eq!(s.levers.p.host_reimbursement, 0.9);
    // A row that does not fit is named.
    std::fs::write(
        dir.path().join("design.csv"),
        "levers.host_reimbursement\n0.1\n7\n",
    )
    .unwrap();
    let err = Experiment::from_str_in(csv, "csv.toml", dir.path(), false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("design point 1") && err.contains("host_reimbursement"),
        "{err}"
    );
}

#[test]
fn arm_settings_written_as_nested_tables_change_only_the_named_fields() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture_path("small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    // `levers.host_reimbursement = 0.5` unquoted is a nested table in TOML; it must set that
    // one lever, not replace [levers].
    let text = "[experiment]\nname = \"n\"\nscenario = \"small.toml\"\nreplicates = 1\nmaster_seed = 1\n\n\
                [[arms]]\nname = \"a\"\nset = { levers.host_reimbursement = 0.5, levers.control = 0.25 }\n";
    let e = Experiment::from_str_in(text, "n.toml", dir.path(), false).unwrap();
    let paths: Vec<&str> = e.arms[0]
        .overrides
        .iter()
        .map(|o| o.path.as_str())
        .collect();
    assert_eq!(paths, vec!["levers.control", "levers.host_reimbursement"]);
    let s = e.scenario_for(0, 0).unwrap();
    assert_eq!(
        (s.levers.p.host_reimbursement, s.levers.p.control),
        (0.5, 0.25)
    );
}

/// Shards split the (point, replicate) pairs, not only the design points: every pair is run
/// by exactly one shard, for any number of shards, including more shards than points.
#[test]
fn shards_cover_every_point_and_replicate_exactly_once() {
    let exp = small();
    let r = exp.replicates;
    for n in 1..=7 {
        let mut seen = vec![0u32; exp.n_points() * r as usize];
        for i in 0..n {
            for it in silos::sweep::exec::shard_items(&exp, Some((i, n))) {
                assert!(it.first < it.last && it.last <= r, "{it:?}");
                for rep in it.first..it.last {
                    seen[it.point * r as usize + rep as usize] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&c| c == 1), "{n} shards: {seen:?}");
    }
}

/// An experiment with a single design point still shards (each shard runs some of its
/// replicates), and the merge folds the point from the shards' run files into the files a
/// single machine writes, byte for byte.
#[test]
fn one_design_point_shards_and_merges_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture_path("small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    let f = dir.path().join("one.toml");
    std::fs::write(
        &f,
        "[experiment]\nname = \"one\"\nscenario = \"small.toml\"\nreplicates = 5\nmaster_seed = 3\n\
         ticks = 6\nreference_arm = \"ra\"\n\n[[arms]]\nname = \"ra\"\nbehaviour = \"ra\"\n\n\
         [[arms]]\nname = \"bp\"\nbehaviour = \"bp\"\n",
    )
    .unwrap();
    let exp = Experiment::from_path(&f).unwrap();
    let whole = tempfile::tempdir().unwrap();
    run_sweep(&exp, &opts(whole.path(), 2)).unwrap();
    let shards: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut runs = 0;
    for (i, d) in shards.iter().enumerate() {
        let o = SweepOptions {
            shard: Some((i, 3)),
            ..opts(d.path(), 1)
        };
        let rep = run_sweep(&exp, &o).unwrap();
        assert!(rep.runs_total > 0, "shard {i} runs something");
        runs += rep.runs_total;
        let m = silos::api::sweep_manifest(&exp, &rep, o.shard, "start");
        silos::output::write_atomic(d.path(), "manifest.json", m.to_string().as_bytes()).unwrap();
    }
    assert_eq!(runs, 10, "5 replicates x 2 arms, split three ways");
    let merged = tempfile::tempdir().unwrap();
    let dirs: Vec<std::path::PathBuf> = shards.iter().map(|d| d.path().to_path_buf()).collect();
    silos::sweep::merge::merge(&dirs, merged.path()).unwrap();
    same_files(whole.path(), merged.path());
    // Without the last shard's run files the point cannot be folded.
    let err = silos::sweep::merge::merge(&dirs[..2], &merged.path().join("again"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing"), "{err}");
}

/// `--threads 0` means every core, like no value (it used to mean one thread).
#[test]
fn zero_threads_means_every_core() {
    let exp = small();
    let d = tempfile::tempdir().unwrap();
    let rep = run_sweep(
        &exp,
        &SweepOptions {
            threads: Some(0),
            ..opts(d.path(), 0)
        },
    )
    .unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(
        rep.threads,
        rayon::ThreadPoolBuilder::new()
            .build()
            .unwrap()
            .current_num_threads()
    );
    assert!(rep.threads >= 1 && rep.threads <= cores.max(1) * 2);
}

/// A sweep writes its CSVs only; `--plots` adds the charts and report.html. A run never
/// goes into a sweep's folder, nor a sweep into a run's.
#[test]
fn sweeps_draw_charts_only_when_asked_and_folders_keep_their_kind() {
    let dir = tempfile::tempdir().unwrap();
    let exp_path = dir.path().join("exp.toml");
    std::fs::write(
        &exp_path,
        "[experiment]\nname = \"tiny\"\nscenario = \"default\"\nreplicates = 2\nmaster_seed = 3\nticks = 6\n\n\
         [[arms]]\nname = \"ra\"\nbehaviour = \"ra\"\n\n[[arms]]\nname = \"bp\"\nbehaviour = \"bp\"\n",
    )
    .unwrap();
    let e = exp_path.to_str().unwrap();
    let (plain, drawn) = (dir.path().join("plain"), dir.path().join("drawn"));
    let a = silos(&["sweep", e, "--out", plain.to_str().unwrap(), "--quiet"]);
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(plain.join("runs.csv").is_file());
    assert!(!plain.join("plots").exists() && !plain.join("report.html").exists());
    if cfg!(feature = "plots") {
        let b = silos(&[
            "sweep",
            e,
            "--out",
            drawn.to_str().unwrap(),
            "--plots",
            "--quiet",
        ]);
        assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
        assert!(drawn.join("report.html").is_file() && drawn.join("plots").is_dir());
    }
    // A run into the sweep's folder is refused, and the sweep's manifest is untouched.
    let before = std::fs::read(plain.join("manifest.json")).unwrap();
    let r = silos(&[
        "run",
        "--out",
        plain.to_str().unwrap(),
        "--ticks",
        "2",
        "--no-plots",
    ]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("holds a sweep's output") && err.contains("--out"),
        "{err}"
    );
    assert_eq!(std::fs::read(plain.join("manifest.json")).unwrap(), before);
    // And a sweep into a run's folder.
    let run = dir.path().join("run");
    let r = silos(&[
        "run",
        "--out",
        run.to_str().unwrap(),
        "--ticks",
        "2",
        "--no-plots",
        "--quiet",
    ]);
    assert!(r.status.success());
    let s = silos(&["sweep", e, "--out", run.to_str().unwrap(), "--quiet"]);
    assert_eq!(s.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&s.stderr).contains("holds a run's output"));
}

/// Every file of a sweep read back with a CSV reader: each record has its header's number of
/// fields (the reader rejects any other). Returns the records of `name`.
fn read_back(dir: &Path, name: &str) -> (csv::StringRecord, Vec<csv::StringRecord>) {
    let mut rdr = csv::Reader::from_path(dir.join(name)).unwrap();
    let header = rdr.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = rdr
        .records()
        .map(|r| r.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect();
    for r in &rows {
        assert_eq!(r.len(), header.len(), "{name}: {r:?}");
    }
    (header, rows)
}

#[test]
fn text_values_with_commas_quotes_and_line_breaks_are_quoted_in_every_csv() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture_path("small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    // Names are letters, digits, '_' and '-' (src/names.rs); a string factor's values may
    // hold anything, and the CSV writer quotes them.
    let arm = "bp-short_hops";
    let text = format!(
        r#"[experiment]
name = "awkward-values"
scenario = "small.toml"
replicates = 2
master_seed = 5
ticks = 3
reference_arm = "ra"

[[arms]]
name = "ra"
behaviour = "ra"

[[arms]]
name = '{arm}'
behaviour = "bp"
set = {{ "model.hop_limit" = 2 }}

[[factors]]
path = "scenario.description"
name = "description"
values = ["plain", "two\nlines, with \"quotes\""]
"#
    );
    let p = dir.path().join("exp.toml");
    std::fs::write(&p, text).unwrap();
    let exp = Experiment::from_path(&p).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("out");
    run_sweep(
        &exp,
        &SweepOptions {
            fail_runs: vec![1],
            ..opts(&out, 2)
        },
    )
    .unwrap();
    for f in FILES {
        read_back(&out, f);
    }
    let (header, points) = read_back(&out, "points.csv");
    assert_eq!(&header[1], "description");
    assert_eq!(&points[1][1], "two\nlines, with \"quotes\"");
    let (header, runs) = read_back(&out, "runs.csv");
    assert_eq!(&header[5], "description");
    assert_eq!(runs.len(), 2 * 2 * 2 - 1, "one run failed");
    assert!(
        runs.iter()
            .any(|r| &r[2] == arm && &r[5] == "two\nlines, with \"quotes\"")
    );
    let (_, failures) = read_back(&out, "failures.csv");
    assert_eq!((&failures[0][0], &failures[0][2]), ("1", arm));
    let (_, effects) = read_back(&out, "effects.csv");
    assert!(effects.iter().any(|r| &r[1] == arm && &r[2] == "ra"));
    // Shards merge into the same bytes: the merge splits rows with a CSV reader.
    let shards: Vec<_> = (0..2)
        .map(|i| {
            let d = dir.path().join(format!("shard{i}"));
            run_shard(
                &exp,
                SweepOptions {
                    shard: Some((i, 2)),
                    fail_runs: vec![1],
                    ..opts(&d, 1)
                },
            );
            d
        })
        .collect();
    let merged = dir.path().join("merged");
    silos::sweep::merge::merge(&shards, &merged).unwrap();
    same_files(&out, &merged);
}

/// `[outputs]`: runs.csv holds each tick observable's mean, final value and total over the
/// window, and effects.csv compares the window's means. Checked against the full ticks.csv
/// of a replayed run, computed independently here.
#[test]
fn an_outputs_window_and_statistics_are_what_a_replayed_run_gives() {
    let dir = tempfile::tempdir().unwrap();
    let exp = dir.path().join("exp.toml");
    std::fs::write(
        &exp,
        "[experiment]\nname = \"win\"\nscenario = \"default\"\nreplicates = 2\nmaster_seed = 9\nticks = 8\n\n\
         [[arms]]\nname = \"ra\"\nbehaviour = \"ra\"\n\n[[arms]]\nname = \"bp\"\nbehaviour = \"bp\"\n\n\
         [outputs]\nwindow = { from = 3, to = 6 }\nstatistics = [\"mean\", \"final\", \"total\"]\n\
         series = [\"share_need_met\", \"arrivals\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let r = silos(&["sweep", exp.to_str().unwrap(), "--out", o, "--quiet"]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let read = |p: &Path| -> (Vec<String>, Vec<Vec<String>>) {
        let mut rd = csv::Reader::from_path(p).unwrap();
        let h = rd.headers().unwrap().iter().map(String::from).collect();
        let rows = rd
            .records()
            .map(|x| x.unwrap().iter().map(String::from).collect())
            .collect();
        (h, rows)
    };
    let num = |s: &str| s.parse::<f64>().unwrap_or(f64::NAN);
    let (rh, runs) = read(&out.join("runs.csv"));
    let col = |h: &[String], name: &str| h.iter().position(|x| x == name).unwrap();
    let replay = silos(&["replay", o, "3"]);
    assert!(replay.status.success());
    let (th, ticks) = read(&out.join("replay-3/ticks.csv"));
    let run3 = runs.iter().find(|r| r[0] == "3").unwrap();
    for obs in ["arrivals", "share_need_met", "coordination_index"] {
        let k = col(&th, obs);
        let window: Vec<f64> = ticks[2..6].iter().map(|t| num(&t[k])).collect();
        let finite: Vec<f64> = window.iter().copied().filter(|v| v.is_finite()).collect();
        let mean = finite.iter().sum::<f64>() / finite.len() as f64;
        let close =
            |a: f64, b: f64| (a - b).abs() <= 1e-12 * (1.0 + b.abs()) || (a.is_nan() && b.is_nan());
        assert!(close(num(&run3[col(&rh, obs)]), mean), "{obs} mean");
        assert!(
            close(num(&run3[col(&rh, &format!("{obs}_final"))]), window[3]),
            "{obs} final"
        );
        assert!(
            close(
                num(&run3[col(&rh, &format!("{obs}_total"))]),
                finite.iter().sum()
            ),
            "{obs} total"
        );
    }
    // series.csv: run 3's chosen observables, tick by tick over the window.
    let (sh, series) = read(&out.join("series.csv"));
    assert_eq!(
        sh,
        [
            "run_id",
            "point",
            "arm",
            "replicate",
            "tick",
            "share_need_met",
            "arrivals"
        ]
    );
    let rows3: Vec<&Vec<String>> = series.iter().filter(|r| r[0] == "3").collect();
    assert_eq!(rows3.len(), 4, "ticks 3 to 6");
    for (i, r) in rows3.iter().enumerate() {
        let t = &ticks[2 + i];
        assert_eq!(r[4], t[col(&th, "tick")]);
        assert_eq!(r[5], t[col(&th, "share_need_met")]);
        assert_eq!(r[6], t[col(&th, "arrivals")]);
    }
    assert_eq!(series.len(), 4 * 4, "four runs, four ticks each");
    // effects.csv: the arm's mean of the runs' window means.
    let (eh, eff) = read(&out.join("effects.csv"));
    let row = eff
        .iter()
        .find(|r| r[col(&eh, "arm")] == "bp" && r[col(&eh, "observable")] == "arrivals")
        .unwrap();
    let bp: Vec<f64> = runs
        .iter()
        .filter(|r| r[col(&rh, "arm")] == "bp")
        .map(|r| num(&r[col(&rh, "arrivals")]))
        .collect();
    let m = bp.iter().sum::<f64>() / bp.len() as f64;
    assert!((num(&row[col(&eh, "mean")]) - m).abs() < 1e-9);
    // A window outside the run is refused, naming the field.
    std::fs::write(
        &exp,
        "[experiment]\nname = \"win\"\nscenario = \"default\"\nreplicates = 2\nmaster_seed = 9\nticks = 8\n\n\
         [outputs]\nwindow = { from = 3, to = 9 }\n",
    )
    .unwrap();
    let bad = silos(&[
        "sweep",
        exp.to_str().unwrap(),
        "--out",
        dir.path().join("b").to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let e = String::from_utf8_lossy(&bad.stderr);
    assert!(e.contains("outputs.window.to") && e.contains('9'), "{e}");
}
