//! Decision and mechanism tests on hand-built situations: each checks that one decision of
//! the common choice procedure, or one model mechanism, does what its specification says
//! (docs/ODD.md 7), on a case built for the purpose. None checks what the model finds
//! across seeds; that is the validation suite's job.

mod common;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use silos::behaviour::{self, CaseView, LeadMemo, PartnerQuery, Triage};
use silos::engine::{BehaviourChoice, Simulation};
use silos::levers::{Price, PriceOn};
use silos::model::step::NONE;
use silos::model::{Case, Sink, World};
use silos::scenario::{AgendaRule, Dist, Family, MAX_DIMENSIONS, MAX_HOPS, Scenario};

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

/// Make exactly these agencies members.
fn set_members(m: &mut silos::model::AgentSet, who: &[usize]) {
    m.clear();
    for &i in who {
        m.insert(i);
    }
}

fn mech(w: &World, name: &str) -> usize {
    w.mechanisms.iter().position(|m| m.name == name).unwrap()
}

/// A case at its entry agency, as the engine shows it: with a memo cleared for the case
/// (so a view taken after changing the world sees the change).
fn view<'a>(c: &'a Case, memo: &'a LeadMemo) -> CaseView<'a> {
    memo.clear();
    CaseView {
        case: c,
        held: silos::behaviour::Held::new(c.entry),
        from: None,
        hops: 0,
        can_refer: true,
        memo,
    }
}

/// A world at the start of a tick: staff time open, nothing earmarked, caches fresh.
fn fresh(s: &Scenario, families: &[Family]) -> Simulation {
    let mut sim = Simulation::with_families(s, 1, families);
    sim.world.open_staff_time();
    sim.world.refresh_caches();
    sim
}

/// Set every agency's dispositions by hand, so a test does not depend on the draws.
fn dispose(w: &mut World, lambda: f64, reciprocity: f64) {
    for a in &mut w.agencies {
        a.disp.lambda = lambda;
        a.disp.altruism = 0.0;
        a.disp.reciprocity = reciprocity;
        a.disp.risk_aversion = 0.5;
    }
}

#[test]
fn an_agency_weighing_its_own_targets_passes_on_a_case_the_shared_objective_keeps() {
    let memo = LeadMemo::new(256);
    let s = common::fixture("routing.toml");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    // The hostel fits a housing-only case perfectly, but offenders are not in its targets.
    for (lambda, expect_accept) in [(0.0, true), (1.0, false)] {
        let mut sim = fresh(&s, &[Family::Bp; 4]);
        dispose(&mut sim.world, lambda, 0.0);
        let w = &sim.world;
        let hostel = agency(w, "hostel");
        let c = case(w, "offenders", "hostel", &[("housing", 1.0)]);
        let rule = behaviour::build(Family::Bp, &s);
        let d = rule.triage(w, hostel, &view(&c, &memo), &mut rng);
        if expect_accept {
            assert_eq!(
                d,
                Triage::Accept,
                "lambda {lambda}: keep the case it fits best"
            );
        } else {
            assert_ne!(
                d,
                Triage::Accept,
                "lambda {lambda}: pass on (refer or decline) a case outside its targets"
            );
        }
        // A case of its own target group is kept at either weight.
        let own = case(w, "families", "hostel", &[("housing", 1.0)]);
        assert_eq!(
            rule.triage(w, hostel, &view(&own, &memo), &mut rng),
            Triage::Accept,
            "lambda {lambda}"
        );
    }
}

