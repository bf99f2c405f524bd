//! Output of a single run: tidy CSV (one observation per row) and a JSON manifest.
//!
//! Files are written under temporary names in the output directory and renamed into place
//! only when complete, so a file with the final name is never half-written. Numbers are
//! written with Rust's shortest round-trip formatting; undefined values as `NA`.
//! Column meanings: `silos columns` and `docs/ODD.md`.

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::engine::Observer;
use crate::metrics::{AGENCY, TICK};
use crate::model::World;
use crate::tally::Outcomes;

/// The files a run writes, in the order they are listed in the manifest.
pub const RUN_FILES: [&str; 5] = [
    "ticks.csv",
    "agencies.csv",
    "groups.csv",
    "dumping.csv",
    "manifest.json",
];

/// Write `v` as a CSV number into `buf` (cleared first).
pub fn fmt_num(buf: &mut String, v: f64) {
    buf.clear();
    if v.is_nan() {
        buf.push_str("NA");
    } else if v == 0.0 {
        buf.push('0');
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        let _ = write!(buf, "{}", v as i64);
    } else if v.abs() < 1e-5 || v.abs() >= 1e15 {
        // Exponent form keeps tiny and huge numbers short; R and pandas read it.
        let _ = write!(buf, "{v:e}");
    } else {
        let _ = write!(buf, "{v}");
    }
}

struct TmpCsv {
    tmp: PathBuf,
    dest: PathBuf,
    w: csv::Writer<BufWriter<File>>,
}

impl TmpCsv {
    fn create(dir: &Path, name: &str) -> std::io::Result<TmpCsv> {
        let dest = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        let w = csv::WriterBuilder::new().from_writer(BufWriter::new(File::create(&tmp)?));
        Ok(TmpCsv { tmp, dest, w })
    }

    fn finish(self) -> std::io::Result<()> {
        let mut inner = self.w.into_inner().map_err(|e| e.into_error())?;
        inner.flush()?;
        inner.get_ref().sync_all()?;
        drop(inner);
        fs::rename(&self.tmp, &self.dest)
    }
}

/// Write bytes to `dir/name` atomically (temporary file, then rename).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, dir.join(name))
}

/// Streams a run's per-tick rows to CSV as the run goes. The simulation thread only
/// copies each tick's numbers into a recycled buffer; a writer thread formats and writes
/// them, so CSV formatting leaves the tick loop (and overlaps with it on a second core).
/// Rows are written in tick order, so the files are the same as if written in the loop.
pub struct RunWriter {
    dir: PathBuf,
    /// The open files, until the writer thread takes them at the first tick.
    files: Option<Files>,
    tx: Option<std::sync::mpsc::SyncSender<TickRows>>,
    back: Option<std::sync::mpsc::Receiver<TickRows>>,
    thread: Option<std::thread::JoinHandle<std::io::Result<Files>>>,
    buf: String,
}

struct Files {
    ticks: TmpCsv,
    agencies: TmpCsv,
    groups: TmpCsv,
}

/// One tick's numbers, in column order (the writer adds the labels).
#[derive(Default)]
struct TickRows {
    tick: u32,
    ticks: Vec<f64>,
    agencies: Vec<f64>,
    groups: Vec<f64>,
}

/// What the writer thread needs to label rows: fixed for a run.
struct Labels {
    agencies: Vec<(String, &'static str, &'static str)>,
    groups: Vec<String>,
    by_needs: usize,
}

/// The numeric columns of `groups.csv`, after `tick`, `group` and `needs`.
pub const GROUP_COLUMNS: [&str; 12] = [
    "arrivals",
    "need",
    "need_met",
    "share_need_met",
    "served",
    "partly_served",
    "fell_through",
    "referrals",
    "bounces",
    "dumped_referrals",
    "referrals_per_case",
    "share_fell_through",
];

/// Ticks in flight between the simulation and the writer.
const QUEUE: usize = 4;

