//! Page contents by position (storage format 6): each page's newest
//! content under its (contract, page index), older contents as undo deltas.
//!
//! A **slot** is one (contract, page index). Its newest content is a
//! **base** image, written whole now and then, plus the slot's **head**: the
//! newest content's page hash and the bytes where it differs from the base.
//! Each write that replaces a content can leave an **undo** record: the
//! replaced content's page hash and its bytes where the new content
//! differs. So a page write that changes 8 bytes writes about a hundred
//! bytes, not 4096, and the store still reads any content a kept state
//! reaches: the tree gives the page hash, the slot's head or the chain of
//! undo records back from it gives the bytes, and the bytes are checked
//! against the hash.
//!
//! | key | key size (bytes) | value |
//! |---|---|---|
//! | `L` (0x4c) ‖ address ‖ page index (`u32` BE) | 25 | base: 4096 bytes of content (absent: a zero base) |
//! | `D` (0x44) ‖ address ‖ page index | 25 | head: write count (`u64` BE) ‖ page hash of the newest content (32; zeros for a zero page) ‖ delta from the base |
//! | `U` (0x55) ‖ address ‖ page index ‖ `!n` (`u64` BE) | 33 | undo of the slot's `n`-th write: page hash of the content it replaced (32) ‖ delta from the new content back to the replaced one |
//!
//! A **delta** is a list of runs at increasing, non-overlapping offsets,
//! each `offset` (`u16` BE) ‖ `kind_len` (`u16` BE) ‖ a body, with
//! `offset + len <= 4096` and `len >= 1`:
//!
//! - a **literal** (`kind_len` = `len` < 0x8000): `len` bytes, copied to
//!   `offset`;
//! - a **copy** (`kind_len` = 0x8000 | `len`): `src` (`u16` BE, `src + len
//!   <= 4096`), and `len` bytes of the page the delta applies to, read at
//!   `src` before any run applies, go to `offset`.
//!
//! A head's delta holds literals of whole 8-byte words only. An undo
//! record's delta may copy: a map insert shifts a page's entries, and
//! the bytes the insert replaced are mostly still in the new content a few
//! bytes away, so the undo record names them instead of repeating them.
//! `!n` is the bitwise complement, so the undo records of a slot list
//! newest first.
//!
//! A head's delta grows with each write (it holds every word that differs
//! from the base, or did since the base was written); once it would pass
//! [`DELTA_MAX_BYTES`], the write stores the whole page as the new base and
//! an empty delta.

use svm_kv::{Bytes, KvStore, WriteBatch};

use crate::hash::{Hash, empty_hashes, leaf_hash};
use crate::{Address, PAGE_SIZE, Page, PageHash, PageIndex, PagesError};

/// Namespace byte of slot bases.
pub(crate) const BASE_NS: u8 = b'L';
/// Namespace byte of slot heads.
pub(crate) const HEAD_NS: u8 = b'D';
/// Namespace byte of undo records.
pub(crate) const UNDO_NS: u8 = b'U';

/// The largest encoded delta (in bytes) a slot head holds; a write whose
/// delta from the base would be larger writes the whole 4096-byte page as
/// the new base instead. 512 bytes balances the two costs of a page that
/// keeps changing a few words: the head rewritten on each write (on
/// average half this size) and a whole page every so often.
pub const DELTA_MAX_BYTES: usize = 512;

/// Words (8 bytes) in a page.
const WORDS: usize = PAGE_SIZE / 8;

/// One bit per 8-byte word of a page.
type WordMask = [u64; WORDS / 64];

/// `ns` ‖ address ‖ page index.
pub(crate) fn slot_key(ns: u8, address: &Address, index: PageIndex) -> [u8; 25] {
    let mut k = [0u8; 25];
    k[0] = ns;
    k[1..21].copy_from_slice(address.as_bytes());
    k[21..].copy_from_slice(&index.0.to_be_bytes());
    k
}

/// The length of an undo key, in bytes.
pub(crate) const UNDO_KEY_LEN: usize = 33;

/// `U` ‖ address ‖ page index ‖ `!n`.
pub(crate) fn undo_key(address: &Address, index: PageIndex, n: u64) -> [u8; UNDO_KEY_LEN] {
    let mut k = [0u8; 33];
    k[..25].copy_from_slice(&slot_key(UNDO_NS, address, index));
    k[25..].copy_from_slice(&(!n).to_be_bytes());
    k
}

