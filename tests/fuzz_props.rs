//! The fuzz targets' bodies (`silos::fuzzing`, run by `fuzz/`) on generated inputs, within
//! `cargo test`: mutated shipped scenarios and experiments, random `--set path=value` pairs
//! drawn from the documented parameter list (`silos::params`), random design CSVs, random
//! CSV tables and bytes for `silos plot`, and the first ticks of the scenarios that `check`
//! accepts. The property: nothing panics, accepted scenarios run, and every error message
//! says where the problem is (`fuzzing::names_a_place`: a line, column, field, row or
//! `--set`).
//!
//! Budget and seeds: each property runs a fixed number of cases (a few seconds in all with
//! `cargo test --release`) from a fixed seed, so every run generates the same inputs; set
//! `PROPTEST_RNG_SEED=<u64>` to explore others (a failure prints its minimal input). Nothing
//! is persisted.

use std::path::PathBuf;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, RngSeed};
use silos::fuzzing::{self, names_a_place};

/// The seed of every property (overridden by `PROPTEST_RNG_SEED`).
const SEED: u64 = 20261205;

fn config(cases: u32) -> Config {
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED);
    Config {
        cases,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap()
}

/// An error message must say where the problem is.
fn check_message(what: &str, msg: &str) -> Result<(), TestCaseError> {
    prop_assert!(
        names_a_place(msg),
        "{what}: the message names no line, column, field or row: {msg}"
    );
    Ok(())
}

/// Values that probe types and ranges.
const VALUES: &[&str] = &[
    "0",
    "1",
    "-1",
    "0.5",
    "2",
    "10",
    "1e308",
    "-1e308",
    "nan",
    "inf",
    "-inf",
    "1e-320",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "true",
    "\"bp\"",
    "ra",
    "synoptic",
    "\"\"",
    "[]",
    "[1, 2]",
    "{ a = 1 }",
    "{ ra = 0.5, bp = 0.5 }",
    "{ kind = \"uniform\", low = 0, high = 1 }",
    "\"\u{e9}\u{1f600}\"",
];

/// Values that a small arena can run with, for the engine property.
const MODEST: &[&str] = &["0", "1", "2", "0.5", "0.1", "0.9", "3", "true", "false"];

/// A documented parameter's path as `--set` takes it (`agencies[].income` names an element).
fn set_paths() -> Vec<String> {
    let mut out: Vec<String> = silos::params::all()
        .into_iter()
        .flat_map(|p| {
            if p.path.contains("[]") {
                vec![p.path.replace("[]", "[0]"), p.path.replace("[]", "[99]")]
            } else {
                vec![p.path]
            }
        })
        .collect();
    out.extend(
        [
            "agencies.housing_authority.income",
            "nosuch.field",
            "model..hop_limit",
            "agencies[x].income",
            "agencies[0",
            "scenario.name.inner",
            "mechanisms.nosuch.agenda_rule",
        ]
        .map(String::from),
    );
    out
}

/// `path=value` lines.
fn overrides(paths: Vec<String>, values: &'static [&'static str]) -> impl Strategy<Value = String> {
    let pair = (prop::sample::select(paths), prop::sample::select(values))
        .prop_map(|(p, v)| format!("{p}={v}"));
    prop::collection::vec(pair, 1..4).prop_map(|v| v.join("\n"))
}

/// An edit of a text: delete, duplicate or insert at a byte offset (as a share of the
/// length), or replace one number with a probe value.
#[derive(Debug, Clone)]
enum Edit {
    Delete(f64, usize),
    Duplicate(f64, usize),
    Insert(f64, String),
    Number(f64, &'static str),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0.0..1.0, 1usize..40).prop_map(|(a, n)| Edit::Delete(a, n)),
        (0.0..1.0, 1usize..200).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        (0.0..1.0, "[\\[\\]{}=\",.#\\n a-z0-9_-]{1,12}").prop_map(|(a, s)| Edit::Insert(a, s)),
        (0.0..1.0, prop::sample::select(VALUES)).prop_map(|(a, v)| Edit::Number(a, v)),
    ]
}

fn floor_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut s = text.to_string();
    for e in edits {
        let at = |a: f64, s: &str| floor_char(s, (a * s.len() as f64) as usize);
        match e {
            Edit::Delete(a, n) => {
                let i = at(*a, &s);
                let j = floor_char(&s, i + n);
                s.replace_range(i..j, "");
            }
            Edit::Duplicate(a, n) => {
                let i = at(*a, &s);
                let j = floor_char(&s, i + n);
                let piece = s[i..j].to_string();
                s.insert_str(j, &piece);
            }
            Edit::Insert(a, t) => {
                let i = at(*a, &s);
                s.insert_str(i, t);
            }
            Edit::Number(a, v) => {
                // The first number at or after the offset.
                let i = at(*a, &s);
                if let Some(k) = s[i..].find(|c: char| c.is_ascii_digit()) {
                    let start = i + k;
                    let end = s[start..]
                        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                        .map_or(s.len(), |e| start + e);
                    s.replace_range(start..end, v);
                }
            }
        }
    }
    s
}

