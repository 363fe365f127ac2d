//! Pruning: deleting what only dropped states reach.
//!
//! A key indexed stale at version `v` (see the overlay's module docs) is
//! reached by the states of versions before `v` and by no state from `v`
//! on. A node that keeps the states of the last `K` versions, at version
//! `h`, keeps versions `h - K + 1 ..= h` and so deletes every key stale at
//! a version `<= h - K + 1`: [`PageStore::prune_version`] once per
//! version, in the same batch as the version's own writes, or
//! [`PageStore::prune_through`] to catch up.

use svm_kv::{KvStore, WriteBatch};

use crate::hash::Hash;
use crate::overlay::{STALE_NS, stale_version_key};
use crate::slots::{UNDO_KEY_LEN, UNDO_NS};
use crate::{NODE_NS, PageStore, PagesError};

/// What a prune deletes.
#[derive(Debug, Default)]
pub struct Pruned {
    /// The deletions: each stale key with its two index entries. Write it
    /// BEFORE the same version's own writes in one batch, so that a key
    /// written again by that version survives.
    pub batch: WriteBatch,
    /// Stale keys (undo records, tree records, state records) deleted.
    pub keys: usize,
    /// The bytes of those keys (33 or 53 each; their values are not read).
    pub bytes: usize,
}

impl<K: KvStore> PageStore<K> {
    /// The deletions of every key indexed stale at exactly `version`.
    ///
    /// # Errors
    /// [`PagesError::Kv`].
    pub fn prune_version(&self, version: u64) -> Result<Pruned, PagesError> {
        let mut prefix = vec![STALE_NS];
        prefix.extend_from_slice(&version.to_be_bytes());
        self.prune_entries(&prefix, |_| true)
    }

    /// The deletions of every key indexed stale at a version `<= version`.
    /// Scans the whole index: for catching up (`svm prune`), not per block.
    ///
    /// # Errors
    /// [`PagesError::Kv`].
    pub fn prune_through(&self, version: u64) -> Result<Pruned, PagesError> {
        self.prune_entries(&[STALE_NS], |v| v <= version)
    }

    fn prune_entries(
        &self,
        prefix: &[u8],
        keep_going: impl Fn(u64) -> bool,
    ) -> Result<Pruned, PagesError> {
        let mut out = Pruned::default();
        let mut hashes: Vec<Hash> = Vec::new();
        for (entry, value) in self.kv().scan_prefix(prefix)? {
            if entry.len() < 10 {
                continue;
            }
            let mut v = [0u8; 8];
            v.copy_from_slice(&entry[1..9]);
            if !keep_going(u64::from_be_bytes(v)) {
                continue;
            }
            if entry[9..] == [UNDO_NS] {
                // The version's undo records, listed in one entry.
                for key in value.chunks_exact(UNDO_KEY_LEN) {
                    out.keys += 1;
                    out.bytes += key.len();
                    out.batch.delete(value.slice_ref(key));
                }
                out.batch.delete(entry);
                continue;
            }
            let key = entry.slice(9..);
            if key[0] == NODE_NS
                && let Ok(h) = <Hash>::try_from(&key[1..])
            {
                hashes.push(h);
            }
            out.keys += 1;
            out.bytes += key.len();
            out.batch.delete(stale_version_key(&key));
            out.batch.delete(key);
            out.batch.delete(entry);
        }
        self.uncache_records(&hashes);
        Ok(out)
    }
}
