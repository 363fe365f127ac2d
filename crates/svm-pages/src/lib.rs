//! svm layer 2: hashed page storage for contracts.
//!
//! A contract's storage is a sparse array of fixed [`PAGE_SIZE`] = 4096-byte
//! pages indexed by [`PageIndex`] (`u32`). A page never written reads as
//! zeros and costs no storage; writing 4096 zeros to a page makes it free
//! again.
//!
//! The **state** of a contract is a 32-byte root ([`State`]): the root of a
//! sparse Merkle tree of depth 32 whose leaf `i` is the page hash of page
//! `i` (see [`hash`] for every byte of the hashing). It follows that:
//!
//! - the root depends only on the contract address and the non-zero pages,
//!   never on the order of writes, the backend or the machine;
//! - committing `k` dirty pages costs at most `k` page hashes and `32 · k`
//!   node hashes, and writes at most `k` pages, `32 · k` nodes and one state
//!   record, all in **one atomic KV batch**; untouched pages are never
//!   rewritten;
//! - [`PageStore::prove`] gives a [`PageProof`] that [`verify_page`] checks
//!   against a root with no storage at all, for a page's content or for
//!   "this page is zero";
//! - the state of a contract that never wrote a non-zero page is the fixed
//!   constant [`empty_root`].
//!
//! Every committed state stays readable: [`PageStore::open`] gives a
//! read-only [`StateView`] at any (address, root) ever committed, and
//! [`PagesError::UnknownState`] for any other.
//!
//! # KV layout
//!
//! Everything is content-addressed, so data shared by several states is
//! stored once. Keys start with one namespace byte (`svm-pages` owns `P`,
//! `N` and `S`):
//!
//! | key | key size (bytes) | value | value size (bytes) |
//! |---|---|---|---|
//! | `P` ‖ page hash | 33 | page content | 4096 |
//! | `N` ‖ node hash | 33 | left child hash ‖ right child hash | 64 |
//! | `S` ‖ address ‖ root | 53 | parent root ‖ non-zero page count (`u32` BE) | 36 |
//!
//! Empty subtrees (`EMPTY[h]`) and zero pages are never stored.
//!
//! # Pruning (not built yet)
//!
//! Nothing is ever deleted. A node that keeps only some states can prune by
//! mark and sweep: walk the tree of every state to keep, marking each `N`
//! node hash and each `P` page hash reached; then delete every unmarked `N`
//! and `P` key and the `S` records of the dropped states. Since keys are
//! content hashes, a kept state never loses a node or page it reaches.
//!
//! # Example
//!
//! ```
//! use svm_kv::MemKv;
//! use svm_pages::{PageIndex, PageStorage, PageStore, PAGE_SIZE, empty_root, verify_page};
//! use svm_types::Address;
//!
//! # fn main() -> Result<(), svm_pages::PagesError> {
//! let store = PageStore::new(MemKv::new());
//! let contract = Address([7; 20]);
//! let page = Box::new([9u8; PAGE_SIZE]);
//! let outcome = store.commit(&contract, &empty_root(), &[(PageIndex(3), &*page)])?;
//!
//! let view = store.open(&contract, &outcome.state)?;
//! assert_eq!(view.read_page(PageIndex(3))?.as_deref(), Some(&page[..]));
//! assert_eq!(view.read_page(PageIndex(4))?, None); // never written: zeros
//!
//! let proof = store.prove(&contract, &outcome.state, PageIndex(3))?;
//! assert!(verify_page(&outcome.state, &contract, PageIndex(3), &page, &proof));
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;
use parking_lot::Mutex;
use svm_kv::{Bytes, KvError, KvStore, WriteBatch};

pub use svm_types::{Address, PageHash, State};

pub mod hash;
mod proof;

pub use hash::{empty_root, page_hash};
pub use proof::{PageProof, verify_page};

use hash::{Hash, TREE_DEPTH, empty_hashes, leaf_hash, node_hash};

/// The size of one page, in bytes.
pub const PAGE_SIZE: usize = 4096;

/// The content of one page.
pub type Page = [u8; PAGE_SIZE];

/// The index of a page in a contract's storage: any `u32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PageIndex(pub u32);

impl std::fmt::Display for PageIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "page {}", self.0)
    }
}

/// Namespace byte of page contents.
const PAGE_NS: u8 = b'P';
/// Namespace byte of Merkle nodes.
const NODE_NS: u8 = b'N';
/// Namespace byte of state records.
const STATE_NS: u8 = b'S';

