//! The LevelDB backend.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use leveldb::batch::{Batch, Writebatch};
use leveldb::database::Database;
use leveldb::database::cache::Cache;
use leveldb::iterator::{Iterable, LevelDBIterator};
use leveldb::kv::KV;
use leveldb::options::{Options, ReadOptions, WriteOptions};

use crate::{BatchOp, KvError, KvStore, WriteBatch};

const BACKEND: &str = "leveldb";

/// A byte-string key for the `leveldb` crate, whose keys must implement
/// `db_key::Key`. LevelDB's default comparator orders them bytewise.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ByteKey(Vec<u8>);

impl db_key::Key for ByteKey {
    fn from_u8(key: &[u8]) -> Self {
        ByteKey(key.to_vec())
    }

    fn as_slice<T, F: Fn(&[u8]) -> T>(&self, f: F) -> T {
        f(&self.0)
    }
}

/// The options a node operator tunes on a [`LevelKv`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelConfig {
    /// The size of the LRU block cache, in bytes. Default: 64 MiB.
    pub block_cache_bytes: usize,
    /// The size of the in-memory write buffer before it is written to a
    /// sorted file, in bytes. Default: 4 MiB (LevelDB's own default).
    pub write_buffer_bytes: usize,
    /// Whether every write waits for an `fsync`. With `false` (the default)
    /// a batch survives a crash of the process but may be lost on a power
    /// loss of the machine.
    pub sync_writes: bool,
    /// Whether to create the database (and its directory, with any missing
    /// parents) when the path holds none. Default: true.
    pub create_if_missing: bool,
}

impl Default for LevelConfig {
    fn default() -> Self {
        Self {
            block_cache_bytes: 64 << 20,
            write_buffer_bytes: 4 << 20,
            sync_writes: false,
            create_if_missing: true,
        }
    }
}

/// A [`KvStore`] in a LevelDB database on disk (the `leveldb` crate, which
/// binds Google's LevelDB; bytewise key order, no compression).
///
/// A database directory can be held by one handle at a time: opening a path
/// that another live handle holds gives [`KvError::Open`]. Dropping the
/// handle closes the database. A batch goes through one LevelDB
/// `WriteBatch`, which LevelDB applies atomically.
pub struct LevelKv {
    db: Database<ByteKey>,
    path: PathBuf,
    sync_writes: bool,
}

impl std::fmt::Debug for LevelKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LevelKv").field("path", &self.path).finish()
    }
}

fn map_err(e: leveldb::error::Error) -> KvError {
    crate::backend_error(BACKEND, e.to_string())
}

impl LevelKv {
    /// Opens (or, by default, creates) the database at `path` with the
    /// default [`LevelConfig`].
    ///
    /// # Errors
    /// [`KvError::Open`] when the path is not valid UTF-8 or holds a NUL
    /// byte (the `leveldb` crate would panic on either), cannot hold a
    /// database (a regular file, no permission), or is locked by another
    /// handle; [`KvError::Corruption`] when its files are corrupt.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, KvError> {
        Self::open_with(path, &LevelConfig::default())
    }

    /// Opens the database at `path` with `config`.
    ///
    /// # Errors
    /// As [`LevelKv::open`].
    pub fn open_with(path: impl AsRef<Path>, config: &LevelConfig) -> Result<Self, KvError> {
        let path = path.as_ref().to_path_buf();
        let open_err = |message: String| KvError::Open {
            backend: BACKEND,
            path: path.clone(),
            message,
        };
        match path.to_str() {
            None => return Err(open_err("path is not valid UTF-8".into())),
            Some(s) if s.contains('\0') => return Err(open_err("path holds a NUL byte".into())),
            Some(_) => {}
        }
        if config.create_if_missing {
            // LevelDB creates no directory at all: create it and its parents.
            std::fs::create_dir_all(&path)
                .map_err(|e| open_err(format!("cannot create the directory: {e}")))?;
        }
        let mut opts = Options::new();
        opts.create_if_missing = config.create_if_missing;
        opts.write_buffer_size = Some(config.write_buffer_bytes);
        opts.cache = Some(Cache::new(config.block_cache_bytes));
        let db = Database::open(&path, opts).map_err(|e| match map_err(e) {
            KvError::Io { message, .. } => open_err(message),
            corruption => corruption,
        })?;
        Ok(Self {
            db,
            path,
            sync_writes: config.sync_writes,
        })
    }

    /// The directory of the database.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write_options(&self) -> WriteOptions {
        let mut wo = WriteOptions::new();
        wo.sync = self.sync_writes;
        wo
    }
}

fn level_batch(batch: &WriteBatch) -> Writebatch<ByteKey> {
    let mut wb = Writebatch::new();
    for op in batch.ops() {
        match op {
            BatchOp::Put { key, value } => wb.put(ByteKey(key.to_vec()), value),
            BatchOp::Delete { key } => wb.delete(ByteKey(key.to_vec())),
        }
    }
    wb
}

impl KvStore for LevelKv {
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, KvError> {
        let key = ByteKey(key.to_vec());
        Ok(self
            .db
            .get(ReadOptions::new(), &key)
            .map_err(map_err)?
            .map(Bytes::from))
    }

    fn write(&self, batch: WriteBatch) -> Result<(), KvError> {
        self.db
            .write(self.write_options(), &level_batch(&batch))
            .map_err(map_err)
    }

    fn write_sync(&self, batch: WriteBatch) -> Result<(), KvError> {
        let mut wo = WriteOptions::new();
        wo.sync = true;
        self.db.write(wo, &level_batch(&batch)).map_err(map_err)
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Bytes, Bytes)>, KvError> {
        let start = ByteKey(prefix.to_vec());
        let mut out = Vec::new();
        // The iterator reads from a consistent snapshot of the database.
        for (k, v) in self.db.iter(ReadOptions::new()).from(&start) {
            if !k.0.starts_with(prefix) {
                break;
            }
            out.push((Bytes::from(k.0), Bytes::from(v)));
        }
        Ok(out)
    }

    fn visit_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), KvError> {
        let start = ByteKey(prefix.to_vec());
        for (k, v) in self.db.iter(ReadOptions::new()).from(&start) {
            if !k.0.starts_with(prefix) || !visit(&k.0, &v) {
                break;
            }
        }
        Ok(())
    }
}
