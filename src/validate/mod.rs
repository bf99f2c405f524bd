//! Pattern-oriented validation: the source studies' stylized facts as an executable suite.
//!
//! The facts, their experiments and their criteria are data in `scenarios/validation/`
//! (`facts.toml` and ordinary experiment files), embedded in the binary so that
//! `silos validate` runs anywhere; they were committed before the suite's first full run.
//! This module runs each experiment once (all its runs, in parallel), measures every fact
//! on the runs, and judges it by its pre-registered criterion. How a fact is judged is
//! written at the top of `facts.toml`.

pub mod pom;
pub mod sensitivity;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use crate::metrics::{AGENCY, TICK};
use crate::sweep::experiment::Experiment;
use crate::sweep::run::{RunOutput, run_one};
use crate::sweep::stats::Acc;

/// The embedded validation files: (file name, text).
pub const FILES: [(&str, &str); 10] = [
    (
        "facts.toml",
        include_str!("../../scenarios/validation/facts.toml"),
    ),
    (
        "behaviour.toml",
        include_str!("../../scenarios/validation/behaviour.toml"),
    ),
    (
        "control.toml",
        include_str!("../../scenarios/validation/control.toml"),
    ),
    (
        "steer.toml",
        include_str!("../../scenarios/validation/steer.toml"),
    ),
    (
        "funding.toml",
        include_str!("../../scenarios/validation/funding.toml"),
    ),
    (
        "pooling.toml",
        include_str!("../../scenarios/validation/pooling.toml"),
    ),
    (
        "tools.toml",
        include_str!("../../scenarios/validation/tools.toml"),
    ),
    (
        "initiatives.toml",
        include_str!("../../scenarios/validation/initiatives.toml"),
    ),
    (
        "cascade.toml",
        include_str!("../../scenarios/validation/cascade.toml"),
    ),
    (
        "pom.toml",
        include_str!("../../scenarios/validation/pom.toml"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("{file}: {message}")]
    Spec { file: String, message: String },
    #[error(transparent)]
    Experiment(#[from] crate::sweep::ExperimentError),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Compare {
    #[default]
    Arms,
    ArmsWindows,
    PowerSlope,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    Greater,
    Less,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tag {
    Emergent,
    BuiltIn,
}

/// One pre-registered fact.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fact {
    pub id: String,
    pub statement: String,
    pub source: String,
    pub tag: Tag,
    pub tag_reason: String,
    pub experiment: String,
    #[serde(default)]
    pub compare: Compare,
    #[serde(default)]
    pub measure: Option<String>,
    #[serde(default)]
    pub minus: Option<String>,
    #[serde(default)]
    pub agency_measure: Option<String>,
    pub arm: String,
    pub reference: String,
    pub window: [u32; 2],
    #[serde(default)]
    pub window2: Option<[u32; 2]>,
    pub expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FactsFile {
    facts: Vec<Fact>,
    #[serde(default)]
    patterns: Vec<Pattern>,
}

/// A pre-registered ordinal pattern: the model's ranking of some counts against a table's.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pattern {
    pub id: String,
    pub statement: String,
    pub source: String,
    pub experiment: String,
    pub arm: String,
    /// Observables in the table's order, first = most salient or recurrent.
    pub observables: Vec<String>,
}

/// A pattern, measured.
#[derive(Debug, Clone)]
pub struct PatternResult {
    pub pattern: Pattern,
    /// Totals of each observable over ticks and replicates.
    pub totals: Vec<f64>,
    pub tau: f64,
    pub holds: bool,
}

/// Load the ordinal patterns (from `dir` if given, else the embedded copy).
pub fn load_patterns(dir: Option<&Path>) -> Result<Vec<Pattern>, ValidateError> {
    let (file, text) = read(dir, "facts.toml")?;
    let parsed: FactsFile = toml::from_str(&text).map_err(|e| ValidateError::Spec {
        file: file.clone(),
        message: e.to_string(),
    })?;
    for p in &parsed.patterns {
        for o in &p.observables {
            if !TICK.iter().any(|t| t.name == o) {
                return Err(ValidateError::Spec {
                    file: file.clone(),
                    message: format!("pattern {}: no observable {o:?}", p.id),
                });
            }
        }
    }
    Ok(parsed.patterns)
}

/// Judge a pattern on an experiment's runs at design point 0.
pub fn judge_pattern(
    p: &Pattern,
    exp: &Experiment,
    runs: &[Result<RunOutput, String>],
) -> Result<PatternResult, ValidateError> {
    let a = exp
        .arms
        .iter()
        .position(|x| x.name == p.arm)
        .ok_or_else(|| ValidateError::Spec {
            file: exp.file.clone(),
            message: format!(
                "pattern {} names arm {:?}, which this experiment does not have",
                p.id, p.arm
            ),
        })?;
    let o = TICK.len();
    let ks: Vec<usize> = p
        .observables
        .iter()
        .map(|n| TICK.iter().position(|t| t.name == n).expect("checked"))
        .collect();
    let mut totals = vec![0.0; ks.len()];
    for rep in 0..exp.replicates as usize {
        if let Ok(out) = &runs[rep * exp.arms.len() + a] {
            for t in 0..out.ticks as usize {
                for (c, &k) in ks.iter().enumerate() {
                    let v = out.tick_values[t * o + k];
                    if v.is_finite() {
                        totals[c] += v;
                    }
                }
            }
        }
    }
    let table: Vec<f64> = (0..ks.len()).rev().map(|x| x as f64).collect();
    let tau = crate::patterns::kendall_tau(&totals, &table);
    Ok(PatternResult {
        pattern: p.clone(),
        totals,
        tau,
        holds: tau > 0.0,
    })
}

/// The patterns as text (terminal and report).
pub fn patterns_text(results: &[PatternResult], markdown: bool) -> String {
    let mut s = String::new();
    if markdown {
        s.push_str("## Ordinal patterns: Moseley's Tables 4 and 5

Each row is one of the table's items, in the table's order (most salient or recurrent first); the count is how often the model's matching measure (`src/patterns.rs`) showed, summed over ticks and replicate seeds in the named arm. The pattern holds when Kendall's tau-b between the model's ranking and the table's order is above 0. These patterns are not counted in the score.\n\n");
    }
    for r in results {
        let p = &r.pattern;
        if markdown {
            s.push_str(&format!("**{}** ({}; arm `{}`): {}\n\n| table rank | item | model count | model rank |\n|---|---|---|---|\n", p.id, p.source, p.arm, p.statement));
        } else {
            s.push_str(&format!(
                "{} ({}; arm {}): tau = {:+.2}, {}\n",
                p.id,
                p.source,
                p.arm,
                r.tau,
                if r.holds { "holds" } else { "does not hold" }
            ));
        }
        for (k, (o, c)) in p.observables.iter().zip(&r.totals).enumerate() {
            let rank = 1 + r.totals.iter().filter(|&&x| x > *c).count();
            if markdown {
                s.push_str(&format!("| {} | {} | {:.0} | {} |\n", k + 1, o, c, rank));
            } else {
                s.push_str(&format!(
                    "  {}. {:<36} {:>10.0}  (model rank {rank})\n",
                    k + 1,
                    o,
                    c
                ));
            }
        }
        if markdown {
            s.push_str(&format!(
                "\nKendall's tau-b = {:+.2}: **{}**.\n\n",
                r.tau,
                if r.holds { "holds" } else { "does not hold" }
            ));
        }
    }
    s
}

/// A fact's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The interval lies wholly on the expected side of 0.
    Holds,
    /// The interval spans 0.
    Unclear,
    /// The interval lies wholly on the other side.
    Opposite,
    /// A run the fact needs failed: the fact is not judged on a smaller sample.
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Unclear => "does not hold (unclear)",
            Verdict::Opposite => "does not hold (opposite)",
            Verdict::Error => "error (a run failed)",
        }
    }
}

