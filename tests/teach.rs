//! `silos teach`: each lesson runs without a terminal, its narration's numbers are the runs'
//! CSV numbers, step mode reads the teacher's input, and a lever is compared with the
//! lesson's baseline.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use silos::overrides::Override;
use silos::scenario::Scenario;
use silos::teach::{self, LessonReport, Span, TeachError, TeachOptions, pct};

const ALL: [&str; 3] = ["free-riding", "dumping", "capture"];

fn opts(dir: &Path) -> TeachOptions {
    TeachOptions {
        out_dir: dir.to_path_buf(),
        charts: false,
        ..TeachOptions::default()
    }
}

fn run(name: &str, o: &TeachOptions, input: &str) -> (LessonReport, String) {
    let mut out = Vec::new();
    let r = teach::run_lesson(name, o, &mut Cursor::new(input.as_bytes()), &mut out)
        .unwrap_or_else(|e| panic!("lesson {name}: {e}"));
    let text = String::from_utf8(out).expect("narration is UTF-8");
    (r, text)
}

/// A CSV file as rows of column -> text.
fn csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut rd = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let head: Vec<String> = rd.headers().unwrap().iter().map(str::to_string).collect();
    rd.records()
        .map(|r| {
            let r = r.unwrap();
            head.iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, col: &str) -> f64 {
    let v = row.get(col).unwrap_or_else(|| panic!("no column {col}"));
    if v == "NA" {
        f64::NAN
    } else {
        v.parse().unwrap_or_else(|_| panic!("{col} = {v:?}"))
    }
}

fn tick_of(row: &BTreeMap<String, String>) -> u32 {
    num(row, "tick") as u32
}

fn close(a: f64, b: f64, what: &str) {
    let tol = 1e-9 * a.abs().max(b.abs()).max(1.0);
    assert!(
        (a.is_nan() && b.is_nan()) || (a - b).abs() <= tol,
        "{what}: narration {a} against CSV {b}"
    );
}

/// Sum `col` over the rows with tick in the span (and matching `key = value`, if given).
fn sum(rows: &[BTreeMap<String, String>], s: &Span, col: &str, key: Option<(&str, &str)>) -> f64 {
    rows.iter()
        .filter(|r| (s.first_tick..=s.last_tick).contains(&tick_of(r)))
        .filter(|r| key.is_none_or(|(k, v)| r[k] == v))
        .map(|r| num(r, col))
        .sum()
}

/// Check every number a span holds against the arm's files.
fn check_span(dir: &Path, s: &Span, whole_run: bool) {
    let ticks = csv(&dir.join("ticks.csv"));
    let agencies = csv(&dir.join("agencies.csv"));
    let groups = csv(&dir.join("groups.csv"));
    let mechs = csv(&dir.join("mechanisms.csv"));
    let agenda = csv(&dir.join("agenda.csv"));
    let flows = csv(&dir.join("flows.csv"));
    for (field, col) in [
        (s.arrivals as f64, "arrivals"),
        (s.served as f64, "served"),
        (s.fell_through as f64, "fell_through"),
        (s.fell_lost as f64, "fell_lost"),
        (s.fell_refused as f64, "fell_refused"),
        (s.need, "need"),
        (s.need_met, "need_met"),
        (s.referrals as f64, "referrals"),
        (s.dumped as f64, "dumped_referrals"),
        (s.reimbursed, "reimbursed"),
        (s.dumping_charges, "dumping_charges"),
        (s.dumping_detected as f64, "dumping_detected"),
    ] {
        close(field, sum(&ticks, s, col, None), col);
    }
    for (m, col) in [
        (s.free_riding, "free_riding"),
        (s.agenda_capture, "agenda_capture"),
    ] {
        let v: Vec<f64> = ticks
            .iter()
            .filter(|r| (s.first_tick..=s.last_tick).contains(&tick_of(r)))
            .map(|r| num(r, col))
            .filter(|v| !v.is_nan())
            .collect();
        assert_eq!(m.n as usize, v.len(), "{col}: defined ticks");
        close(m.value(), v.iter().sum::<f64>() / v.len() as f64, col);
    }
    for a in &s.agencies {
        let k = Some(("agency", a.name.as_str()));
        for (field, col) in [
            (a.spend_hosting, "spend_hosting"),
            (a.coordination_cost, "coordination_cost"),
            (a.coordination_benefit, "coordination_benefit"),
            (a.spend_pool, "spend_pool"),
            (a.pool_paid_for, "pool_paid_for"),
            (a.reimbursed, "reimbursed"),
            (a.referrals_out as f64, "referrals_out"),
            (a.referrals_in as f64, "referrals_in"),
            (a.cases_led as f64, "cases_led"),
            (a.hosting as f64, "hosting"),
        ] {
            close(
                field,
                sum(&agencies, s, col, k),
                &format!("{} {col}", a.name),
            );
        }
        let last = agencies
            .iter()
            .find(|r| tick_of(r) == s.last_tick && r["agency"] == a.name)
            .expect("a row for the span's last tick");
        close(a.power, num(last, "power"), "power");
        close(
            a.resentment_out,
            num(last, "resentment_out"),
            "resentment_out",
        );
    }
    for g in &s.groups {
        let k = Some(("group", g.name.as_str()));
        let rows: Vec<_> = groups.to_vec();
        for (field, col) in [
            (g.arrivals as f64, "arrivals"),
            (g.need, "need"),
            (g.need_met, "need_met"),
            (g.referrals as f64, "referrals"),
            (g.dumped as f64, "dumped_referrals"),
            (g.fell_through as f64, "fell_through"),
        ] {
            close(field, sum(&rows, s, col, k), &format!("{} {col}", g.name));
        }
    }
    let n = s.agencies.len();
    for ms in &s.mechanisms {
        let rows: Vec<_> = mechs
            .iter()
            .filter(|r| r["mechanism"] == ms.name)
            .cloned()
            .collect();
        for (i, a) in s.agencies.iter().enumerate() {
            let k = Some(("agency", a.name.as_str()));
            close(ms.cost[i], sum(&rows, s, "cost", k), "mechanism cost");
            close(
                ms.benefit[i],
                sum(&rows, s, "benefit", k),
                "mechanism benefit",
            );
            close(
                ms.host_ticks[i] as f64,
                sum(&rows, s, "host", k),
                "host ticks",
            );
            close(
                ms.member_ticks[i] as f64,
                sum(&rows, s, "member", k),
                "member ticks",
            );
        }
        let mean = ms.agenda_mean();
        for (g, gs) in s.groups.iter().enumerate() {
            let v: Vec<f64> = agenda
                .iter()
                .filter(|r| r["mechanism"] == ms.name && r["group"] == gs.name)
                .filter(|r| (s.first_tick..=s.last_tick).contains(&tick_of(r)))
                .map(|r| num(r, "agenda_weight"))
                .collect();
            let want = if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            };
            close(mean[g], want, "agenda mean");
        }
    }
    for a in 0..n {
        for b in 0..n {
            let (sn, rn) = (&s.agencies[a].name, &s.agencies[b].name);
            let f: Vec<_> = flows
                .iter()
                .filter(|r| &r["sender"] == sn && &r["receiver"] == rn)
                .cloned()
                .collect();
            close(
                s.flows[a * n + b] as f64,
                sum(&f, s, "referrals", None),
                "flows",
            );
            close(
                s.dumped_flows[a * n + b] as f64,
                sum(&f, s, "dumped_referrals", None),
                "dumped flows",
            );
        }
    }
    if whole_run {
        // dumping.csv holds the run's sender x receiver totals.
        let d = csv(&dir.join("dumping.csv"));
        let total: f64 = d.iter().map(|r| num(r, "referrals")).sum();
        close(s.referrals as f64, total, "dumping.csv referrals");
        for r in &d {
            let a = s
                .agencies
                .iter()
                .position(|x| x.name == r["sender"])
                .unwrap();
            let b = s
                .agencies
                .iter()
                .position(|x| x.name == r["receiver"])
                .unwrap();
            close(
                s.flows[a * n + b] as f64,
                num(r, "referrals"),
                "dumping.csv",
            );
            close(
                s.dumped_flows[a * n + b] as f64,
                num(r, "dumped_referrals"),
                "dumping.csv",
            );
        }
    }
}

