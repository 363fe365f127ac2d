//! `svm demo --contract token`: the demo's transfers with the balances in
//! the token contract's own map (`contracts/token`, Rust over `svm-sdk`),
//! so every transfer reads and writes map nodes in the token's pages.
//!
//! On a fresh database it deploys the token and the counter, makes the
//! author the minter (`init`), mints [`FUNDING`] to each account in
//! batches of [`MINT_BATCH`] (`mint`), then runs the same seeded transfers
//! as the coin demo (`transfer`, call data recipient ‖ amount) in blocks,
//! bumping the counter once per block. A model of the balances in Rust
//! runs beside it: a transfer must succeed exactly when the model says the
//! sender can pay, or the demo stops. It prints per block the tx/s, the
//! pages read and written; at the end the token's state root; and records a
//! summary (`"contract": "token"`) that `svm demo --verify` checks after a
//! restart by querying every account's `balance_of` at the recorded state.

use serde_json::{Value, json};
use svm_runtime::{CallTx, StateRef, Tx, TxOutcome};
use svm_types::Address;

use crate::Env;
use crate::demo::{
    AUTHOR, FUNDING, MAX_AMOUNT, Options, SUMMARY_KEY, SplitMix64, StorageReport, account,
    check_counter, check_roots, counter_bump, hash_balances, setup, state_of, summary_field,
};

const TOKEN: &[u8] = include_bytes!("../../../contracts/token/token.wasm");
/// Accounts credited by one `mint` transaction (28 bytes of call data
/// each).
const MINT_BATCH: u32 = 1_000;
/// `mint` transactions per block. Random accounts dirty most of the map's
/// leaves in every block, so fewer, larger blocks write the map fewer
/// times (at 1M accounts, 20 per block wrote 5.7 GB while minting, 50 write
/// 3.4 GB); a block's overlay holds each transaction's page versions, up to
/// about 50 × 1 000 × 4 KiB = 200 MB here. The token's state is the same
/// for any grouping.
const MINTS_PER_BLOCK: u32 = 50;
/// The gas limit of a token transfer.
const TRANSFER_GAS: u64 = 1_000_000;

fn call(contract: Address, sender: Address, function: &str, calldata: Vec<u8>, gas: u64) -> Tx {
    Tx::Call(CallTx {
        value: 0,
        contract,
        sender,
        function: function.into(),
        args: vec![],
        calldata,
        gas_limit: gas,
        state: StateRef::Latest,
    })
}

/// Runs one block; its receipts, the pages its transactions read, and its
/// commit's figures.
fn block(
    env: &Env,
    txs: &[Tx],
) -> Result<(Vec<svm_runtime::Receipt>, u64, svm_runtime::BlockStats), String> {
    let out = env.rt.execute_block(txs).map_err(|e| e.to_string())?;
    let mut receipts = Vec::with_capacity(out.outcomes.len());
    for o in out.outcomes {
        match o {
            TxOutcome::Call(r) => receipts.push(r),
            other => return Err(format!("unexpected outcome {other:?}")),
        }
    }
    let read = receipts.iter().map(|r| u64::from(r.pages_read)).sum();
    Ok((receipts, read, out.stats))
}