/// A fact, measured.
#[derive(Debug, Clone)]
pub struct FactResult {
    pub fact: Fact,
    pub n: u64,
    pub mean: f64,
    pub ci: (f64, f64),
    pub verdict: Verdict,
    /// Per-tick mean and 95% interval of the measure in the arm and the reference (for the
    /// fact's chart): (tick, arm mean, lo, hi, reference mean, lo, hi).
    pub trajectory: Vec<[f64; 7]>,
}

impl FactResult {
    pub fn what(&self) -> String {
        let f = &self.fact;
        let m = match f.compare {
            Compare::PowerSlope => format!(
                "slope of {} on power",
                f.agency_measure.as_deref().unwrap_or("?")
            ),
            _ => match &f.minus {
                Some(x) => format!("{} - {x}", f.measure.as_deref().unwrap_or("?")),
                None => f.measure.clone().unwrap_or_default(),
            },
        };
        let w = format!("ticks {}-{}", f.window[0], f.window[1]);
        match (f.compare, f.window2) {
            (Compare::ArmsWindows, Some(w2)) => {
                format!(
                    "{m}: ({} - {}) over {w} minus the same over ticks {}-{}",
                    f.arm, f.reference, w2[0], w2[1]
                )
            }
            _ => format!("{m}: {} - {} over {w}", f.arm, f.reference),
        }
    }
}

