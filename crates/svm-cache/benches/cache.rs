//! Criterion benchmarks of the cache layer.
//!
//! - `slice_read_hit`: an 8-byte slice read on a cache hit, beside a raw
//!   `HashMap<u32, Box<[u8; 4096]>>` read of the same bytes (goal: at most
//!   2× the raw read).
//! - `commit/{1,16,256}`: a commit of that many dirty pages to RocksKv
//!   through the cache (page hashes, Merkle nodes, state record, one
//!   batch), beside `raw_writebatch/{n}`: the same pages written by a raw
//!   RocksDB `WriteBatch` under sequential keys, and
//!   `raw_writebatch_slot_keys/{n}`: the bytes the page store writes for
//!   them under its keys (storage format 6: a page rewritten whole is a
//!   new slot base, a slot head and an undo record holding the page it
//!   replaced). The contract holds 1024 pages, so one dirty page makes 11
//!   tree records, which ride in the state record's pack: 4 keys. `page_cache_1_page_contract/1`: the same
//!   for a contract whose only page is the dirty one.
//!   Each variant writes to its own database, opened with the page
//!   store's RocksDB options. `page_cache_blob_files/{1,256}` and
//!   `raw_writebatch_blob_files/{1,256}`: the same with values of 4096
//!   bytes or more in RocksDB's blob files (`RocksConfig::blob_min_bytes`).
//! - `commit_memkv/page_cache/{1,16,256}`: the same commits over MemKv:
//!   no disk, but not the page store's work alone either, since the MemKv
//!   keeps every page and state record it is given (a profile shows the
//!   kernel clearing fresh memory and the MemKv's `BTreeMap` inserts as
//!   ~40 % of the time).
//! - `cold_page_load`: the first read of a page from RocksKv through a new
//!   cache (a tree walk and a page read).
//!
//! - `map/get_1m/{warm,cold_rocksdb}` and `map/set_1m/warm`: a random get
//!   (or an update) on a 1,000,000-entry map of 20-byte keys and 8-byte
//!   values ([`svm_cache::map::PageMap`]), with its pages in the cache
//!   (warm) or through a new cache over RocksDB per get (cold: every page
//!   on the path read from the KV). The setup prints the pages one get
//!   touches.
//! - `hash/{node_hash,ext_hash,page_hash}`: one node hash, one extension
//!   hash and one page hash (`svm_pages::hash`), the blake3 work of a page
//!   commit.
//!
//! Run: `cargo bench --workspace --all-features --locked --bench cache`.

use std::collections::HashMap;
use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use svm_cache::map::PageMap;
use svm_cache::{CacheConfig, PageCache, PageSlice, PageSliceCache};
use svm_kv::{KvStore, MemKv, RocksConfig, RocksKv};
use svm_pages::{PAGE_SIZE, PageIndex, PageStore, empty_root};
use svm_types::Address;

const ADDR: Address = Address([7; 20]);

