//! Output of a single run: tidy CSV (one observation per row) and a JSON manifest.
//!
//! Files are written under temporary names in the output directory and renamed into place
//! only when complete ([`AtomicFile`]), so a file with the final name is never half-written.
//! CSV is written by the `csv` crate ([`CsvBuf`], [`write_num`]), so a text field is quoted
//! exactly when it needs to be. Numbers are written with Rust's shortest round-trip
//! formatting; undefined and non-finite values (NaN, an overflow to infinity) as `NA`.
//! Column meanings: `silos columns` and `docs/ODD.md`.

use std::fmt::Write as _;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::engine::Observer;
use crate::metrics::{AGENCY, TICK};
use crate::model::World;
use crate::tally::Outcomes;

/// The files a run writes, in the order they are listed in the manifest.
pub const RUN_FILES: [&str; 6] = [
    "ticks.csv",
    "agencies.csv",
    "groups.csv",
    "needs.csv",
    "dumping.csv",
    "manifest.json",
];

/// Write `v` as a CSV number into `buf` (cleared first). A value that is not finite (NaN,
/// or an infinity from an overflow) is written `NA`: every number silos writes is finite or
/// `NA` (JSON: `null`, which `serde_json` writes for every non-finite number).
pub fn fmt_num(buf: &mut String, v: f64) {
    buf.clear();
    if !v.is_finite() {
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

/// A file written under a temporary name in its destination directory and renamed into
/// place by [`AtomicFile::commit`], so a file with the final name is always complete. The one
/// way silos writes an output file (`write_atomic` for bytes in memory, the CSV writers for
/// streamed rows, the charts for files a library writes by path).
///
/// The temporary file is `tempfile`'s: a hidden name in the same directory (a dot, the
/// file's stem, random characters, then `.tmp` and the file's extension, kept because the
/// PNG encoder picks the format from it), deleted when the value is dropped without a
/// commit, so every error path removes it. It is created readable as `File::create` would
/// (0666 less the umask on Unix), not private as a temporary file usually is.
pub struct AtomicFile {
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

impl AtomicFile {
    /// Start writing `dir/name`.
    pub fn create(dir: &Path, name: &str) -> std::io::Result<AtomicFile> {
        let dest = dir.join(name);
        let file = Path::new(name);
        let stem = file
            .file_stem()
            .map_or(name.into(), |s| s.to_string_lossy());
        let suffix = match file.extension() {
            Some(ext) => format!(".tmp.{}", ext.to_string_lossy()),
            None => ".tmp".to_string(),
        };
        let prefix = format!(".{stem}.");
        let mut b = tempfile::Builder::new();
        b.prefix(&prefix).suffix(&suffix);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            b.permissions(fs::Permissions::from_mode(0o666));
        }
        Ok(AtomicFile {
            tmp: b.tempfile_in(dir)?,
            dest,
        })
    }

    /// The temporary file's path, for a writer that opens the file by name (a chart
    /// backend). It must write this path in place, not replace it.
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// Sync the temporary file to disk and rename it to its final name. On an error the
    /// temporary file is removed.
    pub fn commit(self) -> std::io::Result<()> {
        self.tmp.as_file().sync_all()?;
        self.tmp.persist(&self.dest).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tmp.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.tmp.flush()
    }
}

/// Write bytes to `dir/name` atomically ([`AtomicFile`]).
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = AtomicFile::create(dir, name)?;
    f.write_all(bytes)?;
    f.commit()
}

/// Write `v` as a CSV field in [`fmt_num`]'s format (`buf` is scratch). Every CSV number
/// goes through here; text fields go through `csv::Writer::write_field`, which quotes a
/// field only when it holds a comma, a quote or a line break.
pub fn write_num<W: Write>(w: &mut csv::Writer<W>, buf: &mut String, v: f64) -> csv::Result<()> {
    fmt_num(buf, v);
    w.write_field(buf.as_bytes())
}

/// CSV rows built in memory (a small file, or the rows of one design point), written by the
/// csv crate: a text field is quoted only when it holds a comma, a quote or a line break, and
/// numbers are formatted by [`fmt_num`]. Writing to memory cannot fail, so neither can these
/// methods.
pub struct CsvBuf {
    w: csv::Writer<Vec<u8>>,
    num: String,
}

const MEMORY: &str = "writing CSV to memory cannot fail";

impl Default for CsvBuf {
    fn default() -> CsvBuf {
        CsvBuf {
            w: csv::Writer::from_writer(Vec::new()),
            num: String::new(),
        }
    }
}

impl CsvBuf {
    pub fn new() -> CsvBuf {
        CsvBuf::default()
    }

    /// A text field of the current record.
    pub fn field(&mut self, text: impl AsRef<str>) -> &mut CsvBuf {
        self.w.write_field(text.as_ref()).expect(MEMORY);
        self
    }

    /// Text fields of the current record.
    pub fn fields(&mut self, texts: &[&str]) -> &mut CsvBuf {
        for t in texts {
            self.field(t);
        }
        self
    }

    /// A number field of the current record.
    pub fn num(&mut self, v: f64) -> &mut CsvBuf {
        write_num(&mut self.w, &mut self.num, v).expect(MEMORY);
        self
    }

    /// End the current record.
    pub fn end(&mut self) {
        self.w.write_record(None::<&[u8]>).expect(MEMORY);
    }

    /// A whole record of text fields.
    pub fn record<T: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = T>) {
        for f in fields {
            self.field(f);
        }
        self.end();
    }

    /// The rows written so far.
    pub fn as_bytes(&mut self) -> &[u8] {
        self.w.flush().expect(MEMORY);
        self.w.get_ref()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_inner().expect(MEMORY)
    }

    pub fn into_string(self) -> String {
        String::from_utf8(self.into_bytes()).expect("CSV of UTF-8 fields is UTF-8")
    }
}

