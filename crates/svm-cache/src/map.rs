//! Unbounded key → value maps stored in a contract's pages: a B+ tree of
//! 4096-byte nodes, one node per page, over a [`PageCache`].
//!
//! A map is named by its **header page**, a page index below
//! [`MAP_REGION_START`] that the contract reserves for it (the whole page).
//! Keys and values have a fixed length per map (keys 1 to
//! [`MAX_KEY_LEN`] bytes, values 0 to [`MAX_VALUE_LEN`]), set by the first
//! insert. Keys are ordered by their bytes. Node pages come from the
//! contract's map region, pages [`MAP_REGION_START`] to `0xFFFF_FFFE`,
//! handed out in order by a counter in page [`ALLOCATOR_PAGE`]; a contract
//! keeps its own variables below `MAP_REGION_START`.
//!
//! The tree is balanced whatever the keys, so a lookup reads the header
//! and one node per level: for 20-byte keys and 8-byte values a leaf holds
//! 146 entries and an inner node 170 children, so 1,000,000 entries take 3
//! levels (4 pages per lookup, the header included). Removing an entry
//! never merges nodes: pages once allocated stay the map's.
//!
//! # Header page
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `MAP1` (all zeros: no map yet) |
//! | 4 | key length (`u8`) |
//! | 5..7 | value length (`u16` BE) |
//! | 7 | 0 |
//! | 8..16 | entry count (`u64` BE) |
//! | 16..20 | root node page (`u32` BE; 0 while the map is empty) |
//!
//! # Node page
//!
//! | bytes | field |
//! |---|---|
//! | 0 | kind: 1 leaf, 2 inner |
//! | 1 | 0 |
//! | 2..4 | `n` (`u16` BE): entries of a leaf, keys of an inner node |
//! | 4..8 | 0 |
//! | leaf, from 8 | `n` × (key ‖ value), ascending keys |
//! | inner, from 8 | child 0 (`u32` BE), then `n` × (key ‖ child (`u32` BE)); child `i + 1` holds the keys ≥ key `i` |
//!
//! # Allocator page
//!
//! Bytes 0..4 of page [`ALLOCATOR_PAGE`]: the next free node page (`u32`
//! BE; 0 means [`MAP_REGION_START`]). Shared by every map of the contract.

use svm_pages::{PAGE_SIZE, PageIndex, PageStorage};

use crate::{CacheError, PageCache};

/// The first page of the map region.
pub const MAP_REGION_START: u32 = 0x8000_0000;
/// The page holding the map region's allocation counter.
pub const ALLOCATOR_PAGE: PageIndex = PageIndex(u32::MAX);
/// The longest key, in bytes.
pub const MAX_KEY_LEN: usize = 64;
/// The longest value, in bytes.
pub const MAX_VALUE_LEN: usize = 256;

const MAGIC: &[u8; 4] = b"MAP1";
const LEAF: u8 = 1;
const INNER: u8 = 2;
const NODE_HEADER: usize = 8;
/// The deepest path a map operation follows. A map this module builds
/// never comes near it (nodes split in halves of at least 31 children, so
/// 2^31 node pages fit in 8 levels); a deeper path, or a cycle, can only
/// be node pages the contract overwrote with its own bytes
/// (`storage_write_*` may write any page), and is [`MapError::Corrupt`].
/// It bounds the work of one operation, whose gas is charged after it.
pub const MAX_DEPTH: usize = 32;

/// Why a map operation failed. Nothing was written then... except when
/// the page cache itself failed mid-way; the caller discards the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// The page cache or the storage under it failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The header page is in the map region.
    #[error("map header page {0} is in the map region (from page 2^31)")]
    HeaderInRegion(u32),
    /// A key or value length outside the limits.
    #[error("key of {key} bytes and value of {value} bytes: keys take 1 to 64, values 0 to 256")]
    BadLength {
        /// The key length, in bytes.
        key: usize,
        /// The value length, in bytes.
        value: usize,
    },
    /// The lengths differ from the ones the map was created with.
    #[error("the map holds {key}-byte keys and {value}-byte values")]
    LengthMismatch {
        /// The map's key length, in bytes.
        key: usize,
        /// The map's value length, in bytes.
        value: usize,
    },
    /// A header or node page that is not what this module writes.
    #[error("map page {0} is corrupt")]
    Corrupt(u32),
    /// The map region has no free page left.
    #[error("the map region is full")]
    RegionFull,
}

