//! End to end: deploy, call, persistence, reopening on disk, failures that
//! leave the root unchanged, identical receipts on every backend, and the
//! deploy gate on hand-written and real-world code.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::*;
use svm_kv::{KvStore, LevelKv, MemKv, RocksKv};
use svm_pages::{PageIndex, PageStorage, empty_root};
use svm_runtime::gate::{GateError, Rejection};
use svm_runtime::{
    CallTx, DeployError, DeployTx, ErrorCode, Receipt, Runtime, StateRef, WasmValue,
};
use svm_types::{Address, State};

const COUNTER: &str = include_str!("../../../contracts/counter/counter.wat");

fn deploy_counter<K: KvStore + 'static>(rt: &Runtime<K>) -> Address {
    deploy_wat(rt, COUNTER, 0).address
}

fn add(n: i64) -> Vec<WasmValue> {
    vec![WasmValue::I64(n)]
}

#[test]
fn deploy_call_and_state_is_persisted() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_counter(&rt);
    let rec = rt.contract(&c).unwrap().unwrap();
    assert_eq!(rec.state, empty_root());
    let r1 = call(&rt, c, "add", add(5));
    assert!(r1.success, "{:?}", r1.error);
    assert_eq!(r1.returns, vec![WasmValue::I64(5)]);
    assert_eq!(r1.pages_written, 1);
    assert!(r1.gas_used > 0 && r1.gas_used < r1.gas_limit);
    let r2 = call(&rt, c, "add", add(-2));
    assert_eq!(r2.returns, vec![WasmValue::I64(3)]);
    assert_ne!(r1.new_state, r2.new_state);
    assert_eq!(rt.contract(&c).unwrap().unwrap().state, r2.new_state);
    // The page holds the counter, big-endian, at offset 0.
    let page = rt
        .pages()
        .open(&c, &r2.new_state)
        .unwrap()
        .read(PageIndex(0), 0, 8)
        .unwrap();
    assert_eq!(page, 3i64.to_be_bytes());
    // An older state still reads, and a call can run against it.
    let mut tx = call_tx(c, "get", vec![]);
    tx.state = StateRef::At(r1.new_state);
    assert_eq!(rt.call(&tx).returns, vec![WasmValue::I64(5)]);
    assert_eq!(
        rt.contract(&c).unwrap().unwrap().state,
        r2.new_state,
        "a call at an older state does not move the latest state"
    );
}

#[test]
fn a_deploy_reads_its_code_in_one_analysis_pass() {
    // The gate, the instantiation summary, the frame sizes, resettability
    // and the re-encoding all come from one pass over the code (plus
    // wasmer's own compile); the first call then runs on the cached
    // module without reading the code again.
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let before = svm_runtime::gate::analysis_passes();
    let c = deploy_counter(&rt);
    assert_eq!(svm_runtime::gate::analysis_passes(), before + 1);
    assert!(call(&rt, c, "add", add(1)).success);
    assert_eq!(svm_runtime::gate::analysis_passes(), before + 1);
}

#[test]
fn a_failed_call_leaves_the_root_unchanged() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_counter(&rt);
    let ok = call(&rt, c, "add", add(10));
    let before = ok.new_state;
    let bad = call(&rt, c, "add_then_fail", add(1));
    assert!(!bad.success);
    assert_eq!(bad.error.as_ref().unwrap().code, ErrorCode::Trap);
    assert!(bad.error.as_ref().unwrap().message.contains("unreachable"));
    assert_eq!(bad.new_state, before);
    assert_eq!(bad.pages_written, 0);
    assert_eq!(rt.contract(&c).unwrap().unwrap().state, before);
    assert_eq!(
        call(&rt, c, "get", vec![]).returns,
        vec![WasmValue::I64(10)]
    );
}

#[test]
fn typed_errors_for_bad_calls() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_counter(&rt);
    let code = |r: Receipt| r.error.expect("failed").code;
    assert_eq!(
        code(call(&rt, Address([9; 20]), "get", vec![])),
        ErrorCode::ContractNotFound
    );
    assert_eq!(
        code(call(&rt, c, "nope", vec![])),
        ErrorCode::FunctionNotFound
    );
    assert_eq!(
        code(call(&rt, c, "memory", vec![])),
        ErrorCode::FunctionNotFound
    );
    assert_eq!(
        code(call(&rt, c, "add", vec![WasmValue::I32(1)])),
        ErrorCode::WrongArguments
    );
    assert_eq!(code(call(&rt, c, "add", vec![])), ErrorCode::WrongArguments);
    let mut tx = call_tx(c, "get", vec![]);
    tx.state = StateRef::At(State([7; 32]));
    assert_eq!(code(rt.call(&tx)), ErrorCode::UnknownState);
    let mut tx = call_tx(c, "add", add(1));
    tx.gas_limit = 5;
    let r = rt.call(&tx);
    assert_eq!(r.error.as_ref().unwrap().code, ErrorCode::OutOfGas);
    assert_eq!(r.gas_used, 5);
    // Refused before anything is loaded.
    assert_eq!(r.new_state, State::ZERO);
}

