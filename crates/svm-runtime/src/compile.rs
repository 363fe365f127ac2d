//! Compiling a module: a fresh engine per module with the metering
//! middlewares and the limiting tunables.

use std::borrow::Cow;
use std::convert::Infallible;
use std::num::NonZeroUsize;
use std::sync::Arc;

use wasm_encoder::reencode::{Error as ReencodeError, Reencode};
use wasmer::sys::{CompilerConfig, EngineBuilder, NativeEngineExt, Singlepass};
use wasmer::{Engine, Module};
use wasmer_middlewares::Metering;

use crate::bulk_gas::BulkGas;
use crate::config::{Compiler, RuntimeConfig};
use crate::gas::operator_cost;
use crate::gate;
use crate::module_cache::Compiled;
use crate::stack_limit::StackLimit;

/// Compiles `code` with a fresh engine (one `Metering` middleware can
/// instrument only one module): per-operator metering, then the
/// size-proportional charges of [`crate::bulk_gas`], then the call-stack
/// limit of [`crate::stack_limit`], capped by `config`'s memory, table and
/// stack limits.
///
/// # Errors
/// [`CompileError`] when the code does not compile.
pub(crate) fn compile(code: &[u8], config: &RuntimeConfig) -> Result<Compiled, CompileError> {
    let summary = gate::summary(code).map_err(CompileError::Malformed)?;
    let resettable = cfg!(target_os = "linux") && crate::resettable::resettable_code(code);
    let code = executable_code(code).map_err(CompileError::Reencode)?;
    let frames = crate::stack_limit::frame_slots(&code).map_err(CompileError::Malformed)?;
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
    let resettable = resettable && crate::resettable::globals_reachable(&module);
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
    compile(code, config).map(|c| (c.engine, c.module))
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
    /// The code could not be re-encoded for execution (custom sections
    /// dropped, memory and globals exported).
    #[error("re-encoding: {0}")]
    Reencode(String),
    /// wasmer refused the code.
    #[error("compile error: {0}")]
    Compiler(String),
    /// wasmer's compiler panicked on the code; the node goes on.
    #[error("the compiler failed on this code")]
    CompilerPanicked,
}

/// The re-encoder of [`executable_code`]: drops every custom section and,
/// when `add_memory_export`, exports memory 0 as
/// [`gate::RESERVED_MEMORY_EXPORT`] (in the module's export section, or in
/// one of its own at the export section's place when there is none).
struct Executable {
    add_memory_export: bool,
    /// Mutable globals to export under [`global_export_name`].
    add_global_exports: Vec<u32>,
    exported: bool,
}

impl Executable {
    fn needed(&self) -> bool {
        self.add_memory_export || !self.add_global_exports.is_empty()
    }

    fn reserved_export(&mut self, exports: &mut wasm_encoder::ExportSection) {
        if self.needed() && !self.exported {
            if self.add_memory_export {
                exports.export(
                    gate::RESERVED_MEMORY_EXPORT,
                    wasm_encoder::ExportKind::Memory,
                    0,
                );
            }
            for &g in &self.add_global_exports {
                exports.export(&global_export_name(g), wasm_encoder::ExportKind::Global, g);
            }
            self.exported = true;
        }
    }
}

/// The name under which [`executable_code`] exports mutable global `index`
/// that the module does not export itself (`svm:global:` and the index in
/// decimal), so that a reused instance can set it back
/// ([`crate::call::reuse`]).
pub(crate) fn global_export_name(index: u32) -> String {
    format!("svm:global:{index}")
}

/// The place of a section in the module order of the spec (binary format,
/// "modules"): type, import, function, table, memory, tag, global, export,
/// start, element, data count, code, data.
fn order(id: wasm_encoder::SectionId) -> u8 {
    use wasm_encoder::SectionId as S;
    match id {
        S::Type => 1,
        S::Import => 2,
        S::Function => 3,
        S::Table => 4,
        S::Memory => 5,
        S::Tag => 6,
        S::Global => 7,
        S::Export => 8,
        S::Start => 9,
        S::Element => 10,
        S::DataCount => 11,
        S::Code => 12,
        S::Data => 13,
        // Custom sections (dropped here) and component-model sections (not
        // in a core module) never decide where the export section goes.
        _ => 0,
    }
}

impl Reencode for Executable {
    type Error = Infallible;

    fn parse_custom_section(
        &mut self,
        _module: &mut wasm_encoder::Module,
        _section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        Ok(())
    }

    fn parse_export_section(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        section: wasmparser::ExportSectionReader<'_>,
    ) -> Result<(), ReencodeError<Infallible>> {
        wasm_encoder::reencode::utils::parse_export_section(self, exports, section)?;
        self.reserved_export(exports);
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut wasm_encoder::Module,
        after: Option<wasm_encoder::SectionId>,
        before: Option<wasm_encoder::SectionId>,
    ) -> Result<(), ReencodeError<Infallible>> {
        let export = order(wasm_encoder::SectionId::Export);
        let after = after.map_or(0, order);
        let before = before.map_or(u8::MAX, order);
        if after < export && before > export && self.needed() && !self.exported {
            let mut exports = wasm_encoder::ExportSection::new();
            self.reserved_export(&mut exports);
            module.section(&exports);
        }
        Ok(())
    }
}

