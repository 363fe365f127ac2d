//! The token demo's workload (`svm demo --contract token`) on the two
//! peers `scripts/bench-scale.sh` compares svm with:
//!
//! - `nomt`: NOMT, thrumdev's Nearly Optimal Merkle Trie; one session per
//!   block, its root per block, each commit synced to disk (NOMT always
//!   syncs a commit);
//! - `rocksdb`: a flat RocksDB (svm's own `RocksKv`, same options as the
//!   `svm` program's) holding `key → balance`, one `WriteBatch` per block,
//!   no Merkle tree, synced only with `--sync`.
//!
//! The workload is the demo's: `--accounts` accounts (key: the 32-byte
//! BLAKE3 of `svm-demo-account ‖ i` (`u32` BE), the demo's account address
//! being its first 20 bytes; value: an 8-byte big-endian balance) minted
//! 5,000 each, 50,000 per commit; then `--transfers` transfers in blocks of
//! `--block`, drawn from SplitMix64 seeded with `--seed` exactly as the
//! demo draws them (sender, recipient, amount 1..=2,000; a transfer the
//! sender cannot pay reads both balances and writes nothing). At the end
//! every 997th account's balance is checked against a model.
//!
//! Prints one JSON object: `engine`, `accounts`, `transfers`, `tx_per_s`
//! (transfers per second over the transfer blocks), `mint_s`,
//! `db_dir_bytes` (the bytes the database directory's files occupy on
//! disk at the end: NOMT's hash table is a sparse file of `accounts / 2`
//! 4 KiB buckets),
//! `transfers_disk_written_bytes` (from `/proc/self/io`), `final_root`
//! (NOMT only).
//!
//! Usage: `svm-scale-peer --engine nomt|rocksdb --dir DIR [--accounts N]
//! [--transfers N] [--block N] [--seed N] [--sync] [--rollback N]`

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nomt::hasher::Blake3Hasher;
use nomt::{KeyReadWrite, Nomt, Options, SessionParams};
use svm_kv::{KvStore, RocksConfig, RocksKv, WriteBatch};

/// Each account's balance after minting (the demo's `FUNDING`).
const FUNDING: u64 = 5_000;
/// Transfer amounts are `1..=MAX_AMOUNT` (the demo's).
const MAX_AMOUNT: u64 = 2_000;
/// Accounts minted per commit (the demo's 50 mints of 1,000 a block).
const MINT_PER_COMMIT: u32 = 50_000;

type Key = [u8; 32];

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn key(i: u32) -> Key {
    let mut h = blake3::Hasher::new();
    h.update(b"svm-demo-account");
    h.update(&i.to_be_bytes());
    *h.finalize().as_bytes()
}

