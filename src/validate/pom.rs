//! Pattern-oriented filter (Grimm et al. 2005, "Pattern-oriented modeling of agent-based
//! complex systems", Science 310:987-991): sample the main parameters by Latin hypercube
//! (`scenarios/validation/pom.toml`), run the behaviour comparison at every sample, and
//! report where in parameter space the behaviour facts hold, alone and together.

use std::path::Path;

use super::{Fact, FactResult, Tag, ValidateError, Verdict, judge_at, load_experiment, run_all};

/// The facts judged at each sampled point: those of the behaviour experiment.
pub const EXPERIMENT_FACTS: &str = "behaviour.toml";

/// Results at each design point of the filter.
pub struct PomResult {
    pub factor_names: Vec<String>,
    pub points: Vec<Vec<toml::Value>>,
    pub facts: Vec<Fact>,
    /// `[point][fact]`.
    pub results: Vec<Vec<FactResult>>,
}

/// Run the filter with `replicates` runs per arm at each point.
pub fn run(
    dir: Option<&Path>,
    facts: &[Fact],
    replicates: u32,
    pool: &rayon::ThreadPool,
) -> Result<PomResult, ValidateError> {
    let exp = load_experiment(dir, "pom.toml", replicates)?;
    let runs = run_all(&exp, pool);
    let facts: Vec<Fact> = facts
        .iter()
        .filter(|f| f.experiment == EXPERIMENT_FACTS)
        .cloned()
        .collect();
    let mut results = Vec::with_capacity(exp.n_points());
    for p in 0..exp.n_points() {
        let row: Result<Vec<FactResult>, ValidateError> =
            facts.iter().map(|f| judge_at(f, &exp, &runs, p)).collect();
        results.push(row?);
    }
    Ok(PomResult {
        factor_names: exp.factor_names.clone(),
        points: exp.points.clone(),
        facts,
        results,
    })
}

impl PomResult {
    /// `pom.csv`: one row per sampled point, its parameters and each fact's verdict.
    pub fn csv(&self) -> String {
        let mut s = String::from("point");
        for n in &self.factor_names {
            s.push(',');
            s.push_str(n);
        }
        for f in &self.facts {
            s.push(',');
            s.push_str(&f.id);
        }
        s.push_str(",all_emergent_hold\n");
        for (p, row) in self.results.iter().enumerate() {
            s.push_str(&p.to_string());
            for v in &self.points[p] {
                s.push(',');
                s.push_str(&crate::sweep::exec::value_text(v));
            }
            for r in row {
                s.push(',');
                s.push_str(if r.verdict == Verdict::Holds {
                    "1"
                } else {
                    "0"
                });
            }
            let all = row
                .iter()
                .filter(|r| r.fact.tag == Tag::Emergent)
                .all(|r| r.verdict == Verdict::Holds);
            s.push_str(if all { ",1\n" } else { ",0\n" });
        }
        s
    }

    /// Share of sampled points at which each fact holds, and at which all emergent ones do.
    pub fn shares(&self) -> (Vec<(String, f64)>, f64) {
        let n = self.results.len().max(1) as f64;
        let each = self
            .facts
            .iter()
            .enumerate()
            .map(|(i, f)| {
                (
                    f.id.clone(),
                    self.results
                        .iter()
                        .filter(|r| r[i].verdict == Verdict::Holds)
                        .count() as f64
                        / n,
                )
            })
            .collect();
        let all = self
            .results
            .iter()
            .filter(|row| {
                row.iter()
                    .filter(|r| r.fact.tag == Tag::Emergent)
                    .all(|r| r.verdict == Verdict::Holds)
            })
            .count() as f64
            / n;
        (each, all)
    }
}
