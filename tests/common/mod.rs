//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use silos::engine::{self, BehaviourChoice, NoObserver, Simulation};
use silos::scenario::Scenario;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> Scenario {
    Scenario::from_path(&fixture_path(name)).expect("fixture is valid")
}

/// Run `ticks` ticks; `engine::run` checks case, money and staff conservation every tick and
/// fails on the first break, so every test run asserts the invariants.
pub fn run(s: &Scenario, seed: u64, choice: BehaviourChoice, ticks: u32) -> Simulation {
    let mut sim = Simulation::new(s, seed, choice);
    engine::run(&mut sim, ticks, &mut NoObserver).expect("invariants hold on every tick");
    sim
}

/// Run the `silos` binary with `args` and collect its output.
pub fn silos(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_silos"))
        .args(args)
        .output()
        .expect("silos runs")
}

/// The fields the scenario loader accepts in the table `--set` reaches by `probe` (`model`,
/// `agencies[0]`), on the default scenario: its error for an unknown field lists them.
pub fn loader_fields(probe: &str) -> Vec<String> {
    let err = Scenario::from_toml_str_with(
        silos::scenario::DEFAULT_SCENARIO,
        "default",
        &[silos::overrides::Override::parse(&format!("{probe}.no_such_field=1")).unwrap()],
    )
    .unwrap_err()
    .to_string();
    let list = err
        .split("expected one of")
        .nth(1)
        .unwrap_or_else(|| panic!("{probe}: the loader lists its fields: {err}"))
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let fields: Vec<String> = list
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, s)| s.to_string())
        .collect();
    assert!(!fields.is_empty(), "{probe}: {err}");
    fields
}

/// A CSV file as rows of column -> text.
#[allow(dead_code)]
pub fn csv_rows(path: &std::path::Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            h.iter()
                .zip(rec.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// One HTTP/1.1 request on loopback (the tests of `silos serve`), with an optional
/// `x-silos-token`; returns the status and the body. No chunked replies: axum sends a
/// length for every body these tests read.
pub fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let body = body.unwrap_or("");
    let tok = token
        .map(|t| format!("x-silos-token: {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{tok}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let (head, rest) = text.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, rest.to_string())
}
