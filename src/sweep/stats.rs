//! Streaming summary statistics: Welford's mean and variance, and the one Student-t 95%
//! interval of a mean that every output uses (sweep and validation CSVs, the report tables
//! and the charts' error bars). Values are folded in a fixed order, so results do not depend
//! on thread scheduling.

use std::sync::OnceLock;

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Running count, mean and sum of squared deviations (Welford 1962). NaN values are skipped.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Acc {
    pub n: u64,
    mean: f64,
    m2: f64,
}

impl Acc {
    pub fn push(&mut self, x: f64) {
        if x.is_nan() {
            return;
        }
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    pub fn mean(&self) -> f64 {
        if self.n > 0 { self.mean } else { f64::NAN }
    }

    /// Sample standard deviation (n - 1 in the denominator).
    pub fn sd(&self) -> f64 {
        if self.n > 1 {
            (self.m2 / (self.n - 1) as f64).sqrt()
        } else {
            f64::NAN
        }
    }

    /// 95% confidence interval of the mean ([`ci95`]).
    pub fn ci95(&self) -> (f64, f64) {
        ci95(self.n, self.mean(), self.sd())
    }
}

/// The 95% confidence interval of a mean of `n` values with sample standard deviation `sd`:
/// mean -/+ t(0.975, n - 1) sd / sqrt(n), NaN for fewer than two values.
pub fn ci95(n: u64, mean: f64, sd: f64) -> (f64, f64) {
    if n < 2 {
        return (f64::NAN, f64::NAN);
    }
    let h = t975(n - 1) * sd / (n as f64).sqrt();
    (mean - h, mean + h)
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom, from `statrs` (NaN for
/// 0). Quantiles up to 1000 degrees of freedom are computed once and kept.
pub fn t975(df: u64) -> f64 {
    const KEPT: u64 = 1000;
    fn quantile(df: u64) -> f64 {
        if df == 0 {
            return f64::NAN;
        }
        StudentsT::new(0.0, 1.0, df as f64)
            .map(|t| t.inverse_cdf(0.975))
            .unwrap_or(f64::NAN)
    }
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    if df > KEPT {
        return quantile(df);
    }
    TABLE.get_or_init(|| (0..=KEPT).map(quantile).collect())[df as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_matches_two_pass() {
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let mut a = Acc::default();
        xs.iter().for_each(|&x| a.push(x));
        a.push(f64::NAN);
        assert_eq!(a.n, 8);
        assert!((a.mean() - 5.0).abs() < 1e-12);
        let var = xs.iter().map(|x| (x - 5.0f64).powi(2)).sum::<f64>() / 7.0;
        assert!((a.sd() - var.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn t_quantiles_are_the_textbook_ones() {
        assert!((t975(1) - 12.706).abs() < 1e-3);
        assert!((t975(10) - 2.228).abs() < 1e-3);
        assert!((t975(29) - 2.045).abs() < 1e-3);
        assert!((t975(5000) - 1.960).abs() < 1e-3);
        // Past the kept table: still Student's t, between the normal quantile and t(1000).
        assert!(t975(1001) > 1.959_963_984_540_054 && t975(1001) < t975(1000));
        assert!(t975(0).is_nan());
    }

    #[test]
    fn interval_of_known_sample() {
        let mut a = Acc::default();
        [1.0, 2.0, 3.0].iter().for_each(|&x| a.push(x));
        let (lo, hi) = a.ci95();
        // t(0.975, 2) = 4.302653; sd = 1.
        assert!((hi - (2.0 + 4.302_653 / 3f64.sqrt())).abs() < 1e-6);
        assert!((lo + hi - 4.0).abs() < 1e-12);
        let mut one = Acc::default();
        one.push(1.0);
        assert!(one.ci95().0.is_nan() && one.ci95().1.is_nan());
    }
}
