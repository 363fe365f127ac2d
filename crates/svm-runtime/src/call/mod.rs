//! A call transaction, in stages, each in its own file:
//!
//! 1. **admit** (this file): the gas limit is at most
//!    [`crate::RuntimeConfig::max_tx_gas`] and covers the intrinsic gas
//!    ([`gas::call_intrinsic`]), before anything is loaded;
//! 2. **load** ([`load`]): the contract record, the state to run at, its
//!    page cache and the compiled module; the instantiation gas
//!    ([`gas::instantiate`]) is charged;
//! 3. **instantiate** ([`instantiate`]): the call context (the call's value
//!    moved from the sender to the contract), the import object of vmcalls,
//!    the instance, its gas;
//! 4. **run** ([`run`]): the function and its arguments are checked and the
//!    function runs under the remaining gas;
//! 5. **settle** ([`settle`]): dirtied pages are paid for, then everything
//!    is committed in one atomic batch (calls at the latest state) or
//!    discarded (failures, and queries at an explicit state), and the
//!    receipt is made.
//!
//! A failure at any stage is a failed receipt that charges the gas of the
//! work done so far (at least the intrinsic gas; the whole limit when the
//! gas ran out) and changes nothing.

mod instantiate;
mod load;
mod run;
mod settle;

use svm_kv::KvStore;
use svm_types::State;

use parking_lot::MutexGuard;

use crate::contracts::ContractRecord;
use crate::gas;
use crate::module_cache::Compiled;
use crate::runtime::{Runtime, tx_error};
use crate::wire::{CallTx, ErrorCode, Receipt, StateRef, TxError};

/// A failed stage: why, and what it cost.
pub(crate) struct Failure {
    pub(crate) error: TxError,
    pub(crate) gas_used: u64,
    pub(crate) pages_read: u32,
}

impl Failure {
    pub(crate) fn new(error: TxError, gas_used: u64) -> Self {
        Self {
            error,
            gas_used,
            pages_read: 0,
        }
    }
}

pub(crate) fn failed(f: Failure, state: State, gas_limit: u64) -> Receipt {
    Receipt {
        success: false,
        error: Some(f.error),
        new_state: state,
        returns: Vec::new(),
        return_data: Vec::new(),
        logs: Vec::new(),
        pages_read: f.pages_read,
        pages_written: 0,
        gas_limit,
        gas_used: f.gas_used,
    }
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Executes a call transaction and returns its receipt.
    ///
    /// - A call at the latest state ([`crate::StateRef::Latest`]) commits,
    ///   on success, the dirty pages, the contract's new latest state and
    ///   every balance change (the call's value included) in one atomic
    ///   batch.
    /// - A call at an explicit state ([`crate::StateRef::At`]) is a
    ///   read-only query: it runs and pays like any call, but commits
    ///   nothing, balances included; its receipt carries the state it ran
    ///   at and `pages_written == 0`.
    /// - Committing calls and deploys of one runtime run one at a time
    ///   (from reading the latest state to the commit); queries run in
    ///   parallel with them.
    /// - On any failure nothing is written and the receipt carries the
    ///   state the call ran against (see the module docs for the gas), or
    ///   `State::ZERO` when the call was refused before any state was
    ///   loaded: a gas limit over `max_tx_gas`, or below the intrinsic gas.
    pub fn call(&self, tx: &CallTx) -> Receipt {
        if tx.gas_limit > self.config.max_tx_gas {
            let e = tx_error(
                ErrorCode::GasLimitTooHigh,
                format!(
                    "gas limit {} is over the maximum of {} per transaction",
                    tx.gas_limit, self.config.max_tx_gas
                ),
            );
            return failed(Failure::new(e, 0), State::ZERO, tx.gas_limit);
        }
        let intrinsic = gas::call_intrinsic(tx.calldata.len());
        if intrinsic > tx.gas_limit {
            let e = tx_error(
                ErrorCode::OutOfGas,
                format!("the call needs {intrinsic} gas before it runs"),
            );
            return failed(Failure::new(e, tx.gas_limit), State::ZERO, tx.gas_limit);
        }
        // A committing call holds the writers' lock from reading the latest
        // state to its commit. Gas does not depend on the module cache.
        let (_writer, prefetched) = match tx.state {
            StateRef::Latest => {
                let (guard, prefetched) = self.lock_latest(&tx.contract);
                (Some(guard), prefetched)
            }
            StateRef::At(_) => (None, None),
        };
        let loaded = match self.load(tx, intrinsic, prefetched) {
            Ok(l) => l,
            Err((f, state)) => return failed(f, state, tx.gas_limit),
        };
        let base = loaded.base;
        let mut inst = match self.instantiate(tx, loaded) {
            Ok(i) => i,
            Err(f) => return failed(f, base, tx.gas_limit),
        };
        let values = match run::run(&mut inst, tx) {
            Ok(v) => v,
            Err(f) => return failed(f, base, tx.gas_limit),
        };
        match self.settle(tx, inst, values) {
            Ok(r) => r,
            Err(f) => failed(f, base, tx.gas_limit),
        }
    }
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Takes the writers' lock and reads `contract`'s record under it, with
    /// its module when the memory tier has it (the usual case: one record
    /// read, no compile under the lock). A module not in memory is loaded
    /// or compiled with the lock released, then the lock is taken again and
    /// the record read again (another writer may have moved the state).
    /// `None` when there is no record or module to prefetch: the load stage
    /// then reads and reports as usual.
    fn lock_latest(
        &self,
        contract: &svm_types::Address,
    ) -> (MutexGuard<'_, ()>, Option<(ContractRecord, Compiled)>) {
        let guard = self.writers.lock();
        let Ok(Some(record)) = self.contract(contract) else {
            return (guard, None);
        };
        if let Some(compiled) = self.module_in_memory(&record.code_hash) {
            return (guard, Some((record, compiled)));
        }
        drop(guard);
        let compiled = self.module(&record.code_hash).ok();
        let guard = self.writers.lock();
        let prefetched = match (compiled, self.contract(contract)) {
            (Some(c), Ok(Some(r))) => Some((r, c)),
            _ => None,
        };
        (guard, prefetched)
    }
}
