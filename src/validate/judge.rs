//! Judging a fact: the paired differences behind it, their interval against the smallest
//! effect of interest, the one-sided p-value behind the Holm adjustment, and the verdicts.
//!
//! Everything is oriented by the fact's expected direction: for `expect = "less"` the
//! effect is negated, so "beyond the SESOI" always means "oriented effect > sesoi".

use statrs::distribution::{ContinuousCDF, StudentsT};

use super::{Compare, Expect, Fact, ValidateError};
use crate::metrics::{AGENCY, TICK};
use crate::sweep::experiment::Experiment;
use crate::sweep::run::RunOutput;
use crate::sweep::stats::Acc;

/// A fact's verdict on one set of runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The 95% interval lies wholly beyond the SESOI in the expected direction.
    Holds,
    /// The interval lies wholly below the SESOI (in the expected direction) but not wholly
    /// on the other side of 0: any effect is smaller than the smallest of interest.
    BelowSesoi,
    /// The interval reaches both sides of the SESOI.
    Unclear,
    /// The interval lies wholly on the other side of 0.
    Opposite,
    /// A run the fact needs failed: the fact is not judged on a smaller sample.
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::BelowSesoi => "below SESOI",
            Verdict::Unclear => "unclear",
            Verdict::Opposite => "opposite",
            Verdict::Error => "error (a run failed)",
        }
    }
}

/// Whether a fact that holds is explained by the mechanism it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Explained {
    /// Holds, and under the ablation the effect falls below the SESOI or reverses.
    Yes,
    /// Holds, but under the ablation the effect may still reach the SESOI: the model shows
    /// the fact, at least partly, for another reason.
    No,
    /// The fact does not hold, so there is nothing to explain.
    NotHolding,
    /// The fact names no ablation (built-in facts may not).
    NoAblation,
    /// A run failed.
    Error,
}

impl Explained {
    pub fn as_str(self) -> &'static str {
        match self {
            Explained::Yes => "explained",
            Explained::No => "not explained",
            Explained::NotHolding => "n/a (does not hold)",
            Explained::NoAblation => "no ablation",
            Explained::Error => "error",
        }
    }
}

/// Paired differences (arm minus reference, replicate by replicate), summarised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contrast {
    pub n: u64,
    pub mean: f64,
    pub sd: f64,
    /// 95% Student-t interval of the mean.
    pub ci: (f64, f64),
    /// A run failed: the contrast is not judged.
    pub failed: bool,
}

impl Contrast {
    pub fn from_acc(a: &Acc, failed: bool) -> Contrast {
        Contrast {
            n: a.n,
            mean: a.mean(),
            sd: a.sd(),
            ci: a.ci95(),
            failed,
        }
    }

    /// The interval turned so that the expected direction is up.
    pub fn oriented(&self, e: Expect) -> (f64, f64) {
        match e {
            Expect::Greater => self.ci,
            Expect::Less => (-self.ci.1, -self.ci.0),
        }
    }

    /// The verdict against `sesoi` in direction `e`.
    pub fn verdict(&self, e: Expect, sesoi: f64) -> Verdict {
        if self.failed {
            return Verdict::Error;
        }
        let (lo, hi) = self.oriented(e);
        if lo > sesoi {
            Verdict::Holds
        } else if hi < 0.0 {
            Verdict::Opposite
        } else if hi < sesoi {
            Verdict::BelowSesoi
        } else {
            Verdict::Unclear
        }
    }

    /// One-sided p-value of the t test of "oriented effect <= sesoi". It is below 0.025
    /// exactly when the 95% interval lies beyond the SESOI, so the raw verdict and the p-value
    /// agree; the Holm adjustment works on it.
    pub fn p_beyond(&self, e: Expect, sesoi: f64) -> f64 {
        if self.failed || self.n < 2 || !self.mean.is_finite() {
            return 1.0;
        }
        let m = match e {
            Expect::Greater => self.mean,
            Expect::Less => -self.mean,
        };
        let se = self.sd / (self.n as f64).sqrt();
        if se <= 0.0 || !se.is_finite() {
            return if m > sesoi { 0.0 } else { 1.0 };
        }
        let t = (m - sesoi) / se;
        match StudentsT::new(0.0, 1.0, (self.n - 1) as f64) {
            Ok(d) => 1.0 - d.cdf(t),
            Err(_) => 1.0,
        }
    }
}

