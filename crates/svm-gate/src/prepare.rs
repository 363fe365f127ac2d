//! The code wasmer compiles, prepared from the stored code with what the
//! analysis pass found ([`crate::ModuleInfo`]).

use std::borrow::Cow;

use wasm_encoder::{Encode, ExportKind, RawSection};
use wasmparser::{BinaryReader, Parser, Payload};

use crate::error::malformed;
use crate::{GateError, ModuleInfo, RESERVED_MEMORY_EXPORT};

/// The id of the export section (binary format).
const EXPORT_SECTION: u8 = 7;

/// The name under which [`executable_code`] exports mutable global `index`
/// that the module does not export itself (`svm:global:` and the index in
/// decimal), so that a reused instance can set it back.
pub fn global_export_name(index: u32) -> String {
    format!("svm:global:{index}")
}

/// The place of section `id` in the module order of the spec (binary
/// format, "modules"): type, import, function, table, memory, tag, global,
/// export, start, element, data count, code, data.
fn order(id: u8) -> u8 {
    match id {
        1 => 1,   // type
        2 => 2,   // import
        3 => 3,   // function
        4 => 4,   // table
        5 => 5,   // memory
        13 => 6,  // tag
        6 => 7,   // global
        7 => 8,   // export
        8 => 9,   // start
        9 => 10,  // element
        12 => 11, // data count
        10 => 12, // code
        11 => 13, // data
        _ => 0,
    }
}

/// The code wasmer compiles: `code` itself when it has no custom section,
/// exports its memory as `memory` and exports every mutable global it
/// defines; else `code` with its sections copied as they are, except:
/// - its custom sections are dropped: they carry no semantics (names,
///   producers, debug info), and wasmer reads the `name` section for its
///   debug info, where malformed names have made it panic;
/// - when its memory is not exported as `memory` (SVM milestone-1
///   contracts), memory 0 is exported as [`RESERVED_MEMORY_EXPORT`], where
///   the vmcalls find it;
/// - each mutable global it defines but does not export (such as the
///   `__stack_pointer` of clang and rustc) is exported under
///   [`global_export_name`], unless the module already uses that name: a
///   block sets them back when it reuses an instance. A call can name no
///   global, so the added exports change nothing a transaction can
///   observe.
///
/// Added exports go after the module's own, in its export section, or in
/// one of their own at the export section's place when it has none.
/// `info` must be the analysis of `code`. The stored code, its hash and
/// the contract address are those of the original bytes.
///
/// # Errors
/// [`GateError::Malformed`] when `code` does not parse (the analysis has
/// accepted it before, so this is not expected).
pub fn executable_code<'c>(code: &'c [u8], info: &ModuleInfo) -> Result<Cow<'c, [u8]>, GateError> {
    let facts = &info.exec;
    let add_memory = !facts.exports_memory;
    let needed = add_memory || !facts.unexported_mutable.is_empty();
    if !facts.has_custom && !needed {
        return Ok(Cow::Borrowed(code));
    }
    let mut added = Vec::new();
    let mut count = 0u32;
    if add_memory {
        RESERVED_MEMORY_EXPORT.encode(&mut added);
        ExportKind::Memory.encode(&mut added);
        0u32.encode(&mut added);
        count += 1;
    }
    for &g in &facts.unexported_mutable {
        global_export_name(g).encode(&mut added);
        ExportKind::Global.encode(&mut added);
        g.encode(&mut added);
        count += 1;
    }
    let exports_only = || {
        let mut data = Vec::new();
        count.encode(&mut data);
        data.extend_from_slice(&added);
        data
    };
    let mut module = wasm_encoder::Module::new();
    let mut exported = !needed;
    for payload in Parser::new(0).parse_all(code) {
        let payload = payload.map_err(malformed)?;
        if let Payload::CustomSection(_) = payload {
            continue;
        }
        let Some((id, range)) = payload.as_section() else {
            continue;
        };
        let data = usize::try_from(range.start)
            .ok()
            .zip(usize::try_from(range.end).ok())
            .and_then(|(start, end)| code.get(start..end))
            .ok_or(GateError::Malformed {
                offset: range.start,
                message: "section outside the code".into(),
            })?;
        if !exported && order(id) > order(EXPORT_SECTION) {
            module.section(&RawSection {
                id: EXPORT_SECTION,
                data: &exports_only(),
            });
            exported = true;
        }
        if id == EXPORT_SECTION && !exported {
            let mut r = BinaryReader::new(data, range.start);
            let own = r.read_var_u32().map_err(malformed)?;
            let mut merged = Vec::with_capacity(data.len() + added.len() + 5);
            own.saturating_add(count).encode(&mut merged);
            merged.extend_from_slice(&data[r.current_position()..]);
            merged.extend_from_slice(&added);
            module.section(&RawSection {
                id: EXPORT_SECTION,
                data: &merged,
            });
            exported = true;
            continue;
        }
        module.section(&RawSection { id, data });
    }
    if !exported {
        module.section(&RawSection {
            id: EXPORT_SECTION,
            data: &exports_only(),
        });
    }
    Ok(Cow::Owned(module.finish()))
}
