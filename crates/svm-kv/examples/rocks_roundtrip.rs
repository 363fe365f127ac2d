//! Writes a RocksDB database, closes it, reopens it and reads it back.
//!
//! `cargo run -p svm-kv --example rocks_roundtrip -- [DIR]` (default
//! `./svm-data/kv-example`). Exits non-zero with one line on stderr when the
//! database cannot be opened or a value does not read back.

use std::process::ExitCode;

use svm_kv::{KvError, KvStore, RocksKv, WriteBatch};

const PAGES: u32 = 256;
const PAGE_BYTES: usize = 4096;

fn page(i: u32) -> Vec<u8> {
    (0..PAGE_BYTES)
        .map(|j| (i as usize * 31 + j) as u8)
        .collect()
}

fn run(dir: &str) -> Result<(), String> {
    let fail = |e: KvError| e.to_string();
    {
        let kv = RocksKv::open(dir).map_err(fail)?;
        let mut batch = WriteBatch::with_capacity(PAGES as usize);
        for i in 0..PAGES {
            batch.put(format!("page/{i:08}").into_bytes(), page(i));
        }
        kv.write(batch).map_err(fail)?;
        println!("wrote {PAGES} values of {PAGE_BYTES} bytes to {dir} in one batch");
    } // dropped: the database is closed
    let kv = RocksKv::open(dir).map_err(fail)?;
    let all = kv.scan_prefix(b"page/").map_err(fail)?;
    if all.len() != PAGES as usize {
        return Err(format!(
            "reopened: expected {PAGES} values, found {}",
            all.len()
        ));
    }
    for (i, (key, value)) in all.iter().enumerate() {
        if *value != page(i as u32) {
            return Err(format!("value at {} differs", String::from_utf8_lossy(key)));
        }
    }
    println!("reopened {dir}: all {PAGES} values read back identical, in key order");
    Ok(())
}

fn main() -> ExitCode {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "svm-data/kv-example".to_string());
    match run(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
