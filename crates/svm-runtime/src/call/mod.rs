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
//! 5. **settle** ([`settle`]): dirtied pages are paid for, then the writes
//!    are merged into the block (calls at the latest state) or discarded
//!    (failures, and queries at an explicit state), and the receipt is
//!    made. The block commits them ([`crate::block`]).
//!
//! A failure at any stage is a failed receipt that charges the gas of the
//! work done so far (at least the intrinsic gas; the whole limit when the
//! gas ran out) and changes nothing.

mod inner;
mod instantiate;
mod load;
mod run;
mod settle;

use svm_kv::KvStore;
use svm_types::State;

use self::instantiate::Live;
use crate::block::state::BlockState;
use crate::engine::reuse::InstancePool;
use crate::gas;
use crate::runtime::{Runtime, tx_error};
use crate::wire::{CallTx, ErrorCode, Receipt, TxError};

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
        calls: Vec::new(),
    }
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Runs `tx` inside `block`: a success merges its writes into the
    /// block, a failure merges nothing. With `pool`, the call may run on
    /// an instance kept from an earlier call of the block ([`reuse`]).
    pub(crate) fn call_in(
        &self,
        block: &mut BlockState<K>,
        tx: &CallTx,
        mut pool: Option<&mut InstancePool<K>>,
    ) -> Receipt {
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
        let loaded = match self.load(block, tx, intrinsic) {
            Ok(l) => l,
            Err((f, state)) => return failed(f, state, tx.gas_limit),
        };
        let base = loaded.base;
        let mut live = match self.instantiate(block, tx, loaded, pool.as_deref_mut()) {
            Ok(i) => i,
            Err(f) => return failed(f, base, tx.gas_limit),
        };
        let inst = live.inst();
        let receipt = match run::run(inst, tx) {
            Ok(values) => match self.settle(block, tx, inst, values) {
                Ok(r) => r,
                Err(f) => failed(f, base, tx.gas_limit),
            },
            Err(f) => failed(f, base, tx.gas_limit),
        };
        if let (Some(pool), Live::Kept(kept)) = (pool, live) {
            pool.give_back(kept);
        }
        receipt
    }

    /// Loads or compiles the module of `contract` (at its latest record)
    /// if the memory tier lacks it: done before a block takes the writers'
    /// lock, so that compiling does not hold other writers up.
    pub(crate) fn prewarm(&self, contract: &svm_types::Address) {
        if let Ok(Some(record)) = self.contract(contract)
            && self.module_in_memory(&record.code_hash).is_none()
        {
            let _ = self.module(&record.code_hash);
        }
    }
}
