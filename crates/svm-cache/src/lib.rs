//! svm layer 3: the page cache and the page-slice cache.
//!
//! A contract run reads and writes its storage through a [`PageSliceCache`],
//! which wraps a [`PageCache`] opened at one (contract address, state root).
//!
//! - **Loads once.** A page is read from the page storage at most once per
//!   run; clean pages stay in a bounded LRU across runs.
//! - **Dirty pages exactly.** A write that changes a page marks it dirty;
//!   dirty pages live apart from the LRU and are never evicted.
//! - **Commit or discard.** [`PageCache::commit`] writes only the dirty
//!   pages, in one atomic batch, and moves the cache to the new state root;
//!   [`PageCache::discard`] drops every change. After either, the cache is
//!   ready for the next run.
//! - **Checkpoints.** [`PageCache::checkpoint`] marks a point that
//!   [`PageCache::rollback_to`] returns to, undoing a failed inner call
//!   without losing the outer call's writes; [`PageCache::release`] keeps
//!   an inner call's writes. Checkpoints nest.
//!
//! A contract variable is a [`PageSlice`]: (page index, offset, length)
//! inside one page. A slice that crosses the end of its page is a typed
//! error ([`CacheError::SliceOutOfPage`]); a read returns exactly `length`
//! bytes, zeros where never written.
//!
//! # Example
//!
//! ```
//! use svm_cache::{PageCache, PageSlice, PageSliceCache, CacheConfig};
//! use svm_kv::MemKv;
//! use svm_pages::{PageIndex, PageStore, empty_root};
//! use svm_types::Address;
//!
//! # fn main() -> Result<(), svm_cache::CacheError> {
//! let store = PageStore::new(MemKv::new());
//! let contract = Address([1; 20]);
//! let cache = PageCache::open(store.clone(), contract, empty_root(), CacheConfig::default())?;
//! let mut slices = PageSliceCache::new(cache);
//!
//! let balance = PageSlice::new(PageIndex(0), 16, 8)?;
//! slices.write_u64(&balance, 1_000)?;
//! let root = slices.commit()?;
//!
//! // A failed run: its write is discarded and the root stays.
//! slices.write_u64(&balance, 0)?;
//! slices.discard();
//! assert_eq!(slices.read_u64(&balance)?, 1_000);
//! assert_eq!(slices.cache().state(), &root);
//! # Ok(())
//! # }
//! ```
#![deny(missing_docs)]

use std::collections::HashMap;
use std::num::NonZeroUsize;

use bytes::Bytes;
use lru::LruCache;
use svm_pages::{PAGE_SIZE, Page, PageIndex, PageStorage, PagesError};
use svm_types::{Address, State};

pub mod map;

/// A page of 4096 zero bytes: what a page never written reads as.
static ZERO_PAGE: Page = [0u8; PAGE_SIZE];

/// An error of the caches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The page storage (or the KV under it) failed.
    #[error(transparent)]
    Pages(#[from] PagesError),
    /// A slice of `len` bytes at `offset` does not fit in a 4096-byte page.
    #[error("slice of {len} bytes at offset {offset} of {page} does not fit in a 4096-byte page")]
    SliceOutOfPage {
        /// The page.
        page: PageIndex,
        /// The offset in the page, in bytes.
        offset: u64,
        /// The length, in bytes.
        len: u64,
    },
    /// A buffer's length differs from the slice's length.
    #[error("buffer of {got} bytes for a slice of {expected} bytes")]
    LengthMismatch {
        /// The slice length, in bytes.
        expected: usize,
        /// The buffer length, in bytes.
        got: usize,
    },
    /// The checkpoint was already rolled back or released, or belongs to
    /// an earlier run.
    #[error("unknown checkpoint (depth {0})")]
    UnknownCheckpoint(usize),
}

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
            let mut page = Box::new(ZERO_PAGE);
            if let Some(b) = &original {
                page.copy_from_slice(as_page(b));
            }
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
        let mut dirty: Vec<(PageIndex, &Page)> = self
            .run
            .iter()
            .filter_map(|(i, s)| match s {
                Slot::Dirty { page, .. } => Some((*i, &**page)),
                Slot::Clean(_) => None,
            })
            .collect();
        // Sorted: the order of a HashMap never reaches the storage.
        dirty.sort_unstable_by_key(|(i, _)| *i);
        let outcome = self
            .storage
            .commit_with(&self.address, &self.state, &dirty, extra)?;
        self.stats.pages_committed += dirty.len() as u64;
        self.state = outcome.state;
        self.undo.clear();
        self.run_id += 1;
        for (index, slot) in self.run.drain() {
            let content = match slot {
                Slot::Clean(c) => c,
                Slot::Dirty { page, .. } => {
                    (*page != ZERO_PAGE).then(|| Bytes::copy_from_slice(&page[..]))
                }
            };
            self.lru.put(index, content);
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

/// A contract variable: `len` bytes at `offset` of page `page`, inside that
/// one page (`offset + len <= 4096`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageSlice {
    page: PageIndex,
    offset: u16,
    len: u16,
}

