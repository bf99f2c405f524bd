//! `--set path=value` reaches any scenario field, by name or index, and is validated like the
//! file itself.

mod common;

use silos::overrides::Override;
use silos::scenario::{AgendaRule, Family, Scenario};

fn with(sets: &[&str]) -> Result<Scenario, silos::error::ScenarioError> {
    let text = std::fs::read_to_string(common::fixture_path("small.toml")).unwrap();
    let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    Scenario::from_toml_str_with(&text, "small.toml", &o)
}

#[test]
fn overrides_reach_nested_named_and_indexed_fields() {
    let base = with(&[]).unwrap();
    let s = with(&[
        "model.hop_limit=1",
        "agencies.health.income=99.5",
        "agencies[3].behaviour=bp",
        "mechanisms.forum.agenda_rule=equal_votes",
        "mechanisms.forum.gamma=1",
        "scenario.ticks=7",
        "behaviours.bp.lambda=0.25",
    ]);
    let s = match s {
        Err(e) => panic!("{e}"),
        Ok(s) => s,
    };
    assert_eq!(s.model.hop_limit, 1);
    assert_ne!(base.model.hop_limit, 1);
    assert_eq!(s.agencies[1].income, 99.5);
    assert_eq!(s.agencies[3].behaviour, Some(Family::Bp));
    assert_eq!(s.mechanisms[0].agenda_rule, AgendaRule::EqualVotes);
    assert_eq!(s.ticks, 7);
    assert_eq!(s.behaviours.bp.lambda, silos::scenario::Dist::Fixed(0.25));
    // Everything else unchanged.
    assert_eq!(s.agencies[0].income, base.agencies[0].income);
    assert_eq!(s.groups.len(), base.groups.len());
}

#[test]
fn bad_overrides_name_the_override_and_the_field() {
    for (set, needles) in [
        (
            "agencies.nobody.income=1",
            vec![
                "--set agencies.nobody.income=1",
                "housing, health, probation, day_centre",
            ],
        ),
        ("model.hop_limt=2", vec!["hop_limt"]),
        (
            "agencies[9].income=1",
            vec!["agencies[9].income", "below 4"],
        ),
        (
            "agencies.health.income=-1",
            vec!["agencies[1].income", ">= 0"],
        ),
        ("model.hop_limit.deeper=1", vec!["model.hop_limit.deeper"]),
    ] {
        let err = with(&[set]).expect_err(set).to_string();
        for n in needles {
            assert!(err.contains(n), "{set}: {err:?} should mention {n:?}");
        }
    }
    assert!(Override::parse("no-equals-sign").is_err());
}
