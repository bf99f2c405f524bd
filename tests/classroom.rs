//! Participatory classes over HTTP, as the teacher's and students' pages drive them, on
//! loopback: a class played to the end with the debrief checked against the decision log;
//! tokens (a student acts only for their own seat; a kicked seat's token stops working);
//! bad messages get clear errors and the class goes on; rate limits; the round timer, pause
//! and resume; ending early. And a load test: 60 students in 10 towns acting every round
//! of a whole lesson, every decision accounted for, with the round latency printed
//! (`cargo test --release --test classroom -- --nocapture sixty`).
#![cfg(feature = "serve")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use silos::serve::{Handle, ServeOptions, spawn};

use common::http as req;

/// A request that must succeed; its JSON.
fn ok(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Value) -> Value {
    let b = body.to_string();
    let (st, text) = req(addr, method, path, token, Some(&b));
    assert!(st == 200 || st == 201, "{method} {path} {b}: {st} {text}");
    serde_json::from_str(&text).unwrap()
}

/// A request that must fail with `status`; its error message.
fn fails(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
    status: u16,
) -> String {
    let (st, text) = req(addr, method, path, token, Some(body));
    assert_eq!(st, status, "{method} {path} {body}: {text}");
    serde_json::from_str::<Value>(&text)
        .map(|v| v["error"].as_str().unwrap_or_default().to_string())
        .unwrap_or(text)
}

fn server(out: &Path) -> Handle {
    spawn(&ServeOptions {
        port: 0,
        lan: false,
        out: out.to_path_buf(),
    })
    .unwrap()
}

struct Teacher {
    addr: SocketAddr,
    id: u64,
    token: String,
    code: String,
}

impl Teacher {
    fn open(addr: SocketAddr, body: Value) -> Teacher {
        let st = ok(addr, "POST", "/api/classes", None, body);
        assert_eq!(st["phase"], "lobby");
        Teacher {
            addr,
            id: st["id"].as_u64().unwrap(),
            token: st["teacher_token"].as_str().unwrap().to_string(),
            code: st["code"].as_str().unwrap().to_string(),
        }
    }

    fn state(&self) -> Value {
        ok(
            self.addr,
            "GET",
            &format!("/api/classes/{}", self.id),
            Some(&self.token),
            Value::Null,
        )
    }

    fn control(&self, action: &str) -> Value {
        ok(
            self.addr,
            "POST",
            &format!("/api/classes/{}/{action}", self.id),
            Some(&self.token),
            json!({}),
        )
    }

    fn log(&self, file: &str) -> Vec<BTreeMap<String, String>> {
        let (st, text) = req(
            self.addr,
            "GET",
            &format!("/api/classes/{}/log/{file}", self.id),
            Some(&self.token),
            None,
        );
        assert_eq!(st, 200, "{text}");
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        r.records()
            .map(|x| {
                head.iter()
                    .cloned()
                    .zip(x.unwrap().iter().map(String::from))
                    .collect()
            })
            .collect()
    }

    fn join(&self, name: &str) -> Student {
        let j = ok(
            self.addr,
            "POST",
            "/api/join",
            None,
            json!({"code": self.code.to_lowercase(), "name": name}),
        );
        Student {
            addr: self.addr,
            token: j["token"].as_str().unwrap().to_string(),
            name: name.to_string(),
            agency: j["agency"].as_str().unwrap().to_string(),
            town: j["town"].as_u64().unwrap(),
        }
    }
}

struct Student {
    addr: SocketAddr,
    token: String,
    name: String,
    agency: String,
    town: u64,
}