fn slice_read_hit(c: &mut Criterion) {
    let mut group = c.benchmark_group("cache/slice_read_hit");
    let store = PageStore::new(MemKv::new());
    let mut cache = PageSliceCache::new(
        PageCache::open(store, ADDR, empty_root(), CacheConfig::default()).unwrap(),
    );
    let slices: Vec<PageSlice> = (0..16u32)
        .map(|i| PageSlice::new(PageIndex(i), 8 * i, 8).unwrap())
        .collect();
    for (i, s) in slices.iter().enumerate() {
        cache.write_u64(s, i as u64 + 1).unwrap();
    }
    let mut i = 0usize;
    group.bench_function("page_slice_cache", |b| {
        b.iter(|| {
            i = (i + 1) & 15;
            let mut buf = [0u8; 8];
            cache.read_into(black_box(&slices[i]), &mut buf).unwrap();
            black_box(buf)
        })
    });

    let mut raw: HashMap<u32, Box<[u8; PAGE_SIZE]>> = HashMap::new();
    for i in 0..16u32 {
        let mut p = Box::new([0u8; PAGE_SIZE]);
        p[8 * i as usize..8 * i as usize + 8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        raw.insert(i, p);
    }
    let mut j = 0u32;
    group.bench_function("raw_hashmap", |b| {
        b.iter(|| {
            j = (j + 1) & 15;
            let page = black_box(&raw).get(&black_box(j)).unwrap();
            let off = 8 * j as usize;
            let mut buf = [0u8; 8];
            buf.copy_from_slice(&page[off..off + 8]);
            black_box(buf)
        })
    });
    group.finish();
}

/// `hash/{node_hash,ext_hash,page_hash}`: one node hash (64 bytes, one
/// keyed blake3 compression), one extension hash (37 bytes, one
/// compression) and one page hash (4 120 bytes). A commit of a contract's
/// only page costs one extension hash and one page hash (storage format 4;
/// format 3 hashed 32 nodes and the page).
fn hashes(c: &mut Criterion) {
    let mut group = c.benchmark_group("hash");
    let (left, right) = ([1u8; 32], [2u8; 32]);
    group.bench_function("node_hash", |b| {
        b.iter(|| svm_pages::hash::node_hash(black_box(&left), black_box(&right)))
    });
    group.bench_function("ext_hash", |b| {
        b.iter(|| svm_pages::hash::ext_hash(black_box(3), black_box(0x1234_5678), black_box(&left)))
    });
    let content = [7u8; PAGE_SIZE];
    group.bench_function("page_hash", |b| {
        b.iter(|| svm_pages::hash::page_hash(&Address([3; 20]), PageIndex(5), black_box(&content)))
    });
    group.bench_function("leaf_hash", |b| {
        b.iter(|| svm_pages::hash::leaf_hash(&Address([3; 20]), PageIndex(5), black_box(&content)))
    });
    group.finish();
}

fn page(seed: u64) -> Vec<u8> {
    let mut p = vec![0u8; PAGE_SIZE];
    for (k, chunk) in p.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed.wrapping_mul(0x9e37_79b9) ^ k as u64).to_le_bytes());
    }
    p
}

/// A page cache over `kv` for a contract that already holds 1024 pages
/// (committed).
fn contract_of_1024_pages<K: KvStore>(kv: K) -> PageCache<PageStore<K>> {
    let store = PageStore::new(kv);
    let mut cache = PageCache::open(store, ADDR, empty_root(), CacheConfig::default()).unwrap();
    for i in 0..1024u32 {
        cache.write(PageIndex(i), 0, &page(i as u64)).unwrap();
    }
    cache.commit().unwrap();
    cache
}

/// Benchmarks `name/n` in `group`: a commit of `n` new pages (every
/// third index) through `cache`, the pages' writes into the cache included.
fn bench_page_cache_commit<K: KvStore>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    cache: &mut PageCache<PageStore<K>>,
    seed: &mut u64,
    n: u32,
    name: &str,
) {
    group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
        b.iter_batched(
            || {
                *seed += 1;
                (0..n)
                    .map(|i| page(*seed * 1000 + i as u64))
                    .collect::<Vec<_>>()
            },
            |pages| {
                for (i, p) in pages.iter().enumerate() {
                    cache.write(PageIndex(i as u32 * 3), 0, p).unwrap();
                }
                cache.commit().unwrap()
            },
            BatchSize::SmallInput,
        )
    });
}

/// A raw RocksDB database in `dir` opened with the options [`RocksKv`]
/// opens its own with (`RocksConfig::rocksdb_options`; with `blobs`, values
/// of 4096 bytes or more in blob files), so that a raw baseline differs
/// from the page store only in what it writes.
fn raw_db(dir: &std::path::Path, blobs: bool) -> rocksdb::DB {
    let config = RocksConfig {
        blob_min_bytes: blobs.then_some(PAGE_SIZE as u64),
        ..RocksConfig::default()
    };
    rocksdb::DB::open(&config.rocksdb_options(), dir).unwrap()
}

/// Writes `batch` to the raw database the way [`RocksKv`] writes one: a
/// RocksDB `WriteBatch` built from the batch's operations in key order.
fn raw_write(db: &rocksdb::DB, mut batch: Vec<(Vec<u8>, Vec<u8>)>) {
    batch.sort_by(|a, b| a.0.cmp(&b.0));
    let mut wb = rocksdb::WriteBatch::default();
    for (key, p) in &batch {
        wb.put(key, p);
    }
    db.write(wb).unwrap()
}

