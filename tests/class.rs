//! Participatory classes, without HTTP: a seat's orders reach the engine through the one
//! rule interface, undecided seats are their bots, every decision is logged, the debrief
//! adds up the logs. The engine checks conservation on every tick of every town and arm.

mod common;

use std::path::Path;

use silos::scenario::Family;
use silos::teach::class::{Class, ClassOptions, OrdersInput, RouteInput};

fn options(lesson: &str, bot: Family, dir: &Path) -> ClassOptions {
    ClassOptions {
        lesson: lesson.into(),
        seed: None,
        ticks: None,
        bot,
        seats: None,
        overrides: Vec::new(),
        out_dir: dir.to_path_buf(),
    }
}

use common::csv_rows;

fn play_out(c: &mut Class) {
    while !c.done() {
        c.play_round().unwrap();
    }
    c.finish().unwrap();
}

/// A town nobody plays is its bots' arm: the seat wrapper with no orders decides exactly as
/// the bot, drawing the same numbers, so every per-tick number is the same.
#[test]
fn a_town_nobody_plays_is_the_bot_familys_arm() {
    for (bot, arm) in [(Family::Ra, "ra"), (Family::Bp, "bp")] {
        for lesson in ["free-riding", "dumping", "capture"] {
            let d = tempfile::tempdir().unwrap();
            let mut c = Class::new(&options(lesson, bot, d.path())).unwrap();
            c.add_town().unwrap();
            c.add_town().unwrap();
            // Seated students who never send orders are bots too.
            c.sit(1, c.seats()[0], "Ada").unwrap();
            play_out(&mut c);
            for f in ["ticks.csv", "agencies.csv", "flows.csv", "mechanisms.csv"] {
                let a = std::fs::read(d.path().join(arm).join(f)).unwrap();
                for town in ["town-1", "town-2"] {
                    let b = std::fs::read(d.path().join(town).join(f)).unwrap();
                    assert!(
                        a == b,
                        "{lesson}, bots {arm}: {town}/{f} differs from {arm}/{f}"
                    );
                }
            }
        }
    }
}

/// Orders change what happens, through the engine: a seat that keeps every case refers
/// none, and every case at its door was decided by the order, not the bot.
#[test]
fn keep_everything_means_no_referrals_out() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Class::new(&options("dumping", Family::Bp, d.path())).unwrap();
    c.add_town().unwrap();
    let me = c.seats()[0];
    c.sit(0, me, "Ada").unwrap();
    let mut any_door = 0;
    while !c.done() {
        let triage = ["ex_offenders", "rough_sleepers", "families"]
            .iter()
            .map(|g| (g.to_string(), RouteInput::Word("keep".into())))
            .collect();
        c.submit(
            0,
            me,
            &OrdersInput {
                triage,
                ..Default::default()
            },
        )
        .unwrap();
        let rows = c.play_round().unwrap();
        let r = rows.iter().find(|r| r.agency == c.agency_name(me)).unwrap();
        assert!(r.decided);
        assert_eq!(r.referrals_out, 0, "round {}: {r:?}", r.round);
        for g in &r.door {
            assert_eq!(g.by_bot, 0);
            assert_eq!(g.kept, g.at_door);
            any_door += g.at_door;
        }
    }
    assert!(any_door > 0, "cases reached the seat's door");
    // The bot arm on the same draws does refer: the orders made the difference.
    c.finish().unwrap();
    let bp = csv_rows(&d.path().join("bp/agencies.csv"));
    let name = c.agency_name(me).to_string();
    let bot_refs: f64 = bp
        .iter()
        .filter(|r| r["agency"] == name)
        .map(|r| r["referrals_out"].parse::<f64>().unwrap())
        .sum();
    let town = csv_rows(&d.path().join("town-1/agencies.csv"));
    let town_refs: f64 = town
        .iter()
        .filter(|r| r["agency"] == name)
        .map(|r| r["referrals_out"].parse::<f64>().unwrap())
        .sum();
    assert_eq!(town_refs, 0.0);
    assert!(
        bot_refs > 0.0,
        "the bp bot of {name} refers cases in this lesson"
    );
}