/// A slot's head.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    /// How many writes the slot has had.
    pub(crate) writes: u64,
    /// The leaf of the newest content (`EMPTY[0]` for a zero page).
    pub(crate) leaf: Hash,
    /// The encoded delta from the base.
    pub(crate) delta: Bytes,
}

impl Head {
    fn decode(v: Bytes) -> Option<Self> {
        if v.len() < 40 {
            return None;
        }
        let writes = u64::from_be_bytes(v[..8].try_into().ok()?);
        let leaf: Hash = v[8..40].try_into().ok()?;
        Some(Self {
            writes,
            leaf,
            delta: v.slice(40..),
        })
    }

    fn encode(writes: u64, leaf: &Hash, delta: &[u8]) -> Vec<u8> {
        let mut v = Vec::with_capacity(40 + delta.len());
        v.extend_from_slice(&writes.to_be_bytes());
        v.extend_from_slice(leaf);
        v.extend_from_slice(delta);
        v
    }
}

fn corrupt(address: &Address, index: PageIndex, what: &str) -> PagesError {
    PagesError::Corrupt(format!("{index} of {address}: {what}"))
}

/// The top bit of a run's `kind_len`: a copy.
const COPY: u16 = 0x8000;

/// One run of a delta.
enum Run<'a> {
    /// Bytes to put at `offset`.
    Literal(usize, &'a [u8]),
    /// `(offset, len, src)`: bytes `src..src + len` of the page before the
    /// delta, to put at `offset`.
    Copy(usize, usize, usize),
}

/// The runs of `delta`, checked against the rules of the module docs.
///
/// # Errors
/// `Err(())` for a malformed delta (a run past the page's end, an empty
/// or truncated run, or offsets out of order).
fn runs(delta: &[u8]) -> Result<Vec<Run<'_>>, ()> {
    let mut out = Vec::new();
    let mut at = 0;
    let mut next = 0usize;
    while at < delta.len() {
        let head = delta.get(at..at + 4).ok_or(())?;
        let offset = usize::from(u16::from_be_bytes([head[0], head[1]]));
        let kind_len = u16::from_be_bytes([head[2], head[3]]);
        let len = usize::from(kind_len & !COPY);
        if offset < next || offset + len > PAGE_SIZE || len == 0 {
            return Err(());
        }
        if kind_len & COPY == 0 {
            out.push(Run::Literal(
                offset,
                delta.get(at + 4..at + 4 + len).ok_or(())?,
            ));
            at += 4 + len;
        } else {
            let src = delta.get(at + 4..at + 6).ok_or(())?;
            let src = usize::from(u16::from_be_bytes([src[0], src[1]]));
            if src + len > PAGE_SIZE {
                return Err(());
            }
            out.push(Run::Copy(offset, len, src));
            at += 6;
        }
        next = offset + len;
    }
    Ok(out)
}

/// Applies `delta` to `page`.
///
/// # Errors
/// `Err(())` for a malformed delta ([`runs`]).
fn apply(page: &mut Page, delta: &[u8]) -> Result<(), ()> {
    let runs = runs(delta)?;
    let before = runs
        .iter()
        .any(|r| matches!(r, Run::Copy(..)))
        .then(|| Box::new(*page));
    for run in runs {
        match (run, &before) {
            (Run::Literal(offset, bytes), _) => {
                page[offset..offset + bytes.len()].copy_from_slice(bytes);
            }
            (Run::Copy(offset, len, src), Some(before)) => {
                page[offset..offset + len].copy_from_slice(&before[src..src + len]);
            }
            (Run::Copy(..), None) => return Err(()),
        }
    }
    Ok(())
}

/// The words a head's delta covers (its literals; a head has no copies,
/// and a malformed delta fails when applied).
fn covered(delta: &[u8]) -> WordMask {
    let mut mask = [0u64; WORDS / 64];
    for run in runs(delta).unwrap_or_default() {
        if let Run::Literal(offset, bytes) = run {
            let end = (offset + bytes.len()).div_ceil(8).min(WORDS);
            for w in offset / 8..end {
                mask[w / 64] |= 1 << (w % 64);
            }
        }
    }
    mask
}

