//! `cargo +nightly fuzz run engine`: the body is `silos::fuzzing::engine` (shared with
//! tests/fuzz_props.rs). A scenario that `silos check` accepts but whose first ticks fail
//! (a broken invariant) is a finding, as is any panic, hang or runaway allocation.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = silos::fuzzing::engine(data) {
        // Refusals are fine; the run's own errors are not.
        if e.starts_with("run: ") || e.starts_with("national run: ") {
            panic!("accepted by check, failed to run: {e}");
        }
    }
});
