//! Criterion benchmarks of every backend: get hit, get miss, and a batch
//! write of 1, 64 and 1024 values of 4096 bytes.
//!
//! Run: `cargo bench -p svm-kv --bench kv`. Disk backends run in a fresh
//! temporary directory with their default config (no fsync per write).

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use svm_kv::{Bytes, KvStore, LevelKv, MemKv, RocksKv, WriteBatch};

const VALUE_BYTES: usize = 4096;
const PREFILL: u32 = 10_000;
const KEY_SPACE: u32 = 16_384;

fn key(i: u32) -> Bytes {
    Bytes::copy_from_slice(&[b"bench/".as_slice(), &i.to_be_bytes()].concat())
}

fn prefill(kv: &dyn KvStore, value: &Bytes) {
    for chunk in (0..PREFILL).collect::<Vec<_>>().chunks(1000) {
        let mut batch = WriteBatch::with_capacity(chunk.len());
        for &i in chunk {
            batch.put(key(i), value.clone());
        }
        kv.write(batch).unwrap();
    }
}

fn bench_backend(c: &mut Criterion, name: &str, kv: &dyn KvStore) {
    let value = Bytes::from(vec![0xabu8; VALUE_BYTES]);
    prefill(kv, &value);
    let mut group = c.benchmark_group(format!("kv/{name}"));

    let mut i = 0u32;
    group.bench_function("get_hit", |b| {
        b.iter(|| {
            i = (i + 7919) % PREFILL;
            black_box(kv.get(&key(i)).unwrap().unwrap());
        })
    });
    group.bench_function("get_miss", |b| {
        b.iter(|| {
            i = i.wrapping_add(7919);
            black_box(kv.get(&key(PREFILL + KEY_SPACE + i % 100_000)).unwrap());
        })
    });
    let mut next = 0u32;
    for n in [1u32, 64, 1024] {
        group.throughput(Throughput::Bytes(n as u64 * VALUE_BYTES as u64));
        group.bench_with_input(BenchmarkId::new("batch_write_4k", n), &n, |b, &n| {
            b.iter_batched(
                || {
                    let mut batch = WriteBatch::with_capacity(n as usize);
                    for _ in 0..n {
                        next = (next + 1) % KEY_SPACE;
                        batch.put(key(next), value.clone());
                    }
                    batch
                },
                |batch| kv.write(batch).unwrap(),
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

fn kv_benches(c: &mut Criterion) {
    bench_backend(c, "memkv", &MemKv::new());
    let dir = tempfile::tempdir().unwrap();
    bench_backend(
        c,
        "rocksdb",
        &RocksKv::open(dir.path().join("rocks")).unwrap(),
    );
    bench_backend(
        c,
        "leveldb",
        &LevelKv::open(dir.path().join("level")).unwrap(),
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(50).measurement_time(std::time::Duration::from_secs(3));
    targets = kv_benches
}
criterion_main!(benches);
