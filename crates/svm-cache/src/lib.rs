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

mod error;
pub mod map;
mod page_cache;
mod slice;
#[cfg(test)]
mod tests;

pub use error::CacheError;
pub use page_cache::{CacheConfig, CacheStats, Checkpoint, PageCache};
pub use slice::{PageSlice, PageSliceCache};
