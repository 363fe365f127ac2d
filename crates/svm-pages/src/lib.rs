//! svm layer 2: hashed page storage for contracts.
//!
//! A contract's storage is a sparse array of fixed [`PAGE_SIZE`] = 4096-byte
//! pages indexed by [`PageIndex`] (`u32`). A page never written reads as
//! zeros and costs no storage; writing 4096 zeros to a page makes it free
//! again.
//!
//! The **state** of a contract is a 32-byte root ([`State`]): the root of a
//! binary Merkle tree of depth 32 whose leaf `i` is the page hash of page
//! `i`, hashed path-compressed: one hash where two non-empty subtrees meet,
//! one above a subtree's lone page or branch, none per empty height (see
//! [`hash`] for every byte of the hashing). It follows that:
//!
//! - the root depends only on the contract address and the non-zero pages,
//!   never on the order of writes, the backend or the machine;
//! - committing `k` dirty pages to a contract of `n` pages costs `k` page
//!   hashes and about `k · (log2(n) + 1)` node and extension hashes, and
//!   writes, for each page, the bytes that changed (or the whole page once
//!   they pass [`DELTA_MAX_BYTES`]), and one state record, all in **one
//!   atomic KV batch**; the new tree records ride in the state record's
//!   **pack** until a checkpoint writes them under keys of their own (see
//!   [`PACK_MAX_CARRIED`]); untouched pages are never rewritten;
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
//! Tree records and state records are content-addressed, so what several
//! states share is stored once. Page contents are stored by position: each
//! (contract, page index) has a **slot** holding its newest content (a
//! base image and a small delta) and undo records that give older contents
//! back, each checked against the page hash the tree names. Keys start
//! with one namespace byte (`svm-pages` owns `L`, `D`, `U`, `N`, `S`, and
//! with the overlay `X` and `Y`):
//!
//! | key | key size (bytes) | value | value size (bytes) |
//! |---|---|---|---|
//! | `L` ‖ address ‖ page index | 25 | a slot's base content | 4096 |
//! | `D` ‖ address ‖ page index | 25 | a slot's head: write count ‖ leaf of the newest content ‖ delta from the base | 40 + at most [`DELTA_MAX_BYTES`] |
//! | `U` ‖ address ‖ page index ‖ `!n` | 33 | undo of the slot's `n`-th write: leaf it replaced ‖ delta back to it | 32 + the changed words |
//! | `N` ‖ node hash | 33 | tree record: a branch (left ‖ right child hash) or an extension (target height ‖ page index ‖ target hash) | 64 or 37 |
//! | `S` ‖ address ‖ root | 53 | parent root ‖ non-zero page count (`u32` BE) ‖ pack: the records the state reaches that no `N` key holds | 36 + 97 or 70 per packed record |
//!
//! Empty subtrees (`EMPTY[h]`) have no record and a page never written has
//! no slot. The block overlay ([`PageOverlay`]) adds the stale index (`X`,
//! `Y` keys) that pruning works from (`docs/storage-format.md`,
//! "Pruning").
//!
//! # Caches
//!
//! A [`PageStore`] keeps three node-wide caches, shared by its clones and
//! by every [`PageOverlay`] over it, each bounded by [`PageStoreConfig`]:
//!
//! - **pages** by page hash (4096 bytes each; a byte budget), filled by
//!   reads and by commits and flushes that landed;
//! - **tree records** by node hash (an entry count);
//! - the **leaf index**: for each contract's newest state (the root its
//!   last commit made), page index → page hash, so a read there skips the
//!   walk down the tree.
//!
//! All three map a hash to what the hash commits to (a root fixes every
//! page), so no entry is ever stale and no write invalidates one; pruning
//! drops deleted records only to free the memory (a cached page of a
//! pruned state is still that hash's content, and ages out).
//!
//! # Pruning
//!
//! A block's flush indexes every key its new states no longer reach under
//! the block's height, and the undo records that give back what the block
//! replaced; [`PageStore::prune_version`] deletes the keys that became
//! stale at one height, so a node keeps exactly what the states of its
//! last `K` blocks reach. Since record keys are content hashes, and a
//! kept state's page contents are the slot's newest or come back through
//! undo records no older than the state, a kept state never loses a
//! record or page it reaches.
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

