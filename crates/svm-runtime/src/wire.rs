//! Binary encodings of the deploy transaction, the call transaction and the
//! receipt.
//!
//! All integers are **big-endian**. Common field types:
//!
//! | type | encoding |
//! |---|---|
//! | `u8`, `u16`, `u32`, `u64` | 1, 2, 4, 8 bytes, big-endian |
//! | `address` | 20 bytes |
//! | `state` | 32 bytes |
//! | `string` | `u16` length ‖ that many bytes of UTF-8 |
//! | `bytes` | `u32` length ‖ that many bytes |
//! | `value` | tag `u8` (`0x7f` = i32, `0x7e` = i64, the wasm value-type codes) ‖ 4 or 8 bytes two's complement |
//!
//! # Deploy transaction ([`DeployTx`])
//!
//! | field | type |
//! |---|---|
//! | version (= 1) | `u8` |
//! | author | `address` |
//! | nonce | `u64` |
//! | name | `string` |
//! | gas limit | `u64` |
//! | code | `bytes` (wasm binary) |
//!
//! # Call transaction ([`CallTx`])
//!
//! | field | type |
//! |---|---|
//! | version (= 1) | `u8` |
//! | contract | `address` |
//! | sender | `address` |
//! | function | `string` |
//! | argument count (at most 64) | `u8` |
//! | arguments | `value` × count |
//! | call data | `bytes` |
//! | gas limit | `u64` |
//! | state flag | `u8`: 0 = the contract's latest state, 1 = a `state` follows |
//! | state | `state`, only when the flag is 1 |
//!
//! # Receipt ([`Receipt`])
//!
//! | field | type |
//! |---|---|
//! | version (= 1) | `u8` |
//! | success | `u8`: 1 or 0 |
//! | error code | `u8`: 0 = none, else [`ErrorCode`] |
//! | error message | `string` (empty when none) |
//! | new state | `state` (the unchanged state on failure) |
//! | returned value count (at most 64) | `u8` |
//! | returned values | `value` × count |
//! | return data | `bytes` |
//! | log count | `u32` |
//! | logs | `bytes` × count |
//! | pages read | `u32` |
//! | pages written | `u32` |
//! | gas limit | `u64` |
//! | gas used | `u64` |
//!
//! Decoding rejects truncated input, unknown versions, tags and flags,
//! invalid UTF-8 and trailing bytes with a typed [`DecodeError`].

use svm_types::{Address, State};

/// The only wire version this crate writes and reads.
pub const WIRE_VERSION: u8 = 1;

/// The largest number of arguments or returned values.
pub const MAX_VALUES: usize = 64;

/// Why bytes did not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended at byte `at` while `needed` more bytes were expected.
    #[error("truncated at byte {at}: {needed} more bytes expected")]
    Truncated {
        /// The offset where the input ran out.
        at: usize,
        /// How many bytes were missing.
        needed: usize,
    },
    /// The version byte is not [`WIRE_VERSION`].
    #[error("unsupported wire version {0}")]
    BadVersion(u8),
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
    /// A string field is not UTF-8.
    #[error("invalid UTF-8 in the string at byte {0}")]
    BadUtf8(usize),
    /// More values than [`MAX_VALUES`].
    #[error("{0} values, more than the limit of 64")]
    TooManyValues(usize),
    /// Bytes remain after the last field.
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
}

/// A wasm value passed to or returned by a contract function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WasmValue {
    /// A wasm `i32`.
    I32(i32),
    /// A wasm `i64`.
    I64(i64),
}

impl std::fmt::Display for WasmValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WasmValue::I32(v) => write!(f, "i32:{v}"),
            WasmValue::I64(v) => write!(f, "i64:{v}"),
        }
    }
}

impl std::str::FromStr for WasmValue {
    type Err = String;

    /// Parses `i32:5` or `i64:-3`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (ty, v) = s
            .split_once(':')
            .ok_or_else(|| format!("expected i32:N or i64:N, got {s:?}"))?;
        match ty {
            "i32" => v
                .parse()
                .map(WasmValue::I32)
                .map_err(|e| format!("{s:?}: {e}")),
            "i64" => v
                .parse()
                .map(WasmValue::I64)
                .map_err(|e| format!("{s:?}: {e}")),
            _ => Err(format!("unknown type {ty:?} in {s:?} (i32 or i64)")),
        }
    }
}

