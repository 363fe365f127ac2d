//! Criterion benchmarks of compilation, the module cache tiers and
//! metering.
//!
//! - `compile/hackatom/{singlepass,cranelift}`: compiling the real 296 kB
//!   CosmWasm contract `../shared/testdata/cosmwasm/hackatom.wasm` (the gate
//!   rejects it for its imports, so this times the compiler path directly:
//!   a fresh engine with the `Metering` middleware, as the runtime builds
//!   it). Skipped with a printed reason when `../shared` is absent;
//!   cranelift only with `--features cranelift`.
//! - `module_cache/{compile,disk_tier,memory_tier}`: getting a deployable
//!   module of 2 000 functions ready to run: compiled from scratch, loaded
//!   from the disk tier (a fresh runtime, artifact on disk), or found in
//!   the memory tier. Goals: disk ≥ 50× faster than compiling, memory
//!   ≥ 500× faster.
//! - `deploy/cached_2000_functions`: a deploy (a block of one) of that
//!   module when its compiled form is in the memory tier: the gas checks,
//!   the deploy gate over the 2 000 functions, and the block's commit of
//!   the code and contract record over MemKv.
//! - `metering/{int_loop,memory_loop,call_loop}/{metered,unmetered}`: three
//!   kernels (a tight integer loop, loads and stores over 1 MiB, a small
//!   function called 1 000 000 times) compiled by Singlepass as the runtime
//!   compiles them and with no middleware. Goal: at most 25% overhead each.
//!
//! Run: `cargo bench -p svm-runtime --bench compile [--features cranelift]`.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use svm_kv::MemKv;
use svm_runtime::{DeployTx, KvNodeHost, ModuleCacheConfig, Runtime, RuntimeConfig};
use svm_types::Address;
use wasmer::sys::{CompilerConfig, EngineBuilder, Singlepass};
use wasmer::{Engine, Instance, Module, Store, Value, imports};
use wasmer_middlewares::Metering;
use wasmer_middlewares::metering::set_remaining_points;

fn singlepass(metered: bool) -> Engine {
    let mut c = Singlepass::new();
    c.num_threads(NonZeroUsize::MIN);
    if metered {
        c.push_middleware(Arc::new(Metering::new(0, svm_runtime::gas::operator_cost)));
    }
    EngineBuilder::new(c).engine().into()
}

fn compile_hackatom(c: &mut Criterion) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/cosmwasm/hackatom.wasm");
    let Ok(code) = std::fs::read(&path) else {
        println!("skipped compile/hackatom: {} is absent", path.display());
        return;
    };
    let mut group = c.benchmark_group("compile/hackatom");
    group.sample_size(10);
    group.bench_function("singlepass", |b| {
        b.iter(|| black_box(Module::new(&singlepass(true), &code).unwrap()))
    });
    #[cfg(feature = "cranelift")]
    group.bench_function("cranelift", |b| {
        b.iter(|| {
            let mut c = wasmer::sys::Cranelift::new();
            c.num_threads(NonZeroUsize::MIN);
            c.push_middleware(Arc::new(Metering::new(0, svm_runtime::gas::operator_cost)));
            let engine: Engine = EngineBuilder::new(c).engine().into();
            black_box(Module::new(&engine, &code).unwrap())
        })
    });
    group.finish();
}

/// A gate-passing module of `n` functions, each a small integer loop.
fn big_module(n: usize) -> Vec<u8> {
    let mut wat = String::from("(module (memory (export \"memory\") 1)\n");
    for i in 0..n {
        wat.push_str(&format!(
            "(func $f{i} (param i64) (result i64) (local i64)
               (loop $l (local.set 1 (i64.add (local.get 1) (i64.mul (local.get 0) (i64.const {i}))))
                 (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
                 (br_if $l (i64.gt_s (local.get 0) (i64.const 0))))
               (local.get 1))\n"
        ));
    }
    wat.push_str("(export \"f0\" (func $f0)))");
    wat::parse_str(&wat).unwrap()
}

/// A runtime over a fresh `MemKv` holding `secret` (the module cache's MAC
/// key of another database, so that its disk artifacts load here), with
/// a disk tier in `dir`.
fn runtime(dir: Option<&std::path::Path>, secret: Option<&[u8]>) -> Runtime<Arc<MemKv>> {
    use svm_kv::KvStore;
    let kv = Arc::new(MemKv::new());
    if let Some(s) = secret {
        kv.put(svm_runtime::MODULE_SECRET_KEY, s).unwrap();
    }
    let config = RuntimeConfig {
        module_cache: ModuleCacheConfig {
            memory_bytes: 256 << 20,
            disk_dir: dir.map(|d| d.to_path_buf()),
        },
        ..RuntimeConfig::default()
    };
    Runtime::new(kv.clone(), Arc::new(KvNodeHost::new(kv)), config)
}

