//! The encodings of a block's transactions and of its outcome (module docs
//! of [`crate::wire`]).

use super::writer::Writer;
use super::{DecodeError, EncodeError};
use crate::block::{BlockOutcome, Tx, TxOutcome};
use crate::tx::{CallTx, DeployTx};

/// The version byte of an encoded [`BlockOutcome`] (the table in
/// [`crate::wire`]).
pub const BLOCK_OUTCOME_VERSION: u8 = 1;

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

impl BlockOutcome {
    /// The encoding of the module docs (for clients: receipts in their
    /// transport encoding).
    ///
    /// # Errors
    /// [`EncodeError`] when a receipt or message does not fit its field.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::with_capacity(80 + 100 * self.outcomes.len());
        w.u8(BLOCK_OUTCOME_VERSION);
        w.u64(self.height);
        w.raw(&self.block_hash);
        w.raw(&self.receipts_hash);
        w.u32(super::writer::log_count(self.outcomes.len())?);
        for o in &self.outcomes {
            match o {
                TxOutcome::Deploy(r) => {
                    w.u8(TX_KIND_DEPLOY);
                    let mut d = Writer::with_capacity(61);
                    match r {
                        Ok(d_) => {
                            d.u8(1);
                            d.raw(d_.address.as_bytes());
                            d.raw(d_.code_hash.as_bytes());
                            d.u64(d_.gas_used);
                        }
                        Err(e) => {
                            d.u8(0);
                            d.string("error message", &e.to_string())?;
                        }
                    }
                    w.bytes("deploy outcome", &d.into_bytes())?;
                }
                TxOutcome::Call(r) => {
                    w.u8(TX_KIND_CALL);
                    w.bytes("receipt", &r.encode()?)?;
                }
            }
        }
        Ok(w.into_bytes())
    }
}
