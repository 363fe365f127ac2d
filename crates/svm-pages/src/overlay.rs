//! A block's page writes, held in memory and written once.
//!
//! A [`PageOverlay`] is a [`PageStorage`] in front of a [`PageStore`]:
//! commits hash their pages and records as usual but keep them in memory,
//! so a page written by 1,000 transactions of a block costs 1,000 hashings
//! and no KV write. [`PageOverlay::flush`] then gives one [`WriteBatch`]
//! holding, for each contract, only what its **last** state in the block
//! needs that the KV does not have: the new content of each page the block
//! changed (its slot's head, with a delta or a whole new base, see
//! `crate::slots`), its records that are new or come from the pack of the
//! state before the block (packed into its state record or written as `N`
//! keys, by the rule of `crate::pack`), and its `S` record (whose parent
//! is the contract's state before the block). The states in between stay
//! in the receipts but are never stored: after the batch lands they give
//! [`PagesError::UnknownState`].
//!
//! When older states are kept ([`StaleKeys::Index`]), each page changed
//! also gets an undo record giving its content before the block back. The
//! flush indexes what the block made stale — those undo records, and the
//! records and `S` records of the states before the block that the new
//! states no longer reach — under the block's version, for
//! [`PageStore::prune_version`]:
//!
//! | key | key size (bytes) | value |
//! |---|---|---|
//! | `X` (0x58) ‖ version (`u64` BE) ‖ stale key (an `N` or `S` key) | 9 + 33 or 9 + 53 | empty |
//! | `X` ‖ version ‖ `U` (0x55) | 10 | the block's undo keys, 33 bytes each, concatenated |
//! | `Y` (0x59) ‖ stale key (an `N` or `S` key) | 1 + 33 or 1 + 53 | version (`u64` BE, 8 bytes) |
//!
//! A record or state record written again while it is indexed leaves the
//! index in the same batch. The flush finds those through an in-memory
//! filter of the index (`crate::stale_filter`): only the written keys it
//! may hold cost a `Y` read. An undo key is written once (it carries the
//! slot's write count), so the block's undo keys share one entry and need
//! no `Y` entry.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use foldhash::{HashMap, HashSet};
use parking_lot::Mutex;
use svm_kv::{BatchOp, Bytes, KvStore, WriteBatch};

use crate::hash::{Hash, TREE_DEPTH, empty_hashes};
use crate::pack::{self, StateRecord, StateSource};
use crate::slots::UNDO_NS;
use crate::tree::{self, NodeSource, Stored};
use crate::{
    Address, CommitOutcome, PAGE_SIZE, Page, PageIndex, PageStorage, PageStore, PagesError,
    SharedPage, State, StateInfo, empty_root, new_page_count, node_key, prepare, state_key,
    unknown,
};

/// Namespace byte of the stale index by version.
pub(crate) const STALE_NS: u8 = b'X';
/// Namespace byte of the stale index by key.
pub(crate) const STALE_KEY_NS: u8 = b'Y';

/// `X` ‖ version ‖ key.
pub(crate) fn stale_key(version: u64, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(9 + key.len());
    k.push(STALE_NS);
    k.extend_from_slice(&version.to_be_bytes());
    k.extend_from_slice(key);
    k
}

/// `Y` ‖ key.
pub(crate) fn stale_version_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + key.len());
    k.push(STALE_KEY_NS);
    k.extend_from_slice(key);
    k
}

/// An `N` or `S` key of the flush's bookkeeping, without an allocation.
/// Ordered as its bytes are (`N` keys before `S` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum RecordKey {
    /// `N` ‖ node hash.
    Node(Hash),
    /// `S` ‖ address ‖ root.
    State(Address, State),
}

impl RecordKey {
    /// The key's bytes (33 or 53).
    fn to_vec(self) -> Vec<u8> {
        self.with_bytes(<[u8]>::to_vec)
    }

