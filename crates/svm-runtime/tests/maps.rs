//! The map vmcalls (`svm.map_get`, `map_set`, `map_remove`, `map_len`)
//! through the runtime: persistence across transactions, rollback with a
//! failed transaction, typed errors, and their gas.

mod common;

use std::sync::Arc;

use common::*;
use svm_kv::MemKv;
use svm_runtime::{CallTx, ErrorCode, WasmValue};

/// A map at header page 1 with 20-byte keys and 8-byte values. Call data:
/// key (20) ‖ value (8).
const MAP: &str = r#"(module
  (import "svm" "calldata_copy" (func $cdcopy (param i32 i32 i32)))
  (import "svm" "map_get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (import "svm" "map_set" (func $set (param i32 i32 i32 i32 i32) (result i32)))
  (import "svm" "map_remove" (func $remove (param i32 i32 i32 i32) (result i32)))
  (import "svm" "map_len" (func $len (param i32) (result i64)))
  (memory (export "memory") 1)
  (func $load (call $cdcopy (i32.const 0) (i32.const 0) (i32.const 28)))
  (func (export "set") (result i32)
    (call $load)
    (call $set (i32.const 1) (i32.const 0) (i32.const 20) (i32.const 20) (i32.const 8)))
  (func (export "set_then_trap")
    (drop (call $set (i32.const 1) (i32.const 0) (i32.const 20) (i32.const 20) (i32.const 8)))
    unreachable)
  (func (export "get") (result i64)
    (call $load)
    (if (result i64) (call $get (i32.const 1) (i32.const 0) (i32.const 20) (i32.const 100) (i32.const 8))
      (then (i64.load (i32.const 100)))
      (else (i64.const -1))))
  (func (export "remove") (result i32)
    (call $load)
    (call $remove (i32.const 1) (i32.const 0) (i32.const 20) (i32.const 8)))
  (func (export "len") (result i64) (call $len (i32.const 1)))
  (func (export "bad_key") (result i32)
    (call $get (i32.const 1) (i32.const 0) (i32.const 65) (i32.const 100) (i32.const 8)))
  (func (export "in_region") (result i32)
    (call $get (i32.const 0x80000000) (i32.const 0) (i32.const 20) (i32.const 100) (i32.const 8)))
  (func (export "other_lengths") (result i32)
    (call $get (i32.const 1) (i32.const 0) (i32.const 20) (i32.const 100) (i32.const 4))))"#;

fn data(key: u8, value: i64) -> Vec<u8> {
    [&[key; 20][..], &value.to_le_bytes()].concat()
}

fn run(
    rt: &svm_runtime::Runtime<Arc<MemKv>>,
    c: svm_types::Address,
    f: &str,
    cd: Vec<u8>,
) -> svm_runtime::Receipt {
    rt.call(&CallTx {
        calldata: cd,
        ..call_tx(c, f, vec![])
    })
}

#[test]
fn maps_persist_roll_back_and_refuse_bad_input() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_wat(&rt, MAP, 0).address;
    assert_eq!(
        run(&rt, c, "get", data(1, 0)).returns,
        vec![WasmValue::I64(-1)]
    );
    let r = run(&rt, c, "set", data(1, 10));
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.returns, vec![WasmValue::I32(0)], "a new key");
    // Header page, allocator page and the root leaf.
    assert_eq!(r.pages_written, 3);
    assert_eq!(
        run(&rt, c, "set", data(1, 11)).returns,
        vec![WasmValue::I32(1)]
    );
    assert_eq!(
        run(&rt, c, "get", data(1, 0)).returns,
        vec![WasmValue::I64(11)]
    );
    // A failed transaction's set is rolled back.
    let r = run(&rt, c, "set_then_trap", data(2, 5));
    assert!(!r.success);
    assert_eq!(
        run(&rt, c, "get", data(2, 0)).returns,
        vec![WasmValue::I64(-1)]
    );
    assert_eq!(run(&rt, c, "len", vec![]).returns, vec![WasmValue::I64(1)]);
    assert_eq!(
        run(&rt, c, "remove", data(1, 0)).returns,
        vec![WasmValue::I32(1)]
    );
    assert_eq!(
        run(&rt, c, "remove", data(1, 0)).returns,
        vec![WasmValue::I32(0)]
    );
    assert_eq!(run(&rt, c, "len", vec![]).returns, vec![WasmValue::I64(0)]);
    for bad in ["bad_key", "in_region", "other_lengths"] {
        let r = run(&rt, c, bad, vec![]);
        assert_eq!(r.error.unwrap().code, ErrorCode::HostCall, "{bad}");
    }
}

