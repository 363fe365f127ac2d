//! The compiled-module cache: tiers, keys, corruption, and identical gas
//! under both compilers.

mod common;

use std::sync::Arc;

use common::*;
use svm_kv::MemKv;
use svm_runtime::{KvNodeHost, ModuleCacheConfig, Runtime, RuntimeConfig, WasmValue};

const COUNTER: &str = include_str!("../../../contracts/counter/counter.wat");

fn with_disk(dir: &std::path::Path, kv: Arc<MemKv>) -> Runtime<Arc<MemKv>> {
    let config = RuntimeConfig {
        module_cache: ModuleCacheConfig {
            memory_bytes: 64 << 20,
            disk_dir: Some(dir.to_path_buf()),
        },
        ..RuntimeConfig::default()
    };
    Runtime::new(kv.clone(), Arc::new(KvNodeHost::new(kv)), config)
}

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn deploy_precompiles_then_memory_then_disk_tier() {
    let dir = tempfile::tempdir().unwrap();
    let kv = Arc::new(MemKv::new());
    let rt = with_disk(dir.path(), kv.clone());
    let c = deploy_wat(&rt, COUNTER, 0).address;
    let s = rt.module_cache_stats();
    // Compiled once before the block takes the writers' lock, found in
    // memory inside it.
    assert_eq!((s.misses, s.memory_hits, s.disk_hits), (1, 1, 0));
    assert!(s.compile_time > std::time::Duration::ZERO);
    assert_eq!(files(dir.path()).len(), 1, "deploy wrote the artifact");

    assert!(call(&rt, c, "add", vec![WasmValue::I64(2)]).success);
    let after = rt.module_cache_stats();
    assert_eq!((after.misses, after.disk_hits), (1, 0));
    assert!(after.memory_hits > s.memory_hits);

    // A new runtime over the same KV and directory loads from disk.
    let rt2 = with_disk(dir.path(), kv.clone());
    let r = call(&rt2, c, "add", vec![WasmValue::I64(3)]);
    assert_eq!(r.returns, vec![WasmValue::I64(5)]);
    let s = rt2.module_cache_stats();
    assert_eq!((s.misses, s.disk_hits), (0, 1));
}

#[test]
fn a_corrupt_or_truncated_artifact_is_deleted_and_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let kv = Arc::new(MemKv::new());
    let c = deploy_wat(&with_disk(dir.path(), kv.clone()), COUNTER, 0).address;
    let path = files(dir.path()).pop().unwrap();
    let good = std::fs::read(&path).unwrap();
    for bad in [
        {
            let mut b = good.clone();
            let n = b.len();
            b[n / 2] ^= 0xff; // flipped machine code
            b
        },
        good[..good.len() / 3].to_vec(), // truncated
        b"SVMMOD03".to_vec(),            // header only
        {
            let mut b = good.clone();
            b[50] ^= 1; // the module summary, under the MAC
            b
        },
        {
            let mut b = good.clone();
            b[71] ^= 1; // the reuse flag, under the MAC
            b
        },
    ] {
        std::fs::write(&path, &bad).unwrap();
        let rt = with_disk(dir.path(), kv.clone());
        let r = call(&rt, c, "get", vec![]);
        assert!(r.success, "{:?}", r.error);
        let s = rt.module_cache_stats();
        assert_eq!((s.disk_corrupt, s.misses, s.disk_hits), (1, 1, 0));
        assert_eq!(
            std::fs::read(&path).unwrap(),
            good,
            "rewritten after recompiling"
        );
    }
}

#[test]
fn an_artifact_copied_under_another_modules_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let kv = Arc::new(MemKv::new());
    let rt = with_disk(dir.path(), kv.clone());
    let counter = deploy_wat(&rt, COUNTER, 0).address;
    let before = files(dir.path());
    let other = deploy_wat(
        &rt,
        r#"(module (memory (export "memory") 1) (func (export "get") (result i64) (i64.const 77)))"#,
        1,
    )
    .address;
    let other_file = files(dir.path())
        .into_iter()
        .find(|f| !before.contains(f))
        .unwrap();
    // The counter's artifact, valid and MAC'd, under the other's name.
    std::fs::copy(&before[0], &other_file).unwrap();
    let rt = with_disk(dir.path(), kv.clone());
    let r = call(&rt, other, "get", vec![]);
    assert_eq!(
        r.returns,
        vec![WasmValue::I64(77)],
        "the other's own code ran"
    );
    let s = rt.module_cache_stats();
    assert_eq!((s.disk_corrupt, s.misses, s.disk_hits), (1, 1, 0));
    assert!(call(&rt, counter, "get", vec![]).success);
    assert_eq!(rt.module_cache_stats().disk_hits, 1);
}

