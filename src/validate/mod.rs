//! Pattern-oriented validation: the source studies' stylized facts as an executable suite.
//!
//! The facts, their experiments and their criteria are data in `scenarios/validation/`
//! (`facts.toml` and ordinary experiment files), embedded in the binary so that
//! `silos validate` runs anywhere; they were committed before the suite's first full run.
//! For each experiment the suite runs the full model, then the same experiment once per
//! distinct ablation its facts name (the mechanism switched off in every arm), then, for
//! robustness, at each point of a Latin hypercube over the plausible parameter ranges
//! (`robustness.toml`). Each fact gets three verdicts: holds (its paired 95% interval lies
//! beyond its smallest effect of interest), explained (it holds and the effect falls below
//! that SESOI, or reverses, under its ablation) and robust (the share of hypercube points
//! where it holds), plus a Holm-adjusted verdict over the scored facts. How a fact is
//! judged is written at the top of `facts.toml`.

pub mod judge;
pub mod report;
pub mod robust;
pub mod sensitivity;

pub use judge::{Contrast, Explained, Verdict};
pub use report::{RunInfo, csv, markdown, table, trajectory_csv};

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Deserialize;

use std::collections::BTreeMap;

use crate::metrics::{AGENCY, TICK};
use crate::overrides::Override;
use crate::sweep::experiment::Experiment;
use crate::sweep::run::{RunOutput, run_one};

/// The embedded validation files: (file name, text).
pub const FILES: [(&str, &str); 13] = [
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
        "inspection.toml",
        include_str!("../../scenarios/validation/inspection.toml"),
    ),
    (
        "shared-target.toml",
        include_str!("../../scenarios/validation/shared-target.toml"),
    ),
    (
        "accountability.toml",
        include_str!("../../scenarios/validation/accountability.toml"),
    ),
    (
        "robustness.toml",
        include_str!("../../scenarios/validation/robustness.toml"),
    ),
];

/// The embedded global-sensitivity study of the claimed contrasts.
pub const CONTRASTS_STUDY: &str = include_str!("../../scenarios/sensitivity/contrasts.toml");

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
    /// Smallest effect of interest, in the measure's own units (> 0).
    pub sesoi: f64,
    /// Why that size: one line, from the seed's wording where it gives one.
    pub sesoi_reason: String,
    /// The causal mechanism the fact's effect is attributed to (required for emergent facts).
    #[serde(default)]
    pub mechanism: Option<String>,
    /// Scenario overrides that switch exactly that mechanism off, applied to every arm.
    #[serde(default)]
    pub ablation: BTreeMap<String, toml::Value>,
    /// A second pair of arms whose contrast is reported beside the fact's (for behaviour
    /// facts: bounded against synoptic search under rational administration, the effect of
    /// information and search apart from motive).
    #[serde(default)]
    pub information: Option<[String; 2]>,
}

impl Fact {
    /// The ablation as overrides, in path order.
    pub fn ablation_overrides(&self) -> Vec<Override> {
        self.ablation
            .iter()
            .map(|(p, v)| Override {
                path: p.clone(),
                value: v.clone(),
                text: format!("{p}={v}"),
            })
            .collect()
    }

