//! The deploy gate: what wasm code must satisfy before it is stored.
//!
//! The checks, in the order their errors are reported:
//!
//! 1. **Well-formed** under the accepted feature set: the MVP plus the
//!    deterministic post-MVP features current Rust and clang emit (sign
//!    extension, mutable globals, multi-value, bulk memory, reference
//!    types). SIMD, threads and atomics, exceptions, memory64, multiple
//!    memories, tail calls and GC are not accepted.
//! 2. **Imports:** only functions of the import object ([`VMCALLS`]), each
//!    with its exact signature. All unknown imports are named at once.
//! 3. **Memory:** the module defines its own memory (exactly one). It may
//!    export it as `memory` or not at all, as SVM milestone-1 contracts do
//!    (the compiler then adds an export under [`RESERVED_MEMORY_EXPORT`],
//!    a name no module may export itself).
//! 4. **Limits** ([`Limits`]): functions, locals per function, imports,
//!    exports, table elements, initial memory pages.
//! 5. **Deterministic:** no float value type or float instruction
//!    (including non-trapping float-to-int conversions). The error names
//!    the first float instruction and its byte offset in the module.
//! 6. **No start function:** wasmer would run it inside instantiation,
//!    before the call's gas is set, so every call would trap.
//! 7. **Policy** ([`Policy`]): `node.vmcall_set_balance`, which sets any
//!    account's balance, only where the runtime allows it.
//!
//! The gate never panics and never executes code.

use wasmer::wasmparser::{
    CompositeInnerType, FuncType, Operator, Parser, Payload, TypeRef, ValType,
};

use crate::gate_error::malformed;
pub use crate::gate_error::{GateError, accepted_features};
use crate::vmcall_table::{VMCALLS, ValKind};

/// The export name under which the compiler exposes a module's memory when
/// the module does not export it as `memory` (SVM milestone-1 contracts
/// declare `(memory 1)` without an export). The gate rejects modules that
/// export this name themselves ([`GateError::ReservedExport`]).
pub const RESERVED_MEMORY_EXPORT: &str = "svm:memory";

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
    /// Initial pages (64 KiB each) of the memory; at run time the memory
    /// cannot grow past this either. Default: 256 (16 MiB).
    pub max_memory_pages: u64,
    /// Stack slots of one function's frame: parameters, locals, the
    /// highest operand stack, plus overhead ([`crate::stack_limit`]).
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

pub use crate::vmcall_table::SET_BALANCE;

fn over(findings: &mut Vec<GateError>, what: &'static str, value: u64, limit: u64) {
    if value > limit
        && !findings
            .iter()
            .any(|f| matches!(f, GateError::LimitExceeded { what: w, .. } if *w == what))
    {
        findings.push(GateError::LimitExceeded { what, value, limit });
    }
}

fn kind(v: &ValType) -> Option<ValKind> {
    match v {
        ValType::I32 => Some(ValKind::I32),
        ValType::I64 => Some(ValKind::I64),
        _ => None,
    }
}

fn fmt_sig(f: &FuncType) -> String {
    let list = |ts: &[ValType]| {
        ts.iter()
            .map(|t| format!("{t}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(f.params()), list(f.results()))
}

fn matches(f: &FuncType, params: &[ValKind], results: &[ValKind]) -> bool {
    let same = |ts: &[ValType], ks: &[ValKind]| {
        ts.len() == ks.len() && ts.iter().zip(ks).all(|(t, k)| kind(t) == Some(*k))
    };
    same(f.params(), params) && same(f.results(), results)
}

fn is_float(v: &ValType) -> bool {
    matches!(v, ValType::F32 | ValType::F64)
}

/// The name of `op` when it is a float instruction. Every wasm instruction
/// that produces, consumes or converts a float has `F32` or `F64` in its
/// wasmparser name (`F32Add`, `I32TruncSatF64U`, `F64Load`, ...).
fn float_op(op: &Operator) -> Option<String> {
    let name = op_name(op);
    (name.contains("F32") || name.contains("F64")).then(|| name.to_string())
}

/// The name of `op`'s `Operator` variant, from wasmparser's own list of
/// its operators (`for_each_operator!`): no formatting.
fn op_name(op: &Operator) -> &'static str {
    macro_rules! name_of {
        ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
            match op {
                $( Operator::$op { .. } => stringify!($op), )*
                // `Operator` is non-exhaustive; the list names every variant.
                _ => "",
            }
        };
    }
    wasmer::wasmparser::for_each_operator!(name_of)
}

/// A block, loop, if or typed select whose type is a float: no float
/// instruction needs to appear in it (`(block (result f64) unreachable)`).
fn float_block(op: &Operator) -> Option<String> {
    use wasmer::wasmparser::BlockType;
    let ty = match op {
        Operator::Block { blockty } | Operator::Loop { blockty } | Operator::If { blockty } => {
            match blockty {
                BlockType::Type(t) => *t,
                _ => return None,
            }
        }
        Operator::TypedSelect { ty } => *ty,
        Operator::TypedSelectMulti { tys } => match tys.iter().find(|t| is_float(t)) {
            Some(t) => *t,
            None => return None,
        },
        _ => return None,
    };
    is_float(&ty).then(|| format!("{op:?}"))
}

/// Every reason a deploy was rejected: one or more [`GateError`]s, in the
/// order of the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection(pub Vec<GateError>);

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for Rejection {}

impl Rejection {
    /// The first finding.
    pub fn first(&self) -> Option<&GateError> {
        self.0.first()
    }
}

/// Runs the gate over `code`.
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
    match findings_with(code, limits, policy) {
        Err(e) => Err(Rejection(vec![e])),
        Ok(f) if f.is_empty() => Ok(()),
        Ok(f) => Err(Rejection(f)),
    }
}

