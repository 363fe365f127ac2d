//! The conformance suite every [`KvStore`] backend passes.
//!
//! Each function checks one behaviour of the trait and panics (like any test
//! assertion) when the backend breaks it. Backends run the whole suite
//! through [`kv_conformance_tests!`](crate::kv_conformance_tests), which
//! expands to one `#[test]` per check inside a module named after the
//! backend, so a failing test names its backend (`rocksdb::batch_is_atomic`).
//!
//! A node that writes its own backend can run the same suite:
//!
//! ```text
//! // in tests/conformance.rs of a crate with `tempfile` as a dev-dependency
//! svm_kv::kv_conformance_tests!(my_backend, |dir: &std::path::Path| MyKv::open(dir), persistent);
//! ```
//!
//! The store-level checks take a fresh, empty store. The path-level checks
//! take an `open` function and a fresh, empty directory that the caller owns
//! (a `tempfile::TempDir`, never a fixed path, so tests run in parallel).

use std::path::Path;

use bytes::Bytes;

use crate::{KvError, KvStore, WriteBatch};

fn b(s: &[u8]) -> Bytes {
    Bytes::copy_from_slice(s)
}

/// Put, get, overwrite and delete single keys; deleting a missing key is not
/// an error.
pub fn get_put_delete_overwrite(kv: &dyn KvStore) {
    assert_eq!(kv.get(b"k").unwrap(), None);
    assert!(!kv.contains(b"k").unwrap());
    kv.put(b"k", b"one").unwrap();
    assert_eq!(kv.get(b"k").unwrap(), Some(b(b"one")));
    assert!(kv.contains(b"k").unwrap());
    kv.put(b"k", b"two-longer").unwrap();
    assert_eq!(kv.get(b"k").unwrap(), Some(b(b"two-longer")));
    kv.put(b"k", b"3").unwrap();
    assert_eq!(kv.get(b"k").unwrap(), Some(b(b"3")));
    kv.delete(b"k").unwrap();
    assert_eq!(kv.get(b"k").unwrap(), None);
    kv.delete(b"k").unwrap();
    kv.delete(b"never-written").unwrap();
    assert_eq!(kv.get(b"k").unwrap(), None);
}

/// An empty value is stored and is distinct from a missing key; the empty
/// key is a valid key.
pub fn empty_values_and_keys(kv: &dyn KvStore) {
    kv.put(b"e", b"").unwrap();
    assert_eq!(kv.get(b"e").unwrap(), Some(Bytes::new()));
    assert!(kv.contains(b"e").unwrap());
    kv.put(b"", b"empty key").unwrap();
    assert_eq!(kv.get(b"").unwrap(), Some(b(b"empty key")));
    let all = kv.scan_prefix(b"").unwrap();
    assert_eq!(
        all,
        vec![(Bytes::new(), b(b"empty key")), (b(b"e"), Bytes::new())]
    );
}

/// A 1 MiB value round-trips byte for byte.
pub fn large_values(kv: &dyn KvStore) {
    let value: Vec<u8> = (0..1usize << 20).map(|i| (i % 251) as u8).collect();
    kv.put(b"big", &value).unwrap();
    let got = kv.get(b"big").unwrap().expect("1 MiB value present");
    assert_eq!(got.len(), 1 << 20);
    assert!(got == value, "1 MiB value differs");
}

/// Keys with NUL, 0xff and non-UTF-8 bytes are distinct and round-trip.
pub fn binary_keys(kv: &dyn KvStore) {
    let keys: [&[u8]; 6] = [
        &[0],
        &[0, 0],
        &[0xff],
        &[0xff, 0],
        &[0xc3, 0x28, 0x00, 0x01],
        &[1, 0, 1],
    ];
    for (i, k) in keys.iter().enumerate() {
        kv.put(k, &[i as u8]).unwrap();
    }
    for (i, k) in keys.iter().enumerate() {
        assert_eq!(
            kv.get(k).unwrap(),
            Some(Bytes::from(vec![i as u8])),
            "key {k:?}"
        );
    }
    assert_eq!(kv.get(&[0, 0, 0]).unwrap(), None);
    let scanned: Vec<Bytes> = kv
        .scan_prefix(&[0xff])
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(scanned, vec![b(&[0xff]), b(&[0xff, 0])]);
}

