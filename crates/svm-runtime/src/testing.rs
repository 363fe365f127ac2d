//! Testing contracts in a few lines: a runtime over an in-memory KV
//! ([`MemKv`]) with a KV-backed node, deploys from an author with counting
//! nonces, and a call builder.
//!
//! ```
//! use svm_runtime::testing::{TestVm, account};
//!
//! let mut vm = TestVm::new();
//! let wat = r#"(module (memory (export "memory") 1)
//!   (func (export "answer") (result i64) (i64.const 42)))"#;
//! # let code = wasm_of(wat);
//! let counter = vm.deploy(&code).unwrap();
//! let r = vm.call(counter, "answer").sender(account("alice")).send();
//! assert!(r.success);
//! # fn wasm_of(wat: &str) -> Vec<u8> { wat::parse_str(wat).unwrap() }
//! ```
//!
//! A Rust contract's test deploys its committed `.wasm`
//! (`include_bytes!`) and calls it with call data, as
//! `crates/svm-runtime/tests/token.rs` does for `contracts/token`. Every
//! [`TestVm`] is independent (its own store), so tests run in parallel.

use std::sync::Arc;

use svm_kv::{KvStore, MemKv};
use svm_types::Address;

use crate::{
    CallTx, DeployError, DeployTx, KvNodeHost, NodeHost, Receipt, Runtime, RuntimeConfig, StateRef,
    WasmValue,
};

/// The author of [`TestVm::deploy`]'s contracts.
pub const AUTHOR: Address = Address([0xa0; 20]);

/// The gas limit of a deploy or call unless [`Call::gas`] says otherwise:
/// the default [`RuntimeConfig::max_tx_gas`] (100 000 000), or the VM's
/// `max_tx_gas` when that is lower.
pub const DEFAULT_GAS: u64 = 100_000_000;

/// A deterministic test account: the first 20 bytes of
/// `blake3("svm-test-account" ‖ name)`.
pub fn account(name: &str) -> Address {
    let mut h = blake3::Hasher::new();
    h.update(b"svm-test-account");
    h.update(name.as_bytes());
    let mut a = [0u8; 20];
    a.copy_from_slice(&h.finalize().as_bytes()[..20]);
    Address(a)
}

/// A runtime for tests: over `K` (an in-memory [`MemKv`] unless built with
/// [`TestVm::on`]), with a [`KvNodeHost`] on the same store.
pub struct TestVm<K: KvStore + Clone + 'static = Arc<MemKv>> {
    rt: Runtime<K>,
    node: Arc<KvNodeHost<K>>,
    nonce: u64,
    /// [`DEFAULT_GAS`] capped by the configuration's `max_tx_gas`.
    gas: u64,
}

impl TestVm {
    /// A fresh VM over an empty [`MemKv`] with the default configuration.
    pub fn new() -> Self {
        Self::on(Arc::new(MemKv::new()), RuntimeConfig::default())
    }

    /// A fresh VM over an empty [`MemKv`] with `config`.
    pub fn with_config(config: RuntimeConfig) -> Self {
        Self::on(Arc::new(MemKv::new()), config)
    }
}

impl Default for TestVm {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: KvStore + Clone + 'static> TestVm<K> {
    /// A VM over `kv` (any backend: the same contract gives the same
    /// receipts on each).
    pub fn on(kv: K, config: RuntimeConfig) -> Self {
        let node = Arc::new(KvNodeHost::new(kv.clone()));
        let gas = DEFAULT_GAS.min(config.max_tx_gas);
        let rt = Runtime::new(kv, node.clone(), config);
        Self {
            rt,
            node,
            nonce: 0,
            gas,
        }
    }

    /// Deploys `code` (wasm bytes) from [`AUTHOR`] with the next nonce
    /// (0, 1, ...) and [`DEFAULT_GAS`] (capped by `max_tx_gas`); its
    /// address.
    ///
    /// # Errors
    /// The [`DeployError`] of invalid code or a failing store.
    pub fn deploy(&mut self, code: &[u8]) -> Result<Address, DeployError> {
        let d = self.rt.deploy(&DeployTx {
            author: AUTHOR,
            nonce: self.nonce,
            name: "test".into(),
            gas_limit: self.gas,
            code: code.to_vec(),
        })?;
        self.nonce += 1;
        Ok(d.address)
    }

    /// A call of `function` of `contract`, to configure and [`Call::send`]:
    /// sender [`account`]`("sender")`, no call data, no arguments, value 0,
    /// [`DEFAULT_GAS`] (capped by `max_tx_gas`), the latest state.
    pub fn call(&self, contract: Address, function: &str) -> Call<'_, K> {
        Call {
            vm: self,
            tx: CallTx {
                value: 0,
                contract,
                sender: account("sender"),
                function: function.into(),
                args: Vec::new(),
                calldata: Vec::new(),
                gas_limit: self.gas,
                state: StateRef::Latest,
            },
        }
    }

    /// Sets `account`'s coin balance (the node's side; no receipt).
    ///
    /// # Panics
    /// If the store fails (a test helper: a failing test is the point).
    pub fn fund(&self, account: Address, amount: u64) {
        self.node
            .set_balance(&account, amount)
            .expect("the node store writes");
    }

    /// `account`'s coin balance.
    ///
    /// # Panics
    /// If the store fails.
    pub fn balance(&self, account: Address) -> u64 {
        self.node.balance(&account).expect("the node store reads")
    }

    /// The runtime, for anything the helpers do not cover (blocks, state
    /// queries, records).
    pub fn runtime(&self) -> &Runtime<K> {
        &self.rt
    }
}

/// A call being configured; [`Call::send`] runs it.
pub struct Call<'a, K: KvStore + Clone + 'static> {
    vm: &'a TestVm<K>,
    tx: CallTx,
}

impl<K: KvStore + Clone + 'static> Call<'_, K> {
    /// The sender.
    pub fn sender(mut self, sender: Address) -> Self {
        self.tx.sender = sender;
        self
    }

    /// The call data (an `svm-sdk` entry point's arguments).
    pub fn calldata(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.tx.calldata = bytes.into();
        self
    }

    /// The wasm arguments (for functions with parameters).
    pub fn args(mut self, args: Vec<WasmValue>) -> Self {
        self.tx.args = args;
        self
    }

    /// The value moved from the sender to the contract with the call.
    pub fn value(mut self, value: u64) -> Self {
        self.tx.value = value;
        self
    }

    /// The gas limit.
    pub fn gas(mut self, gas: u64) -> Self {
        self.tx.gas_limit = gas;
        self
    }

    /// The transaction as built.
    pub fn tx(&self) -> &CallTx {
        &self.tx
    }

    /// Runs the call as a block of one (committed on success) and returns
    /// its receipt.
    pub fn send(self) -> Receipt {
        self.vm.rt.call(&self.tx)
    }
}
