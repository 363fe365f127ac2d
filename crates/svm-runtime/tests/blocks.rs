//! Blocks: many transactions, one batch; pruning; the same results on
//! every backend and after a restart.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use common::*;
use svm_kv::{KvStore, LevelKv, MemKv, RocksKv};
use svm_runtime::{BlockOutcome, KvNodeHost, Runtime, RuntimeConfig, Tx, TxOutcome, WasmValue};
use svm_types::{Address, State};

/// `set(page, v)` writes `v` (8 bytes, big-endian) at offset 0 of `page`;
/// `get(page)` reads it; `fail()` traps after a write.
const PAGES: &str = r#"(module
  (import "svm" "storage_read_to_reg" (func $read (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_write_from_reg" (func $write (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "reg_read_be_i64" (func $reg_get (param i32 i32) (result i64)))
  (import "svm" "reg_write_be_i64" (func $reg_set (param i64 i32 i32)))
  (memory (export "memory") 1)
  (func $get (export "get") (param $p i32) (result i64)
    (call $read (local.get $p) (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 64) (i32.const 0))
    (call $reg_get (i32.const 64) (i32.const 0)))
  (func $set (export "set") (param $p i32) (param $v i64)
    (call $reg_set (local.get $v) (i32.const 64) (i32.const 0))
    (call $write (i32.const 64) (i32.const 0) (i32.const 8) (local.get $p) (i32.const 0) (i32.const 0)))
  (func (export "fail") (param $p i32)
    (call $set (local.get $p) (i64.const 999))
    unreachable))"#;

fn set(contract: Address, page: i32, v: i64) -> Tx {
    Tx::Call(call_tx(
        contract,
        "set",
        vec![WasmValue::I32(page), WasmValue::I64(v)],
    ))
}

fn receipts(out: &BlockOutcome) -> Vec<svm_runtime::Receipt> {
    out.outcomes
        .iter()
        .filter_map(|o| match o {
            TxOutcome::Call(r) => Some(r.clone()),
            TxOutcome::Deploy(_) => None,
        })
        .collect()
}

fn runtime_keeping<K: KvStore + Clone + 'static>(kv: K, keep: u64) -> Runtime<K> {
    Runtime::new(
        kv.clone(),
        Arc::new(KvNodeHost::new(kv)),
        RuntimeConfig {
            keep_blocks: keep,
            ..RuntimeConfig::default()
        },
    )
}

#[test]
fn a_block_gives_the_receipts_of_calls_one_by_one_and_writes_each_page_once() {
    let (one_by_one, _) = runtime(Arc::new(MemKv::new()));
    let (blocked, _) = runtime(Arc::new(MemKv::new()));
    let a = deploy_wat(&one_by_one, PAGES, 0).address;
    assert_eq!(deploy_wat(&blocked, PAGES, 0).address, a);
    let txs: Vec<Tx> = (0..1000).map(|i| set(a, i % 3, i64::from(i))).collect();
    let out = blocked.execute_block(&txs).unwrap();
    for (tx, r) in txs.iter().zip(receipts(&out)) {
        let Tx::Call(c) = tx else { unreachable!() };
        let single = one_by_one.call(c);
        assert_eq!(single.consensus_hash(), r.consensus_hash());
        assert_eq!(single.new_state, r.new_state);
    }
    assert_eq!(out.stats.pages_written, 3, "three pages, each written once");
    assert!(
        out.stats.records_written + out.stats.records_packed <= 5,
        "{:?}",
        out.stats
    );
    assert_eq!(
        out.roots,
        vec![(a, blocked.contract(&a).unwrap().unwrap().state)]
    );
    assert_eq!(
        blocked.last_block().unwrap().unwrap().height,
        2,
        "deploy, then this block"
    );
    // Only the last state of the block is stored.
    let mid = receipts(&out)[500].new_state;
    assert!(blocked.pages().open(&a, &mid).is_err());
    assert!(blocked.pages().open(&a, &out.roots[0].1).is_ok());
}

#[test]
fn a_failed_transaction_rolls_back_only_itself() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let a = deploy_wat(&rt, PAGES, 0).address;
    let out = rt
        .execute_block(&[
            set(a, 0, 1),
            Tx::Call(call_tx(a, "fail", vec![WasmValue::I32(0)])),
            set(a, 1, 2),
        ])
        .unwrap();
    let r = receipts(&out);
    assert!(r[0].success && !r[1].success && r[2].success);
    assert_eq!(r[1].new_state, r[0].new_state, "the failure names its base");
    assert_eq!(
        call(&rt, a, "get", vec![WasmValue::I32(0)]).returns,
        vec![WasmValue::I64(1)]
    );
    assert_eq!(
        call(&rt, a, "get", vec![WasmValue::I32(1)]).returns,
        vec![WasmValue::I64(2)]
    );
}

