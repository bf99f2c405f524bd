//! The engine's limits (issue 15, "Reliability"): every scenario `check` accepts runs, or
//! `check`, `run`, `teach` and sweeps refuse it naming the field, its value and the allowed
//! range. Each root cause found by an attacker of the inputs has a test here: arrivals that
//! exhaust memory or overflow a capacity, a shock rate that never finishes a tick, money
//! beyond the ledger's i64 micro-units, an input file that never ends, and a run that cannot
//! fit inside a sweep (a row of failures.csv, never the end of the sweep).

mod common;

use std::path::Path;
use std::time::Instant;

use common::{fixture, fixture_path, silos};
use silos::engine::{self, BehaviourChoice, NoObserver, Simulation};
use silos::limits;
use silos::overrides::Override;
use silos::scenario::{DEFAULT_SCENARIO, Scenario};

fn with(text: &str, sets: &[&str]) -> Result<Scenario, String> {
    let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    Scenario::from_toml_str_with(text, "t", &o).map_err(|e| e.to_string())
}

fn small_text() -> String {
    std::fs::read_to_string(fixture_path("small.toml")).unwrap()
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The message names the field and its value.
fn names(msg: &str, field: &str, value: &str) {
    assert!(
        msg.contains(&format!("`{field}`")) && msg.contains(value),
        "expected field {field} with value {value} in: {msg}"
    );
}

#[test]
fn huge_arrivals_are_refused_by_check_run_and_teach_naming_the_field() {
    let default = fixture_path("../../scenarios/homelessness.toml");
    let d = default.to_str().unwrap();
    for (v, shown) in [("1e9", "1000000000"), ("9.3e18", "9300000000000000000")] {
        let set = format!("groups.families.arrivals={v}");
        let clock = Instant::now();
        let out = silos(&["check", d, "--set", &set]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        names(&text(&out), "groups[5].arrivals", shown);
        assert!(text(&out).contains("1e7"), "{}", text(&out));
        let dir = tempfile::tempdir().unwrap();
        let o = dir.path().join("run");
        let out = silos(&["run", "--set", &set, "--out", o.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        names(&text(&out), "groups[5].arrivals", shown);
        assert!(!o.join("ticks.csv").exists());
        let o = dir.path().join("teach");
        let set = format!("groups[0].arrivals={v}");
        let out = silos(&[
            "teach",
            "dumping",
            "--no-plots",
            "--set",
            &set,
            "--out",
            o.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        names(&text(&out), "groups[0].arrivals", shown);
        assert!(clock.elapsed().as_secs() < 10);
    }
    // The sum over groups is bounded too (and with the localities' multiplier).
    let e = with(
        DEFAULT_SCENARIO,
        &["groups[1].arrivals=6e6", "groups[2].arrivals=6e6"],
    )
    .unwrap_err();
    assert!(e.contains("arrivals") && e.contains("per tick"), "{e}");
}

#[test]
fn the_shock_rate_is_bounded_and_the_largest_allowed_is_fast() {
    let e = with(&small_text(), &["model.shock_rate=5e9"]).unwrap_err();
    names(&e, "model.shock_rate", "5000000000");
    assert!(e.contains("at most 1e2"), "{e}");
    let s = with(&small_text(), &["model.shock_rate=100"]).unwrap();
    let clock = Instant::now();
    let mut sim = Simulation::new(&s, 1, BehaviourChoice::Mixed);
    engine::run(&mut sim, 24, &mut NoObserver).unwrap();
    assert!(clock.elapsed().as_secs_f64() < 5.0);
}

#[test]
fn money_beyond_the_ledger_is_refused_naming_the_field() {
    let t = small_text();
    for (set, field, value) in [
        (
            "agencies.housing.reserves=1e13",
            "agencies[0].reserves",
            "10000000000000",
        ),
        (
            "agencies.housing.income=1e11",
            "agencies[0].income",
            "100000000000",
        ),
        (
            "levers.referral_inspection.cost=2e10",
            "levers.referral_inspection.cost",
            "20000000000",
        ),
    ] {
        let e = with(&t, &[set]).unwrap_err();
        names(&e, field, value);
        assert!(e.contains("1e9"), "{e}");
    }
    // Within each field's bound, the worst case over the run must fit the ledger: the
    // message gives the most the field may be, and that value runs.
    let e = with(&t, &["levers.referral_inspection.cost=1e9"]).unwrap_err();
    names(&e, "levers.referral_inspection.cost", "1000000000");
    let max: f64 = e
        .split("at most ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("a maximum in: {e}"));
    let s = with(&t, &[&format!("levers.referral_inspection.cost={max}")]).unwrap();
    let mut sim = Simulation::new(&s, 3, BehaviourChoice::Mixed);
    engine::run(&mut sim, s.ticks, &mut NoObserver).expect("runs with money conserved");
}

#[test]
fn the_largest_money_values_accepted_run_with_money_conserved() {
    let s = with(
        &small_text(),
        &[
            "agencies.housing.income=1e9",
            "agencies.housing.reserves=1e9",
            "agencies.housing.fixed_costs=1e9",
            "agencies.health.reserves=1e9",
            "agencies.day_centre.throughput_pay=1e8",
        ],
    )
    .unwrap();
    for choice in [
        BehaviourChoice::Mixed,
        BehaviourChoice::All(silos::scenario::Family::Bp),
    ] {
        let mut sim = Simulation::new(&s, 9, choice);
        engine::run(&mut sim, s.ticks, &mut NoObserver).expect("money conserved");
    }
    // A run longer than the scenario's ticks is checked again at its own length.
    let s = with(&small_text(), &["agencies.housing.income=1e9"]).unwrap();
    let e = limits::admit(&s, limits::MAX_TICKS).unwrap_err();
    names(&e, "agencies[0].income", "1000000000");
    assert!(limits::admit(&s, s.ticks).is_ok());
}

#[test]
fn ticks_are_bounded_in_scenarios_runs_and_experiments() {
    let e = with(&small_text(), &["scenario.ticks=4294967295"]).unwrap_err();
    names(&e, "scenario.ticks", "4294967295");
    let out = silos(&["run", "--ticks", "4294967295", "--out", "/nonexistent/x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("4294967295") && text(&out).contains("10000"));
    let exp = std::fs::read_to_string(fixture_path("experiment-small.toml"))
        .unwrap()
        .replace("ticks = 12", "ticks = 4294967295");
    let e = silos::sweep::Experiment::from_str_in(&exp, "e.toml", &fixture_path(""), false)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("experiment.ticks") && e.contains("4294967295"),
        "{e}"
    );
}

#[test]
fn non_regular_and_oversized_files_are_refused_quickly() {
    let clock = Instant::now();
    for path in ["/dev/zero", "/tmp"] {
        if !Path::new(path).exists() {
            continue;
        }
        let out = silos(&["check", path]);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out).contains("not a regular file"), "{}", text(&out));
        let e = Scenario::from_path(Path::new(path))
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(limits::MAX_INPUT_BYTES + 1).unwrap();
    let out = silos(&["check", big.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("16 MB"), "{}", text(&out));
    let e = silos::sweep::Experiment::from_path(&big)
        .unwrap_err()
        .to_string();
    assert!(e.contains("16 MB"), "{e}");
    assert!(clock.elapsed().as_secs() < 5);
}

#[test]
fn check_prints_the_estimate_and_max_memory_and_force_apply() {
    let small = fixture_path("small.toml");
    let p = small.to_str().unwrap();
    let out = silos(&["check", p]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("estimated peak memory") && text(&out).contains("per run"),
        "{}",
        text(&out)
    );
    // Any run needs more than 1 MB: refused, naming the limit and the options.
    let out = silos(&["check", p, "--max-memory", "1M"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--max-memory") && text(&out).contains("--force"),
        "{}",
        text(&out)
    );
    // --force warns and goes on.
    let out = silos(&["check", p, "--max-memory", "1M", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
    // The same limit stops a run before it writes anything.
    let dir = tempfile::tempdir().unwrap();
    let o = dir.path().join("r");
    let out = silos(&["run", p, "--max-memory", "1M", "--out", o.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!o.join("ticks.csv").exists());
    let out = silos(&[
        "run",
        p,
        "--max-memory",
        "1M",
        "--force",
        "--no-plots",
        "-q",
        "--out",
        o.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(o.join("ticks.csv").exists());
    // A size that is not one is a usage error.
    let out = silos(&["check", p, "--max-memory", "lots"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not a size"), "{}", text(&out));
    // Arrivals within the hard bound but past the limit: refused by the estimate.
    let out = silos(&[
        "check",
        p,
        "--set",
        "groups.families.arrivals=5e6",
        "--max-memory",
        "200M",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("groups[1].arrivals = 5000000"),
        "{}",
        text(&out)
    );
}

#[test]
fn a_run_that_cannot_fit_is_a_failure_row_and_the_sweep_goes_on_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture_path("small.toml"), dir.path().join("small.toml")).unwrap();
    let exp = dir.path().join("e.toml");
    std::fs::write(
        &exp,
        "[experiment]\nname = \"fit\"\nscenario = \"small.toml\"\nreplicates = 2\nmaster_seed = 3\nticks = 6\n\n\
         [[arms]]\nname = \"ra\"\nbehaviour = \"ra\"\n\n\
         [[factors]]\npath = \"groups.families.arrivals\"\nname = \"load\"\nvalues = [10.0, 5e6, 12.0]\n",
    )
    .unwrap();
    let out_dir = dir.path().join("out");
    let args = [
        "sweep",
        exp.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--threads",
        "1",
        "--quiet",
        "--max-memory",
        "200M",
    ];
    let clock = Instant::now();
    let out = silos(&args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let failures = std::fs::read_to_string(out_dir.join("failures.csv")).unwrap();
    let rows: Vec<&str> = failures.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{failures}");
    for r in &rows {
        assert!(
            r.contains("groups[1].arrivals = 5000000") && r.contains("memory"),
            "{r}"
        );
    }
    // The points before and after it ran.
    let runs = std::fs::read_to_string(out_dir.join("runs.csv")).unwrap();
    assert_eq!(runs.lines().count(), 1 + 4, "{runs}");
    // Run again: nothing is retried, the failures stay recorded once.
    let out = silos(&args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(out_dir.join("failures.csv")).unwrap(),
        failures
    );
    assert!(clock.elapsed().as_secs() < 20);
}

#[test]
fn the_estimate_grows_with_what_drives_memory() {
    let s = fixture("small.toml");
    let base = limits::estimate(&s, s.ticks);
    let more = with(&small_text(), &["groups.families.arrivals=1e6"]).unwrap();
    let e = limits::estimate(&more, more.ticks);
    // A case is 160 bytes; a million expected arrivals a tick hold about 1e6 cases.
    assert!(e.bytes > base.bytes + 150e6, "{base:?} {e:?}");
    assert!(e.driver.contains("groups[1].arrivals"), "{e:?}");
    let long = limits::estimate(&s, limits::MAX_TICKS);
    assert!(long.bytes > base.bytes && long.secs > base.secs);
}

#[test]
fn a_national_run_past_the_memory_limit_is_refused_naming_the_localities() {
    let national = fixture_path("../../scenarios/national.toml");
    let p = national.to_str().unwrap();
    let out = silos(&[
        "check",
        p,
        "--set",
        "localities.count=10000",
        "--max-memory",
        "1G",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("localities.count = 10000"),
        "{}",
        text(&out)
    );
    let out = silos(&["check", p, "--set", "localities.count=10001"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    names(&text(&out), "localities.count", "10001");
}

/// The backstop: money beyond the ledger that somehow got past validation (here set on a
/// validated scenario directly) stops the run with an error naming the likely field, not a
/// panic and not "account N is overdrawn".
#[test]
fn an_overflow_past_validation_is_an_error_naming_the_likely_field() {
    let mut s = fixture("small.toml");
    s.agencies[0].income = 5e12;
    let mut sim = Simulation::new(&s, 1, BehaviourChoice::Mixed);
    let e = engine::run(&mut sim, s.ticks, &mut NoObserver)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("ledger holds")
            && e.contains("agencies[0] (housing)")
            && !e.contains("overdrawn"),
        "{e}"
    );
}
