//! Every lever is wired as built: each test pulls one lever on a small arena
//! (`tests/fixtures/levers.toml`) and checks that it moves the state it acts on, over the
//! seeds it states. These check wiring only. Whether a lever changes behaviour, or improves
//! client outcomes, is for users and the validation suite to measure; no test here asserts it.

mod common;

use silos::engine::{self, BehaviourChoice, NoObserver, Simulation};
use silos::overrides::Override;
use silos::scenario::{Family, Scenario};

const SEEDS: [u64; 5] = [1, 2, 3, 4, 5];

fn arena(sets: &[&str]) -> Scenario {
    let text = std::fs::read_to_string(common::fixture_path("levers.toml")).unwrap();
    let o: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    Scenario::from_toml_str_with(&text, "levers.toml", &o).unwrap_or_else(|e| panic!("{e}"))
}

fn idx(s: &Scenario, name: &str) -> usize {
    s.agencies.iter().position(|a| a.name == name).unwrap()
}

fn mech(s: &Scenario, name: &str) -> usize {
    s.mechanisms.iter().position(|m| m.name == name).unwrap()
}

/// Step a run tick by tick, calling `check` after each (invariants are checked by `step`).
fn each_tick(
    s: &Scenario,
    seed: u64,
    family: Family,
    ticks: u32,
    mut check: impl FnMut(&Simulation),
) {
    let mut sim = Simulation::new(s, seed, BehaviourChoice::All(family));
    for _ in 0..ticks {
        sim.step().expect("invariants hold");
        check(&sim);
    }
}

#[test]
fn defaults_change_nothing() {
    // A scenario with every lever written at its default gives the same run, byte for byte
    // in the observables, as the scenario without the tables.
    let base = arena(&[]);
    let explicit = arena(&[
        "levers.pooled_budget_share=0",
        "levers.shared_target_weight=0",
        "levers.duty_to_cooperate={ mandate = false, enforcement = 0, sanction = 0, cost = 0 }",
        "levers.host_reimbursement=0",
        "levers.referral_inspection={ detection = 0, charge = 0, cost = 0 }",
        "levers.funding_mode=formula",
        "levers.budget_rule=formula",
        "levers.prices=[]",
        "levers.sanctions={ fine = 0, cost = 0 }",
        "levers.control=0",
        "levers.steer={ convene = [], joint_plan = false }",
        "levers.forum_rule=scenario",
        "levers.mandate_information_sharing=false",
        "levers.accountability=output",
        "levers.blame=1",
        "levers.initiatives=0",
        "levers.cascade=1",
        "levers.salience_pressure=0",
        "centre.funder_target_weight=0",
    ]);
    for seed in SEEDS {
        let a = common::run(&base, seed, BehaviourChoice::Mixed, 24);
        let b = common::run(&explicit, seed, BehaviourChoice::Mixed, 24);
        for o in silos::metrics::TICK {
            let (x, y) = ((o.value)(&a.world), (o.value)(&b.world));
            assert!(
                x == y || (x.is_nan() && y.is_nan()),
                "{}: {x} vs {y}",
                o.name
            );
        }
    }
}

#[test]
fn host_reimbursement_lowers_the_hosts_net_cost() {
    // 5 seeds x 24 ticks, all bureaucratic politics: every tick, what the centre pays a host
    // is the reimbursed share of the host's cost of each mechanism it hosts.
    for r in [0.0, 0.5, 1.0] {
        let s = arena(&[&format!("levers.host_reimbursement={r}")]);
        for seed in SEEDS {
            each_tick(&s, seed, Family::Bp, 24, |sim| {
                let w = &sim.world;
                for (i, t) in w.tally.agencies.iter().enumerate() {
                    let due: f64 = w
                        .mechanisms
                        .iter()
                        .filter(|m| m.host == Some(i))
                        .map(|m| r * (m.host_money + m.host_staff * w.staff_value))
                        .sum();
                    assert!(
                        (t.reimbursed - due).abs() < 1e-5,
                        "r {r}: agency {i} got {} due {due}",
                        t.reimbursed
                    );
                }
            });
        }
    }
}

