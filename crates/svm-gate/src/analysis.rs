//! The one analysis pass over a module's code: validation under the
//! accepted features, the gate's rules ([`crate::rules`]) and everything
//! later stages need ([`ModuleInfo`]), read in a single walk of the code.

use std::cell::Cell;
use std::collections::BTreeSet;

use wasmparser::{
    DataKind, ExternalKind, FunctionBody, Operator as O, Parser, Payload, TypeRef, ValType,
    ValidPayload, Validator, WasmModuleResources,
};

use crate::error::{accepted_features, malformed};
use crate::rules::{Rules, is_float};
use crate::{GateError, Limits, Policy, Rejection};

/// Slots added to every frame for what the native frame holds besides wasm
/// values (return address, frame pointer, saved registers).
pub const FRAME_OVERHEAD_SLOTS: u32 = 4;

/// What instantiating a module takes, priced by `gas::instantiate` before
/// every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModuleSummary {
    /// Initial pages (64 KiB wasm pages) of its memories.
    pub memory_pages: u64,
    /// Initial elements of its tables.
    pub table_elements: u64,
    /// Bytes of its active data segments.
    pub data_bytes: u64,
}

impl ModuleSummary {
    /// The encoding of the module-cache file header: the three fields as
    /// `u64` big-endian (24 bytes).
    pub fn to_bytes(&self) -> [u8; 24] {
        let mut b = [0u8; 24];
        b[..8].copy_from_slice(&self.memory_pages.to_be_bytes());
        b[8..16].copy_from_slice(&self.table_elements.to_be_bytes());
        b[16..].copy_from_slice(&self.data_bytes.to_be_bytes());
        b
    }

    /// Decodes [`ModuleSummary::to_bytes`].
    pub fn from_bytes(b: &[u8; 24]) -> Self {
        let u = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_be_bytes(a)
        };
        Self {
            memory_pages: u(0),
            table_elements: u(8),
            data_bytes: u(16),
        }
    }
}

/// Everything the stages after the gate need to know about a module, from
/// the one analysis pass.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ModuleInfo {
    /// What instantiating it takes.
    pub summary: ModuleSummary,
    /// The frame size, in stack slots, of every function it defines, in
    /// order: parameters, declared locals, the highest its operand stack
    /// gets (as the validator tracks it) and [`FRAME_OVERHEAD_SLOTS`].
    pub frames: Vec<u32>,
    /// Whether an instance may be reset and run again: no instruction
    /// changes a table or drops a segment, and no mutable global has
    /// another type than `i32` or `i64`.
    pub resettable: bool,
    /// What re-encoding it for execution needs ([`crate::executable_code`]).
    pub(crate) exec: ExecFacts,
}

/// What [`crate::executable_code`] needs to know of a module.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct ExecFacts {
    pub(crate) has_custom: bool,
    pub(crate) exports_memory: bool,
    /// Mutable globals it defines and does not export, by global index.
    pub(crate) unexported_mutable: Vec<u32>,
    /// Every export name.
    pub(crate) export_names: BTreeSet<String>,
}

/// A module's [`ModuleInfo`] and every finding of the gate's rules (empty
/// when the code passes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    /// What later stages need.
    pub info: ModuleInfo,
    /// The rules' findings, in the order of the crate docs.
    pub findings: Vec<GateError>,
}

impl Analysis {
    /// The info when nothing was found, else the [`Rejection`].
    ///
    /// # Errors
    /// [`Rejection`] with every finding.
    pub fn verdict(self) -> Result<ModuleInfo, Rejection> {
        match self.findings.is_empty() {
            true => Ok(self.info),
            false => Err(Rejection(self.findings)),
        }
    }
}

thread_local! {
    static PASSES: Cell<u64> = const { Cell::new(0) };
}

/// How many analysis passes ([`analyse`]) this thread has run: a counter
/// for tests that a deploy reads its code once.
pub fn analysis_passes() -> u64 {
    PASSES.with(Cell::get)
}

