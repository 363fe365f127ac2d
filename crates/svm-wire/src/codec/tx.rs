//! The encoding of a block's transaction ([`Tx`]): a kind byte, then the
//! deploy or call transaction's own encoding (the table in the crate docs).

use super::{DecodeError, EncodeError};
use crate::{CallTx, DeployTx, Tx};

/// The kind byte of a deploy in a block.
pub const TX_KIND_DEPLOY: u8 = 0;
/// The kind byte of a call in a block.
pub const TX_KIND_CALL: u8 = 1;

impl Tx {
    /// Kind byte ‖ the deploy or call transaction's own encoding.
    ///
    /// # Errors
    /// [`EncodeError`] as for the transaction.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let (kind, body) = match self {
            Tx::Deploy(d) => (TX_KIND_DEPLOY, d.encode()?),
            Tx::Call(c) => (TX_KIND_CALL, c.encode()?),
        };
        let mut v = Vec::with_capacity(1 + body.len());
        v.push(kind);
        v.extend_from_slice(&body);
        Ok(v)
    }

    /// Decodes [`Tx::encode`].
    ///
    /// # Errors
    /// [`DecodeError::Truncated`] for an empty input,
    /// [`DecodeError::BadTag`] for an unknown kind, else as for the
    /// transaction.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        match bytes.split_first() {
            None => Err(DecodeError::Truncated { at: 0, needed: 1 }),
            Some((&TX_KIND_DEPLOY, rest)) => Ok(Tx::Deploy(DeployTx::decode(rest)?)),
            Some((&TX_KIND_CALL, rest)) => Ok(Tx::Call(CallTx::decode(rest)?)),
            Some((&k, _)) => Err(DecodeError::BadTag {
                what: "transaction kind",
                value: k,
                at: 0,
            }),
        }
    }
}
