//! `silos params` (src/params.rs): the list read from docs/scenarios.md covers every field
//! the scenario loader accepts, and each documented plain default is one the loader takes.

mod common;

use silos::overrides::Override;
use silos::params::{self, Param};
use silos::scenario::{DEFAULT_SCENARIO, Scenario};

#[test]
fn the_list_covers_every_field_the_loader_accepts() {
    let list = params::all();
    let has = |path: &str| list.iter().any(|p| p.path == path);
    // (path prefix in the list, the --set path that reaches the table in the default scenario)
    for (prefix, probe) in [
        ("scenario", "scenario"),
        ("model", "model"),
        ("power", "power"),
        ("behaviours.ra", "behaviours.ra"),
        ("behaviours.bp", "behaviours.bp"),
        ("search", "search"),
        ("levers", "levers"),
        ("centre", "centre"),
        ("groups[]", "groups[0]"),
        ("agencies[]", "agencies[0]"),
        ("mechanisms[]", "mechanisms[0]"),
    ] {
        for f in common::loader_fields(probe) {
            let path = format!("{prefix}.{f}");
            // Sub-tables of levers are listed field by field (levers.sanctions.fine).
            let covered =
                has(&path) || list.iter().any(|p| p.path.starts_with(&format!("{path}.")));
            assert!(
                covered,
                "{path} is accepted by the loader but missing from docs/scenarios.md's tables"
            );
        }
    }
    assert!(
        has("localities.count") && has("population.shares"),
        "{:?}",
        list.len()
    );
}

/// Every documented default that is a plain number or true/false, in a table `--set`
/// reaches on the default scenario, is accepted there: the page's defaults are values the
/// loader takes, and its paths are real.
#[test]
fn documented_plain_defaults_are_accepted_by_set() {
    let mut tried = 0;
    for p in params::all() {
        if !settable(&p) {
            continue;
        }
        let value = p.default.trim();
        if value.parse::<f64>().is_err() && value != "true" && value != "false" {
            continue;
        }
        let o = Override::parse(&format!("{}={value}", p.path)).unwrap();
        Scenario::from_toml_str_with(DEFAULT_SCENARIO, "default", &[o])
            .unwrap_or_else(|e| panic!("--set {}={value}: {e}", p.path));
        tried += 1;
    }
    assert!(tried > 60, "only {tried} defaults tried");
}

fn settable(p: &Param) -> bool {
    !p.path.contains("[]")
        && !p.path.starts_with("localities.")
        && !p.path.starts_with("population.")
        && !p.path.starts_with("scenario.")
}

#[test]
fn every_entry_has_a_type_a_default_and_allowed_values() {
    for p in params::all() {
        assert!(!p.kind.is_empty(), "{}: no type", p.path);
        assert!(!p.default.is_empty(), "{}: no default", p.path);
        assert!(!p.allowed.is_empty(), "{}: no allowed values", p.path);
    }
}

#[test]
fn the_cli_prints_the_list_as_csv_and_filters_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_silos"))
        .args(["params", "hop_limit", "--format", "csv"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut r = csv::Reader::from_reader(&out.stdout[..]);
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(&rows[0][0], "model.hop_limit");
    assert_eq!(&rows[0][5], "3");
    let none = std::process::Command::new(env!("CARGO_BIN_EXE_silos"))
        .args(["params", "no_such_parameter"])
        .output()
        .unwrap();
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("silos params"));
}

/// `silos scenario show` writes every omitted field at its documented default; the result
/// loads to exactly the scenario its input loads to (so the documented defaults are the
/// code's), for every shipped scenario, the embedded default, and with overrides.
#[test]
fn a_resolved_scenario_is_the_same_scenario() {
    let mut cases: Vec<(String, String)> = vec![("default".into(), DEFAULT_SCENARIO.into())];
    for f in [
        "scenarios/homelessness.toml",
        "scenarios/local-modernisation.toml",
        "scenarios/central-departments.toml",
        "scenarios/national.toml",
        "tests/fixtures/small.toml",
    ] {
        cases.push((f.into(), std::fs::read_to_string(f).unwrap()));
    }
    let sets = [Override::parse("levers.control=0.5").unwrap()];
    for (name, text) in &cases {
        for overrides in [&[][..], &sets[..]] {
            let shown = silos::resolve::show(text, name, overrides).unwrap();
            let a = Scenario::from_toml_str_with(text, name, overrides).unwrap();
            let b = Scenario::from_toml_str(&shown, name).unwrap();
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "{name} {overrides:?}");
            // Defaults were written out: the model table is complete.
            assert!(shown.contains("hop_limit = "), "{name}");
        }
    }
}
