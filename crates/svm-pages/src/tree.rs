//! The stored form of the Merkle tree, and the walks over it: find a leaf,
//! prove a leaf, rebuild a tree with new leaves.
//!
//! The tree is hashed path-compressed (see [`crate::hash`]), and stored the
//! same way: a **branch record** for each node where two non-empty subtrees
//! meet, and an **extension record** for each child of a branch (or a
//! root) whose subtree has only one non-empty descendant at some lower
//! height — a single page, or a lower branch — the chain of nodes with an
//! empty sibling in between being neither hashed nor stored. A contract
//! with `n` non-empty pages stores `n - 1` branch records and at most
//! `2n - 1` extension records, and committing one page computes and writes
//! about `log2(n) + 1` records, not 32.
//!
//! # Record encoding
//!
//! A record is stored under `N` ‖ the hash of its node, or in the pack of
//! a state record (`crate::pack`) with its hash:
//!
//! | kind | value size (bytes) | value |
//! |---|---|---|
//! | branch | 64 | left child hash (32) ‖ right child hash (32) |
//! | extension | 37 | target height `t` (1 byte, 0..=31) ‖ a page index under the target (`u32` BE) ‖ target hash (32) |
//!
//! An extension at height `h` means: every node between it and height `t`
//! has an empty sibling, and the node at height `t` on the path of the
//! page index is the target (a page hash when `t = 0`, else a branch). Its
//! hash is [`ext_hash`]`(t, index, target)`, the same at every height `h`,
//! so an extension that moves up or down (a sibling subtree emptied or
//! filled) keeps its hash and its record. A child hash equal to `EMPTY[h]`
//! has no record; a child at height 0 is a page hash, whose page is in
//! the contract's slot for that page index (`crate::slots`).

use foldhash::{HashSet, HashSetExt};

use crate::hash::{Hash, TREE_DEPTH, bits, empty_hashes, ext_hash, low_bits, node_hash};
use crate::proof::{PageProof, ProofEnd};
use crate::{PageIndex, PagesError};

/// A stored record of the tree (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// A node whose two children are non-empty.
    Branch(Hash, Hash),
    /// A node whose only non-empty descendant at height `.0` (lower than
    /// the node's) is `.2`, on the path of page index `.1`.
    Ext(u8, u32, Hash),
}

impl Stored {
    /// The encoding of the module docs: 64 or 37 bytes.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Stored::Branch(l, r) => {
                let mut v = Vec::with_capacity(64);
                v.extend_from_slice(l);
                v.extend_from_slice(r);
                v
            }
            Stored::Ext(t, j, target) => {
                let mut v = Vec::with_capacity(37);
                v.push(*t);
                v.extend_from_slice(&j.to_be_bytes());
                v.extend_from_slice(target);
                v
            }
        }
    }

    /// The length of [`Stored::encode`]: 64 or 37 bytes.
    pub(crate) fn encoded_len(&self) -> usize {
        match self {
            Stored::Branch(..) => 64,
            Stored::Ext(..) => 37,
        }
    }

    /// Decodes [`Stored::encode`]; `None` for any other shape.
    pub(crate) fn decode(v: &[u8]) -> Option<Self> {
        match v.len() {
            64 => {
                let mut l = [0u8; 32];
                let mut r = [0u8; 32];
                l.copy_from_slice(&v[..32]);
                r.copy_from_slice(&v[32..]);
                Some(Stored::Branch(l, r))
            }
            37 if (v[0] as usize) < TREE_DEPTH => {
                let mut target = [0u8; 32];
                target.copy_from_slice(&v[5..]);
                Some(Stored::Ext(
                    v[0],
                    u32::from_be_bytes([v[1], v[2], v[3], v[4]]),
                    target,
                ))
            }
            _ => None,
        }
    }

    /// The hashes this record refers to, with their heights, given its own
    /// height `h` (1..=32). Empty subtrees are left out. Every child is
    /// strictly below `h`, so a walk through them ends.
    ///
    /// # Errors
    /// [`PagesError::Corrupt`] when the record cannot stand at height `h`:
    /// `h` outside 1..=32, or an extension whose target is not below it (a
    /// tampered record that would make a walk loop).
    pub(crate) fn children(&self, h: usize) -> Result<Vec<(Hash, usize)>, PagesError> {
        let empty = empty_hashes();
        match self {
            _ if h == 0 || h > TREE_DEPTH => {
                Err(PagesError::Corrupt(format!("a tree record at height {h}")))
            }
            Stored::Branch(l, r) => Ok([l, r]
                .into_iter()
                .filter(|c| **c != empty[h - 1])
                .map(|c| (*c, h - 1))
                .collect()),
            Stored::Ext(t, _, target) if (*t as usize) < h => Ok(vec![(*target, *t as usize)]),
            Stored::Ext(t, ..) => Err(PagesError::Corrupt(format!(
                "an extension at height {h} points up to height {t}"
            ))),
        }
    }
}

