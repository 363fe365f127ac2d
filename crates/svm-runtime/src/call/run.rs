//! Stage 4 of a call: check the function and its arguments, run it, and
//! classify the outcome. Error messages are the runtime's own words (no
//! wasmer text or backtrace), and stay outside the consensus encoding of
//! the receipt anyway.

use svm_kv::KvStore;
use wasmer::{Type, Value};
use wasmer_middlewares::metering::MeteringPoints;

use super::Failure;
use crate::engine::instance::{Instantiated, gas_used};
use crate::engine::stack_limit::STACK_SLOTS_EXPORT;
use crate::engine::trap::trap_error;
use crate::runtime::tx_error;
use crate::wire::{CallTx, ErrorCode, MAX_VALUES, TxError, WasmValue};

/// Whether the call-stack limit ([`crate::engine::stack_limit`]) made the trap:
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