/// A transaction that deploys a contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployTx {
    /// The deploying account.
    pub author: Address,
    /// The author's nonce: one contract address per (author, nonce, code).
    pub nonce: u64,
    /// A human-readable name, at most 65 535 bytes of UTF-8.
    pub name: String,
    /// The most gas the deploy may use.
    pub gas_limit: u64,
    /// The wasm binary.
    pub code: Vec<u8>,
}

/// Which state a call runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateRef {
    /// The contract's latest committed state.
    #[default]
    Latest,
    /// A given committed state.
    At(State),
}

/// A transaction that calls a contract function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTx {
    /// The contract.
    pub contract: Address,
    /// The calling account.
    pub sender: Address,
    /// The exported function to call.
    pub function: String,
    /// The arguments, at most [`MAX_VALUES`].
    pub args: Vec<WasmValue>,
    /// Bytes the contract can read with `svm.calldata_copy`.
    pub calldata: Vec<u8>,
    /// The amount moved from the sender's balance to the contract's with the
    /// call, atomically: debited before the function runs, returned when the
    /// call fails. 0 for none.
    pub value: u64,
    /// The most gas the call may use.
    pub gas_limit: u64,
    /// The state to run against.
    pub state: StateRef,
}

/// Why a transaction failed: the `error code` byte of the receipt.
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
}

impl ErrorCode {
    fn from_u8(v: u8) -> Option<Self> {
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
            _ => return None,
        })
    }
}

/// The typed error of a failed receipt: a code and a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// A readable description (for a trap: wasmer's trap message).
    pub message: String,
}

impl std::fmt::Display for TxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}

/// The outcome of a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Whether the call succeeded (and its writes were committed).
    pub success: bool,
    /// Why it failed; `None` on success.
    pub error: Option<TxError>,
    /// The contract's state after the call: the new root on success, the
    /// state it ran against on failure.
    pub new_state: State,
    /// The values the function returned (empty on failure).
    pub returns: Vec<WasmValue>,
    /// The bytes set with `svm.set_return_data` (empty on failure).
    pub return_data: Vec<u8>,
    /// The logs emitted with `svm.log`, in order (empty on failure).
    pub logs: Vec<Vec<u8>>,
    /// Pages loaded from storage during the call.
    pub pages_read: u32,
    /// Pages written at commit (0 on failure).
    pub pages_written: u32,
    /// The gas limit of the transaction.
    pub gas_limit: u64,
    /// The gas used (equal to the limit on out of gas).
    pub gas_used: u64,
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    fn raw(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }
    /// Strings longer than 65 535 bytes are cut at a UTF-8 boundary.
    fn string(&mut self, s: &str) {
        let mut end = s.len().min(u16::MAX as usize);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.u16(end as u16);
        self.raw(&s.as_bytes()[..end]);
    }
    /// Byte strings are at most 4 GiB - 1 by construction of the limits.
    fn bytes(&mut self, b: &[u8]) {
        self.u32(u32::try_from(b.len()).unwrap_or(u32::MAX));
        self.raw(&b[..b.len().min(u32::MAX as usize)]);
    }
    fn values(&mut self, vs: &[WasmValue]) {
        let n = vs.len().min(MAX_VALUES);
        self.u8(n as u8);
        for v in &vs[..n] {
            match v {
                WasmValue::I32(x) => {
                    self.u8(0x7f);
                    self.raw(&x.to_be_bytes());
                }
                WasmValue::I64(x) => {
                    self.u8(0x7e);
                    self.raw(&x.to_be_bytes());
                }
            }
        }
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let rest = self.buf.len() - self.pos;
        if rest < n {
            return Err(DecodeError::Truncated {
                at: self.buf.len(),
                needed: n - rest,
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn version(&mut self) -> Result<(), DecodeError> {
        match self.u8()? {
            WIRE_VERSION => Ok(()),
            v => Err(DecodeError::BadVersion(v)),
        }
    }
    fn address(&mut self) -> Result<Address, DecodeError> {
        Ok(Address(self.array()?))
    }
    fn state(&mut self) -> Result<State, DecodeError> {
        Ok(State(self.array()?))
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.u16()? as usize;
        let at = self.pos;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| DecodeError::BadUtf8(at))
    }
    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u32()? as usize;
        Ok(self.take(n)?.to_vec())
    }
    fn values(&mut self) -> Result<Vec<WasmValue>, DecodeError> {
        let n = self.u8()? as usize;
        if n > MAX_VALUES {
            return Err(DecodeError::TooManyValues(n));
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let at = self.pos;
            out.push(match self.u8()? {
                0x7f => WasmValue::I32(i32::from_be_bytes(self.array()?)),
                0x7e => WasmValue::I64(i64::from_be_bytes(self.array()?)),
                value => {
                    return Err(DecodeError::BadTag {
                        what: "value tag",
                        value,
                        at,
                    });
                }
            });
        }
        Ok(out)
    }
    fn flag(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(DecodeError::BadTag { what, value, at }),
        }
    }
    fn finish(self) -> Result<(), DecodeError> {
        match self.buf.len() - self.pos {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}

impl DeployTx {
    /// The encoding of the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(64 + self.code.len()));
        w.u8(WIRE_VERSION);
        w.raw(self.author.as_bytes());
        w.u64(self.nonce);
        w.string(&self.name);
        w.u64(self.gas_limit);
        w.bytes(&self.code);
        w.0
    }

    /// Decodes [`DeployTx::encode`].
    ///
    /// # Errors
    /// [`DecodeError`] on truncated, malformed or trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let tx = DeployTx {
            author: r.address()?,
            nonce: r.u64()?,
            name: r.string()?,
            gas_limit: r.u64()?,
            code: r.bytes()?,
        };
        r.finish()?;
        Ok(tx)
    }
}

