//! Property tests of the page-slice cache against a simple model, a
//! `BTreeMap<u32, [u8; 4096]>`, over random runs of slice writes and reads,
//! checkpoints, rollbacks, releases, commits and discards, on every
//! backend at once.

use std::collections::BTreeMap;

use proptest::prelude::*;
use svm_cache::{CacheConfig, Checkpoint, PageCache, PageSlice, PageSliceCache};
use svm_kv::{KvStore, LevelKv, MemKv, RocksKv};
use svm_pages::{PAGE_SIZE, PageIndex, PageStore, State, empty_root};
use svm_types::Address;

type Model = BTreeMap<u32, Box<[u8; PAGE_SIZE]>>;

#[derive(Debug, Clone)]
enum Op {
    Write {
        page: u32,
        offset: u32,
        data: Vec<u8>,
    },
    Read {
        page: u32,
        offset: u32,
        len: u32,
    },
    Checkpoint,
    Rollback(usize),
    Release(usize),
    Commit,
    Discard,
}

const PAGES: [u32; 5] = [0, 1, 2, 77, u32::MAX];

fn op() -> impl Strategy<Value = Op> {
    let page = prop::sample::select(PAGES.to_vec());
    prop_oneof![
        6 => (page.clone(), 0u32..4096, prop::collection::vec(
                prop_oneof![Just(0u8), any::<u8>()], 0..40))
            .prop_map(|(page, offset, data)| {
                let offset = offset.min(4096 - data.len() as u32);
                Op::Write { page, offset, data }
            }),
        3 => (page, 0u32..4096, 0u32..64).prop_map(|(page, offset, len)| {
                let offset = offset.min(4096 - len);
                Op::Read { page, offset, len }
            }),
        1 => Just(Op::Checkpoint),
        1 => (0usize..3).prop_map(Op::Rollback),
        1 => (0usize..3).prop_map(Op::Release),
        1 => Just(Op::Commit),
        1 => Just(Op::Discard),
    ]
}

fn model_read(m: &Model, page: u32, offset: u32, len: u32) -> Vec<u8> {
    match m.get(&page) {
        Some(p) => p[offset as usize..(offset + len) as usize].to_vec(),
        None => vec![0; len as usize],
    }
}

fn normalize(m: &mut Model) {
    m.retain(|_, p| p.iter().any(|&b| b != 0));
}

struct Harness {
    name: &'static str,
    store: PageStore<Box<dyn KvStore>>,
    cache: PageSliceCache<PageStore<Box<dyn KvStore>>>,
    checkpoints: Vec<Checkpoint>,
}

const ADDR: Address = Address([0x5a; 20]);

fn check_state(store: &PageStore<Box<dyn KvStore>>, root: &State, model: &Model) {
    // A fresh cache on a fresh open of the root reads the model's content.
    let mut fresh = PageSliceCache::new(
        PageCache::open(store.clone(), ADDR, *root, CacheConfig { lru_pages: 1 }).unwrap(),
    );
    for page in PAGES {
        let s = PageSlice::new(PageIndex(page), 0, PAGE_SIZE as u32).unwrap();
        assert_eq!(
            fresh.read(&s).unwrap(),
            model_read(model, page, 0, PAGE_SIZE as u32),
            "page {page} at {root}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cache_matches_model_on_every_backend(ops in prop::collection::vec(op(), 1..60)) {
        let dir = tempfile::tempdir().unwrap();
        let kvs: Vec<(&'static str, Box<dyn KvStore>)> = vec![
            ("memkv", Box::new(MemKv::new())),
            ("rocksdb", Box::new(RocksKv::open(dir.path().join("rocks")).unwrap())),
            ("leveldb", Box::new(LevelKv::open(dir.path().join("level")).unwrap())),
        ];
        let mut hs: Vec<Harness> = kvs
            .into_iter()
            .map(|(name, kv)| {
                let store = PageStore::new(kv);
                let cache = PageSliceCache::new(
                    PageCache::open(store.clone(), ADDR, empty_root(), CacheConfig { lru_pages: 2 })
                        .unwrap(),
                );
                Harness { name, store, cache, checkpoints: Vec::new() }
            })
            .collect();

        let mut committed: Model = BTreeMap::new();
        let mut working = committed.clone();
        let mut snapshots: Vec<Model> = Vec::new();
        let mut history: Vec<(State, Model)> = vec![(empty_root(), BTreeMap::new())];

        for op in &ops {
            match op {
                Op::Write { page, offset, data } => {
                    let p = working.entry(*page).or_insert_with(|| Box::new([0; PAGE_SIZE]));
                    p[*offset as usize..*offset as usize + data.len()].copy_from_slice(data);
                    let s = PageSlice::new(PageIndex(*page), *offset, data.len() as u32).unwrap();
                    for h in &mut hs {
                        h.cache.write(&s, data).unwrap();
                    }
                }
                Op::Read { page, offset, len } => {
                    let want = model_read(&working, *page, *offset, *len);
                    let s = PageSlice::new(PageIndex(*page), *offset, *len).unwrap();
                    for h in &mut hs {
                        prop_assert_eq!(&h.cache.read(&s).unwrap(), &want, "{}", h.name);
                    }
                }
                Op::Checkpoint => {
                    snapshots.push(working.clone());
                    for h in &mut hs {
                        let cp = h.cache.cache_mut().checkpoint();
                        h.checkpoints.push(cp);
                    }
                }
                Op::Rollback(back) | Op::Release(back) => {
                    if *back >= snapshots.len() {
                        continue;
                    }
                    let at = snapshots.len() - 1 - back;
                    let snap = snapshots[at].clone();
                    snapshots.truncate(at);
                    if matches!(op, Op::Rollback(_)) {
                        working = snap;
                    }
                    for h in &mut hs {
                        let cp = h.checkpoints[at];
                        h.checkpoints.truncate(at);
                        if matches!(op, Op::Rollback(_)) {
                            h.cache.cache_mut().rollback_to(cp).unwrap();
                        } else {
                            h.cache.cache_mut().release(cp).unwrap();
                        }
                    }
                }
                Op::Commit => {
                    normalize(&mut working);
                    committed = working.clone();
                    snapshots.clear();
                    let roots: Vec<State> = hs
                        .iter_mut()
                        .map(|h| {
                            h.checkpoints.clear();
                            h.cache.commit().unwrap()
                        })
                        .collect();
                    prop_assert!(roots.iter().all(|r| *r == roots[0]), "roots differ: {:?}", roots);
                    for h in &hs {
                        check_state(&h.store, &roots[0], &committed);
                    }
                    history.push((roots[0], committed.clone()));
                }
                Op::Discard => {
                    working = committed.clone();
                    snapshots.clear();
                    let before = history.last().unwrap().0;
                    for h in &mut hs {
                        h.checkpoints.clear();
                        h.cache.discard();
                        prop_assert_eq!(h.cache.cache().state(), &before, "{}", h.name);
                    }
                }
            }
        }
        // Every older root still opens and reads as it did.
        for (root, model) in &history {
            for h in &hs {
                check_state(&h.store, root, model);
            }
        }
    }
}