/// Gas: a set that splits nodes writes more node pages and pays for them;
/// a get pays for the pages it loads and the nodes it searches.
#[test]
fn map_gas_grows_with_the_nodes_touched() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_wat(&rt, MAP, 0).address;
    let mut gas = Vec::new();
    for k in 0..=200u8 {
        let r = run(&rt, c, "set", data(k, i64::from(k)));
        assert!(r.success, "{:?}", r.error);
        gas.push(r.gas_used);
    }
    assert_eq!(
        run(&rt, c, "len", vec![]).returns,
        vec![WasmValue::I64(201)]
    );
    // 146 entries fill the first leaf: the 147th insert splits it and
    // writes a new root too.
    let max = *gas.iter().max().unwrap();
    assert_eq!(gas.iter().position(|&g| g == max), Some(146));
    let get = run(&rt, c, "get", data(150, 0));
    assert_eq!(get.returns, vec![WasmValue::I64(150)]);
    assert_eq!(get.pages_read, 3, "header, root, leaf");
}

/// Forges, with `storage_write_from_mem`, a map at header page 1 whose root
/// is an inner node at 0x8000_0000 whose only child is itself, then looks a
/// key up in it.
const FORGED: &str = r#"(module
  (import "svm" "storage_write_from_mem" (func $w (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "map_get" (func $get (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  ;; header: MAP1, key 20, value 8, count 1, root 0x80000000
  (data (i32.const 0) "MAP1\14\00\08\00\00\00\00\00\00\00\00\01\80\00\00\00")
  ;; inner node, 0 keys, child 0 = 0x80000000
  (data (i32.const 32) "\02\00\00\00\00\00\00\00\80\00\00\00")
  ;; a node of no kind
  (data (i32.const 48) "\03\00\00\00\00\00\00\00\80\00\00\00")
  (func $forge (param $node i32)
    (call $w (i32.const 0) (i32.const 0) (i32.const 20) (i32.const 1) (i32.const 0) (i32.const 0))
    (call $w (i32.const 0) (local.get $node) (i32.const 12) (i32.const 0x80000000) (i32.const 0) (i32.const 0)))
  (func (export "forge_cycle") (call $forge (i32.const 32)))
  (func (export "forge_bad_kind") (call $forge (i32.const 48)))
  (func (export "get") (result i32)
    (call $get (i32.const 1) (i32.const 100) (i32.const 20) (i32.const 200) (i32.const 8))))"#;

#[test]
fn a_forged_cyclic_map_fails_the_call_and_pays_for_the_nodes_read() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let lookup = |forge: &str, nonce: u64| {
        let c = deploy_wat(&rt, FORGED, nonce).address;
        assert!(run(&rt, c, forge, vec![]).success);
        let r = run(&rt, c, "get", vec![]);
        assert!(!r.success);
        let e = r.error.unwrap();
        assert_eq!(e.code, ErrorCode::HostCall);
        assert!(e.message.contains("corrupt"), "{}", e.message);
        r.gas_used
    };
    // Both read the same two pages (the header and node 0x8000_0000); the
    // cycle walks it to the depth limit, 33 node reads, the other stops at
    // the first. Failed or not, every node read is paid for.
    let cycle = lookup("forge_cycle", 0);
    let bad_kind = lookup("forge_bad_kind", 1);
    assert_eq!(
        cycle - bad_kind,
        svm_runtime::gas::map_nodes(33, 0) - svm_runtime::gas::map_nodes(1, 0)
    );
}