/// Nodes a map operation touched, for gas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MapStats {
    /// Node pages read (header and allocator pages not counted).
    pub nodes_read: u64,
    /// Node pages written.
    pub nodes_written: u64,
}

/// One map of a contract, over its page cache (module docs).
pub struct PageMap<'a, S> {
    cache: &'a mut PageCache<S>,
    header: PageIndex,
    key_len: usize,
    value_len: usize,
    /// What the operations so far touched.
    pub stats: MapStats,
}

struct Header {
    count: u64,
    root: u32,
}

/// One inner node on an insert's path down: its page, keys and children,
/// and the position of the child taken.
type PathStep = (u32, Vec<Vec<u8>>, Vec<u32>, usize);

/// A decoded node.
enum Node {
    Leaf(Vec<(Vec<u8>, Vec<u8>)>),
    Inner {
        keys: Vec<Vec<u8>>,
        children: Vec<u32>,
    },
}

/// `page` if it is a node page of the map region; a root or child pointer
/// outside it is a corrupt node.
fn node_page(page: u32) -> Result<u32, MapError> {
    if (MAP_REGION_START..ALLOCATOR_PAGE.0).contains(&page) {
        Ok(page)
    } else {
        Err(MapError::Corrupt(page))
    }
}

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

impl<'a, S: PageStorage> PageMap<'a, S> {
    /// The map whose header is page `header`, for keys of `key_len` and
    /// values of `value_len` bytes.
    ///
    /// # Errors
    /// [`MapError::HeaderInRegion`], [`MapError::BadLength`],
    /// [`MapError::LengthMismatch`] when the map exists with other lengths,
    /// [`MapError::Corrupt`], cache errors.
    pub fn open(
        cache: &'a mut PageCache<S>,
        header: u32,
        key_len: usize,
        value_len: usize,
    ) -> Result<Self, MapError> {
        if header >= MAP_REGION_START {
            return Err(MapError::HeaderInRegion(header));
        }
        if !(1..=MAX_KEY_LEN).contains(&key_len) || value_len > MAX_VALUE_LEN {
            return Err(MapError::BadLength {
                key: key_len,
                value: value_len,
            });
        }
        let map = Self {
            cache,
            header: PageIndex(header),
            key_len,
            value_len,
            stats: MapStats::default(),
        };
        let page = map.cache.page(map.header)?;
        if page[..4] == MAGIC[..] {
            let (k, v) = (
                usize::from(page[4]),
                usize::from(u16::from_be_bytes([page[5], page[6]])),
            );
            if (k, v) != (key_len, value_len) {
                return Err(MapError::LengthMismatch { key: k, value: v });
            }
        } else if page[..4] != [0; 4] {
            return Err(MapError::Corrupt(header));
        }
        Ok(map)
    }

    fn header(&mut self) -> Result<Header, MapError> {
        let page = self.cache.page(self.header)?;
        if page[..4] != MAGIC[..] {
            return Ok(Header { count: 0, root: 0 });
        }
        Ok(Header {
            count: u64::from_be_bytes(page[8..16].try_into().unwrap_or_default()),
            root: be32(&page[16..20]),
        })
    }

    /// The entry count after one more entry; a count at `u64::MAX` can only
    /// be a header the contract overwrote.
    fn count_plus_one(&self, h: &Header) -> Result<u64, MapError> {
        h.count
            .checked_add(1)
            .ok_or(MapError::Corrupt(self.header.0))
    }

    fn write_header(&mut self, h: &Header) -> Result<(), MapError> {
        let mut b = [0u8; 20];
        b[..4].copy_from_slice(MAGIC);
        b[4] = self.key_len as u8;
        b[5..7].copy_from_slice(&(self.value_len as u16).to_be_bytes());
        b[8..16].copy_from_slice(&h.count.to_be_bytes());
        b[16..20].copy_from_slice(&h.root.to_be_bytes());
        Ok(self.cache.write(self.header, 0, &b)?)
    }

    /// The number of entries of the map whose header is page `header`
    /// (0 when there is no map there yet), whatever its lengths.
    ///
    /// # Errors
    /// [`MapError::HeaderInRegion`], [`MapError::Corrupt`], cache errors.
    pub fn len_at(cache: &mut PageCache<S>, header: u32) -> Result<u64, MapError> {
        if header >= MAP_REGION_START {
            return Err(MapError::HeaderInRegion(header));
        }
        let page = cache.page(PageIndex(header))?;
        match &page[..4] {
            m if m == MAGIC => Ok(u64::from_be_bytes(
                page[8..16].try_into().unwrap_or_default(),
            )),
            [0, 0, 0, 0] => Ok(0),
            _ => Err(MapError::Corrupt(header)),
        }
    }

