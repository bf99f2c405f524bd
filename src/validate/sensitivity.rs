//! `silos sensitivity FILE`: Morris elementary effects (Morris 1991, "Factorial sampling
//! plans for preliminary computational experiments", Technometrics 33(2):161-174), with the
//! mean of absolute effects mu* of Campolongo, Cariboni and Saltelli (2007).
//!
//! Each of `trajectories` trajectories starts at a random point of a `levels`-level grid
//! over the factors' ranges (scaled to [0, 1]) and moves one factor at a time, in random
//! order, by delta = levels / (2 (levels - 1)). The output at a point is the run average
//! of an observable, averaged over `replicates` runs; every point uses the same replicate
//! seeds (common random numbers), so an elementary effect compares like with like.

use std::path::Path;

use rand::RngExt;
use rayon::prelude::*;
use serde::Deserialize;

use crate::engine::BehaviourChoice;
use crate::metrics::TICK;
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
    factors: Vec<Factor>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Meta {
    name: String,
    scenario: String,
    #[serde(default = "mixed")]
    behaviour: String,
    replicates: u32,
    master_seed: u64,
    #[serde(default)]
    ticks: Option<u32>,
    trajectories: u32,
    #[serde(default = "four")]
    levels: u32,
    outputs: Vec<String>,
}