/// A contribution order is paid into the fund each month the seat is a member and can pay.
#[test]
fn a_contribution_order_is_paid_each_member_month() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Class::new(&options("free-riding", Family::Bp, d.path())).unwrap();
    c.add_town().unwrap();
    let me = c.seats()[0]; // housing: a candidate of the joint fund
    c.sit(0, me, "Ada").unwrap();
    let mut paid_months = 0;
    while !c.done() {
        let mut o = OrdersInput::default();
        o.join.insert("joint_fund".into(), Some(true));
        o.join.insert("case_conference".into(), Some(true));
        o.host.insert("joint_fund".into(), Some(true));
        o.contribute.insert("joint_fund".into(), Some(1.5));
        c.submit(0, me, &o).unwrap();
        let rows = c.play_round().unwrap();
        let r = rows.iter().find(|r| r.agency == c.agency_name(me)).unwrap();
        // Paid 1.5 in every month it was in the fund (as host or member).
        let months = r.member_months + r.host_months;
        assert!(r.pool_paid <= 1.5 * months as f64 + 1e-9, "{r:?}");
        if r.pool_paid > 0.0 {
            paid_months += 1;
            assert!(
                (r.pool_paid / 1.5).fract().abs() < 1e-9,
                "whole months of 1.5: {r:?}"
            );
        }
    }
    assert!(paid_months > 0, "the order was paid in at least one round");
    let d = c.finish().unwrap();
    let s = d.seats.iter().find(|s| s.agency == "housing").unwrap();
    assert!(s.pool_paid > 0.0);
}

/// Every seat has one row per decision per round in decisions.csv: the student's order or
/// "bot"; rounds.csv has one row per seat and round; the debrief adds them up.
#[test]
fn every_decision_is_logged_and_the_debrief_adds_up_the_logs() {
    let d = tempfile::tempdir().unwrap();
    let mut opts = options("free-riding", Family::Ra, d.path());
    opts.seats = Some(vec!["housing".into(), "health".into(), "probation".into()]);
    let mut c = Class::new(&opts).unwrap();
    c.add_town().unwrap();
    c.add_town().unwrap();
    let seats = c.seats().to_vec();
    c.sit(0, seats[0], "Ada").unwrap();
    c.sit(0, seats[1], "Ben").unwrap();
    c.sit(1, seats[2], "Cy").unwrap();
    let mut student_rounds = 0;
    while !c.done() {
        let mut o = OrdersInput::default();
        o.contribute.insert("joint_fund".into(), Some(0.0));
        o.join.insert("joint_fund".into(), Some(true));
        o.triage.insert(
            "rough_sleepers".into(),
            RouteInput::Pass {
                pass: "hostel".into(),
            },
        );
        c.submit(0, seats[0], &o).unwrap();
        // Ben submits twice; the second replaces the first.
        c.submit(0, seats[1], &OrdersInput::default()).unwrap();
        o.help = Some(true);
        c.submit(0, seats[1], &o).unwrap();
        // Cy sends orders in odd rounds only.
        if c.round().is_multiple_of(2) {
            c.submit(1, seats[2], &o).unwrap();
            student_rounds += 1;
        }
        c.play_round().unwrap();
    }
    let debrief = c.finish().unwrap();
    let n_rounds = c.n_rounds() as usize;
    let dec = csv_rows(&d.path().join("decisions.csv"));
    // Items per seat: 2 groups, per mechanism host + join (+ contribute for the fund), help.
    // Housing, health and probation are candidates of both mechanisms.
    let items = |_agency: &str| 2 + 2 + 3 + 1;
    for t in ["1", "2"] {
        for &i in &seats {
            let name = c.agency_name(i);
            let rows: Vec<_> = dec
                .iter()
                .filter(|r| r["town"] == t && r["agency"] == name)
                .collect();
            assert_eq!(rows.len(), n_rounds * items(name), "town {t} {name}");
        }
    }
    let ada: Vec<_> = dec.iter().filter(|r| r["player"] == "Ada").collect();
    assert_eq!(ada.len(), n_rounds * 8);
    assert!(ada.iter().all(|r| {
        let student = [
            "triage:rough_sleepers",
            "join:joint_fund",
            "contribute:joint_fund",
        ]
        .contains(&format!("{}:{}", r["kind"], r["subject"]).as_str());
        (r["source"] == "student") == student
    }));
    assert!(
        ada.iter()
            .any(|r| r["kind"] == "triage" && r["choice"] == "pass:hostel")
    );
    let ben_help: Vec<_> = dec
        .iter()
        .filter(|r| r["player"] == "Ben" && r["kind"] == "help")
        .collect();
    assert!(
        ben_help
            .iter()
            .all(|r| r["choice"] == "yes" && r["submissions"] == "2")
    );
    let cy_student = dec
        .iter()
        .filter(|r| r["player"] == "Cy" && r["source"] == "student" && r["kind"] == "help")
        .count();
    assert_eq!(cy_student, student_rounds);
    // rounds.csv: one row per seat per round per town.
    let rounds = csv_rows(&d.path().join("rounds.csv"));
    assert_eq!(rounds.len(), n_rounds * seats.len() * 2);
    // The debrief's sums are the rounds' sums.
    for s in &debrief.seats {
        let rows: Vec<_> = rounds
            .iter()
            .filter(|r| r["town"] == s.town.to_string() && r["agency"] == s.agency)
            .collect();
        let sum = |k: &str| -> f64 { rows.iter().map(|r| r[k].parse::<f64>().unwrap()).sum() };
        assert!((sum("pool_paid") - s.pool_paid).abs() < 1e-9);
        assert!((sum("fair_share") - s.fair_share).abs() < 1e-9);
        assert_eq!(sum("dumped_out") as u64, s.dumped_out);
        assert_eq!(
            rows.iter().filter(|r| r["decided"] == "true").count() as u32,
            s.rounds_decided
        );
    }
    let cy = debrief.seats.iter().find(|s| s.players == ["Cy"]).unwrap();
    assert_eq!(cy.rounds_decided as usize, student_rounds);
    let ada = debrief.seats.iter().find(|s| s.players == ["Ada"]).unwrap();
    assert_eq!(ada.pool_paid, 0.0, "Ada ordered zero every round");
    // The debrief compares the towns with both arms on the same draws.
    let who: Vec<&str> = debrief.clients.iter().map(|c| c.who.as_str()).collect();
    assert_eq!(who, ["town 1", "town 2", "all ra", "all bp"]);
    assert!(
        debrief
            .clients
            .iter()
            .all(|c| c.arrivals == debrief.clients[0].arrivals)
    );
    assert!(d.path().join("debrief.json").is_file());
}

