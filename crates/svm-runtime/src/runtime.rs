//! The runtime: deploy and call.

use std::num::NonZeroUsize;
use std::sync::Arc;

use svm_cache::{CacheConfig, CacheError, PageCache, PageSliceCache};
use svm_kv::{KvStore, WriteBatch};
use svm_pages::{PageStore, PagesError, empty_root};
use svm_registers::{RegisterConfig, Registers};
use svm_types::{Address, CodeHash, State};
use wasmer::sys::{CompilerConfig, EngineBuilder, NativeEngineExt, Singlepass};
use wasmer::{Engine, FunctionEnv, Instance, Module, Store, Type, Value};
use wasmer_middlewares::Metering;
use wasmer_middlewares::metering::{MeteringPoints, get_remaining_points, set_remaining_points};

use crate::contracts::{
    ContractRecord, RecordError, code_hash, code_key, contract_address, load_record, record_key,
};
use crate::gas::{self, operator_cost};
use crate::gate::{self, Limits, Rejection};
use crate::imports::{Env, charge, import_object};
use crate::module_cache::{
    ArtifactKind, Compiled, ModuleCache, ModuleCacheConfig, ModuleCacheStats, headless_engine,
};
use crate::node::NodeHost;
use crate::tunables::Limiting;
use crate::vmcalls::{CallContext, OutputLimits, VmCallError};
use crate::wire::{CallTx, DeployTx, ErrorCode, Receipt, StateRef, TxError, WasmValue};

/// The wasm compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compiler {
    /// wasmer's Singlepass: linear-time compilation, the default.
    #[default]
    Singlepass,
    /// wasmer's Cranelift (cargo feature `cranelift`): slower to compile,
    /// faster code.
    #[cfg(feature = "cranelift")]
    Cranelift,
}

/// Settings of a [`Runtime`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// The compiler for every module.
    pub compiler: Compiler,
    /// The page cache of each call. Default: an LRU of 1 page, since each
    /// call opens its own cache (pages are still loaded at most once per
    /// call).
    pub cache: CacheConfig,
    /// The register counts of each call.
    pub registers: RegisterConfig,
    /// Limits on return data and logs.
    pub outputs: OutputLimits,
    /// The largest code accepted at deploy, in bytes. Default: 512 KiB.
    pub max_code_bytes: usize,
    /// The static limits of the deploy gate (functions, locals, imports,
    /// exports, tables, memory pages); memory cannot grow past
    /// `limits.max_memory_pages` at run time either.
    pub limits: Limits,
    /// The native stack wasm runs on, in bytes: it bounds the call-stack
    /// depth (deep recursion traps with a stack overflow). Default: 1 MiB.
    pub max_stack_bytes: usize,
    /// The compiled-module cache.
    pub module_cache: ModuleCacheConfig,
    /// Whether contracts may import `node.vmcall_set_balance`, which sets
    /// any account's balance (SVM milestone-1 compatibility, unsafe for
    /// untrusted code). Default: `false`: the deploy gate rejects the import
    /// and the vmcall fails.
    pub allow_set_balance: bool,
    /// The largest gas limit of one transaction (deploy or call), in gas.
    /// Default: 100 000 000.
    pub max_tx_gas: u64,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            compiler: Compiler::default(),
            // Each call opens its own page cache, so a cross-run LRU would
            // only cost an allocation per call.
            cache: CacheConfig { lru_pages: 1 },
            registers: RegisterConfig::default(),
            outputs: OutputLimits::default(),
            max_code_bytes: 512 << 10,
            limits: Limits::default(),
            max_stack_bytes: 1 << 20,
            module_cache: ModuleCacheConfig::default(),
            allow_set_balance: false,
            max_tx_gas: 100_000_000,
        }
    }
}

