//! The contract's linear memory as vmcalls see it ([`GuestMemory`]), and
//! one over a byte vector for tests ([`VecMemory`]).

use crate::VmCallError;

/// The contract's linear memory, as vmcalls see it.
pub trait GuestMemory {
    /// Copies `buf.len()` bytes at `ptr` into `buf`.
    ///
    /// # Errors
    /// [`VmCallError::MemoryOutOfBounds`].
    fn read(&self, ptr: u32, buf: &mut [u8]) -> Result<(), VmCallError>;

    /// Copies `data` to `ptr`.
    ///
    /// # Errors
    /// [`VmCallError::MemoryOutOfBounds`].
    fn write(&self, ptr: u32, data: &[u8]) -> Result<(), VmCallError>;
}

/// A memory over a plain byte vector, for tests of vmcalls without wasmer.
#[derive(Debug, Default)]
pub struct VecMemory(pub std::cell::RefCell<Vec<u8>>);

impl VecMemory {
    /// A memory of `size` zero bytes.
    pub fn new(size: usize) -> Self {
        Self(std::cell::RefCell::new(vec![0; size]))
    }
}

fn range(ptr: u32, len: usize, size: usize) -> Result<std::ops::Range<usize>, VmCallError> {
    let start = ptr as usize;
    match start.checked_add(len) {
        Some(end) if end <= size => Ok(start..end),
        _ => Err(VmCallError::MemoryOutOfBounds {
            ptr,
            len: len as u32,
        }),
    }
}

impl GuestMemory for VecMemory {
    fn read(&self, ptr: u32, buf: &mut [u8]) -> Result<(), VmCallError> {
        let m = self.0.borrow();
        buf.copy_from_slice(&m[range(ptr, buf.len(), m.len())?]);
        Ok(())
    }

    fn write(&self, ptr: u32, data: &[u8]) -> Result<(), VmCallError> {
        let mut m = self.0.borrow_mut();
        let r = range(ptr, data.len(), m.len())?;
        m[r].copy_from_slice(data);
        Ok(())
    }
}