use foldhash::{HashMap, HashMapExt};
use lru::LruCache;
use parking_lot::Mutex;
use svm_kv::{Bytes, KvError, KvStore, WriteBatch};

pub use svm_types::{Address, PageHash, State};

pub mod hash;
mod leaf_index;
mod overlay;
mod pack;
mod proof;
mod prune;
mod shared_page;
mod slots;
mod stale_filter;
mod tree;

pub use hash::{STORAGE_FORMAT, empty_root, page_hash};
pub use leaf_index::LEAF_INDEX_ENTRY_BYTES;
pub use overlay::{Flush, PageOverlay, StaleKeys};
pub use pack::{PACK_MAX_CARRIED, PACK_MAX_RECORDS};
pub use proof::{PageProof, ProofEnd, verify_page};
pub use prune::Pruned;
pub use shared_page::SharedPage;
pub use slots::DELTA_MAX_BYTES;

use hash::{Hash, empty_hashes, leaf_hash};
use pack::{StateRecord, StateSource};
use tree::{NodeSource, Stored};

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
    /// The number of pages whose content the commit changed in the KV
    /// (a page freed counts; each writes its slot head, and a delta or the
    /// whole 4096 bytes, see [`DELTA_MAX_BYTES`]).
    pub pages_written: usize,
    /// The number of tree records written to the KV as `N` keys (a
    /// checkpoint; see [`PACK_MAX_CARRIED`]).
    pub nodes_written: usize,
    /// The number of tree records packed into the new state record instead
    /// (new ones and ones carried from the base state's pack).
    pub nodes_packed: usize,
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
    /// Copies each page once (into a [`SharedPage`]); callers that already
    /// hold them shared use [`PageStorage::commit_with`].
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
        let shared: Vec<(PageIndex, SharedPage)> = pages
            .iter()
            .map(|(i, p)| (*i, SharedPage::copy_from(p)))
            .collect();
        self.commit_with(address, base, &shared, &|_| WriteBatch::new())
    }

    /// [`PageStorage::commit`] of pages the caller holds as [`SharedPage`]s
    /// (the store keeps or writes those bytes without copying them),
    /// adding the operations `extra(new_state)` returns to the same atomic
    /// batch: the runtime records a contract's new latest state and balance
    /// changes this way, so that they land with the pages or not at all.
    /// `extra` must not write the page store's own keys (first byte `P`,
    /// `N` or `S`).
    ///
    /// # Errors
    /// As [`PageStorage::commit`]; on error nothing is written, `extra`'s
    /// operations included.
    fn commit_with(
        &self,
        address: &Address,
        base: &State,
        pages: &[(PageIndex, SharedPage)],
        extra: &dyn Fn(&State) -> WriteBatch,
    ) -> Result<CommitOutcome, PagesError>;
}

/// Settings of a [`PageStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageStoreConfig {
    /// How many tree records (37 or 64 bytes encoded, about
    /// [`NODE_CACHE_ENTRY_BYTES`] in memory with the LRU's overhead) the
    /// store keeps in memory across calls, blocks and contracts. Default:
    /// 65 536 (about 8 MiB).
    pub node_cache_entries: usize,
    /// The byte budget of the clean-page cache: page contents (4096 bytes
    /// each, [`PAGE_CACHE_ENTRY_BYTES`] with the LRU's overhead) read from
    /// or written to the KV, kept across calls, blocks and contracts, so a
    /// hot working set is read from memory. Pages are keyed by page hash,
    /// so an entry is never stale. `0` turns the cache off. Default:
    /// 64 MiB (16 000 pages).
    pub page_cache_bytes: usize,
    /// How many (contract, page index) → page hash entries (about
    /// [`LEAF_INDEX_ENTRY_BYTES`] each) the store keeps for each
    /// contract's newest state, so that a page read there skips the walk
    /// down the tree. `0` turns the index off. Default: 262 144 (about
    /// 12 MiB).
    pub leaf_index_entries: usize,
}