    /// The number of entries.
    ///
    /// # Errors
    /// Cache errors.
    pub fn len(&mut self) -> Result<u64, MapError> {
        Ok(self.header()?.count)
    }

    /// Whether the map has no entry.
    ///
    /// # Errors
    /// Cache errors.
    pub fn is_empty(&mut self) -> Result<bool, MapError> {
        Ok(self.len()? == 0)
    }

    fn leaf_cap(&self) -> usize {
        (PAGE_SIZE - NODE_HEADER) / (self.key_len + self.value_len)
    }

    fn inner_cap(&self) -> usize {
        (PAGE_SIZE - NODE_HEADER - 4) / (self.key_len + 4)
    }

    fn check(&self, key: &[u8], value: Option<&[u8]>) -> Result<(), MapError> {
        let v = value.map_or(self.value_len, <[u8]>::len);
        if key.len() != self.key_len || v != self.value_len {
            return Err(MapError::LengthMismatch {
                key: self.key_len,
                value: self.value_len,
            });
        }
        Ok(())
    }

    /// The child of inner node `page` to descend into for `key`, read in
    /// place (no decoding).
    fn child_for(&mut self, page: u32, key: &[u8]) -> Result<Option<u32>, MapError> {
        let k = self.key_len;
        node_page(page)?;
        self.stats.nodes_read += 1;
        let p = self.cache.page(PageIndex(page))?;
        let n = usize::from(u16::from_be_bytes([p[2], p[3]]));
        match p[0] {
            INNER if NODE_HEADER + 4 + n * (k + 4) <= PAGE_SIZE => {
                // Keys at 12 + i·(k+4); the first key > `key` bounds it.
                let (mut lo, mut hi) = (0, n);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    let at = NODE_HEADER + 4 + mid * (k + 4);
                    if p[at..at + k] <= *key {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                let at = match lo {
                    0 => NODE_HEADER,
                    i => NODE_HEADER + 4 + (i - 1) * (k + 4) + k,
                };
                Ok(Some(be32(&p[at..at + 4])))
            }
            LEAF => Ok(None),
            _ => Err(MapError::Corrupt(page)),
        }
    }

    /// The value of `key`, if any.
    ///
    /// # Errors
    /// [`MapError::LengthMismatch`], [`MapError::Corrupt`], cache errors.
    pub fn get(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, MapError> {
        self.check(key, None)?;
        let root = self.header()?.root;
        if root == 0 {
            return Ok(None);
        }
        let (page, _, Ok(i)) = self.find_leaf(root, key)? else {
            return Ok(None);
        };
        let (k, v) = (self.key_len, self.value_len);
        let at = NODE_HEADER + i * (k + v) + k;
        Ok(Some(self.cache.page(PageIndex(page))?[at..at + v].to_vec()))
    }

    fn read_node(&mut self, page: u32) -> Result<Node, MapError> {
        node_page(page)?;
        let (k, v) = (self.key_len, self.value_len);
        let p = self.cache.page(PageIndex(page))?;
        let n = usize::from(u16::from_be_bytes([p[2], p[3]]));
        match p[0] {
            LEAF if NODE_HEADER + n * (k + v) <= PAGE_SIZE => Ok(Node::Leaf(
                (0..n)
                    .map(|i| {
                        let at = NODE_HEADER + i * (k + v);
                        (p[at..at + k].to_vec(), p[at + k..at + k + v].to_vec())
                    })
                    .collect(),
            )),
            INNER if NODE_HEADER + 4 + n * (k + 4) <= PAGE_SIZE => {
                let mut keys = Vec::with_capacity(n);
                let mut children = vec![be32(&p[NODE_HEADER..])];
                for i in 0..n {
                    let at = NODE_HEADER + 4 + i * (k + 4);
                    keys.push(p[at..at + k].to_vec());
                    children.push(be32(&p[at + k..]));
                }
                Ok(Node::Inner { keys, children })
            }
            _ => Err(MapError::Corrupt(page)),
        }
    }

    fn write_node(&mut self, page: u32, node: &Node) -> Result<(), MapError> {
        let mut b = vec![0u8; PAGE_SIZE];
        let mut at = NODE_HEADER;
        let n = match node {
            Node::Leaf(entries) => {
                b[0] = LEAF;
                for (key, value) in entries {
                    b[at..at + key.len()].copy_from_slice(key);
                    at += key.len();
                    b[at..at + value.len()].copy_from_slice(value);
                    at += value.len();
                }
                entries.len()
            }
            Node::Inner { keys, children } => {
                b[0] = INNER;
                b[at..at + 4].copy_from_slice(&children[0].to_be_bytes());
                at += 4;
                for (key, child) in keys.iter().zip(&children[1..]) {
                    b[at..at + key.len()].copy_from_slice(key);
                    at += key.len();
                    b[at..at + 4].copy_from_slice(&child.to_be_bytes());
                    at += 4;
                }
                keys.len()
            }
        };
        b[2..4].copy_from_slice(&(n as u16).to_be_bytes());
        self.stats.nodes_written += 1;
        Ok(self.cache.write(PageIndex(page), 0, &b)?)
    }

    fn alloc(&mut self) -> Result<u32, MapError> {
        let p = self.cache.page(ALLOCATOR_PAGE)?;
        let next = match be32(&p[..4]) {
            0 => MAP_REGION_START,
            n => n,
        };
        if next < MAP_REGION_START {
            return Err(MapError::Corrupt(ALLOCATOR_PAGE.0));
        }
        if next == ALLOCATOR_PAGE.0 {
            return Err(MapError::RegionFull);
        }
        self.cache
            .write(ALLOCATOR_PAGE, 0, &(next + 1).to_be_bytes())?;
        Ok(next)
    }

    /// The leaf holding `key`'s place, found in place: its page, its entry
    /// count, and the entry's position (`Ok`) or insertion point (`Err`).
    fn find_leaf(
        &mut self,
        root: u32,
        key: &[u8],
    ) -> Result<(u32, usize, Result<usize, usize>), MapError> {
        let mut page = root;
        let mut depth = 0;
        while let Some(child) = self.child_for(page, key)? {
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(MapError::Corrupt(child));
            }
            page = child;
        }
        let (k, v) = (self.key_len, self.value_len);
        let p = self.cache.page(PageIndex(page))?;
        let n = usize::from(u16::from_be_bytes([p[2], p[3]]));
        if NODE_HEADER + n * (k + v) > PAGE_SIZE {
            return Err(MapError::Corrupt(page));
        }
        let (mut lo, mut hi) = (0, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let at = NODE_HEADER + mid * (k + v);
            match p[at..at + k].cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok((page, n, Ok(mid))),
            }
        }
        Ok((page, n, Err(lo)))
    }

