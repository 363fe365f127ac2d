//! Adversarial contracts: each gives a failed receipt with the right error,
//! in bounded time and memory, and leaves the state root unchanged.

mod common;

use std::sync::Arc;

use common::*;
use svm_kv::MemKv;
use svm_runtime::{ErrorCode, Receipt, Runtime, WasmValue};
use svm_types::Address;

const IMPORTS: &str = r#"
  (import "svm" "storage_write_from_mem" (func $mem_to_st (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_read_to_mem" (func $st_to_mem (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "log" (func $log (param i32 i32)))
  (import "svm" "calldata_len" (func $cd_len (result i32)))
  (import "svm" "mem_to_reg_copy" (func $mem_to_reg (param i32 i32 i32 i32 i32)))
  (import "svm" "reg_to_mem_copy" (func $reg_to_mem (param i32 i32 i32 i32 i32)))
  (import "svm" "set_return_data" (func $ret (param i32 i32)))
"#;

const FUNCS: &str = r#"
  (func (export "set") (call $mem_to_st (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "spin") (loop $l (br $l)))
  (func (export "dirty_pages")
    (local $p i32)
    (loop $l
      (call $mem_to_st (i32.const 0) (i32.const 0) (i32.const 4) (local.get $p) (i32.const 0) (i32.const 0))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $p) (i32.const 100000)))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "size") (result i32) (memory.size))
  (func $rec (export "recurse") (param i64) (result i64)
    (i64.add (call $rec (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
  (func (export "trap") (call $mem_to_st (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 1) (i32.const 0) (i32.const 0)) unreachable)
  (func (export "cd") (result i32) (call $cd_len))
  (func (export "log_spam") (loop $l (call $log (i32.const 0) (i32.const 1024)) (br $l)))
  (func (export "oob_storage_write") (call $mem_to_st (i32.const 0) (i32.const 65535) (i32.const 16) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "oob_storage_read") (call $st_to_mem (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 0) (i32.const 65535)))
  (func (export "oob_reg_read") (call $mem_to_reg (i32.const 0) (i32.const 65535) (i32.const 16) (i32.const 256) (i32.const 0)))
  (func (export "oob_reg_write") (call $reg_to_mem (i32.const 256) (i32.const 0) (i32.const 16) (i32.const 0) (i32.const 65535)))
  (func (export "oob_return") (call $ret (i32.const 65535) (i32.const 16)))
  (func (export "oob_log") (call $log (i32.const 65535) (i32.const 16)))
  (func (export "oob_wasm_store") (i64.store (i32.const 65535) (i64.const 1)))
"#;

fn setup() -> (Runtime<Arc<MemKv>>, Address, svm_types::State) {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_wat(&rt, &module(IMPORTS, "abcd", FUNCS), 0).address;
    let r = call(&rt, c, "set", vec![]);
    assert!(r.success, "{:?}", r.error);
    (rt, c, r.new_state)
}

fn failed_with(
    rt: &Runtime<Arc<MemKv>>,
    c: Address,
    root: svm_types::State,
    r: &Receipt,
    code: ErrorCode,
) {
    assert!(!r.success);
    assert_eq!(r.error.as_ref().unwrap().code, code, "{:?}", r.error);
    assert_eq!(r.new_state, root);
    assert_eq!(r.pages_written, 0);
    assert_eq!(
        rt.contract(&c).unwrap().unwrap().state,
        root,
        "root unchanged"
    );
}

#[test]
fn infinite_loop_runs_out_of_gas() {
    let (rt, c, root) = setup();
    let mut tx = call_tx(c, "spin", vec![]);
    tx.gas_limit = 2_000_000;
    let r = rt.call(&tx);
    failed_with(&rt, c, root, &r, ErrorCode::OutOfGas);
    assert_eq!(r.gas_used, r.gas_limit);
}

#[test]
fn a_storage_loop_dirtying_thousands_of_pages_runs_out_of_gas() {
    let (rt, c, root) = setup();
    let r = call(&rt, c, "dirty_pages", vec![]);
    failed_with(&rt, c, root, &r, ErrorCode::OutOfGas);
    assert_eq!(r.gas_used, GAS);
    assert!(r.pages_read > 100, "it did load pages: {}", r.pages_read);
}

#[test]
fn memory_cannot_grow_past_the_limit() {
    let (rt, c, _) = setup();
    // The default limit is 256 pages; the module starts with 1.
    let r = call(&rt, c, "grow", vec![WasmValue::I32(300)]);
    assert!(r.success);
    assert_eq!(r.returns, vec![WasmValue::I32(-1)]);
    let r = call(&rt, c, "grow", vec![WasmValue::I32(255)]);
    assert_eq!(
        r.returns,
        vec![WasmValue::I32(1)],
        "growth up to the limit works"
    );
    // 2^32 - 1 pages asked for: priced per page, far over any gas limit.
    let r = call(&rt, c, "grow", vec![WasmValue::I32(-1)]);
    assert_eq!(r.error.unwrap().code, ErrorCode::OutOfGas);
}

#[test]
fn a_memory_declared_over_the_limit_is_rejected_at_deploy() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let code = wat::parse_str(r#"(module (memory (export "memory") 300))"#).unwrap();
    let e = rt.validate(&code).unwrap_err().to_string();
    assert!(
        e.contains("initial memory pages is 300, over the limit of 256"),
        "{e}"
    );
}

#[test]
fn deep_recursion_traps_cleanly() {
    let (rt, c, root) = setup();
    let r = call(&rt, c, "recurse", vec![WasmValue::I64(0)]);
    failed_with(&rt, c, root, &r, ErrorCode::Trap);
    // The host is fine afterwards.
    assert!(call(&rt, c, "size", vec![]).success);
}

#[test]
fn unreachable_traps_and_discards_writes() {
    let (rt, c, root) = setup();
    let r = call(&rt, c, "trap", vec![]);
    failed_with(&rt, c, root, &r, ErrorCode::Trap);
    assert!(r.error.unwrap().message.contains("unreachable"));
}

#[test]
fn huge_call_data_costs_more_than_the_limit() {
    let (rt, c, root) = setup();
    let mut tx = call_tx(c, "cd", vec![]);
    tx.calldata = vec![7; 16 << 20];
    tx.gas_limit = 1_000_000;
    let r = rt.call(&tx);
    // Refused before anything is loaded: the receipt names no state.
    assert_eq!(r.error.unwrap().code, ErrorCode::OutOfGas);
    assert_eq!(
        (r.gas_used, r.new_state),
        (tx.gas_limit, svm_types::State::ZERO)
    );
    assert_eq!(rt.contract(&c).unwrap().unwrap().state, root);
    // With enough gas it is just data.
    tx.gas_limit = 100_000_000;
    let r = rt.call(&tx);
    assert_eq!(r.returns, vec![WasmValue::I32(16 << 20)]);
}

#[test]
fn log_spam_hits_the_log_limit() {
    let (rt, c, root) = setup();
    let r = call(&rt, c, "log_spam", vec![]);
    failed_with(&rt, c, root, &r, ErrorCode::HostCall);
    assert!(r.logs.is_empty());
}

#[test]
fn out_of_bounds_through_each_host_call_is_a_failed_receipt() {
    let (rt, c, root) = setup();
    for f in [
        "oob_storage_write",
        "oob_storage_read",
        "oob_reg_read",
        "oob_reg_write",
        "oob_return",
        "oob_log",
    ] {
        let r = call(&rt, c, f, vec![]);
        failed_with(&rt, c, root, &r, ErrorCode::HostCall);
        assert!(r.error.unwrap().message.contains("out of bounds"), "{f}");
    }
    let r = call(&rt, c, "oob_wasm_store", vec![]);
    failed_with(&rt, c, root, &r, ErrorCode::Trap);
}

#[test]
fn deploy_needs_gas_for_its_code() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let code = wat::parse_str(module(IMPORTS, "", FUNCS)).unwrap();
    let needed = svm_runtime::gas::deploy(code.len());
    let tx = |gas_limit| svm_runtime::DeployTx {
        author: AUTHOR,
        nonce: 0,
        name: "x".into(),
        gas_limit,
        code: code.clone(),
    };
    assert_eq!(
        rt.deploy(&tx(needed - 1)),
        Err(svm_runtime::DeployError::OutOfGas {
            needed,
            limit: needed - 1
        })
    );
    assert_eq!(rt.deploy(&tx(needed)).unwrap().gas_used, needed);
}