/// An error of the page storage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PagesError {
    /// The KV backend failed.
    #[error(transparent)]
    Kv(#[from] KvError),
    /// No state `state` was ever committed for contract `address`.
    #[error("unknown state {state} for contract {address}")]
    UnknownState {
        /// The contract.
        address: Address,
        /// The root asked for.
        state: State,
    },
    /// A committed state refers to data the KV does not hold, or holds with
    /// the wrong size: the database is damaged or was pruned wrongly.
    #[error("corrupt page storage: {0}")]
    Corrupt(String),
    /// The pages passed to [`PageStore::commit`] are not in strictly
    /// ascending page-index order.
    #[error("commit pages must be in strictly ascending page-index order")]
    UnsortedCommit,
    /// A slice of `len` bytes at `offset` does not fit in one 4096-byte page.
    #[error("slice of {len} bytes at offset {offset} does not fit in a 4096-byte page")]
    SliceOutOfPage {
        /// The offset in the page, in bytes.
        offset: usize,
        /// The length, in bytes.
        len: usize,
    },
    /// A proof's encoding is malformed.
    #[error("malformed proof: {0}")]
    BadProof(&'static str),
}

/// What one [`PageStore::commit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitOutcome {
    /// The new state root.
    pub state: State,
    /// The number of non-zero pages in the new state.
    pub page_count: u32,
    /// The number of pages written to the KV (zero pages are not written).
    pub pages_written: usize,
    /// The number of Merkle nodes written to the KV.
    pub nodes_written: usize,
    /// The total size of the keys and values of the batch, in bytes.
    pub bytes_written: usize,
}

/// What the store records about one committed state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateInfo {
    /// The state the commit started from ([`empty_root`] for the first).
    pub parent: State,
    /// The number of non-zero pages.
    pub page_count: u32,
}

/// Page storage as the layers above see it: the trait `svm-cache` is
/// generic over, so tests can put a mock under a cache.
pub trait PageStorage: Send + Sync {
    /// Whether `state` is a committed state of `address` (the empty root
    /// always is).
    ///
    /// # Errors
    /// [`PagesError::Kv`].
    fn has_state(&self, address: &Address, state: &State) -> Result<bool, PagesError>;

    /// The content of page `index` in `state`, or `None` when the page is
    /// all zeros. The caller has checked that `state` belongs to `address`
    /// (see [`PageStorage::has_state`]); the returned bytes are exactly
    /// [`PAGE_SIZE`] long.
    ///
    /// # Errors
    /// [`PagesError::UnknownState`] when the root is no committed state,
    /// [`PagesError::Corrupt`] when a node or page it refers to is missing,
    /// [`PagesError::Kv`].
    fn read_page(
        &self,
        address: &Address,
        state: &State,
        index: PageIndex,
    ) -> Result<Option<Bytes>, PagesError>;

    /// Writes `pages` (strictly ascending indices) over `base` in one atomic
    /// KV batch and returns the new root. A page of 4096 zeros frees it.
    ///
    /// # Errors
    /// [`PagesError::UnsortedCommit`], [`PagesError::UnknownState`] when
    /// `base` is no committed state of `address`, [`PagesError::Corrupt`],
    /// [`PagesError::Kv`]. On error nothing is written.
    fn commit(
        &self,
        address: &Address,
        base: &State,
        pages: &[(PageIndex, &Page)],
    ) -> Result<CommitOutcome, PagesError> {
        self.commit_with(address, base, pages, &|_| WriteBatch::new())
    }

    /// [`PageStorage::commit`], adding the operations `extra(new_state)`
    /// returns to the same atomic batch: the runtime records a contract's
    /// new latest state and balance changes this way, so that they land
    /// with the pages or not at all. `extra` must not write the page
    /// store's own keys (first byte `P`, `N` or `S`).
    ///
    /// # Errors
    /// As [`PageStorage::commit`]; on error nothing is written, `extra`'s
    /// operations included.
    fn commit_with(
        &self,
        address: &Address,
        base: &State,
        pages: &[(PageIndex, &Page)],
        extra: &dyn Fn(&State) -> WriteBatch,
    ) -> Result<CommitOutcome, PagesError>;
}

/// Settings of a [`PageStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageStoreConfig {
    /// How many Merkle nodes (64 bytes each, plus the LRU's overhead) the
    /// store keeps in memory across calls. Default: 65 536 (about 8 MiB).
    pub node_cache_entries: usize,
}