/// A copy is tried for changed stretches at least this long (bytes).
const MIN_COPY: usize = 32;
/// How far from a stretch (bytes, each way) its bytes are looked for.
const COPY_WINDOW: usize = 512;
/// After a failed look, this many bytes go as a literal before the next;
/// each further failure in the same stretch doubles it.
const COPY_RETRY: usize = 64;
/// Looks per page at most: a page whose content alternates changed and
/// unchanged words (which a contract can write) costs at most this many
/// looks of at most `2 × COPY_WINDOW` compares each (a map insert needs
/// one or two per stretch).
const MAX_COPY_LOOKS: usize = 32;

/// Where in `new`, other than at `pos` and within [`COPY_WINDOW`] bytes of
/// it, the [`MIN_COPY`] bytes of `needle` are: the nearest such place, the
/// later one of two as near. The window's places that start with the
/// needle's first byte are found with `memchr` (SIMD), then compared whole.
fn find_moved(new: &Page, needle: &[u8], pos: usize) -> Option<usize> {
    let last = PAGE_SIZE.checked_sub(needle.len())?;
    let lo = pos.saturating_sub(COPY_WINDOW);
    let hi = (pos + COPY_WINDOW).min(last);
    if lo > hi {
        return None;
    }
    let mut best: Option<usize> = None;
    for off in memchr::memchr_iter(*needle.first()?, &new[lo..=hi]) {
        let src = lo + off;
        let d = src.abs_diff(pos);
        if src == pos {
            continue;
        }
        if let Some(b) = best {
            let bd = b.abs_diff(pos);
            if d > bd {
                // Places only get farther from here on.
                if src > pos {
                    break;
                }
                continue;
            }
            if d == bd && b > pos {
                continue;
            }
        }
        if new[src..src + needle.len()] == *needle {
            best = Some(src);
        }
    }
    best
}

/// The undo delta that turns `new` back into `old`, where `changed` marks
/// the words that differ: literals of `old`'s bytes, and copies from `new`
/// where a stretch of at least [`MIN_COPY`] bytes of `old` is found in
/// `new` within [`COPY_WINDOW`] bytes (an insert into a sorted page
/// shifts its entries; the replaced bytes are still there, moved).
fn encode_undo(changed: &WordMask, old: &Page, new: &Page, out: &mut Vec<u8>) {
    let literal = |out: &mut Vec<u8>, from: usize, to: usize| {
        // Stretches are shorter than 4096 < 0x8000 bytes.
        let mut at = from;
        while at < to {
            let end = to.min(at + 0x7fff);
            out.extend_from_slice(&(at as u16).to_be_bytes());
            out.extend_from_slice(&((end - at) as u16).to_be_bytes());
            out.extend_from_slice(&old[at..end]);
            at = end;
        }
    };
    let mut looks = MAX_COPY_LOOKS;
    for (a, b) in stretches(changed) {
        let (mut pos, mut lit) = (a, a);
        let mut next_try = a;
        let mut retry = COPY_RETRY;
        while pos + MIN_COPY <= b && looks > 0 {
            if pos < next_try {
                pos = next_try;
                continue;
            }
            looks -= 1;
            match find_moved(new, &old[pos..pos + MIN_COPY], pos) {
                Some(src) => {
                    let mut len = MIN_COPY;
                    let most = (b - pos).min(PAGE_SIZE - src);
                    while len + 8 <= most
                        && old[pos + len..pos + len + 8] == new[src + len..src + len + 8]
                    {
                        len += 8;
                    }
                    while len < most && old[pos + len] == new[src + len] {
                        len += 1;
                    }
                    literal(out, lit, pos);
                    out.extend_from_slice(&(pos as u16).to_be_bytes());
                    out.extend_from_slice(&(COPY | len as u16).to_be_bytes());
                    out.extend_from_slice(&(src as u16).to_be_bytes());
                    pos += len;
                    lit = pos;
                    next_try = pos;
                    retry = COPY_RETRY;
                }
                None => {
                    next_try = pos + retry;
                    retry *= 2;
                    pos += 1;
                }
            }
        }
        literal(out, lit, b);
    }
}

/// The words where `a` and `b` differ, added to `mask`.
fn differing(a: &Page, b: &Page, mask: &mut WordMask) {
    for (w, (x, y)) in a.chunks_exact(8).zip(b.chunks_exact(8)).enumerate() {
        if x != y {
            mask[w / 64] |= 1 << (w % 64);
        }
    }
}

