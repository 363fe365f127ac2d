//! svm's messages: the deploy and call transactions, a block's
//! transaction, the receipt, their binary encodings and the canonical
//! consensus encoding of a receipt.
//!
//! Plain data and bytes, with no engine: this crate depends on
//! `svm-types` only, so a client, a fuzzer or a node's mempool can read and
//! write svm's messages without wasmer. `svm-runtime` executes them and
//! re-exports this crate as `svm_runtime::wire`.
//!
//! Every message starts with its own version byte. Encoders refuse values
//! that do not fit a field ([`EncodeError`]) instead of cutting them;
//! decoders accept exactly the bytes the encoders write and nothing else
//! ([`DecodeError`]), so `decode(encode(x)) == x` and every accepted input
//! re-encodes to itself.
//!
//! All integers are **big-endian**. Common field types:
//!
//! | type | encoding | limit (else [`EncodeError`]) |
//! |---|---|---|
//! | `u8`, `u16`, `u32`, `u64` | 1, 2, 4, 8 bytes, big-endian | |
//! | `address` | 20 bytes | |
//! | `state` | 32 bytes | |
//! | `string` | `u16` length ‖ that many bytes of UTF-8 | 65 535 bytes ([`MAX_STRING_BYTES`]) |
//! | `bytes` | `u32` length ‖ that many bytes | 4 294 967 295 bytes ([`MAX_BYTES_LEN`]) |
//! | `value` | tag `u8` (`0x7f` = i32, `0x7e` = i64, the wasm value-type codes) ‖ 4 or 8 bytes two's complement | |
//! | `values` | count `u8` ‖ `value` × count | 64 values ([`MAX_VALUES`]) |
//! | `logs` | count `u32` ‖ `bytes` × count | 4 294 967 295 logs ([`MAX_LOGS`]) |
//!
//! # Deploy transaction ([`DeployTx`]), version 1
//!
//! | field | type |
//! |---|---|
//! | version (= [`DEPLOY_TX_VERSION`] = 1) | `u8` |
//! | author | `address` |
//! | nonce | `u64` |
//! | name | `string` |
//! | gas limit | `u64` |
//! | code | `bytes` (wasm binary) |
//!
//! # Call transaction ([`CallTx`]), version 2
//!
//! | field | type |
//! |---|---|
//! | version (= [`CALL_TX_VERSION`] = 2) | `u8` |
//! | contract | `address` |
//! | sender | `address` |
//! | function | `string` |
//! | arguments | `values` |
//! | call data | `bytes` |
//! | value | `u64` (moved from the sender to the contract) |
//! | gas limit | `u64` |
//! | state flag | `u8`: 0 = the contract's latest state, 1 = a `state` follows |
//! | state | `state`, only when the flag is 1 |
//!
//! Version 1 (the same without the value) is rejected with
//! [`DecodeError::BadVersion`]: a call has exactly one encoding.
//!
//! # Block transaction ([`Tx`])
//!
//! | field | type |
//! |---|---|
//! | kind | `u8`: 0 = deploy, 1 = call |
//! | transaction | the deploy or call transaction's encoding (above) |
//!
//! # Receipt ([`Receipt`]), transport encoding, version 2
//!
//! Everything in a receipt, for clients; not for consensus (see below).
//!
//! | field | type |
//! |---|---|
//! | version (= [`RECEIPT_VERSION`] = 2) | `u8` |
//! | success | `u8`: 1 or 0 |
//! | error code | `u8`: 0 when success is 1, else an [`ErrorCode`] (1 to 13) |
//! | error message | `string`, empty when the code is 0 |
//! | new state | `state` (the unchanged state on failure) |
//! | returned values | `values` |
//! | return data | `bytes` |
//! | logs | `logs` |
//! | pages read | `u32` |
//! | pages written | `u32` |
//! | gas limit | `u64` |
//! | gas used | `u64` |
//! | inner calls | `calls` |
//!
//! # Receipt, consensus encoding, version 2
//!
//! [`Receipt::consensus_bytes`]: what every node must compute identically
//! for a transaction. It leaves out the error message (free text for
//! people, which may quote a library: a vmcall's error, a compile error;
//! its words may change between versions even where the code does not)
//! and the page counters:
//!
//! - *pages read* counts cold loads from page storage; pages found in a
//!   page cache are not counted, so the number depends on a node's cache
//!   (its size, whether it is kept between calls), not only on the
//!   transaction;
//! - *pages written* is deterministic, but adds nothing to agree on: each
//!   written page is already paid for in gas used (`gas::PAGE_WRITE`) and
//!   its content is committed to by the new state. Leaving it out keeps a
//!   storage-layer accounting detail (what counts as a dirty page) out of
//!   consensus.
//!
//! | field | type |
//! |---|---|
//! | version (= [`CONSENSUS_RECEIPT_VERSION`] = 2) | `u8` |
//! | success | `u8`: 1 or 0 |
//! | error code | `u8`: 0 when success is 1, else an [`ErrorCode`] (1 to 13) |
//! | new state | `state` |
//! | returned values | `values` |
//! | return data | `bytes` |
//! | logs | `logs` |
//! | gas limit | `u64` |
//! | gas used | `u64` |
//! | inner calls | `calls` |
//!
//! `calls` is a `u32` count, then per inner call ([`InnerCall`]),
//! in the order the calls were made:
//!
//! | field | type |
//! |---|---|
//! | depth (1: made by the transaction's contract) | `u32` |
//! | callee | 20 bytes |
//! | function | `string` |
//! | error code | `u8`: 0 on success, else an [`ErrorCode`] |
//! | gas used | `u64` |
//!
//! Version 1 of both encodings (before inner calls) ended at gas used.
//!
//! [`Receipt::consensus_hash`] = `blake3(`[`CONSENSUS_RECEIPT_DOMAIN`]
//! `‖ consensus bytes)`, 32 bytes, with the 14-byte domain separator
//! `svm/receipt/v2`.
//!
//! # Errors
//!
//! Encoding refuses ([`EncodeError`]) more than 64 values, strings over
//! 65 535 bytes, byte strings over 4 294 967 295 bytes, more than
//! 4 294 967 295 logs, and receipts whose success flag disagrees with their
//! error. Decoding rejects ([`DecodeError`]) truncated input, unknown
//! versions, tags, flags and error codes, invalid UTF-8, more than 64
//! values, the same success/error disagreements, a message without an error
//! and trailing bytes. A length prefix is checked against the bytes left
//! before anything is allocated for it, so a huge prefix in a short input
//! costs nothing.