impl Default for PageStoreConfig {
    fn default() -> Self {
        Self {
            node_cache_entries: 65_536,
        }
    }
}

struct Inner<K> {
    kv: K,
    nodes: Mutex<LruCache<Hash, (Hash, Hash)>>,
}

/// The page storage of every contract, over one KV backend `K`.
///
/// Cloning is cheap and shares the backend and the node cache.
///
/// # Invariants
/// - Every `N` node and `P` page reachable from a state root with an `S`
///   record is in the KV (a commit writes them in the same batch as the
///   record).
/// - A node whose subtree is empty is never stored: walking down stops at
///   the first `EMPTY[h]`.
/// - The node cache holds only (hash → children) pairs read from or written
///   to the KV; content addressing means it can never be stale.
pub struct PageStore<K> {
    inner: Arc<Inner<K>>,
}

impl<K> Clone for PageStore<K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<K> std::fmt::Debug for PageStore<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageStore").finish_non_exhaustive()
    }
}

fn page_key(hash: &Hash) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = PAGE_NS;
    k[1..].copy_from_slice(hash);
    k
}

fn node_key(hash: &Hash) -> [u8; 33] {
    let mut k = [0u8; 33];
    k[0] = NODE_NS;
    k[1..].copy_from_slice(hash);
    k
}

fn state_key(address: &Address, state: &State) -> [u8; 53] {
    let mut k = [0u8; 53];
    k[0] = STATE_NS;
    k[1..21].copy_from_slice(address.as_bytes());
    k[21..].copy_from_slice(state.as_bytes());
    k
}

impl<K: KvStore> PageStore<K> {
    /// A store over `kv` with the default [`PageStoreConfig`].
    pub fn new(kv: K) -> Self {
        Self::with_config(kv, PageStoreConfig::default())
    }

    /// A store over `kv` with `config`.
    pub fn with_config(kv: K, config: PageStoreConfig) -> Self {
        let cap = NonZeroUsize::new(config.node_cache_entries).unwrap_or(NonZeroUsize::MIN);
        Self {
            inner: Arc::new(Inner {
                kv,
                nodes: Mutex::new(LruCache::new(cap)),
            }),
        }
    }

    /// The KV backend.
    pub fn kv(&self) -> &K {
        &self.inner.kv
    }

    /// A read-only view of `state` of contract `address`.
    ///
    /// # Errors
    /// [`PagesError::UnknownState`] when `state` was never committed for
    /// `address`; [`PagesError::Kv`].
    pub fn open(&self, address: &Address, state: &State) -> Result<StateView<K>, PagesError> {
        if !self.has_state(address, state)? {
            return Err(PagesError::UnknownState {
                address: *address,
                state: *state,
            });
        }
        Ok(StateView {
            store: self.clone(),
            address: *address,
            state: *state,
        })
    }

    /// What the store recorded about `state`.
    ///
    /// # Errors
    /// [`PagesError::UnknownState`], [`PagesError::Corrupt`] for a record of
    /// the wrong size, [`PagesError::Kv`].
    pub fn state_info(&self, address: &Address, state: &State) -> Result<StateInfo, PagesError> {
        if *state == empty_root() {
            return Ok(StateInfo {
                parent: empty_root(),
                page_count: 0,
            });
        }
        let record =
            self.inner
                .kv
                .get(&state_key(address, state))?
                .ok_or(PagesError::UnknownState {
                    address: *address,
                    state: *state,
                })?;
        if record.len() != 36 {
            return Err(PagesError::Corrupt(format!(
                "state record of {state} is {} bytes, not 36",
                record.len()
            )));
        }
        let mut parent = [0u8; 32];
        parent.copy_from_slice(&record[..32]);
        let mut count = [0u8; 4];
        count.copy_from_slice(&record[32..]);
        Ok(StateInfo {
            parent: State(parent),
            page_count: u32::from_be_bytes(count),
        })
    }

