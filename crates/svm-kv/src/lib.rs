//! svm layer 1: a byte-oriented key-value store.
//!
//! Every layer above (pages, caches, the runtime) talks to storage only
//! through the [`KvStore`] trait, so a node can swap the backend without
//! touching them. The trait is deliberately small, shaped for those layers:
//!
//! - [`KvStore::get`]: a point read; the value comes back as [`bytes::Bytes`],
//!   shared, not copied, where the backend allows it ([`MemKv`], [`LevelKv`]).
//! - [`KvStore::write`]: an atomic [`WriteBatch`] of puts and deletes, applied
//!   all-or-nothing, in order (a later operation on the same key wins).
//! - [`KvStore::scan_prefix`]: every pair whose key starts with a prefix, in
//!   ascending bytewise key order.
//!
//! All methods take `&self` and every store is `Send + Sync`, so one store can
//! serve many threads. Every operation returns `Result<_, `[`KvError`]`>`: I/O
//! errors and corruption in the backend surface as errors, never as panics.
//!
//! # Backends
//!
//! | type | cargo feature | persistence | notes |
//! |---|---|---|---|
//! | [`MemKv`] | always | none | an ordered map under a `parking_lot` lock; the default for tests |
//! | [`RocksKv`] | `rocksdb` | on disk | the `rocksdb` crate (bundled RocksDB), LZ4 compression |
//! | [`LevelKv`] | `leveldb` | on disk | the `leveldb` crate (bundled Google LevelDB) |
//!
//! Keys and values are arbitrary bytes; the empty key and the empty value
//! are both valid, and an empty value is distinct from a missing key.
//!
//! [`conformance`] holds the test suite every backend passes; a node that
//! writes its own backend can run it too.
//!
//! # Example
//!
//! ```
//! use svm_kv::{KvStore, MemKv, WriteBatch};
//!
//! # fn main() -> Result<(), svm_kv::KvError> {
//! let kv = MemKv::new();
//! let mut batch = WriteBatch::new();
//! batch.put(&b"page/1"[..], vec![1u8; 4096]);
//! batch.put(&b"page/2"[..], vec![2u8; 4096]);
//! batch.delete(&b"page/0"[..]);
//! kv.write(batch)?; // all three or none
//!
//! assert_eq!(kv.get(b"page/1")?.unwrap().len(), 4096);
//! assert_eq!(kv.get(b"page/0")?, None);
//! let keys: Vec<_> = kv.scan_prefix(b"page/")?.into_iter().map(|(k, _)| k).collect();
//! assert_eq!(keys, vec![&b"page/1"[..], &b"page/2"[..]]);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

use std::path::PathBuf;
use std::sync::Arc;

pub use bytes::Bytes;

pub mod conformance;
mod mem;
pub use mem::MemKv;

#[cfg(feature = "rocksdb")]
mod rocks;
#[cfg(feature = "rocksdb")]
pub use rocks::{RocksConfig, RocksKv};

#[cfg(feature = "leveldb")]
mod level;
#[cfg(feature = "leveldb")]
pub use level::{LevelConfig, LevelKv};

/// An error from a key-value backend.
///
/// Backends map their native errors onto these variants and keep the
/// backend's own message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KvError {
    /// The database at `path` could not be opened or created: the path is not
    /// a directory, it is locked by another handle, or its files are
    /// unreadable.
    #[error("cannot open {backend} database at {}: {message}", path.display())]
    Open {
        /// The backend's name (`"rocksdb"`, `"leveldb"`).
        backend: &'static str,
        /// The path that was given.
        path: PathBuf,
        /// The backend's message.
        message: String,
    },
    /// The backend reports corrupted data.
    #[error("{backend} corruption: {message}")]
    Corruption {
        /// The backend's name.
        backend: &'static str,
        /// The backend's message.
        message: String,
    },
    /// Any other failure of a read or a write (I/O error, disk full, ...).
    #[error("{backend} I/O error: {message}")]
    Io {
        /// The backend's name.
        backend: &'static str,
        /// The backend's message.
        message: String,
    },
}

