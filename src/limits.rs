//! What the engine can represent and what the machine can hold: the hard bounds the
//! validator applies to input (ticks, arrivals, shocks, money), the worst-case money a run
//! can move through the ledger, an estimate of a run's peak memory and time (checked before
//! anything is allocated), and the one way input files are read (regular files of bounded
//! size only).
//!
//! Two kinds of limit:
//! - *Representable* (machine-independent, enforced by the validator, so `check`, `run`,
//!   `sweep`, `teach`, national runs and the Python API all refuse the same files): money in
//!   the ledger is `i64` micro-units (±9.2e12 k GBP), so every money field is bounded and
//!   the worst-case sum paid out over a run must stay below a quarter of that; arrivals,
//!   ticks, shock rate and localities are bounded to what a run can do in reasonable time.
//! - *Machine* (the memory a run needs against a share of this machine's memory): checked by
//!   [`admit`] at the start of every run and printed by `silos check`; `--max-memory` moves
//!   the limit, `--force` turns the refusal into a warning.

use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::scenario::Scenario;

/// Largest scenario, experiment, design or lesson file read (16 MiB). The largest shipped
/// input is a few tens of kB.
pub const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;
/// Most ticks in a run (10,000 months, over 800 years). A sweep keeps every tick's
/// observables of a run in memory and folds summaries per tick, so ticks drive memory.
pub const MAX_TICKS: u32 = 10_000;
/// Most expected arrivals per tick in one locality, summed over groups (after the
/// localities' arrival multiplier). About 2 microseconds of CPU per case (measured), so 1e7
/// arrivals take some 20 s per tick, and the case buffer 1.6 GB.
pub const MAX_ARRIVALS: f64 = 1e7;
/// Most expected media shocks per tick: each shock is one draw and one update, and salience
/// saturates long before (each adds `model.shock_size`).
pub const MAX_SHOCK_RATE: f64 = 100.0;
/// Most localities in a national run.
pub const MAX_LOCALITIES: u32 = 10_000;
/// Largest value of any single money field (k GBP): 1e9 k GBP is a trillion pounds a
/// month, beyond any public budget.
pub const MAX_MONEY: f64 = 1e9;
/// Largest staff or need magnitude (staff-days, need units).
pub const MAX_AMOUNT: f64 = 1e9;
/// What the ledger can hold: `i64::MAX` micro-units, in k GBP (9.22e12).
pub const LEDGER_MAX: f64 = i64::MAX as f64 / crate::model::ledger::SCALE;
/// The worst-case money a run may pay out of the centre (k GBP): a quarter of what the
/// ledger holds, so rounding and the draws' tails never reach it.
pub const MONEY_BUDGET: f64 = LEDGER_MAX / 4.0;

// ---------------------------------------------------------------------------------------------
// Input files
// ---------------------------------------------------------------------------------------------

/// Read a text input file: a regular file of at most [`MAX_INPUT_BYTES`], UTF-8. The
/// message says what is wrong (a device such as /dev/zero, a pipe, a directory, a file too
/// large) without reading more than the limit.
pub fn read_text(path: &Path) -> Result<String, String> {
    let bytes = read_bytes(path)?;
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".to_string())
}

/// [`read_text`] without the UTF-8 check.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_file() {
        return Err(
            "not a regular file (a directory, device or pipe); input files must be regular files"
                .to_string(),
        );
    }
    let too_big = |n: u64| {
        format!(
            "{n} bytes or more; input files of at most {} MB are read",
            MAX_INPUT_BYTES / (1024 * 1024)
        )
    };
    if meta.len() > MAX_INPUT_BYTES {
        return Err(too_big(meta.len()));
    }
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_big(bytes.len() as u64));
    }
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------------
// Money: the worst case a run can pay out
// ---------------------------------------------------------------------------------------------

/// A field that makes the run's worst-case money too large for the ledger: its path, its
/// value, and the most it may be with every other field as it is.
#[derive(Debug, Clone, PartialEq)]
pub struct MoneyExcess {
    pub field: String,
    pub value: f64,
    pub max: f64,
    pub total: f64,
}

impl MoneyExcess {
    /// The `allowed` text of a validation error.
    pub fn allowed(&self, ticks: u32) -> String {
        format!(
            "at most {} here: over {ticks} ticks the money a run can pay out in the worst case ({:.3e} k GBP with this value) must stay below {:.3e} k GBP, a quarter of what the ledger holds in i64 micro-units",
            fmt_max(self.max),
            self.total,
            MONEY_BUDGET
        )
    }
}