    /// `f` of the key's bytes, built on the stack.
    fn with_bytes<R>(self, f: impl FnOnce(&[u8]) -> R) -> R {
        match self {
            Self::Node(h) => f(&node_key(&h)),
            Self::State(a, s) => f(&state_key(&a, &s)),
        }
    }
}

/// The first and the last state of a contract in the block.
#[derive(Debug, Clone, Copy)]
struct Chain {
    start: State,
    latest: State,
}

/// What the block committed so far.
#[derive(Default)]
struct Pending {
    records: HashMap<Hash, Stored>,
    pages: HashMap<Hash, Bytes>,
    states: HashMap<(Address, State), StateInfo>,
    contracts: BTreeMap<Address, Chain>,
    /// The node hashes of `N` keys of the KV that commits replaced, per
    /// contract (candidates for the stale index).
    replaced: BTreeMap<Address, BTreeSet<Hash>>,
    /// The page indices commits wrote, per contract.
    dirty: BTreeMap<Address, BTreeSet<u32>>,
    /// `extra` operations of the commits, in order.
    extra: Vec<BatchOp>,
    /// The stored states whose packs are in `records`.
    packs_loaded: HashSet<(Address, State)>,
    /// The hashes of the records that came from those packs.
    from_packs: HashSet<Hash>,
}

impl Pending {
    /// The stored state the walks of `state` of `address` read under the
    /// block's own records: `state` itself, or for a state the block
    /// committed, the contract's state before the block.
    fn stored_base(&self, address: &Address, state: &State) -> State {
        match self.contracts.get(address) {
            Some(chain) if self.states.contains_key(&(*address, *state)) => chain.start,
            _ => *state,
        }
    }
}

/// The block's records first, then the store's (as a stored state sees
/// them: its pack, then `N` keys).
struct Source<'a, K> {
    pending: &'a Pending,
    store: StateSource<'a, K>,
}

impl<K: KvStore> NodeSource for Source<'_, K> {
    fn record(&self, hash: &Hash, h: usize) -> Result<Option<Stored>, PagesError> {
        match self.pending.records.get(hash) {
            Some(r) => Ok(Some(*r)),
            None => self.store.record(hash, h),
        }
    }
}

/// Page writes of one block, in memory over a [`PageStore`] (module docs).
///
/// Cloning is cheap and shares the pending writes: page caches of the
/// block's transactions each hold a clone.
///
/// # Invariants
/// - Every record and page reachable from a state committed through the
///   overlay is in the overlay or in the store.
/// - For each contract, `start` is the base of its first commit in the
///   block and `latest` the result of its last one.
/// - `replaced` holds only hashes of `N` keys read from the store (not
///   the overlay, nor a stored state's pack) that a commit's new tree no
///   longer reaches.
/// - `dirty` holds, per contract, every page index a commit of the block
///   wrote: the slots the flush may have to write.
/// - The pack of every stored state a commit started from is among the
///   overlay's records (`from_packs`), so the flush carries what the last
///   state still reaches of it.
pub struct PageOverlay<K> {
    store: PageStore<K>,
    pending: Arc<Mutex<Pending>>,
}

impl<K> Clone for PageOverlay<K> {
    fn clone(&self) -> Self {
        Self {
            store: self.store.clone(),
            pending: self.pending.clone(),
        }
    }
}

impl<K> std::fmt::Debug for PageOverlay<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageOverlay").finish_non_exhaustive()
    }
}

/// What [`PageOverlay::flush`] does with the keys a block made stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaleKeys {
    /// Index them under the block's version, for
    /// [`PageStore::prune_version`] (a node keeping several states).
    Index,
    /// Delete them in the same batch (a node keeping only the newest
    /// state).
    Delete,
}

