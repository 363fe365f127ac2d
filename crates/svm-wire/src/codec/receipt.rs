//! The receipt transport encoding (version 2): the `Receipt` table of the
//! module docs, everything a client may want, the error message included.

use super::reader::Reader;
use super::writer::Writer;
use crate::{DecodeError, EncodeError, ErrorCode, RECEIPT_VERSION, Receipt, TxError};

/// The `error code` byte of `r`: 0 on success, the error's code on
/// failure.
///
/// # Errors
/// [`EncodeError::SuccessWithError`] or [`EncodeError::FailureWithoutError`]
/// when `success` and `error` disagree.
pub(super) fn error_code(r: &Receipt) -> Result<u8, EncodeError> {
    match (r.success, &r.error) {
        (true, None) => Ok(0),
        (false, Some(e)) => Ok(e.code.as_u8()),
        (true, Some(e)) => Err(EncodeError::SuccessWithError(e.code)),
        (false, None) => Err(EncodeError::FailureWithoutError),
    }
}

impl Receipt {
    /// The transport encoding of the module docs ([the crate docs](crate)): 74
    /// bytes plus the message, 5 or 9 per returned value, the return data,
    /// 4 plus the length of each log and 35 plus the function name's
    /// length per inner call. Not for consensus: see
    /// [`Receipt::consensus_bytes`].
    ///
    /// # Errors
    /// [`EncodeError::SuccessWithError`] / [`EncodeError::FailureWithoutError`]
    /// when `success` and `error` disagree; [`EncodeError::StringTooLong`]
    /// for a message over 65 535 bytes; [`EncodeError::TooManyValues`] for
    /// more than 64 returned values; [`EncodeError::BytesTooLong`] for
    /// return data or a log over 4 294 967 295 bytes;
    /// [`EncodeError::TooManyLogs`]; [`EncodeError::TooManyCalls`], or
    /// [`EncodeError::StringTooLong`] for an inner call's function name.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let code = error_code(self)?;
        let message = self.error.as_ref().map_or("", |e| e.message.as_str());
        let mut w = Writer::with_capacity(
            74 + message.len()
                + self
                    .calls
                    .iter()
                    .map(|c| 35 + c.function.len())
                    .sum::<usize>()
                + 9 * self.returns.len()
                + self.return_data.len()
                + self.logs.iter().map(|l| 4 + l.len()).sum::<usize>(),
        );
        w.u8(RECEIPT_VERSION);
        w.u8(u8::from(self.success));
        w.u8(code);
        w.string("error message", message)?;
        w.raw(self.new_state.as_bytes());
        w.values("returned values", &self.returns)?;
        w.bytes("return data", &self.return_data)?;
        w.logs(&self.logs)?;
        w.u32(self.pages_read);
        w.u32(self.pages_written);
        w.u64(self.gas_limit);
        w.u64(self.gas_used);
        w.calls(&self.calls)?;
        Ok(w.into_bytes())
    }

    /// Decodes [`Receipt::encode`].
    ///
    /// # Errors
    /// [`DecodeError`] on truncated input, a version other than
    /// [`RECEIPT_VERSION`], an unknown success flag, error code or value
    /// tag, [`DecodeError::SuccessWithError`] (success 1 with a non-zero
    /// code), [`DecodeError::FailureWithoutError`] (success 0 with code 0),
    /// [`DecodeError::MessageWithoutError`] (code 0 with a message), a
    /// message that is not UTF-8, more than 64 returned values, or trailing
    /// bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version("receipt", RECEIPT_VERSION)?;
        let success = r.flag("success flag")?;
        let at = r.pos();
        let code = match r.u8()? {
            0 => None,
            value => Some(ErrorCode::from_u8(value).ok_or(DecodeError::BadTag {
                what: "error code",
                value,
                at,
            })?),
        };
        match (success, code) {
            (true, Some(code)) => return Err(DecodeError::SuccessWithError(code)),
            (false, None) => return Err(DecodeError::FailureWithoutError),
            _ => {}
        }
        let message = r.string()?;
        let error = match code {
            Some(code) => Some(TxError { code, message }),
            None if message.is_empty() => None,
            None => return Err(DecodeError::MessageWithoutError(message.len())),
        };
        let receipt = Receipt {
            success,
            error,
            new_state: r.state()?,
            returns: r.values()?,
            return_data: r.bytes()?,
            logs: r.logs()?,
            pages_read: r.u32()?,
            pages_written: r.u32()?,
            gas_limit: r.u64()?,
            gas_used: r.u64()?,
            calls: r.calls()?,
        };
        r.finish()?;
        Ok(receipt)
    }
}
