//! Unbounded key→value maps in the contract's own pages (`svm.map_*`).
//!
//! A map is a B+ tree whose nodes are pages (`docs/storage-format.md`,
//! "Maps over pages"): its header is a page you choose below
//! `0x8000_0000`; its nodes come from the region `0x8000_0000..0xFFFF_FFFE`
//! that all maps of a contract share. Keys are 1 to 64 bytes and values 0 to
//! 256 bytes, both of one fixed length per map. A get or set reads the
//! header and one node per level: 4 pages on a map of a million 20-byte
//! keys with 8-byte values (3 levels; measured in `docs/benchmarks.md`),
//! and pays per node read and per node written (`docs/gas.md`).

use crate::sys;

/// A map with `K`-byte keys and `V`-byte values whose header is page
/// `header`. `K` must be 1 to 64 and `V` 0 to 256; the first
/// [`Map::insert`] creates the map, and every later use must use the same
/// `K` and `V` (else the call fails with `HostCall`).
///
/// ```
/// use svm_sdk::map::Map;
/// /// Balances: 20-byte addresses to 8-byte amounts, header page 1.
/// const BALANCES: Map<20, 8> = Map::at(1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Map<const K: usize, const V: usize> {
    header: u32,
}

impl<const K: usize, const V: usize> Map<K, V> {
    /// The map whose header is page `header` (below `0x8000_0000`).
    pub const fn at(header: u32) -> Self {
        Self { header }
    }

    /// The value of `key`, or `None` (`svm.map_get`).
    pub fn get(&self, key: &[u8; K]) -> Option<[u8; V]> {
        let mut v = [0u8; V];
        // SAFETY: `key` readable for K bytes, `v` writable for V bytes.
        let found = unsafe {
            sys::map_get(
                self.header,
                sys::ptr(key.as_ptr()),
                K as u32,
                sys::ptr(v.as_mut_ptr()),
                V as u32,
            )
        };
        (found == 1).then_some(v)
    }

    /// Sets `key` to `value`; true when it replaced a value (`svm.map_set`).
    pub fn insert(&self, key: &[u8; K], value: &[u8; V]) -> bool {
        // SAFETY: both readable for their lengths.
        unsafe {
            sys::map_set(
                self.header,
                sys::ptr(key.as_ptr()),
                K as u32,
                sys::ptr(value.as_ptr()),
                V as u32,
            ) == 1
        }
    }

    /// Removes `key`; true when it was there (`svm.map_remove`).
    pub fn remove(&self, key: &[u8; K]) -> bool {
        // SAFETY: `key` readable for K bytes.
        unsafe { sys::map_remove(self.header, sys::ptr(key.as_ptr()), K as u32, V as u32) == 1 }
    }

    /// The number of entries (`svm.map_len`).
    pub fn len(&self) -> u64 {
        // SAFETY: no pointers.
        unsafe { sys::map_len(self.header) as u64 }
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<const K: usize> Map<K, 8> {
    /// The value of `key` as a big-endian `u64`, 0 when absent (the usual
    /// shape of a balance or allowance map).
    pub fn get_u64(&self, key: &[u8; K]) -> u64 {
        self.get(key).map_or(0, u64::from_be_bytes)
    }

    /// Sets `key` to `v`, big-endian; with `v` = 0 removes it instead, so
    /// zero entries take no space.
    pub fn set_u64(&self, key: &[u8; K], v: u64) {
        if v == 0 {
            self.remove(key);
        } else {
            self.insert(key, &v.to_be_bytes());
        }
    }
}
