//! What a deploy gives: [`Deployed`], or a [`DeployError`] with its
//! stable one-byte code, the part of a failed deploy that enters a block's
//! receipts hash.

use svm_types::{Address, CodeHash, State};

use crate::gate::Rejection;

/// Why a deploy failed. Nothing is stored then.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeployError {
    /// The code is larger than [`crate::RuntimeConfig::max_code_bytes`].
    #[error("code is {size} bytes, over the limit of {limit}")]
    CodeTooLarge {
        /// The code size, in bytes.
        size: usize,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The deploy gate rejected the code, with every finding.
    #[error("rejected: {0}")]
    Gate(#[from] Rejection),
    /// wasmer could not compile the code.
    #[error("compile error: {0}")]
    Compile(String),
    /// A contract already lives at the derived address (same author, nonce
    /// and code).
    #[error("a contract is already deployed at {0}")]
    AlreadyDeployed(Address),
    /// The storage failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The deploy needs more gas than its limit.
    #[error("deploy needs {needed} gas, over its limit of {limit}")]
    OutOfGas {
        /// The gas the deploy would use.
        needed: u64,
        /// The transaction's gas limit.
        limit: u64,
    },
    /// The gas limit is over [`crate::RuntimeConfig::max_tx_gas`].
    #[error("gas limit {limit} is over the maximum of {max} per transaction")]
    GasLimitTooHigh {
        /// The transaction's gas limit.
        limit: u64,
        /// The runtime's maximum.
        max: u64,
    },
}

impl DeployError {
    /// The error's stable one-byte code, the part of a failed deploy that
    /// enters the block's receipts hash (`crate::block::record`): the
    /// message text quotes wasmer and wasmparser, whose words change
    /// between their versions, so it must not reach a hash.
    ///
    /// | code | error |
    /// |---|---|
    /// | 1 | [`DeployError::CodeTooLarge`] |
    /// | 2 | [`DeployError::Gate`] |
    /// | 3 | [`DeployError::Compile`] |
    /// | 4 | [`DeployError::AlreadyDeployed`] |
    /// | 5 | [`DeployError::Storage`] |
    /// | 6 | [`DeployError::OutOfGas`] |
    /// | 7 | [`DeployError::GasLimitTooHigh`] |
    pub fn code(&self) -> u8 {
        match self {
            Self::CodeTooLarge { .. } => 1,
            Self::Gate(_) => 2,
            Self::Compile(_) => 3,
            Self::AlreadyDeployed(_) => 4,
            Self::Storage(_) => 5,
            Self::OutOfGas { .. } => 6,
            Self::GasLimitTooHigh { .. } => 7,
        }
    }
}

/// The outcome of a successful deploy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployed {
    /// The new contract's address.
    pub address: Address,
    /// The hash of its code.
    pub code_hash: CodeHash,
    /// Its initial state: the empty root.
    pub state: State,
    /// The gas the deploy used ([`crate::gas::deploy`]).
    pub gas_used: u64,
}
