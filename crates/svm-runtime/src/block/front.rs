//! The block-of-one front doors: [`Runtime::call`] and
//! [`Runtime::deploy`] run one transaction as a whole block
//! ([`Runtime::execute_block`]); a call at an explicit state runs as a
//! query outside any block.

use svm_kv::KvStore;
use svm_types::State;

use super::state::BlockState;
use super::{Tx, TxOutcome};
use crate::call::{Failure, failed};
use crate::deploy_outcome::{DeployError, Deployed};
use crate::runtime::{Runtime, storage_error};
use crate::wire::{CallTx, DeployTx, Receipt, StateRef};

impl<K: KvStore + 'static> Runtime<K> {
    /// Executes a call transaction and returns its receipt.
    ///
    /// - A call at the latest state ([`crate::StateRef::Latest`]) is a
    ///   block of one ([`Runtime::execute_block`]): on success, the dirty
    ///   pages, the contract's new latest state and every balance change
    ///   (the call's value included) are committed in one atomic batch with
    ///   a block record.
    /// - A call at an explicit state ([`crate::StateRef::At`]) is a
    ///   read-only query: it runs and pays like any call, but commits
    ///   nothing, balances included, and makes no block; its receipt
    ///   carries the state it ran at and `pages_written == 0`.
    /// - Blocks, committing calls and deploys of one runtime run one at a
    ///   time (from reading the latest state to the commit); queries run in
    ///   parallel with them.
    /// - On any failure nothing is written and the receipt carries the
    ///   state the call ran against (see the module docs for the gas), or
    ///   `State::ZERO` when the call was refused before any state was
    ///   loaded: a gas limit over `max_tx_gas`, or below the intrinsic gas,
    ///   or a block batch the KV refused.
    pub fn call(&self, tx: &CallTx) -> Receipt {
        if let StateRef::At(_) = tx.state {
            let mut block = BlockState::new(self.pages.clone(), self.node.clone());
            return self.call_in(&mut block, tx, None);
        }
        match self.execute_block(&[Tx::Call(tx.clone())]) {
            Ok(mut out) => match out.outcomes.pop() {
                Some(TxOutcome::Call(r)) => r,
                _ => failed(
                    Failure::new(storage_error("the block lost its receipt"), 0),
                    State::ZERO,
                    tx.gas_limit,
                ),
            },
            Err(e) => failed(Failure::new(storage_error(e), 0), State::ZERO, tx.gas_limit),
        }
    }

    /// Deploys a contract as a block of one ([`Runtime::execute_block`]):
    /// gas, gate, compile, then the code (under its hash) and the contract
    /// record (under its address) are stored in the block's one batch. The
    /// gas ([`crate::gas::deploy`], proportional to the code size) is checked
    /// before any work.
    ///
    /// # Errors
    /// [`DeployError`]; nothing is stored then.
    pub fn deploy(&self, tx: &DeployTx) -> Result<Deployed, DeployError> {
        match self.execute_block(&[Tx::Deploy(tx.clone())]) {
            Ok(mut out) => match out.outcomes.pop() {
                Some(TxOutcome::Deploy(r)) => r,
                _ => Err(DeployError::Storage("the block lost its outcome".into())),
            },
            Err(e) => Err(DeployError::Storage(e.to_string())),
        }
    }
}