#[test]
fn deploy_and_call_in_one_block() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let code = wat::parse_str(PAGES).unwrap();
    let address = svm_runtime::contracts::contract_address(
        &AUTHOR,
        0,
        &svm_runtime::contracts::code_hash(&code),
    );
    let out = rt
        .execute_block(&[
            Tx::Deploy(svm_runtime::DeployTx {
                author: AUTHOR,
                nonce: 0,
                name: "pages".into(),
                gas_limit: GAS,
                code,
            }),
            set(address, 4, 44),
        ])
        .unwrap();
    assert!(matches!(&out.outcomes[0], TxOutcome::Deploy(Ok(d)) if d.address == address));
    assert!(receipts(&out)[0].success);
    assert_eq!(
        call(&rt, address, "get", vec![WasmValue::I32(4)]).returns,
        vec![WasmValue::I64(44)]
    );
}

/// 100 blocks of writes to 40 pages of two contracts; the states after
/// each block.
fn hundred_blocks<K: KvStore + Clone + 'static>(
    rt: &Runtime<K>,
) -> (Vec<BTreeMap<Address, State>>, Vec<[u8; 32]>) {
    let a = deploy_wat(rt, PAGES, 0).address;
    let b = deploy_wat(rt, PAGES, 1).address;
    let mut states = Vec::new();
    let mut hashes = Vec::new();
    let mut rng = 3u64;
    for _ in 0..100 {
        let mut txs = Vec::new();
        for _ in 0..10 {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let c = if rng >> 63 == 0 { a } else { b };
            txs.push(set(c, ((rng >> 33) % 40) as i32, (rng >> 50) as i64 % 4));
        }
        let out = rt.execute_block(&txs).unwrap();
        hashes.push(out.block_hash);
        let mut s = BTreeMap::new();
        for c in [a, b] {
            s.insert(c, rt.contract(&c).unwrap().unwrap().state);
        }
        states.push(s);
    }
    (states, hashes)
}

fn keys(kv: &impl KvStore, ns: u8) -> BTreeSet<Vec<u8>> {
    kv.scan_prefix(&[ns])
        .unwrap()
        .into_iter()
        .map(|(k, _)| k.to_vec())
        .collect()
}

#[test]
fn after_100_blocks_keeping_8_the_kv_holds_only_what_the_last_8_states_reach() {
    let kv = Arc::new(MemKv::new());
    let rt = runtime_keeping(kv.clone(), 8);
    let (states, _) = hundred_blocks(&rt);
    let kept = &states[states.len() - 8..];
    let mut reach = BTreeSet::new();
    for s in kept {
        for (c, root) in s {
            reach.extend(rt.pages().reachable(c, root).unwrap());
            let view = rt.pages().open(c, root).unwrap();
            for i in 0..40 {
                let content = view.read(svm_pages::PageIndex(i), 0, 4096).unwrap();
                let proof = view.prove(svm_pages::PageIndex(i)).unwrap();
                assert!(svm_pages::verify_page(
                    root,
                    c,
                    svm_pages::PageIndex(i),
                    content[..].try_into().unwrap(),
                    &proof
                ));
            }
        }
    }
    let mut stored = keys(&*kv, b'N');
    stored.extend(keys(&*kv, b'P'));
    assert_eq!(stored.len(), reach.len());
    assert_eq!(stored, reach);
    let bytes: usize = kv
        .scan_prefix(&[])
        .unwrap()
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    assert!(bytes < 200 * 4096, "{bytes} live bytes");
    // Older states are gone, and so are their block records.
    let old = &states[50];
    for (c, root) in old {
        if !kept.iter().any(|s| s.get(c) == Some(root)) {
            assert!(rt.pages().open(c, root).is_err());
        }
    }
    let newest = rt.last_height().unwrap();
    assert!(rt.block(newest - 7).unwrap().is_some());
    assert!(rt.block(newest - 8).unwrap().is_none());
}