impl PageSlice {
    /// A slice of `len` bytes at `offset` of `page`.
    ///
    /// # Errors
    /// [`CacheError::SliceOutOfPage`] when `offset + len > 4096`.
    pub fn new(page: PageIndex, offset: u32, len: u32) -> Result<Self, CacheError> {
        if u64::from(offset) + u64::from(len) > PAGE_SIZE as u64 {
            return Err(CacheError::SliceOutOfPage {
                page,
                offset: offset.into(),
                len: len.into(),
            });
        }
        Ok(Self {
            page,
            offset: offset as u16,
            len: len as u16,
        })
    }

    /// The page.
    pub fn page(&self) -> PageIndex {
        self.page
    }

    /// The offset in the page, in bytes (0..=4096).
    pub fn offset(&self) -> usize {
        self.offset.into()
    }

    /// The length, in bytes (0..=4096).
    pub fn len(&self) -> usize {
        self.len.into()
    }

    /// Whether the slice is zero bytes long.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The page-slice cache: contract variables as [`PageSlice`]s over a
/// [`PageCache`]. Integers are stored **big-endian**.
#[derive(Debug)]
pub struct PageSliceCache<S> {
    pages: PageCache<S>,
}

macro_rules! int_helpers {
    ($($read:ident, $write:ident, $t:ty);* $(;)?) => {$(
        #[doc = concat!("Reads a big-endian `", stringify!($t), "` from a slice of exactly ",
            stringify!($t), "'s size in bytes.\n\n# Errors\n[`CacheError::LengthMismatch`] for a slice of another length; cold-load errors.")]
        pub fn $read(&mut self, slice: &PageSlice) -> Result<$t, CacheError> {
            let mut buf = [0u8; std::mem::size_of::<$t>()];
            self.read_into(slice, &mut buf)?;
            Ok(<$t>::from_be_bytes(buf))
        }

        #[doc = concat!("Writes `value` as a big-endian `", stringify!($t), "` to a slice of exactly ",
            stringify!($t), "'s size in bytes.\n\n# Errors\n[`CacheError::LengthMismatch`] for a slice of another length; cold-load errors.")]
        pub fn $write(&mut self, slice: &PageSlice, value: $t) -> Result<(), CacheError> {
            self.write(slice, &value.to_be_bytes())
        }
    )*};
}

impl<S: PageStorage> PageSliceCache<S> {
    /// Wraps a page cache.
    pub fn new(pages: PageCache<S>) -> Self {
        Self { pages }
    }

    /// The page cache underneath.
    pub fn cache(&self) -> &PageCache<S> {
        &self.pages
    }

    /// The page cache underneath, mutably (checkpoints, stats).
    pub fn cache_mut(&mut self) -> &mut PageCache<S> {
        &mut self.pages
    }

    /// Unwraps the page cache.
    pub fn into_cache(self) -> PageCache<S> {
        self.pages
    }

    /// Copies the slice into `buf`, which must be exactly `slice.len()`
    /// bytes long.
    ///
    /// # Errors
    /// [`CacheError::LengthMismatch`]; page storage errors on a cold load.
    pub fn read_into(&mut self, slice: &PageSlice, buf: &mut [u8]) -> Result<(), CacheError> {
        if buf.len() != slice.len() {
            return Err(CacheError::LengthMismatch {
                expected: slice.len(),
                got: buf.len(),
            });
        }
        self.pages.read_into(slice.page, slice.offset(), buf)
    }

