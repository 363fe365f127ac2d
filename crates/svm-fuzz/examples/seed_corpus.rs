//! Writes the seed corpora of `fuzz/corpus/<target>/` (files named
//! `seed-*`; files libFuzzer adds are named by their SHA-1 and kept):
//!
//! ```sh
//! cargo run -p svm-fuzz --example seed_corpus
//! ```
//!
//! Seeds: the example contracts and WAT snippets for the gate; encodings
//! made by the wire encoders; one script per vmcall; pseudo-random bytes
//! (a fixed xorshift, so the files never change) for the generator-driven
//! targets.

use std::path::{Path, PathBuf};

use svm_fuzz::vmcalls::{Op, Script, contract};
use svm_runtime::imports::VMCALLS;
use svm_runtime::{CallTx, DeployTx, ErrorCode, Receipt, StateRef, TxError, WasmValue};
use svm_types::{Address, State};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fixed pseudo-random byte stream.
fn random(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

fn write(target: &str, name: &str, data: &[u8]) {
    let dir = root().join("fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).expect("create the corpus directory");
    std::fs::write(dir.join(format!("seed-{name}")), data).expect("write a seed");
}

/// An input that crashes its target until a bug is fixed: kept out of the
/// replayed corpus (`docs/fuzzing.md`).
fn regression(target: &str, name: &str, data: &[u8]) {
    let dir = root().join("fuzz/regressions").join(target);
    std::fs::create_dir_all(&dir).expect("create the regressions directory");
    std::fs::write(dir.join(name), data).expect("write a regression");
}

fn wat(src: &str) -> Vec<u8> {
    wat::parse_str(src).expect("valid WAT")
}

const GATE_WAT: &[(&str, &str)] = &[
    ("minimal", r#"(module (memory (export "memory") 1))"#),
    (
        "adder",
        r#"(module (memory (export "memory") 1)
            (func (export "add") (param i64 i64) (result i64) local.get 0 local.get 1 i64.add))"#,
    ),
    (
        "float-op",
        r#"(module (memory (export "memory") 1)
            (func (export "f") (result i32) f32.const 1 f32.const 2 f32.add i32.trunc_f32_s))"#,
    ),
    (
        "float-global",
        r#"(module (memory (export "memory") 1) (global f64 (f64.const 0)))"#,
    ),
    (
        "simd",
        r#"(module (memory (export "memory") 1)
            (func (export "f") v128.const i64x2 0 0 drop))"#,
    ),
    ("no-memory", r#"(module (func (export "f")))"#),
    (
        "memory-not-exported",
        r#"(module (memory 1) (func (export "f")))"#,
    ),
    (
        "unknown-import",
        r#"(module (import "env" "abort" (func)) (memory (export "memory") 1))"#,
    ),
    (
        "wrong-import-signature",
        r#"(module (import "svm" "calldata_len" (func (result i64))) (memory (export "memory") 1))"#,
    ),
    (
        "set-balance-import",
        r#"(module (import "node" "vmcall_set_balance" (func (param i64 i32 i32))) (memory (export "memory") 1))"#,
    ),
    (
        "too-many-pages",
        r#"(module (memory (export "memory") 257))"#,
    ),
    (
        "table-call-indirect",
        r#"(module (memory (export "memory") 1) (table 4 funcref)
            (type $t (func (result i32)))
            (func $a (result i32) i32.const 7) (elem (i32.const 1) $a)
            (func (export "f") (param i32) (result i32) local.get 0 call_indirect (type $t)))"#,
    ),
    (
        "multi-value-bulk-memory",
        r#"(module (memory (export "memory") 1) (data "abcdef")
            (func (export "f") (result i32 i64)
              (memory.fill (i32.const 0) (i32.const 1) (i32.const 16))
              (memory.copy (i32.const 100) (i32.const 0) (i32.const 16))
              (i32.extend8_s (i32.const 255)) (i64.const 2)))"#,
    ),
    (
        "start",
        r#"(module (memory (export "memory") 1) (global $g (mut i32) (i32.const 0))
            (func $s (global.set $g (i32.const 1))) (start $s))"#,
    ),
    (
        "many-locals",
        r#"(module (memory (export "memory") 1) (func (export "f") (local i64 i64 i64 i32)))"#,
    ),
];

