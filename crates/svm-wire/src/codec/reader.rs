//! Reads the field types of the module docs from a byte slice. Every length
//! and count is checked against the bytes left before anything is
//! allocated for it.

use svm_types::{Address, State};

use crate::{DecodeError, MAX_VALUES, TAG_I32, TAG_I64, WasmValue};

/// A position in an input.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    /// The offset of the next byte.
    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    /// How many bytes are left.
    pub(super) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// The next `n` bytes, borrowed.
    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let rest = self.remaining();
        if rest < n {
            return Err(DecodeError::Truncated {
                at: self.buf.len(),
                needed: n - rest,
            });
        }
        let s = self
            .buf
            .get(self.pos..self.pos + n)
            .ok_or(DecodeError::Truncated {
                at: self.buf.len(),
                needed: n,
            })?;
        self.pos += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    pub(super) fn u8(&mut self) -> Result<u8, DecodeError> {
        let [b] = self.array::<1>()?;
        Ok(b)
    }

    pub(super) fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(super) fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(super) fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }

    /// The version byte of message `what`, which must be `expected`.
    pub(super) fn version(&mut self, what: &'static str, expected: u8) -> Result<(), DecodeError> {
        match self.u8()? {
            v if v == expected => Ok(()),
            found => Err(DecodeError::BadVersion {
                what,
                found,
                expected,
            }),
        }
    }

    pub(super) fn address(&mut self) -> Result<Address, DecodeError> {
        Ok(Address(self.array()?))
    }

    pub(super) fn state(&mut self) -> Result<State, DecodeError> {
        Ok(State(self.array()?))
    }

    /// A `string`.
    pub(super) fn string(&mut self) -> Result<String, DecodeError> {
        let n = usize::from(self.u16()?);
        let at = self.pos;
        let raw = self.take(n)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| DecodeError::BadUtf8(at))
    }

    /// A `bytes`.
    pub(super) fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u32()?;
        // On a target where usize is narrower than u32, a length beyond it
        // cannot be in memory: the input is truncated.
        let n = usize::try_from(n).map_err(|_| DecodeError::Truncated {
            at: self.buf.len(),
            needed: usize::MAX,
        })?;
        Ok(self.take(n)?.to_vec())
    }

    /// A `values`.
    pub(super) fn values(&mut self) -> Result<Vec<WasmValue>, DecodeError> {
        let n = usize::from(self.u8()?);
        if n > MAX_VALUES {
            return Err(DecodeError::TooManyValues(n));
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let at = self.pos;
            out.push(match self.u8()? {
                TAG_I32 => WasmValue::I32(i32::from_be_bytes(self.array()?)),
                TAG_I64 => WasmValue::I64(i64::from_be_bytes(self.array()?)),
                value => {
                    return Err(DecodeError::BadTag {
                        what: "value tag",
                        value,
                        at,
                    });
                }
            });
        }
        Ok(out)
    }

    /// A `logs`. Each log takes at least its 4-byte length, so the vector
    /// reserved is never larger than a quarter of the bytes left.
    pub(super) fn logs(&mut self) -> Result<Vec<Vec<u8>>, DecodeError> {
        let n = self.u32()?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        let mut logs = Vec::with_capacity(n.min(self.remaining() / 4));
        for _ in 0..n {
            logs.push(self.bytes()?);
        }
        Ok(logs)
    }

    /// A `calls` ([`super::writer::Writer::calls`]). Each call takes at
    /// least 35 bytes, which bounds the vector reserved.
    pub(super) fn calls(&mut self) -> Result<Vec<crate::InnerCall>, DecodeError> {
        let n = usize::try_from(self.u32()?).unwrap_or(usize::MAX);
        let mut calls = Vec::with_capacity(n.min(self.remaining() / 35));
        for _ in 0..n {
            let depth = self.u32()?;
            let contract = self.address()?;
            let function = self.string()?;
            let at = self.pos;
            let error = match self.u8()? {
                0 => None,
                value => Some(crate::ErrorCode::from_u8(value).ok_or(DecodeError::BadTag {
                    what: "inner call error code",
                    value,
                    at,
                })?),
            };
            let gas_used = self.u64()?;
            calls.push(crate::InnerCall {
                depth,
                contract,
                function,
                error,
                gas_used,
            });
        }
        Ok(calls)
    }

    /// A flag byte: 0 or 1.
    pub(super) fn flag(&mut self, what: &'static str) -> Result<bool, DecodeError> {
        let at = self.pos;
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(DecodeError::BadTag { what, value, at }),
        }
    }

    /// The end of a message: no byte may remain.
    pub(super) fn finish(self) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::TrailingBytes(n)),
        }
    }
}
