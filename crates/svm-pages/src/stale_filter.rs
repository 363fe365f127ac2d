//! An in-memory filter of the stale index by key (`Y` ‖ key, see the
//! overlay's module docs), so that a block's flush reads `Y` ‖ key only
//! for the keys it writes that may be indexed: written keys are new tree
//! and state records, nearly all never indexed, and a KV read each cost
//! about a tenth of a 1M-account block.
//!
//! A Bloom filter (`fastbloom`) over a 64-bit value taken from each key's
//! last 8 bytes, which are the last bytes of a BLAKE3 hash (a node hash
//! for an `N` key, a state root for an `S` key), so a contract cannot
//! aim many keys at one value. It answers "maybe" for every key in the
//! index: it is built from a scan of the `Y` keys, and a flush inserts
//! each key it indexes before its batch is written (a batch that never
//! lands only leaves a false "maybe"). Pruning deletes index entries but
//! not their bits; once more keys were inserted than the filter was sized
//! for, the next flush rebuilds it from the KV. Its memory is bounded by
//! [`MAX_CAPACITY`]: an index larger than that (an archive node that never
//! prunes) saturates the filter, which then answers "maybe" more often —
//! back toward one `Y` read per written key — instead of growing or being
//! rebuilt at every flush.

use fastbloom::BloomFilter;
use svm_kv::KvStore;

use crate::PagesError;
use crate::overlay::STALE_KEY_NS;

/// The smallest capacity a filter is built with, in keys (about 1.2 MB
/// of bits at a 1 % false-positive rate).
pub(crate) const MIN_CAPACITY: usize = 1 << 20;

/// The largest capacity a filter is built with, in keys (about 20 MB of
/// bits at a 1 % false-positive rate); past it the filter is never
/// rebuilt.
pub(crate) const MAX_CAPACITY: usize = 1 << 24;

/// The filter's false-positive rate at its capacity.
const FALSE_POSITIVES: f64 = 0.01;

/// The 64-bit value the filter hashes for `key` (an `N` or `S` key, at
/// least 8 bytes; a shorter one is taken whole).
fn value(key: &[u8]) -> u64 {
    let mut v = [0u8; 8];
    let tail = &key[key.len().saturating_sub(8)..];
    v[..tail.len()].copy_from_slice(tail);
    u64::from_le_bytes(v)
}

/// A filter that holds every key of the stale index by key.
///
/// # Invariants
/// - `may_hold(k)` is true for every `k` with a `Y` ‖ `k` key in the KV,
///   provided one store writes the KV's index (its flushes insert what
///   they index before writing it).
/// - `items` counts the keys inserted since the build (the scanned ones
///   included); past `capacity` the filter is `full` and is rebuilt,
///   unless `capacity` is the maximum (`rebuilds` false).
/// - `capacity` is at most the `max_capacity` it was built with.
pub(crate) struct StaleFilter {
    bloom: BloomFilter,
    items: usize,
    capacity: usize,
    /// Whether a full filter is rebuilt (its capacity is below the
    /// maximum).
    rebuilds: bool,
}

impl StaleFilter {
    /// A filter of the `Y` keys of `kv`, sized for four times their
    /// number, at least `min_capacity` and at most `max_capacity` keys.
    ///
    /// # Errors
    /// [`PagesError::Kv`] from the scan.
    pub(crate) fn build<K: KvStore>(
        kv: &K,
        min_capacity: usize,
        max_capacity: usize,
    ) -> Result<Self, PagesError> {
        let mut values = Vec::new();
        kv.visit_prefix(&[STALE_KEY_NS], &mut |k, _| {
            values.push(value(&k[1..]));
            true
        })?;
        let capacity = values
            .len()
            .saturating_mul(4)
            .max(min_capacity)
            .min(max_capacity)
            .max(1);
        let mut bloom = BloomFilter::with_false_pos(FALSE_POSITIVES)
            .seed(&0)
            .expected_items(capacity);
        for v in &values {
            bloom.insert_hash(*v);
        }
        Ok(Self {
            bloom,
            items: values.len(),
            capacity,
            rebuilds: capacity < max_capacity,
        })
    }

    /// Whether `key` may be in the index (`false`: it is not).
    pub(crate) fn may_hold(&self, key: &[u8]) -> bool {
        self.bloom.contains_hash(value(key))
    }

    /// Notes that `key` is being indexed.
    pub(crate) fn insert(&mut self, key: &[u8]) {
        self.bloom.insert_hash(value(key));
        self.items += 1;
    }

    /// Whether more keys were inserted than the filter was sized for,
    /// and it is below the maximum size (a filter at the maximum is kept,
    /// saturating).
    pub(crate) fn full(&self) -> bool {
        self.rebuilds && self.items > self.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use svm_kv::{MemKv, WriteBatch};

    fn y(key: &[u8]) -> Vec<u8> {
        let mut k = vec![STALE_KEY_NS];
        k.extend_from_slice(key);
        k
    }

    fn node_key(i: u32) -> Vec<u8> {
        let mut k = vec![b'N'];
        k.extend_from_slice(blake3::hash(&i.to_be_bytes()).as_bytes());
        k
    }

    #[test]
    fn holds_every_indexed_key_and_few_others() {
        let kv = MemKv::new();
        let mut batch = WriteBatch::new();
        for i in 0..2_000 {
            batch.put(y(&node_key(i)), 7u64.to_be_bytes().to_vec());
        }
        kv.write(batch).unwrap();
        let mut f = StaleFilter::build(&kv, 1_000, MAX_CAPACITY).unwrap();
        assert_eq!((f.items, f.capacity), (2_000, 8_000));
        for i in 0..2_000 {
            assert!(f.may_hold(&node_key(i)), "indexed key {i} missed");
        }
        for i in 2_000..8_000 {
            f.insert(&node_key(i));
        }
        assert!(!f.full());
        for i in 0..8_000 {
            assert!(f.may_hold(&node_key(i)), "inserted key {i} missed");
        }
        // At capacity about 1 % of other keys answer "maybe".
        let maybe = (8_000..108_000)
            .filter(|i| f.may_hold(&node_key(*i)))
            .count();
        assert!(maybe < 2_000, "{maybe} false positives in 100 000");
        f.insert(&node_key(8_000));
        assert!(f.full());
    }

    /// An index past the maximum: the filter stays at the maximum size,
    /// still holds every key, and is never rebuilt.
    #[test]
    fn memory_stops_at_the_maximum() {
        let kv = MemKv::new();
        let mut batch = WriteBatch::new();
        for i in 0..3_000 {
            batch.put(y(&node_key(i)), 7u64.to_be_bytes().to_vec());
        }
        kv.write(batch).unwrap();
        let mut f = StaleFilter::build(&kv, 100, 1_000).unwrap();
        assert_eq!(f.capacity, 1_000);
        for i in 3_000..6_000 {
            f.insert(&node_key(i));
        }
        assert!(!f.full());
        assert!((0..6_000).all(|i| f.may_hold(&node_key(i))));
    }

    #[test]
    fn an_empty_index_answers_no() {
        let f = StaleFilter::build(&MemKv::new(), MIN_CAPACITY, MAX_CAPACITY).unwrap();
        assert_eq!(f.capacity, MIN_CAPACITY);
        assert!((0..10_000).all(|i| !f.may_hold(&node_key(i))));
    }
}
