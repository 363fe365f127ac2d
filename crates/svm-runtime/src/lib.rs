//! svm layer 5: the runtime. It deploys WebAssembly contracts and executes
//! call transactions on wasmer 7.4.2 against their page storage.
//!
//! - **Deploy** ([`Runtime::deploy`]): the gate ([`gate`]) checks the code
//!   (well-formed, deterministic, known imports, own memory); the code is
//!   compiled, then stored under its hash and the contract record under
//!   its address, derived from (author, nonce, code hash)
//!   ([`contracts::contract_address`]).
//! - **Call** ([`Runtime::call`]): load the code, compile it (or take it
//!   from the module cache), build the import object of vmcalls
//!   ([`imports`], [`vmcalls`]), instantiate with fresh registers and a
//!   page-slice cache at the state, call the function under the gas limit,
//!   and return a [`Receipt`]. Success commits the dirty pages, the
//!   contract's new state and balance changes in one atomic batch; any
//!   failure discards everything; a call at an explicit older state is a
//!   read-only query. The stages live in `src/call/` (admit, load,
//!   instantiate, run, settle), one file each.
//!
//! Transactions ([`DeployTx`], [`CallTx`]) and receipts ([`Receipt`]) have
//! binary encodings ([`wire`]), specified as byte tables there and in
//! `docs/wire-formats.md`; a receipt also has a canonical consensus
//! encoding and hash ([`Receipt::consensus_hash`]) without its free-text
//! error message.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use svm_kv::MemKv;
//! use svm_runtime::{CallTx, DeployTx, KvNodeHost, Runtime, RuntimeConfig, StateRef, WasmValue};
//! use svm_types::Address;
//!
//! let kv = Arc::new(MemKv::new());
//! let rt = Runtime::new(kv.clone(), Arc::new(KvNodeHost::new(kv)), RuntimeConfig::default());
//! let code = wat::parse_str(r#"(module
//!     (memory (export "memory") 1)
//!     (func (export "add") (param i64 i64) (result i64)
//!         local.get 0 local.get 1 i64.add))"#).unwrap();
//! let deployed = rt
//!     .deploy(&DeployTx { author: Address([1; 20]), nonce: 0, name: "adder".into(), gas_limit: 1_000_000, code })
//!     .unwrap();
//! let receipt = rt.call(&CallTx {
//!     value: 0,
//!     contract: deployed.address,
//!     sender: Address([2; 20]),
//!     function: "add".into(),
//!     args: vec![WasmValue::I64(2), WasmValue::I64(40)],
//!     calldata: vec![],
//!     gas_limit: 100_000,
//!     state: StateRef::Latest,
//! });
//! assert!(receipt.success);
//! assert_eq!(receipt.returns, vec![WasmValue::I64(42)]);
//! assert!(receipt.gas_used > 0);
//! ```
#![deny(missing_docs)]

pub mod block;
mod call;
mod config;
pub mod contracts;
mod deploy;
mod deploy_outcome;
pub mod engine;
pub mod format;
pub mod gas;
pub mod keys;
#[cfg(target_os = "linux")]
mod runtime;
pub mod testing;

pub use block::CheckError;
pub use block::record::BlockRecord;
pub use block::{BlockError, BlockOutcome, BlockStats, CheckReport, PruneOutcome, Tx, TxOutcome};
pub use config::{Compiler, RuntimeConfig};
pub use deploy_outcome::{DeployError, Deployed};
pub use engine::compile::{CompileError, compile_module};
pub use engine::linker as imports;
pub use engine::module_cache::{ModuleCacheConfig, ModuleCacheStats};
pub use engine::{memory_pool, module_cache, stack_limit};
pub use format::{FormatError, STORAGE_FORMAT};
pub use node::{HostError, KvNodeHost, NodeError, NodeHost};
pub use runtime::{MODULE_SECRET_KEY, Runtime};
pub use svm_wire::{
    CallTx, DecodeError, DeployTx, EncodeError, ErrorCode, InnerCall, MAX_FUNCTION_NAME, Receipt,
    StateRef, TxError, WasmValue,
};

pub use svm_gate as gate;
pub use svm_host::abi as vmcall_table;
pub use svm_host::{inner_call, node, tx_pages};

/// The vmcalls ([`svm_host::vmcalls`]) and what they work on: the call
/// context, the contract's memory and the errors, re-exported from the
/// engine-free [`svm_host`].
pub mod vmcalls {
    pub use svm_host::vmcalls::*;
    pub use svm_host::{CallContext, GuestMemory, OutputLimits, VecMemory, VmCallError};
}

/// svm's messages and their byte encodings: the engine-free [`svm_wire`]
/// crate, and the block outcome's encoding ([`block::encode`]).
pub mod wire {
    pub use crate::block::encode::BLOCK_OUTCOME_VERSION;
    pub use svm_wire::*;
}