#[test]
fn receipts_round_trip_through_their_encoding() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_counter(&rt);
    for r in [
        call(&rt, c, "add", add(1)),
        call(&rt, c, "add_then_fail", add(1)),
    ] {
        assert_eq!(Receipt::decode(&r.encode().unwrap()).unwrap(), r);
    }
}

fn scenario<K: KvStore + Clone + 'static>(kv: K) -> Vec<Receipt> {
    let (rt, _) = runtime(kv);
    let c = deploy_counter(&rt);
    let mut out = Vec::new();
    for n in [1i64, 2, -7, 1 << 40] {
        out.push(call(&rt, c, "add", add(n)));
        out.push(call(&rt, c, "add_then_fail", add(n)));
    }
    out.push(call(&rt, c, "get", vec![]));
    out
}

#[test]
fn the_same_receipts_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let mem = scenario(Arc::new(MemKv::new()));
    let rocks = scenario(Arc::new(RocksKv::open(dir.path().join("r")).unwrap()));
    let level = scenario(Arc::new(LevelKv::open(dir.path().join("l")).unwrap()));
    assert_eq!(mem, rocks);
    assert_eq!(mem, level);
    assert!(mem.iter().any(|r| r.success) && mem.iter().any(|r| !r.success));
}

#[test]
fn reopen_on_rocksdb_at_the_returned_root() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let (c, root) = {
        let (rt, _) = runtime(Arc::new(RocksKv::open(&path).unwrap()));
        let c = deploy_counter(&rt);
        call(&rt, c, "add", add(41));
        let r = call(&rt, c, "add", add(1));
        (c, r.new_state)
    };
    let kv = Arc::new(RocksKv::open(&path).unwrap());
    let (rt, _) = runtime(kv.clone());
    assert_eq!(rt.contract(&c).unwrap().unwrap().state, root);
    assert!(rt.pages().has_state(&c, &root).unwrap());
    assert_eq!(
        call(&rt, c, "get", vec![]).returns,
        vec![WasmValue::I64(42)]
    );
    let mut tx = call_tx(c, "get", vec![]);
    tx.state = StateRef::At(root);
    assert_eq!(rt.call(&tx).returns, vec![WasmValue::I64(42)]);
}

fn first(e: DeployError) -> GateError {
    match e {
        DeployError::Gate(Rejection(f)) => f.into_iter().next().expect("a finding"),
        e => panic!("not a gate rejection: {e}"),
    }
}

