//! The page caches of one transaction: one [`PageSliceCache`] per contract
//! the transaction touched (its own contract and every contract it called,
//! directly or not), and which of them the running frame uses.
//!
//! An inner contract call (`svm.call`) takes a [`TxCheckpoint`] of every
//! cache before the callee runs: a failed callee rolls back to it (every
//! contract it touched, the caller's own pages too when it re-entered the
//! caller), a successful one releases it and its writes stay, to be
//! committed with the transaction or discarded with it.

use std::collections::BTreeMap;

use svm_cache::{CacheError, Checkpoint, PageSliceCache};
use svm_pages::PageStorage;
use svm_types::{Address, State};

/// The page caches of a transaction, by contract.
///
/// # Invariants
/// - `caches` holds a cache for `current`, and each cache is keyed by its
///   own contract's address;
/// - a cache holds the writes of the transaction's successful frames only
///   (failed inner calls were rolled back).
pub struct TxPages<S> {
    current: Address,
    caches: BTreeMap<Address, PageSliceCache<S>>,
}

/// Checkpoints of every cache of a transaction ([`TxPages::checkpoint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct TxCheckpoint(BTreeMap<Address, Checkpoint>);

impl<S: PageStorage> TxPages<S> {
    /// The caches of a transaction that starts on `cache`'s contract.
    pub fn new(cache: PageSliceCache<S>) -> Self {
        let current = *cache.cache().address();
        let mut caches = BTreeMap::new();
        caches.insert(current, cache);
        Self { current, caches }
    }

    /// An empty set, standing in for a context's caches while they are
    /// lent to an inner call (the runtime's invoker); its `cache` fails.
    pub fn detached() -> Self {
        Self {
            current: Address::default(),
            caches: BTreeMap::new(),
        }
    }

    /// The contract whose frame runs.
    pub fn current(&self) -> &Address {
        &self.current
    }

    /// The running frame's cache.
    ///
    /// # Errors
    /// [`CacheError::UnknownCheckpoint`] never; a missing cache (which the
    /// invariants exclude) is reported as [`svm_pages::PagesError::Corrupt`].
    pub fn cache(&mut self) -> Result<&mut PageSliceCache<S>, CacheError> {
        let current = self.current;
        self.caches
            .get_mut(&current)
            .ok_or_else(|| missing(&current))
    }

    /// The running frame's cache, read-only (`None` never, by the
    /// invariants).
    pub fn cache_ref(&self) -> Option<&PageSliceCache<S>> {
        self.caches.get(&self.current)
    }

    /// The pages loaded from page storage by the running frame's cache.
    pub fn pages_loaded(&self) -> u64 {
        self.cache_ref()
            .map_or(0, |c| c.cache().stats().pages_loaded)
    }

    /// Whether the transaction already has a cache for `contract`.
    pub fn contains(&self, contract: &Address) -> bool {
        self.caches.contains_key(contract)
    }

    /// Adds the cache of a contract the transaction had not touched yet
    /// (a cache already there for that contract is kept).
    pub fn insert(&mut self, cache: PageSliceCache<S>) {
        self.caches.entry(*cache.cache().address()).or_insert(cache);
    }

    /// Makes `contract`'s cache the running one; returns the previous
    /// running contract.
    ///
    /// # Errors
    /// [`svm_pages::PagesError::Corrupt`] when the transaction has no cache
    /// for `contract` (nothing changes then).
    pub fn switch_to(&mut self, contract: Address) -> Result<Address, CacheError> {
        if !self.caches.contains_key(&contract) {
            return Err(missing(&contract));
        }
        Ok(std::mem::replace(&mut self.current, contract))
    }

    /// A checkpoint of every cache.
    pub fn checkpoint(&mut self) -> TxCheckpoint {
        TxCheckpoint(
            self.caches
                .iter_mut()
                .map(|(a, c)| (*a, c.cache_mut().checkpoint()))
                .collect(),
        )
    }

    /// Undoes every write since `cp` in every cache; a cache opened after
    /// `cp` drops its whole run.
    ///
    /// # Errors
    /// [`CacheError::UnknownCheckpoint`] for a checkpoint already closed.
    pub fn rollback_to(&mut self, cp: TxCheckpoint) -> Result<(), CacheError> {
        for (address, cache) in &mut self.caches {
            match cp.0.get(address) {
                Some(c) => cache.cache_mut().rollback_to(*c)?,
                None => cache.discard(),
            }
        }
        Ok(())
    }

    /// Closes `cp`, keeping the writes made since.
    ///
    /// # Errors
    /// [`CacheError::UnknownCheckpoint`] for a checkpoint already closed.
    pub fn release(&mut self, cp: TxCheckpoint) -> Result<(), CacheError> {
        for (address, c) in cp.0 {
            if let Some(cache) = self.caches.get_mut(&address) {
                cache.cache_mut().release(c)?;
            }
        }
        Ok(())
    }

    /// The dirty pages of every cache.
    pub fn dirty_pages(&self) -> u64 {
        self.caches
            .values()
            .map(|c| c.cache().dirty_pages() as u64)
            .sum()
    }

    /// The pages loaded from page storage by every cache.
    pub fn total_pages_loaded(&self) -> u64 {
        self.caches
            .values()
            .map(|c| c.cache().stats().pages_loaded)
            .sum()
    }

    /// The state each cache started from, by contract.
    pub fn states(&self) -> BTreeMap<Address, State> {
        self.caches
            .iter()
            .map(|(a, c)| (*a, *c.cache().state()))
            .collect()
    }

    /// Commits every cache's dirty pages into its storage, in address
    /// order; returns each contract's new state (the same state for a
    /// cache with nothing dirty).
    ///
    /// # Errors
    /// Page storage errors; the caches already committed stay committed
    /// (the storage is a block's in-memory overlay, which a failed
    /// transaction's block never sees: see `call/settle.rs`).
    pub fn commit(&mut self) -> Result<BTreeMap<Address, State>, CacheError> {
        let mut out = BTreeMap::new();
        for (address, cache) in &mut self.caches {
            out.insert(*address, cache.commit()?);
        }
        Ok(out)
    }

    /// Drops every cache's run.
    pub fn discard(&mut self) {
        for cache in self.caches.values_mut() {
            cache.discard();
        }
    }
}

fn missing(contract: &Address) -> CacheError {
    svm_pages::PagesError::Corrupt(format!("the transaction has no page cache for {contract}"))
        .into()
}