/// A batch applies every operation, in order: the last operation on a key
/// wins, and an empty batch is a no-op.
pub fn batch_applies_in_order(kv: &dyn KvStore) {
    kv.put(b"old", b"x").unwrap();
    let mut batch = WriteBatch::new();
    batch
        .put(b(b"a"), b(b"1"))
        .put(b(b"b"), b(b"2"))
        .delete(b(b"old"))
        .put(b(b"a"), b(b"1b"))
        .put(b(b"c"), b(b"3"))
        .delete(b(b"c"))
        .delete(b(b"d"))
        .put(b(b"d"), b(b"4"));
    kv.write(batch).unwrap();
    assert_eq!(kv.get(b"a").unwrap(), Some(b(b"1b")));
    assert_eq!(kv.get(b"b").unwrap(), Some(b(b"2")));
    assert_eq!(kv.get(b"c").unwrap(), None);
    assert_eq!(kv.get(b"d").unwrap(), Some(b(b"4")));
    assert_eq!(kv.get(b"old").unwrap(), None);
    kv.write(WriteBatch::new()).unwrap();
    assert_eq!(kv.scan_prefix(b"").unwrap().len(), 3);
}

/// While one thread writes batches that set two keys to the same value,
/// readers scanning both keys at once never see them differ: a batch is
/// visible whole or not at all.
pub fn batch_is_atomic(kv: &dyn KvStore) {
    const ROUNDS: u64 = 300;
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 1..=ROUNDS {
                let v = Bytes::copy_from_slice(&i.to_be_bytes());
                let mut batch = WriteBatch::new();
                batch
                    .put(b(b"pair/a"), v.clone())
                    .put(b(b"pair/b"), v.clone())
                    .put(b(b"pair/c"), Bytes::from(vec![i as u8; 4096]));
                kv.write(batch).unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        for _ in 0..2 {
            s.spawn(|| {
                let mut seen = 0u64;
                loop {
                    let finished = done.load(std::sync::atomic::Ordering::SeqCst);
                    let pairs = kv.scan_prefix(b"pair/").unwrap();
                    match pairs.len() {
                        0 => assert_eq!(seen, 0, "pairs vanished"),
                        3 => {
                            assert_eq!(pairs[0].1, pairs[1].1, "half-applied batch seen");
                            let i = u64::from_be_bytes(pairs[0].1[..].try_into().unwrap());
                            assert_eq!(pairs[2].1, Bytes::from(vec![i as u8; 4096]));
                            assert!(i >= seen, "went back in time: {i} after {seen}");
                            seen = i;
                        }
                        n => panic!("half-applied batch: {n} of 3 keys"),
                    }
                    if finished {
                        break;
                    }
                }
                assert_eq!(seen, ROUNDS);
            });
        }
    });
}

/// A prefix scan returns exactly the keys that start with the prefix, in
/// ascending bytewise order, whatever order they were written in.
pub fn prefix_scan_order(kv: &dyn KvStore) {
    let keys: [&[u8]; 9] = [
        b"p/b", b"p/a", b"p/", b"p/a/1", b"p0", b"o", b"p/\xff", b"p/\x00", b"q",
    ];
    for k in keys {
        kv.put(k, k).unwrap();
    }
    let got: Vec<Bytes> = kv
        .scan_prefix(b"p/")
        .unwrap()
        .into_iter()
        .map(|(k, v)| {
            assert_eq!(k, v, "value belongs to its key");
            k
        })
        .collect();
    let want: Vec<Bytes> = [&b"p/"[..], b"p/\x00", b"p/a", b"p/a/1", b"p/b", b"p/\xff"]
        .iter()
        .map(|k| b(k))
        .collect();
    assert_eq!(got, want);
    assert_eq!(kv.scan_prefix(b"p/a").unwrap().len(), 2);
    assert_eq!(kv.scan_prefix(b"zz").unwrap(), vec![]);
    assert_eq!(kv.scan_prefix(b"").unwrap().len(), keys.len());
    // Ordering of many numbered keys.
    for i in (0u32..200).rev() {
        kv.put(&[b"n/".as_slice(), &i.to_be_bytes()].concat(), b"")
            .unwrap();
    }
    let nums: Vec<u32> = kv
        .scan_prefix(b"n/")
        .unwrap()
        .into_iter()
        .map(|(k, _)| u32::from_be_bytes(k[2..].try_into().unwrap()))
        .collect();
    assert_eq!(nums, (0..200).collect::<Vec<_>>());
}

