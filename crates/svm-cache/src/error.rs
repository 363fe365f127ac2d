//! The caches' error type.

use svm_pages::{PageIndex, PagesError};

/// An error of the caches.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    /// The page storage (or the KV under it) failed.
    #[error(transparent)]
    Pages(#[from] PagesError),
    /// A slice of `len` bytes at `offset` does not fit in a 4096-byte page.
    #[error("slice of {len} bytes at offset {offset} of {page} does not fit in a 4096-byte page")]
    SliceOutOfPage {
        /// The page.
        page: PageIndex,
        /// The offset in the page, in bytes.
        offset: u64,
        /// The length, in bytes.
        len: u64,
    },
    /// A buffer's length differs from the slice's length.
    #[error("buffer of {got} bytes for a slice of {expected} bytes")]
    LengthMismatch {
        /// The slice length, in bytes.
        expected: usize,
        /// The buffer length, in bytes.
        got: usize,
    },
    /// The checkpoint was already rolled back or released, or belongs to
    /// an earlier run.
    #[error("unknown checkpoint (depth {0})")]
    UnknownCheckpoint(usize),
}
