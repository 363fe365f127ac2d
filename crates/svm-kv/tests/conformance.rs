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
