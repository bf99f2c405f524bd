//! Participatory classes over HTTP: a full server, and the class page's options (sanctions,
//! levers, the seats to choose from). Play, tokens, bad messages, rate limits and the timer
//! are in `tests/serve_class.rs`; the 60-student load test is `tests/class_load.rs`.
#![cfg(feature = "serve")]

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

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
        }
    }
}

struct Student {
    addr: SocketAddr,
    token: String,
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