#[test]
fn synoptic_search_refers_to_the_best_matched_agency_with_capacity() {
    let memo = LeadMemo::new(256);
    let s = common::fixture("routing.toml");
    let mut sim = fresh(&s, &[Family::Ra; 4]);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (advice, rsl, hostel) = (
        agency(&sim.world, "advice"),
        agency(&sim.world, "rsl"),
        agency(&sim.world, "hostel"),
    );
    let c = case(&sim.world, "offenders", "advice", &[("housing", 1.0)]);
    let rule = behaviour::build(Family::Ra, &s);
    assert_eq!(
        rule.triage(&sim.world, advice, &view(&c, &memo), &mut rng),
        Triage::Refer(hostel)
    );
    // With the hostel out of staff time, the next best (rsl) is chosen.
    sim.world.agencies[hostel].flex = 0.0;
    assert_eq!(
        rule.triage(&sim.world, advice, &view(&c, &memo), &mut rng),
        Triage::Refer(rsl)
    );
    // Once nobody better can be referred to, the holder keeps it.
    let mut v = view(&c, &memo);
    v.held.push(hostel);
    v.held.push(rsl);
    assert_eq!(
        rule.triage(&sim.world, advice, &v, &mut rng),
        Triage::Accept
    );
    // A sender that has learned a receiver bounces its referrals looks elsewhere.
    sim.world.agencies[hostel].flex = 40.0;
    let n = sim.world.n_agencies();
    sim.world.beliefs.accept[advice * n + hostel] = 0.0;
    assert_eq!(
        rule.triage(&sim.world, advice, &view(&c, &memo), &mut rng),
        Triage::Refer(rsl)
    );
}

#[test]
fn bounded_search_compares_only_a_few_contacts_and_its_protocol_partners() {
    let memo = LeadMemo::new(256);
    let mut s = common::fixture("routing.toml");
    s.search.mode = silos::scenario::SearchMode::Bounded;
    s.search.breadth = 1;
    let mut sim = fresh(&s, &[Family::Ra; 4]);
    let w = &sim.world;
    let advice = agency(w, "advice");
    let hostel = agency(w, "hostel");
    let c = case(w, "offenders", "advice", &[("housing", 1.0)]);
    let rule = behaviour::build(Family::Ra, &s);
    // One contact drawn per decision among the three housing servers: over many draws the
    // choice varies (synoptic search would always pick the hostel).
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let picks: Vec<Triage> = (0..60)
        .map(|_| rule.triage(w, advice, &view(&c, &memo), &mut rng))
        .collect();
    assert!(picks.contains(&Triage::Refer(hostel)));
    assert!(
        picks.iter().any(|&d| d != Triage::Refer(hostel)),
        "bounded search should sometimes miss the best receiver: {picks:?}"
    );
    // A protocol partner is always in view: with advice and the hostel in a live protocol,
    // the hostel is always found.
    sim.world.known[advice].clear();
    sim.world.known[advice].insert(hostel);
    let w = &sim.world;
    for _ in 0..30 {
        assert_eq!(
            rule.triage(w, advice, &view(&c, &memo), &mut rng),
            Triage::Refer(hostel)
        );
    }
}

#[test]
fn a_price_on_one_channel_moves_referrals_to_another_for_agencies_that_weigh_money() {
    let memo = LeadMemo::new(256);
    let s = common::fixture("routing.toml");
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    for lambda in [0.0, 0.5] {
        let mut sim = fresh(&s, &[Family::Bp; 4]);
        dispose(&mut sim.world, lambda, 0.0);
        let (advice, rsl, hostel) = (
            agency(&sim.world, "advice"),
            agency(&sim.world, "rsl"),
            agency(&sim.world, "hostel"),
        );
        let c = case(&sim.world, "offenders", "advice", &[("housing", 1.0)]);
        let rule = behaviour::build(Family::Bp, &s);
        assert_eq!(
            rule.triage(&sim.world, advice, &view(&c, &memo), &mut rng),
            Triage::Refer(hostel),
            "lambda {lambda}, no price"
        );
        // A charge on the advice -> hostel channel only.
        sim.world.levers.prices.push(Price {
            on: PriceOn::Referral,
            sender: Some(advice),
            receiver: Some(hostel),
            group: None,
            amount: 50.0,
        });
        let d = rule.triage(&sim.world, advice, &view(&c, &memo), &mut rng);
        if lambda == 0.0 {
            // A charge is a transfer, not a cost to the arena: the shared objective ignores it.
            assert_eq!(d, Triage::Refer(hostel));
        } else {
            assert_eq!(
                d,
                Triage::Refer(rsl),
                "the flow moves to the uncharged channel"
            );
        }
    }
}