/// What [`PageOverlay::flush`] gives: the batch and what it holds.
#[derive(Debug)]
pub struct Flush {
    /// The operations, to be written in one atomic batch.
    pub batch: WriteBatch,
    /// Each contract whose state the block changed, with its last state,
    /// in address order.
    pub roots: Vec<(Address, State)>,
    /// Pages whose content the batch changes (each writes its slot head
    /// and a delta, or the whole page: `bases_written`).
    pub pages_written: usize,
    /// Pages written whole (4096 bytes each) as a slot's new base.
    pub bases_written: usize,
    /// Tree records (64 or 37 bytes each) in the batch as `N` keys.
    pub records_written: usize,
    /// Tree records packed into the batch's state records.
    pub records_packed: usize,
    /// Keys the block made stale (indexed, or deleted when not kept).
    pub stale: usize,
    records: Vec<(Hash, Stored)>,
    pages: Vec<(Hash, Bytes)>,
}

impl<K: KvStore> PageOverlay<K> {
    /// An empty overlay over `store`.
    pub fn new(store: PageStore<K>) -> Self {
        Self {
            store,
            pending: Arc::new(Mutex::new(Pending::default())),
        }
    }

    /// The store under the overlay.
    pub fn store(&self) -> &PageStore<K> {
        &self.store
    }

    /// What the overlay or the store knows about `state`.
    ///
    /// # Errors
    /// As [`PageStore::state_info`].
    pub fn state_info(&self, address: &Address, state: &State) -> Result<StateInfo, PagesError> {
        if let Some(i) = self.pending.lock().states.get(&(*address, *state)) {
            return Ok(*i);
        }
        self.store.state_info(address, state)
    }