fn gate() {
    let t = "gate_compile";
    write(t, "empty", b"");
    write(t, "header-only", b"\0asm\x01\0\0\0");
    let coin = std::fs::read(root().join("contracts/coin/coin.wasm")).expect("coin.wasm");
    write(t, "coin.wasm", &coin);
    write(t, "coin-truncated", &coin[..coin.len() / 2]);
    let rust = std::fs::read(root().join("contracts/rust-counter/rust_counter.wasm"))
        .expect("rust_counter.wasm");
    write(t, "rust_counter.wasm", &rust);
    let counter =
        std::fs::read_to_string(root().join("contracts/counter/counter.wat")).expect("counter.wat");
    write(t, "counter.wasm", &wat(&counter));
    write(t, "generic-vmcalls.wasm", contract());
    for (name, src) in GATE_WAT {
        write(t, name, &wat(src));
    }
    // wasmer's Singlepass panics on a module name with a NUL byte ...
    let mut nul = wat(r#"(module (memory (export "memory") 1) (func (export "f")))"#);
    let name = b"\x04name\x00\x04\x03a\x00b";
    nul.push(0);
    nul.push(name.len() as u8);
    nul.extend_from_slice(name);
    regression(t, "module-name-nul", &nul);
    // ... and on an empty module name.
    let mut empty = wat(r#"(module (memory (export "memory") 1) (func (export "f")))"#);
    empty.extend_from_slice(b"\x00\x08\x04name\x00\x01\x00");
    regression(t, "module-name-empty", &empty);
    // The gate accepts a float block type (no float instruction, type,
    // local or global): a float value type the gate's rule forbids.
    regression(
        t,
        "float-block-type",
        &wat(r#"(module (memory (export "memory") 1)
            (func (export "f") (block (result f64) unreachable) drop))"#),
    );
}

fn wire() {
    let t = "wire_decode";
    let counter =
        std::fs::read_to_string(root().join("contracts/counter/counter.wat")).expect("counter.wat");
    let deploy = DeployTx {
        author: Address([0xa1; 20]),
        nonce: 3,
        name: "counter".into(),
        gas_limit: 10_000_000,
        code: wat(&counter),
    };
    write(
        t,
        "deploy-counter",
        &deploy.encode().expect("fits the wire"),
    );
    let small = DeployTx {
        name: "é".into(),
        code: b"\0asm\x01\0\0\0".to_vec(),
        ..deploy.clone()
    };
    write(t, "deploy-small", &small.encode().expect("fits the wire"));
    let call = CallTx {
        contract: Address([0xc0; 20]),
        sender: Address([0x5e; 20]),
        function: "add".into(),
        args: vec![WasmValue::I64(5), WasmValue::I32(-1)],
        calldata: b"call data".to_vec(),
        value: 0,
        gas_limit: 1_000_000,
        state: StateRef::Latest,
    };
    let call_bytes = call.encode().expect("fits the wire");
    write(t, "call-latest", &call_bytes);
    write(t, "call-truncated", &call_bytes[..call_bytes.len() - 3]);
    let at = CallTx {
        args: vec![],
        calldata: vec![],
        state: StateRef::At(State([7; 32])),
        ..call
    };
    write(t, "call-at-state", &at.encode().expect("fits the wire"));
    let ok = Receipt {
        success: true,
        error: None,
        new_state: State([9; 32]),
        returns: vec![WasmValue::I32(42), WasmValue::I64(-7)],
        return_data: b"return".to_vec(),
        logs: vec![b"log one".to_vec(), vec![], b"log three".to_vec()],
        pages_read: 2,
        pages_written: 1,
        gas_limit: 100_000,
        gas_used: 12_345,
        calls: vec![svm_runtime::InnerCall {
            depth: 1,
            contract: svm_types::Address([3; 20]),
            function: "inner".into(),
            error: Some(ErrorCode::Reentrancy),
            gas_used: 0,
        }],
    };
    write(t, "receipt-success", &ok.encode().expect("fits the wire"));
    let failed = Receipt {
        success: false,
        error: Some(TxError {
            code: ErrorCode::Trap,
            message: "unreachable".into(),
        }),
        returns: vec![],
        return_data: vec![],
        logs: vec![],
        pages_written: 0,
        calls: vec![],
        ..ok
    };
    write(
        t,
        "receipt-failure",
        &failed.encode().expect("fits the wire"),
    );
    for i in 0..4 {
        write(
            t,
            &format!("random-{i}"),
            &random(100 + i, 64 + 200 * i as usize),
        );
    }
}

fn vmcall(name: &str) -> u8 {
    VMCALLS
        .iter()
        .position(|v| v.name == name)
        .unwrap_or_else(|| panic!("no vmcall {name}")) as u8
}

fn op(name: &str, args: &[i64]) -> Op {
    let mut a = [0i64; 6];
    a[..args.len()].copy_from_slice(args);
    Op {
        vmcall: vmcall(name),
        args: a,
    }
}

fn vmcalls() {
    let t = "vmcalls";
    // One valid use of each vmcall, in the documented parameter order.
    let each: Vec<(&str, Vec<Op>)> = vec![
        (
            "mem_to_reg_copy",
            vec![op("mem_to_reg_copy", &[0, 0, 8, 64, 0])],
        ),
        (
            "reg_to_mem_copy",
            vec![
                op("reg_write_be_i64", &[0x0102_0304_0506_0708, 64, 1]),
                op("reg_to_mem_copy", &[64, 1, 8, 0, 512]),
                op("set_return_data", &[512, 8]),
            ],
        ),
        (
            "storage_read_to_reg",
            vec![
                op("storage_write_from_mem", &[0, 0, 8, 3, 0, 100]),
                op("storage_read_to_reg", &[3, 0, 100, 8, 64, 2]),
                op("reg_read_be_i64", &[64, 2]),
                op("set_return_data", &[256, 8]),
            ],
        ),
        (
            "abort",
            vec![
                op("storage_write_from_mem", &[0, 0, 8, 2, 0, 0]),
                op("log", &[0, 8]),
                op("abort", &[0, 16]),
            ],
        ),
        (
            "storage_read_to_mem",
            vec![
                op("storage_write_from_mem", &[0, 0, 16, 1, 0, 4080]),
                op("storage_read_to_mem", &[1, 0, 4080, 16, 0, 1000]),
                op("log", &[1000, 16]),
            ],
        ),
        (
            "storage_write_from_reg",
            vec![
                op("sender_to_reg", &[160, 0]),
                op("storage_write_from_reg", &[160, 0, 20, 77, 0, 0]),
            ],
        ),
        (
            "reg_replace_byte",
            vec![
                op("reg_replace_byte", &[32, 3, 255, 0]),
                op("reg_read_be_i64", &[64, 0]),
            ],
        ),
        (
            "calldata",
            vec![op("calldata_len", &[]), op("calldata_copy", &[2000, 0, 49])],
        ),
        (
            "self_to_reg-get_balance",
            vec![
                op("self_to_reg", &[256, 1]),
                op("vmcall_get_balance", &[256, 1]),
            ],
        ),
        (
            "transfer",
            vec![
                op("sender_to_reg", &[160, 0]),
                op("transfer", &[160, 0, 250]),
            ],
        ),
        (
            "set_balance",
            vec![
                op("sender_to_reg", &[512, 0]),
                op("vmcall_set_balance", &[77, 512, 0]),
            ],
        ),
        // Error paths: each ends the call with a HostCall receipt.
        (
            "err-memory-index",
            vec![op("mem_to_reg_copy", &[1, 0, 8, 64, 0])],
        ),
        (
            "err-out-of-page",
            vec![op("storage_write_from_mem", &[0, 0, 8, 0, 0, 4090])],
        ),
        ("err-register", vec![op("reg_read_be_i64", &[32, 0])]),
        (
            "err-negative",
            vec![op("self_to_reg", &[160, 0]), op("transfer", &[160, 0, -1])],
        ),
        ("err-return-data", vec![op("set_return_data", &[0, 65537])]),
        (
            "err-after-write",
            vec![
                op("storage_write_from_mem", &[0, 0, 8, 0, 0, 0]),
                op("log", &[65535, 8]),
            ],
        ),
        // The script overwrites its own next record.
        (
            "self-modifying",
            vec![
                op("reg_write_be_i64", &[0x0d00_0000_0000_0000, 64, 0]),
                op("reg_to_mem_copy", &[64, 0, 1, 0, 32768 + 2 * 49]),
                op("calldata_len", &[]),
            ],
        ),
    ];
    for (name, ops) in each {
        write(t, name, &Script { gas: 40, ops }.to_fuzz());
    }
    write(
        t,
        "out-of-gas",
        &Script {
            gas: 0,
            ops: (0..40)
                .map(|i| op("storage_write_from_mem", &[0, 0, 8, i, 0, 0]))
                .collect(),
        }
        .to_fuzz(),
    );
    for i in 0..4 {
        write(
            t,
            &format!("random-{i}"),
            &random(200 + i, 40 + 120 * i as usize),
        );
    }
}

fn generated(t: &str, seed: u64, count: u64, min: usize, step: usize) {
    for i in 0..count {
        write(
            t,
            &format!("random-{i:02}"),
            &random(seed + i, min + step * i as usize),
        );
    }
}

fn main() {
    gate();
    wire();
    vmcalls();
    generated("deploy_call", 300, 24, 200, 150);
    generated("page_cache", 400, 16, 50, 120);
    println!(
        "seeds written under {}",
        root().join("fuzz/corpus").display()
    );
}
