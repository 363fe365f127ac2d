//! `vmcalls`: every vmcall with random arguments through one generic
//! contract, checked against the vmcall functions called directly.
//!
//! The generic contract ([`contract_wat`]) imports every vmcall and exports
//! `run`, which copies its call data to memory at [`SCRIPT_AT`] and
//! interprets it as a script of [`RECORD`]-byte records: the vmcall's index
//! in [`VMCALLS`] (any other index does nothing), then six little-endian
//! `i64` arguments (an `i32` parameter takes the low 32 bits). A vmcall's
//! result is stored as an `i64` at [`RESULT_AT`]. The script is read from
//! memory as it runs, so a vmcall that writes there changes later records;
//! the model does the same.
//!
//! The fuzz input is a compact form of the script ([`Script::from_fuzz`]):
//! a gas byte, then per record a vmcall byte and, per parameter of that
//! vmcall, a selector byte: below 0xf8 it picks one of [`INTERESTING`]
//! values, otherwise 8 raw little-endian bytes follow.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, OnceLock};

use svm_cache::{CacheConfig, PageCache, PageSliceCache};
use svm_kv::{KvStore, MemKv, WriteBatch};
use svm_pages::{PageStore, empty_root};
use svm_registers::{RegisterConfig, Registers};
use svm_runtime::imports::{VMCALLS, ValKind};
use svm_runtime::vmcalls::{
    self as v, CallContext, GuestMemory, OutputLimits, VecMemory, VmCallError,
};
use svm_runtime::{CallTx, Compiler, DeployTx, ErrorCode, KvNodeHost, NodeHost, Receipt, StateRef};
use svm_types::{Address, State};

use crate::common::{Rt, checked_call, compilers, runtime};

/// Bytes per script record: the vmcall byte and six `i64` arguments.
pub const RECORD: usize = 1 + 6 * 8;
/// Where `run` copies the call data (the script) in memory.
pub const SCRIPT_AT: u32 = 32 << 10;
/// The most script bytes `run` copies.
pub const SCRIPT_MAX: u32 = 32 << 10;
/// Where `run` stores each vmcall's result, as an `i64`.
pub const RESULT_AT: u32 = 256;
/// The data segment of the generic contract, at address 0.
pub const DATA: &[u8] = b"svm fuzz: the generic contract's data segment";

/// Argument values the selector bytes choose from.
pub const INTERESTING: &[i64] = &[
    0,
    1,
    2,
    3,
    4,
    7,
    8,
    9,
    15,
    16,
    20,
    21,
    31,
    32,
    33,
    63,
    64,
    65,
    100,
    128,
    159,
    160,
    161,
    255,
    256,
    257,
    512,
    4088,
    4095,
    4096,
    4097,
    32768,
    65528,
    65535,
    65536,
    0xffff_ffff,
    0x7fff_ffff,
    -1,
    i64::MAX,
    i64::MIN,
    1 << 32,
    1_000,
];

const AUTHOR: Address = Address([0xa1; 20]);
const SENDER: Address = Address([0x5e; 20]);
const SENDER_BALANCE: u64 = 1_000;
const CONTRACT_BALANCE: u64 = 1_000_000;

/// One script record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The index in [`VMCALLS`]; any other value does nothing.
    pub vmcall: u8,
    /// The arguments, in the vmcall's parameter order; unused ones are 0.
    pub args: [i64; 6],
}

/// A script: the call's gas and its records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// The gas limit is `20_000 + 8_000 · gas`.
    pub gas: u8,
    /// The records.
    pub ops: Vec<Op>,
}

fn params(vmcall: u8) -> usize {
    VMCALLS.get(vmcall as usize).map_or(0, |v| v.params.len())
}

