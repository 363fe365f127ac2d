//! Reading contract code from a file: `.wasm` as it is, `.wat` parsed to
//! wasm, with the pre-standard instruction names of 2019-era text files
//! (SVM milestone 1) renamed first, and parse errors on one line.

use std::path::Path;

/// The pre-standard instruction names that today's text format dropped, and
/// their standard names (the WebAssembly spec renamed them in 2018).
pub const LEGACY_NAMES: &[(&str, &str)] = &[
    ("get_local", "local.get"),
    ("set_local", "local.set"),
    ("tee_local", "local.tee"),
    ("get_global", "global.get"),
    ("set_global", "global.set"),
];

/// The wasm of a `.wat` or `.wasm` file. A `.wat` file with pre-standard
/// instruction names is accepted; a note on stderr says what was renamed.
///
/// # Errors
/// One line: the file that cannot be read, or `path:line:column: message`
/// for text that does not parse.
pub fn load_code(path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if path.extension().is_none_or(|e| e != "wat") {
        return Ok(bytes);
    }
    let text =
        String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8 text: {e}", path.display()))?;
    let (text, renamed) = rename_legacy(&text);
    if !renamed.is_empty() {
        let list: Vec<String> = renamed
            .iter()
            .map(|(old, new, n)| format!("{old} -> {new} ({n}x)"))
            .collect();
        eprintln!(
            "note: {}: renamed pre-standard instruction names: {}",
            path.display(),
            list.join(", ")
        );
    }
    wat_to_wasm(&text).map_err(|e| format!("{}:{e}", path.display()))
}

/// `text` parsed to wasm.
///
/// # Errors
/// `line:column: message` (1-based) on one line.
pub fn wat_to_wasm(text: &str) -> Result<Vec<u8>, String> {
    let one_line = |e: wast::Error| {
        let (line, col) = e.span().linecol_in(text);
        format!("{}:{}: {}", line + 1, col + 1, e.message().trim())
    };
    let buf = wast::parser::ParseBuffer::new(text).map_err(one_line)?;
    let mut wat: wast::Wat = wast::parser::parse(&buf).map_err(one_line)?;
    wat.encode().map_err(one_line)
}

/// `text` with every [`LEGACY_NAMES`] instruction renamed, outside strings
/// and comments and only as whole words; and what was renamed, how often.
pub fn rename_legacy(text: &str) -> (String, Vec<(&'static str, &'static str, usize)>) {
    let mut out = String::with_capacity(text.len());
    let mut counts = vec![0usize; LEGACY_NAMES.len()];
    let b = text.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || b"_.$!#%&'*+-/:<=>?@\\^`|~".contains(&c);
    let mut i = 0;
    let mut block_depth = 0usize;
    while i < b.len() {
        let rest = &text[i..];
        if block_depth > 0 {
            if rest.starts_with(";)") {
                block_depth -= 1;
                out.push_str(";)");
                i += 2;
            } else if rest.starts_with("(;") {
                block_depth += 1;
                out.push_str("(;");
                i += 2;
            } else {
                let c = rest.chars().next().unwrap_or_default();
                out.push(c);
                i += c.len_utf8();
            }
            continue;
        }
        if rest.starts_with("(;") {
            block_depth = 1;
            out.push_str("(;");
            i += 2;
            continue;
        }
        if rest.starts_with(";;") {
            let end = rest.find('\n').map_or(rest.len(), |n| n + 1);
            out.push_str(&rest[..end]);
            i += end;
            continue;
        }
        if b[i] == b'"' {
            // A string, with backslash escapes.
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            out.push_str(&text[i..end]);
            i = end;
            continue;
        }
        if word(b[i]) && (i == 0 || !word(b[i - 1])) {
            let len = b[i..].iter().take_while(|&&c| word(c)).count();
            let w = &text[i..i + len];
            match LEGACY_NAMES.iter().position(|(old, _)| *old == w) {
                Some(k) => {
                    counts[k] += 1;
                    out.push_str(LEGACY_NAMES[k].1);
                }
                None => out.push_str(w),
            }
            i += len;
            continue;
        }
        let c = rest.chars().next().unwrap_or_default();
        out.push(c);
        i += c.len_utf8();
    }
    let renamed = LEGACY_NAMES
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|((old, new), n)| (*old, *new, n))
        .collect();
    (out, renamed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_names_are_renamed_as_words_only() {
        let text = r#"(module (global $g (mut i32) (i32.const 0))
  (func (param i32) (result i32) (local i32)
    get_local 0 set_local 1 (tee_local 1 (get_local 0)) drop
    get_global $g set_global $g
    get_local 1)
  ;; get_local in a comment stays
  (; set_local in (; a nested ;) block comment stays ;)
  (data "get_local \" set_local") (func $my_get_local))"#;
        let (out, renamed) = rename_legacy(text);
        assert_eq!(
            renamed,
            vec![
                ("get_local", "local.get", 3),
                ("set_local", "local.set", 1),
                ("tee_local", "local.tee", 1),
                ("get_global", "global.get", 1),
                ("set_global", "global.set", 1),
            ]
        );
        assert!(out.contains("local.get 0 local.set 1 (local.tee 1 (local.get 0)) drop"));
        assert!(out.contains(";; get_local in a comment stays"));
        assert!(out.contains("(; set_local in (; a nested ;) block comment stays ;)"));
        assert!(out.contains(r#"(data "get_local \" set_local")"#));
        assert!(out.contains("$my_get_local"));
        // The result parses, where the original does not.
        assert!(wat_to_wasm(text).is_err());
        wat_to_wasm(&out).expect("parses after renaming");
    }

    #[test]
    fn text_without_legacy_names_is_unchanged() {
        let text = "(module (func (result i32) i32.const 1)) ;; héllo";
        assert_eq!(rename_legacy(text), (text.to_string(), vec![]));
    }

    #[test]
    fn parse_errors_are_one_line_with_a_position() {
        let e = wat_to_wasm("(module\n  (func (result i32)\n    i32.bogus))").unwrap_err();
        assert!(!e.contains('\n'), "{e:?}");
        assert!(e.starts_with("3:5: "), "{e:?}");
        assert!(e.contains("i32.bogus") || e.contains("unknown"), "{e:?}");
    }
}
