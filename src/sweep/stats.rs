//! Streaming summary statistics: Welford's mean and variance, and Student-t 95% intervals.
//! Values are folded in a fixed order, so results do not depend on thread scheduling.

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

    /// 95% confidence interval of the mean: mean -/+ t(0.975, n-1) sd / sqrt(n).
    pub fn ci95(&self) -> (f64, f64) {
        if self.n < 2 {
            return (f64::NAN, f64::NAN);
        }
        let h = t975(self.n - 1) * self.sd() / (self.n as f64).sqrt();
        (self.mean - h, self.mean + h)
    }
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (cached up to 1000;
/// beyond, the normal quantile 1.959964 is within 0.1%).
pub fn t975(df: u64) -> f64 {
    static TABLE: OnceLock<Vec<f64>> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        (0..=1000u64)
            .map(|d| {
                if d == 0 {
                    f64::NAN
                } else {
                    StudentsT::new(0.0, 1.0, d as f64)
                        .map(|t| t.inverse_cdf(0.975))
                        .unwrap_or(f64::NAN)
                }
            })
            .collect()
    });
    if df as usize <= 1000 {
        table[df as usize]
    } else {
        1.959_963_984_540_054
    }
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
    }
}