#[test]
fn every_backend_gives_the_same_blocks_and_reopens_at_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let mem = hundred_blocks(&runtime_keeping(Arc::new(MemKv::new()), 8));
    let rocks_path = dir.path().join("rocks");
    let rocks = {
        let rt = runtime_keeping(Arc::new(RocksKv::open(&rocks_path).unwrap()), 8);
        hundred_blocks(&rt)
    };
    let level = hundred_blocks(&runtime_keeping(
        Arc::new(LevelKv::open(dir.path().join("level")).unwrap()),
        8,
    ));
    assert_eq!(mem, rocks);
    assert_eq!(mem, level);
    // Reopened: the newest block and every kept state.
    let rt = runtime_keeping(Arc::new(RocksKv::open(&rocks_path).unwrap()), 8);
    let last = rt.last_block().unwrap().unwrap();
    assert_eq!(last.hash(), *rocks.1.last().unwrap());
    for s in &rocks.0[92..] {
        for (c, root) in s {
            assert!(rt.pages().open(c, root).is_ok());
        }
    }
    for (c, root) in rocks.0.last().unwrap() {
        assert_eq!(rt.contract(c).unwrap().unwrap().state, *root);
    }
}

/// `bump()` returns `memory[0] + 1000 × global + 10^6 × (memory pages - 1)`,
/// all 0 in a fresh instance, then dirties all three; `trap()` dirties
/// memory and traps; `loop()` runs out of gas. Variant `v` differs only in
/// an extra export, so each variant is its own module.
fn fresh_check(v: u32) -> String {
    format!(
        r#"(module
  (memory (export "memory") 1 4)
  (global $g (mut i64) (i64.const 0))
  (func (export "bump") (result i64)
    (local $r i64)
    (local.set $r (i64.add
      (i64.add (i64.load (i32.const 0)) (i64.mul (global.get $g) (i64.const 1000)))
      (i64.mul (i64.extend_i32_u (i32.sub (memory.size) (i32.const 1))) (i64.const 1000000))))
    (i64.store (i32.const 0) (i64.const 7))
    (global.set $g (i64.const 3))
    (drop (memory.grow (i32.const 3)))
    (i64.store (i32.const 200000) (i64.const 5))
    (local.get $r))
  (func (export "trap") (i64.store (i32.const 0) (i64.const 9)) unreachable)
  (func (export "loop") (loop $l (br $l)))
  (func (export "variant_{v}")))"#
    )
}

#[test]
fn every_transaction_of_a_block_gets_a_fresh_instance() {
    // Memory (pooled, memory_pool.rs), globals and memory size start fresh
    // in every transaction of a block, after successes, traps and running
    // out of gas, with six modules interleaved.
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let contracts: Vec<Address> = (0..6)
        .map(|v| deploy_wat(&rt, &fresh_check(v), v as u64).address)
        .collect();
    let mut txs = Vec::new();
    for i in 0..150usize {
        let c = contracts[i % 7 % 6];
        let f = match i % 5 {
            3 => "trap",
            4 if i % 3 == 0 => "loop",
            _ => "bump",
        };
        txs.push(Tx::Call(call_tx(c, f, vec![])));
    }
    let out = rt.execute_block(&txs).unwrap();
    let mut bumps = 0;
    for (tx, r) in txs.iter().zip(receipts(&out)) {
        let Tx::Call(c) = tx else { unreachable!() };
        match c.function.as_str() {
            "bump" => {
                assert!(r.success, "{:?}", r.error);
                assert_eq!(r.returns, vec![WasmValue::I64(0)]);
                bumps += 1;
            }
            _ => assert!(!r.success),
        }
    }
    assert!(bumps > 100);
    // The same receipts, gas included, as blocks of one (a store each).
    let (rt1, _) = runtime(Arc::new(MemKv::new()));
    for v in 0..6 {
        deploy_wat(&rt1, &fresh_check(v), v as u64);
    }
    let one_by_one: Vec<_> = txs
        .iter()
        .map(|t| receipts(&rt1.execute_block(std::slice::from_ref(t)).unwrap()))
        .collect();
    let one_by_one: Vec<_> = one_by_one.into_iter().flatten().collect();
    assert_eq!(receipts(&out), one_by_one);
}

