//! Contract addresses, code and contract records in the KV.
//!
//! # Contract address
//!
//! `address = blake3(input)[0..20]`, where `input` is 71 bytes:
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 11 | domain separator, ASCII `svm/addr/v1` |
//! | 11 | 20 | author address |
//! | 31 | 8 | author nonce, big-endian `u64` |
//! | 39 | 32 | code hash = `blake3(code)` |
//!
//! # KV layout
//!
//! | key | key size (bytes) | value |
//! |---|---|---|
//! | `c` (0x63) ‖ code hash | 33 | the validated wasm code |
//! | `a` (0x61) ‖ contract address | 21 | contract record (below) |
//!
//! Contract record (version 1):
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 1 | record version (= 1) |
//! | 1 | 20 | author |
//! | 21 | 8 | author nonce, `u64` BE |
//! | 29 | 32 | code hash |
//! | 61 | 32 | latest committed state root |
//! | 93 | 2 | name length `n`, `u16` BE |
//! | 95 | `n` | name, UTF-8 |

use svm_kv::{KvError, KvStore};
use svm_types::{Address, CodeHash, State};

/// Domain separator of contract addresses (11 bytes).
pub const ADDRESS_DOMAIN: &[u8; 11] = b"svm/addr/v1";

/// `blake3(code)`.
pub fn code_hash(code: &[u8]) -> CodeHash {
    CodeHash(*blake3::hash(code).as_bytes())
}

/// The address of the contract that `author` deploys with `nonce` and code
/// hash `code` (module docs).
pub fn contract_address(author: &Address, nonce: u64, code: &CodeHash) -> Address {
    let mut h = blake3::Hasher::new();
    h.update(ADDRESS_DOMAIN);
    h.update(author.as_bytes());
    h.update(&nonce.to_be_bytes());
    h.update(code.as_bytes());
    let mut a = [0u8; 20];
    a.copy_from_slice(&h.finalize().as_bytes()[..20]);
    Address(a)
}

/// What the runtime stores about a deployed contract.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractRecord {
    /// The deploying account.
    pub author: Address,
    /// The author's nonce at deploy.
    pub nonce: u64,
    /// The hash of the code.
    pub code_hash: CodeHash,
    /// The latest committed state root.
    pub state: State,
    /// The name given at deploy.
    pub name: String,
}

impl ContractRecord {
    /// The encoding of the module docs.
    pub fn encode(&self) -> Vec<u8> {
        let name = &self.name.as_bytes()[..self.name.len().min(u16::MAX as usize)];
        let mut v = Vec::with_capacity(95 + name.len());
        v.push(1);
        v.extend_from_slice(self.author.as_bytes());
        v.extend_from_slice(&self.nonce.to_be_bytes());
        v.extend_from_slice(self.code_hash.as_bytes());
        v.extend_from_slice(self.state.as_bytes());
        v.extend_from_slice(&(name.len() as u16).to_be_bytes());
        v.extend_from_slice(name);
        v
    }

    /// Decodes [`ContractRecord::encode`]; `None` for bytes of any other
    /// shape.
    pub fn decode(b: &[u8]) -> Option<Self> {
        if b.len() < 95 || b[0] != 1 {
            return None;
        }
        let n = u16::from_be_bytes([b[93], b[94]]) as usize;
        if b.len() != 95 + n {
            return None;
        }
        Some(Self {
            author: Address::from_slice(&b[1..21])?,
            nonce: u64::from_be_bytes(b[21..29].try_into().ok()?),
            code_hash: CodeHash::from_slice(&b[29..61])?,
            state: State::from_slice(&b[61..93])?,
            name: String::from_utf8(b[95..].to_vec()).ok()?,
        })
    }
}

pub use crate::keys::{code_key, record_key};

/// Why a contract record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The KV failed.
    #[error(transparent)]
    Kv(#[from] KvError),
    /// The stored record is damaged.
    #[error("contract record of {0} is corrupt")]
    Corrupt(Address),
    /// A block record, or the newest block's height, is damaged (the
    /// message says which).
    #[error("{0} is corrupt")]
    CorruptBlock(String),
}

/// The record of contract `address`, or `None` when none is deployed there.
///
/// # Errors
/// [`RecordError`].
pub fn load_record(
    kv: &impl KvStore,
    address: &Address,
) -> Result<Option<ContractRecord>, RecordError> {
    match kv.get(&record_key(address))? {
        None => Ok(None),
        Some(b) => ContractRecord::decode(&b)
            .map(Some)
            .ok_or(RecordError::Corrupt(*address)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_depends_on_author_nonce_and_code() {
        let code = code_hash(b"\0asm");
        let a = contract_address(&Address([1; 20]), 0, &code);
        assert_ne!(a, contract_address(&Address([1; 20]), 1, &code));
        assert_ne!(a, contract_address(&Address([2; 20]), 0, &code));
        assert_ne!(a, contract_address(&Address([1; 20]), 0, &code_hash(b"x")));
        // The documented layout.
        let mut input = Vec::new();
        input.extend_from_slice(b"svm/addr/v1");
        input.extend_from_slice(&[1; 20]);
        input.extend_from_slice(&0u64.to_be_bytes());
        input.extend_from_slice(code.as_bytes());
        assert_eq!(input.len(), 71);
        assert_eq!(a.as_bytes(), &blake3::hash(&input).as_bytes()[..20]);
    }

    #[test]
    fn record_round_trips_and_rejects_garbage() {
        let r = ContractRecord {
            author: Address([3; 20]),
            nonce: 9,
            code_hash: CodeHash([4; 32]),
            state: State([5; 32]),
            name: "coin".into(),
        };
        let e = r.encode();
        assert_eq!(e.len(), 99);
        assert_eq!(ContractRecord::decode(&e), Some(r));
        assert_eq!(ContractRecord::decode(&e[..98]), None);
        assert_eq!(ContractRecord::decode(&[0; 95]), None);
    }
}
