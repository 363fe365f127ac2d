//! What the maximum gas of one transaction buys, per resource, at the
//! default limits (`RuntimeConfig::default()`, `max_tx_gas` = 100 000 000).
//! Each test takes as much of one resource as one transaction can and
//! asserts it stays far below what a node has (at most 256 MiB); the wall
//! time is printed (`-- --nocapture`) and recorded in `docs/gas.md`.

mod common;

use std::sync::Arc;
use std::time::Instant;

use common::*;
use svm_kv::MemKv;
use svm_runtime::{DeployTx, ErrorCode, Receipt, Runtime, RuntimeConfig, WasmValue, gas};
use svm_types::Address;

const MAX: u64 = 100_000_000;
const MIB: u64 = 1 << 20;

const GREEDY: &str = r#"(module
  (import "svm" "storage_write_from_mem" (func $st (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "x")
  (table $t 1 funcref)
  (func (export "grow_memory") (result i32)
    (loop $l (br_if $l (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    (memory.size))
  (func (export "table") (result i32)
    (loop $l (br_if $l (i32.ne (table.grow $t (ref.null func) (i32.const 1)) (i32.const -1))))
    (table.size $t))
  (func (export "fill")
    (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 65536)) (br $l)))
  (func $rec (export "recurse") (param i64) (result i64)
    (i64.add (call $rec (i64.add (local.get 0) (i64.const 1))) (i64.const 1)))
  (func (export "log")
    (loop $l (call $log (i32.const 0) (i32.const 4096)) (br $l)))
  (func (export "pages")
    (local $p i32)
    (loop $l
      (call $st (i32.const 0) (i32.const 0) (i32.const 1) (local.get $p) (i32.const 0) (i32.const 0))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $l)))
  (func (export "commit_pages") (param $n i32)
    (local $p i32)
    (loop $l
      (call $st (i32.const 0) (i32.const 0) (i32.const 1) (local.get $p) (i32.const 0) (i32.const 0))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $p) (local.get $n))))))"#;

fn setup() -> (Runtime<Arc<MemKv>>, Address) {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    assert_eq!(rt.config().max_tx_gas, MAX);
    let c = deploy_wat(&rt, GREEDY, 0).address;
    (rt, c)
}

fn max_call(rt: &Runtime<Arc<MemKv>>, c: Address, f: &str, args: Vec<WasmValue>) -> Receipt {
    let mut tx = call_tx(c, f, args);
    tx.gas_limit = MAX;
    let start = Instant::now();
    let r = rt.call(&tx);
    eprintln!(
        "{f}: {:?}, {} gas, {:?}",
        r.error.as_ref().map(|e| e.code),
        r.gas_used,
        start.elapsed()
    );
    r
}

#[test]
fn memory_stops_at_its_page_limit() {
    let (rt, c) = setup();
    let r = max_call(&rt, c, "grow_memory", vec![]);
    let pages = RuntimeConfig::default().limits.max_memory_pages;
    assert_eq!(
        r.returns,
        vec![WasmValue::I32(pages as i32)],
        "{:?}",
        r.error
    );
    assert!(pages * 64 * 1024 <= 16 * MIB);
    assert!(r.gas_used >= (pages - 1) * gas::MEMORY_PAGE);
}

#[test]
fn tables_stop_at_their_element_limit() {
    let (rt, c) = setup();
    let r = max_call(&rt, c, "table", vec![]);
    let limit = RuntimeConfig::default().limits.max_table_elements;
    assert_eq!(
        r.returns,
        vec![WasmValue::I32(limit as i32)],
        "{:?}",
        r.error
    );
    assert!(r.gas_used >= (limit - 1) * gas::TABLE_ELEMENT);
}

#[test]
fn bulk_memory_writes_at_most_the_gas_in_bytes() {
    let (rt, c) = setup();
    let r = max_call(&rt, c, "fill", vec![]);
    assert_eq!(r.error.unwrap().code, ErrorCode::OutOfGas);
    // 1 gas per byte: at most 100 M bytes written (in a 64 KiB region).
    const { assert!(MAX / gas::BULK_BYTE <= 100_000_000) };
}

