//! The node's accounts, behind the `node` vmcalls.
//!
//! A full node implements [`NodeHost`] over its own account state. A run
//! reads balances through it, buffers every change, and hands the changes
//! back only when the run succeeds: [`NodeHost::commit_writes`] adds them to
//! the same atomic KV batch as the contract's pages (for KV-backed hosts),
//! and [`NodeHost::applied`] tells hosts with state elsewhere after that
//! batch landed. A failed run changes no balance.
//!
//! [`KvNodeHost`], the default for the CLI and the tests, keeps balances in
//! the runtime's KV:
//!
//! | key | key size (bytes) | value |
//! |---|---|---|
//! | `b` (0x62) ‖ account address | 21 | balance, `u64` big-endian (8 bytes) |
//!
//! A missing key is a balance of 0. It keeps the balances it read or wrote
//! last in memory ([`BALANCE_CACHE_ENTRIES`] at most), so a block reads an
//! account from the KV only the first time.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroUsize;
use std::sync::Arc;

use lru::LruCache;
use parking_lot::Mutex;

use svm_kv::{Bytes, KvStore, WriteBatch};
use svm_types::Address;

/// Why the node's account state failed ([`NodeHost`]), with its message:
/// the node backend's error, which fails the run that met it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NodeError(pub String);

/// The former name of [`NodeError`], kept so that node code written
/// against it still builds.
pub type HostError = NodeError;

/// The node's account state as the runtime sees it.
pub trait NodeHost: Send + Sync {
    /// The balance of `account` (0 for an unknown account).
    ///
    /// # Errors
    /// [`NodeError`] when the node cannot read it; the run then fails.
    fn balance(&self, account: &Address) -> Result<u64, NodeError>;

    /// KV operations that record `changes` (final balances), added to the
    /// atomic batch that commits a successful run. Default: none.
    fn commit_writes(&self, changes: &BTreeMap<Address, u64>) -> WriteBatch {
        let _ = changes;
        WriteBatch::new()
    }

    /// Called after a successful run's batch landed, with its balance
    /// changes. Default: nothing.
    fn applied(&self, changes: &BTreeMap<Address, u64>) {
        let _ = changes;
    }
}

/// Namespace byte of balances in the KV.
const BALANCE_NS: u8 = b'b';

fn balance_key(account: &Address) -> [u8; 21] {
    let mut k = [0u8; 21];
    k[0] = BALANCE_NS;
    k[1..].copy_from_slice(account.as_bytes());
    k
}

/// Balances a [`KvNodeHost`] keeps in memory at most (about 80 bytes
/// each, so at most about 20 MiB).
pub const BALANCE_CACHE_ENTRIES: usize = 1 << 18;

/// Balances kept in a KV store (module docs give the layout), with the
/// most recently used ones in memory.
///
/// Invariant: a cached balance equals the KV's, provided this host is the
/// only writer of the `b` keys of its KV (the runtime writes them in a
/// block's batch through [`NodeHost::commit_writes`] and reports them
/// through [`NodeHost::applied`]; [`KvNodeHost::set_balance`] writes them
/// directly). How it is kept:
/// - a miss reads the KV and fills the cache under the cache's lock, and
///   every write updates the cache after the KV, under the lock, so a read
///   that saw an older value never overwrites a newer one;
/// - [`NodeHost::commit_writes`] drops the block's accounts from the cache
///   (if the batch fails, the KV is read again) and [`NodeHost::applied`]
///   puts them back, except an account that `set_balance` wrote in
///   between, whose order against the batch is unknown: that one is read
///   from the KV again.
pub struct KvNodeHost<K> {
    kv: K,
    cache: Mutex<BalanceCache>,
}

/// The cached balances, and the accounts set directly while a block's
/// batch is being written.
struct BalanceCache {
    balances: LruCache<Address, u64>,
    /// `Some` from [`NodeHost::commit_writes`] to [`NodeHost::applied`].
    in_flight: Option<BTreeSet<Address>>,
}

impl<K: KvStore> KvNodeHost<K> {
    /// A host over `kv` (usually the runtime's own store).
    pub fn new(kv: K) -> Self {
        let entries = NonZeroUsize::new(BALANCE_CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN);
        Self {
            kv,
            cache: Mutex::new(BalanceCache {
                balances: LruCache::new(entries),
                in_flight: None,
            }),
        }
    }

