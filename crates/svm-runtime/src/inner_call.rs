//! Contract-to-contract calls: the `svm.call` vmcall and the types between
//! it and the runtime, which runs the callee ([`Invoke`], implemented in
//! `call/inner.rs`).
//!
//! ```text
//! svm.call(addr_reg_bits i32, addr_reg_idx i32,
//!          func_ptr i32, func_len i32, data_ptr i32, data_len i32,
//!          gas i64, value i64) -> i32
//! ```
//!
//! 1. The caller pays [`gas::inner_call`] for the function name and call
//!    data bytes (a vmcall plus the intrinsic gas of a call).
//! 2. `gas` (read as unsigned: -1 forwards everything) is capped by the
//!    caller's remaining gas and taken from it; the callee runs under that
//!    limit, its instantiation included, and what it did not use is given
//!    back.
//! 3. The callee runs its exported function `func` (no parameters; results
//!    are ignored) with the call data, sender = the caller's contract, in
//!    a nested checkpoint of the same transaction: `value` moves from the
//!    caller's **own** balance to the callee first; its page writes (of
//!    every contract it reaches), logs and balance changes stay only if it
//!    succeeds. They commit or are discarded with the transaction.
//! 4. The result is 0 on success, else the [`ErrorCode`] of the callee's
//!    failure as a number: `Trap` (4), `HostCall` (5), `OutOfGas` (6),
//!    `ContractNotFound` (1), `FunctionNotFound` (2), `WrongArguments` (3),
//!    `InvalidCode` (8), `InsufficientBalance` (11), `CallDepth` (12),
//!    `Reentrancy` (13). The caller may go on or trap. The callee's return
//!    data is readable with `svm.returndata_len` / `svm.returndata_copy`
//!    until the next inner call.
//!
//! Bad arguments (memory out of bounds, a register, a name that is not
//! UTF-8 or over 255 bytes, call data over [`MAX_INNER_CALLDATA`], a
//! negative value) trap the caller. A storage failure inside the callee
//! fails the whole transaction with `Storage`.

use std::sync::Arc;

use svm_pages::PageStorage;
use svm_types::Address;
use wasmer::FunctionEnvMut;

use crate::gas;
use crate::imports::Env;
use crate::vmcalls::{CallContext, VmCallError};
use crate::wire::{ErrorCode, MAX_FUNCTION_NAME};

/// The most call data an inner call carries, in bytes (64 KiB).
pub const MAX_INNER_CALLDATA: usize = 64 << 10;

/// What `svm.call` asks the runtime to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    /// The callee.
    pub contract: Address,
    /// Its exported function (no parameters).
    pub function: String,
    /// The call data, at most [`MAX_INNER_CALLDATA`] bytes.
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

/// Arguments of `svm.call`, as the contract passes them.
pub(crate) struct CallArgs {
    pub(crate) addr_reg_bits: u32,
    pub(crate) addr_reg_idx: u32,
    pub(crate) func_ptr: u32,
    pub(crate) func_len: u32,
    pub(crate) data_ptr: u32,
    pub(crate) data_len: u32,
    pub(crate) gas: i64,
    pub(crate) value: i64,
}

/// `svm.call` (module docs).
pub(crate) fn call<S: PageStorage + 'static>(
    env: &mut FunctionEnvMut<'_, Env<S>>,
    a: CallArgs,
) -> Result<i32, VmCallError> {
    let (data, mut store) = env.data_and_store_mut();
    let meter = data.meter.clone().ok_or(VmCallError::NoMemory)?;
    meter.charge(
        &mut store,
        gas::inner_call(u64::from(a.func_len) + u64::from(a.data_len)),
    )?;
    if a.func_len as usize > MAX_FUNCTION_NAME {
        return Err(VmCallError::BadFunctionName);
    }
    if a.data_len as usize > MAX_INNER_CALLDATA {
        return Err(VmCallError::TooLarge {
            what: "inner call data",
            limit: MAX_INNER_CALLDATA,
        });
    }
    let value = u64::try_from(a.value).map_err(|_| VmCallError::NegativeAmount(a.value))?;
    let contract = data.ctx.address_in(a.addr_reg_bits, a.addr_reg_idx)?;
    let (function, calldata) = {
        let memory = data.memory.as_ref().ok_or(VmCallError::NoMemory)?;
        let view = memory.view(&store);
        let read = |ptr: u32, len: u32| {
            let mut buf = vec![0u8; len as usize];
            view.read(u64::from(ptr), &mut buf)
                .map(|()| buf)
                .map_err(|_| VmCallError::MemoryOutOfBounds { ptr, len })
        };
        let function = String::from_utf8(read(a.func_ptr, a.func_len)?)
            .map_err(|_| VmCallError::BadFunctionName)?;
        (function, read(a.data_ptr, a.data_len)?)
    };
    let invoker: Arc<dyn crate::inner_call::Invoke<S>> = data
        .ctx
        .invoker
        .clone()
        .ok_or(VmCallError::Disabled("svm.call"))?;
    let forward = (a.gas as u64).min(meter.remaining(&mut store));
    meter.charge(&mut store, forward)?;
    let out = invoker.invoke(
        &mut data.ctx,
        CallRequest {
            contract,
            function,
            calldata,
            gas_limit: forward,
            value,
        },
    )?;
    meter.refund(&mut store, forward.saturating_sub(out.gas_used))?;
    data.ctx.inner_return = out.return_data;
    Ok(out.error.map_or(0, |e| i32::from(e.as_u8())))
}
