//! Behaviour of the page store: golden vectors, roots, reopening, proofs,
//! write costs and backends.

use std::sync::Arc;

use proptest::prelude::*;
use svm_kv::{KvStore, LevelKv, MemKv, RocksKv};
use svm_pages::hash::{TREE_DEPTH, empty_hashes, node_hash};
use svm_pages::{
    Address, DELTA_MAX_BYTES, PACK_MAX_CARRIED, PAGE_SIZE, Page, PageIndex, PageProof, PageStorage,
    PageStore, PagesError, State, empty_root, page_hash, verify_page,
};

fn addr(b: u8) -> Address {
    Address([b; 20])
}

fn pattern(seed: u8) -> Box<Page> {
    let mut p = Box::new([0u8; PAGE_SIZE]);
    for (i, b) in p.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(seed);
    }
    p
}

fn commit(
    store: &PageStore<impl KvStore>,
    a: &Address,
    base: &State,
    pages: &[(u32, &Page)],
) -> State {
    let pages: Vec<(PageIndex, &Page)> = pages.iter().map(|(i, p)| (PageIndex(*i), *p)).collect();
    store.commit(a, base, &pages).unwrap().state
}

/// The known sequence behind the golden root: two commits on contract 0x11…
fn golden_sequence(store: &PageStore<impl KvStore>) -> (State, State) {
    let a = addr(0x11);
    let one = Box::new([1u8; PAGE_SIZE]);
    let two = Box::new([2u8; PAGE_SIZE]);
    let zero = Box::new([0u8; PAGE_SIZE]);
    let p5 = pattern(5);
    let first = commit(
        store,
        &a,
        &empty_root(),
        &[(0, &one), (5, &p5), (1 << 31, &pattern(9))],
    );
    let second = commit(store, &a, &first, &[(5, &zero), (9, &two)]);
    (first, second)
}

const GOLDEN_EMPTY_ROOT: &str = "ba8add2c8d602e6be06229edf723f53a63eb71ff0d6365419ba2ccbacd97573b";
const GOLDEN_PAGE_HASH: &str = "666a0d302b5b52f163d4095e39cb113c79f644befbb087a9f72b4c1672704d8c";
const GOLDEN_ROOT_1: &str = "0c8e2e53adb679743adc3c1ea81291521da3f554ce2e787a8219ba946e66ac28";
const GOLDEN_ROOT_2: &str = "bfb6ccf796070e6f71b9f9a35e6c6bfbe237b0fe74ec36b8c027a6cccaac34e5";

#[test]
fn golden_vectors() {
    assert_eq!(empty_root().to_string(), GOLDEN_EMPTY_ROOT);
    let h = page_hash(&addr(0x11), PageIndex(7), &pattern(0));
    assert_eq!(h.to_string(), GOLDEN_PAGE_HASH);
    let store = PageStore::new(MemKv::new());
    let (first, second) = golden_sequence(&store);
    assert_eq!(first.to_string(), GOLDEN_ROOT_1);
    assert_eq!(second.to_string(), GOLDEN_ROOT_2);
}

#[test]
fn page_hash_layout_is_the_documented_one() {
    use svm_pages::hash::{EXT_KEY, NODE_KEY, PAGE_KEY, ext_hash};
    // The keys are the BLAKE3 hashes of the domain strings.
    assert_eq!(PAGE_KEY, *blake3::hash(b"svm/page/v2").as_bytes());
    assert_eq!(NODE_KEY, *blake3::hash(b"svm/node/v2").as_bytes());
    assert_eq!(EXT_KEY, *blake3::hash(b"svm/ext/v3").as_bytes());
    // Extension: target ‖ target height ‖ prefix (bits below t cleared).
    let mut ext = Vec::new();
    ext.extend_from_slice(&[7u8; 32]);
    ext.push(4);
    ext.extend_from_slice(&0x0102_0330u32.to_be_bytes());
    assert_eq!(ext.len(), 37);
    assert_eq!(
        ext_hash(4, 0x0102_0337, &[7; 32]),
        *blake3::keyed_hash(&EXT_KEY, &ext).as_bytes()
    );
    assert_eq!(
        ext_hash(4, 0x0102_0337, &[7; 32]),
        ext_hash(4, 0x0102_0330, &[7; 32])
    );
    assert_ne!(
        ext_hash(4, 0x0102_0337, &[7; 32]),
        ext_hash(5, 0x0102_0337, &[7; 32])
    );
    let a = addr(0x42);
    let content = pattern(3);
    let mut input = Vec::new();
    input.extend_from_slice(&content[..]);
    input.extend_from_slice(a.as_bytes());
    input.extend_from_slice(&0x0102_0304u32.to_be_bytes());
    assert_eq!(input.len(), 4120);
    assert_eq!(
        page_hash(&a, PageIndex(0x0102_0304), &content).0,
        *blake3::keyed_hash(&PAGE_KEY, &input).as_bytes()
    );
    let mut node = Vec::new();
    node.extend_from_slice(&[1u8; 32]);
    node.extend_from_slice(&[2u8; 32]);
    assert_eq!(
        node_hash(&[1; 32], &[2; 32]),
        *blake3::keyed_hash(&NODE_KEY, &node).as_bytes()
    );
    // Keyed: neither is the plain BLAKE3 of its input.
    assert_ne!(
        node_hash(&[1; 32], &[2; 32]),
        *blake3::hash(&node).as_bytes()
    );
    assert_eq!(empty_hashes()[0], [0u8; 32]);
    assert_eq!(empty_root().0, empty_hashes()[TREE_DEPTH]);
}

