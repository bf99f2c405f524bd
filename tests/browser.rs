//! The pages of `silos serve` in a real browser: headless Chromium driven through
//! chromedriver (WebDriver, with the fantoccini crate).
//! - The live lesson: open a lesson, restart it with a seed, step a quarter, play and pause,
//!   move a lever's slider, and check the numbers on the page against `silos teach` with the
//!   same seed and levers.
//! - A participatory class: the teacher opens a class in one browser session, three students
//!   join with its code in three more and play every round to the end from the page (one
//!   seat is left to a bot), and the debrief on the projector is checked against the
//!   decision log.
//!
//! With SILOS_SCREENSHOTS=DIR the class test saves the teacher's and a student's page
//! there (the screenshots in docs/teaching.md).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them where missing,
//! and sets SILOS_BROWSER_TESTS=1 so that a missing browser fails the test there). Elsewhere,
//! without `/usr/bin/chromedriver` (or SILOS_CHROMEDRIVER), the test says so and passes.
#![cfg(feature = "serve")]

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use silos::overrides::Override;
use silos::serve::{ServeOptions, spawn};
use silos::teach::{self, TeachOptions};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<PathBuf> {
    let p = std::env::var_os("SILOS_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    p.exists().then_some(p)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `silos teach` in-process; returns each arm's ticks.csv rows.
fn teach_rows(
    lesson: &str,
    seed: u64,
    sets: &[String],
    dir: &Path,
) -> BTreeMap<&'static str, Vec<BTreeMap<String, String>>> {
    let o = TeachOptions {
        overrides: sets.iter().map(|s| Override::parse(s).unwrap()).collect(),
        out_dir: dir.to_path_buf(),
        seed: Some(seed),
        charts: false,
        ..TeachOptions::default()
    };
    teach::run_lesson(lesson, &o, &mut std::io::empty(), &mut std::io::sink()).unwrap();
    let mut out = BTreeMap::new();
    for arm in ["ra", "bp"] {
        out.insert(arm, common::csv_rows(&dir.join(arm).join("ticks.csv")));
    }
    out
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Wait until the page's month is `pred`-true; returns it.
async fn wait_month(c: &Client, pred: impl Fn(u32) -> bool, what: &str) -> u32 {
    let start = Instant::now();
    loop {
        let m = c
            .find(Locator::Id("clock"))
            .await
            .unwrap()
            .attr("data-tick")
            .await
            .unwrap()
            .and_then(|t| t.parse().ok());
        if let Some(m) = m
            && pred(m)
        {
            return m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "waited for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The page's key numbers table equals the sums of the first `months` rows of teach's CSVs.
async fn check_numbers(
    c: &Client,
    rows: &BTreeMap<&str, Vec<BTreeMap<String, String>>>,
    months: usize,
) {
    for arm in ["ra", "bp"] {
        for (key, col) in [
            ("referrals", "referrals"),
            ("dumped", "dumped_referrals"),
            ("fell_through", "fell_through"),
            ("arrivals", "arrivals"),
        ] {
            let want: u64 = rows[arm][..months]
                .iter()
                .map(|r| r[col].parse::<u64>().unwrap())
                .sum();
            let got = text(c, &format!("td[data-arm='{arm}'][data-key='{key}']")).await;
            assert_eq!(got, want.to_string(), "{arm} {key} after {months} months");
        }
    }
}

/// chromedriver started on a free port (stopped when the guard drops), or None, after
/// saying so, where it is not installed. Under SILOS_BROWSER_TESTS (set by `.ci/run`) a
/// missing chromedriver fails the test instead.
fn start_driver() -> Option<(Driver, u16)> {
    let Some(bin) = chromedriver() else {
        assert!(
            std::env::var("SILOS_BROWSER_TESTS").is_err(),
            "SILOS_BROWSER_TESTS is set but chromedriver is not installed"
        );
        eprintln!("skipped: no chromedriver (install Debian's chromium and chromium-driver)");
        return None;
    };
    let port = free_port();
    let child = Command::new(bin)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    Some((Driver(child), port))
}

/// Click the element `css` selects.
async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Chromium's options for a headless session.
fn chrome_caps() -> serde_json::Map<String, serde_json::Value> {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": "/usr/bin/chromium",
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync",
                     "--window-size=1400,1400"],
        }),
    );
    caps
}

/// A new browser session on the chromedriver at `port` (retried while it starts).
async fn session(port: u16, width: u32, height: u32) -> Client {
    let url = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    let c = loop {
        let b = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(chrome_caps())
            .connect(&url)
            .await;
        match b {
            Ok(c) => break c,
            Err(e) => {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "chromedriver: {e}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    c.set_window_size(width, height).await.unwrap();
    c
}

async fn attr(c: &Client, id: &str, name: &str) -> Option<String> {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .attr(name)
        .await
        .unwrap()
}

/// Wait until `id`'s attribute `name` satisfies `pred`.
async fn wait_attr(c: &Client, id: &str, name: &str, pred: impl Fn(&str) -> bool, what: &str) {
    let start = Instant::now();
    loop {
        if let Some(v) = attr(c, id, name).await
            && pred(&v)
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "waited for {what}: {id}[{name}] = {:?}",
            attr(c, id, name).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn select(c: &Client, id: &str, value: &str) {
    c.find(Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap_or_else(|e| panic!("select {id} = {value}: {e}"));
}

#[test]
fn three_students_and_a_bot_play_a_class_in_chromium() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let server = spawn(&ServeOptions {
        port: 0,
        lan: false,
        out: out.path().to_path_buf(),
    })
    .unwrap();
    let shots = std::env::var_os("SILOS_SCREENSHOTS").map(PathBuf::from);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let base = format!("http://{}", server.addr);
        // The teacher opens a class of the free-riding lesson: four seats for students,
        // bots of bureaucratic politics, a long timer (rounds close when all have decided).
        let teacher = session(port, 1400, 1500).await;
        teacher
            .goto(&format!("{base}/class?lesson=free-riding"))
            .await
            .unwrap();
        let start = Instant::now();
        while teacher
            .find(Locator::Css("#lesson option[value='free-riding']"))
            .await
            .is_err()
        {
            assert!(start.elapsed() < Duration::from_secs(20), "the lesson list");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        select(&teacher, "lesson", "free-riding").await;
        let secs = teacher.find(Locator::Id("secs")).await.unwrap();
        secs.clear().await.unwrap();
        secs.send_keys("600").await.unwrap();
        // Seats for housing, health, probation and the hostel; drugs and the day centre are
        // always bots. Peer sanctions on.
        for a in ["drugs", "day_centre"] {
            click(&teacher, &format!("input[data-seat='{a}']")).await;
        }
        click(&teacher, "#sanctions").await;
        click(&teacher, "#open").await;
        wait_attr(
            &teacher,
            "clock",
            "data-phase",
            |p| p == "lobby",
            "the class to open",
        )
        .await;
        let code = text(&teacher, "#code").await;
        assert_eq!(code.len(), 6, "join code {code:?}");
        assert!(
            teacher.find(Locator::Css("#qr svg")).await.is_ok(),
            "QR code shown"
        );

        // Three students join from their own browsers.
        let names = ["Ada", "Ben", "Cy"];
        let mut students = Vec::new();
        for name in names {
            let c = session(port, 420, 1400).await;
            c.goto(&format!("{base}/join?code={code}")).await.unwrap();
            c.find(Locator::Id("name"))
                .await
                .unwrap()
                .send_keys(name)
                .await
                .unwrap();
            click(&c, "#join").await;
            wait_attr(&c, "phase", "data-phase", |p| p == "lobby", "joining").await;
            students.push(c);
        }
        click(&teacher, "#start").await;
        let rounds = 6u32;
        for round in 0..rounds {
            for (k, c) in students.iter().enumerate() {
                wait_attr(
                    c,
                    "phase",
                    "data-round",
                    |r| r == round.to_string(),
                    "the round",
                )
                .await;
                wait_attr(
                    c,
                    "phase",
                    "data-phase",
                    |p| p == "open",
                    "the round to open",
                )
                .await;
                // Choices made in round 1 stay on the form; sending again repeats them.
                if round == 0 {
                    match k {
                        0 => {
                            select(c, "join-joint_fund", "yes").await;
                            let i = c.find(Locator::Id("contribute-joint_fund")).await.unwrap();
                            i.send_keys("2").await.unwrap();
                        }
                        1 => select(c, "triage-rough_sleepers", "pass:hostel").await,
                        _ => {
                            select(c, "host-case_conference", "yes").await;
                            select(c, "help", "no").await;
                            select(c, "sanction-case_conference", "health").await;
                        }
                    }
                }
                if round == 1
                    && k == 0
                    && let Some(d) = &shots
                {
                    std::fs::create_dir_all(d).unwrap();
                    c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
                    std::fs::write(d.join("class_student.png"), c.screenshot().await.unwrap())
                        .unwrap();
                }
                click(c, "#send").await;
            }
            wait_attr(
                &teacher,
                "clock",
                "data-round",
                |r| r == (round + 1).to_string(),
                "the round to close",
            )
            .await;
            if round == 2
                && let Some(d) = &shots
            {
                std::fs::write(
                    d.join("class_projector.png"),
                    teacher.screenshot().await.unwrap(),
                )
                .unwrap();
            }
        }
        wait_attr(
            &teacher,
            "clock",
            "data-phase",
            |p| p == "ended",
            "the class to end",
        )
        .await;
        wait_attr(
            &teacher,
            "debrief-seats",
            "data-rows",
            |r| r.starts_with('['),
            "the debrief",
        )
        .await;
        if let Some(d) = &shots {
            teacher
                .execute(
                    "document.getElementById('debrief').scrollIntoView()",
                    vec![],
                )
                .await
                .unwrap();
            std::fs::write(
                d.join("class_debrief.png"),
                teacher.screenshot().await.unwrap(),
            )
            .unwrap();
        }
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&attr(&teacher, "debrief-seats", "data-rows").await.unwrap())
                .unwrap();

        // The debrief against the decision log.
        let dir = std::fs::read_dir(out.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let dec = common::csv_rows(&dir.join("decisions.csv"));
        let rounds_csv = common::csv_rows(&dir.join("rounds.csv"));
        let seat_agency = [("Ada", "housing"), ("Ben", "health"), ("Cy", "probation")];
        for (name, agency) in seat_agency {
            let row = rows.iter().find(|r| r["agency"] == agency).unwrap();
            assert_eq!(row["players"], serde_json::json!([name]));
            let decided_rounds: std::collections::BTreeSet<&str> = dec
                .iter()
                .filter(|r| r["player"] == name && r["source"] == "student")
                .map(|r| r["round"].as_str())
                .collect();
            assert_eq!(row["rounds_decided"], decided_rounds.len() as u64, "{name}");
            assert_eq!(
                decided_rounds.len(),
                rounds as usize,
                "{name} decided every round"
            );
            let paid: f64 = rounds_csv
                .iter()
                .filter(|r| r["agency"] == agency)
                .map(|r| r["pool_paid"].parse::<f64>().unwrap())
                .sum();
            assert!((row["pool_paid"].as_f64().unwrap() - paid).abs() < 1e-9);
        }
        let mine = |name: &str, kind: &str, subject: &str| -> Vec<String> {
            dec.iter()
                .filter(|r| r["player"] == name && r["kind"] == kind && r["subject"] == subject)
                .map(|r| r["choice"].clone())
                .collect()
        };
        assert_eq!(mine("Ada", "contribute", "joint_fund"), vec!["2"; 6]);
        assert_eq!(mine("Ada", "join", "joint_fund"), vec!["yes"; 6]);
        assert_eq!(
            mine("Ben", "triage", "rough_sleepers"),
            vec!["pass:hostel"; 6]
        );
        assert_eq!(mine("Cy", "host", "case_conference"), vec!["yes"; 6]);
        assert_eq!(mine("Cy", "help", "-"), vec!["no"; 6]);
        assert_eq!(mine("Cy", "sanction", "case_conference"), vec!["health"; 6]);
        // Seats not opened to students have no rows: they are bots, not seats.
        assert!(
            dec.iter()
                .all(|r| r["agency"] != "drugs" && r["agency"] != "day_centre")
        );
        // Ada paid 2 a month whenever she was in the fund; the debrief says so.
        let ada = rows.iter().find(|r| r["agency"] == "housing").unwrap();
        assert!(ada["pool_paid"].as_f64().unwrap() > 0.0);
        // The bot seat: nobody played it, every decision the bot's.
        let bot = rows.iter().find(|r| r["agency"] == "hostel").unwrap();
        assert_eq!(bot["players"], serde_json::json!([]));
        assert_eq!(bot["rounds_decided"], 0);
        assert!(
            dec.iter()
                .filter(|r| r["agency"] == "hostel")
                .all(|r| r["source"] == "bot" && r["player"].is_empty())
        );
        // The clients' table sets the town beside both arms.
        let clients = text(&teacher, "#debrief-clients").await;
        for who in ["town 1", "all ra", "all bp"] {
            assert!(clients.contains(who), "{clients}");
        }
        // Each student sees how they did.
        for c in &students {
            wait_attr(
                c,
                "phase",
                "data-phase",
                |p| p == "ended",
                "the student's page to end",
            )
            .await;
            let start = Instant::now();
            while text(c, "#mine").await.is_empty() {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "the student's debrief"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        assert!(
            text(&students[0], "#mine")
                .await
                .contains("into the joint fund")
        );
        for c in students {
            c.close().await.unwrap();
        }
        teacher.close().await.unwrap();
    });
}

#[test]
fn a_live_lesson_in_chromium_shows_the_numbers_of_silos_teach() {
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    let server = spawn(&ServeOptions {
        port: 0,
        lan: false,
        out: std::env::temp_dir().join("silos-test-classes"),
    })
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let c = session(port, 1400, 1400).await;
        let page = format!("http://{}/", server.addr);
        c.goto(&format!("{page}#/lesson/dumping")).await.unwrap();
        wait_month(&c, |m| m == 0, "the lesson to open").await;
        assert_eq!(text(&c, "#title").await, "Dumping: passing clients on");

        // Restart with seed 5, then step a quarter.
        let seed = c.find(Locator::Id("seed")).await.unwrap();
        seed.clear().await.unwrap();
        seed.send_keys("5").await.unwrap();
        click(&c, "#restart").await;
        let start = Instant::now();
        while !text(&c, "#clock").await.contains("seed 5") {
            assert!(start.elapsed() < Duration::from_secs(20), "restart with seed 5");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        click(&c, "#quarter").await;
        wait_month(&c, |m| m == 3, "a quarter").await;
        let dir = tempfile::tempdir().unwrap();
        let plain = teach_rows("dumping", 5, &[], dir.path());
        check_numbers(&c, &plain, 3).await;
        assert!(text(&c, "#narration").await.contains("Quarter 1"));

        // Play, then pause: the month stops moving.
        click(&c, "#play").await;
        wait_month(&c, |m| m >= 5, "play").await;
        click(&c, "#play").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let paused = wait_month(&c, |_| true, "the month").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(wait_month(&c, |_| true, "the month").await, paused, "paused");
        check_numbers(&c, &plain, paused as usize).await;

        // Move the inspection slider to 0.8: the lever applies from the next month.
        c.execute(
            "const s = document.querySelector(\"[data-path='levers.referral_inspection.detection']\");\
             s.value = 0.8; s.dispatchEvent(new Event('input')); s.dispatchEvent(new Event('change'));",
            vec![],
        )
        .await
        .unwrap();
        let from = paused + 1;
        let start = Instant::now();
        while !text(&c, "#command").await.contains("active_from") {
            assert!(start.elapsed() < Duration::from_secs(20), "the lever to apply");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(
            text(&c, "#command").await,
            format!(
                "silos teach dumping --seed 5 --set 'levers.referral_inspection.detection=0.8' \
                 --set 'levers.active_from={from}'"
            )
        );
        click(&c, "#quarter").await;
        let now = wait_month(&c, |m| m > paused, "a quarter with the lever").await as usize;
        let dir2 = tempfile::tempdir().unwrap();
        let lever = teach_rows(
            "dumping",
            5,
            &[
                "levers.referral_inspection.detection=0.8".to_string(),
                format!("levers.active_from={from}"),
            ],
            dir2.path(),
        );
        check_numbers(&c, &lever, now).await;
        // The baseline is drawn faint beside.
        assert!(
            c.find(Locator::Css("#chart-need polyline[data-series='baseline-ra']"))
                .await
                .is_ok()
        );
        c.close().await.unwrap();
    });
}
