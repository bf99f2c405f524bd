//! National runs: many localities under one centre, stepped in parallel. The output is a
//! pure function of (scenario, seed) whatever the thread count; localities draw their own
//! variation and streams; shocks are national; central departments see all localities.

mod common;

use silos::engine::BehaviourChoice;
use silos::national::National;
use silos::scenario::{Level, Scenario};

fn small_national(count: u32) -> Scenario {
    let text = std::fs::read_to_string(common::fixture_path("small.toml")).unwrap()
        + &format!(
            "\n[localities]\ncount = {count}\narrivals = {{ low = 0.5, high = 1.5 }}\n\
             income = {{ low = 0.8, high = 1.2 }}\nbp_share = {{ low = 0.2, high = 0.8 }}\n"
        );
    Scenario::from_toml_str(&text, "small-national.toml").unwrap()
}

fn run(s: &Scenario, seed: u64, threads: usize, ticks: u32) -> National {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut n = National::new(s, seed, BehaviourChoice::Mixed);
        for _ in 0..ticks {
            // Each locality's step checks its invariants (cases, money, staff).
            n.step().expect("invariants hold in every locality");
        }
        n
    })
}

#[test]
fn a_national_run_is_the_same_at_one_and_two_threads() {
    let s = small_national(6);
    let (a, b) = (run(&s, 7, 1, 12), run(&s, 7, 2, 12));
    assert_eq!(a.draws, b.draws);
    for (x, y) in a.localities.iter().zip(&b.localities) {
        let (wx, wy) = (&x.world, &y.world);
        assert_eq!(wx.tally.run.arrivals, wy.tally.run.arrivals);
        assert_eq!(wx.tally.run.served, wy.tally.run.served);
        for i in 0..wx.n_agencies() {
            assert_eq!(wx.reserves(i), wy.reserves(i));
        }
    }
}

#[test]
fn localities_differ_but_share_the_national_shocks() {
    let s = small_national(5);
    let n = run(&s, 3, 2, 24);
    // Draws lie in their ranges and differ between localities.
    for d in &n.draws {
        assert!((0.5..=1.5).contains(&d.arrivals) && (0.8..=1.2).contains(&d.income));
        assert!((0.2..=0.8).contains(&d.bp_share));
    }
    assert!(n.draws.windows(2).all(|w| w[0] != w[1]));
    // Their own streams: different case histories.
    let arrivals: Vec<u64> = n
        .localities
        .iter()
        .map(|l| l.world.tally.run.arrivals)
        .collect();
    assert!(arrivals.windows(2).any(|w| w[0] != w[1]), "{arrivals:?}");
    // National shocks: every locality's groups carry the same salience.
    let sal = |k: usize| -> Vec<f64> {
        n.localities[k]
            .world
            .groups
            .iter()
            .map(|g| g.salience)
            .collect()
    };
    for k in 1..n.localities.len() {
        assert_eq!(sal(0), sal(k), "locality {k}");
    }
    // The same scenario and seed give the same draws; another seed other draws.
    assert_eq!(silos::national::draws(&s, 3), n.draws);
    assert_ne!(silos::national::draws(&s, 4), n.draws);
}

#[test]
fn central_departments_see_all_their_localities() {
    let text = silos::scenario::DEFAULT_SCENARIO.to_string()
        + "\n[localities]\ncount = 3\narrivals = { low = 0.3, high = 1.7 }\n";
    let s = Scenario::from_toml_str(&text, "default-national").unwrap();
    let central: Vec<usize> = (0..s.agencies.len())
        .filter(|&i| s.agencies[i].level == Level::Central)
        .collect();
    assert!(!central.is_empty());
    let n = run(&s, 11, 2, 3);
    let ng = s.groups.len();
    for &i in &central {
        for g in 0..ng {
            let b0 = n.localities[0].world.beliefs.need[i * ng + g];
            for l in &n.localities[1..] {
                assert_eq!(
                    l.world.beliefs.need[i * ng + g],
                    b0,
                    "central {i}, group {g}"
                );
            }
        }
        let a0 = &n.localities[0].world.agencies[i];
        for l in &n.localities[1..] {
            let a = &l.world.agencies[i];
            assert_eq!((a.legitimacy, a.political), (a0.legitimacy, a0.political));
        }
    }
    // A local agency's beliefs stay its locality's own.
    let local = (0..s.agencies.len())
        .find(|&i| s.agencies[i].level != Level::Central)
        .unwrap();
    let beliefs: Vec<f64> = n
        .localities
        .iter()
        .map(|l| l.world.beliefs.need[local * ng])
        .collect();
    assert!(beliefs.windows(2).any(|w| w[0] != w[1]), "{beliefs:?}");
}