/// One operation of a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    /// Set `key` to `value`, replacing any previous value.
    Put {
        /// The key.
        key: Bytes,
        /// The new value (may be empty).
        value: Bytes,
    },
    /// Remove `key`; removing a missing key is not an error.
    Delete {
        /// The key.
        key: Bytes,
    },
}

/// An ordered list of puts and deletes that [`KvStore::write`] applies
/// atomically: after the write every operation is visible, before it none
/// is, and a reader never sees a part of it. Operations apply in insertion
/// order, so the last operation on a key wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `n` operations.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            ops: Vec::with_capacity(n),
        }
    }

    /// Appends a put of `value` at `key`.
    pub fn put(&mut self, key: impl Into<Bytes>, value: impl Into<Bytes>) -> &mut Self {
        self.ops.push(BatchOp::Put {
            key: key.into(),
            value: value.into(),
        });
        self
    }

    /// Appends a delete of `key`.
    pub fn delete(&mut self, key: impl Into<Bytes>) -> &mut Self {
        self.ops.push(BatchOp::Delete { key: key.into() });
        self
    }

    /// The operations, in the order they apply.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    /// The number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The total size of the keys and values in the batch, in bytes.
    pub fn payload_bytes(&self) -> usize {
        self.ops
            .iter()
            .map(|op| match op {
                BatchOp::Put { key, value } => key.len() + value.len(),
                BatchOp::Delete { key } => key.len(),
            })
            .sum()
    }

    /// Appends every operation of `other`, in order, after this batch's.
    pub fn append(&mut self, other: WriteBatch) -> &mut Self {
        self.ops.extend(other.ops);
        self
    }

    /// Consumes the batch, giving its operations in order.
    pub fn into_ops(self) -> Vec<BatchOp> {
        self.ops
    }
}

/// A byte-oriented, thread-safe key-value store: svm's storage layer.
///
/// Implementations must be linearizable per operation: once `write`
/// returns `Ok`, every later `get` or `scan_prefix` on any thread sees the
/// whole batch. Keys are ordered bytewise (shorter key first on a common
/// prefix), which is the default order of RocksDB and LevelDB.
pub trait KvStore: Send + Sync {
    /// The value at `key`, or `None` when the key is absent.
    ///
    /// # Errors
    /// [`KvError::Io`] or [`KvError::Corruption`] from the backend.
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, KvError>;

    /// Applies `batch` atomically (all operations or none), in order.
    ///
    /// # Errors
    /// [`KvError::Io`] or [`KvError::Corruption`] from the backend; on error
    /// no operation of the batch is visible.
    fn write(&self, batch: WriteBatch) -> Result<(), KvError>;

    /// [`KvStore::write`], returning only once the batch is on stable
    /// storage (an `fsync` of the write-ahead log), whatever the backend's
    /// own `sync_writes` setting. Default: [`KvStore::write`] (right for
    /// stores with nothing to sync, like [`MemKv`]).
    ///
    /// # Errors
    /// As [`KvStore::write`].
    fn write_sync(&self, batch: WriteBatch) -> Result<(), KvError> {
        self.write(batch)
    }

