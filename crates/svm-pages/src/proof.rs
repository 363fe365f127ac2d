//! Merkle proofs that a page has a given content at a state root.
//!
//! A [`PageProof`] of page `i` holds the sibling of every branch on the path
//! from the root down to page `i` (the tree is hashed path-compressed: see
//! [`crate::hash`]). When page `i` is empty and the root is not the empty
//! root, the path leaves the tree inside an extension whose target does
//! not hold page `i`; the proof then also holds that extension
//! ([`ProofEnd`]).
//!
//! # Verifying
//!
//! `verify_page(root, address, i, content, proof)`:
//!
//! 1. If `content` is not all zero: `cur` = the page hash of (address, `i`,
//!    content), `c = 0`, and the proof must have no end.
//! 2. If it is all zero and the proof has no end: it holds iff `root` is
//!    the empty root and the proof has no sibling.
//! 3. If it is all zero and the proof has an end `(t, prefix, target)`:
//!    `c` = the lowest height with a sibling (32 if none); it must hold
//!    that `t < c` and that page `i` differs from `prefix` in some bit of
//!    `t..c` (page `i` is not under the target); `cur = ext_hash(t, prefix,
//!    target)`.
//!
//! Decoding refuses the encodings [`PageProof::to_bytes`] never gives (a
//! sibling equal to `EMPTY[h]`, a prefix with bits below `t`), so a proof
//! has one encoding.
//! 4. For each height `h` from `c` to 31 with a sibling: if `h > c`, `cur =
//!    ext_hash(c, i, cur)` (the extension between two branches); then `cur
//!    = node_hash(cur, sibling)` if bit `h` of `i` is 0, else
//!    `node_hash(sibling, cur)`; `c = h + 1`.
//! 5. If `c < 32`, `cur = ext_hash(c, i, cur)`. The proof holds iff `cur ==
//!    root`.
//!
//! # Encoding (4 to 1033 bytes for a proof that can hold)
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 4 | bitmap, big-endian `u32`: bit `h` set when there is a sibling at height `h` |
//! | 4 | 32 × popcount(bitmap) | the siblings, from height 0 up |
//! | then | 0 or 37 | the end, if any: target height `t` (1 byte, 0..=31) ‖ target prefix (`u32` BE) ‖ target hash (32) |

use svm_types::{Address, State};

use crate::hash::{
    Hash, TREE_DEPTH, bits, empty_hashes, empty_root, ext_hash, leaf_hash, low_bits, node_hash,
};
use crate::{PAGE_SIZE, PageIndex, PagesError};

/// Where the path of an empty page leaves the tree: an extension whose
/// target does not hold the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofEnd {
    /// The height of the extension's target, 0..=31 (0: a page).
    pub target_height: u8,
    /// The page indices under the target have these bits from
    /// `target_height` up (the bits below are 0).
    pub prefix: u32,
    /// The target's hash: a page hash, or a branch hash.
    pub target: Hash,
}

/// A Merkle proof of one page (module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageProof {
    /// `siblings[h]` is the sibling, at height `h`, of the path node below
    /// the branch at height `h + 1`; `EMPTY[h]` where there is no branch.
    pub siblings: [Hash; TREE_DEPTH],
    /// Where the path of an empty page leaves the tree; `None` for a
    /// non-empty page, and for any page of the empty root.
    pub end: Option<ProofEnd>,
}

impl PageProof {
    /// The encoding of the module docs: 4 to 1033 bytes for a proof the
    /// store gives (an end means no sibling at height 0).
    pub fn to_bytes(&self) -> Vec<u8> {
        let empty = empty_hashes();
        let mut bitmap = 0u32;
        let mut out = vec![0u8; 4];
        for (h, s) in self.siblings.iter().enumerate() {
            if *s != empty[h] {
                bitmap |= 1 << h;
                out.extend_from_slice(s);
            }
        }
        out[..4].copy_from_slice(&bitmap.to_be_bytes());
        if let Some(end) = &self.end {
            out.push(end.target_height);
            out.extend_from_slice(&end.prefix.to_be_bytes());
            out.extend_from_slice(&end.target);
        }
        out
    }

