//! Reusing an instance across the transactions of one block.
//!
//! Building an instance is most of a small call's cost: a `Store`, a
//! host `Function` per imported vmcall, wasmer's instance with its export
//! map, and dropping them all again (profile in `docs/benchmarks.md`).
//! When a block calls code again, the instance of its previous call is
//! [`reset`](Kept::reset) to the state a fresh instantiation gives and
//! used again, as wasmtime's pooling allocator and Lucet reset instances
//! instead of rebuilding them.
//!
//! What instantiation decides, and how a reset restores it:
//!
//! | instance state | reset |
//! |---|---|
//! | linear memory bytes | zeroed (`memset` up to [`KEEP_RESIDENT`], `madvise(MADV_DONTNEED)` beyond), then the non-zero 4 KiB chunks of a snapshot taken right after instantiation (the active data segments) are copied back; code whose memory starts with more than [`KEEP_RESIDENT`] bytes of non-zero chunks is not kept |
//! | memory size | must equal the size at instantiation: an instance whose memory grew is dropped, never reused |
//! | mutable globals (the module's, and those the metering, bulk-gas and stack-limit middlewares add) | set back to the values snapshotted after instantiation; every mutable global is exported (the compiler exports the ones the module does not, [`crate::engine::compile::global_export_name`]) or the module is not reused |
//! | tables, passive data and element segments | never change: only code with no `table.set`, `table.grow`, `table.fill`, `table.copy`, `table.init`, `elem.drop` or `data.drop` is reused ([`crate::engine::resettable::resettable_code`]) |
//! | the call context (registers, page cache, sender, value, logs, …) | replaced by the new transaction's |
//! | gas | set to what the new transaction has left after its intrinsic and instantiation gas, as for a fresh instance |
//!
//! Gas never depends on reuse: instantiation is priced by
//! [`crate::gas::instantiate`] from the module alone, so receipts, gas and
//! roots are those of fresh instances (`tests/blocks.rs` runs every block
//! both ways). Only Linux reuses instances (the zeroing relies on
//! `MADV_DONTNEED`, as [`crate::engine::memory_pool`] does). Inner calls always
//! get fresh instances (so a re-entrant call never meets the running
//! one), and so do blocks of one (`Runtime::call`) and queries outside a
//! block. A kept instance is dropped, not reset, once any pooled memory
//! region has been damaged by a failed `mprotect`
//! ([`crate::engine::memory_pool::damaged_regions`]): its pages past the memory's
//! end might be accessible.

use std::collections::BTreeSet;

use svm_kv::KvStore;
use svm_types::{Address, CodeHash};
use wasmer::{Extern, Global, Mutability, Pages, Value};

use super::instance::Instantiated;
#[cfg(target_os = "linux")]
use crate::engine::memory_pool::{KEEP_RESIDENT, damaged_regions, zero_memory};

/// The most bytes of non-zero chunks a snapshot holds (as the pool keeps
/// resident); code whose memory starts with more is not kept.
#[cfg(not(target_os = "linux"))]
const KEEP_RESIDENT: usize = 256 << 10;

/// Never reused outside Linux, so never damaged there.
#[cfg(not(target_os = "linux"))]
fn damaged_regions() -> u64 {
    0
}

/// Instances a block keeps at most (the least recently used goes first).
/// Each holds one linear memory (at most `RuntimeConfig::limits`'
/// memory pages), and the context of its last call, as the call left them
/// until the next call of its code resets it or the block ends.
pub const MAX_KEPT: usize = 4;

/// Bytes of the chunks a memory snapshot keeps (non-zero ones only).
const CHUNK: usize = 4096;

/// The state of an instance right after instantiation, as far as a call
/// can change it.
pub(crate) struct Snapshot {
    pages: Pages,
    /// Offset and bytes of each non-zero [`CHUNK`] of the memory.
    chunks: Vec<(u64, Box<[u8]>)>,
    globals: Vec<(Global, Value)>,
}