#[test]
fn the_stack_is_bounded() {
    let (rt, c) = setup();
    let r = max_call(&rt, c, "recurse", vec![WasmValue::I64(0)]);
    let e = r.error.unwrap();
    assert_eq!(
        (e.code, e.message.as_str()),
        (ErrorCode::Trap, "call stack exhausted")
    );
    assert!(r.gas_used < MAX, "the stack limit comes first");
    assert_eq!(RuntimeConfig::default().max_stack_slots, 32_768);
    assert!(RuntimeConfig::default().native_stack_bytes() <= 4 << 20);
}

#[test]
fn host_allocations_are_bounded_by_the_output_limits() {
    let (rt, c) = setup();
    let r = max_call(&rt, c, "log", vec![]);
    assert_eq!(r.error.unwrap().code, ErrorCode::HostCall);
    let limits = RuntimeConfig::default().outputs;
    assert!(limits.max_log_bytes + limits.max_return_data <= 128 * 1024);
}

#[test]
fn storage_touched_in_one_call_is_bounded_by_the_page_load_price() {
    let (rt, c) = setup();
    let r = max_call(&rt, c, "pages", vec![]);
    assert_eq!(r.error.as_ref().unwrap().code, ErrorCode::OutOfGas);
    let most = MAX / gas::PAGE_LOAD;
    assert!(u64::from(r.pages_read) <= most);
    assert!(u64::from(r.pages_read) >= most * 9 / 10);
    assert!(
        most * 4096 <= 80 * MIB,
        "{} MiB of pages",
        most * 4096 / MIB
    );
}

#[test]
fn storage_committed_in_one_call_is_bounded_by_the_page_write_price() {
    let (rt, c) = setup();
    let per_page = gas::PAGE_LOAD + gas::PAGE_WRITE;
    let most = MAX / per_page;
    // The most pages one transaction can commit, then one more.
    let fits = (most * 98 / 100) as i32;
    let r = max_call(&rt, c, "commit_pages", vec![WasmValue::I32(fits)]);
    assert!(r.success, "{:?}", r.error);
    assert_eq!(u64::from(r.pages_written), fits as u64);
    // On a fresh contract (pages already holding the byte do not dirty).
    let (rt, c) = setup();
    let r = max_call(
        &rt,
        c,
        "commit_pages",
        vec![WasmValue::I32(most as i32 + 1)],
    );
    assert_eq!(r.error.unwrap().code, ErrorCode::OutOfGas);
    assert!(most * 4096 <= 16 * MIB);
}

#[test]
fn the_largest_code_compiles_for_its_deploy_gas() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let config = RuntimeConfig::default();
    // As many functions as the gate allows, each with a body of integer
    // operations, up to the code-size limit.
    let body = "(i32.add (i32.mul (local.get 0) (i32.const 7)) (i32.const 3)) drop ".repeat(4);
    let mut wat = String::from(r#"(module (memory (export "memory") 1)"#);
    for i in 0..config.limits.max_functions {
        wat.push_str(&format!("(func $f{i} (param i32) {body})"));
    }
    wat.push(')');
    let code = wat::parse_str(&wat).unwrap();
    assert!(code.len() <= config.max_code_bytes, "{} bytes", code.len());
    let needed = gas::deploy(code.len());
    assert!(needed <= MAX);
    let start = Instant::now();
    let d = rt
        .deploy(&DeployTx {
            author: AUTHOR,
            nonce: 0,
            name: "big".into(),
            gas_limit: MAX,
            code: code.clone(),
        })
        .unwrap();
    eprintln!(
        "deploy of {} bytes ({} functions): {} gas, {:?}",
        code.len(),
        config.limits.max_functions,
        d.gas_used,
        start.elapsed()
    );
    assert_eq!(d.gas_used, needed);
}
