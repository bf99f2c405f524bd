//! Mechanism tests on hand-built situations: each checks that a decision rule or a model
//! mechanism does what its specification says, on a case built for the purpose. None checks
//! what the model finds across seeds; that is the validation suite's job.

mod common;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use silos::behaviour::{self, CaseView, Triage};
use silos::engine::Simulation;
use silos::model::step::NONE;
use silos::model::{Case, World};
use silos::scenario::{AgendaRule, Family, MAX_DIMENSIONS, MAX_HOPS};

fn case(w: &World, group: &str, entry: &str, needs: &[(&str, f32)]) -> Case {
    let g = w.groups.iter().position(|x| x.name == group).unwrap();
    let e = agency(w, entry);
    let mut c = Case {
        group: g,
        entry: e,
        needs: [0.0; MAX_DIMENSIONS],
        n_needs: 0,
        total_need: 0.0,
        loss_u: [0.5; MAX_HOPS],
        inspect_u: [0.5; MAX_HOPS],
    };
    for (d, v) in needs {
        let k = w.dims.iter().position(|x| x == d).unwrap();
        c.needs[k] = *v;
    }
    c.n_needs = c.needs.iter().filter(|&&x| x > 0.0).count() as u8;
    c.total_need = c.needs.iter().map(|&x| x as f64).sum();
    c
}

fn agency(w: &World, name: &str) -> usize {
    w.agencies.iter().position(|a| a.name == name).unwrap()
}

fn view(c: &Case) -> CaseView<'_> {
    CaseView {
        case: c,
        held: 1u128 << c.entry,
        from: None,
        hops: 0,
        can_refer: true,
    }
}

/// A world at the start of a tick: staff time open, nothing earmarked.
fn fresh(s: &silos::scenario::Scenario, families: &[Family]) -> Simulation {
    let mut sim = Simulation::with_families(s, 1, families);
    sim.world.open_staff_time();
    sim
}

#[test]
fn bp_refers_a_case_outside_its_targets_that_ra_serves() {
    let s = common::fixture("routing.toml");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    // The hostel fits a housing-only case perfectly, but offenders are not in its targets.
    for (family, expect_accept) in [
        (Family::Ra, true),
        (Family::RaBounded, true),
        (Family::Bp, false),
    ] {
        let fams = [family; 4];
        let sim = fresh(&s, &fams);
        let w = &sim.world;
        let hostel = agency(w, "hostel");
        let c = case(w, "offenders", "hostel", &[("housing", 1.0)]);
        let rule = behaviour::build(family, &s.behaviours);
        let d = rule.triage(w, hostel, &view(&c), &mut rng);
        if expect_accept {
            assert_eq!(
                d,
                Triage::Accept,
                "{family:?} should serve the case it fits best"
            );
        } else {
            assert!(
                matches!(d, Triage::Refer(_)),
                "{family:?} should pass on a case outside its targets, got {d:?}"
            );
        }
        // The same hostel, the same rule, a case of its own target group: kept by all.
        let own = case(w, "families", "hostel", &[("housing", 1.0)]);
        assert_eq!(
            rule.triage(w, hostel, &view(&own), &mut rng),
            Triage::Accept,
            "{family:?}"
        );
    }
}

#[test]
fn synoptic_routing_picks_the_best_matched_agency_with_capacity() {
    let s = common::fixture("routing.toml");
    let mut sim = fresh(&s, &[Family::Ra; 4]);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (advice, rsl, hostel) = (
        agency(&sim.world, "advice"),
        agency(&sim.world, "rsl"),
        agency(&sim.world, "hostel"),
    );
    let c = case(&sim.world, "offenders", "advice", &[("housing", 1.0)]);
    let rule = behaviour::build(Family::Ra, &s.behaviours);
    assert_eq!(
        rule.triage(&sim.world, advice, &view(&c), &mut rng),
        Triage::Refer(hostel)
    );
    // With the hostel out of staff time, the next best (rsl) is chosen.
    sim.world.agencies[hostel].flex = 0.0;
    assert_eq!(
        rule.triage(&sim.world, advice, &view(&c), &mut rng),
        Triage::Refer(rsl)
    );
    // Once nobody better can be referred to, the holder keeps it.
    let mut v = view(&c);
    v.held |= (1u128 << hostel) | (1u128 << rsl);
    assert_eq!(
        rule.triage(&sim.world, advice, &v, &mut rng),
        Triage::Accept
    );
}