impl Snapshot {
    /// The snapshot of `inst`, freshly instantiated and not yet run;
    /// `None` when it has no memory, or when its non-zero chunks exceed
    /// [`KEEP_RESIDENT`] bytes (so a kept instance holds at most that much
    /// besides its memory, and a reset copies at most that much back).
    pub(crate) fn of<K: KvStore + 'static>(inst: &mut Instantiated<K>) -> Option<Self> {
        let memory = inst.env.as_ref(&inst.store).memory.clone()?;
        let view = memory.view(&inst.store);
        let pages = view.size();
        let mut chunks = Vec::new();
        // SAFETY: nothing runs in this store, and the slice is dropped
        // before the store is used again.
        let bytes = unsafe { view.data_unchecked() };
        for (i, chunk) in bytes.chunks(CHUNK).enumerate() {
            if chunk.iter().any(|&b| b != 0) {
                if (chunks.len() + 1) * CHUNK > KEEP_RESIDENT {
                    return None;
                }
                chunks.push(((i * CHUNK) as u64, chunk.into()));
            }
        }
        let mut globals = Vec::new();
        for (_, e) in inst.instance.exports.iter() {
            if let Extern::Global(g) = e
                && g.ty(&inst.store).mutability == Mutability::Var
            {
                globals.push((g.clone(), g.get(&mut inst.store)));
            }
        }
        Some(Self {
            pages,
            chunks,
            globals,
        })
    }
}

/// An instance kept for the next call of its code.
pub(crate) struct Kept<K> {
    code: CodeHash,
    inst: Instantiated<K>,
    snapshot: Snapshot,
    /// [`damaged_regions`] when the instance was built.
    damaged: u64,
}

impl<K: KvStore + 'static> Kept<K> {
    /// Keeps `inst` for the next call of `code`, with its `snapshot`.
    pub(crate) fn new(code: CodeHash, inst: Instantiated<K>, snapshot: Snapshot) -> Self {
        Self {
            code,
            inst,
            snapshot,
            damaged: damaged_regions(),
        }
    }

    /// Puts the instance back in its state at instantiation; `None` (the
    /// instance is dropped) when that cannot be done: its memory grew, a
    /// memory region was damaged since it was built, or zeroing or writing
    /// it failed.
    fn reset(mut self) -> Option<Self> {
        let memory = self.inst.env.as_ref(&self.inst.store).memory.clone()?;
        let view = memory.view(&self.inst.store);
        if view.size() != self.snapshot.pages || damaged_regions() != self.damaged {
            return None;
        }
        let len = view.data_size() as usize;
        // SAFETY: `[base, base + len)` is the instance's accessible linear
        // memory, a private anonymous mapping (the pool's region or
        // wasmer's own), and nothing runs in this store now.
        if !unsafe { zero(view.data_ptr(), len) } {
            return None;
        }
        for (at, bytes) in &self.snapshot.chunks {
            view.write(*at, bytes).ok()?;
        }
        for (g, v) in &self.snapshot.globals {
            g.set(&mut self.inst.store, v.clone()).ok()?;
        }
        Some(self)
    }

    /// The instance, to run a call on; [`InstancePool::give_back`] returns
    /// it.
    pub(crate) fn instance(&mut self) -> &mut Instantiated<K> {
        &mut self.inst
    }
}

/// Zeroes the `len` bytes at `base` ([`zero_memory`]); whether it worked.
/// Outside Linux nothing is reused, and this fails.
///
/// # Safety
/// As [`zero_memory`].
unsafe fn zero(base: *mut u8, len: usize) -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: the caller's contract.
        unsafe { zero_memory(base, len) }.is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (base, len);
        false
    }
}

/// The instances a block keeps, by code: at most [`MAX_KEPT`], most
/// recently used last. Local to one block (a `Store` is not `Send`), and
/// dropped with it.
pub(crate) struct InstancePool<K> {
    kept: Vec<Kept<K>>,
    /// The contracts the block calls more than once: only their instances
    /// are snapshotted and kept (a snapshot reads the whole memory once).
    repeated: BTreeSet<Address>,
    /// Calls that ran on a reset instance.
    pub(crate) reused: u64,
}

impl<K: KvStore + 'static> InstancePool<K> {
    /// An empty pool for a block that calls each of `repeated` more than
    /// once.
    pub(crate) fn new(repeated: BTreeSet<Address>) -> Self {
        Self {
            kept: Vec::new(),
            repeated,
            reused: 0,
        }
    }

    /// Whether an instance for a call of `contract` is worth keeping.
    pub(crate) fn wanted(&self, contract: &Address) -> bool {
        self.repeated.contains(contract)
    }

    /// The kept instance of `code`, reset; `None` when there is none or
    /// it could not be reset.
    pub(crate) fn take(&mut self, code: &CodeHash) -> Option<Kept<K>> {
        let i = self.kept.iter().position(|k| &k.code == code)?;
        let kept = self.kept.remove(i).reset()?;
        self.reused += 1;
        Some(kept)
    }

    /// Keeps `kept` for the next call of its code, dropping the least
    /// recently used instance when the pool is full.
    pub(crate) fn give_back(&mut self, kept: Kept<K>) {
        if self.kept.len() >= MAX_KEPT {
            self.kept.remove(0);
        }
        self.kept.push(kept);
    }
}
