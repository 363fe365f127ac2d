//! The gate's vocabulary: why code is rejected ([`GateError`],
//! [`Rejection`]) and the wasm features it accepts.

use wasmparser::WasmFeatures;

/// Why code was rejected at deploy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateError {
    /// Not a valid wasm module under the accepted features.
    #[error("malformed wasm at offset {offset}: {message}")]
    Malformed {
        /// The byte offset of the problem.
        offset: u64,
        /// wasmparser's message.
        message: String,
    },
    /// A non-deterministic instruction or type.
    #[error("{rule}: `{instruction}` at offset {offset}")]
    NonDeterministic {
        /// The rule broken (`floats`).
        rule: &'static str,
        /// The instruction or type.
        instruction: String,
        /// Its byte offset in the code.
        offset: u64,
    },
    /// Imports the import object does not provide, as
    /// `module.name: (params) -> (results)`.
    #[error("unknown imports: {}", .0.join(", "))]
    UnknownImports(Vec<String>),
    /// The module does not define exactly one memory of its own.
    #[error("the module must define exactly one memory (exported as \"memory\" or not exported)")]
    MissingMemory,
    /// The module exports a name reserved for the runtime
    /// ([`RESERVED_MEMORY_EXPORT`](crate::RESERVED_MEMORY_EXPORT)).
    #[error("the export name \"{0}\" is reserved for the runtime")]
    ReservedExport(String),
    /// The module has a start function (instantiation would run it before
    /// the call's gas is set).
    #[error("start functions are not supported (function {0})")]
    StartFunction(u32),
    /// The module imports a vmcall the runtime's policy disables.
    #[error("{0} is disabled in this runtime")]
    DisabledVmCall(&'static str),
    /// A count or size over its configured limit ([`Limits`](crate::Limits)).
    #[error("{what} is {value}, over the limit of {limit}")]
    LimitExceeded {
        /// What was counted.
        what: &'static str,
        /// The module's value.
        value: u64,
        /// The limit.
        limit: u64,
    },
}

/// The features the gate accepts.
pub fn accepted_features() -> WasmFeatures {
    WasmFeatures::MUTABLE_GLOBAL
        | WasmFeatures::SIGN_EXTENSION
        | WasmFeatures::MULTI_VALUE
        | WasmFeatures::BULK_MEMORY
        | WasmFeatures::REFERENCE_TYPES
        | WasmFeatures::FLOATS
        | WasmFeatures::GC_TYPES
        | WasmFeatures::SATURATING_FLOAT_TO_INT
}

pub(crate) fn malformed(e: wasmparser::BinaryReaderError) -> GateError {
    GateError::Malformed {
        offset: e.offset(),
        message: one_line(e.message()),
    }
}

/// `message` on one line: wasmparser formats some messages with `{:#?}`
/// (the bad magic number as a multi-line byte array). Runs of whitespace
/// become one space, and `[ a, b, ]` becomes `[a, b]`.
fn one_line(message: &str) -> String {
    message
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("[ ", "[")
        .replace(", ]", "]")
}

/// Every reason a deploy was rejected: one or more [`GateError`]s, in the
/// order of the crate docs.
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