/// With no referrals allowed (hop limit 0), a pure-BP housing department keeps only what
/// suits it and declines the rest; a statutory duty toward a group turns its declines of that
/// group into acceptance (001:156). Whole runs of 12 ticks, seed 8.
#[test]
fn a_statutory_duty_means_the_case_is_accepted_whatever_the_rule() {
    let mut s = common::fixture("small.toml");
    s.model.hop_limit = 0;
    let h = s.agencies.iter().position(|a| a.name == "housing").unwrap();
    let ex = s
        .groups
        .iter()
        .position(|g| g.name == "ex_offenders")
        .unwrap();
    let count = |s: &silos::scenario::Scenario| {
        let mut sim = Simulation::new(
            s,
            8,
            silos::engine::BehaviourChoice::All(Family::Bp),
        );
        let (mut entered, mut led) = (0u64, 0u64);
        for _ in 0..12 {
            sim.step().unwrap();
            entered += sim.world.cases.iter().filter(|c| c.entry == h).count() as u64;
            led += sim.world.tally.agencies[h].cases_led;
        }
        (entered, led)
    };
    s.agencies[h].duties[ex] = false;
    let (entered, led_without) = count(&s);
    assert!(
        led_without < entered,
        "without the duty some ex-offenders are declined ({led_without} of {entered})"
    );
    s.agencies[h].duties[ex] = true;
    let (entered2, led_with) = count(&s);
    assert_eq!(entered, entered2, "same arrivals");
    assert_eq!(
        led_with, entered,
        "with duties toward both groups housing takes every case that reaches it"
    );
}

