//! Block overlays and pruning, against direct commits and a model.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use proptest::prelude::*;
use svm_kv::{KvStore, MemKv, WriteBatch};
use svm_pages::{
    Address, PAGE_SIZE, Page, PageIndex, PageOverlay, PageStorage, PageStore, PagesError,
    StaleKeys, State, empty_root, verify_page,
};

fn page(byte: u8) -> Box<Page> {
    Box::new([byte; PAGE_SIZE])
}

/// One block: commits on each contract in turn (page index, byte; byte 0
/// frees the page), flushed with the prune of `version + 1 - keep`. Gives
/// the flush's (records packed, records written as `N` keys).
fn block(
    store: &PageStore<Arc<MemKv>>,
    latest: &mut BTreeMap<Address, State>,
    version: u64,
    keep: u64,
    writes: &[(Address, u32, u8)],
) -> (usize, usize) {
    let overlay = PageOverlay::new(store.clone());
    for (a, index, byte) in writes {
        let base = latest.get(a).copied().unwrap_or_else(empty_root);
        let p = page(*byte);
        let out = overlay
            .commit(a, &base, &[(PageIndex(*index), &*p)])
            .unwrap();
        latest.insert(*a, out.state);
    }
    let mut batch = WriteBatch::new();
    if version >= keep {
        batch.append(store.prune_version(version + 1 - keep).unwrap().batch);
    }
    let mode = if keep > 1 {
        StaleKeys::Index
    } else {
        StaleKeys::Delete
    };
    let flush = overlay.flush(version, mode).unwrap();
    let counts = (flush.records_packed, flush.records_written);
    batch.append(flush.batch.clone());
    store.kv().write(batch).unwrap();
    overlay.landed(flush);
    counts
}

fn keys(kv: &MemKv, ns: u8) -> BTreeSet<Vec<u8>> {
    kv.scan_prefix(&[ns])
        .unwrap()
        .into_iter()
        .map(|(k, _)| k.to_vec())
        .collect()
}

#[test]
fn a_block_writes_each_page_once_and_only_its_last_state() {
    let kv = Arc::new(MemKv::new());
    let store = PageStore::new(kv.clone());
    let direct = PageStore::new(Arc::new(MemKv::new()));
    let a = Address([1; 20]);
    let overlay = PageOverlay::new(store.clone());
    let mut state = empty_root();
    let mut direct_state = empty_root();
    let mut states = Vec::new();
    for n in 1..=1000u32 {
        let p = page((n % 251) as u8 + 1);
        let writes = [(PageIndex(n % 4), &*p)];
        state = overlay.commit(&a, &state, &writes).unwrap().state;
        direct_state = direct.commit(&a, &direct_state, &writes).unwrap().state;
        assert_eq!(state, direct_state, "same roots as direct commits");
        states.push(state);
    }
    assert!(kv.is_empty(), "nothing reaches the KV before the flush");
    let flush = overlay.flush(1, StaleKeys::Index).unwrap();
    assert_eq!(flush.pages_written, 4, "each page once");
    assert!(flush.records_written <= 4 + 3, "{}", flush.records_written);
    assert_eq!(flush.roots, vec![(a, state)]);
    kv.write(flush.batch.clone()).unwrap();
    overlay.landed(flush);
    let view = store.open(&a, &state).unwrap();
    for i in 0..4 {
        let content = view.read_page(PageIndex(i)).unwrap().unwrap();
        let proof = view.prove(PageIndex(i)).unwrap();
        assert!(verify_page(
            &state,
            &a,
            PageIndex(i),
            content[..].try_into().unwrap(),
            &proof
        ));
    }
    assert!(matches!(
        store.open(&a, &states[500]),
        Err(PagesError::UnknownState { .. })
    ));
    assert_eq!(store.state_info(&a, &state).unwrap().parent, empty_root());
}