#[test]
fn an_artifact_written_without_the_databases_secret_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Another database (another secret) writes the cache directory...
    let forger = with_disk(dir.path(), Arc::new(MemKv::new()));
    deploy_wat(&forger, COUNTER, 0);
    let forged = files(dir.path());
    // ...and this database's runtime refuses its file.
    let kv = Arc::new(MemKv::new());
    let rt = with_disk(tempfile::tempdir().unwrap().path(), kv.clone());
    let c = deploy_wat(&rt, COUNTER, 0).address;
    let rt = with_disk(dir.path(), kv);
    assert!(call(&rt, c, "get", vec![]).success);
    let s = rt.module_cache_stats();
    assert_eq!((s.disk_corrupt, s.misses, s.disk_hits), (1, 1, 0));
    assert_eq!(files(dir.path()), forged, "replaced under the same name");
}

#[test]
fn concurrent_lookups_compile_a_module_once() {
    let kv = Arc::new(MemKv::new());
    let c = {
        let (rt, _) = runtime(kv.clone());
        deploy_wat(&rt, COUNTER, 0)
    };
    let (rt, _) = runtime(kv);
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| rt.warm(&c.code_hash).unwrap());
        }
    });
    let stats = rt.module_cache_stats();
    assert_eq!((stats.misses, stats.memory_hits), (1, 7));
}

#[test]
fn the_memory_tier_respects_its_byte_budget() {
    let kv = Arc::new(MemKv::new());
    let config = RuntimeConfig {
        module_cache: ModuleCacheConfig {
            memory_bytes: 1,
            disk_dir: None,
        },
        ..RuntimeConfig::default()
    };
    let rt = Runtime::new(kv.clone(), Arc::new(KvNodeHost::new(kv)), config);
    let a = deploy_wat(&rt, COUNTER, 0).address;
    let b = deploy_wat(&rt, COUNTER, 1).address; // same code hash: one entry
    let other = deploy_wat(
        &rt,
        r#"(module (memory (export "memory") 1) (func (export "f")))"#,
        2,
    )
    .address;
    assert!(call(&rt, other, "f", vec![]).success);
    // Only the most recent module fits; the counter is compiled again.
    let before = rt.module_cache_stats().misses;
    assert!(call(&rt, a, "get", vec![]).success);
    assert!(call(&rt, b, "get", vec![]).success);
    assert_eq!(rt.module_cache_stats().misses, before + 1);
}

#[test]
fn the_gate_runs_before_any_compile() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let bad = rt.deploy(&svm_runtime::DeployTx {
        author: AUTHOR,
        nonce: 0,
        name: "bad".into(),
        gas_limit: GAS,
        code: b"\0asm\x01\0\0\0\x01".to_vec(),
    });
    assert!(bad.is_err());
    assert_eq!(
        rt.module_cache_stats().misses,
        0,
        "the gate runs before any compile"
    );
}

#[cfg(feature = "cranelift")]
#[test]
fn the_same_call_uses_the_same_gas_under_singlepass_and_cranelift() {
    use svm_runtime::Compiler;
    let run = |compiler| {
        let kv = Arc::new(MemKv::new());
        let config = RuntimeConfig {
            compiler,
            ..RuntimeConfig::default()
        };
        let node = Arc::new(KvNodeHost::new(kv.clone()));
        node.set_balance(&SENDER, 10).unwrap();
        let rt = Runtime::new(kv, node, config);
        let c = deploy_wat(&rt, COUNTER, 0).address;
        let coin = rt
            .deploy(&svm_runtime::DeployTx {
                author: AUTHOR,
                nonce: 1,
                name: "coin".into(),
                gas_limit: GAS,
                code: include_bytes!("../../../contracts/coin/coin.wasm").to_vec(),
            })
            .unwrap()
            .address;
        let mut t = call_tx(coin, "transfer", vec![WasmValue::I64(1)]);
        t.calldata = vec![9; 20];
        t.value = 1;
        vec![
            call(&rt, c, "add", vec![WasmValue::I64(5)]),
            call(&rt, c, "add_then_fail", vec![WasmValue::I64(5)]),
            rt.call(&t),
        ]
    };
    let sp = run(Compiler::Singlepass);
    let cl = run(Compiler::Cranelift);
    assert_eq!(sp, cl);
    assert!(sp.iter().all(|r| r.gas_used > 0));
}
