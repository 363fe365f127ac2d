//! svm's deploy gate: what wasm code must satisfy before it is stored,
//! and the one analysis pass ([`analyse`]) that checks it and gives every
//! later stage what it needs ([`ModuleInfo`]: the instantiation summary,
//! the frame sizes for the stack limit, whether instances can be reset,
//! what re-encoding for execution needs). A deploy reads its code once
//! here, plus wasmer's own compile; [`executable_code`] prepares the code
//! wasmer compiles from the analysis, copying sections as they are.
//!
//! No engine: the crate reads code with the wasmparser version wasmer
//! 7.4.2 uses, so the gate and the compiler read the same language.
//!
//! The checks, in the order their errors are reported:
//!
//! 1. **Well-formed** under the accepted feature set: the MVP plus the
//!    deterministic post-MVP features current Rust and clang emit (sign
//!    extension, mutable globals, multi-value, bulk memory, reference
//!    types). SIMD, threads and atomics, exceptions, memory64, multiple
//!    memories, tail calls and GC are not accepted.
//! 2. **Imports:** only functions of the import object ([`svm_host::abi::VMCALLS`]), each
//!    with its exact signature. All unknown imports are named at once.
//! 3. **Memory:** the module defines its own memory (exactly one). It may
//!    export it as `memory` or not at all, as SVM milestone-1 contracts do
//!    (the compiler then adds an export under [`RESERVED_MEMORY_EXPORT`],
//!    a name no module may export itself).
//! 4. **Limits** ([`Limits`]): functions, locals per function, imports,
//!    exports, table elements, initial memory pages, stack slots of one
//!    function frame.
//! 5. **Deterministic:** no float value type or float instruction
//!    (including non-trapping float-to-int conversions). The error names
//!    the first float instruction and its byte offset in the module.
//! 6. **No start function:** wasmer would run it inside instantiation,
//!    before the call's gas is set, so every call would trap.
//! 7. **Policy** ([`Policy`]): `node.vmcall_set_balance`, which sets any
//!    account's balance, only where the runtime allows it.
//!
//! The gate never panics and never executes code.

mod analysis;
mod error;
mod limits;
mod prepare;
mod rules;

pub use analysis::{
    Analysis, FRAME_OVERHEAD_SLOTS, ModuleInfo, ModuleSummary, analyse, analysis_passes,
    frame_slots,
};
pub use error::{GateError, Rejection, accepted_features};
pub use limits::{Limits, Policy, RESERVED_MEMORY_EXPORT, SET_BALANCE};
pub use prepare::{executable_code, global_export_name};

/// Runs the gate over `code` under the default [`Policy`].
///
/// # Errors
/// A [`Rejection`] with every finding of [`findings`] (or the one
/// [`GateError::Malformed`]).
pub fn check(code: &[u8], limits: &Limits) -> Result<(), Rejection> {
    check_with(code, limits, &Policy::default())
}

/// [`check`] under `policy`.
///
/// # Errors
/// A [`Rejection`] with every finding.
pub fn check_with(code: &[u8], limits: &Limits, policy: &Policy) -> Result<(), Rejection> {
    match analyse(code, limits, policy) {
        Err(e) => Err(Rejection(vec![e])),
        Ok(a) => a.verdict().map(|_| ()),
    }
}

/// Every problem the gate finds in `code`, in the order of the crate docs.
/// Empty when the code passes.
///
/// # Errors
/// [`GateError::Malformed`] when the code does not validate: nothing else
/// can be checked then.
pub fn findings(code: &[u8], limits: &Limits) -> Result<Vec<GateError>, GateError> {
    findings_with(code, limits, &Policy::default())
}

/// [`findings`] under `policy`.
///
/// # Errors
/// [`GateError::Malformed`].
pub fn findings_with(
    code: &[u8],
    limits: &Limits,
    policy: &Policy,
) -> Result<Vec<GateError>, GateError> {
    Ok(analyse(code, limits, policy)?.findings)
}

/// The [`ModuleSummary`] of `code`.
///
/// # Errors
/// [`GateError::Malformed`] when the code does not validate.
pub fn summary(code: &[u8]) -> Result<ModuleSummary, GateError> {
    Ok(analyse(code, &Limits::default(), &Policy::default())?
        .info
        .summary)
}
