//! The page cache: loads each page once, tracks dirty pages, commits them
//! in one batch or discards them, with nested checkpoints.

use std::num::NonZeroUsize;

use bytes::Bytes;
use foldhash::{HashMap, HashMapExt};
use lru::LruCache;
use svm_pages::{PAGE_SIZE, Page, PageIndex, PageStorage, PagesError, SharedPage};
use svm_types::{Address, State};

use crate::CacheError;

/// A page of 4096 zero bytes: what a page never written reads as.
static ZERO_PAGE: Page = [0u8; PAGE_SIZE];

/// Settings of a [`PageCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// How many clean pages (4096 bytes each) the LRU keeps across runs.
    /// Pages touched by the current run are held for the whole run on top
    /// of this. Default: 1024 pages (4 MiB).
    pub lru_pages: usize,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self { lru_pages: 1024 }
    }
}

/// Counters of one [`PageCache`], reset by [`PageCache::take_stats`]. Gas
/// metering and benchmarks read them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Pages read from the page storage (cold loads).
    pub pages_loaded: u64,
    /// Pages found in the cross-run LRU.
    pub lru_hits: u64,
    /// Pages committed as dirty.
    pub pages_committed: u64,
    /// Bytes returned by slice reads.
    pub bytes_read: u64,
    /// Bytes written by slice writes.
    pub bytes_written: u64,
}

/// A page touched by the current run.
#[derive(Debug)]
enum Slot {
    /// Unchanged; `None` is an all-zero page.
    Clean(Option<Bytes>),
    /// Changed in this run; `original` is its content at the base state.
    Dirty {
        page: Box<Page>,
        original: Option<Bytes>,
    },
}

impl Slot {
    fn page(&self) -> &Page {
        match self {
            Slot::Clean(Some(b)) => as_page(b),
            Slot::Clean(None) => &ZERO_PAGE,
            Slot::Dirty { page, .. } => page,
        }
    }
}

fn as_page(b: &Bytes) -> &Page {
    // Every stored content is exactly PAGE_SIZE bytes: `slot` rejects
    // anything else when it loads a page.
    b.as_ref().try_into().unwrap_or(&ZERO_PAGE)
}

/// A point to return to with [`PageCache::rollback_to`]; from
/// [`PageCache::checkpoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct Checkpoint {
    depth: usize,
    run: u64,
}

/// The pages a checkpoint frame saw written: their content before the first
/// write after the checkpoint (`None`: the page was clean then).
type UndoFrame = HashMap<PageIndex, Option<Box<Page>>>;

/// A cache of one contract's pages at one state, for one run at a time.
///
/// # Invariants
/// - `run` holds every page the current run touched; each was loaded from
///   `storage` at most once this run (from the LRU or the storage).
/// - Every `Slot::Dirty` page differs from, or was written over, its
///   content at `state`; only they are written at commit.
/// - `lru` holds only clean contents valid at `state`: a commit updates the
///   pages it wrote, so the LRU stays valid across commits.
/// - `undo[d]` records, for each page first written after checkpoint `d`,
///   its content before that write; rolling back to `d` restores them.
pub struct PageCache<S> {
    storage: S,
    address: Address,
    state: State,
    run: HashMap<PageIndex, Slot>,
    lru: LruCache<PageIndex, Option<Bytes>>,
    undo: Vec<UndoFrame>,
    run_id: u64,
    stats: CacheStats,
}

impl<S> std::fmt::Debug for PageCache<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("address", &self.address)
            .field("state", &self.state)
            .field("run_pages", &self.run.len())
            .field("lru_pages", &self.lru.len())
            .finish()
    }
}

