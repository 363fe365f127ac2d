//! Appends the field types of the module docs to a byte vector, refusing
//! what does not fit.

use crate::{
    EncodeError, MAX_BYTES_LEN, MAX_LOGS, MAX_STRING_BYTES, MAX_VALUES, TAG_I32, TAG_I64, WasmValue,
};

/// The `u16` length prefix of a `string` of `len` bytes.
pub(crate) fn string_len(field: &'static str, len: usize) -> Result<u16, EncodeError> {
    if len > MAX_STRING_BYTES {
        return Err(EncodeError::StringTooLong { field, len });
    }
    u16::try_from(len).map_err(|_| EncodeError::StringTooLong { field, len })
}

/// The `u32` length prefix of a `bytes` of `len` bytes.
pub(crate) fn bytes_len(field: &'static str, len: usize) -> Result<u32, EncodeError> {
    if len > MAX_BYTES_LEN {
        return Err(EncodeError::BytesTooLong { field, len });
    }
    u32::try_from(len).map_err(|_| EncodeError::BytesTooLong { field, len })
}

/// The `u8` count of `values` of `count` values.
pub(crate) fn value_count(field: &'static str, count: usize) -> Result<u8, EncodeError> {
    if count > MAX_VALUES {
        return Err(EncodeError::TooManyValues { field, count });
    }
    u8::try_from(count).map_err(|_| EncodeError::TooManyValues { field, count })
}

/// The `u32` count of `logs` of `count` logs.
pub(crate) fn log_count(count: usize) -> Result<u32, EncodeError> {
    if count > MAX_LOGS {
        return Err(EncodeError::TooManyLogs(count));
    }
    u32::try_from(count).map_err(|_| EncodeError::TooManyLogs(count))
}

/// A growing encoding in the field types of the crate docs (integers
/// big-endian), refusing what does not fit a field. Public so that a
/// message built on these field types elsewhere (the runtime's block
/// outcome) encodes them the same way.
#[derive(Debug, Default)]
pub struct Writer(Vec<u8>);

impl Writer {
    /// An empty encoding with room for `capacity` bytes.
    pub fn with_capacity(capacity: usize) -> Self {
        Self(Vec::with_capacity(capacity))
    }

    /// A `u32` count of `count` items of a list (as the count of `logs`).
    ///
    /// # Errors
    /// [`EncodeError::TooManyLogs`] over 4 294 967 295 items.
    pub fn count(&mut self, count: usize) -> Result<(), EncodeError> {
        self.u32(log_count(count)?);
        Ok(())
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// A `u8`: 1 byte.
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    /// A `u16`: 2 bytes, big-endian.
    pub fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    /// A `u32`: 4 bytes, big-endian.
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    /// A `u64`: 8 bytes, big-endian.
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    /// Fixed-size fields (`address`, `state`).
    pub fn raw(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }

    /// A `string`: `u16` length ‖ the UTF-8 bytes.
    ///
    /// # Errors
    /// [`EncodeError::StringTooLong`] (naming `field`) over 65 535 bytes.
    pub fn string(&mut self, field: &'static str, s: &str) -> Result<(), EncodeError> {
        self.u16(string_len(field, s.len())?);
        self.raw(s.as_bytes());
        Ok(())
    }

    /// A `bytes`: `u32` length ‖ the bytes.
    ///
    /// # Errors
    /// [`EncodeError::BytesTooLong`] (naming `field`) over
    /// 4 294 967 295 bytes.
    pub fn bytes(&mut self, field: &'static str, b: &[u8]) -> Result<(), EncodeError> {
        self.u32(bytes_len(field, b.len())?);
        self.raw(b);
        Ok(())
    }

    /// A `values`: `u8` count ‖ per value its tag and 4 or 8 bytes.
    ///
    /// # Errors
    /// [`EncodeError::TooManyValues`] (naming `field`) over 64 values.
    pub fn values(&mut self, field: &'static str, vs: &[WasmValue]) -> Result<(), EncodeError> {
        self.u8(value_count(field, vs.len())?);
        for v in vs {
            match v {
                WasmValue::I32(x) => {
                    self.u8(TAG_I32);
                    self.raw(&x.to_be_bytes());
                }
                WasmValue::I64(x) => {
                    self.u8(TAG_I64);
                    self.raw(&x.to_be_bytes());
                }
            }
        }
        Ok(())
    }

    /// A `calls`: a `u32` count, then per inner call its depth (`u32`),
    /// contract (20 bytes), function (`string`), error code (`u8`, 0 on
    /// success) and gas used (`u64`).
    ///
    /// # Errors
    /// [`EncodeError::TooManyCalls`] for more than `u32::MAX` calls;
    /// [`EncodeError::StringTooLong`] for a function name over 65 535
    /// bytes.
    pub fn calls(&mut self, calls: &[crate::InnerCall]) -> Result<(), EncodeError> {
        let n = u32::try_from(calls.len()).map_err(|_| EncodeError::TooManyCalls(calls.len()))?;
        self.u32(n);
        for c in calls {
            self.u32(c.depth);
            self.raw(&c.contract.0);
            self.string("inner call function", &c.function)?;
            self.u8(c.error.map_or(0, |e| e.as_u8()));
            self.u64(c.gas_used);
        }
        Ok(())
    }

    /// A `logs`: `u32` count ‖ each log as a `bytes`.
    ///
    /// # Errors
    /// [`EncodeError::TooManyLogs`] over 4 294 967 295 logs,
    /// [`EncodeError::BytesTooLong`] for a log over 4 294 967 295 bytes.
    pub fn logs(&mut self, logs: &[Vec<u8>]) -> Result<(), EncodeError> {
        self.u32(log_count(logs.len())?);
        for log in logs {
            self.bytes("log", log)?;
        }
        Ok(())
    }
}
