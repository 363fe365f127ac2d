//! The gate's rules (the crate docs' list), as one visitor per section
//! over what the analysis pass reads: each notes its findings, and
//! [`Rules::finish`] puts them in the documented order.

use svm_host::abi::{VMCALLS, ValKind};
use wasmparser::{
    BlockType, CompositeInnerType, ExportSectionReader, FuncType, FunctionSectionReader,
    GlobalSectionReader, ImportSectionReader, MemorySectionReader, Operator, TableSectionReader,
    TypeRef, TypeSectionReader, ValType,
};

use crate::error::malformed;
use crate::{GateError, Limits, Policy, RESERVED_MEMORY_EXPORT, SET_BALANCE};

/// What the rules found so far in one module.
pub(crate) struct Rules<'a> {
    limits: &'a Limits,
    policy: &'a Policy,
    types: Vec<Option<FuncType>>,
    unknown: Vec<String>,
    disabled: Option<GateError>,
    memories: u32,
    reserved_export: Option<GateError>,
    start: Option<u32>,
    limit_findings: Vec<GateError>,
    /// A float type is reported only when no float instruction is found:
    /// the first float instruction, in code order, names the problem best.
    float_type: Option<GateError>,
    float_instr: Option<GateError>,
}

impl<'a> Rules<'a> {
    pub(crate) fn new(limits: &'a Limits, policy: &'a Policy) -> Self {
        Self {
            limits,
            policy,
            types: Vec::new(),
            unknown: Vec::new(),
            disabled: None,
            memories: 0,
            reserved_export: None,
            start: None,
            limit_findings: Vec::new(),
            float_type: None,
            float_instr: None,
        }
    }

    fn over(&mut self, what: &'static str, value: u64, limit: u64) {
        over(&mut self.limit_findings, what, value, limit);
    }

    pub(crate) fn types(&mut self, r: TypeSectionReader<'_>) -> Result<(), GateError> {
        for group in r {
            for sub in group.map_err(malformed)?.into_types() {
                self.types.push(match &sub.composite_type.inner {
                    CompositeInnerType::Func(f) => Some(f.clone()),
                    _ => None,
                });
            }
        }
        Ok(())
    }

    /// Only vmcalls of the table, with their exact signatures; the one
    /// the policy governs only where it allows it.
    pub(crate) fn imports(&mut self, r: ImportSectionReader<'_>) -> Result<(), GateError> {
        self.over(
            "import count",
            r.count().into(),
            self.limits.max_imports.into(),
        );
        for imp in r.into_imports() {
            let imp = imp.map_err(malformed)?;
            let func = match imp.ty {
                TypeRef::Func(t) => self.types.get(t as usize).cloned().flatten(),
                _ => None,
            };
            let Some(f) = func else {
                self.unknown
                    .push(format!("{}.{}: {:?}", imp.module, imp.name, imp.ty));
                continue;
            };
            let known = VMCALLS.iter().any(|v| {
                v.module == imp.module && v.name == imp.name && matches(&f, v.params, v.results)
            });
            if known
                && !self.policy.allow_set_balance
                && format!("{}.{}", imp.module, imp.name) == SET_BALANCE
            {
                self.disabled = Some(GateError::DisabledVmCall(SET_BALANCE));
            }
            if !known {
                self.unknown
                    .push(format!("{}.{}: {}", imp.module, imp.name, fmt_sig(&f)));
            }
        }
        Ok(())
    }

    pub(crate) fn memories(&mut self, r: MemorySectionReader<'_>) -> Result<(), GateError> {
        for m in r {
            let m = m.map_err(malformed)?;
            self.memories += 1;
            self.over(
                "initial memory pages",
                m.initial,
                self.limits.max_memory_pages,
            );
        }
        Ok(())
    }

    pub(crate) fn functions(&mut self, r: FunctionSectionReader<'_>) {
        self.over(
            "function count",
            r.count().into(),
            self.limits.max_functions.into(),
        );
    }

