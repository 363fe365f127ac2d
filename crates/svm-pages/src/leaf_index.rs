//! Where the pages of each contract's newest state are: page index → page
//! hash, so that a read at that state skips the walk down the tree.
//!
//! The tree maps (address, root, page index) to a page hash, and that map
//! is a function: a root fixes every page. So the index is correct
//! whatever the order of reads and commits, as long as it records only
//! what a walk found or what a commit from the indexed root to a new root
//! changed. One root per contract is indexed: the one the last commit
//! made (the contract's newest state, on a node); reads at other states
//! walk the tree as before.
//!
//! # Invariants
//! - For each contract, every entry of `leaves` is the page hash of that
//!   page in `root` (`EMPTY[0]` for a zero page).
//! - `entries` is the number of entries over all contracts, at most
//!   `max_entries` (past it the index starts over empty).

use foldhash::{HashMap, HashMapExt};
use parking_lot::Mutex;

use crate::hash::Hash;
use crate::{Address, State};

/// The memory one entry of the index takes, about, in bytes (the `u32`
/// index, the 32-byte page hash and the hash map's bookkeeping).
pub const LEAF_INDEX_ENTRY_BYTES: usize = 48;

struct Contract {
    root: State,
    leaves: HashMap<u32, Hash>,
}

#[derive(Default)]
struct Inner {
    contracts: HashMap<Address, Contract>,
    entries: usize,
}

/// The leaf index of a [`crate::PageStore`] (module docs).
pub(crate) struct LeafIndex {
    inner: Mutex<Inner>,
    max_entries: usize,
}

impl LeafIndex {
    /// An empty index of at most `max_entries` entries (`0`: off).
    pub(crate) fn new(max_entries: usize) -> Self {
        Self {
            inner: Mutex::new(Inner::default()),
            max_entries,
        }
    }

    /// The page hash of page `index` of `root`, if indexed.
    pub(crate) fn get(&self, address: &Address, root: &State, index: u32) -> Option<Hash> {
        if self.max_entries == 0 {
            return None;
        }
        let inner = self.inner.lock();
        let c = inner.contracts.get(address)?;
        if c.root != *root {
            return None;
        }
        c.leaves.get(&index).copied()
    }

    /// Records what a walk of `root` found for page `index`, if `root` is
    /// the contract's indexed root (or the contract has none yet).
    pub(crate) fn found(&self, address: &Address, root: &State, index: u32, leaf: Hash) {
        if self.max_entries == 0 {
            return;
        }
        let mut inner = self.inner.lock();
        let known = match inner.contracts.get(address) {
            Some(c) if c.root != *root => return,
            Some(c) => c.leaves.contains_key(&index),
            None => false,
        };
        if known {
            return;
        }
        if inner.entries >= self.max_entries {
            inner.contracts.clear();
            inner.entries = 0;
        }
        inner
            .contracts
            .entry(*address)
            .or_insert_with(|| Contract {
                root: *root,
                leaves: HashMap::new(),
            })
            .leaves
            .insert(index, leaf);
        inner.entries += 1;
    }

    /// Records a commit of `address` from `base` to `root` that set the
    /// pages of `updates` (page index, new page hash): the indexed entries
    /// carry over when `base` is the indexed root, else the contract's
    /// index starts over at `root`.
    pub(crate) fn committed(
        &self,
        address: &Address,
        base: &State,
        root: &State,
        updates: &[(u32, Hash)],
    ) {
        if self.max_entries == 0 || base == root {
            return;
        }
        let mut inner = self.inner.lock();
        let Inner { contracts, entries } = &mut *inner;
        let c = contracts.entry(*address).or_insert_with(|| Contract {
            root: *base,
            leaves: HashMap::new(),
        });
        if c.root != *base {
            *entries -= c.leaves.len();
            c.leaves.clear();
        }
        c.root = *root;
        for (index, leaf) in updates {
            if c.leaves.insert(*index, *leaf).is_none() {
                *entries += 1;
            }
        }
        if *entries > self.max_entries {
            contracts.clear();
            *entries = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: Address = Address([1; 20]);
    const B: Address = Address([2; 20]);

    #[test]
    fn only_the_indexed_root_answers() {
        let ix = LeafIndex::new(100);
        let (r0, r1, r2) = (State([0; 32]), State([1; 32]), State([2; 32]));
        ix.found(&A, &r0, 5, [5; 32]);
        assert_eq!(ix.get(&A, &r0, 5), Some([5; 32]));
        assert_eq!(ix.get(&A, &r1, 5), None, "another root");
        assert_eq!(ix.get(&B, &r0, 5), None, "another contract");
        // A walk of another root is not recorded.
        ix.found(&A, &r1, 6, [6; 32]);
        assert_eq!(ix.get(&A, &r1, 6), None);
        // A commit from the indexed root carries the entries over.
        ix.committed(&A, &r0, &r1, &[(7, [7; 32])]);
        assert_eq!(ix.get(&A, &r1, 5), Some([5; 32]));
        assert_eq!(ix.get(&A, &r1, 7), Some([7; 32]));
        assert_eq!(ix.get(&A, &r0, 5), None, "the old root is forgotten");
        // A commit from another root starts over.
        ix.committed(&A, &r0, &r2, &[(8, [8; 32])]);
        assert_eq!(ix.get(&A, &r2, 5), None);
        assert_eq!(ix.get(&A, &r2, 8), Some([8; 32]));
    }

    #[test]
    fn entries_stay_bounded() {
        let ix = LeafIndex::new(10);
        let r = State([0; 32]);
        for i in 0..100u32 {
            ix.found(&A, &r, i, [1; 32]);
            assert!(ix.inner.lock().entries <= 10);
        }
        // A full index does not start over for what it already holds.
        let full = ix.inner.lock().entries;
        ix.found(&A, &r, 99, [1; 32]);
        assert_eq!(ix.inner.lock().entries, full);
        assert_eq!(ix.get(&A, &r, 99), Some([1; 32]));
        let updates: Vec<(u32, Hash)> = (0..50).map(|i| (i, [2; 32])).collect();
        ix.committed(&A, &r, &State([9; 32]), &updates);
        let inner = ix.inner.lock();
        assert!(inner.entries <= 10);
        let held: usize = inner.contracts.values().map(|c| c.leaves.len()).sum();
        assert_eq!(inner.entries, held);
    }

    #[test]
    fn off_when_empty() {
        let ix = LeafIndex::new(0);
        let r = State([0; 32]);
        ix.found(&A, &r, 1, [1; 32]);
        ix.committed(&A, &r, &State([1; 32]), &[(1, [1; 32])]);
        assert_eq!(ix.get(&A, &r, 1), None);
    }
}