/// The two cells of a table row in a narration section (the fixed-width layout).
fn cells(section: &str, label: &str) -> (String, String) {
    let line = section
        .lines()
        .find(|l| l.starts_with(label) && l.chars().nth(label.chars().count()) == Some(' '))
        .unwrap_or_else(|| panic!("no row {label:?} in\n{section}"));
    let chars: Vec<char> = line.chars().collect();
    let a: String = chars[32..54].iter().collect();
    let b: String = chars[56..].iter().collect();
    (a.trim().to_string(), b.trim().to_string())
}

fn summary(text: &str) -> &str {
    &text[text.find("══ Summary").expect("a summary")..]
}

#[test]
fn the_lessons_are_listed_and_embedded() {
    let names: Vec<&str> = teach::lessons().iter().map(|l| l.name).collect();
    assert_eq!(names, ALL);
    let list = teach::lesson_list();
    for l in teach::lessons() {
        assert!(list.contains(l.name) && list.contains(l.title), "{list}");
        // The embedded copy is the file in the repository, and it is a valid scenario.
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(l.file);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), l.scenario);
        let s = Scenario::from_toml_str(l.scenario, l.file).unwrap();
        assert!(
            (5..=8).contains(&s.agencies.len()),
            "{}: a class-sized arena",
            l.name
        );
        assert!((12..=24).contains(&s.ticks), "{}: a short run", l.name);
        // The lever the lesson suggests is a valid override.
        let o = Override::parse(l.lever).unwrap();
        Scenario::from_toml_str_with(l.scenario, l.file, &[o]).unwrap();
    }
}

