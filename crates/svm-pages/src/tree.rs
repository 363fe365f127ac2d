//! The stored form of the Merkle tree, and the walks over it: find a leaf,
//! prove a leaf, rebuild a tree with new leaves.
//!
//! The hashes are those of the full sparse tree of depth 32 (see
//! [`crate::hash`]), so roots and proofs do not depend on how the tree is
//! stored. What is stored is path-compressed: only the nodes where two
//! non-empty subtrees meet (**branch records**) are stored, and a child of
//! a branch (or a root) that has only one non-empty descendant at some
//! lower height — a single page, or a lower branch — is stored as one
//! **extension record** pointing to it, instead of the chain of nodes with
//! an empty sibling in between. A contract with `n` non-empty pages stores
//! `n - 1` branch records and at most `2n - 1` extension records, and
//! committing one page writes about `log2(n) + 1` records, not 32.
//!
//! # Record encoding
//!
//! A record is stored under `N` ‖ the hash of its node (the hash the full
//! tree gives it):
//!
//! | kind | value size (bytes) | value |
//! |---|---|---|
//! | branch | 64 | left child hash (32) ‖ right child hash (32) |
//! | extension | 37 | target height `t` (1 byte, 0..=31) ‖ a page index under the target (`u32` BE) ‖ target hash (32) |
//!
//! An extension at height `h` means: every node between it and height `t`
//! has an empty sibling, and the node at height `t` on the path of the
//! page index is the target (a page hash when `t = 0`, else a branch). Its
//! hash is the target hashed up from height `t` to `h` with `EMPTY[k]` as
//! the sibling at each height `k`. A child hash equal to `EMPTY[h]` has no
//! record; a child at height 0 is a page hash, whose page is under `P` ‖
//! page hash.

use std::collections::BTreeMap;

use crate::hash::{Hash, TREE_DEPTH, empty_hashes, node_hash};
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
    /// height `h` (1..=32). Empty subtrees are left out.
    pub(crate) fn children(&self, h: usize) -> Vec<(Hash, usize)> {
        let empty = empty_hashes();
        match self {
            Stored::Branch(l, r) => [l, r]
                .into_iter()
                .filter(|c| **c != empty[h - 1])
                .map(|c| (*c, h - 1))
                .collect(),
            Stored::Ext(t, _, target) => vec![(*target, *t as usize)],
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

/// The hash at height `h` of a node whose only non-empty descendant at
/// height `t` is `target`, on the path of page `index`: `h - t` node
/// hashes.
pub(crate) fn ext_hash(h: usize, t: usize, index: u32, target: &Hash) -> Hash {
    let empty = empty_hashes();
    let mut cur = *target;
    for (k, e) in empty.iter().enumerate().take(h).skip(t) {
        cur = if (index >> k) & 1 == 0 {
            node_hash(&cur, e)
        } else {
            node_hash(e, &cur)
        };
    }
    cur
}

/// The mask of bits `t..h` of a page index.
fn bits(t: usize, h: usize) -> u32 {
    let high = if h >= 32 { u32::MAX } else { (1u32 << h) - 1 };
    let low = if t >= 32 { u32::MAX } else { (1u32 << t) - 1 };
    high & !low
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

/// The 32 siblings on the path of page `index` under `root` (see
/// [`crate::PageProof`]).
///
/// # Errors
/// As [`find_leaf`].
pub(crate) fn siblings(
    src: &impl NodeSource,
    root: &Hash,
    index: PageIndex,
    missing_root: &dyn Fn() -> PagesError,
) -> Result<[Hash; TREE_DEPTH], PagesError> {
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
                let diff = (j ^ index.0) & bits(t, h);
                if diff == 0 {
                    // Siblings between h and t are empty.
                    cur = target;
                    h = t;
                    continue;
                }
                // The path of `index` leaves the target's at height `d`:
                // there the sibling holds the target alone; below it, all
                // siblings are empty.
                let d = 31 - diff.leading_zeros() as usize;
                siblings[d] = ext_hash(d, t, j, &target);
                break;
            }
        }
    }
    Ok(siblings)
}

