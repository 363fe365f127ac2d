//! Criterion benchmarks of the runtime.
//!
//! - `runtime/noop_call`: the fixed cost of `Runtime::call` on a no-op
//!   function with a warm compiled module and no storage access (record
//!   lookup, page cache open, store, import object, instantiate, metering
//!   setup, call, empty commit), beside `runtime/raw_wasmer_noop`: raw wasmer
//!   `Store::new` + `Instance::new` + a call of the same module, compiled the
//!   same way (Singlepass with the same `Metering` middleware), with no
//!   imports. Goal: at most 2× raw.
//! - `runtime/coin_transfer/{memkv,rocksdb}`: one transfer of the C coin
//!   contract end to end (decode-free `CallTx`, balances, one dirty page,
//!   commit).
//!
//! - `block/coin_transfers_1000/{memkv,rocksdb}`: a block of 1,000
//!   transfers through `Runtime::execute_block` (one batch); the
//!   per-transfer cost is the time / 1,000 (criterion's elements/s).
//! - `block/noop_1000`: a block of 1,000 no-op calls, the same way.
//!
//! - `inner/calls_0` and `inner/calls_100`: one transaction whose contract
//!   makes 0 or 100 contract-to-contract calls (`svm.call`) of the no-op
//!   contract in a loop. The cost an inner no-op call adds is
//!   `(calls_100 − calls_0) / 100`; goal: at most 1.5× `runtime/noop_call`.
//!
//! - `runtime/token_transfer/memkv`: one transfer of `contracts/token`
//!   (Rust, svm-sdk) between 1,000 minted accounts: two map reads, two map
//!   writes, one event, beside `runtime/coin_transfer/memkv`; goal: at most
//!   2× the coin transfer. `block/token_transfers_1000/memkv` does the same
//!   in blocks of 1,000, beside `block/coin_transfers_1000/memkv`.
//!
//! Run: `cargo bench --workspace --all-features --locked --bench runtime`.

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use svm_kv::{KvStore, MemKv, RocksKv};
use svm_runtime::{CallTx, DeployTx, KvNodeHost, Runtime, RuntimeConfig, StateRef, Tx, WasmValue};
use svm_types::Address;
use wasmer::sys::{CompilerConfig, EngineBuilder, Singlepass};
use wasmer::{Engine, Instance, Module, Store, imports};
use wasmer_middlewares::Metering;

const NOOP: &str = r#"(module (memory (export "memory") 1) (func (export "noop")))"#;
const COIN: &[u8] = include_bytes!("../../../contracts/coin/coin.wasm");
const TOKEN: &[u8] = include_bytes!("../../../contracts/token/token.wasm");

fn deploy<K: KvStore + 'static>(rt: &Runtime<K>, code: Vec<u8>) -> Address {
    rt.deploy(&DeployTx {
        author: Address([1; 20]),
        nonce: 0,
        name: "bench".into(),
        gas_limit: 10_000_000,
        code,
    })
    .unwrap()
    .address
}

fn tx(contract: Address, function: &str, args: Vec<WasmValue>) -> CallTx {
    CallTx {
        value: 0,
        contract,
        sender: Address([2; 20]),
        function: function.into(),
        args,
        calldata: vec![],
        gas_limit: 1_000_000,
        state: StateRef::Latest,
    }
}

fn noop(c: &mut Criterion) {
    let mut group = c.benchmark_group("runtime");
    let kv = Arc::new(MemKv::new());
    let rt = Runtime::new(
        kv.clone(),
        Arc::new(KvNodeHost::new(kv)),
        RuntimeConfig::default(),
    );
    let code = wat::parse_str(NOOP).unwrap();
    let addr = deploy(&rt, code.clone());
    let t = tx(addr, "noop", vec![]);
    assert!(rt.call(&t).success);
    group.bench_function("noop_call", |b| b.iter(|| black_box(rt.call(&t))));

    let mut compiler = Singlepass::new();
    compiler.num_threads(NonZeroUsize::MIN);
    compiler.push_middleware(Arc::new(Metering::new(
        1_000_000,
        svm_runtime::gas::operator_cost,
    )));
    let engine: Engine = EngineBuilder::new(compiler).engine().into();
    let module = Module::new(&engine, &code).unwrap();
    group.bench_function("raw_wasmer_noop", |b| {
        b.iter(|| {
            let mut store = Store::new(engine.clone());
            let instance = Instance::new(&mut store, &module, &imports! {}).unwrap();
            let f = instance.exports.get_function("noop").unwrap();
            black_box(f.call(&mut store, &[]).unwrap())
        })
    });
    group.finish();
}

