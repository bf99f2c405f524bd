//! Reproducibility and conservation: a run is a pure function of (scenario, seed); the
//! environment's draws do not depend on the behaviour rules; nothing is lost.

mod common;
use common::silos;

use std::path::Path;

use silos::engine::{BehaviourChoice, Simulation};
use silos::model::{Account, Sink};
use silos::scenario::{Family, Scenario};

fn manifest_without_times(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let o = v.as_object_mut().unwrap();
    assert!(o.remove("started").is_some());
    assert!(o.remove("finished").is_some());
    v
}

#[test]
fn same_seed_gives_byte_identical_output() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let fx = common::fixture_path("small.toml");
    let fx = fx.to_str().unwrap();
    for (dir, seed) in [(&a, "5"), (&b, "5"), (&c, "6")] {
        let out = silos(&[
            "run",
            fx,
            "--seed",
            seed,
            "--quiet",
            "--out",
            dir.path().to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for f in [
        "ticks.csv",
        "agencies.csv",
        "groups.csv",
        "needs.csv",
        "dumping.csv",
    ] {
        let x = std::fs::read(a.path().join(f)).unwrap();
        let y = std::fs::read(b.path().join(f)).unwrap();
        assert!(!x.is_empty());
        assert_eq!(x, y, "{f} differs between two runs with the same seed");
    }
    assert_eq!(
        manifest_without_times(a.path()),
        manifest_without_times(b.path())
    );
    // And the seed matters: another seed gives other arrivals.
    let x = std::fs::read(a.path().join("ticks.csv")).unwrap();
    let z = std::fs::read(c.path().join("ticks.csv")).unwrap();
    assert_ne!(x, z, "seeds 5 and 6 gave the same ticks.csv");
}

/// Same seed, rule switched: every tick's cases (group, entry agency, needs, loss numbers)
/// are identical, and so are the media shocks.
#[test]
fn switching_the_rule_leaves_the_environment_draws_unchanged() {
    for (name, ticks) in [("small.toml", 24), ("", 24)] {
        let s = if name.is_empty() {
            Scenario::default_scenario()
        } else {
            common::fixture(name)
        };
        let choices = [
            BehaviourChoice::All(Family::Ra),
            BehaviourChoice::All(Family::Bp),
            BehaviourChoice::Mixed,
        ];
        let mut sims: Vec<Simulation> = choices
            .iter()
            .map(|&c| Simulation::new(&s, 99, c))
            .collect();
        let mut outcomes_differ = false;
        for _ in 0..ticks {
            for sim in sims.iter_mut() {
                sim.step().expect("invariants hold");
            }
            let base = &sims[0].world;
            for other in &sims[1..] {
                let w = &other.world;
                assert_eq!(w.cases.len(), base.cases.len());
                for (x, y) in w.cases.iter().zip(&base.cases) {
                    assert_eq!(
                        (x.group, x.entry, x.needs, x.loss_u),
                        (y.group, y.entry, y.needs, y.loss_u)
                    );
                }
                assert_eq!(w.tally.shocks, base.tally.shocks);
                let sal: Vec<f64> = w.groups.iter().map(|g| g.salience).collect();
                let base_sal: Vec<f64> = base.groups.iter().map(|g| g.salience).collect();
                assert_eq!(sal, base_sal);
                outcomes_differ |= w.tally.all.need_met != base.tally.all.need_met;
            }
        }
        // The rules did change what happened, so the comparison was not vacuous.
        assert!(outcomes_differ, "{name}: all rules gave identical outcomes");
    }
}

/// Every behaviour, several seeds, the default scenario's full length: `step` checks case,
/// money and staff conservation each tick (the run fails on the first break). Here we also
/// check the run totals by hand.
#[test]
fn conservation_holds_on_every_tick_of_the_default_scenario() {
    let synoptic = Scenario::default_scenario();
    let mut bounded = synoptic.clone();
    bounded.search.mode = silos::scenario::SearchMode::Bounded;
    for (s, choice) in [
        (&synoptic, "ra"),
        (&bounded, "ra"),
        (&synoptic, "bp"),
        (&bounded, "bp"),
        (&synoptic, "mixed"),
    ] {
        for seed in [1, 2, 3] {
            let sim = common::run(s, seed, BehaviourChoice::parse(choice).unwrap(), s.ticks);
            let w = &sim.world;
            let r = &w.tally.run;
            assert!(r.arrivals > 0);
            assert_eq!(
                r.served + r.partly_served + r.fell_through,
                r.arrivals,
                "{choice} seed {seed}"
            );
            let f = &w.tally.run_fell;
            assert_eq!(f.refused + f.lost + f.nothing_met, r.fell_through);
            assert_eq!(w.ledger.total(), 0);
            assert_eq!(w.ledger.first_negative(), None);
            assert!(r.need_met <= r.need + 1e-9);
            let spent: f64 = [
                Sink::Core,
                Sink::Cases,
                Sink::PooledCases,
                Sink::Coordination,
                Sink::Levers,
                Sink::Sanctions,
            ]
            .iter()
            .map(|&k| w.ledger.sink(k))
            .sum();
            let held: f64 = (0..w.n_agencies()).map(|i| w.reserves(i)).sum::<f64>()
                + w.mechanisms
                    .iter()
                    .filter_map(|m| m.pool)
                    .map(|p| w.ledger.balance(Account::Pool(p)))
                    .sum::<f64>();
            let issued = -w.ledger.balance(Account::Centre);
            assert!(
                (issued - spent - held).abs() < 1e-3,
                "issued {issued} spent {spent} held {held}"
            );
        }
    }
}

/// The invariant check is not vacuous: break the books and it says so.
#[test]
fn invariant_check_catches_broken_books() {
    let s = common::fixture("small.toml");
    let mut sim = common::run(&s, 3, BehaviourChoice::Mixed, 2);
    assert!(sim.world.check_invariants().is_ok());
    let mut w = sim.world.clone();
    w.tally.all.arrivals += 1;
    assert!(matches!(
        w.check_invariants(),
        Err(silos::error::InvariantError::Cases { .. })
    ));
    let mut w = sim.world.clone();
    w.tally.fell.lost += 1;
    assert!(matches!(
        w.check_invariants(),
        Err(silos::error::InvariantError::Cases { .. })
    ));
    let mut w = sim.world.clone();
    w.agencies[0].flex += 1.0;
    assert!(matches!(
        w.check_invariants(),
        Err(silos::error::InvariantError::Staff { .. })
    ));
    // Money cannot be broken through the ledger's API (every transfer is double-entry), so
    // the ledger's own tests cover it; a transfer keeps the books balanced.
    sim.world
        .ledger
        .transfer(Account::Centre, Account::Agency(0), 1.0);
    assert!(sim.world.check_invariants().is_ok());
}

/// Lambda is the dial between the two accounts: bureaucratic politics with no weight on
/// organisational interest is rational administration, byte for byte, through the CLI as a
/// user would run it. Three seeds, the default scenario, 60 ticks.
#[test]
fn bp_with_lambda_zero_writes_the_same_ticks_as_ra() {
    for seed in ["3", "17", "2009"] {
        let ra = tempfile::tempdir().unwrap();
        let bp0 = tempfile::tempdir().unwrap();
        let bp = tempfile::tempdir().unwrap();
        let base = [
            "run",
            "--seed",
            seed,
            "--ticks",
            "60",
            "--no-plots",
            "--out",
        ];
        let mut a: Vec<&str> = base.to_vec();
        a.extend([ra.path().to_str().unwrap(), "--behaviour", "ra"]);
        assert!(silos(&a).status.success());
        let mut b: Vec<&str> = base.to_vec();
        b.extend([
            bp0.path().to_str().unwrap(),
            "--behaviour",
            "bp",
            "--set",
            "behaviours.bp.lambda=0",
        ]);
        assert!(silos(&b).status.success());
        let mut c: Vec<&str> = base.to_vec();
        c.extend([bp.path().to_str().unwrap(), "--behaviour", "bp"]);
        assert!(silos(&c).status.success());
        let x = std::fs::read(ra.path().join("ticks.csv")).unwrap();
        let y = std::fs::read(bp0.path().join("ticks.csv")).unwrap();
        let z = std::fs::read(bp.path().join("ticks.csv")).unwrap();
        assert!(x == y, "seed {seed}: bp at lambda 0 differs from ra");
        assert!(
            x != z,
            "seed {seed}: bp at its default lambda is not ra (the test can fail)"
        );
    }
}

/// The same identity inside a mixed arena: with the bp family's lambda at 0 every agency
/// chooses as under rational administration, so the whole run is the all-ra run.
#[test]
fn a_mixed_arena_with_bp_lambda_zero_runs_as_all_ra() {
    let mut s = common::fixture("small.toml");
    s.behaviours.bp.lambda = silos::scenario::Dist::Fixed(0.0);
    let mixed = common::run(&s, 5, BehaviourChoice::Mixed, 24);
    let ra = common::run(&s, 5, BehaviourChoice::All(Family::Ra), 24);
    assert!(mixed.world.agencies.iter().any(|a| a.family == Family::Bp));
    assert_eq!(mixed.world.tally.run.need_met, ra.world.tally.run.need_met);
    assert_eq!(
        mixed.world.tally.run.referrals,
        ra.world.tally.run.referrals
    );
    assert_eq!(mixed.world.ledger.total(), 0);
}
