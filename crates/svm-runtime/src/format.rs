//! The storage-format marker of a database, and the check that refuses a
//! database of another format.
//!
//! Every root and tree-record key in a database depends on the page, node
//! and extension hashes of [`svm_pages::hash`], and its pages are laid out
//! as `svm_pages` lays them out (storage format 6: by position, with undo
//! records). A database written with other hashes or another layout cannot
//! be read by this version: its states would not open and new commits
//! would mix two formats. So the database carries its format:
//!
//! | key | key size (bytes) | value | value size (bytes) |
//! |---|---|---|---|
//! | `m` (0x6d) ‖ ASCII `storage-format` | 15 | format (`u32` BE), [`STORAGE_FORMAT`] = 6 | 4 |
//!
//! Every block batch writes it. [`check_format`] (called by
//! [`Runtime::open`](crate::Runtime::open)) accepts a database whose marker
//! is [`STORAGE_FORMAT`], and a database with no marker that holds no
//! contract record and no block (a new one); it refuses any other: a
//! database of storage format 5 (marker 5) keeps its pages under their
//! page hashes, one of format 3 differs in every non-empty root. A database of storage format 2 or older has no marker but has
//! contract records, so it is refused rather than misread.

use svm_kv::{KvError, KvStore};
pub use svm_pages::STORAGE_FORMAT;

use crate::keys::LATEST_BLOCK_KEY;
pub use crate::keys::STORAGE_FORMAT_KEY;

/// The marker's value: [`STORAGE_FORMAT`] as a big-endian `u32` (4 bytes).
pub fn format_value() -> [u8; 4] {
    STORAGE_FORMAT.to_be_bytes()
}

/// Why a database cannot be opened by this version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The database was written in another storage format.
    #[error(
        "the database is in storage format {found}, this svm reads format {expected} only \
         (its tree hashes differ: see docs/storage-format.md); \
         replay the chain into a new database"
    )]
    Unsupported {
        /// The database's format: its marker, or 2 for a database with
        /// contracts or blocks and no marker (written before the marker
        /// existed).
        found: u32,
        /// [`STORAGE_FORMAT`].
        expected: u32,
    },
    /// The marker is not 4 bytes.
    #[error("the storage-format marker is damaged ({len} bytes, expected 4)")]
    Damaged {
        /// Its length in bytes.
        len: usize,
    },
    /// The backend failed.
    #[error("reading the storage format: {0}")]
    Kv(#[from] KvError),
}

/// Checks that `kv` is a database of [`STORAGE_FORMAT`] or a new one
/// (module docs). Reads the marker; only when it is absent, also the
/// newest-block key and the contract records (`a` keys), once.
///
/// # Errors
/// [`FormatError::Unsupported`], [`FormatError::Damaged`],
/// [`FormatError::Kv`]. Nothing is written either way.
pub fn check_format<K: KvStore>(kv: &K) -> Result<(), FormatError> {
    match kv.get(STORAGE_FORMAT_KEY)? {
        Some(v) => {
            let bytes: [u8; 4] = v
                .as_ref()
                .try_into()
                .map_err(|_| FormatError::Damaged { len: v.len() })?;
            match u32::from_be_bytes(bytes) {
                STORAGE_FORMAT => Ok(()),
                found => Err(FormatError::Unsupported {
                    found,
                    expected: STORAGE_FORMAT,
                }),
            }
        }
        None => {
            let old = kv.contains(LATEST_BLOCK_KEY)? || !kv.scan_prefix(b"a")?.is_empty();
            match old {
                true => Err(FormatError::Unsupported {
                    found: 2,
                    expected: STORAGE_FORMAT,
                }),
                false => Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use svm_kv::MemKv;

    use super::*;

    #[test]
    fn a_new_database_passes_and_a_marked_one_must_match() {
        let kv = MemKv::new();
        assert_eq!(check_format(&kv), Ok(()));
        kv.put(STORAGE_FORMAT_KEY, &format_value()).unwrap();
        assert_eq!(check_format(&kv), Ok(()));
        for old in [2u32, 3, 4, 5] {
            kv.put(STORAGE_FORMAT_KEY, &old.to_be_bytes()).unwrap();
            assert_eq!(
                check_format(&kv),
                Err(FormatError::Unsupported {
                    found: old,
                    expected: 6
                })
            );
        }
        kv.put(STORAGE_FORMAT_KEY, &[3]).unwrap();
        assert_eq!(check_format(&kv), Err(FormatError::Damaged { len: 1 }));
    }

    #[test]
    fn an_unmarked_database_with_contracts_or_blocks_is_refused() {
        let kv = MemKv::new();
        kv.put(b"a\x01\x02", b"record").unwrap();
        assert!(matches!(
            check_format(&kv),
            Err(FormatError::Unsupported { found: 2, .. })
        ));
        let kv = MemKv::new();
        kv.put(LATEST_BLOCK_KEY, &1u64.to_be_bytes()).unwrap();
        assert!(matches!(
            check_format(&kv),
            Err(FormatError::Unsupported { found: 2, .. })
        ));
        // Balances and the module cache's secret do not depend on the
        // hashes: a database holding only those is new.
        let kv = MemKv::new();
        kv.put(b"b\x01", &5u64.to_be_bytes()).unwrap();
        assert_eq!(check_format(&kv), Ok(()));
    }
}