impl RunWriter {
    /// Create the output directory (if needed) and open the per-tick files.
    pub fn create(dir: &Path) -> std::io::Result<RunWriter> {
        fs::create_dir_all(dir)?;
        let mut ticks = TmpCsv::create(dir, "ticks.csv")?;
        let mut agencies = TmpCsv::create(dir, "agencies.csv")?;
        let mut groups = TmpCsv::create(dir, "groups.csv")?;
        ticks.w.write_field("tick")?;
        for o in TICK {
            ticks.w.write_field(o.name)?;
        }
        ticks.w.write_record(None::<&[u8]>)?;
        agencies.w.write_record(
            ["tick", "agency", "level", "behaviour"]
                .iter()
                .chain(AGENCY.iter().map(|o| &o.name)),
        )?;
        groups.w.write_record(
            ["tick", "group", "needs"]
                .iter()
                .chain(GROUP_COLUMNS.iter()),
        )?;
        Ok(RunWriter {
            dir: dir.to_path_buf(),
            files: Some(Files {
                ticks,
                agencies,
                groups,
            }),
            tx: None,
            back: None,
            thread: None,
            buf: String::new(),
        })
    }

    fn num(w: &mut csv::Writer<BufWriter<File>>, buf: &mut String, v: f64) -> csv::Result<()> {
        fmt_num(buf, v);
        w.write_field(buf.as_bytes())
    }

    /// The 12 numbers of a groups.csv row.
    fn outcomes(out: &mut Vec<f64>, o: &Outcomes) {
        let arrivals = o.arrivals as f64;
        let per = |x: u64| {
            if o.arrivals > 0 {
                x as f64 / arrivals
            } else {
                f64::NAN
            }
        };
        out.extend_from_slice(&[
            arrivals,
            o.need,
            o.need_met,
            o.share_met(),
            o.served as f64,
            o.partly_served as f64,
            o.fell_through as f64,
            o.referrals as f64,
            o.bounces as f64,
            o.dumped as f64,
            per(o.referrals),
            per(o.fell_through),
        ]);
    }

    /// Start the writer thread with the run's labels.
    fn start(&mut self, w: &World) {
        let labels = Labels {
            agencies: w
                .agencies
                .iter()
                .map(|a| (a.name.clone(), a.level.as_str(), a.family.as_str()))
                .collect(),
            groups: w.groups.iter().map(|g| g.name.clone()).collect(),
            by_needs: w.tally.by_needs.len(),
        };
        let mut files = self
            .files
            .take()
            .expect("files open until the thread starts");
        let (tx, rx) = std::sync::mpsc::sync_channel::<TickRows>(QUEUE);
        let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<TickRows>(QUEUE + 2);
        for _ in 0..QUEUE + 1 {
            let _ = back_tx.send(TickRows::default());
        }
        self.thread = Some(std::thread::spawn(move || -> std::io::Result<Files> {
            let mut buf = String::new();
            for t in rx {
                write_rows(&mut files, &labels, &mut buf, &t).map_err(std::io::Error::other)?;
                // Hand the buffer back for reuse; the run may have finished already.
                let _ = back_tx.try_send(t);
            }
            Ok(files)
        }));
        self.tx = Some(tx);
        self.back = Some(back_rx);
    }

    /// The writer thread's result: its files, or the error that stopped it.
    fn join(&mut self) -> std::io::Result<Files> {
        self.tx = None;
        match self.thread.take() {
            Some(h) => h
                .join()
                .map_err(|_| std::io::Error::other("the CSV writer thread panicked"))?,
            None => self
                .files
                .take()
                .ok_or_else(|| std::io::Error::other("run files already finished")),
        }
    }

