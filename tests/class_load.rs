//! Load test of a participatory class on loopback: 60 students, each on their own thread
//! with their own connections, join one class of the free-riding lesson at once (6 seats a
//! town, so 10 towns open as they join), and every one of them sends orders in every round
//! of the lesson (6 rounds of 3 months), then polls their seat (twice a second, within the
//! seat rate limit) until the next round opens. The round timer is 10 minutes, so only the
//! students' orders close rounds.
//!
//! It checks that every order is accounted for: each student's choices are in
//! `decisions.csv` as `student` rows under their name, seat and round (and everything they
//! left open as `bot` rows), `rounds.csv` has a row per seat and round, and the debrief has
//! 60 seats, each decided in all 6 rounds.
//!
//! It measures the round latency: the server's own time to run a round (`round_ms`: the 3
//! months of all 10 towns and the 2 comparison arms, and the logs written), the round trip
//! of the orders that closed each round, and the wall time from the last student's orders
//! to all 60 students seeing the next round (bounded below by the half-second polling).
//! The numbers are printed by `cargo test --release --test class_load -- --nocapture`.
#![cfg(feature = "serve")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use silos::serve::{ServeOptions, spawn};

const STUDENTS: usize = 60;
/// Seats a town: free-riding's six agencies.
const SEATS: usize = 6;
/// How often a waiting student polls their seat (the limit is 5 a second after a burst).
const POLL: Duration = Duration::from_millis(500);
/// Fail after this long without progress (a loaded 2-core machine is slow, not this slow).
const STALL: Duration = Duration::from_secs(120);

type Row = BTreeMap<String, String>;

fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, Value) {
    let (st, text) = common::http(addr, method, path, token, body);
    (st, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn csv_of(text: &str) -> Vec<Row> {
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

struct Seat {
    name: String,
    token: String,
    town: u64,
    agency: String,
}

/// What one student did in one round.
struct Played {
    orders: Value,
    /// When their orders went out, and when the reply came back.
    sent: Instant,
    replied: Instant,
    /// Their orders closed the round (the reply already shows the next one).
    closed_it: bool,
    /// When they first saw the next round (or the end).
    saw_next: Instant,
}

/// Student `k`'s orders for round `r` (0-based), from what their seat shows: triage,
/// membership, hosting and help varied by student and round; a contribution to the joint
/// fund of `k % 4` (k GBP a month, at most the money held) from its members.
fn orders_for(k: usize, r: u64, view: &Value) -> Value {
    let me = view["name"].as_str().unwrap();
    let mut o = json!({
        "help": k.is_multiple_of(2),
        "join": {"case_conference": !(k as u64 + r).is_multiple_of(3)},
    });
    o["triage"] = if (k as u64 + r).is_multiple_of(2) {
        json!({"rough_sleepers": "keep"})
    } else if me == "hostel" {
        json!({"rough_sleepers": {"pass": "housing"}})
    } else {
        json!({"rough_sleepers": {"pass": "hostel"}})
    };
    match k % 3 {
        0 => o["triage"]["ex_offenders"] = json!("decline"),
        1 => o["triage"]["ex_offenders"] = json!("bot"),
        _ => {}
    }
    if k.is_multiple_of(5) {
        o["host"] = json!({"case_conference": false});
    }
    let in_fund = view["mechanisms"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["name"] == "joint_fund");
    if in_fund {
        let held = view["money"].as_f64().unwrap().max(0.0);
        o["join"]["joint_fund"] = json!(true);
        o["contribute"] = json!({"joint_fund": ((k % 4) as f64).min(held.floor())});
    }
    o
}

/// What `decisions.csv` should log as the student's for a set of orders:
/// (kind, subject) -> choice.
fn decided_by(orders: &Value) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    let yn = |b: &Value| if b.as_bool().unwrap() { "yes" } else { "no" }.to_string();
    for (g, r) in orders["triage"].as_object().unwrap() {
        let c = match r {
            Value::String(s) if s == "bot" => continue,
            Value::String(s) => s.clone(),
            v => format!("pass:{}", v["pass"].as_str().unwrap()),
        };
        out.insert(("triage".into(), g.clone()), c);
    }
    for kind in ["host", "join"] {
        if let Some(m) = orders[kind].as_object() {
            for (name, v) in m {
                out.insert((kind.into(), name.clone()), yn(v));
            }
        }
    }
    if let Some(m) = orders["contribute"].as_object() {
        for (name, v) in m {
            out.insert(("contribute".into(), name.clone()), v.to_string());
        }
    }
    out.insert(("help".into(), "-".into()), yn(&orders["help"]));
    out
}

/// A seat request, waiting out the rate limit (429) should the machine bunch requests up.
fn seat_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
    slowed: &AtomicUsize,
) -> Value {
    let start = Instant::now();
    loop {
        let (st, v) = call(addr, method, path, Some(token), body);
        match st {
            200 => return v,
            429 => {
                slowed.fetch_add(1, Ordering::Relaxed);
                assert!(
                    start.elapsed() < STALL,
                    "{method} {path}: slowed down for good"
                );
                std::thread::sleep(POLL);
            }
            _ => panic!("{method} {path} {body:?}: {st} {v}"),
        }
    }
}

/// One student's whole lesson: for each round, send orders on what their seat shows, then
/// poll until the next round opens (or the class ends).
fn play(
    addr: SocketAddr,
    k: usize,
    seat: &Seat,
    rounds: u64,
    abort: &AtomicBool,
    slowed: &AtomicUsize,
) -> Vec<Played> {
    let get = || seat_request(addr, "GET", "/api/seat", &seat.token, None, slowed);
    let mut now = get();
    let mut played = Vec::new();
    for r in 0..rounds {
        assert_eq!(
            now["phase"],
            "open",
            "{}: round {} is not open: {now}",
            seat.name,
            r + 1
        );
        assert_eq!(now["view"]["round"], r, "{}", seat.name);
        assert_eq!(now["view"]["submitted"], false, "{}", seat.name);
        let orders = orders_for(k, r, &now["view"]);
        let sent = Instant::now();
        let reply = seat_request(
            addr,
            "POST",
            "/api/seat/orders",
            &seat.token,
            Some(&orders.to_string()),
            slowed,
        );
        let replied = Instant::now();
        let next =
            |v: &Value| v["phase"] == "ended" || v["view"]["round"].as_u64().is_some_and(|x| x > r);
        let closed_it = next(&reply);
        if !closed_it {
            assert_eq!(reply["view"]["submitted"], true, "{}: {reply}", seat.name);
        }
        now = reply;
        let mut saw_next = replied;
        let mut first = true;
        while !next(&now) {
            if abort.load(Ordering::Relaxed) {
                panic!("{}: another student failed", seat.name);
            }
            assert!(
                sent.elapsed() < STALL,
                "{}: round {} did not close within {STALL:?} of sending orders",
                seat.name,
                r + 1
            );
            // Students' pages are not in step: the first poll after sending comes after a
            // fifth to a whole of the interval, by student.
            let wait = if first {
                POLL * (k % 5 + 1) as u32 / 5
            } else {
                POLL
            };
            first = false;
            std::thread::sleep(wait);
            now = get();
            saw_next = Instant::now();
        }
        assert_eq!(
            now["view"]["round"],
            r + 1,
            "{}: skipped a round",
            seat.name
        );
        played.push(Played {
            orders,
            sent,
            replied,
            closed_it,
            saw_next,
        });
    }
    assert_eq!(now["phase"], "ended");
    played
}

fn median_max(v: &[f64]) -> (f64, f64) {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[v.len() - 1])
}