/// The records a walk down a tree has passed, so that it passes none
/// twice. In a tree the store wrote no non-empty hash is reached twice (a
/// page hash binds its index, an extension its prefix, a branch its
/// children); tampered records could make a walk repeat a subtree
/// exponentially often, so a repeat is corruption.
#[derive(Default)]
pub(crate) struct Visited(HashSet<Hash>);

impl Visited {
    /// Notes `hash`, a non-empty node or page.
    ///
    /// # Errors
    /// [`PagesError::Corrupt`] when the walk passed `hash` before.
    pub(crate) fn note(&mut self, hash: &Hash) -> Result<(), PagesError> {
        if self.0.insert(*hash) {
            Ok(())
        } else {
            Err(PagesError::Corrupt(format!(
                "tree node {} reached twice",
                svm_types::PageHash(*hash)
            )))
        }
    }
}

/// Where the walks read records from: the KV (through a cache), or a block
/// overlay in front of it.
pub(crate) trait NodeSource {
    /// The record stored under `hash`, a node at height `h` (1..=32), or
    /// `None` when there is none.
    ///
    /// # Errors
    /// [`PagesError::Kv`], [`PagesError::Corrupt`] for a malformed record.
    fn record(&self, hash: &Hash, h: usize) -> Result<Option<Stored>, PagesError>;
}

/// The record under `hash` at height `h`, or [`PagesError::Corrupt`] (or
/// `missing_root()` at the root) when there is none.
fn must_record(
    src: &impl NodeSource,
    hash: &Hash,
    h: usize,
    missing_root: &dyn Fn() -> PagesError,
) -> Result<Stored, PagesError> {
    match src.record(hash, h)? {
        Some(Stored::Ext(t, ..)) if t as usize >= h => Err(PagesError::Corrupt(format!(
            "extension {} at height {h} points up to height {t}",
            svm_types::PageHash(*hash)
        ))),
        Some(s) => Ok(s),
        None if h == TREE_DEPTH => Err(missing_root()),
        None => Err(PagesError::Corrupt(format!(
            "node {} at height {h} is missing",
            svm_types::PageHash(*hash)
        ))),
    }
}

/// The hash of a node at height `h` whose only non-empty descendant at
/// height `t <= h` is `target`, on the path of page `index`: `target`
/// itself when `t = h`, else its extension hash.
pub(crate) fn narrow_hash(h: usize, t: usize, index: u32, target: &Hash) -> Hash {
    if t == h {
        *target
    } else {
        ext_hash(t, index, target)
    }
}

/// The leaf of page `index` under `root`: `None` for an empty page.
///
/// # Errors
/// `missing_root()` when the root has no record, [`PagesError::Corrupt`]
/// for a missing record below it, source errors.
pub(crate) fn find_leaf(
    src: &impl NodeSource,
    root: &Hash,
    index: PageIndex,
    missing_root: &dyn Fn() -> PagesError,
) -> Result<Option<Hash>, PagesError> {
    let empty = empty_hashes();
    let mut cur = *root;
    let mut h = TREE_DEPTH;
    while h > 0 {
        if cur == empty[h] {
            return Ok(None);
        }
        match must_record(src, &cur, h, missing_root)? {
            Stored::Branch(l, r) => {
                cur = if (index.0 >> (h - 1)) & 1 == 0 { l } else { r };
                h -= 1;
            }
            Stored::Ext(t, j, target) => {
                let t = t as usize;
                if (index.0 ^ j) & bits(t, h) != 0 {
                    return Ok(None);
                }
                cur = target;
                h = t;
            }
        }
    }
    Ok((cur != empty[0]).then_some(cur))
}

