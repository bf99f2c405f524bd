//! The per-tick loop allocates nothing once a run is built: buffers are sized at build time
//! and reused. Checked with a counting global allocator (this test binary only).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use silos::engine::{BehaviourChoice, Simulation};
use silos::scenario::Scenario;

struct Counting;

// Counted per thread, so the test harness's own threads do not disturb the count.
thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count() -> usize {
    ALLOCS.with(|c| c.get())
}

fn bump() {
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn stepping_allocates_nothing() {
    let s = Scenario::default_scenario();
    for choice in ["ra", "bp", "mixed"] {
        let start = count();
        let mut sim = Simulation::new(&s, 11, BehaviourChoice::parse(choice).unwrap());
        sim.step().unwrap();
        assert!(
            count() > start,
            "the counter counts (building a run allocates)"
        );
        let before = count();
        for _ in 0..60 {
            sim.step().unwrap();
        }
        let after = count();
        assert_eq!(
            after - before,
            0,
            "{choice}: {} allocations in 60 ticks",
            after - before
        );
    }
}
