//! Bad input gets a clear error naming the file, the field, the value and what is allowed;
//! never a panic, never a silently clamped value.

use silos::error::ScenarioError;
use silos::scenario::Scenario;

const VALID: &str = r#"
dimensions = ["housing", "health"]

[scenario]
name = "tiny"
ticks = 12
seed = 1

[[groups]]
name = "families"
arrivals = 5.0
needs = { housing = 1.0, health = 0.3 }
entry = { housing = 0.7, clinic = 0.3 }

[[agencies]]
name = "housing"
level = "local_statutory"
behaviour = "bp"
income = 20.0
reserves = 10.0
staff = 20.0
remit = { housing = 1.0 }
targets = { families = 1.0 }

[[agencies]]
name = "clinic"
level = "local_statutory"
behaviour = "ra"
income = 20.0
staff = 20.0
remit = { health = 1.0 }

[[mechanisms]]
name = "forum"
kind = "forum"
candidates = ["housing", "clinic"]
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_toml_str(text, "scenarios/tiny.toml")
}

/// Replace `from` (which must occur) by `to` and expect an error mentioning every `needle`.
fn expect_error(from: &str, to: &str, needles: &[&str]) {
    assert!(
        VALID.contains(from),
        "test bug: {from:?} not in the valid scenario"
    );
    let text = VALID.replacen(from, to, 1);
    let err = parse(&text).expect_err(&format!("{from:?} -> {to:?} should be rejected"));
    let msg = err.to_string();
    assert!(
        msg.starts_with("scenarios/tiny.toml"),
        "message must name the file: {msg}"
    );
    for n in needles {
        assert!(msg.contains(n), "message {msg:?} should mention {n:?}");
    }
}