/// The code wasmer compiles: `code` itself when it has no custom section,
/// exports its memory as `memory` and exports every mutable global it
/// defines; else `code` re-encoded with `wasm-encoder`:
/// - without its custom sections: they carry no semantics (names,
///   producers, debug info), and wasmer reads the `name` section for its
///   debug info, where malformed names have made it panic;
/// - when its memory is not exported as `memory` (SVM milestone-1
///   contracts), with memory 0 exported as
///   [`gate::RESERVED_MEMORY_EXPORT`], where the vmcalls find it;
/// - with each mutable global it defines but does not export (such as the
///   `__stack_pointer` of clang and rustc) exported under
///   [`global_export_name`], unless the module already uses that name:
///   a block sets them back when it reuses an instance
///   ([`crate::call::reuse`]). A call can name no global, so the added
///   exports change nothing a transaction can observe.
///
/// The stored code, its hash and the contract address are those of the
/// original bytes.
///
/// # Errors
/// The re-encoder's message when `code` does not parse (the gate has
/// accepted it before, so this is not expected).
pub(crate) fn executable_code(code: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    use wasmparser::{ExternalKind, Parser, Payload};
    let mut has_custom = false;
    let mut exports_memory = false;
    let mut imported_globals = 0u32;
    let mut mutable = Vec::new();
    let mut names = std::collections::BTreeSet::new();
    let mut exported_globals = std::collections::BTreeSet::new();
    for payload in Parser::new(0).parse_all(code) {
        match payload {
            Ok(Payload::CustomSection(_)) => has_custom = true,
            Ok(Payload::ImportSection(r)) => {
                for imp in r.into_imports().flatten() {
                    if matches!(imp.ty, wasmparser::TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
            }
            Ok(Payload::GlobalSection(r)) => {
                for (i, g) in r.into_iter().enumerate() {
                    if g.is_ok_and(|g| g.ty.mutable) {
                        mutable.push(imported_globals + i as u32);
                    }
                }
            }
            Ok(Payload::ExportSection(r)) => {
                for e in r.into_iter().flatten() {
                    exports_memory |= e.name == "memory" && e.kind == ExternalKind::Memory;
                    if e.kind == ExternalKind::Global {
                        exported_globals.insert(e.index);
                    }
                    names.insert(e.name.to_string());
                }
            }
            _ => {}
        }
    }
    let add_global_exports: Vec<u32> = mutable
        .into_iter()
        .filter(|g| !exported_globals.contains(g) && !names.contains(&global_export_name(*g)))
        .collect();
    if !has_custom && exports_memory && add_global_exports.is_empty() {
        return Ok(Cow::Borrowed(code));
    }
    let mut module = wasm_encoder::Module::new();
    Executable {
        add_memory_export: !exports_memory,
        add_global_exports,
        exported: false,
    }
    .parse_core_module(&mut module, Parser::new(0), code)
    .map_err(|e| format!("cannot re-encode the code for the compiler: {e}"))?;
    Ok(Cow::Owned(module.finish()))
}

#[cfg(test)]
mod tests {
    use super::executable_code;

    fn wasm(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    #[test]
    fn code_without_custom_sections_is_compiled_as_it_is() {
        let code = wasm("(module (memory (export \"memory\") 1) (func (export \"f\")))");
        assert!(matches!(
            executable_code(&code),
            Ok(std::borrow::Cow::Borrowed(_))
        ));
    }

    #[test]
    fn custom_sections_are_dropped_and_nothing_else() {
        let plain = wasm(
            "(module (memory (export \"memory\") 1) (func (export \"f\") (result i32) i32.const 7))",
        );
        let named = wasm(
            "(module $m (@custom \"x\" \"data\") (memory (export \"memory\") 1) \
             (func $f (export \"f\") (result i32) i32.const 7))",
        );
        assert_ne!(plain, named);
        let stripped = executable_code(&named).unwrap().into_owned();
        assert_eq!(stripped, plain);
    }

    #[test]
    fn an_unexported_memory_is_exported_under_the_reserved_name() {
        let with = |exports: &str| {
            wasm(&format!(
                "(module (memory 1) (func (export \"f\")) {exports} (data (i32.const 0) \"x\"))"
            ))
        };
        let stripped = executable_code(&with("")).unwrap().into_owned();
        assert_eq!(
            stripped,
            with("(export \"svm:memory\" (memory 0))"),
            "added to the export section"
        );
        // No export section at all: one is made at its place.
        let bare = wasm("(module (memory 1) (data (i32.const 0) \"x\"))");
        let stripped = executable_code(&bare).unwrap().into_owned();
        assert_eq!(
            stripped,
            wasm(
                "(module (memory 1) (export \"svm:memory\" (memory 0)) (data (i32.const 0) \"x\"))"
            )
        );
    }

    #[test]
    fn an_empty_or_nul_module_name_is_dropped() {
        // `(module $...)` names come from the text; build the name section by
        // hand: id 0, size, "name", subsection 0 (module name) of length 0.
        let mut code = wasm("(module (memory (export \"memory\") 1))");
        code.extend_from_slice(&[0, 8, 4, b'n', b'a', b'm', b'e', 0, 1, 0]);
        let stripped = executable_code(&code).unwrap();
        assert_eq!(
            &*stripped,
            &wasm("(module (memory (export \"memory\") 1))")[..]
        );
    }
}
