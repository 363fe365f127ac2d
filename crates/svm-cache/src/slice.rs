//! The page-slice cache: contract variables as slices (page, offset,
//! length) of the pages of a [`PageCache`].

use svm_pages::{PAGE_SIZE, PageIndex, PageStorage};
use svm_types::State;

use crate::{CacheError, PageCache};

/// A contract variable: `len` bytes at `offset` of page `page`, inside that
/// one page (`offset + len <= 4096`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageSlice {
    page: PageIndex,
    offset: u16,
    len: u16,
}

impl PageSlice {
    /// A slice of `len` bytes at `offset` of `page`.
    ///
    /// # Errors
    /// [`CacheError::SliceOutOfPage`] when `offset + len > 4096`.
    pub fn new(page: PageIndex, offset: u32, len: u32) -> Result<Self, CacheError> {
        if u64::from(offset) + u64::from(len) > PAGE_SIZE as u64 {
            return Err(CacheError::SliceOutOfPage {
                page,
                offset: offset.into(),
                len: len.into(),
            });
        }
        Ok(Self {
            page,
            offset: offset as u16,
            len: len as u16,
        })
    }

    /// The page.
    pub fn page(&self) -> PageIndex {
        self.page
    }

    /// The offset in the page, in bytes (0..=4096).
    pub fn offset(&self) -> usize {
        self.offset.into()
    }

    /// The length, in bytes (0..=4096).
    pub fn len(&self) -> usize {
        self.len.into()
    }

    /// Whether the slice is zero bytes long.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The page-slice cache: contract variables as [`PageSlice`]s over a
/// [`PageCache`]. Integers are stored **big-endian**.
#[derive(Debug)]
pub struct PageSliceCache<S> {
    pages: PageCache<S>,
}

macro_rules! int_helpers {
    ($($read:ident, $write:ident, $t:ty);* $(;)?) => {$(
        #[doc = concat!("Reads a big-endian `", stringify!($t), "` from a slice of exactly ",
            stringify!($t), "'s size in bytes.\n\n# Errors\n[`CacheError::LengthMismatch`] for a slice of another length; cold-load errors.")]
        pub fn $read(&mut self, slice: &PageSlice) -> Result<$t, CacheError> {
            let mut buf = [0u8; std::mem::size_of::<$t>()];
            self.read_into(slice, &mut buf)?;
            Ok(<$t>::from_be_bytes(buf))
        }

        #[doc = concat!("Writes `value` as a big-endian `", stringify!($t), "` to a slice of exactly ",
            stringify!($t), "'s size in bytes.\n\n# Errors\n[`CacheError::LengthMismatch`] for a slice of another length; cold-load errors.")]
        pub fn $write(&mut self, slice: &PageSlice, value: $t) -> Result<(), CacheError> {
            self.write(slice, &value.to_be_bytes())
        }
    )*};
}

impl<S: PageStorage> PageSliceCache<S> {
    /// Wraps a page cache.
    pub fn new(pages: PageCache<S>) -> Self {
        Self { pages }
    }

    /// The page cache underneath.
    pub fn cache(&self) -> &PageCache<S> {
        &self.pages
    }

    /// The page cache underneath, mutably (checkpoints, stats).
    pub fn cache_mut(&mut self) -> &mut PageCache<S> {
        &mut self.pages
    }

    /// Unwraps the page cache.
    pub fn into_cache(self) -> PageCache<S> {
        self.pages
    }

    /// Copies the slice into `buf`, which must be exactly `slice.len()`
    /// bytes long.
    ///
    /// # Errors
    /// [`CacheError::LengthMismatch`]; page storage errors on a cold load.
    pub fn read_into(&mut self, slice: &PageSlice, buf: &mut [u8]) -> Result<(), CacheError> {
        if buf.len() != slice.len() {
            return Err(CacheError::LengthMismatch {
                expected: slice.len(),
                got: buf.len(),
            });
        }
        self.pages.read_into(slice.page, slice.offset(), buf)
    }

    /// The slice's bytes: exactly `slice.len()` of them, zeros where never
    /// written.
    ///
    /// # Errors
    /// Page storage errors on a cold load.
    pub fn read(&mut self, slice: &PageSlice) -> Result<Vec<u8>, CacheError> {
        let mut buf = vec![0u8; slice.len()];
        self.read_into(slice, &mut buf)?;
        Ok(buf)
    }

    /// Writes `data`, exactly `slice.len()` bytes, into the slice; marks its
    /// page dirty when that changes it.
    ///
    /// # Errors
    /// [`CacheError::LengthMismatch`]; page storage errors on a cold load.
    pub fn write(&mut self, slice: &PageSlice, data: &[u8]) -> Result<(), CacheError> {
        if data.len() != slice.len() {
            return Err(CacheError::LengthMismatch {
                expected: slice.len(),
                got: data.len(),
            });
        }
        self.pages.write(slice.page, slice.offset(), data)
    }

    int_helpers! {
        read_u8, write_u8, u8;
        read_u16, write_u16, u16;
        read_u32, write_u32, u32;
        read_u64, write_u64, u64;
        read_u128, write_u128, u128;
        read_i64, write_i64, i64;
    }

    /// [`PageCache::commit`].
    ///
    /// # Errors
    /// As [`PageCache::commit`].
    pub fn commit(&mut self) -> Result<State, CacheError> {
        self.pages.commit()
    }

    /// [`PageCache::discard`].
    pub fn discard(&mut self) {
        self.pages.discard()
    }
}
