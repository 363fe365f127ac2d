//! The in-memory backend.

use std::collections::BTreeMap;
use std::ops::Bound;

use bytes::Bytes;
use parking_lot::RwLock;

use crate::{BatchOp, KvError, KvStore, WriteBatch};

/// An in-memory [`KvStore`]: an ordered map (`BTreeMap<Bytes, Bytes>`) under
/// a `parking_lot` read-write lock.
///
/// Nothing is persisted: dropping the store drops the data. Reads share the
/// stored [`Bytes`] (no copy); a batch is applied under one write lock, so
/// readers see all of it or none of it. No operation ever fails.
#[derive(Debug, Default)]
pub struct MemKv {
    map: RwLock<BTreeMap<Bytes, Bytes>>,
}

impl MemKv {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// The number of keys stored.
    pub fn len(&self) -> usize {
        self.map.read().len()
    }

    /// Whether the store holds no key.
    pub fn is_empty(&self) -> bool {
        self.map.read().is_empty()
    }

    /// The total size of all keys and values, in bytes.
    pub fn payload_bytes(&self) -> usize {
        self.map.read().iter().map(|(k, v)| k.len() + v.len()).sum()
    }
}

impl KvStore for MemKv {
    fn get(&self, key: &[u8]) -> Result<Option<Bytes>, KvError> {
        Ok(self.map.read().get(key).cloned())
    }

    fn write(&self, batch: WriteBatch) -> Result<(), KvError> {
        let mut map = self.map.write();
        for op in batch.into_ops() {
            match op {
                BatchOp::Put { key, value } => {
                    map.insert(key, value);
                }
                BatchOp::Delete { key } => {
                    map.remove(&key);
                }
            }
        }
        Ok(())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Bytes, Bytes)>, KvError> {
        let map = self.map.read();
        Ok(map
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn visit_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), KvError> {
        // Walks the map under its read lock, copying nothing.
        let map = self.map.read();
        for (k, v) in map
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
        {
            if !visit(k, v) {
                break;
            }
        }
        Ok(())
    }
}
