//! Contract-to-contract calls (`svm.call`): success, a failing callee
//! rolled back while its caller goes on, a failing caller rolling back its
//! callee, re-entrancy refused, the depth limit, out of gas inside the
//! callee, value, and the same receipts on both compilers.

mod common;

use std::sync::Arc;

use common::*;
use svm_kv::MemKv;
#[cfg(feature = "cranelift")]
use svm_runtime::Compiler;
use svm_runtime::{CallTx, ErrorCode, KvNodeHost, Receipt, Runtime, RuntimeConfig, WasmValue};
use svm_types::Address;

/// Calls the contract and function named by its call data: address (20
/// bytes) ‖ gas (`i64`, little-endian) ‖ value (`i64`, little-endian) ‖
/// function name. It logs "caller", writes "caller" to its page 1, returns
/// the callee's status and sets the callee's return data as its own.
const CALLER: &str = r#"(module
  (import "svm" "calldata_len" (func $cdlen (result i32)))
  (import "svm" "calldata_copy" (func $cdcopy (param i32 i32 i32)))
  (import "svm" "mem_to_reg_copy" (func $m2r (param i32 i32 i32 i32 i32)))
  (import "svm" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64 i64) (result i32)))
  (import "svm" "returndata_len" (func $rdlen (result i32)))
  (import "svm" "returndata_copy" (func $rdcopy (param i32 i32 i32)))
  (import "svm" "set_return_data" (func $setret (param i32 i32)))
  (import "svm" "storage_write_from_mem" (func $swm (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "log" (func $log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 512) "caller")
  (func $do (result i32)
    (local $n i32) (local $status i32)
    (local.set $n (call $cdlen))
    (call $cdcopy (i32.const 0) (i32.const 0) (local.get $n))
    (call $m2r (i32.const 0) (i32.const 0) (i32.const 20) (i32.const 160) (i32.const 0))
    (call $log (i32.const 512) (i32.const 6))
    (call $swm (i32.const 0) (i32.const 512) (i32.const 6) (i32.const 1) (i32.const 0) (i32.const 0))
    (local.set $status
      (call $call (i32.const 160) (i32.const 0)
        (i32.const 36) (i32.sub (local.get $n) (i32.const 36))
        (i32.const 0) (i32.const 0)
        (i64.load (i32.const 20)) (i64.load (i32.const 28))))
    (call $rdcopy (i32.const 1024) (i32.const 0) (call $rdlen))
    (call $setret (i32.const 1024) (call $rdlen))
    (local.get $status))
  (func (export "callf") (result i32) (call $do))
  (func (export "callf_or_trap") (result i32)
    (if (call $do) (then unreachable))
    (i32.const 0)))"#;

/// Keeps a counter (8 bytes, big-endian) at page 0; `inc` adds 1, logs
/// "inc" and returns the new counter as return data.
const CALLEE: &str = r#"(module
  (import "svm" "storage_read_to_reg" (func $sr (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "reg_read_be_i64" (func $rr (param i32 i32) (result i64)))
  (import "svm" "reg_write_be_i64" (func $rw (param i64 i32 i32)))
  (import "svm" "storage_write_from_reg" (func $swr (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "reg_to_mem_copy" (func $r2m (param i32 i32 i32 i32 i32)))
  (import "svm" "set_return_data" (func $setret (param i32 i32)))
  (import "svm" "log" (func $log (param i32 i32)))
  (import "svm" "self_to_reg" (func $self (param i32 i32)))
  (import "svm" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64 i64) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "inc")
  (data (i32.const 16) "recurse")
  (func $inc
    (call $sr (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 64) (i32.const 0))
    (call $rw (i64.add (call $rr (i32.const 64) (i32.const 0)) (i64.const 1))
      (i32.const 64) (i32.const 0))
    (call $swr (i32.const 64) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $r2m (i32.const 64) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 100))
    (call $setret (i32.const 100) (i32.const 8))
    (call $log (i32.const 0) (i32.const 3)))
  (func (export "inc") (call $inc))
  (func (export "get") (result i64)
    (call $sr (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 64) (i32.const 0))
    (call $rr (i32.const 64) (i32.const 0)))
  (func (export "inc_then_trap") (call $inc) unreachable)
  (func (export "spin") (loop $l (br $l)))
  (func (export "keep") nop)
  (func (export "recurse")
    (call $inc)
    (call $self (i32.const 160) (i32.const 0))
    (drop (call $call (i32.const 160) (i32.const 0) (i32.const 16) (i32.const 7)
      (i32.const 0) (i32.const 0) (i64.const -1) (i64.const 0)))))"#;

struct Setup {
    rt: Runtime<Arc<MemKv>>,
    node: Arc<KvNodeHost<Arc<MemKv>>>,
    caller: Address,
    callee: Address,
}

fn setup(config: RuntimeConfig) -> Setup {
    let kv = Arc::new(MemKv::new());
    let node = Arc::new(KvNodeHost::new(kv.clone()));
    let rt = Runtime::new(kv, node.clone(), config);
    let caller = deploy_wat(&rt, CALLER, 0).address;
    let callee = deploy_wat(&rt, CALLEE, 1).address;
    Setup {
        rt,
        node,
        caller,
        callee,
    }
}

fn calldata(target: Address, gas: i64, value: i64, function: &str) -> Vec<u8> {
    [
        &target.0[..],
        &gas.to_le_bytes(),
        &value.to_le_bytes(),
        function.as_bytes(),
    ]
    .concat()
}

fn via_caller(s: &Setup, entry: &str, gas: i64, value: i64, function: &str) -> Receipt {
    s.rt.call(&CallTx {
        calldata: calldata(s.callee, gas, value, function),
        ..call_tx(s.caller, entry, vec![])
    })
}

fn bal(s: &Setup, account: Address) -> u64 {
    use svm_runtime::NodeHost;
    s.node.balance(&account).unwrap()
}

fn counter(s: &Setup) -> i64 {
    let r = call(&s.rt, s.callee, "get", vec![]);
    assert!(r.success, "{:?}", r.error);
    match r.returns[..] {
        [WasmValue::I64(v)] => v,
        _ => panic!("get returns one i64"),
    }
}

#[test]
fn a_successful_inner_call_commits_with_its_caller() {
    let s = setup(RuntimeConfig::default());
    let before = s.rt.contract(&s.caller).unwrap().unwrap().state;
    let r = via_caller(&s, "callf", -1, 0, "inc");
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.returns, vec![WasmValue::I32(0)]);
    assert_eq!(
        r.return_data,
        1i64.to_be_bytes(),
        "the callee's return data"
    );
    assert_eq!(r.logs, vec![b"caller".to_vec(), b"inc".to_vec()]);
    assert_eq!(r.calls.len(), 1);
    let c = &r.calls[0];
    assert_eq!(
        (c.depth, c.contract, c.function.as_str(), c.error),
        (1, s.callee, "inc", None)
    );
    assert!(c.gas_used > 0 && c.gas_used < r.gas_used);
    assert_eq!(
        r.pages_written, 2,
        "the caller's page 1 and the callee's page 0"
    );
    assert_ne!(
        r.new_state, before,
        "the receipt carries the caller's new state"
    );
    assert_eq!(
        s.rt.contract(&s.caller).unwrap().unwrap().state,
        r.new_state
    );
    assert_eq!(counter(&s), 1);
    // A second transaction sees the first one's inner writes.
    assert!(via_caller(&s, "callf", -1, 0, "inc").success);
    assert_eq!(counter(&s), 2);
}

#[test]
fn a_failing_callee_is_rolled_back_and_its_caller_goes_on() {
    let s = setup(RuntimeConfig::default());
    let callee_state = s.rt.contract(&s.callee).unwrap().unwrap().state;
    let r = via_caller(&s, "callf", -1, 0, "inc_then_trap");
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.returns, vec![WasmValue::I32(ErrorCode::Trap as i32)]);
    assert!(r.return_data.is_empty());
    assert_eq!(r.logs, vec![b"caller".to_vec()], "the callee's log is gone");
    assert_eq!(r.calls[0].error, Some(ErrorCode::Trap));
    assert_eq!(r.pages_written, 1, "only the caller's page");
    assert_eq!(
        s.rt.contract(&s.callee).unwrap().unwrap().state,
        callee_state
    );
    assert_eq!(counter(&s), 0);
}