/// Load the facts (from `dir` if given, else the embedded copy) and check them.
pub fn load_facts(dir: Option<&Path>) -> Result<Vec<Fact>, ValidateError> {
    let (file, text) = read(dir, "facts.toml")?;
    let parsed: FactsFile = toml::from_str(&text).map_err(|e| ValidateError::Spec {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let bad = |id: &str, m: String| ValidateError::Spec {
        file: file.clone(),
        message: format!("fact {id}: {m}"),
    };
    for f in &parsed.facts {
        let need_measure = f.compare != Compare::PowerSlope;
        if need_measure
            && f.measure
                .as_deref()
                .is_none_or(|m| !TICK.iter().any(|o| o.name == m))
        {
            return Err(bad(
                &f.id,
                format!(
                    "`measure` must name a ticks.csv observable (got {:?})",
                    f.measure
                ),
            ));
        }
        if let Some(m) = &f.minus
            && !TICK.iter().any(|o| o.name == m)
        {
            return Err(bad(
                &f.id,
                format!("`minus` must name a ticks.csv observable (got {m:?})"),
            ));
        }
        if f.compare == Compare::PowerSlope
            && f.agency_measure
                .as_deref()
                .is_none_or(|m| !AGENCY.iter().any(|o| o.name == m))
        {
            return Err(bad(
                &f.id,
                "`agency_measure` must name an agencies.csv observable".to_string(),
            ));
        }
        if f.compare == Compare::ArmsWindows && f.window2.is_none() {
            return Err(bad(
                &f.id,
                "compare = \"arms_windows\" needs `window2`".to_string(),
            ));
        }
        for w in [Some(f.window), f.window2].into_iter().flatten() {
            if w[0] == 0 || w[0] > w[1] {
                return Err(bad(
                    &f.id,
                    format!("window {w:?} must be [first, last] ticks with 1 <= first <= last"),
                ));
            }
        }
    }
    Ok(parsed.facts)
}

fn read(dir: Option<&Path>, name: &str) -> Result<(String, String), ValidateError> {
    match dir {
        Some(d) => {
            let p = d.join(name);
            let t = std::fs::read_to_string(&p).map_err(|e| ValidateError::Io {
                path: p.display().to_string(),
                message: e.to_string(),
            })?;
            Ok((p.display().to_string(), t))
        }
        None => FILES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, t)| {
                (
                    format!("<embedded>/scenarios/validation/{n}"),
                    t.to_string(),
                )
            })
            .ok_or_else(|| ValidateError::Spec {
                file: "<embedded>/scenarios/validation".to_string(),
                message: format!("no validation file {name}"),
            }),
    }
}

/// Load one validation experiment with its replicate count overridden.
pub fn load_experiment(
    dir: Option<&Path>,
    name: &str,
    replicates: u32,
) -> Result<Experiment, ValidateError> {
    let (file, text) = read(dir, name)?;
    let mut exp = Experiment::from_str_in(&text, &file, dir.unwrap_or(Path::new(".")), false)?;
    exp.replicates = replicates;
    Ok(exp)
}