/// The memory one entry of the page cache takes, in bytes: the 4096-byte
/// page, its 32-byte hash key and the LRU's bookkeeping.
pub const PAGE_CACHE_ENTRY_BYTES: usize = PAGE_SIZE + 128;

/// The memory one entry of the node cache takes, in bytes (a record of at
/// most 68 bytes in memory, its 32-byte hash key and the LRU's
/// bookkeeping).
pub const NODE_CACHE_ENTRY_BYTES: usize = 160;

impl Default for PageStoreConfig {
    fn default() -> Self {
        Self {
            node_cache_entries: 65_536,
            page_cache_bytes: 64 << 20,
            leaf_index_entries: 262_144,
        }
    }
}

impl PageStoreConfig {
    /// A configuration that spends about `bytes` of memory on caches:
    /// five eighths on pages, one quarter on tree records (at least 1 024),
    /// one eighth on the leaf index (at least 1 024 entries).
    pub fn with_cache_bytes(bytes: usize) -> Self {
        let nodes = bytes / 4;
        let leaves = bytes / 8;
        Self {
            node_cache_entries: (nodes / NODE_CACHE_ENTRY_BYTES).max(1024),
            page_cache_bytes: bytes - nodes - leaves,
            leaf_index_entries: (leaves / LEAF_INDEX_ENTRY_BYTES).max(1024),
        }
    }
}

struct Inner<K> {
    kv: K,
    nodes: Mutex<LruCache<Hash, Stored>>,
    /// Page hash → content; `None` when the cache is off.
    pages: Option<Mutex<LruCache<Hash, Bytes>>>,
    leaves: leaf_index::LeafIndex,
    /// The filter of the stale index by key, built on a flush's first
    /// look (`crate::stale_filter`).
    stale_filter: Mutex<Option<stale_filter::StaleFilter>>,
}

