//! `svm demo`: the main job.
//!
//! On a fresh database it deploys the bundled coin (C) and counter (WAT)
//! contracts, funds the accounts, then runs seeded coin transfers between
//! random accounts in blocks, bumping the counter once per block. It prints
//! per-block and total transactions per second, the gas used, the failed
//! transfers (an insufficient balance is a normal failed receipt) and the
//! final state roots, and records a summary under the KV key
//! `demo/summary` (JSON) that `svm demo --verify` checks after a restart.
//!
//! Determinism: accounts are `blake3("svm-demo-account" ‖ i as u32 BE)[..20]`,
//! and transfers come from SplitMix64 seeded with `--seed`; the same options
//! give the same receipts and roots on every machine and backend.

use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use svm_kv::KvStore;
use svm_runtime::{CallTx, DeployTx, NodeHost, StateRef, Tx, TxOutcome, WasmValue};
use svm_types::Address;

use crate::Env;

const COIN: &[u8] = include_bytes!("../../../contracts/coin/coin.wasm");
pub(crate) const COUNTER: &str = include_str!("../../../contracts/counter/counter.wat");
pub(crate) const AUTHOR: Address = Address([0xde; 20]);
pub(crate) const SUMMARY_KEY: &[u8] = b"demo/summary";
/// Each account's starting balance.
pub(crate) const FUNDING: u64 = 5_000;
/// Transfer amounts are 1..=MAX_AMOUNT.
pub(crate) const MAX_AMOUNT: u64 = 2_000;

pub(crate) struct Options {
    pub(crate) accounts: u32,
    pub(crate) transfers: u32,
    pub(crate) block: u32,
    pub(crate) seed: u64,
    /// Where the balances live: the node (`coin`) or the token's map.
    pub(crate) contract: DemoContract,
}

/// Which contract the demo's transfers run on (`--contract`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DemoContract {
    /// `contracts/coin` (C): balances are the node's, moved as call value.
    Coin,
    /// `contracts/token` (Rust, svm-sdk): balances in the token's own map
    /// over its pages (`crate::token_demo`).
    Token,
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny, fixed, portable generator.
pub(crate) struct SplitMix64(pub(crate) u64);