/// Run every run of an experiment, in parallel, in run order.
pub fn run_all(exp: &Experiment, pool: &rayon::ThreadPool) -> Vec<Result<RunOutput, String>> {
    let ids: Vec<u64> = (0..exp.n_runs()).collect();
    pool.install(|| {
        ids.par_iter()
            .map(|&id| run_one(exp, exp.run_ref(id)))
            .collect()
    })
}

fn window_mean(out: &RunOutput, k: usize, minus: Option<usize>, w: [u32; 2]) -> f64 {
    let o = TICK.len();
    let mut a = Acc::default();
    for t in w[0]..=w[1].min(out.ticks) {
        let i = (t as usize - 1) * o;
        let v = out.tick_values[i + k] - minus.map_or(0.0, |m| out.tick_values[i + m]);
        a.push(v);
    }
    a.mean()
}

fn power_slope(out: &RunOutput, y: usize) -> f64 {
    let ao = AGENCY.len();
    let px = AGENCY
        .iter()
        .position(|o| o.name == "power")
        .expect("power is an agency observable");
    let n = out.agency_means.len() / ao;
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for i in 0..n {
        let (x, v) = (out.agency_means[i * ao + px], out.agency_means[i * ao + y]);
        if x.is_finite() && v.is_finite() {
            xs.push(x);
            ys.push(v);
        }
    }
    if xs.len() < 3 {
        return f64::NAN;
    }
    let mx = xs.iter().sum::<f64>() / xs.len() as f64;
    let my = ys.iter().sum::<f64>() / ys.len() as f64;
    let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
    let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
    if sxx > 0.0 { sxy / sxx } else { f64::NAN }
}

/// Judge one fact on an experiment's runs at design point 0.
pub fn judge(
    fact: &Fact,
    exp: &Experiment,
    runs: &[Result<RunOutput, String>],
) -> Result<FactResult, ValidateError> {
    judge_at(fact, exp, runs, 0)
}

/// Judge one fact on an experiment's runs at design point `point`.
pub fn judge_at(
    fact: &Fact,
    exp: &Experiment,
    runs: &[Result<RunOutput, String>],
    point: usize,
) -> Result<FactResult, ValidateError> {
    let runs =
        &runs[point * exp.runs_per_point() as usize..(point + 1) * exp.runs_per_point() as usize];
    let arm_ix = |name: &str| {
        exp.arms
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| ValidateError::Spec {
                file: exp.file.clone(),
                message: format!(
                    "fact {} names arm {name:?}, which this experiment does not have",
                    fact.id
                ),
            })
    };
    let (a, r) = (arm_ix(&fact.arm)?, arm_ix(&fact.reference)?);
    let n_arms = exp.arms.len();
    let k = fact
        .measure
        .as_deref()
        .and_then(|m| TICK.iter().position(|o| o.name == m));
    let minus = fact
        .minus
        .as_deref()
        .and_then(|m| TICK.iter().position(|o| o.name == m));
    let y = fact
        .agency_measure
        .as_deref()
        .and_then(|m| AGENCY.iter().position(|o| o.name == m));
    let value = |out: &RunOutput, w: [u32; 2]| -> f64 {
        match fact.compare {
            Compare::PowerSlope => power_slope(out, y.expect("checked on load")),
            _ => window_mean(out, k.expect("checked on load"), minus, w),
        }
    };
    let mut diffs = Acc::default();
    let mut failed = false;
    for rep in 0..exp.replicates as usize {
        let (Ok(x), Ok(b)) = (&runs[rep * n_arms + a], &runs[rep * n_arms + r]) else {
            // A failed run makes the fact "error", never a smaller sample.
            failed = true;
            continue;
        };
        let d = value(x, fact.window) - value(b, fact.window);
        let d = match (fact.compare, fact.window2) {
            (Compare::ArmsWindows, Some(w2)) => d - (value(x, w2) - value(b, w2)),
            _ => d,
        };
        diffs.push(d);
    }
    let ci = diffs.ci95();
    let (above, below) = (ci.0 > 0.0, ci.1 < 0.0);
    let verdict = match fact.expect {
        _ if failed => Verdict::Error,
        Expect::Greater if above => Verdict::Holds,
        Expect::Less if below => Verdict::Holds,
        Expect::Greater if below => Verdict::Opposite,
        Expect::Less if above => Verdict::Opposite,
        _ => Verdict::Unclear,
    };
    // Trajectories for the chart: the tick measure (or, for slopes, the attainment measure
    // is per agency, so the chart shows share_need_met).
    let kk = k
        .or_else(|| TICK.iter().position(|o| o.name == "share_need_met"))
        .expect("observable exists");
    let o = TICK.len();
    let mut trajectory = Vec::with_capacity(exp.ticks as usize);
    for t in 0..exp.ticks as usize {
        let (mut aa, mut rr) = (Acc::default(), Acc::default());
        for rep in 0..exp.replicates as usize {
            let get = |arm: usize| -> f64 {
                match &runs[rep * n_arms + arm] {
                    Ok(out) => {
                        out.tick_values[t * o + kk]
                            - minus.map_or(0.0, |m| out.tick_values[t * o + m])
                    }
                    Err(_) => f64::NAN,
                }
            };
            aa.push(get(a));
            rr.push(get(r));
        }
        let (al, ah) = aa.ci95();
        let (rl, rh) = rr.ci95();
        trajectory.push([(t + 1) as f64, aa.mean(), al, ah, rr.mean(), rl, rh]);
    }
    Ok(FactResult {
        fact: fact.clone(),
        n: diffs.n,
        mean: diffs.mean(),
        ci,
        verdict,
        trajectory,
    })
}

