//! Transactions: what a deploy or a call asks the runtime to do, a block's
//! transaction, and the wasm values passed to and returned by contract
//! functions.
//!
//! These are plain data types. Their binary encodings (byte tables, limits,
//! errors) are in [the crate docs](crate): [`DeployTx::encode`],
//! [`CallTx::encode`], [`Tx::encode`] and the matching `decode` functions.

use svm_types::{Address, State};

/// A wasm value passed to or returned by a contract function.
///
/// Text form (for command lines): `i32:N` or `i64:N`, see the [`FromStr`]
/// and [`Display`] implementations.
///
/// [`FromStr`]: std::str::FromStr
/// [`Display`]: std::fmt::Display
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WasmValue {
    /// A wasm `i32` (wire tag `0x7f`, 4 bytes).
    I32(i32),
    /// A wasm `i64` (wire tag `0x7e`, 8 bytes).
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
    ///
    /// # Errors
    /// A readable message when the type is not `i32` or `i64`, the colon is
    /// missing or the number does not fit the type.
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
///
/// Wire encoding: version [`DEPLOY_TX_VERSION`](crate::DEPLOY_TX_VERSION),
/// see [the crate docs](crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployTx {
    /// The deploying account.
    pub author: Address,
    /// The author's nonce: one contract address per (author, nonce, code).
    pub nonce: u64,
    /// A human-readable name, at most 65 535 bytes of UTF-8
    /// ([`MAX_STRING_BYTES`](crate::MAX_STRING_BYTES)); a longer one
    /// does not encode.
    pub name: String,
    /// The most gas the deploy may use.
    pub gas_limit: u64,
    /// The wasm binary, at most 4 GiB - 1 bytes on the wire.
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
///
/// Wire encoding: version [`CALL_TX_VERSION`](crate::CALL_TX_VERSION),
/// see [the crate docs](crate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTx {
    /// The contract.
    pub contract: Address,
    /// The calling account.
    pub sender: Address,
    /// The exported function to call, at most 65 535 bytes of UTF-8
    /// ([`MAX_STRING_BYTES`](crate::MAX_STRING_BYTES)).
    pub function: String,
    /// The arguments, at most [`MAX_VALUES`](crate::MAX_VALUES) (64).
    pub args: Vec<WasmValue>,
    /// Bytes the contract can read with `svm.calldata_copy`, at most
    /// 4 GiB - 1 on the wire.
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

/// A transaction of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tx {
    /// Deploy a contract.
    Deploy(DeployTx),
    /// Call a contract. A call at an explicit state is a read-only query
    /// inside the block too.
    Call(CallTx),
}

#[cfg(test)]
mod tests {
    use super::WasmValue;

    #[test]
    fn values_parse_from_text() {
        assert_eq!("i32:5".parse::<WasmValue>(), Ok(WasmValue::I32(5)));
        assert_eq!("i64:-3".parse::<WasmValue>(), Ok(WasmValue::I64(-3)));
        assert!("f32:1".parse::<WasmValue>().is_err());
        assert!("i32:x".parse::<WasmValue>().is_err());
        assert!("i32:4294967296".parse::<WasmValue>().is_err());
        assert!("5".parse::<WasmValue>().is_err());
        for v in [WasmValue::I32(i32::MIN), WasmValue::I64(i64::MAX)] {
            assert_eq!(v.to_string().parse::<WasmValue>(), Ok(v));
        }
    }
}