fn findings(rt: &Runtime<Arc<MemKv>>, code: &[u8]) -> Vec<GateError> {
    match rt.validate(code) {
        Err(DeployError::Gate(Rejection(f))) => f,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn deploy_err(code: Vec<u8>) -> DeployError {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    rt.deploy(&DeployTx {
        author: AUTHOR,
        nonce: 0,
        name: "x".into(),
        gas_limit: GAS,
        code,
    })
    .unwrap_err()
}

#[test]
fn deploy_rejects_bad_code_with_a_named_problem() {
    assert!(matches!(
        first(deploy_err(b"\0asm\x01\0\0\0\x99".to_vec())),
        GateError::Malformed { .. }
    ));
    match first(deploy_err(
        wat::parse_str(
            r#"(module (import "env" "abort" (func (param i32)))
                       (import "svm" "log" (func (param i32)))
                       (import "svm" "log" (func (param i32 i32)))
                       (memory (export "memory") 1))"#,
        )
        .unwrap(),
    )) {
        GateError::UnknownImports(names) => {
            assert_eq!(
                names,
                vec!["env.abort: (i32) -> ()", "svm.log: (i32) -> ()"]
            );
        }
        e => panic!("{e}"),
    }
    assert_eq!(
        first(deploy_err(
            wat::parse_str(r#"(module (func (export "f")))"#).unwrap()
        )),
        GateError::MissingMemory
    );
    let two = first(deploy_err(
        wat::parse_str(r#"(module (memory 1) (memory 1))"#).unwrap(),
    ));
    assert!(
        matches!(&two, GateError::Malformed { message, .. } if message.contains("multiple memories")),
        "two memories are malformed under the accepted features: {two}"
    );
    assert_eq!(
        first(deploy_err(
            wat::parse_str(r#"(module (memory (export "svm:memory") 1))"#).unwrap()
        )),
        GateError::ReservedExport("svm:memory".into())
    );
    match first(deploy_err(
        wat::parse_str(
            r#"(module (memory (export "memory") 1)
                 (func (export "f") (result i32) i32.const 1 f32.convert_i32_s i32.trunc_f32_s))"#,
        )
        .unwrap(),
    )) {
        GateError::NonDeterministic {
            rule, instruction, ..
        } => {
            assert_eq!(rule, "floats");
            assert_eq!(instruction, "F32ConvertI32S");
        }
        e => panic!("{e}"),
    }
}

#[test]
fn same_code_same_author_different_nonce_different_address() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let a = deploy_wat(&rt, COUNTER, 0).address;
    let b = deploy_wat(&rt, COUNTER, 1).address;
    assert_ne!(a, b);
    let again = rt.deploy(&DeployTx {
        author: AUTHOR,
        nonce: 0,
        name: "dup".into(),
        gas_limit: GAS,
        code: wat::parse_str(COUNTER).unwrap(),
    });
    assert_eq!(again, Err(DeployError::AlreadyDeployed(a)));
}

fn shared(name: &str) -> Option<Vec<u8>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/cosmwasm")
        .join(name);
    match std::fs::read(&p) {
        Ok(b) => Some(b),
        Err(_) => {
            println!(
                "skipped: {} is absent (no ../shared beside the project)",
                p.display()
            );
            None
        }
    }
}

#[test]
fn real_cosmwasm_contracts_are_rejected_for_the_right_reason() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    if let Some(code) = shared("floaty_2.0.wasm") {
        let f = findings(&rt, &code);
        let float = f
            .iter()
            .find_map(|e| match e {
                GateError::NonDeterministic {
                    rule,
                    instruction,
                    offset,
                } => Some((*rule, instruction.clone(), *offset)),
                _ => None,
            })
            .expect("floats named");
        assert_eq!(float.0, "floats");
        assert!(
            float.1.contains("F32") || float.1.contains("F64"),
            "{}",
            float.1
        );
        assert!(float.2 > 0);
    }
    for name in ["hackatom.wasm", "cyberpunk.wasm"] {
        if let Some(code) = shared(name) {
            match findings(&rt, &code).first() {
                Some(GateError::UnknownImports(names)) => {
                    assert!(
                        names.iter().any(|n| n.starts_with("env.db_read")),
                        "{names:?}"
                    );
                }
                other => panic!("{name}: {other:?}"),
            }
        }
    }
    if let Some(code) = shared("corrupted.wasm") {
        assert!(matches!(
            findings(&rt, &code).as_slice(),
            [GateError::Malformed { .. }]
        ));
    }
    // A minimal contract with no imports, no floats and its own memory:
    // nothing in it breaks a rule, so it passes the gate.
    if let Some(code) = shared("empty.wasm") {
        assert_eq!(rt.validate(&code), Ok(()));
    }
}

#[test]
fn call_transactions_decode_into_the_same_call() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_counter(&rt);
    let tx = call_tx(c, "add", add(9));
    let decoded = CallTx::decode(&tx.encode().unwrap()).unwrap();
    assert_eq!(rt.call(&decoded).returns, vec![WasmValue::I64(9)]);
}

const COIN: &[u8] = include_bytes!("../../../contracts/coin/coin.wasm");
const RUST_COUNTER: &[u8] = include_bytes!("../../../contracts/rust-counter/rust_counter.wasm");

