//! The block record: what the KV keeps about each committed block.
//!
//! # KV layout
//!
//! | key | key size (bytes) | value |
//! |---|---|---|
//! | `B` (0x42) ‖ height (`u64` BE) | 9 | block record (below) |
//! | ASCII `mlatest-block` | 13 | height of the newest block (`u64` BE, 8 bytes) |
//!
//! Block record:
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 8 | height, `u64` BE (the first block is 1) |
//! | 8 | 32 | receipts hash (below) |
//! | 40 | 4 | `n`: contracts whose state the block changed, `u32` BE |
//! | 44 | 52 × `n` | address (20) ‖ new state root (32), by address |
//! | 44 + 52`n` | 4 | `m`: balances the block changed, `u32` BE |
//! | 48 + 52`n` | 28 × `m` | account (20) ‖ new balance (`u64` BE), by account |
//!
//! The **block hash** is `blake3` of the whole record.
//!
//! The **receipts hash** is `blake3` over the 32-byte hash of each
//! transaction's outcome, in block order: a call's
//! [`crate::Receipt::consensus_hash`]; a deploy's `blake3` of
//! `svm/deploy/v1` ‖ `01` ‖ address (20) ‖ code hash (32) ‖ gas used
//! (`u64` BE) when it succeeded, or `svm/deploy/v1` ‖ `00` ‖ the error's
//! one-byte code ([`DeployError::code`]) when it failed. No message text
//! enters the hash: it quotes wasmer's and wasmparser's words, which
//! change between their versions, and two nodes on different versions
//! must still agree.

use svm_types::{Address, State};

use crate::deploy_outcome::{DeployError, Deployed};
use crate::wire::Receipt;

pub use crate::keys::{LATEST_BLOCK_KEY, block_key};

/// What the KV keeps about one committed block (module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockRecord {
    /// The height: 1 for the first block.
    pub height: u64,
    /// The receipts hash (module docs).
    pub receipts_hash: [u8; 32],
    /// Each contract whose state the block changed, with its new root, by
    /// address.
    pub roots: Vec<(Address, State)>,
    /// Each balance the block changed, with its new value, by account.
    pub balances: Vec<(Address, u64)>,
}

impl BlockRecord {
    /// The encoding of the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(48 + 52 * self.roots.len() + 28 * self.balances.len());
        v.extend_from_slice(&self.height.to_be_bytes());
        v.extend_from_slice(&self.receipts_hash);
        v.extend_from_slice(&(self.roots.len() as u32).to_be_bytes());
        for (a, s) in &self.roots {
            v.extend_from_slice(a.as_bytes());
            v.extend_from_slice(s.as_bytes());
        }
        v.extend_from_slice(&(self.balances.len() as u32).to_be_bytes());
        for (a, b) in &self.balances {
            v.extend_from_slice(a.as_bytes());
            v.extend_from_slice(&b.to_be_bytes());
        }
        v
    }

    /// Decodes [`BlockRecord::encode`]; `None` for bytes of any other shape.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let take = |at: usize, n: usize| b.get(at..at.checked_add(n)?);
        let height = u64::from_be_bytes(take(0, 8)?.try_into().ok()?);
        let receipts_hash: [u8; 32] = take(8, 32)?.try_into().ok()?;
        let n = u32::from_be_bytes(take(40, 4)?.try_into().ok()?) as usize;
        let mut at = 44;
        let mut roots = Vec::new();
        for _ in 0..n {
            roots.push((
                Address::from_slice(take(at, 20)?)?,
                State::from_slice(take(at + 20, 32)?)?,
            ));
            at += 52;
        }
        let m = u32::from_be_bytes(take(at, 4)?.try_into().ok()?) as usize;
        at += 4;
        let mut balances = Vec::new();
        for _ in 0..m {
            balances.push((
                Address::from_slice(take(at, 20)?)?,
                u64::from_be_bytes(take(at + 20, 8)?.try_into().ok()?),
            ));
            at += 28;
        }
        (at == b.len()).then_some(Self {
            height,
            receipts_hash,
            roots,
            balances,
        })
    }

    /// The block hash: `blake3` of the encoding.
    pub fn hash(&self) -> [u8; 32] {
        *blake3::hash(&self.encode()).as_bytes()
    }
}

/// The 32-byte hash of a call's receipt in the receipts hash.
pub(crate) fn call_hash(r: &Receipt) -> [u8; 32] {
    // A receipt the runtime made always encodes; a failure to would be a
    // bug, hashed as zeros rather than a panic.
    r.consensus_hash().unwrap_or([0; 32])
}

/// The 32-byte hash of a deploy's outcome in the receipts hash.
pub(crate) fn deploy_hash(d: &Result<Deployed, DeployError>) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"svm/deploy/v1");
    match d {
        Ok(d) => {
            h.update(&[1]);
            h.update(d.address.as_bytes());
            h.update(d.code_hash.as_bytes());
            h.update(&d.gas_used.to_be_bytes());
        }
        Err(e) => {
            h.update(&[0, e.code()]);
        }
    }
    *h.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_deploy_hashes_its_code_not_its_words() {
        // Two compile errors in different words (as two wasmer versions
        // would word one failure) hash alike; another kind of error not.
        let a: Result<Deployed, DeployError> = Err(DeployError::Compile("wasmer 7.4 words".into()));
        let b = Err(DeployError::Compile("other words".into()));
        let c = Err(DeployError::Storage("wasmer 7.4 words".into()));
        assert_eq!(deploy_hash(&a), deploy_hash(&b));
        assert_ne!(deploy_hash(&a), deploy_hash(&c));
        // Golden: blake3("svm/deploy/v1" ‖ 00 ‖ 03).
        let mut h = blake3::Hasher::new();
        h.update(b"svm/deploy/v1\x00\x03");
        assert_eq!(deploy_hash(&a), *h.finalize().as_bytes());
        let ok = Ok(Deployed {
            address: Address([1; 20]),
            code_hash: svm_types::CodeHash([2; 32]),
            state: State([0; 32]),
            gas_used: 5,
        });
        let mut h = blake3::Hasher::new();
        h.update(b"svm/deploy/v1\x01");
        h.update(&[1; 20]);
        h.update(&[2; 32]);
        h.update(&5u64.to_be_bytes());
        assert_eq!(deploy_hash(&ok), *h.finalize().as_bytes());
    }

    #[test]
    fn record_round_trips_and_rejects_garbage() {
        let r = BlockRecord {
            height: 7,
            receipts_hash: [3; 32],
            roots: vec![(Address([1; 20]), State([2; 32]))],
            balances: vec![(Address([4; 20]), 99), (Address([5; 20]), 0)],
        };
        let e = r.encode();
        assert_eq!(e.len(), 48 + 52 + 56);
        assert_eq!(BlockRecord::decode(&e), Some(r.clone()));
        assert_eq!(BlockRecord::decode(&e[..e.len() - 1]), None);
        let mut longer = e.clone();
        longer.push(0);
        assert_eq!(BlockRecord::decode(&longer), None);
        assert_ne!(r.hash(), [0; 32]);
    }
}