impl CallTx {
    /// The encoding of the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(128 + self.calldata.len()));
        w.u8(WIRE_VERSION);
        w.raw(self.contract.as_bytes());
        w.raw(self.sender.as_bytes());
        w.string(&self.function);
        w.values(&self.args);
        w.bytes(&self.calldata);
        w.u64(self.gas_limit);
        match self.state {
            StateRef::Latest => w.u8(0),
            StateRef::At(s) => {
                w.u8(1);
                w.raw(s.as_bytes());
            }
        }
        w.0
    }

    /// Decodes [`CallTx::encode`].
    ///
    /// # Errors
    /// [`DecodeError`] on truncated, malformed or trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let tx = CallTx {
            contract: r.address()?,
            sender: r.address()?,
            function: r.string()?,
            args: r.values()?,
            calldata: r.bytes()?,
            value: 0,
            gas_limit: r.u64()?,
            state: if r.flag("state flag")? {
                StateRef::At(r.state()?)
            } else {
                StateRef::Latest
            },
        };
        r.finish()?;
        Ok(tx)
    }
}

impl Receipt {
    /// The encoding of the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(128 + self.return_data.len()));
        w.u8(WIRE_VERSION);
        w.u8(self.success as u8);
        match &self.error {
            None => {
                w.u8(0);
                w.string("");
            }
            Some(e) => {
                w.u8(e.code as u8);
                w.string(&e.message);
            }
        }
        w.raw(self.new_state.as_bytes());
        w.values(&self.returns);
        w.bytes(&self.return_data);
        w.u32(self.logs.len() as u32);
        for log in &self.logs {
            w.bytes(log);
        }
        w.u32(self.pages_read);
        w.u32(self.pages_written);
        w.u64(self.gas_limit);
        w.u64(self.gas_used);
        w.0
    }

    /// Decodes [`Receipt::encode`].
    ///
    /// # Errors
    /// [`DecodeError`] on truncated, malformed or trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version()?;
        let success = r.flag("success flag")?;
        let at = r.pos;
        let code = r.u8()?;
        let message = r.string()?;
        let error = match code {
            0 => None,
            c => Some(TxError {
                code: ErrorCode::from_u8(c).ok_or(DecodeError::BadTag {
                    what: "error code",
                    value: c,
                    at,
                })?,
                message,
            }),
        };
        let new_state = r.state()?;
        let returns = r.values()?;
        let return_data = r.bytes()?;
        let n_logs = r.u32()? as usize;
        let mut logs = Vec::with_capacity(n_logs.min(1024));
        for _ in 0..n_logs {
            logs.push(r.bytes()?);
        }
        let receipt = Receipt {
            success,
            error,
            new_state,
            returns,
            return_data,
            logs,
            pages_read: r.u32()?,
            pages_written: r.u32()?,
            gas_limit: r.u64()?,
            gas_used: r.u64()?,
        };
        r.finish()?;
        Ok(receipt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value() -> impl Strategy<Value = WasmValue> {
        prop_oneof![
            any::<i32>().prop_map(WasmValue::I32),
            any::<i64>().prop_map(WasmValue::I64)
        ]
    }

    fn call() -> impl Strategy<Value = CallTx> {
        (
            any::<[u8; 20]>(),
            any::<[u8; 20]>(),
            "[a-z_]{0,20}",
            prop::collection::vec(value(), 0..8),
            prop::collection::vec(any::<u8>(), 0..64),
            any::<u64>(),
            prop::option::of(any::<[u8; 32]>()),
        )
            .prop_map(|(c, s, f, args, calldata, gas, st)| CallTx {
                value: 0,
                contract: Address(c),
                sender: Address(s),
                function: f,
                args,
                calldata,
                gas_limit: gas,
                state: st.map_or(StateRef::Latest, |s| StateRef::At(State(s))),
            })
    }

    fn receipt() -> impl Strategy<Value = Receipt> {
        (
            any::<bool>(),
            prop::option::of((1u8..=9, ".{0,30}")),
            any::<[u8; 32]>(),
            prop::collection::vec(value(), 0..4),
            prop::collection::vec(any::<u8>(), 0..32),
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 0..4),
            any::<(u32, u32, u64, u64)>(),
        )
            .prop_map(
                |(ok, err, st, returns, data, logs, (pr, pw, gl, gu))| Receipt {
                    success: ok,
                    error: err.map(|(c, m)| TxError {
                        code: ErrorCode::from_u8(c).unwrap(),
                        message: m,
                    }),
                    new_state: State(st),
                    returns,
                    return_data: data,
                    logs,
                    pages_read: pr,
                    pages_written: pw,
                    gas_limit: gl,
                    gas_used: gu,
                },
            )
    }

    proptest! {
        #[test]
        fn call_round_trips(tx in call()) {
            prop_assert_eq!(CallTx::decode(&tx.encode()).unwrap(), tx);
        }

        #[test]
        fn receipt_round_trips(r in receipt()) {
            prop_assert_eq!(Receipt::decode(&r.encode()).unwrap(), r);
        }

        #[test]
        fn deploy_round_trips(author in any::<[u8; 20]>(), nonce in any::<u64>(), name in ".{0,20}",
                              gas in any::<u64>(), code in prop::collection::vec(any::<u8>(), 0..100)) {
            let tx = DeployTx { author: Address(author), nonce, name, gas_limit: gas, code };
            prop_assert_eq!(DeployTx::decode(&tx.encode()).unwrap(), tx);
        }

        /// Every strict prefix of an encoding is a typed error, never a panic.
        #[test]
        fn truncations_are_errors(tx in call(), r in receipt()) {
            let e = tx.encode();
            for n in 0..e.len() {
                prop_assert!(CallTx::decode(&e[..n]).is_err());
            }
            let e = r.encode();
            for n in 0..e.len() {
                prop_assert!(Receipt::decode(&e[..n]).is_err());
            }
        }

        /// Garbage never panics.
        #[test]
        fn garbage_does_not_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = CallTx::decode(&bytes);
            let _ = DeployTx::decode(&bytes);
            let _ = Receipt::decode(&bytes);
        }
    }

    #[test]
    fn typed_errors() {
        let tx = DeployTx {
            author: Address([1; 20]),
            nonce: 2,
            name: "n".into(),
            gas_limit: 3,
            code: vec![0, 0x61, 0x73, 0x6d],
        };
        let mut e = tx.encode();
        assert_eq!(
            DeployTx::decode(&e[..5]),
            Err(DecodeError::Truncated { at: 5, needed: 16 })
        );
        e.push(0);
        assert_eq!(DeployTx::decode(&e), Err(DecodeError::TrailingBytes(1)));
        e[0] = 9;
        assert_eq!(DeployTx::decode(&e), Err(DecodeError::BadVersion(9)));

        let call = CallTx {
            value: 0,
            contract: Address([1; 20]),
            sender: Address([2; 20]),
            function: "f".into(),
            args: vec![WasmValue::I32(1)],
            calldata: vec![],
            gas_limit: 1,
            state: StateRef::Latest,
        };
        let mut e = call.encode();
        e[1 + 20 + 20 + 2 + 1 + 1] = 0x7d; // the first value's tag: f32
        assert_eq!(
            CallTx::decode(&e),
            Err(DecodeError::BadTag {
                what: "value tag",
                value: 0x7d,
                at: 45
            })
        );
        let mut e = call.encode();
        e[43] = 0xff; // the function name's only byte
        assert_eq!(CallTx::decode(&e), Err(DecodeError::BadUtf8(43)));
    }

    #[test]
    fn values_parse_from_text() {
        assert_eq!("i32:5".parse::<WasmValue>(), Ok(WasmValue::I32(5)));
        assert_eq!("i64:-3".parse::<WasmValue>(), Ok(WasmValue::I64(-3)));
        assert!("f32:1".parse::<WasmValue>().is_err());
        assert!("i32:x".parse::<WasmValue>().is_err());
        assert!("5".parse::<WasmValue>().is_err());
    }
}