/// The proof of page `index` under `root` (see [`crate::PageProof`]): the
/// sibling of each branch on the path (`EMPTY[h]` at the heights `h` with
/// no branch above), and, when the path leaves the tree at an extension
/// whose target does not hold the page, that extension as (target height,
/// target prefix, target hash).
///
/// # Errors
/// As [`find_leaf`].
pub(crate) fn proof_path(
    src: &impl NodeSource,
    root: &Hash,
    index: PageIndex,
    missing_root: &dyn Fn() -> PagesError,
) -> Result<PageProof, PagesError> {
    let empty = empty_hashes();
    let mut siblings = [[0u8; 32]; TREE_DEPTH];
    siblings.copy_from_slice(&empty[..TREE_DEPTH]);
    let mut cur = *root;
    let mut h = TREE_DEPTH;
    while h > 0 && cur != empty[h] {
        match must_record(src, &cur, h, missing_root)? {
            Stored::Branch(l, r) => {
                if (index.0 >> (h - 1)) & 1 == 0 {
                    siblings[h - 1] = r;
                    cur = l;
                } else {
                    siblings[h - 1] = l;
                    cur = r;
                }
                h -= 1;
            }
            Stored::Ext(t, j, target) => {
                let t = t as usize;
                if (j ^ index.0) & bits(t, h) == 0 {
                    cur = target;
                    h = t;
                    continue;
                }
                // The path of `index` leaves the target's inside this
                // extension: the page is empty.
                return Ok(PageProof {
                    siblings,
                    end: Some(ProofEnd {
                        target_height: t as u8,
                        prefix: j & !low_bits(t),
                        target,
                    }),
                });
            }
        }
    }
    Ok(PageProof {
        siblings,
        end: None,
    })
}

/// What a new subtree holds, as far as a rebuild knows. Its hash is
/// [`Shape::hash`]: an extension's is only computed where a branch or the
/// root needs it, so walking down a long extension costs no hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No non-empty leaf.
    Empty,
    /// One non-empty descendant at height `.0`, on the path of page `.1`:
    /// `.2`, a page hash (`.0 = 0`) or a branch. A node at height 0 with a
    /// page is `Narrow(0, index, page hash)` itself.
    Narrow(usize, u32, Hash),
    /// A branch (two non-empty children), with its hash.
    Wide(Hash),
    /// An untouched stored subtree, not loaded, with its hash.
    Other(Hash),
}

impl Shape {
    /// The hash of this subtree when it is a node at height `h`.
    fn hash(&self, h: usize) -> Hash {
        match *self {
            Shape::Empty => empty_hashes()[h],
            Shape::Narrow(t, j, x) => narrow_hash(h, t, j, &x),
            Shape::Wide(x) | Shape::Other(x) => x,
        }
    }

    /// This subtree, at height `c`, seen from a node higher up whose path
    /// down to it (through page index `j`) has only empty siblings.
    fn lift(self, c: usize, j: u32) -> Shape {
        match self {
            Shape::Wide(x) => Shape::Narrow(c, j & !low_bits(c), x),
            other => other,
        }
    }
}

/// A node being rebuilt: a stored one (by hash), or a virtual node inside
/// an extension (not stored at this height).
#[derive(Debug, Clone, Copy)]
enum Cur {
    Stored(Hash),
    Ext(usize, u32, Hash),
}

/// The result of [`rebuild`]: the new root, the records it needs that may
/// not be stored yet, and what it replaced.
#[derive(Debug, Default)]
pub(crate) struct Rebuilt {
    /// The new root.
    pub(crate) root: Hash,
    /// Records of the new tree on the changed paths that the old tree does
    /// not have (hash, record); every other record of the new tree is a
    /// record of the old one.
    pub(crate) records: Vec<(Hash, Stored)>,
    /// Records of the old tree on the changed paths that the new tree no
    /// longer has.
    pub(crate) replaced_records: Vec<Hash>,
    /// Leaves (page hashes) of the old tree that the new one no longer has.
    pub(crate) replaced_leaves: Vec<Hash>,
    /// The change in the number of non-empty leaves.
    pub(crate) count_delta: i64,
}

struct Rebuild<'a, S> {
    src: &'a S,
    out: Rebuilt,
    missing_root: &'a dyn Fn() -> PagesError,
    /// The hashes of the old tree's records that the rebuild read.
    loaded: HashSet<Hash>,
}

