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