#[test]
fn unknown_lessons_and_bad_levers_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    let e = teach::run_lesson(
        "dumpping",
        &opts(dir.path()),
        &mut Cursor::new(""),
        &mut out,
    )
    .unwrap_err();
    assert!(matches!(e, TeachError::UnknownLesson { .. }));
    let msg = e.to_string();
    for n in ALL {
        assert!(msg.contains(n), "{msg}");
    }
    let mut o = opts(dir.path());
    o.overrides = vec![Override::parse("levers.host_reimbursement=2").unwrap()];
    let e = teach::run_lesson("free-riding", &o, &mut Cursor::new(""), &mut out).unwrap_err();
    assert!(matches!(e, TeachError::Scenario(_)));
    let msg = e.to_string();
    assert!(
        msg.contains("levers.host_reimbursement") && msg.contains("allowed"),
        "{msg}"
    );
    let mut o = opts(dir.path());
    o.ticks = Some(0);
    let e = teach::run_lesson("capture", &o, &mut Cursor::new(""), &mut out).unwrap_err();
    assert!(matches!(e, TeachError::NoTicks));
}

#[test]
fn each_lesson_runs_straight_through_and_its_numbers_are_the_csv_numbers() {
    for name in ALL {
        let dir = tempfile::tempdir().unwrap();
        let (r, text) = run(name, &opts(dir.path()), "");
        assert!(!r.stopped_early);
        assert_eq!(r.periods_narrated, r.ra.periods.len());
        assert_eq!(r.ra.periods.len() as u32, r.ticks.div_ceil(3));
        assert_eq!(r.narration, text);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("narration.txt")).unwrap(),
            text
        );
        assert!(text.contains("Quarter 1 · months 1–3"), "{text}");
        assert!(
            text.contains("Rational administration: ") && text.contains("Bureaucratic politics: ")
        );
        assert!(dir.path().join("handout.html").is_file());
        for arm in [&r.ra, &r.bp] {
            for f in [
                "ticks.csv",
                "agencies.csv",
                "groups.csv",
                "needs.csv",
                "dumping.csv",
                "manifest.json",
                "mechanisms.csv",
                "agenda.csv",
                "flows.csv",
            ] {
                assert!(arm.dir.join(f).is_file(), "{name}: {f}");
            }
            for p in &arm.periods {
                check_span(&arm.dir, p, false);
            }
            check_span(&arm.dir, &arm.run, true);
            // The periods add up to the run.
            let a: u64 = arm.periods.iter().map(|p| p.referrals).sum();
            assert_eq!(a, arm.run.referrals);
        }
        // The same people arrive in both runs.
        assert_eq!(r.ra.run.arrivals, r.bp.run.arrivals);
        for (a, b) in r.ra.periods.iter().zip(&r.bp.periods) {
            let ga: Vec<u64> = a.groups.iter().map(|g| g.arrivals).collect();
            let gb: Vec<u64> = b.groups.iter().map(|g| g.arrivals).collect();
            assert_eq!(ga, gb);
        }
        // The manifests name the behaviour each arm ran.
        let m = std::fs::read_to_string(r.bp.dir.join("manifest.json")).unwrap();
        assert!(
            m.contains("\"behaviour\": \"bp\"") && m.contains(name),
            "{m}"
        );
    }
}

