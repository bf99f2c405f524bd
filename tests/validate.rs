//! The validation suite runs and reports. These tests check that it runs end to end and that
//! its report is well formed; they do not check whether facts hold (that is the suite's
//! finding, in docs/VALIDATION.md).

mod common;

use silos::validate::{self, Tag, ValidateOptions};

#[test]
fn the_registered_facts_meet_the_suites_requirements() {
    let facts = validate::load_facts(None).unwrap();
    assert!(facts.len() >= 15, "{} facts", facts.len());
    // How many facts are emergent is the suite's finding, not a quota; every tag carries
    // its reason.
    for f in &facts {
        assert!(
            matches!(f.tag, Tag::Emergent | Tag::BuiltIn) && !f.tag_reason.trim().is_empty(),
            "{}: a tag and its reason",
            f.id
        );
    }
    for seed in ["000:", "001:", "002:", "003:", "004:"] {
        assert!(
            facts.iter().any(|f| f.source.contains(seed)),
            "no fact from seed {seed}"
        );
    }
    let mut ids: Vec<&str> = facts.iter().map(|f| f.id.as_str()).collect();
    ids.dedup();
    assert_eq!(ids.len(), facts.len(), "fact ids are unique");
    // Every fact's experiment loads and has the arms the fact compares.
    for f in &facts {
        let exp = validate::load_experiment(None, &f.experiment, 2).unwrap();
        assert!(
            exp.arms.iter().any(|a| a.name == f.arm),
            "{}: arm {}",
            f.id,
            f.arm
        );
        assert!(
            exp.arms.iter().any(|a| a.name == f.reference),
            "{}: reference {}",
            f.id,
            f.reference
        );
    }
}

#[test]
fn a_quick_subset_runs_and_reports() {
    // Three replicate seeds, two facts of different kinds (arms and power slope).
    let opts = ValidateOptions {
        replicates: 3,
        only: vec!["V01".into(), "V05".into()],
        threads: Some(2),
        dir: None,
    };
    let results = validate::run(&opts).unwrap();
    assert_eq!(results.len(), 2);
    for r in &results {
        assert_eq!(r.n, 3, "{}: three paired replicates", r.fact.id);
        assert!(
            r.mean.is_finite() && r.ci.0 <= r.mean && r.mean <= r.ci.1,
            "{}: {:?}",
            r.fact.id,
            r.ci
        );
        assert_eq!(r.trajectory.len(), 120);
    }
    let csv = validate::csv(&results);
    assert_eq!(csv.lines().count(), 3);
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .starts_with("id,source,tag,experiment,measure")
    );
    let table = validate::table(&results);
    assert!(table.contains("V01") && table.contains("score:"), "{table}");
    let info = validate::RunInfo {
        version: "test".into(),
        date: "today".into(),
        replicates: 3,
        ticks: 120,
        quick: true,
        charts: "charts".into(),
        chart_ext: None,
    };
    let md = validate::markdown(
        &results,
        &info,
        &[],
        None,
        None,
        Some("## Discussion\n\nhand-written\n"),
    );
    assert!(
        md.contains("| [V01](#v01) |")
            && md.contains("hand-written")
            && md.contains("3 replicate seeds")
    );
}

#[test]
fn morris_screening_runs_on_a_small_arena() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        common::fixture_path("small.toml"),
        dir.path().join("small.toml"),
    )
    .unwrap();
    let f = dir.path().join("s.toml");
    std::fs::write(
        &f,
        "[sensitivity]\nname = \"t\"\nscenario = \"small.toml\"\nbehaviour = \"bp\"\nreplicates = 2\nmaster_seed = 1\n\
         ticks = 12\ntrajectories = 3\noutputs = [\"share_need_met\", \"dumped_share\"]\n\n\
         [[factors]]\npath = \"behaviours.bp.lambda\"\nfrom = 0.2\nto = 1.0\n\n\
         [[factors]]\npath = \"model.hop_limit\"\nfrom = 1.0\nto = 4.0\ninteger = true\n",
    )
    .unwrap();
    let study = validate::sensitivity::Study::from_path(&f).unwrap();
    // Each trajectory moves every factor once, by +/- delta.
    for (points, steps) in study.design() {
        assert_eq!(points.len(), 3);
        let mut moved: Vec<usize> = steps.iter().map(|s| s.0).collect();
        moved.sort();
        assert_eq!(moved, vec![0, 1]);
        assert!(
            points
                .iter()
                .flatten()
                .all(|&x| (-1e-12..=1.0 + 1e-12).contains(&x))
        );
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let eff = study.run(&pool).unwrap();
    assert_eq!(eff.len(), 4, "2 outputs x 2 factors");
    assert!(
        eff.iter()
            .all(|e| e.n == 3 && e.mu_star >= 0.0 && e.mu_star.is_finite())
    );
    let csv = validate::sensitivity::csv(&eff);
    assert!(csv.starts_with("output,factor,mu_star,mu,sigma,n\n"));
    // A bad file says what is wrong.
    std::fs::write(&f, "[sensitivity]\nname = \"t\"\n").unwrap();
    assert!(
        validate::sensitivity::Study::from_path(&f)
            .unwrap_err()
            .to_string()
            .contains("s.toml")
    );
}

/// A run that fails makes its fact "error": the fact is never judged on fewer runs than it
/// says. The behaviour experiment with 2 replicates, one run replaced by a failure.
#[test]
fn a_failed_run_makes_the_fact_an_error_not_a_smaller_sample() {
    let facts = validate::load_facts(None).unwrap();
    let f = facts.iter().find(|f| f.id == "V08").unwrap();
    let exp = validate::load_experiment(None, &f.experiment, 2).unwrap();
    let pool = validate::thread_pool(Some(1)).unwrap();
    let mut runs = validate::run_all(&exp, &pool);
    let ok = validate::judge(f, &exp, &runs).unwrap();
    assert_ne!(ok.verdict, validate::Verdict::Error);
    assert_eq!(ok.n, 2);
    runs[0] = Err("injected failure".to_string());
    let bad = validate::judge(f, &exp, &runs).unwrap();
    assert_eq!(bad.verdict, validate::Verdict::Error);
}