    /// Decodes [`PageProof::to_bytes`].
    ///
    /// # Errors
    /// [`PagesError::BadProof`] when `bytes` is shorter than 4 bytes, its
    /// length does not match the bitmap (with or without a 37-byte end), a
    /// sibling is the empty subtree `EMPTY[h]`, or the end's target height
    /// is above 31 or its prefix has bits below the target height.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PagesError> {
        let (head, mut rest) = bytes
            .split_first_chunk::<4>()
            .ok_or(PagesError::BadProof("shorter than 4 bytes"))?;
        let bitmap = u32::from_be_bytes(*head);
        let sibling_bytes = 32 * bitmap.count_ones() as usize;
        if rest.len() != sibling_bytes && rest.len() != sibling_bytes + 37 {
            return Err(PagesError::BadProof("length does not match the bitmap"));
        }
        let mut siblings = [[0u8; 32]; TREE_DEPTH];
        siblings.copy_from_slice(&empty_hashes()[..TREE_DEPTH]);
        for (h, s) in siblings.iter_mut().enumerate() {
            if bitmap & (1 << h) != 0 {
                let Some((hash, tail)) = rest.split_first_chunk::<32>() else {
                    return Err(PagesError::BadProof("length does not match the bitmap"));
                };
                if *hash == empty_hashes()[h] {
                    return Err(PagesError::BadProof("a sibling is an empty subtree"));
                }
                *s = *hash;
                rest = tail;
            }
        }
        let end = match rest {
            [] => None,
            [t, ..] if rest.len() == 37 => {
                if *t as usize >= TREE_DEPTH {
                    return Err(PagesError::BadProof("end target height above 31"));
                }
                let mut p = [0u8; 4];
                p.copy_from_slice(&rest[1..5]);
                if u32::from_be_bytes(p) & low_bits(*t as usize) != 0 {
                    return Err(PagesError::BadProof("end prefix has bits below its height"));
                }
                let mut target = [0u8; 32];
                target.copy_from_slice(&rest[5..]);
                Some(ProofEnd {
                    target_height: *t,
                    prefix: u32::from_be_bytes(p),
                    target,
                })
            }
            _ => return Err(PagesError::BadProof("length does not match the bitmap")),
        };
        Ok(Self { siblings, end })
    }
}

/// The root that `proof` yields for `cur`, a node at height `c` on the path
/// of `index` (module docs, steps 4 and 5).
fn root_from(index: PageIndex, mut cur: Hash, start: usize, proof: &PageProof) -> Hash {
    let empty = empty_hashes();
    let mut c = start;
    for (h, (sibling, e)) in proof.siblings.iter().zip(empty).enumerate().skip(start) {
        if sibling == e {
            continue;
        }
        if h > c {
            cur = ext_hash(c, index.0, &cur);
        }
        cur = if (index.0 >> h) & 1 == 0 {
            node_hash(&cur, sibling)
        } else {
            node_hash(sibling, &cur)
        };
        c = h + 1;
    }
    if c < TREE_DEPTH {
        cur = ext_hash(c, index.0, &cur);
    }
    cur
}

/// Whether `proof` shows that the page at (`address`, `index`) holds
/// `content` in the state `root` (module docs). Needs no storage: at most
/// 1 page hash and 32 one-block hashes. For "this page is zero" pass 4096
/// zero bytes.
pub fn verify_page(
    root: &State,
    address: &Address,
    index: PageIndex,
    content: &[u8; PAGE_SIZE],
    proof: &PageProof,
) -> bool {
    let empty = empty_hashes();
    let leaf = leaf_hash(address, index, content);
    let lowest = (0..TREE_DEPTH)
        .find(|&h| proof.siblings[h] != empty[h])
        .unwrap_or(TREE_DEPTH);
    match (leaf == empty[0], &proof.end) {
        (false, None) => root_from(index, leaf, 0, proof) == root.0,
        (false, Some(_)) => false,
        (true, None) => *root == empty_root() && lowest == TREE_DEPTH,
        (true, Some(end)) => {
            let t = end.target_height as usize;
            t < lowest
                && (end.prefix ^ index.0) & bits(t, lowest) != 0
                && root_from(index, ext_hash(t, end.prefix, &end.target), lowest, proof) == root.0
        }
    }
}
