//! The page hash, the Merkle node hash and the empty-subtree constants.
//!
//! # Page hash
//!
//! `page_hash = blake3(input)`, 32 bytes, where `input` is 4131 bytes:
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 11 | domain separator, ASCII `svm/page/v1` |
//! | 11 | 20 | contract address |
//! | 31 | 4 | page index, big-endian `u32` |
//! | 35 | 4096 | page content |
//!
//! # Node hash
//!
//! `node_hash = blake3(input)`, 32 bytes, where `input` is 75 bytes:
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 11 | domain separator, ASCII `svm/node/v1` |
//! | 11 | 32 | left child hash |
//! | 43 | 32 | right child hash |
//!
//! # Leaves and empty subtrees
//!
//! The tree has depth [`TREE_DEPTH`] = 32: leaf `i` (height 0) is page index
//! `i`. The leaf of a page whose 4096 bytes are all zero (including every
//! page never written) is `EMPTY[0]` = 32 zero bytes; the leaf of any other
//! page is its page hash. `EMPTY[h + 1] = node_hash(EMPTY[h], EMPTY[h])` is
//! the hash of an empty subtree of height `h + 1`, and the root of a
//! contract with no non-zero page is `EMPTY[32]` ([`empty_root`]).

use std::sync::OnceLock;

use svm_types::{Address, PageHash, State};

use crate::{PAGE_SIZE, PageIndex};

/// The depth of the Merkle tree over the `u32` page-index space.
pub const TREE_DEPTH: usize = 32;

/// Domain separator of the page hash (11 bytes).
pub const PAGE_DOMAIN: &[u8; 11] = b"svm/page/v1";

/// Domain separator of the node hash (11 bytes).
pub const NODE_DOMAIN: &[u8; 11] = b"svm/node/v1";

/// A 32-byte hash: a page hash, a node hash or an empty-subtree constant.
pub type Hash = [u8; 32];

/// The page hash of `content` at (`address`, `index`): see the module docs
/// for the byte layout. Costs one blake3 over 4131 bytes.
pub fn page_hash(address: &Address, index: PageIndex, content: &[u8; PAGE_SIZE]) -> PageHash {
    let mut h = blake3::Hasher::new();
    h.update(PAGE_DOMAIN);
    h.update(address.as_bytes());
    h.update(&index.0.to_be_bytes());
    h.update(content);
    PageHash(*h.finalize().as_bytes())
}

/// The hash of an inner node from its two children (module docs).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut input = [0u8; 75];
    input[..11].copy_from_slice(NODE_DOMAIN);
    input[11..43].copy_from_slice(left);
    input[43..].copy_from_slice(right);
    *blake3::hash(&input).as_bytes()
}

/// `EMPTY[h]`, the hash of an empty subtree of height `h`, for `h` in
/// `0..=32` (module docs).
pub fn empty_hashes() -> &'static [Hash; TREE_DEPTH + 1] {
    static EMPTY: OnceLock<[Hash; TREE_DEPTH + 1]> = OnceLock::new();
    EMPTY.get_or_init(|| {
        let mut e = [[0u8; 32]; TREE_DEPTH + 1];
        for h in 0..TREE_DEPTH {
            e[h + 1] = node_hash(&e[h], &e[h]);
        }
        e
    })
}

/// The state root of a contract with no non-zero page: `EMPTY[32]`. Its value
/// is pinned by a golden test and in `docs/storage-format.md`.
pub fn empty_root() -> State {
    State(empty_hashes()[TREE_DEPTH])
}

/// The leaf of the tree for a page: `EMPTY[0]` (32 zero bytes) for an
/// all-zero page, its [`page_hash`] otherwise.
pub fn leaf_hash(address: &Address, index: PageIndex, content: &[u8; PAGE_SIZE]) -> Hash {
    if is_zero_page(content) {
        empty_hashes()[0]
    } else {
        page_hash(address, index, content).0
    }
}

/// Whether all 4096 bytes of `content` are zero.
pub fn is_zero_page(content: &[u8; PAGE_SIZE]) -> bool {
    content.iter().all(|&b| b == 0)
}