/// A CSV file written atomically ([`AtomicFile`]).
struct TmpCsv {
    w: csv::Writer<BufWriter<AtomicFile>>,
}

impl TmpCsv {
    fn create(dir: &Path, name: &str) -> std::io::Result<TmpCsv> {
        let f = AtomicFile::create(dir, name)?;
        let w = csv::WriterBuilder::new().from_writer(BufWriter::new(f));
        Ok(TmpCsv { w })
    }

    fn finish(self) -> std::io::Result<()> {
        let inner = self.w.into_inner().map_err(|e| e.into_error())?;
        inner.into_inner().map_err(|e| e.into_error())?.commit()
    }
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
    needs: TmpCsv,
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
        let mut needs = TmpCsv::create(dir, "needs.csv")?;
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
        // Two breakdowns of the same cases, one per file, so a plain sum of either file's
        // column gives the arena's total.
        groups
            .w
            .write_record(["tick", "group"].iter().chain(GROUP_COLUMNS.iter()))?;
        needs
            .w
            .write_record(["tick", "needs"].iter().chain(GROUP_COLUMNS.iter()))?;
        Ok(RunWriter {
            dir: dir.to_path_buf(),
            files: Some(Files {
                ticks,
                agencies,
                groups,
                needs,
            }),
            tx: None,
            back: None,
            thread: None,
            buf: String::new(),
        })
    }

    /// The 12 numbers of a groups.csv or needs.csv row.
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
                    write_num(&mut dumping.w, &mut self.buf, v)?;
                }
                dumping.w.write_record(None::<&[u8]>)?;
            }
        }
        dumping.finish()?;
        files.ticks.finish()?;
        files.agencies.finish()?;
        files.groups.finish()?;
        files.needs.finish()
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
    let num = write_num::<BufWriter<AtomicFile>>;
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
    // groups.csv: one row per client group; needs.csv: one row per number of needs.
    for g in &l.groups {
        let gw = &mut f.groups.w;
        num(gw, b, t.tick as f64)?;
        gw.write_field(g)?;
        for &v in &t.groups[row * c..(row + 1) * c] {
            num(gw, b, v)?;
        }
        row += 1;
        gw.write_record(None::<&[u8]>)?;
    }
    for k in 1..l.by_needs {
        let nw = &mut f.needs.w;
        num(nw, b, t.tick as f64)?;
        num(nw, b, k as f64)?;
        for &v in &t.groups[row * c..(row + 1) * c] {
            num(nw, b, v)?;
        }
        row += 1;
        nw.write_record(None::<&[u8]>)?;
    }
    Ok(())
}

/// A writer dropped without `finish` (the run failed) stops its writer thread and waits for
/// it, so the thread's temporary files are deleted before the caller goes on: a caller that
/// then ends the process (`std::process::exit`, which runs no destructors) leaves none.
impl Drop for RunWriter {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(h) = self.thread.take() {
            let _ = h.join();
        }
    }
}

impl Observer for RunWriter {
    type Error = std::io::Error;
    fn observe(&mut self, w: &World) -> Result<(), std::io::Error> {
        self.send_tick(w)
    }
}

/// Escape text for HTML (element content and attribute values in either quote): `&`, `<`,
/// `>`, `"` and `'`. The one escaper of the HTML pages (`report.html`, `handout.html`).
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `bytes` (a PNG file) as a `data:` URI for an `<img>` inlined in a self-contained page.
pub fn png_data_uri(bytes: &[u8]) -> String {
    use base64::Engine as _;
    format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// Which build wrote an output, for `manifest.json`: the version, the git commit it was
/// built from (and whether the tree had uncommitted changes, recorded at build time by
/// `build.rs`), the optimisation profile, the features compiled in, and `build_id`, a hash
/// of all of these and of the uncommitted changes themselves. Results can differ between
/// builds that share a version; the commit and the build id tell them apart (`silos merge`
/// refuses shards whose build ids differ).
pub fn build_info() -> serde_json::Value {
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let features = features();
    serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "git_commit": env!("SILOS_GIT_COMMIT"),
        "git_dirty": env!("SILOS_GIT_DIRTY"),
        "profile": profile,
        "features": features,
        "build_id": build_id(),
    })
}