/// State a call can leave behind in an instance that a block reuses
/// (`call::reuse`): `check()` returns a sum that is 0 only in a fresh
/// instance (data segment bytes, a non-exported mutable global as clang's
/// `__stack_pointer`, an exported one, memory past the data, the table),
/// then dirties all of it. `trap()` dirties and traps, `loop()` runs out of
/// gas, `deep()` recurses until the call-stack limit traps (leaving the
/// stack-limit global high), `store(v)` writes storage. Variant `v`
/// differs only in an extra export; its memory has `pages` pages (64 KiB
/// each), and the last 8 bytes are dirtied too. With `table_set`, `check`
/// also redirects the table (code a block must not reuse).
fn reuse_check(v: u32, pages: u32, table_set: bool) -> String {
    let last = pages * 65536 - 8;
    let redirect = if table_set {
        "(table.set (i32.const 0) (ref.func $eight))"
    } else {
        ""
    };
    format!(
        r#"(module
  (import "svm" "storage_write_from_reg" (func $write (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "reg_write_be_i64" (func $reg_set (param i64 i32 i32)))
  (memory (export "memory") {pages} 8)
  (global $sp (mut i32) (i32.const 4096))
  (global $g (export "g") (mut i64) (i64.const 0))
  (table 2 funcref)
  (elem (i32.const 0) $seven)
  (elem declare func $eight)
  (type $t (func (result i64)))
  (func $seven (type $t) (i64.const 7))
  (func $eight (type $t) (i64.const 8))
  (data (i32.const 16) "\05\00\00\00\00\00\00\00")
  (func $dirty
    (i64.store (i32.const 16) (i64.const 9))
    (i64.store (i32.const {last}) (i64.const 11))
    (global.set $sp (i32.const 77))
    (global.set $g (i64.const 3))
    {redirect})
  (func (export "check") (result i64)
    (local $r i64)
    (local.set $r (i64.add (i64.add
      (i64.add (i64.sub (i64.load (i32.const 16)) (i64.const 5))
               (i64.mul (global.get $g) (i64.const 1000)))
      (i64.add (i64.extend_i32_u (i32.sub (global.get $sp) (i32.const 4096)))
               (i64.mul (i64.load (i32.const {last})) (i64.const 100))))
      (i64.sub (call_indirect (type $t) (i32.const 0)) (i64.const 7))))
    (call $dirty)
    (local.get $r))
  (func (export "trap") (call $dirty) unreachable)
  (func (export "loop") (call $dirty) (loop $l (br $l)))
  (func $deep (export "deep") (call $dirty) (call $deep))
  (func (export "store") (param i64)
    (call $dirty)
    (call $reg_set (local.get 0) (i32.const 64) (i32.const 0))
    (call $write (i32.const 64) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "variant_{v}")))"#
    )
}

#[test]
fn a_reused_instance_starts_as_a_fresh_one() {
    // Four resettable variants (one with a memory larger than the part a
    // reset keeps resident) and one that sets its table, interleaved
    // with successes, traps, out-of-gas, a stack overflow and storage
    // writes: every receipt, gas included, and every root are those of
    // blocks of one, and the block did reuse instances.
    let deploy_all = |rt: &Runtime<Arc<MemKv>>| -> Vec<Address> {
        (0..5)
            .map(|v| {
                let pages = if v == 3 { 6 } else { 1 };
                deploy_wat(rt, &reuse_check(v, pages, v == 4), v as u64).address
            })
            .collect()
    };
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let contracts = deploy_all(&rt);
    let mut txs = Vec::new();
    for i in 0..200usize {
        let c = contracts[i * 7 % 11 % 5];
        let (f, args) = match i % 9 {
            2 => ("trap", vec![]),
            4 if i % 4 == 0 => ("loop", vec![]),
            5 => ("deep", vec![]),
            7 => ("store", vec![WasmValue::I64(i as i64)]),
            _ => ("check", vec![]),
        };
        txs.push(Tx::Call(call_tx(c, f, args)));
    }
    let out = rt.execute_block(&txs).unwrap();
    assert!(
        out.stats.instances_reused > 100,
        "{} calls reused an instance",
        out.stats.instances_reused
    );
    let mut checks = 0;
    for (tx, r) in txs.iter().zip(receipts(&out)) {
        let Tx::Call(c) = tx else { unreachable!() };
        match c.function.as_str() {
            "check" => {
                assert!(r.success, "{:?}", r.error);
                assert_eq!(r.returns, vec![WasmValue::I64(0)], "fresh state");
                checks += 1;
            }
            "store" => assert!(r.success, "{:?}", r.error),
            _ => assert!(!r.success),
        }
    }
    assert!(checks > 100);
    let (rt1, _) = runtime(Arc::new(MemKv::new()));
    deploy_all(&rt1);
    let mut one_by_one = Vec::new();
    for t in &txs {
        let o = rt1.execute_block(std::slice::from_ref(t)).unwrap();
        assert_eq!(o.stats.instances_reused, 0);
        one_by_one.extend(receipts(&o));
    }
    assert_eq!(receipts(&out), one_by_one);
    for c in &contracts {
        assert_eq!(
            rt.contract(c).unwrap().unwrap().state,
            rt1.contract(c).unwrap().unwrap().state
        );
    }
}

#[test]
fn a_database_of_another_storage_format_is_refused_and_left_untouched() {
    use svm_runtime::format::STORAGE_FORMAT_KEY;
    use svm_runtime::{FormatError, STORAGE_FORMAT};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rocks");
    let open = || -> Result<Runtime<Arc<RocksKv>>, FormatError> {
        let kv = Arc::new(RocksKv::open(&path).unwrap());
        Runtime::open(
            kv.clone(),
            Arc::new(KvNodeHost::new(kv)),
            RuntimeConfig::default(),
        )
    };
    // A new database opens; its first block writes the marker.
    {
        let rt = open().unwrap();
        assert_eq!(rt.kv().get(STORAGE_FORMAT_KEY).unwrap(), None);
        let c = deploy_wat(&rt, PAGES, 0).address;
        rt.execute_block(&[set(c, 0, 7)]).unwrap();
        assert_eq!(
            rt.kv().get(STORAGE_FORMAT_KEY).unwrap().unwrap().as_ref(),
            STORAGE_FORMAT.to_be_bytes()
        );
    }
    assert!(open().is_ok());
    let everything = |kv: &RocksKv| kv.scan_prefix(&[]).unwrap();
    // A database marked with format 2, and one written before the marker
    // existed (contracts and blocks, no marker): refused, nothing written.
    for marker in [Some(2u32), None] {
        let before = {
            let kv = RocksKv::open(&path).unwrap();
            match marker {
                Some(m) => kv.put(STORAGE_FORMAT_KEY, &m.to_be_bytes()).unwrap(),
                None => kv.delete(STORAGE_FORMAT_KEY).unwrap(),
            }
            everything(&kv)
        };
        assert_eq!(
            open().err(),
            Some(FormatError::Unsupported {
                found: 2,
                expected: STORAGE_FORMAT
            })
        );
        assert_eq!(everything(&RocksKv::open(&path).unwrap()), before);
    }
}

#[test]
fn blocks_from_many_threads_lose_no_update() {
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let rt = Arc::new(rt);
    let a = deploy_wat(&rt, PAGES, 0).address;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let rt = rt.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    // Each thread owns one page and counts up on it.
                    rt.execute_block(&[set(a, t, i + 1)]).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(
        rt.last_height().unwrap(),
        1 + 100,
        "the deploy and 100 blocks"
    );
    for t in 0..4 {
        assert_eq!(
            call(&rt, a, "get", vec![WasmValue::I32(t)]).returns,
            vec![WasmValue::I64(25)]
        );
    }
}

/// A MemKv whose writes fail while `fail` is set.
#[derive(Clone, Default)]
struct FlakyKv {
    kv: Arc<MemKv>,
    fail: Arc<std::sync::atomic::AtomicBool>,
}

impl KvStore for FlakyKv {
    fn get(&self, key: &[u8]) -> Result<Option<svm_kv::Bytes>, svm_kv::KvError> {
        self.kv.get(key)
    }
    fn write(&self, batch: svm_kv::WriteBatch) -> Result<(), svm_kv::KvError> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(svm_kv::KvError::Io {
                backend: "flaky",
                message: "writes fail".into(),
            });
        }
        self.kv.write(batch)
    }
    fn scan_prefix(
        &self,
        prefix: &[u8],
    ) -> Result<Vec<(svm_kv::Bytes, svm_kv::Bytes)>, svm_kv::KvError> {
        self.kv.scan_prefix(prefix)
    }
}