impl<S: PageStorage> PageCache<S> {
    /// A cache of contract `address` at `state`.
    ///
    /// # Errors
    /// [`PagesError::UnknownState`] (as [`CacheError::Pages`]) when `state`
    /// is not a committed state of `address`; KV errors.
    pub fn open(
        storage: S,
        address: Address,
        state: State,
        config: CacheConfig,
    ) -> Result<Self, CacheError> {
        if !storage.has_state(&address, &state)? {
            return Err(PagesError::UnknownState { address, state }.into());
        }
        let cap = NonZeroUsize::new(config.lru_pages).unwrap_or(NonZeroUsize::MIN);
        Ok(Self {
            storage,
            address,
            state,
            run: HashMap::new(),
            lru: LruCache::new(cap),
            undo: Vec::new(),
            run_id: 0,
            stats: CacheStats::default(),
        })
    }

    /// The contract.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The committed state the current run started from.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The page storage.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The counters so far.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// The counters so far, resetting them to zero.
    pub fn take_stats(&mut self) -> CacheStats {
        std::mem::take(&mut self.stats)
    }

    /// The number of dirty pages in the current run.
    pub fn dirty_pages(&self) -> usize {
        self.run
            .values()
            .filter(|s| matches!(s, Slot::Dirty { .. }))
            .count()
    }

    /// The number of pages the current run has touched.
    pub fn touched_pages(&self) -> usize {
        self.run.len()
    }

    fn slot(&mut self, index: PageIndex) -> Result<&mut Slot, CacheError> {
        use std::collections::hash_map::Entry;
        match self.run.entry(index) {
            Entry::Occupied(e) => Ok(e.into_mut()),
            Entry::Vacant(v) => {
                let content = match self.lru.get(&index) {
                    Some(c) => {
                        self.stats.lru_hits += 1;
                        c.clone()
                    }
                    None => {
                        let c = self.storage.read_page(&self.address, &self.state, index)?;
                        if let Some(b) = &c
                            && b.len() != PAGE_SIZE
                        {
                            return Err(PagesError::Corrupt(format!(
                                "{index} is {} bytes, not {PAGE_SIZE}",
                                b.len()
                            ))
                            .into());
                        }
                        self.stats.pages_loaded += 1;
                        c
                    }
                };
                Ok(v.insert(Slot::Clean(content)))
            }
        }
    }

    /// The content of page `index` (zeros if never written).
    ///
    /// # Errors
    /// Page storage errors on a cold load.
    pub fn page(&mut self, index: PageIndex) -> Result<&Page, CacheError> {
        if !self.run.contains_key(&index) {
            self.slot(index)?;
        }
        match self.run.get(&index) {
            Some(slot) => Ok(slot.page()),
            None => Ok(&ZERO_PAGE), // unreachable: the slot was just inserted
        }
    }

    /// Copies `buf.len()` bytes at `offset` of page `index` into `buf`.
    ///
    /// # Errors
    /// [`CacheError::SliceOutOfPage`] when `offset + buf.len() > 4096`;
    /// page storage errors on a cold load.
    pub fn read_into(
        &mut self,
        index: PageIndex,
        offset: usize,
        buf: &mut [u8],
    ) -> Result<(), CacheError> {
        let end = check_bounds(index, offset, buf.len())?;
        self.stats.bytes_read += buf.len() as u64;
        // A cache hit costs one map lookup.
        if let Some(slot) = self.run.get(&index) {
            buf.copy_from_slice(&slot.page()[offset..end]);
            return Ok(());
        }
        let page = self.slot(index)?.page();
        buf.copy_from_slice(&page[offset..end]);
        Ok(())
    }

