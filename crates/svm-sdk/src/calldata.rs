//! Call data in, return data out.
//!
//! The entry-point convention: an entry point is an exported function
//! without parameters (`#[unsafe(no_mangle)] pub extern "C" fn name()`);
//! it reads its arguments from the call data with [`CallData`] and answers
//! with [`set_return_data`]. This is the only shape an inner call
//! (`svm.call`) can invoke, so every function of an SDK contract can be
//! called by transactions and by other contracts alike. Integers are
//! big-endian on the wire.

use crate::address::Address;
use crate::sys;

/// A reader over the call's call data, from its start.
///
/// Reading past the end ends the call with the message
/// `call data too short` (a failed receipt, `Trap`).
///
/// ```no_run
/// # fn f() {
/// let mut args = svm_sdk::CallData::new();
/// let to = args.address();
/// let amount = args.u64();
/// # }
/// ```
#[derive(Debug)]
pub struct CallData {
    pos: u32,
    len: u32,
}

impl CallData {
    /// A reader at offset 0 (`svm.calldata_len`).
    pub fn new() -> Self {
        // SAFETY: no arguments.
        let len = unsafe { sys::calldata_len() };
        Self { pos: 0, len }
    }

    /// The call data's size, in bytes.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether the call data is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes not read yet.
    pub fn remaining(&self) -> u32 {
        self.len - self.pos
    }

    /// Fills `buf` with the next `buf.len()` bytes.
    pub fn read_into(&mut self, buf: &mut [u8]) {
        let n = buf.len() as u32;
        if n > self.remaining() {
            crate::abort("call data too short");
        }
        // SAFETY: `buf` writable for `n` bytes; the range is inside.
        unsafe { sys::calldata_copy(sys::ptr(buf.as_mut_ptr()), self.pos, n) };
        self.pos += n;
    }

    /// The next `N` bytes.
    pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        self.read_into(&mut b);
        b
    }

    /// The next 20 bytes, as an address.
    pub fn address(&mut self) -> Address {
        Address(self.bytes())
    }

    /// The next 8 bytes, big-endian.
    pub fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.bytes())
    }

    /// The next 4 bytes, big-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.bytes())
    }

    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        self.bytes::<1>()[0]
    }
}

impl Default for CallData {
    fn default() -> Self {
        Self::new()
    }
}

/// Sets the call's return data (`svm.set_return_data`; at most 64 KiB by
/// default; the last call wins). A caller reads it with
/// [`crate::call::return_data`].
pub fn set_return_data(bytes: &[u8]) {
    // SAFETY: readable for its length.
    unsafe { sys::set_return_data(sys::ptr(bytes.as_ptr()), bytes.len() as u32) }
}

/// Sets a `u64` (8 bytes, big-endian) as the return data.
pub fn return_u64(v: u64) {
    set_return_data(&v.to_be_bytes());
}