#[test]
fn partner_choice_sees_the_fragmentation_penalty_on_the_leads_own_needs() {
    let s = common::fixture("small.toml");
    let mut sim = fresh(&s, &[Family::Ra; 4]);
    let w = &mut sim.world;
    dispose(w, 0.0, 0.0);
    let (housing, probation) = (agency(w, "housing"), agency(w, "probation"));
    let rule = behaviour::build(Family::Ra, &s);
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let (hd, od) = (0, 2);
    let mut server = [NONE; MAX_DIMENSIONS];
    let mut level = [0.0; MAX_DIMENSIONS];
    server[hd] = housing as u32;
    level[hd] = 1.0;
    // A large housing need served in full and a small offending need: an unjoined partner
    // would cut the housing service by the fragmentation penalty for little gain.
    let small = case(
        w,
        "ex_offenders",
        "housing",
        &[("housing", 1.0), ("offending", 0.05)],
    );
    let q = PartnerQuery {
        case: &small,
        dim: od,
        server: &server,
        level: &level,
        base: w.joined_need_met(&small, housing, &server, &level).met,
    };
    assert_eq!(rule.choose_partner(w, housing, &q, &mut rng), None);
    // Two equal needs: the partner is worth asking.
    let even = case(
        w,
        "ex_offenders",
        "housing",
        &[("housing", 1.0), ("offending", 1.0)],
    );
    let q = PartnerQuery {
        case: &even,
        dim: od,
        server: &server,
        level: &level,
        base: w.joined_need_met(&even, housing, &server, &level).met,
    };
    assert_eq!(
        rule.choose_partner(w, housing, &q, &mut rng),
        Some(probation)
    );
}