/// `levers_share`: each locality draws whether the scenario's levers apply there.
#[test]
fn levers_apply_in_the_share_of_localities_drawn() {
    let text = std::fs::read_to_string(common::fixture_path("small.toml")).unwrap()
        + "\n[levers]\ncontrol = 0.8\n\n[localities]\ncount = 12\nlevers_share = 0.5\n";
    let s = Scenario::from_toml_str(&text, "x.toml").unwrap();
    let n = National::new(&s, 9, BehaviourChoice::Mixed);
    let with: Vec<bool> = n.draws.iter().map(|d| d.levers).collect();
    assert!(
        with.iter().any(|&x| x) && with.iter().any(|&x| !x),
        "{with:?}"
    );
    for (d, l) in n.draws.iter().zip(&n.localities) {
        let c = l.world.levers.p.control;
        assert_eq!(c, if d.levers { 0.8 } else { 0.0 });
    }
}

#[test]
fn bad_localities_get_clear_errors() {
    let base = std::fs::read_to_string(common::fixture_path("small.toml")).unwrap();
    for (extra, want) in [
        ("count = 0", "localities.count"),
        (
            "count = 2\narrivals = { low = 2.0, high = 1.0 }",
            "localities.arrivals",
        ),
        (
            "count = 2\nbp_share = { low = 0.2, high = 1.5 }",
            "localities.bp_share",
        ),
        ("count = 2\nsize = 3", "unknown field"),
        ("count = 2\nlevers_share = 1.5", "localities.levers_share"),
    ] {
        let text = format!("{base}\n[localities]\n{extra}\n");
        let e = Scenario::from_toml_str(&text, "x.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{extra}: {e}");
    }
}