#[test]
fn the_node_hosts_balance_cache_follows_the_kv_through_blocks_and_failed_batches() {
    use svm_runtime::NodeHost;
    let kv = FlakyKv::default();
    let (rt, host) = runtime(kv.clone());
    let c = deploy_wat(&rt, PAGES, 0).address;
    let paying = |value: u64| {
        let mut t = call_tx(c, "get", vec![WasmValue::I32(0)]);
        t.value = value;
        Tx::Call(t)
    };
    // The balance as the KV holds it, read past the host's cache.
    let stored = |a: &Address| KvNodeHost::new(kv.clone()).balance(a).unwrap();
    host.set_balance(&SENDER, 100).unwrap();
    assert_eq!(host.balance(&SENDER).unwrap(), 100);
    let out = rt.execute_block(&[paying(30)]).unwrap();
    assert!(receipts(&out)[0].success);
    for a in [SENDER, c] {
        assert_eq!(host.balance(&a).unwrap(), stored(&a));
    }
    assert_eq!(host.balance(&SENDER).unwrap(), 70);
    // A block whose batch fails changes neither the KV nor the cache.
    kv.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(rt.execute_block(&[paying(20)]).is_err());
    assert!(host.set_balance(&c, 1).is_err());
    kv.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    for a in [SENDER, c] {
        assert_eq!(host.balance(&a).unwrap(), stored(&a));
    }
    assert_eq!(host.balance(&SENDER).unwrap(), 70);
    assert_eq!(host.balance(&c).unwrap(), 30);
    rt.execute_block(&[paying(5), paying(5)]).unwrap();
    assert_eq!(host.balance(&SENDER).unwrap(), 60);
    assert_eq!(host.balance(&c).unwrap(), stored(&c));
}

