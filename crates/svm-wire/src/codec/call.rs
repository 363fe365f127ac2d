//! The call transaction encoding (version 2, with the value): the `CallTx`
//! table of the module docs.

use super::reader::Reader;
use super::writer::Writer;
use crate::{CALL_TX_VERSION, CallTx, DecodeError, EncodeError, StateRef};

impl CallTx {
    /// The encoding of the module docs ([the crate docs](crate)): 65 bytes plus the
    /// function name, 5 or 9 per argument, the call data and 32 for a
    /// given state.
    ///
    /// # Errors
    /// [`EncodeError::StringTooLong`] for a function name over 65 535
    /// bytes, [`EncodeError::TooManyValues`] for more than 64 arguments,
    /// [`EncodeError::BytesTooLong`] for call data over 4 294 967 295 bytes.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::with_capacity(
            98 + self.function.len() + 9 * self.args.len() + self.calldata.len(),
        );
        w.u8(CALL_TX_VERSION);
        w.raw(self.contract.as_bytes());
        w.raw(self.sender.as_bytes());
        w.string("function", &self.function)?;
        w.values("arguments", &self.args)?;
        w.bytes("call data", &self.calldata)?;
        w.u64(self.value);
        w.u64(self.gas_limit);
        match self.state {
            StateRef::Latest => w.u8(0),
            StateRef::At(s) => {
                w.u8(1);
                w.raw(s.as_bytes());
            }
        }
        Ok(w.into_bytes())
    }

    /// Decodes [`CallTx::encode`].
    ///
    /// # Errors
    /// [`DecodeError`] on truncated input, a version other than
    /// [`CALL_TX_VERSION`] (version 1 included), a function name that is
    /// not UTF-8, more than 64 arguments, an unknown value tag or state
    /// flag, or trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version("call transaction", CALL_TX_VERSION)?;
        let tx = CallTx {
            contract: r.address()?,
            sender: r.address()?,
            function: r.string()?,
            args: r.values()?,
            calldata: r.bytes()?,
            value: r.u64()?,
            gas_limit: r.u64()?,
            state: if r.flag("state flag")? {
                StateRef::At(r.state()?)
            } else {
                StateRef::Latest
            },
        };
        r.finish()?;
        Ok(tx)
    }
}