/// Through the CLI: the shipped national scenario, cut to 4 localities and 6 ticks, writes
/// byte-identical files at 1 and 2 threads, with a locality column and a mean row.
#[test]
fn the_national_scenario_runs_from_the_cli_identically_at_any_thread_count() {
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    for (t, d) in dirs.iter().enumerate() {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_silos"))
            .args([
                "run",
                "scenarios/national.toml",
                "--set",
                "localities.count=4",
                "--ticks",
                "6",
                "--threads",
                &(t + 1).to_string(),
                "--no-plots",
                "--quiet",
                "--out",
            ])
            .arg(d.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for f in ["ticks.csv", "localities.csv", "locality_agencies.csv"] {
        let a = std::fs::read(dirs[0].path().join(f)).unwrap();
        let b = std::fs::read(dirs[1].path().join(f)).unwrap();
        assert!(a == b, "{f} differs between 1 and 2 threads");
    }
    let ticks = std::fs::read_to_string(dirs[0].path().join("ticks.csv")).unwrap();
    assert!(ticks.starts_with("tick,locality,arrivals,"));
    // 6 ticks x (4 localities + the mean and total rows), plus the header.
    assert_eq!(ticks.lines().count(), 1 + 6 * 6);
    assert!(ticks.lines().nth(5).unwrap().starts_with("1,mean,"));
    // National totals: arrivals add up over localities; a share does not (NA).
    let rows: Vec<Vec<&str>> = ticks.lines().map(|l| l.split(',').collect()).collect();
    let head = &rows[0];
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (arr, share) = (col("arrivals"), col("share_need_met"));
    let sum: f64 = (1..=4).map(|r| rows[r][arr].parse::<f64>().unwrap()).sum();
    assert_eq!(rows[6][1], "total");
    assert_eq!(rows[6][arr].parse::<f64>().unwrap(), sum);
    assert_eq!(rows[6][share], "NA");
    let loc = std::fs::read_to_string(dirs[0].path().join("localities.csv")).unwrap();
    assert_eq!(loc.lines().count(), 5);
    // Every locality's agencies (23 in the template), with their run means.
    let ag = std::fs::read_to_string(dirs[0].path().join("locality_agencies.csv")).unwrap();
    assert_eq!(ag.lines().count(), 1 + 4 * 23);
    assert!(ag.lines().nth(1).unwrap().starts_with("0,"));
}

/// A sweep of a national scenario runs each run as a national run (one at a time per
/// worker): the run's totals are the localities' sums, and the files are the same at 1 and
/// 2 threads.
#[test]
fn sweeps_of_national_scenarios_run_national_runs() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::fixture_path("small.toml")).unwrap()
        + "\n[localities]\ncount = 3\narrivals = { low = 0.5, high = 1.5 }\n";
    std::fs::write(dir.path().join("nat.toml"), &text).unwrap();
    let f = dir.path().join("e.toml");
    std::fs::write(
        &f,
        "[experiment]\nname = \"n\"\nscenario = \"nat.toml\"\nreplicates = 2\nmaster_seed = 5\n\
         ticks = 6\nreference_arm = \"ra\"\n\n[[arms]]\nname = \"ra\"\nbehaviour = \"ra\"\n\n\
         [[arms]]\nname = \"bp\"\nbehaviour = \"bp\"\n",
    )
    .unwrap();
    let exp = silos::sweep::Experiment::from_path(&f).unwrap();
    let r = exp.run_ref(0);
    let out = silos::sweep::run::run_one(&exp, r).unwrap();
    let s = exp.scenario_for(r.point, r.arm).unwrap();
    let mut n = National::new(&s, r.seed, exp.arms[r.arm].choice);
    for _ in 0..6 {
        n.step().unwrap();
    }
    let total: u64 = n
        .localities
        .iter()
        .map(|l| l.world.tally.run.arrivals)
        .sum();
    assert_eq!(
        out.cumulative[0], total as f64,
        "total arrivals over localities"
    );
    let outs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    for (t, d) in outs.iter().enumerate() {
        silos::sweep::run_sweep(
            &exp,
            &silos::sweep::SweepOptions {
                out: d.path().to_path_buf(),
                threads: Some(t + 1),
                shard: None,
                progress: false,
                fail_runs: Vec::new(),
            },
        )
        .unwrap();
    }
    for file in silos::sweep::exec::SWEEP_FILES {
        let a = std::fs::read(outs[0].path().join(file)).unwrap();
        let b = std::fs::read(outs[1].path().join(file)).unwrap();
        assert!(a == b, "{file} differs between 1 and 2 threads");
    }
    // Per-locality summaries: 1 point x 2 arms x 3 localities x the kept observables, each
    // over the 2 replicates.
    let loc = std::fs::read_to_string(outs[0].path().join("localities_summary.csv")).unwrap();
    let k = silos::sweep::run::LOCALITY_OBSERVABLES.len();
    assert_eq!(loc.lines().count(), 1 + 2 * 3 * k);
    assert!(
        loc.lines()
            .nth(1)
            .unwrap()
            .starts_with("0,ra,0,share_need_met,2,")
    );
}

/// The small arena under `[localities]` with the centre's rounds switched on: the annual
/// budget round by bargaining, and a competitive funding round in which the day centre
/// (made a fundee of the centre) bids. Localities vary in income and behaviour mix, so
/// their claims and bids differ.
fn rounds_national(count: u32) -> Scenario {
    let text = std::fs::read_to_string(common::fixture_path("small.toml"))
        .unwrap()
        .replace("funder = \"housing\"\n", "")
        + &format!(
            "\n[levers]\nbudget_rule = \"bargaining\"\nfunding_mode = \"competitive\"\n\n\
             [localities]\ncount = {count}\nincome = {{ low = 0.6, high = 1.4 }}\n\
             bp_share = {{ low = 0.0, high = 1.0 }}\n"
        );
    Scenario::from_toml_str(&text, "rounds-national.toml").unwrap()
}

fn centre_funded(w: &silos::model::World, i: usize) -> bool {
    w.agencies[i].funder == silos::scenario::Funder::Centre && w.agencies[i].serves_cases
}