#[test]
fn page_hash_binds_address_index_and_content() {
    let p = pattern(1);
    let base = page_hash(&addr(1), PageIndex(1), &p);
    assert_ne!(base, page_hash(&addr(2), PageIndex(1), &p));
    assert_ne!(base, page_hash(&addr(1), PageIndex(2), &p));
    let mut q = p.clone();
    q[4095] ^= 1;
    assert_ne!(base, page_hash(&addr(1), PageIndex(1), &q));
}

#[test]
fn roots_do_not_depend_on_write_grouping() {
    let a = addr(3);
    let pages: Vec<(u32, Box<Page>)> = [0u32, 1, 7, 4096, u32::MAX]
        .iter()
        .map(|&i| (i, pattern(i as u8)))
        .collect();
    let all_at_once = {
        let s = PageStore::new(MemKv::new());
        let v: Vec<(u32, &Page)> = pages.iter().map(|(i, p)| (*i, &**p)).collect();
        commit(&s, &a, &empty_root(), &v)
    };
    let one_by_one = {
        let s = PageStore::new(MemKv::new());
        let mut root = empty_root();
        for (i, p) in pages.iter().rev() {
            root = commit(&s, &a, &root, &[(*i, p)]);
        }
        root
    };
    assert_eq!(all_at_once, one_by_one);
    assert_ne!(all_at_once, empty_root());
}

#[test]
fn zero_pages_cost_nothing_and_free_pages() {
    let kv = Arc::new(MemKv::new());
    let s = PageStore::new(kv.clone());
    let a = addr(4);
    let zero = Box::new([0u8; PAGE_SIZE]);
    let out = s
        .commit(&a, &empty_root(), &[(PageIndex(9), &zero)])
        .unwrap();
    assert_eq!(out.state, empty_root());
    assert_eq!(out.pages_written, 0);
    assert_eq!(kv.len(), 0, "a zero page stores nothing");

    let p = pattern(1);
    let r1 = commit(&s, &a, &empty_root(), &[(9, &p)]);
    assert_eq!(s.state_info(&a, &r1).unwrap().page_count, 1);
    let r2 = s.commit(&a, &r1, &[(PageIndex(9), &zero)]).unwrap();
    assert_eq!(
        r2.state,
        empty_root(),
        "freeing the only page gives the empty root"
    );
    assert_eq!(r2.page_count, 0);
}

#[test]
fn every_committed_state_reopens_and_unknown_ones_do_not() {
    let s = PageStore::new(MemKv::new());
    let a = addr(5);
    let p1 = pattern(1);
    let p2 = pattern(2);
    let r1 = commit(&s, &a, &empty_root(), &[(0, &p1)]);
    let r2 = commit(&s, &a, &r1, &[(0, &p2), (1, &p1)]);

    let v1 = s.open(&a, &r1).unwrap();
    assert_eq!(
        v1.read_page(PageIndex(0)).unwrap().as_deref(),
        Some(&p1[..])
    );
    assert_eq!(v1.read_page(PageIndex(1)).unwrap(), None);
    let v2 = s.open(&a, &r2).unwrap();
    assert_eq!(
        v2.read_page(PageIndex(0)).unwrap().as_deref(),
        Some(&p2[..])
    );
    assert_eq!(v2.read(PageIndex(1), 10, 3).unwrap(), p1[10..13].to_vec());
    assert_eq!(v2.read(PageIndex(77), 4090, 6).unwrap(), vec![0; 6]);
    assert!(matches!(
        v2.read(PageIndex(1), 4090, 7),
        Err(PagesError::SliceOutOfPage {
            offset: 4090,
            len: 7
        })
    ));
    assert_eq!(
        v2.info().unwrap(),
        svm_pages::StateInfo {
            parent: r1,
            page_count: 2
        }
    );
    assert!(s.open(&a, &empty_root()).is_ok());

    let bogus = State([0xab; 32]);
    assert_eq!(
        s.open(&a, &bogus).unwrap_err(),
        PagesError::UnknownState {
            address: a,
            state: bogus
        }
    );
    // Another contract's root is not a state of this contract.
    assert!(matches!(
        s.open(&addr(6), &r1),
        Err(PagesError::UnknownState { .. })
    ));
    assert!(matches!(
        s.commit(&a, &bogus, &[(PageIndex(0), &p1)]),
        Err(PagesError::UnknownState { .. })
    ));
    assert!(matches!(
        s.read_page(&a, &bogus, PageIndex(0)),
        Err(PagesError::UnknownState { .. })
    ));
}

