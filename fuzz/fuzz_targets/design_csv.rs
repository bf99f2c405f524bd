//! `cargo +nightly fuzz run design_csv`: the body is `silos::fuzzing::design_csv` (shared with
//! tests/fuzz_props.rs). Any panic, hang or runaway allocation is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = silos::fuzzing::design_csv(data);
});
