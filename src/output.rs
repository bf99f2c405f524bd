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

/// Streams a run's per-tick rows to CSV as the run goes.
pub struct RunWriter {
    dir: PathBuf,
    ticks: TmpCsv,
    agencies: TmpCsv,
    groups: TmpCsv,
    buf: String,
}

const GROUP_COLUMNS: [&str; 12] = [
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
            ticks,
            agencies,
            groups,
            buf: String::new(),
        })
    }

    fn num(w: &mut csv::Writer<BufWriter<File>>, buf: &mut String, v: f64) -> csv::Result<()> {
        fmt_num(buf, v);
        w.write_field(buf.as_bytes())
    }

    fn outcomes_row(
        w: &mut csv::Writer<BufWriter<File>>,
        buf: &mut String,
        tick: u32,
        group: &str,
        needs: &str,
        o: &Outcomes,
    ) -> csv::Result<()> {
        Self::num(w, buf, tick as f64)?;
        w.write_field(group)?;
        w.write_field(needs)?;
        let arrivals = o.arrivals as f64;
        let per = |x: u64| {
            if o.arrivals > 0 {
                x as f64 / arrivals
            } else {
                f64::NAN
            }
        };
        for v in [
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
        ] {
            Self::num(w, buf, v)?;
        }
        w.write_record(None::<&[u8]>)
    }

    /// Finish the per-tick files and write `dumping.csv` from the run's totals. The manifest
    /// is written separately (it needs the run's metadata).
    pub fn finish(mut self, w: &World) -> std::io::Result<()> {
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
        self.ticks.finish()?;
        self.agencies.finish()?;
        self.groups.finish()
    }

    fn write_tick(&mut self, w: &World) -> csv::Result<()> {
        let b = &mut self.buf;
        Self::num(&mut self.ticks.w, b, w.tick as f64)?;
        for o in TICK {
            Self::num(&mut self.ticks.w, b, (o.value)(w))?;
        }
        self.ticks.w.write_record(None::<&[u8]>)?;

        for (i, a) in w.agencies.iter().enumerate() {
            let aw = &mut self.agencies.w;
            Self::num(aw, b, w.tick as f64)?;
            aw.write_field(&a.name)?;
            aw.write_field(a.level.as_str())?;
            aw.write_field(a.family.as_str())?;
            for o in AGENCY {
                Self::num(aw, b, (o.value)(w, i))?;
            }
            aw.write_record(None::<&[u8]>)?;
        }

        let gw = &mut self.groups.w;
        for (g, grp) in w.groups.iter().enumerate() {
            Self::outcomes_row(gw, b, w.tick, &grp.name, "all", &w.tally.groups[g])?;
        }
        for k in 1..w.tally.by_needs.len() {
            Self::outcomes_row(gw, b, w.tick, "all", &k.to_string(), &w.tally.by_needs[k])?;
        }
        Ok(())
    }
}

impl Observer for RunWriter {
    type Error = std::io::Error;
    fn observe(&mut self, w: &World) -> Result<(), std::io::Error> {
        self.write_tick(w).map_err(std::io::Error::other)
    }
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
