//! Merkle proofs that a page has a given content at a state root.
//!
//! # Encoding
//!
//! A [`PageProof`] holds the 32 sibling hashes on the path from the leaf
//! (height 0) to the root. Siblings that are empty subtrees are left out of
//! the encoding:
//!
//! | offset | size (bytes) | field |
//! |---|---|---|
//! | 0 | 4 | bitmap, big-endian `u32`: bit `h` set when the sibling at height `h` is not `EMPTY[h]` |
//! | 4 | 32 × popcount(bitmap) | the non-empty siblings, from height 0 up |

use svm_types::{Address, State};

use crate::hash::{Hash, TREE_DEPTH, empty_hashes, leaf_hash, node_hash};
use crate::{PAGE_SIZE, PageIndex, PagesError};

/// The sibling hashes on the path from a leaf to the root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageProof {
    /// `siblings[h]` is the sibling of the path node at height `h`.
    pub siblings: [Hash; TREE_DEPTH],
}

impl PageProof {
    /// The encoding of the module docs: 4 to 1028 bytes.
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
        out
    }

    /// Decodes [`PageProof::to_bytes`].
    ///
    /// # Errors
    /// [`PagesError::BadProof`] when `bytes` is shorter than 4 bytes or its
    /// length does not match the bitmap.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, PagesError> {
        let (head, mut rest) = bytes
            .split_first_chunk::<4>()
            .ok_or(PagesError::BadProof("shorter than 4 bytes"))?;
        let bitmap = u32::from_be_bytes(*head);
        if rest.len() != 32 * bitmap.count_ones() as usize {
            return Err(PagesError::BadProof("length does not match the bitmap"));
        }
        let mut siblings = [[0u8; 32]; TREE_DEPTH];
        siblings.copy_from_slice(&empty_hashes()[..TREE_DEPTH]);
        for (h, s) in siblings.iter_mut().enumerate() {
            if bitmap & (1 << h) != 0 {
                let Some((hash, tail)) = rest.split_first_chunk::<32>() else {
                    return Err(PagesError::BadProof("length does not match the bitmap"));
                };
                *s = *hash;
                rest = tail;
            }
        }
        Ok(Self { siblings })
    }
}

/// The root that `proof` yields for `leaf` at `index`.
pub(crate) fn root_from_leaf(index: PageIndex, leaf: Hash, proof: &PageProof) -> Hash {
    let mut cur = leaf;
    for (h, sibling) in proof.siblings.iter().enumerate() {
        cur = if (index.0 >> h) & 1 == 0 {
            node_hash(&cur, sibling)
        } else {
            node_hash(sibling, &cur)
        };
    }
    cur
}

/// Whether `proof` shows that the page at (`address`, `index`) holds
/// `content` in the state `root`. Needs no storage: 1 page hash and 32 node
/// hashes. For "this page is zero" pass 4096 zero bytes.
pub fn verify_page(
    root: &State,
    address: &Address,
    index: PageIndex,
    content: &[u8; PAGE_SIZE],
    proof: &PageProof,
) -> bool {
    root_from_leaf(index, leaf_hash(address, index, content), proof) == root.0
}
