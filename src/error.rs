//! Error types of the library. `anyhow` is used only in the binary.

use thiserror::Error;

/// Anything wrong with a scenario file. Every variant names the file; `Invalid` also names
/// the field path (as written in the file), the value found and what is allowed there.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario: {message}")]
    Io { file: String, message: String },
    #[error("{file}: {message}")]
    Parse { file: String, message: String },
    #[error("{file}: field `{field}` has value {value}; allowed: {allowed}")]
    Invalid {
        file: String,
        field: String,
        value: String,
        allowed: String,
    },
}

/// A broken model invariant (case or money conservation). Seeing one is a bug in silos.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum InvariantError {
    #[error("tick {tick}: case accounting broken: {detail}")]
    Cases { tick: u32, detail: String },
    #[error("tick {tick}: money accounting broken: {detail}")]
    Money { tick: u32, detail: String },
    #[error("tick {tick}: staff-time accounting broken for agency {agency}: {detail}")]
    Staff {
        tick: u32,
        agency: String,
        detail: String,
    },
}
