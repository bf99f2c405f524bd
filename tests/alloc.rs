//! The per-tick loop allocates nothing once a run is built: buffers are sized at build time
//! and reused. Checked with a counting global allocator (this test binary only).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use silos::engine::{BehaviourChoice, Simulation};
use silos::scenario::Scenario;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn stepping_allocates_nothing() {
    let s = Scenario::default_scenario();
    for choice in ["ra", "ra-bounded", "bp", "mixed"] {
        let start = ALLOCS.load(Ordering::Relaxed);
        let mut sim = Simulation::new(&s, 11, BehaviourChoice::parse(choice).unwrap());
        sim.step().unwrap();
        assert!(
            ALLOCS.load(Ordering::Relaxed) > start,
            "the counter counts (building a run allocates)"
        );
        let before = ALLOCS.load(Ordering::Relaxed);
        for _ in 0..60 {
            sim.step().unwrap();
        }
        let after = ALLOCS.load(Ordering::Relaxed);
        assert_eq!(
            after - before,
            0,
            "{choice}: {} allocations in 60 ticks",
            after - before
        );
    }
}