#[test]
fn unsorted_commit_is_rejected_and_writes_nothing() {
    let kv = Arc::new(MemKv::new());
    let s = PageStore::new(kv.clone());
    let p = pattern(1);
    for pages in [
        vec![(PageIndex(2), &*p), (PageIndex(1), &*p)],
        vec![(PageIndex(2), &*p), (PageIndex(2), &*p)],
    ] {
        assert_eq!(
            s.commit(&addr(1), &empty_root(), &pages),
            Err(PagesError::UnsortedCommit)
        );
    }
    assert_eq!(kv.len(), 0);
}

#[test]
fn commit_writes_are_proportional_to_dirty_pages() {
    let kv = Arc::new(MemKv::new());
    let s = PageStore::new(kv.clone());
    let a = addr(7);
    // A contract with 512 pages.
    let pages: Vec<Box<Page>> = (0..512u32).map(|i| pattern(i as u8)).collect();
    let all: Vec<(PageIndex, &Page)> = pages
        .iter()
        .enumerate()
        .map(|(i, p)| (PageIndex(i as u32), &**p))
        .collect();
    let first = s.commit(&a, &empty_root(), &all).unwrap();
    // 512 pages are 511 branches and a root extension: packed into the
    // state record, no `N` key.
    assert_eq!((first.nodes_packed, first.nodes_written), (512, 0));
    // The next commit would carry about 500 of them: a checkpoint writes
    // every record the new tree reaches as an `N` key.
    let one = pattern(99);
    let out = s
        .commit(&a, &first.state, &[(PageIndex(1), &*one)])
        .unwrap();
    assert_eq!((out.nodes_packed, out.nodes_written), (0, 512));
    let base = out.state;
    for k in [1usize, 4, 16] {
        let before = kv.len();
        let new: Vec<Box<Page>> = (0..k).map(|i| pattern((200 + k + i) as u8)).collect();
        let dirty: Vec<(PageIndex, &Page)> = new
            .iter()
            .enumerate()
            .map(|(i, p)| (PageIndex((i * 31) as u32), &**p))
            .collect();
        let out = s.commit(&a, &base, &dirty).unwrap();
        assert_eq!(out.pages_written, k);
        // Path compression: about log2(512) + 1 = 10 records per dirty
        // page (branches on its path, plus one extension), not 32; all in
        // the state record.
        assert_eq!(out.nodes_written, 0);
        assert!(
            out.nodes_packed <= 11 * k,
            "{} records for {k} dirty pages",
            out.nodes_packed
        );
        // An undo record per page (its slot's head and base are
        // rewritten in place) and the state record: no key per record.
        let added = kv.len() - before;
        assert!(added <= k + 1, "{added} new keys for {k} dirty pages");
        // A page changed whole: its new base, its head, and the undo
        // record holding the bytes it replaced.
        assert!(
            out.bytes_written <= k * (2 * PAGE_SIZE + 25 + 65 + 33 + 32 + 11 * 97) + 89,
            "{} bytes for {k} pages",
            out.bytes_written
        );
    }
}

#[test]
fn packs_carry_at_most_the_bound_then_checkpoint() {
    let kv = Arc::new(MemKv::new());
    let s = PageStore::new(kv.clone());
    let a = addr(9);
    let mut state = empty_root();
    let mut checkpoints = 0;
    // Pages far apart: each commit adds a path of its own, so the records
    // a state record carries grow until a checkpoint writes them.
    for i in 0..200u32 {
        let p = pattern(i as u8 | 1);
        let out = s
            .commit(&a, &state, &[(PageIndex(i.wrapping_mul(0x9e37_79b9)), &*p)])
            .unwrap();
        state = out.state;
        let record = kv.get(&state_key(&a, &state)).unwrap().unwrap();
        if out.nodes_written > 0 {
            checkpoints += 1;
            assert_eq!(out.nodes_packed, 0);
            assert_eq!(record.len(), 36);
        } else {
            // A new path (at most 33 records) plus at most 64 carried.
            assert!(out.nodes_packed <= PACK_MAX_CARRIED + 33);
            assert!(record.len() <= 36 + 97 * (PACK_MAX_CARRIED + 33));
        }
        // Every state so far still reads and proves, from a fresh store
        // (no node cache): packs and `N` keys together hold its tree.
        if i % 37 == 0 {
            let fresh = PageStore::new(kv.clone());
            for j in 0..=i {
                let index = PageIndex(j.wrapping_mul(0x9e37_79b9));
                let content = fresh.read_page(&a, &state, index).unwrap().unwrap();
                assert_eq!(content[0], j as u8 | 1);
                let proof = fresh.prove(&a, &state, index).unwrap();
                assert!(verify_page(
                    &state,
                    &a,
                    index,
                    content[..].try_into().unwrap(),
                    &proof
                ));
            }
        }
    }
    assert!(
        checkpoints >= 200 / PACK_MAX_CARRIED,
        "{checkpoints} checkpoints"
    );
}