/// What to run.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// Replicates per experiment (30 full, 6 quick).
    pub replicates: u32,
    /// Only these fact ids (all if empty).
    pub only: Vec<String>,
    pub threads: Option<usize>,
    /// Read facts and experiments from this folder instead of the embedded copies.
    pub dir: Option<PathBuf>,
}

/// Run the suite: every experiment the selected facts use, once; then judge each fact.
pub fn run(opts: &ValidateOptions) -> Result<Vec<FactResult>, ValidateError> {
    Ok(run_suite(opts, false)?.0)
}

/// Run the facts and, with `patterns`, the ordinal patterns too: each experiment that any of
/// them uses runs once, and every fact and pattern on it is judged from the same runs.
pub fn run_suite(
    opts: &ValidateOptions,
    patterns: bool,
) -> Result<(Vec<FactResult>, Vec<PatternResult>), ValidateError> {
    let facts: Vec<Fact> = load_facts(opts.dir.as_deref())?
        .into_iter()
        .filter(|f| opts.only.is_empty() || opts.only.contains(&f.id))
        .collect();
    let pats: Vec<Pattern> = if patterns {
        load_patterns(opts.dir.as_deref())?
    } else {
        Vec::new()
    };
    let pool = thread_pool(opts.threads)?;
    let mut experiments: Vec<&str> = facts
        .iter()
        .map(|f| f.experiment.as_str())
        .chain(pats.iter().map(|p| p.experiment.as_str()))
        .collect();
    experiments.sort();
    experiments.dedup();
    let mut results: Vec<Option<FactResult>> = vec![None; facts.len()];
    let mut pattern_results: Vec<Option<PatternResult>> = vec![None; pats.len()];
    for name in experiments {
        let exp = load_experiment(opts.dir.as_deref(), name, opts.replicates)?;
        let runs = run_all(&exp, &pool);
        for (i, f) in facts.iter().enumerate() {
            if f.experiment == name {
                results[i] = Some(judge(f, &exp, &runs)?);
            }
        }
        for (i, p) in pats.iter().enumerate() {
            if p.experiment == name {
                pattern_results[i] = Some(judge_pattern(p, &exp, &runs)?);
            }
        }
    }
    Ok((
        results
            .into_iter()
            .map(|r| r.expect("every fact judged"))
            .collect(),
        pattern_results
            .into_iter()
            .map(|r| r.expect("every pattern judged"))
            .collect(),
    ))
}

/// A worker pool with `threads` threads (all cores when `None` or 0).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, ValidateError> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads.filter(|&t| t > 0) {
        b = b.num_threads(t);
    }
    b.build().map_err(|e| ValidateError::Io {
        path: "threads".into(),
        message: e.to_string(),
    })
}