#[test]
fn a_failing_caller_rolls_back_its_successful_callee() {
    let s = setup(RuntimeConfig::default());
    let caller_state = s.rt.contract(&s.caller).unwrap().unwrap().state;
    let callee_state = s.rt.contract(&s.callee).unwrap().unwrap().state;
    // The callee succeeds, then the caller traps on a bad status of a
    // second-level failure: use a callee that traps so the caller traps.
    let r = via_caller(&s, "callf_or_trap", -1, 0, "inc_then_trap");
    assert!(!r.success);
    assert_eq!(r.error.as_ref().unwrap().code, ErrorCode::Trap);
    assert!(r.calls.is_empty() && r.logs.is_empty());
    assert_eq!(
        s.rt.contract(&s.caller).unwrap().unwrap().state,
        caller_state
    );
    assert_eq!(
        s.rt.contract(&s.callee).unwrap().unwrap().state,
        callee_state
    );
    // A caller that fails after a successful inner call: out of gas at the
    // caller's commit, one gas short (measured on an identical runtime).
    let ok = via_caller(&setup(RuntimeConfig::default()), "callf", -1, 0, "inc");
    assert!(ok.success);
    let tight = s.rt.call(&CallTx {
        gas_limit: ok.gas_used - 1,
        calldata: calldata(s.callee, -1, 0, "inc"),
        ..call_tx(s.caller, "callf", vec![])
    });
    assert!(!tight.success);
    assert_eq!(tight.error.unwrap().code, ErrorCode::OutOfGas);
    assert_eq!(counter(&s), 0, "the inc was rolled back with its caller");
    assert_eq!(
        s.rt.contract(&s.caller).unwrap().unwrap().state,
        caller_state
    );
}

