//! The compiled-module cache: a memory tier and an optional disk tier.
//!
//! - **Memory tier:** an LRU of compiled modules by code hash, bounded by a
//!   byte budget; a module's size is estimated by its serialized artifact.
//! - **Disk tier:** serialized wasmer artifacts in a directory, one file per
//!   module. The cache key is the blake3 of (code hash,
//!   [`CACHE_FORMAT_VERSION`], wasmer version, compiler, gas schedule hash,
//!   memory-page limit, table-element limit, stack bytes), so an upgrade of
//!   any of them never loads a stale artifact; the file name is its hex.
//! - **One compile per module:** concurrent lookups of a module that is in
//!   neither tier wait for the one thread compiling it.
//! - Compile errors are cached in memory too, so bad code is compiled once.
//!
//! Disk file layout:
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 8 | magic, ASCII `SVMMOD03` |
//! | 8 | 32 | MAC: keyed blake3 (key: the per-database secret) of cache key ‖ bytes 40.. |
//! | 40 | 24 | module summary: initial memory pages, table elements, active data bytes, each `u64` BE |
//! | 64 | 8 | flags, `u64` BE: bit 0 set when a block may reuse its instances (`Compiled::resettable`); the other bits 0 |
//! | 72 | n | the wasmer artifact (`Module::serialize`) |
//!
//! `Module::deserialize` is unsafe: the artifact holds machine code that is
//! run as is. The MAC is verified first, keyed with a 32-byte secret the
//! runtime creates at the first open of its database and keeps in it (not
//! in the cache directory): a file written by anyone without the secret,
//! or copied under another module's name (the cache key is under the MAC),
//! fails the check, is deleted and the module recompiled, never executed.
//! Files are written to a unique temporary file in the directory, then
//! renamed into place.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;
use svm_types::CodeHash;
use wasmer::sys::NativeEngineExt;
use wasmer::{Engine, Module};

use crate::gas::schedule_hash;
use crate::gate::ModuleSummary;

/// The version of the disk format and key derivation.
pub const CACHE_FORMAT_VERSION: u32 = 4;

/// The wasmer version whose artifacts the disk tier holds.
pub const WASMER_VERSION: &str = "7.4.2";

const MAGIC: &[u8; 8] = b"SVMMOD03";
const HEADER: usize = 72;

/// Settings of the compiled-module cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleCacheConfig {
    /// The memory tier's budget, in bytes of serialized artifacts.
    /// Default: 256 MiB.
    pub memory_bytes: usize,
    /// The disk tier's directory; `None` (the default) disables it.
    pub disk_dir: Option<PathBuf>,
}

impl Default for ModuleCacheConfig {
    fn default() -> Self {
        Self {
            memory_bytes: 256 << 20,
            disk_dir: None,
        }
    }
}

/// Counters of the module cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModuleCacheStats {
    /// Modules found in the memory tier.
    pub memory_hits: u64,
    /// Modules loaded from the disk tier.
    pub disk_hits: u64,
    /// Lookups that had to compile.
    pub misses: u64,
    /// Disk files found corrupt or failing the MAC, deleted and recompiled.
    pub disk_corrupt: u64,
    /// Total time spent compiling.
    pub compile_time: Duration,
}

/// A compiled module and the engine that owns its machine code.
#[derive(Clone)]
pub(crate) struct Compiled {
    pub(crate) engine: Engine,
    pub(crate) module: Module,
    pub(crate) summary: ModuleSummary,
    /// Whether a block may reuse an instance of it after a reset
    /// ([`crate::engine::reuse`]): Linux, code that changes no table and drops
    /// no segment, mutable globals only of type `i32` or `i64`, every
    /// mutable global exported.
    pub(crate) resettable: bool,
}

struct Entry {
    compiled: Result<Compiled, String>,
    bytes: usize,
}

/// What identifies an artifact beyond the code hash.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ArtifactKind {
    pub(crate) compiler: &'static str,
    pub(crate) max_memory_pages: u64,
    pub(crate) max_table_elements: u64,
    pub(crate) stack_bytes: usize,
    pub(crate) max_stack_slots: u32,
    pub(crate) max_frame_slots: u32,
}

pub(crate) struct ModuleCache {
    config: ModuleCacheConfig,
    kind: ArtifactKind,
    memory: Mutex<(LruCache<CodeHash, Entry>, usize)>,
    /// A lock per module being compiled, so each compiles once.
    compiling: Mutex<HashMap<CodeHash, Arc<Mutex<()>>>>,
    stats: Mutex<ModuleCacheStats>,
}