fn fmt_max(v: f64) -> String {
    if v <= 0.0 {
        "0".to_string()
    } else if v >= 1e4 {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// Upper bound on the cases a locality sees in a tick: the Poisson mean plus ten standard
/// deviations plus 64 (the case buffer's capacity rule, `model::case_capacity`).
pub fn cases_bound(s: &Scenario) -> f64 {
    let mean = expected_arrivals(s);
    mean + 10.0 * mean.sqrt() + 64.0
}

/// Expected arrivals per tick in one locality (at the localities' highest multiplier).
pub fn expected_arrivals(s: &Scenario) -> f64 {
    let hi = s.localities.as_ref().map_or(1.0, |l| l.arrivals.high);
    s.groups.iter().map(|g| g.arrivals).sum::<f64>() * hi
}

/// The worst-case money the centre of one locality's ledger pays out over `ticks` ticks, as
/// a sum of terms each a coefficient times one field. Only the centre can go below zero and
/// every other account is >= 0 with the sum exactly zero, so no balance can exceed what
/// the centre paid. Returns the field that dominates when the total exceeds
/// [`MONEY_BUDGET`].
pub fn money_excess(s: &Scenario, ticks: u32) -> Option<MoneyExcess> {
    let t = ticks as f64;
    let (income_hi, count) = s
        .localities
        .as_ref()
        .map_or((1.0, 1.0), |l| (l.income.high, l.count as f64));
    let cases = cases_bound(s);
    let hops = s.model.hop_limit as f64 + 1.0;
    let n = s.agencies.len() as f64;
    // (field, coefficient, value): the term is coefficient x value.
    let mut terms: Vec<(String, f64, f64)> = Vec::new();
    for (i, a) in s.agencies.iter().enumerate() {
        let f = |k: &str| format!("agencies[{i}].{k}");
        terms.push((f("reserves"), income_hi, a.reserves));
        // Budget rounds share a funder's envelope and competitive funding pools the
        // contestable money of every locality, so one agency may receive the incomes of
        // all: each income counts once per locality.
        terms.push((f("income"), t * income_hi * count, a.income));
        // Fixed costs an agency cannot pay are lent by the centre.
        terms.push((f("fixed_costs"), t, a.fixed_costs));
        terms.push((f("throughput_pay"), t * cases, a.throughput_pay));
    }
    let r = s.levers.p.host_reimbursement;
    if r > 0.0 {
        let staff_value = s.model.unit_cost / s.model.unit_staff;
        for (m, mech) in s.mechanisms.iter().enumerate() {
            terms.push((
                format!("mechanisms[{m}].host_money"),
                t * r,
                mech.host_money,
            ));
            terms.push((
                format!("mechanisms[{m}].host_staff"),
                t * r * staff_value,
                mech.host_staff,
            ));
        }
    }
    let p = &s.levers.p;
    // Under a duty, every candidate of every mechanism is checked each tick.
    terms.push((
        "levers.duty_to_cooperate.cost".into(),
        t * n * (s.mechanisms.len() as f64).max(1.0),
        p.duty_to_cooperate.cost,
    ));
    terms.push((
        "levers.referral_inspection.cost".into(),
        t * cases * hops,
        p.referral_inspection.cost,
    ));
    for (k, pr) in p.prices.iter().enumerate() {
        if pr.amount < 0.0 {
            // A subsidy paid by the centre, at most once per case and hop.
            terms.push((
                format!("levers.prices[{k}].amount"),
                t * cases * (hops + 1.0),
                -pr.amount,
            ));
        }
    }
    let total: f64 = terms.iter().map(|(_, c, v)| c * v).sum();
    if total.is_finite() && total < MONEY_BUDGET {
        return None;
    }
    let (field, coef, value) = terms
        .into_iter()
        .max_by(|a, b| (a.1 * a.2).total_cmp(&(b.1 * b.2)))
        .expect("at least one agency");
    let rest = total - coef * value;
    let max = if coef > 0.0 {
        ((MONEY_BUDGET - rest) / coef).max(0.0)
    } else {
        0.0
    };
    Some(MoneyExcess {
        field,
        value,
        max,
        total,
    })
}

// ---------------------------------------------------------------------------------------------
// Memory and time
// ---------------------------------------------------------------------------------------------

/// A run's estimated peak memory and time on one core.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub bytes: f64,
    pub secs: f64,
    /// What dominates the memory: the field to lower.
    pub driver: String,
}

/// Estimated peak memory and time of one run of `s` for `ticks` ticks.
///
/// Calibration (release build, 2026-12-05, `/usr/bin/time -v`, a 2-core machine shared with
/// other builds; the default scenario: 23 agencies, 191.5 expected arrivals a tick):
/// - `silos check`: 6.4 MB peak; `silos run --no-plots` of the default 120 ticks: 7.8 MB,
///   0.07 s user; with `groups.families.arrivals` raised to 8,000 (8,111.5 a tick): 8.9 MB,
///   1.55 s; to 80,000 (80,111.5 a tick): 20.4 MB, 15.9 s user.
/// - A case in the buffer is 160 bytes (`size_of::<Case>()`); the buffer holds
///   `cases_bound` cases per locality: 83,000 x 160 B = 13.3 MB, and 7 MB + 13.3 MB matches
///   the 20.4 MB measured. So: 7 MB of program, plus the case buffer, plus per locality
///   about 200 bytes per agency pair and 100 per agency and group (matrices, beliefs,
///   tallies), plus the observables a sweep keeps of a run (8 bytes per tick and
///   observable) or a run's charts read back (taken as three times its tick, agency and
///   group rows).
/// - Checked against two runs the rule was not fitted to: `groups.families.arrivals = 1e6`
///   for 3 ticks, estimated 161 MB and 6 s, measured 160 MB (163,880 kB) and 3.6 s user;
///   `scenarios/national.toml` (300 localities, 120 ticks, `--threads 1`), estimated 92 MB
///   and 22 s, measured 64 MB and 18.8 s user. The estimate errs high, as a limit should.
/// - Time: 15.9 s / (80,111.5 x 120 cases) = 1.65 microseconds of CPU per case at 23
///   agencies; taken as 2 microseconds per case plus 20 nanoseconds per agency pair and
///   tick, plus 0.05 s. Wall time on a busy machine was twice that.
pub fn estimate(s: &Scenario, ticks: u32) -> Estimate {
    use crate::metrics::{AGENCY, TICK};
    let localities = s.localities.as_ref().map_or(1.0, |l| l.count as f64);
    let n = s.agencies.len() as f64;
    let g = s.groups.len() as f64;
    let m = s.mechanisms.len() as f64;
    let t = ticks as f64;
    let base = 7e6;
    let cases = cases_bound(s) * std::mem::size_of::<crate::model::Case>() as f64 * localities;
    let world = (n * n * 200.0 + n * g * 100.0 + m * n * 100.0 + 50_000.0) * localities;
    let rows = TICK.len() as f64 + n * AGENCY.len() as f64 + g * 12.0;
    let series = t * rows * 8.0 * 3.0 + t * localities * 16.0 * 8.0;
    let bytes = base + cases + world + series;
    let driver = if localities > 1.0 && cases.max(world) >= series {
        format!("localities.count = {localities}")
    } else if cases >= world.max(series) {
        let (i, g) = s
            .groups
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.arrivals.total_cmp(&b.1.arrivals))
            .expect("at least one group");
        format!("groups[{i}].arrivals = {}", g.arrivals)
    } else if series >= world {
        format!("{ticks} ticks")
    } else {
        format!("{} agencies", s.agencies.len())
    };
    let secs = 0.05 + t * localities * (expected_arrivals(s) * 2e-6 + n * n * 2e-8);
    Estimate {
        bytes,
        secs,
        driver,
    }
}

