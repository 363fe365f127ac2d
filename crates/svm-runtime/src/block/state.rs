//! What a block holds in memory until its one batch: page writes (an
//! overlay), contract records, new code and balance changes.

use std::collections::BTreeMap;
use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};
use parking_lot::Mutex;
use svm_kv::KvStore;
use svm_pages::{PageOverlay, PageStore};
use svm_types::{Address, CodeHash};

use crate::contracts::{ContractRecord, RecordError, load_record};
use crate::node::{NodeError, NodeHost};

/// The balances a block changed so far, in front of the node's.
///
/// Invariant: the order of `changes` (a hash map, looked up on every
/// balance read) never leaves this type: [`BlockBalances::changes`] sorts.
pub(crate) struct BlockBalances {
    node: Arc<dyn NodeHost>,
    changes: Mutex<HashMap<Address, u64>>,
}

impl BlockBalances {
    /// Records a successful transaction's final balances.
    pub(crate) fn merge(&self, changes: BTreeMap<Address, u64>) {
        self.changes.lock().extend(changes);
    }

    /// Every change of the block, in address order.
    pub(crate) fn changes(&self) -> BTreeMap<Address, u64> {
        self.changes.lock().iter().map(|(a, b)| (*a, *b)).collect()
    }
}

impl NodeHost for BlockBalances {
    fn balance(&self, account: &Address) -> Result<u64, NodeError> {
        if let Some(b) = self.changes.lock().get(account) {
            return Ok(*b);
        }
        self.node.balance(account)
    }
}

/// The uncommitted state of one block (or of one query, which is dropped).
///
/// # Invariants
/// - `records` holds exactly the contract records the block created or
///   moved to a new state; every other record is the KV's.
/// - `code` holds the code of contracts the block deployed.
/// - Only successful transactions reach any of it: a failed one merges
///   nothing.
/// - A clone is a handle on the same block (inner contract calls read the
///   block's records and code through one); only a transaction's settle
///   stage and a deploy write to it.
pub(crate) struct BlockState<K> {
    pub(crate) pages: PageOverlay<K>,
    pub(crate) records: Arc<Mutex<BTreeMap<Address, ContractRecord>>>,
    pub(crate) code: Arc<Mutex<BTreeMap<CodeHash, Arc<[u8]>>>>,
    pub(crate) balances: Arc<BlockBalances>,
    /// Set when a transaction failed halfway through its commit into the
    /// block (a storage failure after some of its contracts' pages reached
    /// the overlay): such a block is never committed.
    poisoned: Arc<Mutex<Option<String>>>,
}

impl<K> Clone for BlockState<K> {
    fn clone(&self) -> Self {
        Self {
            pages: self.pages.clone(),
            records: self.records.clone(),
            code: self.code.clone(),
            balances: self.balances.clone(),
            poisoned: self.poisoned.clone(),
        }
    }
}

impl<K: KvStore> BlockState<K> {
    /// An empty block over `store` and `node`.
    pub(crate) fn new(store: PageStore<K>, node: Arc<dyn NodeHost>) -> Self {
        Self {
            pages: PageOverlay::new(store),
            records: Default::default(),
            code: Default::default(),
            poisoned: Default::default(),
            balances: Arc::new(BlockBalances {
                node,
                changes: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// Marks the block as not committable, for `why` (the first reason
    /// stays).
    pub(crate) fn poison(&self, why: String) {
        self.poisoned.lock().get_or_insert(why);
    }

    /// Why the block cannot be committed, if it cannot.
    pub(crate) fn poisoned(&self) -> Option<String> {
        self.poisoned.lock().clone()
    }

    /// The record of `address`: the block's, else the KV's.
    pub(crate) fn record(&self, address: &Address) -> Result<Option<ContractRecord>, RecordError> {
        if let Some(r) = self.records.lock().get(address) {
            return Ok(Some(r.clone()));
        }
        load_record(self.pages.store().kv(), address)
    }
}