    /// A Merkle proof of page `index` in `state`; see [`verify_page`].
    ///
    /// # Errors
    /// [`PagesError::UnknownState`], [`PagesError::Corrupt`],
    /// [`PagesError::Kv`].
    pub fn prove(
        &self,
        address: &Address,
        state: &State,
        index: PageIndex,
    ) -> Result<PageProof, PagesError> {
        if !self.has_state(address, state)? {
            return Err(PagesError::UnknownState {
                address: *address,
                state: *state,
            });
        }
        let mut siblings = [[0u8; 32]; TREE_DEPTH];
        let mut cur = state.0;
        for h in (1..=TREE_DEPTH).rev() {
            let (l, r) = self.children(h, &cur, address, state)?;
            if (index.0 >> (h - 1)) & 1 == 0 {
                siblings[h - 1] = r;
                cur = l;
            } else {
                siblings[h - 1] = l;
                cur = r;
            }
        }
        Ok(PageProof { siblings })
    }

    /// The children of the node `node` at height `h` (1..=32).
    fn children(
        &self,
        h: usize,
        node: &Hash,
        address: &Address,
        state: &State,
    ) -> Result<(Hash, Hash), PagesError> {
        let empty = empty_hashes();
        if *node == empty[h] {
            return Ok((empty[h - 1], empty[h - 1]));
        }
        if let Some(c) = self.inner.nodes.lock().get(node) {
            return Ok(*c);
        }
        let Some(v) = self.inner.kv.get(&node_key(node))? else {
            return Err(if h == TREE_DEPTH {
                PagesError::UnknownState {
                    address: *address,
                    state: *state,
                }
            } else {
                PagesError::Corrupt(format!("node {} at height {h} is missing", PageHash(*node)))
            });
        };
        if v.len() != 64 {
            return Err(PagesError::Corrupt(format!(
                "node {} is {} bytes, not 64",
                PageHash(*node),
                v.len()
            )));
        }
        let mut l = [0u8; 32];
        let mut r = [0u8; 32];
        l.copy_from_slice(&v[..32]);
        r.copy_from_slice(&v[32..]);
        let children = (l, r);
        self.inner.nodes.lock().put(*node, children);
        Ok(children)
    }

    /// Rebuilds the subtree `node` at height `h` with `updates` (leaves of
    /// this subtree, ascending), adding new nodes to `batch`.
    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        h: usize,
        node: Hash,
        updates: &[(PageIndex, Hash)],
        batch: &mut WriteBatch,
        new_nodes: &mut Vec<(Hash, (Hash, Hash))>,
        count_delta: &mut i64,
        ctx: (&Address, &State),
    ) -> Result<Hash, PagesError> {
        let empty = empty_hashes();
        if h == 0 {
            let new = updates[0].1;
            *count_delta += i64::from(new != empty[0]) - i64::from(node != empty[0]);
            return Ok(new);
        }
        let (l, r) = self.children(h, &node, ctx.0, ctx.1)?;
        let bit = 1u32 << (h - 1);
        let split = updates.partition_point(|(i, _)| i.0 & bit == 0);
        let (lu, ru) = updates.split_at(split);
        let nl = if lu.is_empty() {
            l
        } else {
            self.update(h - 1, l, lu, batch, new_nodes, count_delta, ctx)?
        };
        let nr = if ru.is_empty() {
            r
        } else {
            self.update(h - 1, r, ru, batch, new_nodes, count_delta, ctx)?
        };
        if nl == empty[h - 1] && nr == empty[h - 1] {
            return Ok(empty[h]);
        }
        let n = node_hash(&nl, &nr);
        if n != node {
            let mut v = Vec::with_capacity(64);
            v.extend_from_slice(&nl);
            v.extend_from_slice(&nr);
            batch.put(Bytes::copy_from_slice(&node_key(&n)), v);
            new_nodes.push((n, (nl, nr)));
        }
        Ok(n)
    }
}

impl<K: KvStore> PageStorage for PageStore<K> {
    fn has_state(&self, address: &Address, state: &State) -> Result<bool, PagesError> {
        if *state == empty_root() {
            return Ok(true);
        }
        Ok(self.inner.kv.contains(&state_key(address, state))?)
    }

    fn read_page(
        &self,
        address: &Address,
        state: &State,
        index: PageIndex,
    ) -> Result<Option<Bytes>, PagesError> {
        let empty = empty_hashes();
        let mut cur = state.0;
        for h in (1..=TREE_DEPTH).rev() {
            if cur == empty[h] {
                return Ok(None);
            }
            let (l, r) = self.children(h, &cur, address, state)?;
            cur = if (index.0 >> (h - 1)) & 1 == 0 { l } else { r };
        }
        if cur == empty[0] {
            return Ok(None);
        }
        let page = self.inner.kv.get(&page_key(&cur))?.ok_or_else(|| {
            PagesError::Corrupt(format!(
                "{index} of {address} ({}) is missing",
                PageHash(cur)
            ))
        })?;
        if page.len() != PAGE_SIZE {
            return Err(PagesError::Corrupt(format!(
                "{index} of {address} is {} bytes, not {PAGE_SIZE}",
                page.len()
            )));
        }
        Ok(Some(page))
    }