pub(crate) fn run(env: &Env, o: &Options) -> Result<(), String> {
    let (token, counter) = setup(env, o, TOKEN, "token")?;
    let (init, _, _) = block(
        env,
        &[call(
            token,
            AUTHOR,
            "init",
            0u64.to_be_bytes().to_vec(),
            1_000_000,
        )],
    )?;
    if !init[0].success {
        return Err(format!("token init failed: {:?}", init[0].error));
    }

    // Mint FUNDING to every account, MINT_BATCH accounts per transaction.
    let started = crate::now();
    let mut txs = Vec::new();
    let mut first = 0u32;
    while first < o.accounts {
        let last = (first + MINT_BATCH).min(o.accounts);
        let mut data = Vec::with_capacity(28 * (last - first) as usize);
        for i in first..last {
            data.extend_from_slice(account(i).as_bytes());
            data.extend_from_slice(&FUNDING.to_be_bytes());
        }
        txs.push(call(token, AUTHOR, "mint", data, 100_000_000));
        first = last;
        if txs.len() as u32 == MINTS_PER_BLOCK || first == o.accounts {
            let (receipts, _, _) = block(env, &txs)?;
            if let Some(r) = receipts.iter().find(|r| !r.success) {
                return Err(format!("mint failed: {:?}", r.error));
            }
            txs.clear();
        }
    }
    let mint_secs = started.elapsed().as_secs_f64();
    let written_before = disk_bytes_written();
    let sched_before = thread_schedstat();
    if !env.json {
        println!("deployed token {token} and counter {counter}");
        println!(
            "minted {FUNDING} tokens to each of {} accounts in {:.2} s; running {} transfers in blocks of {}",
            o.accounts, mint_secs, o.transfers, o.block
        );
    }

    let mut model = vec![FUNDING; o.accounts as usize];
    let mut rng = SplitMix64(o.seed);
    let (mut failed, mut gas, mut done) = (0u64, 0u64, 0u32);
    let (mut pages_read, mut pages_written) = (0u64, 0u64);
    let mut blocks = Vec::new();
    let mut receipts_hash = blake3::Hasher::new();
    let started = crate::now();
    while done < o.transfers {
        let n = o.block.min(o.transfers - done);
        let t0 = crate::now();
        let mut txs = Vec::with_capacity(n as usize + 1);
        let mut expect = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let from = (rng.next() % u64::from(o.accounts)) as usize;
            let to = (rng.next() % u64::from(o.accounts)) as usize;
            let amount = 1 + rng.next() % MAX_AMOUNT;
            let ok = model[from] >= amount;
            if ok {
                model[from] -= amount;
                model[to] += amount;
            }
            expect.push(ok);
            let mut data = account(to as u32).as_bytes().to_vec();
            data.extend_from_slice(&amount.to_be_bytes());
            txs.push(call(
                token,
                account(from as u32),
                "transfer",
                data,
                TRANSFER_GAS,
            ));
        }
        txs.push(counter_bump(counter));
        let (mut receipts, read, stats) = block(env, &txs)?;
        let written = stats.pages_written as u64;
        let bump = receipts
            .pop()
            .ok_or("the block lost the counter's receipt")?;
        if !bump.success {
            return Err(format!("counter failed: {:?}", bump.error));
        }
        let mut block_failed = 0;
        for (r, ok) in receipts.iter().zip(&expect) {
            if r.success != *ok {
                return Err(format!(
                    "transfer {} disagrees with the model: {:?}",
                    done + 1,
                    r.error
                ));
            }
            gas += r.gas_used;
            receipts_hash.update(&r.consensus_hash().map_err(|e| e.to_string())?);
            block_failed += u64::from(!r.success);
        }
        receipts_hash.update(&bump.consensus_hash().map_err(|e| e.to_string())?);
        let secs = t0.elapsed().as_secs_f64();
        let tps = f64::from(n) / secs.max(1e-9);
        failed += block_failed;
        pages_read += read;
        pages_written += written;
        done += n;
        if !env.json {
            println!(
                "block {:>4}: {n} transfers, {block_failed} failed, {tps:>8.0} tx/s, {read} pages read, {written} pages written",
                blocks.len()
            );
        }
        blocks.push(
            json!({"transfers": n, "failed": block_failed, "tx_per_s": tps.round(),
                   "pages_read": read, "pages_written": written,
                   "records_written": stats.records_written, "stale_keys": stats.stale_keys,
                   "pruned_keys": stats.pruned_keys, "batch_ops": stats.batch_ops,
                   "batch_bytes": stats.batch_bytes}),
        );
    }
    let total_secs = started.elapsed().as_secs_f64();
    let written_during = disk_bytes_written()
        .zip(written_before)
        .map(|(after, before)| after.saturating_sub(before));
    // The main thread's own CPU time and its wait for a core during the
    // transfers: a steadier figure than tx/s to compare two builds by,
    // since RocksDB's compactions, on the other core, move the wall
    // clock more than this thread's work.
    let sched_during = thread_schedstat()
        .zip(sched_before)
        .map(|(a, b)| (a.0.saturating_sub(b.0), a.1.saturating_sub(b.1)));
    let summary = json!({
        "contract": "token",
        "token": token.to_string(),
        "counter": counter.to_string(),
        "token_state": state_of(env, &token, "token")?,
        "counter_state": state_of(env, &counter, "counter")?,
        "accounts": o.accounts,
        "transfers": o.transfers,
        "blocks": blocks.len(),
        "failed": failed,
        "gas_used": gas,
        "receipts_hash": receipts_hash.finalize().to_hex().to_string(),
        "balances_hash": hash_balances(model.iter().copied()),
    });
    env.rt
        .kv()
        .put(SUMMARY_KEY, summary.to_string().as_bytes())
        .map_err(|e| e.to_string())?;
    let tps = f64::from(o.transfers) / total_secs.max(1e-9);
    let storage = StorageReport::of(env)?;
    let nblocks = blocks.len().max(1) as u64;
    if env.json {
        let mut out = summary.clone();
        out["tx_per_s"] = json!(tps.round());
        out["mint_s"] = json!((mint_secs * 100.0).round() / 100.0);
        out["transfers_disk_written_bytes"] = json!(written_during);
        if let Some((cpu, wait)) = sched_during {
            out["transfers_main_thread_cpu_s"] = json!((cpu as f64 / 1e7).round() / 100.0);
            out["transfers_main_thread_wait_s"] = json!((wait as f64 / 1e7).round() / 100.0);
        }
        out["pages_read_per_block"] = json!(pages_read / nblocks);
        out["pages_written_per_block"] = json!(pages_written / nblocks);
        storage.add_to(&mut out);
        out["per_block"] = Value::Array(blocks);
        println!("{out}");
    } else {
        println!(
            "done: {} token transfers in {total_secs:.2} s = {tps:.0} tx/s",
            o.transfers
        );
        println!("failed transfers   {failed} (insufficient balance, as the model says)");
        println!("gas used           {gas}");
        println!(
            "pages per block    {} read, {} written",
            pages_read / nblocks,
            pages_written / nblocks
        );
        println!(
            "token state root   {}",
            summary["token_state"].as_str().unwrap_or("")
        );
        println!(
            "counter state root {}",
            summary["counter_state"].as_str().unwrap_or("")
        );
        storage.print();
    }
    Ok(())
}

