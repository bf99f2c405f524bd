//! Engine speed: one full run of the default scenario (120 monthly ticks, 23 agencies) under
//! each behaviour, reported as ticks per second. Run with `cargo bench --bench engine`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use silos::engine::{self, BehaviourChoice, NoObserver, Simulation};
use silos::scenario::Scenario;

fn run_default(c: &mut Criterion) {
    let s = Scenario::default_scenario();
    let mut bounded = s.clone();
    bounded.search.mode = silos::scenario::SearchMode::Bounded;
    let mut group = c.benchmark_group("default_scenario_run");
    group.throughput(Throughput::Elements(s.ticks as u64));
    // "ra-bounded": rational administration with bounded search (before the choice
    // architecture was unified, a family of its own).
    for (label, scen, choice) in [
        ("ra", &s, "ra"),
        ("ra-bounded", &bounded, "ra"),
        ("bp", &s, "bp"),
        ("mixed", &s, "mixed"),
    ] {
        let b = BehaviourChoice::parse(choice).unwrap();
        group.bench_function(label, |bench| {
            bench.iter(|| {
                let mut sim = Simulation::new(scen, 20090907, b);
                engine::run(&mut sim, scen.ticks, &mut NoObserver).unwrap();
                std::hint::black_box(sim.world.tally.run.need_met)
            })
        });
    }
    group.finish();
}

fn step_only(c: &mut Criterion) {
    let s = Scenario::default_scenario();
    let mut sim = Simulation::new(&s, 1, BehaviourChoice::Mixed);
    sim.step().unwrap();
    let mut group = c.benchmark_group("tick");
    group.throughput(Throughput::Elements(1));
    group.bench_function("mixed", |bench| bench.iter(|| sim.step().unwrap()));
    group.finish();
}

criterion_group!(benches, run_default, step_only);
criterion_main!(benches);
