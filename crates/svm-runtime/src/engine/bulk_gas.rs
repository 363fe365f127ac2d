//! A wasmer middleware that charges size-proportional gas before every
//! operator whose cost depends on a run-time size: `memory.grow` (per page
//! asked for), `memory.fill`, `memory.copy`, `memory.init` (per byte), and
//! `table.grow`, `table.fill`, `table.copy`, `table.init` (per element).
//! Prices come from [`crate::gas::dynamic_price`].
//!
//! It runs after wasmer's `Metering` middleware in the same chain and
//! charges through Metering's own globals (found by their export names,
//! `wasmer_metering_remaining_points` and `wasmer_metering_points_exhausted`),
//! so out of gas looks the same as anywhere else: the exhausted flag is set
//! and the instance traps. For each such operator, whose size operand `n`
//! (an `i32`, read as unsigned) is on top of the stack, it emits:
//!
//! ```text
//! global.set $n                                   ;; a scratch global it adds
//! global.get $n  i64.extend_i32_u  i64.const P  i64.mul
//! global.get $remaining  i64.gt_u
//! if  i32.const 1  global.set $exhausted  unreachable  end
//! global.get $remaining  global.get $n  i64.extend_i32_u  i64.const P  i64.mul  i64.sub
//! global.set $remaining
//! global.get $n
//! <the operator>
//! ```
//!
//! The charge is for the size asked for, whether or not the operation then
//! succeeds (a `memory.grow` past the limit still pays for its request).
//! The code it emits is plain wasm, so gas is identical under Singlepass
//! and Cranelift.

use std::sync::Mutex;

use wasmer::sys::{FunctionMiddleware, MiddlewareError, MiddlewareReaderState, ModuleMiddleware};
use wasmer::wasmparser::{BlockType, Operator};
use wasmer::{ExportIndex, GlobalInit, GlobalType, LocalFunctionIndex, Mutability, Type};
use wasmer_types::ModuleInfo;

use crate::gas::dynamic_price;

#[derive(Debug, Clone, Copy)]
struct Globals {
    remaining: u32,
    exhausted: u32,
    scratch: u32,
}

/// The module-level middleware. Like `Metering`, one instance serves one
/// module: the runtime creates a fresh one per compile.
#[derive(Debug, Default)]
pub(crate) struct BulkGas {
    globals: Mutex<Option<Globals>>,
}

/// The export name of the scratch global the middleware adds.
pub(crate) const SCRATCH_EXPORT: &str = "svm_bulk_scratch";

fn global_export(info: &ModuleInfo, name: &str) -> Result<u32, MiddlewareError> {
    match info.exports.get(name) {
        Some(ExportIndex::Global(g)) => Ok(g.as_u32()),
        _ => Err(MiddlewareError::new(
            "BulkGas",
            format!("the Metering middleware must run first ({name} is missing)"),
        )),
    }
}

impl ModuleMiddleware for BulkGas {
    fn generate_function_middleware<'a>(
        &self,
        _: LocalFunctionIndex,
    ) -> Box<dyn FunctionMiddleware<'a> + 'a> {
        let globals = self.globals.lock().ok().and_then(|g| *g);
        Box::new(FunctionBulkGas { globals })
    }

    fn transform_module_info(&self, info: &mut ModuleInfo) -> Result<(), MiddlewareError> {
        let remaining = global_export(info, "wasmer_metering_remaining_points")?;
        let exhausted = global_export(info, "wasmer_metering_points_exhausted")?;
        let scratch = info
            .globals
            .push(GlobalType::new(Type::I32, Mutability::Var))
            .as_u32();
        info.global_initializers.push(GlobalInit::I32Const(0));
        // Exported only so that a reused instance can set it back with the
        // other mutable globals (`call::reuse`); every use sets it first.
        // A module that exports the name itself keeps its export (and is
        // then never reused: the scratch global is out of a reset's reach).
        if !info.exports.contains_key(SCRATCH_EXPORT) {
            info.exports.insert(
                SCRATCH_EXPORT.to_string(),
                ExportIndex::Global(wasmer_types::GlobalIndex::from_u32(scratch)),
            );
        }
        let mut g = self
            .globals
            .lock()
            .map_err(|_| MiddlewareError::new("BulkGas", "poisoned lock"))?;
        if g.is_some() {
            return Err(MiddlewareError::new(
                "BulkGas",
                "one BulkGas middleware serves one module",
            ));
        }
        *g = Some(Globals {
            remaining,
            exhausted,
            scratch,
        });
        Ok(())
    }
}

#[derive(Debug)]
struct FunctionBulkGas {
    globals: Option<Globals>,
}

impl<'a> FunctionMiddleware<'a> for FunctionBulkGas {
    fn feed(
        &mut self,
        operator: Operator<'a>,
        state: &mut MiddlewareReaderState<'a>,
    ) -> Result<(), MiddlewareError> {
        if let Some(price) = dynamic_price(&operator) {
            let g = self.globals.ok_or_else(|| {
                MiddlewareError::new("BulkGas", "module info was not transformed")
            })?;
            let cost = |n: u32| {
                [
                    Operator::GlobalGet { global_index: n },
                    Operator::I64ExtendI32U,
                    Operator::I64Const {
                        value: price as i64,
                    },
                    Operator::I64Mul,
                ]
            };
            state.push_operator(Operator::GlobalSet {
                global_index: g.scratch,
            });
            state.extend(&cost(g.scratch));
            state.extend(&[
                Operator::GlobalGet {
                    global_index: g.remaining,
                },
                Operator::I64GtU,
                Operator::If {
                    blockty: BlockType::Empty,
                },
                Operator::I32Const { value: 1 },
                Operator::GlobalSet {
                    global_index: g.exhausted,
                },
                Operator::Unreachable,
                Operator::End,
                Operator::GlobalGet {
                    global_index: g.remaining,
                },
            ]);
            state.extend(&cost(g.scratch));
            state.extend(&[
                Operator::I64Sub,
                Operator::GlobalSet {
                    global_index: g.remaining,
                },
                Operator::GlobalGet {
                    global_index: g.scratch,
                },
            ]);
        }
        state.push_operator(operator);
        Ok(())
    }
}