/// The explained verdict from the full and the ablated contrasts.
pub fn explained(fact: &Fact, full: &Contrast, ablated: Option<&Contrast>) -> Explained {
    let Some(ab) = ablated else {
        return Explained::NoAblation;
    };
    if full.failed || ab.failed {
        return Explained::Error;
    }
    if full.verdict(fact.expect, fact.sesoi) != Verdict::Holds {
        return Explained::NotHolding;
    }
    let (_, hi) = ab.oriented(fact.expect);
    if hi < fact.sesoi {
        Explained::Yes
    } else {
        Explained::No
    }
}

/// Holm's step-down adjustment (Holm 1979) of one-sided p-values: the adjusted p of the
/// k-th smallest (from 0) of m is max over j <= k of min(1, (m - j) p_(j)).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut out = vec![1.0; m];
    let mut run = 0.0f64;
    for (k, &i) in order.iter().enumerate() {
        let adj = ((m - k) as f64 * p[i]).min(1.0);
        run = run.max(adj);
        out[i] = run;
    }
    out
}

/// Spearman's rank correlation (average ranks for ties); NaN with fewer than 3 pairs or
/// no spread.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    if pairs.len() < 3 {
        return f64::NAN;
    }
    let rx = ranks(&pairs.iter().map(|p| p.0).collect::<Vec<_>>());
    let ry = ranks(&pairs.iter().map(|p| p.1).collect::<Vec<_>>());
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        f64::NAN
    } else {
        sxy / (sxx * syy).sqrt()
    }
}

/// Ranks from 1, ties at their mean rank.
pub(crate) fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
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

fn arm_ix(fact: &Fact, exp: &Experiment, name: &str) -> Result<usize, ValidateError> {
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
}

/// The fact's measure on one run.
fn value(fact: &Fact, out: &RunOutput, w: [u32; 2]) -> f64 {
    let k = fact
        .measure
        .as_deref()
        .and_then(|m| TICK.iter().position(|o| o.name == m));
    let minus = fact
        .minus
        .as_deref()
        .and_then(|m| TICK.iter().position(|o| o.name == m));
    match fact.compare {
        Compare::PowerSlope => {
            let y = fact
                .agency_measure
                .as_deref()
                .and_then(|m| AGENCY.iter().position(|o| o.name == m))
                .expect("checked on load");
            power_slope(out, y)
        }
        _ => out.window_mean(k.expect("checked on load"), minus, w[0], w[1]),
    }
}

/// The paired contrast `arm - reference` of a fact's measure at design point `point`.
pub fn contrast(
    fact: &Fact,
    exp: &Experiment,
    runs: &[Result<RunOutput, String>],
    point: usize,
    arm: &str,
    reference: &str,
) -> Result<Contrast, ValidateError> {
    let per = exp.runs_per_point() as usize;
    let runs = &runs[point * per..(point + 1) * per];
    let (a, r) = (arm_ix(fact, exp, arm)?, arm_ix(fact, exp, reference)?);
    let n_arms = exp.arms.len();
    let mut diffs = Acc::default();
    let mut failed = false;
    for rep in 0..exp.replicates as usize {
        let (Ok(x), Ok(b)) = (&runs[rep * n_arms + a], &runs[rep * n_arms + r]) else {
            // A failed run makes the fact "error", never a smaller sample.
            failed = true;
            continue;
        };
        let d = value(fact, x, fact.window) - value(fact, b, fact.window);
        let d = match (fact.compare, fact.window2) {
            (Compare::ArmsWindows, Some(w2)) => d - (value(fact, x, w2) - value(fact, b, w2)),
            _ => d,
        };
        diffs.push(d);
    }
    Ok(Contrast::from_acc(&diffs, failed))
}

