//! The runtime: its state, and the lookups the deploy and call stages share
//! (contract records, compiled modules).

use std::sync::{Arc, OnceLock};

use svm_kv::KvStore;
use svm_pages::PageStore;
use svm_types::{Address, CodeHash};

use crate::block::state::BlockState;
use svm_gate::ModuleInfo;

use crate::config::RuntimeConfig;
use crate::contracts::{ContractRecord, RecordError, code_key, load_record};
use crate::engine::compile::{analysed_compile, compile};
use crate::engine::module_cache::{
    ArtifactKind, Compiled, ModuleCache, ModuleCacheStats, headless_engine, new_secret,
};
use crate::node::NodeHost;
use crate::wire::{ErrorCode, TxError};

pub use crate::keys::MODULE_SECRET_KEY;

/// The svm runtime over one KV backend `K`: contracts, their code, their
/// page storage and (through a [`NodeHost`]) the node's balances.
///
/// `Runtime` is `Send + Sync`. It is its database's single writer: blocks
/// ([`Runtime::execute_block`]), committing calls and deploys (each a block
/// of one) run one at a time, whatever the thread, so no update is lost;
/// queries (calls at an explicit state) run in parallel with them.
///
/// Every field is shared (an `Arc`), so that `Runtime::handle` is cheap:
/// an inner contract call (`crate::call`) runs on such a handle from
/// inside a vmcall.
pub struct Runtime<K> {
    pub(crate) pages: PageStore<K>,
    pub(crate) node: Arc<dyn NodeHost>,
    pub(crate) config: Arc<RuntimeConfig>,
    modules: Arc<ModuleCache>,
    /// The disk tier's MAC secret, read from (or created in) the KV at the
    /// first disk-tier lookup; `None` when that failed (the disk tier is
    /// then off).
    secret: Arc<OnceLock<Option<[u8; 32]>>>,
    /// Serializes the blocks (deploys and calls at the latest state are
    /// blocks of one). Each reads the latest state (contract records, the
    /// balances) and commits on top of it, so two at once would lose one's
    /// update, or spend one balance twice. Queries (calls at an explicit
    /// state) run alongside; compiling happens before it is taken.
    pub(crate) writers: Arc<parking_lot::Mutex<()>>,
}

pub(crate) fn tx_error(code: ErrorCode, message: impl Into<String>) -> TxError {
    TxError {
        code,
        message: message.into(),
    }
}

pub(crate) fn storage_error(e: impl std::fmt::Display) -> TxError {
    tx_error(ErrorCode::Storage, e.to_string())
}