    /// Sets a balance directly, outside any run (funding an account).
    ///
    /// # Errors
    /// [`NodeError`] with the KV's message.
    pub fn set_balance(&self, account: &Address, balance: u64) -> Result<(), NodeError> {
        let mut cache = self.cache.lock();
        let put = self
            .kv
            .put(&balance_key(account), &balance.to_be_bytes())
            .map_err(|e| NodeError(e.to_string()));
        match put {
            Ok(()) => cache.balances.put(*account, balance),
            // The KV may or may not hold the new value: read it again.
            Err(_) => cache.balances.pop(account),
        };
        if let Some(accounts) = &mut cache.in_flight {
            accounts.insert(*account);
        }
        put
    }

    /// Empties the balance cache, so that every balance is read from the
    /// KV again. Call it after writing the KV's `b` keys other than
    /// through this host (a test harness restoring a snapshot, say).
    pub fn forget_cached(&self) {
        self.cache.lock().balances.clear();
    }
}

impl<K: KvStore> NodeHost for KvNodeHost<K> {
    fn balance(&self, account: &Address) -> Result<u64, NodeError> {
        let mut cache = self.cache.lock();
        if let Some(b) = cache.balances.get(account) {
            return Ok(*b);
        }
        let balance = match self
            .kv
            .get(&balance_key(account))
            .map_err(|e| NodeError(e.to_string()))?
        {
            None => 0,
            Some(v) => <[u8; 8]>::try_from(&v[..])
                .map(u64::from_be_bytes)
                .map_err(|_| NodeError(format!("balance of {account} is {} bytes", v.len())))?,
        };
        cache.balances.put(*account, balance);
        Ok(balance)
    }

    fn commit_writes(&self, changes: &BTreeMap<Address, u64>) -> WriteBatch {
        let mut cache = self.cache.lock();
        for account in changes.keys() {
            cache.balances.pop(account);
        }
        cache.in_flight = Some(BTreeSet::new());
        drop(cache);
        let mut batch = WriteBatch::with_capacity(changes.len());
        for (account, balance) in changes {
            batch.put(
                Bytes::copy_from_slice(&balance_key(account)),
                balance.to_be_bytes().to_vec(),
            );
        }
        batch
    }

    fn applied(&self, changes: &BTreeMap<Address, u64>) {
        let mut cache = self.cache.lock();
        let set_directly = cache.in_flight.take().unwrap_or_default();
        for (account, balance) in changes {
            if set_directly.contains(account) {
                cache.balances.pop(account);
            } else {
                cache.balances.put(*account, *balance);
            }
        }
    }
}

impl<T: NodeHost + ?Sized> NodeHost for Arc<T> {
    fn balance(&self, account: &Address) -> Result<u64, NodeError> {
        (**self).balance(account)
    }
    fn commit_writes(&self, changes: &BTreeMap<Address, u64>) -> WriteBatch {
        (**self).commit_writes(changes)
    }
    fn applied(&self, changes: &BTreeMap<Address, u64>) {
        (**self).applied(changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use svm_kv::MemKv;

    /// A block's batch through the host's hooks, with a direct write of the
    /// same account after `commit_writes` and before or after the batch
    /// lands: the cache ends up equal to the KV either way.
    #[test]
    fn a_balance_set_while_a_batch_is_in_flight_is_read_again() {
        let a = Address([1; 20]);
        for set_before_the_batch in [true, false] {
            let kv = Arc::new(MemKv::new());
            let host = KvNodeHost::new(kv.clone());
            host.set_balance(&a, 100).unwrap();
            assert_eq!(host.balance(&a).unwrap(), 100);
            let changes = BTreeMap::from([(a, 5)]);
            let batch = host.commit_writes(&changes);
            if set_before_the_batch {
                host.set_balance(&a, 9).unwrap();
                kv.write(batch).unwrap();
            } else {
                kv.write(batch).unwrap();
                host.set_balance(&a, 9).unwrap();
            }
            host.applied(&changes);
            let stored = KvNodeHost::new(kv.clone()).balance(&a).unwrap();
            assert_eq!(stored, if set_before_the_batch { 5 } else { 9 });
            assert_eq!(host.balance(&a).unwrap(), stored);
        }
    }

    /// A batch that never lands leaves the KV's balance readable.
    #[test]
    fn a_batch_that_fails_leaves_the_kv_balance() {
        let a = Address([2; 20]);
        let kv = Arc::new(MemKv::new());
        let host = KvNodeHost::new(kv.clone());
        host.set_balance(&a, 100).unwrap();
        let changes = BTreeMap::from([(a, 5)]);
        // Built, never written, no `applied`.
        let _ = host.commit_writes(&changes);
        assert_eq!(host.balance(&a).unwrap(), 100);
        // The next block goes through.
        let changes = BTreeMap::from([(a, 7)]);
        kv.write(host.commit_writes(&changes)).unwrap();
        host.applied(&changes);
        assert_eq!(host.balance(&a).unwrap(), 7);
    }
}