/// The page storage of every contract, over one KV backend `K`.
///
/// Cloning is cheap and shares the backend and the node cache.
///
/// # Invariants
/// - Every record reachable from a state root with an `S` record is in
///   that record's pack or under an `N` key, and every page reachable from
///   it is its slot's newest content or is given back by the slot's undo
///   records (a commit writes them in the same batch as the record).
/// - A slot's head names the leaf of its newest content, and base ⊕ delta
///   is that content (the slot is written in one batch with the state).
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
        let pages = NonZeroUsize::new(config.page_cache_bytes / PAGE_CACHE_ENTRY_BYTES)
            .map(|n| Mutex::new(LruCache::new(n)));
        Self {
            inner: Arc::new(Inner {
                kv,
                nodes: Mutex::new(LruCache::new(cap)),
                pages,
                leaves: leaf_index::LeafIndex::new(config.leaf_index_entries),
                stale_filter: Mutex::new(None),
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
        let record = self.raw_state_record(address, state)?;
        if record.len() < pack::STATE_HEADER {
            return Err(corrupt_state(state, record.len()));
        }
        let mut parent = [0u8; 32];
        parent.copy_from_slice(&record[..32]);
        let mut count = [0u8; 4];
        count.copy_from_slice(&record[32..36]);
        Ok(StateInfo {
            parent: State(parent),
            page_count: u32::from_be_bytes(count),
        })
    }

    fn raw_state_record(&self, address: &Address, state: &State) -> Result<Bytes, PagesError> {
        self.inner
            .kv
            .get(&state_key(address, state))?
            .ok_or_else(|| unknown(address, state))
    }

    /// The decoded state record of `state` (a stored state, not the empty
    /// root).
    ///
    /// # Errors
    /// [`PagesError::UnknownState`], [`PagesError::Corrupt`] for a
    /// malformed record, [`PagesError::Kv`].
    pub(crate) fn state_record(
        &self,
        address: &Address,
        state: &State,
    ) -> Result<StateRecord, PagesError> {
        let record = self.raw_state_record(address, state)?;
        StateRecord::decode(&record).ok_or_else(|| corrupt_state(state, record.len()))
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
            return Err(unknown(address, state));
        }
        let src = StateSource::new(self, address, state);
        tree::proof_path(&src, &state.0, index, &|| unknown(address, state))
    }

    /// The `N` keys (tree records) the tree of `state` reaches: what a
    /// pruned store must keep for this state besides its `S` record and
    /// its pages' contents (records in the state's pack are not keys).
    /// Walks the whole tree; [`PageStore::check_pages`] reads the pages.
    ///
    /// # Errors
    /// [`PagesError::UnknownState`], [`PagesError::Corrupt`],
    /// [`PagesError::Kv`].
    pub fn reachable(
        &self,
        address: &Address,
        state: &State,
    ) -> Result<std::collections::BTreeSet<Vec<u8>>, PagesError> {
        if !self.has_state(address, state)? {
            return Err(unknown(address, state));
        }
        let empty = empty_hashes();
        let src = StateSource::new(self, address, state);
        let mut keys = std::collections::BTreeSet::new();
        let mut visited = tree::Visited::default();
        let mut stack = vec![(state.0, hash::TREE_DEPTH)];
        while let Some((h, height)) = stack.pop() {
            if height == 0 {
                visited.note(&h)?;
                continue;
            }
            if h == empty[height] {
                continue;
            }
            visited.note(&h)?;
            let record = src.record(&h, height)?.ok_or_else(|| {
                PagesError::Corrupt(format!(
                    "node {} at height {height} is missing",
                    PageHash(h)
                ))
            })?;
            if !src.pack()?.contains_key(&h) {
                keys.insert(node_key(&h).to_vec());
            }
            stack.extend(record.children(height)?);
        }
        Ok(keys)
    }

    /// Reads every non-zero page of `state` from the KV (not the page
    /// cache), checking each against its page hash, and returns how many there
    /// are. For `svm check` and tests: it reads the whole state, and for
    /// an older state rebuilds each page from its undo records.
    ///
    /// # Errors
    /// [`PagesError::UnknownState`], [`PagesError::Corrupt`] when a page's
    /// content is missing or does not hash to its leaf,
    /// [`PagesError::Kv`].
    pub fn check_pages(&self, address: &Address, state: &State) -> Result<usize, PagesError> {
        if !self.has_state(address, state)? {
            return Err(unknown(address, state));
        }
        let empty = empty_hashes();
        let src = StateSource::new(self, address, state);
        let mut pages = 0;
        let mut visited = tree::Visited::default();
        // (hash, height, first page index under the node)
        let mut stack = vec![(state.0, hash::TREE_DEPTH, 0u32)];
        while let Some((h, height, first)) = stack.pop() {
            if h == empty[height] {
                continue;
            }
            visited.note(&h)?;
            if height == 0 {
                slots::content(&self.inner.kv, address, PageIndex(first), &h)?;
                pages += 1;
                continue;
            }
            let record = src.record(&h, height)?.ok_or_else(|| {
                PagesError::Corrupt(format!(
                    "node {} at height {height} is missing",
                    PageHash(h)
                ))
            })?;
            match record {
                Stored::Branch(left, right) => {
                    stack.push((left, height - 1, first));
                    stack.push((right, height - 1, first | 1 << (height - 1)));
                }
                Stored::Ext(t, j, target) => {
                    let t = usize::from(t);
                    if t >= height {
                        return Err(PagesError::Corrupt(format!(
                            "extension {} at height {height} targets height {t}",
                            PageHash(h)
                        )));
                    }
                    // `j` is under the node: its bits from `height` up are
                    // `first`'s. `t <= 31`.
                    stack.push((target, t, j & (u32::MAX << t)));
                }
            }
        }
        Ok(pages)
    }

    /// The content of the page whose page hash is `leaf`.
    pub(crate) fn page_content(
        &self,
        address: &Address,
        index: PageIndex,
        leaf: &Hash,
    ) -> Result<Bytes, PagesError> {
        if let Some(cache) = &self.inner.pages
            && let Some(page) = cache.lock().get(leaf)
        {
            return Ok(page.clone());
        }
        let page: Box<[u8]> = slots::content(&self.inner.kv, address, index, leaf)?;
        let page = Bytes::from(page);
        self.cache_pages([(*leaf, page.clone())]);
        Ok(page)
    }

    /// The newest content of the slot whose head is `head` (4096 bytes),
    /// shared from the page cache when it holds it.
    pub(crate) fn slot_newest(
        &self,
        address: &Address,
        index: PageIndex,
        head: &slots::Head,
    ) -> Result<Bytes, PagesError> {
        if let Some(cache) = &self.inner.pages
            && let Some(page) = cache.lock().get(&head.leaf)
            && page.len() == PAGE_SIZE
        {
            return Ok(page.clone());
        }
        let page: Box<[u8]> = slots::newest(&self.inner.kv, address, index, head)?;
        Ok(Bytes::from(page))
    }

    /// Adds to `batch` the slot writes that make `new` (leaf `new_leaf`) the
    /// newest content of page `index` of `address`, with an undo record
    /// when `undo`; returns what it added, or `None` when the slot already
    /// holds that content.
    ///
    /// # Errors
    /// [`PagesError::Corrupt`], [`PagesError::Kv`].
    pub(crate) fn write_slot(
        &self,
        batch: &mut WriteBatch,
        address: &Address,
        index: PageIndex,
        new: &Page,
        new_leaf: &Hash,
        undo: bool,
    ) -> Result<Option<slots::Written>, PagesError> {
        let head = slots::head(&self.inner.kv, address, index)?;
        let old = match &head {
            Some(h) if h.leaf == *new_leaf => return Ok(None),
            Some(h) => self.slot_newest(address, index, h)?,
            None if *new_leaf == empty_hashes()[0] => return Ok(None),
            None => Bytes::from_static(&[0; PAGE_SIZE]),
        };
        let old = <&Page>::try_from(&old[..])
            .map_err(|_| PagesError::Corrupt(format!("{index} of {address} is not 4096 bytes")))?;
        let change = slots::Change {
            head: head.as_ref(),
            old,
            new,
            new_leaf,
        };
        Ok(Some(slots::write(batch, address, index, change, undo)))
    }

    /// Puts pages read from or written to the KV into the page cache.
    pub(crate) fn cache_pages(&self, pages: impl IntoIterator<Item = (Hash, Bytes)>) {
        if let Some(cache) = &self.inner.pages {
            let mut cache = cache.lock();
            for (h, p) in pages {
                cache.put(h, p);
            }
        }
    }

    /// The page hash of page `index` of `state` if the leaf index knows
    /// it: `Some(None)` for a zero page.
    pub(crate) fn indexed_leaf(
        &self,
        address: &Address,
        state: &State,
        index: PageIndex,
    ) -> Option<Option<Hash>> {
        let leaf = self.inner.leaves.get(address, state, index.0)?;
        Some((leaf != empty_hashes()[0]).then_some(leaf))
    }

    /// Records in the leaf index what a walk of `state` found.
    pub(crate) fn note_leaf(
        &self,
        address: &Address,
        state: &State,
        index: PageIndex,
        leaf: Option<Hash>,
    ) {
        let leaf = leaf.unwrap_or(empty_hashes()[0]);
        self.inner.leaves.found(address, state, index.0, leaf);
    }

    /// Records in the leaf index a commit from `base` to `state`.
    pub(crate) fn note_commit(
        &self,
        address: &Address,
        base: &State,
        state: &State,
        updates: &[(u32, Hash)],
    ) {
        self.inner.leaves.committed(address, base, state, updates);
    }

    /// How many pages the page cache holds now (4096 bytes each).
    pub fn cached_pages(&self) -> usize {
        self.inner.pages.as_ref().map_or(0, |c| c.lock().len())
    }

    /// Puts records just written to the KV into the node cache.
    pub(crate) fn cache_records(&self, records: impl IntoIterator<Item = (Hash, Stored)>) {
        let mut cache = self.inner.nodes.lock();
        for (h, r) in records {
            cache.put(h, r);
        }
    }

    /// Runs `f` on the filter of the stale index by key, built (or
    /// rebuilt, once full) from the KV first.
    ///
    /// # Errors
    /// [`PagesError::Kv`] from the build's scan.
    pub(crate) fn with_stale_filter<R>(
        &self,
        f: impl FnOnce(&mut stale_filter::StaleFilter) -> R,
    ) -> Result<R, PagesError> {
        let mut slot = self.inner.stale_filter.lock();
        let filter = match slot.take() {
            Some(filter) if !filter.full() => filter,
            _ => stale_filter::StaleFilter::build(
                &self.inner.kv,
                stale_filter::MIN_CAPACITY,
                stale_filter::MAX_CAPACITY,
            )?,
        };
        Ok(f(slot.insert(filter)))
    }

    /// The record under `hash` if the node cache holds it.
    pub(crate) fn cached_record(&self, hash: &Hash) -> Option<Stored> {
        self.inner.nodes.lock().get(hash).copied()
    }

    /// Drops records (deleted from the KV) from the node cache.
    pub(crate) fn uncache_records<'a>(&self, hashes: impl IntoIterator<Item = &'a Hash>) {
        let mut cache = self.inner.nodes.lock();
        for h in hashes {
            cache.pop(h);
        }
    }
}

