//! Why a value did not encode, or bytes did not decode.

use crate::ErrorCode;

/// Why a value did not encode: a field does not fit its wire type, or a
/// receipt is inconsistent. Nothing is ever cut to fit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// More than [`MAX_VALUES`](crate::MAX_VALUES) (64) arguments or
    /// returned values.
    #[error("{field}: {count} values, more than the limit of {max}", max = crate::MAX_VALUES)]
    TooManyValues {
        /// Which field (`"arguments"`, `"returned values"`).
        field: &'static str,
        /// How many values it has.
        count: usize,
    },
    /// A string longer than [`MAX_STRING_BYTES`](crate::MAX_STRING_BYTES)
    /// (65 535) bytes of UTF-8.
    #[error("{field}: {len} bytes, more than the limit of {max}", max = crate::MAX_STRING_BYTES)]
    StringTooLong {
        /// Which field (`"name"`, `"function"`, `"error message"`).
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A byte string longer than [`MAX_BYTES_LEN`](crate::MAX_BYTES_LEN)
    /// (4 294 967 295) bytes.
    #[error("{field}: {len} bytes, more than the limit of {max}", max = crate::MAX_BYTES_LEN)]
    BytesTooLong {
        /// Which field (`"code"`, `"call data"`, `"return data"`, `"log"`).
        field: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// More than [`MAX_LOGS`](crate::MAX_LOGS) (4 294 967 295) logs.
    #[error("{0} logs, more than the limit of {max}", max = crate::MAX_LOGS)]
    TooManyLogs(usize),
    /// More than 4 294 967 295 inner calls.
    #[error("{0} inner calls do not fit a u32 count")]
    TooManyCalls(usize),
    /// A receipt with `success` true carries an error.
    #[error("a successful receipt carries the error code {0:?}")]
    SuccessWithError(ErrorCode),
    /// A receipt with `success` false carries no error.
    #[error("a failed receipt carries no error")]
    FailureWithoutError,
}

/// Why bytes did not decode. Offsets count from the first byte (0) of the
/// input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended at byte `at` (its length) while at least `needed`
    /// more bytes were expected.
    #[error("truncated at byte {at}: {needed} more bytes expected")]
    Truncated {
        /// The offset where the input ran out.
        at: usize,
        /// How many bytes the current field still needed.
        needed: usize,
    },
    /// The version byte (byte 0) is not the one of this message type.
    #[error("unsupported {what} version {found} (expected {expected})")]
    BadVersion {
        /// Which message (`"deploy transaction"`, `"call transaction"`,
        /// `"receipt"`).
        what: &'static str,
        /// The byte found.
        found: u8,
        /// The version this crate reads.
        expected: u8,
    },
    /// A tag, flag or code byte has no meaning.
    #[error("invalid {what} {value} at byte {at}")]
    BadTag {
        /// Which field.
        what: &'static str,
        /// The byte found.
        value: u8,
        /// Its offset.
        at: usize,
    },
    /// A string field is not UTF-8; the offset is that of its first byte.
    #[error("invalid UTF-8 in the string at byte {0}")]
    BadUtf8(usize),
    /// A value count above [`MAX_VALUES`](crate::MAX_VALUES) (64).
    #[error("{0} values, more than the limit of {max}", max = crate::MAX_VALUES)]
    TooManyValues(usize),
    /// A receipt says success (1) and has a non-zero error code.
    #[error("a successful receipt carries the error code {0:?}")]
    SuccessWithError(ErrorCode),
    /// A receipt says failure (0) and has the error code 0.
    #[error("a failed receipt carries no error code")]
    FailureWithoutError,
    /// A receipt has the error code 0 and a non-empty error message of this
    /// many bytes.
    #[error("a {0}-byte error message without an error code")]
    MessageWithoutError(usize),
    /// Bytes remain after the last field.
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
}