impl ModuleCache {
    pub(crate) fn new(config: ModuleCacheConfig, kind: ArtifactKind) -> Self {
        Self {
            config,
            kind,
            memory: Mutex::new((LruCache::unbounded(), 0)),
            compiling: Mutex::new(HashMap::new()),
            stats: Mutex::new(ModuleCacheStats::default()),
        }
    }

    pub(crate) fn stats(&self) -> ModuleCacheStats {
        *self.stats.lock()
    }

    /// The cache key of `hash` (module docs).
    fn cache_key(&self, hash: &CodeHash) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(hash.as_bytes());
        h.update(&CACHE_FORMAT_VERSION.to_be_bytes());
        h.update(WASMER_VERSION.as_bytes());
        h.update(&[0]);
        h.update(self.kind.compiler.as_bytes());
        h.update(&[0]);
        h.update(&schedule_hash());
        h.update(&self.kind.max_memory_pages.to_be_bytes());
        h.update(&self.kind.max_table_elements.to_be_bytes());
        h.update(&(self.kind.stack_bytes as u64).to_be_bytes());
        h.update(&self.kind.max_stack_slots.to_be_bytes());
        h.update(&self.kind.max_frame_slots.to_be_bytes());
        *h.finalize().as_bytes()
    }

    /// The disk file of `hash`.
    pub(crate) fn disk_path(&self, hash: &CodeHash) -> Option<PathBuf> {
        let dir = self.config.disk_dir.as_ref()?;
        Some(dir.join(format!(
            "{}.svmmod",
            blake3::Hash::from(self.cache_key(hash)).to_hex()
        )))
    }

    fn insert(&self, hash: CodeHash, compiled: Result<Compiled, String>, bytes: usize) {
        let mut guard = self.memory.lock();
        let (lru, total) = &mut *guard;
        if let Some(old) = lru.put(hash, Entry { compiled, bytes }) {
            *total -= old.bytes;
        }
        *total += bytes;
        while *total > self.config.memory_bytes && lru.len() > 1 {
            match lru.pop_lru() {
                Some((_, e)) => *total -= e.bytes,
                None => break,
            }
        }
    }

    /// The memory tier's entry for `hash` (a module or its compile error),
    /// counted as a memory hit.
    pub(crate) fn memory_hit(&self, hash: &CodeHash) -> Option<Result<Compiled, String>> {
        let compiled = self.memory.lock().0.get(hash)?.compiled.clone();
        self.stats.lock().memory_hits += 1;
        Some(compiled)
    }

    /// The compiled module of `code` (hash `hash`): from memory, from disk,
    /// or compiled with `compile` and stored in both tiers. `secret` gives
    /// the disk tier's MAC key; `None` disables the disk tier for this
    /// lookup. Concurrent lookups of one module compile it once.
    pub(crate) fn get_or_compile(
        &self,
        hash: &CodeHash,
        code: impl FnOnce() -> Result<Vec<u8>, String>,
        compile: impl FnOnce(&[u8]) -> Result<Compiled, String>,
        headless: impl FnOnce() -> Engine,
        secret: impl FnOnce() -> Option<[u8; 32]>,
    ) -> Result<Compiled, String> {
        if let Some(c) = self.memory_hit(hash) {
            return c;
        }
        let lock = self.compiling.lock().entry(*hash).or_default().clone();
        let result = {
            let _guard = lock.lock();
            match self.memory_hit(hash) {
                // Another thread compiled it while this one waited.
                Some(c) => c,
                None => self.load_or_compile(hash, code, compile, headless, secret),
            }
        };
        let mut compiling = self.compiling.lock();
        if Arc::strong_count(&lock) <= 2 {
            compiling.remove(hash);
        }
        result
    }

    fn load_or_compile(
        &self,
        hash: &CodeHash,
        code: impl FnOnce() -> Result<Vec<u8>, String>,
        compile: impl FnOnce(&[u8]) -> Result<Compiled, String>,
        headless: impl FnOnce() -> Engine,
        secret: impl FnOnce() -> Option<[u8; 32]>,
    ) -> Result<Compiled, String> {
        let disk = self
            .disk_path(hash)
            .and_then(|p| secret().map(|s| (p, s, self.cache_key(hash))));
        if let Some((p, secret, key)) = &disk
            && let Some((compiled, bytes)) = self.load_disk(p, secret, key, headless)
        {
            self.stats.lock().disk_hits += 1;
            self.insert(*hash, Ok(compiled.clone()), bytes);
            return Ok(compiled);
        }
        self.stats.lock().misses += 1;
        let code = code()?;
        let start = Instant::now();
        let compiled = compile(&code);
        self.stats.lock().compile_time += start.elapsed();
        let bytes = match &compiled {
            Ok(c) => {
                let artifact = c.module.serialize().ok();
                if let (Some((p, secret, key)), Some(a)) = (&disk, &artifact) {
                    store_disk(p, secret, key, c, a);
                }
                artifact.map_or(code.len(), |a| a.len())
            }
            Err(e) => e.len(),
        };
        self.insert(*hash, compiled.clone(), bytes);
        compiled
    }

    /// Loads and checks a disk artifact, giving the module and the
    /// artifact's size in bytes; deletes the file when it fails the MAC or
    /// does not load.
    fn load_disk(
        &self,
        path: &Path,
        secret: &[u8; 32],
        key: &[u8; 32],
        headless: impl FnOnce() -> Engine,
    ) -> Option<(Compiled, usize)> {
        let file = std::fs::read(path).ok()?;
        let valid = file.len() > HEADER
            && &file[..8] == MAC_MAGIC
            && mac(secret, key, &file[40..]).as_bytes() == &file[8..40];
        if !valid {
            self.stats.lock().disk_corrupt += 1;
            let _ = std::fs::remove_file(path);
            return None;
        }
        let mut summary = [0u8; 24];
        summary.copy_from_slice(&file[40..64]);
        let summary = ModuleSummary::from_bytes(&summary);
        let resettable = file[71] & 1 == 1;
        let engine = headless();
        // SAFETY: the file's MAC, keyed with this database's secret, covers
        // the cache key (code hash, wasmer version, compiler, gas schedule,
        // limits) and the artifact: only this runtime, which wrote it with
        // `Module::serialize` under the same key, could have produced it.
        // Handed over as `Bytes` (a view of the file), so wasmer does not
        // copy the artifact again.
        let len = file.len();
        let artifact = bytes::Bytes::from(file).slice(HEADER..);
        match unsafe { Module::deserialize(&engine, artifact) } {
            Ok(module) => Some((
                Compiled {
                    engine,
                    module,
                    summary,
                    resettable,
                },
                len - HEADER,
            )),
            Err(_) => {
                self.stats.lock().disk_corrupt += 1;
                let _ = std::fs::remove_file(path);
                None
            }
        }
    }
}