/// Bytes as a short text in units of 1024 as `--max-memory` reads them ("12 MB",
/// "1.5 GB").
pub fn show_bytes(b: f64) -> String {
    const MB: f64 = (1u64 << 20) as f64;
    const GB: f64 = (1u64 << 30) as f64;
    if b >= GB {
        format!("{:.1} GB", b / GB)
    } else {
        format!("{:.0} MB", (b / MB).max(1.0))
    }
}

/// Seconds as a short text.
pub fn show_secs(s: f64) -> String {
    if s < 1.0 {
        format!("{s:.2} s")
    } else if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 7200.0 {
        format!("{:.0} min", s / 60.0)
    } else {
        format!("{:.1} h", s / 3600.0)
    }
}

/// Parse a size: a number of bytes with an optional K, M, G or T suffix (powers of 1024;
/// "B" and "iB" accepted): `4G`, `500M`, `1.5GB`, `1048576`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let upper = t.to_ascii_uppercase();
    let stripped = upper
        .strip_suffix("IB")
        .or_else(|| upper.strip_suffix('B'))
        .unwrap_or(&upper);
    let (num, mult) = match stripped.chars().last() {
        Some('K') => (&stripped[..stripped.len() - 1], 1u64 << 10),
        Some('M') => (&stripped[..stripped.len() - 1], 1 << 20),
        Some('G') => (&stripped[..stripped.len() - 1], 1 << 30),
        Some('T') => (&stripped[..stripped.len() - 1], 1 << 40),
        _ => (stripped, 1),
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a size (e.g. 4G, 500M, 1048576)"))?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!("{text:?}: a size must be above 0"));
    }
    let b = v * mult as f64;
    if b >= u64::MAX as f64 {
        return Err(format!("{text:?} is too large"));
    }
    Ok(b as u64)
}

