//! Compiling a module: a fresh engine per module with the metering
//! middlewares and the limiting tunables.

use std::num::NonZeroUsize;
use std::sync::Arc;

use svm_gate::ModuleInfo;
use wasmer::sys::{CompilerConfig, EngineBuilder, NativeEngineExt, Singlepass};
use wasmer::{Engine, Module};
use wasmer_middlewares::Metering;

use crate::config::{Compiler, RuntimeConfig};
use crate::engine::bulk_gas::BulkGas;
use crate::engine::module_cache::Compiled;
use crate::engine::stack_limit::StackLimit;
use crate::gas::operator_cost;

/// Compiles `code`, whose analysis ([`svm_gate::analyse`]) is `info`, with
/// a fresh engine (one `Metering` middleware can
/// instrument only one module): per-operator metering, then the
/// size-proportional charges of [`crate::engine::bulk_gas`], then the call-stack
/// limit of [`crate::engine::stack_limit`], capped by `config`'s memory, table and
/// stack limits.
///
/// # Errors
/// [`CompileError`] when the code does not compile.
pub(crate) fn compile(
    code: &[u8],
    info: &ModuleInfo,
    config: &RuntimeConfig,
) -> Result<Compiled, CompileError> {
    let summary = info.summary;
    let resettable = cfg!(target_os = "linux") && info.resettable;
    let code = svm_gate::executable_code(code, info).map_err(CompileError::Malformed)?;
    let frames = info.frames.clone();
    let metering = Arc::new(Metering::new(0, operator_cost));
    let bulk = Arc::new(BulkGas::default());
    let stack = Arc::new(StackLimit::new(config.max_stack_slots, frames));
    let mut engine: Engine = match config.compiler {
        Compiler::Singlepass => {
            let mut c = Singlepass::new();
            c.num_threads(NonZeroUsize::MIN);
            c.push_middleware(metering);
            c.push_middleware(bulk);
            c.push_middleware(stack);
            EngineBuilder::new(c).engine().into()
        }
        #[cfg(feature = "cranelift")]
        Compiler::Cranelift => {
            let mut c = wasmer::sys::Cranelift::new();
            c.num_threads(NonZeroUsize::MIN);
            c.push_middleware(metering);
            c.push_middleware(bulk);
            c.push_middleware(stack);
            EngineBuilder::new(c).engine().into()
        }
    };
    engine.set_tunables(config.tunables());
    // A compiler panic is a compile error, not a crash of the node: the
    // engine is fresh and dropped with it. (The one panic known, wasmer
    // 7.4.2's Singlepass on an empty or NUL module name in its DWARF
    // setup, cannot happen any more: custom sections are gone by now.)
    let module = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        Module::new(&engine, &*code)
    }))
    .map_err(|_| CompileError::CompilerPanicked)?
    .map_err(|e| CompileError::Compiler(e.to_string()))?;
    let resettable = resettable && crate::engine::resettable::globals_reachable(&module);
    Ok(Compiled {
        engine,
        module,
        summary,
        resettable,
    })
}

/// `code` compiled exactly as the runtime compiles it for `config`
/// (re-encoding, `Metering`, bulk gas, the stack limit, the tunables), as
/// an engine and a module, for benchmarks and tools that instantiate it
/// themselves. The code is not put through the deploy gate: check it with
/// [`crate::gate::check`] first when it is untrusted. Set the gas with
/// `wasmer_middlewares::metering::set_remaining_points` after
/// instantiating.
///
/// # Errors
/// [`CompileError`] when the code does not compile.
pub fn compile_module(
    code: &[u8],
    config: &RuntimeConfig,
) -> Result<(Engine, Module), CompileError> {
    analysed_compile(code, config).map(|c| (c.engine, c.module))
}

/// Runs the analysis pass over `code` (stored code: the gate's findings
/// were judged at its deploy and are not judged again), then compiles it.
///
/// # Errors
/// [`CompileError`].
pub(crate) fn analysed_compile(
    code: &[u8],
    config: &RuntimeConfig,
) -> Result<Compiled, CompileError> {
    let info = svm_gate::analyse(code, &config.limits, &config.policy())
        .map_err(CompileError::Malformed)?
        .info;
    compile(code, &info, config)
}

/// Why code did not compile. The messages quote wasmparser, wasm-encoder
/// or wasmer, whose words change between their versions: they are for
/// people, never for a hash (a failed deploy enters the receipts hash by
/// [`crate::DeployError::code`] only).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// The code does not parse or validate (the gate refuses such code
    /// before a deploy compiles it).
    #[error("malformed code: {0}")]
    Malformed(crate::gate::GateError),
    /// wasmer refused the code.
    #[error("compile error: {0}")]
    Compiler(String),
    /// wasmer's compiler panicked on the code; the node goes on.
    #[error("the compiler failed on this code")]
    CompilerPanicked,
}
