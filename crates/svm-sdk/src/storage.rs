//! Storage variables at fixed slices of the contract's pages.
//!
//! A variable is a slice: (page index, offset, length) inside one 4096-byte
//! page (`docs/storage-format.md`). Bytes never written read as zeros. A
//! write that changes a page makes it dirty; the transaction pays its page
//! write at commit (`docs/gas.md`), and the write is rolled back if the
//! call fails.
//!
//! Maps keep their nodes from page `0x8000_0000` up ([`crate::map`]): put
//! variables on pages below.

use crate::sys;

/// The size of a storage page, in bytes.
pub const PAGE_SIZE: u32 = 4096;

/// Reads `buf.len()` bytes at `offset` of `page` into `buf`
/// (`svm.storage_read_to_mem`). The call fails (`HostCall`) when the slice
/// leaves the page.
pub fn read(page: u32, offset: u32, buf: &mut [u8]) {
    // SAFETY: `buf` is writable for its length.
    unsafe {
        sys::storage_read_to_mem(
            page,
            0,
            offset,
            buf.len() as u32,
            0,
            sys::ptr(buf.as_mut_ptr()),
        )
    }
}

/// Writes `bytes` at `offset` of `page` (`svm.storage_write_from_mem`).
/// The call fails (`HostCall`) when the slice leaves the page.
pub fn write(page: u32, offset: u32, bytes: &[u8]) {
    // SAFETY: `bytes` is readable for its length.
    unsafe {
        sys::storage_write_from_mem(
            0,
            sys::ptr(bytes.as_ptr()),
            bytes.len() as u32,
            page,
            0,
            offset,
        )
    }
}

/// A `u64` storage variable: 8 bytes, big-endian, at a fixed slice.
///
/// ```
/// use svm_sdk::storage::StorageU64;
/// const TOTAL_SUPPLY: StorageU64 = StorageU64::at(0, 0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageU64 {
    page: u32,
    offset: u32,
}

impl StorageU64 {
    /// The variable at bytes `offset..offset + 8` of `page`.
    pub const fn at(page: u32, offset: u32) -> Self {
        Self { page, offset }
    }

    /// Its value (0 when never written).
    pub fn get(&self) -> u64 {
        let mut b = [0u8; 8];
        read(self.page, self.offset, &mut b);
        u64::from_be_bytes(b)
    }

    /// Sets its value.
    pub fn set(&self, v: u64) {
        write(self.page, self.offset, &v.to_be_bytes());
    }
}

/// A fixed-size byte storage variable of `N` bytes at a fixed slice (an
/// address, a hash, a flag...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageBytes<const N: usize> {
    page: u32,
    offset: u32,
}

impl<const N: usize> StorageBytes<N> {
    /// The variable at bytes `offset..offset + N` of `page`.
    pub const fn at(page: u32, offset: u32) -> Self {
        Self { page, offset }
    }

    /// Its bytes (zeros when never written).
    pub fn get(&self) -> [u8; N] {
        let mut b = [0u8; N];
        read(self.page, self.offset, &mut b);
        b
    }

    /// Sets its bytes.
    pub fn set(&self, v: &[u8; N]) {
        write(self.page, self.offset, v);
    }
}
