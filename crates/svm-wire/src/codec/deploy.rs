//! The deploy transaction encoding (version 1): the `DeployTx` table of the
//! module docs.

use super::reader::Reader;
use super::writer::Writer;
use crate::{DEPLOY_TX_VERSION, DecodeError, DeployTx, EncodeError};

impl DeployTx {
    /// The encoding of the module docs ([the crate docs](crate)): 43 bytes plus
    /// the name and the code.
    ///
    /// # Errors
    /// [`EncodeError::StringTooLong`] for a name over 65 535 bytes,
    /// [`EncodeError::BytesTooLong`] for code over 4 294 967 295 bytes.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let mut w = Writer::with_capacity(47 + self.name.len() + self.code.len());
        w.u8(DEPLOY_TX_VERSION);
        w.raw(self.author.as_bytes());
        w.u64(self.nonce);
        w.string("name", &self.name)?;
        w.u64(self.gas_limit);
        w.bytes("code", &self.code)?;
        Ok(w.into_bytes())
    }

    /// Decodes [`DeployTx::encode`].
    ///
    /// # Errors
    /// [`DecodeError`] on truncated input, a version other than
    /// [`DEPLOY_TX_VERSION`], a name that is not UTF-8 or trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version("deploy transaction", DEPLOY_TX_VERSION)?;
        let tx = DeployTx {
            author: r.address()?,
            nonce: r.u64()?,
            name: r.string()?,
            gas_limit: r.u64()?,
            code: r.bytes()?,
        };
        r.finish()?;
        Ok(tx)
    }
}