/// [`KvStore::visit_prefix`] visits exactly what [`KvStore::scan_prefix`]
/// returns, in the same order, and stops when the visitor says so.
pub fn visit_prefix_matches_scan(kv: &dyn KvStore) {
    for i in (0u32..300).rev() {
        let key = [b"v/".as_slice(), &i.to_be_bytes()].concat();
        kv.put(&key, &i.to_le_bytes()).unwrap();
    }
    kv.put(b"v", b"outside").unwrap();
    kv.put(b"w/0", b"outside").unwrap();
    for prefix in [&b"v/"[..], b"v/\x00\x00\x01", b"", b"zz"] {
        let mut visited = Vec::new();
        kv.visit_prefix(prefix, &mut |k, v| {
            visited.push((b(k), b(v)));
            true
        })
        .unwrap();
        assert_eq!(
            visited,
            kv.scan_prefix(prefix).unwrap(),
            "prefix {prefix:?}"
        );
    }
    let mut seen = 0;
    kv.visit_prefix(b"v/", &mut |_, _| {
        seen += 1;
        seen < 7
    })
    .unwrap();
    assert_eq!(seen, 7, "the walk stops when the visitor returns false");
}

/// Four readers run while one writer writes 500 keys, each with a counter
/// in the same batch. A reader that sees counter `n` also sees key `n`, and
/// every value it sees is the one written.
pub fn concurrent_readers_one_writer(kv: &dyn KvStore) {
    const N: u32 = 500;
    let key = |i: u32| [b"c/".as_slice(), &i.to_be_bytes()].concat();
    let value = |i: u32| i.wrapping_mul(2_654_435_761).to_le_bytes().repeat(8);
    std::thread::scope(|s| {
        s.spawn(|| {
            for i in 0..N {
                let mut batch = WriteBatch::new();
                batch
                    .put(key(i), value(i))
                    .put(b(b"count"), Bytes::copy_from_slice(&i.to_be_bytes()));
                kv.write(batch).unwrap();
            }
        });
        for r in 0..4u32 {
            s.spawn(move || {
                let mut last = 0;
                while last + 1 < N {
                    let Some(c) = kv.get(b"count").unwrap() else {
                        continue;
                    };
                    let c = u32::from_be_bytes(c[..].try_into().unwrap());
                    assert!(c >= last, "counter went back");
                    last = c;
                    let probe = (c + r * 7) % (c + 1);
                    assert_eq!(
                        kv.get(&key(probe)).unwrap().as_deref(),
                        Some(value(probe).as_slice()),
                        "key {probe} missing or wrong after counter {c}"
                    );
                }
            });
        }
    });
    assert_eq!(kv.scan_prefix(b"c/").unwrap().len(), N as usize);
}

/// Data written before the store is dropped is there after it is opened
/// again at the same path (for disk backends).
pub fn reopen_keeps_data<S: KvStore>(open: impl Fn(&Path) -> Result<S, KvError>, dir: &Path) {
    let path = dir.join("db");
    {
        let kv = open(&path).unwrap();
        let mut batch = WriteBatch::new();
        for i in 0u32..100 {
            batch.put(Bytes::from(i.to_be_bytes().to_vec()), vec![i as u8; 4096]);
        }
        kv.write(batch).unwrap();
        kv.put(b"gone", b"x").unwrap();
        kv.delete(b"gone").unwrap();
    }
    let kv = open(&path).unwrap();
    for i in 0u32..100 {
        assert_eq!(
            kv.get(&i.to_be_bytes()).unwrap(),
            Some(Bytes::from(vec![i as u8; 4096]))
        );
    }
    assert_eq!(kv.get(b"gone").unwrap(), None);
    assert_eq!(kv.scan_prefix(b"").unwrap().len(), 100);
}

/// Opening a path whose parent directories do not exist creates them
/// (with `create_if_missing`, the default), and the store works.
pub fn missing_parent_directories_are_created<S: KvStore>(
    open: impl Fn(&Path) -> Result<S, KvError>,
    dir: &Path,
) {
    let path = dir.join("new").join("nested").join("db");
    let kv = open(&path).unwrap();
    kv.put(b"k", b"v").unwrap();
    assert_eq!(kv.get(b"k").unwrap(), Some(b(b"v")));
    assert!(path.is_dir(), "{} was not created", path.display());
}