fn corrupt_state(state: &State, len: usize) -> PagesError {
    PagesError::Corrupt(format!(
        "state record of {state} is malformed ({len} bytes)"
    ))
}

fn unknown(address: &Address, state: &State) -> PagesError {
    PagesError::UnknownState {
        address: *address,
        state: *state,
    }
}

impl<K: KvStore> NodeSource for PageStore<K> {
    fn record(&self, hash: &Hash, _h: usize) -> Result<Option<Stored>, PagesError> {
        if let Some(r) = self.inner.nodes.lock().get(hash) {
            return Ok(Some(*r));
        }
        let Some(v) = self.inner.kv.get(&node_key(hash))? else {
            return Ok(None);
        };
        let record = Stored::decode(&v).ok_or_else(|| {
            PagesError::Corrupt(format!(
                "node {} is {} bytes, not 64 or 37",
                PageHash(*hash),
                v.len()
            ))
        })?;
        self.inner.nodes.lock().put(*hash, record);
        Ok(Some(record))
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
        let leaf = match self.indexed_leaf(address, state, index) {
            Some(leaf) => leaf,
            None => {
                let src = StateSource::new(self, address, state);
                let leaf = tree::find_leaf(&src, &state.0, index, &|| unknown(address, state))?;
                self.note_leaf(address, state, index, leaf);
                leaf
            }
        };
        match leaf {
            None => Ok(None),
            Some(leaf) => self.page_content(address, index, &leaf).map(Some),
        }
    }