/// Every variant gets its own database in its own directory, dropped when
/// the variant ends, so that no variant pays for another's compactions.
fn commits(c: &mut Criterion) {
    let mut group = c.benchmark_group("cache/commit_rocksdb");
    let mut seed = 1u64 << 32;
    for n in [1u32, 16, 256] {
        group.throughput(Throughput::Bytes(n as u64 * PAGE_SIZE as u64));
        {
            let dir = tempfile::tempdir().unwrap();
            let mut cache = contract_of_1024_pages(RocksKv::open(dir.path()).unwrap());
            bench_page_cache_commit(&mut group, &mut cache, &mut seed, n, "page_cache");
        }
        // The same with pages in RocksDB's blob files
        // (`RocksConfig::blob_min_bytes`).
        if n != 16 {
            let dir = tempfile::tempdir().unwrap();
            let blobs = RocksConfig {
                blob_min_bytes: Some(PAGE_SIZE as u64),
                ..RocksConfig::default()
            };
            let mut cache = contract_of_1024_pages(RocksKv::open_with(dir.path(), &blobs).unwrap());
            bench_page_cache_commit(
                &mut group,
                &mut cache,
                &mut seed,
                n,
                "page_cache_blob_files",
            );
        }
        if n == 1 {
            let dir = tempfile::tempdir().unwrap();
            let store = PageStore::new(RocksKv::open(dir.path()).unwrap());
            let mut one =
                PageCache::open(store, ADDR, empty_root(), CacheConfig::default()).unwrap();
            group.bench_with_input(
                BenchmarkId::new("page_cache_1_page_contract", n),
                &n,
                |b, _| {
                    b.iter_batched(
                        || {
                            seed += 1;
                            page(seed * 1000)
                        },
                        |p| {
                            one.write(PageIndex(0), 0, &p).unwrap();
                            one.commit().unwrap()
                        },
                        BatchSize::SmallInput,
                    )
                },
            );
        }
        // The bytes the page store writes for these pages, under its keys
        // (storage format 6): each page rewritten whole is a new slot base
        // (`L` ‖ address ‖ index, 4096 bytes), a slot head (`D`, 40 bytes)
        // and an undo record holding the replaced page (`U` ‖ … ‖ `!n`,
        // 32 + 4 + 4096 bytes).
        {
            let dir = tempfile::tempdir().unwrap();
            let raw = raw_db(dir.path(), false);
            let mut writes = 0u64;
            group.bench_with_input(
                BenchmarkId::new("raw_writebatch_slot_keys", n),
                &n,
                |b, &n| {
                    b.iter_batched(
                        || {
                            seed += 1;
                            writes += 1;
                            (0..n)
                                .flat_map(|i| {
                                    let slot = |ns: u8| {
                                        let mut k = vec![ns];
                                        k.extend_from_slice(ADDR.as_bytes());
                                        k.extend_from_slice(&(i * 3).to_be_bytes());
                                        k
                                    };
                                    let mut undo_key = slot(b'U');
                                    undo_key.extend_from_slice(&(!writes).to_be_bytes());
                                    let mut undo = vec![1u8; 36];
                                    undo.extend_from_slice(&page(seed * 1000 + i as u64 + 7));
                                    [
                                        (slot(b'L'), page(seed * 1000 + i as u64)),
                                        (slot(b'D'), vec![2u8; 40]),
                                        (undo_key, undo),
                                    ]
                                })
                                .collect::<Vec<_>>()
                        },
                        |batch| raw_write(&raw, batch),
                        BatchSize::SmallInput,
                    )
                },
            );
        }
        for (name, blobs) in [
            ("raw_writebatch", false),
            ("raw_writebatch_blob_files", true),
        ] {
            if n == 16 && blobs {
                continue;
            }
            let dir = tempfile::tempdir().unwrap();
            let raw = raw_db(dir.path(), blobs);
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.iter_batched(
                    || {
                        seed += 1;
                        (0..n)
                            .map(|i| {
                                let mut key = vec![0u8; 33];
                                key[0] = b'P';
                                key[1..9].copy_from_slice(&(seed * 1000 + i as u64).to_be_bytes());
                                (key, page(seed * 1000 + i as u64))
                            })
                            .collect::<Vec<_>>()
                    },
                    |batch| raw_write(&raw, batch),
                    BatchSize::SmallInput,
                )
            });
        }
    }
    group.finish();
}

