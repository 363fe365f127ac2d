//! Account and contract addresses: 20 bytes, as everywhere in svm.

use crate::sys;

/// A 20-byte account or contract address (the VM's `Address`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The size of an address, in bytes.
    pub const LEN: usize = 20;

    /// The address's bytes.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// Loads the address into the SDK's scratch register (160 bits,
    /// index 0), where the vmcalls that take an address read it.
    pub(crate) fn to_reg(self) {
        let (bits, idx) = sys::ADDR_REG;
        // SAFETY: 20 bytes of `self` are readable.
        unsafe { sys::mem_to_reg_copy(0, sys::ptr(&self.0), 20, bits, idx) }
    }

    /// Reads the SDK's scratch register as an address.
    pub(crate) fn from_reg() -> Self {
        let mut a = [0u8; 20];
        let (bits, idx) = sys::ADDR_REG;
        // SAFETY: 20 bytes of `a` are writable.
        unsafe { sys::reg_to_mem_copy(bits, idx, 20, 0, sys::ptr(a.as_mut_ptr())) };
        Address(a)
    }
}

impl From<[u8; 20]> for Address {
    fn from(a: [u8; 20]) -> Self {
        Address(a)
    }
}
