//! Blocks: many transactions, one commit.
//!
//! [`Runtime::execute_block`] runs an ordered list of deploys and calls
//! against one in-memory `state::BlockState`: page writes (an overlay
//! holding pages and tree records), contract records, new code and balance
//! changes stay in memory across the block. Each transaction runs in its
//! own checkpoint: a failed one merges nothing, so it rolls back only
//! itself. Each receipt carries its contract's new state root, computed in
//! memory.
//!
//! At the end, **one atomic KV batch** holds, in this order:
//! 1. the pruning of what became unreachable `keep_blocks` blocks ago
//!    (stale keys of version `height + 1 - keep_blocks`, and that block's
//!    record);
//! 2. each touched contract's last state of the block: the pages it
//!    changed (a page written by 1,000 transactions is written once, as a
//!    delta into its slot, with an undo record when older states are
//!    kept), the records it needs that the KV lacks, its `S` record, and
//!    the stale index of what it replaced;
//! 3. the new contract records and code, the balance changes (through
//!    [`crate::NodeHost::commit_writes`]);
//! 4. the block record, the newest height ([`record`]) and the storage-format
//!    marker ([`crate::format`]).
//!
//! So a process killed at any moment reopens at the previous block or at
//! the new one, never between. The states of the last `keep_blocks` blocks
//! can be opened ([`svm_pages::PageStore::open`]); states in the middle of
//! a block (in receipts) and older states give `UnknownState`.

mod check;
pub mod encode;
mod front;
mod prune;
pub mod record;
pub(crate) mod state;

use std::collections::BTreeSet;

use svm_kv::{KvStore, WriteBatch};
use svm_pages::StaleKeys;
use svm_types::{Address, State};

use crate::contracts::RecordError;
use crate::deploy_outcome::{DeployError, Deployed};
use crate::engine::reuse::InstancePool;
use crate::runtime::Runtime;
use record::{BlockRecord, LATEST_BLOCK_KEY, block_key, call_hash, deploy_hash};
use state::BlockState;
use svm_wire::Receipt;

pub use check::{CheckError, CheckReport};
pub use prune::PruneOutcome;
pub use svm_wire::Tx;

/// What one transaction of a block did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxOutcome {
    /// A deploy's result.
    Deploy(Result<Deployed, DeployError>),
    /// A call's receipt.
    Call(Receipt),
}

/// Counters of one block's batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockStats {
    /// Pages (4096 bytes each) written.
    pub pages_written: usize,
    /// Tree records (37 or 64 bytes each) written as `N` keys.
    pub records_written: usize,
    /// Tree records packed into the block's state records instead
    /// ([`svm_pages::PACK_MAX_CARRIED`]).
    pub records_packed: usize,
    /// Keys the block made stale.
    pub stale_keys: usize,
    /// Stale keys of an older block deleted by this block's pruning.
    pub pruned_keys: usize,
    /// Operations in the batch.
    pub batch_ops: usize,
    /// Key and value bytes in the batch.
    pub batch_bytes: usize,
    /// Calls that ran on an instance kept from an earlier call of the
    /// block and reset, instead of a new one (`call::reuse`).
    pub instances_reused: u64,
}

/// What a committed block did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockOutcome {
    /// Its height (the first block is 1).
    pub height: u64,
    /// One outcome per transaction, in order.
    pub outcomes: Vec<TxOutcome>,
    /// The receipts hash ([`record`]).
    pub receipts_hash: [u8; 32],
    /// The block hash ([`record`]).
    pub block_hash: [u8; 32],
    /// Each contract whose state changed, with its new root, by address.
    pub roots: Vec<(Address, State)>,
    /// Every balance the block changed, with its new value, by account:
    /// what a node with its own account state applies.
    pub balance_changes: Vec<(Address, u64)>,
    /// Counters of the batch.
    pub stats: BlockStats,
}

/// Why a block could not be committed. Nothing of it was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The KV failed (reading the newest height, the stale index, or
    /// writing the batch).
    #[error("block storage: {0}")]
    Storage(String),
}

/// The contracts `txs` call (at the latest state) more than once.
fn repeated_contracts(txs: &[Tx]) -> BTreeSet<Address> {
    let mut seen = BTreeSet::new();
    let mut repeated = BTreeSet::new();
    for tx in txs {
        if let Tx::Call(c) = tx
            && c.state == crate::StateRef::Latest
            && !seen.insert(c.contract)
        {
            repeated.insert(c.contract);
        }
    }
    repeated
}

