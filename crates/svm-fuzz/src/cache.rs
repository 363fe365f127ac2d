//! `page_cache`: the page-slice cache against a model, as in
//! `crates/svm-cache/tests/model.rs`, on `MemKv`, with stale checkpoints,
//! out-of-page slices and resets to older states on top.

use std::collections::BTreeMap;

use arbitrary::{Result, Unstructured};
use svm_cache::{CacheConfig, CacheError, Checkpoint, PageCache, PageSlice, PageSliceCache};
use svm_kv::MemKv;
use svm_pages::{PAGE_SIZE, PageIndex, PageStore, empty_root};
use svm_types::{Address, State};

type Model = BTreeMap<u32, Box<[u8; PAGE_SIZE]>>;
type Cache = PageSliceCache<PageStore<MemKv>>;

const ADDR: Address = Address([0x5a; 20]);
const PAGES: [u32; 5] = [0, 1, 2, 77, u32::MAX];

#[derive(Debug)]
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
    OutOfPage {
        page: u32,
        offset: u32,
        len: u32,
    },
    Checkpoint,
    Rollback(usize),
    Release(usize),
    Stale(bool),
    Commit,
    Discard,
    Reset(usize),
}

fn op(u: &mut Unstructured) -> Result<Op> {
    let page = *u.choose(&PAGES)?;
    Ok(match u.int_in_range(0..=15u8)? {
        0..=5 => {
            let n = u.int_in_range(0..=40usize)?;
            let mut data = Vec::with_capacity(n);
            for _ in 0..n {
                data.push(if u.ratio(1, 3)? { 0 } else { u.arbitrary()? });
            }
            let offset = u
                .int_in_range(0..=PAGE_SIZE as u32)?
                .min((PAGE_SIZE - n) as u32);
            Op::Write { page, offset, data }
        }
        6..=8 => {
            let len = u.int_in_range(0..=64u32)?;
            let offset = u
                .int_in_range(0..=PAGE_SIZE as u32)?
                .min(PAGE_SIZE as u32 - len);
            Op::Read { page, offset, len }
        }
        9 => {
            let len = u.int_in_range(1..=64u32)?;
            let offset = u.int_in_range(PAGE_SIZE as u32 - len + 1..=u32::MAX)?;
            Op::OutOfPage { page, offset, len }
        }
        10 => Op::Checkpoint,
        11 => Op::Rollback(u.int_in_range(0..=2)?),
        12 => Op::Release(u.int_in_range(0..=2)?),
        13 => match u.int_in_range(0..=2u8)? {
            0 => Op::Stale(u.arbitrary()?),
            1 => Op::Commit,
            _ => Op::Discard,
        },
        14 => Op::Commit,
        _ => Op::Reset(u.arbitrary()?),
    })
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

fn open(store: &PageStore<MemKv>, root: State, lru_pages: usize) -> Cache {
    PageSliceCache::new(
        PageCache::open(store.clone(), ADDR, root, CacheConfig { lru_pages })
            .expect("a committed root opens"),
    )
}

/// The root of `model`'s content, committed at once on a fresh store: the
/// root depends only on the content, never on the history.
fn fresh_root(model: &Model) -> State {
    let mut c = open(&PageStore::new(MemKv::new()), empty_root(), 1);
    for (page, content) in model {
        let s = PageSlice::new(PageIndex(*page), 0, PAGE_SIZE as u32).expect("a whole page");
        c.write(&s, &content[..]).expect("MemKv");
    }
    c.commit().expect("MemKv commits")
}

/// Every page of `root` as a fresh cache reads it equals `model`.
fn check_state(store: &PageStore<MemKv>, root: &State, model: &Model) {
    let mut fresh = open(store, *root, 1);
    for page in PAGES {
        let s = PageSlice::new(PageIndex(page), 0, PAGE_SIZE as u32).expect("a whole page");
        assert!(
            fresh.read(&s).expect("MemKv") == model_read(model, page, 0, PAGE_SIZE as u32),
            "page {page} at {root}"
        );
    }
}

/// Pages whose content differs between two models.
fn differing(a: &Model, b: &Model) -> usize {
    let zero = [0u8; PAGE_SIZE];
    PAGES
        .iter()
        .filter(|p| {
            let x = a.get(p).map_or(&zero, |b| &**b);
            let y = b.get(p).map_or(&zero, |b| &**b);
            x != y
        })
        .count()
}

/// Runs random operations on a page-slice cache and a model side by side.
/// Properties: every read equals the model; out-of-page slices and stale
/// or closed checkpoints are typed errors that change nothing; dirty pages
/// lie between the pages that differ from the base and those touched; a
/// run loads each page at most once; every commit's root equals the root
/// of the same content committed at once on a fresh store, and every root
/// ever committed still reads as it did; a discard keeps the state.
pub fn page_cache(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(lru_pages) = u.int_in_range(1..=3usize) else {
        return;
    };
    let store = PageStore::new(MemKv::new());
    let mut cache = open(&store, empty_root(), lru_pages);
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    let mut stale: Vec<Checkpoint> = Vec::new();
    let mut committed: Model = BTreeMap::new();
    let mut working = committed.clone();
    let mut snapshots: Vec<Model> = Vec::new();
    let mut history: Vec<(State, Model)> = vec![(empty_root(), BTreeMap::new())];
    let mut run_loads_from = 0u64;

    let end_run = |cache: &Cache,
                   checkpoints: &mut Vec<Checkpoint>,
                   stale: &mut Vec<Checkpoint>,
                   from: u64| {
        let loads = cache.cache().stats().pages_loaded - from;
        assert!(
            loads <= cache.cache().touched_pages() as u64,
            "{loads} loads for {} pages touched",
            cache.cache().touched_pages()
        );
        stale.append(checkpoints);
    };

    // `Unstructured` keeps answering (with minimums) once it is empty.
    while !u.is_empty() {
        let Ok(op) = op(&mut u) else {
            break;
        };
        match op {
            Op::Write { page, offset, data } => {
                let p = working
                    .entry(page)
                    .or_insert_with(|| Box::new([0; PAGE_SIZE]));
                p[offset as usize..offset as usize + data.len()].copy_from_slice(&data);
                let s = PageSlice::new(PageIndex(page), offset, data.len() as u32)
                    .expect("inside the page");
                cache.write(&s, &data).expect("MemKv");
            }
            Op::Read { page, offset, len } => {
                let s = PageSlice::new(PageIndex(page), offset, len).expect("inside the page");
                assert_eq!(
                    cache.read(&s).expect("MemKv"),
                    model_read(&working, page, offset, len),
                    "read {len} bytes at {offset} of page {page}"
                );
            }
            Op::OutOfPage { page, offset, len } => {
                assert!(matches!(
                    PageSlice::new(PageIndex(page), offset, len),
                    Err(CacheError::SliceOutOfPage { .. })
                ));
                let c = cache.cache_mut();
                let dirty = c.dirty_pages();
                assert!(matches!(
                    c.write(PageIndex(page), offset as usize, &vec![1; len as usize]),
                    Err(CacheError::SliceOutOfPage { .. })
                ));
                let mut buf = vec![0; len as usize];
                assert!(matches!(
                    c.read_into(PageIndex(page), offset as usize, &mut buf),
                    Err(CacheError::SliceOutOfPage { .. })
                ));
                assert_eq!(c.dirty_pages(), dirty);
            }
            Op::Checkpoint => {
                snapshots.push(working.clone());
                checkpoints.push(cache.cache_mut().checkpoint());
            }
            Op::Rollback(back) | Op::Release(back) => {
                let rollback = matches!(op, Op::Rollback(_));
                if back >= snapshots.len() {
                    continue;
                }
                let at = snapshots.len() - 1 - back;
                let snap = snapshots[at].clone();
                snapshots.truncate(at);
                if rollback {
                    working = snap;
                }
                let cp = checkpoints[at];
                checkpoints.truncate(at);
                let c = cache.cache_mut();
                if rollback {
                    c.rollback_to(cp).expect("an open checkpoint");
                } else {
                    c.release(cp).expect("an open checkpoint");
                }
            }
            Op::Stale(rollback) => {
                let Some(cp) = stale.last().copied() else {
                    continue;
                };
                let c = cache.cache_mut();
                let dirty = c.dirty_pages();
                let r = if rollback {
                    c.rollback_to(cp)
                } else {
                    c.release(cp)
                };
                // Only checkpoints of ended runs are kept as stale (a closed
                // one of this run may alias a newer open one).
                assert!(matches!(r, Err(CacheError::UnknownCheckpoint(_))), "{r:?}");
                assert_eq!(c.dirty_pages(), dirty);
            }
            Op::Commit => {
                normalize(&mut working);
                let dirty = cache.cache().dirty_pages();
                assert!(dirty >= differing(&working, &committed), "dirty pages");
                assert!(dirty <= cache.cache().touched_pages());
                end_run(&cache, &mut checkpoints, &mut stale, run_loads_from);
                let root = cache.commit().expect("MemKv commits");
                run_loads_from = cache.cache().stats().pages_loaded;
                committed = working.clone();
                snapshots.clear();
                assert_eq!(root, fresh_root(&committed), "root of the same content");
                check_state(&store, &root, &committed);
                history.push((root, committed.clone()));
            }
            Op::Discard => {
                end_run(&cache, &mut checkpoints, &mut stale, run_loads_from);
                let before = *cache.cache().state();
                cache.discard();
                run_loads_from = cache.cache().stats().pages_loaded;
                working = committed.clone();
                snapshots.clear();
                assert_eq!(cache.cache().state(), &before);
            }
            Op::Reset(i) => {
                let (root, model) = history[i % history.len()].clone();
                end_run(&cache, &mut checkpoints, &mut stale, run_loads_from);
                cache.cache_mut().reset_to(root).expect("a committed root");
                run_loads_from = cache.cache().stats().pages_loaded;
                committed = model;
                working = committed.clone();
                snapshots.clear();
                assert_eq!(cache.cache().state(), &root);
            }
        }
    }
    for (root, model) in &history {
        check_state(&store, root, model);
    }
}