/// The byte ranges of the stretches of marked words of `mask`, in order.
fn stretches(mask: &WordMask) -> impl Iterator<Item = (usize, usize)> + '_ {
    let marked = |w: usize| mask[w / 64] >> (w % 64) & 1 == 1;
    let mut w = 0;
    std::iter::from_fn(move || {
        while w < WORDS && !marked(w) {
            w += 1;
        }
        if w == WORDS {
            return None;
        }
        let start = w;
        while w < WORDS && marked(w) {
            w += 1;
        }
        Some((start * 8, w * 8))
    })
}

/// The delta that copies `src`'s bytes at the words of `mask`: one run per
/// stretch of marked words.
fn encode(mask: &WordMask, src: &Page) -> Vec<u8> {
    let mut out = Vec::new();
    for (offset, end) in stretches(mask) {
        let len = end - offset;
        // Both fit: offset < 4096 and len <= 4096 < 65536.
        out.extend_from_slice(&(offset as u16).to_be_bytes());
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(&src[offset..offset + len]);
    }
    out
}

/// A slot's head, if it was ever written.
///
/// # Errors
/// [`PagesError::Corrupt`] for a malformed head, [`PagesError::Kv`].
pub(crate) fn head(
    kv: &impl KvStore,
    address: &Address,
    index: PageIndex,
) -> Result<Option<Head>, PagesError> {
    match kv.get(&slot_key(HEAD_NS, address, index))? {
        None => Ok(None),
        Some(v) => Head::decode(v)
            .map(Some)
            .ok_or_else(|| corrupt(address, index, "malformed slot head")),
    }
}

/// The newest content of a slot whose head is `head`.
///
/// # Errors
/// [`PagesError::Corrupt`], [`PagesError::Kv`].
pub(crate) fn newest(
    kv: &impl KvStore,
    address: &Address,
    index: PageIndex,
    head: &Head,
) -> Result<Box<Page>, PagesError> {
    let mut page = Box::new([0u8; PAGE_SIZE]);
    if head.leaf == empty_hashes()[0] {
        return Ok(page);
    }
    if let Some(base) = kv.get(&slot_key(BASE_NS, address, index))? {
        if base.len() != PAGE_SIZE {
            return Err(corrupt(address, index, "base is not 4096 bytes"));
        }
        page.copy_from_slice(&base);
    }
    apply(&mut page, &head.delta).map_err(|()| corrupt(address, index, "malformed head delta"))?;
    Ok(page)
}

/// The content of page `index` of `address` whose page hash is `leaf` (not
/// `EMPTY[0]`): the slot's newest content, or an older one rebuilt from
/// the undo records, newest first. The result is checked against `leaf`.
///
/// # Errors
/// [`PagesError::Corrupt`] when no kept content has that hash or what the
/// records give does not hash to it; [`PagesError::Kv`].
pub(crate) fn content(
    kv: &impl KvStore,
    address: &Address,
    index: PageIndex,
    leaf: &Hash,
) -> Result<Box<Page>, PagesError> {
    let missing = || {
        corrupt(
            address,
            index,
            &format!("content {} is missing", PageHash(*leaf)),
        )
    };
    let head = head(kv, address, index)?.ok_or_else(missing)?;
    let mut page = newest(kv, address, index, &head)?;
    let mut found = head.leaf == *leaf;
    if !found {
        let mut bad = false;
        kv.visit_prefix(&slot_key(UNDO_NS, address, index), &mut |_, v| {
            let Some(before) = v.get(..32) else {
                bad = true;
                return false;
            };
            if apply(&mut page, &v[32..]).is_err() {
                bad = true;
                return false;
            }
            found = before == leaf;
            !found
        })?;
        if bad {
            return Err(corrupt(address, index, "malformed undo record"));
        }
    }
    if !found {
        return Err(missing());
    }
    if leaf_hash(address, index, &page) != *leaf {
        return Err(corrupt(
            address,
            index,
            &format!("content does not hash to {}", PageHash(*leaf)),
        ));
    }
    Ok(page)
}

/// What [`write`] put in a batch.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Written {
    /// Whole pages written as a new base.
    pub(crate) bases: usize,
    /// The undo key written, if any.
    pub(crate) undo: Option<[u8; 33]>,
    /// Whether the write replaced a non-zero content (which no later
    /// state reaches at this slot unless written again).
    pub(crate) replaced: bool,
}