/// The validation score: emergent facts that hold, of emergent facts.
pub fn score(results: &[FactResult]) -> (usize, usize) {
    let emergent: Vec<&FactResult> = results
        .iter()
        .filter(|r| r.fact.tag == Tag::Emergent)
        .collect();
    (
        emergent
            .iter()
            .filter(|r| r.verdict == Verdict::Holds)
            .count(),
        emergent.len(),
    )
}

fn tag_str(t: Tag) -> &'static str {
    match t {
        Tag::Emergent => "emergent",
        Tag::BuiltIn => "built-in",
    }
}

/// `validation.csv`: one row per fact.
pub fn csv(results: &[FactResult]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "id",
        "source",
        "tag",
        "experiment",
        "measure",
        "expect",
        "n",
        "mean_diff",
        "ci_low",
        "ci_high",
        "verdict",
        "holds",
        "statement",
    ]);
    let mut num = String::new();
    for r in results {
        let f = &r.fact;
        let mut row: Vec<String> = vec![
            f.id.clone(),
            f.source.clone(),
            tag_str(f.tag).to_string(),
            f.experiment.clone(),
            r.what(),
            match f.expect {
                Expect::Greater => "greater".into(),
                Expect::Less => "less".into(),
            },
            r.n.to_string(),
        ];
        for v in [r.mean, r.ci.0, r.ci.1] {
            crate::output::fmt_num(&mut num, v);
            row.push(num.clone());
        }
        row.push(r.verdict.as_str().to_string());
        row.push((r.verdict == Verdict::Holds).to_string());
        row.push(f.statement.clone());
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A plain-text table for the terminal.
pub fn table(results: &[FactResult]) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "{:<4} {:<22} {:<9} {:<18} {:<8} {:>30}  {}\n",
        "fact", "source", "tag", "experiment", "expect", "measured effect [95% CI]", "verdict"
    ));
    for r in results {
        let f = &r.fact;
        let eff = format!("{:+.4} [{:+.4}, {:+.4}]", r.mean, r.ci.0, r.ci.1);
        s.push_str(&format!(
            "{:<4} {:<22} {:<9} {:<18} {:<8} {:>30}  {}\n",
            f.id,
            truncate(&f.source, 22),
            tag_str(f.tag),
            truncate(&f.experiment, 18),
            match f.expect {
                Expect::Greater => "greater",
                Expect::Less => "less",
            },
            eff,
            r.verdict.as_str()
        ));
    }
    let (h, n) = score(results);
    s.push_str(&format!(
        "\nscore: {h} of {n} emergent facts hold (built-in facts verify code and are not counted)\n"
    ));
    s
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).collect::<String>() + "~"
    }
}

/// `charts/VNN.csv`: the trajectory behind a fact's chart.
pub fn trajectory_csv(r: &FactResult) -> String {
    let mut s = format!(
        "tick,{a}_mean,{a}_ci_low,{a}_ci_high,{b}_mean,{b}_ci_low,{b}_ci_high\n",
        a = r.fact.arm,
        b = r.fact.reference
    );
    let mut num = String::new();
    for row in &r.trajectory {
        for (i, v) in row.iter().enumerate() {
            crate::output::fmt_num(&mut num, *v);
            if i > 0 {
                s.push(',');
            }
            s.push_str(&num);
        }
        s.push('\n');
    }
    s
}

/// Facts about the run, for the report's header.
pub struct RunInfo {
    pub version: String,
    pub date: String,
    pub replicates: u32,
    pub ticks: u32,
    pub quick: bool,
    /// Relative path from the report to the charts folder.
    pub charts: String,
    pub chart_ext: Option<String>,
}