    /// The batch that stores each contract's last state of the block (module
    /// docs). Stale keys are indexed under `version` or deleted, as
    /// `stale` says. The overlay is unchanged: after the batch landed, call
    /// [`PageOverlay::landed`] and drop the overlay.
    ///
    /// # Errors
    /// [`PagesError::Kv`] from the index lookups; nothing is written.
    pub fn flush(&self, version: u64, stale: StaleKeys) -> Result<Flush, PagesError> {
        let mode = stale;
        let p = self.pending.lock();
        let empty = empty_hashes();
        let mut batch = WriteBatch::new();
        // The `N` and `S` keys the batch puts, in the order it puts them
        // (deterministic), and as a set.
        let mut written: Vec<RecordKey> = Vec::new();
        let mut written_set: HashSet<RecordKey> = HashSet::default();
        let mut stale_keys: BTreeSet<RecordKey> = BTreeSet::new();
        let mut roots = Vec::new();
        let mut records = Vec::new();
        let mut pages = Vec::new();
        let mut pages_written = 0;
        let mut records_written = 0;
        let mut records_packed = 0;
        let mut bases_written = 0;
        let mut stale = 0;
        let mut undo_keys = Vec::new();
        for (address, chain) in &p.contracts {
            if chain.latest == chain.start {
                // Back where it started: whatever it replaced on the way is
                // reached again.
                continue;
            }
            roots.push((*address, chain.latest));
            let mut reached: HashSet<Hash> = HashSet::default();
            let mut live = Vec::new();
            let mut visited = tree::Visited::default();
            let mut stack = vec![(chain.latest.0, TREE_DEPTH)];
            while let Some((hash, h)) = stack.pop() {
                if h == 0 {
                    continue;
                }
                if hash == empty[h] {
                    continue;
                }
                if let Some(record) = p.records.get(&hash) {
                    visited.note(&hash)?;
                    live.push((hash, *record));
                    // Reversed: the pack lists a left child first.
                    stack.extend(record.children(h)?.into_iter().rev());
                }
            }
            let carried = live
                .iter()
                .filter(|(h, _)| p.from_packs.contains(h))
                .count();
            let packed: &[(Hash, Stored)] = if pack::packs(live.len(), carried) {
                records_packed += live.len();
                &live
            } else {
                for (hash, record) in &live {
                    reached.insert(*hash);
                    if written_set.insert(RecordKey::Node(*hash)) {
                        written.push(RecordKey::Node(*hash));
                        batch.put(Bytes::copy_from_slice(&node_key(hash)), record.encode());
                        records_written += 1;
                    }
                }
                // Only checkpointed records join the node cache: a packed
                // one is read with its state record by the next block.
                records.extend(live.iter().copied());
                &[]
            };
            if chain.latest != empty_root() {
                let info = p
                    .states
                    .get(&(*address, chain.latest))
                    .copied()
                    .ok_or_else(|| unknown(address, &chain.latest))?;
                let key = state_key(address, &chain.latest);
                batch.put(
                    Bytes::copy_from_slice(&key),
                    StateRecord::encode(&chain.start, info.page_count, packed),
                );
                let key = RecordKey::State(*address, chain.latest);
                if written_set.insert(key) {
                    written.push(key);
                }
            }
            // The pages: each slot the block wrote gets the content of the
            // last state, with an undo record when older states are kept.
            let src = Source {
                pending: &p,
                store: StateSource::new(&self.store, address, &chain.start),
            };
            for &i in p.dirty.get(address).into_iter().flatten() {
                let index = PageIndex(i);
                let leaf = match self.store.indexed_leaf(address, &chain.latest, index) {
                    Some(leaf) => leaf,
                    None => tree::find_leaf(&src, &chain.latest.0, index, &|| {
                        unknown(address, &chain.latest)
                    })?,
                };
                let content = match leaf {
                    None => Bytes::from_static(&[0; PAGE_SIZE]),
                    Some(l) => match p.pages.get(&l) {
                        Some(c) => c.clone(),
                        None => self.store.page_content(address, index, &l)?,
                    },
                };
                let page = <&Page>::try_from(&content[..]).map_err(|_| {
                    PagesError::Corrupt(format!("{index} of {address} is not 4096 bytes"))
                })?;
                let leaf = leaf.unwrap_or(empty[0]);
                let undo = mode == StaleKeys::Index;
                let Some(w) = self
                    .store
                    .write_slot(&mut batch, address, index, page, &leaf, undo)?
                else {
                    continue;
                };
                pages_written += 1;
                bases_written += w.bases;
                if w.replaced {
                    stale += 1;
                }
                if let Some(key) = w.undo {
                    undo_keys.extend_from_slice(&key);
                }
                if leaf != empty[0] {
                    pages.push((leaf, content));
                }
            }
            if let Some(replaced) = p.replaced.get(address) {
                stale_keys.extend(
                    replaced
                        .iter()
                        .filter(|h| !reached.contains(*h))
                        .map(|h| RecordKey::Node(*h)),
                );
            }
            if chain.start != empty_root() {
                stale_keys.insert(RecordKey::State(*address, chain.start));
            }
        }
        // Keys written again leave the stale index. The filter of the
        // index (`crate::stale_filter`) answers for nearly every written
        // key, which is new; the others cost a point read. A key indexed
        // here joins the filter before the batch is written.
        let kv = self.store.kv();
        let revived = self.store.with_stale_filter(|filter| {
            for key in stale_keys.iter().filter(|k| !written_set.contains(*k)) {
                stale += 1;
                key.with_bytes(|key| match mode {
                    StaleKeys::Index => {
                        filter.insert(key);
                        batch.put(stale_key(version, key), Vec::new());
                        batch.put(stale_version_key(key), version.to_be_bytes().to_vec());
                    }
                    StaleKeys::Delete => {
                        batch.delete(key.to_vec());
                    }
                });
            }
            written
                .iter()
                .filter(|k| k.with_bytes(|b| filter.may_hold(b)))
                .map(|k| k.to_vec())
                .collect::<Vec<_>>()
        })?;
        for key in revived {
            let yk = stale_version_key(&key);
            if let Some(v) = kv.get(&yk)?
                && let Ok(v) = <[u8; 8]>::try_from(&v[..])
            {
                batch.delete(stale_key(u64::from_be_bytes(v), &key));
                batch.delete(yk);
            }
        }
        // The block's undo records, indexed in one entry: each is written
        // once and deleted with its block's entry.
        if !undo_keys.is_empty() {
            batch.put(stale_key(version, &[UNDO_NS]), undo_keys);
        }
        for op in &p.extra {
            match op {
                BatchOp::Put { key, value } => batch.put(key.clone(), value.clone()),
                BatchOp::Delete { key } => batch.delete(key.clone()),
            };
        }
        Ok(Flush {
            batch,
            roots,
            pages_written,
            bases_written,
            records_written,
            records_packed,
            stale,
            records,
            pages,
        })
    }

