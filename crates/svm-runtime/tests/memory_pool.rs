//! The linear-memory pool (`svm_runtime::memory_pool`): a memory reused
//! from an earlier instance starts zeroed, at its declared size, with
//! out-of-bounds traps and `memory.grow` limits as on a fresh memory,
//! whether the earlier instance grew it a little (zeroed by `memset`) or
//! past the resident part (zeroed by the kernel), and under threads.
//!
//! One process per test file: the pool is process-wide, so the tests here
//! run in one `#[test]` to know which regions they get back.
#![cfg(target_os = "linux")]

use svm_runtime::RuntimeConfig;
use svm_runtime::memory_pool::{KEEP_RESIDENT, pooled_regions};
use wasmer::{Instance, Module, Store, TypedFunction, imports};
use wasmer_middlewares::metering::set_remaining_points;

const WAT: &str = r#"(module
  (memory (export "memory") 1 16)
  (func (export "size") (result i32) (memory.size))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "load") (param i32) (result i64) (i64.load (local.get 0)))
  (func (export "store") (param i32 i64) (i64.store (local.get 0) (local.get 1))))"#;

struct Inst {
    store: Store,
    size: TypedFunction<(), i32>,
    grow: TypedFunction<i32, i32>,
    load: TypedFunction<i32, i64>,
    store_fn: TypedFunction<(i32, i64), ()>,
}

fn instantiate(engine: &wasmer::Engine, module: &Module) -> Inst {
    let mut store = Store::new(engine.clone());
    let instance = Instance::new(&mut store, module, &imports! {}).unwrap();
    set_remaining_points(&mut store, &instance, u64::MAX / 2);
    let f = |name: &str| instance.exports.get_function(name).unwrap().clone();
    Inst {
        size: f("size").typed(&store).unwrap(),
        grow: f("grow").typed(&store).unwrap(),
        load: f("load").typed(&store).unwrap(),
        store_fn: f("store").typed(&store).unwrap(),
        store,
    }
}

impl Inst {
    fn size(&mut self) -> i32 {
        self.size.call(&mut self.store).unwrap()
    }
    fn grow(&mut self, pages: i32) -> i32 {
        self.grow.call(&mut self.store, pages).unwrap()
    }
    fn load(&mut self, at: i32) -> Result<i64, wasmer::RuntimeError> {
        self.load.call(&mut self.store, at)
    }
    fn put(&mut self, at: i32, v: i64) {
        self.store_fn.call(&mut self.store, at, v).unwrap()
    }
}

const PAGE: i32 = 65_536;

/// Dirties a memory: the first and last words of its first page, then
/// grows it to `pages` and writes the last word of the last page.
fn dirty(i: &mut Inst, pages: i32) {
    i.put(0, -1);
    i.put(PAGE - 8, 0x1234);
    assert_eq!(i.grow(pages - 1), 1);
    i.put(pages * PAGE - 8, 77);
    assert_eq!(i.size(), pages);
}

/// A memory as wasm promises a fresh one: declared size, zero, traps past
/// its end, grows to its maximum and no further.
fn assert_fresh(i: &mut Inst, probes: &[i32]) {
    assert_eq!(i.size(), 1, "memory.size of a reused memory");
    for &at in probes.iter().filter(|&&a| a < PAGE) {
        assert_eq!(i.load(at).unwrap(), 0, "byte {at} of a reused memory");
    }
    for &at in probes.iter().filter(|&&a| a >= PAGE) {
        assert!(i.load(at).is_err(), "load at {at}, past the memory, traps");
    }
    assert_eq!(i.grow(15), 1);
    for &at in probes {
        assert_eq!(i.load(at).unwrap(), 0, "byte {at} after growing");
    }
    assert_eq!(i.grow(1), -1, "the declared maximum of 16 pages holds");
    assert!(i.load(16 * PAGE - 7).is_err());
}

#[test]
fn reused_memories_are_fresh() {
    let code = wat::parse_str(WAT).unwrap();
    let (engine, module) = svm_runtime::compile_module(&code, &RuntimeConfig::default()).unwrap();

    // Grown a little (inside the resident part) and past it.
    let small = 3;
    let large = (KEEP_RESIDENT as i32 / PAGE) + 4;
    assert!(large <= 16);
    for pages in [small, large] {
        let mut a = instantiate(&engine, &module);
        dirty(&mut a, pages);
        drop(a);
        assert!(
            pooled_regions() >= 1,
            "a dropped instance gives its region back"
        );
        let before = pooled_regions();
        let mut b = instantiate(&engine, &module);
        assert_eq!(pooled_regions(), before - 1, "the next instance takes it");
        assert_fresh(&mut b, &[0, PAGE - 8, pages * PAGE - 8, 2 * PAGE]);
        drop(b);
    }

    // Threads: each instance must start fresh whatever region it gets.
    std::thread::scope(|s| {
        for t in 0..4 {
            let (engine, module) = (&engine, &module);
            s.spawn(move || {
                for n in 0..100 {
                    let mut i = instantiate(engine, module);
                    assert_eq!(i.size(), 1);
                    assert_eq!(i.load(PAGE - 8).unwrap(), 0);
                    assert_eq!(i.load(8).unwrap(), 0);
                    let pages = 1 + (t + n) % 8;
                    i.put(8, 1 + t as i64);
                    i.put(PAGE - 8, n as i64 + 1);
                    if pages > 1 {
                        assert_eq!(i.grow(pages - 1), 1);
                        assert_eq!(i.load(pages * PAGE - 8).unwrap(), 0);
                        i.put(pages * PAGE - 8, -1);
                    }
                }
            });
        }
    });
    assert!(pooled_regions() <= svm_runtime::memory_pool::MAX_FREE);
}
