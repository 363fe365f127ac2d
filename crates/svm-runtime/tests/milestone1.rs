//! SVM milestone-1 contracts run unchanged: they declare `(memory 1)`
//! without exporting it (the 2019 runtime reached memory 0 through its
//! context). The code is stored as deployed (address and code hash from
//! the original bytes) and the vmcalls reach memory 0 anyway, through the
//! export the compiler adds under `gate::RESERVED_MEMORY_EXPORT`.
//!
//! One contract in that style uses every milestone-1 vmcall (the nine
//! register, memory and storage calls of `docs/vmcalls.md`) and the two
//! `node` balance calls.

mod common;

use std::sync::Arc;

use common::*;
use svm_kv::MemKv;
use svm_runtime::contracts::code_hash;
use svm_runtime::gate::{GateError, RESERVED_MEMORY_EXPORT, Rejection};
use svm_runtime::{DeployError, DeployTx, ErrorCode, NodeHost, Receipt, WasmValue};
use svm_types::Address;

/// Milestone-1 style: imports, an unexported `(memory 1)`, data segments,
/// exported functions only.
const MILESTONE1: &str = r#"(module
  (import "svm" "mem_to_reg_copy" (func $mem_to_reg (param i32 i32 i32 i32 i32)))
  (import "svm" "reg_to_mem_copy" (func $reg_to_mem (param i32 i32 i32 i32 i32)))
  (import "svm" "storage_read_to_reg" (func $st_to_reg (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_read_to_mem" (func $st_to_mem (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_write_from_mem" (func $mem_to_st (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_write_from_reg" (func $reg_to_st (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "reg_replace_byte" (func $replace (param i32 i32 i32 i32)))
  (import "svm" "reg_read_be_i64" (func $reg_get (param i32 i32) (result i64)))
  (import "svm" "reg_write_be_i64" (func $reg_set (param i64 i32 i32)))
  (import "node" "vmcall_get_balance" (func $get_bal (param i32 i32) (result i64)))
  (import "node" "vmcall_set_balance" (func $set_bal (param i64 i32 i32)))
  (memory 1)
  (data (i32.const 0) "milestone one")
  (data (i32.const 32) "\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc\cc")
  ;; memory[0..8] into the 64-bit register 0, its first byte replaced by
  ;; 'A', stored at page 0, slice 0.
  (func (export "store")
    (call $mem_to_reg (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 64) (i32.const 0))
    (call $replace (i32.const 64) (i32.const 0) (i32.const 65) (i32.const 0))
    (call $reg_to_st (i32.const 64) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0) (i32.const 0)))
  ;; page 0 slice 0 read back through a register.
  (func (export "load") (result i64)
    (call $st_to_reg (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 64) (i32.const 1))
    (call $reg_get (i32.const 64) (i32.const 1)))
  ;; page 0 into memory, memory to page 1 (slice 1, offset 8); the number
  ;; through a register into memory, and memory to page 1 (offset 16).
  (func (export "copy") (param i64)
    (call $st_to_mem (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 100))
    (call $mem_to_st (i32.const 0) (i32.const 100) (i32.const 8) (i32.const 1) (i32.const 1) (i32.const 8))
    (call $reg_set (local.get 0) (i32.const 64) (i32.const 2))
    (call $reg_to_mem (i32.const 64) (i32.const 2) (i32.const 8) (i32.const 0) (i32.const 200))
    (call $mem_to_st (i32.const 0) (i32.const 200) (i32.const 8) (i32.const 1) (i32.const 2) (i32.const 16)))
  (func (export "load_copy") (result i64)
    (call $st_to_reg (i32.const 1) (i32.const 1) (i32.const 8) (i32.const 8) (i32.const 64) (i32.const 3))
    (call $reg_get (i32.const 64) (i32.const 3)))
  (func (export "load_number") (result i64)
    (call $st_to_mem (i32.const 1) (i32.const 2) (i32.const 16) (i32.const 8) (i32.const 0) (i32.const 300))
    (call $mem_to_reg (i32.const 0) (i32.const 300) (i32.const 8) (i32.const 64) (i32.const 4))
    (call $reg_get (i32.const 64) (i32.const 4)))
  ;; The account 0xcc..cc (memory 32..52) through a 160-bit register.
  (func (export "set_balance") (param i64)
    (call $mem_to_reg (i32.const 0) (i32.const 32) (i32.const 20) (i32.const 160) (i32.const 0))
    (call $set_bal (local.get 0) (i32.const 160) (i32.const 0)))
  (func (export "get_balance") (result i64)
    (call $mem_to_reg (i32.const 0) (i32.const 32) (i32.const 20) (i32.const 160) (i32.const 0))
    (call $get_bal (i32.const 160) (i32.const 0)))
  ;; Out of bounds of the one page: a failed receipt, as for any contract.
  (func (export "oob")
    (call $mem_to_reg (i32.const 0) (i32.const 65530) (i32.const 8) (i32.const 64) (i32.const 0))))"#;

const ACCOUNT: Address = Address([0xcc; 20]);

fn ok(r: &Receipt) -> &Receipt {
    assert!(r.success, "call failed: {:?}", r.error);
    r
}

fn i64_of(r: &Receipt) -> i64 {
    match ok(r).returns.as_slice() {
        [WasmValue::I64(v)] => *v,
        other => panic!("returns {other:?}"),
    }
}

fn deploy(
    rt: &svm_runtime::Runtime<Arc<MemKv>>,
    code: &[u8],
) -> Result<svm_runtime::Deployed, DeployError> {
    rt.deploy(&DeployTx {
        author: AUTHOR,
        nonce: 0,
        name: "milestone-1".into(),
        gas_limit: GAS,
        code: code.to_vec(),
    })
}

#[test]
fn a_milestone1_contract_runs_every_vmcall_unchanged() {
    let code = wat::parse_str(MILESTONE1).unwrap();
    let (rt, node) = runtime_with_set_balance(Arc::new(MemKv::new()));
    let d = deploy(&rt, &code).expect("deploys");
    assert_eq!(
        d.code_hash,
        code_hash(&code),
        "the hash of the original bytes"
    );
    let c = d.address;

    ok(&call(&rt, c, "store", vec![]));
    let stored = i64::from_be_bytes(*b"Aileston");
    assert_eq!(i64_of(&call(&rt, c, "load", vec![])), stored);

    ok(&call(&rt, c, "copy", vec![WasmValue::I64(-42)]));
    assert_eq!(i64_of(&call(&rt, c, "load_copy", vec![])), stored);
    assert_eq!(i64_of(&call(&rt, c, "load_number", vec![])), -42);

    ok(&call(&rt, c, "set_balance", vec![WasmValue::I64(777)]));
    assert_eq!(node.balance(&ACCOUNT).unwrap(), 777);
    assert_eq!(i64_of(&call(&rt, c, "get_balance", vec![])), 777);

    let r = call(&rt, c, "oob", vec![]);
    assert!(!r.success);
    assert_eq!(r.error.unwrap().code, ErrorCode::HostCall);
}

#[test]
fn the_reserved_export_is_not_a_function_to_call() {
    let code = wat::parse_str(MILESTONE1).unwrap();
    let (rt, _) = runtime_with_set_balance(Arc::new(MemKv::new()));
    let c = deploy(&rt, &code).unwrap().address;
    let r = call(&rt, c, RESERVED_MEMORY_EXPORT, vec![]);
    assert!(!r.success);
    assert_eq!(r.error.unwrap().code, ErrorCode::FunctionNotFound);
}

#[test]
fn set_balance_stays_behind_the_runtime_setting() {
    let code = wat::parse_str(MILESTONE1).unwrap();
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    match deploy(&rt, &code) {
        Err(DeployError::Gate(Rejection(f))) => {
            assert_eq!(
                f,
                vec![GateError::DisabledVmCall("node.vmcall_set_balance")]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_module_may_not_export_the_reserved_name() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let code = wat::parse_str(format!(
        r#"(module (memory 1) (func (export "{RESERVED_MEMORY_EXPORT}")))"#
    ))
    .unwrap();
    match deploy(&rt, &code) {
        Err(DeployError::Gate(Rejection(f))) => {
            assert_eq!(
                f,
                vec![GateError::ReservedExport(RESERVED_MEMORY_EXPORT.into())]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_module_without_any_export_deploys() {
    // Nothing to call, but valid: the compiler makes the export section.
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let code = wat::parse_str(r#"(module (memory 1) (data (i32.const 0) "x"))"#).unwrap();
    let d = deploy(&rt, &code).expect("deploys");
    let r = call(&rt, d.address, "main", vec![]);
    assert_eq!(r.error.unwrap().code, ErrorCode::FunctionNotFound);
}