fn module_cache(c: &mut Criterion) {
    let code = big_module(2_000);
    let deploy = |rt: &Runtime<Arc<MemKv>>| {
        rt.deploy(&DeployTx {
            author: Address([1; 20]),
            nonce: 0,
            name: "big".into(),
            gas_limit: RuntimeConfig::default().max_tx_gas,
            code: code.clone(),
        })
        .unwrap()
        .code_hash
    };
    let mut group = c.benchmark_group("module_cache");
    group.sample_size(10);
    // As the runtime compiles it: re-encoding check, Metering, bulk gas,
    // the stack limit.
    group.bench_function("compile", |b| {
        b.iter(|| black_box(svm_runtime::compile_module(&code, &RuntimeConfig::default()).unwrap()))
    });
    let dir = tempfile::tempdir().unwrap();
    let warm = runtime(Some(dir.path()), None);
    let hash = deploy(&warm);
    let secret = {
        use svm_kv::KvStore;
        warm.kv()
            .get(svm_runtime::MODULE_SECRET_KEY)
            .unwrap()
            .unwrap()
    };
    // A fresh runtime over a KV holding the same code: only the disk tier.
    group.bench_function("disk_tier", |b| {
        b.iter_batched(
            || {
                let rt = runtime(Some(dir.path()), Some(&secret));
                deploy_without_compile(&rt, &code);
                rt
            },
            |rt| {
                rt.warm(&hash).unwrap();
                assert_eq!(rt.module_cache_stats().disk_hits, 1);
                rt
            },
            BatchSize::PerIteration,
        )
    });
    group.sample_size(50);
    group.bench_function("memory_tier", |b| {
        b.iter(|| warm.warm(black_box(&hash)).unwrap())
    });
    group.finish();

    // Each deploy at a new nonce, so at a new address.
    let mut group = c.benchmark_group("deploy");
    group.sample_size(20);
    let mut nonce = 1;
    group.bench_function("cached_2000_functions", |b| {
        b.iter(|| {
            nonce += 1;
            warm.deploy(&DeployTx {
                author: Address([1; 20]),
                nonce,
                name: "big".into(),
                gas_limit: RuntimeConfig::default().max_tx_gas,
                code: code.clone(),
            })
            .unwrap()
        })
    });
    group.finish();
}

/// Stores the code and record without compiling (the disk tier has it).
fn deploy_without_compile(rt: &Runtime<Arc<MemKv>>, code: &[u8]) {
    use svm_kv::KvStore;
    let hash = svm_runtime::contracts::code_hash(code);
    rt.kv()
        .put(&svm_runtime::contracts::code_key(&hash), code)
        .unwrap();
}

/// The three metering kernels: each exports `run(n: i64) -> i64`.
const KERNELS: &[(&str, &str, i64)] = &[
    // A tight integer loop: 1 000 000 iterations of add, xor, sub, compare.
    (
        "int_loop",
        r#"(module (memory (export "memory") 1)
             (func (export "run") (param i64) (result i64) (local i64)
               (loop $l (local.set 1 (i64.add (local.get 1) (i64.xor (local.get 0) (i64.const 7))))
                 (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
                 (br_if $l (i64.gt_s (local.get 0) (i64.const 0))))
               (local.get 1)))"#,
        1_000_000,
    ),
    // Loads and stores over 1 MiB: n passes of 131 072 words, each loaded,
    // incremented and stored back.
    (
        "memory_loop",
        r#"(module (memory (export "memory") 17)
             (func (export "run") (param i64) (result i64) (local i32)
               (loop $pass
                 (local.set 1 (i32.const 0))
                 (loop $word
                   (i64.store (local.get 1) (i64.add (i64.load (local.get 1)) (i64.const 3)))
                   (local.set 1 (i32.add (local.get 1) (i32.const 8)))
                   (br_if $word (i32.lt_u (local.get 1) (i32.const 1048576))))
                 (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
                 (br_if $pass (i64.gt_s (local.get 0) (i64.const 0))))
               (i64.load (i32.const 8))))"#,
        8,
    ),
    // A small function called 1 000 000 times.
    (
        "call_loop",
        r#"(module (memory (export "memory") 1)
             (func $step (param i64 i64) (result i64)
               (i64.add (i64.mul (local.get 0) (i64.const 3)) (local.get 1)))
             (func (export "run") (param i64) (result i64) (local i64)
               (loop $l (local.set 1 (call $step (local.get 1) (local.get 0)))
                 (local.set 0 (i64.sub (local.get 0) (i64.const 1)))
                 (br_if $l (i64.gt_s (local.get 0) (i64.const 0))))
               (local.get 1)))"#,
        1_000_000,
    ),
];

/// `metering/<kernel>/{metered,unmetered}`: each kernel compiled by
/// Singlepass exactly as the runtime compiles it (`Metering`, bulk gas and
/// the stack limit: [`svm_runtime::compile_module`]) and with no middleware
/// at all. Goal: metered at most 1.25 × unmetered.
fn metering(c: &mut Criterion) {
    for (kernel, wat, n) in KERNELS {
        let code = wat::parse_str(wat).unwrap();
        let mut group = c.benchmark_group(format!("metering/{kernel}"));
        group.sample_size(20);
        for (name, metered) in [("metered", true), ("unmetered", false)] {
            let (engine, module) = if metered {
                svm_runtime::compile_module(&code, &RuntimeConfig::default()).unwrap()
            } else {
                let engine = singlepass(false);
                let module = Module::new(&engine, &code).unwrap();
                (engine, module)
            };
            let mut store = Store::new(engine);
            let instance = Instance::new(&mut store, &module, &imports! {}).unwrap();
            let run = instance.exports.get_function("run").unwrap().clone();
            group.bench_function(name, |b| {
                b.iter(|| {
                    if metered {
                        set_remaining_points(&mut store, &instance, u64::MAX);
                    }
                    black_box(run.call(&mut store, &[Value::I64(*n)]).unwrap())
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(3));
    targets = compile_hackatom, module_cache, metering
}
criterion_main!(benches);