const MAC_MAGIC: &[u8; 8] = MAGIC;

/// The MAC of a disk file: keyed blake3 of the cache key, then `body`
/// (summary, flags and artifact).
fn mac(secret: &[u8; 32], key: &[u8; 32], body: &[u8]) -> blake3::Hash {
    let mut h = blake3::Hasher::new_keyed(secret);
    h.update(key);
    h.update(body);
    h.finalize()
}

/// Writes an artifact file atomically: a uniquely named temporary file in
/// the same directory, then a rename. A failure only costs a later
/// recompile, so it is ignored.
fn store_disk(
    path: &Path,
    secret: &[u8; 32],
    key: &[u8; 32],
    compiled: &Compiled,
    artifact: &[u8],
) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let mut body = Vec::with_capacity(HEADER - 40 + artifact.len());
    body.extend_from_slice(&compiled.summary.to_bytes());
    body.extend_from_slice(&u64::from(compiled.resettable).to_be_bytes());
    body.extend_from_slice(artifact);
    let Ok(mut tmp) = tempfile::NamedTempFile::new_in(dir) else {
        return;
    };
    let written = tmp.write_all(MAGIC).is_ok()
        && tmp.write_all(mac(secret, key, &body).as_bytes()).is_ok()
        && tmp.write_all(&body).is_ok();
    if written {
        // On failure the temporary file is removed when dropped.
        let _ = tmp.persist(path);
    }
}

/// A new 32-byte secret for the disk tier's MAC, from the operating
/// system's random source.
///
/// # Errors
/// The random source's message.
pub(crate) fn new_secret() -> Result<[u8; 32], String> {
    let mut s = [0u8; 32];
    getrandom::fill(&mut s).map_err(|e| e.to_string())?;
    Ok(s)
}

/// A headless engine (it can only load artifacts) with `tunables`.
pub(crate) fn headless_engine(
    tunables: impl wasmer::sys::Tunables + Send + Sync + 'static,
) -> Engine {
    let mut engine = Engine::headless();
    engine.set_tunables(tunables);
    engine
}
