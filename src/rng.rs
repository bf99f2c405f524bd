//! Random streams. Every run is a pure function of (scenario, seed): each purpose draws from
//! its own ChaCha8 stream derived from the run's seed, so switching a behaviour rule or a
//! lever leaves the environment's draws (arrivals, shocks, inspection) unchanged.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The purposes that own a stream. Agencies' own choices use `AGENCY_BASE + agency index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Case arrivals: counts, needs, entry agency, order, per-hop referral-loss numbers.
    Arrivals = 0,
    /// Media-salience shocks.
    Shocks = 1,
    /// Order in which agencies are polled (hosting, joining).
    Schedule = 2,
    /// Inspection of reports.
    Inspection = 3,
    /// Assignment of behaviour families from population shares.
    Population = 4,
    /// The centre's own choices: which client group each central initiative targets.
    Centre = 5,
    /// Enforcement of a duty to cooperate (detecting breaches).
    Enforcement = 6,
    /// Sampling an experiment's design (Latin hypercube), from the master seed.
    Design = 7,
    /// A national run's draws: each locality's variation (`national.rs`).
    Localities = 8,
}

/// First stream number of the per-agency decision streams.
pub const AGENCY_BASE: u64 = 1 << 16;

/// The ChaCha8 stream for `purpose` in the run with `seed`.
pub fn stream(seed: u64, purpose: Stream) -> ChaCha8Rng {
    stream_n(seed, purpose as u64)
}

/// The decision stream of agency `index` in the run with `seed`.
pub fn agency_stream(seed: u64, index: usize) -> ChaCha8Rng {
    stream_n(seed, AGENCY_BASE + index as u64)
}

fn stream_n(seed: u64, n: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(n);
    rng
}

/// A run seed from (master seed, design point, replicate): a SplitMix64-style mix, so that
/// arms compared at one point and replicate share their draws.
pub fn derive_seed(master: u64, point: u64, replicate: u64) -> u64 {
    let mut z = master
        ^ point.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ replicate.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A Poisson draw with mean `mean`, from `rng` alone (so deterministic given the stream):
/// `rand_distr`'s `Poisson`, which uses Knuth's multiplication method for means below 12
/// and, from 12 up, Ahrens and Dieter's (1982) rejection method from a normal deviate. The
/// draws are exact Poisson at every mean (no normal approximation for large means). A mean
/// that is not positive, or not finite, gives 0. The draw saturates at `u32::MAX` (means
/// beyond about 4e9, far outside any scenario); means beyond `Poisson::MAX_LAMBDA` (1.8e19),
/// which `rand_distr` refuses, give `u32::MAX` too.
pub fn poisson<R: rand::RngExt + ?Sized>(rng: &mut R, mean: f64) -> u32 {
    use rand_distr::{Distribution, Poisson};
    if !mean.is_finite() || mean <= 0.0 {
        return 0;
    }
    match Poisson::new(mean) {
        Ok(d) => {
            let k: f64 = d.sample(rng);
            k as u32
        }
        Err(_) => u32::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_differ_by_purpose_and_repeat_by_seed() {
        let a: u64 = stream(7, Stream::Arrivals).random();
        let b: u64 = stream(7, Stream::Shocks).random();
        let c: u64 = stream(7, Stream::Arrivals).random();
        assert_ne!(a, b);
        assert_eq!(a, c);
        assert_ne!(
            agency_stream(7, 0).random::<u64>(),
            agency_stream(7, 1).random::<u64>()
        );
    }

    #[test]
    fn derived_seeds_depend_on_point_and_replicate() {
        let s = derive_seed(1, 2, 3);
        assert_eq!(s, derive_seed(1, 2, 3));
        assert_ne!(s, derive_seed(1, 3, 2));
        assert_ne!(s, derive_seed(2, 2, 3));
    }

    #[test]
    fn poisson_draws_have_the_poisson_mean_and_variance() {
        // One seed (stream Arrivals of seed 11), 20,000 draws per mean, on both sides of
        // rand_distr's switch from Knuth's method to rejection at 12. The sample mean must
        // be within 5 standard errors of the mean (sd sqrt(mean / n)) and the sample
        // variance within 5 standard errors of the mean too (sd sqrt((mean + 2 mean^2) / n)).
        let mut rng = stream(11, Stream::Arrivals);
        let n = 20_000;
        for mean in [0.5, 4.0, 11.9, 12.1, 30.0, 120.0, 5000.0] {
            let xs: Vec<f64> = (0..n).map(|_| poisson(&mut rng, mean) as f64).collect();
            let m = xs.iter().sum::<f64>() / n as f64;
            let v = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            let se_mean = (mean / n as f64).sqrt();
            let se_var = ((mean + 2.0 * mean * mean) / n as f64).sqrt();
            assert!(
                (m - mean).abs() < 5.0 * se_mean,
                "mean {mean}: sample mean {m}"
            );
            assert!(
                (v - mean).abs() < 5.0 * se_var,
                "mean {mean}: sample variance {v}"
            );
        }
    }

    #[test]
    fn poisson_is_deterministic_and_handles_degenerate_means() {
        let draws = |seed| {
            let mut r = stream(seed, Stream::Shocks);
            (0..50).map(|_| poisson(&mut r, 7.5)).collect::<Vec<_>>()
        };
        assert_eq!(draws(3), draws(3));
        assert_ne!(draws(3), draws(4));
        let mut r = stream(3, Stream::Shocks);
        for mean in [0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(poisson(&mut r, mean), 0, "mean {mean}");
        }
        assert_eq!(poisson(&mut r, 1e20), u32::MAX);
    }
}