    /// [`PageMap::insert`] without a split: `Some(replaced)` when done,
    /// `None` when the leaf is full (nothing was written then). The header
    /// count is the caller's.
    fn insert_in_place(
        &mut self,
        header: &Header,
        key: &[u8],
        value: &[u8],
    ) -> Result<Option<bool>, MapError> {
        let (k, v) = (self.key_len, self.value_len);
        let (page, n, at) = self.find_leaf(header.root, key)?;
        match at {
            Ok(i) => {
                let off = NODE_HEADER + i * (k + v) + k;
                let p = self.cache.page(PageIndex(page))?;
                if p[off..off + v] != *value {
                    self.stats.nodes_written += 1;
                    self.cache.write(PageIndex(page), off, value)?;
                }
                Ok(Some(true))
            }
            Err(_) if n >= self.leaf_cap() => Ok(None),
            Err(i) => {
                let at = NODE_HEADER + i * (k + v);
                let end = NODE_HEADER + n * (k + v);
                let p = self.cache.page(PageIndex(page))?;
                let mut tail = Vec::with_capacity(end - at + k + v);
                tail.extend_from_slice(key);
                tail.extend_from_slice(value);
                tail.extend_from_slice(&p[at..end]);
                self.stats.nodes_written += 1;
                self.cache.write(PageIndex(page), at, &tail)?;
                self.cache
                    .write(PageIndex(page), 2, &((n + 1) as u16).to_be_bytes())?;
                Ok(Some(false))
            }
        }
    }

