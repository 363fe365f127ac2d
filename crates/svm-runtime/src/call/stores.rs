//! Stores reused across a block's transactions.
//!
//! Creating a wasmer `Store`, its `FunctionEnv` and a host `Function` for
//! every vmcall a module imports, then dropping them all, was about a
//! third of a coin transfer in a block (`docs/benchmarks.md`, "Stores
//! reused across a block"). A block keeps, per compiled module (per wasmer
//! `Engine`: a store, its host functions and the module must share one
//! engine, whose signature registry gives `call_indirect` its type
//! indices), the store of its last transaction with its environment and
//! host functions, and the next transaction of the same module
//! instantiates into it.
//!
//! # Invariants
//! - A cached store is only ever used by one transaction at a time: it is
//!   taken out of the cache for the transaction and put back after its
//!   settle stage. An inner call of the same module while it is out gets a
//!   store of its own, as every inner call does.
//! - The environment is replaced whole ([`Env`]: context, memory, instance,
//!   meter) before each instantiation, so no transaction sees another's
//!   context; instances of earlier transactions stay in the store, but
//!   nothing refers to them any more.
//! - What stays pinned is bounded: a store holds at most
//!   [`MAX_INSTANCES`] instances and [`MAX_HELD_MEMORY`] bytes of their
//!   linear memories (as they were when their transactions ended); past
//!   either, it is dropped (its memories go back to the pool, zeroed) and
//!   the next transaction starts a new one. At most [`MAX_STORES`] stores
//!   are cached per block.
//! - A store whose instantiation failed is never put back. The cache is a
//!   local of `execute_block` (wasmer's `Store` is not `Send`, so it
//!   cannot live in the block state that inner calls share), dropped after
//!   the block's commit.
//!
//! Gas and results do not depend on any of this: gas is charged by the
//! instance's own metering globals and by the vmcalls, never by store
//! operations.

use svm_pages::PageOverlay;
use wasmer::{EngineId, Function, FunctionEnv, Store};

use super::instantiate::Instantiated;
use crate::imports::{Env, VMCALLS};

/// The most instances one cached store holds before it is dropped: 32, the
/// memory pool's number of free regions.
pub const MAX_INSTANCES: u32 = 32;

/// The most bytes of linear memory (summed at the end of each transaction)
/// that one cached store holds before it is dropped: 8 MiB.
pub const MAX_HELD_MEMORY: u64 = 8 << 20;

/// The most stores (distinct compiled modules) a block caches at once: 4;
/// a fifth evicts the one used least recently.
pub const MAX_STORES: usize = 4;

/// What a transaction's store brings along to be reused: its host
/// functions, indexed like [`VMCALLS`], and what it holds.
pub(crate) struct Reuse {
    /// The engine the store belongs to.
    pub(crate) engine: EngineId,
    /// The host function of each vmcall, once created in this store.
    pub(crate) functions: Vec<Option<Function>>,
    /// Instances created in the store so far, this transaction's included.
    pub(crate) instances: u32,
    /// Bytes of linear memory held by earlier transactions' instances.
    pub(crate) held_memory: u64,
}

impl Reuse {
    /// A new store's: no function created yet.
    pub(crate) fn new(engine: EngineId) -> Self {
        Self {
            engine,
            functions: vec![None; VMCALLS.len()],
            instances: 0,
            held_memory: 0,
        }
    }
}

/// A cached store, its environment and what it brings along.
pub(crate) struct Cached<K> {
    pub(crate) store: Store,
    pub(crate) env: FunctionEnv<Env<PageOverlay<K>>>,
    pub(crate) reuse: Reuse,
}

/// A block's cached stores, most recently used last (module docs).
pub(crate) struct StoreCache<K> {
    slots: Vec<Cached<K>>,
}

impl<K> Default for StoreCache<K> {
    fn default() -> Self {
        Self { slots: Vec::new() }
    }
}

impl<K: svm_kv::KvStore + 'static> StoreCache<K> {
    /// Takes the cached store of `engine`, if there is one.
    pub(crate) fn take(&mut self, engine: EngineId) -> Option<Cached<K>> {
        let i = self.slots.iter().position(|c| c.reuse.engine == engine)?;
        Some(self.slots.remove(i))
    }

    /// Puts back the store of a finished transaction, unless it holds too
    /// much (module docs).
    pub(crate) fn put(&mut self, inst: Instantiated<K>, mut reuse: Reuse) {
        let Instantiated {
            mut store,
            env,
            instance,
            ..
        } = inst;
        let memory = env.as_ref(&store).memory.clone();
        reuse.held_memory += memory.map_or(0, |m| m.view(&mut store).data_size());
        drop(instance);
        if reuse.instances >= MAX_INSTANCES || reuse.held_memory > MAX_HELD_MEMORY {
            return;
        }
        if self.slots.len() >= MAX_STORES {
            self.slots.remove(0);
        }
        self.slots.push(Cached { store, env, reuse });
    }

    /// How many stores are cached.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }
}