#[test]
fn sixty_students_play_a_whole_lesson_and_every_order_is_accounted_for() {
    let t0 = Instant::now();
    let out = tempfile::tempdir().unwrap();
    let h = spawn(&ServeOptions {
        port: 0,
        lan: false,
        out: out.path().to_path_buf(),
    })
    .unwrap();
    let addr = h.addr;
    let (st, made) = call(
        addr,
        "POST",
        "/api/classes",
        None,
        Some(r#"{"lesson": "free-riding", "round_seconds": 600}"#),
    );
    assert_eq!(st, 201, "{made}");
    let id = made["id"].as_u64().unwrap();
    let teacher = made["teacher_token"].as_str().unwrap().to_string();
    let code = made["code"].as_str().unwrap().to_string();
    let state = || {
        let (st, v) = call(
            addr,
            "GET",
            &format!("/api/classes/{id}"),
            Some(&teacher),
            None,
        );
        assert_eq!(st, 200, "{v}");
        v
    };
    let log = |file: &str| {
        let (st, text) = common::http(
            addr,
            "GET",
            &format!("/api/classes/{id}/log/{file}"),
            Some(&teacher),
            None,
        );
        assert_eq!(st, 200, "{text}");
        csv_of(&text)
    };

    // Everyone joins at once.
    let j0 = Instant::now();
    let seats: Vec<Seat> = std::thread::scope(|sc| {
        let hs: Vec<_> = (0..STUDENTS)
            .map(|k| {
                let code = &code;
                sc.spawn(move || {
                    let name = format!("student-{k:02}");
                    let body = json!({"code": code, "name": name}).to_string();
                    let (st, j) = call(addr, "POST", "/api/join", None, Some(&body));
                    assert_eq!(st, 201, "{name}: {j}");
                    Seat {
                        name,
                        token: j["token"].as_str().unwrap().to_string(),
                        town: j["town"].as_u64().unwrap(),
                        agency: j["agency"].as_str().unwrap().to_string(),
                    }
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let join_ms = j0.elapsed().as_secs_f64() * 1e3;
    // Every seat of 10 towns, each taken once.
    let taken: BTreeSet<(u64, &str)> = seats.iter().map(|s| (s.town, s.agency.as_str())).collect();
    assert_eq!(taken.len(), STUDENTS, "two students were given one seat");
    let towns = (STUDENTS / SEATS) as u64;
    for town in 1..=towns {
        assert_eq!(
            taken.iter().filter(|(t, _)| *t == town).count(),
            SEATS,
            "town {town}"
        );
    }
    let st = state();
    assert_eq!(st["frame"]["towns"].as_array().unwrap().len() as u64, towns);
    assert_eq!(st["frame"]["seated"], STUDENTS);
    let rounds = st["frame"]["rounds"].as_u64().unwrap();
    assert_eq!(rounds, 6);
    for s in &seats {
        let p = st["frame"]["towns"][(s.town - 1) as usize]["players"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["agency"] == s.agency.as_str())
            .unwrap();
        assert_eq!(p["player"], s.name.as_str());
    }

    let (st, v) = call(
        addr,
        "POST",
        &format!("/api/classes/{id}/start"),
        Some(&teacher),
        None,
    );
    assert_eq!(st, 200, "{v}");
    let play0 = Instant::now();
    let abort = AtomicBool::new(false);
    let slowed = AtomicUsize::new(0);
    let plays: Vec<Vec<Played>> = std::thread::scope(|sc| {
        let hs: Vec<_> = seats
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let (abort, slowed) = (&abort, &slowed);
                sc.spawn(move || {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        play(addr, k, s, rounds, abort, slowed)
                    }));
                    if r.is_err() {
                        abort.store(true, Ordering::Relaxed);
                    }
                    r
                })
            })
            .collect();
        hs.into_iter()
            .map(|h| match h.join().unwrap() {
                Ok(p) => p,
                Err(e) => std::panic::resume_unwind(e),
            })
            .collect()
    });
    let play_s = play0.elapsed().as_secs_f64();

    let st = state();
    assert_eq!(st["phase"], "ended");
    assert_eq!(st["frame"]["round"], rounds);
    assert_eq!(st["error"], Value::Null);

    // Every order, checked against the decision log row by row.
    let dec = log("decisions.csv");
    let mut by_seat: BTreeMap<(String, String, String), Vec<&Row>> = BTreeMap::new();
    for d in &dec {
        by_seat
            .entry((d["round"].clone(), d["town"].clone(), d["agency"].clone()))
            .or_default()
            .push(d);
    }
    assert_eq!(
        by_seat.len(),
        STUDENTS * rounds as usize,
        "a log for every seat and round"
    );
    let mut student_pairs = BTreeSet::new();
    for (s, played) in seats.iter().zip(&plays) {
        assert_eq!(played.len() as u64, rounds);
        for (r, p) in played.iter().enumerate() {
            let round = r as u64 + 1;
            let key = (round.to_string(), s.town.to_string(), s.agency.clone());
            let rows = &by_seat[&key];
            let want = decided_by(&p.orders);
            let mut got = BTreeMap::new();
            for d in rows {
                assert_eq!(d["player"], s.name, "{d:?}");
                assert_eq!(d["submissions"], "1", "{d:?}");
                let k = (d["kind"].clone(), d["subject"].clone());
                if d["source"] == "student" {
                    student_pairs.insert((s.name.clone(), s.town, s.agency.clone(), round));
                    got.insert(k, d["choice"].clone());
                } else {
                    assert_eq!(d["source"], "bot", "{d:?}");
                    assert_eq!(d["choice"], "bot", "{d:?}");
                    assert!(
                        !want.contains_key(&k),
                        "{} round {round}: {k:?} sent, logged as the bot's",
                        s.name
                    );
                }
            }
            assert_eq!(
                got.len(),
                want.len(),
                "{} round {round}: {got:?} vs {want:?}",
                s.name
            );
            for (k, c) in &want {
                let g = got
                    .get(k)
                    .unwrap_or_else(|| panic!("{} round {round}: {k:?} not logged", s.name));
                if k.0 == "contribute" {
                    let (a, b): (f64, f64) = (g.parse().unwrap(), c.parse().unwrap());
                    assert!(
                        (a - b).abs() < 1e-9,
                        "{} round {round}: paid {g}, sent {c}",
                        s.name
                    );
                } else {
                    assert_eq!(g, c, "{} round {round}: {k:?}", s.name);
                }
            }
        }
    }
    assert_eq!(student_pairs.len(), STUDENTS * rounds as usize);
    let rows = log("rounds.csv");
    assert_eq!(rows.len(), STUDENTS * rounds as usize);
    let names: BTreeMap<(String, String), &str> = seats
        .iter()
        .map(|s| ((s.town.to_string(), s.agency.clone()), s.name.as_str()))
        .collect();
    for row in &rows {
        assert_eq!(row["decided"], "true", "{row:?}");
        assert_eq!(
            row["player"],
            names[&(row["town"].clone(), row["agency"].clone())]
        );
    }
    let dseats = st["debrief"]["seats"].as_array().unwrap();
    assert_eq!(dseats.len(), STUDENTS);
    for d in dseats {
        assert_eq!(d["rounds_decided"], rounds, "{d}");
        let who = names[&(
            d["town"].to_string(),
            d["agency"].as_str().unwrap().to_string(),
        )];
        assert_eq!(d["players"], json!([who]));
    }
    let closers: usize = plays.iter().flatten().filter(|p| p.closed_it).count();
    assert_eq!(
        closers as u64, rounds,
        "one student's orders closed each round"
    );

    // The latencies.
    let server_ms: Vec<f64> = st["round_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    assert_eq!(server_ms.len() as u64, rounds);
    let mut close_rtt = Vec::new();
    let mut client_ms = Vec::new();
    let mut each_ms = Vec::new();
    for r in 0..rounds as usize {
        let last_sent = plays.iter().map(|p| p[r].sent).max().unwrap();
        each_ms.extend(
            plays
                .iter()
                .map(|p| p[r].saw_next.duration_since(last_sent).as_secs_f64() * 1e3),
        );
        let all_saw = plays.iter().map(|p| p[r].saw_next).max().unwrap();
        client_ms.push(all_saw.duration_since(last_sent).as_secs_f64() * 1e3);
        let c = plays.iter().map(|p| &p[r]).find(|p| p.closed_it).unwrap();
        close_rtt.push(c.replied.duration_since(c.sent).as_secs_f64() * 1e3);
    }
    let (sm, sx) = median_max(&server_ms);
    let (rm, rx) = median_max(&close_rtt);
    let (cm, cx) = median_max(&client_ms);
    let (em, _) = median_max(&each_ms);
    eprintln!(
        "class_load: {STUDENTS} students in {towns} towns, {rounds} rounds of 3 months \
         (free-riding)\n\
         - joining, all at once: {join_ms:.0} ms\n\
         - server round_ms (the model: 3 months of {towns} towns and 2 arms, logs written): \
         median {sm:.1} ms, max {sx:.1} ms (each round: {server_ms:.1?})\n\
         - the orders that closed a round, round trip: median {rm:.1} ms, max {rx:.1} ms\n\
         - last student's orders to all {STUDENTS} seeing the next round (polling every \
         {} ms): median {cm:.0} ms, max {cx:.0} ms (each round: {client_ms:.0?}); a \
         student saw it {em:.0} ms after the last orders (median of students and rounds)\n\
         - requests slowed down (429) and retried: {}\n\
         - playing {play_s:.1} s; whole test {:.1} s",
        POLL.as_millis(),
        slowed.load(Ordering::Relaxed),
        t0.elapsed().as_secs_f64()
    );
}
