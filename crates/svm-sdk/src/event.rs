//! Logs and events.
//!
//! An event is one log entry laid out as:
//!
//! | bytes | field |
//! |---|---|
//! | 1 | name length n (1 to 255) |
//! | n | name, e.g. `Transfer` |
//! | rest | the fields, in order, each at its fixed size (addresses 20 bytes, integers big-endian) |
//!
//! so an indexer reads the name first and knows the fields' layout from it.

use crate::address::Address;
use crate::sys;

/// The largest event, in bytes (name and fields).
pub const MAX_EVENT: usize = 512;

/// Appends `bytes` as one log entry (`svm.log`; at most 256 entries and
/// 64 KiB per transaction by default).
pub fn log(bytes: &[u8]) {
    // SAFETY: readable for its length.
    unsafe { sys::log(sys::ptr(bytes.as_ptr()), bytes.len() as u32) }
}

/// An event being built on the stack; [`Event::emit`] logs it.
///
/// ```no_run
/// # use svm_sdk::{Address, Event};
/// # fn f(from: Address, to: Address, amount: u64) {
/// Event::new("Transfer").address(&from).address(&to).u64(amount).emit();
/// # }
/// ```
#[derive(Debug)]
pub struct Event {
    buf: [u8; MAX_EVENT],
    len: usize,
}

impl Event {
    /// An event named `name` (1 to 255 bytes).
    pub fn new(name: &str) -> Self {
        if name.is_empty() || name.len() > 255 {
            crate::abort("event name must be 1 to 255 bytes");
        }
        let e = Self {
            buf: [0; MAX_EVENT],
            len: 0,
        };
        e.push(&[name.len() as u8]).push(name.as_bytes())
    }

    fn push(mut self, bytes: &[u8]) -> Self {
        let end = self.len + bytes.len();
        if end > MAX_EVENT {
            crate::abort("event over 512 bytes");
        }
        self.buf[self.len..end].copy_from_slice(bytes);
        self.len = end;
        self
    }

    /// Appends raw bytes.
    pub fn bytes(self, b: &[u8]) -> Self {
        self.push(b)
    }

    /// Appends an address (20 bytes).
    pub fn address(self, a: &Address) -> Self {
        self.push(&a.0)
    }

    /// Appends a `u64` (8 bytes, big-endian).
    pub fn u64(self, v: u64) -> Self {
        self.push(&v.to_be_bytes())
    }

    /// The encoded event.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Logs it.
    pub fn emit(self) {
        log(self.as_bytes());
    }
}