fn storage(e: impl std::fmt::Display) -> BlockError {
    BlockError::Storage(e.to_string())
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Runs `txs` in order as one block and commits it in one atomic batch
    /// (module docs). Blocks, deploys and committing calls of one runtime
    /// run one at a time; queries run beside them.
    ///
    /// # Errors
    /// [`BlockError::Storage`] when the batch cannot be built or written;
    /// then nothing of the block is stored and its outcomes are void.
    pub fn execute_block(&self, txs: &[Tx]) -> Result<BlockOutcome, BlockError> {
        // Gate and compile deploys, and load what calls need, before taking
        // the writers' lock; the gate's verdicts go to the deploys.
        let mut warmed = std::collections::BTreeSet::new();
        let mut gated = Vec::with_capacity(txs.len());
        for tx in txs {
            gated.push(match tx {
                Tx::Deploy(d) => self.precompile(d),
                Tx::Call(c) => {
                    if warmed.insert(c.contract) {
                        self.prewarm(&c.contract);
                    }
                    None
                }
            });
        }
        let _writer = self.writers.lock();
        let height = self
            .last_height()
            .map_err(storage)?
            .checked_add(1)
            .ok_or_else(|| storage("the newest block's height is u64::MAX"))?;
        let mut block = BlockState::new(self.pages.clone(), self.node.clone());
        let mut pool = InstancePool::new(repeated_contracts(txs));
        let mut outcomes = Vec::with_capacity(txs.len());
        let mut receipts = blake3::Hasher::new();
        for (tx, gated) in txs.iter().zip(gated) {
            let outcome = match tx {
                Tx::Deploy(d) => {
                    let r = self.deploy_in(&mut block, d, gated);
                    receipts.update(&deploy_hash(&r));
                    TxOutcome::Deploy(r)
                }
                Tx::Call(c) => {
                    let r = self.call_in(&mut block, c, Some(&mut pool));
                    receipts.update(&call_hash(&r));
                    TxOutcome::Call(r)
                }
            };
            outcomes.push(outcome);
        }
        let receipts_hash = *receipts.finalize().as_bytes();
        let reused = pool.reused;
        drop(pool);
        let mut outcome = self.commit_block(block, height, receipts_hash, outcomes)?;
        outcome.stats.instances_reused = reused;
        Ok(outcome)
    }

    /// Builds and writes the block's batch (module docs).
    fn commit_block(
        &self,
        block: BlockState<K>,
        height: u64,
        receipts_hash: [u8; 32],
        outcomes: Vec<TxOutcome>,
    ) -> Result<BlockOutcome, BlockError> {
        if let Some(why) = block.poisoned() {
            return Err(storage(why));
        }
        let keep = self.config.keep_blocks;
        let mut batch = WriteBatch::new();
        let mut stats = BlockStats::default();
        // 1. Pruning first: the block's own writes below may bring a key
        //    back, and the later write wins.
        if keep > 0 && height > keep {
            let pruned = self
                .pages
                .prune_version(height + 1 - keep)
                .map_err(storage)?;
            stats.pruned_keys = pruned.keys;
            batch.append(pruned.batch);
            batch.delete(block_key(height - keep));
        }
        // An archive (keep 0) still indexes what goes stale, so that a
        // later `svm prune` can drop it.
        let mode = match keep {
            1 => StaleKeys::Delete,
            _ => StaleKeys::Index,
        };
        // 2. Pages and tree records.
        let mut flush = block.pages.flush(height, mode).map_err(storage)?;
        stats.pages_written = flush.pages_written;
        stats.records_written = flush.records_written;
        stats.records_packed = flush.records_packed;
        stats.stale_keys = flush.stale;
        let roots = flush.roots.clone();
        // `landed` needs the rest of the flush, not its batch.
        batch.append(std::mem::take(&mut flush.batch));
        // 3. Records, code, balances.
        for (address, record) in block.records.lock().iter() {
            batch.put(crate::contracts::record_key(address), record.encode());
        }
        for (hash, code) in block.code.lock().iter() {
            batch.put(crate::contracts::code_key(hash), code.to_vec());
        }
        let changes = block.balances.changes();
        batch.append(self.node.commit_writes(&changes));
        // 4. The block record.
        let record = BlockRecord {
            height,
            receipts_hash,
            roots: roots.clone(),
            balances: changes.iter().map(|(a, b)| (*a, *b)).collect(),
        };
        batch.put(block_key(height), record.encode());
        batch.put(LATEST_BLOCK_KEY.to_vec(), height.to_be_bytes().to_vec());
        batch.put(
            crate::format::STORAGE_FORMAT_KEY.to_vec(),
            crate::format::format_value().to_vec(),
        );
        stats.batch_ops = batch.len();
        stats.batch_bytes = batch.payload_bytes();
        self.write_batch(batch).map_err(storage)?;
        block.pages.landed(flush);
        self.node.applied(&changes);
        Ok(BlockOutcome {
            height,
            outcomes,
            receipts_hash,
            block_hash: record.hash(),
            roots,
            balance_changes: record.balances,
            stats,
        })
    }

    /// Writes `batch`, synced when the configuration asks.
    fn write_batch(&self, batch: WriteBatch) -> Result<(), svm_kv::KvError> {
        if self.config.sync_writes {
            self.kv().write_sync(batch)
        } else {
            self.kv().write(batch)
        }
    }

    /// The height of the newest committed block, 0 before the first.
    ///
    /// # Errors
    /// [`RecordError`] when the KV fails or the value is damaged.
    pub fn last_height(&self) -> Result<u64, RecordError> {
        match self.kv().get(LATEST_BLOCK_KEY)? {
            None => Ok(0),
            Some(v) => <[u8; 8]>::try_from(&v[..])
                .map(u64::from_be_bytes)
                .map_err(|_| RecordError::CorruptBlock("the newest block's height".into())),
        }
    }

    /// The record of block `height`, if it is kept (the last
    /// `keep_blocks` blocks are).
    ///
    /// # Errors
    /// [`RecordError`] when the KV fails or the record is damaged.
    pub fn block(&self, height: u64) -> Result<Option<BlockRecord>, RecordError> {
        match self.kv().get(&block_key(height))? {
            None => Ok(None),
            Some(v) => BlockRecord::decode(&v)
                .map(Some)
                .ok_or_else(|| RecordError::CorruptBlock(format!("the record of block {height}"))),
        }
    }

    /// The newest committed block's record: what a node reads after a
    /// restart to tell which block the VM database holds.
    ///
    /// # Errors
    /// As [`Runtime::block`].
    pub fn last_block(&self) -> Result<Option<BlockRecord>, RecordError> {
        match self.last_height()? {
            0 => Ok(None),
            h => self.block(h),
        }
    }
}
