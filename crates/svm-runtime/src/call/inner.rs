//! Inner contract calls (`svm.call`, [`crate::inner_call`]): the runtime's
//! side, run from inside the caller's vmcall.
//!
//! A callee is admitted (depth, re-entrancy), loaded (record, module,
//! instantiation gas, its page cache in the transaction's [`TxPages`]),
//! then runs on a context made of the caller's transaction-wide parts
//! (page caches, balance changes, logs, call stack, inner-call list),
//! moved in and moved back afterwards. A [`TxCheckpoint`] of every page
//! cache, and copies of the balance changes and the log count, are taken
//! before the callee's value moves; a failure returns to them.

use svm_cache::{CacheError, PageCache, PageSliceCache};
use svm_kv::KvStore;
use svm_pages::PageOverlay;
use svm_registers::Registers;

use super::Failure;
use super::run;
use crate::block::state::BlockState;
use crate::contracts::ContractRecord;
use crate::engine::instance::Instantiated;
use crate::engine::trap::value_error;
use crate::gas;
use crate::inner_call::{CallOutcome, CallRequest, Invoke};
use crate::runtime::Runtime;
use crate::tx_pages::{TxCheckpoint, TxPages};
use crate::vmcalls::{CallContext, VmCallError};
use crate::wire::InnerCall;
use crate::wire::{CallTx, ErrorCode, StateRef};

type Ctx<K> = CallContext<PageOverlay<K>>;

/// Runs inner calls of one transaction over its block.
pub(crate) struct Invoker<K> {
    runtime: Runtime<K>,
    block: BlockState<K>,
}

impl<K> Invoker<K> {
    pub(crate) fn new(runtime: Runtime<K>, block: BlockState<K>) -> Self {
        Self { runtime, block }
    }
}

fn refused(code: ErrorCode, gas_used: u64) -> CallOutcome {
    CallOutcome {
        error: Some(code),
        gas_used,
        return_data: Vec::new(),
    }
}

fn fatal(e: impl std::fmt::Display) -> VmCallError {
    VmCallError::Fatal(e.to_string())
}

impl<K: KvStore + 'static> Invoke<PageOverlay<K>> for Invoker<K> {
    fn invoke(
        &self,
        caller: &mut Ctx<K>,
        request: CallRequest,
    ) -> Result<CallOutcome, VmCallError> {
        let index = caller.calls.len();
        caller.calls.push(InnerCall {
            depth: caller.stack.len() as u32,
            contract: request.contract,
            function: request.function.clone(),
            error: None,
            gas_used: 0,
        });
        let out = self.admit_and_run(caller, request)?;
        if let Some(c) = caller.calls.get_mut(index) {
            c.error = out.error;
            c.gas_used = out.gas_used;
        }
        Ok(out)
    }
}