/// Calls function `noop` of the contract whose address is the call data,
/// `n` times.
const INNER_CALLER: &str = r#"(module
  (import "svm" "calldata_copy" (func $cdcopy (param i32 i32 i32)))
  (import "svm" "mem_to_reg_copy" (func $m2r (param i32 i32 i32 i32 i32)))
  (import "svm" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "noop")
  (func (export "run") (param $n i32)
    (call $cdcopy (i32.const 0) (i32.const 0) (i32.const 20))
    (call $m2r (i32.const 0) (i32.const 0) (i32.const 20) (i32.const 160) (i32.const 0))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (if (call $call (i32.const 160) (i32.const 0) (i32.const 100) (i32.const 4)
              (i32.const 0) (i32.const 0) (i64.const 100000) (i64.const 0))
          (then unreachable))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))))"#;

fn inner(c: &mut Criterion) {
    let kv = Arc::new(MemKv::new());
    let rt = Runtime::new(
        kv.clone(),
        Arc::new(KvNodeHost::new(kv)),
        RuntimeConfig::default(),
    );
    let callee = deploy(&rt, wat::parse_str(NOOP).unwrap());
    let caller = rt
        .deploy(&DeployTx {
            author: Address([1; 20]),
            nonce: 1,
            name: "caller".into(),
            gas_limit: 10_000_000,
            code: wat::parse_str(INNER_CALLER).unwrap(),
        })
        .unwrap()
        .address;
    let mut group = c.benchmark_group("inner");
    for n in [0, 100] {
        let t = CallTx {
            calldata: callee.0.to_vec(),
            gas_limit: 100_000_000,
            ..tx(caller, "run", vec![WasmValue::I32(n)])
        };
        let r = rt.call(&t);
        assert!(r.success && r.calls.len() == n as usize, "{:?}", r.error);
        group.bench_function(format!("calls_{n}"), |b| b.iter(|| black_box(rt.call(&t))));
    }
    group.finish();
}

fn coin_on<K: KvStore + Clone + 'static>(c: &mut Criterion, name: &str, kv: K) {
    let node = Arc::new(KvNodeHost::new(kv.clone()));
    let rt = Runtime::new(kv, node.clone(), RuntimeConfig::default());
    let coin = deploy(&rt, COIN.to_vec());
    let accounts: Vec<Address> = (0..100u8).map(|i| Address([i; 20])).collect();
    for a in &accounts {
        node.set_balance(a, 1 << 40).unwrap();
    }
    let mut i = 0usize;
    c.bench_function(&format!("runtime/coin_transfer/{name}"), |b| {
        b.iter(|| {
            i += 1;
            let mut t = tx(coin, "transfer", vec![WasmValue::I64(1)]);
            t.value = 1;
            t.sender = accounts[i % 100];
            t.calldata = accounts[(i * 7 + 1) % 100].as_bytes().to_vec();
            let r = rt.call(&t);
            debug_assert!(r.success);
            black_box(r)
        })
    });
}

