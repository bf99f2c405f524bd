//! Sweep throughput (runs per second) at 1 and 2 threads: 16 runs (4 behaviour arms x 4
//! replicates) of the default scenario for 60 ticks, written to a fresh directory each time.
//! Run with `cargo bench --bench sweep`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use silos::sweep::{Experiment, SweepOptions, run_sweep};

const EXPERIMENT: &str = r#"
[experiment]
name = "bench"
scenario = "default"
replicates = 4
master_seed = 1
ticks = 60

[[arms]]
name = "ra"
behaviour = "ra"
[[arms]]
name = "ra-bounded"
behaviour = "ra"
set = { "search.mode" = "bounded" }
[[arms]]
name = "bp"
behaviour = "bp"
[[arms]]
name = "mixed"
behaviour = "mixed"
"#;

fn sweep_throughput(c: &mut Criterion) {
    let exp = Experiment::from_str_in(EXPERIMENT, "bench.toml", std::path::Path::new("."), false)
        .unwrap();
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    group.throughput(Throughput::Elements(exp.n_runs()));
    for threads in [1usize, 2] {
        group.bench_function(format!("{threads}_threads"), |b| {
            b.iter(|| {
                let dir = tempfile::tempdir().unwrap();
                let opts = SweepOptions {
                    out: dir.path().to_path_buf(),
                    threads: Some(threads),
                    shard: None,
                    progress: false,
                    fail_runs: Vec::new(),
                };
                run_sweep(&exp, &opts).unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sweep_throughput);
criterion_main!(benches);
