//! The compiled-module cache: a memory tier and an optional disk tier.
//!
//! - **Memory tier:** an LRU of compiled modules by code hash, bounded by a
//!   byte budget; a module's size is estimated by its serialized artifact.
//! - **Disk tier:** serialized wasmer artifacts in a directory, one file per
//!   module. The file name is the hex blake3 of the cache key:
//!   (code hash, [`CACHE_FORMAT_VERSION`], wasmer version, compiler, gas
//!   schedule version, memory-page limit, stack bytes), so an upgrade of
//!   any of them never loads a stale artifact.
//! - Compile errors are cached in memory too, so bad code is compiled once.
//!
//! Disk file layout:
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 8 | magic, ASCII `SVMMOD01` |
//! | 8 | 32 | blake3 of the artifact |
//! | 40 | n | the wasmer artifact (`Module::serialize`) |
//!
//! `Module::deserialize` is unsafe: the artifact holds machine code that is
//! run as is. The checksum is verified first; a corrupt or truncated file
//! is deleted and the module recompiled, never executed.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;
use svm_types::CodeHash;
use wasmer::sys::NativeEngineExt;
use wasmer::{Engine, Module};

use crate::gas::GAS_SCHEDULE_VERSION;

/// The version of the disk format and key derivation.
pub const CACHE_FORMAT_VERSION: u32 = 1;

/// The wasmer version whose artifacts the disk tier holds.
pub const WASMER_VERSION: &str = "7.4.2";

const MAGIC: &[u8; 8] = b"SVMMOD01";

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
    /// Disk files found corrupt, deleted and recompiled.
    pub disk_corrupt: u64,
    /// Total time spent compiling.
    pub compile_time: Duration,
}

/// A compiled module and the engine that owns its machine code.
#[derive(Clone)]
pub(crate) struct Compiled {
    pub(crate) engine: Engine,
    pub(crate) module: Module,
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
    pub(crate) stack_bytes: usize,
}

pub(crate) struct ModuleCache {
    config: ModuleCacheConfig,
    kind: ArtifactKind,
    memory: Mutex<(LruCache<CodeHash, Entry>, usize)>,
    stats: Mutex<ModuleCacheStats>,
}

impl ModuleCache {
    pub(crate) fn new(config: ModuleCacheConfig, kind: ArtifactKind) -> Self {
        Self {
            config,
            kind,
            memory: Mutex::new((LruCache::unbounded(), 0)),
            stats: Mutex::new(ModuleCacheStats::default()),
        }
    }

    pub(crate) fn stats(&self) -> ModuleCacheStats {
        *self.stats.lock()
    }

    /// The disk file of `hash`.
    pub(crate) fn disk_path(&self, hash: &CodeHash) -> Option<PathBuf> {
        let dir = self.config.disk_dir.as_ref()?;
        let mut h = blake3::Hasher::new();
        h.update(hash.as_bytes());
        h.update(&CACHE_FORMAT_VERSION.to_be_bytes());
        h.update(WASMER_VERSION.as_bytes());
        h.update(&[0]);
        h.update(self.kind.compiler.as_bytes());
        h.update(&[0]);
        h.update(&GAS_SCHEDULE_VERSION.to_be_bytes());
        h.update(&self.kind.max_memory_pages.to_be_bytes());
        h.update(&(self.kind.stack_bytes as u64).to_be_bytes());
        Some(dir.join(format!("{}.svmmod", h.finalize().to_hex())))
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

    /// The compiled module of `code` (hash `hash`): from memory, from disk,
    /// or compiled with `compile` and stored in both tiers.
    pub(crate) fn get_or_compile(
        &self,
        hash: &CodeHash,
        code: impl FnOnce() -> Result<Vec<u8>, String>,
        compile: impl FnOnce(&[u8]) -> Result<Compiled, String>,
        headless: impl FnOnce() -> Engine,
    ) -> Result<Compiled, String> {
        if let Some(e) = self.memory.lock().0.get(hash) {
            self.stats.lock().memory_hits += 1;
            return e.compiled.clone();
        }
        let path = self.disk_path(hash);
        if let Some(p) = &path
            && let Some((compiled, bytes)) = self.load_disk(p, headless)
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
                if let (Some(p), Some(a)) = (&path, &artifact) {
                    store_disk(p, a);
                }
                artifact.map_or(code.len(), |a| a.len())
            }
            Err(e) => e.len(),
        };
        self.insert(*hash, compiled.clone(), bytes);
        compiled
    }

    /// Loads and checks a disk artifact, giving the module and the
    /// artifact's size in bytes; deletes the file when corrupt.
    fn load_disk(
        &self,
        path: &Path,
        headless: impl FnOnce() -> Engine,
    ) -> Option<(Compiled, usize)> {
        let file = std::fs::read(path).ok()?;
        let valid = file.len() > 40
            && &file[..8] == MAGIC
            && blake3::hash(&file[40..]).as_bytes() == &file[8..40];
        if !valid {
            self.stats.lock().disk_corrupt += 1;
            let _ = std::fs::remove_file(path);
            return None;
        }
        let engine = headless();
        // SAFETY: the artifact's blake3 matches the one written beside it
        // by `store_disk`, from `Module::serialize` of this same wasmer
        // version, compiler and settings (all part of the file name).
        match unsafe { Module::deserialize(&engine, &file[40..]) } {
            Ok(module) => Some((Compiled { engine, module }, file.len() - 40)),
            Err(_) => {
                self.stats.lock().disk_corrupt += 1;
                let _ = std::fs::remove_file(path);
                None
            }
        }
    }
}

/// Writes an artifact file atomically (a temporary file, then a rename).
/// A failure only costs a later recompile, so it is ignored.
fn store_disk(path: &Path, artifact: &[u8]) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let mut file = Vec::with_capacity(40 + artifact.len());
    file.extend_from_slice(MAGIC);
    file.extend_from_slice(blake3::hash(artifact).as_bytes());
    file.extend_from_slice(artifact);
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&tmp, &file).is_ok() && std::fs::rename(&tmp, path).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// A headless engine (it can only load artifacts) with `tunables`.
pub(crate) fn headless_engine(
    tunables: impl wasmer::sys::Tunables + Send + Sync + 'static,
) -> Engine {
    let mut engine = Engine::headless();
    engine.set_tunables(tunables);
    engine
}
