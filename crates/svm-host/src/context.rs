//! What a vmcall works on: the run's [`CallContext`] and its output
//! limits; and what an inner call asks of the runtime ([`Invoke`]), which
//! works on the caller's context in turn.

use std::collections::BTreeMap;
use std::sync::Arc;

use svm_pages::PageStorage;
use svm_registers::Registers;
use svm_types::Address;

use crate::VmCallError;
use crate::node::NodeHost;
use crate::tx_pages::TxPages;
use svm_wire::ErrorCode;

/// Limits on what one call may output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputLimits {
    /// The most return data, in bytes. Default: 64 KiB.
    pub max_return_data: usize,
    /// The most log data (all logs together), in bytes. Default: 64 KiB.
    pub max_log_bytes: usize,
    /// The most logs. Default: 256.
    pub max_logs: usize,
}

impl Default for OutputLimits {
    fn default() -> Self {
        Self {
            max_return_data: 64 << 10,
            max_log_bytes: 64 << 10,
            max_logs: 256,
        }
    }
}

/// Everything one contract run works on: the environment of its vmcalls.
pub struct CallContext<S> {
    /// The run's registers (fresh per run).
    pub registers: Registers,
    /// The page caches of the transaction; the running frame's is
    /// [`TxPages::cache`].
    pub storage: TxPages<S>,
    /// The calling account.
    pub sender: Address,
    /// The contract's own address.
    pub contract: Address,
    /// The call data of the transaction.
    pub calldata: Vec<u8>,
    /// The value the call carries, moved from the sender to the contract by
    /// [`CallContext::receive_value`] before the function runs.
    pub value: u64,
    /// The bytes set by `set_return_data` (the last call wins).
    pub return_data: Vec<u8>,
    /// The logs emitted, in order.
    pub logs: Vec<Vec<u8>>,
    /// Limits on return data and logs.
    pub limits: OutputLimits,
    /// The node's accounts.
    pub node: Arc<dyn NodeHost>,
    /// Balances changed by this run, applied only if it succeeds.
    pub balances: BTreeMap<Address, u64>,
    /// Whether `node.vmcall_set_balance` works
    /// (the runtime's `allow_set_balance`).
    pub allow_set_balance: bool,
    /// The contracts on the call stack, outermost first, the running one
    /// last (one entry for a transaction without inner calls).
    pub stack: Vec<Address>,
    /// The inner calls made so far by the transaction, in order.
    pub calls: Vec<svm_wire::InnerCall>,
    /// The return data of the last inner call this frame made
    /// (`svm.returndata_len`, `svm.returndata_copy`).
    pub inner_return: Vec<u8>,
    /// Runs `svm.call`; `None` where inner calls are not available (then
    /// `svm.call` fails with [`VmCallError::Disabled`]).
    pub invoker: Option<Arc<dyn Invoke<S>>>,
}

impl<S: PageStorage> CallContext<S> {
    /// The address in the first 20 bytes of a register (160 bits or more).
    ///
    /// # Errors
    /// [`VmCallError::Register`].
    pub fn address_in(&self, bits: u32, idx: u32) -> Result<Address, VmCallError> {
        let bytes = self.registers.read(bits, idx, 20)?;
        Ok(Address::from_slice(bytes).unwrap_or_default())
    }

    /// Moves `amount` from `from` to `to` in this run's balances.
    ///
    /// # Errors
    /// [`VmCallError::InsufficientBalance`], [`VmCallError::BalanceOverflow`]
    /// (past `i64::MAX`), [`VmCallError::Node`].
    pub fn move_balance(
        &mut self,
        from: Address,
        to: Address,
        amount: u64,
    ) -> Result<(), VmCallError> {
        let from_balance = self.balance(&from)?;
        if from_balance < amount {
            return Err(VmCallError::InsufficientBalance {
                balance: from_balance,
                amount,
            });
        }
        self.balances.insert(from, from_balance - amount);
        // Read after the debit, so that a move to oneself changes nothing.
        let to_balance = self.balance(&to)?;
        let new = to_balance
            .checked_add(amount)
            .filter(|&b| b <= i64::MAX as u64)
            .ok_or(VmCallError::BalanceOverflow)?;
        self.balances.insert(to, new);
        Ok(())
    }

    /// Moves the call's [`CallContext::value`] from the sender to the
    /// contract (nothing when it is 0).
    ///
    /// # Errors
    /// As [`CallContext::move_balance`].
    pub fn receive_value(&mut self) -> Result<(), VmCallError> {
        if self.value == 0 {
            return Ok(());
        }
        self.move_balance(self.sender, self.contract, self.value)
    }

    /// The balance of `account` as this run sees it.
    ///
    /// # Errors
    /// [`VmCallError::Node`].
    pub fn balance(&self, account: &Address) -> Result<u64, VmCallError> {
        match self.balances.get(account) {
            Some(b) => Ok(*b),
            None => Ok(self.node.balance(account)?),
        }
    }
}

/// What `svm.call` asks the runtime to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    /// The callee.
    pub contract: Address,
    /// Its exported function (no parameters).
    pub function: String,
    /// The call data, at most [`crate::inner_call::MAX_INNER_CALLDATA`] bytes.
    pub calldata: Vec<u8>,
    /// The gas forwarded, in gas: already taken from the caller.
    pub gas_limit: u64,
    /// The value moved from the caller's own balance to the callee.
    pub value: u64,
}

/// What an inner call gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutcome {
    /// `None` on success, else why the callee failed or was refused.
    pub error: Option<ErrorCode>,
    /// The gas it used, at most [`CallRequest::gas_limit`].
    pub gas_used: u64,
    /// Its return data (empty on failure).
    pub return_data: Vec<u8>,
}

/// Runs an inner call for `svm.call`, from inside the caller's vmcall: the
/// runtime implements it over its block.
pub trait Invoke<S>: Send + Sync {
    /// Runs `request` as called by the frame of `caller`, in a nested
    /// checkpoint of `caller`'s transaction, and records it in
    /// [`CallContext::calls`].
    ///
    /// # Errors
    /// [`VmCallError::Fatal`] when the storage or the node failed: the
    /// whole transaction fails.
    fn invoke(
        &self,
        caller: &mut CallContext<S>,
        request: CallRequest,
    ) -> Result<CallOutcome, VmCallError>;
}
