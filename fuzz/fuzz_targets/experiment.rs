//! `cargo +nightly fuzz run experiment`: the body is `silos::fuzzing::experiment` (shared
//! with tests/fuzz_props.rs), with relative scenario paths read from tests/fixtures/. Any
//! panic, hang or runaway allocation is a finding.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
    let _ = silos::fuzzing::experiment(data, &dir);
});
