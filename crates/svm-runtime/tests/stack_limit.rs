//! The call-stack limit counts wasm stack slots, not native bytes: deep
//! recursion stops at the same depth, with the same receipt and gas, under
//! Singlepass and Cranelift, whatever the frames look like, and before the
//! native stack runs out.

mod common;

use std::sync::Arc;

use common::*;
use svm_kv::MemKv;
use svm_runtime::gate::{GateError, Limits, Rejection};
use svm_runtime::{
    Compiler, DeployError, DeployTx, ErrorCode, KvNodeHost, Receipt, Runtime, RuntimeConfig,
    WasmValue,
};

/// Recursion through `call` (with `locals` extra locals per frame) and
/// through `call_indirect`, counting the depth reached in global 0, which
/// `depth` returns.
fn recursive(locals: u32) -> String {
    let decl = if locals == 0 {
        String::new()
    } else {
        format!("(local {})", "i64 ".repeat(locals as usize))
    };
    format!(
        r#"(module
  (memory (export "memory") 1)
  (global $depth (mut i64) (i64.const 0))
  (type $t (func (param i64) (result i64)))
  (table 1 funcref)
  (elem (i32.const 0) $down_indirect)
  (func $down (export "down") (param i64) (result i64) {decl}
    (global.set $depth (i64.add (global.get $depth) (i64.const 1)))
    (call $down (i64.add (local.get 0) (i64.const 1))))
  (func $down_indirect (export "down_indirect") (param i64) (result i64)
    (global.set $depth (i64.add (global.get $depth) (i64.const 1)))
    (call_indirect (type $t) (i64.add (local.get 0) (i64.const 1)) (i32.const 0)))
  (func $bounded (export "bounded") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0))
      (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $bounded (i64.sub (local.get 0) (i64.const 1))))))))"#
    )
}

fn runtime_with(compiler: Compiler, config: RuntimeConfig) -> Runtime<Arc<MemKv>> {
    let kv = Arc::new(MemKv::new());
    let node = Arc::new(KvNodeHost::new(kv.clone()));
    Runtime::new(kv, node, RuntimeConfig { compiler, ..config })
}

fn compilers() -> Vec<Compiler> {
    #[allow(unused_mut)]
    let mut v = vec![Compiler::Singlepass];
    #[cfg(feature = "cranelift")]
    v.push(Compiler::Cranelift);
    v
}

fn run(compiler: Compiler, wat: &str, f: &str, arg: i64) -> Receipt {
    let rt = runtime_with(compiler, RuntimeConfig::default());
    let d = deploy_wat(&rt, wat, 0);
    rt.call(&svm_runtime::CallTx {
        gas_limit: 50_000_000,
        ..call_tx(d.address, f, vec![WasmValue::I64(arg)])
    })
}

fn exhausted(r: &Receipt) {
    let e = r.error.as_ref().expect("a failed receipt");
    assert_eq!(
        (e.code, e.message.as_str()),
        (ErrorCode::Trap, "call stack exhausted"),
        "{r:?}"
    );
    assert!(r.gas_used < r.gas_limit, "the stack limit came first");
}

#[test]
fn recursion_stops_at_the_same_depth_and_gas_on_every_compiler() {
    for locals in [0, 64, 1_000] {
        let wat = recursive(locals);
        for f in ["down", "down_indirect"] {
            let receipts: Vec<Receipt> = compilers()
                .into_iter()
                .map(|c| run(c, &wat, f, 0))
                .collect();
            exhausted(&receipts[0]);
            for r in &receipts[1..] {
                assert_eq!(r, &receipts[0], "{f} with {locals} locals");
            }
        }
    }
}

#[test]
fn the_depth_follows_the_frame_size() {
    // Frames: `down` with 0 extra locals holds 1 param + 3 operands + 4 =
    // 8 slots, so 32 768 / 8 = 4 096 calls fit; with 1 000 locals, 1 008
    // slots and 32 calls.
    let shallow = run(Compiler::Singlepass, &recursive(1_000), "down", 0);
    let deep = run(Compiler::Singlepass, &recursive(0), "down", 0);
    exhausted(&shallow);
    exhausted(&deep);
    // 4 096 against 32 calls of the same ~19 gas on top of the same
    // intrinsic and instantiation gas: 82 110 against 3 077 gas. Were the
    // frames not sized, both would stop at the same depth (ratio ~1).
    assert!(
        deep.gas_used > 20 * shallow.gas_used,
        "{deep:?} {shallow:?}"
    );
}

#[test]
fn recursion_within_the_limit_returns() {
    for c in compilers() {
        let r = run(c, &recursive(0), "bounded", 1_000);
        assert!(r.success, "{c:?}: {r:?}");
        assert_eq!(r.returns, vec![WasmValue::I64(1_000)]);
    }
}

#[test]
fn a_small_slot_limit_stops_recursion_early() {
    let config = RuntimeConfig {
        max_stack_slots: 80,
        ..RuntimeConfig::default()
    };
    let rt = runtime_with(Compiler::Singlepass, config);
    let d = deploy_wat(&rt, &recursive(0), 0);
    // 80 slots / 8 per frame: 10 nested calls pass, the 11th traps.
    let ok = rt.call(&call_tx(d.address, "bounded", vec![WasmValue::I64(9)]));
    assert!(ok.success, "{ok:?}");
    let r = rt.call(&call_tx(d.address, "bounded", vec![WasmValue::I64(11)]));
    exhausted(&r);
}

#[test]
fn a_frame_over_the_limit_is_rejected_at_deploy() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let locals = Limits::default().max_locals;
    // 1 024 locals pass the locals limit; with a small frame limit the
    // frame does not.
    let config = RuntimeConfig {
        limits: Limits {
            max_frame_slots: 512,
            ..Limits::default()
        },
        ..RuntimeConfig::default()
    };
    let small = runtime_with(Compiler::Singlepass, config);
    let code = wat::parse_str(recursive(locals)).unwrap();
    let tx = DeployTx {
        author: AUTHOR,
        nonce: 0,
        name: "big frames".into(),
        gas_limit: GAS,
        code,
    };
    assert!(rt.deploy(&tx).is_ok());
    match small.deploy(&tx) {
        Err(DeployError::Gate(Rejection(f))) => assert_eq!(
            f,
            vec![GateError::LimitExceeded {
                what: "stack slots of one function frame",
                value: u64::from(locals) + 1 + 2 + 4,
                limit: 512
            }]
        ),
        other => panic!("{other:?}"),
    }
}
