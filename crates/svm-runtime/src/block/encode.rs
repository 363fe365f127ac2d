//! The encoding of a block's outcome ([`BlockOutcome`]), version 1, for
//! clients. Its field types (`u8`, `u64`, `u32`, `bytes`, `string`) are
//! those of [`svm_wire`].
//!
//! What [`crate::Runtime::execute_block`] returns, for clients (the C API's
//! `svm_execute_block`):
//!
//! | field | type |
//! |---|---|
//! | version (= 1) | `u8` |
//! | height | `u64` |
//! | block hash | 32 bytes ([`super::record`]) |
//! | receipts hash | 32 bytes |
//! | outcome count | `u32` |
//! | outcomes | per transaction, in order: kind `u8` (0 deploy, 1 call) ‖ `bytes` |
//!
//! A call's `bytes` is its receipt's transport encoding ([`svm_wire`]). A deploy's
//! is `01` ‖ address (20) ‖ code hash (32) ‖ gas used (`u64`) when it
//! succeeded, or `00` ‖ error message (`string`) when it failed.

use svm_wire::{EncodeError, TX_KIND_CALL, TX_KIND_DEPLOY, Writer};

use super::{BlockOutcome, TxOutcome};

/// The version byte of an encoded [`BlockOutcome`] (the table above).
pub const BLOCK_OUTCOME_VERSION: u8 = 1;

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
        w.count(self.outcomes.len())?;
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