    /// Finish the per-tick files and write `dumping.csv` from the run's totals. The manifest
    /// is written separately (it needs the run's metadata).
    pub fn finish(mut self, w: &World) -> std::io::Result<()> {
        let files = self.join()?;
        let mut dumping = TmpCsv::create(&self.dir, "dumping.csv")?;
        dumping.w.write_record([
            "sender",
            "receiver",
            "referrals",
            "dumped_referrals",
            "dumped_cost",
        ])?;
        let n = w.n_agencies();
        for s in 0..n {
            for r in 0..n {
                let k = s * n + r;
                if w.tally.referrals[k] == 0 {
                    continue;
                }
                dumping.w.write_field(&w.agencies[s].name)?;
                dumping.w.write_field(&w.agencies[r].name)?;
                for v in [
                    w.tally.referrals[k] as f64,
                    w.tally.dumped[k] as f64,
                    w.tally.dumped_cost_matrix[k],
                ] {
                    Self::num(&mut dumping.w, &mut self.buf, v)?;
                }
                dumping.w.write_record(None::<&[u8]>)?;
            }
        }
        dumping.finish()?;
        files.ticks.finish()?;
        files.agencies.finish()?;
        files.groups.finish()
    }

    /// Copy this tick's numbers and hand them to the writer thread.
    fn send_tick(&mut self, w: &World) -> std::io::Result<()> {
        if self.thread.is_none() {
            self.start(w);
        }
        let mut t = self
            .back
            .as_ref()
            .and_then(|b| b.recv().ok())
            .unwrap_or_default();
        t.tick = w.tick;
        t.ticks.clear();
        t.ticks.extend(TICK.iter().map(|o| (o.value)(w)));
        t.agencies.clear();
        for i in 0..w.agencies.len() {
            t.agencies.extend(AGENCY.iter().map(|o| (o.value)(w, i)));
        }
        t.groups.clear();
        for g in 0..w.groups.len() {
            Self::outcomes(&mut t.groups, &w.tally.groups[g]);
        }
        for k in 1..w.tally.by_needs.len() {
            Self::outcomes(&mut t.groups, &w.tally.by_needs[k]);
        }
        let sent = self.tx.as_ref().map(|tx| tx.send(t));
        if let Some(Err(_)) = sent {
            // The writer stopped: report its error.
            return Err(match self.join() {
                Err(e) => e,
                Ok(_) => std::io::Error::other("the CSV writer thread stopped"),
            });
        }
        Ok(())
    }
}

/// Format and write one tick's rows (on the writer thread).
fn write_rows(f: &mut Files, l: &Labels, b: &mut String, t: &TickRows) -> csv::Result<()> {
    let num = RunWriter::num;
    num(&mut f.ticks.w, b, t.tick as f64)?;
    for &v in &t.ticks {
        num(&mut f.ticks.w, b, v)?;
    }
    f.ticks.w.write_record(None::<&[u8]>)?;
    let k = AGENCY.len();
    for (i, (name, level, family)) in l.agencies.iter().enumerate() {
        let aw = &mut f.agencies.w;
        num(aw, b, t.tick as f64)?;
        aw.write_field(name)?;
        aw.write_field(level)?;
        aw.write_field(family)?;
        for &v in &t.agencies[i * k..(i + 1) * k] {
            num(aw, b, v)?;
        }
        aw.write_record(None::<&[u8]>)?;
    }
    let c = GROUP_COLUMNS.len();
    let mut row = 0;
    let mut group_row = |group: &str, needs: &str, b: &mut String| -> csv::Result<()> {
        let gw = &mut f.groups.w;
        num(gw, b, t.tick as f64)?;
        gw.write_field(group)?;
        gw.write_field(needs)?;
        for &v in &t.groups[row * c..(row + 1) * c] {
            num(gw, b, v)?;
        }
        row += 1;
        gw.write_record(None::<&[u8]>)
    };
    for g in &l.groups {
        group_row(g, "all", b)?;
    }
    for k in 1..l.by_needs {
        group_row("all", &k.to_string(), b)?;
    }
    Ok(())
}

impl Observer for RunWriter {
    type Error = std::io::Error;
    fn observe(&mut self, w: &World) -> Result<(), std::io::Error> {
        self.send_tick(w)
    }
}