    /// Every `(key, value)` whose key starts with `prefix`, in ascending key
    /// order. The empty prefix lists the whole store.
    ///
    /// # Errors
    /// [`KvError::Io`] or [`KvError::Corruption`] from the backend.
    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Bytes, Bytes)>, KvError>;

    /// Calls `visit(key, value)` for every pair whose key starts with
    /// `prefix`, in ascending key order, holding one pair in memory at a
    /// time where the backend can stream (RocksDB and LevelDB iterate; the
    /// default collects [`KvStore::scan_prefix`] first). `visit` returning
    /// `false` stops the walk. For reports over a whole database, whose
    /// size may exceed memory. `visit` must not write to the store (a
    /// backend may hold a read lock or a snapshot during the walk).
    ///
    /// # Errors
    /// As [`KvStore::scan_prefix`].
    fn visit_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), KvError> {
        for (k, v) in self.scan_prefix(prefix)? {
            if !visit(&k, &v) {
                break;
            }
        }
        Ok(())
    }

    /// Sets `key` to `value`: a batch of one put.
    ///
    /// # Errors
    /// As [`KvStore::write`].
    fn put(&self, key: &[u8], value: &[u8]) -> Result<(), KvError> {
        let mut batch = WriteBatch::with_capacity(1);
        batch.put(Bytes::copy_from_slice(key), Bytes::copy_from_slice(value));
        self.write(batch)
    }

    /// Removes `key`: a batch of one delete.
    ///
    /// # Errors
    /// As [`KvStore::write`].
    fn delete(&self, key: &[u8]) -> Result<(), KvError> {
        let mut batch = WriteBatch::with_capacity(1);
        batch.delete(Bytes::copy_from_slice(key));
        self.write(batch)
    }

    /// Whether `key` is present.
    ///
    /// # Errors
    /// As [`KvStore::get`].
    fn contains(&self, key: &[u8]) -> Result<bool, KvError> {
        Ok(self.get(key)?.is_some())
    }
}

/// Forwards [`KvStore`] through a pointer type, so `Arc<dyn KvStore>`,
/// `Box<dyn KvStore>` and `&impl KvStore` are stores too.
macro_rules! forward_kv_store {
    ($($ptr:ty),*) => {$(
        impl<T: KvStore + ?Sized> KvStore for $ptr {
            fn get(&self, key: &[u8]) -> Result<Option<Bytes>, KvError> {
                (**self).get(key)
            }
            fn write(&self, batch: WriteBatch) -> Result<(), KvError> {
                (**self).write(batch)
            }
            fn write_sync(&self, batch: WriteBatch) -> Result<(), KvError> {
                (**self).write_sync(batch)
            }
            fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Bytes, Bytes)>, KvError> {
                (**self).scan_prefix(prefix)
            }
            fn visit_prefix(
                &self,
                prefix: &[u8],
                visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
            ) -> Result<(), KvError> {
                (**self).visit_prefix(prefix, visit)
            }
        }
    )*};
}

forward_kv_store!(Arc<T>, Box<T>, &T);

/// A backend's error message as a [`KvError`]: `Corruption` when the
/// backend says so (RocksDB and LevelDB both start such messages with
/// "Corruption"), `Io` otherwise.
#[cfg(any(feature = "rocksdb", feature = "leveldb"))]
pub(crate) fn backend_error(backend: &'static str, message: String) -> KvError {
    if message.contains("Corruption") {
        KvError::Corruption { backend, message }
    } else {
        KvError::Io { backend, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_keeps_order_and_counts_bytes() {
        let mut b = WriteBatch::new();
        b.put(&b"k"[..], &b"vv"[..]).delete(&b"k"[..]);
        assert_eq!(b.len(), 2);
        assert_eq!(b.payload_bytes(), 1 + 2 + 1);
        assert!(matches!(b.ops()[1], BatchOp::Delete { .. }));
        assert!(!b.is_empty());
        assert!(WriteBatch::new().is_empty());
    }

    #[test]
    fn arc_and_box_forward() {
        let kv: Arc<dyn KvStore> = Arc::new(MemKv::new());
        kv.put(b"a", b"1").unwrap();
        let boxed: Box<dyn KvStore> = Box::new(kv.clone());
        assert_eq!(boxed.get(b"a").unwrap().as_deref(), Some(&b"1"[..]));
        boxed.delete(b"a").unwrap();
        assert!(!kv.contains(b"a").unwrap());
    }
}