/// A commit that changes a few words of a page writes a delta, not the
/// page; the slot's base is written whole again only once the delta would
/// pass `DELTA_MAX_BYTES`; and every earlier state still reads its own
/// bytes, rebuilt from the undo records by a store with no cache.
#[test]
fn small_changes_write_deltas_and_every_state_still_reads() {
    let kv = Arc::new(MemKv::new());
    let s = PageStore::new(kv.clone());
    let a = addr(5);
    let mut page = pattern(1);
    let mut state = commit(&s, &a, &empty_root(), &[(3, &page)]);
    let mut states = vec![(state, page.clone())];
    let (mut small, mut whole) = (0, 0);
    for n in 0..200usize {
        // Changes spread over the page, so the delta from the base grows.
        let at = (n * 40) % (PAGE_SIZE - 8);
        page[at..at + 8].copy_from_slice(&(n as u64 + 1).to_be_bytes());
        let out = s.commit(&a, &state, &[(PageIndex(3), &*page)]).unwrap();
        assert_eq!(out.pages_written, 1);
        if n == 0 {
            // Slot head, undo record and state record: no 4096 bytes.
            assert!(out.bytes_written < 512, "{} bytes", out.bytes_written);
        }
        if out.bytes_written < PAGE_SIZE {
            small += 1;
        } else {
            whole += 1;
        }
        state = out.state;
        states.push((state, page.clone()));
    }
    assert!(
        whole >= 2 && small > 10 * whole,
        "{small} deltas, {whole} bases"
    );
    for (_, head) in kv.scan_prefix(b"D").unwrap() {
        assert!(head.len() <= 40 + DELTA_MAX_BYTES, "{} bytes", head.len());
    }
    let fresh = PageStore::new(kv.clone());
    for (state, content) in &states {
        let read = fresh.read_page(&a, state, PageIndex(3)).unwrap().unwrap();
        assert_eq!(&read[..], &content[..]);
        assert_eq!(fresh.check_pages(&a, state).unwrap(), 1);
    }
    assert!(kv.scan_prefix(b"P").unwrap().is_empty(), "no page by hash");
}

/// A base, head or undo record changed on disk gives `Corrupt`, never
/// other bytes: what the slots give is checked against the page hash.
#[test]
fn tampered_slots_are_corruption_not_other_bytes() {
    for ns in [b'L', b'D', b'U'] {
        let kv = Arc::new(MemKv::new());
        let s = PageStore::new(kv.clone());
        let a = addr(6);
        let mut page = pattern(2);
        let first = commit(&s, &a, &empty_root(), &[(1, &page)]);
        page[100] ^= 1;
        let second = commit(&s, &a, &first, &[(1, &page)]);
        let (key, value) = kv.scan_prefix(&[ns]).unwrap().remove(0);
        let mut bad = value.to_vec();
        let at = bad.len() - 1;
        bad[at] ^= 0x40;
        kv.put(&key, &bad).unwrap();
        let fresh = PageStore::new(kv.clone());
        // The undo record serves only the older state.
        let state = if ns == b'U' { first } else { second };
        assert!(
            matches!(
                fresh.read_page(&a, &state, PageIndex(1)),
                Err(PagesError::Corrupt(_))
            ),
            "{}",
            ns as char
        );
        assert!(matches!(
            fresh.check_pages(&a, &state),
            Err(PagesError::Corrupt(_))
        ));
    }
}

fn state_key(a: &Address, s: &State) -> Vec<u8> {
    [b"S".as_slice(), a.as_bytes(), s.as_bytes()].concat()
}

#[test]
fn missing_node_is_corruption_not_a_panic() {
    let kv = Arc::new(MemKv::new());
    let s = PageStore::new(kv.clone());
    let a = addr(8);
    let p = pattern(1);
    let packed = commit(&s, &a, &empty_root(), &[(3, &p), (5, &p)]);
    // A malformed state record (its pack cut short) is corruption too.
    let key = state_key(&a, &packed);
    let record = kv.get(&key).unwrap().unwrap();
    kv.put(&key, &record[..record.len() - 1]).unwrap();
    let fresh = PageStore::new(kv.clone());
    assert!(matches!(
        fresh.read_page(&a, &packed, PageIndex(3)),
        Err(PagesError::Corrupt(_))
    ));
    // A state of more than 1024 records is a checkpoint: `N` keys.
    let many: Vec<(u32, &Page)> = (0..600u32).map(|i| (i * 7, &*p)).collect();
    let root = commit(&s, &a, &empty_root(), &many);
    assert_eq!(kv.get(&state_key(&a, &root)).unwrap().unwrap().len(), 36);
    // Delete every node below the root from a fresh store's point of view.
    let nodes: Vec<_> = kv.scan_prefix(b"N").unwrap();
    for (k, _) in &nodes {
        if k[1..] != root.0 {
            kv.delete(k).unwrap();
        }
    }
    let fresh = PageStore::new(kv.clone());
    assert!(matches!(
        fresh.open(&a, &root).unwrap().read_page(PageIndex(3)),
        Err(PagesError::Corrupt(_))
    ));
    kv.put(&[b"N".as_slice(), &root.0].concat(), b"short")
        .unwrap();
    let fresh = PageStore::new(kv.clone());
    assert!(matches!(
        fresh.read_page(&a, &root, PageIndex(3)),
        Err(PagesError::Corrupt(_))
    ));
}

