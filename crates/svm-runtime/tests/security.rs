//! The holes measured in the security issue, each closed: unbounded tables,
//! flat-priced bulk memory, set-balance for everyone, start functions,
//! committing queries, free failed calls, wasmer text in receipts.

mod common;

use std::sync::Arc;

use common::*;
use svm_kv::{KvStore, MemKv};
use svm_runtime::gate::GateError;
use svm_runtime::{
    DeployError, DeployTx, ErrorCode, KvNodeHost, NodeHost, Runtime, RuntimeConfig, StateRef,
    WasmValue, gas,
};
use svm_types::{Address, State};

const TABLE: &str = r#"(module
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (func (export "grow") (param i32) (result i32)
    (table.grow $t (ref.null func) (local.get 0)))
  (func (export "size") (result i32) (table.size $t)))"#;

#[test]
fn table_grow_is_capped_and_priced_per_element() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_wat(&rt, TABLE, 0).address;
    // The measured attack: grow by 0x7fffffff. It asks for more elements
    // than any gas limit can pay for: out of gas, at once.
    let start = std::time::Instant::now();
    let r = call(&rt, c, "grow", vec![WasmValue::I32(0x7fff_ffff)]);
    assert_eq!(r.error.unwrap().code, ErrorCode::OutOfGas);
    assert!(start.elapsed().as_secs() < 5);
    // Within the gas, the cap (4 096 elements by default) holds: -1.
    let r = call(&rt, c, "grow", vec![WasmValue::I32(5_000)]);
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.returns, vec![WasmValue::I32(-1)]);
    let r = call(&rt, c, "grow", vec![WasmValue::I32(4_095)]);
    assert_eq!(r.returns, vec![WasmValue::I32(1)], "{:?}", r.error);
    // The price is proportional: 1 000 more elements cost 1 000 × 16 gas.
    let small = call(&rt, c, "grow", vec![WasmValue::I32(1)]).gas_used;
    let big = call(&rt, c, "grow", vec![WasmValue::I32(1_001)]).gas_used;
    assert_eq!(big - small, 1_000 * gas::TABLE_ELEMENT);
}

const BULK: &str = r#"(module
  (memory (export "memory") 256 256)
  (func (export "fill") (param i32 i32)
    (local $i i32)
    (loop $l
      (memory.fill (i32.const 0) (i32.const 7) (local.get 1))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get 0)))))
  (func (export "copy") (param i32)
    (memory.copy (i32.const 0) (i32.const 8) (local.get 0)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#;

#[test]
fn bulk_memory_is_priced_per_byte() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_wat(&rt, BULK, 0).address;
    // The measured attack: 200 fills of 16 MiB. 3.2 GB would cost
    // 3.2 G gas: out of gas long before.
    let mut tx = call_tx(
        c,
        "fill",
        vec![WasmValue::I32(200), WasmValue::I32(16 << 20)],
    );
    tx.gas_limit = 100_000_000;
    let start = std::time::Instant::now();
    let r = rt.call(&tx);
    assert_eq!(r.error.unwrap().code, ErrorCode::OutOfGas);
    eprintln!(
        "200 × 16 MiB memory.fill under 100 M gas: {:?}",
        start.elapsed()
    );
    // One more byte filled or copied, one more gas.
    let fill = |n: i32| call(&rt, c, "fill", vec![WasmValue::I32(1), WasmValue::I32(n)]).gas_used;
    assert_eq!(fill(1_001) - fill(1), 1_000 * gas::BULK_BYTE);
    let copy = |n: i32| call(&rt, c, "copy", vec![WasmValue::I32(n)]).gas_used;
    assert_eq!(copy(65_537) - copy(1), 65_536 * gas::BULK_BYTE);
    // memory.grow pays per page asked for, even when it fails.
    let grow = |n: i32| call(&rt, c, "grow", vec![WasmValue::I32(n)]);
    let r = grow(10);
    assert_eq!(
        r.returns,
        vec![WasmValue::I32(-1)],
        "the memory is at its maximum"
    );
    assert_eq!(r.gas_used - grow(0).gas_used, 10 * gas::MEMORY_PAGE);
}

const SET_BALANCE: &str = r#"(module
  (import "node" "vmcall_set_balance" (func $set (param i64 i32 i32)))
  (memory (export "memory") 1)
  (func (export "mint") (call $set (i64.const 999999999) (i32.const 160) (i32.const 0))))"#;