/// Why a deploy failed. Nothing is stored then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeployError {
    /// The code is larger than [`RuntimeConfig::max_code_bytes`].
    #[error("code is {size} bytes, over the limit of {limit}")]
    CodeTooLarge {
        /// The code size, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The deploy gate rejected the code, with every finding.
    #[error("rejected: {0}")]
    Gate(#[from] Rejection),
    /// wasmer could not compile the code.
    #[error("compile error: {0}")]
    Compile(String),
    /// A contract already lives at the derived address (same author, nonce
    /// and code).
    #[error("a contract is already deployed at {0}")]
    AlreadyDeployed(Address),
    /// The storage failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The deploy needs more gas than its limit.
    #[error("deploy needs {needed} gas, over its limit of {limit}")]
    OutOfGas {
        /// The gas the deploy would use.
        needed: u64,
        /// The transaction's gas limit.
        limit: u64,
    },
}

/// The outcome of a successful deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The new contract's address.
    pub address: Address,
    /// The hash of its code.
    pub code_hash: CodeHash,
    /// Its initial state: the empty root.
    pub state: State,
    /// The gas the deploy used ([`gas::deploy`]).
    pub gas_used: u64,
}

/// Compiles `code` with a fresh engine (one `Metering` middleware can
/// instrument only one module), capped by `config`'s memory and stack.
fn compile(code: &[u8], config: &RuntimeConfig) -> Result<Compiled, String> {
    let compiler = config.compiler;
    let metering = Arc::new(Metering::new(0, operator_cost));
    let engine: Engine = match compiler {
        Compiler::Singlepass => {
            let mut c = Singlepass::new();
            c.num_threads(NonZeroUsize::MIN);
            c.push_middleware(metering);
            EngineBuilder::new(c).engine().into()
        }
        #[cfg(feature = "cranelift")]
        Compiler::Cranelift => {
            let mut c = wasmer::sys::Cranelift::new();
            c.num_threads(NonZeroUsize::MIN);
            c.push_middleware(metering);
            EngineBuilder::new(c).engine().into()
        }
    };
    let mut engine = engine;
    engine.set_tunables(Limiting::new(
        u32::try_from(config.limits.max_memory_pages).unwrap_or(u32::MAX),
        config.max_stack_bytes,
    ));
    let module = Module::new(&engine, code).map_err(|e| e.to_string())?;
    Ok(Compiled { engine, module })
}

/// The svm runtime over one KV backend `K`: contracts, their code, their
/// page storage and (through a [`NodeHost`]) the node's balances.
///
/// `Runtime` is `Send + Sync`; calls on different threads run in parallel
/// (each builds its own wasmer store), but two calls on the same contract
/// must be ordered by the caller, as a node orders transactions.
pub struct Runtime<K> {
    pages: PageStore<K>,
    node: Arc<dyn NodeHost>,
    config: RuntimeConfig,
    modules: ModuleCache,
}

fn tx_error(code: ErrorCode, message: impl Into<String>) -> TxError {
    TxError {
        code,
        message: message.into(),
    }
}

fn failed(error: TxError, state: State, gas_limit: u64, gas_used: u64, pages_read: u32) -> Receipt {
    Receipt {
        success: false,
        error: Some(error),
        new_state: state,
        returns: Vec::new(),
        return_data: Vec::new(),
        logs: Vec::new(),
        pages_read,
        pages_written: 0,
        gas_limit,
        gas_used,
    }
}

fn storage_error(e: impl std::fmt::Display) -> TxError {
    tx_error(ErrorCode::Storage, e.to_string())
}

fn vmcall_error(e: &VmCallError) -> TxError {
    match e {
        VmCallError::OutOfGas => tx_error(ErrorCode::OutOfGas, e.to_string()),
        VmCallError::Storage(CacheError::Pages(
            p @ (PagesError::Kv(_) | PagesError::Corrupt(_)),
        )) => storage_error(p),
        _ => tx_error(ErrorCode::HostCall, e.to_string()),
    }
}