#[test]
fn the_valid_scenario_and_the_shipped_ones_parse() {
    parse(VALID).unwrap();
    let _ = Scenario::default_scenario();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            Scenario::from_path(&p).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn unknown_fields_are_rejected_with_their_name() {
    expect_error(
        "income = 20.0\nreserves",
        "income = 20.0\nincom = 3\nreserves",
        &["incom"],
    );
    expect_error("[scenario]", "[scenario]\ncolour = \"red\"", &["colour"]);
    expect_error(
        "[[groups]]",
        "[model]\nhop_limits = 2\n\n[[groups]]",
        &["hop_limits"],
    );
}

#[test]
fn wrong_types_are_rejected() {
    expect_error("arrivals = 5.0", "arrivals = \"many\"", &["arrivals"]);
    expect_error("ticks = 12", "ticks = 1.5", &["ticks"]);
}

#[test]
fn negative_budgets_and_out_of_range_values_are_rejected() {
    expect_error(
        "reserves = 10.0",
        "reserves = -10.0",
        &["agencies[0].reserves", "-10", ">= 0"],
    );
    expect_error(
        "income = 20.0\nreserves",
        "income = -1.0\nreserves",
        &["agencies[0].income", "-1"],
    );
    expect_error(
        "remit = { housing = 1.0 }",
        "remit = { housing = 1.5 }",
        &["agencies[0].remit.housing", "1.5", "0 to 1"],
    );
    expect_error(
        "[[groups]]",
        "[model]\nhop_limit = 99\n\n[[groups]]",
        &["model.hop_limit", "99"],
    );
    expect_error(
        "[[groups]]",
        "[model]\ncomplementarity = 2\n\n[[groups]]",
        &["model.complementarity"],
    );
    expect_error("ticks = 12", "ticks = 0", &["scenario.ticks"]);
}

#[test]
fn shares_that_do_not_sum_to_one_are_rejected() {
    expect_error(
        "entry = { housing = 0.7, clinic = 0.3 }",
        "entry = { housing = 0.7, clinic = 0.2 }",
        &["groups[0].entry", "sum to 1"],
    );
    expect_error(
        "[[groups]]",
        "[population]\nshares = { ra = 0.5, bp = 0.4 }\n\n[[groups]]",
        &["population.shares", "sum to 1"],
    );
    expect_error(
        "[[groups]]",
        "[power]\nfinance = 0.9\n\n[[groups]]",
        &["power", "sum to 1"],
    );
}

#[test]
fn references_to_missing_things_are_rejected_with_what_exists() {
    expect_error(
        "clinic = 0.3 }",
        "clinik = 0.3 }",
        &["groups[0].entry.clinik", "housing, clinic"],
    );
    expect_error(
        "candidates = [\"housing\", \"clinic\"]",
        "candidates = [\"housing\", \"surgery\"]",
        &["mechanisms[0].candidates[1]", "surgery"],
    );
    expect_error(
        "targets = { families = 1.0 }",
        "targets = { singles = 1.0 }",
        &["agencies[0].targets.singles", "families"],
    );
    expect_error(
        "remit = { health = 1.0 }",
        "remit = { dental = 1.0 }",
        &["agencies[1].remit.dental", "housing, health"],
    );
    expect_error(
        "level = \"local_statutory\"\nbehaviour = \"bp\"",
        "level = \"local_statutory\"\nbehaviour = \"bp\"\nfunder = \"council\"",
        &["agencies[0].funder", "council"],
    );
    expect_error(
        "behaviour = \"bp\"",
        "behaviour = \"selfish\"",
        &["agencies[0].behaviour", "\"ra\", \"bp\""],
    );
    expect_error(
        "behaviour = \"bp\"",
        "behaviour = \"ra-bounded\"",
        &["agencies[0].behaviour", "search.mode"],
    );
}

#[test]
fn structural_mistakes_are_rejected() {
    // A funding loop.
    let looped = VALID
        .replacen(
            "behaviour = \"bp\"",
            "behaviour = \"bp\"\nfunder = \"clinic\"",
            1,
        )
        .replacen(
            "behaviour = \"ra\"",
            "behaviour = \"ra\"\nfunder = \"housing\"",
            1,
        );
    let msg = parse(&looped).unwrap_err().to_string();
    assert!(msg.contains("funder") && msg.contains("loops"), "{msg}");
    // An agency with no behaviour and no population table.
    expect_error(
        "behaviour = \"ra\"\n",
        "",
        &["agencies[1].behaviour", "population"],
    );
    // Duplicate names.
    expect_error(
        "name = \"clinic\"",
        "name = \"housing\"",
        &["agencies[1].name", "housing"],
    );
    // Forum-only fields on another kind.
    expect_error(
        "kind = \"forum\"",
        "kind = \"protocol\"\ngamma = 2.0",
        &["mechanisms[0].gamma", "forum"],
    );
}

#[test]
fn unreadable_files_say_so() {
    let err = Scenario::from_path(std::path::Path::new("no/such/scenario.toml")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("no/such/scenario.toml: cannot read"),
        "{err}"
    );
}

/// Disposition distributions: a number, `{ low, high }` or `{ low, mode, high }`; anything
/// else is refused with what is allowed, naming the field.
#[test]
fn disposition_distributions_are_checked() {
    let text = silos::scenario::DEFAULT_SCENARIO;
    let with = |set: &str| {
        let o = silos::overrides::Override::parse(set).unwrap();
        silos::scenario::Scenario::from_toml_str_with(text, "x.toml", &[o])
            .err()
            .map(|e| e.to_string())
    };
    for (set, needles) in [
        (
            "behaviours.bp.lambda={ low = 0.5 }",
            &["behaviours.bp.lambda", "`high`"][..],
        ),
        (
            "behaviours.bp.lambda={ low = 0.5, hi = 1 }",
            &["behaviours.bp.lambda", "low, mode, high"],
        ),
        (
            "behaviours.bp.lambda=1.5",
            &["behaviours.bp.lambda", "from 0 to 1"],
        ),
        (
            "behaviours.ra.altruism={ low = 0.5, mode = 0.1, high = 1 }",
            &["behaviours.ra.altruism", "low <= mode <= high"],
        ),
        ("search.breadth=0", &["search.breadth", "from 1"]),
    ] {
        let err = with(set).unwrap_or_else(|| panic!("{set} was accepted"));
        for n in needles {
            assert!(err.contains(n), "{set}: {err}");
        }
    }
    assert_eq!(
        with("behaviours.bp.lambda={ low = 0.2, mode = 0.5, high = 0.9 }"),
        None
    );
    assert_eq!(with("behaviours.ra.reciprocity=0.3"), None);
}
