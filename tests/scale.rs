//! No cap on the number of agencies: an arena of 300 agencies (beyond the old limit of 128
//! set by `u128` bit sets, and beyond the 255 an 8-bit server slot could name) runs, keeps
//! its invariants on every tick, and is reproducible. Cases enter at the highest-numbered
//! agencies so that routing, serving and the membership sets all handle large indices.

mod common;

use silos::engine::BehaviourChoice;
use silos::scenario::Scenario;

/// The small test arena's four agencies, copied `k` times with suffixed names; the forum
/// takes every copy as a candidate, the protocol the statutory ones, the pool housing and
/// health. Cases enter at the last copy.
fn big_arena(k: usize) -> String {
    let last = k - 1;
    let mut s = format!(
        "dimensions = [\"housing\", \"health\", \"offending\"]\n\n\
         [scenario]\nname = \"big\"\ndescription = \"{k} copies of the small arena\"\nticks = 12\nseed = 5\n\n\
         [population]\nshares = {{ ra = 0.5, bp = 0.5 }}\n\n\
         [[groups]]\nname = \"ex_offenders\"\narrivals = 20.0\nneeds = {{ housing = 0.9, offending = 0.9, health = 0.3 }}\n\
         severity = 1.2\nsalience = 0.9\nrisk = 0.6\nentry = {{ probation_{last} = 0.7, housing_{last} = 0.3 }}\n\n\
         [[groups]]\nname = \"families\"\narrivals = 40.0\nneeds = {{ housing = 1.0, health = 0.4 }}\n\
         severity = 1.0\nsalience = 0.5\nrisk = 0.1\nentry = {{ housing_{last} = 0.6, day_centre_{last} = 0.4 }}\n\n"
    );
    let (mut all, mut statutory, mut pool) = (Vec::new(), Vec::new(), Vec::new());
    for c in 0..k {
        s.push_str(&format!(
            "[[agencies]]\nname = \"housing_{c}\"\nlevel = \"local_statutory\"\nincome = 40.0\nreserves = 40.0\n\
             fixed_costs = 5.0\nstaff = 30.0\nremit = {{ housing = 1.0 }}\ntargets = {{ families = 1.0 }}\n\
             duties = [\"families\"]\nlegitimacy = 0.8\npolitical = 0.4\n\n\
             [[agencies]]\nname = \"health_{c}\"\nlevel = \"local_statutory\"\nincome = 30.0\nreserves = 30.0\n\
             fixed_costs = 5.0\nstaff = 20.0\nremit = {{ health = 1.0 }}\ntargets = {{ families = 0.5, ex_offenders = 0.5 }}\n\n\
             [[agencies]]\nname = \"probation_{c}\"\nlevel = \"local_statutory\"\nincome = 30.0\nreserves = 30.0\n\
             fixed_costs = 5.0\nstaff = 20.0\nremit = {{ offending = 1.0, housing = 0.3 }}\ntargets = {{ ex_offenders = 1.0 }}\n\
             political = 0.9\n\n\
             [[agencies]]\nname = \"day_centre_{c}\"\nlevel = \"voluntary\"\nfunder = \"housing_{c}\"\nincome = 8.0\n\
             reserves = 5.0\nfixed_costs = 1.0\nstaff = 10.0\nremit = {{ housing = 0.4, health = 0.3 }}\n\
             targets = {{ families = 0.5, ex_offenders = 0.5 }}\nthroughput_pay = 0.2\n\n"
        ));
        for a in ["housing", "health", "probation", "day_centre"] {
            all.push(format!("\"{a}_{c}\""));
        }
        for a in ["housing", "health", "probation"] {
            statutory.push(format!("\"{a}_{c}\""));
        }
        for a in ["housing", "health"] {
            pool.push(format!("\"{a}_{c}\""));
        }
    }
    s.push_str(&format!(
        "[[mechanisms]]\nname = \"forum\"\nkind = \"forum\"\ncandidates = [{}]\nagenda_rule = \"power_weighted\"\ngamma = 2.0\n\n\
         [[mechanisms]]\nname = \"protocol\"\nkind = \"protocol\"\ncandidates = [{}]\n\n\
         [[mechanisms]]\nname = \"pool\"\nkind = \"pooled_fund\"\ncandidates = [{}]\npool_share = 0.05\n",
        all.join(", "),
        statutory.join(", "),
        pool.join(", ")
    ));
    s
}

#[test]
fn an_arena_of_300_agencies_runs_and_reproduces() {
    let s = Scenario::from_toml_str(&big_arena(75), "big.toml").expect("valid");
    assert_eq!(s.agencies.len(), 300);
    for choice in [
        BehaviourChoice::Mixed,
        BehaviourChoice::parse("ra").unwrap(),
    ] {
        // `common::run` checks conservation of cases, money and staff on every tick.
        let a = common::run(&s, 3, choice, 12);
        let b = common::run(&s, 3, choice, 12);
        let w = &a.world;
        assert!(w.tally.run.arrivals > 0);
        assert_eq!(w.tally.run.arrivals, b.world.tally.run.arrivals);
        assert_eq!(w.tally.run.served, b.world.tally.run.served);
        for i in 0..w.n_agencies() {
            assert_eq!(w.reserves(i), b.world.reserves(i), "agency {i}");
        }
        // The mechanisms' member sets span the whole arena.
        for m in &w.mechanisms {
            assert_eq!(m.members.len(), 300);
            assert!(m.members.ones().all(|i| m.candidates.contains(&i)));
        }
    }
    // Bounded search on the same arena: contacts are drawn among 75 servers a dimension.
    let s = Scenario::from_toml_str_with(
        &big_arena(75),
        "big.toml",
        &[silos::overrides::Override::parse("search.mode=\"bounded\"").unwrap()],
    )
    .unwrap();
    let a = common::run(&s, 4, BehaviourChoice::Mixed, 12);
    assert!(a.world.tally.run.arrivals > 0);
}
