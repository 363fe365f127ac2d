//! One test per vmcall, each through a WAT contract on a real runtime,
//! including its error paths: a bad pointer, register, memory index or
//! slice ends the call as a failed receipt and leaves the state untouched.

mod common;

use std::sync::Arc;

use common::*;
use svm_kv::MemKv;
use svm_runtime::{ErrorCode, Receipt, Runtime, WasmValue};
use svm_types::Address;

const ALL: &str = r#"
  (import "svm" "mem_to_reg_copy" (func $mem_to_reg (param i32 i32 i32 i32 i32)))
  (import "svm" "reg_to_mem_copy" (func $reg_to_mem (param i32 i32 i32 i32 i32)))
  (import "svm" "storage_read_to_reg" (func $st_to_reg (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_read_to_mem" (func $st_to_mem (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_write_from_mem" (func $mem_to_st (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_write_from_reg" (func $reg_to_st (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "reg_replace_byte" (func $replace (param i32 i32 i32 i32)))
  (import "svm" "reg_read_be_i64" (func $reg_get (param i32 i32) (result i64)))
  (import "svm" "reg_write_be_i64" (func $reg_set (param i64 i32 i32)))
  (import "svm" "calldata_len" (func $cd_len (result i32)))
  (import "svm" "calldata_copy" (func $cd_copy (param i32 i32 i32)))
  (import "svm" "set_return_data" (func $ret (param i32 i32)))
  (import "svm" "log" (func $log (param i32 i32)))
  (import "svm" "sender_to_reg" (func $sender (param i32 i32)))
  (import "svm" "self_to_reg" (func $self (param i32 i32)))
  (import "svm" "transfer" (func $transfer (param i32 i32 i64)))
  (import "svm" "value" (func $value (result i64)))
  (import "node" "vmcall_get_balance" (func $get_bal (param i32 i32) (result i64)))
  (import "node" "vmcall_set_balance" (func $set_bal (param i64 i32 i32)))
"#;

type Rt = Runtime<Arc<MemKv>>;

fn setup(funcs: &str) -> (Rt, Address) {
    let (rt, _) = runtime_with_set_balance(Arc::new(MemKv::new()));
    let d = deploy_wat(&rt, &module(ALL, "hello world", funcs), 0);
    (rt, d.address)
}

fn ok(r: &Receipt) {
    assert!(r.success, "call failed: {:?}", r.error);
}

fn host_err(r: &Receipt, needle: &str) {
    assert!(!r.success, "call succeeded");
    let e = r.error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::HostCall, "{e}");
    assert!(
        e.message.contains(needle),
        "{:?} lacks {needle:?}",
        e.message
    );
}

#[test]
fn mem_to_reg_copy_zero_fills_and_checks_bounds() {
    let (rt, c) = setup(
        r#"
        (func (export "run")
          (call $reg_set (i64.const -1) (i32.const 64) (i32.const 2))
          (call $mem_to_reg (i32.const 0) (i32.const 0) (i32.const 5) (i32.const 64) (i32.const 2))
          (call $reg_to_mem (i32.const 64) (i32.const 2) (i32.const 8) (i32.const 0) (i32.const 100))
          (call $ret (i32.const 100) (i32.const 8)))
        (func (export "oob_ptr") (call $mem_to_reg (i32.const 0) (i32.const 65534) (i32.const 5) (i32.const 64) (i32.const 0)))
        (func (export "neg_ptr") (call $mem_to_reg (i32.const 0) (i32.const -1) (i32.const 1) (i32.const 64) (i32.const 0)))
        (func (export "bad_mem") (call $mem_to_reg (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 64) (i32.const 0)))
        (func (export "too_long") (call $mem_to_reg (i32.const 0) (i32.const 0) (i32.const 9) (i32.const 64) (i32.const 0)))
        (func (export "bad_reg") (call $mem_to_reg (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 64) (i32.const 16)))
        "#,
    );
    let r = call(&rt, c, "run", vec![]);
    ok(&r);
    assert_eq!(r.return_data, b"hello\0\0\0");
    host_err(&call(&rt, c, "oob_ptr", vec![]), "out of bounds");
    host_err(&call(&rt, c, "neg_ptr", vec![]), "out of bounds");
    host_err(&call(&rt, c, "bad_mem", vec![]), "memory index 1");
    host_err(&call(&rt, c, "too_long", vec![]), "9 bytes do not fit");
    host_err(&call(&rt, c, "bad_reg", vec![]), "register index 16");
}

#[test]
fn reg_to_mem_copy_copies_a_prefix_and_checks_bounds() {
    let (rt, c) = setup(
        r#"
        (func (export "run")
          (call $reg_set (i64.const 0x0102030405060708) (i32.const 64) (i32.const 0))
          (call $reg_to_mem (i32.const 64) (i32.const 0) (i32.const 3) (i32.const 0) (i32.const 200))
          (call $ret (i32.const 200) (i32.const 4)))
        (func (export "oob") (call $reg_to_mem (i32.const 64) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 65530)))
        (func (export "bad_width") (call $reg_to_mem (i32.const 128) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0)))
        (func (export "bad_mem") (call $reg_to_mem (i32.const 64) (i32.const 0) (i32.const 8) (i32.const 7) (i32.const 0)))
        "#,
    );
    let r = call(&rt, c, "run", vec![]);
    ok(&r);
    assert_eq!(r.return_data, vec![1, 2, 3, 0]);
    host_err(&call(&rt, c, "oob", vec![]), "out of bounds");
    host_err(&call(&rt, c, "bad_width", vec![]), "no 128-bit registers");
    host_err(&call(&rt, c, "bad_mem", vec![]), "memory index 7");
}

#[test]
fn storage_write_from_mem_and_read_to_mem_persist_across_calls() {
    let (rt, c) = setup(
        r#"
        (func (export "write") (call $mem_to_st (i32.const 0) (i32.const 0) (i32.const 5) (i32.const 3) (i32.const 0) (i32.const 4090)))
        (func (export "read")
          (call $st_to_mem (i32.const 3) (i32.const 9) (i32.const 4088) (i32.const 8) (i32.const 0) (i32.const 300))
          (call $ret (i32.const 300) (i32.const 8)))
        (func (export "cross_page") (call $mem_to_st (i32.const 0) (i32.const 0) (i32.const 7) (i32.const 3) (i32.const 0) (i32.const 4090)))
        (func (export "huge_offset") (call $st_to_mem (i32.const 0) (i32.const 0) (i32.const -1) (i32.const 2) (i32.const 0) (i32.const 0)))
        (func (export "oob_mem") (call $st_to_mem (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 65535)))
        "#,
    );
    let empty = call(&rt, c, "read", vec![]);
    ok(&empty);
    assert_eq!(
        empty.return_data,
        vec![0; 8],
        "never written reads as zeros"
    );
    let w = call(&rt, c, "write", vec![]);
    ok(&w);
    assert_eq!(w.pages_written, 1);
    assert_ne!(w.new_state, empty.new_state);
    let r = call(&rt, c, "read", vec![]);
    ok(&r);
    assert_eq!(r.return_data, b"\0\0hello\0".to_vec());
    assert_eq!(r.new_state, w.new_state, "a read-only call keeps the root");
    assert_eq!(r.pages_read, 1);
    host_err(&call(&rt, c, "cross_page", vec![]), "does not fit");
    host_err(&call(&rt, c, "huge_offset", vec![]), "does not fit");
    host_err(&call(&rt, c, "oob_mem", vec![]), "out of bounds");
    assert_eq!(rt.contract(&c).unwrap().unwrap().state, w.new_state);
}

#[test]
fn storage_write_from_reg_and_read_to_reg() {
    let (rt, c) = setup(
        r#"
        (func (export "write") (param i64)
          (call $reg_set (local.get 0) (i32.const 64) (i32.const 1))
          (call $reg_to_st (i32.const 64) (i32.const 1) (i32.const 8) (i32.const 0) (i32.const 0) (i32.const 16)))
        (func (export "read") (result i64)
          (call $reg_set (i64.const -1) (i32.const 160) (i32.const 0))
          (call $st_to_reg (i32.const 0) (i32.const 0) (i32.const 16) (i32.const 4) (i32.const 64) (i32.const 3))
          (call $reg_get (i32.const 64) (i32.const 3)))
        (func (export "too_long") (call $reg_to_st (i32.const 32) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0) (i32.const 0)))
        (func (export "reg_too_small") (call $st_to_reg (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 0)))
        "#,
    );
    ok(&call(
        &rt,
        c,
        "write",
        vec![WasmValue::I64(0x0a0b0c0d_01020304)],
    ));
    let r = call(&rt, c, "read", vec![]);
    ok(&r);
    // The first 4 stored bytes, zero-filled after.
    assert_eq!(r.returns, vec![WasmValue::I64(0x0a0b0c0d_00000000)]);
    host_err(
        &call(&rt, c, "too_long", vec![]),
        "do not fit in a 32-bit register",
    );
    host_err(
        &call(&rt, c, "reg_too_small", vec![]),
        "do not fit in a 32-bit register",
    );
}

#[test]
fn reg_replace_byte_read_and_write_be_i64() {
    let (rt, c) = setup(
        r#"
        (func (export "run") (result i64)
          (call $reg_set (i64.const 0x1122334455667788) (i32.const 256) (i32.const 3))
          (call $replace (i32.const 256) (i32.const 3) (i32.const 0xff) (i32.const 0))
          (call $replace (i32.const 256) (i32.const 3) (i32.const 0x99) (i32.const 31))
          (call $reg_get (i32.const 256) (i32.const 3)))
        (func (export "big_byte") (call $replace (i32.const 64) (i32.const 0) (i32.const 256) (i32.const 0)))
        (func (export "bad_offset") (call $replace (i32.const 64) (i32.const 0) (i32.const 1) (i32.const 8)))
        (func (export "read32") (result i64) (call $reg_get (i32.const 32) (i32.const 0)))
        (func (export "write_bad") (call $reg_set (i64.const 1) (i32.const 512) (i32.const 4)))
        "#,
    );
    let r = call(&rt, c, "run", vec![]);
    ok(&r);
    assert_eq!(
        r.returns,
        vec![WasmValue::I64(0xff22334455667788u64 as i64)]
    );
    host_err(&call(&rt, c, "big_byte", vec![]), "larger than 255");
    host_err(&call(&rt, c, "bad_offset", vec![]), "do not fit");
    host_err(
        &call(&rt, c, "read32", vec![]),
        "do not fit in a 32-bit register",
    );
    host_err(&call(&rt, c, "write_bad", vec![]), "register index 4");
}

#[test]
fn calldata_len_and_copy() {
    let (rt, c) = setup(
        r#"
        (func (export "echo") (result i32)
          (call $cd_copy (i32.const 1000) (i32.const 1) (i32.sub (call $cd_len) (i32.const 1)))
          (call $ret (i32.const 1000) (i32.sub (call $cd_len) (i32.const 1)))
          (call $cd_len))
        (func (export "past_end") (call $cd_copy (i32.const 0) (i32.const 2) (call $cd_len)))
        "#,
    );
    let mut tx = call_tx(c, "echo", vec![]);
    tx.calldata = b"xcall data".to_vec();
    let r = rt.call(&tx);
    ok(&r);
    assert_eq!(r.return_data, b"call data");
    assert_eq!(r.returns, vec![WasmValue::I32(10)]);
    tx.function = "past_end".into();
    host_err(&rt.call(&tx), "call data range");
}

#[test]
fn set_return_data_and_log() {
    let (rt, c) = setup(
        r#"
        (func (export "run")
          (call $log (i32.const 0) (i32.const 5))
          (call $log (i32.const 6) (i32.const 5))
          (call $ret (i32.const 0) (i32.const 11)))
        (func (export "fail_after_log")
          (call $log (i32.const 0) (i32.const 5))
          unreachable)
        (func (export "huge_return") (call $ret (i32.const 0) (i32.const 65537)))
        (func (export "log_oob") (call $log (i32.const 65535) (i32.const 2)))
        "#,
    );
    let r = call(&rt, c, "run", vec![]);
    ok(&r);
    assert_eq!(r.logs, vec![b"hello".to_vec(), b"world".to_vec()]);
    assert_eq!(r.return_data, b"hello world");
    let f = call(&rt, c, "fail_after_log", vec![]);
    assert!(!f.success);
    assert!(f.logs.is_empty(), "a failed call has no logs");
    host_err(&call(&rt, c, "huge_return", vec![]), "return data exceeds");
    host_err(&call(&rt, c, "log_oob", vec![]), "out of bounds");
}

#[test]
fn sender_and_self_to_reg() {
    let (rt, c) = setup(
        r#"
        (func (export "run")
          (call $sender (i32.const 160) (i32.const 0))
          (call $self (i32.const 256) (i32.const 1))
          (call $reg_to_mem (i32.const 160) (i32.const 0) (i32.const 20) (i32.const 0) (i32.const 0))
          (call $reg_to_mem (i32.const 256) (i32.const 1) (i32.const 32) (i32.const 0) (i32.const 20))
          (call $ret (i32.const 0) (i32.const 52)))
        (func (export "too_small") (call $sender (i32.const 64) (i32.const 0)))
        "#,
    );
    let r = call(&rt, c, "run", vec![]);
    ok(&r);
    let mut want = SENDER.as_bytes().to_vec();
    want.extend_from_slice(c.as_bytes());
    want.extend_from_slice(&[0; 12]);
    assert_eq!(r.return_data, want);
    host_err(&call(&rt, c, "too_small", vec![]), "20 bytes do not fit");
}

const ALICE: Address = Address([0xaa; 20]);

#[test]
fn node_balances_and_transfer_commit_only_on_success() {
    let kv = Arc::new(MemKv::new());
    let (rt, node) = runtime_with_set_balance(kv);
    let d = deploy_wat(
        &rt,
        &module(
            ALL,
            "\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa\\aa",
            r#"
        (func $alice (call $mem_to_reg (i32.const 0) (i32.const 0) (i32.const 20) (i32.const 160) (i32.const 2)))
        (func (export "get") (result i64) (call $alice) (call $get_bal (i32.const 160) (i32.const 2)))
        (func (export "set") (param i64) (call $alice) (call $set_bal (local.get 0) (i32.const 160) (i32.const 2)))
        (func (export "set_then_fail") (param i64) (call $alice) (call $set_bal (local.get 0) (i32.const 160) (i32.const 2)) unreachable)
        (func (export "pay") (param i64) (call $alice) (call $transfer (i32.const 160) (i32.const 2) (local.get 0)))
        (func (export "self_balance") (result i64) (call $self (i32.const 160) (i32.const 0)) (call $get_bal (i32.const 160) (i32.const 0)))
        (func (export "bad_reg") (result i64) (call $get_bal (i32.const 64) (i32.const 0)))
        "#,
        ),
        0,
    );
    let c = d.address;
    node.set_balance(&ALICE, 7).unwrap();
    node.set_balance(&c, 100).unwrap();
    let r = call(&rt, c, "get", vec![]);
    ok(&r);
    assert_eq!(r.returns, vec![WasmValue::I64(7)]);

    ok(&call(&rt, c, "set", vec![WasmValue::I64(50)]));
    assert_eq!(svm_runtime::NodeHost::balance(&*node, &ALICE).unwrap(), 50);
    assert!(!call(&rt, c, "set_then_fail", vec![WasmValue::I64(1)]).success);
    assert_eq!(
        svm_runtime::NodeHost::balance(&*node, &ALICE).unwrap(),
        50,
        "failed run changes nothing"
    );
    host_err(&call(&rt, c, "set", vec![WasmValue::I64(-1)]), "negative");

    ok(&call(&rt, c, "pay", vec![WasmValue::I64(30)]));
    assert_eq!(svm_runtime::NodeHost::balance(&*node, &ALICE).unwrap(), 80);
    assert_eq!(svm_runtime::NodeHost::balance(&*node, &c).unwrap(), 70);
    let r = call(&rt, c, "self_balance", vec![]);
    assert_eq!(r.returns, vec![WasmValue::I64(70)]);
    host_err(
        &call(&rt, c, "pay", vec![WasmValue::I64(71)]),
        "insufficient balance",
    );
    host_err(&call(&rt, c, "pay", vec![WasmValue::I64(-5)]), "negative");
    assert_eq!(svm_runtime::NodeHost::balance(&*node, &c).unwrap(), 70);
    host_err(&call(&rt, c, "bad_reg", vec![]), "20 bytes do not fit");
}

#[test]
fn every_vmcall_of_the_table_is_in_the_import_object() {
    // A module importing every vmcall of the gate's table, with the
    // table's signatures, deploys and instantiates: the table and the
    // import object agree on names and signatures.
    let ty = |k: &svm_runtime::imports::ValKind| match k {
        svm_runtime::imports::ValKind::I32 => "i32",
        svm_runtime::imports::ValKind::I64 => "i64",
    };
    let imports: String = svm_runtime::imports::VMCALLS
        .iter()
        .map(|v| {
            let params: Vec<_> = v.params.iter().map(ty).collect();
            let results: Vec<_> = v.results.iter().map(ty).collect();
            format!(
                "(import \"{}\" \"{}\" (func (param {}) (result {})))\n",
                v.module,
                v.name,
                params.join(" "),
                results.join(" ")
            )
        })
        .collect();
    let (rt, _) = runtime_with_set_balance(Arc::new(MemKv::new()));
    let wat = format!("(module {imports} (memory (export \"memory\") 1) (func (export \"nop\")))");
    let c = deploy_wat(&rt, &wat, 0).address;
    ok(&call(&rt, c, "nop", vec![]));
    assert_eq!(svm_runtime::imports::VMCALLS.len(), 27);
}

#[test]
fn abort_fails_the_call_with_its_message_and_rolls_back() {
    let imports = r#"
  (import "svm" "abort" (func $abort (param i32 i32)))
  (import "svm" "storage_write_from_mem" (func $mem_to_st (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_read_to_mem" (func $st_to_mem (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "set_return_data" (func $ret (param i32 i32)))
  (import "svm" "log" (func $log (param i32 i32)))"#;
    let (rt, _) = runtime_with_set_balance(Arc::new(MemKv::new()));
    let funcs = r#"
        (func (export "write_then_abort")
          (call $mem_to_st (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const 0))
          (call $log (i32.const 0) (i32.const 4))
          (call $abort (i32.const 5) (i32.const 8)))
        (func (export "read")
          (call $st_to_mem (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 4) (i32.const 0) (i32.const 100))
          (call $ret (i32.const 100) (i32.const 4)))
        (func (export "long") (call $abort (i32.const 0) (i32.const 60000)))
        (func (export "oob") (call $abort (i32.const 65535) (i32.const 2)))
        (func (export "cut_oob") (call $abort (i32.const 65000) (i32.const 2000)))"#;
    let c = deploy_wat(&rt, &module(imports, "data no funds", funcs), 0).address;
    let r = call(&rt, c, "write_then_abort", vec![]);
    assert!(!r.success);
    let e = r.error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::Trap);
    assert_eq!(e.message, "contract aborted: no funds");
    assert!(r.logs.is_empty(), "a failed call keeps no logs");
    // The write before the abort was rolled back.
    let r = call(&rt, c, "read", vec![]);
    ok(&r);
    assert_eq!(r.return_data, [0; 4]);
    // A message longer than 1024 bytes is cut, and costs only what is kept.
    let r = call(&rt, c, "long", vec![]);
    let e = r.error.unwrap();
    assert_eq!(e.code, ErrorCode::Trap);
    assert_eq!(e.message.len(), "contract aborted: ".len() + 1024);
    // Out-of-bounds message bytes: the vmcall fails as a host call.
    host_err(&call(&rt, c, "oob", vec![]), "out of bounds");
    // Only the kept 1024 bytes must be in memory: 65000 + 1024 > 65536.
    host_err(&call(&rt, c, "cut_oob", vec![]), "out of bounds");
}
