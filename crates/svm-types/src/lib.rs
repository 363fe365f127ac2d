//! Value types that every svm layer shares.
//!
//! All of them are fixed-size byte strings with no interpretation of their
//! own: the layer that produces a value (the runtime for [`Address`], the page
//! store for [`State`] and [`PageHash`], the runtime for [`CodeHash`]) documents
//! how it is derived.
//!
//! | type | size (bytes) | what it is |
//! |---|---|---|
//! | [`Address`] | 20 | an account or contract address |
//! | [`State`] | 32 | a contract's state root (see `svm-pages`) |
//! | [`PageHash`] | 32 | the hash of one page (see `svm-pages`) |
//! | [`CodeHash`] | 32 | the blake3 hash of a contract's wasm code |
//!
//! Every type prints as lowercase hex without a prefix (`Display`, `Debug`)
//! and parses from hex with or without a `0x` prefix (`FromStr`).
//!
//! ```
//! use svm_types::Address;
//! let a: Address = "0x0102030405060708090a0b0c0d0e0f1011121314".parse().unwrap();
//! assert_eq!(a.as_bytes()[0], 1);
//! assert_eq!(a.to_string(), "0102030405060708090a0b0c0d0e0f1011121314");
//! assert!("0102".parse::<Address>().is_err());
//! ```
#![deny(missing_docs)]

use std::fmt;
use std::str::FromStr;

/// Why a hex string did not parse into a fixed-size value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseHexError {
    /// The string holds a character that is not a hex digit, or an odd
    /// number of digits.
    #[error("invalid hex: {0}")]
    InvalidHex(String),
    /// The string decodes to the wrong number of bytes.
    #[error("wrong length: expected {expected} bytes, found {found}")]
    WrongLength {
        /// The size of the type, in bytes.
        expected: usize,
        /// The number of bytes the string decoded to.
        found: usize,
    },
}

/// Decodes `s` (optionally `0x`-prefixed) into exactly `N` bytes.
///
/// # Errors
/// [`ParseHexError::InvalidHex`] for a non-hex string,
/// [`ParseHexError::WrongLength`] when it does not decode to `N` bytes.
pub fn parse_hex_array<const N: usize>(s: &str) -> Result<[u8; N], ParseHexError> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    let bytes = hex::decode(s).map_err(|e| ParseHexError::InvalidHex(e.to_string()))?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| ParseHexError::WrongLength {
        expected: N,
        found: bytes.len(),
    })
}

macro_rules! fixed_bytes {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            /// The size of this type, in bytes.
            pub const LEN: usize = $len;
            /// The value whose bytes are all zero.
            pub const ZERO: Self = Self([0u8; $len]);

            /// Wraps raw bytes.
            pub const fn new(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Copies a slice of exactly [`Self::LEN`] bytes; `None` for any
            /// other length.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                <[u8; $len]>::try_from(bytes).ok().map(Self)
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = ParseHexError;

            /// Parses lowercase or uppercase hex, with or without `0x`.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex_array::<$len>(s).map(Self)
            }
        }
    };
}

fixed_bytes!(
    /// A 20-byte account or contract address.
    ///
    /// Contract addresses are derived by the runtime from the author, the
    /// author's nonce and the code (see `svm-runtime`); account addresses are
    /// chosen by the node.
    Address,
    20
);

fixed_bytes!(
    /// A 32-byte contract state root: the root of the Merkle tree over a
    /// contract's page hashes (see `svm-pages` and `docs/storage-format.md`).
    State,
    32
);

fixed_bytes!(
    /// The 32-byte hash of one page (see `svm-pages` for its byte layout).
    PageHash,
    32
);

fixed_bytes!(
    /// The 32-byte blake3 hash of a contract's wasm code.
    CodeHash,
    32
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let mut b = [0u8; 32];
        for (i, x) in b.iter_mut().enumerate() {
            *x = (i * 7) as u8;
        }
        let s = State(b);
        let text = s.to_string();
        assert_eq!(text.len(), 64);
        assert_eq!(text.parse::<State>().unwrap(), s);
        assert_eq!(format!("0x{text}").parse::<State>().unwrap(), s);
        assert_eq!(text.to_uppercase().parse::<State>().unwrap(), s);
        assert_eq!(format!("{s:?}"), format!("State({text})"));
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            "00".parse::<Address>(),
            Err(ParseHexError::WrongLength {
                expected: 20,
                found: 1
            })
        );
        assert!(matches!(
            "zz".parse::<Address>(),
            Err(ParseHexError::InvalidHex(_))
        ));
        assert!(matches!(
            "abc".parse::<CodeHash>(),
            Err(ParseHexError::InvalidHex(_))
        ));
    }

    #[test]
    fn from_slice_checks_length() {
        assert_eq!(Address::from_slice(&[1u8; 20]), Some(Address([1; 20])));
        assert_eq!(Address::from_slice(&[1u8; 19]), None);
        assert_eq!(PageHash::from_slice(&[1u8; 33]), None);
    }
}