impl Student {
    fn seat(&self) -> (u16, Value) {
        let (st, text) = req(self.addr, "GET", "/api/seat", Some(&self.token), None);
        (st, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn send(&self, orders: &Value) -> (u16, Value) {
        let (st, text) = req(
            self.addr,
            "POST",
            "/api/seat/orders",
            Some(&self.token),
            Some(&orders.to_string()),
        );
        (st, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn round_of(st: &Value) -> u64 {
    st["frame"]["round"].as_u64().unwrap()
}

/// Two students and a bot seat play the dumping lesson to the end; every round closes as
/// soon as both have sent orders; the debrief and the logs agree with what they sent.
#[test]
fn a_class_played_to_the_end_over_http() {
    let out = tempfile::tempdir().unwrap();
    let h = server(out.path());
    let t = Teacher::open(
        h.addr,
        json!({"lesson": "dumping", "bot": "bp", "round_seconds": 600,
               "seats": ["housing", "probation", "police"], "seed": 3}),
    );
    let ada = t.join("Ada");
    let ben = t.join("Ben");
    assert_eq!(
        (ada.agency.as_str(), ben.agency.as_str()),
        ("housing", "probation")
    );
    assert_eq!((ada.town, ben.town), (1, 1));
    // Orders before the first round are refused.
    let (st, v) = ada.send(&json!({}));
    assert_eq!(st, 409, "{v}");
    let st = t.control("start");
    assert_eq!(st["phase"], "open");
    assert!(st["left_ms"].as_u64().unwrap() > 590_000);
    let rounds = st["frame"]["rounds"].as_u64().unwrap();
    assert_eq!(rounds, 4);
    let mut sent: Vec<(u64, &str, Value)> = Vec::new();
    for r in 0..rounds {
        let a = if r % 2 == 0 {
            json!({"triage": {"ex_offenders": {"pass": "probation"}, "families": "keep"}})
        } else {
            json!({"triage": {"ex_offenders": "decline"}, "help": true})
        };
        let b = json!({"triage": {"rough_sleepers": {"pass": "hostel"}}, "help": false});
        let (st, v) = ada.send(&a);
        assert_eq!(st, 200, "{v}");
        assert_eq!(v["view"]["submitted"], true);
        assert_eq!(
            round_of(&t.state()),
            r,
            "one of two has decided: the round is open"
        );
        let (st, v) = ben.send(&b);
        assert_eq!(st, 200, "{v}");
        // Both have decided: the round closed at once.
        assert_eq!(round_of(&t.state()), r + 1);
        sent.push((r + 1, "Ada", a));
        sent.push((r + 1, "Ben", b));
    }
    let st = t.state();
    assert_eq!(st["phase"], "ended");
    let debrief = &st["debrief"];
    assert!(debrief.is_object());
    // The decision log has what they sent, as students; the bot seat is the bot's.
    let dec = t.log("decisions.csv");
    for (round, name, o) in &sent {
        for (group, route) in o["triage"].as_object().unwrap() {
            let want = match route {
                Value::String(s) => s.clone(),
                v => format!("pass:{}", v["pass"].as_str().unwrap()),
            };
            let row = dec
                .iter()
                .find(|d| {
                    d["round"] == round.to_string()
                        && d["player"] == *name
                        && d["kind"] == "triage"
                        && d["subject"] == *group
                })
                .unwrap();
            assert_eq!(row["source"], "student");
            assert_eq!(row["choice"], want, "{name} round {round} {group}");
        }
    }
    assert!(
        dec.iter()
            .filter(|d| d["agency"] == "police")
            .all(|d| d["source"] == "bot" && d["choice"] == "bot")
    );
    for s in debrief["seats"].as_array().unwrap() {
        let agency = s["agency"].as_str().unwrap();
        let decided: BTreeSet<&str> = dec
            .iter()
            .filter(|d| d["agency"] == agency && d["source"] == "student")
            .map(|d| d["round"].as_str())
            .collect();
        assert_eq!(s["rounds_decided"], decided.len() as u64, "{agency}");
    }
    // Each student sees their own debrief row.
    let (st, v) = ada.seat();
    assert_eq!(st, 200);
    assert_eq!(v["phase"], "ended");
    assert_eq!(v["debrief"]["agency"], "housing");
    assert_eq!(v["debrief"]["players"], json!(["Ada"]));
    // After the end: no more orders.
    let (st, _) = ben.send(&json!({}));
    assert_eq!(st, 409);
    // The files are there.
    let dir = PathBuf::from(t.state()["out_dir"].as_str().unwrap());
    for f in [
        "decisions.csv",
        "rounds.csv",
        "debrief.json",
        "town-1/ticks.csv",
        "ra/ticks.csv",
    ] {
        assert!(dir.join(f).is_file(), "{f}");
    }
}

/// A student acts only for their own seat: their token opens no teacher route, no token or
/// a made-up one opens nothing, and a kicked seat's token stops working.
#[test]
fn tokens_keep_each_seat_to_its_student() {
    let out = tempfile::tempdir().unwrap();
    let h = server(out.path());
    let t = Teacher::open(
        h.addr,
        json!({"lesson": "free-riding", "round_seconds": 600}),
    );
    let ada = t.join("Ada");
    let ben = t.join("Ben");
    let path = format!("/api/classes/{}", t.id);
    let m = fails(h.addr, "GET", &path, Some(&ada.token), "", 403);
    assert!(m.contains("not this class's teacher token"), "{m}");
    fails(h.addr, "GET", &path, None, "", 401);
    for action in ["start", "pause", "next", "end"] {
        fails(
            h.addr,
            "POST",
            &format!("{path}/{action}"),
            Some(&ada.token),
            "{}",
            403,
        );
    }
    fails(h.addr, "GET", "/api/seat", None, "", 401);
    fails(
        h.addr,
        "GET",
        "/api/seat",
        Some("0123456789abcdef0123456789abcdef"),
        "",
        401,
    );
    fails(
        h.addr,
        "GET",
        &format!("{path}/log/decisions.csv"),
        Some(&ben.token),
        "",
        403,
    );
    // The teacher kicks Ada's seat back to the bot.
    let st = ok(
        h.addr,
        "POST",
        &format!("{path}/kick"),
        Some(&t.token),
        json!({"town": 1, "agency": ada.agency}),
    );
    let seat = st["frame"]["towns"][0]["players"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["agency"] == ada.agency.as_str())
        .unwrap()
        .clone();
    assert_eq!(seat["player"], Value::Null);
    let m = fails(h.addr, "GET", "/api/seat", Some(&ada.token), "", 401);
    assert!(m.contains("join again"), "{m}");
    assert_eq!(ben.seat().0, 200, "Ben is unaffected");
    // Ada joins again and is given the free seat.
    let ada2 = t.join("Ada");
    assert_eq!(ada2.agency, ada.agency);
    // Kicking a seat that is not one, or a town that does not exist.
    let m = fails(
        h.addr,
        "POST",
        &format!("{path}/kick"),
        Some(&t.token),
        r#"{"town": 9, "agency": "housing"}"#,
        400,
    );
    assert!(m.contains("town: 9"), "{m}");
    let m = fails(
        h.addr,
        "POST",
        &format!("{path}/kick"),
        Some(&t.token),
        r#"{"town": 1, "agency": "mayor"}"#,
        400,
    );
    assert!(m.contains("\"mayor\" is not a seat"), "{m}");
}

/// Every bad message gets a 4xx naming what was wrong, and the class goes on.
#[test]
fn bad_messages_get_clear_errors_and_the_class_goes_on() {
    let out = tempfile::tempdir().unwrap();
    let h = server(out.path());
    let a = h.addr;
    for (body, says) in [
        (r#"{"lesson": "chess"}"#, "unknown lesson"),
        (
            r#"{"lesson": "dumping", "bot": "anarchist"}"#,
            "bot: \"anarchist\" is not allowed",
        ),
        (
            r#"{"lesson": "dumping", "round_seconds": 1}"#,
            "round_seconds: 1 is not allowed",
        ),
        (
            r#"{"lesson": "dumping", "towns": 0}"#,
            "towns: 0 is not allowed",
        ),
        (
            r#"{"lesson": "dumping", "ticks": 100000}"#,
            "ticks: 100000 is not allowed",
        ),
        (
            r#"{"lesson": "dumping", "seats": ["mayor"]}"#,
            "seats: no agency \"mayor\"",
        ),
        (
            r#"{"lesson": "dumping", "set": {"scenario": "/etc/passwd"}}"#,
            "not a lever",
        ),
        (
            r#"{"lesson": "dumping", "colour": "red"}"#,
            "unknown field `colour`",
        ),
    ] {
        let m = fails(a, "POST", "/api/classes", None, body, 400);
        assert!(m.contains(says), "{body}: {m}");
    }
    let t = Teacher::open(a, json!({"lesson": "free-riding", "round_seconds": 600}));
    let m = fails(
        a,
        "POST",
        "/api/join",
        None,
        r#"{"code": "ZZZZZZ", "name": "Ada"}"#,
        404,
    );
    assert!(m.contains("no class has the code"), "{m}");
    for name in ["", "   ", "a\nb", &"x".repeat(41)] {
        let body = json!({"code": t.code, "name": name}).to_string();
        let m = fails(a, "POST", "/api/join", None, &body, 400);
        assert!(m.contains("name:"), "{m}");
    }
    let ada = t.join("Ada");
    t.control("start");
    for (body, says) in [
        (
            r#"{"triage": {"dragons": "keep"}}"#,
            "triage.dragons: not a client group",
        ),
        (
            r#"{"triage": {"rough_sleepers": "eat"}}"#,
            "\"eat\" is not allowed",
        ),
        (
            r#"{"triage": {"rough_sleepers": {"pass": "housing"}}}"#,
            "not another agency",
        ),
        (
            r#"{"triage": {"rough_sleepers": {"pass": "mayor"}}}"#,
            "triage.rough_sleepers.pass",
        ),
        (
            r#"{"contribute": {"joint_fund": -1}}"#,
            "contribute.joint_fund: -1 is not allowed",
        ),
        (
            r#"{"contribute": {"joint_fund": 1e12}}"#,
            "contribute.joint_fund",
        ),
        (r#"{"contribute": {"joint_fund": "lots"}}"#, "request body"),
        (
            r#"{"join": {"town_hall": true}}"#,
            "join.town_hall: not an arrangement",
        ),
        (
            r#"{"sanction": {"joint_fund": ["health"]}}"#,
            "sanctions are off",
        ),
        (r#"{"bribe": 5}"#, "unknown field `bribe`"),
        (r#"not json"#, "request body"),
    ] {
        let m = fails(a, "POST", "/api/seat/orders", Some(&ada.token), body, 400);
        assert!(m.contains(says), "{body}: {m}");
    }
    // Too large a message.
    let big = format!(r#"{{"triage": {{"{}": "keep"}}}}"#, "x".repeat(20_000));
    let (st, _) = req(a, "POST", "/api/seat/orders", Some(&ada.token), Some(&big));
    assert_eq!(st, 413);
    // Unknown routes and controls.
    fails(
        a,
        "POST",
        &format!("/api/classes/{}/explode", t.id),
        Some(&t.token),
        "{}",
        404,
    );
    fails(a, "GET", "/api/classes/999", Some(&t.token), "", 404);
    fails(
        a,
        "POST",
        &format!("/api/classes/{}/start", t.id),
        Some(&t.token),
        "{}",
        409,
    );
    // Nothing bad was held, and the class goes on.
    let (st, v) = ada.seat();
    assert_eq!(st, 200);
    assert_eq!(v["view"]["submitted"], false);
    let (st, v) = ada.send(&json!({"contribute": {"joint_fund": 2}}));
    assert_eq!(st, 200, "{v}");
    assert_eq!(
        round_of(&t.state()),
        1,
        "the only student decided: the round closed"
    );
}

/// A seat that sends too many messages is slowed down; others are not.
#[test]
fn a_seat_sending_too_fast_is_slowed_down_and_others_are_not() {
    let out = tempfile::tempdir().unwrap();
    let h = server(out.path());
    let t = Teacher::open(
        h.addr,
        json!({"lesson": "free-riding", "round_seconds": 600}),
    );
    let ada = t.join("Ada");
    let ben = t.join("Ben");
    let codes: Vec<u16> = (0..40).map(|_| ada.seat().0).collect();
    assert!(codes.contains(&429), "{codes:?}");
    assert!(
        codes[..15].iter().all(|&c| c == 200),
        "a burst is allowed: {codes:?}"
    );
    let (st, v) = req(h.addr, "GET", "/api/seat", Some(&ada.token), None);
    if st == 429 {
        assert!(v.contains("too many messages"), "{v}");
    }
    assert_eq!(ben.seat().0, 200);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(ada.seat().0, 200, "the bucket refills");
}

/// The round timer closes a round nobody finished; pause stops it, resume restarts it.
#[test]
fn the_timer_closes_a_round_and_pause_stops_it() {
    let out = tempfile::tempdir().unwrap();
    let h = server(out.path());
    let t = Teacher::open(h.addr, json!({"lesson": "dumping", "round_seconds": 10}));
    let _ada = t.join("Ada"); // never sends orders
    t.control("start");
    std::thread::sleep(Duration::from_millis(1500));
    let st = t.control("pause");
    assert_eq!(st["phase"], "paused");
    let left = st["left_ms"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(1200));
    let st = t.state();
    assert_eq!(
        st["left_ms"].as_u64().unwrap(),
        left,
        "the timer stands still"
    );
    assert_eq!(round_of(&st), 0);
    let st = t.control("resume");
    assert_eq!(st["phase"], "open");
    let start = Instant::now();
    loop {
        let st = t.state();
        if round_of(&st) == 1 {
            assert_eq!(st["phase"], "open", "the next round opened");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the round did not close by its timer: {st}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The student was played by the bot.
    let dec = t.log("decisions.csv");
    let round1: Vec<_> = dec.iter().filter(|d| d["round"] == "1").collect();
    assert!(round1.iter().all(|d| d["source"] == "bot"));
    assert!(
        round1
            .iter()
            .filter(|d| d["agency"] == "housing")
            .all(|d| d["player"] == "Ada")
    );
    // The teacher closes the next round early, then ends the class.
    let st = t.control("next");
    assert_eq!(round_of(&st), 2);
    let st = t.control("end");
    assert_eq!(st["phase"], "ended");
    assert_eq!(st["debrief"]["rounds"], 2);
    let dir = PathBuf::from(st["out_dir"].as_str().unwrap());
    assert!(dir.join("debrief.json").is_file());
    let rows = common::csv_rows(&dir.join("rounds.csv"));
    assert_eq!(rows.len(), 2 * 6, "two rounds of six seats");
    let m = fails(
        h.addr,
        "POST",
        &format!("/api/classes/{}/end", t.id),
        Some(&t.token),
        "{}",
        409,
    );
    assert!(m.contains("already ended"), "{m}");
}

/// Sixty students in ten towns act every round of a whole lesson; every decision is
/// accounted for; the round latency is printed.
#[test]
fn sixty_students_play_a_whole_lesson() {
    let t0 = Instant::now();
    let out = tempfile::tempdir().unwrap();
    let h = server(out.path());
    let addr = h.addr;
    let t = Teacher::open(addr, json!({"lesson": "free-riding", "round_seconds": 600}));
    let students: Vec<Student> = (0..60).map(|k| t.join(&format!("s{k:02}"))).collect();
    let st = t.state();
    assert_eq!(st["frame"]["towns"].as_array().unwrap().len(), 10);
    assert_eq!(st["frame"]["seated"], 60);
    let rounds = st["frame"]["rounds"].as_u64().unwrap();
    t.control("start");
    let mut client_ms = Vec::new();
    for r in 0..rounds {
        // Every student sends their orders at once, from their own thread.
        let sent_at: Vec<Instant> = std::thread::scope(|sc| {
            let hs: Vec<_> = students
                .iter()
                .enumerate()
                .map(|(k, s)| {
                    sc.spawn(move || {
                        let mut o = json!({
                            "contribute": {"joint_fund": (k % 4) as f64},
                            "join": {"case_conference": k % 3 != 0},
                            "help": k % 2 == 0,
                        });
                        if s.agency != "day_centre" {
                            o["join"]["joint_fund"] = json!(true);
                        } else {
                            o.as_object_mut().unwrap().remove("contribute");
                        }
                        o["triage"] = if (k + r as usize).is_multiple_of(2) {
                            json!({"rough_sleepers": "keep"})
                        } else if s.agency == "hostel" {
                            json!({"rough_sleepers": {"pass": "housing"}})
                        } else {
                            json!({"rough_sleepers": {"pass": "hostel"}})
                        };
                        let at = Instant::now();
                        let (st, v) = s.send(&o);
                        assert!(st == 200, "{} round {r}: {st} {v}", s.name);
                        at
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let last = *sent_at.iter().max().unwrap();
        // Every student sees the next round (polling within their rate limit).
        std::thread::scope(|sc| {
            for s in &students {
                sc.spawn(move || {
                    let start = Instant::now();
                    loop {
                        let (st, v) = s.seat();
                        if st == 200
                            && (v["view"]["round"].as_u64() == Some(r + 1) || v["phase"] == "ended")
                        {
                            return;
                        }
                        assert!(
                            start.elapsed() < Duration::from_secs(120),
                            "{} waited for round {}",
                            s.name,
                            r + 2
                        );
                        std::thread::sleep(Duration::from_millis(250));
                    }
                });
            }
        });
        client_ms.push(last.elapsed().as_secs_f64() * 1e3);
    }
    let st = t.state();
    assert_eq!(st["phase"], "ended");
    // Every decision is accounted for: each student, each round, with their name.
    let dec = t.log("decisions.csv");
    let pairs: BTreeSet<(String, String, String, String)> = dec
        .iter()
        .filter(|d| d["source"] == "student")
        .map(|d| {
            (
                d["player"].clone(),
                d["town"].clone(),
                d["agency"].clone(),
                d["round"].clone(),
            )
        })
        .collect();
    assert_eq!(pairs.len(), 60 * rounds as usize);
    for s in &students {
        for r in 1..=rounds {
            assert!(
                pairs.contains(&(
                    s.name.clone(),
                    s.town.to_string(),
                    s.agency.clone(),
                    r.to_string()
                )),
                "{} round {r}",
                s.name
            );
        }
    }
    // What they left open (hosting, people leaving prison) is the bot's; nothing else.
    for d in &dec {
        let left_open =
            d["kind"] == "host" || (d["kind"] == "triage" && d["subject"] == "ex_offenders");
        assert_eq!(d["source"] == "bot", left_open, "{d:?}");
    }
    let rounds_csv = t.log("rounds.csv");
    assert_eq!(rounds_csv.len(), 60 * rounds as usize);
    assert!(rounds_csv.iter().all(|r| r["decided"] == "true"));
    let seats = st["debrief"]["seats"].as_array().unwrap();
    assert_eq!(seats.len(), 60);
    assert!(seats.iter().all(|s| s["rounds_decided"] == rounds));
    // What the contribution orders paid, summed, is what the debrief says was paid.
    let paid: f64 = rounds_csv
        .iter()
        .map(|r| r["pool_paid"].parse::<f64>().unwrap())
        .sum();
    let debrief_paid: f64 = seats.iter().map(|s| s["pool_paid"].as_f64().unwrap()).sum();
    assert!((paid - debrief_paid).abs() < 1e-6);

    let mut server_ms: Vec<f64> = st["round_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() - 1])
    };
    let (sm, sx) = stats(&mut server_ms);
    let (cm, cx) = stats(&mut client_ms);
    eprintln!(
        "60 students, 10 towns, {rounds} rounds: the server ran a round (10 towns and 2 arms, \
         3 months, logs written) in {sm:.1} ms median, {sx:.1} ms max; from the moment the last \
         student sent their orders to all 60 seeing the next round: {cm:.0} ms median, {cx:.0} ms max \
         (students poll every 250 ms); whole test {:.1} s",
        t0.elapsed().as_secs_f64()
    );
}

/// A server holds at most `MAX_CLASSES` classes that have not ended; past that, the class
/// that ended first is forgotten (its files stay on disk), else a new one is refused.
#[test]
fn a_full_server_forgets_an_ended_class_or_refuses_a_new_one() {
    let out = tempfile::tempdir().unwrap();
    let h = server(out.path());
    let body = json!({"lesson": "dumping", "round_seconds": 600});
    let classes: Vec<Teacher> = (0..silos::serve::MAX_CLASSES)
        .map(|_| Teacher::open(h.addr, body.clone()))
        .collect();
    let m = fails(h.addr, "POST", "/api/classes", None, &body.to_string(), 409);
    assert!(m.contains("have not ended"), "{m}");
    let ended = &classes[3];
    let ada = ended.join("Ada");
    let dir = PathBuf::from(ended.control("end")["out_dir"].as_str().unwrap());
    let _new = Teacher::open(h.addr, body.clone());
    // The ended class is gone from the server, with its code and tokens; its files stay.
    fails(
        h.addr,
        "GET",
        &format!("/api/classes/{}", ended.id),
        Some(&ended.token),
        "",
        404,
    );
    fails(h.addr, "GET", "/api/seat", Some(&ada.token), "", 401);
    assert!(dir.join("debrief.json").is_file());
    assert_eq!(
        classes[4].state()["phase"],
        "lobby",
        "the others are untouched"
    );
}

/// The class page's options: the lesson list names each lesson's agencies (the seats to
/// choose from), and `sanctions: true` turns peer sanctions on for the class.
#[test]
fn sanctions_and_levers_are_set_for_the_whole_class() {
    let out = tempfile::tempdir().unwrap();
    let h = server(out.path());
    let (st, text) = req(h.addr, "GET", "/api/lessons", None, None);
    assert_eq!(st, 200);
    let lessons: Value = serde_json::from_str(&text).unwrap();
    let fr = lessons
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "free-riding")
        .unwrap();
    let names: Vec<&str> = fr["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "housing",
            "health",
            "probation",
            "drugs",
            "day_centre",
            "hostel"
        ]
    );
    let t = Teacher::open(
        h.addr,
        json!({"lesson": "free-riding", "round_seconds": 600, "sanctions": true,
               "set": {"levers.host_reimbursement": 0.5}}),
    );
    let ada = t.join("Ada");
    t.control("start");
    let (_, v) = ada.seat();
    assert_eq!(v["view"]["sanctions"], true);
    let (st, v) = ada.send(&json!({"sanction": {"joint_fund": ["health", "probation"]}}));
    assert_eq!(st, 200, "{v}");
    t.control("end");
    let dir = PathBuf::from(t.state()["out_dir"].as_str().unwrap());
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("town-1/manifest.json")).unwrap())
            .unwrap();
    let overrides = manifest["overrides"].to_string();
    assert!(overrides.contains("levers.sanctions"), "{overrides}");
    assert!(
        overrides.contains("levers.host_reimbursement=0.5"),
        "{overrides}"
    );
}