    /// The ablation as text, "path=value, ..." (empty if none).
    pub fn ablation_text(&self) -> String {
        self.ablation_overrides()
            .iter()
            .map(|o| o.text.clone())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether the fact counts in the score (emergent facts do; built-in ones verify code).
    pub fn scored(&self) -> bool {
        self.tag == Tag::Emergent
    }
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

/// A fact, measured: its contrast in the full model, under its ablation, and across the
/// robustness design, with every verdict.
#[derive(Debug, Clone)]
pub struct FactResult {
    pub fact: Fact,
    /// Arm minus reference in the full model.
    pub full: Contrast,
    pub verdict: Verdict,
    /// One-sided p-value of "effect <= SESOI" in the expected direction.
    pub p: f64,
    /// Holm-adjusted p over the scored facts of this run (None for built-in facts).
    pub holm_p: Option<f64>,
    /// The same contrast with the fact's mechanism switched off.
    pub ablated: Option<Contrast>,
    pub explained: Explained,
    /// The information-and-search contrast reported beside a behaviour fact.
    pub information: Option<Contrast>,
    pub robust: Option<robust::FactRobustness>,
    /// Per tick: (tick, arm mean, lo, hi, reference mean, lo, hi), full model.
    pub trajectory: Vec<[f64; 7]>,
    /// The same under the ablation.
    pub ablated_trajectory: Option<Vec<[f64; 7]>>,
}

impl FactResult {
    /// What is measured, in words.
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

    /// Whether the fact holds after the Holm adjustment.
    pub fn holds_holm(&self) -> bool {
        self.holm_p.is_some_and(|p| p < 0.025) && self.verdict == Verdict::Holds
    }
}

/// Load the facts (from `dir` if given, else the embedded copy) and check them.
pub fn load_facts(dir: Option<&Path>) -> Result<Vec<Fact>, ValidateError> {
    let (file, text) = read(dir, "facts.toml")?;
    parse_facts(&file, &text)
}

/// Load facts from a file of their own (`silos validate --facts FILE`): the experiments they
/// name are still read from `--dir` or the embedded copies.
pub fn load_facts_file(path: &Path) -> Result<Vec<Fact>, ValidateError> {
    let text = crate::limits::read_text(path).map_err(|e| ValidateError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_facts(&path.display().to_string(), &text)
}

fn parse_facts(file: &str, text: &str) -> Result<Vec<Fact>, ValidateError> {
    let file = file.to_string();
    let parsed: FactsFile = toml::from_str(text).map_err(|e| ValidateError::Spec {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let bad = |id: &str, m: String| ValidateError::Spec {
        file: file.clone(),
        message: format!("fact {id}: {m}"),
    };
    let mut seen = std::collections::BTreeSet::new();
    for f in &parsed.facts {
        // The id names the fact's chart files (charts/<id>.csv) and a CSV column.
        if !crate::names::is_name(&f.id) {
            return Err(ValidateError::Spec {
                file: file.clone(),
                message: format!(
                    "field `facts.id` has value {:?}; allowed: {}",
                    f.id,
                    crate::names::NAME_RULE
                ),
            });
        }
        if !seen.insert(f.id.clone()) {
            return Err(bad(&f.id, "the id is used twice".to_string()));
        }
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
        if !(f.sesoi.is_finite() && f.sesoi > 0.0) {
            return Err(bad(
                &f.id,
                format!(
                    "`sesoi` is {}; allowed: a number above 0, in the measure's units",
                    f.sesoi
                ),
            ));
        }
        if f.sesoi_reason.trim().is_empty() {
            return Err(bad(&f.id, "`sesoi_reason` must say why that size".into()));
        }
        if f.tag == Tag::Emergent
            && (f.mechanism.as_deref().is_none_or(|m| m.trim().is_empty()) || f.ablation.is_empty())
        {
            return Err(bad(
                &f.id,
                "an emergent fact must name its `mechanism` and an `ablation` that switches it off"
                    .into(),
            ));
        }
    }
    Ok(parsed.facts)
}

fn read(dir: Option<&Path>, name: &str) -> Result<(String, String), ValidateError> {
    match dir {
        Some(d) => {
            let p = d.join(name);
            let t = crate::limits::read_text(&p).map_err(|e| ValidateError::Io {
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

/// The experiment with `extra` overrides applied after each arm's own (the fact's ablation).
pub fn with_overrides(exp: &Experiment, extra: &[Override]) -> Experiment {
    let mut e = exp.clone();
    for a in &mut e.arms {
        a.overrides.extend(extra.iter().cloned());
    }
    e
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
    /// Read the facts from this file instead (experiments still from `dir` or embedded).
    pub facts: Option<PathBuf>,
    /// The robustness design: (Latin-hypercube points, replicates per arm at each); `None`
    /// skips it.
    pub robustness: Option<(u32, u32)>,
    /// Print a line per stage to stderr.
    pub progress: bool,
}

/// Everything one run of the suite found.
#[derive(Debug, Clone)]
pub struct Suite {
    pub results: Vec<FactResult>,
    pub patterns: Vec<PatternResult>,
    /// The robustness design that was run, if any.
    pub robustness: Option<robust::Design>,
    /// Runs made in all.
    pub runs: u64,
}

/// Run the suite: each experiment the selected facts use, in full, under each distinct
/// ablation, and over the robustness design; then judge each fact. With `patterns`, the
/// ordinal patterns are judged on the same full runs.
pub fn run_suite(opts: &ValidateOptions, patterns: bool) -> Result<Suite, ValidateError> {
    let facts: Vec<Fact> = match &opts.facts {
        Some(f) => load_facts_file(f)?,
        None => load_facts(opts.dir.as_deref())?,
    }
    .into_iter()
    .filter(|f| opts.only.is_empty() || opts.only.contains(&f.id))
    .collect();
    if facts.is_empty() {
        return Err(ValidateError::Spec {
            file: "--only".into(),
            message: format!(
                "no fact has the ids {:?}; `silos validate --list` shows them",
                opts.only
            ),
        });
    }
    let pats: Vec<Pattern> = if patterns {
        load_patterns(opts.dir.as_deref())?
    } else {
        Vec::new()
    };
    let pool = thread_pool(opts.threads)?;
    let design = match opts.robustness {
        Some((points, reps)) => Some(robust::Design::load(opts.dir.as_deref(), points, reps)?),
        None => None,
    };
    let mut experiments: Vec<&str> = facts
        .iter()
        .map(|f| f.experiment.as_str())
        .chain(pats.iter().map(|p| p.experiment.as_str()))
        .collect();
    experiments.sort();
    experiments.dedup();
    let mut results: Vec<Option<FactResult>> = vec![None; facts.len()];
    let mut pattern_results: Vec<Option<PatternResult>> = vec![None; pats.len()];
    let mut n_runs = 0u64;
    let say = |m: String| {
        if opts.progress {
            eprintln!("silos validate: {m}");
        }
    };
    for name in experiments {
        let exp = load_experiment(opts.dir.as_deref(), name, opts.replicates)?;
        say(format!("{name}: full model, {} runs", exp.n_runs()));
        let runs = run_all(&exp, &pool);
        n_runs += exp.n_runs();
        let mine: Vec<usize> = (0..facts.len())
            .filter(|&i| facts[i].experiment == name)
            .collect();
        // Each distinct ablation runs once for all the facts that name it.
        let mut ablations: Vec<&BTreeMap<String, toml::Value>> = mine
            .iter()
            .map(|&i| &facts[i].ablation)
            .filter(|a| !a.is_empty())
            .collect();
        ablations.sort_by_key(|a| format!("{a:?}"));
        ablations.dedup();
        let mut ablated_runs = Vec::new();
        for a in &ablations {
            let f = mine
                .iter()
                .map(|&i| &facts[i])
                .find(|f| &&f.ablation == a)
                .expect("from these facts");
            let e = with_overrides(&exp, &f.ablation_overrides());
            say(format!(
                "{name}: ablation {}, {} runs",
                f.ablation_text(),
                e.n_runs()
            ));
            ablated_runs.push(((*a).clone(), e.clone(), run_all(&e, &pool)));
            n_runs += e.n_runs();
        }
        let robust_runs = match &design {
            Some(d) if !mine.is_empty() => {
                let e = d.apply(&exp);
                say(format!(
                    "{name}: robustness, {} points, {} runs",
                    e.n_points(),
                    e.n_runs()
                ));
                let r = run_all(&e, &pool);
                n_runs += e.n_runs();
                Some((e, r))
            }
            _ => None,
        };
        for &i in &mine {
            let f = &facts[i];
            let full = judge::contrast(f, &exp, &runs, 0, &f.arm, &f.reference)?;
            let information = match &f.information {
                Some([a, b]) => Some(judge::contrast(f, &exp, &runs, 0, a, b)?),
                None => None,
            };
            let (ablated, ablated_trajectory) =
                match ablated_runs.iter().find(|(a, _, _)| a == &f.ablation) {
                    Some((_, e, r)) => (
                        Some(judge::contrast(f, e, r, 0, &f.arm, &f.reference)?),
                        Some(judge::trajectory(f, e, r)?),
                    ),
                    None => (None, None),
                };
            let robust = match (&robust_runs, &design) {
                (Some((e, r)), Some(d)) => Some(robust::judge(f, d, e, r)?),
                _ => None,
            };
            let verdict = full.verdict(f.expect, f.sesoi);
            results[i] = Some(FactResult {
                fact: f.clone(),
                full,
                verdict,
                p: full.p_beyond(f.expect, f.sesoi),
                holm_p: None,
                explained: judge::explained(f, &full, ablated.as_ref()),
                ablated,
                information,
                robust,
                trajectory: judge::trajectory(f, &exp, &runs)?,
                ablated_trajectory,
            });
        }
        for (i, p) in pats.iter().enumerate() {
            if p.experiment == name {
                pattern_results[i] = Some(judge_pattern(p, &exp, &runs)?);
            }
        }
    }
    let mut results: Vec<FactResult> = results
        .into_iter()
        .map(|r| r.expect("every fact judged"))
        .collect();
    // Holm over the scored facts judged in this run.
    let scored: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].fact.scored())
        .collect();
    let adj = judge::holm(&scored.iter().map(|&i| results[i].p).collect::<Vec<_>>());
    for (k, &i) in scored.iter().enumerate() {
        results[i].holm_p = Some(adj[k]);
    }
    Ok(Suite {
        results,
        patterns: pattern_results
            .into_iter()
            .map(|r| r.expect("every pattern judged"))
            .collect(),
        robustness: design,
        runs: n_runs,
    })
}

/// Run the facts alone (no patterns, no robustness).
pub fn run(opts: &ValidateOptions) -> Result<Vec<FactResult>, ValidateError> {
    Ok(run_suite(opts, false)?.results)
}

/// A worker pool with `threads` threads (all cores when `None` or 0).
pub fn thread_pool(threads: Option<usize>) -> Result<rayon::ThreadPool, ValidateError> {
    crate::sweep::exec::thread_pool(threads).map_err(|e| ValidateError::Io {
        path: "threads".into(),
        message: e.to_string(),
    })
}

/// The score over scored (emergent) facts: (hold, hold after Holm, explained, scored).
pub fn score(results: &[FactResult]) -> (usize, usize, usize, usize) {
    let s: Vec<&FactResult> = results.iter().filter(|r| r.fact.scored()).collect();
    (
        s.iter().filter(|r| r.verdict == Verdict::Holds).count(),
        s.iter().filter(|r| r.holds_holm()).count(),
        s.iter().filter(|r| r.explained == Explained::Yes).count(),
        s.len(),
    )
}

/// The tag as written in `facts.toml`.
pub fn tag_str(t: Tag) -> &'static str {
    match t {
        Tag::Emergent => "emergent",
        Tag::BuiltIn => "built-in",
    }
}
