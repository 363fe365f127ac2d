//! The gas schedule: the one place every price lives. See `docs/gas.md`.
//!
//! The schedule is versioned ([`GAS_SCHEDULE_VERSION`]): any change of a
//! price changes the version, and compiled-module caches key on it, since
//! operator prices are compiled into the code.

use wasmer::wasmparser::Operator;

/// The version of this schedule.
pub const GAS_SCHEDULE_VERSION: u32 = 1;

/// The gas of one wasm operator, charged by wasmer's `Metering` middleware
/// at the end of each basic block.
///
/// | class | gas |
/// |---|---|
/// | control (`nop`, `block`, `loop`, `end`, `br*`, `return`, ...) | 1 |
/// | locals, globals, constants, `drop`, `select` | 1 |
/// | integer arithmetic, comparison, bit operations | 1 |
/// | integer `mul` | 2 |
/// | integer `div`, `rem` | 8 |
/// | memory `load` / `store` | 3 |
/// | `call` | 10 |
/// | `call_indirect` | 20 |
/// | `memory.size` | 2 |
/// | `memory.grow` | 100 |
/// | `memory.fill`, `memory.copy`, `memory.init` | 20 |
/// | anything else | 1 |
pub fn operator_cost(op: &Operator) -> u64 {
    use Operator::*;
    match op {
        I32Mul | I64Mul => 2,
        I32DivS | I32DivU | I32RemS | I32RemU | I64DivS | I64DivU | I64RemS | I64RemU => 8,
        I32Load { .. }
        | I64Load { .. }
        | I32Load8S { .. }
        | I32Load8U { .. }
        | I32Load16S { .. }
        | I32Load16U { .. }
        | I64Load8S { .. }
        | I64Load8U { .. }
        | I64Load16S { .. }
        | I64Load16U { .. }
        | I64Load32S { .. }
        | I64Load32U { .. }
        | I32Store { .. }
        | I64Store { .. }
        | I32Store8 { .. }
        | I32Store16 { .. }
        | I64Store8 { .. }
        | I64Store16 { .. }
        | I64Store32 { .. } => 3,
        Call { .. } => 10,
        CallIndirect { .. } => 20,
        MemorySize { .. } => 2,
        MemoryGrow { .. } => 100,
        MemoryFill { .. } | MemoryCopy { .. } | MemoryInit { .. } => 20,
        _ => 1,
    }
}

/// Gas of every vmcall, charged on entry, before it does anything.
pub const VMCALL_BASE: u64 = 20;

/// Gas per byte a vmcall copies (memory, registers, storage slices, call
/// data, return data, logs).
pub const PER_BYTE: u64 = 1;

/// Gas per page loaded from storage (a cold load; a page is loaded at most
/// once per call).
pub const PAGE_LOAD: u64 = 2_000;

/// Gas per page dirtied, charged at commit.
pub const PAGE_WRITE: u64 = 5_000;

/// Gas of every call before it runs, plus [`PER_BYTE`] per byte of call data.
pub const CALL_BASE: u64 = 1_000;

/// Gas of every deploy, plus [`PER_CODE_BYTE`] per byte of code.
pub const DEPLOY_BASE: u64 = 10_000;

/// Gas per byte of code at deploy.
pub const PER_CODE_BYTE: u64 = 10;

/// The gas of a vmcall that copies `bytes` bytes.
pub fn vmcall(bytes: u32) -> u64 {
    VMCALL_BASE + u64::from(bytes) * PER_BYTE
}

/// The intrinsic gas of a call with `calldata` bytes of call data.
pub fn call_intrinsic(calldata: usize) -> u64 {
    CALL_BASE.saturating_add((calldata as u64).saturating_mul(PER_BYTE))
}

/// The gas of deploying `code` bytes of code.
pub fn deploy(code: usize) -> u64 {
    DEPLOY_BASE.saturating_add((code as u64).saturating_mul(PER_CODE_BYTE))
}