    /// Writes `data` at `offset` of page `index`. A write that changes the
    /// page marks it dirty; one that writes the bytes already there does not.
    ///
    /// # Errors
    /// [`CacheError::SliceOutOfPage`] when `offset + data.len() > 4096`;
    /// page storage errors on a cold load.
    pub fn write(
        &mut self,
        index: PageIndex,
        offset: usize,
        data: &[u8],
    ) -> Result<(), CacheError> {
        let end = check_bounds(index, offset, data.len())?;
        self.stats.bytes_written += data.len() as u64;
        // Only the first write to a page after the newest checkpoint saves
        // its previous content.
        let needs_undo = self
            .undo
            .last()
            .is_some_and(|frame| !frame.contains_key(&index));
        let slot = self.slot(index)?;
        if slot.page()[offset..end] == *data {
            return Ok(());
        }
        let before = match slot {
            Slot::Dirty { page, .. } if needs_undo => Some(page.clone()),
            _ => None,
        };
        if let Slot::Clean(original) = slot {
            let original = original.take();
            // One allocation and one 4096-byte copy, not a zero page
            // written first and then copied over.
            let page = match &original {
                Some(b) => boxed_copy(as_page(b)),
                None => boxed_copy(&ZERO_PAGE),
            };
            *slot = Slot::Dirty { page, original };
        }
        if let Slot::Dirty { page, .. } = slot {
            page[offset..end].copy_from_slice(data);
        }
        if needs_undo && let Some(frame) = self.undo.last_mut() {
            frame.insert(index, before);
        }
        Ok(())
    }

    /// Marks a point the run can return to. Checkpoints nest: each call
    /// opens a new, deeper one.
    pub fn checkpoint(&mut self) -> Checkpoint {
        self.undo.push(UndoFrame::new());
        Checkpoint {
            depth: self.undo.len(),
            run: self.run_id,
        }
    }

    fn check(&self, cp: Checkpoint) -> Result<(), CacheError> {
        if cp.run != self.run_id || cp.depth == 0 || cp.depth > self.undo.len() {
            return Err(CacheError::UnknownCheckpoint(cp.depth));
        }
        Ok(())
    }

