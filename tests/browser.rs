//! The live lesson page in a real browser: headless Chromium driven through chromedriver
//! (WebDriver, with the fantoccini crate). Open a lesson, restart it with a seed, step a
//! quarter, play and pause, move a lever's slider, and check the numbers on the page
//! against `silos teach` with the same seed and levers.
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

#[test]
fn a_live_lesson_in_chromium_shows_the_numbers_of_silos_teach() {
    let Some(driver_bin) = chromedriver() else {
        assert!(
            std::env::var("SILOS_BROWSER_TESTS").is_err(),
            "SILOS_BROWSER_TESTS is set but chromedriver is not installed"
        );
        eprintln!("skipped: no chromedriver (install Debian's chromium and chromium-driver)");
        return;
    };
    let server = spawn(&ServeOptions {
        port: 0,
        lan: false,
        out: std::env::temp_dir().join("silos-test-classes"),
    })
    .unwrap();
    let port = free_port();
    let _driver = Driver(
        Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
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
        let url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        let c = loop {
            let b = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await;
            match b {
                Ok(c) => break c,
                Err(e) => {
                    assert!(start.elapsed() < Duration::from_secs(20), "chromedriver: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        };
        let page = format!("http://{}/", server.addr);
        c.goto(&format!("{page}#/lesson/dumping")).await.unwrap();
        wait_month(&c, |m| m == 0, "the lesson to open").await;
        assert_eq!(text(&c, "#title").await, "Dumping: passing clients on");

        // Restart with seed 5, then step a quarter.
        let seed = c.find(Locator::Id("seed")).await.unwrap();
        seed.clear().await.unwrap();
        seed.send_keys("5").await.unwrap();
        c.find(Locator::Id("restart")).await.unwrap().click().await.unwrap();
        let start = Instant::now();
        while !text(&c, "#clock").await.contains("seed 5") {
            assert!(start.elapsed() < Duration::from_secs(20), "restart with seed 5");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        c.find(Locator::Id("quarter")).await.unwrap().click().await.unwrap();
        wait_month(&c, |m| m == 3, "a quarter").await;
        let dir = tempfile::tempdir().unwrap();
        let plain = teach_rows("dumping", 5, &[], dir.path());
        check_numbers(&c, &plain, 3).await;
        assert!(text(&c, "#narration").await.contains("Quarter 1"));

        // Play, then pause: the month stops moving.
        c.find(Locator::Id("play")).await.unwrap().click().await.unwrap();
        wait_month(&c, |m| m >= 5, "play").await;
        c.find(Locator::Id("play")).await.unwrap().click().await.unwrap();
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
        c.find(Locator::Id("quarter")).await.unwrap().click().await.unwrap();
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
