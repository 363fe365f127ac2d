//! Every KV key the runtime writes, in one table. The page storage's keys
//! (first byte `L`, `D`, `U`, `N`, `S`, `X`, `Y`) are `svm-pages`' own
//! (`docs/storage-format.md`).
//!
//! | key | key size (bytes) | value | written by |
//! |---|---|---|---|
//! | `a` (0x61) ‖ address (20) | 21 | the contract record ([`crate::contracts::ContractRecord`]) | a deploy's block |
//! | `c` (0x63) ‖ code hash (32) | 33 | the wasm code | a deploy's block |
//! | `b` (0x62) ‖ address (20) | 21 | a node balance, `u64` BE | every block ([`svm_host::node::KvNodeHost`]) |
//! | `B` (0x42) ‖ height (`u64` BE) | 9 | the block record ([`crate::BlockRecord`]) | every block; pruned after `keep_blocks` |
//! | `m` ‖ ASCII `latest-block` | 13 | the newest height, `u64` BE | every block |
//! | `m` ‖ ASCII `storage-format` | 15 | the storage format, `u32` BE ([`crate::format`]) | every block |
//! | `m` ‖ ASCII `module-cache-secret` | 20 | the module cache's 32-byte MAC secret | [`crate::Runtime::open`], once |

use svm_kv::Bytes;
use svm_types::{Address, CodeHash};

/// The KV key of contract `address`'s record: `a` ‖ address, 21 bytes.
pub fn record_key(address: &Address) -> Bytes {
    let mut k = Vec::with_capacity(21);
    k.push(b'a');
    k.extend_from_slice(address.as_bytes());
    Bytes::from(k)
}

/// The KV key of the code with hash `hash`: `c` ‖ hash, 33 bytes.
pub fn code_key(hash: &CodeHash) -> Bytes {
    let mut k = Vec::with_capacity(33);
    k.push(b'c');
    k.extend_from_slice(hash.as_bytes());
    Bytes::from(k)
}

/// The key of block `height`'s record: `B` ‖ height (`u64` BE), 9 bytes.
pub fn block_key(height: u64) -> Vec<u8> {
    let mut k = Vec::with_capacity(9);
    k.push(b'B');
    k.extend_from_slice(&height.to_be_bytes());
    k
}

/// The key of the newest block's height (13 bytes).
pub const LATEST_BLOCK_KEY: &[u8; 13] = b"mlatest-block";

/// The KV key of the storage-format marker (15 bytes).
pub const STORAGE_FORMAT_KEY: &[u8; 15] = b"mstorage-format";

/// The KV key of the module cache's MAC secret (32 bytes): `m` (0x6d) ‖
/// ASCII `module-cache-secret` (20 bytes).
pub const MODULE_SECRET_KEY: &[u8; 20] = b"mmodule-cache-secret";
