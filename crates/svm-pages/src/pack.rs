//! State records and their record packs: a commit's tree records stored
//! inside its state record instead of one KV key each.
//!
//! Most of a commit's cost on a KV such as RocksDB is per key (a memtable
//! insert of a random content-hash key), so a commit of one page of a
//! 1024-page contract that writes the page, 11 tree records and a state
//! record pays 13 inserts where a raw write pays one. A state record
//! therefore carries the **pack** of its state: the tree records its state
//! reaches that no `N` key holds. A commit writes its new records into the
//! new state's pack, together with the records of the base state's pack
//! that the new tree still reaches (the **carried** records); it writes
//! them as `N` keys instead (a **checkpoint**, leaving the pack empty) when
//! more than [`PACK_MAX_CARRIED`] records would be carried or the pack
//! would exceed [`PACK_MAX_RECORDS`] records. So a contract whose commits
//! keep rewriting the same pages writes two keys per commit (its pages and
//! its state record), and one whose commits spread over many pages
//! reaches a checkpoint every few commits, writing each record that is
//! still reached then once.
//!
//! # State record encoding
//!
//! Under `S` ‖ address (20) ‖ root (32):
//!
//! | bytes | field |
//! |---|---|
//! | 32 | parent root: the state the commit started from |
//! | 4 | non-zero page count (`u32` BE) |
//! | per packed record, in the order of a depth-first walk from the root (a record before its children, left before right): 32 | the record's node hash |
//! | 1 | the record's length: 64 (branch) or 37 (extension) |
//! | 64 or 37 | the record (see [`crate::tree`]'s record encoding) |
//!
//! A state record with no pack is 36 bytes; one with a full pack at most
//! 36 + 1024 · 97 = 99 364 bytes.
//!
//! # Invariant
//! Every record a stored state reaches is in that state's pack or under an
//! `N` key (by induction: a commit packs or writes every record its new
//! tree reaches that came from the base's pack or is new, and the rest
//! were `N` keys for the base). Since a state's pack depends on nothing
//! but its own state record, pruning a state record never breaks another
//! state.

use std::cell::OnceCell;

use foldhash::HashMap;
use svm_kv::KvStore;

use crate::hash::{Hash, TREE_DEPTH, empty_hashes};
use crate::tree::{NodeSource, Stored, Visited};
use crate::{Address, PageStore, PagesError, State, StateInfo};

/// The most records a commit carries from its base state's pack into the
/// new state's pack; beyond it the commit is a checkpoint (module docs).
/// 64 records are at most 6 208 bytes of state record.
pub const PACK_MAX_CARRIED: usize = 64;

/// The most records a pack holds (new and carried); beyond it the commit
/// is a checkpoint. 1024 records are at most 99 328 bytes.
pub const PACK_MAX_RECORDS: usize = 1024;

/// The size of a state record's fixed part, in bytes.
pub(crate) const STATE_HEADER: usize = 36;

/// A decoded state record.
#[derive(Debug, Clone)]
pub(crate) struct StateRecord {
    pub(crate) info: StateInfo,
    pub(crate) pack: Vec<(Hash, Stored)>,
}

impl StateRecord {
    /// The encoding of the module docs.
    pub(crate) fn encode(parent: &State, page_count: u32, pack: &[(Hash, Stored)]) -> Vec<u8> {
        let size: usize = pack.iter().map(|(_, r)| 33 + r.encoded_len()).sum();
        let mut v = Vec::with_capacity(STATE_HEADER + size);
        v.extend_from_slice(parent.as_bytes());
        v.extend_from_slice(&page_count.to_be_bytes());
        for (hash, record) in pack {
            v.extend_from_slice(hash);
            v.push(record.encoded_len() as u8);
            v.extend_from_slice(&record.encode());
        }
        v
    }

    /// Decodes [`StateRecord::encode`]; `None` for any other shape.
    pub(crate) fn decode(v: &[u8]) -> Option<Self> {
        if v.len() < STATE_HEADER {
            return None;
        }
        let parent = State(v[..32].try_into().ok()?);
        let page_count = u32::from_be_bytes(v[32..36].try_into().ok()?);
        let mut pack = Vec::new();
        let mut rest = &v[STATE_HEADER..];
        while !rest.is_empty() {
            if rest.len() < 33 {
                return None;
            }
            let hash: Hash = rest[..32].try_into().ok()?;
            let len = rest[32] as usize;
            if len != 64 && len != 37 {
                return None;
            }
            let body = rest.get(33..33 + len)?;
            pack.push((hash, Stored::decode(body)?));
            rest = &rest[33 + len..];
        }
        Some(StateRecord {
            info: StateInfo { parent, page_count },
            pack,
        })
    }
}

/// The records of `records` that the tree under `root` reaches, in the
/// order of a depth-first walk (a record before its children, left before
/// right). The walk goes down only through records of `records`: below
/// any other record every record is an `N` key (the invariant).
///
/// # Errors
/// [`PagesError::Corrupt`] for records no stored tree holds: an extension
/// that does not point down, or a record reached twice.
pub(crate) fn live_records(
    records: &HashMap<Hash, Stored>,
    root: &Hash,
) -> Result<Vec<(Hash, Stored)>, PagesError> {
    let empty = empty_hashes();
    let mut live = Vec::new();
    let mut visited = Visited::default();
    let mut stack = vec![(*root, TREE_DEPTH)];
    while let Some((hash, h)) = stack.pop() {
        if h == 0 || hash == empty[h] {
            continue;
        }
        if let Some(record) = records.get(&hash) {
            visited.note(&hash)?;
            live.push((hash, *record));
            // Reversed, so that the left child is walked first.
            stack.extend(record.children(h)?.into_iter().rev());
        }
    }
    Ok(live)
}

