//! Receipts: the outcome of a call, and the typed error of a failed one.
//!
//! These are plain data types. Their encodings are in [the crate docs](crate):
//!
//! - [`Receipt::encode`] / [`Receipt::decode`]: the transport encoding,
//!   everything including the free-text error message and the page
//!   counters;
//! - [`Receipt::consensus_bytes`] / [`Receipt::consensus_hash`]: the
//!   canonical encoding of what nodes must agree on (no message, no page
//!   counters).

use svm_types::State;

use crate::MAX_STRING_BYTES;
use crate::WasmValue;

/// Why a transaction failed: the `error code` byte of the receipt, in the
/// transport and in the consensus encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ErrorCode {
    /// No contract at the address.
    ContractNotFound = 1,
    /// The contract exports no function of that name.
    FunctionNotFound = 2,
    /// The arguments do not match the function's parameter types.
    WrongArguments = 3,
    /// The wasm code trapped (unreachable, out-of-bounds access, stack
    /// overflow, ...).
    Trap = 4,
    /// A vmcall failed (bad pointer, register, slice, balance, ...).
    HostCall = 5,
    /// The gas limit was reached.
    OutOfGas = 6,
    /// The state asked for is no committed state of the contract.
    UnknownState = 7,
    /// The code failed validation or compilation.
    InvalidCode = 8,
    /// The storage backend failed; the transaction had no effect.
    Storage = 9,
    /// The gas limit is over the runtime's maximum per transaction.
    GasLimitTooHigh = 10,
    /// The sender's balance does not cover the call's value.
    InsufficientBalance = 11,
    /// An inner contract call (`svm.call`) was refused:
    /// the call stack already holds
    /// the runtime's `max_call_depth` frames. Only in
    /// [`InnerCall::error`] and as `svm.call`'s status.
    CallDepth = 12,
    /// An inner contract call was refused: its contract is already on the
    /// call stack and the runtime's `allow_reentrancy` is off.
    /// Only in [`InnerCall::error`] and as `svm.call`'s status.
    Reentrancy = 13,
}

impl ErrorCode {
    /// Every code, in byte order (1 to 13).
    pub const ALL: [ErrorCode; 13] = [
        ErrorCode::ContractNotFound,
        ErrorCode::FunctionNotFound,
        ErrorCode::WrongArguments,
        ErrorCode::Trap,
        ErrorCode::HostCall,
        ErrorCode::OutOfGas,
        ErrorCode::UnknownState,
        ErrorCode::InvalidCode,
        ErrorCode::Storage,
        ErrorCode::GasLimitTooHigh,
        ErrorCode::InsufficientBalance,
        ErrorCode::CallDepth,
        ErrorCode::Reentrancy,
    ];

    /// The code of byte `v`; `None` for 0 (no error) and for 14 to 255.
    pub const fn from_u8(v: u8) -> Option<Self> {
        use ErrorCode::*;
        Some(match v {
            1 => ContractNotFound,
            2 => FunctionNotFound,
            3 => WrongArguments,
            4 => Trap,
            5 => HostCall,
            6 => OutOfGas,
            7 => UnknownState,
            8 => InvalidCode,
            9 => Storage,
            10 => GasLimitTooHigh,
            11 => InsufficientBalance,
            12 => CallDepth,
            13 => Reentrancy,
            _ => return None,
        })
    }

    /// The code's byte, 1 to 13.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
}

/// The typed error of a failed receipt: a code and a readable message.
///
/// Only the code is part of consensus ([`Receipt::consensus_bytes`]); the
/// message is free text for people (for a trap, the runtime's own words
/// for the trap code; for a vmcall or a compile error, words that may
/// quote a library and change between versions) and travels only in the
/// transport encoding ([`Receipt::encode`]), where it is limited to
/// [`MAX_STRING_BYTES`] (65 535) bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// A readable description, for people.
    pub message: String,
}

impl TxError {
    /// An error whose message is cut, at a UTF-8 character boundary, to at
    /// most [`MAX_STRING_BYTES`] (65 535) bytes, so that its receipt always
    /// encodes. The message is outside consensus, so shortening it changes
    /// no consensus hash. Build the struct directly to keep a longer message
    /// (then [`Receipt::encode`] refuses it with
    /// [`EncodeError::StringTooLong`](crate::EncodeError::StringTooLong)).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let mut message = message.into();
        if message.len() > MAX_STRING_BYTES {
            let mut end = MAX_STRING_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        Self { code, message }
    }
}

impl std::fmt::Display for TxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

impl std::error::Error for TxError {}

/// The outcome of a call.
///
/// Consistency, checked by the encoders and the decoder: `success` is true
/// exactly when `error` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Whether the call succeeded (and its writes were committed).
    pub success: bool,
    /// Why it failed; `None` on success, `Some` on failure.
    pub error: Option<TxError>,
    /// The contract's state after the call: the new root on success, the
    /// state it ran against on failure.
    pub new_state: State,
    /// The values the function returned (empty on failure), at most
    /// [`MAX_VALUES`](crate::MAX_VALUES) (64) to encode.
    pub returns: Vec<WasmValue>,
    /// The bytes set with `svm.set_return_data` (empty on failure).
    pub return_data: Vec<u8>,
    /// The logs emitted with `svm.log`, in order (empty on failure).
    pub logs: Vec<Vec<u8>>,
    /// Pages loaded from page storage during the call (a cache statistic,
    /// outside consensus).
    pub pages_read: u32,
    /// Pages written at commit (0 on failure; outside consensus: it is
    /// already priced into `gas_used` and committed to by `new_state`).
    pub pages_written: u32,
    /// The gas limit of the transaction.
    pub gas_limit: u64,
    /// The gas used (equal to the limit on out of gas).
    pub gas_used: u64,
    /// The inner contract calls (`svm.call`), in the order they were made,
    /// at every depth (empty on failure).
    pub calls: Vec<InnerCall>,
}

/// One inner contract call made during a transaction (`svm.call`), as its
/// receipt lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InnerCall {
    /// The caller's depth: 1 for a call made by the transaction's own
    /// contract, 2 for a call made by that callee, and so on.
    pub depth: u32,
    /// The called contract.
    pub contract: svm_types::Address,
    /// The called function (at most [`MAX_FUNCTION_NAME`] bytes).
    pub function: String,
    /// `None` when the callee succeeded; else why it failed (its writes,
    /// logs, balance changes and value were rolled back).
    pub error: Option<ErrorCode>,
    /// The gas the callee used, its instantiation included (at most the gas
    /// forwarded to it).
    pub gas_used: u64,
}

/// The longest function name of an inner call, in bytes (so that a name
/// also fits the `u8` length of the receipt encoding).
pub const MAX_FUNCTION_NAME: usize = 255;
