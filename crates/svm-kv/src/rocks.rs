//! The RocksDB backend.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use rocksdb::{
    BlockBasedOptions, Cache, DB, DBCompressionType, Direction, ErrorKind, IteratorMode, Options,
    ReadOptions, WriteOptions,
};

use crate::{BatchOp, KvError, KvStore, WriteBatch};

const BACKEND: &str = "rocksdb";

/// The options a node operator tunes on a [`RocksKv`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RocksConfig {
    /// The size of the LRU block cache shared by all reads, in bytes.
    /// Default: 64 MiB.
    pub block_cache_bytes: usize,
    /// The size of one memtable before it is flushed to disk, in bytes.
    /// Default: 64 MiB (RocksDB's own default).
    pub write_buffer_bytes: usize,
    /// Whether every write waits for an `fsync` of the write-ahead log.
    /// With `false` (the default) a committed batch survives a crash of the
    /// process but may be lost if the machine itself loses power; with `true`
    /// it survives both, at the cost of one `fsync` per batch.
    pub sync_writes: bool,
    /// Whether to create the database (and its directory, with any missing
    /// parents) when the path holds none. Default: true.
    pub create_if_missing: bool,
    /// With `Some(n)`, values of at least `n` bytes are stored in blob
    /// files (RocksDB's integrated BlobDB, LZ4-compressed, with blob
    /// garbage collection) instead of in the LSM tree's tables, so that
    /// compactions move small blob references instead of values: with
    /// `Some(4096)` every page (4096 bytes) and no tree record. Default:
    /// `None`, every value in the tables. Measured on 256-page commits
    /// (`docs/benchmarks.md`, "Caches and page commits"): fewer
    /// compaction stalls (mean 8.2 → 5.4 ms) but a slower typical commit
    /// (median 3.2 → 4.0 ms),
    /// hence off by default. Only new values are placed by the setting:
    /// a database may hold both kinds, and reads find either.
    pub blob_min_bytes: Option<u64>,
    /// Bits per key of the bloom filter of each table file and of the
    /// memtable (whole keys), so that a point read of an absent key
    /// usually touches no data block: the page store looks up keys it
    /// expects to miss (the stale index on every written key, say). `0`
    /// turns the filters off. Default: 10 (about 1 % false positives, 1.25
    /// bytes of filter per key).
    pub bloom_bits_per_key: u32,
}

impl RocksConfig {
    /// The RocksDB options [`RocksKv::open_with`] opens a database with:
    /// LZ4-compressed table blocks, a memtable of `write_buffer_bytes`, an
    /// LRU block cache of `block_cache_bytes`, bloom filters of
    /// `bloom_bits_per_key`, blob files as
    /// `blob_min_bytes` says, `create_if_missing`. Public so that a raw
    /// RocksDB baseline in a benchmark can be opened exactly alike.
    pub fn rocksdb_options(&self) -> Options {
        let mut opts = Options::default();
        opts.create_if_missing(self.create_if_missing);
        opts.set_compression_type(DBCompressionType::Lz4);
        opts.set_write_buffer_size(self.write_buffer_bytes);
        let cache = Cache::new_lru_cache(self.block_cache_bytes);
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&cache);
        if self.bloom_bits_per_key > 0 {
            table.set_bloom_filter(f64::from(self.bloom_bits_per_key), false);
            // A bloom filter over whole keys in the memtable too, sized at
            // 2 % of it.
            opts.set_memtable_whole_key_filtering(true);
            opts.set_memtable_prefix_bloom_ratio(0.02);
        }
        opts.set_block_based_table_factory(&table);
        if let Some(min) = self.blob_min_bytes {
            opts.set_enable_blob_files(true);
            opts.set_min_blob_size(min);
            opts.set_blob_compression_type(DBCompressionType::Lz4);
            opts.set_enable_blob_gc(true);
        }
        opts
    }
}

impl Default for RocksConfig {
    fn default() -> Self {
        Self {
            block_cache_bytes: 64 << 20,
            write_buffer_bytes: 64 << 20,
            sync_writes: false,
            create_if_missing: true,
            blob_min_bytes: None,
            bloom_bits_per_key: 10,
        }
    }
}

/// A [`KvStore`] in a RocksDB database on disk (the `rocksdb` crate, bundled
/// RocksDB, LZ4-compressed blocks, bytewise key order).
///
/// A database directory can be held by one handle at a time: opening a path
/// that another live handle (in this or another process) holds gives
/// [`KvError::Open`]. Dropping the handle closes the database and releases
/// the lock. A batch goes through one RocksDB `WriteBatch`, which RocksDB
/// applies atomically.
pub struct RocksKv {
    db: DB,
    path: PathBuf,
    write_opts: WriteOptions,
}

impl std::fmt::Debug for RocksKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RocksKv").field("path", &self.path).finish()
    }
}

fn map_err(e: rocksdb::Error) -> KvError {
    crate::backend_error(BACKEND, e.into_string())
}