    pub(crate) fn tables(&mut self, r: TableSectionReader<'_>) -> Result<(), GateError> {
        for t in r {
            let t = t.map_err(malformed)?;
            let max = self.limits.max_table_elements;
            self.over("table elements", t.ty.initial, max);
            if let Some(declared) = t.ty.maximum {
                self.over("table elements", declared, max);
            }
        }
        Ok(())
    }

    pub(crate) fn exports(&mut self, r: ExportSectionReader<'_>) -> Result<(), GateError> {
        self.over(
            "export count",
            r.count().into(),
            self.limits.max_exports.into(),
        );
        for e in r {
            let e = e.map_err(malformed)?;
            if e.name == RESERVED_MEMORY_EXPORT && self.reserved_export.is_none() {
                self.reserved_export = Some(GateError::ReservedExport(e.name.to_string()));
            }
        }
        Ok(())
    }

    pub(crate) fn globals(&mut self, r: GlobalSectionReader<'_>) -> Result<(), GateError> {
        for g in r {
            let g = g.map_err(malformed)?;
            if is_float(&g.ty.content_type) && self.float_type.is_none() {
                self.float_type = Some(GateError::NonDeterministic {
                    rule: "floats",
                    instruction: format!("global of type {}", g.ty.content_type),
                    offset: g.init_expr.get_binary_reader().original_position(),
                });
            }
        }
        Ok(())
    }

    pub(crate) fn start(&mut self, func: u32) {
        self.start = Some(func);
    }

    /// A function's declared locals: how many in all (parameters excluded),
    /// and the type and module offset of the first float one, if any.
    pub(crate) fn locals(&mut self, declared: u64, float_local: Option<(ValType, u64)>) {
        if let Some((ty, offset)) = float_local
            && self.float_type.is_none()
        {
            self.float_type = Some(GateError::NonDeterministic {
                rule: "floats",
                instruction: format!("local of type {ty}"),
                offset,
            });
        }
        self.over(
            "locals in one function",
            declared,
            self.limits.max_locals.into(),
        );
    }

    /// One operator of a function body, at `offset` in the module.
    pub(crate) fn operator(&mut self, op: &Operator<'_>, offset: u64) {
        if self.float_instr.is_none()
            && let Some(name) = float_op(op).or_else(|| float_block(op))
        {
            self.float_instr = Some(GateError::NonDeterministic {
                rule: "floats",
                instruction: name,
                offset,
            });
        }
    }

    /// Every finding, in the order of the crate docs; `frames` are the
    /// frame sizes of the module's functions.
    pub(crate) fn finish(mut self, frames: &[u32]) -> Vec<GateError> {
        let mut findings = Vec::new();
        if !self.unknown.is_empty() {
            findings.push(GateError::UnknownImports(self.unknown));
        }
        findings.extend(self.disabled);
        if self.memories != 1 {
            findings.push(GateError::MissingMemory);
        }
        findings.extend(self.reserved_export);
        findings.extend(self.start.map(GateError::StartFunction));
        if let Some(&largest) = frames.iter().max() {
            over(
                &mut self.limit_findings,
                "stack slots of one function frame",
                largest.into(),
                self.limits.max_frame_slots.into(),
            );
        }
        findings.extend(self.limit_findings);
        if let Some(e) = self.float_instr.or(self.float_type) {
            findings.push(e);
        } else if let Some(f) = self
            .types
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
        findings
    }
}

/// Notes `what` once when `value` is over `limit`.
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

pub(crate) fn is_float(v: &ValType) -> bool {
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
    wasmparser::for_each_operator!(name_of)
}

/// A block, loop, if or typed select whose type is a float: no float
/// instruction needs to appear in it (`(block (result f64) unreachable)`).
fn float_block(op: &Operator) -> Option<String> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use wasmparser::{Parser, Payload};

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
}
