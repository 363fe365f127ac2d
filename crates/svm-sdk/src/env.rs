//! Who is calling, with what, and the balances: sender, self, value,
//! balance, transfer.

use crate::address::Address;
use crate::sys;

/// The sender: the account that signed the transaction, or the calling
/// contract inside an inner call (`svm.sender_to_reg`; 20 gas + 20).
pub fn sender() -> Address {
    let (bits, idx) = sys::ADDR_REG;
    // SAFETY: a valid register.
    unsafe { sys::sender_to_reg(bits, idx) };
    Address::from_reg()
}

/// This contract's own address (`svm.self_to_reg`).
pub fn this() -> Address {
    let (bits, idx) = sys::ADDR_REG;
    // SAFETY: a valid register.
    unsafe { sys::self_to_reg(bits, idx) };
    Address::from_reg()
}

/// The value (coins) the call carries, already credited to this contract
/// (`svm.value`).
pub fn value() -> u64 {
    // SAFETY: no arguments.
    unsafe { sys::value() as u64 }
}

/// The coin balance of `account` (`node.vmcall_get_balance`; 0 for an
/// unknown account).
pub fn balance(account: &Address) -> u64 {
    account.to_reg();
    let (bits, idx) = sys::ADDR_REG;
    // SAFETY: a valid register.
    unsafe { sys::vmcall_get_balance(bits, idx) as u64 }
}

/// Moves `amount` coins from this contract's **own** balance to `to`
/// (`svm.transfer`). The call fails with `HostCall` when the balance does
/// not cover it, and with `Trap` (`contract aborted: transfer amount over
/// i64::MAX`) when `amount` is over `i64::MAX`.
pub fn transfer(to: &Address, amount: u64) {
    if amount > i64::MAX as u64 {
        crate::abort("transfer amount over i64::MAX");
    }
    to.to_reg();
    let (bits, idx) = sys::ADDR_REG;
    // SAFETY: a valid register.
    unsafe { sys::transfer(bits, idx, amount as i64) }
}