#[test]
fn the_narrated_tables_show_the_csv_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (r, text) = run("dumping", &opts(dir.path()), "");
    let sum = summary(&text);
    let want = |d: &Path| {
        let t = csv(&d.join("ticks.csv"));
        let total = |c: &str| t.iter().map(|r| num(r, c)).sum::<f64>();
        (
            format!("{}", total("referrals")),
            format!(
                "{} ({})",
                total("dumped_referrals"),
                pct(total("dumped_referrals") / total("referrals"))
            ),
            pct(total("need_met") / total("need")),
            format!("{}", total("arrivals")),
        )
    };
    let (ra, bp) = (want(&r.ra.dir), want(&r.bp.dir));
    assert_eq!(cells(sum, "Referrals (cases passed on)"), (ra.0, bp.0));
    assert_eq!(cells(sum, "  counted as dumping"), (ra.1, bp.1));
    assert_eq!(cells(sum, "Need met"), (ra.2, bp.2));
    assert_eq!(cells(sum, "People arriving"), (ra.3, bp.3));
    // The agency that received the most dumped referrals, from dumping.csv.
    let d = csv(&r.bp.dir.join("dumping.csv"));
    let mut by: BTreeMap<String, f64> = BTreeMap::new();
    for row in &d {
        *by.entry(row["receiver"].clone()).or_default() += num(row, "dumped_referrals");
    }
    let (top, n) = by
        .iter()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(k, v)| (k.clone(), *v))
        .unwrap();
    let label = &r
        .bp
        .run
        .agencies
        .iter()
        .find(|a| a.name == top)
        .unwrap()
        .label;
    assert_eq!(cells(sum, "Received most dumping").1, *label);
    assert_eq!(
        cells(sum, "  dumped referrals it received").1,
        format!("{n}")
    );

    // Free riding: the host's share of the case conference's cost, from mechanisms.csv.
    let dir = tempfile::tempdir().unwrap();
    let (r, text) = run("free-riding", &opts(dir.path()), "");
    let sum = summary(&text);
    let share = |d: &Path| {
        let m: Vec<_> = csv(&d.join("mechanisms.csv"))
            .into_iter()
            .filter(|r| r["mechanism"] == "case_conference")
            .collect();
        let mut host_ticks: BTreeMap<String, f64> = BTreeMap::new();
        for row in &m {
            *host_ticks.entry(row["agency"].clone()).or_default() += num(row, "host");
        }
        let host = host_ticks
            .iter()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|x| x.0.clone())
            .unwrap();
        let of = |c: &str, who: Option<&str>| {
            m.iter()
                .filter(|r| who.is_none_or(|w| r["agency"] == w))
                .map(|r| num(r, c))
                .sum::<f64>()
        };
        (
            pct(of("cost", Some(&host)) / of("cost", None)),
            pct(of("benefit", Some(&host)) / of("benefit", None)),
        )
    };
    let (ra, bp) = (share(&r.ra.dir), share(&r.bp.dir));
    assert_eq!(cells(sum, "  host's share of the cost"), (ra.0, bp.0));
    assert_eq!(cells(sum, "  host's share of the benefit"), (ra.1, bp.1));
    let paid = |d: &Path| {
        let a = csv(&d.join("agencies.csv"));
        teach::money(a.iter().map(|r| num(r, "spend_pool")).sum())
    };
    assert_eq!(
        cells(sum, "Joint fund: paid in"),
        (paid(&r.ra.dir), paid(&r.bp.dir))
    );

    // Capture: the agenda capture index, averaged over the months from ticks.csv.
    let dir = tempfile::tempdir().unwrap();
    let (r, text) = run("capture", &opts(dir.path()), "");
    let sum = summary(&text);
    let cap = |d: &Path| {
        let v: Vec<f64> = csv(&d.join("ticks.csv"))
            .iter()
            .map(|r| num(r, "agenda_capture"))
            .filter(|v| !v.is_nan())
            .collect();
        teach::index(v.iter().sum::<f64>() / v.len() as f64)
    };
    assert_eq!(
        cells(sum, "Agenda capture (0 = need)"),
        (cap(&r.ra.dir), cap(&r.bp.dir))
    );
    let flat = sum.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains(&format!("agenda capture averaged {}.", cap(&r.bp.dir))));
    // Need met of each group, from groups.csv.
    for g in &r.ra.run.groups {
        let share = |d: &Path| {
            let rows: Vec<_> = csv(&d.join("groups.csv"))
                .into_iter()
                .filter(|r| r["group"] == g.name)
                .collect();
            let t = |c: &str| rows.iter().map(|r| num(r, c)).sum::<f64>();
            pct(t("need_met") / t("need"))
        };
        assert_eq!(
            cells(sum, &format!("Need met: {}", g.label)),
            (share(&r.ra.dir), share(&r.bp.dir))
        );
    }
}