/// A state record whose pack holds `records` (hash, encoded record), as
/// storage format 5 lays it out: parent ‖ page count ‖ (hash ‖ length ‖
/// record)*.
fn tampered_state_record(records: &[([u8; 32], Vec<u8>)]) -> Vec<u8> {
    let mut v = empty_root().0.to_vec();
    v.extend_from_slice(&1u32.to_be_bytes());
    for (hash, record) in records {
        v.extend_from_slice(hash);
        v.push(record.len() as u8);
        v.extend_from_slice(record);
    }
    v
}

/// Tampered records that no store writes cannot make a walk loop or
/// repeat a subtree: an extension that does not point down, and a chain of
/// branches whose two children are the same node (2^20 paths), are
/// corruption for a check of the state and for a commit on it.
#[test]
fn tampered_records_are_corruption_not_a_hang() {
    let kv = Arc::new(MemKv::new());
    let s = PageStore::new(kv.clone());
    let a = addr(9);
    let p = pattern(3);
    let h = |i: u32| -> [u8; 32] { *blake3::hash(&i.to_be_bytes()).as_bytes() };
    let ext =
        |t: u8, target: [u8; 32]| -> Vec<u8> { [&[t][..], &0u32.to_be_bytes(), &target].concat() };
    // An extension at height 31 pointing to another at height 31 (which
    // points down to a page, so a walk that trusted it would end happily).
    let up = [
        (h(0), ext(31, h(1))),
        (h(1), ext(31, h(2))),
        (h(2), ext(0, h(3))),
    ];
    // 20 branches, each with the next one as both children, then a page.
    let mut dag: Vec<([u8; 32], Vec<u8>)> = (0..20u32)
        .map(|i| (h(100 + i), [h(101 + i), h(101 + i)].concat()))
        .collect();
    dag.push((h(120), ext(0, h(121))));
    let dag_root = [(h(99), ext(31, h(100)))];
    for (root, records) in [(h(0), up.to_vec()), (h(99), [&dag_root[..], &dag].concat())] {
        let state = State(root);
        kv.put(&state_key(&a, &state), &tampered_state_record(&records))
            .unwrap();
        assert!(
            matches!(s.reachable(&a, &state), Err(PagesError::Corrupt(_))),
            "{:?}",
            s.reachable(&a, &state)
        );
        assert!(matches!(
            s.check_pages(&a, &state),
            Err(PagesError::Corrupt(_))
        ));
        let pages = [(PageIndex(7), &*p)];
        assert!(matches!(
            s.commit(&a, &state, &pages),
            Err(PagesError::Corrupt(_))
        ));
    }
}

#[test]
fn proofs_verify_and_tampering_fails() {
    let s = PageStore::new(MemKv::new());
    let a = addr(9);
    let p = pattern(4);
    let q = pattern(5);
    let root = commit(&s, &a, &empty_root(), &[(10, &p), (11, &q), (1 << 20, &p)]);
    let proof = s.prove(&a, &root, PageIndex(10)).unwrap();
    assert!(verify_page(&root, &a, PageIndex(10), &p, &proof));

    // Tampered content, index, address, root, proof.
    let mut bad = p.clone();
    bad[0] ^= 1;
    assert!(!verify_page(&root, &a, PageIndex(10), &bad, &proof));
    assert!(!verify_page(&root, &a, PageIndex(11), &p, &proof));
    assert!(!verify_page(&root, &addr(10), PageIndex(10), &p, &proof));
    let mut bad_root = root;
    bad_root.0[31] ^= 1;
    assert!(!verify_page(&bad_root, &a, PageIndex(10), &p, &proof));
    for h in [0usize, 5, 31] {
        let mut bad_proof = proof.clone();
        bad_proof.siblings[h][0] ^= 1;
        assert!(
            !verify_page(&root, &a, PageIndex(10), &p, &bad_proof),
            "height {h}"
        );
    }

    // "This page is zero", for a page never written.
    let zero = Box::new([0u8; PAGE_SIZE]);
    let zp = s.prove(&a, &root, PageIndex(12)).unwrap();
    assert!(verify_page(&root, &a, PageIndex(12), &zero, &zp));
    assert!(!verify_page(&root, &a, PageIndex(12), &p, &zp));
    // A written page cannot be proven zero with its own proof.
    assert!(!verify_page(&root, &a, PageIndex(10), &zero, &proof));
    // The empty state proves every page zero.
    let ep = s.prove(&a, &empty_root(), PageIndex(77)).unwrap();
    assert!(verify_page(&empty_root(), &a, PageIndex(77), &zero, &ep));
    assert!(matches!(
        s.prove(&a, &State([1; 32]), PageIndex(0)),
        Err(PagesError::UnknownState { .. })
    ));
}