/// `VALIDATION.md`: the table, the score, one section per fact, the pattern-oriented filter,
/// and the hand-written discussion (`discussion`, inserted verbatim).
pub fn markdown(
    results: &[FactResult],
    info: &RunInfo,
    patterns: &[PatternResult],
    pom: Option<&pom::PomResult>,
    sensitivity: Option<&[sensitivity::Effect]>,
    discussion: Option<&str>,
) -> String {
    let (h, n) = score(results);
    let mut s = String::new();
    s.push_str("# Validation\n\n");
    s.push_str(&format!(
        "Generated by `silos validate{}` (silos {}) on {}. Every experiment ran **{} replicate seeds** per arm for {} \
ticks, with common random numbers across arms. The facts, their experiments and their criteria are in \
`scenarios/validation/` and were committed before the suite's first full run; `git log -- scenarios/validation` \
shows it.\n\n",
        if info.quick { " --quick" } else { "" },
        info.version,
        info.date,
        info.replicates,
        info.ticks
    ));
    s.push_str(&format!(
        "**Score: {h} of {n} emergent facts hold.** Built-in facts (a rule encodes them) only verify the code and are not counted.\n\n"
    ));
    s.push_str("A fact holds when the 95% Student-t interval of the mean paired difference lies wholly on the expected side of 0 (see the head of `scenarios/validation/facts.toml`).\n\n");
    s.push_str("| fact | source | tag | experiment | measure | expect | effect [95% CI] | verdict |\n|---|---|---|---|---|---|---|---|\n");
    for r in results {
        let f = &r.fact;
        s.push_str(&format!(
            "| [{}](#{}) | {} | {} | `{}` | {} | {} | {:+.4} [{:+.4}, {:+.4}] | {} |\n",
            f.id,
            f.id.to_lowercase(),
            f.source,
            tag_str(f.tag),
            f.experiment,
            r.what(),
            match f.expect {
                Expect::Greater => "greater",
                Expect::Less => "less",
            },
            r.mean,
            r.ci.0,
            r.ci.1,
            r.verdict.as_str()
        ));
    }
    s.push_str("\n## The facts\n\n");
    for r in results {
        let f = &r.fact;
        s.push_str(&format!("### {}\n\n{}\n\n", f.id, f.statement));
        s.push_str(&format!(
            "- Source: {}.\n- Tag: {} ({}).\n- Experiment: `scenarios/validation/{}`; measured: {}; expected: {}.\n- Result: {:+.4}, 95% CI [{:+.4}, {:+.4}], n = {} pairs: **{}**.\n\n",
            f.source,
            tag_str(f.tag),
            f.tag_reason,
            f.experiment,
            r.what(),
            match f.expect {
                Expect::Greater => "greater than 0",
                Expect::Less => "less than 0",
            },
            r.mean,
            r.ci.0,
            r.ci.1,
            r.n,
            r.verdict.as_str()
        ));
        if let Some(ext) = &info.chart_ext {
            s.push_str(&format!("![{}]({}/{}.{ext})\n\n", f.id, info.charts, f.id));
        }
    }
    if !patterns.is_empty() {
        s.push_str(&patterns_text(patterns, true));
    }
    if let Some(p) = pom {
        let (each, all) = p.shares();
        s.push_str(&format!(
            "## Where in parameter space the behaviour facts hold\n\nA Latin hypercube of {} points over {} \
(`scenarios/validation/pom.toml`), the behaviour comparison at each point with its own replicates, each fact \
judged by its criterion (pattern-oriented modelling, Grimm et al. 2005). Per-point verdicts are in `pom.csv`.\n\n\
| fact | share of sampled points where it holds |\n|---|---|\n",
            p.points.len(),
            p.factor_names.join(", ")
        ));
        for (id, share) in each {
            s.push_str(&format!("| {id} | {:.0}% |\n", share * 100.0));
        }
        s.push_str(&format!(
            "| all emergent behaviour facts together | {:.0}% |\n\n",
            all * 100.0
        ));
    }
    if let Some(eff) = sensitivity {
        s.push_str("## Sensitivity of the headline outcomes\n\nMorris elementary effects (Morris 1991; mu* after Campolongo, Cariboni and Saltelli 2007), `silos sensitivity scenarios/sensitivity/headline.toml`. mu* is the mean absolute change in the outcome (its run average) per unit move of the factor across its range scaled to [0, 1]; sigma measures interaction and non-linearity.\n\n| output | factor | mu* | mu | sigma |\n|---|---|---|---|---|\n");
        for e in eff {
            s.push_str(&format!(
                "| {} | `{}` | {:.4} | {:+.4} | {:.4} |\n",
                e.output, e.factor, e.mu_star, e.mu, e.sigma
            ));
        }
        s.push('\n');
    }
    if let Some(d) = discussion {
        s.push_str(d);
        if !d.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}
