//! The shared conformance suite, run once per backend. Test names carry the
//! backend: `memkv::…`, `rocksdb::…`, `leveldb::…`.

use std::path::Path;

use svm_kv::{KvError, MemKv};

fn open_mem(_dir: &Path) -> Result<MemKv, KvError> {
    Ok(MemKv::new())
}

svm_kv::kv_conformance_tests!(memkv, open_mem);

#[cfg(feature = "rocksdb")]
svm_kv::kv_conformance_tests!(rocksdb, |p: &Path| svm_kv::RocksKv::open(p), persistent);

#[cfg(feature = "leveldb")]
svm_kv::kv_conformance_tests!(leveldb, |p: &Path| svm_kv::LevelKv::open(p), persistent);

/// RocksDB with every value of 16 bytes or more in blob files
/// (`RocksConfig::blob_min_bytes`): the same suite, reopens included
/// (`rocksdb_blob_files_and_inline_values_mix` below checks that a reopen
/// leaves a blob file behind).
#[cfg(feature = "rocksdb")]
fn open_rocks_blobs(p: &Path) -> Result<svm_kv::RocksKv, KvError> {
    let config = svm_kv::RocksConfig {
        blob_min_bytes: Some(16),
        ..svm_kv::RocksConfig::default()
    };
    svm_kv::RocksKv::open_with(p, &config)
}

#[cfg(feature = "rocksdb")]
svm_kv::kv_conformance_tests!(rocksdb_blob_files, open_rocks_blobs, persistent);

/// A database written with blob files reads the same when reopened without
/// them, and with them again after more writes: the setting places new
/// values only.
#[cfg(feature = "rocksdb")]
#[test]
fn rocksdb_blob_files_and_inline_values_mix() {
    use svm_kv::{KvStore, RocksConfig, RocksKv, WriteBatch};
    let dir = tempfile::tempdir().unwrap();
    let with = |blobs: Option<u64>| {
        let config = RocksConfig {
            blob_min_bytes: blobs,
            ..RocksConfig::default()
        };
        RocksKv::open_with(dir.path(), &config).unwrap()
    };
    let page = |i: u32| -> Vec<u8> { (0..4096u32).map(|j| (i * 31 + j) as u8).collect() };
    let write = |kv: &RocksKv, from: u32, to: u32| {
        let mut batch = WriteBatch::new();
        for i in from..to {
            batch.put(i.to_be_bytes().to_vec(), page(i));
            batch.put(
                [b"s".as_slice(), &i.to_be_bytes()].concat(),
                vec![i as u8; 8],
            );
        }
        kv.write(batch).unwrap();
    };
    let check = |kv: &RocksKv, to: u32| {
        for i in 0..to {
            assert_eq!(kv.get(&i.to_be_bytes()).unwrap().unwrap(), page(i));
            let small = [b"s".as_slice(), &i.to_be_bytes()].concat();
            assert_eq!(kv.get(&small).unwrap().unwrap(), vec![i as u8; 8]);
        }
    };
    write(&with(Some(4096)), 0, 100);
    // Closing or reopening flushes the memtable (or the recovered log):
    // with the setting on, the pages go to a blob file.
    drop(with(Some(4096)));
    let blob_files = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension() == Some("blob".as_ref()))
            .count()
    };
    let kv = with(None);
    assert!(blob_files() >= 1, "no blob file was written");
    check(&kv, 100);
    write(&kv, 100, 200);
    drop(kv);
    let kv = with(Some(4096));
    check(&kv, 200);
    assert_eq!(kv.scan_prefix(b"s").unwrap().len(), 200);
}
