//! The command line as a new user meets it.

mod common;
use common::silos;

#[test]
fn run_writes_every_file_and_a_summary() {
    let dir = tempfile::tempdir().unwrap();
    let out = silos(&[
        "run",
        "--ticks",
        "6",
        "--behaviour",
        "bp",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("need met") && stdout.contains("referrals"),
        "{stdout}"
    );
    for f in silos::output::RUN_FILES {
        assert!(dir.path().join(f).is_file(), "{f} missing");
    }
    // No temporary files (hidden, `.NAME.XXXXXX.tmp.EXT`) left behind.
    for e in std::fs::read_dir(dir.path()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(!name.starts_with('.'), "left {name}");
    }
    let ticks = std::fs::read_to_string(dir.path().join("ticks.csv")).unwrap();
    assert_eq!(ticks.lines().count(), 7, "header plus one row per tick");
    let header: Vec<&str> = ticks.lines().next().unwrap().split(',').collect();
    assert_eq!(header[0], "tick");
    assert_eq!(header.len(), 1 + silos::metrics::TICK.len());
    let agencies = std::fs::read_to_string(dir.path().join("agencies.csv")).unwrap();
    let scenario = silos::scenario::Scenario::default_scenario();
    assert_eq!(agencies.lines().count(), 1 + 6 * scenario.agencies.len());
    assert!(
        agencies
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(3) == Some("bp"))
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["ticks"], 6);
    assert_eq!(manifest["behaviour"], "bp");
    // The build that wrote it: version, commit (a 40-hex id, or "unknown" outside a git
    // checkout), profile and features.
    let build = &manifest["build"];
    assert_eq!(build["version"], env!("CARGO_PKG_VERSION"));
    let commit = build["git_commit"].as_str().unwrap();
    assert!(
        commit == "unknown"
            || (commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{commit}"
    );
    assert!(build["profile"].is_string() && build["features"].is_array());
    assert_eq!(manifest["seed"], scenario.seed);
    assert_eq!(manifest["scenario"]["sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn a_bad_scenario_gets_a_clear_error_and_a_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/small.toml"
    ))
    .unwrap()
    .replacen("reserves = 40.0", "reserves = -40.0", 1);
    std::fs::write(&bad, text).unwrap();
    for cmd in ["check", "run"] {
        let out = silos(&[cmd, bad.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("bad.toml")
                && err.contains("agencies[0].reserves")
                && err.contains(">= 0"),
            "{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = silos(&["run", "--behaviour", "selfish"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("ra, bp, mixed"));
}

#[test]
fn help_and_columns_teach() {
    let out = silos(&["--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("run") && text.contains("Examples"), "{text}");
    let out = silos(&["columns"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for o in silos::metrics::TICK {
        assert!(text.contains(o.name), "columns lacks {}", o.name);
    }
}

/// The default folder of a run names what distinguishes it, so two runs that differ do not
/// overwrite each other.
#[test]
fn default_run_folders_carry_seed_behaviour_ticks_and_overrides() {
    let cwd = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_silos"))
            .current_dir(cwd.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["run", "--ticks", "2", "--no-plots", "--quiet"]);
    run(&[
        "run",
        "--ticks",
        "2",
        "--no-plots",
        "--quiet",
        "--seed",
        "5",
        "--behaviour",
        "bp",
    ]);
    run(&[
        "run",
        "--ticks",
        "2",
        "--no-plots",
        "--quiet",
        "--set",
        "model.hop_limit=2",
    ]);
    let mut names: Vec<String> = std::fs::read_dir(cwd.path().join("output"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names[0], "homelessness-seed20090907-mixed-ticks2");
    assert!(
        names[1].starts_with("homelessness-seed20090907-mixed-ticks2-set"),
        "{names:?}"
    );
    assert_eq!(names[2], "homelessness-seed5-bp-ticks2");
}

/// groups.csv and needs.csv are two breakdowns of the same cases, one per file: a plain sum
/// of either file's arrivals, need met or fell_through gives the run's total in ticks.csv,
/// and `needs` is a number.
#[test]
fn each_breakdown_file_sums_to_the_run_totals() {
    let dir = tempfile::tempdir().unwrap();
    let out = silos(&[
        "run",
        "--ticks",
        "12",
        "--no-plots",
        "--quiet",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let sum = |file: &str, col: &str| -> f64 {
        let mut r = csv::Reader::from_path(dir.path().join(file)).unwrap();
        let h = r.headers().unwrap().clone();
        let k = h.iter().position(|x| x == col).unwrap();
        r.records()
            .map(|rec| rec.unwrap()[k].parse::<f64>().unwrap_or(0.0))
            .sum()
    };
    for col in ["arrivals", "need_met", "fell_through", "referrals"] {
        let total = sum("ticks.csv", col);
        assert!(total > 0.0, "{col}");
        assert!(
            (sum("groups.csv", col) - total).abs() < 1e-6 * total,
            "groups.csv {col}"
        );
        assert!(
            (sum("needs.csv", col) - total).abs() < 1e-6 * total,
            "needs.csv {col}"
        );
    }
    let mut r = csv::Reader::from_path(dir.path().join("needs.csv")).unwrap();
    for rec in r.records() {
        let k: u32 = rec.unwrap()[1].parse().expect("needs is a whole number");
        assert!(k >= 1);
    }
}