    /// The slice's bytes: exactly `slice.len()` of them, zeros where never
    /// written.
    ///
    /// # Errors
    /// Page storage errors on a cold load.
    pub fn read(&mut self, slice: &PageSlice) -> Result<Vec<u8>, CacheError> {
        let mut buf = vec![0u8; slice.len()];
        self.read_into(slice, &mut buf)?;
        Ok(buf)
    }

    /// Writes `data`, exactly `slice.len()` bytes, into the slice; marks its
    /// page dirty when that changes it.
    ///
    /// # Errors
    /// [`CacheError::LengthMismatch`]; page storage errors on a cold load.
    pub fn write(&mut self, slice: &PageSlice, data: &[u8]) -> Result<(), CacheError> {
        if data.len() != slice.len() {
            return Err(CacheError::LengthMismatch {
                expected: slice.len(),
                got: data.len(),
            });
        }
        self.pages.write(slice.page, slice.offset(), data)
    }

    int_helpers! {
        read_u8, write_u8, u8;
        read_u16, write_u16, u16;
        read_u32, write_u32, u32;
        read_u64, write_u64, u64;
        read_u128, write_u128, u128;
        read_i64, write_i64, i64;
    }

    /// [`PageCache::commit`].
    ///
    /// # Errors
    /// As [`PageCache::commit`].
    pub fn commit(&mut self) -> Result<State, CacheError> {
        self.pages.commit()
    }

