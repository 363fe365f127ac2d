//! Stage 4 of a call: check the function and its arguments, run it, and
//! classify the outcome. Error messages are the runtime's own words (no
//! wasmer text or backtrace), and stay outside the consensus encoding of
//! the receipt anyway.

use svm_cache::CacheError;
use svm_kv::KvStore;
use svm_pages::PagesError;
use wasmer::{RuntimeError, Type, Value};
use wasmer_middlewares::metering::MeteringPoints;
use wasmer_types::TrapCode;

use super::Failure;
use super::instantiate::Instantiated;
use crate::runtime::{storage_error, tx_error};
use crate::stack_limit::STACK_SLOTS_EXPORT;
use crate::vmcalls::VmCallError;
use crate::wire::{CallTx, ErrorCode, MAX_VALUES, TxError, WasmValue};

/// The gas used so far by `inst` (all of `limit` once exhausted).
pub(crate) fn gas_used<K: KvStore + 'static>(inst: &mut Instantiated<K>, limit: u64) -> u64 {
    match inst.points() {
        MeteringPoints::Remaining(r) => limit.saturating_sub(r),
        MeteringPoints::Exhausted => limit,
    }
}

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

/// Whether the call-stack limit ([`crate::stack_limit`]) made the trap:
/// the slots in use are past the limit only then.
fn stack_exhausted<K: KvStore + 'static>(inst: &mut Instantiated<K>) -> bool {
    let Ok(global) = inst.instance.exports.get_global(STACK_SLOTS_EXPORT) else {
        return false;
    };
    match global.get(&mut inst.store) {
        Value::I32(used) => used as u32 > inst.max_stack_slots,
        _ => false,
    }
}

fn to_value(v: &WasmValue) -> Value {
    match v {
        WasmValue::I32(x) => Value::I32(*x),
        WasmValue::I64(x) => Value::I64(*x),
    }
}

/// Runs `tx`'s function on `inst`, giving its results.
pub(crate) fn run<K: KvStore + 'static>(
    inst: &mut Instantiated<K>,
    tx: &CallTx,
) -> Result<Vec<WasmValue>, Failure> {
    let limit = tx.gas_limit;
    let func = match inst.instance.exports.get_function(&tx.function) {
        Ok(f) => f.clone(),
        Err(_) => {
            let e = tx_error(
                ErrorCode::FunctionNotFound,
                format!("no exported function {:?}", tx.function),
            );
            return Err(Failure::new(e, gas_used(inst, limit)));
        }
    };
    let ty = func.ty(&inst.store);
    let args: Vec<Value> = tx.args.iter().map(to_value).collect();
    let arg_types: Vec<Type> = args.iter().map(Value::ty).collect();
    if ty.params() != arg_types.as_slice() {
        let e = tx_error(
            ErrorCode::WrongArguments,
            format!(
                "{:?} takes {:?}, got {:?}",
                tx.function,
                ty.params(),
                arg_types
            ),
        );
        return Err(Failure::new(e, gas_used(inst, limit)));
    }
    if ty.results().len() > MAX_VALUES {
        let e = tx_error(
            ErrorCode::InvalidCode,
            format!(
                "{:?} returns {} values, more than {MAX_VALUES}",
                tx.function,
                ty.results().len()
            ),
        );
        return Err(Failure::new(e, gas_used(inst, limit)));
    }

    let result = func.call(&mut inst.store, &args);
    let exhausted = matches!(inst.points(), MeteringPoints::Exhausted);
    let pages_read = inst
        .env
        .as_ref(&inst.store)
        .ctx
        .storage
        .total_pages_loaded() as u32;
    let fail = |inst: &mut Instantiated<K>, error: TxError| {
        let gas_used = if error.code == ErrorCode::OutOfGas {
            limit
        } else {
            gas_used(inst, limit)
        };
        Failure {
            error,
            gas_used,
            pages_read,
        }
    };
    let values = match result {
        Ok(v) => v,
        Err(e) => {
            let error = if !exhausted && stack_exhausted(inst) {
                tx_error(ErrorCode::Trap, "call stack exhausted")
            } else {
                trap_error(&e, exhausted)
            };
            return Err(fail(inst, error));
        }
    };
    let mut returns = Vec::with_capacity(values.len());
    for v in values.iter() {
        match v {
            Value::I32(x) => returns.push(WasmValue::I32(*x)),
            Value::I64(x) => returns.push(WasmValue::I64(*x)),
            other => {
                let e = tx_error(
                    ErrorCode::InvalidCode,
                    format!("returned a {:?}", other.ty()),
                );
                return Err(fail(inst, e));
            }
        }
    }
    Ok(returns)
}
