//! Pruning on demand (`svm prune`): what the block path does per block,
//! for every older block at once.

use svm_kv::{KvStore, WriteBatch};

use super::{BlockError, storage};
use crate::runtime::Runtime;

/// What [`Runtime::prune`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneOutcome {
    /// The newest block.
    pub height: u64,
    /// Stale pages, tree records and state records deleted.
    pub keys: usize,
    /// Block records deleted.
    pub blocks: usize,
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Deletes, in one atomic batch, everything only the states of blocks
    /// older than the last `keep` reach, and their block records. `keep`
    /// is at least 1 (the newest state is always kept).
    ///
    /// # Errors
    /// [`BlockError::Storage`]; then nothing is deleted.
    pub fn prune(&self, keep: u64) -> Result<PruneOutcome, BlockError> {
        let keep = keep.max(1);
        let _writer = self.writers.lock();
        let height = self.last_height().map_err(storage)?;
        let mut out = PruneOutcome {
            height,
            ..PruneOutcome::default()
        };
        if height < keep {
            return Ok(out);
        }
        let pruned = self
            .pages
            // `height >= keep >= 1`: no overflow, even at `u64::MAX`.
            .prune_through(height - keep + 1)
            .map_err(storage)?;
        out.keys = pruned.keys;
        let mut batch = WriteBatch::new();
        batch.append(pruned.batch);
        for (key, _) in self.kv().scan_prefix(b"B").map_err(storage)? {
            if key.len() == 9 {
                let h = u64::from_be_bytes(key[1..9].try_into().unwrap_or([0xff; 8]));
                if h.saturating_add(keep) <= height {
                    batch.delete(key);
                    out.blocks += 1;
                }
            }
        }
        self.kv().write(batch).map_err(storage)?;
        Ok(out)
    }
}
