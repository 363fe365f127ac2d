//! A whole-database check: what a node runs after a crash, and what the
//! kill tests run after killing a block commit or a prune.

use std::collections::BTreeSet;

use svm_kv::KvStore;
use svm_types::{Address, State};

use crate::contracts::ContractRecord;
use crate::runtime::Runtime;

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
    /// The first problem found, in words.
    pub fn check(&self) -> Result<CheckReport, String> {
        let mut report = CheckReport {
            height: self.last_height().map_err(|e| e.to_string())?,
            ..CheckReport::default()
        };
        if report.height > 0 && self.last_block().map_err(|e| e.to_string())?.is_none() {
            return Err(format!("block {} has no record", report.height));
        }
        let mut states: BTreeSet<(Address, State)> = BTreeSet::new();
        for (key, value) in self.kv().scan_prefix(b"a").map_err(|e| e.to_string())? {
            let record = ContractRecord::decode(&value)
                .ok_or_else(|| format!("contract record {:?} is corrupt", &key[..]))?;
            let address = Address::from_slice(&key[1..])
                .ok_or_else(|| format!("contract key {:?} is malformed", &key[..]))?;
            report.contracts += 1;
            states.insert((address, record.state));
        }
        for (key, value) in self.kv().scan_prefix(b"B").map_err(|e| e.to_string())? {
            let block = crate::BlockRecord::decode(&value)
                .ok_or_else(|| format!("block record {:?} is corrupt", &key[..]))?;
            report.blocks += 1;
            states.extend(block.roots);
        }
        let mut keys = BTreeSet::new();
        for (address, state) in &states {
            let reached = self
                .pages
                .reachable(address, state)
                .map_err(|e| format!("state {state} of {address}: {e}"))?;
            keys.extend(reached);
            report.pages += self
                .pages
                .check_pages(address, state)
                .map_err(|e| format!("state {state} of {address}: {e}"))?;
        }
        report.states = states.len();
        report.keys = keys.len();
        Ok(report)
    }
}