impl Script {
    /// The script of a fuzz input (any bytes give a script).
    pub fn from_fuzz(data: &[u8]) -> Self {
        let mut it = data.iter().copied();
        let gas = it.next().unwrap_or(0);
        let mut ops = Vec::new();
        while let Some(b) = it.next() {
            let vmcall = b % (VMCALLS.len() as u8 + 1);
            let mut args = [0i64; 6];
            for a in args.iter_mut().take(params(vmcall)) {
                let s = it.next().unwrap_or(0);
                *a = if s < 0xf8 {
                    INTERESTING[s as usize % INTERESTING.len()]
                } else {
                    let mut raw = [0u8; 8];
                    for r in &mut raw {
                        *r = it.next().unwrap_or(0);
                    }
                    i64::from_le_bytes(raw)
                };
            }
            ops.push(Op { vmcall, args });
        }
        Script { gas, ops }
    }

    /// A fuzz input that [`Script::from_fuzz`] turns into this script
    /// (seed corpora are written with it).
    pub fn to_fuzz(&self) -> Vec<u8> {
        let mut out = vec![self.gas];
        for op in &self.ops {
            out.push(op.vmcall);
            for a in op.args.iter().take(params(op.vmcall)) {
                match INTERESTING.iter().position(|x| x == a) {
                    Some(i) => out.push(i as u8),
                    None => {
                        out.push(0xff);
                        out.extend_from_slice(&a.to_le_bytes());
                    }
                }
            }
        }
        out
    }

    /// The call data `run` interprets.
    pub fn calldata(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.ops.len() * RECORD);
        for op in &self.ops {
            out.push(op.vmcall);
            for a in op.args {
                out.extend_from_slice(&a.to_le_bytes());
            }
        }
        out
    }

    /// The gas limit of the call.
    pub fn gas_limit(&self) -> u64 {
        20_000 + 8_000 * u64::from(self.gas)
    }
}

fn wat_type(k: &ValKind) -> &'static str {
    match k {
        ValKind::I32 => "i32",
        ValKind::I64 => "i64",
    }
}

/// The WAT of the generic contract (module docs).
pub fn contract_wat() -> String {
    let index = |name: &str| {
        VMCALLS
            .iter()
            .position(|v| v.name == name)
            .unwrap_or_else(|| panic!("no vmcall {name}"))
    };
    let mut w = String::from("(module\n");
    for (i, v) in VMCALLS.iter().enumerate() {
        let params: Vec<_> = v.params.iter().map(wat_type).collect();
        let results: Vec<_> = v.results.iter().map(wat_type).collect();
        w += &format!(
            "  (import \"{}\" \"{}\" (func $v{i} (param {}) (result {})))\n",
            v.module,
            v.name,
            params.join(" "),
            results.join(" ")
        );
    }
    w += "  (memory (export \"memory\") 1)\n";
    w += &format!(
        "  (data (i32.const 0) \"{}\")\n",
        std::str::from_utf8(DATA).expect("ASCII")
    );
    w += "  (func (export \"run\")\n";
    w += "    (local $n i32) (local $p i32) (local $end i32) (local $op i32)\n";
    w += "    (local $a0 i64) (local $a1 i64) (local $a2 i64) (local $a3 i64) (local $a4 i64) (local $a5 i64)\n";
    w += &format!("    (local.set $n (call $v{}))\n", index("calldata_len"));
    w += &format!(
        "    (if (i32.gt_u (local.get $n) (i32.const {SCRIPT_MAX})) (then (local.set $n (i32.const {SCRIPT_MAX}))))\n"
    );
    w += &format!(
        "    (call $v{} (i32.const {SCRIPT_AT}) (i32.const 0) (local.get $n))\n",
        index("calldata_copy")
    );
    w += &format!("    (local.set $p (i32.const {SCRIPT_AT}))\n");
    w += "    (local.set $end (i32.add (local.get $p) (local.get $n)))\n";
    w += "    (block $done (loop $next\n";
    w += &format!(
        "      (br_if $done (i32.gt_u (i32.add (local.get $p) (i32.const {RECORD})) (local.get $end)))\n"
    );
    w += "      (local.set $op (i32.load8_u (local.get $p)))\n";
    for k in 0..6 {
        w += &format!(
            "      (local.set $a{k} (i64.load offset={} align=1 (local.get $p)))\n",
            1 + 8 * k
        );
    }
    w += &format!("      (local.set $p (i32.add (local.get $p) (i32.const {RECORD})))\n");
    let n = VMCALLS.len();
    for i in (0..=n).rev() {
        w += &format!("      (block $c{i}\n");
    }
    let targets: Vec<_> = (0..=n).map(|i| format!("$c{i}")).collect();
    w += &format!("      (br_table {} (local.get $op)))\n", targets.join(" "));
    for (i, v) in VMCALLS.iter().enumerate() {
        let args: Vec<_> = v
            .params
            .iter()
            .enumerate()
            .map(|(k, t)| match t {
                ValKind::I32 => format!("(i32.wrap_i64 (local.get $a{k}))"),
                ValKind::I64 => format!("(local.get $a{k})"),
            })
            .collect();
        if v.name == INNER_CALL {
            w += "      (br $next))\n";
            continue;
        }
        let call = format!("(call $v{i} {})", args.join(" "));
        let stmt = match v.results {
            [] => call,
            [ValKind::I64] => format!("(i64.store (i32.const {RESULT_AT}) {call})"),
            [ValKind::I32] => {
                format!("(i64.store (i32.const {RESULT_AT}) (i64.extend_i32_u {call}))")
            }
            other => panic!(
                "vmcall {} returns {other:?}: extend the generic contract",
                v.name
            ),
        };
        w += &format!("      {stmt} (br $next))\n");
    }
    // The outermost block: any other index does nothing.
    w += "      (br $next)))\n";
    w += "  )\n)\n";
    w
}