/// A short id of this build: 16 hex digits of a hash of the version, the commit, the
/// uncommitted changes, the profile and the features.
pub fn build_id() -> String {
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        env!("CARGO_PKG_VERSION"),
        env!("SILOS_GIT_COMMIT"),
        env!("SILOS_GIT_DIRTY"),
        env!("SILOS_GIT_CHANGES"),
        cfg!(debug_assertions),
        features().join(","),
    );
    sha256_hex(text.as_bytes())[..16].to_string()
}

/// The optional features compiled in (`plots`, `serve`, `parquet`).
pub fn features() -> Vec<&'static str> {
    [
        ("plots", cfg!(feature = "plots")),
        ("serve", cfg!(feature = "serve")),
        ("parquet", cfg!(feature = "parquet")),
    ]
    .into_iter()
    .filter_map(|(f, on)| on.then_some(f))
    .collect()
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
/// agencies.csv, groups.csv and needs.csv are not written for national runs.
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
            write_num(w, b, tick as f64).map_err(std::io::Error::other)?;
            w.write_field(l.to_string())?;
            for j in 0..k {
                let v = self.values[l * k + j];
                self.sums[l * k + j].push(v);
                write_num(w, b, v).map_err(std::io::Error::other)?;
            }
            w.write_record(None::<&[u8]>)?;
        }
        write_num(w, b, tick as f64).map_err(std::io::Error::other)?;
        w.write_field("mean")?;
        for j in 0..k {
            let mut a = crate::sweep::stats::Acc::default();
            for l in 0..nl {
                a.push(self.values[l * k + j]);
            }
            write_num(w, b, a.mean()).map_err(std::io::Error::other)?;
        }
        w.write_record(None::<&[u8]>)?;
        write_num(w, b, tick as f64).map_err(std::io::Error::other)?;
        w.write_field("total")?;
        for (j, o) in TICK.iter().enumerate() {
            let v = if additive(o.unit) {
                (0..nl).map(|l| self.values[l * k + j]).sum()
            } else {
                f64::NAN
            };
            write_num(w, b, v).map_err(std::io::Error::other)?;
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
                write_num(&mut loc.w, &mut self.buf, v).map_err(std::io::Error::other)?;
            }
            for j in 0..k {
                write_num(&mut loc.w, &mut self.buf, self.sums[l * k + j].mean())
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
                    write_num(&mut ag.w, &mut self.buf, v).map_err(std::io::Error::other)?;
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
        for v in [f64::INFINITY, f64::NEG_INFINITY, f64::MAX * 2.0] {
            fmt_num(&mut b, v);
            assert_eq!(b, "NA", "{v}");
        }
        fmt_num(&mut b, f64::MAX);
        assert_eq!(b.parse::<f64>().unwrap(), f64::MAX);
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
    fn html_is_escaped() {
        assert_eq!(
            html_escape("<a&b> \"c\" 'd' é"),
            "&lt;a&amp;b&gt; &quot;c&quot; &#39;d&#39; é"
        );
    }

    #[test]
    fn png_data_uri_is_standard_padded_base64() {
        assert_eq!(png_data_uri(b"fo"), "data:image/png;base64,Zm8=");
    }

    /// Names of the hidden (temporary) files in `dir`.
    fn hidden(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect()
    }

    #[test]
    fn atomic_writes_replace_the_file_and_leave_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        write_atomic(dir.path(), "a.csv", b"x\n").unwrap();
        write_atomic(dir.path(), "a.csv", b"y\n").unwrap();
        assert_eq!(fs::read(dir.path().join("a.csv")).unwrap(), b"y\n");
        assert!(hidden(dir.path()).is_empty());
        #[cfg(unix)]
        {
            // Readable like a file from File::create, not private like a usual temp file.
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("a.csv"))
                .unwrap()
                .permissions()
                .mode();
            let plain = {
                fs::File::create(dir.path().join("plain")).unwrap();
                fs::metadata(dir.path().join("plain"))
                    .unwrap()
                    .permissions()
                    .mode()
            };
            assert_eq!(mode, plain);
        }
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // The rename fails: the destination is a directory that is not empty.
        fs::create_dir_all(dir.path().join("busy").join("inside")).unwrap();
        assert!(write_atomic(dir.path(), "busy", b"x").is_err());
        assert!(hidden(dir.path()).is_empty(), "{:?}", hidden(dir.path()));
        // Abandoned before the commit (an error while writing): removed too.
        let mut f = AtomicFile::create(dir.path(), "chart.png").unwrap();
        let tmp = f.temp_path().to_path_buf();
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(".chart.") && name.ends_with(".tmp.png"),
            "{name}"
        );
        f.write_all(b"half").unwrap();
        drop(f);
        assert!(!tmp.exists() && !dir.path().join("chart.png").exists());
        // A run whose writer is dropped before `finish` (the run failed) leaves nothing.
        let run = dir.path().join("run");
        drop(RunWriter::create(&run).unwrap());
        assert_eq!(fs::read_dir(&run).unwrap().count(), 0);
        // A directory that does not exist: an error, nothing created.
        assert!(write_atomic(&dir.path().join("missing"), "a.csv", b"x").is_err());
    }

    #[test]
    fn rfc3339_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
    }
}
