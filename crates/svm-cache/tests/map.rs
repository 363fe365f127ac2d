//! Property tests of the page map ([`svm_cache::map`]) against a
//! `BTreeMap`, with commits and reopening in between, plus its limits and
//! the pages a lookup touches.

use std::collections::BTreeMap;
use std::sync::Arc;

use proptest::prelude::*;
use svm_cache::map::{MAP_REGION_START, MapError, PageMap};
use svm_cache::{CacheConfig, PageCache};
use svm_kv::MemKv;
use svm_pages::{PageStore, empty_root};
use svm_types::Address;

const CONTRACT: Address = Address([7; 20]);

fn cache() -> PageCache<PageStore<Arc<MemKv>>> {
    let store = PageStore::new(Arc::new(MemKv::new()));
    PageCache::open(store, CONTRACT, empty_root(), CacheConfig::default()).unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u16, u8),
    Remove(u16),
    Get(u16),
    Commit,
}

/// Keys are 4 bytes with few distinct values, so that inserts hit
/// existing keys and removes find them; many inserts split nodes.
fn key(k: u16) -> [u8; 4] {
    u32::from(k).wrapping_mul(2_654_435_761).to_be_bytes()
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u16..3000, any::<u8>()).prop_map(|(k, v)| Op::Insert(k, v)),
        2 => (0u16..3000).prop_map(Op::Remove),
        3 => (0u16..3000).prop_map(Op::Get),
        1 => Just(Op::Commit),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn the_map_behaves_like_a_btreemap(ops in prop::collection::vec(op(), 1..1500)) {
        let mut c = cache();
        let mut model: BTreeMap<[u8; 4], [u8; 100]> = BTreeMap::new();
        for op in ops {
            let mut m = PageMap::open(&mut c, 3, 4, 100).unwrap();
            match op {
                Op::Insert(k, v) => {
                    let replaced = m.insert(&key(k), &[v; 100]).unwrap();
                    prop_assert_eq!(replaced, model.insert(key(k), [v; 100]).is_some());
                }
                Op::Remove(k) => {
                    prop_assert_eq!(m.remove(&key(k)).unwrap(), model.remove(&key(k)).is_some());
                }
                Op::Get(k) => {
                    prop_assert_eq!(
                        m.get(&key(k)).unwrap(),
                        model.get(&key(k)).map(|v| v.to_vec())
                    );
                }
                Op::Commit => {
                    c.commit().unwrap();
                }
            }
        }
        let mut m = PageMap::open(&mut c, 3, 4, 100).unwrap();
        prop_assert_eq!(m.len().unwrap(), model.len() as u64);
        for (k, v) in &model {
            prop_assert_eq!(m.get(k).unwrap(), Some(v.to_vec()));
        }
    }
}

#[test]
fn limits_are_typed_errors() {
    let mut c = cache();
    assert!(matches!(
        PageMap::open(&mut c, MAP_REGION_START, 4, 4),
        Err(MapError::HeaderInRegion(_))
    ));
    assert!(matches!(
        PageMap::open(&mut c, 1, 0, 4),
        Err(MapError::BadLength { .. })
    ));
    assert!(matches!(
        PageMap::open(&mut c, 1, 65, 4),
        Err(MapError::BadLength { .. })
    ));
    assert!(matches!(
        PageMap::open(&mut c, 1, 4, 257),
        Err(MapError::BadLength { .. })
    ));
    let mut m = PageMap::open(&mut c, 1, 4, 8).unwrap();
    m.insert(b"abcd", &[1; 8]).unwrap();
    assert!(matches!(
        m.insert(b"abc", &[1; 8]),
        Err(MapError::LengthMismatch { .. })
    ));
    assert!(matches!(
        m.get(b"abcde"),
        Err(MapError::LengthMismatch { .. })
    ));
    // The same header with other lengths.
    assert_eq!(
        PageMap::open(&mut c, 1, 8, 8).err(),
        Some(MapError::LengthMismatch { key: 4, value: 8 })
    );
    // A page that holds something else is no map.
    c.write(svm_pages::PageIndex(2), 0, b"junk").unwrap();
    assert_eq!(
        PageMap::open(&mut c, 2, 4, 8).err(),
        Some(MapError::Corrupt(2))
    );
}

