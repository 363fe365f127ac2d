//! Compiling a module: a fresh engine per module with the metering
//! middlewares and the limiting tunables.

use std::num::NonZeroUsize;
use std::sync::Arc;

use wasmer::sys::{CompilerConfig, EngineBuilder, NativeEngineExt, Singlepass};
use wasmer::{Engine, Module};
use wasmer_middlewares::Metering;

use crate::bulk_gas::BulkGas;
use crate::config::{Compiler, RuntimeConfig};
use crate::gas::operator_cost;
use crate::gate;
use crate::module_cache::Compiled;

/// Compiles `code` with a fresh engine (one `Metering` middleware can
/// instrument only one module): per-operator metering, then the
/// size-proportional charges of [`crate::bulk_gas`], capped by `config`'s
/// memory, table and stack limits.
///
/// # Errors
/// The summary's or wasmer's message when the code does not compile.
pub(crate) fn compile(code: &[u8], config: &RuntimeConfig) -> Result<Compiled, String> {
    let summary = gate::summary(code).map_err(|e| e.to_string())?;
    let metering = Arc::new(Metering::new(0, operator_cost));
    let bulk = Arc::new(BulkGas::default());
    let mut engine: Engine = match config.compiler {
        Compiler::Singlepass => {
            let mut c = Singlepass::new();
            c.num_threads(NonZeroUsize::MIN);
            c.push_middleware(metering);
            c.push_middleware(bulk);
            EngineBuilder::new(c).engine().into()
        }
        #[cfg(feature = "cranelift")]
        Compiler::Cranelift => {
            let mut c = wasmer::sys::Cranelift::new();
            c.num_threads(NonZeroUsize::MIN);
            c.push_middleware(metering);
            c.push_middleware(bulk);
            EngineBuilder::new(c).engine().into()
        }
    };
    engine.set_tunables(config.tunables());
    // A compiler panic (wasmer 7.4.2's Singlepass asserts that a module's
    // name holds no NUL byte, in its DWARF setup) is a compile error, not
    // a crash of the node: the engine is fresh and dropped with it.
    let module =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Module::new(&engine, code)))
            .map_err(|_| "the compiler failed on this code".to_string())?
            .map_err(|e| e.to_string())?;
    Ok(Compiled {
        engine,
        module,
        summary,
    })
}