/// An empty page's proof ends at the extension its path leaves the tree
/// in; every part of that end is bound.
#[test]
fn absence_proofs_end_at_the_extension_and_are_bound() {
    let s = PageStore::new(MemKv::new());
    let a = addr(9);
    let p = pattern(4);
    let zero = Box::new([0u8; PAGE_SIZE]);
    // Pages 8 and 9 meet at height 1; page 1 << 20 far above.
    let root = commit(&s, &a, &empty_root(), &[(8, &p), (9, &p), (1 << 20, &p)]);
    // Page 12 leaves the tree in the extension above the branch of 8 and 9
    // (target height 1, prefix 8); page 0 too; page 1 << 21 in the root's.
    for (i, t, prefix) in [(12u32, 1u8, 8u32), (0, 1, 8), (1 << 21, 21, 0)] {
        let proof = s.prove(&a, &root, PageIndex(i)).unwrap();
        let end = proof.end.expect("an empty page's proof has an end");
        assert_eq!((end.target_height, end.prefix), (t, prefix), "page {i}");
        assert!(verify_page(&root, &a, PageIndex(i), &zero, &proof));
        assert!(!verify_page(&root, &a, PageIndex(i), &p, &proof));
        let mut moved = proof.clone();
        moved.end = Some(svm_pages::ProofEnd {
            target_height: t + 1,
            ..end
        });
        assert!(!verify_page(&root, &a, PageIndex(i), &zero, &moved));
        let mut other = proof.clone();
        other.end = Some(svm_pages::ProofEnd {
            prefix: end.prefix ^ (1 << end.target_height),
            ..end
        });
        assert!(!verify_page(&root, &a, PageIndex(i), &zero, &other));
        let mut target = proof.clone();
        target.end = Some(svm_pages::ProofEnd {
            target: [3; 32],
            ..end
        });
        assert!(!verify_page(&root, &a, PageIndex(i), &zero, &target));
        assert_eq!(PageProof::from_bytes(&proof.to_bytes()).unwrap(), proof);
        assert_eq!(proof.to_bytes().len(), 4 + 32 * proof_siblings(&proof) + 37);
    }
    // A present page's path, as an absence proof, fails: its end is under
    // the target it names, or it has none.
    let present = s.prove(&a, &root, PageIndex(9)).unwrap();
    assert_eq!(present.end, None);
    assert!(!verify_page(&root, &a, PageIndex(9), &zero, &present));
    let twelve = s.prove(&a, &root, PageIndex(12)).unwrap();
    assert!(!verify_page(&root, &a, PageIndex(8), &zero, &twelve));
    assert!(!verify_page(&root, &a, PageIndex(9), &zero, &twelve));
    // With the end left out, an empty page of a non-empty root fails.
    let mut no_end = twelve.clone();
    no_end.end = None;
    assert!(!verify_page(&root, &a, PageIndex(12), &zero, &no_end));
    // A one-page contract: the root is the page's extension.
    let one = commit(&s, &a, &empty_root(), &[(5, &p)]);
    let proof = s.prove(&a, &one, PageIndex(4)).unwrap();
    assert_eq!(proof_siblings(&proof), 0);
    assert!(verify_page(&one, &a, PageIndex(4), &zero, &proof));
    assert!(verify_page(
        &one,
        &a,
        PageIndex(5),
        &p,
        &s.prove(&a, &one, PageIndex(5)).unwrap()
    ));
}

fn proof_siblings(proof: &PageProof) -> usize {
    proof
        .siblings
        .iter()
        .enumerate()
        .filter(|(h, x)| **x != empty_hashes()[*h])
        .count()
}

#[test]
fn proof_encoding_round_trips_and_rejects_garbage() {
    let s = PageStore::new(MemKv::new());
    let a = addr(9);
    let p = pattern(4);
    let root = commit(&s, &a, &empty_root(), &[(10, &p), (11, &p), (99, &p)]);
    let proof = s.prove(&a, &root, PageIndex(10)).unwrap();
    let bytes = proof.to_bytes();
    // Siblings at heights 0 (page 11) and 6 (page 99's subtree) are non-empty.
    assert_eq!(&bytes[..4], &0b100_0001u32.to_be_bytes());
    assert_eq!(bytes.len(), 4 + 2 * 32);
    assert_eq!(PageProof::from_bytes(&bytes).unwrap(), proof);
    assert!(matches!(
        PageProof::from_bytes(&[1, 2]),
        Err(PagesError::BadProof(_))
    ));
    assert!(matches!(
        PageProof::from_bytes(&bytes[..bytes.len() - 1]),
        Err(PagesError::BadProof(_))
    ));
    // An end whose target height is above 31.
    let mut end = s.prove(&a, &root, PageIndex(12)).unwrap().to_bytes();
    let at = end.len() - 37;
    end[at] = 32;
    assert!(matches!(
        PageProof::from_bytes(&end),
        Err(PagesError::BadProof(_))
    ));
    // An end prefix with bits below the target height: page 12's proof ends
    // at the extension above the branch of pages 10 and 11 (height 1).
    let mut low = s.prove(&a, &root, PageIndex(12)).unwrap().to_bytes();
    assert_eq!(low[low.len() - 37], 1);
    let at = low.len() - 33;
    low[at] |= 1;
    assert!(matches!(
        PageProof::from_bytes(&low),
        Err(PagesError::BadProof(_))
    ));
    // A sibling sent as the empty subtree it stands for.
    let mut empty_sibling = vec![0, 0, 0, 1];
    empty_sibling.extend_from_slice(&empty_hashes()[0]);
    assert!(matches!(
        PageProof::from_bytes(&empty_sibling),
        Err(PagesError::BadProof(_))
    ));
}