/// Whether a commit whose new tree reaches the `live` records (new or from
/// the base's pack, `carried` of them from the pack) packs them into its
/// state record (`true`) or writes them as `N` keys (a checkpoint).
pub(crate) fn packs(live: usize, carried: usize) -> bool {
    carried <= PACK_MAX_CARRIED && live <= PACK_MAX_RECORDS
}

/// The records of one stored state, as [`NodeSource`]: the node cache,
/// then the state's pack (read once, on the first miss), then `N` keys.
pub(crate) struct StateSource<'a, K> {
    store: &'a PageStore<K>,
    address: Address,
    state: State,
    pack: OnceCell<HashMap<Hash, Stored>>,
}

impl<'a, K: KvStore> StateSource<'a, K> {
    /// The source of `state` of `address` in `store`.
    pub(crate) fn new(store: &'a PageStore<K>, address: &Address, state: &State) -> Self {
        Self {
            store,
            address: *address,
            state: *state,
            pack: OnceCell::new(),
        }
    }

    /// The source of a state whose pack the caller has read already.
    pub(crate) fn with_pack(
        store: &'a PageStore<K>,
        address: &Address,
        state: &State,
        pack: HashMap<Hash, Stored>,
    ) -> Self {
        Self {
            store,
            address: *address,
            state: *state,
            pack: OnceCell::from(pack),
        }
    }

    /// The state's pack (read from its state record on the first call).
    ///
    /// # Errors
    /// [`PagesError::Corrupt`] for a malformed state record,
    /// [`PagesError::Kv`].
    pub(crate) fn pack(&self) -> Result<&HashMap<Hash, Stored>, PagesError> {
        if let Some(p) = self.pack.get() {
            return Ok(p);
        }
        let pack = if self.state == crate::empty_root() {
            Vec::new()
        } else {
            match self.store.state_record(&self.address, &self.state) {
                Ok(r) => r.pack,
                // An unknown root has no pack; the walk reports it.
                Err(PagesError::UnknownState { .. }) => Vec::new(),
                Err(e) => return Err(e),
            }
        };
        self.store.cache_records(pack.iter().copied());
        Ok(self.pack.get_or_init(|| pack.into_iter().collect()))
    }
}

impl<K: KvStore> NodeSource for StateSource<'_, K> {
    fn record(&self, hash: &Hash, h: usize) -> Result<Option<Stored>, PagesError> {
        // A pack already read is small and hot: look there first. Else the
        // node cache, and only on a miss read the state record.
        let loaded = self.pack.get().is_some();
        if loaded && let Some(r) = self.pack()?.get(hash) {
            return Ok(Some(*r));
        }
        if let Some(r) = self.store.cached_record(hash) {
            return Ok(Some(r));
        }
        if !loaded && let Some(r) = self.pack()?.get(hash) {
            return Ok(Some(*r));
        }
        self.store.record(hash, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_records_round_trip_and_refuse_other_shapes() {
        let pack = vec![
            ([1u8; 32], Stored::Branch([2; 32], [3; 32])),
            ([4u8; 32], Stored::Ext(5, 77, [6; 32])),
        ];
        let v = StateRecord::encode(&State([9; 32]), 12, &pack);
        assert_eq!(v.len(), 36 + 97 + 70);
        let r = StateRecord::decode(&v).unwrap();
        assert_eq!(r.info.parent, State([9; 32]));
        assert_eq!(r.info.page_count, 12);
        assert_eq!(r.pack, pack);
        assert_eq!(StateRecord::decode(&v[..36]).unwrap().pack, vec![]);
        // Truncated, a bad length byte, a bad extension height.
        assert!(StateRecord::decode(&v[..35]).is_none());
        assert!(StateRecord::decode(&v[..v.len() - 1]).is_none());
        let mut bad = v.clone();
        bad[36 + 32] = 63;
        assert!(StateRecord::decode(&bad).is_none());
        let mut bad = v;
        bad[36 + 97 + 33] = 32;
        assert!(StateRecord::decode(&bad).is_none());
    }

    #[test]
    fn the_walk_keeps_reached_records_only_parents_first() {
        let empty = empty_hashes();
        let (a, b, c) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let mut m = HashMap::default();
        // Root extension down to branch `b` at height 5, whose children
        // are page hashes... at height 4 here, `c` (a branch) and empty.
        m.insert(a, Stored::Ext(5, 0, b));
        m.insert(b, Stored::Branch(c, empty[4]));
        m.insert(c, Stored::Branch([7; 32], [8; 32]));
        m.insert([9; 32], Stored::Branch([7; 32], [8; 32])); // unreached
        let live = live_records(&m, &a).unwrap();
        let hashes: Vec<Hash> = live.iter().map(|(h, _)| *h).collect();
        assert_eq!(hashes, vec![a, b, c]);
    }

    #[test]
    fn checkpoints_happen_beyond_either_bound() {
        assert!(packs(PACK_MAX_RECORDS, PACK_MAX_CARRIED));
        assert!(!packs(PACK_MAX_RECORDS + 1, 0));
        assert!(!packs(100, PACK_MAX_CARRIED + 1));
    }
}