fn balance(v: Option<&[u8]>) -> u64 {
    v.and_then(|v| <[u8; 8]>::try_from(v).ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// A key-value store that commits one block of writes at a time.
trait Engine {
    /// The committed balance of `k`.
    fn get(&mut self, k: &Key) -> u64;
    /// Commits one block: every key read (with its committed value) and
    /// the new values of those written, in key order.
    fn commit(&mut self, reads: &[(Key, u64)], writes: &HashMap<Key, u64>);
    /// The root after the last commit, if the engine has one.
    fn root(&self) -> Option<String>;
}

struct NomtEngine {
    nomt: Nomt<Blake3Hasher>,
    session: Option<nomt::Session<Blake3Hasher>>,
}

impl NomtEngine {
    fn open(dir: &Path, accounts: u32, rollback: u32) -> Self {
        let mut opts = Options::new();
        opts.path(dir);
        opts.commit_concurrency(1);
        // The trie's pages (126 nodes each, 6 levels of a key's path)
        // number about accounts / 4 at 1M random keys; twice that, in a
        // sparse file: the directory's size counts the pages written.
        opts.hashtable_buckets((accounts / 2).max(4_096));
        opts.preallocate_ht(false);
        if rollback > 0 {
            opts.rollback(true);
            opts.max_rollback_log_len(rollback);
        }
        let nomt = Nomt::<Blake3Hasher>::open(opts).expect("NOMT opens");
        Self {
            nomt,
            session: None,
        }
    }

    fn session(&mut self) -> &nomt::Session<Blake3Hasher> {
        if self.session.is_none() {
            self.session = Some(self.nomt.begin_session(SessionParams::default()));
        }
        self.session.as_ref().expect("just set")
    }
}

impl Engine for NomtEngine {
    fn get(&mut self, k: &Key) -> u64 {
        let v = self.session().read(*k).expect("NOMT reads");
        balance(v.as_deref())
    }

    fn commit(&mut self, reads: &[(Key, u64)], writes: &HashMap<Key, u64>) {
        let session = match self.session.take() {
            Some(s) => s,
            None => self.nomt.begin_session(SessionParams::default()),
        };
        let mut access: Vec<(Key, KeyReadWrite)> = reads
            .iter()
            .map(|(k, old)| {
                let old = (*old != 0).then(|| old.to_be_bytes().to_vec());
                let rw = match writes.get(k) {
                    Some(new) => KeyReadWrite::ReadThenWrite(old, Some(new.to_be_bytes().to_vec())),
                    None => KeyReadWrite::Read(old),
                };
                (*k, rw)
            })
            .collect();
        // Writes of keys the block did not read (the minting): a set, not
        // a scan of the reads per write.
        let read: std::collections::HashSet<&Key> = reads.iter().map(|(k, _)| k).collect();
        for (k, v) in writes {
            if !read.contains(k) {
                access.push((*k, KeyReadWrite::Write(Some(v.to_be_bytes().to_vec()))));
            }
        }
        access.sort_by_key(|(k, _)| *k);
        let finished = session.finish(access).expect("NOMT finishes");
        finished.commit(&self.nomt).expect("NOMT commits");
    }

    fn root(&self) -> Option<String> {
        Some(
            self.nomt
                .root()
                .into_inner()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }
}

struct RocksEngine {
    kv: RocksKv,
}

impl Engine for RocksEngine {
    fn get(&mut self, k: &Key) -> u64 {
        balance(self.kv.get(k).expect("RocksDB reads").as_deref())
    }

    fn commit(&mut self, _reads: &[(Key, u64)], writes: &HashMap<Key, u64>) {
        let mut batch = WriteBatch::new();
        let mut keys: Vec<_> = writes.iter().collect();
        keys.sort();
        for (k, v) in keys {
            batch.put(k.to_vec(), v.to_be_bytes().to_vec());
        }
        self.kv.write(batch).expect("RocksDB writes");
    }

    fn root(&self) -> Option<String> {
        None
    }
}

/// One block's reads (committed values, first read) and writes.
#[derive(Default)]
struct Block {
    reads: Vec<(Key, u64)>,
    seen: HashMap<Key, u64>,
    writes: HashMap<Key, u64>,
}

impl Block {
    fn get(&mut self, e: &mut dyn Engine, k: &Key) -> u64 {
        if let Some(v) = self.writes.get(k) {
            return *v;
        }
        if let Some(v) = self.seen.get(k) {
            return *v;
        }
        let v = e.get(k);
        self.seen.insert(*k, v);
        self.reads.push((*k, v));
        v
    }
}

fn dir_bytes(p: &Path) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(p) {
        for e in entries.flatten() {
            match e.metadata() {
                Ok(m) if m.is_dir() => total += dir_bytes(&e.path()),
                // Allocated bytes: NOMT's hash table is a sparse file.
                Ok(m) => total += std::os::unix::fs::MetadataExt::blocks(&m) * 512,
                Err(_) => {}
            }
        }
    }
    total
}

fn disk_bytes_written() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse().ok())
}

struct Args {
    engine: String,
    dir: PathBuf,
    accounts: u32,
    transfers: u32,
    block: u32,
    seed: u64,
    sync: bool,
    rollback: u32,
}

