//! Engine speed: one full run of the default scenario (120 monthly ticks, 23 agencies) under
//! each behaviour, reported as ticks per second; one tick of it; and a national run
//! (`scenarios/national.toml` cut to 10 localities, 24 ticks) at 1 and 2 threads, reported as
//! cases per second, whose ratio is the speed-up of stepping localities in parallel. Run with
//! `cargo bench --bench engine`. `national_scaling_12_ticks` times 10, 100 and 300
//! localities (12 ticks, all cores) for the scaling exponent.

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

fn national(c: &mut Criterion) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/national.toml"
    ))
    .unwrap();
    let o = silos::overrides::Override::parse("localities.count=10").unwrap();
    let s = Scenario::from_toml_str_with(&text, "national.toml", &[o]).unwrap();
    let ticks = 24;
    // Cases per run, for the throughput: the same at any thread count.
    let cases: u64 = {
        let mut n = silos::national::National::new(&s, 1, BehaviourChoice::Mixed);
        for _ in 0..ticks {
            n.step().unwrap();
        }
        n.localities
            .iter()
            .map(|l| l.world.tally.run.arrivals)
            .sum()
    };
    let mut group = c.benchmark_group("national_10_localities_24_ticks");
    group.sample_size(10);
    group.throughput(Throughput::Elements(cases));
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        group.bench_function(format!("{threads}_threads"), |bench| {
            bench.iter(|| {
                pool.install(|| {
                    let mut n = silos::national::National::new(&s, 1, BehaviourChoice::Mixed);
                    for _ in 0..ticks {
                        n.step().unwrap();
                    }
                    std::hint::black_box(n.tick)
                })
            })
        });
    }
    group.finish();
}

/// Scaling: 10, 100 and 300 localities of `scenarios/national.toml`, 12 ticks, on the
/// default rayon pool; the fitted exponent of time on localities goes in the issue note.
fn national_scaling(c: &mut Criterion) {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/national.toml"
    ))
    .unwrap();
    let mut group = c.benchmark_group("national_scaling_12_ticks");
    group.sample_size(10);
    for count in [10u32, 100, 300] {
        let o = silos::overrides::Override::parse(&format!("localities.count={count}")).unwrap();
        let s = Scenario::from_toml_str_with(&text, "national.toml", &[o]).unwrap();
        group.throughput(Throughput::Elements(count as u64));
        group.bench_function(format!("{count}_localities"), |bench| {
            bench.iter(|| {
                let mut n = silos::national::National::new(&s, 1, BehaviourChoice::Mixed);
                for _ in 0..12 {
                    n.step().unwrap();
                }
                std::hint::black_box(n.tick)
            })
        });
    }
    group.finish();
}

/// A classroom class: the free-riding lesson played to the end by ten towns of six seats
/// (60 students, every seat ordering each round), beside the all-RA and all-BP arms: what
/// the server runs when rounds close. Files go to a temporary folder.
fn class_rounds(c: &mut Criterion) {
    use silos::scenario::Family;
    use silos::teach::class::{Class, ClassOptions, OrdersInput, RouteInput};
    let mut g = c.benchmark_group("class_free_riding_6_rounds");
    g.sample_size(10);
    g.bench_function("10_towns_60_students", |b| {
        b.iter(|| {
            let dir = tempfile::tempdir().unwrap();
            let mut class = Class::new(&ClassOptions {
                lesson: "free-riding".into(),
                seed: None,
                ticks: None,
                bot: Family::Bp,
                seats: None,
                overrides: Vec::new(),
                out_dir: dir.path().to_path_buf(),
            })
            .unwrap();
            for _ in 0..10 {
                class.add_town().unwrap();
            }
            let seats = class.seats().to_vec();
            for t in 0..10 {
                for &i in &seats {
                    class.sit(t, i, "student").unwrap();
                }
            }
            while !class.done() {
                for t in 0..10 {
                    for (k, &i) in seats.iter().enumerate() {
                        let mut o = OrdersInput::default();
                        let route = if (t + k) % 2 == 0 { "keep" } else { "bot" };
                        o.triage
                            .insert("rough_sleepers".into(), RouteInput::Word(route.into()));
                        class.submit(t, i, &o).unwrap();
                    }
                }
                class.play_round().unwrap();
            }
            class.finish().unwrap();
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    run_default,
    step_only,
    national,
    national_scaling,
    class_rounds
);
criterion_main!(benches);