/// The one analysis pass over `code` (module docs).
///
/// # Errors
/// [`GateError::Malformed`] when the code does not validate: nothing else
/// can be checked then.
pub fn analyse(code: &[u8], limits: &Limits, policy: &Policy) -> Result<Analysis, GateError> {
    PASSES.with(|p| p.set(p.get() + 1));
    let mut validator = Validator::new_with_features(accepted_features());
    let mut rules = Rules::new(limits, policy);
    let mut info = ModuleInfo {
        resettable: true,
        ..ModuleInfo::default()
    };
    let mut imported_globals = 0u32;
    let mut mutable = Vec::new();
    let mut exported_globals = BTreeSet::new();
    for payload in Parser::new(0).parse_all(code) {
        let payload = payload.map_err(malformed)?;
        let valid = validator.payload(&payload).map_err(malformed)?;
        match payload {
            Payload::TypeSection(r) => rules.types(r)?,
            Payload::ImportSection(r) => {
                for imp in r.clone().into_imports() {
                    if matches!(imp.map_err(malformed)?.ty, TypeRef::Global(_)) {
                        imported_globals += 1;
                    }
                }
                rules.imports(r)?;
            }
            Payload::FunctionSection(r) => rules.functions(r),
            Payload::TableSection(r) => {
                for t in r.clone() {
                    let t = t.map_err(malformed)?;
                    info.summary.table_elements =
                        info.summary.table_elements.saturating_add(t.ty.initial);
                }
                rules.tables(r)?;
            }
            Payload::MemorySection(r) => {
                for m in r.clone() {
                    let m = m.map_err(malformed)?;
                    info.summary.memory_pages = info.summary.memory_pages.saturating_add(m.initial);
                }
                rules.memories(r)?;
            }
            Payload::GlobalSection(r) => {
                for (i, g) in r.clone().into_iter().enumerate() {
                    let g = g.map_err(malformed)?;
                    if g.ty.mutable {
                        mutable.push(imported_globals + i as u32);
                        if !matches!(g.ty.content_type, ValType::I32 | ValType::I64) {
                            info.resettable = false;
                        }
                    }
                }
                rules.globals(r)?;
            }
            Payload::ExportSection(r) => {
                for e in r.clone() {
                    let e = e.map_err(malformed)?;
                    info.exec.exports_memory |=
                        e.name == "memory" && e.kind == ExternalKind::Memory;
                    if e.kind == ExternalKind::Global {
                        exported_globals.insert(e.index);
                    }
                    info.exec.export_names.insert(e.name.to_string());
                }
                rules.exports(r)?;
            }
            Payload::StartSection { func, .. } => rules.start(func),
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.map_err(malformed)?;
                    if matches!(d.kind, DataKind::Active { .. }) {
                        info.summary.data_bytes =
                            info.summary.data_bytes.saturating_add(d.data.len() as u64);
                    }
                }
            }
            Payload::CustomSection(_) => info.exec.has_custom = true,
            _ => {}
        }
        if let ValidPayload::Func(func, body) = valid {
            let mut v = func.into_validator(Default::default());
            info.frames
                .push(function(&mut v, &body, &mut rules, &mut info.resettable)?);
        }
    }
    info.exec.unexported_mutable = mutable
        .into_iter()
        .filter(|g| {
            !exported_globals.contains(g)
                && !info
                    .exec
                    .export_names
                    .contains(&crate::global_export_name(*g))
        })
        .collect();
    let findings = rules.finish(&info.frames);
    Ok(Analysis { info, findings })
}

/// Validates one function body, applies the rules to its locals and
/// operators, notes whether it keeps the module resettable, and gives
/// its frame size in slots.
fn function<R: WasmModuleResources>(
    v: &mut wasmparser::FuncValidator<R>,
    body: &FunctionBody<'_>,
    rules: &mut Rules<'_>,
    resettable: &mut bool,
) -> Result<u32, GateError> {
    let mut locals = body.get_locals_reader().map_err(malformed)?;
    let mut declared = 0u64;
    let mut float_local = None;
    for _ in 0..locals.get_count() {
        let offset = locals.original_position();
        let (count, ty) = locals.read().map_err(malformed)?;
        v.define_locals(offset, count, ty).map_err(malformed)?;
        declared += u64::from(count);
        if is_float(&ty) && float_local.is_none() {
            float_local = Some((ty, offset));
        }
    }
    rules.locals(declared, float_local);
    let mut ops = body.get_operators_reader().map_err(malformed)?;
    let mut highest = 0u32;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().map_err(malformed)?;
        v.op(offset, &op).map_err(malformed)?;
        highest = highest.max(v.operand_stack_height());
        rules.operator(&op, offset);
        if matches!(
            op,
            O::TableSet { .. }
                | O::TableGrow { .. }
                | O::TableFill { .. }
                | O::TableCopy { .. }
                | O::TableInit { .. }
                | O::ElemDrop { .. }
                | O::DataDrop { .. }
        ) {
            *resettable = false;
        }
    }
    let slots = u64::from(v.len_locals()) + u64::from(highest) + u64::from(FRAME_OVERHEAD_SLOTS);
    Ok(u32::try_from(slots).unwrap_or(u32::MAX))
}

/// The frame sizes of `code`'s functions ([`ModuleInfo::frames`]), from
/// one analysis pass under the default limits.
///
/// # Errors
/// [`GateError::Malformed`] when the code does not validate.
pub fn frame_slots(code: &[u8]) -> Result<Vec<u32>, GateError> {
    Ok(analyse(code, &Limits::default(), &Policy::default())?
        .info
        .frames)
}