/// `svm demo --verify` of a token demo: the recorded roots are the latest
/// and open, the counter counts the blocks, the total supply is intact, and
/// every account's `balance_of`, queried at the recorded token state,
/// hashes to the recorded balances hash.
pub(crate) fn verify(env: &Env, s: &Value) -> Result<(), String> {
    let field = |k: &str| summary_field(s, k);
    let mut problems = Vec::new();
    check_roots(
        env,
        s,
        [("token", "token_state"), ("counter", "counter_state")],
        &mut problems,
    )?;
    let token = crate::address(&field("token")?)?;
    let token_state = crate::state(&field("token_state")?)?;
    let query = |function: &str, calldata: Vec<u8>| -> Result<u64, String> {
        // A query at the recorded state: verifying writes nothing.
        let r = env.rt.call(&CallTx {
            value: 0,
            contract: token,
            sender: AUTHOR,
            function: function.into(),
            args: vec![],
            calldata,
            gas_limit: TRANSFER_GAS,
            state: StateRef::At(token_state),
        });
        match <[u8; 8]>::try_from(&r.return_data[..]) {
            Ok(b) if r.success => Ok(u64::from_be_bytes(b)),
            _ => Err(format!("{function} failed: {:?}", r.error)),
        }
    };
    let accounts = s["accounts"].as_u64().ok_or("summary lacks accounts")? as u32;
    let balances = (0..accounts)
        .map(|i| query("balance_of", account(i).as_bytes().to_vec()))
        .collect::<Result<Vec<_>, _>>()?;
    if hash_balances(balances) != field("balances_hash")? {
        problems.push("balances differ".into());
    }
    if query("total_supply", vec![])? != u64::from(accounts) * FUNDING {
        problems.push("the total supply changed".into());
    }
    check_counter(env, s, &mut problems)?;
    if problems.is_empty() {
        env.print(
            format!(
                "verified: token state {}, counter state {}, {accounts} token balances",
                field("token_state")?,
                field("counter_state")?,
            ),
            json!({"verified": true, "contract": "token", "token_state": field("token_state")?,
                   "counter_state": field("counter_state")?}),
        );
        Ok(())
    } else {
        Err(format!("verification failed: {}", problems.join("; ")))
    }
}

/// This thread's time on a CPU and its time waiting for one, in
/// nanoseconds: the first two fields of `/proc/thread-self/schedstat`
/// (Linux; `None` elsewhere).
fn thread_schedstat() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut f = s.split_whitespace().map(|v| v.parse::<u64>().ok());
    Some((f.next()??, f.next()??))
}

/// The bytes this process (database threads included) caused to be
/// written to storage so far: `write_bytes` of `/proc/self/io` (Linux;
/// `None` elsewhere). What a phase writes is the difference.
fn disk_bytes_written() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse().ok())
}