#[test]
fn out_of_gas_inside_the_callee_costs_only_the_gas_forwarded() {
    let s = setup(RuntimeConfig::default());
    let r = via_caller(&s, "callf", 100_000, 0, "spin");
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.returns, vec![WasmValue::I32(ErrorCode::OutOfGas as i32)]);
    assert_eq!(r.calls[0].error, Some(ErrorCode::OutOfGas));
    assert_eq!(r.calls[0].gas_used, 100_000);
    assert!(
        r.gas_used > 100_000 && r.gas_used < 200_000,
        "{}",
        r.gas_used
    );
    // Forwarding everything: the callee takes it all, the caller then runs
    // out at its next instruction.
    let all = via_caller(&s, "callf", -1, 0, "spin");
    assert!(!all.success);
    assert_eq!(all.error.unwrap().code, ErrorCode::OutOfGas);
    assert_eq!(all.gas_used, GAS);
}

#[test]
fn unknown_contracts_and_functions_are_status_codes() {
    let s = setup(RuntimeConfig::default());
    let r = s.rt.call(&CallTx {
        calldata: calldata(Address([0x77; 20]), -1, 0, "inc"),
        ..call_tx(s.caller, "callf", vec![])
    });
    assert_eq!(
        r.returns,
        vec![WasmValue::I32(ErrorCode::ContractNotFound as i32)]
    );
    let r = via_caller(&s, "callf", -1, 0, "nope");
    assert_eq!(
        r.returns,
        vec![WasmValue::I32(ErrorCode::FunctionNotFound as i32)]
    );
    let r = via_caller(&s, "callf", -1, 0, "get");
    assert!(
        r.success,
        "a function with results runs; its results are dropped"
    );
    assert_eq!(r.returns, vec![WasmValue::I32(0)]);
}

#[test]
fn reentrancy_is_refused_by_default() {
    let s = setup(RuntimeConfig::default());
    let r = call(&s.rt, s.callee, "recurse", vec![]);
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.calls.len(), 1);
    assert_eq!(r.calls[0].error, Some(ErrorCode::Reentrancy));
    assert_eq!(r.calls[0].gas_used, 0);
    assert_eq!(counter(&s), 1);
}

#[test]
fn with_reentrancy_allowed_the_depth_limit_stops_recursion() {
    let s = setup(RuntimeConfig {
        allow_reentrancy: true,
        ..RuntimeConfig::default()
    });
    let r = call(&s.rt, s.callee, "recurse", vec![]);
    assert!(r.success, "{:?}", r.error);
    // 64 frames ran (each added 1); the 64th frame's call was refused.
    assert_eq!(r.calls.len(), 64);
    assert!(r.calls[..63].iter().all(|c| c.error.is_none()));
    assert_eq!(r.calls[63].error, Some(ErrorCode::CallDepth));
    assert_eq!(
        r.calls.iter().map(|c| c.depth).collect::<Vec<_>>(),
        (1..=64).collect::<Vec<_>>()
    );
    assert_eq!(r.logs.len(), 64);
    assert_eq!(counter(&s), 64, "re-entered frames share one page cache");

    let shallow = setup(RuntimeConfig {
        allow_reentrancy: true,
        max_call_depth: 3,
        ..RuntimeConfig::default()
    });
    let r = call(&shallow.rt, shallow.callee, "recurse", vec![]);
    assert_eq!(r.calls.len(), 3);
    assert_eq!(counter(&shallow), 3);
}

