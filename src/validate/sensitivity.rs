//! `silos sensitivity FILE`: global sensitivity of the contrasts the facts claim.
//!
//! **Morris screening** (Morris 1991, "Factorial sampling plans for preliminary
//! computational experiments", Technometrics 33(2):161-174), with the mean of absolute
//! effects mu* of Campolongo, Cariboni and Saltelli (2007). Each of `trajectories`
//! trajectories starts at a random point of a `levels`-level grid over the factors' ranges
//! (scaled to [0, 1]) and moves one factor at a time, in random order, by
//! delta = levels / (2 (levels - 1)).
//!
//! **Sobol indices** (Saltelli et al. 2010, "Variance based sensitivity analysis of model
//! output", Computer Physics Communications 181:259-270): two independent N x k uniform
//! matrices A and B (pseudo-random, from the study's seed), and for each factor i the
//! matrix A with column i taken from B. First-order S_i = mean(f(B) (f(A_B^i) - f(A))) / V
//! (Saltelli 2010), total S_Ti = mean((f(A) - f(A_B^i))^2) / (2V) (Jansen 1999), V the
//! variance of f over A and B together; 95% intervals from 200 bootstrap resamples of the
//! N rows. Sobol runs on the `top` factors Morris ranks highest for the headline contrasts
//! (the usual two-stage design); the other factors stay at the scenario's values.
//!
//! **Outputs are contrasts.** A study names arms (a behaviour and overrides, as in an
//! experiment) and contrasts (an observable's run average in one arm minus another, seed by
//! seed: common random numbers). An output without a reference arm is a level. At every
//! design point all arms run with the same `replicates` seeds, and the output is the mean
//! over them.

use std::path::Path;

use rand::RngExt;
use rayon::prelude::*;
use serde::Deserialize;

use crate::engine::BehaviourChoice;
use crate::metrics::TICK;
use crate::output::CsvBuf;
use crate::overrides::Override;
use crate::rng::{self, Stream};
use crate::scenario::{DEFAULT_SCENARIO, DEFAULT_SCENARIO_NAME, Scenario};
use crate::sweep::run::{RunOutput, run_scenario};
use crate::sweep::stats::Acc;

