//! The page hash, the branch (node) hash, the extension hash and the
//! empty-subtree constants (storage format 4: see [`STORAGE_FORMAT`]).
//!
//! All three hashes are BLAKE3 in keyed mode (`blake3::keyed_hash`), each
//! with its own 32-byte key, so that no two kinds can ever give the same
//! hash for the same bytes. Each key is the plain BLAKE3 hash of an ASCII
//! domain string: [`PAGE_KEY`] = `blake3("svm/page/v2")`, [`NODE_KEY`] =
//! `blake3("svm/node/v2")`, [`EXT_KEY`] = `blake3("svm/ext/v3")`.
//!
//! # Page hash
//!
//! `page_hash = keyed_hash(PAGE_KEY, input)`, 32 bytes, where `input` is
//! 4120 bytes:
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 4096 | page content |
//! | 4096 | 20 | contract address |
//! | 4116 | 4 | page index, big-endian `u32` |
//!
//! The content comes first so that its four 1024-byte BLAKE3 chunks are
//! whole and hashed side by side with SIMD (1.9 µs against 4.1 µs for hash
//! format 1's 35-byte prefix, on the machine of `docs/benchmarks.md`).
//!
//! # Node hash
//!
//! `node_hash = keyed_hash(NODE_KEY, input)`, 32 bytes, where `input` is 64
//! bytes: one BLAKE3 block, so one compression (hash format 1's 75 bytes
//! took two):
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 32 | left child hash |
//! | 32 | 32 | right child hash |
//!
//! # Extension hash
//!
//! `ext_hash = keyed_hash(EXT_KEY, input)`, 32 bytes, where `input` is 37
//! bytes (one BLAKE3 block, so one compression):
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 32 | target hash: a page hash (`t = 0`) or a branch hash |
//! | 32 | 1 | target height `t`, 0..=31 |
//! | 33 | 4 | target prefix: any page index under the target with its bits below `t` cleared, big-endian `u32` |
//!
//! # Leaves, subtrees and the root (path-compressed hashing)
//!
//! The tree is the binary tree of depth [`TREE_DEPTH`] = 32 over the page
//! indices, leaf `i` (height 0) being page index `i`; a page whose 4096
//! bytes are all zero (every page never written among them) is *empty*.
//! Its hash is defined only where two non-empty subtrees meet, so a path
//! costs one hash per branching, not one per height (storage format 3
//! hashed all 32 heights):
//!
//! - a subtree with no non-empty page is `EMPTY[h]`; only the root of a
//!   contract with no non-empty page is ever one: `EMPTY[32]`
//!   ([`empty_root`]), where `EMPTY[0]` is 32 zero bytes and `EMPTY[h + 1]
//!   = node_hash(EMPTY[h], EMPTY[h])`;
//! - a **branch**, a node at height `t` whose two children are both
//!   non-empty, is `node_hash(left, right)` of its children's hashes;
//! - a child at height `c` of a branch (or the root, `c = 32`) is: the
//!   page hash itself when `c = 0`; the branch's hash when it is a branch
//!   (`t = c`); otherwise the child's highest descendant that is a
//!   non-empty page or a branch (the **target**, where its pages first
//!   split) is at a height `t < c`, and the child is `ext_hash(t, prefix,
//!   target)`. That value does not depend on `c`.
//!
//! Every height is bound: a page hash carries its index, an extension its
//! target's height and prefix, and a branch sits at a height fixed by the
//! nodes above it (the root is at height 32).

use std::sync::OnceLock;

use svm_types::{Address, PageHash, State};

use crate::{PAGE_SIZE, PageIndex};

/// The depth of the Merkle tree over the `u32` page-index space.
pub const TREE_DEPTH: usize = 32;

/// The storage format these hashes and this KV layout belong to: 6.
/// Format 1 stored every node of the depth-32 tree; format 2 stored it
/// path-compressed (`docs/storage-format.md`); format 3 changed the page
/// and node hashes to keyed ones; format 4 keeps format 3's records, page
/// hash and node hash, and hashes the tree path-compressed too (extension
/// hashes, module docs), so every root of a non-empty contract differs
/// from format 3's; format 5 keeps format 4's hashes and roots and packs a
/// state's newest records into its state record (a longer `S` value that
/// format 4 refuses); format 6 keeps format 5's hashes, roots and records
/// and stores page contents by position (a slot per contract and page
/// index, older contents as undo deltas) instead of under `P` ‖ page hash.
/// A database of another format cannot be read here. This crate stores no
/// marker of its own: the
/// layer that owns the database records the format beside its data and
/// refuses another one (`docs/storage-format.md`, "Storage format").
pub const STORAGE_FORMAT: u32 = 6;

