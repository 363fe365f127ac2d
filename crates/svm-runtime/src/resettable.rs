//! Whether an instance of some code can be reset and run again
//! (`call/reuse.rs`): what the code does to its tables, segments and
//! globals, read from the code, and which globals a compiled module
//! exports.

use std::collections::BTreeSet;

use wasmer::Mutability;
use wasmer_types::ExportIndex;

/// Whether code may be reused after a reset at all: no instruction that
/// changes a table or drops a segment, and no mutable global of another
/// type than `i32` or `i64`. `false` too when the code does not parse
/// (the gate has refused such code before).
pub(crate) fn resettable_code(code: &[u8]) -> bool {
    use wasmparser::{Operator as O, Parser, Payload, ValType};
    for payload in Parser::new(0).parse_all(code) {
        let Ok(payload) = payload else { return false };
        match payload {
            Payload::GlobalSection(r) => {
                for g in r {
                    let Ok(g) = g else { return false };
                    if g.ty.mutable && !matches!(g.ty.content_type, ValType::I32 | ValType::I64) {
                        return false;
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                let Ok(mut ops) = body.get_operators_reader() else {
                    return false;
                };
                while !ops.eof() {
                    match ops.read() {
                        Ok(
                            O::TableSet { .. }
                            | O::TableGrow { .. }
                            | O::TableFill { .. }
                            | O::TableCopy { .. }
                            | O::TableInit { .. }
                            | O::ElemDrop { .. }
                            | O::DataDrop { .. },
                        ) => return false,
                        Ok(_) => {}
                        Err(_) => return false,
                    }
                }
            }
            _ => {}
        }
    }
    true
}

/// Whether every mutable global of `module` (its own and those the
/// middlewares added) is exported, so that a reset can reach it.
pub(crate) fn globals_reachable(module: &wasmer::Module) -> bool {
    let info = module.info();
    let exported: BTreeSet<_> = info
        .exports
        .values()
        .filter_map(|e| match e {
            ExportIndex::Global(g) => Some(*g),
            _ => None,
        })
        .collect();
    info.globals
        .iter()
        .all(|(i, g)| g.mutability == Mutability::Const || exported.contains(&i))
}

#[cfg(test)]
mod tests {
    use super::resettable_code;

    fn code(text: &str) -> Vec<u8> {
        wat::parse_str(text).unwrap()
    }

    #[test]
    fn code_that_changes_tables_or_drops_segments_is_not_resettable() {
        let plain = "(module (memory 1) (table 2 funcref) (global (mut i32) (i32.const 0)) \
                     (func $f (result i32) (call_indirect (result i32) (i32.const 0))) \
                     (elem (i32.const 0) $f))";
        assert!(resettable_code(&code(plain)));
        for body in [
            "(table.set (i32.const 0) (ref.null func))",
            "(drop (table.grow (ref.null func) (i32.const 1)))",
            "(table.fill (i32.const 0) (ref.null func) (i32.const 1))",
            "(table.copy (i32.const 0) (i32.const 1) (i32.const 1))",
            "(table.init 0 (i32.const 0) (i32.const 0) (i32.const 0))",
            "(elem.drop 0)",
            "(data.drop 0)",
        ] {
            let text = format!(
                "(module (memory 1) (table 2 funcref) (func $g) (elem func $g) \
                 (data \"x\") (func {body}))"
            );
            assert!(!resettable_code(&code(&text)), "{body}");
        }
        let reference_global = "(module (global (mut funcref) (ref.null func)))";
        assert!(!resettable_code(&code(reference_global)));
        assert!(!resettable_code(b"no wasm"));
    }
}
