//! A whole-database check: what a node runs after a crash, and what the
//! kill tests run after killing a block commit or a prune.

use std::collections::BTreeSet;

use svm_kv::KvStore;
use svm_types::{Address, State};

use crate::contracts::ContractRecord;
use crate::runtime::Runtime;

/// What [`Runtime::check`] found wrong: the first problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckError {
    /// The KV failed, or the newest height or a block record could not be
    /// read.
    #[error("storage: {0}")]
    Storage(String),
    /// The newest height names a block whose record is missing.
    #[error("block {0} has no record")]
    MissingBlock(u64),
    /// A contract record (`a` key) that does not decode, or whose key is
    /// not `a` ‖ 20 bytes: the key.
    #[error("contract record {0:?} is corrupt")]
    CorruptContract(Vec<u8>),
    /// A block record (`B` key) that does not decode: the key.
    #[error("block record {0:?} is corrupt")]
    CorruptBlock(Vec<u8>),
    /// A state a contract record or a kept block names does not open, or a
    /// record or page it reaches is missing or damaged.
    #[error("state {state} of {address}: {error}")]
    State {
        /// The contract.
        address: Address,
        /// The state.
        state: State,
        /// What the page storage found.
        error: svm_pages::PagesError,
    },
}

fn storage(e: impl std::fmt::Display) -> CheckError {
    CheckError::Storage(e.to_string())
}

/// What [`Runtime::check`] found in a sound database.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// The newest block's height (0: none yet).
    pub height: u64,
    /// Block records kept.
    pub blocks: usize,
    /// Contracts deployed.
    pub contracts: usize,
    /// Distinct (contract, state) pairs checked: every contract's latest
    /// state and every root a kept block record names.
    pub states: usize,
    /// Distinct tree records (`N` keys) those states reach.
    pub keys: usize,
    /// Pages read and checked against their page hashes, summed over the
    /// states (a page two states share counts twice).
    pub pages: usize,
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Checks the database: the newest block's record exists; every
    /// contract's latest state and every state a kept block record names
    /// opens, every tree record it reaches is stored with the right shape,
    /// and every page it reaches reads back with its page hash. Reads everything those states reach: for start-up after
    /// a crash and for tests, not for every block.
    ///
    /// # Errors
    /// [`CheckError`]: the first problem found.
    pub fn check(&self) -> Result<CheckReport, CheckError> {
        let mut report = CheckReport {
            height: self.last_height().map_err(storage)?,
            ..CheckReport::default()
        };
        if report.height > 0 && self.last_block().map_err(storage)?.is_none() {
            return Err(CheckError::MissingBlock(report.height));
        }
        let mut states: BTreeSet<(Address, State)> = BTreeSet::new();
        for (key, value) in self.kv().scan_prefix(b"a").map_err(storage)? {
            let corrupt = || CheckError::CorruptContract(key.to_vec());
            let record = ContractRecord::decode(&value).ok_or_else(corrupt)?;
            let address = Address::from_slice(&key[1..]).ok_or_else(corrupt)?;
            report.contracts += 1;
            states.insert((address, record.state));
        }
        for (key, value) in self.kv().scan_prefix(b"B").map_err(storage)? {
            let block = crate::BlockRecord::decode(&value)
                .ok_or_else(|| CheckError::CorruptBlock(key.to_vec()))?;
            report.blocks += 1;
            states.extend(block.roots);
        }
        let mut keys = BTreeSet::new();
        for (address, state) in &states {
            let at = |error| CheckError::State {
                address: *address,
                state: *state,
                error,
            };
            keys.extend(self.pages.reachable(address, state).map_err(at)?);
            report.pages += self.pages.check_pages(address, state).map_err(at)?;
        }
        report.states = states.len();
        report.keys = keys.len();
        Ok(report)
    }
}