/// Two classes given the same orders write the same logs and runs: a class is a pure
/// function of (lesson, seed, orders).
#[test]
fn the_same_orders_give_the_same_class() {
    let run = |dir: &Path| {
        let mut c = Class::new(&options("dumping", Family::Bp, dir)).unwrap();
        c.add_town().unwrap();
        let me = c.seats()[1];
        c.sit(0, me, "Ada").unwrap();
        while !c.done() {
            let mut o = OrdersInput::default();
            o.triage.insert(
                "families".into(),
                RouteInput::Pass {
                    pass: "housing".into(),
                },
            );
            o.triage
                .insert("ex_offenders".into(), RouteInput::Word("decline".into()));
            c.submit(0, me, &o).unwrap();
            c.play_round().unwrap();
        }
        c.finish().unwrap();
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    run(a.path());
    run(b.path());
    for f in [
        "decisions.csv",
        "rounds.csv",
        "town-1/ticks.csv",
        "town-1/flows.csv",
    ] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f}"
        );
    }
}

/// A bad order is refused with the field, the value and what is allowed; nothing is held.
#[test]
fn bad_orders_are_refused_with_the_field_and_what_is_allowed() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Class::new(&options("free-riding", Family::Bp, d.path())).unwrap();
    c.add_town().unwrap();
    let me = c.seats()[0];
    let name = c.agency_name(me).to_string();
    let mut cases: Vec<(OrdersInput, &str)> = Vec::new();
    let mut o = OrdersInput::default();
    o.triage
        .insert("dragons".into(), RouteInput::Word("keep".into()));
    cases.push((o, "triage.dragons: not a client group"));
    let mut o = OrdersInput::default();
    o.triage
        .insert("rough_sleepers".into(), RouteInput::Word("eat".into()));
    cases.push((o, "triage.rough_sleepers: \"eat\" is not allowed"));
    let mut o = OrdersInput::default();
    o.triage.insert(
        "rough_sleepers".into(),
        RouteInput::Pass { pass: name.clone() },
    );
    cases.push((o, "is not another agency of the town"));
    for bad in [-1.0, f64::NAN, f64::INFINITY, 1e9] {
        let mut o = OrdersInput::default();
        o.contribute.insert("joint_fund".into(), Some(bad));
        cases.push((o, "contribute.joint_fund: "));
    }
    let mut o = OrdersInput::default();
    o.contribute.insert("case_conference".into(), Some(1.0));
    cases.push((o, "contribute.case_conference: not a pooled fund"));
    let mut o = OrdersInput::default();
    o.join.insert("town_hall".into(), Some(true));
    cases.push((o, "join.town_hall: not an arrangement"));
    let mut o = OrdersInput::default();
    o.sanction
        .insert("joint_fund".into(), Some(vec!["health".into()]));
    cases.push((o, "sanctions are off"));
    for (o, want) in cases {
        let e = c.submit(0, me, &o).unwrap_err();
        assert!(e.contains(want), "{e}\nwanted: {want}");
    }
    assert!(!c.submitted(0, me));
    // A seat that is not open to students cannot be ordered.
    let mut opts = options("free-riding", Family::Bp, d.path());
    opts.seats = Some(vec!["health".into()]);
    opts.out_dir = d.path().join("b");
    let mut c = Class::new(&opts).unwrap();
    c.add_town().unwrap();
    assert!(c.submit(0, 0, &OrdersInput::default()).is_err());
    opts.seats = Some(vec!["nobody".into()]);
    let e = Class::new(&opts).err().unwrap().to_string();
    assert!(e.contains("seats: no agency \"nobody\""), "{e}");
}