/// With no referrals allowed (hop limit 0), a housing department weighing only its own
/// targets keeps what suits it and declines the rest; a statutory duty toward a group turns
/// its declines of that group into acceptance (001:156). Whole runs of 12 ticks, seed 8,
/// with lambda fixed at 1.
#[test]
fn a_statutory_duty_means_the_case_is_accepted_whatever_the_motives() {
    let mut s = common::fixture("small.toml");
    s.model.hop_limit = 0;
    s.behaviours.bp.lambda = Dist::Fixed(1.0);
    let h = s.agencies.iter().position(|a| a.name == "housing").unwrap();
    let ex = s
        .groups
        .iter()
        .position(|g| g.name == "ex_offenders")
        .unwrap();
    let count = |s: &Scenario| {
        let mut sim = Simulation::new(s, 8, BehaviourChoice::All(Family::Bp));
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
fn power_acts_through_the_forum_rule_not_through_the_members() {
    let s = common::fixture("small.toml");
    let mut sim = Simulation::with_families(&s, 1, &[Family::Bp; 4]);
    let w = &mut sim.world;
    dispose(w, 1.0, 0.0);
    let m = mech(w, "forum");
    let ex = w
        .groups
        .iter()
        .position(|g| g.name == "ex_offenders")
        .unwrap();
    let fam = w.groups.iter().position(|g| g.name == "families").unwrap();
    let (housing, probation) = (agency(w, "housing"), agency(w, "probation"));
    w.mechanisms[m].host = Some(housing);
    set_members(&mut w.mechanisms[m].members, &[0, 1, 2, 3]);
    let rules: Vec<_> = (0..4).map(|_| behaviour::build(Family::Bp, &s)).collect();
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
    // Probation (targets: ex-offenders only) most powerful.
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
    // Bids do not read power: the same member bids the same whoever is powerful.
    let mut b1 = vec![0.0; w.n_groups()];
    let mut b2 = vec![0.0; w.n_groups()];
    rules[0].agenda_bid(w, probation, m, &mut b1);
    w.agencies[probation].power = 0.0;
    rules[0].agenda_bid(w, probation, m, &mut b2);
    assert_eq!(b1, b2);
    // A member that weighs only the shared objective bids its belief about need shares.
    w.agencies[probation].disp.lambda = 0.0;
    rules[0].agenda_bid(w, probation, m, &mut b1);
    let belief: Vec<f64> = (0..w.n_groups())
        .map(|g| w.beliefs.need(probation, g))
        .collect();
    assert_eq!(b1, belief);
    // The need-weighted rule ignores bids and power.
    w.mechanisms[m].agenda_rule = AgendaRule::NeedWeighted;
    w.agenda(m, &rules, &mut scratch);
    let need: Vec<f64> = w.groups.iter().map(|g| g.need_share).collect();
    assert_eq!(w.mechanisms[m].agenda, need);
}

/// Hosting costs each candidate more than its own believed share of what the forum adds,
/// though the forum is believed worth more than it costs the arena. Agencies weighing only
/// their own interest (lambda 1) then mostly wait for someone else (the volunteer's dilemma);
/// agencies weighing the shared objective volunteer, because the forum pays for the arena.
/// 400 polls of all four candidates, fresh draws from each candidate's own stream.
#[test]
fn hosting_is_a_dilemma_for_own_interest_and_not_for_the_shared_objective() {
    let mut s = common::fixture("hosting.toml");
    s.search.noise = 0.05;
    let polls = 400;
    let mut hosted = [0u32; 2];
    for (k, lambda) in [0.0, 1.0].into_iter().enumerate() {
        let mut sim = fresh(&s, &[Family::Bp; 4]);
        let w = &mut sim.world;
        dispose(w, lambda, 0.0);
        let sys = w.system_cost(0);
        let mech = &mut w.mechanisms[0];
        mech.value_belief.fill(3.0 * sys);
        mech.own_value.fill(0.1 * sys);
        let w = &sim.world;
        assert!(
            w.mechanisms[0].own_value[0] < w.host_cost_to_host(0),
            "fixture: each candidate's own share is below the host cost"
        );
        let rule = behaviour::build(Family::Bp, &s);
        let mut rngs: Vec<ChaCha8Rng> = (0..4).map(|i| silos::rng::agency_stream(7, i)).collect();
        for _ in 0..polls {
            if (0..4).any(|i| rule.volunteer_to_host(w, i, 0, &mut rngs[i])) {
                hosted[k] += 1;
            }
        }
    }
    assert!(
        hosted[0] > polls * 9 / 10,
        "shared objective: {} of {polls}",
        hosted[0]
    );
    assert!(
        hosted[1] < polls / 2,
        "own interest: {} of {polls}",
        hosted[1]
    );
}

#[test]
fn a_host_withdraws_when_cost_and_resentment_outweigh_its_share() {
    let s = common::fixture("hosting.toml");
    let mut sim = fresh(&s, &[Family::Bp; 4]);
    let w = &mut sim.world;
    dispose(w, 1.0, 0.0);
    let rule = behaviour::build(Family::Bp, &s);
    w.mechanisms[0].host = Some(0);
    set_members(&mut w.mechanisms[0].members, &[0, 1, 2, 3]);
    w.mechanisms[0].others_host.fill(0.0);
    // Its own share is worth well above the hosting cost: it goes on.
    let cost = w.host_cost_to_host(0) / w.params.cost_weight;
    w.mechanisms[0].own_value[0] = 5.0 * cost;
    assert!(rule.keep_hosting(w, 0, 0));
    // Resenting the other members as free riders tips it out.
    let n = w.n_agencies();
    for j in 1..4 {
        w.resentment[j] = 10.0 * cost;
    }
    assert_eq!(w.resentment(0, 1), 10.0 * cost);
    assert!(!rule.keep_hosting(w, 0, 0));
    // So does a share worth less than the cost, without resentment.
    w.resentment[..n].fill(0.0);
    w.mechanisms[0].own_value[0] = 0.1 * cost;
    assert!(!rule.keep_hosting(w, 0, 0));
}

#[test]
fn contributions_range_from_zero_to_conditional_cooperation() {
    let s = common::fixture("small.toml");
    let mut sim = Simulation::with_families(&s, 1, &[Family::Bp; 4]);
    let w = &mut sim.world;
    let m = mech(w, "pool");
    let (housing, health) = (agency(w, "housing"), agency(w, "health"));
    w.mechanisms[m].host = Some(housing);
    set_members(&mut w.mechanisms[m].members, &[housing, health]);
    let rule = behaviour::build(Family::Bp, &s);
    let fair = w.mechanisms[m].pool_share * w.agencies[housing].income;
    // Shared objective only: the fair share, whatever partners do.
    dispose(w, 0.0, 0.0);
    w.mechanisms[m].contrib_belief[housing] = 0.0;
    assert_eq!(rule.contribution(w, housing, m), fair);
    // Own interest, no reciprocity, no use of the pool: nothing (a free rider).
    dispose(w, 1.0, 0.0);
    assert_eq!(rule.contribution(w, housing, m), 0.0);
    // Own interest with strong reciprocity: pays more the more it believes partners pay.
    dispose(w, 0.8, 5.0);
    w.mechanisms[m].contrib_belief[housing] = 0.2;
    let low = rule.contribution(w, housing, m);
    w.mechanisms[m].contrib_belief[housing] = 1.0;
    let high = rule.contribution(w, housing, m);
    assert!(low < high, "conditional cooperation: {low} vs {high}");
    assert!(high > 0.0 && high <= 2.0 * fair);
    // Sanctions it expects raise what it pays.
    w.mechanisms[m].contrib_belief[housing] = 0.2;
    w.mechanisms[m].sanction_belief[housing] = fair;
    assert!(rule.contribution(w, housing, m) > low);
}

/// The small arena under bureaucratic politics with peer sanctions (`fine`, cost 1):
/// housing hosts the protocol, health is a member, and housing resents health as a free
/// rider. Mandated information sharing keeps the protocol hosted with every candidate a
/// member, so the tests do not depend on who chooses to host. Returns the scenario, the
/// simulation, the protocol, housing and health.
fn sanction_arena(fine: f64) -> (Scenario, Simulation, usize, usize, usize) {
    let mut s = common::fixture("small.toml");
    s.levers.p.sanctions.fine = fine;
    s.levers.p.sanctions.cost = 1.0;
    s.levers.p.mandate_information_sharing = true;
    let mut sim = Simulation::with_families(&s, 1, &[Family::Bp; 4]);
    dispose(&mut sim.world, 1.0, 5.0);
    let w = &mut sim.world;
    let m = mech(w, "protocol");
    let (housing, health) = (agency(w, "housing"), agency(w, "health"));
    let n = w.n_agencies();
    w.resentment[housing * n + health] = 100.0;
    w.mechanisms[m].host = Some(housing);
    set_members(&mut w.mechanisms[m].members, &[housing, health]);
    (s, sim, m, housing, health)
}

/// A fine larger than the sanctioned member holds: it pays what it can, and the rest is
/// recorded in `fines_unpaid`, so paid + unpaid is exactly the fines imposed.
#[test]
fn fines_a_member_cannot_pay_are_recorded_as_unpaid() {
    let fine = 1.0e5;
    let (_, mut sim, _, _, _) = sanction_arena(fine);
    let (mut imposed, mut unpaid_seen) = (0u32, 0.0);
    for _ in 0..6 {
        sim.step().unwrap();
        let t = &sim.world.tally.agencies;
        let suffered: u32 = t.iter().map(|a| a.sanctions_suffered).sum();
        let paid: f64 = t.iter().map(|a| a.sanction_fines).sum();
        let unpaid: f64 = t.iter().map(|a| a.fines_unpaid).sum();
        let levied = fine * suffered as f64;
        assert!(
            (paid + unpaid - levied).abs() < 1e-6 * levied.max(1.0),
            "paid {paid} + unpaid {unpaid} != levied {levied}"
        );
        imposed += suffered;
        unpaid_seen += unpaid;
    }
    assert!(
        imposed > 0 && unpaid_seen > 0.0,
        "sanctions {imposed}, unpaid {unpaid_seen}"
    );
}

#[test]
fn a_sanction_costs_the_sanctioner_and_the_sanctioned_and_the_money_is_accounted() {
    let (s, mut sim, m, housing, health) = sanction_arena(3.0);
    let w = &sim.world;
    let rules: Vec<_> = (0..4).map(|_| behaviour::build(Family::Bp, &s)).collect();
    assert!(rules[housing].sanction(w, housing, m, health));
    let (mut imposed, mut suffered, mut fines, mut costs) = (0u64, 0u64, 0.0, 0.0);
    for _ in 0..6 {
        sim.step().unwrap();
        for t in &sim.world.tally.agencies {
            imposed += t.sanctions_imposed as u64;
            suffered += t.sanctions_suffered as u64;
            fines += t.sanction_fines;
            costs += t.sanction_cost;
        }
    }
    assert!(imposed > 0, "sanctions were imposed");
    assert_eq!(imposed, suffered);
    let sink = sim.world.ledger.sink(Sink::Sanctions);
    assert!(
        (sink - fines - costs).abs() < 1e-6,
        "sink {sink} vs {fines} + {costs}"
    );
    assert!(costs > 0.0 && costs <= imposed as f64 * 1.0 + 1e-9);
    // A lambda-0 agency never sanctions: the fine is a pure loss to the arena.
    let w = &mut sim.world;
    let n = w.n_agencies();
    w.agencies[housing].disp.lambda = 0.0;
    w.resentment[housing * n + health] = 1.0;
    assert!(!rules[housing].sanction(w, housing, m, health));
}

#[test]
fn beliefs_follow_what_agencies_observe() {
    let s = common::fixture("hosting.toml");
    let mut sim = Simulation::with_families(&s, 1, &[Family::Ra; 4]);
    let prior_accept = s.search.partner_prior;
    let prior_host = s.search.others_host_prior;
    let prior_value = sim.world.mechanisms[0].prior_value;
    let mut hosted = 0;
    let mut before = [prior_host; 4];
    for _ in 0..24 {
        sim.step().unwrap();
        let mech = &sim.world.mechanisms[0];
        for (c, b) in before.iter_mut().enumerate() {
            let (b0, b1) = (*b, mech.others_host[c]);
            match mech.host {
                // The host sees no one else host: its belief does not move.
                Some(h) if h == c => assert_eq!(b1, b0),
                // Others saw someone else host: their belief rises toward 1.
                Some(_) => assert!(b1 > b0 || b0 == 1.0, "{c}: {b0} -> {b1}"),
                // Nobody hosted: beliefs fall toward 0.
                None => assert!(b1 < b0 || b0 == 0.0, "{c}: {b0} -> {b1}"),
            }
            *b = b1;
        }
        if mech.host.is_some() {
            hosted += 1;
        }
    }
    assert!(hosted > 0, "fixture: the forum was hosted at some point");
    let w = &sim.world;
    // Need beliefs of synoptic agencies follow observed arrivals and stay shares.
    let ng = w.n_groups();
    for i in 0..4 {
        let s: f64 = (0..ng).map(|g| w.beliefs.need(i, g)).sum();
        assert!((s - 1.0).abs() < 1e-9);
    }
    // Value beliefs moved away from the prior for members; partner beliefs from theirs
    // wherever partners were asked.
    let moved_value = w.mechanisms[0]
        .value_belief
        .iter()
        .any(|&v| (v - prior_value).abs() > 1e-12);
    assert!(moved_value);
    let moved_partner = w
        .beliefs
        .reliable
        .iter()
        .any(|&v| (v - prior_accept).abs() > 1e-12);
    assert!(
        moved_partner,
        "co-serve requests update reliability beliefs"
    );
}

#[test]
fn dispositions_are_drawn_per_agency_from_the_family_distributions() {
    let s = Scenario::default_scenario();
    let bp = silos::engine::setups(&s, 9, BehaviourChoice::All(Family::Bp));
    let lambdas: Vec<f64> = bp.iter().map(|a| a.disp.lambda).collect();
    let (lo, hi) = s.behaviours.bp.lambda.bounds();
    assert!(lambdas.iter().all(|&l| (lo..=hi).contains(&l)));
    assert!(
        lambdas.iter().any(|&l| (l - lambdas[0]).abs() > 1e-6),
        "agencies of one family differ: {lambdas:?}"
    );
    // Same seed, same draws; another seed, others.
    assert_eq!(
        bp,
        silos::engine::setups(&s, 9, BehaviourChoice::All(Family::Bp))
    );
    assert_ne!(
        bp,
        silos::engine::setups(&s, 10, BehaviourChoice::All(Family::Bp))
    );
    // Changing the other family's distribution moves no draw of this one.
    let mut s2 = s.clone();
    s2.behaviours.ra.reciprocity = Dist::Fixed(0.9);
    assert_eq!(
        bp,
        silos::engine::setups(&s2, 9, BehaviourChoice::All(Family::Bp))
    );
    // Under rational administration lambda is 0 for every agency.
    let ra = silos::engine::setups(&s, 9, BehaviourChoice::All(Family::Ra));
    assert!(ra.iter().all(|a| a.disp.lambda == 0.0));
    assert_eq!(
        ra.iter().map(|a| a.disp.aspiration).collect::<Vec<_>>(),
        bp.iter().map(|a| a.disp.aspiration).collect::<Vec<_>>(),
        "search dispositions do not depend on the family"
    );
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
    server[hd] = housing as u32;
    server[od] = probation as u32;
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
    let p = mech(w, "protocol");
    w.mechanisms[p].host = Some(housing);
    set_members(&mut w.mechanisms[p].members, &[housing, probation]);
    w.mechanisms[p].depth = 1.0;
    let by_protocol = w.joined_need_met(&c, housing, &server, &level);
    assert!(by_protocol.met > unjoined.met);
    assert_eq!(by_protocol.credited, Some(p));
    assert!(by_protocol.met_knowledge_only < by_protocol.met);

    // A single-need case served by one agency pays no fragmentation penalty.
    let single = case(w, "families", "housing", &[("housing", 1.0)]);
    let mut server1 = [NONE; MAX_DIMENSIONS];
    server1[hd] = housing as u32;
    assert_eq!(
        w.joined_need_met(&single, housing, &server1, &level).met,
        1.0
    );

    // Complementarity: leaving one of two equal needs unserved costs more than half.
    let mut half = server;
    half[od] = NONE;
    let mut half_level = level;
    half_level[od] = 0.0;
    let one_of_two = w.joined_need_met(&c, housing, &half, &half_level);
    assert!(one_of_two.met < 0.5, "{one_of_two:?}");
    // ...and the complementarity term weighs needs by size: leaving a small need unserved
    // costs less than leaving a large one.
    let small = case(
        w,
        "ex_offenders",
        "housing",
        &[("housing", 1.0), ("offending", 0.1)],
    );
    let big = case(
        w,
        "ex_offenders",
        "housing",
        &[("housing", 0.1), ("offending", 1.0)],
    );
    let small_left = w.joined_need_met(&small, housing, &half, &half_level).met;
    let big_left = w.joined_need_met(&big, housing, &half, &half_level).met;
    assert!(
        small_left > 0.8 && big_left < 0.1,
        "{small_left} {big_left}"
    );
}

#[test]
fn bounded_aspiration_follows_achievement() {
    let s = common::fixture("small.toml");
    let rule = behaviour::build(Family::Ra, &s);
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

/// Information sharing changes what agencies know: members of a live protocol pool their
/// beliefs about other agencies each tick (a step toward the members' mean, at the belief
/// rate times the protocol's depth). Beliefs about a central department, which no referral
/// ever reaches, move only this way. Mandated sharing keeps the protocol live; 24 ticks.
#[test]
fn a_live_protocol_pools_its_members_beliefs() {
    let text = std::fs::read_to_string(common::fixture_path("levers.toml")).unwrap();
    let s = Scenario::from_toml_str_with(
        &text,
        "levers.toml",
        &[silos::overrides::Override::parse("levers.mandate_information_sharing=true").unwrap()],
    )
    .unwrap();
    let mut sim = Simulation::new(&s, 1, BehaviourChoice::All(Family::Bp));
    let w = &mut sim.world;
    let n = w.n_agencies();
    let p = mech(w, "protocol");
    let members: Vec<usize> = w.mechanisms[p].candidates.clone();
    let clg = agency(w, "clg");
    for (k, &i) in members.iter().enumerate() {
        w.beliefs.accept[i * n + clg] = if k == 0 { 0.0 } else { 1.0 };
    }
    let spread = |w: &World| {
        let v: Vec<f64> = members.iter().map(|&i| w.beliefs.accept(i, clg)).collect();
        v.iter().cloned().fold(f64::MIN, f64::max) - v.iter().cloned().fold(f64::MAX, f64::min)
    };
    assert_eq!(spread(&sim.world), 1.0);
    for _ in 0..24 {
        sim.step().unwrap();
        assert!(sim.world.mechanisms[p].alive(), "mandated protocol is live");
    }
    let after = spread(&sim.world);
    assert!(after < 0.95, "members' beliefs converged: spread {after}");
}

/// Money binds without anything lost: an agency whose fixed costs exceed what it holds runs a
/// deficit (the centre lends the rest, recorded as debt), and repays it first once its income
/// allows. Fixed costs are always paid in full to the sink; the books balance every tick.
#[test]
fn a_deficit_is_lent_recorded_and_repaid() {
    let mut s = common::fixture("small.toml");
    let h = s
        .agencies
        .iter()
        .position(|a| a.name == "day_centre")
        .unwrap();
    s.agencies[h].reserves = 0.0;
    s.agencies[h].fixed_costs = s.agencies[h].income + 5.0;
    let mut sim = Simulation::new(&s, 1, BehaviourChoice::Mixed);
    let mut core_expected = 0.0;
    for _ in 0..3 {
        sim.step().unwrap();
        core_expected += s.agencies.iter().map(|a| a.fixed_costs).sum::<f64>();
        let t = &sim.world.tally.agencies[h];
        assert!(
            t.fixed_shortfall >= 5.0 - 1e-9,
            "shortfall {}",
            t.fixed_shortfall
        );
    }
    let w = &sim.world;
    assert!((w.ledger.sink(Sink::Core) - core_expected).abs() < 1e-6);
    let debt = w.agencies[h].debt;
    assert!(debt >= 15.0 - 1e-6, "debt {debt}");
    // Income rises above fixed costs: the debt is repaid first.
    sim.world.agencies[h].fixed_costs = 0.0;
    sim.step().unwrap();
    let w = &sim.world;
    assert!(w.tally.agencies[h].debt_repaid > 0.0);
    assert!(w.agencies[h].debt < debt);
}