impl<K: KvStore + 'static> Invoker<K> {
    fn admit_and_run(
        &self,
        caller: &mut Ctx<K>,
        request: CallRequest,
    ) -> Result<CallOutcome, VmCallError> {
        let config = &self.runtime.config;
        if caller.stack.len() >= config.max_call_depth as usize {
            return Ok(refused(ErrorCode::CallDepth, 0));
        }
        if !config.allow_reentrancy && caller.stack.contains(&request.contract) {
            return Ok(refused(ErrorCode::Reentrancy, 0));
        }
        let record = match self.block.record(&request.contract) {
            Ok(Some(r)) => r,
            Ok(None) => return Ok(refused(ErrorCode::ContractNotFound, 0)),
            Err(e) => return Err(fatal(e)),
        };
        let compiled = match self.runtime.module_in(&self.block, &record.code_hash) {
            Ok(c) => c,
            Err(e) if e.code == ErrorCode::Storage => return Err(fatal(e.message)),
            Err(e) => return Ok(refused(e.code, 0)),
        };
        let s = compiled.summary;
        let instantiation = gas::instantiate(s.memory_pages, s.table_elements, s.data_bytes);
        if instantiation > request.gas_limit {
            return Ok(refused(ErrorCode::OutOfGas, request.gas_limit));
        }
        if !caller.storage.contains(&request.contract) {
            let cache = PageCache::open(
                self.block.pages.clone(),
                request.contract,
                record.state,
                self.runtime.config.cache,
            )
            .map_err(fatal)?;
            caller.storage.insert(PageSliceCache::new(cache));
        }
        let checkpoint = caller.storage.checkpoint();
        let balances = caller.balances.clone();
        let logs = caller.logs.len();
        let out = self.run(caller, &request, record, &compiled, instantiation);
        settle(caller, out, checkpoint, balances, logs)
    }

    /// Runs the admitted callee on the caller's transaction-wide parts and
    /// gives them back to the caller, whatever happened.
    fn run(
        &self,
        caller: &mut Ctx<K>,
        request: &CallRequest,
        record: ContractRecord,
        compiled: &crate::engine::module_cache::Compiled,
        instantiation: u64,
    ) -> Result<CallOutcome, VmCallError> {
        let mut storage = std::mem::replace(&mut caller.storage, TxPages::detached());
        let back = storage.switch_to(request.contract).map_err(fatal)?;
        let mut stack = std::mem::take(&mut caller.stack);
        stack.push(request.contract);
        let mut callee = CallContext {
            registers: Registers::new(self.runtime.config.registers),
            storage,
            sender: caller.contract,
            contract: request.contract,
            calldata: request.calldata.clone(),
            value: request.value,
            return_data: Vec::new(),
            logs: std::mem::take(&mut caller.logs),
            limits: caller.limits,
            node: caller.node.clone(),
            balances: std::mem::take(&mut caller.balances),
            allow_set_balance: caller.allow_set_balance,
            stack,
            calls: std::mem::take(&mut caller.calls),
            inner_return: Vec::new(),
            invoker: caller.invoker.clone(),
        };
        let limit = request.gas_limit;
        let outcome = match callee.receive_value() {
            Err(e) => {
                let e = value_error(&e);
                give_back(caller, &mut callee, back);
                if e.code == ErrorCode::Storage {
                    return Err(fatal(e.message));
                }
                return Ok(refused(e.code, 0));
            }
            Ok(()) => {
                let (mut store, env, instance) =
                    self.runtime
                        .instance_of(compiled, callee, limit - instantiation);
                let instance = match instance {
                    Ok(i) => i,
                    Err(e) => {
                        let callee = &mut env.as_mut(&mut store).ctx;
                        give_back(caller, callee, back);
                        if e.code == ErrorCode::Storage {
                            return Err(fatal(e.message));
                        }
                        return Ok(refused(e.code, instantiation));
                    }
                };
                let mut inst = Instantiated {
                    store,
                    env,
                    instance,
                    record,
                    query: false,
                    max_stack_slots: self.runtime.config.max_stack_slots,
                };
                let tx = CallTx {
                    sender: caller.contract,
                    contract: request.contract,
                    function: request.function.clone(),
                    args: Vec::new(),
                    calldata: Vec::new(),
                    gas_limit: limit,
                    value: request.value,
                    state: StateRef::Latest,
                };
                let result = run::run(&mut inst, &tx);
                let gas_used = match &result {
                    Ok(_) => crate::engine::instance::gas_used(&mut inst, limit),
                    Err(f) => f.gas_used,
                };
                let callee = &mut inst.env.as_mut(&mut inst.store).ctx;
                let return_data = std::mem::take(&mut callee.return_data);
                give_back(caller, callee, back);
                match result {
                    Ok(_) => CallOutcome {
                        error: None,
                        gas_used,
                        return_data,
                    },
                    Err(Failure { error, .. }) if error.code == ErrorCode::Storage => {
                        return Err(fatal(error.message));
                    }
                    Err(Failure { error, .. }) => refused(error.code, gas_used),
                }
            }
        };
        Ok(outcome)
    }
}

/// Moves the transaction-wide parts from the callee's context back to the
/// caller's, the caller's page cache running again.
fn give_back<K: KvStore>(caller: &mut Ctx<K>, callee: &mut Ctx<K>, back: svm_types::Address) {
    caller.storage = std::mem::replace(&mut callee.storage, TxPages::detached());
    // The caller's cache is in the map: it ran before the call.
    let _ = caller.storage.switch_to(back);
    caller.logs = std::mem::take(&mut callee.logs);
    caller.balances = std::mem::take(&mut callee.balances);
    caller.stack = std::mem::take(&mut callee.stack);
    caller.stack.pop();
    caller.calls = std::mem::take(&mut callee.calls);
}

/// Keeps the callee's effects on success, returns to the checkpoint on
/// failure.
fn settle<K: KvStore>(
    caller: &mut Ctx<K>,
    out: Result<CallOutcome, VmCallError>,
    checkpoint: TxCheckpoint,
    balances: std::collections::BTreeMap<svm_types::Address, u64>,
    logs: usize,
) -> Result<CallOutcome, VmCallError> {
    match out {
        Ok(o) if o.error.is_none() => {
            caller.storage.release(checkpoint).map_err(fatal)?;
            Ok(o)
        }
        Ok(o) => {
            rollback(caller, checkpoint, balances, logs)?;
            Ok(o)
        }
        Err(e) => {
            rollback(caller, checkpoint, balances, logs)?;
            Err(e)
        }
    }
}

fn rollback<K: KvStore>(
    caller: &mut Ctx<K>,
    checkpoint: TxCheckpoint,
    balances: std::collections::BTreeMap<svm_types::Address, u64>,
    logs: usize,
) -> Result<(), VmCallError> {
    caller
        .storage
        .rollback_to(checkpoint)
        .map_err(|e: CacheError| fatal(e))?;
    caller.balances = balances;
    caller.logs.truncate(logs);
    Ok(())
}