#[test]
fn value_moves_from_the_callers_own_balance_and_back_on_failure() {
    let s = setup(RuntimeConfig::default());
    s.node.set_balance(&s.caller, 100).unwrap();
    let r = via_caller(&s, "callf", -1, 30, "keep");
    assert_eq!(r.returns, vec![WasmValue::I32(0)]);
    assert_eq!(bal(&s, s.caller), 70);
    assert_eq!(bal(&s, s.callee), 30);
    let r = via_caller(&s, "callf", -1, 30, "inc_then_trap");
    assert_eq!(r.returns, vec![WasmValue::I32(ErrorCode::Trap as i32)]);
    assert_eq!(bal(&s, s.caller), 70, "returned on failure");
    let r = via_caller(&s, "callf", -1, 71, "keep");
    assert_eq!(
        r.returns,
        vec![WasmValue::I32(ErrorCode::InsufficientBalance as i32)]
    );
    assert_eq!(bal(&s, s.callee), 30);
    // A negative value traps the caller.
    let r = via_caller(&s, "callf", -1, -1, "keep");
    assert_eq!(r.error.unwrap().code, ErrorCode::HostCall);
}

#[cfg(feature = "cranelift")]
#[test]
fn inner_calls_give_the_same_receipts_on_both_compilers() {
    let run = |compiler| {
        let s = setup(RuntimeConfig {
            compiler,
            ..RuntimeConfig::default()
        });
        [
            via_caller(&s, "callf", -1, 0, "inc"),
            via_caller(&s, "callf", -1, 0, "inc_then_trap"),
            via_caller(&s, "callf", 50_000, 0, "spin"),
            call(&s.rt, s.callee, "recurse", vec![]),
        ]
        .map(|r| r.consensus_hash().unwrap())
    };
    assert_eq!(run(Compiler::Singlepass), run(Compiler::Cranelift));
}

/// What the maximum gas buys: a transaction that makes inner calls in a
/// loop until its gas runs out pays for each one, and ends.
#[test]
fn the_maximum_gas_buys_a_bounded_number_of_inner_calls() {
    let s = setup(RuntimeConfig::default());
    let looper = deploy_wat(
        &s.rt,
        r#"(module
          (import "svm" "calldata_copy" (func $cdcopy (param i32 i32 i32)))
          (import "svm" "mem_to_reg_copy" (func $m2r (param i32 i32 i32 i32 i32)))
          (import "svm" "call" (func $call (param i32 i32 i32 i32 i32 i32 i64 i64) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "keep")
          (func (export "thousand")
            (local $i i32)
            (call $cdcopy (i32.const 0) (i32.const 0) (i32.const 20))
            (call $m2r (i32.const 0) (i32.const 0) (i32.const 20) (i32.const 160) (i32.const 0))
            (loop $l
              (drop (call $call (i32.const 160) (i32.const 0) (i32.const 100) (i32.const 4)
                (i32.const 0) (i32.const 0) (i64.const 10000) (i64.const 0)))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 1000)))))
          (func (export "run")
            (call $cdcopy (i32.const 0) (i32.const 0) (i32.const 20))
            (call $m2r (i32.const 0) (i32.const 0) (i32.const 20) (i32.const 160) (i32.const 0))
            (loop $l
              (drop (call $call (i32.const 160) (i32.const 0) (i32.const 100) (i32.const 4)
                (i32.const 0) (i32.const 0) (i64.const -1) (i64.const 0)))
              (br $l))))"#,
        7,
    )
    .address;
    let limit = 10_000_000;
    let r = s.rt.call(&CallTx {
        gas_limit: limit,
        calldata: s.callee.0.to_vec(),
        ..call_tx(looper, "run", vec![])
    });
    assert!(!r.success);
    assert_eq!(r.error.unwrap().code, ErrorCode::OutOfGas);
    assert_eq!(r.gas_used, limit);
    // Each inner call costs at least its entry and the callee's
    // instantiation (one memory page, 10 data bytes).
    let per_call = svm_runtime::gas::inner_call(4) + svm_runtime::gas::instantiate(1, 0, 10);
    let r = s.rt.call(&CallTx {
        calldata: s.callee.0.to_vec(),
        ..call_tx(looper, "thousand", vec![])
    });
    assert!(r.success, "{:?}", r.error);
    assert_eq!(r.calls.len(), 1000);
    assert!(
        r.gas_used >= 1000 * per_call,
        "{} < 1000 × {per_call}",
        r.gas_used
    );
    // So the maximum gas per transaction buys at most this many.
    let most = svm_runtime::RuntimeConfig::default().max_tx_gas / per_call;
    assert!(most < 40_000, "{most}");
}