/// Half of this machine's memory (MemTotal in /proc/meminfo); 4 GiB where that cannot be
/// read.
pub fn default_memory_limit() -> u64 {
    static CACHED: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *CACHED.get_or_init(read_memory_limit)
}

fn read_memory_limit() -> u64 {
    const FALLBACK: u64 = 4 << 30;
    let Ok(text) = std::fs::read_to_string("/proc/meminfo") else {
        return FALLBACK;
    };
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(FALLBACK, |kb| kb * 1024 / 2)
}

static LIMIT: AtomicU64 = AtomicU64::new(0);
static FORCE: AtomicBool = AtomicBool::new(false);

/// Set the process's memory limit for runs (`--max-memory`; `None` keeps the default, half
/// of the machine's memory) and whether an estimate past it only warns (`--force`). Set
/// once by the command line before any run; the Python API keeps the defaults.
pub fn set_policy(max_memory: Option<u64>, force: bool) {
    LIMIT.store(max_memory.unwrap_or(0), Ordering::Relaxed);
    FORCE.store(force, Ordering::Relaxed);
}

/// The memory limit in force (bytes).
pub fn memory_limit() -> u64 {
    match LIMIT.load(Ordering::Relaxed) {
        0 => default_memory_limit(),
        b => b,
    }
}

/// Whether `--force` is in force.
pub fn forced() -> bool {
    FORCE.load(Ordering::Relaxed)
}

/// Whether a run of `s` for `ticks` ticks may start: ticks within [`MAX_TICKS`], the
/// ledger's worst case within [`MONEY_BUDGET`] at this length (a run may be longer than the
/// scenario's own `ticks`), and the estimated memory within the limit in force. Past the
/// memory limit under `--force`, returns the estimate with a warning text. The error names
/// the field to change.
pub fn admit(s: &Scenario, ticks: u32) -> Result<(Estimate, Option<String>), String> {
    if ticks == 0 || ticks > MAX_TICKS {
        return Err(format!(
            "ticks has value {ticks}; allowed: a whole number from 1 to {MAX_TICKS}"
        ));
    }
    if let Some(x) = money_excess(s, ticks) {
        return Err(format!(
            "field `{}` has value {}; allowed: {}",
            x.field,
            x.value,
            x.allowed(ticks)
        ));
    }
    let e = estimate(s, ticks);
    let limit = memory_limit();
    if e.bytes > limit as f64 {
        let msg = format!(
            "a run needs about {} of memory (estimated; mostly from {}), more than the limit of {} (half this machine's memory by default; --max-memory SIZE changes it, --force runs anyway)",
            show_bytes(e.bytes),
            e.driver,
            show_bytes(limit as f64)
        );
        if forced() {
            return Ok((e, Some(msg)));
        }
        return Err(msg);
    }
    Ok((e, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("4G").unwrap(), 4 << 30);
        assert_eq!(parse_size("500M").unwrap(), 500 << 20);
        assert_eq!(parse_size("500MB").unwrap(), 500 << 20);
        assert_eq!(parse_size("1.5GiB").unwrap(), 3 << 29);
        assert_eq!(parse_size("1024").unwrap(), 1024);
        assert_eq!(parse_size("2k").unwrap(), 2048);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1G").is_err());
    }

    #[test]
    fn the_default_scenario_fits_easily() {
        let s = Scenario::default_scenario();
        assert!(money_excess(&s, s.ticks).is_none());
        let e = estimate(&s, s.ticks);
        assert!(e.bytes < 20e6, "{e:?}");
        assert!(e.secs < 1.0, "{e:?}");
    }
}
