//! Writing svm contracts in Rust.
//!
//! `no_std`, no allocator, no floats (the deploy gate refuses float
//! opcodes): safe, typed wrappers over every vmcall of `docs/vmcalls.md`.
//!
//! | module | what | vmcalls |
//! |---|---|---|
//! | [`storage`] | variables at fixed slices of the contract's pages | `storage_read_to_mem`, `storage_write_from_mem` |
//! | [`map`] | unbounded maps in the contract's pages | `map_get`, `map_set`, `map_remove`, `map_len` |
//! | [`calldata`] | the entry-point convention: arguments in, return data out | `calldata_len`, `calldata_copy`, `set_return_data` |
//! | [`event`] | logs and named events | `log` |
//! | [`env`](mod@env) | sender, self, value, balances, transfer | `sender_to_reg`, `self_to_reg`, `value`, `vmcall_get_balance`, `transfer` |
//! | [`call`] | calling other contracts | `call`, `returndata_len`, `returndata_copy` |
//! | [`abort`], the panic handler | failing the call with a message | `abort` |
//! | [`sys`] | the raw imports | all |
//!
//! # Entry points
//!
//! An entry point is an exported function **without parameters**; it reads
//! its arguments with [`CallData`] and answers with
//! [`calldata::set_return_data`]. That is the one shape both transactions
//! and other contracts (`svm.call`) can invoke. No macro: the two
//! attributes say it all.
//!
//! ```no_run
//! use svm_sdk::{CallData, StorageU64, calldata::return_u64};
//!
//! const COUNTER: StorageU64 = StorageU64::at(0, 0);
//!
//! #[unsafe(no_mangle)]
//! pub extern "C" fn add() {
//!     let n = CallData::new().u64();
//!     let v = COUNTER.get().checked_add(n).expect("counter overflow");
//!     COUNTER.set(v);
//!     return_u64(v);
//! }
//! ```
//!
//! # Failing
//!
//! [`abort`] ends the call: its receipt fails with code `Trap` and the
//! message `contract aborted: <your message>`, and everything it wrote is
//! rolled back. With the default feature `panic-handler`, a panic does the
//! same with the panic's message and location (`panicked at src/lib.rs:12:
//! counter overflow`, at most 256 bytes), so `expect`, `assert!` and
//! arithmetic overflow checks report themselves in the receipt.
//!
//! # Off wasm32
//!
//! The crate builds for any target, so a contract crate also builds and
//! its pure logic unit-tests on the host; a vmcall called there panics
//! (`sys`). Test whole contracts in the VM with `svm_runtime::testing`.
#![no_std]
#![deny(missing_docs)]

pub mod address;
pub mod call;
pub mod calldata;
pub mod env;
pub mod event;
pub mod map;
pub mod storage;
pub mod sys;

#[cfg(all(target_arch = "wasm32", feature = "panic-handler"))]
mod panic;

pub use address::Address;
pub use call::{CallError, Gas};
pub use calldata::CallData;
pub use event::Event;
pub use map::Map;
pub use storage::{StorageBytes, StorageU64};

/// Ends the call with a failed receipt (code `Trap`) whose message is
/// `contract aborted: ` and `message` (`svm.abort`; the VM keeps the first
/// 1024 bytes). Everything the call did is rolled back; in an inner call,
/// the caller gets [`CallError::TRAP`].
pub fn abort(message: &str) -> ! {
    // SAFETY: the message is readable for its length.
    unsafe { sys::abort(sys::ptr(message.as_ptr()), message.len() as u32) };
    // `svm.abort` never returns; should it, trap anyway.
    #[cfg(target_arch = "wasm32")]
    core::arch::wasm32::unreachable();
    #[cfg(not(target_arch = "wasm32"))]
    unreachable!("svm.abort returned");
}

/// Aborts with `message` unless `condition` holds: the usual guard of a
/// contract (`ensure(balance >= amount, "insufficient balance")`).
pub fn ensure(condition: bool, message: &str) {
    if !condition {
        abort(message);
    }
}