mod codec;
mod receipt;
mod tx;

pub use codec::writer::Writer;
pub use codec::{DecodeError, EncodeError, TX_KIND_CALL, TX_KIND_DEPLOY};
pub use receipt::{ErrorCode, InnerCall, MAX_FUNCTION_NAME, Receipt, TxError};
pub use tx::{CallTx, DeployTx, StateRef, Tx, WasmValue};

/// The version byte of a [`DeployTx`] encoding.
pub const DEPLOY_TX_VERSION: u8 = 1;

/// The version byte of a [`CallTx`] encoding (2: with the value).
pub const CALL_TX_VERSION: u8 = 2;

/// The version byte of a [`Receipt`] transport encoding (2: with the
/// inner calls).
pub const RECEIPT_VERSION: u8 = 2;

/// The version byte of a [`Receipt`] consensus encoding (2: with the
/// inner calls).
pub const CONSENSUS_RECEIPT_VERSION: u8 = 2;

/// The domain separator hashed before the consensus bytes in
/// [`Receipt::consensus_hash`] (14 bytes of ASCII).
pub const CONSENSUS_RECEIPT_DOMAIN: &[u8] = b"svm/receipt/v2";

/// The largest number of arguments or returned values.
pub const MAX_VALUES: usize = 64;

/// The longest `string` field, in bytes of UTF-8.
pub const MAX_STRING_BYTES: usize = u16::MAX as usize;

/// The longest `bytes` field (code, call data, return data, one log).
pub const MAX_BYTES_LEN: usize = u32::MAX as usize;

/// The largest number of logs in a receipt.
pub const MAX_LOGS: usize = u32::MAX as usize;

/// The wasm value-type code of `i32`, the tag of a [`WasmValue::I32`].
const TAG_I32: u8 = 0x7f;

/// The wasm value-type code of `i64`, the tag of a [`WasmValue::I64`].
const TAG_I64: u8 = 0x7e;