#[test]
fn set_balance_is_off_by_default() {
    let (rt, node) = runtime(Arc::new(MemKv::new()));
    let code = wat::parse_str(SET_BALANCE).unwrap();
    let err = rt
        .deploy(&DeployTx {
            author: AUTHOR,
            nonce: 0,
            name: "mint".into(),
            gas_limit: GAS,
            code: code.clone(),
        })
        .unwrap_err();
    match err {
        DeployError::Gate(r) => assert!(
            r.0.contains(&GateError::DisabledVmCall("node.vmcall_set_balance")),
            "{r}"
        ),
        e => panic!("{e}"),
    }
    assert_eq!(node.balance(&Address::default()).unwrap(), 0);

    // Allowed explicitly (SVM milestone-1 compatibility), it works.
    let kv = Arc::new(MemKv::new());
    let node = Arc::new(KvNodeHost::new(kv.clone()));
    let config = RuntimeConfig {
        allow_set_balance: true,
        ..RuntimeConfig::default()
    };
    let rt = Runtime::new(kv, node.clone(), config);
    let c = deploy_wat(&rt, SET_BALANCE, 0).address;
    assert!(call(&rt, c, "mint", vec![]).success);
    assert_eq!(node.balance(&Address::default()).unwrap(), 999_999_999);
}

#[test]
fn a_start_function_is_rejected_at_deploy() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let code = wat::parse_str(
        r#"(module (memory (export "memory") 1) (func $s) (start $s)
            (func (export "f") (result i32) (i32.const 1)))"#,
    )
    .unwrap();
    let err = rt
        .deploy(&DeployTx {
            author: AUTHOR,
            nonce: 0,
            name: "start".into(),
            gas_limit: GAS,
            code,
        })
        .unwrap_err();
    match err {
        DeployError::Gate(r) => assert_eq!(r.0, vec![GateError::StartFunction(0)]),
        e => panic!("{e}"),
    }
}