#[test]
fn a_contract_exporting_a_name_the_compiler_uses_keeps_its_export() {
    // `svm_bulk_scratch` names the bulk-gas middleware's scratch global,
    // `svm:global:0` the export the compiler adds for an unexported
    // mutable global: a contract's own export of either stays callable,
    // and such code is simply not reused.
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    let c = deploy_wat(
        &rt,
        r#"(module
  (memory (export "memory") 1)
  (global $sp (mut i32) (i32.const 0))
  (func (export "svm_bulk_scratch") (result i64) (i64.const 42))
  (func (export "svm:global:0") (result i64) (i64.const 43)))"#,
        0,
    )
    .address;
    let txs = [
        Tx::Call(call_tx(c, "svm_bulk_scratch", vec![])),
        Tx::Call(call_tx(c, "svm:global:0", vec![])),
    ];
    let out = rt.execute_block(&txs).unwrap();
    let r = receipts(&out);
    assert_eq!(r[0].returns, vec![WasmValue::I64(42)], "{:?}", r[0].error);
    assert_eq!(r[1].returns, vec![WasmValue::I64(43)], "{:?}", r[1].error);
    assert_eq!(out.stats.instances_reused, 0);
}

#[test]
fn code_whose_memory_starts_with_more_than_the_resident_bound_is_not_kept() {
    // One data byte per 4 KiB chunk: 64 chunks (256 KiB, the bound) are
    // kept, 65 (260 KiB) are not, so a kept instance never holds more
    // than 256 KiB of snapshot and a reset never copies more back.
    let module = |chunks: u32| {
        let data: String = (0..chunks)
            .map(|i| format!("(data (i32.const {}) \"\\01\")", i * 4096))
            .collect();
        format!(
            r#"(module (memory (export "memory") 5)
  (func (export "sum") (result i32)
    (local $i i32) (local $s i32)
    (loop $l
      (local.set $s (i32.add (local.get $s) (i32.load8_u (i32.mul (local.get $i) (i32.const 4096)))))
      (i32.store8 (i32.mul (local.get $i) (i32.const 4096)) (i32.const 9))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 80))))
    (local.get $s))
  {data})"#
        )
    };
    let (rt, _) = runtime(Arc::new(MemKv::new()));
    for (chunks, reused) in [(64u32, 2u64), (65, 0)] {
        let c = deploy_wat(&rt, &module(chunks), chunks as u64).address;
        let txs: Vec<Tx> = (0..3)
            .map(|_| Tx::Call(call_tx(c, "sum", vec![])))
            .collect();
        let out = rt.execute_block(&txs).unwrap();
        for r in receipts(&out) {
            assert_eq!(
                r.returns,
                vec![WasmValue::I32(chunks as i32)],
                "{:?}",
                r.error
            );
        }
        assert_eq!(out.stats.instances_reused, reused, "{chunks} chunks");
    }
}