#[test]
fn step_mode_pauses_each_quarter_and_stops_on_q() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.step = true;
    // Enter to start, Enter after the first quarter, q after the second.
    let (r, text) = run("dumping", &o, "\n\nq\n");
    assert!(r.stopped_early);
    assert_eq!(r.periods_narrated, 2);
    assert_eq!(text.matches("[Enter]").count(), 3, "{text}");
    assert!(text.contains("Quarter 2 ·") && !text.contains("Quarter 3 ·"));
    assert!(text.contains("Stopped after 2 of 4 quarters"), "{text}");
    assert!(!text.contains("══ Summary"));
    // The runs were finished all the same.
    let ticks = csv(&r.ra.dir.join("ticks.csv"));
    assert_eq!(ticks.len() as u32, r.ticks);
    assert!(dir.path().join("handout.html").is_file());

    // Q (any case) also stops; at the end of the input the lesson runs on without pausing.
    let (r, _) = run("dumping", &o, "Q\n");
    assert!(r.stopped_early && r.periods_narrated == 0);
    let (r, text) = run("dumping", &o, "\n");
    assert!(!r.stopped_early);
    assert_eq!(r.periods_narrated, 4);
    assert_eq!(
        text.matches("[Enter]").count(),
        2,
        "one answered, one met the end"
    );
    assert!(text.contains("══ Summary"));
}

#[test]
fn a_lever_is_compared_with_the_lessons_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.overrides = vec![Override::parse("levers.host_reimbursement=1").unwrap()];
    let (r, text) = run("free-riding", &o, "");
    let base = r.baseline.as_ref().expect("the baseline ran");
    assert!(base[0].dir.ends_with("baseline/ra") && base[1].dir.ends_with("baseline/bp"));
    for b in base {
        check_span(&b.dir, &b.run, true);
    }
    // The baseline is the lesson without the lever, same seed.
    let other = tempfile::tempdir().unwrap();
    let (plain, _) = run("free-riding", &opts(other.path()), "");
    assert_eq!(base[1].run, plain.bp.run);
    assert_eq!(base[0].run, plain.ra.run);
    assert!(r.ra.run.reimbursed > 0.0 && base[0].run.reimbursed == 0.0);
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("With --set levers.host_reimbursement=1 against the lesson's baseline"));
    let sum = summary(&text);
    let (ra, _) = cells(sum, "Hosting costs reimbursed");
    assert_eq!(ra, teach::money(r.ra.run.reimbursed));
    let lever = &sum[sum.find("Baseline → with lever").expect("the lever table")..];
    let (ra, bp) = cells(lever, "Hosting costs reimbursed");
    assert_eq!(ra, format!("£0.0k → {}", teach::money(r.ra.run.reimbursed)));
    assert_eq!(bp, format!("£0.0k → {}", teach::money(r.bp.run.reimbursed)));
    let m = std::fs::read_to_string(r.ra.dir.join("manifest.json")).unwrap();
    assert!(m.contains("levers.host_reimbursement=1"), "{m}");
    let m = std::fs::read_to_string(base[0].dir.join("manifest.json")).unwrap();
    assert!(!m.contains("levers.host_reimbursement=1"), "{m}");
}