/// With sanctions on, a sanction order fines the partner through the engine.
#[test]
fn sanction_orders_go_through_the_engine() {
    let d = tempfile::tempdir().unwrap();
    let mut opts = options("free-riding", Family::Bp, d.path());
    opts.overrides = vec![
        silos::overrides::Override::parse("levers.sanctions={ fine = 2.0, cost = 0.5 }").unwrap(),
    ];
    let mut c = Class::new(&opts).unwrap();
    c.add_town().unwrap();
    let me = c.seats()[0];
    c.sit(0, me, "Ada").unwrap();
    while !c.done() {
        let mut o = OrdersInput::default();
        o.join.insert("joint_fund".into(), Some(true));
        o.join.insert("case_conference".into(), Some(true));
        // Hosting and paying in more than its share makes it resent the others.
        o.host.insert("case_conference".into(), Some(true));
        o.host.insert("joint_fund".into(), Some(true));
        o.contribute.insert("joint_fund".into(), Some(4.0));
        let others: Vec<String> = ["health", "probation", "drugs", "hostel"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        o.sanction.insert("joint_fund".into(), Some(others.clone()));
        o.sanction.insert("case_conference".into(), Some(others));
        c.submit(0, me, &o).unwrap();
        c.play_round().unwrap();
    }
    c.finish().unwrap();
    let dec = csv_rows(&d.path().join("decisions.csv"));
    assert!(
        dec.iter()
            .any(|r| r["kind"] == "sanction" && r["choice"] == "health;probation;drugs;hostel")
    );
    // The engine asks a member about a partner only when it resents it (it bore more of the
    // arrangement's cost than it got of its benefit: the same option every rule has); then
    // the order decides.
    let imposed = |dir: &str| -> f64 {
        csv_rows(&d.path().join(dir).join("agencies.csv"))
            .iter()
            .filter(|r| r["agency"] == "housing")
            .map(|r| r["sanctions_imposed"].parse::<f64>().unwrap())
            .sum()
    };
    eprintln!(
        "housing imposed {} sanctions as ordered; {} as the bp bot",
        imposed("town-1"),
        imposed("bp")
    );
    assert!(imposed("town-1") > 0.0);
}

/// A class is a pure function of its setup and decisions: played again from its folder
/// (`class.json` and `decisions.csv`), every town's run files and `rounds.csv` come out the
/// same, byte for byte; `decisions.csv` too, but for how many times each order was sent.
#[test]
fn a_class_replayed_from_its_folder_gives_the_same_files() {
    let d = tempfile::tempdir().unwrap();
    let mut opts = options("free-riding", Family::Bp, &d.path().join("class"));
    opts.overrides = vec![
        silos::overrides::Override::parse("levers.sanctions={ fine = 2.0, cost = 0.5 }").unwrap(),
    ];
    opts.seed = Some(21);
    let mut c = Class::new(&opts).unwrap();
    c.add_town().unwrap();
    c.add_town().unwrap();
    let seats = c.seats().to_vec();
    c.sit(0, seats[0], "Ada").unwrap();
    c.sit(0, seats[1], "Ben").unwrap();
    c.sit(1, seats[3], "Cy").unwrap();
    while !c.done() {
        let r = c.round();
        let mut o = OrdersInput::default();
        o.contribute
            .insert("joint_fund".into(), Some(1.25 * r as f64));
        o.join.insert("joint_fund".into(), Some(r % 3 != 1));
        o.host.insert("case_conference".into(), Some(true));
        o.sanction.insert(
            "case_conference".into(),
            Some(vec!["health".into(), "drugs".into()]),
        );
        c.submit(0, seats[0], &o).unwrap();
        let mut o = OrdersInput::default();
        o.triage.insert(
            "rough_sleepers".into(),
            RouteInput::Pass {
                pass: "hostel".into(),
            },
        );
        o.triage
            .insert("ex_offenders".into(), RouteInput::Word("decline".into()));
        o.help = Some(r.is_multiple_of(2));
        c.submit(0, seats[1], &OrdersInput::default()).unwrap();
        c.submit(0, seats[1], &o).unwrap();
        if r == 2 {
            // Cy leaves after sending orders; a new student takes the seat next round.
            c.submit(1, seats[3], &o).unwrap();
            c.unseat(1, seats[3]);
        } else if r == 3 {
            c.sit(1, seats[3], "Di").unwrap();
            c.submit(1, seats[3], &o).unwrap();
        } else if r < 2 {
            c.submit(1, seats[3], &OrdersInput::default()).unwrap();
        }
        c.play_round().unwrap();
    }
    c.finish().unwrap();
    let mut again =
        silos::teach::class::replay(&d.path().join("class"), &d.path().join("again")).unwrap();
    assert_eq!(again.round(), c.round());
    again.finish().unwrap();
    let same = |f: &str| {
        assert_eq!(
            std::fs::read(d.path().join("class").join(f)).unwrap(),
            std::fs::read(d.path().join("again").join(f)).unwrap(),
            "{f}"
        )
    };
    for t in ["town-1", "town-2"] {
        for f in [
            "ticks.csv",
            "agencies.csv",
            "groups.csv",
            "flows.csv",
            "mechanisms.csv",
        ] {
            same(&format!("{t}/{f}"));
        }
    }
    same("rounds.csv");
    let strip = |f: &str| -> Vec<Vec<String>> {
        csv_rows(&d.path().join(f).join("decisions.csv"))
            .into_iter()
            .map(|mut r| {
                r.remove("submissions");
                r.into_values().collect()
            })
            .collect()
    };
    assert_eq!(strip("class"), strip("again"));
    // The record shows who played: Di took over Cy's seat.
    let rounds = csv_rows(&d.path().join("again/rounds.csv"));
    let town2: Vec<&str> = rounds
        .iter()
        .filter(|r| r["town"] == "2" && r["agency"] == c.agency_name(seats[3]))
        .map(|r| r["player"].as_str())
        .collect();
    assert_eq!(town2, ["Cy", "Cy", "", "Di", "Di", "Di"]);
}

/// `silos replay CLASS_DIR` plays a class again and says its files are identical; it refuses
/// a run id for a class, and a folder without class.json needs one.
#[test]
fn silos_replay_plays_a_class_again() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("class");
    let mut c = Class::new(&options("dumping", Family::Ra, &dir)).unwrap();
    c.add_town().unwrap();
    let me = c.seats()[2];
    c.sit(0, me, "Ada").unwrap();
    while !c.done() {
        let mut o = OrdersInput::default();
        o.triage
            .insert("families".into(), RouteInput::Word("decline".into()));
        c.submit(0, me, &o).unwrap();
        c.play_round().unwrap();
    }
    c.finish().unwrap();
    let dir_s = dir.to_str().unwrap();
    let out = common::silos(&["replay", dir_s]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("identical to the original's (6 files)"),
        "{text}"
    );
    assert!(dir.join("replay/town-1/ticks.csv").is_file());
    // A what-if: the record alone, with an order changed, replays without comparison.
    let what_if = d.path().join("what-if");
    std::fs::create_dir_all(&what_if).unwrap();
    std::fs::copy(dir.join("class.json"), what_if.join("class.json")).unwrap();
    let dec = std::fs::read_to_string(dir.join("decisions.csv")).unwrap();
    std::fs::write(
        what_if.join("decisions.csv"),
        dec.replace(",decline,", ",keep,"),
    )
    .unwrap();
    let out = common::silos(&["replay", what_if.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("no original runs to compare"), "{text}");
    let kept = std::fs::read_to_string(what_if.join("replay/decisions.csv")).unwrap();
    assert!(kept.contains(",keep,") && !kept.contains(",decline,"));
    let out = common::silos(&["replay", dir_s, "3"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("this is a class, not a sweep"));
    let out = common::silos(&["replay", d.path().to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("give the RUN_ID"));
}

/// The columns docs/teaching.md lists for `decisions.csv` and `rounds.csv` are the files'
/// headers, in order.
#[test]
fn the_documented_class_columns_are_the_real_headers() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/teaching.md")).unwrap();
    let row = |file: &str| -> Vec<String> {
        let line = doc
            .lines()
            .find(|l| l.starts_with(&format!("| `{file}` |")))
            .unwrap_or_else(|| panic!("docs/teaching.md has no row for {file}"));
        let cols = line.rsplit('|').nth(1).unwrap();
        // The backticked names, in order (values in parentheses are not columns).
        let mut out = Vec::new();
        let mut depth = 0;
        let mut rest = cols;
        while let Some(i) = rest.find(['`', '(', ')']) {
            match rest.as_bytes()[i] {
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {
                    let end = rest[i + 1..].find('`').unwrap() + i + 1;
                    if depth == 0 {
                        out.push(rest[i + 1..end].to_string());
                    }
                    rest = &rest[end + 1..];
                    continue;
                }
            }
            rest = &rest[i + 1..];
        }
        out
    };
    let d = tempfile::tempdir().unwrap();
    let mut c = Class::new(&options("dumping", Family::Bp, d.path())).unwrap();
    c.add_town().unwrap();
    c.play_round().unwrap();
    let header = |f: &str| -> Vec<String> {
        csv::Reader::from_path(d.path().join(f))
            .unwrap()
            .headers()
            .unwrap()
            .iter()
            .map(String::from)
            .collect()
    };
    assert_eq!(row("decisions.csv"), header("decisions.csv"));
    // rounds.csv: the fixed columns, then five per client group (GROUP_at_door, _kept, ...).
    let documented = row("rounds.csv");
    let real = header("rounds.csv");
    let fixed = documented.len() - 5;
    assert_eq!(documented[..fixed], real[..fixed]);
    assert_eq!(
        documented[fixed..],
        ["GROUP_at_door", "_kept", "_passed", "_declined", "_by_bot"]
    );
    let groups = ["ex_offenders", "rough_sleepers", "families"];
    let want: Vec<String> = groups
        .iter()
        .flat_map(|g| {
            ["at_door", "kept", "passed", "declined", "by_bot"].map(|f| format!("{g}_{f}"))
        })
        .collect();
    assert_eq!(real[fixed..], want[..]);
}

/// An agenda order is the seat's bid in the forum: when every member pushes the agenda
/// toward one client group, the forum's agenda is that group alone, whatever the forum's
/// rule weighs.
#[test]
fn agenda_orders_are_bids_in_the_forum() {
    let d = tempfile::tempdir().unwrap();
    let mut c = Class::new(&options("capture", Family::Bp, d.path())).unwrap();
    c.add_town().unwrap();
    let seats = c.seats().to_vec();
    for (k, &i) in seats.iter().enumerate() {
        c.sit(0, i, &format!("s{k}")).unwrap();
    }
    while !c.done() {
        for &i in &seats {
            let mut o = OrdersInput::default();
            o.join.insert("homelessness_forum".into(), Some(true));
            o.agenda
                .insert("homelessness_forum".into(), Some("ex_offenders".into()));
            c.submit(0, i, &o).unwrap();
        }
        c.play_round().unwrap();
    }
    c.finish().unwrap();
    let rows = csv_rows(&d.path().join("town-1/agenda.csv"));
    assert!(!rows.is_empty(), "the forum met");
    for r in &rows {
        let w: f64 = r["agenda_weight"].parse().unwrap();
        let want = if r["group"] == "ex_offenders" {
            1.0
        } else {
            0.0
        };
        assert!((w - want).abs() < 1e-12, "{r:?}");
    }
    // A forum order for something that is not a forum, or a group that is not one, is refused.
    let mut c = Class::new(&options("free-riding", Family::Bp, &d.path().join("b"))).unwrap();
    c.add_town().unwrap();
    let mut o = OrdersInput::default();
    o.agenda
        .insert("case_conference".into(), Some("rough_sleepers".into()));
    let e = c.submit(0, c.seats()[0], &o).unwrap_err();
    assert!(e.contains("agenda.case_conference: not a forum"), "{e}");
}
