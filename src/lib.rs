//! silos: an agent-based simulator of bureaucratic politics in joined-up government.
//!
//! Scenario file -> validated [`scenario::Scenario`] -> [`engine::Simulation`] (a
//! [`model::World`] stepped tick by tick, each agency deciding through a
//! [`behaviour::Behaviour`]) -> observables ([`metrics`]) -> tidy CSV ([`output`]).
//! `ARCHITECTURE.md` gives the map and the invariants; `docs/ODD.md` the model.
//!
//! A run from Rust, in a few lines:
//!
//! ```
//! use silos::engine::{self, BehaviourChoice, NoObserver, Simulation};
//! use silos::scenario::{Family, Scenario};
//!
//! let scenario = Scenario::default_scenario();
//! let mut sim = Simulation::new(&scenario, 42, BehaviourChoice::All(Family::Bp));
//! engine::run(&mut sim, 12, &mut NoObserver).unwrap(); // checks conservation every tick
//! let run = &sim.world.tally.run;
//! assert_eq!(run.served + run.partly_served + run.fell_through, run.arrivals);
//! println!("need met: {:.1}%", 100.0 * run.share_met());
//! ```

// The model is data-oriented: several parallel index-addressed vectors are read in one
// loop, where an index loop is clearer than zipped iterators.
#![allow(clippy::needless_range_loop)]

pub mod api;
pub mod behaviour;
pub mod engine;
pub mod error;
pub mod fuzzing;
pub mod levers;
pub mod limits;
pub mod metrics;
pub mod model;
pub mod names;
pub mod national;
pub mod outdir;
pub mod output;
pub mod overrides;
pub mod params;
pub mod patterns;
#[cfg(feature = "plots")]
pub mod plot;
pub mod resolve;
pub mod rng;
pub mod scenario;
#[cfg(feature = "serve")]
pub mod serve;
pub mod sweep;
pub mod tally;
pub mod teach;
pub mod validate;
