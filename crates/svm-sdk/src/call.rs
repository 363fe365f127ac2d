//! Calling other contracts (`svm.call`).
//!
//! The callee runs in a nested checkpoint of the same transaction: if it
//! fails, everything it did is rolled back and you get its error code,
//! and may go on. See `docs/vmcalls.md`, "Contract-to-contract calls".

use crate::address::Address;
use crate::sys;

/// Why an inner call failed: the receipt's error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallError(pub u32);

impl CallError {
    /// No contract at the address.
    pub const CONTRACT_NOT_FOUND: CallError = CallError(1);
    /// The contract exports no such function.
    pub const FUNCTION_NOT_FOUND: CallError = CallError(2);
    /// The function takes parameters (entry points take none).
    pub const WRONG_ARGUMENTS: CallError = CallError(3);
    /// The callee trapped or aborted (a panic).
    pub const TRAP: CallError = CallError(4);
    /// A vmcall of the callee failed.
    pub const HOST_CALL: CallError = CallError(5);
    /// The gas forwarded ran out.
    pub const OUT_OF_GAS: CallError = CallError(6);
    /// The callee's code does not compile.
    pub const INVALID_CODE: CallError = CallError(8);
    /// This contract's balance does not cover the value.
    pub const INSUFFICIENT_BALANCE: CallError = CallError(11);
    /// The call stack is full (64 frames by default).
    pub const CALL_DEPTH: CallError = CallError(12);
    /// The callee is already on the call stack (re-entrancy is refused by
    /// default).
    pub const REENTRANCY: CallError = CallError(13);
}

/// How much gas to forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gas {
    /// Everything that remains.
    All,
    /// At most this much (capped by what remains).
    Limit(u64),
}

/// Calls `function` of `contract` with `data` as its call data, forwarding
/// `gas` and moving `value` coins from this contract's **own** balance
/// (returned if the call fails). `Ok` when the callee succeeded; its
/// return data is then [`return_data`].
///
/// This contract's own call fails instead only on bad input: a function
/// name over 255 bytes or call data over 64 KiB (`HostCall`, from the VM),
/// or a value over `i64::MAX` (`Trap`, `contract aborted: call value over
/// i64::MAX`, from the SDK).
pub fn call(
    contract: &Address,
    function: &str,
    data: &[u8],
    gas: Gas,
    value: u64,
) -> Result<(), CallError> {
    if value > i64::MAX as u64 {
        crate::abort("call value over i64::MAX");
    }
    let gas = match gas {
        Gas::All => -1,
        Gas::Limit(g) => g.min(i64::MAX as u64) as i64,
    };
    contract.to_reg();
    let (bits, idx) = sys::ADDR_REG;
    // SAFETY: the name and data are readable for their lengths.
    let status = unsafe {
        sys::call(
            bits,
            idx,
            sys::ptr(function.as_ptr()),
            function.len() as u32,
            sys::ptr(data.as_ptr()),
            data.len() as u32,
            gas,
            value as i64,
        )
    };
    match status {
        0 => Ok(()),
        code => Err(CallError(code)),
    }
}

/// The size of the last inner call's return data, in bytes (0 after a
/// failed call).
pub fn return_data_len() -> u32 {
    // SAFETY: no arguments.
    unsafe { sys::returndata_len() }
}

/// Copies the first `buf.len()` bytes of the last inner call's return
/// data into `buf`; the call fails (`HostCall`) when there are fewer.
pub fn return_data(buf: &mut [u8]) {
    // SAFETY: writable for its length.
    unsafe { sys::returndata_copy(sys::ptr(buf.as_mut_ptr()), 0, buf.len() as u32) }
}

/// The last inner call's return data read as a big-endian `u64`; aborts
/// when it is not 8 bytes.
pub fn return_u64() -> u64 {
    if return_data_len() != 8 {
        crate::abort("the callee's return data is not 8 bytes");
    }
    let mut b = [0u8; 8];
    return_data(&mut b);
    u64::from_be_bytes(b)
}