    fn commit_with(
        &self,
        address: &Address,
        base: &State,
        pages: &[(PageIndex, &Page)],
        extra: &dyn Fn(&State) -> WriteBatch,
    ) -> Result<CommitOutcome, PagesError> {
        if pages.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(PagesError::UnsortedCommit);
        }
        let info = self.state_info(address, base)?;
        let mut batch = WriteBatch::with_capacity(pages.len() * 4 + 1);
        let mut leaves = Vec::with_capacity(pages.len());
        let mut pages_written = 0;
        for (index, content) in pages {
            let leaf = leaf_hash(address, *index, content);
            if leaf != empty_hashes()[0] {
                batch.put(Bytes::copy_from_slice(&page_key(&leaf)), content.to_vec());
                pages_written += 1;
            }
            leaves.push((*index, leaf));
        }
        let mut new_nodes = Vec::new();
        let mut delta = 0i64;
        let root = if leaves.is_empty() {
            base.0
        } else {
            self.update(
                TREE_DEPTH,
                base.0,
                &leaves,
                &mut batch,
                &mut new_nodes,
                &mut delta,
                (address, base),
            )?
        };
        let state = State(root);
        let page_count = u32::try_from(i64::from(info.page_count) + delta)
            .map_err(|_| PagesError::Corrupt(format!("page count of {base} is inconsistent")))?;
        if state != empty_root() && state != *base {
            let mut record = Vec::with_capacity(36);
            record.extend_from_slice(base.as_bytes());
            record.extend_from_slice(&page_count.to_be_bytes());
            batch.put(Bytes::copy_from_slice(&state_key(address, &state)), record);
        }
        for op in extra(&state).into_ops() {
            match op {
                svm_kv::BatchOp::Put { key, value } => batch.put(key, value),
                svm_kv::BatchOp::Delete { key } => batch.delete(key),
            };
        }
        let bytes_written = batch.payload_bytes();
        let nodes_written = new_nodes.len();
        if !batch.is_empty() {
            self.inner.kv.write(batch)?;
        }
        let mut cache = self.inner.nodes.lock();
        for (h, c) in new_nodes {
            cache.put(h, c);
        }
        Ok(CommitOutcome {
            state,
            page_count,
            pages_written,
            nodes_written,
            bytes_written,
        })
    }
}

/// A read-only view of one committed state of one contract, from
/// [`PageStore::open`].
#[derive(Debug, Clone)]
pub struct StateView<K> {
    store: PageStore<K>,
    address: Address,
    state: State,
}

impl<K: KvStore> StateView<K> {
    /// The contract.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The state root.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The content of page `index` (exactly 4096 bytes), or `None` when the
    /// page is all zeros.
    ///
    /// # Errors
    /// [`PagesError::Corrupt`], [`PagesError::Kv`].
    pub fn read_page(&self, index: PageIndex) -> Result<Option<Bytes>, PagesError> {
        self.store.read_page(&self.address, &self.state, index)
    }

    /// `len` bytes at `offset` of page `index` (zeros where never written).
    ///
    /// # Errors
    /// [`PagesError::SliceOutOfPage`] when `offset + len` exceeds 4096
    /// bytes; [`PagesError::Corrupt`], [`PagesError::Kv`].
    pub fn read(&self, index: PageIndex, offset: usize, len: usize) -> Result<Vec<u8>, PagesError> {
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= PAGE_SIZE)
            .ok_or(PagesError::SliceOutOfPage { offset, len })?;
        Ok(match self.read_page(index)? {
            Some(p) => p[offset..end].to_vec(),
            None => vec![0; len],
        })
    }

    /// A Merkle proof of page `index`; see [`verify_page`].
    ///
    /// # Errors
    /// As [`PageStore::prove`].
    pub fn prove(&self, index: PageIndex) -> Result<PageProof, PagesError> {
        self.store.prove(&self.address, &self.state, index)
    }

    /// What the store recorded about this state.
    ///
    /// # Errors
    /// As [`PageStore::state_info`].
    pub fn info(&self) -> Result<StateInfo, PagesError> {
        self.store.state_info(&self.address, &self.state)
    }
}