fn deploy_code<K: KvStore + 'static>(rt: &Runtime<K>, code: &[u8], name: &str) -> Address {
    rt.deploy(&DeployTx {
        author: AUTHOR,
        nonce: 7,
        name: name.into(),
        gas_limit: GAS,
        code: code.to_vec(),
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"))
    .address
}

#[test]
fn coin_in_c_transfers_between_accounts() {
    use svm_runtime::NodeHost;
    let (rt, node) = runtime(Arc::new(MemKv::new()));
    let coin = deploy_code(&rt, COIN, "coin");
    let (alice, bob) = (Address([0xaa; 20]), Address([0xbb; 20]));
    node.set_balance(&alice, 100).unwrap();
    let transfer = |from: Address, to: Address, amount: i64| {
        let mut tx = call_tx(coin, "transfer", vec![WasmValue::I64(amount)]);
        tx.value = amount.max(0) as u64;
        tx.sender = from;
        tx.calldata = to.as_bytes().to_vec();
        rt.call(&tx)
    };
    let r = transfer(alice, bob, 30);
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.returns, vec![WasmValue::I64(1)]);
    assert_eq!(
        (node.balance(&alice).unwrap(), node.balance(&bob).unwrap()),
        (70, 30)
    );
    let root = r.new_state;
    // Insufficient balance: a normal failed receipt, nothing changes.
    let r = transfer(bob, alice, 31);
    assert_eq!(r.error.unwrap().code, ErrorCode::InsufficientBalance);
    assert_eq!(r.new_state, root);
    assert_eq!(
        (node.balance(&alice).unwrap(), node.balance(&bob).unwrap()),
        (70, 30)
    );
    // To oneself: the balance stays.
    assert!(transfer(alice, alice, 50).success);
    assert_eq!(node.balance(&alice).unwrap(), 70);
    assert!(!transfer(alice, bob, 0).success);
    assert!(!transfer(alice, bob, -1).success);
    // A value that differs from the amount: the coin traps and the value
    // goes back to the sender.
    let mut tx = call_tx(coin, "transfer", vec![WasmValue::I64(5)]);
    (tx.sender, tx.value, tx.calldata) = (alice, 6, bob.as_bytes().to_vec());
    assert_eq!(rt.call(&tx).error.unwrap().code, ErrorCode::Trap);
    assert_eq!(
        (node.balance(&alice).unwrap(), node.balance(&bob).unwrap()),
        (70, 30)
    );
    // The coin itself never holds anything after a transfer.
    assert_eq!(node.balance(&coin).unwrap(), 0);
    let mut tx = call_tx(coin, "balance", vec![]);
    tx.calldata = bob.as_bytes().to_vec();
    assert_eq!(rt.call(&tx).returns, vec![WasmValue::I64(30)]);
    assert_eq!(
        call(&rt, coin, "transfers", vec![]).returns,
        vec![WasmValue::I64(2)]
    );
}

#[test]
fn counter_in_rust_no_std_runs() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_code(&rt, RUST_COUNTER, "rust-counter");
    assert_eq!(
        call(&rt, c, "add", add(20)).returns,
        vec![WasmValue::I64(20)]
    );
    let r = call(&rt, c, "add_logged", add(22));
    assert_eq!(r.returns, vec![WasmValue::I64(42)]);
    assert_eq!(r.logs, vec![42i64.to_be_bytes().to_vec()]);
    assert_eq!(
        call(&rt, c, "get", vec![]).returns,
        vec![WasmValue::I64(42)]
    );
}

#[test]
fn unreadable_code_is_a_storage_failure() {
    use svm_kv::KvStore;
    let kv = Arc::new(MemKv::new());
    let (rt, _) = runtime(kv.clone());
    let d = deploy_wat(&rt, COUNTER, 0);
    kv.delete(&svm_runtime::contracts::code_key(&d.code_hash))
        .unwrap();
    // A fresh runtime: nothing compiled in memory, the code is gone.
    let (fresh, _) = runtime(kv);
    let r = call(&fresh, d.address, "get", vec![]);
    assert_eq!(r.error.unwrap().code, ErrorCode::Storage);
}

/// Committing calls from many threads on one runtime lose no update: each
/// reads the latest state and balances and commits on top of them, one at
/// a time, while queries run alongside.
#[test]
fn concurrent_transfers_lose_no_update_and_spend_nothing_twice() {
    use svm_runtime::NodeHost;
    let (rt, node) = runtime(Arc::new(MemKv::new()));
    let coin = deploy_code(&rt, COIN, "coin");
    let (alice, bob) = (Address([0xaa; 20]), Address([0xbb; 20]));
    node.set_balance(&alice, 50).unwrap();
    let start = rt.contract(&coin).unwrap().unwrap().state;
    let ok = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..20 {
                    let mut tx = call_tx(coin, "transfer", vec![WasmValue::I64(1)]);
                    (tx.sender, tx.value, tx.calldata) = (alice, 1, bob.as_bytes().to_vec());
                    if rt.call(&tx).success {
                        ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    // A query at the first state, alongside.
                    let mut q = call_tx(coin, "transfers", vec![]);
                    q.state = svm_runtime::StateRef::At(start);
                    assert_eq!(rt.call(&q).returns, vec![WasmValue::I64(0)]);
                }
            });
        }
    });
    // 80 tries, 50 coins: exactly 50 succeed, and every one is counted.
    assert_eq!(ok.into_inner(), 50);
    assert_eq!(
        (node.balance(&alice).unwrap(), node.balance(&bob).unwrap()),
        (0, 50)
    );
    assert_eq!(
        call(&rt, coin, "transfers", vec![]).returns,
        vec![WasmValue::I64(50)]
    );
}