/// What a subtree holds, as far as a rebuild knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// No non-empty leaf.
    Empty,
    /// One non-empty descendant at height `.0`, on the path of page `.1`:
    /// `.2`, a page hash (`.0 = 0`) or a branch. A node at height 0 with a
    /// page is `Narrow(0, index, page hash, false)` itself. `.3`: the node
    /// has an extension record in the old tree (dropped if a node above
    /// takes its place as the extension).
    Narrow(usize, u32, Hash, bool),
    /// The node is a branch (two non-empty children).
    Wide,
    /// An untouched stored subtree, not loaded.
    Other,
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
    /// Records of the new tree on the changed paths (hash, record); every
    /// other record of the new tree is a record of the old one.
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
}

/// Rebuilds the tree of `root` with `updates` (page index → new leaf,
/// `EMPTY[0]` for an empty page; strictly ascending indices).
///
/// # Errors
/// As [`find_leaf`].
pub(crate) fn rebuild(
    src: &impl NodeSource,
    root: &Hash,
    updates: &[(u32, Hash)],
    missing_root: &dyn Fn() -> PagesError,
) -> Result<Rebuilt, PagesError> {
    let mut r = Rebuild {
        src,
        out: Rebuilt::default(),
        missing_root,
    };
    let (hash, shape) = r.update(TREE_DEPTH, 0, Cur::Stored(*root), updates)?;
    if let Shape::Narrow(t, j, target, _) = shape {
        r.out.records.push((hash, Stored::Ext(t as u8, j, target)));
    }
    r.out.root = hash;
    if hash == *root {
        // Nothing changed (every write rewrote a page's own content).
        r.out.records.clear();
        r.out.replaced_records.clear();
        r.out.replaced_leaves.clear();
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
    ) -> Result<(Hash, Shape), PagesError> {
        let empty = empty_hashes();
        if h == 0 {
            let old = match cur {
                Cur::Stored(x) => x,
                Cur::Ext(..) => empty[0], // unreachable: extensions end above 0
            };
            let (index, new) = updates[updates.len() - 1];
            self.leaf_change(old, new);
            let shape = if new == empty[0] {
                Shape::Empty
            } else {
                Shape::Narrow(0, index, new, false)
            };
            return Ok((new, shape));
        }
        let (children, stored) = match cur {
            Cur::Stored(x) if x == empty[h] => {
                let mut leaves = BTreeMap::new();
                for (i, leaf) in updates {
                    self.leaf_change(empty[0], *leaf);
                    if *leaf != empty[0] {
                        leaves.insert(*i, *leaf);
                    }
                }
                let leaves: Vec<_> = leaves.into_iter().collect();
                return Ok(self.build(h, pos, &leaves));
            }
            Cur::Stored(x) => match must_record(self.src, &x, h, self.missing_root)? {
                Stored::Branch(l, r) => ([Cur::Stored(l), Cur::Stored(r)], Some(x)),
                Stored::Ext(t, j, target) => (expand(h, t as usize, j, target), Some(x)),
            },
            Cur::Ext(t, j, target) => (expand(h, t, j, target), None),
        };
        let bit = 1u32 << (h - 1);
        let split = updates.partition_point(|(i, _)| i & bit == 0);
        let (lu, ru) = updates.split_at(split);
        let left = if lu.is_empty() {
            self.untouched(h - 1, children[0])
        } else {
            self.update(h - 1, pos << 1, children[0], lu)?
        };
        let right = if ru.is_empty() {
            self.untouched(h - 1, children[1])
        } else {
            self.update(h - 1, (pos << 1) | 1, children[1], ru)?
        };
        let mut result = self.combine(h, pos, left, right)?;
        if let Some(x) = stored {
            if result.0 != x {
                self.out.replaced_records.push(x);
            } else if let Shape::Narrow(t, j, target, _) = result.1 {
                result.1 = Shape::Narrow(t, j, target, true);
            }
        }
        Ok(result)
    }

    /// The hash and shape of an untouched child at height `h`.
    fn untouched(&self, h: usize, cur: Cur) -> (Hash, Shape) {
        match cur {
            Cur::Stored(x) if x == empty_hashes()[h] => (x, Shape::Empty),
            Cur::Stored(x) => (x, Shape::Other),
            Cur::Ext(t, j, target) => (
                ext_hash(h, t, j, &target),
                Shape::Narrow(t, j, target, false),
            ),
        }
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

    /// The subtree of height `h` at `pos` holding exactly `leaves`
    /// (non-empty, ascending indices, all inside the subtree).
    fn build(&mut self, h: usize, pos: u32, leaves: &[(u32, Hash)]) -> (Hash, Shape) {
        match leaves {
            [] => (empty_hashes()[h], Shape::Empty),
            [(j, leaf)] => (ext_hash(h, 0, *j, leaf), Shape::Narrow(0, *j, *leaf, false)),
            _ => {
                let bit = 1u32 << (h - 1);
                let split = leaves.partition_point(|(i, _)| i & bit == 0);
                let left = self.build(h - 1, pos << 1, &leaves[..split]);
                let right = self.build(h - 1, (pos << 1) | 1, &leaves[split..]);
                self.branch(h, pos, left, right)
            }
        }
    }

    /// The node at height `h` over two new children, where one may be an
    /// untouched subtree of unknown shape.
    fn combine(
        &mut self,
        h: usize,
        pos: u32,
        left: (Hash, Shape),
        right: (Hash, Shape),
    ) -> Result<(Hash, Shape), PagesError> {
        // Beside an empty child, an untouched child's shape decides what
        // this node is: load it.
        let resolve = |this: &Self,
                       side: u32,
                       (x, shape): (Hash, Shape)|
         -> Result<(Hash, Shape), PagesError> {
            if shape != Shape::Other {
                return Ok((x, shape));
            }
            let child = (pos << 1) | side;
            if h - 1 == 0 {
                return Ok((x, Shape::Narrow(0, child, x, false)));
            }
            Ok(match must_record(this.src, &x, h - 1, this.missing_root)? {
                Stored::Ext(t, j, target) => (x, Shape::Narrow(t as usize, j, target, true)),
                Stored::Branch(..) => (x, Shape::Wide),
            })
        };
        let (left, right) = match (left.1, right.1) {
            (Shape::Empty, Shape::Other) => (left, resolve(self, 1, right)?),
            (Shape::Other, Shape::Empty) => (resolve(self, 0, left)?, right),
            _ => (left, right),
        };
        Ok(self.branch(h, pos, left, right))
    }

    /// The node at height `h`, position `pos`, over two children whose
    /// shapes are known (or `Other` beside a non-empty sibling).
    fn branch(
        &mut self,
        h: usize,
        pos: u32,
        left: (Hash, Shape),
        right: (Hash, Shape),
    ) -> (Hash, Shape) {
        let hash = node_hash(&left.0, &right.0);
        let child_index = |side: u32| ((pos << 1) | side).checked_shl((h - 1) as u32).unwrap_or(0);
        match (left.1, right.1) {
            (Shape::Empty, Shape::Empty) => (empty_hashes()[h], Shape::Empty),
            (Shape::Narrow(t, j, x, stored), Shape::Empty)
            | (Shape::Empty, Shape::Narrow(t, j, x, stored)) => {
                // This node takes the child's place as the extension.
                if stored {
                    let child = if left.1 == Shape::Empty {
                        right.0
                    } else {
                        left.0
                    };
                    self.out.replaced_records.push(child);
                }
                (hash, Shape::Narrow(t, j, x, false))
            }
            (Shape::Wide, Shape::Empty) => {
                (hash, Shape::Narrow(h - 1, child_index(0), left.0, false))
            }
            (Shape::Empty, Shape::Wide) => {
                (hash, Shape::Narrow(h - 1, child_index(1), right.0, false))
            }
            _ => {
                for (child, shape) in [left, right] {
                    if let Shape::Narrow(t, j, target, _) = shape
                        && h - 1 > t
                    {
                        self.out
                            .records
                            .push((child, Stored::Ext(t as u8, j, target)));
                    }
                }
                self.out
                    .records
                    .push((hash, Stored::Branch(left.0, right.0)));
                (hash, Shape::Wide)
            }
        }
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
    use std::collections::HashMap;

    /// A source over a map, and the full tree computed the slow way.
    #[derive(Default)]
    struct MapSource(HashMap<Hash, Stored>);

    impl NodeSource for MapSource {
        fn record(&self, hash: &Hash, _h: usize) -> Result<Option<Stored>, PagesError> {
            Ok(self.0.get(hash).copied())
        }
    }

    fn full_root(leaves: &BTreeMap<u32, Hash>) -> Hash {
        // The full tree, level by level, with no compression.
        let empty = empty_hashes();
        let mut level: BTreeMap<u64, Hash> =
            leaves.iter().map(|(i, l)| (u64::from(*i), *l)).collect();
        for e in empty.iter().take(TREE_DEPTH) {
            let mut next = BTreeMap::new();
            for (&p, _) in level.iter() {
                let parent = p >> 1;
                if next.contains_key(&parent) {
                    continue;
                }
                let l = level.get(&(parent << 1)).copied().unwrap_or(*e);
                let r = level.get(&((parent << 1) | 1)).copied().unwrap_or(*e);
                next.insert(parent, node_hash(&l, &r));
            }
            level = next;
        }
        level.get(&0).copied().unwrap_or(empty[TREE_DEPTH])
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

    #[test]
    fn roots_match_the_full_tree_and_records_stay_few() {
        let mut src = MapSource::default();
        let mut model = BTreeMap::new();
        let mut root = empty_hashes()[TREE_DEPTH];
        let indices = [0u32, 1, 5, 1 << 31, 7, 6, 1000, u32::MAX, 2, 3];
        for (n, i) in indices.iter().enumerate() {
            let l = leaf(*i, n as u8);
            let r = apply(&mut src, root, &[(*i, l)]);
            model.insert(*i, l);
            root = r.root;
            assert_eq!(root, full_root(&model), "after inserting page {i}");
            // One path: about log2(n) + 1 records, never 32.
            assert!(
                r.records.len() <= 2 * (n + 1),
                "{} records",
                r.records.len()
            );
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
    fn one_page_costs_one_record() {
        let mut src = MapSource::default();
        let r = apply(&mut src, empty_hashes()[TREE_DEPTH], &[(3, leaf(3, 1))]);
        assert_eq!(r.records.len(), 1);
        let r2 = apply(&mut src, r.root, &[(3, leaf(3, 2))]);
        assert_eq!(r2.records.len(), 1);
        assert_eq!(r2.replaced_records, vec![r.root]);
        assert_eq!(r2.replaced_leaves, vec![leaf(3, 1)]);
    }

    #[test]
    fn siblings_verify_for_present_and_absent_pages() {
        let mut src = MapSource::default();
        let mut root = empty_hashes()[TREE_DEPTH];
        let mut model = BTreeMap::new();
        for i in [9u32, 12, 1 << 20] {
            let l = leaf(i, 3);
            root = apply(&mut src, root, &[(i, l)]).root;
            model.insert(i, l);
        }
        let empty = empty_hashes();
        for i in [9u32, 12, 1 << 20, 8, 13, 0, u32::MAX] {
            let s = siblings(&src, &root, PageIndex(i), &no_root).unwrap();
            let mut cur = model.get(&i).copied().unwrap_or(empty[0]);
            for (h, sib) in s.iter().enumerate() {
                cur = if (i >> h) & 1 == 0 {
                    node_hash(&cur, sib)
                } else {
                    node_hash(sib, &cur)
                };
            }
            assert_eq!(cur, root, "proof of page {i}");
        }
    }

    /// Storage format 1 stored a branch record at every height of a path,
    /// one child empty where nothing branches: such trees still read,
    /// prove and take writes (which store compressed records).
    #[test]
    fn uncompressed_format_1_trees_still_work() {
        let empty = empty_hashes();
        let mut src = MapSource::default();
        let (index, l) = (5u32, leaf(5, 1));
        let mut cur = l;
        for (h, e) in empty.iter().enumerate().take(TREE_DEPTH) {
            let (a, b) = if (index >> h) & 1 == 0 {
                (cur, *e)
            } else {
                (*e, cur)
            };
            cur = node_hash(&a, &b);
            src.0.insert(cur, Stored::Branch(a, b));
        }
        let root = cur;
        let mut model = BTreeMap::from([(index, l)]);
        assert_eq!(root, full_root(&model));
        assert_eq!(
            find_leaf(&src, &root, PageIndex(5), &no_root).unwrap(),
            Some(l)
        );
        assert_eq!(
            find_leaf(&src, &root, PageIndex(4), &no_root).unwrap(),
            None
        );
        let s = siblings(&src, &root, PageIndex(5), &no_root).unwrap();
        assert_eq!(s.to_vec(), empty[..TREE_DEPTH].to_vec());
        let r = apply(&mut src, root, &[(9, leaf(9, 2))]);
        model.insert(9, leaf(9, 2));
        assert_eq!(r.root, full_root(&model));
        assert_eq!(
            find_leaf(&src, &r.root, PageIndex(5), &no_root).unwrap(),
            Some(l)
        );
        let r2 = apply(&mut src, r.root, &[(5, empty[0])]);
        model.remove(&5);
        assert_eq!(r2.root, full_root(&model));
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