const VAULT: &str = r#"(module
  (import "svm" "transfer" (func $transfer (param i32 i32 i64)))
  (import "svm" "sender_to_reg" (func $sender (param i32 i32)))
  (import "svm" "storage_write_from_mem" (func $st (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "value" (func $value (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "abcd")
  (func (export "deposit") (result i64) (call $value))
  (func (export "withdraw") (param i64)
    (call $sender (i32.const 160) (i32.const 0))
    (call $transfer (i32.const 160) (i32.const 0) (local.get 0)))
  (func (export "write") (call $st (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 3) (i32.const 0) (i32.const 0)))
  (func (export "fail") unreachable))"#;

/// A runtime over `MemKv`, its node host, and the vault contract's address.
type Vault = (Runtime<Arc<MemKv>>, Arc<KvNodeHost<Arc<MemKv>>>, Address);

fn vault() -> Vault {
    let (rt, node) = runtime(Arc::new(MemKv::new()));
    let c = deploy_wat(&rt, VAULT, 0).address;
    node.set_balance(&SENDER, 1_000).unwrap();
    (rt, node, c)
}

#[test]
fn a_call_carries_value_atomically() {
    let (rt, node, c) = vault();
    let mut tx = call_tx(c, "deposit", vec![]);
    tx.value = 300;
    let r = rt.call(&tx);
    assert_eq!(r.returns, vec![WasmValue::I64(300)], "{:?}", r.error);
    assert_eq!(node.balance(&SENDER).unwrap(), 700);
    assert_eq!(node.balance(&c).unwrap(), 300);
    // A failed call returns the value.
    let mut tx = call_tx(c, "fail", vec![]);
    tx.value = 100;
    assert_eq!(rt.call(&tx).error.unwrap().code, ErrorCode::Trap);
    assert_eq!(node.balance(&SENDER).unwrap(), 700);
    // More than the sender has: refused before the function runs, with
    // the intrinsic and instantiation gas charged.
    let mut tx = call_tx(c, "deposit", vec![]);
    tx.value = 701;
    let r = rt.call(&tx);
    assert_eq!(r.error.unwrap().code, ErrorCode::InsufficientBalance);
    assert!(r.gas_used >= gas::CALL_BASE);
    assert_eq!(node.balance(&SENDER).unwrap(), 700);
    // A contract moves only its own balance.
    let r = call(&rt, c, "withdraw", vec![WasmValue::I64(301)]);
    assert_eq!(r.error.unwrap().code, ErrorCode::HostCall);
    assert!(call(&rt, c, "withdraw", vec![WasmValue::I64(300)]).success);
    assert_eq!(node.balance(&SENDER).unwrap(), 1_000);
    assert_eq!(node.balance(&c).unwrap(), 0);
}

#[test]
fn calls_at_an_explicit_state_are_read_only_queries() {
    let (rt, node, c) = vault();
    let empty = rt.contract(&c).unwrap().unwrap().state;
    let mut tx = call_tx(c, "deposit", vec![]);
    tx.value = 500;
    assert!(rt.call(&tx).success);
    let w = call(&rt, c, "write", vec![]);
    assert!(w.success);
    let latest = w.new_state;
    let keys = rt.kv().scan_prefix(b"").unwrap().len();
    // Re-running a withdrawal on the empty (older) state moves nothing.
    let mut q = call_tx(c, "withdraw", vec![WasmValue::I64(500)]);
    q.state = StateRef::At(empty);
    let r = rt.call(&q);
    assert!(r.success, "{:?}", r.error);
    assert_eq!((r.new_state, r.pages_written), (empty, 0));
    assert_eq!(node.balance(&c).unwrap(), 500);
    assert_eq!(node.balance(&SENDER).unwrap(), 500);
    // A query that writes pages commits none of them.
    let mut q = call_tx(c, "write", vec![]);
    q.state = StateRef::At(empty);
    let r = rt.call(&q);
    assert!(r.success);
    assert_eq!(r.new_state, empty);
    // A value in a query moves nothing either.
    let mut q = call_tx(c, "deposit", vec![]);
    (q.state, q.value) = (StateRef::At(latest), 100);
    assert!(rt.call(&q).success);
    assert_eq!(node.balance(&SENDER).unwrap(), 500);
    assert_eq!(rt.contract(&c).unwrap().unwrap().state, latest);
    assert_eq!(
        rt.kv().scan_prefix(b"").unwrap().len(),
        keys,
        "nothing written"
    );
}

#[test]
fn failed_calls_pay_for_the_work_they_caused() {
    let (rt, _, c) = vault();
    let intrinsic = gas::call_intrinsic(0);
    // Nothing loaded: the intrinsic gas.
    let r = call(&rt, Address([9; 20]), "f", vec![]);
    assert_eq!(r.error.unwrap().code, ErrorCode::ContractNotFound);
    assert_eq!(r.gas_used, intrinsic);
    let mut tx = call_tx(c, "deposit", vec![]);
    tx.state = StateRef::At(State([7; 32]));
    let r = rt.call(&tx);
    assert_eq!(r.error.unwrap().code, ErrorCode::UnknownState);
    assert_eq!(r.gas_used, intrinsic);
    // Loaded and instantiated: the instantiation too (1 memory page,
    // 4 data bytes).
    let instantiated = intrinsic + gas::instantiate(1, 0, 4);
    let r = call(&rt, c, "nope", vec![]);
    assert_eq!(r.error.unwrap().code, ErrorCode::FunctionNotFound);
    assert_eq!(r.gas_used, instantiated);
    let r = call(&rt, c, "deposit", vec![WasmValue::I32(1)]);
    assert_eq!(r.error.unwrap().code, ErrorCode::WrongArguments);
    assert_eq!(r.gas_used, instantiated);
    // The intrinsic gas is checked before any work: a limit below it is
    // out of gas with nothing loaded, even for a contract that does not
    // exist.
    let mut tx = call_tx(Address([9; 20]), "f", vec![]);
    tx.gas_limit = intrinsic - 1;
    let r = rt.call(&tx);
    assert_eq!(r.error.unwrap().code, ErrorCode::OutOfGas);
    assert_eq!(r.gas_used, tx.gas_limit);
    // A limit that covers the intrinsic gas but not the instantiation.
    let mut tx = call_tx(c, "deposit", vec![]);
    tx.gas_limit = instantiated - 1;
    assert_eq!(rt.call(&tx).error.unwrap().code, ErrorCode::OutOfGas);
}

#[test]
fn gas_limits_over_the_maximum_are_refused() {
    let (rt, _, c) = vault();
    let mut tx = call_tx(c, "deposit", vec![]);
    tx.gas_limit = rt.config().max_tx_gas + 1;
    let r = rt.call(&tx);
    assert_eq!(r.error.unwrap().code, ErrorCode::GasLimitTooHigh);
    assert_eq!(r.gas_used, 0);
    let err = rt
        .deploy(&DeployTx {
            author: AUTHOR,
            nonce: 1,
            name: "x".into(),
            gas_limit: u64::MAX,
            code: wat::parse_str(VAULT).unwrap(),
        })
        .unwrap_err();
    assert!(matches!(err, DeployError::GasLimitTooHigh { .. }), "{err}");
}

#[test]
fn trap_messages_are_the_runtimes_own_words() {
    let (rt, _, c) = vault();
    let r = call(&rt, c, "fail", vec![]);
    let e = r.error.unwrap();
    assert_eq!(
        (e.code, e.message.as_str()),
        (ErrorCode::Trap, "unreachable executed")
    );
}

#[test]
fn the_same_failed_call_gives_the_same_receipt() {
    let (rt, _, c) = vault();
    for f in ["fail", "nope", "withdraw"] {
        let a = call(&rt, c, f, vec![]);
        let b = call(&rt, c, f, vec![]);
        assert_eq!(a, b, "{f}");
        assert!(!a.success);
    }
}

#[test]
fn the_module_cache_secret_lives_in_the_database() {
    let kv = Arc::new(MemKv::new());
    let dir = tempfile::tempdir().unwrap();
    let config = RuntimeConfig {
        module_cache: svm_runtime::ModuleCacheConfig {
            disk_dir: Some(dir.path().to_path_buf()),
            ..Default::default()
        },
        ..RuntimeConfig::default()
    };
    let rt = Runtime::new(kv.clone(), Arc::new(KvNodeHost::new(kv.clone())), config);
    deploy_wat(&rt, VAULT, 0);
    let secret = kv.get(svm_runtime::MODULE_SECRET_KEY).unwrap().unwrap();
    assert_eq!(secret.len(), 32);
    assert!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .all(|f| !std::fs::read(f.unwrap().path())
                .unwrap()
                .windows(32)
                .any(|w| w == &secret[..])),
        "the secret is not in the cache directory"
    );
}

/// Found by fuzzing: wasmer 7.4.2's Singlepass panics on a module whose
/// `name` section names the module with a NUL byte. The runtime compiles
/// the code without its custom sections, so the module deploys (and runs),
/// and its stored code is the original bytes.
#[test]
fn a_nul_module_name_deploys_and_runs() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let code = include_bytes!("data/module-name-nul.wasm").to_vec();
    let d = rt
        .deploy(&DeployTx {
            author: AUTHOR,
            nonce: 0,
            name: "nul".into(),
            gas_limit: GAS,
            code: code.clone(),
        })
        .expect("deploys");
    assert_eq!(d.code_hash, svm_runtime::contracts::code_hash(&code));
    // A second runtime over a fresh KV compiles it again (no cache).
    let (rt2, _) = runtime(Arc::new(MemKv::new()));
    assert_eq!(rt2.validate(&code), Ok(()));
}

/// Found by fuzzing: a float block type needs no float instruction.
#[test]
fn a_float_block_type_is_rejected() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    for body in [
        "(block (result f64) unreachable) drop",
        "(loop (result f32) unreachable) drop",
    ] {
        let code = wat::parse_str(format!(
            r#"(module (memory (export "memory") 1) (func (export "f") {body}))"#
        ))
        .unwrap();
        match rt.validate(&code) {
            Err(DeployError::Gate(r)) => assert!(
                matches!(r.0[0], GateError::NonDeterministic { rule: "floats", .. }),
                "{r}"
            ),
            other => panic!("{body}: {other:?}"),
        }
    }
}
