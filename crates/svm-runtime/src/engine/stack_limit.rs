//! A deterministic call-stack limit: a wasmer middleware that counts the
//! wasm stack in *slots* (one slot per value) instead of relying on the
//! native stack, whose use per frame differs between compilers.
//!
//! **Frame size.** Each defined function has a static frame size in slots
//! ([`frame_slots`]): its parameters, its declared locals, the highest its
//! operand stack gets (as the validator tracks it), and
//! [`FRAME_OVERHEAD_SLOTS`] for the return address and saved registers.
//! The gate rejects a function whose frame exceeds
//! `Limits::max_frame_slots`.
//!
//! **Accounting.** The middleware adds a mutable `i32` global, the slots in
//! use, exported as [`STACK_SLOTS_EXPORT`]. Around every `call` of a defined
//! function and every `call_indirect`, the caller adds its own frame size,
//! traps when the sum passes the limit, and takes it off again once the
//! call returns:
//!
//! ```text
//! global.get $used  i32.const F  i32.add  global.set $used
//! global.get $used  i32.const LIMIT  i32.gt_u
//! if  unreachable  end
//! call ...
//! global.get $used  i32.const F  i32.sub  global.set $used
//! ```
//!
//! A trap unwinds the whole instance, so nothing is restored on the way
//! out: the next call gets a fresh instance, or one that a block reuses,
//! whose reset sets this global back to 0 with the other mutable globals
//! (`call/reuse.rs`). The running function's own frame is
//! not in the count yet; it is at most `max_frame_slots`. Calls of imported
//! vmcalls are not counted (they do not re-enter wasm).
//!
//! The emitted code is plain wasm and runs after `Metering` (it is not
//! charged), so the depth at which recursion stops, and the gas used until
//! then, are the same under Singlepass and Cranelift. The native stack is
//! sized from the slot limit ([`native_stack_bytes`]) with room to spare,
//! so the slot limit always comes first.

use std::sync::Mutex;

use wasmer::sys::{FunctionMiddleware, MiddlewareError, MiddlewareReaderState, ModuleMiddleware};
use wasmer::wasmparser::{BlockType, Operator};
use wasmer::{ExportIndex, GlobalInit, GlobalType, LocalFunctionIndex, Mutability, Type};
use wasmer_types::ModuleInfo;

/// The export name of the global holding the stack slots in use.
pub const STACK_SLOTS_EXPORT: &str = "svm_stack_slots";

pub use svm_gate::{FRAME_OVERHEAD_SLOTS, frame_slots};

/// Native stack bytes allowed per slot. A slot is an 8-byte value at most;
/// the factor covers spills, alignment and the compilers' own frame
/// layout.
pub const NATIVE_BYTES_PER_SLOT: usize = 32;

/// Native stack bytes on top of the counted slots: the running function's
/// frame, vmcalls (host code), wasmer's trampolines.
pub const NATIVE_MARGIN_BYTES: usize = 1 << 20;

/// The native stack a call runs on for a limit of `max_stack_slots` (and
/// a largest frame of `max_frame_slots`), in bytes.
pub fn native_stack_bytes(max_stack_slots: u32, max_frame_slots: u32) -> usize {
    (max_stack_slots as usize + max_frame_slots as usize) * NATIVE_BYTES_PER_SLOT
        + NATIVE_MARGIN_BYTES
}

#[derive(Debug, Clone, Copy)]
struct Globals {
    used: u32,
    imported_functions: u32,
}

/// The module-level middleware. One instance serves one module (the
/// runtime makes one per compile), like `Metering`.
#[derive(Debug)]
pub(crate) struct StackLimit {
    limit: u32,
    frames: Vec<u32>,
    globals: Mutex<Option<Globals>>,
}

impl StackLimit {
    /// A middleware trapping past `limit` slots, for a module whose defined
    /// functions have the frame sizes `frames` ([`frame_slots`]).
    pub(crate) fn new(limit: u32, frames: Vec<u32>) -> Self {
        Self {
            limit,
            frames,
            globals: Mutex::new(None),
        }
    }
}

impl ModuleMiddleware for StackLimit {
    fn generate_function_middleware<'a>(
        &self,
        index: LocalFunctionIndex,
    ) -> Box<dyn FunctionMiddleware<'a> + 'a> {
        let globals = self.globals.lock().ok().and_then(|g| *g);
        Box::new(FunctionStackLimit {
            globals,
            limit: self.limit,
            frame: self.frames.get(index.as_u32() as usize).copied(),
        })
    }

    fn transform_module_info(&self, info: &mut ModuleInfo) -> Result<(), MiddlewareError> {
        let mut g = self
            .globals
            .lock()
            .map_err(|_| MiddlewareError::new("StackLimit", "poisoned lock"))?;
        if g.is_some() {
            return Err(MiddlewareError::new(
                "StackLimit",
                "one StackLimit middleware serves one module",
            ));
        }
        let used = info
            .globals
            .push(GlobalType::new(Type::I32, Mutability::Var));
        info.global_initializers.push(GlobalInit::I32Const(0));
        info.exports
            .insert(STACK_SLOTS_EXPORT.to_string(), ExportIndex::Global(used));
        *g = Some(Globals {
            used: used.as_u32(),
            imported_functions: u32::try_from(info.num_imported_functions).unwrap_or(u32::MAX),
        });
        Ok(())
    }
}

#[derive(Debug)]
struct FunctionStackLimit {
    globals: Option<Globals>,
    limit: u32,
    frame: Option<u32>,
}

impl<'a> FunctionMiddleware<'a> for FunctionStackLimit {
    fn feed(
        &mut self,
        operator: Operator<'a>,
        state: &mut MiddlewareReaderState<'a>,
    ) -> Result<(), MiddlewareError> {
        let counted = match operator {
            Operator::Call { function_index } => self
                .globals
                .is_some_and(|g| function_index >= g.imported_functions),
            Operator::CallIndirect { .. } => true,
            _ => false,
        };
        if !counted {
            state.push_operator(operator);
            return Ok(());
        }
        let (g, frame) = self
            .globals
            .zip(self.frame)
            .ok_or_else(|| MiddlewareError::new("StackLimit", "module info was not transformed"))?;
        let frame = frame as i32;
        let used = g.used;
        state.extend(&[
            Operator::GlobalGet { global_index: used },
            Operator::I32Const { value: frame },
            Operator::I32Add,
            Operator::GlobalSet { global_index: used },
            Operator::GlobalGet { global_index: used },
            Operator::I32Const {
                value: self.limit as i32,
            },
            Operator::I32GtU,
            Operator::If {
                blockty: BlockType::Empty,
            },
            Operator::Unreachable,
            Operator::End,
        ]);
        state.push_operator(operator);
        state.extend(&[
            Operator::GlobalGet { global_index: used },
            Operator::I32Const { value: frame },
            Operator::I32Sub,
            Operator::GlobalSet { global_index: used },
        ]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_native_stack_grows_with_the_slot_limit() {
        assert_eq!(
            native_stack_bytes(32_768, 4_096),
            (32_768 + 4_096) * 32 + (1 << 20)
        );
    }
}
