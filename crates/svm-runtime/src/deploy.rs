//! Deploy: gas, gate, compile, then into the block.

use svm_kv::KvStore;
use svm_pages::empty_root;
use svm_types::{Address, CodeHash, State};

use crate::block::state::BlockState;
use crate::block::{Tx, TxOutcome};
use crate::contracts::{ContractRecord, code_hash, contract_address};
use crate::gas;
use crate::gate::{self, Rejection};
use crate::runtime::Runtime;
use crate::wire::DeployTx;

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
    /// The gas the deploy used ([`gas::deploy`]).
    pub gas_used: u64,
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Runs the deploy gate over `code` under this runtime's limits and
    /// policy, without storing anything.
    ///
    /// # Errors
    /// [`DeployError::CodeTooLarge`], [`DeployError::Gate`].
    pub fn validate(&self, code: &[u8]) -> Result<(), DeployError> {
        if code.len() > self.config.max_code_bytes {
            return Err(DeployError::CodeTooLarge {
                size: code.len(),
                limit: self.config.max_code_bytes,
            });
        }
        Ok(gate::check_with(
            code,
            &self.config.limits,
            &self.config.policy(),
        )?)
    }

    /// Deploys a contract as a block of one ([`Runtime::execute_block`]):
    /// gas, gate, compile, then the code (under its hash) and the contract
    /// record (under its address) are stored in the block's one batch. The
    /// gas ([`gas::deploy`], proportional to the code size) is checked
    /// before any work.
    ///
    /// # Errors
    /// [`DeployError`]; nothing is stored then.
    pub fn deploy(&self, tx: &DeployTx) -> Result<Deployed, DeployError> {
        match self.execute_block(&[Tx::Deploy(tx.clone())]) {
            Ok(mut out) => match out.outcomes.pop() {
                Some(TxOutcome::Deploy(r)) => r,
                _ => Err(DeployError::Storage("the block lost its outcome".into())),
            },
            Err(e) => Err(DeployError::Storage(e.to_string())),
        }
    }

    /// The gas checks of a deploy, before any work.
    fn admit(&self, tx: &DeployTx) -> Result<u64, DeployError> {
        if tx.gas_limit > self.config.max_tx_gas {
            return Err(DeployError::GasLimitTooHigh {
                limit: tx.gas_limit,
                max: self.config.max_tx_gas,
            });
        }
        let gas_used = gas::deploy(tx.code.len());
        if gas_used > tx.gas_limit {
            return Err(DeployError::OutOfGas {
                needed: gas_used,
                limit: tx.gas_limit,
            });
        }
        Ok(gas_used)
    }

    /// Runs the gate over the code of a deploy that passes its gas checks
    /// and compiles it if the gate accepts it, so that the block does
    /// neither under the writers' lock. Gives the gate's verdict, which
    /// [`Runtime::deploy_in`] takes instead of running the gate again
    /// (`None` when the gas checks fail: the deploy fails on them first).
    pub(crate) fn precompile(&self, tx: &DeployTx) -> Option<Result<(), DeployError>> {
        self.admit(tx).ok()?;
        let verdict = self.validate(&tx.code);
        if verdict.is_ok() {
            let _ = self.compiled(&code_hash(&tx.code), || Ok(tx.code.clone()));
        }
        Some(verdict)
    }

    /// Deploys inside `block`: on success the record and code join the
    /// block. `gated` is the gate's verdict on the code from
    /// [`Runtime::precompile`] under this runtime's configuration, if it
    /// ran; the gate runs here only when it did not.
    pub(crate) fn deploy_in(
        &self,
        block: &mut BlockState<K>,
        tx: &DeployTx,
        gated: Option<Result<(), DeployError>>,
    ) -> Result<Deployed, DeployError> {
        let gas_used = self.admit(tx)?;
        match gated {
            Some(verdict) => verdict?,
            None => self.validate(&tx.code)?,
        }
        let hash = code_hash(&tx.code);
        let address = contract_address(&tx.author, tx.nonce, &hash);
        // The module is cached (and compile errors with it); usually the
        // block compiled it before taking the lock.
        self.compiled(&hash, || Ok(tx.code.clone()))
            .map_err(DeployError::Compile)?;
        if block
            .record(&address)
            .map_err(|e| DeployError::Storage(e.to_string()))?
            .is_some()
        {
            return Err(DeployError::AlreadyDeployed(address));
        }
        let record = ContractRecord {
            author: tx.author,
            nonce: tx.nonce,
            code_hash: hash,
            state: empty_root(),
            name: tx.name.clone(),
        };
        block.records.lock().insert(address, record);
        block.code.lock().insert(hash, tx.code.as_slice().into());
        Ok(Deployed {
            address,
            code_hash: hash,
            state: empty_root(),
            gas_used,
        })
    }
}
