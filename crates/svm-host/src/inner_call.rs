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
//! 4. The result is 0 on success, else the [`ErrorCode`](svm_wire::ErrorCode) of the callee's
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

use svm_pages::PageStorage;
use svm_wire::MAX_FUNCTION_NAME;

pub use crate::context::{CallOutcome, CallRequest, Invoke};
use crate::meter::Host;
use crate::{CallContext, VmCallError, gas};

/// The most call data an inner call carries, in bytes (64 KiB).
pub const MAX_INNER_CALLDATA: usize = 64 << 10;

/// `svm.call` (module docs), over the caller's context and host: the
/// arguments as the contract passes them.
///
/// # Errors
/// [`VmCallError::OutOfGas`]; [`VmCallError::BadFunctionName`],
/// [`VmCallError::TooLarge`], [`VmCallError::NegativeAmount`],
/// [`VmCallError::Register`] and [`VmCallError::MemoryOutOfBounds`] for bad
/// arguments (they trap the caller); [`VmCallError::Disabled`] where the
/// context has no invoker; [`VmCallError::Fatal`] from the invoker.
#[allow(clippy::too_many_arguments)] // the vmcall's wasm signature
pub fn call<S: PageStorage, H: Host>(
    ctx: &mut CallContext<S>,
    host: &mut H,
    addr_reg_bits: u32,
    addr_reg_idx: u32,
    func_ptr: u32,
    func_len: u32,
    data_ptr: u32,
    data_len: u32,
    gas: i64,
    value: i64,
) -> Result<i32, VmCallError> {
    host.charge(gas::inner_call(u64::from(func_len) + u64::from(data_len)))?;
    if func_len as usize > MAX_FUNCTION_NAME {
        return Err(VmCallError::BadFunctionName);
    }
    if data_len as usize > MAX_INNER_CALLDATA {
        return Err(VmCallError::TooLarge {
            what: "inner call data",
            limit: MAX_INNER_CALLDATA,
        });
    }
    let value = u64::try_from(value).map_err(|_| VmCallError::NegativeAmount(value))?;
    let contract = ctx.address_in(addr_reg_bits, addr_reg_idx)?;
    host.ready()?;
    let read = |ptr: u32, len: u32| {
        let mut buf = vec![0u8; len as usize];
        host.read(ptr, &mut buf).map(|()| buf)
    };
    let function =
        String::from_utf8(read(func_ptr, func_len)?).map_err(|_| VmCallError::BadFunctionName)?;
    let calldata = read(data_ptr, data_len)?;
    let invoker = ctx
        .invoker
        .clone()
        .ok_or(VmCallError::Disabled("svm.call"))?;
    let forward = (gas as u64).min(host.remaining());
    host.charge(forward)?;
    let out = invoker.invoke(
        ctx,
        CallRequest {
            contract,
            function,
            calldata,
            gas_limit: forward,
            value,
        },
    )?;
    host.refund(forward.saturating_sub(out.gas_used))?;
    ctx.inner_return = out.return_data;
    Ok(out.error.map_or(0, |e| i32::from(e.as_u8())))
}