/// The centre's budget round is one national round: after it, budgets summed over every
/// locality equal the national envelope (the sum of formula budgets), but a locality's
/// budgets no longer sum to its own envelope, as they do when it runs alone.
#[test]
fn the_centres_budget_round_shares_one_national_envelope() {
    let s = rounds_national(6);
    let n = run(&s, 5, 2, 1);
    let (mut budgets, mut envelope, mut moved) = (0.0, 0.0, 0);
    for (k, l) in n.localities.iter().enumerate() {
        let w = &l.world;
        let (mut b, mut e) = (0.0, 0.0);
        for i in (0..w.n_agencies()).filter(|&i| centre_funded(w, i)) {
            b += w.agencies[i].budget;
            e += w.agencies[i].base_income;
        }
        assert!(e > 0.0, "locality {k} has centre-funded agencies");
        if (b - e).abs() > 1e-6 * e {
            moved += 1;
        }
        budgets += b;
        envelope += e;
        // The same locality alone shares only its own envelope.
        let t = silos::national::locality_scenario(&s, &n.draws[k]);
        let mut alone = silos::engine::Simulation::new(
            &t,
            silos::national::locality_seed(5, k),
            BehaviourChoice::Mixed,
        );
        alone.share_national_streams(5);
        alone.step().unwrap();
        let wa = &alone.world;
        let own: f64 = (0..wa.n_agencies())
            .filter(|&i| centre_funded(wa, i))
            .map(|i| wa.agencies[i].budget)
            .sum();
        assert!((own - e).abs() <= 1e-9 * e, "locality {k}: {own} vs {e}");
    }
    assert!(
        (budgets - envelope).abs() <= 1e-9 * envelope,
        "{budgets} vs {envelope}"
    );
    assert!(moved > 0, "no money moved between localities");
}

/// A competitive funding round of the centre's is national: the pot is the contestable
/// share of every locality's contestants' budgets, shared by bid weight over all of them, so
/// incomes sum to budgets nationally but not in every locality.
#[test]
fn the_centres_funding_round_is_one_national_contest() {
    let s = rounds_national(6);
    let n = run(&s, 8, 2, 1);
    let contestant = |w: &silos::model::World, i: usize| {
        w.contestant(i) && w.agencies[i].funder == silos::scenario::Funder::Centre
    };
    let (mut income, mut budget, mut moved) = (0.0, 0.0, 0);
    for l in &n.localities {
        let w = &l.world;
        let (mut y, mut b) = (0.0, 0.0);
        for i in (0..w.n_agencies()).filter(|&i| contestant(w, i)) {
            y += w.agencies[i].income;
            b += w.agencies[i].budget;
        }
        assert!(b > 0.0, "the day centre bids in every locality");
        if (y - b).abs() > 1e-6 * b {
            moved += 1;
        }
        income += y;
        budget += b;
    }
    assert!(
        (income - budget).abs() <= 1e-9 * budget,
        "{income} vs {budget}"
    );
    assert!(moved > 0, "no award crossed a locality boundary");
}

/// A national run of one locality is the plain run of that locality's scenario (with the
/// national streams): the three phases of a national tick, with one locality's own sums,
/// are one ordinary step, and the central phase's means over one locality change nothing.
#[test]
fn a_national_run_of_one_locality_is_its_plain_run() {
    let s = rounds_national(1);
    let n = run(&s, 21, 1, 30);
    let t = silos::national::locality_scenario(&s, &n.draws[0]);
    let mut alone = silos::engine::Simulation::new(
        &t,
        silos::national::locality_seed(21, 0),
        BehaviourChoice::Mixed,
    );
    alone.share_national_streams(21);
    for _ in 0..30 {
        alone.step().unwrap();
    }
    let (a, b) = (&n.localities[0].world, &alone.world);
    assert_eq!(a.tally.run.arrivals, b.tally.run.arrivals);
    assert_eq!(a.tally.run.served, b.tally.run.served);
    for i in 0..a.n_agencies() {
        assert_eq!(a.reserves(i), b.reserves(i), "agency {i}");
        assert_eq!(a.agencies[i].income, b.agencies[i].income, "agency {i}");
        assert_eq!(a.agencies[i].legitimacy, b.agencies[i].legitimacy);
    }
}