    /// Undoes every write since `cp` was taken, and closes `cp` and every
    /// checkpoint taken after it. Writes before `cp` stay.
    ///
    /// # Errors
    /// [`CacheError::UnknownCheckpoint`] when `cp` is already closed or
    /// belongs to an earlier run; nothing changes then.
    pub fn rollback_to(&mut self, cp: Checkpoint) -> Result<(), CacheError> {
        self.check(cp)?;
        while self.undo.len() >= cp.depth {
            let frame = self.undo.pop().unwrap_or_default();
            for (index, before) in frame {
                let Some(slot) = self.run.get_mut(&index) else {
                    continue;
                };
                match before {
                    Some(page) => {
                        if let Slot::Dirty { page: p, .. } = slot {
                            *p = page;
                        }
                    }
                    None => {
                        if let Slot::Dirty { original, .. } = slot {
                            *slot = Slot::Clean(original.take());
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Closes `cp` (and every checkpoint after it) keeping their writes: an
    /// inner call succeeded. A rollback to an earlier checkpoint still
    /// undoes them.
    ///
    /// # Errors
    /// [`CacheError::UnknownCheckpoint`], as for
    /// [`PageCache::rollback_to`].
    pub fn release(&mut self, cp: Checkpoint) -> Result<(), CacheError> {
        self.check(cp)?;
        while self.undo.len() >= cp.depth {
            let frame = self.undo.pop().unwrap_or_default();
            if let Some(parent) = self.undo.last_mut() {
                for (index, before) in frame {
                    parent.entry(index).or_insert(before);
                }
            }
        }
        Ok(())
    }

    fn end_run(&mut self) {
        self.undo.clear();
        self.run_id += 1;
        for (index, slot) in self.run.drain() {
            let content = match slot {
                Slot::Clean(c) => c,
                Slot::Dirty { original, .. } => original,
            };
            self.lru.put(index, content);
        }
    }

    /// Writes the dirty pages (only those) over the current state in one
    /// atomic batch, moves the cache to the new state and ends the run.
    /// Returns the new state root (the same root when nothing is dirty).
    ///
    /// # Errors
    /// Page storage errors. Then nothing was written, and the run's changes
    /// are still in the cache: call [`PageCache::discard`] or retry.
    pub fn commit(&mut self) -> Result<State, CacheError> {
        self.commit_with(&|_| svm_kv::WriteBatch::new())
    }

    /// [`PageCache::commit`], adding `extra(new_state)`'s operations to the
    /// same atomic batch (see [`PageStorage::commit_with`]). `extra` runs
    /// even when no page is dirty, so its records still land atomically.
    ///
    /// # Errors
    /// As [`PageCache::commit`].
    pub fn commit_with(
        &mut self,
        extra: &dyn Fn(&State) -> svm_kv::WriteBatch,
    ) -> Result<State, CacheError> {
        // Each dirty page's own allocation becomes the shared copy (no
        // page is copied): the storage (its batch or block overlay) and the
        // LRU below hold the same bytes. Until the storage has committed,
        // the run keeps each page as a clean slot of its new content, and
        // `originals` what it needs to make them dirty again.
        let mut dirty: Vec<(PageIndex, SharedPage)> = Vec::new();
        let mut originals: Vec<(PageIndex, Option<Bytes>)> = Vec::new();
        for (index, slot) in self.run.iter_mut() {
            if let Slot::Clean(_) = slot {
                continue;
            }
            let Slot::Dirty { page, original } = std::mem::replace(slot, Slot::Clean(None)) else {
                continue;
            };
            let shared = SharedPage::from_box(page);
            let content = (shared.as_page() != &ZERO_PAGE).then(|| shared.bytes().clone());
            *slot = Slot::Clean(content);
            dirty.push((*index, shared));
            originals.push((*index, original));
        }
        // Sorted: the order of a HashMap never reaches the storage.
        dirty.sort_unstable_by_key(|(i, _)| *i);
        let outcome = match self
            .storage
            .commit_with(&self.address, &self.state, &dirty, extra)
        {
            Ok(o) => o,
            Err(e) => {
                // The run as it was: each page dirty again over its
                // original content.
                for (index, original) in originals {
                    if let Some(slot) = self.run.get_mut(&index) {
                        let page = boxed_copy(slot.page());
                        *slot = Slot::Dirty { page, original };
                    }
                }
                return Err(e.into());
            }
        };
        self.stats.pages_committed += dirty.len() as u64;
        self.state = outcome.state;
        self.undo.clear();
        self.run_id += 1;
        // The committed pages are clean slots of their new content now.
        for (index, slot) in self.run.drain() {
            if let Slot::Clean(c) = slot {
                self.lru.put(index, c);
            }
        }
        Ok(self.state)
    }

    /// Drops every change of the current run and ends it; the state is
    /// unchanged.
    pub fn discard(&mut self) {
        self.end_run();
    }

    /// Moves the cache to another committed state of the same contract,
    /// dropping the current run and the LRU.
    ///
    /// # Errors
    /// [`PagesError::UnknownState`]; the cache is unchanged then.
    pub fn reset_to(&mut self, state: State) -> Result<(), CacheError> {
        if !self.storage.has_state(&self.address, &state)? {
            return Err(PagesError::UnknownState {
                address: self.address,
                state,
            }
            .into());
        }
        self.end_run();
        self.lru.clear();
        self.state = state;
        Ok(())
    }
}

/// A new allocation holding a copy of `page` (one 4096-byte copy).
fn boxed_copy(page: &Page) -> Box<Page> {
    let boxed: Box<[u8]> = Box::from(&page[..]);
    match boxed.try_into() {
        Ok(page) => page,
        // Unreachable: `boxed` is exactly PAGE_SIZE bytes.
        Err(_) => Box::new(*page),
    }
}

fn check_bounds(page: PageIndex, offset: usize, len: usize) -> Result<usize, CacheError> {
    match offset.checked_add(len) {
        Some(end) if end <= PAGE_SIZE => Ok(end),
        _ => Err(CacheError::SliceOutOfPage {
            page,
            offset: offset as u64,
            len: len as u64,
        }),
    }
}