/// Per-tick mean and 95% interval of the measure in the fact's arm and reference (for the
/// chart): rows of (tick, arm mean, lo, hi, reference mean, lo, hi). For power slopes the
/// chart shows share_need_met.
pub fn trajectory(
    fact: &Fact,
    exp: &Experiment,
    runs: &[Result<RunOutput, String>],
) -> Result<Vec<[f64; 7]>, ValidateError> {
    let (a, r) = (
        arm_ix(fact, exp, &fact.arm)?,
        arm_ix(fact, exp, &fact.reference)?,
    );
    let n_arms = exp.arms.len();
    let kk = fact
        .measure
        .as_deref()
        .and_then(|m| TICK.iter().position(|o| o.name == m))
        .or_else(|| TICK.iter().position(|o| o.name == "share_need_met"))
        .expect("observable exists");
    let minus = fact
        .minus
        .as_deref()
        .and_then(|m| TICK.iter().position(|o| o.name == m));
    let o = TICK.len();
    let mut out = Vec::with_capacity(exp.ticks as usize);
    for t in 0..exp.ticks as usize {
        let (mut aa, mut rr) = (Acc::default(), Acc::default());
        for rep in 0..exp.replicates as usize {
            let get = |arm: usize| -> f64 {
                match &runs[rep * n_arms + arm] {
                    Ok(x) => {
                        x.tick_values[t * o + kk] - minus.map_or(0.0, |m| x.tick_values[t * o + m])
                    }
                    Err(_) => f64::NAN,
                }
            };
            aa.push(get(a));
            rr.push(get(r));
        }
        let (al, ah) = aa.ci95();
        let (rl, rh) = rr.ci95();
        out.push([(t + 1) as f64, aa.mean(), al, ah, rr.mean(), rl, rh]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(mean: f64, lo: f64, hi: f64) -> Contrast {
        Contrast {
            n: 10,
            mean,
            sd: 1.0,
            ci: (lo, hi),
            failed: false,
        }
    }

    #[test]
    fn verdicts_against_the_sesoi_in_either_direction() {
        let s = 0.1;
        assert_eq!(c(0.3, 0.2, 0.4).verdict(Expect::Greater, s), Verdict::Holds);
        assert_eq!(
            c(0.1, 0.05, 0.15).verdict(Expect::Greater, s),
            Verdict::Unclear
        );
        assert_eq!(
            c(0.0, -0.05, 0.05).verdict(Expect::Greater, s),
            Verdict::BelowSesoi
        );
        assert_eq!(
            c(-0.3, -0.4, -0.2).verdict(Expect::Greater, s),
            Verdict::Opposite
        );
        assert_eq!(c(-0.3, -0.4, -0.2).verdict(Expect::Less, s), Verdict::Holds);
        assert_eq!(c(0.3, 0.2, 0.4).verdict(Expect::Less, s), Verdict::Opposite);
        // An exact zero (the lambda-0 ablation) is below any positive SESOI.
        assert_eq!(
            c(0.0, 0.0, 0.0).verdict(Expect::Less, s),
            Verdict::BelowSesoi
        );
        let mut f = c(1.0, 0.9, 1.1);
        f.failed = true;
        assert_eq!(f.verdict(Expect::Greater, s), Verdict::Error);
    }

    #[test]
    fn the_p_value_agrees_with_the_interval() {
        // Build contrasts from data so that the interval and the p-value come from the
        // same numbers; then p < 0.025 exactly when the interval clears the SESOI.
        for (shift, sesoi) in [(0.5, 0.1), (0.12, 0.1), (0.3, 0.29), (0.0, 0.05)] {
            let mut a = Acc::default();
            for i in 0..12 {
                a.push(shift + 0.1 * ((i as f64 * 1.7).sin()));
            }
            let k = Contrast::from_acc(&a, false);
            let holds = k.verdict(Expect::Greater, sesoi) == Verdict::Holds;
            assert_eq!(k.p_beyond(Expect::Greater, sesoi) < 0.025, holds, "{k:?}");
        }
    }

    #[test]
    fn holm_matches_a_hand_computation() {
        // p = (0.01, 0.04, 0.03, 0.005), m = 4: sorted 0.005, 0.01, 0.03, 0.04 ->
        // 4*0.005 = 0.02, 3*0.01 = 0.03, 2*0.03 = 0.06, 1*0.04 = 0.04 -> running max 0.06.
        let adj = holm(&[0.01, 0.04, 0.03, 0.005]);
        let want = [0.03, 0.06, 0.06, 0.02];
        for (a, w) in adj.iter().zip(want) {
            assert!((a - w).abs() < 1e-12, "{adj:?}");
        }
    }

    #[test]
    fn spearman_on_monotone_and_tied_data() {
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[10.0, 20.0, 25.0, 90.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        // Ties get average ranks: x ranks 1.5,1.5,3,4 against y 1,2,3,4.
        let r = spearman(&[1.0, 1.0, 2.0, 3.0], &[1.0, 2.0, 3.0, 4.0]);
        assert!((r - 0.9486832980505138).abs() < 1e-9, "{r}");
        assert!(spearman(&[1.0, 2.0], &[1.0, 2.0]).is_nan());
    }
}
