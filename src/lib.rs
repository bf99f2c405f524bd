//! silos: an agent-based simulator of bureaucratic politics in joined-up government.
//!
//! Scenario file -> validated [`scenario::Scenario`] -> [`engine::Simulation`] (a
//! [`model::World`] stepped tick by tick, each agency deciding through a
//! [`behaviour::Behaviour`]) -> observables ([`metrics`]) -> tidy CSV ([`output`]).
//! `ARCHITECTURE.md` gives the map and the invariants; `docs/ODD.md` the model.

pub mod behaviour;
pub mod engine;
pub mod error;
pub mod metrics;
pub mod model;
pub mod output;
pub mod rng;
pub mod scenario;
pub mod tally;
