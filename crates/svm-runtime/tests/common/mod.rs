//! Helpers shared by the runtime's integration tests.
#![allow(dead_code)]

use std::sync::Arc;

use svm_kv::KvStore;
use svm_runtime::{
    CallTx, DeployTx, Deployed, KvNodeHost, Receipt, Runtime, RuntimeConfig, StateRef, WasmValue,
};
use svm_types::Address;

pub const AUTHOR: Address = Address([0xa1; 20]);
pub const SENDER: Address = Address([0x5e; 20]);
pub const GAS: u64 = 10_000_000;

/// A runtime over `kv` with a KV-backed node host on the same store.
pub fn runtime<K: KvStore + Clone + 'static>(kv: K) -> (Runtime<K>, Arc<KvNodeHost<K>>) {
    let node = Arc::new(KvNodeHost::new(kv.clone()));
    (
        Runtime::new(kv, node.clone(), RuntimeConfig::default()),
        node,
    )
}

/// [`runtime`] with `node.vmcall_set_balance` allowed (SVM milestone-1
/// compatibility).
pub fn runtime_with_set_balance<K: KvStore + Clone + 'static>(
    kv: K,
) -> (Runtime<K>, Arc<KvNodeHost<K>>) {
    let node = Arc::new(KvNodeHost::new(kv.clone()));
    let config = RuntimeConfig {
        allow_set_balance: true,
        ..RuntimeConfig::default()
    };
    (Runtime::new(kv, node.clone(), config), node)
}

pub fn deploy_wat<K: KvStore + 'static>(rt: &Runtime<K>, wat: &str, nonce: u64) -> Deployed {
    let code = wat::parse_str(wat).expect("valid WAT");
    rt.deploy(&DeployTx {
        author: AUTHOR,
        nonce,
        name: "test".into(),
        gas_limit: GAS,
        code,
    })
    .expect("deploys")
}

pub fn call_tx(contract: Address, function: &str, args: Vec<WasmValue>) -> CallTx {
    CallTx {
        value: 0,
        contract,
        sender: SENDER,
        function: function.into(),
        args,
        calldata: Vec::new(),
        gas_limit: GAS,
        state: StateRef::Latest,
    }
}

pub fn call<K: KvStore + 'static>(
    rt: &Runtime<K>,
    contract: Address,
    function: &str,
    args: Vec<WasmValue>,
) -> Receipt {
    rt.call(&call_tx(contract, function, args))
}

/// A module importing the given vmcalls, with one page of memory, data at
/// offset 0, and the given functions.
pub fn module(imports: &str, data: &str, funcs: &str) -> String {
    format!(
        r#"(module
  {imports}
  (memory (export "memory") 1)
  (data (i32.const 0) "{data}")
  {funcs})"#
    )
}
