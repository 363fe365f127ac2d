//! Stage 2 of a call: the contract record, the state, the page cache and
//! the compiled module; the instantiation gas.

use svm_cache::{CacheError, PageCache};
use svm_kv::KvStore;
use svm_pages::{PageStore, PagesError};
use svm_types::State;

use super::Failure;
use crate::contracts::ContractRecord;
use crate::gas;
use crate::module_cache::Compiled;
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
    pub(crate) cache: PageCache<PageStore<K>>,
    /// The compiled module.
    pub(crate) compiled: Compiled,
    /// The gas used so far (intrinsic and instantiation).
    pub(crate) gas_used: u64,
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Loads what `tx` runs on, having used `gas_used` gas already; the
    /// record and module come from `prefetched` when the caller read them
    /// already (under the writers' lock). A failure carries the state for
    /// its receipt.
    pub(crate) fn load(
        &self,
        tx: &CallTx,
        gas_used: u64,
        prefetched: Option<(ContractRecord, Compiled)>,
    ) -> Result<Loaded<K>, (Failure, State)> {
        let (record, warmed) = match prefetched {
            Some((r, c)) => (Some(r), Some(c)),
            None => (None, None),
        };
        let record = match record.map_or_else(|| self.contract(&tx.contract), |r| Ok(Some(r))) {
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
        let cache = match PageCache::open(self.pages.clone(), tx.contract, base, self.config.cache)
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
        let compiled = match warmed {
            Some(c) => c,
            None => match self.module(&record.code_hash) {
                Ok(c) => c,
                Err(e) => return fail(e),
            },
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