#[test]
fn power_weighted_agendas_favour_the_most_powerful_member() {
    let s = common::fixture("small.toml");
    let mut sim = Simulation::with_families(&s, 1, &[Family::Bp; 4]);
    let w = &mut sim.world;
    let m = w.mechanisms.iter().position(|m| m.name == "forum").unwrap();
    let ex = w
        .groups
        .iter()
        .position(|g| g.name == "ex_offenders")
        .unwrap();
    let fam = w.groups.iter().position(|g| g.name == "families").unwrap();
    let (housing, probation) = (agency(w, "housing"), agency(w, "probation"));
    w.mechanisms[m].host = Some(housing);
    w.mechanisms[m].members = 0b1111;
    let rules: Vec<_> = (0..4)
        .map(|_| behaviour::build(Family::Bp, &s.behaviours))
        .collect();
    let mut scratch = silos::model::step::Scratch::new(w);

    let agenda_with =
        |w: &mut World, rule: AgendaRule, top: usize, scratch: &mut silos::model::step::Scratch| {
            w.mechanisms[m].agenda_rule = rule;
            for (i, a) in w.agencies.iter_mut().enumerate() {
                a.power = if i == top { 0.9 } else { 0.2 };
            }
            w.agenda(m, &rules, scratch);
            w.mechanisms[m].agenda.clone()
        };
    // Probation (targets: ex-offenders only, a small group) most powerful.
    let power_probation = agenda_with(w, AgendaRule::PowerWeighted, probation, &mut scratch);
    let equal = agenda_with(w, AgendaRule::EqualVotes, probation, &mut scratch);
    // Housing (targets: families only) most powerful.
    let power_housing = agenda_with(w, AgendaRule::PowerWeighted, housing, &mut scratch);
    assert!(
        power_probation[ex] > power_probation[fam],
        "{power_probation:?}"
    );
    assert!(
        power_probation[ex] > equal[ex],
        "power {power_probation:?} equal {equal:?}"
    );
    assert!(power_housing[fam] > power_housing[ex], "{power_housing:?}");
    for a in [&power_probation, &equal, &power_housing] {
        assert!((a.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
    // The need-weighted rule ignores bids and power.
    w.mechanisms[m].agenda_rule = AgendaRule::NeedWeighted;
    w.agenda(m, &rules, &mut scratch);
    let need: Vec<f64> = w.groups.iter().map(|g| g.need_share).collect();
    assert_eq!(w.mechanisms[m].agenda, need);
}

/// Hosting costs each candidate more than its own share of what the forum adds. Pure
/// bureaucratic-politics agencies (lambda = 1) then wait for someone else (the volunteer's
/// dilemma); synoptic agencies host, because the forum pays for the system. 400 polls of all
/// four candidates, each poll with fresh draws from the candidates' own streams.
#[test]
fn without_reimbursement_bp_agencies_host_less_than_ra_ones() {
    let s = common::fixture("hosting.toml");
    let polls = 400;
    let mut hosted = [0u32; 2];
    for (k, family) in [Family::Ra, Family::Bp]
        .into_iter()
        .enumerate()
    {
        let sim = fresh(&s, &[family; 4]);
        let w = &sim.world;
        let rule = behaviour::build(family, &s.behaviours);
        assert!(
            w.mechanisms[0].value > w.host_cost(0),
            "fixture: the forum is worth its cost to the system"
        );
        assert!(
            behaviour_share(w) < w.host_cost(0),
            "fixture: each candidate's own share is below the host cost"
        );
        let mut rngs: Vec<ChaCha8Rng> = (0..4).map(|i| silos::rng::agency_stream(7, i)).collect();
        for _ in 0..polls {
            if (0..4).any(|i| rule.volunteer_to_host(w, i, 0, &mut rngs[i])) {
                hosted[k] += 1;
            }
        }
    }
    assert_eq!(
        hosted[0], polls,
        "a synoptic arena always finds its best host"
    );
    assert!(
        hosted[1] < polls / 2,
        "pure BP found a host in {} of {polls} polls",
        hosted[1]
    );
}

fn behaviour_share(w: &World) -> f64 {
    w.mechanisms[0].value / w.mechanisms[0].candidates.len() as f64
}

#[test]
fn multi_need_cases_served_jointly_get_more_need_met_than_unjoined() {
    let s = common::fixture("small.toml");
    let mut sim = fresh(&s, &[Family::Ra; 4]);
    let w = &mut sim.world;
    let (housing, probation) = (agency(w, "housing"), agency(w, "probation"));
    let c = case(
        w,
        "ex_offenders",
        "housing",
        &[("housing", 1.0), ("offending", 1.0)],
    );
    let mut server = [NONE; MAX_DIMENSIONS];
    let mut level = [0.0; MAX_DIMENSIONS];
    let (hd, od) = (0, 2);
    server[hd] = housing as u8;
    server[od] = probation as u8;
    level[hd] = 1.0;
    level[od] = 1.0;

    let unjoined = w.joined_need_met(&c, housing, &server, &level);
    let frag = w.params.fragmentation_penalty;
    assert!((unjoined.met - (1.0 - frag)).abs() < 1e-12, "{unjoined:?}");
    assert_eq!(unjoined.partners, 1);

    // Joined by shared knowledge.
    let n = w.n_agencies();
    w.knowledge[housing * n + probation] = 1.0;
    w.knowledge[probation * n + housing] = 1.0;
    let by_knowledge = w.joined_need_met(&c, housing, &server, &level);
    assert!((by_knowledge.met - 1.0).abs() < 1e-12);
    assert_eq!(by_knowledge.credited, None);

    // Joined by a live protocol of full depth instead.
    w.knowledge.fill(0.0);
    let p = w
        .mechanisms
        .iter()
        .position(|m| m.name == "protocol")
        .unwrap();
    w.mechanisms[p].host = Some(housing);
    w.mechanisms[p].members = (1u128 << housing) | (1u128 << probation);
    w.mechanisms[p].depth = 1.0;
    let by_protocol = w.joined_need_met(&c, housing, &server, &level);
    assert!(by_protocol.met > unjoined.met);
    assert_eq!(by_protocol.credited, Some(p));
    assert!(
        by_protocol.met_knowledge_only < by_protocol.met,
        "the gain is credited to the protocol"
    );

    // A single-need case served by one agency pays no fragmentation penalty.
    let single = case(w, "families", "housing", &[("housing", 1.0)]);
    let mut server1 = [NONE; MAX_DIMENSIONS];
    server1[hd] = housing as u8;
    assert_eq!(
        w.joined_need_met(&single, housing, &server1, &level).met,
        1.0
    );

    // Complementarity: leaving one of two needs unserved costs more than half the value.
    let mut half = server;
    half[od] = NONE;
    let mut half_level = level;
    half_level[od] = 0.0;
    let one_of_two = w.joined_need_met(&c, housing, &half, &half_level);
    assert!(one_of_two.met < 0.5, "{one_of_two:?}");
}

#[test]
fn bounded_aspiration_follows_achievement() {
    let s = common::fixture("small.toml");
    let rule = behaviour::build(Family::RaBounded, &s.behaviours);
    let mut st = silos::model::RuleState {
        aspiration: 0.5,
        achieved: 0.9,
    };
    rule.learn(&mut st);
    assert!(st.aspiration > 0.5 && st.aspiration < 0.9);
    let mut st = silos::model::RuleState {
        aspiration: 0.5,
        achieved: 0.1,
    };
    rule.learn(&mut st);
    assert!(st.aspiration < 0.5);
    let mut st = silos::model::RuleState {
        aspiration: 0.5,
        achieved: f64::NAN,
    };
    rule.learn(&mut st);
    assert_eq!(st.aspiration, 0.5, "no cases, no update");
}

#[test]
fn bp_contributions_respond_to_partners_contributions() {
    let s = common::fixture("small.toml");
    let mut sim = Simulation::with_families(&s, 1, &[Family::Bp; 4]);
    let w = &mut sim.world;
    let m = w.mechanisms.iter().position(|m| m.name == "pool").unwrap();
    let (housing, health) = (agency(w, "housing"), agency(w, "health"));
    w.mechanisms[m].host = Some(housing);
    w.mechanisms[m].members = (1u128 << housing) | (1u128 << health);
    let bp = behaviour::build(Family::Bp, &s.behaviours);
    let ra = behaviour::build(Family::Ra, &s.behaviours);
    let fair = w.mechanisms[m].pool_share * w.agencies[housing].income;
    w.mechanisms[m].contrib_ratio[health] = 1.0;
    let after_full = bp.contribution(w, housing, m);
    w.mechanisms[m].contrib_ratio[health] = 0.0;
    let after_none = bp.contribution(w, housing, m);
    assert!(
        after_none < after_full,
        "reciprocity: {after_none} vs {after_full}"
    );
    assert!(after_full <= fair + 1e-12);
    assert_eq!(
        ra.contribution(w, housing, m),
        fair,
        "RA pays its fair share regardless"
    );
}
