//! [`SharedPage`]: one page's content behind a reference count, so that a
//! commit hands the same bytes to the KV batch, a block's overlay and the
//! cache above without copying them again.

use svm_kv::Bytes;

use crate::{PAGE_SIZE, Page};

/// The content of one page: exactly [`PAGE_SIZE`] (4096) bytes in a
/// reference-counted [`Bytes`]. Cloning it copies no page bytes.
///
/// Invariant: the bytes are exactly [`PAGE_SIZE`] long; every constructor
/// checks it, so [`SharedPage::as_page`] never fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedPage(Bytes);

impl SharedPage {
    /// A page holding a copy of `content` (one 4096-byte copy).
    pub fn copy_from(content: &Page) -> Self {
        Self(Bytes::copy_from_slice(content))
    }

    /// The page `content`, taking over its allocation (no copy).
    pub fn from_box(content: Box<Page>) -> Self {
        let content: Box<[u8]> = content;
        Self(Bytes::from(content))
    }

    /// The page `bytes` holds, without copying them, or `None` when `bytes`
    /// is not exactly [`PAGE_SIZE`] long.
    pub fn from_bytes(bytes: Bytes) -> Option<Self> {
        (bytes.len() == PAGE_SIZE).then_some(Self(bytes))
    }

    /// The 4096 bytes.
    pub fn as_page(&self) -> &Page {
        self.0[..]
            .try_into()
            .expect("a SharedPage is PAGE_SIZE bytes (checked by every constructor)")
    }

    /// The bytes themselves, as a [`Bytes`] that shares this page's
    /// allocation.
    pub fn bytes(&self) -> &Bytes {
        &self.0
    }

    /// The bytes, as a [`Bytes`] of exactly [`PAGE_SIZE`] bytes.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }
}

impl AsRef<Page> for SharedPage {
    fn as_ref(&self) -> &Page {
        self.as_page()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_keep_the_content_and_check_the_size() {
        let mut content = Box::new([0u8; PAGE_SIZE]);
        content[7] = 9;
        let boxed = SharedPage::from_box(content.clone());
        assert_eq!(boxed.as_page(), &*content);
        assert_eq!(SharedPage::copy_from(&content), boxed);
        let shared = SharedPage::from_bytes(boxed.bytes().clone()).unwrap();
        // The same allocation, not a copy.
        assert_eq!(shared.bytes().as_ptr(), boxed.bytes().as_ptr());
        assert!(SharedPage::from_bytes(Bytes::from_static(&[1, 2, 3])).is_none());
        assert!(SharedPage::from_bytes(Bytes::from(vec![0u8; PAGE_SIZE + 1])).is_none());
        assert_eq!(shared.into_bytes().len(), PAGE_SIZE);
    }
}
