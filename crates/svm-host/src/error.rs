//! Why a vmcall failed: [`VmCallError`].

use svm_cache::CacheError;
use svm_registers::RegisterError;

use crate::node::NodeError;

/// Why a vmcall failed. It ends the call with a failed receipt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VmCallError {
    /// A memory index other than 0.
    #[error("memory index {0} is invalid: only memory 0 exists")]
    MemoryIndex(u32),
    /// A memory range outside the contract's linear memory.
    #[error("memory range of {len} bytes at {ptr} is out of bounds")]
    MemoryOutOfBounds {
        /// The start address, in bytes.
        ptr: u32,
        /// The length, in bytes.
        len: u32,
    },
    /// The contract exports no linear memory named `memory`.
    #[error("the contract has no exported memory")]
    NoMemory,
    /// A bad register width, index or length.
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// A bad page slice, or the page storage failed.
    #[error(transparent)]
    Storage(#[from] CacheError),
    /// A range of the call data that does not exist.
    #[error("call data range of {len} bytes at {offset} is outside its {size} bytes")]
    CallDataOutOfBounds {
        /// The offset asked for, in bytes.
        offset: u32,
        /// The length asked for, in bytes.
        len: u32,
        /// The call data size, in bytes.
        size: usize,
    },
    /// A range of the last inner call's return data that does not exist.
    #[error("return data range of {len} bytes at {offset} is outside its {size} bytes")]
    ReturnDataOutOfBounds {
        /// The offset asked for, in bytes.
        offset: u32,
        /// The length asked for, in bytes.
        len: u32,
        /// The return data size, in bytes.
        size: usize,
    },
    /// Return data or logs beyond the configured limits.
    #[error("{what} exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Which output.
        what: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A negative balance or amount.
    #[error("negative amount {0}")]
    NegativeAmount(i64),
    /// A transfer larger than the payer's balance.
    #[error("insufficient balance: {balance} < {amount}")]
    InsufficientBalance {
        /// The payer's balance.
        balance: u64,
        /// The amount asked for.
        amount: u64,
    },
    /// A balance that would pass `i64::MAX`.
    #[error("balance overflow")]
    BalanceOverflow,
    /// The node host failed.
    #[error("node host: {0}")]
    Node(#[from] NodeError),
    /// The vmcall is disabled by the runtime's configuration.
    #[error("{0} is disabled in this runtime")]
    Disabled(&'static str),
    /// The gas limit was reached inside a vmcall.
    #[error("out of gas")]
    OutOfGas,
    /// A function name that is not UTF-8 or longer than 255 bytes
    /// (`svm.call`).
    #[error("the function name of an inner call is not UTF-8 of at most 255 bytes")]
    BadFunctionName,
    /// The contract aborted on purpose (`svm.abort`, e.g. a Rust panic):
    /// its message, at most [`MAX_ABORT_MESSAGE`](crate::vmcalls::MAX_ABORT_MESSAGE) bytes of it, read as
    /// UTF-8 with invalid bytes replaced. The receipt fails with
    /// [`svm_wire::ErrorCode::Trap`] and this message.
    #[error("contract aborted: {0}")]
    Abort(String),
    /// A map operation failed (`svm.map_*`).
    #[error(transparent)]
    Map(#[from] svm_cache::map::MapError),
    /// The storage or the node failed inside an inner call: the whole
    /// transaction fails with [`svm_wire::ErrorCode::Storage`].
    #[error("inner call: {0}")]
    Fatal(String),
}