#[test]
fn referral_inspection_bills_the_sender_and_pays_the_receiver() {
    // Detection 1: every dumped referral is detected and charged 3 (senders can pay here).
    let s = arena(&["levers.referral_inspection={ detection = 1.0, charge = 3.0, cost = 0.1 }"]);
    let mut detected = 0;
    for seed in SEEDS {
        each_tick(&s, seed, Family::Bp, 24, |sim| {
            let w = &sim.world;
            let paid: f64 = w.tally.agencies.iter().map(|a| a.charges_paid).sum();
            let received: f64 = w.tally.agencies.iter().map(|a| a.charges_received).sum();
            assert!((paid - received).abs() < 1e-9);
            assert_eq!(
                w.tally.dumping_detected, w.tally.all.dumped,
                "detection 1 catches every dumped referral"
            );
            assert!(paid <= 3.0 * w.tally.dumping_detected as f64 + 1e-9);
            assert!((w.tally.inspection_cost - 0.1 * w.tally.all.referrals as f64).abs() < 1e-6);
            detected += w.tally.dumping_detected;
        });
    }
    assert!(detected > 0, "the test saw dumping to charge");
    // Off: nothing is inspected or charged.
    let s = arena(&[]);
    each_tick(&s, 1, Family::Bp, 24, |sim| {
        assert_eq!(sim.world.tally.inspections, 0);
        assert!(
            sim.world
                .tally
                .agencies
                .iter()
                .all(|a| a.charges_paid == 0.0)
        );
    });
}

/// A charge larger than senders hold: each pays what it can, and the rest is recorded in
/// `charges_unpaid`, so paid + unpaid is exactly the charges levied (nothing is lost).
#[test]
fn charges_a_sender_cannot_pay_are_recorded_as_unpaid() {
    let charge = 1.0e5;
    let s = arena(&[&format!(
        "levers.referral_inspection={{ detection = 1.0, charge = {charge}, cost = 0.0 }}"
    )]);
    let mut unpaid_seen = 0.0;
    for seed in SEEDS {
        each_tick(&s, seed, Family::Bp, 24, |sim| {
            let w = &sim.world;
            let paid: f64 = w.tally.agencies.iter().map(|a| a.charges_paid).sum();
            let unpaid: f64 = w.tally.agencies.iter().map(|a| a.charges_unpaid).sum();
            let levied = charge * w.tally.dumping_detected as f64;
            assert!(
                (paid + unpaid - levied).abs() < 1e-6 * levied.max(1.0),
                "paid {paid} + unpaid {unpaid} != levied {levied}"
            );
            unpaid_seen += unpaid;
        });
    }
    assert!(unpaid_seen > 0.0, "no sender could pay 100,000 k GBP");
}

#[test]
fn pooled_budgets_move_a_share_of_every_members_income_into_the_fund() {
    let s = arena(&["levers.pooled_budget_share=0.05"]);
    let pool = mech(&s, "pool");
    for seed in SEEDS {
        each_tick(&s, seed, Family::Bp, 24, |sim| {
            let w = &sim.world;
            let m = &w.mechanisms[pool];
            assert!(m.alive(), "a mandated pool is kept hosted");
            for &c in &m.candidates {
                assert!(m.is_member(c), "every candidate is a member");
                let moved = w.tally.agencies[c].pooled_mandated;
                assert!(
                    (moved - 0.05 * w.agencies[c].income).abs() < 1e-5,
                    "moved {moved}"
                );
            }
        });
    }
}