/// Rebuilds the tree of `root` with `updates` (page index → new leaf,
/// `EMPTY[0]` for an empty page; strictly ascending indices). Hashes one
/// branch or extension per branching on the changed paths: a contract's
/// only page costs one extension hash.
///
/// # Errors
/// As [`find_leaf`].
pub(crate) fn rebuild(
    src: &impl NodeSource,
    root: &Hash,
    updates: &[(u32, Hash)],
    missing_root: &dyn Fn() -> PagesError,
) -> Result<Rebuilt, PagesError> {
    if updates.is_empty() {
        // Checks that the root is known, and changes nothing.
        if *root != empty_hashes()[TREE_DEPTH] {
            must_record(src, root, TREE_DEPTH, missing_root)?;
        }
        return Ok(Rebuilt {
            root: *root,
            ..Rebuilt::default()
        });
    }
    let mut r = Rebuild {
        src,
        out: Rebuilt::default(),
        missing_root,
        loaded: HashSet::new(),
    };
    let shape = r.update(TREE_DEPTH, 0, Cur::Stored(*root), updates)?;
    let hash = shape.hash(TREE_DEPTH);
    if let Shape::Narrow(t, j, target) = shape {
        r.out.records.push((hash, Stored::Ext(t as u8, j, target)));
    }
    r.out.root = hash;
    if hash == *root {
        // Nothing changed (every write rewrote a page's own content).
        r.out.records.clear();
        r.out.replaced_records.clear();
        r.out.replaced_leaves.clear();
    } else {
        // An extension keeps its hash at every height: one that moved is
        // replaced at its old place and yet a record of the new tree, which
        // the old tree already has. `records` keeps only the new records,
        // `replaced_records` only those the new tree lost.
        if !r.out.replaced_records.is_empty() {
            let kept: HashSet<Hash> = r.out.records.iter().map(|(h, _)| *h).collect();
            r.out.replaced_records.retain(|h| !kept.contains(h));
        }
        let loaded = &r.loaded;
        r.out.records.retain(|(h, _)| !loaded.contains(h));
    }
    Ok(r.out)
}