    /// [`PageCache::discard`].
    pub fn discard(&mut self) {
        self.pages.discard()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use svm_kv::MemKv;
    use svm_pages::{PageStore, empty_root};

    fn cache() -> PageSliceCache<PageStore<MemKv>> {
        let store = PageStore::new(MemKv::new());
        PageSliceCache::new(
            PageCache::open(
                store,
                Address([1; 20]),
                empty_root(),
                CacheConfig::default(),
            )
            .unwrap(),
        )
    }

    #[test]
    fn slices_must_fit_in_their_page() {
        assert!(PageSlice::new(PageIndex(0), 4096, 0).is_ok());
        assert!(PageSlice::new(PageIndex(0), 4088, 8).is_ok());
        assert_eq!(
            PageSlice::new(PageIndex(2), 4089, 8),
            Err(CacheError::SliceOutOfPage {
                page: PageIndex(2),
                offset: 4089,
                len: 8
            })
        );
        assert!(PageSlice::new(PageIndex(0), u32::MAX, u32::MAX).is_err());
        let mut c = cache();
        assert!(matches!(
            c.cache_mut().write(PageIndex(0), usize::MAX, &[1]),
            Err(CacheError::SliceOutOfPage { .. })
        ));
    }

    /// The original SVM returned the whole page on a cache hit; a read must
    /// return exactly the slice, hit or miss.
    #[test]
    fn a_read_returns_exactly_the_slice_on_hit_and_miss() {
        let mut c = cache();
        let s = PageSlice::new(PageIndex(3), 100, 5).unwrap();
        assert_eq!(c.read(&s).unwrap(), vec![0; 5]); // miss
        c.write(&s, b"hello").unwrap();
        assert_eq!(c.read(&s).unwrap(), b"hello".to_vec()); // hit
        let root = c.commit().unwrap();
        assert_eq!(c.read(&s).unwrap(), b"hello".to_vec()); // LRU
        let wide = PageSlice::new(PageIndex(3), 98, 9).unwrap();
        assert_eq!(c.read(&wide).unwrap(), b"\0\0hello\0\0".to_vec());
        assert_ne!(root, empty_root());
    }

    #[test]
    fn integer_helpers_are_big_endian_and_length_checked() {
        let mut c = cache();
        let s = PageSlice::new(PageIndex(0), 0, 8).unwrap();
        c.write_u64(&s, 0x0102_0304_0506_0708).unwrap();
        assert_eq!(c.read(&s).unwrap(), vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(c.read_i64(&s).unwrap(), 0x0102_0304_0506_0708);
        assert_eq!(
            c.read_u32(&s),
            Err(CacheError::LengthMismatch {
                expected: 8,
                got: 4
            })
        );
        assert!(c.write(&s, &[1, 2, 3]).is_err());
    }

    #[test]
    fn pages_load_once_per_run_and_identical_writes_do_not_dirty() {
        let mut c = cache();
        let s = PageSlice::new(PageIndex(1), 0, 4).unwrap();
        c.write_u32(&s, 7).unwrap();
        c.commit().unwrap();
        c.cache_mut().take_stats();
        for _ in 0..10 {
            c.read_u32(&s).unwrap();
        }
        let st = c.cache().stats();
        assert_eq!(st.pages_loaded + st.lru_hits, 1);
        assert_eq!(st.bytes_read, 40);
        c.write_u32(&s, 7).unwrap();
        assert_eq!(c.cache().dirty_pages(), 0);
        c.write_u32(&s, 8).unwrap();
        assert_eq!(c.cache().dirty_pages(), 1);
    }

    #[test]
    fn nested_checkpoints_undo_inner_writes_only() {
        let mut c = cache();
        let a = PageSlice::new(PageIndex(0), 0, 1).unwrap();
        let b = PageSlice::new(PageIndex(1), 0, 1).unwrap();
        c.write_u8(&a, 1).unwrap();
        let outer = c.cache_mut().checkpoint();
        c.write_u8(&a, 2).unwrap();
        let inner = c.cache_mut().checkpoint();
        c.write_u8(&a, 3).unwrap();
        c.write_u8(&b, 9).unwrap();
        c.cache_mut().rollback_to(inner).unwrap();
        assert_eq!((c.read_u8(&a).unwrap(), c.read_u8(&b).unwrap()), (2, 0));
        assert_eq!(c.cache().dirty_pages(), 1);
        assert_eq!(
            c.cache_mut().rollback_to(inner),
            Err(CacheError::UnknownCheckpoint(2))
        );
        let inner2 = c.cache_mut().checkpoint();
        c.write_u8(&b, 5).unwrap();
        c.cache_mut().release(inner2).unwrap();
        assert_eq!(c.read_u8(&b).unwrap(), 5);
        c.cache_mut().rollback_to(outer).unwrap();
        assert_eq!((c.read_u8(&a).unwrap(), c.read_u8(&b).unwrap()), (1, 0));
        // A checkpoint of a finished run is refused.
        let old = c.cache_mut().checkpoint();
        c.discard();
        assert_eq!(
            c.cache_mut().rollback_to(old),
            Err(CacheError::UnknownCheckpoint(1))
        );
        assert_eq!(c.read_u8(&a).unwrap(), 0);
    }

    /// A storage that hands back a short page: the cache reports
    /// corruption instead of reading zeros.
    struct ShortPages;

    impl PageStorage for ShortPages {
        fn has_state(&self, _: &Address, _: &State) -> Result<bool, PagesError> {
            Ok(true)
        }
        fn read_page(
            &self,
            _: &Address,
            _: &State,
            _: PageIndex,
        ) -> Result<Option<Bytes>, PagesError> {
            Ok(Some(Bytes::from_static(b"short")))
        }
        fn commit_with(
            &self,
            _: &Address,
            _: &State,
            _: &[(PageIndex, &Page)],
            _: &dyn Fn(&State) -> svm_kv::WriteBatch,
        ) -> Result<svm_pages::CommitOutcome, PagesError> {
            Err(PagesError::Corrupt("read-only mock".into()))
        }
    }

    #[test]
    fn a_page_of_the_wrong_size_is_corruption() {
        let mut c = PageCache::open(
            ShortPages,
            Address([1; 20]),
            empty_root(),
            CacheConfig::default(),
        )
        .unwrap();
        let mut buf = [0u8; 4];
        assert!(matches!(
            c.read_into(PageIndex(0), 0, &mut buf),
            Err(CacheError::Pages(PagesError::Corrupt(_)))
        ));
    }

    #[test]
    fn open_at_unknown_state_fails() {
        let store = PageStore::new(MemKv::new());
        let err = PageCache::open(
            store,
            Address([1; 20]),
            State([5; 32]),
            CacheConfig::default(),
        )
        .unwrap_err();
        assert!(matches!(
            err,
            CacheError::Pages(PagesError::UnknownState { .. })
        ));
    }
}
