//! `cargo +nightly fuzz run plot`: the body is `silos::fuzzing::plot` (shared with
//! tests/fuzz_props.rs). Any panic, hang or runaway allocation is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = silos::fuzzing::plot(data);
});