    fn commit_with(
        &self,
        address: &Address,
        base: &State,
        pages: &[(PageIndex, SharedPage)],
        extra: &dyn Fn(&State) -> WriteBatch,
    ) -> Result<CommitOutcome, PagesError> {
        let prepared = prepare(address, pages)?;
        let (info, base_pack) = if *base == empty_root() {
            (self.state_info(address, base)?, HashMap::new())
        } else {
            let r = self.state_record(address, base)?;
            (r.info, r.pack.into_iter().collect())
        };
        let src = StateSource::with_pack(self, address, base, base_pack);
        let rebuilt = tree::rebuild(&src, &base.0, &prepared.updates, &|| unknown(address, base))?;
        let state = State(rebuilt.root);
        let page_count = new_page_count(&info, &rebuilt, base)?;
        let mut batch = WriteBatch::with_capacity(pages.len() + 2);
        let mut pages_written = 0;
        let mut nodes_written = 0;
        let mut nodes_packed = 0;
        if state != *base {
            // Every committed state stays readable: the slots keep undo
            // records of what these writes replace.
            for ((index, content), (_, leaf)) in pages.iter().zip(&prepared.updates) {
                if self
                    .write_slot(&mut batch, address, *index, content.as_page(), leaf, true)?
                    .is_some()
                {
                    pages_written += 1;
                }
            }
            if state != empty_root() {
                let mut candidates = src.pack()?.clone();
                let carried_from = candidates.len();
                candidates.extend(rebuilt.records.iter().copied());
                let live = pack::live_records(&candidates, &state.0)?;
                let carried = if carried_from == 0 {
                    0
                } else {
                    let base_pack = src.pack()?;
                    live.iter()
                        .filter(|(h, _)| base_pack.contains_key(h))
                        .count()
                };
                let packed: &[(Hash, Stored)] = if pack::packs(live.len(), carried) {
                    nodes_packed = live.len();
                    &live
                } else {
                    for (hash, record) in &live {
                        batch.put(Bytes::copy_from_slice(&node_key(hash)), record.encode());
                    }
                    nodes_written = live.len();
                    &[]
                };
                batch.put(
                    Bytes::copy_from_slice(&state_key(address, &state)),
                    StateRecord::encode(base, page_count, packed),
                );
            }
        }
        for op in extra(&state).into_ops() {
            match op {
                svm_kv::BatchOp::Put { key, value } => batch.put(key, value),
                svm_kv::BatchOp::Delete { key } => batch.delete(key),
            };
        }
        let bytes_written = batch.payload_bytes();
        if !batch.is_empty() {
            self.inner.kv.write(batch)?;
        }
        if nodes_written > 0 {
            // Packed records need no cache: the next commit on this state
            // reads its state record, pack included, anyway.
            self.cache_records(rebuilt.records);
        }
        self.note_commit(address, base, &state, &prepared.updates);
        if pages_written > 0 {
            self.cache_pages(
                prepared
                    .contents
                    .iter()
                    .map(|(h, p)| (*h, p.bytes().clone())),
            );
        }
        Ok(CommitOutcome {
            state,
            page_count,
            pages_written,
            nodes_written,
            nodes_packed,
            bytes_written,
        })
    }
}