    /// Sets `key` to `value`; returns whether it replaced a value.
    ///
    /// # Errors
    /// [`MapError::LengthMismatch`], [`MapError::RegionFull`],
    /// [`MapError::Corrupt`], cache errors.
    pub fn insert(&mut self, key: &[u8], value: &[u8]) -> Result<bool, MapError> {
        self.check(key, Some(value))?;
        let mut header = self.header()?;
        if header.root != 0 {
            // In place when no node splits: the same page bytes and stats
            // as the general path below, without decoding any node.
            let saved = self.stats;
            match self.insert_in_place(&header, key, value)? {
                Some(replaced) => {
                    if !replaced {
                        header.count = self.count_plus_one(&header)?;
                        self.write_header(&header)?;
                    }
                    return Ok(replaced);
                }
                None => self.stats = saved,
            }
        }
        if header.root == 0 {
            header.root = self.alloc()?;
            header.count = 1;
            self.write_node(
                header.root,
                &Node::Leaf(vec![(key.to_vec(), value.to_vec())]),
            )?;
            self.write_header(&header)?;
            return Ok(false);
        }
        // Descend, remembering the path of (inner page, child position).
        let mut path: Vec<PathStep> = Vec::new();
        let mut page = header.root;
        let mut entries = loop {
            self.stats.nodes_read += 1;
            match self.read_node(page)? {
                Node::Leaf(entries) => break entries,
                Node::Inner { keys, children } => {
                    if path.len() >= MAX_DEPTH {
                        return Err(MapError::Corrupt(page));
                    }
                    let i = keys.partition_point(|k| k.as_slice() <= key);
                    let child = children[i];
                    path.push((page, keys, children, i));
                    page = child;
                }
            }
        };
        match entries.binary_search_by(|(k, _)| k.as_slice().cmp(key)) {
            Ok(i) => {
                if entries[i].1 == value {
                    return Ok(true);
                }
                entries[i].1 = value.to_vec();
                self.write_node(page, &Node::Leaf(entries))?;
                return Ok(true);
            }
            Err(i) => entries.insert(i, (key.to_vec(), value.to_vec())),
        }
        header.count = self.count_plus_one(&header)?;
        if entries.len() <= self.leaf_cap() {
            self.write_node(page, &Node::Leaf(entries))?;
            self.write_header(&header)?;
            return Ok(false);
        }
        // Split the leaf, then carry the separator up.
        let right = entries.split_off(entries.len() / 2);
        let mut sep = right[0].0.clone();
        let mut new_page = self.alloc()?;
        self.write_node(page, &Node::Leaf(entries))?;
        self.write_node(new_page, &Node::Leaf(right))?;
        loop {
            let Some((parent, mut keys, mut children, i)) = path.pop() else {
                // The root split: a new root above it.
                let root = self.alloc()?;
                self.write_node(
                    root,
                    &Node::Inner {
                        keys: vec![sep],
                        children: vec![header.root, new_page],
                    },
                )?;
                header.root = root;
                break;
            };
            keys.insert(i, sep);
            children.insert(i + 1, new_page);
            if keys.len() <= self.inner_cap() {
                self.write_node(parent, &Node::Inner { keys, children })?;
                break;
            }
            let mid = keys.len() / 2;
            let right_keys = keys.split_off(mid + 1);
            sep = keys.pop().unwrap_or_default();
            let right_children = children.split_off(mid + 1);
            new_page = self.alloc()?;
            self.write_node(parent, &Node::Inner { keys, children })?;
            self.write_node(
                new_page,
                &Node::Inner {
                    keys: right_keys,
                    children: right_children,
                },
            )?;
        }
        self.write_header(&header)?;
        Ok(false)
    }

    /// Removes `key`; returns whether it was there. Nodes are not merged.
    ///
    /// # Errors
    /// [`MapError::LengthMismatch`], [`MapError::Corrupt`], cache errors.
    pub fn remove(&mut self, key: &[u8]) -> Result<bool, MapError> {
        self.check(key, None)?;
        let mut header = self.header()?;
        if header.root == 0 {
            return Ok(false);
        }
        let (k, v) = (self.key_len, self.value_len);
        let (page, n, Ok(i)) = self.find_leaf(header.root, key)? else {
            return Ok(false);
        };
        // The entries after it move down one place; the freed bytes at the
        // end become zeros, as in a freshly written node.
        let at = NODE_HEADER + i * (k + v);
        let end = NODE_HEADER + n * (k + v);
        let p = self.cache.page(PageIndex(page))?;
        let mut tail = p[at + k + v..end].to_vec();
        tail.resize(end - at, 0);
        self.stats.nodes_written += 1;
        self.cache.write(PageIndex(page), at, &tail)?;
        self.cache
            .write(PageIndex(page), 2, &((n - 1) as u16).to_be_bytes())?;
        header.count = header.count.saturating_sub(1);
        self.write_header(&header)?;
        Ok(true)
    }
}