#[test]
fn shared_targets_blend_need_shares_into_every_agencys_targets() {
    let base = arena(&[]);
    let s = arena(&["levers.shared_target_weight=0.4"]);
    let sim0 = Simulation::new(&base, 1, BehaviourChoice::Mixed);
    let sim = Simulation::new(&s, 1, BehaviourChoice::Mixed);
    for (a0, a) in sim0.world.agencies.iter().zip(&sim.world.agencies) {
        for (g, grp) in sim.world.groups.iter().enumerate() {
            let own = a0.targets[g];
            let has_own = a0.targets.iter().sum::<f64>() > 0.0;
            let want = if has_own {
                0.6 * own + 0.4 * grp.need_share
            } else {
                0.4 * grp.need_share
            };
            assert!((a.targets[g] - want).abs() < 1e-12);
        }
    }
}

#[test]
fn a_duty_to_cooperate_sanctions_detected_breaches() {
    let s = arena(&[
        "levers.duty_to_cooperate={ mandate = true, enforcement = 1.0, sanction = 2.0, cost = 0.05 }",
    ]);
    let mut breaches = 0;
    for seed in SEEDS {
        each_tick(&s, seed, Family::Bp, 24, |sim| {
            let w = &sim.world;
            for a in &w.tally.agencies {
                assert_eq!(
                    a.breaches, a.breaches_detected,
                    "enforcement 1 detects every breach"
                );
                assert!(a.sanctions <= 2.0 * a.breaches_detected as f64 + 1e-9);
                breaches += a.breaches;
            }
            // Checking costs the centre for every candidate of every live mechanism.
            let checked: usize = w
                .mechanisms
                .iter()
                .filter(|m| m.alive())
                .map(|m| m.candidates.len() - 1)
                .sum();
            assert!((w.tally.enforcement_cost - 0.05 * checked as f64).abs() < 1e-6);
        });
    }
    assert!(
        breaches > 0,
        "bureaucratic-politics agencies breached the duty at least once"
    );
    let s =
        arena(&["levers.duty_to_cooperate={ mandate = true, enforcement = 0.0, sanction = 2.0 }"]);
    each_tick(&s, 1, Family::Bp, 24, |sim| {
        assert!(
            sim.world
                .tally
                .agencies
                .iter()
                .all(|a| a.sanctions == 0.0 && a.breaches_detected == 0)
        );
    });
}

#[test]
fn competitive_funding_and_tenders_reallocate_the_contestable_share() {
    let housing = idx(&arena(&[]), "housing");
    for mode in ["competitive", "tender"] {
        let s = arena(&[
            &format!("levers.funding_mode={mode}"),
            "centre.funding_period=6",
        ]);
        let (dc, hostel) = (idx(&s, "day_centre"), idx(&s, "hostel"));
        let base = s.agencies[dc].income + s.agencies[hostel].income;
        for seed in SEEDS {
            each_tick(&s, seed, Family::Bp, 24, |sim| {
                let w = &sim.world;
                let (a, b) = (&w.agencies[dc], &w.agencies[hostel]);
                assert!(
                    (a.income + b.income - base).abs() < 1e-9,
                    "the pot is shared out, not grown"
                );
                assert!(
                    a.income >= 0.7 * a.base_income - 1e-9
                        && b.income >= 0.7 * b.base_income - 1e-9
                );
                if (w.tick - 1) % 6 == 0 {
                    assert_eq!(w.tally.agencies[dc].bids, 1, "bids are written in a round");
                    assert!(w.tally.agencies[dc].staff_levers >= 3.0 - 1e-9);
                } else {
                    assert_eq!(w.tally.agencies[dc].bids, 0);
                }
                if mode == "tender" {
                    let winner = (a.income - a.base_income).abs() > 1e-9
                        || (b.income - b.base_income).abs() > 1e-9;
                    assert!(winner, "a tender changes incomes");
                }
                // The funder pays what it owes (its account pays the providers).
                assert!(w.tally.agencies[housing].income >= 0.0);
            });
        }
    }
}