/// One slot write: from the slot's newest content to a new one.
pub(crate) struct Change<'a> {
    /// The slot's head (`None`: never written).
    pub(crate) head: Option<&'a Head>,
    /// The slot's newest content (zeros when never written).
    pub(crate) old: &'a Page,
    /// The new content.
    pub(crate) new: &'a Page,
    /// The new content's leaf.
    pub(crate) new_leaf: &'a Hash,
}

/// Adds to `batch` the writes that make `change.new` the newest content of
/// page `index` of `address`; with `undo`, also the undo record that gives
/// `change.old` back.
pub(crate) fn write(
    batch: &mut WriteBatch,
    address: &Address,
    index: PageIndex,
    change: Change<'_>,
    undo: bool,
) -> Written {
    let Change {
        head,
        old,
        new,
        new_leaf,
    } = change;
    let (writes, old_leaf, delta) = match head {
        Some(h) => (h.writes, h.leaf, &h.delta[..]),
        None => (0, empty_hashes()[0], &[][..]),
    };
    let writes = writes + 1;
    let mut changed = [0u64; WORDS / 64];
    differing(old, new, &mut changed);
    let mut out = Written {
        replaced: old_leaf != empty_hashes()[0],
        ..Written::default()
    };
    // A slot never written has no older content to give back.
    if undo && head.is_some() {
        let key = undo_key(address, index, writes);
        // About the changed bytes and a few run headers: one allocation.
        let changed_bytes = changed
            .iter()
            .map(|m| m.count_ones() as usize)
            .sum::<usize>()
            * 8;
        let mut v = Vec::with_capacity(32 + changed_bytes + 64);
        v.extend_from_slice(&old_leaf);
        encode_undo(&changed, old, new, &mut v);
        batch.put(Bytes::copy_from_slice(&key), v);
        out.undo = Some(key);
    }
    let mut mask = covered(delta);
    for (m, c) in mask.iter_mut().zip(changed) {
        *m |= c;
    }
    let words = mask.iter().map(|m| m.count_ones() as usize).sum::<usize>();
    // A zero page frees the base; otherwise the delta if it is small
    // enough (8 bytes a word and 4 a run: the word count bounds it from
    // below without building it).
    let delta = (*new_leaf != empty_hashes()[0] && words * 8 < DELTA_MAX_BYTES)
        .then(|| encode(&mask, new))
        .filter(|d| d.len() <= DELTA_MAX_BYTES);
    let head_key = Bytes::copy_from_slice(&slot_key(HEAD_NS, address, index));
    match delta {
        Some(delta) => batch.put(head_key, Head::encode(writes, new_leaf, &delta)),
        None => {
            let base_key = Bytes::copy_from_slice(&slot_key(BASE_NS, address, index));
            if *new_leaf == empty_hashes()[0] {
                batch.delete(base_key);
            } else {
                batch.put(base_key, new.to_vec());
                out.bases = 1;
            }
            batch.put(head_key, Head::encode(writes, new_leaf, &[]))
        }
    };
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_round_trip_and_bad_ones_are_refused() {
        let a = [3u8; PAGE_SIZE];
        let mut b = a;
        b[9] = 7;
        b[4095] = 1;
        let mut mask = [0u64; WORDS / 64];
        differing(&a, &b, &mut mask);
        let d = encode(&mask, &b);
        assert_eq!(d.len(), 2 * (4 + 8));
        let mut page = a;
        apply(&mut page, &d).unwrap();
        assert_eq!(page, b);
        assert_eq!(covered(&d), mask);
        // A run past the end, a truncated run, runs out of order.
        assert!(apply(&mut page, &[0x0f, 0xfc, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8]).is_err());
        assert!(apply(&mut page, &[0, 0, 0, 8, 1]).is_err());
        let backwards = [&d[12..], &d[..12]].concat();
        assert!(apply(&mut page, &backwards).is_err());
        // A copy reaching past the page's end.
        assert!(apply(&mut page, &[0, 0, 0x80, 8, 0x0f, 0xfc]).is_err());
    }

    fn undo_round_trip(old: &Page, new: &Page) -> usize {
        let mut changed = [0u64; WORDS / 64];
        differing(old, new, &mut changed);
        let mut undo = Vec::new();
        encode_undo(&changed, old, new, &mut undo);
        let mut page = *new;
        apply(&mut page, &undo).unwrap();
        assert_eq!(page[..], old[..]);
        undo.len()
    }

    /// The nearest-first search, one place at a time: the model of
    /// `find_moved`.
    fn find_moved_model(new: &Page, needle: &[u8], pos: usize) -> Option<usize> {
        let last = PAGE_SIZE - needle.len();
        let at = |src: usize| src <= last && new[src..src + needle.len()] == *needle;
        (1..=COPY_WINDOW).find_map(|d| {
            if at(pos + d) {
                Some(pos + d)
            } else {
                pos.checked_sub(d).filter(|&src| at(src))
            }
        })
    }

    proptest::proptest! {
        /// `find_moved` finds what the one-place-at-a-time search finds, on
        /// periodic pages (the needle at many places, as near on both
        /// sides), with a few bytes changed, and shifted copies.
        #[test]
        fn find_moved_is_the_nearest_first_search(
            pattern in proptest::collection::vec(0u8..4, 80),
            period in 1usize..80,
            noise in proptest::collection::vec((0usize..PAGE_SIZE, 0u8..4), 0..40),
            pos in 0usize..PAGE_SIZE - MIN_COPY,
            shift in -600i64..600,
        ) {
            let mut new = [0u8; PAGE_SIZE];
            for (i, b) in new.iter_mut().enumerate() {
                *b = pattern[i % period];
            }
            for (at, b) in noise {
                new[at] = b;
            }
            let from = (pos as i64 + shift).clamp(0, (PAGE_SIZE - MIN_COPY) as i64) as usize;
            for needle in [&new[from..from + MIN_COPY], &new[pos..pos + MIN_COPY], &[9u8; MIN_COPY][..]] {
                proptest::prop_assert_eq!(
                    find_moved(&new, needle, pos),
                    find_moved_model(&new, needle, pos)
                );
            }
        }
    }

    /// An insert into a sorted page of 28-byte entries (a token's map leaf)
    /// shifts the entries after it: the undo record copies them back from
    /// where they moved instead of holding them.
    #[test]
    fn an_undo_of_a_shift_copies() {
        let mut old = [0u8; PAGE_SIZE];
        for (i, b) in old[8..8 + 100 * 28].iter_mut().enumerate() {
            *b = (i * 7 + i / 28) as u8;
        }
        let mut new = old;
        new[8 + 10 * 28..8 + 101 * 28].copy_from_slice(&old[8 + 9 * 28..8 + 100 * 28]);
        new[4] = 1;
        let len = undo_round_trip(&old, &new);
        assert!(len < 120, "{len} bytes");
        // Unrelated content: literals only, still exact.
        let other = [0x5au8; PAGE_SIZE];
        assert!(undo_round_trip(&old, &other) > PAGE_SIZE - 200);
        assert!(undo_round_trip(&other, &old) > PAGE_SIZE);
    }

    /// Changed and unchanged words alternating (the most stretches a page
    /// can have, each long enough to look for moved bytes): the looks stop
    /// at `MAX_COPY_LOOKS` and the undo is still exact.
    #[test]
    fn many_stretches_round_trip() {
        let old = [9u8; PAGE_SIZE];
        let mut new = old;
        for (w, word) in new.chunks_mut(8).enumerate() {
            if w % 6 != 5 {
                word.copy_from_slice(&(w as u64 * 0x9e37_79b9).to_le_bytes());
            }
        }
        let mut changed = [0u64; WORDS / 64];
        differing(&old, &new, &mut changed);
        assert!(stretches(&changed).count() > MAX_COPY_LOOKS);
        undo_round_trip(&old, &new);
        undo_round_trip(&new, &old);
    }

    proptest::proptest! {
        /// Any edit of a page, shifts included, undoes exactly.
        #[test]
        fn undo_deltas_give_the_old_page_back(
            seed in proptest::collection::vec(0u8..4, 64),
            edits in proptest::collection::vec((0usize..PAGE_SIZE, 0usize..600, -300i32..300), 0..6),
        ) {
            let mut old = [0u8; PAGE_SIZE];
            for (i, b) in old.iter_mut().enumerate() {
                *b = seed[i % 64].wrapping_mul(i as u8);
            }
            let mut new = old;
            for (at, len, shift) in edits {
                let end = (at + len).min(PAGE_SIZE);
                let to = (at as i32 + shift).clamp(0, (PAGE_SIZE - (end - at)) as i32) as usize;
                let moved = new[at..end].to_vec();
                new[to..to + moved.len()].copy_from_slice(&moved);
            }
            undo_round_trip(&old, &new);
        }
    }
}
