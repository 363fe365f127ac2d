//! The analysis pass and the prepared code, on small modules.

use std::borrow::Cow;

use svm_gate::{
    GateError, Limits, Policy, analyse, analysis_passes, check, executable_code, frame_slots,
};

fn wasm(text: &str) -> Vec<u8> {
    wat::parse_str(text).unwrap()
}

fn prepared(code: &[u8]) -> Cow<'_, [u8]> {
    let info = analyse(code, &Limits::default(), &Policy::default())
        .unwrap()
        .info;
    executable_code(code, &info).unwrap()
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

#[test]
fn frames_count_params_locals_operands_and_overhead() {
    let code = wasm(
        r#"(module
          (func (param i32 i64) (local i32 i32 i32)
            i32.const 1 i32.const 2 i32.const 3 i32.add i32.add drop)
          (func))"#,
    );
    // 2 params + 3 locals + 3 operands + 4; 0 + 0 + 0 + 4.
    assert_eq!(frame_slots(&code).unwrap(), vec![12, 4]);
}

#[test]
fn one_pass_gives_everything() {
    let code = wasm(
        r#"(module (memory (export "memory") 2) (table 3 funcref)
             (global (mut i32) (i32.const 0))
             (data (i32.const 0) "abcd") (data "passive")
             (func (export "f") (local i64) i32.const 1 drop))"#,
    );
    let before = analysis_passes();
    let a = analyse(&code, &Limits::default(), &Policy::default()).unwrap();
    assert_eq!(analysis_passes(), before + 1);
    assert!(a.findings.is_empty(), "{:?}", a.findings);
    assert_eq!(a.info.summary.memory_pages, 2);
    assert_eq!(a.info.summary.table_elements, 3);
    assert_eq!(a.info.summary.data_bytes, 4, "active segments only");
    assert_eq!(a.info.frames, vec![1 + 1 + 4]);
    assert!(a.info.resettable);
}

#[test]
fn code_that_changes_tables_or_drops_segments_is_not_resettable() {
    let resettable = |code: &[u8]| {
        analyse(code, &Limits::default(), &Policy::default())
            .unwrap()
            .info
            .resettable
    };
    let plain = "(module (memory 1) (table 2 funcref) (global (mut i32) (i32.const 0)) \
                 (func $f (result i32) (call_indirect (result i32) (i32.const 0))) \
                 (elem (i32.const 0) $f))";
    assert!(resettable(&wasm(plain)));
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
        assert!(!resettable(&wasm(&text)), "{body}");
    }
    let reference_global = "(module (global (mut funcref) (ref.null func)))";
    assert!(!resettable(&wasm(reference_global)));
}

#[test]
fn code_without_custom_sections_is_compiled_as_it_is() {
    let code = wasm("(module (memory (export \"memory\") 1) (func (export \"f\")))");
    assert!(matches!(prepared(&code), Cow::Borrowed(_)));
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
    assert_eq!(prepared(&named).into_owned(), plain);
}

#[test]
fn an_unexported_memory_is_exported_under_the_reserved_name() {
    let with = |exports: &str| {
        wasm(&format!(
            "(module (memory 1) (func (export \"f\")) {exports} (data (i32.const 0) \"x\"))"
        ))
    };
    assert_eq!(
        prepared(&with("")).into_owned(),
        with("(export \"svm:memory\" (memory 0))"),
        "added to the export section"
    );
    // No export section at all: one is made at its place.
    let bare = wasm("(module (memory 1) (data (i32.const 0) \"x\"))");
    assert_eq!(
        prepared(&bare).into_owned(),
        wasm("(module (memory 1) (export \"svm:memory\" (memory 0)) (data (i32.const 0) \"x\"))")
    );
    // Nothing after the export section's place: it comes last.
    let last = wasm("(module (memory 1))");
    assert_eq!(
        prepared(&last).into_owned(),
        wasm("(module (memory 1) (export \"svm:memory\" (memory 0)))")
    );
}

#[test]
fn unexported_mutable_globals_are_exported_for_resets() {
    let code = wasm(
        "(module (memory (export \"memory\") 1) (global (mut i32) (i32.const 5)) \
         (global i32 (i32.const 1)) (global (mut i64) (i64.const 0)) \
         (export \"g2\" (global 2)) (func (export \"f\")))",
    );
    assert_eq!(
        prepared(&code).into_owned(),
        wasm(
            "(module (memory (export \"memory\") 1) (global (mut i32) (i32.const 5)) \
             (global i32 (i32.const 1)) (global (mut i64) (i64.const 0)) \
             (export \"g2\" (global 2)) (func (export \"f\")) \
             (export \"svm:global:0\" (global 0)))"
        )
    );
}

#[test]
fn an_empty_or_nul_module_name_is_dropped() {
    // `(module $...)` names come from the text; build the name section by
    // hand: id 0, size, "name", subsection 0 (module name) of length 0.
    let mut code = wasm("(module (memory (export \"memory\") 1))");
    code.extend_from_slice(&[0, 8, 4, b'n', b'a', b'm', b'e', 0, 1, 0]);
    assert_eq!(
        &*prepared(&code),
        &wasm("(module (memory (export \"memory\") 1))")[..]
    );
}