/// Which build wrote an output, for `manifest.json`: the version, the git commit it was
/// built from (and whether the tree had uncommitted changes, recorded at build time by
/// `build.rs`), the optimisation profile and the features compiled in. Results can differ
/// between builds that share a version; the commit tells them apart.
pub fn build_info() -> serde_json::Value {
    serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("SILOS_GIT_COMMIT"),
        "git_dirty": env!("SILOS_GIT_DIRTY"),
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        "features": if cfg!(feature = "plots") { vec!["plots"] } else { Vec::<&str>::new() },
    })
}

/// SHA-256 of bytes, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Current UTC time as RFC 3339 (seconds precision).
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    rfc3339(secs)
}

/// Format Unix seconds as RFC 3339 UTC (civil-from-days, Howard Hinnant's algorithm).
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// A national run's files (`national.rs`): `locality_agencies.csv` (each locality's
/// agencies, with the run mean of every agency observable), `ticks.csv` with a `locality` column (one row
/// per locality per tick, then a row `mean`, the unweighted mean over localities, and a row
/// `total`, the national total of every observable that adds up, NA for the others) and, at
/// the end, `localities.csv` (each locality's draws and the run mean of every observable).
/// agencies.csv and groups.csv are not written for national runs.
pub struct NationalWriter {
    dir: PathBuf,
    ticks: TmpCsv,
    /// Sum over ticks of each locality's observables (run means at the end).
    sums: Vec<crate::sweep::stats::Acc>,
    /// Each locality's agencies' observables over ticks (`locality_agencies.csv`).
    agency_sums: Vec<crate::sweep::stats::Acc>,
    values: Vec<f64>,
    buf: String,
}

/// Whether an observable with this unit adds up over localities (counts, money, staff
/// time): its national total is the sum. Shares, indices, means and the national shocks do
/// not (their `total` is NA).
pub fn additive(unit: &str) -> bool {
    matches!(
        unit,
        "k GBP"
            | "cases"
            | "agencies"
            | "members"
            | "count"
            | "referrals"
            | "need units x severity"
            | "breaches"
            | "bounces"
            | "mechanisms"
            | "staff-days"
            | "bids"
            | "sanctions"
    )
}

/// The files a national run writes.
pub const NATIONAL_FILES: [&str; 4] = [
    "ticks.csv",
    "localities.csv",
    "locality_agencies.csv",
    "manifest.json",
];

impl NationalWriter {
    pub fn create(dir: &Path, n_localities: usize) -> std::io::Result<NationalWriter> {
        fs::create_dir_all(dir)?;
        let mut ticks = TmpCsv::create(dir, "ticks.csv")?;
        ticks.w.write_field("tick")?;
        ticks.w.write_field("locality")?;
        for o in TICK {
            ticks.w.write_field(o.name)?;
        }
        ticks.w.write_record(None::<&[u8]>)?;
        Ok(NationalWriter {
            dir: dir.to_path_buf(),
            ticks,
            sums: vec![crate::sweep::stats::Acc::default(); n_localities * TICK.len()],
            agency_sums: Vec::new(),
            values: vec![0.0; n_localities * TICK.len()],
            buf: String::new(),
        })
    }