impl<K: KvStore + 'static> Runtime<K> {
    /// A runtime over `kv` whose `node` vmcalls go to `node`.
    pub fn new(kv: K, node: Arc<dyn NodeHost>, config: RuntimeConfig) -> Self {
        let kind = ArtifactKind {
            compiler: match config.compiler {
                Compiler::Singlepass => "singlepass",
                #[cfg(feature = "cranelift")]
                Compiler::Cranelift => "cranelift",
            },
            max_memory_pages: config.limits.max_memory_pages,
            stack_bytes: config.max_stack_bytes,
        };
        Self {
            pages: PageStore::new(kv),
            node,
            modules: ModuleCache::new(config.module_cache.clone(), kind),
            config,
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

    /// Runs the deploy gate over `code` without storing anything.
    ///
    /// # Errors
    /// [`DeployError::CodeTooLarge`], [`DeployError::Gate`].
    pub fn validate(&self, code: &[u8]) -> Result<(), DeployError> {
        if code.len() > self.config.max_code_bytes {
            return Err(DeployError::CodeTooLarge {
                size: code.len(),
                limit: self.config.max_code_bytes,
            });
        }
        Ok(gate::check(code, &self.config.limits)?)
    }

    /// Deploys a contract: gate, compile, then store the code (under its
    /// hash) and the contract record (under its address) in one batch.
    ///
    /// # Errors
    /// [`DeployError`]; nothing is stored then.
    pub fn deploy(&self, tx: &DeployTx) -> Result<Deployed, DeployError> {
        let gas_used = gas::deploy(tx.code.len());
        if gas_used > tx.gas_limit {
            return Err(DeployError::OutOfGas {
                needed: gas_used,
                limit: tx.gas_limit,
            });
        }
        self.validate(&tx.code)?;
        let hash = code_hash(&tx.code);
        let address = contract_address(&tx.author, tx.nonce, &hash);
        let kv = self.kv();
        if kv
            .contains(&record_key(&address))
            .map_err(|e| DeployError::Storage(e.to_string()))?
        {
            return Err(DeployError::AlreadyDeployed(address));
        }
        // Precompile: the module is cached (and compile errors with it).
        self.compiled(&hash, || Ok(tx.code.clone()))
            .map_err(DeployError::Compile)?;
        let record = ContractRecord {
            author: tx.author,
            nonce: tx.nonce,
            code_hash: hash,
            state: empty_root(),
            name: tx.name.clone(),
        };
        let mut batch = WriteBatch::with_capacity(2);
        batch
            .put(code_key(&hash), tx.code.clone())
            .put(record_key(&address), record.encode());
        kv.write(batch)
            .map_err(|e| DeployError::Storage(e.to_string()))?;
        Ok(Deployed {
            address,
            code_hash: hash,
            state: empty_root(),
            gas_used,
        })
    }

    fn compiled(
        &self,
        hash: &CodeHash,
        code: impl FnOnce() -> Result<Vec<u8>, String>,
    ) -> Result<Compiled, String> {
        self.modules.get_or_compile(
            hash,
            code,
            |code| compile(code, &self.config),
            || headless_engine(self.tunables()),
        )
    }

    fn tunables(&self) -> Limiting {
        Limiting::new(
            u32::try_from(self.config.limits.max_memory_pages).unwrap_or(u32::MAX),
            self.config.max_stack_bytes,
        )
    }

    /// Makes sure the module of `code_hash` (stored code) is in the memory
    /// tier: from the disk tier, or compiled. Nodes call it at start-up for
    /// hot contracts; benchmarks use it to time the tiers.
    ///
    /// # Errors
    /// The compile error, or a missing code.
    pub fn warm(&self, code_hash: &CodeHash) -> Result<(), String> {
        self.module(code_hash).map(|_| ()).map_err(|e| e.message)
    }

    /// The counters of the compiled-module cache.
    pub fn module_cache_stats(&self) -> ModuleCacheStats {
        self.modules.stats()
    }

    fn module(&self, hash: &CodeHash) -> Result<Compiled, TxError> {
        let kv = self.kv();
        // Set when the code could not be read: that is a storage failure,
        // not bad code.
        let unreadable = std::cell::Cell::new(false);
        self.compiled(hash, || {
            let code = match kv.get(&code_key(hash)) {
                Ok(Some(code)) => Ok(code.to_vec()),
                Ok(None) => Err(format!("code {hash} is missing")),
                Err(e) => Err(e.to_string()),
            };
            unreadable.set(code.is_err());
            code
        })
        .map_err(|e| {
            if unreadable.get() {
                storage_error(e)
            } else {
                tx_error(ErrorCode::InvalidCode, e)
            }
        })
    }

    /// Executes a call transaction and returns its receipt. On success the
    /// dirty pages, the contract's new latest state and the balance changes
    /// are committed in one atomic batch; on any failure nothing is
    /// written and the receipt carries the state the call ran against.
    ///
    /// A call against an explicit older state ([`StateRef::At`]) commits
    /// its new state but moves the contract's latest state only when it ran
    /// against the latest one.
    pub fn call(&self, tx: &CallTx) -> Receipt {
        let gas_limit = tx.gas_limit;
        let record = match self.contract(&tx.contract) {
            Ok(Some(r)) => r,
            Ok(None) => {
                return failed(
                    tx_error(
                        ErrorCode::ContractNotFound,
                        format!("no contract at {}", tx.contract),
                    ),
                    State::ZERO,
                    gas_limit,
                    0,
                    0,
                );
            }
            Err(e) => return failed(storage_error(e), State::ZERO, gas_limit, 0, 0),
        };
        let base = match tx.state {
            StateRef::Latest => record.state,
            StateRef::At(s) => s,
        };
        let fail = |e: TxError, gas_used: u64, pages_read: u32| {
            failed(e, base, gas_limit, gas_used, pages_read)
        };
        let cache = match PageCache::open(self.pages.clone(), tx.contract, base, self.config.cache)
        {
            Ok(c) => c,
            Err(CacheError::Pages(PagesError::UnknownState { .. })) => {
                return fail(
                    tx_error(
                        ErrorCode::UnknownState,
                        format!("{base} is no committed state of {}", tx.contract),
                    ),
                    0,
                    0,
                );
            }
            Err(e) => return fail(storage_error(e), 0, 0),
        };
        let compiled = match self.module(&record.code_hash) {
            Ok(c) => c,
            Err(e) => return fail(e, 0, 0),
        };

        let mut store = Store::new(compiled.engine.clone());
        let ctx = CallContext {
            registers: Registers::new(self.config.registers),
            storage: PageSliceCache::new(cache),
            sender: tx.sender,
            contract: tx.contract,
            calldata: tx.calldata.clone(),
            return_data: Vec::new(),
            logs: Vec::new(),
            limits: self.config.outputs,
            node: self.node.clone(),
            balances: Default::default(),
        };
        let env = FunctionEnv::new(
            &mut store,
            Env {
                ctx,
                memory: None,
                instance: None,
            },
        );
        let imports = import_object(&mut store, &env, &compiled.module);
        let instance = match Instance::new(&mut store, &compiled.module, &imports) {
            Ok(i) => i,
            Err(e) => return fail(tx_error(ErrorCode::Trap, e.to_string()), 0, 0),
        };
        let intrinsic = gas::call_intrinsic(tx.calldata.len());
        if intrinsic > gas_limit {
            return fail(
                tx_error(
                    ErrorCode::OutOfGas,
                    format!("the call needs {intrinsic} gas before it runs"),
                ),
                gas_limit,
                0,
            );
        }
        set_remaining_points(&mut store, &instance, gas_limit - intrinsic);
        env.as_mut(&mut store).instance = Some(instance.clone());
        match instance.exports.get_memory("memory") {
            Ok(m) => env.as_mut(&mut store).memory = Some(m.clone()),
            Err(_) => {
                return fail(tx_error(ErrorCode::InvalidCode, "no exported memory"), 0, 0);
            }
        }
        let func = match instance.exports.get_function(&tx.function) {
            Ok(f) => f.clone(),
            Err(_) => {
                return fail(
                    tx_error(
                        ErrorCode::FunctionNotFound,
                        format!("no exported function {:?}", tx.function),
                    ),
                    0,
                    0,
                );
            }
        };
        let ty = func.ty(&store);
        let args: Vec<Value> = tx
            .args
            .iter()
            .map(|a| match a {
                WasmValue::I32(v) => Value::I32(*v),
                WasmValue::I64(v) => Value::I64(*v),
            })
            .collect();
        let arg_types: Vec<Type> = args.iter().map(Value::ty).collect();
        if ty.params() != arg_types.as_slice() {
            return fail(
                tx_error(
                    ErrorCode::WrongArguments,
                    format!(
                        "{:?} takes {:?}, got {:?}",
                        tx.function,
                        ty.params(),
                        arg_types
                    ),
                ),
                0,
                0,
            );
        }

        let result = func.call(&mut store, &args);
        // wasmer reports running out of points as `unreachable`: the
        // exhausted flag tells the two apart.
        let exhausted = matches!(
            get_remaining_points(&mut store, &instance),
            MeteringPoints::Exhausted
        );
        // Every page dirtied is paid for before the commit.
        let dirty = env.as_mut(&mut store).ctx.storage.cache().dirty_pages() as u64;
        let commit_gas = if result.is_ok() {
            charge(&mut store, &instance, dirty * gas::PAGE_WRITE)
        } else {
            Ok(())
        };
        let gas_used = match (&commit_gas, get_remaining_points(&mut store, &instance)) {
            (Err(_), _) | (_, MeteringPoints::Exhausted) => gas_limit,
            (Ok(()), MeteringPoints::Remaining(r)) => gas_limit.saturating_sub(r),
        };
        let ctx = &mut env.as_mut(&mut store).ctx;
        let pages_read = ctx.storage.cache().stats().pages_loaded as u32;
        if commit_gas.is_err() {
            ctx.storage.discard();
            return fail(
                tx_error(ErrorCode::OutOfGas, "out of gas at commit"),
                gas_limit,
                pages_read,
            );
        }
        let values = match result {
            Ok(v) => v,
            Err(e) => {
                let error = if exhausted {
                    tx_error(ErrorCode::OutOfGas, "out of gas")
                } else if let Some(v) = e.downcast_ref::<VmCallError>() {
                    vmcall_error(v)
                } else {
                    tx_error(ErrorCode::Trap, e.message())
                };
                ctx.storage.discard();
                let used = if error.code == ErrorCode::OutOfGas {
                    gas_limit
                } else {
                    gas_used
                };
                return fail(error, used, pages_read);
            }
        };
        let mut returns = Vec::with_capacity(values.len());
        for v in values.iter() {
            match v {
                Value::I32(x) => returns.push(WasmValue::I32(*x)),
                Value::I64(x) => returns.push(WasmValue::I64(*x)),
                other => {
                    ctx.storage.discard();
                    return fail(
                        tx_error(
                            ErrorCode::InvalidCode,
                            format!("returned a {:?}", other.ty()),
                        ),
                        gas_used,
                        pages_read,
                    );
                }
            }
        }

        let pages_written = dirty as u32;
        let balances = std::mem::take(&mut ctx.balances);
        let move_latest = base == record.state;
        let node = self.node.clone();
        let extra = |new_state: &State| {
            let mut batch = node.commit_writes(&balances);
            if move_latest && *new_state != record.state {
                let mut r = record.clone();
                r.state = *new_state;
                batch.put(record_key(&tx.contract), r.encode());
            }
            batch
        };
        let new_state = match ctx.storage.cache_mut().commit_with(&extra) {
            Ok(s) => s,
            Err(e) => {
                ctx.storage.discard();
                return fail(storage_error(e), gas_used, pages_read);
            }
        };
        self.node.applied(&balances);
        Receipt {
            success: true,
            error: None,
            new_state,
            returns,
            return_data: std::mem::take(&mut ctx.return_data),
            logs: std::mem::take(&mut ctx.logs),
            pages_read,
            pages_written,
            gas_limit,
            gas_used,
        }
    }
}
