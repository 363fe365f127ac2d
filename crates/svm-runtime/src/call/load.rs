//! Stage 2 of a call: the contract record, the state, the page cache and
//! the compiled module; the instantiation gas.

use svm_cache::{CacheError, PageCache};
use svm_kv::KvStore;
use svm_pages::{PageOverlay, PagesError};
use svm_types::State;

use super::Failure;
use crate::block::state::BlockState;
use crate::contracts::ContractRecord;
use crate::engine::module_cache::Compiled;
use crate::gas;
use crate::runtime::{Runtime, storage_error, tx_error};
use crate::wire::{CallTx, ErrorCode, StateRef};

/// What the later stages need.
pub(crate) struct Loaded<K> {
    /// The contract's record.
    pub(crate) record: ContractRecord,
    /// The state the call runs at.
    pub(crate) base: State,
    /// Whether the call is a read-only query (at an explicit state).
    pub(crate) query: bool,
    /// The page cache at `base`.
    pub(crate) cache: PageCache<PageOverlay<K>>,
    /// The compiled module.
    pub(crate) compiled: Compiled,
    /// The gas used so far (intrinsic and instantiation).
    pub(crate) gas_used: u64,
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Loads what `tx` runs on in `block`, having used `gas_used` gas
    /// already. A failure carries the state for its receipt.
    pub(crate) fn load(
        &self,
        block: &BlockState<K>,
        tx: &CallTx,
        gas_used: u64,
    ) -> Result<Loaded<K>, (Failure, State)> {
        let record = match block.record(&tx.contract) {
            Ok(Some(r)) => r,
            Ok(None) => {
                let e = tx_error(
                    ErrorCode::ContractNotFound,
                    format!("no contract at {}", tx.contract),
                );
                return Err((Failure::new(e, gas_used), State::ZERO));
            }
            Err(e) => return Err((Failure::new(storage_error(e), gas_used), State::ZERO)),
        };
        let (base, query) = match tx.state {
            StateRef::Latest => (record.state, false),
            StateRef::At(s) => (s, true),
        };
        let fail = |e| Err((Failure::new(e, gas_used), base));
        let cache = match PageCache::open(block.pages.clone(), tx.contract, base, self.config.cache)
        {
            Ok(c) => c,
            Err(CacheError::Pages(PagesError::UnknownState { .. })) => {
                return fail(tx_error(
                    ErrorCode::UnknownState,
                    format!("{base} is no committed state of {}", tx.contract),
                ));
            }
            Err(e) => return fail(storage_error(e)),
        };
        let compiled = match self.module_in(block, &record.code_hash) {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        let s = compiled.summary;
        let needed = gas_used.saturating_add(gas::instantiate(
            s.memory_pages,
            s.table_elements,
            s.data_bytes,
        ));
        if needed > tx.gas_limit {
            let e = tx_error(
                ErrorCode::OutOfGas,
                format!("instantiating the contract needs {needed} gas"),
            );
            return Err((Failure::new(e, tx.gas_limit), base));
        }
        Ok(Loaded {
            record,
            base,
            query,
            cache,
            compiled,
            gas_used: needed,
        })
    }
}