impl<S: NodeSource> Rebuild<'_, S> {
    /// The new node at height `h`, position `pos` (it covers page indices
    /// `pos << h ..`), over the old node `cur`.
    fn update(
        &mut self,
        h: usize,
        pos: u32,
        cur: Cur,
        updates: &[(u32, Hash)],
    ) -> Result<Shape, PagesError> {
        let empty = empty_hashes();
        if h == 0 {
            let old = match cur {
                Cur::Stored(x) => x,
                Cur::Ext(..) => empty[0], // unreachable: extensions end above 0
            };
            let (index, new) = updates[updates.len() - 1];
            self.leaf_change(old, new);
            return Ok(if new == empty[0] {
                Shape::Empty
            } else {
                Shape::Narrow(0, index, new)
            });
        }
        let (record, stored) = match cur {
            Cur::Stored(x) if x == empty[h] => {
                // Updates are strictly ascending: the non-empty ones are
                // the subtree's leaves, in order.
                let mut leaves = Vec::with_capacity(updates.len());
                for &(i, leaf) in updates {
                    self.leaf_change(empty[0], leaf);
                    if leaf != empty[0] {
                        leaves.push((i, leaf));
                    }
                }
                return Ok(self.build(h, &leaves));
            }
            Cur::Stored(x) => {
                self.loaded.insert(x);
                (must_record(self.src, &x, h, self.missing_root)?, Some(x))
            }
            Cur::Ext(t, j, target) => (Stored::Ext(t as u8, j, target), None),
        };
        let result = match record {
            Stored::Branch(l, r) => {
                self.split(h, pos, [Cur::Stored(l), Cur::Stored(r)], updates)?
            }
            Stored::Ext(t, j, target) => {
                self.through_ext(h, pos, t as usize, j, target, updates)?
            }
        };
        if let Some(x) = stored
            && !unchanged(&x, &record, &result)
        {
            self.out.replaced_records.push(x);
        }
        Ok(result)
    }

    /// The new node at height `h` over an extension (stored or virtual) to
    /// `target` at height `t` on the path of `j`: jumps straight to the
    /// target, or to the height where an update leaves the extension's
    /// path, instead of walking every height in between.
    fn through_ext(
        &mut self,
        h: usize,
        pos: u32,
        t: usize,
        j: u32,
        target: Hash,
        updates: &[(u32, Hash)],
    ) -> Result<Shape, PagesError> {
        let diff = updates.iter().fold(0, |acc, (i, _)| acc | (i ^ j)) & bits(t, h);
        if diff == 0 {
            let below = self.update(t, j >> t, Cur::Stored(target), updates)?;
            return Ok(below.lift(t, j));
        }
        let d = 31 - diff.leading_zeros() as usize;
        if d + 1 < h {
            let below = self.through_ext(d + 1, j >> (d + 1), t, j, target, updates)?;
            return Ok(below.lift(d + 1, j));
        }
        self.split(h, pos, expand(h, t, j, target), updates)
    }

    /// The new node at height `h` over the old `children`, the updates
    /// split between them by bit `h - 1`.
    fn split(
        &mut self,
        h: usize,
        pos: u32,
        children: [Cur; 2],
        updates: &[(u32, Hash)],
    ) -> Result<Shape, PagesError> {
        let bit = 1u32 << (h - 1);
        let split = updates.partition_point(|(i, _)| i & bit == 0);
        let (lu, ru) = updates.split_at(split);
        let left = if lu.is_empty() {
            untouched(h - 1, children[0])
        } else {
            self.update(h - 1, pos << 1, children[0], lu)?
        };
        let right = if ru.is_empty() {
            untouched(h - 1, children[1])
        } else {
            self.update(h - 1, (pos << 1) | 1, children[1], ru)?
        };
        self.combine(h, pos, left, right)
    }

    /// Counts a leaf going from `before` to `after`.
    fn leaf_change(&mut self, before: Hash, after: Hash) {
        let empty = empty_hashes()[0];
        if before == after {
            return;
        }
        if before != empty {
            self.out.replaced_leaves.push(before);
            self.out.count_delta -= 1;
        }
        if after != empty {
            self.out.count_delta += 1;
        }
    }

    /// The subtree of height `h` holding exactly `leaves`
    /// (non-empty, ascending indices, all inside the subtree).
    fn build(&mut self, h: usize, leaves: &[(u32, Hash)]) -> Shape {
        match leaves {
            [] => Shape::Empty,
            [(j, leaf)] => Shape::Narrow(0, *j, *leaf),
            [first, .., last] => {
                // Straight down to the highest bit where the leaves differ.
                let top = 31 - (first.0 ^ last.0).leading_zeros() as usize;
                let bit = 1u32 << top;
                let split = leaves.partition_point(|(i, _)| i & bit == 0);
                let at = pos_at(first.0, top + 1);
                let left = self.build(top, &leaves[..split]);
                let right = self.build(top, &leaves[split..]);
                let branch = self.branch(top + 1, at, left, right);
                if top + 1 == h {
                    branch
                } else {
                    branch.lift(top + 1, first.0)
                }
            }
        }
    }

    /// The node at height `h` over two new children, where one may be an
    /// untouched subtree of unknown shape.
    fn combine(
        &mut self,
        h: usize,
        pos: u32,
        left: Shape,
        right: Shape,
    ) -> Result<Shape, PagesError> {
        // Beside an empty child, an untouched child's shape decides what
        // this node is: load it.
        let (left, right) = match (left, right) {
            (Shape::Empty, Shape::Other(x)) => (left, self.resolve(h - 1, (pos << 1) | 1, x)?),
            (Shape::Other(x), Shape::Empty) => (self.resolve(h - 1, pos << 1, x)?, right),
            _ => (left, right),
        };
        Ok(self.branch(h, pos, left, right))
    }

    /// The shape of the untouched stored node `x` at height `h`, position
    /// `pos`.
    fn resolve(&mut self, h: usize, pos: u32, x: Hash) -> Result<Shape, PagesError> {
        if h == 0 {
            return Ok(Shape::Narrow(0, pos, x));
        }
        self.loaded.insert(x);
        Ok(match must_record(self.src, &x, h, self.missing_root)? {
            Stored::Ext(t, j, target) => Shape::Narrow(t as usize, j, target),
            Stored::Branch(..) => Shape::Wide(x),
        })
    }

    /// The node at height `h`, position `pos`, over two children whose
    /// shapes are known (or `Other` beside a non-empty sibling).
    fn branch(&mut self, h: usize, pos: u32, left: Shape, right: Shape) -> Shape {
        let child_index = |side: u32| ((pos << 1) | side).checked_shl((h - 1) as u32).unwrap_or(0);
        match (left, right) {
            (Shape::Empty, Shape::Empty) => Shape::Empty,
            // This node takes the child's place as the extension, with the
            // same hash (and record).
            (narrow @ Shape::Narrow(..), Shape::Empty)
            | (Shape::Empty, narrow @ Shape::Narrow(..)) => narrow,
            (Shape::Wide(x), Shape::Empty) => Shape::Narrow(h - 1, child_index(0), x),
            (Shape::Empty, Shape::Wide(x)) => Shape::Narrow(h - 1, child_index(1), x),
            _ => {
                let (l, r) = (left.hash(h - 1), right.hash(h - 1));
                for (child, shape) in [(l, left), (r, right)] {
                    if let Shape::Narrow(t, j, target) = shape
                        && h - 1 > t
                    {
                        self.out
                            .records
                            .push((child, Stored::Ext(t as u8, j, target)));
                    }
                }
                let hash = node_hash(&l, &r);
                self.out.records.push((hash, Stored::Branch(l, r)));
                Shape::Wide(hash)
            }
        }
    }
}

