//! The receipt consensus encoding (version 2) and its hash: the "consensus
//! encoding" table of the module docs. No free text, no cache statistics.

use super::receipt::error_code;
use super::writer::Writer;
use crate::{CONSENSUS_RECEIPT_DOMAIN, CONSENSUS_RECEIPT_VERSION, EncodeError, Receipt};

impl Receipt {
    /// The canonical encoding of what nodes must agree on for this receipt
    /// ([the crate docs](crate), "consensus encoding"): 64 bytes plus 5 or 9 per
    /// returned value, the return data, 4 plus the length of each log and
    /// 35 plus the function name's length per inner call.
    /// The error message, `pages_read` and `pages_written` are not in it;
    /// every other field is, so two receipts have the same consensus bytes
    /// exactly when they agree on every consensus field.
    ///
    /// # Errors
    /// As [`Receipt::encode`], except that a message over 65 535 bytes is
    /// no error here: [`EncodeError::SuccessWithError`],
    /// [`EncodeError::FailureWithoutError`], [`EncodeError::TooManyValues`],
    /// [`EncodeError::BytesTooLong`], [`EncodeError::TooManyLogs`].
    pub fn consensus_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let code = error_code(self)?;
        let mut w = Writer::with_capacity(
            64 + 9 * self.returns.len()
                + self
                    .calls
                    .iter()
                    .map(|c| 35 + c.function.len())
                    .sum::<usize>()
                + self.return_data.len()
                + self.logs.iter().map(|l| 4 + l.len()).sum::<usize>(),
        );
        w.u8(CONSENSUS_RECEIPT_VERSION);
        w.u8(u8::from(self.success));
        w.u8(code);
        w.raw(self.new_state.as_bytes());
        w.values("returned values", &self.returns)?;
        w.bytes("return data", &self.return_data)?;
        w.logs(&self.logs)?;
        w.u64(self.gas_limit);
        w.u64(self.gas_used);
        w.calls(&self.calls)?;
        Ok(w.into_bytes())
    }

    /// The 32-byte consensus hash of this receipt:
    /// `blake3(`[`CONSENSUS_RECEIPT_DOMAIN`]` ‖ `[`Receipt::consensus_bytes`]`)`.
    ///
    /// # Errors
    /// Those of [`Receipt::consensus_bytes`].
    pub fn consensus_hash(&self) -> Result<[u8; 32], EncodeError> {
        let bytes = self.consensus_bytes()?;
        let mut hasher = blake3::Hasher::new();
        hasher.update(CONSENSUS_RECEIPT_DOMAIN);
        hasher.update(&bytes);
        Ok(*hasher.finalize().as_bytes())
    }
}