/// A damaged newest height of `u64::MAX` neither panics the prune's
/// arithmetic (debug builds check overflow) nor deletes anything a real
/// block needs: the prune reports that height and the state still opens.
#[test]
fn a_prune_at_the_largest_height_does_not_overflow() {
    let kv = Arc::new(MemKv::new());
    let rt = runtime_keeping(kv.clone(), 8);
    let c = deploy_wat(&rt, PAGES, 0).address;
    let root = rt.execute_block(&[set(c, 0, 5)]).unwrap().roots[0].1;
    kv.put(b"mlatest-block", &u64::MAX.to_be_bytes()).unwrap();
    for keep in [1, 8, u64::MAX] {
        let out = rt.prune(keep).unwrap();
        assert_eq!(out.height, u64::MAX);
    }
    assert!(rt.pages().open(&c, &root).is_ok());
}

/// Nodes whose libraries word one failure differently agree on the block:
/// two deploys of malformed code of the same size, rejected by the deploy
/// gate with different wasmparser messages, give the same receipts hash
/// and block hash (a failed deploy enters them by its error code only).
#[test]
fn failed_deploys_in_other_words_give_the_same_block() {
    let deploy = |code: Vec<u8>| {
        let (rt, _) = runtime(Arc::new(MemKv::new()));
        let out = rt
            .execute_block(&[Tx::Deploy(svm_runtime::DeployTx {
                author: AUTHOR,
                nonce: 0,
                name: "bad".into(),
                gas_limit: GAS,
                code,
            })])
            .unwrap();
        let TxOutcome::Deploy(Err(e)) = &out.outcomes[0] else {
            panic!("the deploy succeeded: {:?}", out.outcomes[0]);
        };
        (e.to_string(), e.code(), out.receipts_hash, out.block_hash)
    };
    // Not wasm at all, and wasm whose version field is wrong: 8 bytes each.
    let (m1, c1, r1, b1) = deploy(b"not wasm".to_vec());
    let (m2, c2, r2, b2) = deploy(b"\0asm\x09\0\0\0".to_vec());
    assert_ne!(m1, m2, "the two failures should be worded differently");
    assert_eq!((c1, c2), (2, 2), "both are gate rejections: {m1} / {m2}");
    assert_eq!((r1, b1), (r2, b2));
}