/// The commits of [`commits`] on a contract of 1024 pages over [`MemKv`]:
/// page hashes, tree rebuild, pack, batch, and the MemKv's growing copy of
/// every batch (see the module docs: not the page store's work alone).
fn commits_memkv(c: &mut Criterion) {
    let mut group = c.benchmark_group("cache/commit_memkv");
    let mut cache = contract_of_1024_pages(MemKv::new());
    let mut seed = 1u64 << 33;
    for n in [1u32, 16, 256] {
        group.throughput(Throughput::Bytes(n as u64 * PAGE_SIZE as u64));
        bench_page_cache_commit(&mut group, &mut cache, &mut seed, n, "page_cache");
    }
    group.finish();
}

fn cold_load(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::new(RocksKv::open(dir.path().join("svm")).unwrap());
    let mut cache =
        PageCache::open(store.clone(), ADDR, empty_root(), CacheConfig::default()).unwrap();
    for i in 0..1024u32 {
        cache.write(PageIndex(i), 0, &page(i as u64)).unwrap();
    }
    let root = cache.commit().unwrap();
    let mut i = 0u32;
    c.bench_function("cache/cold_page_load_rocksdb", |b| {
        b.iter_batched(
            || {
                i = (i + 389) % 1024;
                // A fresh store too, so its node cache is cold.
                let fresh = PageStore::new(store.kv());
                let cache = PageCache::open(fresh, ADDR, root, CacheConfig::default()).unwrap();
                (i, cache)
            },
            |(i, mut cache)| {
                let mut buf = [0u8; 8];
                cache.read_into(PageIndex(i), 0, &mut buf).unwrap();
                buf
            },
            BatchSize::SmallInput,
        )
    });
}

/// The 20-byte key of entry `i` of the map benchmarks.
fn map_key(i: u64) -> [u8; 20] {
    let mut k = [0u8; 20];
    k.copy_from_slice(&blake3::hash(&i.to_be_bytes()).as_bytes()[..20]);
    k
}

const MAP_ENTRIES: u64 = 1_000_000;

fn maps(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let store = PageStore::new(RocksKv::open(dir.path().join("svm")).unwrap());
    let config = CacheConfig::default();
    let mut cache = PageCache::open(store.clone(), ADDR, empty_root(), config).unwrap();
    {
        let mut map = PageMap::open(&mut cache, 1, 20, 8).unwrap();
        for i in 0..MAP_ENTRIES {
            map.insert(&map_key(i), &i.to_be_bytes()).unwrap();
        }
        assert_eq!(map.len().unwrap(), MAP_ENTRIES);
    }
    let root = cache.commit().unwrap();
    let pages = {
        let fresh = PageStore::new(store.kv());
        let mut cold = PageCache::open(fresh, ADDR, root, config).unwrap();
        let before = cold.stats().pages_loaded;
        let mut map = PageMap::open(&mut cold, 1, 20, 8).unwrap();
        assert_eq!(
            map.get(&map_key(4242)).unwrap(),
            Some(4242u64.to_be_bytes().to_vec())
        );
        let nodes = map.stats.nodes_read;
        (nodes, cold.stats().pages_loaded - before)
    };
    eprintln!(
        "map of {MAP_ENTRIES} entries: a get reads {} tree nodes; {} pages loaded from the KV (header and nodes)",
        pages.0, pages.1
    );

    let mut group = c.benchmark_group("map");
    let mut i = 0u64;
    group.bench_function("get_1m/warm", |b| {
        b.iter(|| {
            i = (i + 7919) % MAP_ENTRIES;
            let mut map = PageMap::open(&mut cache, 1, 20, 8).unwrap();
            black_box(map.get(&map_key(i)).unwrap())
        })
    });
    group.bench_function("set_1m/warm", |b| {
        b.iter(|| {
            i = (i + 7919) % MAP_ENTRIES;
            let mut map = PageMap::open(&mut cache, 1, 20, 8).unwrap();
            black_box(map.insert(&map_key(i), &(i + 1).to_be_bytes()).unwrap())
        })
    });
    group.bench_function("get_1m/cold_rocksdb", |b| {
        b.iter_batched(
            || {
                i = (i + 7919) % MAP_ENTRIES;
                let fresh = PageStore::new(store.kv());
                (i, PageCache::open(fresh, ADDR, root, config).unwrap())
            },
            |(i, mut cold)| {
                let mut map = PageMap::open(&mut cold, 1, 20, 8).unwrap();
                black_box(map.get(&map_key(i)).unwrap())
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3));
    targets = slice_read_hit, commits, commits_memkv, cold_load, maps, hashes
}
criterion_main!(benches);