impl<K: KvStore + 'static> Runtime<K> {
    /// A runtime over a database that may hold data already (a disk
    /// backend's directory): [`Runtime::new`] after checking that `kv` is a
    /// database of this storage format or a new one ([`crate::format`]).
    ///
    /// # Errors
    /// [`FormatError`](crate::FormatError) when the database was written in
    /// another storage format (its roots were hashed otherwise), is
    /// damaged, or cannot be read. Nothing is written.
    pub fn open(
        kv: K,
        node: Arc<dyn NodeHost>,
        config: RuntimeConfig,
    ) -> Result<Self, crate::FormatError> {
        crate::format::check_format(&kv)?;
        Ok(Self::new(kv, node, config))
    }

    /// A runtime over `kv` whose `node` vmcalls go to `node`. It does not
    /// check the database's storage format: for a database from disk use
    /// [`Runtime::open`].
    pub fn new(kv: K, node: Arc<dyn NodeHost>, config: RuntimeConfig) -> Self {
        let kind = ArtifactKind {
            compiler: config.compiler.name(),
            max_memory_pages: config.limits.max_memory_pages,
            max_table_elements: config.limits.max_table_elements,
            stack_bytes: config.native_stack_bytes(),
            max_stack_slots: config.max_stack_slots,
            max_frame_slots: config.limits.max_frame_slots,
        };
        Self {
            pages: PageStore::with_config(
                kv,
                svm_pages::PageStoreConfig::with_cache_bytes(config.state_cache_bytes),
            ),
            node,
            modules: Arc::new(ModuleCache::new(config.module_cache.clone(), kind)),
            config: Arc::new(config),
            secret: Arc::new(OnceLock::new()),
            writers: Arc::new(parking_lot::Mutex::new(())),
        }
    }

    /// Another handle on this runtime: the same KV, caches, configuration
    /// and writers' lock.
    pub(crate) fn handle(&self) -> Self {
        Self {
            pages: self.pages.clone(),
            node: self.node.clone(),
            config: self.config.clone(),
            modules: self.modules.clone(),
            secret: self.secret.clone(),
            writers: self.writers.clone(),
        }
    }

    /// The KV backend.
    pub fn kv(&self) -> &K {
        self.pages.kv()
    }

    /// The page storage, for reading any committed state.
    pub fn pages(&self) -> &PageStore<K> {
        &self.pages
    }

    /// The configuration.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    /// The record of the contract at `address`, if any.
    ///
    /// # Errors
    /// [`RecordError`] when the KV fails or the record is corrupt.
    pub fn contract(&self, address: &Address) -> Result<Option<ContractRecord>, RecordError> {
        load_record(self.kv(), address)
    }

    /// The module cache's MAC secret: from the KV, or created there.
    fn secret(&self) -> Option<[u8; 32]> {
        *self.secret.get_or_init(|| {
            let kv = self.kv();
            match kv.get(MODULE_SECRET_KEY) {
                Ok(Some(s)) => <[u8; 32]>::try_from(&s[..]).ok(),
                Ok(None) => {
                    let s = new_secret().ok()?;
                    kv.put(MODULE_SECRET_KEY, &s).ok()?;
                    Some(s)
                }
                Err(_) => None,
            }
        })
    }

    /// The module of code `hash` from the module cache, else compiled from
    /// `code()`: with `info`, the code's analysis when the caller has it
    /// (a deploy), else after an analysis pass of its own.
    pub(crate) fn compiled(
        &self,
        hash: &CodeHash,
        code: impl FnOnce() -> Result<Vec<u8>, String>,
        info: Option<&ModuleInfo>,
    ) -> Result<Compiled, String> {
        self.modules.get_or_compile(
            hash,
            code,
            |code| {
                match info {
                    Some(info) => compile(code, info, &self.config),
                    None => analysed_compile(code, &self.config),
                }
                .map_err(|e| e.to_string())
            },
            || headless_engine(self.config.tunables()),
            || self.secret(),
        )
    }

    /// Makes sure the module of `code_hash` (stored code) is in the memory
    /// tier: from the disk tier, or compiled. Nodes call it at start-up for
    /// hot contracts; benchmarks use it to time the tiers.
    ///
    /// # Errors
    /// [`TxError`] with [`ErrorCode::InvalidCode`] when the code does not
    /// compile, [`ErrorCode::Storage`] when it cannot be read or is
    /// missing.
    pub fn warm(&self, code_hash: &CodeHash) -> Result<(), TxError> {
        self.module(code_hash).map(|_| ())
    }

    /// The counters of the compiled-module cache.
    pub fn module_cache_stats(&self) -> ModuleCacheStats {
        self.modules.stats()
    }

    /// The compiled module of stored code `hash` if the memory tier holds
    /// it (compiled without error): no disk access, no compile.
    pub(crate) fn module_in_memory(&self, hash: &CodeHash) -> Option<Compiled> {
        self.modules.memory_hit(hash).and_then(Result::ok)
    }

    /// The compiled module of code `hash`: the block's new code, else the
    /// stored code.
    pub(crate) fn module_in(
        &self,
        block: &BlockState<K>,
        hash: &CodeHash,
    ) -> Result<Compiled, TxError> {
        let code = block.code.lock().get(hash).cloned();
        match code {
            Some(code) => self
                .compiled(hash, || Ok(code.to_vec()), None)
                .map_err(|e| tx_error(ErrorCode::InvalidCode, e)),
            None => self.module(hash),
        }
    }

    /// The compiled module of stored code `hash`.
    pub(crate) fn module(&self, hash: &CodeHash) -> Result<Compiled, TxError> {
        let kv = self.kv();
        // Set when the code could not be read: that is a storage failure,
        // not bad code.
        let unreadable = std::cell::Cell::new(false);
        self.compiled(
            hash,
            || {
                let code = match kv.get(&code_key(hash)) {
                    Ok(Some(code)) => Ok(code.to_vec()),
                    Ok(None) => Err(format!("code {hash} is missing")),
                    Err(e) => Err(e.to_string()),
                };
                unreadable.set(code.is_err());
                code
            },
            None,
        )
        .map_err(|e| {
            if unreadable.get() {
                storage_error(e)
            } else {
                tx_error(ErrorCode::InvalidCode, e)
            }
        })
    }
}