/// The leaves of a commit's pages, and the contents to store.
pub(crate) struct Prepared<'a> {
    /// (page index, new leaf), ascending.
    pub(crate) updates: Vec<(u32, Hash)>,
    /// (page hash, content) of the non-empty pages.
    pub(crate) contents: Vec<(Hash, &'a SharedPage)>,
}

/// Checks the order of `pages` and hashes them.
///
/// # Errors
/// [`PagesError::UnsortedCommit`].
pub(crate) fn prepare<'a>(
    address: &Address,
    pages: &'a [(PageIndex, SharedPage)],
) -> Result<Prepared<'a>, PagesError> {
    if pages.windows(2).any(|w| w[0].0 >= w[1].0) {
        return Err(PagesError::UnsortedCommit);
    }
    let mut updates = Vec::with_capacity(pages.len());
    let mut contents = Vec::with_capacity(pages.len());
    for (index, content) in pages {
        let leaf = leaf_hash(address, *index, content.as_page());
        if leaf != empty_hashes()[0] {
            contents.push((leaf, content));
        }
        updates.push((index.0, leaf));
    }
    Ok(Prepared { updates, contents })
}

/// The page count of a rebuilt state.
pub(crate) fn new_page_count(
    info: &StateInfo,
    rebuilt: &tree::Rebuilt,
    base: &State,
) -> Result<u32, PagesError> {
    u32::try_from(i64::from(info.page_count) + rebuilt.count_delta)
        .map_err(|_| PagesError::Corrupt(format!("page count of {base} is inconsistent")))
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