type NamedBackends = Vec<(&'static str, Box<dyn KvStore>)>;

fn backends() -> (tempfile::TempDir, NamedBackends) {
    let dir = tempfile::tempdir().unwrap();
    let rocks = RocksKv::open(dir.path().join("rocks")).unwrap();
    let level = LevelKv::open(dir.path().join("level")).unwrap();
    let v: NamedBackends = vec![
        ("memkv", Box::new(MemKv::new())),
        ("rocksdb", Box::new(rocks)),
        ("leveldb", Box::new(level)),
    ];
    (dir, v)
}

#[test]
fn roots_are_identical_on_every_backend_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let mem = golden_sequence(&PageStore::new(MemKv::new()));
    let rocks_path = dir.path().join("rocks");
    let level_path = dir.path().join("level");
    let rocks = golden_sequence(&PageStore::new(RocksKv::open(&rocks_path).unwrap()));
    let level = golden_sequence(&PageStore::new(LevelKv::open(&level_path).unwrap()));
    assert_eq!(mem, rocks);
    assert_eq!(mem, level);
    // Reopen the disk databases: both roots still read.
    let a = addr(0x11);
    for kv in [
        Box::new(RocksKv::open(&rocks_path).unwrap()) as Box<dyn KvStore>,
        Box::new(LevelKv::open(&level_path).unwrap()),
    ] {
        let s = PageStore::new(kv);
        let v1 = s.open(&a, &mem.0).unwrap();
        assert_eq!(
            v1.read_page(PageIndex(5)).unwrap().as_deref(),
            Some(&pattern(5)[..])
        );
        let v2 = s.open(&a, &mem.1).unwrap();
        assert_eq!(v2.read_page(PageIndex(5)).unwrap(), None);
        assert_eq!(
            v2.read_page(PageIndex(9)).unwrap().as_deref(),
            Some(&[2u8; PAGE_SIZE][..])
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random commits of random pages: on every backend the roots match,
    /// every page reads back as in a simple model, and older roots keep
    /// their content.
    #[test]
    fn random_commits_match_model_on_every_backend(
        commits in prop::collection::vec(
            prop::collection::btree_map(
                prop_oneof![0u32..8, Just(u32::MAX), 1000u32..1004],
                prop_oneof![Just(0u8), 1u8..=255],
                0..5,
            ),
            1..6,
        )
    ) {
        let (_dir, kvs) = backends();
        let a = addr(0x33);
        let mut history: Vec<(Vec<State>, std::collections::BTreeMap<u32, u8>)> = Vec::new();
        let stores: Vec<_> = kvs.into_iter().map(|(n, kv)| (n, PageStore::new(kv))).collect();
        let mut roots = vec![empty_root(); stores.len()];
        let mut model = std::collections::BTreeMap::new();
        for dirty in &commits {
            let pages: Vec<(PageIndex, Box<Page>)> = dirty
                .iter()
                .map(|(&i, &fill)| (PageIndex(i), Box::new([fill; PAGE_SIZE])))
                .collect();
            let refs: Vec<(PageIndex, &Page)> = pages.iter().map(|(i, p)| (*i, &**p)).collect();
            for (k, (_, s)) in stores.iter().enumerate() {
                roots[k] = s.commit(&a, &roots[k], &refs).unwrap().state;
            }
            for (&i, &fill) in dirty {
                if fill == 0 { model.remove(&i); } else { model.insert(i, fill); }
            }
            prop_assert!(roots.iter().all(|r| *r == roots[0]), "roots differ: {:?}", roots);
            history.push((roots.clone(), model.clone()));
        }
        for (roots, model) in &history {
            for (k, (name, s)) in stores.iter().enumerate() {
                let v = s.open(&a, &roots[k]).unwrap();
                prop_assert_eq!(v.info().unwrap().page_count as usize, model.len(), "{}", name);
                for i in [0u32, 1, 2, 3, 4, 5, 6, 7, 1000, 1001, 1002, 1003, u32::MAX] {
                    let got = v.read_page(PageIndex(i)).unwrap();
                    match model.get(&i) {
                        Some(&fill) => prop_assert_eq!(got.as_deref(), Some(&[fill; PAGE_SIZE][..])),
                        None => prop_assert_eq!(got, None),
                    }
                }
            }
        }
    }

    /// Random sets of pages over the whole index space: every page, present
    /// or empty, has a proof that verifies with its content and fails with
    /// any other.
    #[test]
    fn every_page_proves_its_content_and_nothing_else(
        pages in prop::collection::btree_map(
            prop_oneof![0u32..16, any::<u32>(), (0u32..4).prop_map(|k| k << 30)],
            1u8..=255,
            0..12,
        ),
        probes in prop::collection::vec(any::<u32>(), 4),
    ) {
        let s = PageStore::new(MemKv::new());
        let a = addr(0x44);
        let contents: Vec<(u32, Box<Page>)> =
            pages.iter().map(|(&i, &f)| (i, Box::new([f; PAGE_SIZE]))).collect();
        let refs: Vec<(u32, &Page)> = contents.iter().map(|(i, p)| (*i, &**p)).collect();
        let root = commit(&s, &a, &empty_root(), &refs);
        let zero = Box::new([0u8; PAGE_SIZE]);
        let other = Box::new([0xeeu8; PAGE_SIZE]);
        let mut indices: Vec<u32> = pages.keys().copied().collect();
        indices.extend(pages.keys().map(|i| i ^ 1));
        indices.extend(probes);
        for i in indices {
            let proof = s.prove(&a, &root, PageIndex(i)).unwrap();
            let proof = PageProof::from_bytes(&proof.to_bytes()).unwrap();
            let content = pages.get(&i).map(|&f| Box::new([f; PAGE_SIZE])).unwrap_or(zero.clone());
            prop_assert!(verify_page(&root, &a, PageIndex(i), &content, &proof), "page {}", i);
            let wrong = if pages.contains_key(&i) { &zero } else { &other };
            prop_assert!(!verify_page(&root, &a, PageIndex(i), wrong, &proof), "page {}", i);
        }
    }
}

/// One step of [`caches_never_change_what_reads_see`].
#[derive(Debug, Clone)]
enum Step {
    /// Commit these pages (index, fill byte) over the state made by step
    /// `base` (modulo the states so far).
    Commit(usize, std::collections::BTreeMap<u32, u8>),
    /// Read page `.1` at the state made by step `.0` (modulo).
    Read(usize, u32),
}

fn step() -> impl Strategy<Value = Step> {
    let index = prop_oneof![0u32..6, Just(u32::MAX)];
    prop_oneof![
        (
            any::<usize>(),
            prop::collection::btree_map(index.clone(), prop_oneof![Just(0u8), 1u8..=255], 0..4)
        )
            .prop_map(|(b, p)| Step::Commit(b, p)),
        (any::<usize>(), index).prop_map(|(s, i)| Step::Read(s, i)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Commits over any earlier state (forks included) and reads at any
    /// state, in any order: a store with the page cache and the leaf index
    /// (a tiny one too, so that it starts over often) reads exactly what a
    /// store with every cache off reads, and what a model says.
    #[test]
    fn caches_never_change_what_reads_see(steps in prop::collection::vec(step(), 1..40)) {
        use svm_pages::PageStoreConfig;
        let off = PageStoreConfig { node_cache_entries: 1, page_cache_bytes: 0, leaf_index_entries: 0 };
        let tiny = PageStoreConfig {
            node_cache_entries: 2,
            page_cache_bytes: 2 * svm_pages::PAGE_CACHE_ENTRY_BYTES,
            leaf_index_entries: 3,
        };
        let stores = [
            PageStore::with_config(MemKv::new(), off),
            PageStore::with_config(MemKv::new(), tiny),
            PageStore::with_config(MemKv::new(), PageStoreConfig::default()),
        ];
        let a = addr(0x44);
        // (root, model) of every state made so far; the empty state first.
        let mut states = vec![(empty_root(), std::collections::BTreeMap::<u32, u8>::new())];
        for s in &steps {
            match s {
                Step::Commit(base, dirty) => {
                    let (root, mut model) = states[base % states.len()].clone();
                    let pages: Vec<(PageIndex, Box<Page>)> = dirty
                        .iter()
                        .map(|(&i, &fill)| (PageIndex(i), Box::new([fill; PAGE_SIZE])))
                        .collect();
                    let refs: Vec<(PageIndex, &Page)> =
                        pages.iter().map(|(i, p)| (*i, &**p)).collect();
                    let new: Vec<State> =
                        stores.iter().map(|s| s.commit(&a, &root, &refs).unwrap().state).collect();
                    prop_assert!(new.iter().all(|r| *r == new[0]));
                    for (&i, &fill) in dirty {
                        if fill == 0 { model.remove(&i); } else { model.insert(i, fill); }
                    }
                    states.push((new[0], model));
                }
                Step::Read(at, index) => {
                    let (root, model) = &states[at % states.len()];
                    for s in &stores {
                        let got = s.read_page(&a, root, PageIndex(*index)).unwrap();
                        match model.get(index) {
                            Some(&fill) => prop_assert_eq!(got.as_deref(), Some(&[fill; PAGE_SIZE][..])),
                            None => prop_assert_eq!(got, None),
                        }
                    }
                }
            }
        }
    }
}
