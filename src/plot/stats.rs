//! The little statistics the charts and tables need: means, 95% confidence intervals
//! (Student t, from `sweep::stats::ci95` as in the CSVs), quartiles. NaN values (NA in the
//! CSV) are left out.

/// Mean, sample sd and 95% CI of the mean over the finite values of `xs`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub lo: f64,
    pub hi: f64,
}

pub fn summarise(xs: impl IntoIterator<Item = f64>) -> Summary {
    let v: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return Summary {
            n,
            mean: f64::NAN,
            sd: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
        };
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Summary {
            n,
            mean,
            sd: f64::NAN,
            lo: f64::NAN,
            hi: f64::NAN,
        };
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let sd = var.sqrt();
    let (lo, hi) = crate::sweep::stats::ci95(n as u64, mean, sd);
    Summary {
        n,
        mean,
        sd,
        lo,
        hi,
    }
}

/// Quantile `p` of sorted finite values (linear interpolation, R's type 7).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
            let i = h.floor() as usize;
            let f = h - i as f64;
            if i + 1 < n {
                sorted[i] + f * (sorted[i + 1] - sorted[i])
            } else {
                sorted[n - 1]
            }
        }
    }
}

/// Finite values of `xs`, sorted.
pub fn sorted_finite(xs: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = xs.into_iter().filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_of_known_sample() {
        let s = summarise([1.0, 2.0, 3.0, f64::NAN]);
        assert_eq!(s.n, 3);
        assert!((s.mean - 2.0).abs() < 1e-12);
        assert!((s.sd - 1.0).abs() < 1e-12);
        assert!((s.hi - (2.0 + 4.302_653 / 3f64.sqrt())).abs() < 1e-6);
    }

    #[test]
    fn quartiles() {
        let v = sorted_finite([4.0, 1.0, 3.0, 2.0]);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 1.0), 4.0);
    }
}