#[test]
fn pruning_keeps_exactly_what_the_last_k_states_reach() {
    let kv = Arc::new(MemKv::new());
    let store = PageStore::new(kv.clone());
    let contracts = [Address([1; 20]), Address([2; 20]), Address([3; 20])];
    let keep = 8u64;
    let mut latest = BTreeMap::new();
    let mut history: Vec<BTreeMap<Address, State>> = Vec::new();
    let mut rng = 7u64;
    let (mut packed, mut written) = (0, 0);
    for version in 1..=100u64 {
        let mut writes = Vec::new();
        for _ in 0..20 {
            rng = rng
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let a = contracts[(rng >> 60) as usize % 3];
            let index = ((rng >> 32) % 160) as u32;
            let byte = ((rng >> 16) % 5) as u8; // 0 frees the page
            writes.push((a, index, byte));
        }
        let (p, w) = block(&store, &mut latest, version, keep, &writes);
        packed += p;
        written += w;
        history.push(latest.clone());
    }
    // Both kinds of flush happened: packs carried from block to block, and
    // checkpoints writing them as `N` keys.
    assert!(
        packed > 0 && written > 0,
        "{packed} packed, {written} written"
    );
    let kept = &history[history.len() - keep as usize..];
    let mut reach = BTreeSet::new();
    let mut kept_states = BTreeSet::new();
    for states in kept {
        for (a, s) in states {
            reach.extend(store.reachable(a, s).unwrap());
            if *s != empty_root() {
                let mut k = vec![b'S'];
                k.extend_from_slice(a.as_bytes());
                k.extend_from_slice(s.as_bytes());
                kept_states.insert(k);
            }
        }
    }
    let stored = keys(&kv, b'N');
    let extra: Vec<_> = stored
        .difference(&reach)
        .map(|k| (k[0] as char, k.len()))
        .collect();
    let missing: Vec<_> = reach
        .difference(&stored)
        .map(|k| (k[0] as char, k.len()))
        .collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "extra {extra:?}, missing {missing:?}"
    );
    assert_eq!(keys(&kv, b'S'), kept_states);
    // Every kept state opens and proves, from a store with no caches (its
    // records come from its pack and `N` keys, its pages from the slots
    // and their undo records); older ones are gone.
    let store = PageStore::new(kv.clone());
    for states in kept {
        for (a, s) in states {
            let pages = store.check_pages(a, s).unwrap();
            assert_eq!(pages as u32, store.state_info(a, s).unwrap().page_count);
            let view = store.open(a, s).unwrap();
            for i in 0..160 {
                let content = view.read(PageIndex(i), 0, PAGE_SIZE).unwrap();
                let proof = view.prove(PageIndex(i)).unwrap();
                assert!(verify_page(
                    s,
                    a,
                    PageIndex(i),
                    content[..].try_into().unwrap(),
                    &proof
                ));
            }
        }
    }
    let old = &history[50];
    let dropped = old
        .iter()
        .filter(|(a, s)| !kept.iter().any(|k| k.get(a) == Some(s)))
        .count();
    assert!(dropped > 0);
    for (a, s) in old {
        if !kept.iter().any(|k| k.get(a) == Some(s)) {
            assert!(matches!(
                store.open(a, s),
                Err(PagesError::UnknownState { .. })
            ));
        }
    }
    // The stale index holds only entries of the kept window (versions
    // 94..=100): one list per block of its undo records (giving the
    // contents states 93..=99 need), each listed once, and the other
    // entries with their `Y` twin.
    let mut indexed_undo = BTreeSet::new();
    let mut others = 0;
    for (k, value) in kv.scan_prefix(b"X").unwrap() {
        let v = u64::from_be_bytes(k[1..9].try_into().unwrap());
        assert!(v > 100 + 1 - keep, "stale entry of version {v} survived");
        if k[9..] == *b"U" {
            assert_eq!(value.len() % 33, 0);
            for key in value.chunks(33) {
                assert!(indexed_undo.insert(key.to_vec()), "undo key listed twice");
            }
        } else {
            assert!(k.len() > 10 && value.is_empty());
            others += 1;
        }
    }
    assert!(!indexed_undo.is_empty());
    assert_eq!(keys(&kv, b'U'), indexed_undo);
    assert_eq!(others, keys(&kv, b'Y').len());
    assert!(keys(&kv, b'P').is_empty(), "no page is stored by hash");
}

#[test]
fn keep_one_deletes_at_once() {
    let kv = Arc::new(MemKv::new());
    let store = PageStore::new(kv.clone());
    let a = Address([4; 20]);
    let mut latest = BTreeMap::new();
    for version in 1..=20u64 {
        block(
            &store,
            &mut latest,
            version,
            1,
            &[(a, (version % 3) as u32, version as u8)],
        );
    }
    let s = latest[&a];
    assert_eq!(keys(&kv, b'N'), store.reachable(&a, &s).unwrap());
    assert!(keys(&kv, b'X').is_empty());
    assert!(keys(&kv, b'U').is_empty(), "no undo record without history");
    // One slot head per page written, and at most one base each.
    assert_eq!(keys(&kv, b'D').len(), 3);
    assert!(keys(&kv, b'L').len() <= 3);
    assert_eq!(store.check_pages(&a, &s).unwrap(), 3);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random blocks with pages set back to older contents (keys written
    /// again while indexed stale) keep every kept state whole, also when
    /// the store is opened anew between blocks (its filter of the stale
    /// index then comes from the KV).
    #[test]
    fn random_blocks_keep_every_kept_state_whole(
        blocks in prop::collection::vec(
            prop::collection::vec((0u8..2, 0u32..6, 0u8..3), 1..6), 1..30),
        keep in 1u64..5,
        reopen_every in 1usize..8,
    ) {
        let kv = Arc::new(MemKv::new());
        let mut store = PageStore::new(kv.clone());
        let mut latest = BTreeMap::new();
        let mut history = Vec::new();
        for (v, writes) in blocks.iter().enumerate() {
            if v % reopen_every == reopen_every - 1 {
                store = PageStore::new(kv.clone());
            }
            let writes: Vec<_> = writes
                .iter()
                .map(|(c, i, b)| (Address([*c + 1; 20]), *i, *b))
                .collect();
            block(&store, &mut latest, v as u64 + 1, keep, &writes);
            history.push(latest.clone());
        }
        let n = history.len();
        let mut reach = BTreeSet::new();
        for states in &history[n.saturating_sub(keep as usize)..] {
            for (a, s) in states {
                let view = store.open(a, s).unwrap();
                for i in 0..6 {
                    view.read(PageIndex(i), 0, 8).unwrap();
                }
                PageStore::new(kv.clone()).check_pages(a, s).unwrap();
                reach.extend(store.reachable(a, s).unwrap());
            }
        }
        // Once the window is full, nothing else is left.
        if n >= keep as usize {
            prop_assert_eq!(keys(&kv, b'N'), reach);
        }
    }
}
