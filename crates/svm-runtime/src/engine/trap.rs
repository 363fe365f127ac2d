//! The typed error ([`TxError`]) of a wasm trap, a failed vmcall or a
//! value that could not move: codes
//! and the runtime's own words, never wasmer's text.

use svm_cache::CacheError;
use svm_pages::PagesError;
use wasmer::RuntimeError;
use wasmer_types::TrapCode;

use crate::runtime::{storage_error, tx_error};
use crate::vmcalls::VmCallError;
use crate::wire::{ErrorCode, TxError};

fn vmcall_error(e: &VmCallError) -> TxError {
    match e {
        VmCallError::OutOfGas => tx_error(ErrorCode::OutOfGas, e.to_string()),
        VmCallError::Storage(CacheError::Pages(
            p @ (PagesError::Kv(_) | PagesError::Corrupt(_)),
        )) => storage_error(p),
        VmCallError::Fatal(m) => storage_error(m),
        VmCallError::Abort(_) => tx_error(ErrorCode::Trap, e.to_string()),
        VmCallError::Map(svm_cache::map::MapError::Cache(CacheError::Pages(
            p @ (PagesError::Kv(_) | PagesError::Corrupt(_)),
        ))) => storage_error(p),
        _ => tx_error(ErrorCode::HostCall, e.to_string()),
    }
}

/// The runtime's words for a wasm trap.
fn trap_message(code: TrapCode) -> &'static str {
    match code {
        TrapCode::StackOverflow => "call stack exhausted",
        TrapCode::HeapAccessOutOfBounds => "out-of-bounds memory access",
        TrapCode::HeapMisaligned => "misaligned memory access",
        TrapCode::TableAccessOutOfBounds => "out-of-bounds table access",
        TrapCode::IndirectCallToNull => "indirect call to a null table entry",
        TrapCode::BadSignature => "indirect call signature mismatch",
        TrapCode::IntegerOverflow => "integer overflow",
        TrapCode::IntegerDivisionByZero => "integer division by zero",
        TrapCode::BadConversionToInteger => "invalid conversion to integer",
        TrapCode::UnreachableCodeReached => "unreachable executed",
        _ => "trap",
    }
}

/// The typed error of a trap; `exhausted` tells out of gas (which wasmer
/// reports as `unreachable`) from a real trap.
pub(crate) fn trap_error(e: &RuntimeError, exhausted: bool) -> TxError {
    if exhausted {
        return tx_error(ErrorCode::OutOfGas, "out of gas");
    }
    if let Some(v) = e.downcast_ref::<VmCallError>() {
        return vmcall_error(v);
    }
    match e.clone().to_trap() {
        Some(code) => tx_error(ErrorCode::Trap, trap_message(code)),
        None => tx_error(ErrorCode::Trap, "trap"),
    }
}

/// The typed error of a call's value that could not be moved.
pub(crate) fn value_error(e: &VmCallError) -> TxError {
    let code = match e {
        VmCallError::InsufficientBalance { .. } => ErrorCode::InsufficientBalance,
        VmCallError::Node(_) => ErrorCode::Storage,
        _ => ErrorCode::HostCall,
    };
    tx_error(code, format!("the call's value: {e}"))
}
