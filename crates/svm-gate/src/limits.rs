//! What the gate enforces beyond well-formedness: static [`Limits`] and
//! the runtime's [`Policy`].

/// The export name under which the compiler exposes a module's memory when
/// the module does not export it as `memory` (SVM milestone-1 contracts
/// declare `(memory 1)` without an export). The gate rejects modules that
/// export this name themselves ([`crate::GateError::ReservedExport`]).
pub const RESERVED_MEMORY_EXPORT: &str = "svm:memory";

pub use svm_host::abi::SET_BALANCE;

/// Static limits the gate enforces on a module. Code size is limited by the
/// runtime's `max_code_bytes`; the native call stack by its
/// `max_stack_bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Functions defined by the module. Default: 10 000.
    pub max_functions: u32,
    /// Locals declared by one function (parameters excluded). Default: 1 024.
    pub max_locals: u32,
    /// Imports. Default: 64.
    pub max_imports: u32,
    /// Exports. Default: 256.
    pub max_exports: u32,
    /// Initial (and, when declared, maximum) elements of each table.
    /// Default: 4 096.
    pub max_table_elements: u64,
    /// Initial pages (64 KiB wasm pages) of the memory; at run time the
    /// memory cannot grow past this either. Default: 256 (16 MiB).
    pub max_memory_pages: u64,
    /// Stack slots of one function's frame: parameters, locals, the
    /// highest operand stack, plus overhead ([`crate::FRAME_OVERHEAD_SLOTS`]).
    /// Default: 4 096.
    pub max_frame_slots: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_functions: 10_000,
            max_locals: 1_024,
            max_imports: 64,
            max_exports: 256,
            max_table_elements: 4_096,
            max_memory_pages: 256,
            max_frame_slots: 4_096,
        }
    }
}

/// What the runtime allows beyond the static limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Policy {
    /// Whether `node.vmcall_set_balance` may be imported. Default: `false`.
    pub allow_set_balance: bool,
}