/// 50,000 entries of 20-byte keys and 8-byte values (the token's
/// balances): three levels, so a lookup reads 3 node pages plus the header.
#[test]
fn a_lookup_reads_one_node_per_level() {
    let mut c = cache();
    let mut m = PageMap::open(&mut c, 1, 20, 8).unwrap();
    let k = |i: u32| *blake3::hash(&i.to_be_bytes()).as_bytes();
    for i in 0..50_000u32 {
        m.insert(&k(i)[..20], &u64::from(i).to_be_bytes()).unwrap();
    }
    assert_eq!(m.len().unwrap(), 50_000);
    m.stats = Default::default();
    assert_eq!(
        m.get(&k(777)[..20]).unwrap(),
        Some(777u64.to_be_bytes().to_vec())
    );
    assert_eq!(m.stats.nodes_read, 3);
    assert_eq!(m.get(&[0xff; 20]).unwrap(), None);
}

/// Writes a map header (4-byte keys, 8-byte values) with `count` entries
/// and root `root` into page 1, as a contract's `storage_write_*` may.
fn forged_header(c: &mut PageCache<PageStore<Arc<MemKv>>>, count: u64, root: u32) {
    let mut h = [0u8; 20];
    h[..4].copy_from_slice(b"MAP1");
    h[4] = 4;
    h[5..7].copy_from_slice(&8u16.to_be_bytes());
    h[8..16].copy_from_slice(&count.to_be_bytes());
    h[16..20].copy_from_slice(&root.to_be_bytes());
    c.write(svm_pages::PageIndex(1), 0, &h).unwrap();
}

/// An inner node with no keys whose only child is `child`.
fn forged_inner(c: &mut PageCache<PageStore<Arc<MemKv>>>, page: u32, child: u32) {
    let mut n = [0u8; 12];
    n[0] = 2;
    n[8..12].copy_from_slice(&child.to_be_bytes());
    c.write(svm_pages::PageIndex(page), 0, &n).unwrap();
}

fn corrupt<T: std::fmt::Debug>(r: Result<T, MapError>) {
    assert!(matches!(r, Err(MapError::Corrupt(_))), "{r:?}");
}

#[test]
fn forged_map_pages_are_corrupt_not_a_hang_or_a_panic() {
    let r = MAP_REGION_START;
    // A node whose child is itself: a cycle. Every operation stops at the
    // depth limit.
    let mut c = cache();
    forged_header(&mut c, 1, r);
    forged_inner(&mut c, r, r);
    let mut m = PageMap::open(&mut c, 1, 4, 8).unwrap();
    corrupt(m.get(b"abcd"));
    corrupt(m.insert(b"abcd", &[1; 8]));
    corrupt(m.remove(b"abcd"));
    assert!(m.stats.nodes_read <= 3 * (svm_cache::map::MAX_DEPTH as u64 + 2));

    // A root or child outside the map region (a contract's own variable
    // page, or the allocator page).
    for bad in [0u32, 5, u32::MAX] {
        let mut c = cache();
        forged_header(&mut c, 1, r);
        forged_inner(&mut c, r, bad);
        let mut m = PageMap::open(&mut c, 1, 4, 8).unwrap();
        corrupt(m.get(b"abcd"));
        corrupt(m.insert(b"abcd", &[1; 8]));
        if bad != 0 {
            // (A root of 0 is an empty map.)
            let mut c = cache();
            forged_header(&mut c, 1, bad);
            let mut m = PageMap::open(&mut c, 1, 4, 8).unwrap();
            corrupt(m.get(b"abcd"));
        }
    }

    // An entry count at u64::MAX cannot grow.
    let mut c = cache();
    {
        let mut m = PageMap::open(&mut c, 1, 4, 8).unwrap();
        m.insert(b"aaaa", &[1; 8]).unwrap();
    }
    let root = u32::from_be_bytes(
        c.page(svm_pages::PageIndex(1)).unwrap()[16..20]
            .try_into()
            .unwrap(),
    );
    forged_header(&mut c, u64::MAX, root);
    let mut m = PageMap::open(&mut c, 1, 4, 8).unwrap();
    corrupt(m.insert(b"bbbb", &[2; 8]));
    assert_eq!(
        m.insert(b"aaaa", &[3; 8]),
        Ok(true),
        "an update adds nothing"
    );
}