/// Domain string of the page hash (11 bytes); [`PAGE_KEY`] is its BLAKE3
/// hash.
pub const PAGE_DOMAIN: &[u8; 11] = b"svm/page/v2";

/// Domain string of the node hash (11 bytes); [`NODE_KEY`] is its BLAKE3
/// hash.
pub const NODE_DOMAIN: &[u8; 11] = b"svm/node/v2";

/// The BLAKE3 key of the page hash: `blake3("svm/page/v2")`, 32 bytes,
/// `8df7b41d…3b1e6259` (pinned by a test).
pub const PAGE_KEY: [u8; 32] = [
    0x8d, 0xf7, 0xb4, 0x1d, 0xc6, 0xac, 0xa1, 0x4b, 0x1c, 0xa7, 0xae, 0xe9, 0x5d, 0x28, 0x02, 0x5d,
    0x6f, 0x7b, 0xbf, 0xc6, 0xdc, 0x67, 0x71, 0x27, 0x22, 0x24, 0xbd, 0x20, 0x3b, 0x1e, 0x62, 0x59,
];

/// The BLAKE3 key of the node hash: `blake3("svm/node/v2")`, 32 bytes,
/// `713835d2…727b9358` (pinned by a test).
pub const NODE_KEY: [u8; 32] = [
    0x71, 0x38, 0x35, 0xd2, 0xee, 0xab, 0x85, 0xd7, 0xee, 0x0c, 0xf4, 0xc0, 0x89, 0xd0, 0x17, 0x4b,
    0x5c, 0x70, 0xb5, 0x48, 0x33, 0xfd, 0xbb, 0xa9, 0x45, 0xef, 0xfc, 0xb6, 0x72, 0x7b, 0x93, 0x58,
];

/// Domain string of the extension hash (10 bytes); [`EXT_KEY`] is its
/// BLAKE3 hash.
pub const EXT_DOMAIN: &[u8; 10] = b"svm/ext/v3";

/// The BLAKE3 key of the extension hash: `blake3("svm/ext/v3")`, 32 bytes,
/// `30a1ae8a…ab2ca422` (pinned by a test).
pub const EXT_KEY: [u8; 32] = [
    0x30, 0xa1, 0xae, 0x8a, 0xb8, 0x35, 0x96, 0xaf, 0xb4, 0xe1, 0x04, 0xa5, 0x9b, 0x05, 0xf2, 0x9b,
    0x12, 0x11, 0xab, 0x2c, 0x9f, 0x55, 0x42, 0xab, 0x4c, 0x17, 0xc2, 0xc7, 0xab, 0x2c, 0xa4, 0x22,
];

/// A 32-byte hash: a page hash, a node (branch) hash, an extension hash or
/// an empty-subtree constant.
pub type Hash = [u8; 32];

/// The page hash of `content` at (`address`, `index`): see the module docs
/// for the byte layout. Costs one keyed BLAKE3 over 4120 bytes.
pub fn page_hash(address: &Address, index: PageIndex, content: &[u8; PAGE_SIZE]) -> PageHash {
    let mut h = blake3::Hasher::new_keyed(&PAGE_KEY);
    h.update(content);
    h.update(address.as_bytes());
    h.update(&index.0.to_be_bytes());
    PageHash(*h.finalize().as_bytes())
}

/// The hash of an inner node from its two children (module docs): one
/// BLAKE3 compression.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut input = [0u8; 64];
    input[..32].copy_from_slice(left);
    input[32..].copy_from_slice(right);
    *blake3::keyed_hash(&NODE_KEY, &input).as_bytes()
}

/// The hash of a subtree whose only non-empty descendant at height `t`
/// (0..=31) is `target` (a page hash when `t = 0`, else a branch), on the
/// path of page `index` (module docs): one BLAKE3 compression. Only the
/// bits of `index` from `t` up count, and the value does not depend on the
/// subtree's own height. Never panics: a `t` above 31, which no tree
/// holds, is hashed as the byte `t as u8` with every index bit cleared.
pub fn ext_hash(t: usize, index: u32, target: &Hash) -> Hash {
    let prefix = index & !low_bits(t);
    let mut input = [0u8; 37];
    input[..32].copy_from_slice(target);
    input[32] = t as u8;
    input[33..].copy_from_slice(&prefix.to_be_bytes());
    *blake3::keyed_hash(&EXT_KEY, &input).as_bytes()
}

/// The mask of the bits of a page index below height `t` (0 for `t = 0`,
/// all bits for `t >= 32`).
pub(crate) fn low_bits(t: usize) -> u32 {
    if t >= 32 { u32::MAX } else { (1u32 << t) - 1 }
}

/// The mask of bits `t..h` of a page index.
pub(crate) fn bits(t: usize, h: usize) -> u32 {
    !low_bits(t) & low_bits(h)
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