    /// Write this tick's rows.
    pub fn observe(&mut self, n: &crate::national::National) -> std::io::Result<()> {
        let k = TICK.len();
        for (out, sim) in self.values.chunks_mut(k).zip(&n.localities) {
            for (v, o) in out.iter_mut().zip(TICK) {
                *v = (o.value)(&sim.world);
            }
        }
        let ak = AGENCY.len();
        let n_ag = n.localities.first().map_or(0, |s| s.world.n_agencies());
        if self.agency_sums.is_empty() {
            self.agency_sums =
                vec![crate::sweep::stats::Acc::default(); n.localities.len() * n_ag * ak];
        }
        for (l, sim) in n.localities.iter().enumerate() {
            for i in 0..n_ag {
                for (j, o) in AGENCY.iter().enumerate() {
                    self.agency_sums[(l * n_ag + i) * ak + j].push((o.value)(&sim.world, i));
                }
            }
        }
        let b = &mut self.buf;
        let w = &mut self.ticks.w;
        let tick = n.localities.first().map_or(0, |s| s.world.tick);
        let nl = n.localities.len();
        for l in 0..nl {
            RunWriter::num(w, b, tick as f64).map_err(std::io::Error::other)?;
            w.write_field(l.to_string())?;
            for j in 0..k {
                let v = self.values[l * k + j];
                self.sums[l * k + j].push(v);
                RunWriter::num(w, b, v).map_err(std::io::Error::other)?;
            }
            w.write_record(None::<&[u8]>)?;
        }
        RunWriter::num(w, b, tick as f64).map_err(std::io::Error::other)?;
        w.write_field("mean")?;
        for j in 0..k {
            let mut a = crate::sweep::stats::Acc::default();
            for l in 0..nl {
                a.push(self.values[l * k + j]);
            }
            RunWriter::num(w, b, a.mean()).map_err(std::io::Error::other)?;
        }
        w.write_record(None::<&[u8]>)?;
        RunWriter::num(w, b, tick as f64).map_err(std::io::Error::other)?;
        w.write_field("total")?;
        for (j, o) in TICK.iter().enumerate() {
            let v = if additive(o.unit) {
                (0..nl).map(|l| self.values[l * k + j]).sum()
            } else {
                f64::NAN
            };
            RunWriter::num(w, b, v).map_err(std::io::Error::other)?;
        }
        w.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Finish `ticks.csv` and write `localities.csv`.
    pub fn finish(mut self, n: &crate::national::National) -> std::io::Result<()> {
        self.ticks.finish()?;
        let mut loc = TmpCsv::create(&self.dir, "localities.csv")?;
        loc.w.write_record(
            [
                "locality",
                "arrivals_multiplier",
                "income_multiplier",
                "bp_share",
                "levers",
            ]
            .iter()
            .copied()
            .chain(TICK.iter().map(|o| o.name)),
        )?;
        let k = TICK.len();
        for (l, d) in n.draws.iter().enumerate() {
            loc.w.write_field(l.to_string())?;
            for v in [d.arrivals, d.income, d.bp_share, d.levers as u8 as f64] {
                RunWriter::num(&mut loc.w, &mut self.buf, v).map_err(std::io::Error::other)?;
            }
            for j in 0..k {
                RunWriter::num(&mut loc.w, &mut self.buf, self.sums[l * k + j].mean())
                    .map_err(std::io::Error::other)?;
            }
            loc.w.write_record(None::<&[u8]>)?;
        }
        loc.finish()?;
        let mut ag = TmpCsv::create(&self.dir, "locality_agencies.csv")?;
        ag.w.write_record(
            ["locality", "agency", "level", "behaviour"]
                .iter()
                .copied()
                .chain(AGENCY.iter().map(|o| o.name)),
        )?;
        let ak = AGENCY.len();
        for (l, sim) in n.localities.iter().enumerate() {
            let n_ag = sim.world.n_agencies();
            for (i, a) in sim.world.agencies.iter().enumerate() {
                ag.w.write_field(l.to_string())?;
                ag.w.write_field(&a.name)?;
                ag.w.write_field(a.level.as_str())?;
                ag.w.write_field(a.family.as_str())?;
                for j in 0..ak {
                    let v = self
                        .agency_sums
                        .get((l * n_ag + i) * ak + j)
                        .map_or(f64::NAN, |a| a.mean());
                    RunWriter::num(&mut ag.w, &mut self.buf, v).map_err(std::io::Error::other)?;
                }
                ag.w.write_record(None::<&[u8]>)?;
            }
        }
        ag.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_format_plainly() {
        let mut b = String::new();
        fmt_num(&mut b, f64::NAN);
        assert_eq!(b, "NA");
        fmt_num(&mut b, 3.0);
        assert_eq!(b, "3");
        fmt_num(&mut b, 0.25);
        assert_eq!(b, "0.25");
        fmt_num(&mut b, -0.0);
        assert_eq!(b, "0");
        fmt_num(&mut b, 8.25e-17);
        assert_eq!(b, "8.25e-17");
        assert_eq!(b.parse::<f64>().unwrap(), 8.25e-17);
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
