//! Experiments: thousands of seeded runs in parallel, paired comparisons of arms, summaries
//! with intervals, resumable and shardable (`docs/experiments.md`, `docs/scaling.md`).

pub mod exec;
pub mod experiment;
pub mod merge;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod run;
pub mod stats;

pub use exec::{SweepError, SweepOptions, SweepReport, run_sweep};
pub use experiment::{Experiment, ExperimentError, RunRef};