fn block_on<K: KvStore + Clone + 'static>(c: &mut Criterion, name: &str, kv: K) {
    let node = Arc::new(KvNodeHost::new(kv.clone()));
    let rt = Runtime::new(kv, node.clone(), RuntimeConfig::default());
    let coin = deploy(&rt, COIN.to_vec());
    let accounts: Vec<Address> = (0..1000u32)
        .map(|i| {
            let mut a = [0u8; 20];
            a[..4].copy_from_slice(&i.to_be_bytes());
            Address(a)
        })
        .collect();
    for a in &accounts {
        node.set_balance(a, 1 << 40).unwrap();
    }
    let mut group = c.benchmark_group("block");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(10);
    let mut i = 0usize;
    group.bench_function(format!("coin_transfers_1000/{name}"), |b| {
        b.iter_batched(
            || {
                (0..1000)
                    .map(|_| {
                        i += 1;
                        let mut t = tx(coin, "transfer", vec![WasmValue::I64(1)]);
                        t.value = 1;
                        t.sender = accounts[i % 1000];
                        t.calldata = accounts[(i * 7 + 1) % 1000].as_bytes().to_vec();
                        Tx::Call(t)
                    })
                    .collect::<Vec<_>>()
            },
            |txs| black_box(rt.execute_block(&txs).unwrap()),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn block(c: &mut Criterion) {
    let kv = Arc::new(MemKv::new());
    let rt = Runtime::new(
        kv.clone(),
        Arc::new(KvNodeHost::new(kv)),
        RuntimeConfig::default(),
    );
    let addr = deploy(&rt, wat::parse_str(NOOP).unwrap());
    let txs: Vec<Tx> = (0..1000)
        .map(|_| Tx::Call(tx(addr, "noop", vec![])))
        .collect();
    let mut group = c.benchmark_group("block");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(10);
    group.bench_function("noop_1000", |b| {
        b.iter(|| black_box(rt.execute_block(&txs).unwrap()))
    });
    group.finish();
    block_on(c, "memkv", Arc::new(MemKv::new()));
    let dir = tempfile::tempdir().unwrap();
    block_on(
        c,
        "rocksdb",
        Arc::new(RocksKv::open(dir.path().join("db")).unwrap()),
    );
}

fn coin(c: &mut Criterion) {
    coin_on(c, "memkv", Arc::new(MemKv::new()));
    let dir = tempfile::tempdir().unwrap();
    coin_on(
        c,
        "rocksdb",
        Arc::new(RocksKv::open(dir.path().join("db")).unwrap()),
    );
}

/// A token with 1,000 accounts of 10^12 tokens each; the runtime, the
/// token and the accounts.
fn token_setup() -> (Runtime<Arc<MemKv>>, Address, Vec<Address>) {
    let kv = Arc::new(MemKv::new());
    let rt = Runtime::new(
        kv.clone(),
        Arc::new(KvNodeHost::new(kv)),
        RuntimeConfig::default(),
    );
    let token = deploy(&rt, TOKEN.to_vec());
    let minter = Address([2; 20]);
    let init = CallTx {
        calldata: 0u64.to_be_bytes().to_vec(),
        ..tx(token, "init", vec![])
    };
    assert!(rt.call(&init).success);
    let accounts: Vec<Address> = (0..1000u32)
        .map(|i| {
            let mut a = [0u8; 20];
            a[..4].copy_from_slice(&i.to_be_bytes());
            a[19] = 0x70;
            Address(a)
        })
        .collect();
    let mut mint = Vec::new();
    for a in &accounts {
        mint.extend_from_slice(a.as_bytes());
        mint.extend_from_slice(&(1u64 << 40).to_be_bytes());
    }
    let r = rt.call(&CallTx {
        sender: minter,
        calldata: mint,
        gas_limit: 100_000_000,
        ..tx(token, "mint", vec![])
    });
    assert!(r.success, "{:?}", r.error);
    (rt, token, accounts)
}

fn token_transfer(token: Address, from: Address, to: Address) -> CallTx {
    let mut calldata = to.as_bytes().to_vec();
    calldata.extend_from_slice(&1u64.to_be_bytes());
    CallTx {
        sender: from,
        calldata,
        ..tx(token, "transfer", vec![])
    }
}

fn token(c: &mut Criterion) {
    let (rt, token, accounts) = token_setup();
    let mut i = 0usize;
    c.bench_function("runtime/token_transfer/memkv", |b| {
        b.iter(|| {
            i += 1;
            let t = token_transfer(token, accounts[i % 1000], accounts[(i * 7 + 1) % 1000]);
            let r = rt.call(&t);
            debug_assert!(r.success);
            black_box(r)
        })
    });
    let mut group = c.benchmark_group("block");
    group.throughput(Throughput::Elements(1000));
    group.sample_size(10);
    group.bench_function("token_transfers_1000/memkv", |b| {
        b.iter_batched(
            || {
                (0..1000)
                    .map(|_| {
                        i += 1;
                        Tx::Call(token_transfer(
                            token,
                            accounts[i % 1000],
                            accounts[(i * 7 + 1) % 1000],
                        ))
                    })
                    .collect::<Vec<_>>()
            },
            |txs| black_box(rt.execute_block(&txs).unwrap()),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3));
    targets = noop, coin, block, inner, token
}
criterion_main!(benches);