impl SplitMix64 {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

pub(crate) fn account(i: u32) -> Address {
    let mut h = blake3::Hasher::new();
    h.update(b"svm-demo-account");
    h.update(&i.to_be_bytes());
    let mut a = [0u8; 20];
    a.copy_from_slice(&h.finalize().as_bytes()[..20]);
    Address(a)
}

/// `blake3` over `account(i) ‖ balance (u64 BE)` for i = 0, 1, ...: the
/// balances hash of a demo summary (node balances or the token's).
pub(crate) fn hash_balances(balances: impl IntoIterator<Item = u64>) -> String {
    let mut h = blake3::Hasher::new();
    for (i, b) in balances.into_iter().enumerate() {
        h.update(account(i as u32).as_bytes());
        h.update(&b.to_be_bytes());
    }
    h.finalize().to_hex().to_string()
}

/// The node balances of the first `n` demo accounts, hashed.
fn balances_hash(env: &Env, n: u32) -> Result<String, String> {
    let balances = (0..n)
        .map(|i| env.node.balance(&account(i)).map_err(|e| e.to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(hash_balances(balances))
}

/// Checks the options and that the data directory holds no demo yet, then
/// deploys `code` as `name` (nonce 0) and the counter (nonce 1) from
/// [`AUTHOR`]; their addresses.
pub(crate) fn setup(
    env: &Env,
    o: &Options,
    code: &[u8],
    name: &str,
) -> Result<(Address, Address), String> {
    if o.accounts < 2 || o.block == 0 {
        return Err("the demo needs at least 2 accounts and a block of at least 1".into());
    }
    if env
        .rt
        .kv()
        .contains(SUMMARY_KEY)
        .map_err(|e| e.to_string())?
    {
        return Err(
            "this data directory already holds a demo: use a fresh --data-dir, or --verify".into(),
        );
    }
    let deploy = |code: Vec<u8>, nonce: u64, name: &str| {
        env.rt
            .deploy(&DeployTx {
                author: AUTHOR,
                nonce,
                name: name.into(),
                gas_limit: 100_000_000,
                code,
            })
            .map(|d| d.address)
            .map_err(|e| format!("deploying {name}: {e}"))
    };
    let contract = deploy(code.to_vec(), 0, name)?;
    let counter_code = wat::parse_str(COUNTER).map_err(|e| e.to_string())?;
    Ok((contract, deploy(counter_code, 1, "counter")?))
}

/// The counter's `add(1)` that ends every demo block.
pub(crate) fn counter_bump(counter: Address) -> Tx {
    Tx::Call(CallTx {
        value: 0,
        contract: counter,
        sender: AUTHOR,
        function: "add".into(),
        args: vec![WasmValue::I64(1)],
        calldata: vec![],
        gas_limit: 1_000_000,
        state: StateRef::Latest,
    })
}

/// The latest state root of contract `a` (`what` names it in the error).
pub(crate) fn state_of(env: &Env, a: &Address, what: &str) -> Result<String, String> {
    Ok(env
        .rt
        .contract(a)
        .map_err(|e| e.to_string())?
        .ok_or(format!("{what} vanished"))?
        .state
        .to_string())
}

/// What the database holds after a demo: live keys, live key and value
/// bytes, and the directory's size on disk (disk backends).
pub(crate) struct StorageReport {
    live_keys: usize,
    live_bytes: usize,
    /// Keys and key and value bytes per namespace (the key's first byte).
    by_namespace: std::collections::BTreeMap<u8, (usize, usize)>,
    disk: Option<u64>,
}

impl StorageReport {
    pub(crate) fn of(env: &Env) -> Result<Self, String> {
        let by_namespace = live_kv(env)?;
        Ok(Self {
            live_keys: by_namespace.values().map(|(k, _)| k).sum(),
            live_bytes: by_namespace.values().map(|(_, b)| b).sum(),
            by_namespace,
            disk: env.dir.as_deref().map(dir_size),
        })
    }

    /// Adds `live_keys`, `live_kv_bytes`, `live_kv_by_namespace` (the
    /// key's first byte, as a character when printable → `[keys,
    /// bytes]`) and `db_dir_bytes` to `out`.
    pub(crate) fn add_to(&self, out: &mut Value) {
        out["live_keys"] = json!(self.live_keys);
        out["live_kv_bytes"] = json!(self.live_bytes);
        let by_ns: serde_json::Map<String, Value> = self
            .by_namespace
            .iter()
            .map(|(ns, (keys, bytes))| {
                let name = if ns.is_ascii_graphic() {
                    char::from(*ns).to_string()
                } else {
                    format!("0x{ns:02x}")
                };
                (name, json!([keys, bytes]))
            })
            .collect();
        out["live_kv_by_namespace"] = Value::Object(by_ns);
        out["db_dir_bytes"] = json!(self.disk);
    }

    /// The `storage` line of the human output.
    pub(crate) fn print(&self) {
        println!(
            "storage            {} live keys, {} live KV bytes{}",
            self.live_keys,
            self.live_bytes,
            match self.disk {
                Some(d) => format!(", database directory {d} bytes"),
                None => String::new(),
            }
        );
    }
}

/// Field `k` of a demo summary, as text.
pub(crate) fn summary_field(s: &Value, k: &str) -> Result<String, String> {
    s[k].as_str()
        .map(str::to_string)
        .ok_or(format!("summary lacks {k}"))
}

/// For each (address field, state field) of the summary: the contract's
/// latest root is the recorded one and opens. Differences go to
/// `problems`.
pub(crate) fn check_roots(
    env: &Env,
    s: &Value,
    pairs: [(&str, &str); 2],
    problems: &mut Vec<String>,
) -> Result<(), String> {
    for (addr_key, state_key) in pairs {
        let a = crate::address(&summary_field(s, addr_key)?)?;
        let rec = env
            .rt
            .contract(&a)
            .map_err(|e| e.to_string())?
            .ok_or(format!("{addr_key} {a} is missing"))?;
        if rec.state.to_string() != summary_field(s, state_key)? {
            problems.push(format!("{addr_key} state root differs"));
        }
        if env.rt.pages().open(&a, &rec.state).is_err() {
            problems.push(format!("{addr_key} state does not open"));
        }
    }
    Ok(())
}

/// The counter, queried at its recorded state (a query writes nothing, not
/// even a block), counts the summary's blocks. A difference goes to
/// `problems`.
pub(crate) fn check_counter(
    env: &Env,
    s: &Value,
    problems: &mut Vec<String>,
) -> Result<(), String> {
    let r = env.rt.call(&CallTx {
        value: 0,
        contract: crate::address(&summary_field(s, "counter")?)?,
        sender: AUTHOR,
        function: "get".into(),
        args: vec![],
        calldata: vec![],
        gas_limit: 1_000_000,
        state: StateRef::At(crate::state(&summary_field(s, "counter_state")?)?),
    });
    if r.returns != vec![WasmValue::I64(s["blocks"].as_i64().unwrap_or(-1))] {
        problems.push(format!("counter reads {:?}", r.returns));
    }
    Ok(())
}

/// The coin demo (`--contract coin`); the token demo is `token_demo`.
pub(crate) fn run(env: &Env, o: &Options) -> Result<(), String> {
    let (coin, counter) = setup(env, o, COIN, "coin")?;
    for i in 0..o.accounts {
        env.node
            .set_balance(&account(i), FUNDING)
            .map_err(|e| e.to_string())?;
    }
    if !env.json {
        println!("deployed coin {coin} and counter {counter}");
        println!(
            "funded {} accounts with {FUNDING} each; running {} transfers in blocks of {}",
            o.accounts, o.transfers, o.block
        );
    }

    let bar = if env.json {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(u64::from(o.transfers))
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} transfers  {msg}")
            .map_err(|e| e.to_string())?,
    );
    let mut rng = SplitMix64(o.seed);
    let (mut failed, mut gas, mut done) = (0u64, 0u64, 0u32);
    let mut blocks = Vec::new();
    // Every receipt's consensus hash, in order: the same on every backend
    // and compiler.
    let mut receipts = blake3::Hasher::new();
    let started = crate::now();
    while done < o.transfers {
        let n = o.block.min(o.transfers - done);
        let t0 = crate::now();
        let mut block_failed = 0;
        let mut txs = Vec::with_capacity(n as usize + 1);
        for _ in 0..n {
            let from = account((rng.next() % u64::from(o.accounts)) as u32);
            let to = account((rng.next() % u64::from(o.accounts)) as u32);
            let amount = 1 + rng.next() % MAX_AMOUNT;
            txs.push(Tx::Call(CallTx {
                value: amount,
                contract: coin,
                sender: from,
                function: "transfer".into(),
                args: vec![WasmValue::I64(amount as i64)],
                calldata: to.as_bytes().to_vec(),
                gas_limit: 1_000_000,
                state: StateRef::Latest,
            }));
        }
        txs.push(counter_bump(counter));
        let out = env.rt.execute_block(&txs).map_err(|e| e.to_string())?;
        let mut receipts_in = Vec::with_capacity(out.outcomes.len());
        for o in out.outcomes {
            if let TxOutcome::Call(r) = o {
                receipts_in.push(r);
            }
        }
        let bump = receipts_in
            .pop()
            .ok_or("the block lost the counter's receipt")?;
        for r in &receipts_in {
            gas += r.gas_used;
            receipts.update(&r.consensus_hash().map_err(|e| e.to_string())?);
            if !r.success {
                block_failed += 1;
            }
        }
        if !bump.success {
            return Err(format!("counter failed: {:?}", bump.error));
        }
        receipts.update(&bump.consensus_hash().map_err(|e| e.to_string())?);
        let secs = t0.elapsed().as_secs_f64();
        let tps = f64::from(n) / secs.max(1e-9);
        failed += block_failed;
        done += n;
        bar.inc(u64::from(n));
        bar.set_message(format!("{tps:.0} tx/s"));
        if !env.json {
            let line = format!(
                "block {:>4}: {n} transfers, {block_failed} failed, {tps:>8.0} tx/s",
                blocks.len()
            );
            // A hidden bar (no terminal) drops its println: print directly.
            if bar.is_hidden() {
                println!("{line}");
            } else {
                bar.println(line);
            }
        }
        blocks.push(json!({"transfers": n, "failed": block_failed, "tx_per_s": tps.round()}));
    }
    bar.finish_and_clear();
    let total_secs = started.elapsed().as_secs_f64();
    let coin_state = state_of(env, &coin, "coin")?;
    let counter_state = state_of(env, &counter, "counter")?;
    let summary = json!({
        "coin": coin.to_string(),
        "counter": counter.to_string(),
        "coin_state": coin_state,
        "counter_state": counter_state,
        "accounts": o.accounts,
        "transfers": o.transfers,
        "blocks": blocks.len(),
        "failed": failed,
        "gas_used": gas,
        "receipts_hash": receipts.finalize().to_hex().to_string(),
        "balances_hash": balances_hash(env, o.accounts)?,
    });
    env.rt
        .kv()
        .put(SUMMARY_KEY, summary.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let tps = f64::from(o.transfers) / total_secs.max(1e-9);
    let storage = StorageReport::of(env)?;
    if env.json {
        let mut out = summary.clone();
        out["tx_per_s"] = json!(tps.round());
        storage.add_to(&mut out);
        out["per_block"] = Value::Array(blocks);
        println!("{out}");
    } else {
        println!(
            "done: {} transfers in {total_secs:.2} s = {tps:.0} tx/s",
            o.transfers
        );
        println!("failed transfers   {failed} (insufficient balance)");
        println!("gas used           {gas}");
        println!("coin state root    {coin_state}");
        println!("counter state root {counter_state}");
        storage.print();
    }
    Ok(())
}

/// The number of keys in the KV and their key and value bytes, per
/// namespace (the key's first byte).
pub(crate) fn live_kv(env: &Env) -> Result<std::collections::BTreeMap<u8, (usize, usize)>, String> {
    // Streamed: the database may be larger than memory.
    let mut by_ns = std::collections::BTreeMap::new();
    env.rt
        .kv()
        .visit_prefix(&[], &mut |k, v| {
            let e = by_ns
                .entry(k.first().copied().unwrap_or(0))
                .or_insert((0, 0));
            e.0 += 1;
            e.1 += k.len() + v.len();
            true
        })
        .map_err(|e| e.to_string())?;
    Ok(by_ns)
}

/// The bytes of the files under `dir` (the database's size on disk).
pub(crate) fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// The summary the last demo recorded in this data directory.
///
/// # Errors
/// When there is none or it is not JSON.
pub(crate) fn summary(env: &Env) -> Result<Value, String> {
    let raw = env
        .rt
        .kv()
        .get(SUMMARY_KEY)
        .map_err(|e| e.to_string())?
        .ok_or("no demo in this data directory: run `svm demo` first")?;
    serde_json::from_slice(&raw).map_err(|e| format!("demo summary: {e}"))
}

/// Checks a coin demo's summary `s` (`"contract"` not `"token"`) after a
/// restart.
pub(crate) fn verify(env: &Env, o: &Options, s: &Value) -> Result<(), String> {
    let field = |k: &str| summary_field(s, k);
    let mut problems = Vec::new();
    check_roots(
        env,
        s,
        [("coin", "coin_state"), ("counter", "counter_state")],
        &mut problems,
    )?;
    let accounts = s["accounts"].as_u64().unwrap_or(u64::from(o.accounts)) as u32;
    if balances_hash(env, accounts)? != field("balances_hash")? {
        problems.push("balances differ".into());
    }
    check_counter(env, s, &mut problems)?;
    if problems.is_empty() {
        env.print(
            format!(
                "verified: coin state {}, counter state {}, {} balances",
                field("coin_state")?,
                field("counter_state")?,
                accounts
            ),
            json!({"verified": true, "coin_state": field("coin_state")?,
                   "counter_state": field("counter_state")?}),
        );
        Ok(())
    } else {
        Err(format!("verification failed: {}", problems.join("; ")))
    }
}