fn args() -> Args {
    let mut a = Args {
        engine: String::new(),
        dir: PathBuf::new(),
        accounts: 1_000,
        transfers: 100_000,
        block: 1_000,
        seed: 42,
        sync: false,
        rollback: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--sync" {
            a.sync = true;
            continue;
        }
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let num = || {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| panic!("{flag}: {value}"))
        };
        match flag.as_str() {
            "--engine" => a.engine = value.clone(),
            "--dir" => a.dir = PathBuf::from(&value),
            "--accounts" => a.accounts = num() as u32,
            "--transfers" => a.transfers = num() as u32,
            "--block" => a.block = num().max(1) as u32,
            "--seed" => a.seed = num(),
            "--rollback" => a.rollback = num() as u32,
            _ => panic!("unknown option {flag}"),
        }
    }
    assert!(
        !a.dir.as_os_str().is_empty(),
        "--dir DIR is required (a new directory)"
    );
    a
}

fn main() {
    let a = args();
    let mut engine: Box<dyn Engine> = match a.engine.as_str() {
        "nomt" => Box::new(NomtEngine::open(&a.dir, a.accounts, a.rollback)),
        "rocksdb" => {
            let config = RocksConfig {
                sync_writes: a.sync,
                ..RocksConfig::default()
            };
            Box::new(RocksEngine {
                kv: RocksKv::open_with(&a.dir, &config).expect("RocksDB opens"),
            })
        }
        other => panic!("--engine nomt|rocksdb, not {other}"),
    };

    let started = Instant::now();
    let mut first = 0u32;
    while first < a.accounts {
        let last = (first + MINT_PER_COMMIT).min(a.accounts);
        let writes: HashMap<Key, u64> = (first..last).map(|i| (key(i), FUNDING)).collect();
        engine.commit(&[], &writes);
        first = last;
    }
    let mint_s = started.elapsed().as_secs_f64();

    let written_before = disk_bytes_written();
    let mut model = vec![FUNDING; a.accounts as usize];
    let mut rng = SplitMix64(a.seed);
    let started = Instant::now();
    let mut done = 0u32;
    while done < a.transfers {
        let n = a.block.min(a.transfers - done);
        let mut b = Block::default();
        for _ in 0..n {
            let from = (rng.next() % u64::from(a.accounts)) as usize;
            let to = (rng.next() % u64::from(a.accounts)) as usize;
            let amount = 1 + rng.next() % MAX_AMOUNT;
            let (kf, kt) = (key(from as u32), key(to as u32));
            let bf = b.get(engine.as_mut(), &kf);
            let bt = b.get(engine.as_mut(), &kt);
            assert_eq!(bf, model[from], "balance of account {from}");
            if bf >= amount {
                model[from] -= amount;
                b.writes.insert(kf, bf - amount);
                // Read again: `to` may be `from`.
                let bt = if to == from { bf - amount } else { bt };
                model[to] += amount;
                b.writes.insert(kt, bt + amount);
            }
        }
        engine.commit(&b.reads, &b.writes);
        done += n;
    }
    let secs = started.elapsed().as_secs_f64();
    let written = match (written_before, disk_bytes_written()) {
        (Some(a), Some(b)) => b.saturating_sub(a).to_string(),
        _ => "null".into(),
    };
    for i in (0..a.accounts).step_by(997) {
        assert_eq!(
            engine.get(&key(i)),
            model[i as usize],
            "account {i} at the end"
        );
    }
    let root = engine
        .root()
        .map(|r| format!("\"{r}\""))
        .unwrap_or_else(|| "null".into());
    drop(engine);
    println!(
        "{{\"engine\": \"{}\", \"accounts\": {}, \"transfers\": {}, \"sync\": {}, \"tx_per_s\": {:.0}, \"mint_s\": {:.2}, \"db_dir_bytes\": {}, \"transfers_disk_written_bytes\": {}, \"final_root\": {}}}",
        a.engine,
        a.accounts,
        a.transfers,
        a.sync || a.engine == "nomt",
        f64::from(a.transfers) / secs.max(1e-9),
        mint_s,
        dir_bytes(&a.dir),
        written,
        root
    );
}
