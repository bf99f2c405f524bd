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

/// A Poisson draw by inversion (Knuth for small means, normal approximation above 60).
pub fn poisson<R: rand::RngExt + ?Sized>(rng: &mut R, mean: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    if mean < 60.0 {
        let l = (-mean).exp();
        let mut k = 0u32;
        let mut p = 1.0;
        loop {
            p *= rng.random::<f64>();
            if p <= l {
                return k;
            }
            k += 1;
        }
    }
    // Box-Muller normal approximation with continuity correction.
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (mean + z * mean.sqrt() + 0.5).floor().max(0.0) as u32
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
    fn poisson_mean_is_close() {
        // 20,000 draws each; the sample mean's sd is sqrt(mean/20000) <= 0.06, tolerance 0.3.
        let mut rng = stream(11, Stream::Arrivals);
        for mean in [0.5, 4.0, 30.0, 120.0] {
            let n = 20_000;
            let s: u64 = (0..n).map(|_| poisson(&mut rng, mean) as u64).sum();
            let m = s as f64 / n as f64;
            assert!((m - mean).abs() < 0.3, "mean {mean}: got {m}");
        }
    }
}