/// The generic contract's binary.
pub fn contract() -> &'static [u8] {
    static CODE: OnceLock<Vec<u8>> = OnceLock::new();
    CODE.get_or_init(|| wat::parse_str(contract_wat()).expect("the generic contract parses"))
}

type Node = Arc<KvNodeHost<Arc<MemKv>>>;

/// A shared runtime: its compiler, the runtime, its node host and the
/// inputs it has served.
type Shared = (Compiler, Rc<Rt>, Node, u64);

/// Inputs a shared runtime serves before it is replaced (its KV grows).
const SHARED_RUNS: u64 = 256;

thread_local! {
    /// One runtime per compiler, shared by successive inputs so that the
    /// generic contract is compiled once: each input deploys it afresh
    /// under a new nonce (a new address, a module-cache hit).
    static SHARED: std::cell::RefCell<Vec<Shared>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

fn shared(compiler: Compiler) -> (Rc<Rt>, Node, u64) {
    SHARED.with(|s| {
        let mut s = s.borrow_mut();
        s.retain(|(_, _, _, n)| *n < SHARED_RUNS);
        if !s.iter().any(|(c, ..)| *c == compiler) {
            let (rt, node) = runtime(compiler, true);
            s.push((compiler, Rc::new(rt), node, 0));
        }
        let e = s
            .iter_mut()
            .find(|(c, ..)| *c == compiler)
            .expect("just added");
        e.3 += 1;
        (e.1.clone(), e.2.clone(), e.3)
    })
}

/// Deletes every balance (the `b` namespace of `KvNodeHost`), past the
/// node host, whose balance cache is then emptied.
fn reset_balances(rt: &Rt, node: &Node) {
    let mut batch = WriteBatch::new();
    for (k, _) in rt.kv().scan_prefix(b"b").expect("MemKv scans") {
        batch.delete(k);
    }
    rt.kv().write(batch).expect("MemKv writes");
    node.forget_cached();
}

/// What the model computed for a run.
struct ModelRun {
    outcome: Result<(), VmCallError>,
    ctx: CallContext<PageStore<MemKv>>,
}

fn u(a: i64) -> u32 {
    a as u32
}

/// Runs one vmcall directly, by name, with the arguments in the
/// documented parameter order (`docs/vmcalls.md`).
fn direct(
    name: &str,
    c: &mut CallContext<PageStore<MemKv>>,
    m: &VecMemory,
    a: &[i64; 6],
) -> Result<Option<i64>, VmCallError> {
    let none = |r: Result<(), VmCallError>| r.map(|()| None);
    match name {
        "mem_to_reg_copy" => none(v::mem_to_reg_copy(
            c,
            m,
            u(a[0]),
            u(a[1]),
            u(a[2]),
            u(a[3]),
            u(a[4]),
        )),
        "reg_to_mem_copy" => none(v::reg_to_mem_copy(
            c,
            m,
            u(a[0]),
            u(a[1]),
            u(a[2]),
            u(a[3]),
            u(a[4]),
        )),
        "storage_read_to_reg" => none(v::storage_read_to_reg(
            c,
            u(a[0]),
            u(a[1]),
            u(a[2]),
            u(a[3]),
            u(a[4]),
            u(a[5]),
        )),
        "storage_read_to_mem" => none(v::storage_read_to_mem(
            c,
            m,
            u(a[0]),
            u(a[1]),
            u(a[2]),
            u(a[3]),
            u(a[4]),
            u(a[5]),
        )),
        "storage_write_from_mem" => none(v::storage_write_from_mem(
            c,
            m,
            u(a[0]),
            u(a[1]),
            u(a[2]),
            u(a[3]),
            u(a[4]),
            u(a[5]),
        )),
        "storage_write_from_reg" => none(v::storage_write_from_reg(
            c,
            u(a[0]),
            u(a[1]),
            u(a[2]),
            u(a[3]),
            u(a[4]),
            u(a[5]),
        )),
        "reg_replace_byte" => none(v::reg_replace_byte(c, u(a[0]), u(a[1]), u(a[2]), u(a[3]))),
        "reg_read_be_i64" => v::reg_read_be_i64(c, u(a[0]), u(a[1])).map(Some),
        "reg_write_be_i64" => none(v::reg_write_be_i64(c, a[0], u(a[1]), u(a[2]))),
        "calldata_len" => v::calldata_len(c).map(|n| Some(i64::from(n))),
        "calldata_copy" => none(v::calldata_copy(c, m, u(a[0]), u(a[1]), u(a[2]))),
        "set_return_data" => none(v::set_return_data(c, m, u(a[0]), u(a[1]))),
        "log" => none(v::log(c, m, u(a[0]), u(a[1]))),
        "abort" => none(v::abort(c, m, u(a[0]), u(a[1]))),
        "sender_to_reg" => none(v::sender_to_reg(c, u(a[0]), u(a[1]))),
        "self_to_reg" => none(v::self_to_reg(c, u(a[0]), u(a[1]))),
        "transfer" => none(v::transfer(c, u(a[0]), u(a[1]), a[2])),
        "value" => v::value(c).map(Some),
        "map_get" => v::map_get(c, m, u(a[0]), u(a[1]), u(a[2]), u(a[3]), u(a[4]))
            .0
            .map(|r| Some(i64::from(r))),
        "map_set" => v::map_set(c, m, u(a[0]), u(a[1]), u(a[2]), u(a[3]), u(a[4]))
            .0
            .map(|r| Some(i64::from(r))),
        "map_remove" => v::map_remove(c, m, u(a[0]), u(a[1]), u(a[2]), u(a[3]))
            .0
            .map(|r| Some(i64::from(r))),
        "map_len" => v::map_len(c, u(a[0])).map(Some),
        "returndata_len" => v::returndata_len(c).map(|n| Some(i64::from(n))),
        "returndata_copy" => none(v::returndata_copy(c, m, u(a[0]), u(a[1]), u(a[2]))),
        // The generic contract never makes an inner call (see
        // `contract_wat`): `tests/inner_calls.rs` covers it.
        INNER_CALL => Ok(None),
        "vmcall_get_balance" => v::vmcall_get_balance(c, u(a[0]), u(a[1])).map(Some),
        "vmcall_set_balance" => none(v::vmcall_set_balance(c, a[0], u(a[1]), u(a[2]))),
        other => panic!("vmcall {other} has no model: add it to svm-fuzz"),
    }
}

/// `svm.call`: its record is a no-op in the generic contract and the
/// model, since an inner call needs a second contract and the runtime.
const INNER_CALL: &str = "call";

/// The names the private `direct` models: a test checks it covers [`VMCALLS`].
pub const MODELLED: &[&str] = &[
    "mem_to_reg_copy",
    "reg_to_mem_copy",
    "storage_read_to_reg",
    "storage_read_to_mem",
    "storage_write_from_mem",
    "storage_write_from_reg",
    "reg_replace_byte",
    "reg_read_be_i64",
    "reg_write_be_i64",
    "calldata_len",
    "calldata_copy",
    "set_return_data",
    "log",
    "abort",
    "sender_to_reg",
    "self_to_reg",
    "transfer",
    "value",
    "returndata_len",
    "returndata_copy",
    "map_get",
    "map_set",
    "map_remove",
    "map_len",
    INNER_CALL,
    "vmcall_get_balance",
    "vmcall_set_balance",
];

/// The generic contract's `run`, interpreted in Rust over the vmcall
/// functions, a [`VecMemory`] and a fresh page store.
fn model(contract: Address, calldata: &[u8]) -> ModelRun {
    let kv = Arc::new(MemKv::new());
    let node = KvNodeHost::new(kv.clone());
    node.set_balance(&SENDER, SENDER_BALANCE)
        .expect("MemKv writes");
    node.set_balance(&contract, CONTRACT_BALANCE)
        .expect("MemKv writes");
    let node: Arc<dyn NodeHost> = Arc::new(node);
    let storage = PageSliceCache::new(
        PageCache::open(
            PageStore::new(MemKv::new()),
            contract,
            empty_root(),
            CacheConfig { lru_pages: 1 },
        )
        .expect("the empty root opens"),
    );
    let mut ctx = CallContext {
        registers: Registers::new(RegisterConfig::default()),
        storage: svm_runtime::tx_pages::TxPages::new(storage),
        sender: SENDER,
        contract,
        calldata: calldata.to_vec(),
        return_data: Vec::new(),
        logs: Vec::new(),
        limits: OutputLimits::default(),
        node,
        balances: BTreeMap::new(),
        // The target's calls carry no value; set_balance is allowed (the
        // runtime of the target is made with `allow_set_balance`).
        value: 0,
        allow_set_balance: true,
        stack: vec![contract],
        calls: Vec::new(),
        inner_return: Vec::new(),
        invoker: None,
    };
    let mem = VecMemory::new(64 << 10);
    mem.write(0, DATA).expect("in bounds");
    let n = calldata.len().min(SCRIPT_MAX as usize);
    mem.write(SCRIPT_AT, &calldata[..n]).expect("in bounds");
    let mut p = SCRIPT_AT as usize;
    let end = p + n;
    let outcome = (|| {
        while p + RECORD <= end {
            let mut record = [0u8; RECORD];
            mem.read(p as u32, &mut record).expect("in bounds");
            p += RECORD;
            let Some(vmcall) = VMCALLS.get(record[0] as usize) else {
                continue;
            };
            let mut args = [0i64; 6];
            for (k, a) in args.iter_mut().enumerate() {
                let at = 1 + 8 * k;
                *a = i64::from_le_bytes(record[at..at + 8].try_into().expect("8 bytes"));
            }
            if let Some(result) = direct(vmcall.name, &mut ctx, &mem, &args)? {
                mem.write(RESULT_AT, &result.to_le_bytes())
                    .expect("in bounds");
            }
        }
        Ok(())
    })();
    ModelRun { outcome, ctx }
}

/// Deploys the generic contract, runs the script of `data` through `run`
/// (once under each compiler), and checks: the receipt equals the model's
/// outcome (success or the same `HostCall` error; return data, logs, pages
/// read and written, the new state root, balances), unless the call ran out
/// of gas; the only failures are `HostCall`, `OutOfGas` and `svm.abort`'s `Trap`; plus every
/// property of `checked_call` (a failed call changes nothing, the same
/// call gives the same receipt).
pub fn vmcalls(data: &[u8]) {
    let script = Script::from_fuzz(data);
    let calldata = script.calldata();
    let mut receipts: Vec<(Compiler, Receipt)> = Vec::new();
    for compiler in compilers() {
        let (rt, node, nonce) = shared(compiler);
        // Balances from earlier inputs would make the model disagree.
        reset_balances(&rt, &node);
        let deployed = rt
            .deploy(&DeployTx {
                author: AUTHOR,
                nonce,
                name: "generic".into(),
                gas_limit: 50_000_000,
                code: contract().to_vec(),
            })
            .expect("the generic contract deploys");
        let contract = deployed.address;
        node.set_balance(&SENDER, SENDER_BALANCE)
            .expect("MemKv writes");
        node.set_balance(&contract, CONTRACT_BALANCE)
            .expect("MemKv writes");
        let tx = CallTx {
            contract,
            sender: SENDER,
            function: "run".into(),
            args: Vec::new(),
            calldata: calldata.clone(),
            value: 0,
            gas_limit: script.gas_limit(),
            state: StateRef::Latest,
        };
        let r = checked_call(&rt, &node, &tx);
        if let Some(e) = &r.error {
            assert!(
                matches!(e.code, ErrorCode::HostCall | ErrorCode::OutOfGas)
                    || (e.code == ErrorCode::Trap && e.message.starts_with("contract aborted: ")),
                "the generic contract failed with {e}"
            );
        }
        let out_of_gas = r
            .error
            .as_ref()
            .is_some_and(|e| e.code == ErrorCode::OutOfGas);
        if !out_of_gas {
            let mut m = model(contract, &calldata);
            match &m.outcome {
                Err(e) => {
                    let got = r.error.as_ref().map(|e| &e.message);
                    assert_eq!(got, Some(&e.to_string()), "the model failed: {e}");
                }
                Ok(()) => {
                    assert!(
                        r.success,
                        "the model succeeded, the run failed: {:?}",
                        r.error
                    );
                    assert_eq!(r.return_data, m.ctx.return_data, "return data");
                    assert_eq!(r.logs, m.ctx.logs, "logs");
                    assert_eq!(
                        u64::from(r.pages_read),
                        m.ctx.storage.total_pages_loaded(),
                        "pages read"
                    );
                    assert_eq!(
                        u64::from(r.pages_written),
                        m.ctx.storage.dirty_pages(),
                        "pages written"
                    );
                    let root: State = m
                        .ctx
                        .storage
                        .commit()
                        .expect("MemKv commits")
                        .get(&m.ctx.contract)
                        .copied()
                        .expect("the contract's cache");
                    assert_eq!(r.new_state, root, "state root");
                    for (account, balance) in &m.ctx.balances {
                        assert_eq!(
                            node.balance(account).expect("MemKv reads"),
                            *balance,
                            "balance of {account}"
                        );
                    }
                }
            }
        }
        receipts.push((compiler, r));
    }
    for (c, r) in receipts.iter().skip(1) {
        assert_eq!(r, &receipts[0].1, "{:?} and {c:?} differ", receipts[0].0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_covers_every_vmcall() {
        for v in VMCALLS {
            assert!(MODELLED.contains(&v.name), "{} is not modelled", v.name);
        }
    }

    #[test]
    fn fuzz_form_round_trips() {
        let s = Script {
            gas: 9,
            ops: vec![
                Op {
                    vmcall: 8,
                    args: [0x0102_0304_0506_0708, 64, 0, 0, 0, 0],
                },
                Op {
                    vmcall: 200,
                    args: [0; 6],
                },
            ],
        };
        let mut back = Script::from_fuzz(&s.to_fuzz());
        // Index 200 is taken modulo the vmcall count plus one.
        back.ops[1].vmcall = 200;
        assert_eq!(back, s);
    }
}