/// The position at height `h` of page `index`'s ancestor.
fn pos_at(index: u32, h: usize) -> u32 {
    index.checked_shr(h as u32).unwrap_or(0)
}

/// The shape of an untouched child at height `h`.
fn untouched(h: usize, cur: Cur) -> Shape {
    match cur {
        Cur::Stored(x) if x == empty_hashes()[h] => Shape::Empty,
        Cur::Stored(x) => Shape::Other(x),
        Cur::Ext(t, j, target) => Shape::Narrow(t, j, target),
    }
}

/// Whether the new node `result` is the old stored node `x` (record
/// `record`) again, so that the record stays.
fn unchanged(x: &Hash, record: &Stored, result: &Shape) -> bool {
    match (record, result) {
        (Stored::Branch(..), Shape::Wide(y)) => x == y,
        (Stored::Ext(t, j, target), Shape::Narrow(t2, j2, target2)) => {
            *t as usize == *t2 && target == target2 && (j ^ j2) & !low_bits(*t2) == 0
        }
        _ => false,
    }
}

/// The two children at height `h - 1` of a virtual node at height `h`
/// inside an extension to `target` at height `t` on the path of `j`.
fn expand(h: usize, t: usize, j: u32, target: Hash) -> [Cur; 2] {
    let empty = Cur::Stored(empty_hashes()[h - 1]);
    let inner = if t == h - 1 {
        Cur::Stored(target)
    } else {
        Cur::Ext(t, j, target)
    };
    if (j >> (h - 1)) & 1 == 0 {
        [inner, empty]
    } else {
        [empty, inner]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    /// A source over a map.
    #[derive(Default)]
    struct MapSource(HashMap<Hash, Stored>);

    impl NodeSource for MapSource {
        fn record(&self, hash: &Hash, _h: usize) -> Result<Option<Stored>, PagesError> {
            Ok(self.0.get(hash).copied())
        }
    }

    /// The root computed the slow way, straight from the definition in
    /// `crate::hash`: split at the highest bit where the leaves differ.
    fn full_root(leaves: &BTreeMap<u32, Hash>) -> Hash {
        fn subtree(h: usize, leaves: &[(u32, Hash)]) -> Hash {
            match leaves {
                [] => empty_hashes()[h],
                [(_, l)] if h == 0 => *l,
                [(j, l)] => ext_hash(0, *j, l),
                [first, .., last] => {
                    let top = 31 - (first.0 ^ last.0).leading_zeros() as usize;
                    let split = leaves.partition_point(|(i, _)| (i >> top) & 1 == 0);
                    let branch = node_hash(
                        &subtree(top, &leaves[..split]),
                        &subtree(top, &leaves[split..]),
                    );
                    if top + 1 == h {
                        branch
                    } else {
                        ext_hash(top + 1, first.0, &branch)
                    }
                }
            }
        }
        let leaves: Vec<_> = leaves.iter().map(|(i, l)| (*i, *l)).collect();
        subtree(TREE_DEPTH, &leaves)
    }

    fn leaf(i: u32, v: u8) -> Hash {
        let mut l = *blake3::hash(&[v]).as_bytes();
        l[0] ^= i as u8;
        l
    }

    fn no_root() -> PagesError {
        PagesError::Corrupt("no root".into())
    }

    fn apply(src: &mut MapSource, root: Hash, ups: &[(u32, Hash)]) -> Rebuilt {
        let r = rebuild(src, &root, ups, &no_root).unwrap();
        for (h, rec) in &r.records {
            src.0.insert(*h, *rec);
        }
        r
    }

    /// The records the tree of `root` reaches.
    fn reached(src: &MapSource, root: Hash) -> Vec<Hash> {
        let mut out = Vec::new();
        let mut stack = vec![(root, TREE_DEPTH)];
        while let Some((x, h)) = stack.pop() {
            if h == 0 || x == empty_hashes()[h] {
                continue;
            }
            out.push(x);
            stack.extend(src.0[&x].children(h).unwrap());
        }
        out
    }

    #[test]
    fn roots_match_the_definition_and_records_stay_few() {
        let mut src = MapSource::default();
        let mut model = BTreeMap::new();
        let mut root = empty_hashes()[TREE_DEPTH];
        let indices = [0u32, 1, 5, 1 << 31, 7, 6, 1000, u32::MAX, 2, 3];
        for (n, i) in indices.iter().enumerate() {
            let l = leaf(*i, n as u8);
            let r = apply(&mut src, root, &[(*i, l)]);
            model.insert(*i, l);
            let reached_before = reached(&src, root);
            root = r.root;
            assert_eq!(root, full_root(&model), "after inserting page {i}");
            // One path: about log2(n) + 1 records, never 32.
            assert!(
                r.records.len() <= 2 * (n + 1),
                "{} records",
                r.records.len()
            );
            // What was replaced is no longer reached, and was reached.
            let now = reached(&src, root);
            for x in &r.replaced_records {
                assert!(!now.contains(x) && reached_before.contains(x));
            }
            for j in &indices[..=n] {
                let found = find_leaf(&src, &root, PageIndex(*j), &no_root).unwrap();
                assert_eq!(found, Some(model[j]));
            }
            assert_eq!(
                find_leaf(&src, &root, PageIndex(4), &no_root).unwrap(),
                None
            );
        }
        // Removing leaves collapses the tree back, down to the empty root.
        for i in indices {
            let r = apply(&mut src, root, &[(i, empty_hashes()[0])]);
            model.remove(&i);
            root = r.root;
            assert_eq!(root, full_root(&model), "after removing page {i}");
            assert_eq!(r.count_delta, -1);
        }
        assert_eq!(root, empty_hashes()[TREE_DEPTH]);
    }

    #[test]
    fn one_page_costs_one_record_and_two_hashes() {
        let mut src = MapSource::default();
        let r = apply(&mut src, empty_hashes()[TREE_DEPTH], &[(3, leaf(3, 1))]);
        assert_eq!(r.records, vec![(r.root, Stored::Ext(0, 3, leaf(3, 1)))]);
        // The root of one page is the page's extension: one hash above it.
        assert_eq!(r.root, ext_hash(0, 3, &leaf(3, 1)));
        let r2 = apply(&mut src, r.root, &[(3, leaf(3, 2))]);
        assert_eq!(r2.records.len(), 1);
        assert_eq!(r2.replaced_records, vec![r.root]);
        assert_eq!(r2.replaced_leaves, vec![leaf(3, 1)]);
    }

    /// A page's extension keeps its hash and record when it moves up (its
    /// sibling emptied) and down (a new sibling below its old height).
    #[test]
    fn an_extension_that_moves_keeps_its_record() {
        let mut src = MapSource::default();
        let root = apply(
            &mut src,
            empty_hashes()[TREE_DEPTH],
            &[(5, leaf(5, 1)), (1 << 31, leaf(9, 1))],
        )
        .root;
        let x5 = ext_hash(0, 5, &leaf(5, 1));
        assert!(reached(&src, root).contains(&x5));
        // Page 2^31 goes: page 5's extension becomes the root, unchanged.
        let up = apply(&mut src, root, &[(1 << 31, empty_hashes()[0])]);
        assert_eq!(up.root, x5);
        assert!(!up.replaced_records.contains(&x5));
        // Page 1024 comes: page 5's extension moves down below a branch at
        // height 11. It stays a record of the new tree, one that the old
        // tree already has: neither replaced nor new.
        let down = apply(&mut src, up.root, &[(1024, leaf(1024, 1))]);
        let model = BTreeMap::from([(5, leaf(5, 1)), (1024, leaf(1024, 1))]);
        assert_eq!(down.root, full_root(&model));
        assert!(!down.records.iter().any(|(x, _)| *x == x5));
        assert_eq!(down.records.len(), 3, "the branch and two extensions");
        assert!(!down.replaced_records.contains(&x5));
        assert!(reached(&src, down.root).contains(&x5));
    }

    #[test]
    fn proof_paths_end_at_the_page_or_the_extension_it_leaves() {
        let mut src = MapSource::default();
        let mut root = empty_hashes()[TREE_DEPTH];
        for i in [9u32, 12, 1 << 20] {
            root = apply(&mut src, root, &[(i, leaf(i, 3))]).root;
        }
        let empty = empty_hashes();
        for i in [9u32, 12, 1 << 20] {
            let proof = proof_path(&src, &root, PageIndex(i), &no_root).unwrap();
            assert_eq!(proof.end, None, "page {i} is present");
            assert!(
                proof
                    .siblings
                    .iter()
                    .enumerate()
                    .any(|(h, x)| *x != empty[h])
            );
        }
        // Page 8 leaves at page 9's extension (below the branch at height
        // 3 of pages 9 and 12), page 0 at the extension of that branch.
        let end = proof_path(&src, &root, PageIndex(8), &no_root).unwrap().end;
        assert_eq!(
            end,
            Some(ProofEnd {
                target_height: 0,
                prefix: 9,
                target: leaf(9, 3)
            })
        );
        let end = proof_path(&src, &root, PageIndex(0), &no_root).unwrap().end;
        assert_eq!(end.map(|e| (e.target_height, e.prefix)), Some((3, 8)));
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Random commits of several updates each: the root is the
        /// definition's, `records` is exactly what the new tree reaches and
        /// the old did not, `replaced_records` exactly the reverse, and the
        /// leaves and count follow a model.
        #[test]
        fn rebuilds_match_the_definition_and_account_for_every_record(
            commits in proptest::collection::vec(
                proptest::collection::btree_map(
                    prop_oneof![
                        0u32..16,
                        any::<u32>(),
                        (0u32..4).prop_map(|k| (k << 30) | 5),
                        Just(u32::MAX),
                    ],
                    0u8..4,
                    1..6,
                ),
                1..12,
            )
        ) {
            let mut src = MapSource::default();
            let mut model = BTreeMap::new();
            let mut root = empty_hashes()[TREE_DEPTH];
            for commit in &commits {
                let ups: Vec<(u32, Hash)> = commit
                    .iter()
                    .map(|(&i, &v)| (i, if v == 0 { empty_hashes()[0] } else { leaf(i, v) }))
                    .collect();
                let before: HashSet<Hash> = reached(&src, root).into_iter().collect();
                let count_before = model.len() as i64;
                let r = apply(&mut src, root, &ups);
                for (i, l) in &ups {
                    if *l == empty_hashes()[0] {
                        model.remove(i);
                    } else {
                        model.insert(*i, *l);
                    }
                }
                root = r.root;
                prop_assert_eq!(root, full_root(&model));
                prop_assert_eq!(r.count_delta, model.len() as i64 - count_before);
                let after: HashSet<Hash> = reached(&src, root).into_iter().collect();
                let new: HashSet<Hash> = r.records.iter().map(|(h, _)| *h).collect();
                let gone: HashSet<Hash> = r.replaced_records.iter().copied().collect();
                prop_assert_eq!(new.len(), r.records.len(), "a record twice");
                prop_assert_eq!(&new, &after.difference(&before).copied().collect());
                prop_assert_eq!(&gone, &before.difference(&after).copied().collect());
                for (i, l) in &model {
                    prop_assert_eq!(find_leaf(&src, &root, PageIndex(*i), &no_root).unwrap(), Some(*l));
                }
            }
        }
    }

    #[test]
    fn records_round_trip() {
        for s in [Stored::Branch([1; 32], [2; 32]), Stored::Ext(4, 7, [3; 32])] {
            assert_eq!(Stored::decode(&s.encode()), Some(s));
            assert_eq!(s.encode().len(), s.encoded_len());
        }
        assert_eq!(Stored::decode(&[0; 35]), None);
        let mut up = Stored::Ext(4, 7, [3; 32]).encode();
        up[0] = 32;
        assert_eq!(Stored::decode(&up), None);
    }
}