/// Every problem the gate finds in `code`, in this order: unknown imports
/// (all of them), a missing memory, the first float instruction (or, when
/// there is none, the first float type). Empty when the code passes.
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
    // Validates the whole module, and sizes each function's frame.
    let frames = crate::stack_limit::frame_slots(code)?;

    let mut types: Vec<Option<FuncType>> = Vec::new();
    let mut unknown = Vec::new();
    let mut memories = 0u32;
    let mut reserved_export = None;
    // A float type is reported only when no float instruction is found:
    // the first float instruction, in code order, names the problem best.
    let mut float_type: Option<GateError> = None;
    let mut float_instr: Option<GateError> = None;
    let mut limit_findings = Vec::new();
    let mut start = None;
    let mut disabled = None;
    for payload in Parser::new(0).parse_all(code) {
        match payload.map_err(malformed)? {
            Payload::TypeSection(r) => {
                for group in r {
                    for sub in group.map_err(malformed)?.into_types() {
                        types.push(match &sub.composite_type.inner {
                            CompositeInnerType::Func(f) => Some(f.clone()),
                            _ => None,
                        });
                    }
                }
            }
            Payload::ImportSection(r) => {
                over(
                    &mut limit_findings,
                    "import count",
                    r.count().into(),
                    limits.max_imports.into(),
                );
                for imp in r.into_imports() {
                    let imp = imp.map_err(malformed)?;
                    let ok = match imp.ty {
                        TypeRef::Func(t) => match types.get(t as usize).cloned().flatten() {
                            Some(f) => {
                                let known = VMCALLS.iter().any(|v| {
                                    v.module == imp.module
                                        && v.name == imp.name
                                        && matches(&f, v.params, v.results)
                                });
                                if known
                                    && !policy.allow_set_balance
                                    && format!("{}.{}", imp.module, imp.name) == SET_BALANCE
                                {
                                    disabled = Some(GateError::DisabledVmCall(SET_BALANCE));
                                }
                                if !known {
                                    unknown.push(format!(
                                        "{}.{}: {}",
                                        imp.module,
                                        imp.name,
                                        fmt_sig(&f)
                                    ));
                                }
                                true
                            }
                            None => false,
                        },
                        _ => false,
                    };
                    if !ok {
                        unknown.push(format!("{}.{}: {:?}", imp.module, imp.name, imp.ty));
                    }
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m.map_err(malformed)?;
                    memories += 1;
                    over(
                        &mut limit_findings,
                        "initial memory pages",
                        m.initial,
                        limits.max_memory_pages,
                    );
                }
            }
            Payload::FunctionSection(r) => {
                over(
                    &mut limit_findings,
                    "function count",
                    r.count().into(),
                    limits.max_functions.into(),
                );
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t.map_err(malformed)?;
                    over(
                        &mut limit_findings,
                        "table elements",
                        t.ty.initial,
                        limits.max_table_elements,
                    );
                    if let Some(max) = t.ty.maximum {
                        over(
                            &mut limit_findings,
                            "table elements",
                            max,
                            limits.max_table_elements,
                        );
                    }
                }
            }
            Payload::ExportSection(r) => {
                over(
                    &mut limit_findings,
                    "export count",
                    r.count().into(),
                    limits.max_exports.into(),
                );
                for e in r {
                    let e = e.map_err(malformed)?;
                    if e.name == RESERVED_MEMORY_EXPORT && reserved_export.is_none() {
                        reserved_export = Some(GateError::ReservedExport(e.name.to_string()));
                    }
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g.map_err(malformed)?;
                    if is_float(&g.ty.content_type) && float_type.is_none() {
                        float_type = Some(GateError::NonDeterministic {
                            rule: "floats",
                            instruction: format!("global of type {}", g.ty.content_type),
                            offset: g.init_expr.get_binary_reader().original_position(),
                        });
                    }
                }
            }
            Payload::StartSection { func, .. } => start = Some(func),
            Payload::CodeSectionEntry(body) => {
                let mut locals = body.get_locals_reader().map_err(malformed)?;
                let mut declared = 0u64;
                for _ in 0..locals.get_count() {
                    let offset = locals.original_position();
                    let (n, ty) = locals.read().map_err(malformed)?;
                    declared += u64::from(n);
                    if is_float(&ty) && float_type.is_none() {
                        float_type = Some(GateError::NonDeterministic {
                            rule: "floats",
                            instruction: format!("local of type {ty}"),
                            offset,
                        });
                    }
                }
                over(
                    &mut limit_findings,
                    "locals in one function",
                    declared,
                    limits.max_locals.into(),
                );
                let mut ops = body.get_operators_reader().map_err(malformed)?;
                while !ops.eof() {
                    let (op, offset) = ops.read_with_offset().map_err(malformed)?;
                    if float_instr.is_none()
                        && let Some(name) = float_op(&op).or_else(|| float_block(&op))
                    {
                        float_instr = Some(GateError::NonDeterministic {
                            rule: "floats",
                            instruction: name,
                            offset,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    let mut findings = Vec::new();
    if !unknown.is_empty() {
        findings.push(GateError::UnknownImports(unknown));
    }
    findings.extend(disabled);
    if memories != 1 {
        findings.push(GateError::MissingMemory);
    }
    findings.extend(reserved_export);
    findings.extend(start.map(GateError::StartFunction));
    if let Some(&largest) = frames.iter().max() {
        over(
            &mut limit_findings,
            "stack slots of one function frame",
            largest.into(),
            limits.max_frame_slots.into(),
        );
    }
    findings.extend(limit_findings);
    if let Some(e) = float_instr.or(float_type) {
        findings.push(e);
    } else if let Some(f) = types
        .iter()
        .flatten()
        .find(|f| f.params().iter().chain(f.results()).any(is_float))
    {
        findings.push(GateError::NonDeterministic {
            rule: "floats",
            instruction: format!("function type {}", fmt_sig(f)),
            offset: 0,
        });
    }
    Ok(findings)
}

/// What instantiating a module takes, priced by [`crate::gas::instantiate`]
/// before every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModuleSummary {
    /// Initial pages (64 KiB each) of its memories.
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

/// The [`ModuleSummary`] of `code`, read without validating.
///
/// # Errors
/// [`GateError::Malformed`] when the sections do not parse.
pub fn summary(code: &[u8]) -> Result<ModuleSummary, GateError> {
    let mut s = ModuleSummary::default();
    for payload in Parser::new(0).parse_all(code) {
        match payload.map_err(malformed)? {
            Payload::MemorySection(r) => {
                for m in r {
                    s.memory_pages = s.memory_pages.saturating_add(m.map_err(malformed)?.initial);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    s.table_elements = s
                        .table_elements
                        .saturating_add(t.map_err(malformed)?.ty.initial);
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d.map_err(malformed)?;
                    if matches!(d.kind, wasmer::wasmparser::DataKind::Active { .. }) {
                        s.data_bytes = s.data_bytes.saturating_add(d.data.len() as u64);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `float_op` names what the whole `Debug` text names: every operator
    /// of a module with float and integer instructions of each shape
    /// (unit, struct and tuple variants).
    #[test]
    fn float_op_reads_the_name_only() {
        let code = wat::parse_str(
            r#"(module (memory 1)
                 (func (param f64 i32) (result f64) (local f32)
                   (local.set 2 (f32.const 1.5))
                   (drop (i32.trunc_sat_f64_u (local.get 0)))
                   (f64.store offset=8 (i32.const 0) (f64.add (local.get 0) (f64.load (i32.const 8))))
                   (drop (i64.add (i64.const 1) (i64.extend_i32_u (local.get 1))))
                   (block (result f64) (f64.const 2))
                   (drop)
                   (select (result f64) (local.get 0) (f64.neg (local.get 0)) (local.get 1))))"#,
        )
        .unwrap();
        let old = |op: &Operator| {
            let name = format!("{op:?}");
            let name = name.split([' ', '{', '(']).next().unwrap_or_default();
            (name.contains("F32") || name.contains("F64")).then(|| name.to_string())
        };
        let (mut ops, mut floats) = (0, 0);
        for payload in Parser::new(0).parse_all(&code) {
            if let Ok(Payload::CodeSectionEntry(body)) = payload {
                let mut reader = body.get_operators_reader().unwrap();
                while !reader.eof() {
                    let op = reader.read().unwrap();
                    assert_eq!(float_op(&op), old(&op), "{op:?}");
                    ops += 1;
                    floats += usize::from(float_op(&op).is_some());
                }
            }
        }
        assert!(ops > 20 && floats >= 7, "{ops} operators, {floats} floats");
    }

    #[test]
    fn malformed_messages_are_one_line() {
        let e = check(b"hello, this is no wasm", &Limits::default()).unwrap_err();
        let GateError::Malformed { message, offset } = &e.0[0] else {
            panic!("{e:?}");
        };
        assert_eq!(*offset, 0);
        assert!(!message.contains('\n'), "{message:?}");
        assert!(
            message.contains("expected=[0x0, 0x61, 0x73, 0x6d] actual=[0x68, 0x65, 0x6c, 0x6c]"),
            "{message:?}"
        );
    }
}
