//! Deploy: gas, gate, compile, then into the block.

use svm_kv::KvStore;
use svm_pages::empty_root;

use crate::block::state::BlockState;
use crate::contracts::{ContractRecord, code_hash, contract_address};
use crate::deploy_outcome::{DeployError, Deployed};
use crate::gas;
use svm_gate::{ModuleInfo, Rejection};

use crate::runtime::Runtime;
use crate::wire::DeployTx;

impl<K: KvStore + 'static> Runtime<K> {
    /// Runs the deploy gate over `code` under this runtime's limits and
    /// policy, without storing anything.
    ///
    /// # Errors
    /// [`DeployError::CodeTooLarge`], [`DeployError::Gate`].
    pub fn validate(&self, code: &[u8]) -> Result<(), DeployError> {
        self.analyse(code).map(|_| ())
    }

    /// [`Runtime::validate`], giving the code's analysis: the one pass a
    /// deploy reads its code in.
    fn analyse(&self, code: &[u8]) -> Result<ModuleInfo, DeployError> {
        if code.len() > self.config.max_code_bytes {
            return Err(DeployError::CodeTooLarge {
                size: code.len(),
                limit: self.config.max_code_bytes,
            });
        }
        let analysis = svm_gate::analyse(code, &self.config.limits, &self.config.policy())
            .map_err(|e| Rejection(vec![e]))?;
        Ok(analysis.verdict()?)
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

    /// Runs the analysis pass (the gate) over the code of a deploy that
    /// passes its gas checks and compiles it from that analysis if the
    /// gate accepts it, so that the block does neither under the writers'
    /// lock and the code is read once. Gives the gate's verdict, which
    /// [`Runtime::deploy_in`] takes instead of running the gate again
    /// (`None` when the gas checks fail: the deploy fails on them first).
    pub(crate) fn precompile(&self, tx: &DeployTx) -> Option<Result<(), DeployError>> {
        self.admit(tx).ok()?;
        let verdict = self.analyse(&tx.code);
        if let Ok(info) = &verdict {
            let _ = self.compiled(&code_hash(&tx.code), || Ok(tx.code.clone()), Some(info));
        }
        Some(verdict.map(|_| ()))
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
        let info = match gated {
            Some(verdict) => verdict.map(|()| None)?,
            None => Some(self.analyse(&tx.code)?),
        };
        let hash = code_hash(&tx.code);
        let address = contract_address(&tx.author, tx.nonce, &hash);
        // The module is cached (and compile errors with it); usually the
        // block compiled it before taking the lock.
        self.compiled(&hash, || Ok(tx.code.clone()), info.as_ref())
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
