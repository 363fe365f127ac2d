//! The settings of a [`crate::Runtime`].

use svm_cache::CacheConfig;
use svm_registers::RegisterConfig;

use crate::engine::module_cache::ModuleCacheConfig;
use crate::engine::tunables::Limiting;
use crate::gate::{Limits, Policy};
use crate::vmcalls::OutputLimits;

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

impl Compiler {
    /// The compiler's name, as in artifact cache keys: `singlepass` or
    /// `cranelift`.
    pub fn name(self) -> &'static str {
        match self {
            Compiler::Singlepass => "singlepass",
            #[cfg(feature = "cranelift")]
            Compiler::Cranelift => "cranelift",
        }
    }
}

/// Settings of a [`crate::Runtime`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// The compiler for every module.
    pub compiler: Compiler,
    /// The page cache of each call. Default: an LRU of 1 page, since each
    /// call opens its own cache (pages are still loaded at most once per
    /// call) over the node-wide one (`state_cache_bytes`).
    pub cache: CacheConfig,
    /// The memory the node-wide state caches may use, in bytes: clean
    /// pages (4096 bytes each) and tree records read from or written to
    /// the KV, shared by every call, block and contract of the runtime
    /// ([`svm_pages::PageStoreConfig::with_cache_bytes`]: three quarters
    /// pages, one quarter records). The process's memory stays bounded by
    /// it whatever the size of the state. Default: 256 MiB.
    pub state_cache_bytes: usize,
    /// The register counts of each call.
    pub registers: RegisterConfig,
    /// Limits on return data and logs.
    pub outputs: OutputLimits,
    /// The largest code accepted at deploy, in bytes. Default: 512 KiB.
    pub max_code_bytes: usize,
    /// The static limits of the deploy gate (functions, locals, imports,
    /// exports, tables, memory pages); at run time memory cannot grow past
    /// `limits.max_memory_pages` and tables past
    /// `limits.max_table_elements` either.
    pub limits: Limits,
    /// The wasm call stack, in slots (one per value: parameters, locals,
    /// operands, plus a frame overhead; [`crate::engine::stack_limit`]): a call
    /// that would pass it traps with "call stack exhausted", at the same
    /// depth and gas on every compiler. The native stack is sized from it
    /// ([`RuntimeConfig::native_stack_bytes`]). Default: 32 768 slots
    /// (e.g. 4 096 frames of a function with one parameter and three
    /// operands).
    pub max_stack_slots: u32,
    /// The compiled-module cache.
    pub module_cache: ModuleCacheConfig,
    /// Whether contracts may import `node.vmcall_set_balance`, which sets
    /// any account's balance (SVM milestone-1 compatibility, unsafe for
    /// untrusted code). Default: `false`: the deploy gate rejects the import
    /// and the vmcall fails.
    pub allow_set_balance: bool,
    /// The largest gas limit of one transaction (deploy or call), in gas.
    /// A larger limit is refused before anything runs
    /// ([`crate::ErrorCode::GasLimitTooHigh`]). Default: 100 000 000.
    pub max_tx_gas: u64,
    /// How many blocks' states stay readable ([`crate::Runtime::execute_block`]
    /// prunes what only older states reach, in each block's batch). `1`
    /// keeps only the newest state; `0` prunes nothing (an archive node).
    /// Default: 128.
    pub keep_blocks: u64,
    /// Whether each block's batch waits for an `fsync` before the block
    /// counts as committed ([`svm_kv::KvStore::write_sync`]). Default:
    /// `false` (a crash of the machine, not of the process, may lose the
    /// newest blocks, never part of one).
    pub sync_writes: bool,
    /// The most frames on the call stack of a transaction: its own
    /// contract's plus nested inner calls (`svm.call`). A call past it is
    /// refused with [`crate::ErrorCode::CallDepth`]. Default: 64.
    pub max_call_depth: u32,
    /// Whether an inner call may enter a contract that is already on the
    /// call stack (re-entrancy, including a contract calling itself).
    /// Default: `false`: such a call is refused with
    /// [`crate::ErrorCode::Reentrancy`], the classic defence against
    /// re-entrancy attacks (a callee calling back into a caller whose state
    /// is half-updated).
    pub allow_reentrancy: bool,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            compiler: Compiler::default(),
            // Each call opens its own page cache, so a cross-run LRU would
            // only cost an allocation per call.
            cache: CacheConfig { lru_pages: 1 },
            state_cache_bytes: 256 << 20,
            registers: RegisterConfig::default(),
            outputs: OutputLimits::default(),
            max_code_bytes: 512 << 10,
            limits: Limits::default(),
            max_stack_slots: 32_768,
            module_cache: ModuleCacheConfig::default(),
            allow_set_balance: false,
            max_tx_gas: 100_000_000,
            keep_blocks: 128,
            sync_writes: false,
            max_call_depth: 64,
            allow_reentrancy: false,
        }
    }
}

impl RuntimeConfig {
    /// The gate's policy under this configuration.
    pub fn policy(&self) -> Policy {
        Policy {
            allow_set_balance: self.allow_set_balance,
        }
    }

    /// The native stack a call runs on, in bytes: room for
    /// `max_stack_slots` plus the largest frame, with a margin, so that the
    /// slot limit always traps first (default: 2.1 MiB).
    pub fn native_stack_bytes(&self) -> usize {
        crate::engine::stack_limit::native_stack_bytes(
            self.max_stack_slots,
            self.limits.max_frame_slots,
        )
    }

    /// The wasmer tunables that cap memory, tables and stack.
    pub(crate) fn tunables(&self) -> Limiting {
        Limiting::new(
            u32::try_from(self.limits.max_memory_pages).unwrap_or(u32::MAX),
            u32::try_from(self.limits.max_table_elements).unwrap_or(u32::MAX),
            self.native_stack_bytes(),
        )
    }
}