impl RocksKv {
    /// Opens (or, by default, creates) the database at `path` with the
    /// default [`RocksConfig`].
    ///
    /// # Errors
    /// [`KvError::Open`] when the path cannot hold a database (a regular
    /// file, no permission), is locked by another handle, or is corrupt.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, KvError> {
        Self::open_with(path, &RocksConfig::default())
    }

    /// Opens the database at `path` with `config`.
    ///
    /// # Errors
    /// As [`RocksKv::open`].
    pub fn open_with(path: impl AsRef<Path>, config: &RocksConfig) -> Result<Self, KvError> {
        let path = path.as_ref().to_path_buf();
        if config.create_if_missing {
            // RocksDB creates only the last directory; create the parents too.
            std::fs::create_dir_all(&path).map_err(|e| KvError::Open {
                backend: BACKEND,
                path: path.clone(),
                message: format!("cannot create the directory: {e}"),
            })?;
        }
        let opts = config.rocksdb_options();
        let db = DB::open(&opts, &path).map_err(|e| {
            let kind = e.kind();
            let message = e.into_string();
            match kind {
                ErrorKind::Corruption => KvError::Corruption {
                    backend: BACKEND,
                    message,
                },
                _ => KvError::Open {
                    backend: BACKEND,
                    path: path.clone(),
                    message,
                },
            }
        })?;
        let mut write_opts = WriteOptions::default();
        write_opts.set_sync(config.sync_writes);
        Ok(Self {
            db,
            path,
            write_opts,
        })
    }

    /// The directory of the database.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes the memtables to disk files.
    ///
    /// # Errors
    /// [`KvError::Io`] when RocksDB cannot write them.
    pub fn flush(&self) -> Result<(), KvError> {
        self.db.flush().map_err(map_err)
    }
}

/// The RocksDB batch of `batch`, its operations in ascending key order.
///
/// The memtable's skip list remembers where its last insert went, so
/// inserting a batch in key order costs a few comparisons a key instead of
/// a search from the top. The sort is stable, so the operations on one key
/// keep their order and the batch means the same: operations on different
/// keys commute.
fn rocks_batch(batch: &WriteBatch) -> rocksdb::WriteBatch {
    let mut wb = rocksdb::WriteBatch::default();
    let mut ops: Vec<&BatchOp> = batch.ops().iter().collect();
    ops.sort_by(|a, b| op_key(a).cmp(op_key(b)));
    for op in ops {
        match op {
            BatchOp::Put { key, value } => wb.put(key, value),
            BatchOp::Delete { key } => wb.delete(key),
        }
    }
    wb
}

fn op_key(op: &BatchOp) -> &[u8] {
    match op {
        BatchOp::Put { key, .. } | BatchOp::Delete { key } => key,
    }
}

impl KvStore for RocksKv {
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, KvError> {
        // A pinned read avoids RocksDB's own copy; one copy into `Bytes` stays.
        Ok(self
            .db
            .get_pinned(key)
            .map_err(map_err)?
            .map(|v| Bytes::copy_from_slice(&v)))
    }

    fn write(&self, batch: WriteBatch) -> Result<(), KvError> {
        self.db
            .write_opt(rocks_batch(&batch), &self.write_opts)
            .map_err(map_err)
    }

    fn write_sync(&self, batch: WriteBatch) -> Result<(), KvError> {
        let mut opts = rocksdb::WriteOptions::default();
        opts.set_sync(true);
        self.db
            .write_opt(rocks_batch(&batch), &opts)
            .map_err(map_err)
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Bytes, Bytes)>, KvError> {
        let mut ro = ReadOptions::default();
        if let Some(upper) = prefix_upper_bound(prefix) {
            ro.set_iterate_upper_bound(upper);
        }
        let mut out = Vec::new();
        for item in self
            .db
            .iterator_opt(IteratorMode::From(prefix, Direction::Forward), ro)
        {
            let (k, v) = item.map_err(map_err)?;
            if !k.starts_with(prefix) {
                break;
            }
            out.push((Bytes::from(Vec::from(k)), Bytes::from(Vec::from(v))));
        }
        Ok(out)
    }

    fn visit_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), KvError> {
        let mut ro = ReadOptions::default();
        if let Some(upper) = prefix_upper_bound(prefix) {
            ro.set_iterate_upper_bound(upper);
        }
        // A report walk should not push the hot working set out of the
        // block cache.
        ro.fill_cache(false);
        let mut it = self.db.raw_iterator_opt(ro);
        it.seek(prefix);
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            if !k.starts_with(prefix) || !visit(k, v) {
                break;
            }
            it.next();
        }
        it.status().map_err(map_err)
    }
}

/// The smallest key greater than every key that starts with `prefix`, or
/// `None` when no such key exists (the prefix is empty or all `0xff`).
pub(crate) fn prefix_upper_bound(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut upper = prefix.to_vec();
    while let Some(last) = upper.pop() {
        if last != 0xff {
            upper.push(last + 1);
            return Some(upper);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_upper_bound;

    #[test]
    fn upper_bound() {
        assert_eq!(prefix_upper_bound(b""), None);
        assert_eq!(prefix_upper_bound(&[0xff, 0xff]), None);
        assert_eq!(prefix_upper_bound(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_upper_bound(&[1, 0xff]), Some(vec![2]));
    }
}
