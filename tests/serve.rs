//! `silos serve`: a lesson in the browser gives the numbers and narration of `silos teach`
//! with the same seed and levers (a lever pulled live is the same run as `--set LEVER --set
//! levers.active_from=NEXT_MONTH`), and bad requests get clear errors, never a crash.
//! Driven over HTTP on loopback, as the page drives it.
#![cfg(feature = "serve")]

mod common;

use std::net::SocketAddr;
use std::path::Path;

use serde_json::{Value, json};
use silos::overrides::Override;
use silos::serve::{ServeOptions, spawn};
use silos::teach::{self, TeachOptions};

/// One HTTP/1.1 request; returns the status and the body.
fn http(addr: SocketAddr, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    common::http(addr, method, path, None, body)
}

fn post(addr: SocketAddr, path: &str, body: Value) -> Value {
    let (st, b) = http(addr, "POST", path, Some(&body.to_string()));
    assert!(st == 200 || st == 201, "POST {path} {body}: {st} {b}");
    serde_json::from_str(&b).unwrap()
}

fn server() -> silos::serve::Handle {
    spawn(&ServeOptions {
        port: 0,
        lan: false,
        out: std::env::temp_dir().join("silos-test-classes"),
    })
    .unwrap()
}

/// `silos teach` in-process, as the terminal runs it.
fn teach_run(lesson: &str, seed: u64, ticks: u32, sets: &[&str], dir: &Path) -> String {
    let o = TeachOptions {
        overrides: sets.iter().map(|s| Override::parse(s).unwrap()).collect(),
        out_dir: dir.to_path_buf(),
        seed: Some(seed),
        ticks: Some(ticks),
        charts: false,
        ..TeachOptions::default()
    };
    let mut out = Vec::new();
    teach::run_lesson(lesson, &o, &mut std::io::empty(), &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// Every month's numbers of every arm the server sent equal that month's row of the arm's
/// `ticks.csv` from `silos teach`.
fn assert_frames_match(frames: &[Value], dir: &Path) {
    for (arm, sub) in [
        ("ra", "ra"),
        ("bp", "bp"),
        ("baseline-ra", "baseline/ra"),
        ("baseline-bp", "baseline/bp"),
    ] {
        let path = dir.join(sub).join("ticks.csv");
        let sent: Vec<&Value> = frames
            .iter()
            .filter_map(|f| {
                f["arms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["arm"] == arm)
            })
            .collect();
        if !path.exists() {
            assert!(
                sent.is_empty(),
                "{arm}: the server ran an arm teach did not"
            );
            continue;
        }
        let rows = common::csv_rows(&path);
        assert_eq!(sent.len(), rows.len(), "{arm}: months");
        for (k, (a, row)) in sent.iter().zip(&rows).enumerate() {
            for (key, col) in [
                ("referrals", "referrals"),
                ("dumped", "dumped_referrals"),
                ("fell_through", "fell_through"),
                ("arrivals", "arrivals"),
            ] {
                assert_eq!(
                    a[key].as_u64().unwrap().to_string(),
                    row[col],
                    "{arm} month {}: {key}",
                    k + 1
                );
            }
            let need: f64 = row["share_need_met"].parse().unwrap_or(f64::NAN);
            match a["need_met"].as_f64() {
                Some(v) => assert!((v - need).abs() < 1e-12, "{arm} month {}: need met", k + 1),
                None => assert!(need.is_nan(), "{arm} month {}: need met", k + 1),
            }
        }
    }
}

#[test]
fn a_live_lesson_gives_the_numbers_and_narration_of_silos_teach() {
    let h = server();
    let s = post(
        h.addr,
        "/api/sessions",
        json!({"lesson": "dumping", "seed": 5, "ticks": 12}),
    );
    let id = s["id"].as_u64().unwrap();
    assert_eq!(s["tick"], 0);
    assert_eq!(s["command"], "silos teach dumping --seed 5 --ticks 12");
    let mut frames = Vec::new();
    let mut said = String::new();
    // A month, a quarter, then the rest (more than is left: it stops at the end).
    for months in [1, 3, 20] {
        let r = post(
            h.addr,
            &format!("/api/sessions/{id}/step"),
            json!({ "months": months }),
        );
        frames.extend(r["frames"].as_array().unwrap().iter().cloned());
        for t in r["narration"].as_array().unwrap() {
            said.push_str(t.as_str().unwrap());
        }
    }
    assert_eq!(frames.len(), 12);
    let dir = tempfile::tempdir().unwrap();
    let narration = teach_run("dumping", 5, 12, &[], dir.path());
    assert_frames_match(&frames, dir.path());
    assert!(said.matches("Quarter ").count() == 4, "{said}");
    assert!(
        narration.contains(&said),
        "the live narration is not teach's"
    );
    // Reloading the page gets the whole lesson so far.
    let (st, body) = http(h.addr, "GET", &format!("/api/sessions/{id}"), None);
    assert_eq!(st, 200);
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["frames"].as_array().unwrap().len(), 12);
}

#[test]
fn a_lever_pulled_live_is_teach_with_the_lever_from_the_next_month() {
    let h = server();
    let s = post(
        h.addr,
        "/api/sessions",
        json!({"lesson": "free-riding", "seed": 3}),
    );
    let id = s["id"].as_u64().unwrap();
    let ticks = s["ticks"].as_u64().unwrap() as u32;
    post(
        h.addr,
        &format!("/api/sessions/{id}/step"),
        json!({"months": 6}),
    );
    let st = post(
        h.addr,
        &format!("/api/sessions/{id}/levers"),
        json!({"set": {"levers.host_reimbursement": 1.0}}),
    );
    assert_eq!(st["tick"], 6);
    assert_eq!(st["levers_from"], 7);
    assert_eq!(
        st["command"],
        "silos teach free-riding --seed 3 --set 'levers.host_reimbursement=1' \
         --set 'levers.active_from=7'"
    );
    post(
        h.addr,
        &format!("/api/sessions/{id}/step"),
        json!({"months": 120}),
    );
    let (_, body) = http(h.addr, "GET", &format!("/api/sessions/{id}"), None);
    let state: Value = serde_json::from_str(&body).unwrap();
    let frames = state["frames"].as_array().unwrap();
    assert_eq!(frames.len() as u32, ticks);
    let dir = tempfile::tempdir().unwrap();
    let narration = teach_run(
        "free-riding",
        3,
        ticks,
        &["levers.host_reimbursement=1", "levers.active_from=7"],
        dir.path(),
    );
    assert_frames_match(frames, dir.path());
    let said: String = state["narration"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(narration.contains(&said));
    // Before the lever, the lesson and its baseline are the same run.
    for f in &frames[..6] {
        let arms = f["arms"].as_array().unwrap();
        assert_eq!(arms[0]["money"], arms[2]["money"], "month {}", f["tick"]);
    }
    // Restart drops the lever and starts again from month 0 with the seed asked for.
    let st = post(
        h.addr,
        &format!("/api/sessions/{id}/restart"),
        json!({"seed": 4}),
    );
    assert_eq!(
        (st["tick"].as_u64(), st["seed"].as_u64()),
        (Some(0), Some(4))
    );
    assert!(st["levers"].as_array().unwrap().is_empty());
}

#[test]
fn bad_requests_get_clear_errors_and_the_server_goes_on() {
    let h = server();
    let err = |method: &str, path: &str, body: Option<&str>| -> (u16, String) {
        let (st, b) = http(h.addr, method, path, body);
        let msg = serde_json::from_str::<Value>(&b)
            .ok()
            .and_then(|v| v["error"].as_str().map(String::from))
            .unwrap_or(b);
        (st, msg)
    };
    let (st, m) = err("POST", "/api/sessions", Some(r#"{"lesson":"nope"}"#));
    assert_eq!(st, 400);
    assert!(m.contains("nope") && m.contains("free-riding"), "{m}");
    let (st, m) = err(
        "POST",
        "/api/sessions",
        Some(r#"{"lesson":"dumping","x":1}"#),
    );
    assert_eq!(st, 400);
    assert!(m.contains("unknown field `x`"), "{m}");
    let (st, m) = err("POST", "/api/sessions", Some("not json"));
    assert_eq!(st, 400, "{m}");
    let (st, m) = err(
        "POST",
        "/api/sessions",
        Some(r#"{"lesson":"dumping","ticks":0}"#),
    );
    assert_eq!(st, 400);
    assert!(m.contains("ticks") && m.contains("600"), "{m}");
    let big = format!(r#"{{"lesson":"{}"}}"#, "a".repeat(silos::serve::MAX_BODY));
    let (st, _) = err("POST", "/api/sessions", Some(&big));
    assert_eq!(st, 413);
    let s = post(h.addr, "/api/sessions", json!({"lesson": "capture"}));
    let id = s["id"].as_u64().unwrap();
    let (st, m) = err(
        "POST",
        &format!("/api/sessions/{id}/step"),
        Some(r#"{"months":0}"#),
    );
    assert_eq!(st, 400);
    assert!(m.contains("months"), "{m}");
    // Only the lesson's own levers, with their allowed values.
    for (body, says) in [
        (r#"{"set":{"seed":1}}"#, "not a lever of lesson capture"),
        (r#"{"set":{"levers.forum_rule":"dictator"}}"#, "equal_votes"),
        (r#"{"set":{"scenario":"/etc/passwd"}}"#, "not a lever"),
    ] {
        let (st, m) = err("POST", &format!("/api/sessions/{id}/levers"), Some(body));
        assert_eq!(st, 400, "{body}");
        assert!(m.contains(says), "{body}: {m}");
    }
    // No file is reachable but the embedded assets.
    for p in [
        "/../Cargo.toml",
        "/etc/passwd",
        "/src/serve/mod.rs",
        "/app.js/../../x",
    ] {
        let (st, _) = err("GET", p, None);
        assert_eq!(st, 404, "{p}");
    }
    let (st, _) = err("GET", "/api/sessions/999", None);
    assert_eq!(st, 404);
    // The server still serves.
    let (st, page) = http(h.addr, "GET", "/", None);
    assert_eq!(st, 200);
    assert!(page.contains("<script src=\"/app.js\">") && !page.contains("http://"));
    let (st, js) = http(h.addr, "GET", "/app.js", None);
    assert_eq!(st, 200);
    assert!(
        !js.contains("https://"),
        "the page loads nothing from the network"
    );
}

/// `silos serve --lan` prints the address students join at and its QR code, and every page
/// it serves is embedded (nothing from the network).
#[test]
fn lan_prints_the_join_address_and_its_qr_code() {
    use std::io::BufRead;
    let out = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_silos"))
        .args(["serve", "--lan", "--port", "0", "--out"])
        .arg(out.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for l in std::io::BufReader::new(stdout).lines() {
        let l = l.unwrap();
        let done = l.starts_with('▀');
        lines.push(l);
        if done || lines.len() > 80 {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = lines.join("\n");
    let join = lines
        .iter()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.starts_with("http://") && w.ends_with("/join"))
        })
        .unwrap_or_else(|| panic!("no join address in:\n{text}"));
    let host = join
        .trim_start_matches("http://")
        .split(':')
        .next()
        .unwrap();
    assert!(host.parse::<std::net::IpAddr>().is_ok(), "{join}");
    // The QR code: a square of block characters, as many rows as a version-2 code needs.
    let qr: Vec<&String> = lines
        .iter()
        .filter(|l| l.chars().all(|c| "█▀▄ ".contains(c)) && !l.is_empty())
        .collect();
    assert!(qr.len() >= 12, "QR code rows:\n{text}");
    let w = qr[0].chars().count();
    assert!(qr.iter().all(|l| l.chars().count() == w), "{text}");
    // The SVG the class page shows encodes the same kind of code.
    let svg = silos::serve::qr_svg(join);
    assert!(svg.contains("<svg") && svg.contains("</svg>"));
}

#[test]
fn the_class_pages_are_embedded_and_load_nothing_from_the_network() {
    let h = server();
    for (p, needle) in [
        ("/class", "<script src=\"/class.js\">"),
        ("/join", "<script src=\"/join.js\">"),
        ("/class.js", "/api/classes"),
        ("/join.js", "/api/seat/orders"),
    ] {
        let (st, body) = http(h.addr, "GET", p, None);
        assert_eq!(st, 200, "{p}");
        assert!(body.contains(needle), "{p}");
        // The SVG namespace is a name, not a request.
        let body = body.replace("http://www.w3.org/2000/svg", "");
        assert!(
            !body.contains("https://") && !body.contains("http://"),
            "{p}"
        );
    }
}