/// Opening a path that is a regular file gives an `Err`, not a panic.
pub fn regular_file_path_is_err<S: KvStore>(
    open: impl Fn(&Path) -> Result<S, KvError>,
    dir: &Path,
) {
    let file = dir.join("not-a-dir");
    std::fs::write(&file, b"plain file").unwrap();
    match open(&file) {
        Err(KvError::Open { path, .. }) => assert_eq!(path, file),
        Err(other) => panic!("expected KvError::Open, got {other:?}"),
        Ok(_) => panic!("opened a regular file as a database"),
    }
}

/// Opening a database that another live handle holds gives an `Err`; after
/// the first handle is dropped the path opens again.
pub fn locked_path_is_err<S: KvStore>(open: impl Fn(&Path) -> Result<S, KvError>, dir: &Path) {
    let path = dir.join("db");
    let first = open(&path).unwrap();
    first.put(b"k", b"v").unwrap();
    match open(&path) {
        Err(KvError::Open { .. }) => {}
        Err(other) => panic!("expected KvError::Open, got {other:?}"),
        Ok(_) => panic!("a second handle opened a locked database"),
    }
    drop(first);
    let again = open(&path).unwrap();
    assert_eq!(again.get(b"k").unwrap(), Some(b(b"v")));
}

/// Expands to a module `$name` with one `#[test]` per conformance check.
///
/// `$open` is an expression of type `impl Fn(&Path) -> Result<S, KvError>`;
/// each store-level test opens a fresh store in its own `tempfile`
/// directory. Add `persistent` for disk backends to run the path-level
/// checks too. The calling crate needs `tempfile` as a dev-dependency.
#[macro_export]
macro_rules! kv_conformance_tests {
    ($name:ident, $open:expr) => {
        $crate::kv_conformance_tests!(@store $name, $open, {});
    };
    ($name:ident, $open:expr, persistent) => {
        $crate::kv_conformance_tests!(@store $name, $open, {
            #[test]
            fn reopen_keeps_data() {
                let dir = ::tempfile::tempdir().unwrap();
                $crate::conformance::reopen_keeps_data($open, dir.path());
            }
            #[test]
            fn missing_parent_directories_are_created() {
                let dir = ::tempfile::tempdir().unwrap();
                $crate::conformance::missing_parent_directories_are_created($open, dir.path());
            }
            #[test]
            fn regular_file_path_is_err() {
                let dir = ::tempfile::tempdir().unwrap();
                $crate::conformance::regular_file_path_is_err($open, dir.path());
            }
            #[test]
            fn locked_path_is_err() {
                let dir = ::tempfile::tempdir().unwrap();
                $crate::conformance::locked_path_is_err($open, dir.path());
            }
        });
    };
    (@store $name:ident, $open:expr, { $($extra:tt)* }) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn with_store(check: fn(&dyn $crate::KvStore)) {
                let dir = ::tempfile::tempdir().unwrap();
                let kv = ($open)(&dir.path().join("db")).unwrap();
                check(&kv);
            }

            #[test]
            fn get_put_delete_overwrite() {
                with_store($crate::conformance::get_put_delete_overwrite);
            }
            #[test]
            fn empty_values_and_keys() {
                with_store($crate::conformance::empty_values_and_keys);
            }
            #[test]
            fn large_values() {
                with_store($crate::conformance::large_values);
            }
            #[test]
            fn binary_keys() {
                with_store($crate::conformance::binary_keys);
            }
            #[test]
            fn batch_applies_in_order() {
                with_store($crate::conformance::batch_applies_in_order);
            }
            #[test]
            fn batch_is_atomic() {
                with_store($crate::conformance::batch_is_atomic);
            }
            #[test]
            fn prefix_scan_order() {
                with_store($crate::conformance::prefix_scan_order);
            }
            #[test]
            fn visit_prefix_matches_scan() {
                with_store($crate::conformance::visit_prefix_matches_scan);
            }
            #[test]
            fn concurrent_readers_one_writer() {
                with_store($crate::conformance::concurrent_readers_one_writer);
            }
            $($extra)*
        }
    };
}