#[test]
fn central_control_and_the_cascade_take_staff_time_and_bind_targets() {
    let s = arena(&["levers.control=0.5", "levers.cascade=17"]);
    let extra = 17f64.powf(0.3) + 0.5 - 1.0;
    for seed in SEEDS {
        // Synoptic agencies earmark nothing themselves; control imposes a floor.
        let mut sim = Simulation::new(&s, seed, BehaviourChoice::All(Family::Ra));
        sim.begin_tick_for_inspection();
        let w = &sim.world;
        for (i, a) in w.agencies.iter().enumerate() {
            // Departments that take no cases carry no cascade (003:82 is about the front line).
            let want = if a.serves_cases {
                a.staff * a.reporting_share * extra
            } else {
                0.0
            };
            let took = w.tally.agencies[i].staff_levers;
            assert!(
                (took - want.min(a.staff * (1.0 - a.reporting_share))).abs() < 1e-6,
                "{}: {took} vs {want}",
                a.name
            );
            let open = a.flex + a.earmark.iter().sum::<f64>();
            for (g, t) in a.effective_targets.iter().enumerate() {
                assert!(
                    a.earmark[g] >= 0.5 * t * open - 1e-9,
                    "{}: earmark below the control floor",
                    a.name
                );
            }
        }
    }
}

#[test]
fn a_central_steer_convenes_names_the_host_and_requires_a_joint_plan() {
    let s =
        arena(&["levers.steer={ convene = [\"forum\"], host = \"health\", joint_plan = true }"]);
    let (forum, health) = (mech(&s, "forum"), idx(&s, "health"));
    for seed in SEEDS {
        each_tick(&s, seed, Family::Bp, 12, |sim| {
            let w = &sim.world;
            let m = &w.mechanisms[forum];
            assert_eq!(
                m.host,
                Some(health),
                "the named host hosts from the first tick"
            );
            for &c in &m.candidates {
                assert!(m.is_member(c));
                assert!(
                    w.tally.agencies[c].staff_levers >= 1.0 - 1e-9,
                    "the plan takes staff time"
                );
            }
        });
    }
}