fn mixed() -> String {
    "mixed".to_string()
}
fn four() -> u32 {
    4
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

/// A validated sensitivity study.
#[derive(Debug, Clone)]
pub struct Study {
    pub name: String,
    pub file: String,
    pub scenario_label: String,
    pub scenario_text: String,
    pub choice: BehaviourChoice,
    pub replicates: u32,
    pub master_seed: u64,
    pub ticks: u32,
    pub trajectories: u32,
    pub levels: u32,
    pub outputs: Vec<String>,
    pub factors: Vec<Factor>,
}

/// One factor's effect on one output.
#[derive(Debug, Clone)]
pub struct Effect {
    pub output: String,
    pub factor: String,
    pub mu_star: f64,
    pub mu: f64,
    pub sigma: f64,
    pub n: u64,
}

impl Study {
    pub fn from_path(path: &Path) -> Result<Study, ValidateError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ValidateError::Io {
            path: file.clone(),
            message: e.to_string(),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let bad = |m: String| ValidateError::Spec {
            file: file.clone(),
            message: m,
        };
        let f: File = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let m = f.sensitivity;
        let (scenario_label, scenario_text) = if m.scenario == "default" {
            (
                DEFAULT_SCENARIO_NAME.to_string(),
                DEFAULT_SCENARIO.to_string(),
            )
        } else {
            let p = dir.join(&m.scenario);
            let t = std::fs::read_to_string(&p)
                .map_err(|e| bad(format!("field `sensitivity.scenario` has value {:?}; allowed: \"default\" or a readable scenario file ({e})", m.scenario)))?;
            (p.display().to_string(), t)
        };
        let base = Scenario::from_toml_str(&scenario_text, &scenario_label)
            .map_err(|e| bad(e.to_string()))?;
        let choice = BehaviourChoice::parse(&m.behaviour).ok_or_else(|| {
            bad(format!(
                "field `sensitivity.behaviour` has value {:?}; allowed: ra, bp, mixed",
                m.behaviour
            ))
        })?;
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
        for o in &m.outputs {
            if !TICK.iter().any(|t| t.name == o) {
                return Err(bad(format!(
                    "field `sensitivity.outputs` names {o:?}; allowed: observables of ticks.csv (`silos columns`)"
                )));
            }
        }
        if f.factors.is_empty() {
            return Err(bad("at least one [[factors]] entry".into()));
        }
        let study = Study {
            name: m.name,
            file: file.clone(),
            scenario_label,
            scenario_text,
            choice,
            replicates: m.replicates,
            master_seed: m.master_seed,
            ticks: m.ticks.unwrap_or(base.ticks),
            trajectories: m.trajectories,
            levels: m.levels,
            outputs: m.outputs,
            factors: f.factors,
        };
        for (i, fac) in study.factors.iter().enumerate() {
            if !(fac.from.is_finite() && fac.to.is_finite() && fac.from < fac.to) {
                return Err(bad(format!("factors[{i}]: `from` must be below `to`")));
            }
            // Both ends of the range must give valid scenarios.
            for x in [0.0, 1.0] {
                let mut xs = vec![0.5; study.factors.len()];
                xs[i] = x;
                study
                    .scenario_at(&xs)
                    .map_err(|e| bad(format!("factors[{i}] ({}): {e}", fac.path)))?;
            }
        }
        Ok(study)
    }

    fn scenario_at(&self, x: &[f64]) -> Result<Scenario, crate::error::ScenarioError> {
        let o: Vec<Override> = self
            .factors
            .iter()
            .zip(x)
            .map(|(f, &u)| {
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
            .collect();
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

    /// Run the design and compute mu*, mu and sigma for every factor and output.
    pub fn run(&self, pool: &rayon::ThreadPool) -> Result<Vec<Effect>, ValidateError> {
        let design = self.design();
        let points: Vec<Vec<f64>> = design
            .iter()
            .flat_map(|(pts, _)| pts.iter().cloned())
            .collect();
        let jobs: Vec<(usize, u32)> = (0..points.len())
            .flat_map(|i| (0..self.replicates).map(move |r| (i, r)))
            .collect();
        let outs: Vec<Result<RunOutput, String>> = pool.install(|| {
            jobs.par_iter()
                .map(|&(i, rep)| {
                    let s = self.scenario_at(&points[i]).map_err(|e| e.to_string())?;
                    run_scenario(
                        &s,
                        rng::derive_seed(self.master_seed, 0, rep as u64),
                        self.choice,
                        self.ticks,
                    )
                })
                .collect()
        });
        let ks: Vec<usize> = self
            .outputs
            .iter()
            .map(|o| TICK.iter().position(|t| t.name == o).expect("checked"))
            .collect();
        // y[point][output]: mean over replicates of the run average.
        let means: Vec<Option<Vec<f64>>> = outs
            .iter()
            .map(|o| o.as_ref().ok().map(RunOutput::run_means))
            .collect();
        let mut y = vec![vec![f64::NAN; ks.len()]; points.len()];
        for (i, row) in y.iter_mut().enumerate() {
            for (c, &k) in ks.iter().enumerate() {
                let mut acc = Acc::default();
                for rep in 0..self.replicates as usize {
                    if let Some(m) = &means[i * self.replicates as usize + rep] {
                        acc.push(m[k]);
                    }
                }
                row[c] = acc.mean();
            }
        }
        let k = self.factors.len();
        let mut abs = vec![Acc::default(); ks.len() * k];
        let mut raw = vec![Acc::default(); ks.len() * k];
        let mut base = 0;
        for (pts, steps) in &design {
            for (s, &(j, step)) in steps.iter().enumerate() {
                for c in 0..ks.len() {
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
                    output: o.clone(),
                    factor: f.path.clone(),
                    mu_star: abs[c * k + j].mean(),
                    mu: raw[c * k + j].mean(),
                    sigma: raw[c * k + j].sd(),
                    n: raw[c * k + j].n,
                });
            }
        }
        Ok(effects)
    }
}

/// `sensitivity.csv`.
pub fn csv(effects: &[Effect]) -> String {
    let mut s = String::from("output,factor,mu_star,mu,sigma,n\n");
    let mut num = String::new();
    for e in effects {
        s.push_str(&format!("{},{}", e.output, e.factor));
        for v in [e.mu_star, e.mu, e.sigma] {
            crate::output::fmt_num(&mut num, v);
            s.push(',');
            s.push_str(&num);
        }
        s.push_str(&format!(",{}\n", e.n));
    }
    s
}
