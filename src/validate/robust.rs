//! Robustness: where in the plausible parameter space a fact holds (pattern-oriented
//! modelling, Grimm et al. 2005). `scenarios/validation/robustness.toml` is an experiment
//! file whose factors sample the plausible ranges of `docs/ODD.md` by Latin hypercube; every
//! fact's own experiment runs at each sampled point (its arms and ablations unchanged), and
//! the fact is judged there by its own criterion. The share of points where it holds is its
//! robustness; the rank correlation of its effect with each factor over the points says
//! which parameters its verdict depends on.

use std::path::Path;

use super::judge::{self, Verdict};
use super::{Fact, ValidateError, read};
use crate::sweep::experiment::Experiment;
use crate::sweep::run::RunOutput;

/// The sampled design.
#[derive(Debug, Clone)]
pub struct Design {
    pub factor_names: Vec<String>,
    pub factor_paths: Vec<String>,
    /// Each factor's sampled range, (from, to).
    pub ranges: Vec<(f64, f64)>,
    pub points: Vec<Vec<toml::Value>>,
    pub replicates: u32,
}

/// A fact across the design.
#[derive(Debug, Clone)]
pub struct FactRobustness {
    pub points: usize,
    pub holds: usize,
    pub errors: usize,
    /// The fact's mean effect at each point, turned so that the expected direction is up.
    pub effects: Vec<f64>,
    /// Spearman's rho of the oriented effect with each factor, in factor order.
    pub rho: Vec<f64>,
}

impl FactRobustness {
    pub fn share(&self) -> f64 {
        self.holds as f64 / self.points.max(1) as f64
    }

    /// Factors whose |rho| is at least `min`, strongest first, with the sign of rho (a
    /// positive rho means the effect grows in the expected direction with the factor).
    pub fn depends<'a>(&self, d: &'a Design, min: f64) -> Vec<(&'a str, f64)> {
        let mut v: Vec<(&str, f64)> = d
            .factor_names
            .iter()
            .zip(&self.rho)
            .filter(|(_, r)| r.is_finite() && r.abs() >= min)
            .map(|(n, r)| (n.as_str(), *r))
            .collect();
        v.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        v
    }
}

impl Design {
    /// Load `robustness.toml`, with `points` hypercube points and `replicates` per arm.
    pub fn load(dir: Option<&Path>, points: u32, replicates: u32) -> Result<Design, ValidateError> {
        let (file, text) = read(dir, "robustness.toml")?;
        let bad = |m: String| ValidateError::Spec {
            file: file.clone(),
            message: m,
        };
        let mut v: toml::Table = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if points == 0 || replicates == 0 {
            return Err(bad(
                "robustness needs at least 1 point and 1 replicate".into()
            ));
        }
        // The point count is the caller's (full or quick); set it before the design is drawn.
        match v.get_mut("experiment").and_then(|e| e.as_table_mut()) {
            Some(e) => {
                e.insert("lhs_points".into(), toml::Value::Integer(points as i64));
            }
            None => return Err(bad("no [experiment] table".into())),
        }
        let ranges: Vec<(f64, f64)> = v
            .get("factors")
            .and_then(|f| f.as_array())
            .map(|fs| {
                fs.iter()
                    .map(|f| {
                        let l = f.get("lhs");
                        let num = |k: &str| {
                            l.and_then(|l| l.get(k))
                                .and_then(|x| x.as_float().or(x.as_integer().map(|i| i as f64)))
                                .unwrap_or(f64::NAN)
                        };
                        (num("from"), num("to"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let text = toml::to_string(&v).map_err(|e| bad(e.to_string()))?;
        let exp = Experiment::from_str_in(&text, &file, dir.unwrap_or(Path::new(".")), false)?;
        if exp.factor_paths.is_empty() {
            return Err(bad("robustness needs [[factors]] sampled by lhs".into()));
        }
        Ok(Design {
            factor_names: exp.factor_names.clone(),
            factor_paths: exp.factor_paths.clone(),
            ranges,
            points: exp.points.clone(),
            replicates,
        })
    }

    /// `exp` at every point of the design (its arms, with their overrides, unchanged).
    pub fn apply(&self, exp: &Experiment) -> Experiment {
        let mut e = exp.clone();
        e.factor_names = self.factor_names.clone();
        e.factor_paths = self.factor_paths.clone();
        e.points = self.points.clone();
        e.replicates = self.replicates;
        e
    }

    /// A factor's value at a point, as a number.
    pub fn value(&self, point: usize, factor: usize) -> f64 {
        let v = &self.points[point][factor];
        v.as_float()
            .or(v.as_integer().map(|i| i as f64))
            .unwrap_or(f64::NAN)
    }
}

/// Judge `fact` at every point of the design, on the runs of `exp` (= `d.apply(..)`).
pub fn judge(
    fact: &Fact,
    d: &Design,
    exp: &Experiment,
    runs: &[Result<RunOutput, String>],
) -> Result<FactRobustness, ValidateError> {
    let mut holds = 0;
    let mut errors = 0;
    let mut effects = Vec::with_capacity(d.points.len());
    for p in 0..d.points.len() {
        let c = judge::contrast(fact, exp, runs, p, &fact.arm, &fact.reference)?;
        match c.verdict(fact.expect, fact.sesoi) {
            Verdict::Holds => holds += 1,
            Verdict::Error => errors += 1,
            _ => {}
        }
        effects.push(match fact.expect {
            super::Expect::Greater => c.mean,
            super::Expect::Less => -c.mean,
        });
    }
    let rho = (0..d.factor_names.len())
        .map(|k| {
            let x: Vec<f64> = (0..d.points.len()).map(|p| d.value(p, k)).collect();
            judge::spearman(&x, &effects)
        })
        .collect();
    Ok(FactRobustness {
        points: d.points.len(),
        holds,
        errors,
        effects,
        rho,
    })
}