#[test]
fn forum_rules_set_the_agenda() {
    let forum = mech(&arena(&[]), "forum");
    // Need-weighted: the agenda is the need shares.
    let s = arena(&[
        "levers.forum_rule=need_weighted",
        "levers.steer={ convene = [\"forum\"] }",
    ]);
    each_tick(&s, 1, Family::Bp, 6, |sim| {
        let w = &sim.world;
        let need: Vec<f64> = w.groups.iter().map(|g| g.need_share).collect();
        assert_eq!(w.mechanisms[forum].agenda, need);
    });
    // Rotating chair: each tick the agenda is one member's bid, and the chair moves on, so
    // with members bidding for different groups the agenda changes from tick to tick.
    let s = arena(&[
        "levers.forum_rule=rotating_chair",
        "levers.steer={ convene = [\"forum\"], joint_plan = true }",
    ]);
    let mut agendas = Vec::new();
    each_tick(&s, 1, Family::Bp, 5, |sim| {
        agendas.push(sim.world.mechanisms[forum].agenda.clone())
    });
    assert!(agendas.windows(2).any(|p| p[0] != p[1]), "{agendas:?}");
    for a in &agendas {
        assert!((a.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
}

#[test]
fn mandated_information_sharing_makes_every_candidate_a_protocol_member() {
    let s = arena(&["levers.mandate_information_sharing=true"]);
    let p = mech(&s, "protocol");
    for seed in SEEDS {
        each_tick(&s, seed, Family::Bp, 12, |sim| {
            let m = &sim.world.mechanisms[p];
            assert!(m.alive());
            assert!(m.candidates.iter().all(|&c| m.is_member(c)));
        });
    }
}

#[test]
fn outcome_accountability_leaves_no_favourable_measure_to_report() {
    // With no inspection (detection 0) bureaucratic-politics agencies report the favourable
    // measure when it is higher; under outcome accountability there is none.
    let output = arena(&["model.detection_rate=0"]);
    let outcome = arena(&["model.detection_rate=0", "levers.accountability=outcome"]);
    let mut gamed = 0;
    for seed in SEEDS {
        each_tick(&output, seed, Family::Bp, 24, |sim| {
            gamed += sim
                .world
                .tally
                .agencies
                .iter()
                .filter(|a| a.reported_attainment > a.true_attainment + 1e-12)
                .count();
        });
        each_tick(&outcome, seed, Family::Bp, 24, |sim| {
            for a in &sim.world.tally.agencies {
                assert!(a.reported_attainment == a.true_attainment || a.true_attainment.is_nan());
            }
        });
    }
    assert!(
        gamed > 0,
        "under output accountability some report was gamed, so the comparison is not vacuous"
    );
}

#[test]
fn the_blame_lever_scales_the_cost_of_being_caught() {
    // The rule's reporting choice: at blame 0 gaming costs nothing and the favourable figure
    // is reported; at a heavy blame culture the true one is.
    for (blame, expect_favourable) in [(0.0, true), (50.0, false)] {
        let s = arena(&[&format!("levers.blame={blame}")]);
        let sim = Simulation::new(&s, 1, BehaviourChoice::All(Family::Bp));
        let r = sim.rules()[idx(&s, "housing")].report(&sim.world, idx(&s, "housing"), 0.3, 0.6);
        assert_eq!(r == 0.6, expect_favourable, "blame {blame}: reported {r}");
    }
    // And the legitimacy lost on detection scales with it: with detection certain and blame
    // 0, no agency ever loses legitimacy.
    let s = arena(&["levers.blame=0", "model.detection_rate=1"]);
    each_tick(&s, 1, Family::Bp, 24, |sim| {
        for a in &sim.world.agencies {
            assert!(a.legitimacy >= a.legitimacy_base - 1e-12);
        }
    });
}

#[test]
fn initiatives_take_staff_time_and_pull_targets_toward_their_groups() {
    let s = arena(&["levers.initiatives=3", "centre.initiative_weight=0.2"]);
    for seed in SEEDS {
        let mut sim = Simulation::new(&s, seed, BehaviourChoice::All(Family::Ra));
        sim.begin_tick_for_inspection();
        let w = &sim.world;
        assert_eq!(w.initiatives.len(), 3);
        for (i, a) in w.agencies.iter().enumerate() {
            let took = w.tally.agencies[i].staff_levers;
            if a.serves_cases {
                assert!((took - 3.0f64.min(a.staff * (1.0 - a.reporting_share))).abs() < 1e-9);
                // Each initiative's group gets at least its pull in the effective targets.
                for &(g, _) in &w.initiatives {
                    assert!(
                        a.effective_targets[g] >= 0.2 * 0.8f64.powi(2) - 1e-12,
                        "{}",
                        a.name
                    );
                }
            } else {
                assert_eq!(took, 0.0);
            }
        }
    }
    // Initiatives turn over on schedule, from the centre's own stream: the same seed gives
    // the same initiatives whatever the agencies do.
    let mut seen = Vec::new();
    for family in [Family::Ra, Family::Bp] {
        let mut sim = Simulation::new(&s, 9, BehaviourChoice::All(family));
        engine::run(&mut sim, 30, &mut NoObserver).unwrap();
        seen.push(sim.world.initiatives.clone());
    }
    assert_eq!(seen[0], seen[1]);
}

#[test]
fn salience_pressure_and_the_funding_cascade_move_targets_down_the_line() {
    // Raise the salience of the Home Office's group; CLG's targets move toward the Home
    // Office's, and with the funding-line cascade, so do housing's (CLG funds housing).
    let s = arena(&[
        "levers.salience_pressure=2.0",
        "centre.funder_target_weight=0.5",
        "model.shock_rate=0",
    ]);
    let (clg, housing) = (idx(&s, "clg"), idx(&s, "housing"));
    let ex = s
        .groups
        .iter()
        .position(|g| g.name == "ex_offenders")
        .unwrap();
    let mut sim = Simulation::new(&s, 1, BehaviourChoice::All(Family::Bp));
    sim.world.groups[ex].salience += 1.0;
    sim.begin_tick_for_inspection();
    let w = &sim.world;
    assert!(
        w.agencies[clg].effective_targets[ex] > 0.0,
        "CLG diverted toward ex-offenders"
    );
    assert!(
        w.agencies[housing].effective_targets[ex] > 0.0,
        "and the cascade carries it to housing"
    );
    // Without the shock there is no pressure, and CLG's targets stay its own.
    let mut sim = Simulation::new(&s, 1, BehaviourChoice::All(Family::Bp));
    sim.begin_tick_for_inspection();
    assert_eq!(sim.world.agencies[clg].effective_targets[ex], 0.0);
}

#[test]
fn levers_apply_only_within_their_window() {
    // Reimbursement and a shared target from tick 5 to tick 10: outside the window the
    // centre pays nothing and targets are the agencies' own.
    let s = arena(&[
        "levers.host_reimbursement=1",
        "levers.shared_target_weight=0.5",
        "levers.active_from=5",
        "levers.active_until=10",
    ]);
    for seed in SEEDS {
        each_tick(&s, seed, Family::Ra, 16, |sim| {
            let w = &sim.world;
            let inside = (5..=10).contains(&w.tick);
            let paid: f64 = w.tally.agencies.iter().map(|a| a.reimbursed).sum();
            let hosted = w.mechanisms.iter().any(|m| m.alive());
            assert_eq!(paid > 0.0, inside && hosted, "tick {}", w.tick);
            for a in &w.agencies {
                assert_eq!(
                    a.targets == a.own_targets,
                    !inside,
                    "{} at tick {}",
                    a.name,
                    w.tick
                );
            }
        });
    }
    let err = Scenario::from_toml_str_with(
        &std::fs::read_to_string(common::fixture_path("levers.toml")).unwrap(),
        "levers.toml",
        &[
            Override::parse("levers.active_from=9").unwrap(),
            Override::parse("levers.active_until=3").unwrap(),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("levers.active_until") && err.contains(">= levers.active_from"),
        "{err}"
    );
}

/// Budget rounds: every 12 ticks centre-funded agencies in casework bid, and the centre
/// shares their formula envelope by the rule. The envelope is conserved; under bargaining a
/// bidder's standing moves money toward it; under the formula rule nothing changes. Seeds
/// 1-5, 25 ticks (three rounds).
#[test]
fn budget_rounds_share_a_fixed_envelope_by_bids() {
    for rule in ["bargaining", "competition"] {
        let s = arena(&[&format!("levers.budget_rule={rule}")]);
        let n = s.agencies.len();
        let envelope: f64 = s.agencies.iter().map(|a| a.income).sum();
        for seed in SEEDS {
            let mut moved = false;
            each_tick(&s, seed, Family::Bp, 25, |sim| {
                let w = &sim.world;
                let total: f64 = w.agencies.iter().map(|a| a.budget).sum();
                assert!(
                    (total - envelope).abs() < 1e-6 * envelope,
                    "{rule}: {total} vs {envelope}"
                );
                if w.tick == 1 || w.tick == 13 {
                    assert!(
                        (0..n)
                            .filter(|&i| w.agencies[i].serves_cases)
                            .all(|i| w.tally.agencies[i].budget_bid > 0.0),
                        "every agency in casework bids"
                    );
                }
                moved |= w
                    .agencies
                    .iter()
                    .any(|a| (a.budget - a.base_income).abs() > 1e-9);
            });
            assert!(moved, "{rule} seed {seed}: bids moved some budget");
        }
    }
    let s = arena(&[]);
    each_tick(&s, 1, Family::Bp, 25, |sim| {
        assert!(sim.world.agencies.iter().all(|a| a.budget == a.base_income));
    });
}