#[test]
fn a_seed_and_a_length_can_be_chosen() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.seed = Some(3);
    o.ticks = Some(7);
    let (r, text) = run("capture", &o, "");
    assert_eq!((r.seed, r.ticks), (3, 7));
    assert_eq!(r.ra.periods.len(), 3);
    assert_eq!(r.ra.periods[2].ticks(), 1);
    assert!(text.contains("Quarter 3 · month 7"), "{text}");
    assert!(text.contains("seed 3"));
}

#[cfg(feature = "plots")]
#[test]
fn the_handout_is_one_self_contained_printable_page_with_its_charts() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts(dir.path());
    o.charts = true;
    let (r, _) = run("capture", &o, "");
    assert!(r.notes.is_empty(), "{:?}", r.notes);
    assert_eq!(r.charts.len(), 2);
    for c in &r.charts {
        let bytes = std::fs::read(&c.path).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{}", c.path.display());
    }
    let h = std::fs::read_to_string(&r.handout).unwrap();
    assert_eq!(h.matches("src=\"data:image/png;base64,").count(), 2);
    assert!(h.contains("@media print") && h.contains("size: A4"));
    assert!(
        !h.contains("src=\"http") && !h.contains("<link"),
        "self-contained"
    );
    assert!(h.contains("What the numbers show in this run"));
    // The arms' own run charts, for slides.
    assert!(r.bp.dir.join("plots").is_dir());
}

/// Every lesson's charts, with and without a lever and at the shortest and a long run, print
/// their smallest text at 8 pt or more on the A4 handout (its smallest text as drawn, scaled
/// by the chart's printed width over its pixel width), and the handout prints each chart at
/// that width.
#[test]
fn handout_chart_text_prints_at_eight_points_or_more() {
    let levers = [
        ("free-riding", "levers.host_reimbursement=1"),
        (
            "dumping",
            "levers.referral_inspection={ detection = 0.8, charge = 3.0 }",
        ),
        ("capture", "levers.forum_rule=equal_votes"),
    ];
    for (lesson, lever) in levers {
        for (set, ticks) in [(None, Some(6)), (Some(lever), Some(120))] {
            let dir = tempfile::tempdir().unwrap();
            let mut o = opts(dir.path());
            o.charts = true;
            o.ticks = ticks;
            if let Some(l) = set {
                o.overrides = vec![Override::parse(l).unwrap()];
            }
            let (r, _) = run(lesson, &o, "");
            assert!(r.notes.is_empty(), "{:?}", r.notes);
            assert_eq!(r.charts.len(), 2);
            let h = std::fs::read_to_string(&r.handout).unwrap();
            for c in &r.charts {
                let pt = c.smallest_text_pt();
                assert!(
                    pt >= 8.0,
                    "{lesson} {set:?}: {} prints its smallest text at {pt:.2} pt \
                     ({} px on {} px printed {} mm wide)",
                    c.path.display(),
                    c.smallest_text_px,
                    c.width_px,
                    c.width_mm
                );
                assert!(
                    h.contains(&format!("style=\"width: {:.1}mm\"", c.width_mm)),
                    "{lesson}: the handout does not print {} at {} mm",
                    c.path.display(),
                    c.width_mm
                );
                let png = std::fs::read(&c.path).unwrap();
                let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
                assert_eq!(width, c.width_px, "{}", c.path.display());
            }
        }
    }
}