    /// Tells the store that `flush`'s batch landed: its records join the
    /// node cache and its pages the page cache.
    pub fn landed(&self, flush: Flush) {
        self.store.cache_records(flush.records);
        self.store.cache_pages(flush.pages);
    }
}

impl<K: KvStore> PageStorage for PageOverlay<K> {
    fn has_state(&self, address: &Address, state: &State) -> Result<bool, PagesError> {
        if self.pending.lock().states.contains_key(&(*address, *state)) {
            return Ok(true);
        }
        self.store.has_state(address, state)
    }

    fn read_page(
        &self,
        address: &Address,
        state: &State,
        index: PageIndex,
    ) -> Result<Option<Bytes>, PagesError> {
        let p = self.pending.lock();
        let leaf = match self.store.indexed_leaf(address, state, index) {
            Some(leaf) => leaf,
            None => {
                let src = Source {
                    pending: &p,
                    store: StateSource::new(&self.store, address, &p.stored_base(address, state)),
                };
                let leaf = tree::find_leaf(&src, &state.0, index, &|| unknown(address, state))?;
                self.store.note_leaf(address, state, index, leaf);
                leaf
            }
        };
        match leaf {
            None => Ok(None),
            Some(leaf) => match p.pages.get(&leaf) {
                Some(page) => Ok(Some(page.clone())),
                None => self.store.page_content(address, index, &leaf).map(Some),
            },
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
        let info = self.state_info(address, base)?;
        let mut p = self.pending.lock();
        if *base != empty_root()
            && !p.states.contains_key(&(*address, *base))
            && !p.packs_loaded.contains(&(*address, *base))
        {
            // The block's walks and its flush see the base's pack as the
            // block's own records: carried on if reached, never stale keys.
            let pack = self.store.state_record(address, base)?.pack;
            p.packs_loaded.insert((*address, *base));
            for (hash, record) in pack {
                p.records.entry(hash).or_insert(record);
                p.from_packs.insert(hash);
            }
        }
        let rebuilt = {
            let src = Source {
                pending: &p,
                store: StateSource::new(&self.store, address, &p.stored_base(address, base)),
            };
            tree::rebuild(&src, &base.0, &prepared.updates, &|| unknown(address, base))?
        };
        let state = State(rebuilt.root);
        let page_count = new_page_count(&info, &rebuilt, base)?;
        let mut pages_written = 0;
        let mut nodes_written = 0;
        let mut bytes_written = 0;
        if state != *base {
            for hash in &rebuilt.replaced_records {
                if !p.records.contains_key(hash) {
                    p.replaced.entry(*address).or_default().insert(*hash);
                }
            }
            p.dirty
                .entry(*address)
                .or_default()
                .extend(prepared.updates.iter().map(|(i, _)| *i));
            for (leaf, content) in &prepared.contents {
                p.pages.insert(*leaf, content.bytes().clone());
                pages_written += 1;
                bytes_written += 33 + PAGE_SIZE;
            }
            nodes_written = rebuilt.records.len();
            for (hash, record) in rebuilt.records {
                bytes_written += 33 + record.encoded_len();
                p.records.insert(hash, record);
            }
            p.states.insert(
                (*address, state),
                StateInfo {
                    parent: *base,
                    page_count,
                },
            );
        }
        self.store
            .note_commit(address, base, &state, &prepared.updates);
        p.contracts
            .entry(*address)
            .and_modify(|c| c.latest = state)
            .or_insert(Chain {
                start: *base,
                latest: state,
            });
        let extra = extra(&state);
        bytes_written += extra.payload_bytes();
        p.extra.extend(extra.into_ops());
        Ok(CommitOutcome {
            state,
            page_count,
            pages_written,
            nodes_written,
            nodes_packed: 0,
            bytes_written,
        })
    }
}