use super::ValidateError;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    sensitivity: Meta,
    #[serde(default)]
    arms: Vec<ArmSpec>,
    #[serde(default)]
    contrasts: Vec<ContrastSpec>,
    #[serde(default)]
    sobol: Option<SobolSpec>,
    factors: Vec<Factor>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    name: String,
    scenario: String,
    /// For a study of levels without [[arms]]: the behaviour of its one arm.
    #[serde(default = "mixed")]
    behaviour: String,
    replicates: u32,
    master_seed: u64,
    #[serde(default)]
    ticks: Option<u32>,
    trajectories: u32,
    #[serde(default = "four")]
    levels: u32,
    /// For a study of levels without [[contrasts]]: the observables.
    #[serde(default)]
    outputs: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArmSpec {
    name: String,
    #[serde(default = "mixed")]
    behaviour: String,
    #[serde(default)]
    set: std::collections::BTreeMap<String, toml::Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContrastSpec {
    name: String,
    output: String,
    arm: String,
    #[serde(default)]
    reference: Option<String>,
    /// Compute Sobol indices for this contrast.
    #[serde(default)]
    headline: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct SobolSpec {
    /// Rows N of each of the matrices A and B.
    base: u32,
    /// How many factors (the highest by Morris mu*) Sobol varies.
    top: usize,
    #[serde(default = "one")]
    replicates: u32,
}

fn mixed() -> String {
    "mixed".to_string()
}
fn four() -> u32 {
    4
}
fn one() -> u32 {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Factor {
    pub path: String,
    pub from: f64,
    pub to: f64,
    #[serde(default)]
    pub integer: bool,
}

/// A Morris trajectory: its k + 1 points in [0, 1]^k, and each step's factor and signed
/// move.
pub type Trajectory = (Vec<Vec<f64>>, Vec<(usize, f64)>);

/// An arm of a study.
#[derive(Debug, Clone)]
pub struct Arm {
    pub name: String,
    pub choice: BehaviourChoice,
    pub overrides: Vec<Override>,
}

/// An output: an observable's run average in `arm`, minus the same in `reference`.
#[derive(Debug, Clone)]
pub struct Output {
    pub name: String,
    pub observable: usize,
    pub arm: usize,
    pub reference: Option<usize>,
    pub headline: bool,
}

/// A validated sensitivity study.
#[derive(Debug, Clone)]
pub struct Study {
    pub name: String,
    pub file: String,
    pub scenario_label: String,
    pub scenario_text: String,
    pub arms: Vec<Arm>,
    pub outputs: Vec<Output>,
    pub replicates: u32,
    pub master_seed: u64,
    pub ticks: u32,
    pub trajectories: u32,
    pub levels: u32,
    pub factors: Vec<Factor>,
    /// (N, top, replicates) for Sobol, if asked.
    pub sobol: Option<(u32, usize, u32)>,
}

/// One factor's Morris effect on one output.
#[derive(Debug, Clone)]
pub struct Effect {
    pub output: String,
    pub factor: String,
    pub mu_star: f64,
    pub mu: f64,
    pub sigma: f64,
    pub n: u64,
}

/// One factor's Sobol indices for one output, with 95% bootstrap intervals.
#[derive(Debug, Clone)]
pub struct SobolIndex {
    pub output: String,
    pub factor: String,
    pub first: f64,
    pub first_ci: (f64, f64),
    pub total: f64,
    pub total_ci: (f64, f64),
}

/// What a study found.
#[derive(Debug, Clone)]
pub struct Results {
    pub name: String,
    pub file: String,
    pub trajectories: u32,
    pub replicates: u32,
    pub ticks: u32,
    pub n_factors: usize,
    pub morris: Vec<Effect>,
    /// (N, factors varied) and the indices, if Sobol ran.
    pub sobol: Option<(u32, Vec<String>, Vec<SobolIndex>)>,
    pub runs: u64,
}

impl Study {
    pub fn from_path(path: &Path) -> Result<Study, ValidateError> {
        let file = path.display().to_string();
        let text = crate::limits::read_text(path).map_err(|e| ValidateError::Io {
            path: file.clone(),
            message: e.to_string(),
        })?;
        Study::from_str_in(&text, &file, path.parent().unwrap_or(Path::new(".")))
    }

    /// Parse a study from its text; `dir` resolves a relative scenario path.
    pub fn from_str_in(text: &str, file: &str, dir: &Path) -> Result<Study, ValidateError> {
        let file = file.to_string();
        let bad = |m: String| ValidateError::Spec {
            file: file.clone(),
            message: m,
        };
        let f: File = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
        let m = f.sensitivity;
        // Names reach the default folder (output/sensitivity-<name>/) and CSV columns.
        let named = |field: String, v: &str, ok: fn(&str) -> bool, rule: &str| {
            if ok(v) {
                Ok(())
            } else {
                Err(bad(format!(
                    "field `{field}` has value {v:?}; allowed: {rule}"
                )))
            }
        };
        named(
            "sensitivity.name".into(),
            &m.name,
            crate::names::is_name,
            crate::names::NAME_RULE,
        )?;
        for (i, a) in f.arms.iter().enumerate() {
            named(
                format!("arms[{i}].name"),
                &a.name,
                crate::names::is_name,
                crate::names::NAME_RULE,
            )?;
        }
        for (i, c) in f.contrasts.iter().enumerate() {
            named(
                format!("contrasts[{i}].name"),
                &c.name,
                crate::names::is_label,
                crate::names::LABEL_RULE,
            )?;
        }
        let (scenario_label, scenario_text) = if m.scenario == "default" {
            (
                DEFAULT_SCENARIO_NAME.to_string(),
                DEFAULT_SCENARIO.to_string(),
            )
        } else {
            let p = dir.join(&m.scenario);
            let t = crate::limits::read_text(&p)
                .map_err(|e| bad(format!("field `sensitivity.scenario` has value {:?}; allowed: \"default\" or a readable scenario file ({e})", m.scenario)))?;
            (p.display().to_string(), t)
        };
        let base = Scenario::from_toml_str(&scenario_text, &scenario_label)
            .map_err(|e| bad(e.to_string()))?;
        let parse_choice = |field: &str, s: &str| {
            BehaviourChoice::parse(s).ok_or_else(|| {
                bad(format!(
                    "field `{field}` has value {s:?}; allowed: ra, bp, mixed"
                ))
            })
        };
        if m.replicates == 0 || m.trajectories == 0 {
            return Err(bad(
                "fields `sensitivity.replicates` and `sensitivity.trajectories` must be at least 1"
                    .into(),
            ));
        }
        if m.levels < 2 || !m.levels.is_multiple_of(2) {
            return Err(bad(format!(
                "field `sensitivity.levels` has value {}; allowed: an even number >= 2",
                m.levels
            )));
        }
        let obs = |field: &str, o: &str| {
            TICK.iter().position(|t| t.name == o).ok_or_else(|| {
                bad(format!(
                    "field `{field}` names {o:?}; allowed: observables of ticks.csv (`silos columns`)"
                ))
            })
        };
        let (arms, outputs) = if f.arms.is_empty() {
            // A study of levels: one arm, one output per observable.
            if !f.contrasts.is_empty() {
                return Err(bad("[[contrasts]] need [[arms]] to name".into()));
            }
            if m.outputs.is_empty() {
                return Err(bad(
                    "give `sensitivity.outputs` (levels) or [[arms]] and [[contrasts]]".into(),
                ));
            }
            let arm = Arm {
                name: m.behaviour.clone(),
                choice: parse_choice("sensitivity.behaviour", &m.behaviour)?,
                overrides: Vec::new(),
            };
            let outputs = m
                .outputs
                .iter()
                .map(|o| {
                    Ok(Output {
                        name: o.clone(),
                        observable: obs("sensitivity.outputs", o)?,
                        arm: 0,
                        reference: None,
                        headline: false,
                    })
                })
                .collect::<Result<Vec<_>, ValidateError>>()?;
            (vec![arm], outputs)
        } else {
            if !m.outputs.is_empty() {
                return Err(bad(
                    "with [[arms]], name outputs as [[contrasts]], not `sensitivity.outputs`"
                        .into(),
                ));
            }
            let mut arms = Vec::new();
            for (i, a) in f.arms.iter().enumerate() {
                if arms.iter().any(|x: &Arm| x.name == a.name) {
                    return Err(bad(format!(
                        "arms[{i}]: the name {:?} is used twice",
                        a.name
                    )));
                }
                arms.push(Arm {
                    name: a.name.clone(),
                    choice: parse_choice(&format!("arms[{i}].behaviour"), &a.behaviour)?,
                    overrides: a
                        .set
                        .iter()
                        .map(|(p, v)| Override {
                            path: p.clone(),
                            value: v.clone(),
                            text: format!("{p}={v}"),
                        })
                        .collect(),
                });
            }
            let arm_ix = |field: String, n: &str| {
                arms.iter().position(|a| a.name == n).ok_or_else(|| {
                    bad(format!(
                        "field `{field}` names arm {n:?}; allowed: {}",
                        arms.iter()
                            .map(|a| a.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
            };
            if f.contrasts.is_empty() {
                return Err(bad("at least one [[contrasts]] entry".into()));
            }
            let mut outputs = Vec::new();
            for (i, c) in f.contrasts.iter().enumerate() {
                outputs.push(Output {
                    name: c.name.clone(),
                    observable: obs(&format!("contrasts[{i}].output"), &c.output)?,
                    arm: arm_ix(format!("contrasts[{i}].arm"), &c.arm)?,
                    reference: match &c.reference {
                        Some(r) => Some(arm_ix(format!("contrasts[{i}].reference"), r)?),
                        None => None,
                    },
                    headline: c.headline,
                });
            }
            (arms, outputs)
        };
        if f.factors.is_empty() {
            return Err(bad("at least one [[factors]] entry".into()));
        }
        let sobol = match f.sobol {
            None => None,
            Some(s) => {
                if s.base < 2 || s.top == 0 || s.replicates == 0 {
                    return Err(bad(format!(
                        "[sobol] has base {}, top {}, replicates {}; allowed: base >= 2, top >= 1, replicates >= 1",
                        s.base, s.top, s.replicates
                    )));
                }
                if !outputs.iter().any(|o| o.headline) {
                    return Err(bad(
                        "[sobol] needs at least one contrast with headline = true".into(),
                    ));
                }
                Some((s.base, s.top.min(f.factors.len()), s.replicates))
            }
        };
        let study = Study {
            name: m.name,
            file: file.clone(),
            scenario_label,
            scenario_text,
            arms,
            outputs,
            replicates: m.replicates,
            master_seed: m.master_seed,
            ticks: m.ticks.unwrap_or(base.ticks),
            trajectories: m.trajectories,
            levels: m.levels,
            factors: f.factors,
            sobol,
        };
        for (i, fac) in study.factors.iter().enumerate() {
            if !(fac.from.is_finite() && fac.to.is_finite() && fac.from < fac.to) {
                return Err(bad(format!(
                    "factors[{i}] ({}): `from` ({}) must be below `to` ({})",
                    fac.path, fac.from, fac.to
                )));
            }
            if study.factors[..i].iter().any(|g| g.path == fac.path) {
                return Err(bad(format!("factors[{i}]: {} is listed twice", fac.path)));
            }
            // Both ends of the range must give valid scenarios, in every arm.
            for x in [0.0, 1.0] {
                let mut xs = vec![0.5; study.factors.len()];
                xs[i] = x;
                for a in 0..study.arms.len() {
                    study
                        .scenario_at(&xs, a)
                        .map_err(|e| bad(format!("factors[{i}] ({}): {e}", fac.path)))?;
                }
            }
        }
        Ok(study)
    }

    fn overrides_at(&self, idx: &[usize], x: &[f64]) -> Vec<Override> {
        idx.iter()
            .zip(x)
            .map(|(&j, &u)| {
                let f = &self.factors[j];
                let v = f.from + u * (f.to - f.from);
                let value = if f.integer {
                    toml::Value::Integer(v.round() as i64)
                } else {
                    toml::Value::Float(v)
                };
                Override {
                    path: f.path.clone(),
                    text: format!("{}={value}", f.path),
                    value,
                }
            })
            .collect()
    }

    /// The scenario of arm `a` at a point `x` in [0, 1]^k over all factors.
    pub fn scenario_at(
        &self,
        x: &[f64],
        a: usize,
    ) -> Result<Scenario, crate::error::ScenarioError> {
        let idx: Vec<usize> = (0..self.factors.len()).collect();
        self.scenario_sub(&idx, x, a)
    }

    /// The scenario of arm `a` with only the factors `idx` set (to `x`); the arm's own
    /// overrides come last.
    fn scenario_sub(
        &self,
        idx: &[usize],
        x: &[f64],
        a: usize,
    ) -> Result<Scenario, crate::error::ScenarioError> {
        let mut o = self.overrides_at(idx, x);
        o.extend(self.arms[a].overrides.iter().cloned());
        Scenario::from_toml_str_with(&self.scenario_text, &self.scenario_label, &o)
    }

    /// The Morris design: `trajectories` trajectories of k + 1 points in [0, 1]^k, and for
    /// each step the factor moved and the signed step.
    pub fn design(&self) -> Vec<Trajectory> {
        let k = self.factors.len();
        let p = self.levels as usize;
        let delta = p as f64 / (2.0 * (p as f64 - 1.0));
        let mut r = rng::stream(self.master_seed, Stream::Design);
        (0..self.trajectories)
            .map(|_| {
                // Start on the lower half of the grid so that +delta stays inside.
                let mut x: Vec<f64> = (0..k)
                    .map(|_| r.random_range(0..p / 2) as f64 / (p as f64 - 1.0))
                    .collect();
                let mut order: Vec<usize> = (0..k).collect();
                for i in (1..k).rev() {
                    let j = r.random_range(0..=i);
                    order.swap(i, j);
                }
                let mut points = vec![x.clone()];
                let mut steps = Vec::with_capacity(k);
                for &j in &order {
                    let up = r.random::<bool>() || x[j] - delta < -1e-12;
                    let step = if up && x[j] + delta <= 1.0 + 1e-12 {
                        delta
                    } else {
                        -delta
                    };
                    x[j] += step;
                    points.push(x.clone());
                    steps.push((j, step));
                }
                (points, steps)
            })
            .collect()
    }

    /// Arms any output uses.
    fn arms_used(&self, only_headline: bool) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .outputs
            .iter()
            .filter(|o| !only_headline || o.headline)
            .flat_map(|o| std::iter::once(o.arm).chain(o.reference))
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Evaluate every output at each point (factors `idx` set to the point's coordinates):
    /// `[point][output]`, the mean over replicates of the seed-paired contrast. Failed runs
    /// leave NaN, which the statistics skip and the report counts.
    fn evaluate(
        &self,
        idx: &[usize],
        points: &[Vec<f64>],
        replicates: u32,
        only_headline: bool,
        pool: &rayon::ThreadPool,
    ) -> (Vec<Vec<f64>>, u64) {
        let arms = self.arms_used(only_headline);
        let jobs: Vec<(usize, usize, u32)> = (0..points.len())
            .flat_map(|i| {
                let arms = arms.clone();
                (0..replicates).flat_map(move |r| arms.clone().into_iter().map(move |a| (i, a, r)))
            })
            .collect();
        let outs: Vec<Option<Vec<f64>>> = pool.install(|| {
            jobs.par_iter()
                .map(|&(i, a, rep)| {
                    let s = self.scenario_sub(idx, &points[i], a).ok()?;
                    run_scenario(
                        &s,
                        rng::derive_seed(self.master_seed, 0, rep as u64),
                        self.arms[a].choice,
                        self.ticks,
                    )
                    .ok()
                    .as_ref()
                    .map(RunOutput::run_means)
                })
                .collect()
        });
        let na = arms.len();
        let slot = |i: usize, r: u32, a: usize| -> Option<&Vec<f64>> {
            let k = arms.iter().position(|&x| x == a).expect("arm used");
            outs[(i * replicates as usize + r as usize) * na + k].as_ref()
        };
        let y = (0..points.len())
            .map(|i| {
                self.outputs
                    .iter()
                    .map(|o| {
                        if only_headline && !o.headline {
                            return f64::NAN;
                        }
                        let mut acc = Acc::default();
                        let mut failed = false;
                        for r in 0..replicates {
                            let v = match (slot(i, r, o.arm), o.reference.map(|b| slot(i, r, b))) {
                                (Some(x), None) => x[o.observable],
                                (Some(x), Some(Some(b))) => x[o.observable] - b[o.observable],
                                _ => {
                                    failed = true;
                                    f64::NAN
                                }
                            };
                            acc.push(v);
                        }
                        if failed { f64::NAN } else { acc.mean() }
                    })
                    .collect()
            })
            .collect();
        (y, jobs.len() as u64)
    }

    /// Run the Morris design: mu*, mu and sigma for every factor and output.
    pub fn run(&self, pool: &rayon::ThreadPool) -> Result<Vec<Effect>, ValidateError> {
        Ok(self.run_morris(pool).0)
    }

    fn run_morris(&self, pool: &rayon::ThreadPool) -> (Vec<Effect>, u64) {
        let design = self.design();
        let points: Vec<Vec<f64>> = design
            .iter()
            .flat_map(|(pts, _)| pts.iter().cloned())
            .collect();
        let idx: Vec<usize> = (0..self.factors.len()).collect();
        let (y, runs) = self.evaluate(&idx, &points, self.replicates, false, pool);
        let k = self.factors.len();
        let no = self.outputs.len();
        let mut abs = vec![Acc::default(); no * k];
        let mut raw = vec![Acc::default(); no * k];
        let mut base = 0;
        for (pts, steps) in &design {
            for (s, &(j, step)) in steps.iter().enumerate() {
                for c in 0..no {
                    let ee = (y[base + s + 1][c] - y[base + s][c]) / step;
                    abs[c * k + j].push(ee.abs());
                    raw[c * k + j].push(ee);
                }
            }
            base += pts.len();
        }
        let mut effects = Vec::new();
        for (c, o) in self.outputs.iter().enumerate() {
            for (j, f) in self.factors.iter().enumerate() {
                effects.push(Effect {
                    output: o.name.clone(),
                    factor: f.path.clone(),
                    mu_star: abs[c * k + j].mean(),
                    mu: raw[c * k + j].mean(),
                    sigma: raw[c * k + j].sd(),
                    n: raw[c * k + j].n,
                });
            }
        }
        (effects, runs)
    }

    /// The factors Sobol varies: the `top` with the highest mu* on any headline output,
    /// each output's mu* scaled by its largest.
    pub fn sobol_factors(&self, morris: &[Effect], top: usize) -> Vec<usize> {
        let k = self.factors.len();
        let mut score = vec![0.0f64; k];
        for o in self.outputs.iter().filter(|o| o.headline) {
            let mine: Vec<&Effect> = morris.iter().filter(|e| e.output == o.name).collect();
            let max = mine
                .iter()
                .map(|e| e.mu_star)
                .filter(|x| x.is_finite())
                .fold(0.0, f64::max);
            if max <= 0.0 {
                continue;
            }
            for e in mine {
                if let Some(j) = self.factors.iter().position(|f| f.path == e.factor)
                    && e.mu_star.is_finite()
                {
                    score[j] = score[j].max(e.mu_star / max);
                }
            }
        }
        let mut order: Vec<usize> = (0..k).collect();
        order.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
        order.truncate(top);
        order.sort();
        order
    }

    /// Sobol indices of the headline outputs over the factors `idx`.
    pub fn run_sobol(
        &self,
        idx: &[usize],
        n: u32,
        replicates: u32,
        pool: &rayon::ThreadPool,
    ) -> (Vec<SobolIndex>, u64) {
        let k = idx.len();
        let n = n as usize;
        let mut r = rng::stream(rng::derive_seed(self.master_seed, 1, 0), Stream::Design);
        let a: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..k).map(|_| r.random::<f64>()).collect())
            .collect();
        let b: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..k).map(|_| r.random::<f64>()).collect())
            .collect();
        // Points: A (n), B (n), then A_B^i for each i (n each).
        let mut points = Vec::with_capacity(n * (k + 2));
        points.extend(a.iter().cloned());
        points.extend(b.iter().cloned());
        for i in 0..k {
            for row in 0..n {
                let mut x = a[row].clone();
                x[i] = b[row][i];
                points.push(x);
            }
        }
        let (y, runs) = self.evaluate(idx, &points, replicates, true, pool);
        let mut boot = rng::stream(rng::derive_seed(self.master_seed, 2, 0), Stream::Design);
        let resamples: Vec<Vec<usize>> = (0..200)
            .map(|_| (0..n).map(|_| boot.random_range(0..n)).collect())
            .collect();
        let mut out = Vec::new();
        for (c, o) in self.outputs.iter().enumerate() {
            if !o.headline {
                continue;
            }
            let fa: Vec<f64> = (0..n).map(|row| y[row][c]).collect();
            let fb: Vec<f64> = (0..n).map(|row| y[n + row][c]).collect();
            for (i, &j) in idx.iter().enumerate() {
                let fab: Vec<f64> = (0..n).map(|row| y[(2 + i) * n + row][c]).collect();
                let all: Vec<usize> = (0..n).collect();
                let (s1, st) = sobol_estimates(&fa, &fb, &fab, &all);
                let mut b1 = Vec::with_capacity(resamples.len());
                let mut bt = Vec::with_capacity(resamples.len());
                for rows in &resamples {
                    let (x, y) = sobol_estimates(&fa, &fb, &fab, rows);
                    if x.is_finite() && y.is_finite() {
                        b1.push(x);
                        bt.push(y);
                    }
                }
                out.push(SobolIndex {
                    output: o.name.clone(),
                    factor: self.factors[j].path.clone(),
                    first: s1,
                    first_ci: percentile_ci(&mut b1),
                    total: st,
                    total_ci: percentile_ci(&mut bt),
                });
            }
        }
        (out, runs)
    }

    /// Morris on every output, then (if the study asks) Sobol on the headline ones.
    pub fn run_all(&self, pool: &rayon::ThreadPool) -> Results {
        let (morris, mut runs) = self.run_morris(pool);
        let sobol = self.sobol.map(|(n, top, reps)| {
            let idx = self.sobol_factors(&morris, top);
            let (ix, r) = self.run_sobol(&idx, n, reps, pool);
            runs += r;
            (
                n,
                idx.iter().map(|&j| self.factors[j].path.clone()).collect(),
                ix,
            )
        });
        Results {
            name: self.name.clone(),
            file: self.file.clone(),
            trajectories: self.trajectories,
            replicates: self.replicates,
            ticks: self.ticks,
            n_factors: self.factors.len(),
            morris,
            sobol,
            runs,
        }
    }
}

/// First-order (Saltelli 2010) and total (Jansen 1999) estimates on the rows `rows`; rows
/// with a failed run (NaN) are skipped.
pub fn sobol_estimates(fa: &[f64], fb: &[f64], fab: &[f64], rows: &[usize]) -> (f64, f64) {
    let ok: Vec<usize> = rows
        .iter()
        .copied()
        .filter(|&r| fa[r].is_finite() && fb[r].is_finite() && fab[r].is_finite())
        .collect();
    if ok.len() < 2 {
        return (f64::NAN, f64::NAN);
    }
    let mut v = Acc::default();
    for &r in &ok {
        v.push(fa[r]);
        v.push(fb[r]);
    }
    let var = v.sd().powi(2);
    if var <= 0.0 || !var.is_finite() {
        return (f64::NAN, f64::NAN);
    }
    let m = ok.len() as f64;
    let s1 = ok.iter().map(|&r| fb[r] * (fab[r] - fa[r])).sum::<f64>() / m / var;
    let st = ok.iter().map(|&r| (fa[r] - fab[r]).powi(2)).sum::<f64>() / m / (2.0 * var);
    (s1, st)
}

fn percentile_ci(v: &mut [f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
    (at(0.025), at(0.975))
}

/// `sensitivity.csv` (Morris).
pub fn csv(effects: &[Effect]) -> String {
    let mut c = CsvBuf::new();
    c.record(["output", "factor", "mu_star", "mu", "sigma", "n"]);
    for e in effects {
        c.fields(&[&e.output, &e.factor]);
        c.num(e.mu_star).num(e.mu).num(e.sigma);
        c.field(e.n.to_string()).end();
    }
    c.into_string()
}

/// `sobol.csv`.
pub fn sobol_csv(ix: &[SobolIndex]) -> String {
    let mut c = CsvBuf::new();
    c.record([
        "output",
        "factor",
        "first",
        "first_ci_low",
        "first_ci_high",
        "total",
        "total_ci_low",
        "total_ci_high",
    ]);
    for e in ix {
        c.fields(&[&e.output, &e.factor]);
        for v in [
            e.first,
            e.first_ci.0,
            e.first_ci.1,
            e.total,
            e.total_ci.0,
            e.total_ci.1,
        ] {
            c.num(v);
        }
        c.end();
    }
    c.into_string()
}

impl Results {
    /// The report's section: per output, the factors by mu* (those above a tenth of the
    /// largest), then the Sobol table.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "## Global sensitivity of the claimed contrasts\n\n`{}`: Morris elementary effects (Morris 1991; mu* after Campolongo, Cariboni and Saltelli 2007) of **{} factors** (every behaviour weight and rule constant with its plausible range; `docs/ODD.md`), {} trajectories, {} replicate seed(s) per point and arm, {} ticks; {} runs in all. Each output is a **contrast** (an observable's run average in one arm minus another, seed by seed), not a level. mu* is the mean absolute change in the contrast per unit move of the factor across its range scaled to [0, 1]; sigma measures interaction and non-linearity. Listed: factors with mu* at least a tenth of the output's largest; all are in `sensitivity.csv`.\n\n",
            self.file, self.n_factors, self.trajectories, self.replicates, self.ticks, self.runs
        );
        let mut outputs: Vec<&str> = self.morris.iter().map(|e| e.output.as_str()).collect();
        outputs.dedup();
        for o in outputs {
            let mut mine: Vec<&Effect> = self.morris.iter().filter(|e| e.output == o).collect();
            mine.sort_by(|a, b| b.mu_star.total_cmp(&a.mu_star));
            let max = mine.first().map_or(0.0, |e| e.mu_star);
            s.push_str(&format!(
                "**{o}**\n\n| factor | mu* | mu | sigma |\n|---|---|---|---|\n"
            ));
            for e in mine
                .iter()
                .filter(|e| e.mu_star.is_finite() && e.mu_star >= 0.1 * max)
            {
                s.push_str(&format!(
                    "| `{}` | {:.4} | {:+.4} | {:.4} |\n",
                    e.factor, e.mu_star, e.mu, e.sigma
                ));
            }
            s.push('\n');
        }
        if let Some((n, factors, ix)) = &self.sobol {
            s.push_str(&format!(
                "### Sobol indices of the headline contrasts\n\nSaltelli sampling with N = {n} rows per matrix over the {} factors Morris ranks highest on the headline contrasts ({}); the other factors stay at the scenario's values. First-order S1 (Saltelli 2010) and total ST (Jansen 1999) with 95% bootstrap intervals (200 resamples). With N = {n} the intervals are wide: read the ranking, not the third decimal. Large ST - S1 means the factor acts through interactions.\n\n| output | factor | S1 [95%] | ST [95%] |\n|---|---|---|---|\n",
                factors.len(),
                factors.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
            ));
            for e in ix {
                s.push_str(&format!(
                    "| {} | `{}` | {:.2} [{:.2}, {:.2}] | {:.2} [{:.2}, {:.2}] |\n",
                    e.output,
                    e.factor,
                    e.first,
                    e.first_ci.0,
                    e.first_ci.1,
                    e.total,
                    e.total_ci.0,
                    e.total_ci.1
                ));
            }
            s.push('\n');
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The estimators recover the analytic indices of the Ishigami function (a = 7, b = 0.1):
    /// S1 = (0.314, 0.442, 0), ST = (0.558, 0.442, 0.244). 4096 rows; tolerance 0.05.
    #[test]
    fn sobol_estimators_recover_the_ishigami_indices() {
        use rand::SeedableRng;
        let f = |x: &[f64]| {
            let p = std::f64::consts::PI;
            let (a, b, c) = (
                -p + 2.0 * p * x[0],
                -p + 2.0 * p * x[1],
                -p + 2.0 * p * x[2],
            );
            a.sin() + 7.0 * b.sin().powi(2) + 0.1 * c.powi(4) * a.sin()
        };
        let n = 4096;
        let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let a: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..3).map(|_| r.random::<f64>()).collect())
            .collect();
        let b: Vec<Vec<f64>> = (0..n)
            .map(|_| (0..3).map(|_| r.random::<f64>()).collect())
            .collect();
        let fa: Vec<f64> = a.iter().map(|x| f(x)).collect();
        let fb: Vec<f64> = b.iter().map(|x| f(x)).collect();
        let rows: Vec<usize> = (0..n).collect();
        let want = [(0.314, 0.558), (0.442, 0.442), (0.0, 0.244)];
        for (i, (s1w, stw)) in want.iter().enumerate() {
            let fab: Vec<f64> = (0..n)
                .map(|k| {
                    let mut x = a[k].clone();
                    x[i] = b[k][i];
                    f(&x)
                })
                .collect();
            let (s1, st) = sobol_estimates(&fa, &fb, &fab, &rows);
            assert!((s1 - s1w).abs() < 0.05, "S1[{i}] = {s1}, want {s1w}");
            assert!((st - stw).abs() < 0.05, "ST[{i}] = {st}, want {stw}");
        }
    }
}