const SCENARIOS: &[&str] = &[
    "scenarios/homelessness.toml",
    "scenarios/national.toml",
    "scenarios/local-modernisation.toml",
    "scenarios/central-departments.toml",
    "tests/fixtures/small.toml",
    "tests/fixtures/hosting.toml",
    "tests/fixtures/levers.toml",
    "tests/fixtures/routing.toml",
];

proptest! {
    #![proptest_config(config(96))]

    /// Mutated shipped scenarios: accepted, or refused with a message that says where.
    #[test]
    fn mutated_scenarios_load_or_fail_clearly(
        file in prop::sample::select(SCENARIOS),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let text = apply(&read(file), &edits);
        if let Err(msg) = fuzzing::scenario(text.as_bytes()) {
            check_message(file, &msg)?;
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Random `--set` overrides of documented parameters on the default scenario.
    #[test]
    fn random_overrides_apply_or_fail_clearly(lines in overrides(set_paths(), VALUES)) {
        if let Err(msg) = fuzzing::set(lines.as_bytes()) {
            check_message(&lines, &msg)?;
        }
    }
}

proptest! {
    #![proptest_config(config(24))]

    /// A small arena with modest overrides that `check` accepts runs its first ticks with
    /// every conservation check passing.
    #[test]
    fn accepted_small_arenas_run(
        file in prop::sample::select(&["tests/fixtures/small.toml", "tests/fixtures/hosting.toml"][..]),
        lines in overrides(set_paths(), MODEST),
    ) {
        let sets: Vec<silos::overrides::Override> = lines
            .lines()
            .map(|l| silos::overrides::Override::parse(l).unwrap())
            .collect();
        let text = read(file);
        match silos::scenario::Scenario::from_toml_str_with(&text, file, &sets) {
            Ok(s) => {
                // The engine target's run.
                let r = fuzzing::run_first_ticks(&s);
                prop_assert!(r.is_ok(), "{file} with {lines}: {r:?}");
            }
            Err(e) => check_message(&lines, &e.to_string())?,
        }
    }
}

const EXPERIMENTS: &[&str] = &[
    "scenarios/experiments/behaviour-comparison.toml",
    "scenarios/experiments/reimbursement-dose-response.toml",
    "tests/fixtures/experiment-small.toml",
];

proptest! {
    #![proptest_config(config(64))]

    /// Mutated experiment files (relative scenarios read from tests/fixtures/).
    #[test]
    fn mutated_experiments_load_or_fail_clearly(
        file in prop::sample::select(EXPERIMENTS),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let text = apply(&read(file), &edits);
        let dir = root().join("tests/fixtures");
        if let Err(msg) = fuzzing::experiment(text.as_bytes(), &dir) {
            check_message(file, &msg)?;
        }
    }
}

/// A design CSV: a header of paths and rows of values, some rows ragged, some quoted.
fn design() -> impl Strategy<Value = String> {
    let paths = set_paths();
    (
        prop::collection::vec(prop::sample::select(paths), 1..4),
        prop::collection::vec(
            prop::collection::vec((prop::sample::select(VALUES), any::<bool>()), 0..5),
            0..5,
        ),
    )
        .prop_map(|(header, rows)| {
            let mut out = header.join(",");
            out.push('\n');
            for row in rows {
                let cells: Vec<String> = row
                    .into_iter()
                    .map(|(v, quote)| {
                        if quote || v.contains(',') {
                            format!("\"{}\"", v.replace('"', "\"\""))
                        } else {
                            v.to_string()
                        }
                    })
                    .collect();
                out.push_str(&cells.join(","));
                out.push('\n');
            }
            out
        })
}

proptest! {
    #![proptest_config(config(96))]

    /// Random design CSVs imported by an experiment on the default scenario.
    #[test]
    fn random_design_csvs_import_or_fail_clearly(csv in design()) {
        if let Err(msg) = fuzzing::design_csv(csv.as_bytes()) {
            check_message(&csv, &msg)?;
        }
    }
}

#[cfg(feature = "plots")]
mod plot {
    use super::*;

    /// Numbers for the plot tables, extremes included.
    const CELLS: &[&str] = &[
        "0", "1", "0.5", "-3", "NA", "", "nan", "inf", "-inf", "1e308", "-1e308", "1e-308",
        "5e-324", "1e15", "x", "\"a,b\"",
    ];

    /// A ticks.csv: a header of real columns, rows of extreme or odd values, some rows short,
    /// perhaps cut mid-line.
    fn ticks_csv() -> impl Strategy<Value = Vec<u8>> {
        let cols: Vec<&'static str> = vec![
            "share_need_met",
            "share_fell_through",
            "dumped_share",
            "coordination_index",
            "budget_gini",
            "mean_trust",
            "referrals",
            "arrivals",
        ];
        (
            prop::sample::subsequence(cols, 1..5),
            prop::collection::vec(
                (
                    prop::collection::vec(prop::sample::select(CELLS), 0..6),
                    any::<bool>(),
                ),
                0..30,
            ),
            0usize..400,
        )
            .prop_map(|(cols, rows, cut)| {
                let mut out = format!("tick,{}\n", cols.join(","));
                for (k, (cells, full)) in rows.iter().enumerate() {
                    let mut line = vec![k.to_string()];
                    if *full {
                        // A well-formed row: one value per column.
                        line.extend(
                            (0..cols.len()).map(|c| cells.get(c).unwrap_or(&"0").to_string()),
                        );
                    } else {
                        line.extend(cells.iter().map(|c| c.to_string()));
                    }
                    out.push_str(&line.join(","));
                    out.push('\n');
                }
                let mut bytes = out.into_bytes();
                if cut > 0 && cut < bytes.len() {
                    bytes.truncate(bytes.len() - cut);
                }
                bytes
            })
    }

    /// The plot body draws a packed directory (the committed seed of extreme values).
    #[test]
    fn the_plot_body_draws_a_packed_directory() {
        let data = std::fs::read(root().join("fuzz/corpus/plot/extreme")).unwrap();
        let r = fuzzing::plot(&data).unwrap();
        assert!(!r.charts.is_empty(), "{r}");
        assert!(r.warnings.iter().any(|w| w.contains("infinite")), "{r}");
    }

    proptest! {
        #![proptest_config(config(24))]

        /// `silos plot` on random tables: draws or fails naming the file; nothing hangs.
        #[test]
        fn random_ticks_tables_draw_or_fail_naming_the_file(csv in ticks_csv()) {
            match fuzzing::plot(&csv) {
                Ok(r) => {
                    for w in &r.warnings {
                        prop_assert!(w.contains("ticks.csv"), "{w}");
                    }
                }
                Err(msg) => prop_assert!(msg.contains("ticks.csv"), "{msg}"),
            }
        }

        /// `silos plot` on arbitrary bytes.
        #[test]
        fn random_bytes_draw_or_fail_naming_the_file(
            bytes in prop::collection::vec(any::<u8>(), 0..300),
            header in any::<bool>(),
        ) {
            let mut data = if header { b"tick,share_need_met\n".to_vec() } else { Vec::new() };
            data.extend_from_slice(&bytes);
            if let Err(msg) = fuzzing::plot(&data) {
                prop_assert!(msg.contains("ticks.csv"), "{msg}");
            }
        }
    }
}

/// Whether the fixtures this file reads are where it expects them.
#[test]
fn the_shipped_inputs_are_accepted() {
    for f in SCENARIOS {
        fuzzing::scenario(read(f).as_bytes()).unwrap();
    }
    for f in EXPERIMENTS {
        fuzzing::experiment(read(f).as_bytes(), &root().join("tests/fixtures")).unwrap();
    }
    fuzzing::engine(read("tests/fixtures/small.toml").as_bytes()).unwrap();
    fuzzing::design_csv(b"model.hop_limit,levers.host_reimbursement\n2,0.5\n3,1\n").unwrap();
}

/// A factor range over the whole f64 line has an infinite number of steps: refused. (The
/// count was cast to usize before the check, saturated and overflowed at the `+ 1`: a panic
/// with overflow checks, an empty factor without.)
#[test]
fn a_factor_range_spanning_the_f64_line_is_refused() {
    let text = "[experiment]\nname = \"wide\"\nscenario = \"default\"\nreplicates = 1\n\
master_seed = 1\n\n[[arms]]\nname = \"ra\"\nbehaviour = \"ra\"\n\n[[factors]]\n\
path = \"levers.host_reimbursement\"\nrange = { from = -1e308, to = 1e308, step = 1.0 }\n";
    let msg = fuzzing::experiment(text.as_bytes(), &root()).unwrap_err();
    assert!(
        msg.contains("factors[0].range") && msg.contains("at most 100,000 values"),
        "{msg}"
    );
}
