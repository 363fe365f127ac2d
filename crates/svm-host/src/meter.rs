//! What a vmcall needs of the engine besides its
//! [`CallContext`](crate::CallContext): the
//! contract's memory ([`GuestMemory`]) and its gas ([`GasMeter`]),
//! together a [`Host`]; and [`VecHost`], both over plain values, for
//! tests without an engine.

use crate::VmCallError;
use crate::memory::{GuestMemory, VecMemory};

/// The gas of the running contract, in gas.
pub trait GasMeter {
    /// Takes `amount` gas.
    ///
    /// # Errors
    /// [`VmCallError::OutOfGas`], leaving 0 gas, when less remains.
    fn charge(&mut self, amount: u64) -> Result<(), VmCallError>;

    /// The gas left.
    fn remaining(&mut self) -> u64;

    /// Gives `amount` gas back (what an inner call did not use).
    ///
    /// # Errors
    /// [`VmCallError::OutOfGas`] when the engine cannot set the gas.
    fn refund(&mut self, amount: u64) -> Result<(), VmCallError>;
}

/// The engine side of a vmcall: the contract's memory and gas.
pub trait Host: GuestMemory + GasMeter {
    /// Whether the contract's memory is there to read and write.
    ///
    /// # Errors
    /// [`VmCallError::NoMemory`] when it is not.
    fn ready(&self) -> Result<(), VmCallError> {
        Ok(())
    }
}

/// A [`Host`] over a byte vector and a gas count, for tests of vmcalls
/// without an engine.
#[derive(Debug, Default)]
pub struct VecHost {
    /// The contract's memory.
    pub memory: VecMemory,
    /// The gas left, in gas.
    pub gas: u64,
}

impl VecHost {
    /// `memory_bytes` zero bytes of memory and `gas` gas.
    pub fn new(memory_bytes: usize, gas: u64) -> Self {
        Self {
            memory: VecMemory::new(memory_bytes),
            gas,
        }
    }
}

impl GuestMemory for VecHost {
    fn read(&self, ptr: u32, buf: &mut [u8]) -> Result<(), VmCallError> {
        self.memory.read(ptr, buf)
    }

    fn write(&self, ptr: u32, data: &[u8]) -> Result<(), VmCallError> {
        self.memory.write(ptr, data)
    }
}

impl GasMeter for VecHost {
    fn charge(&mut self, amount: u64) -> Result<(), VmCallError> {
        match self.gas.checked_sub(amount) {
            Some(left) => {
                self.gas = left;
                Ok(())
            }
            None => {
                self.gas = 0;
                Err(VmCallError::OutOfGas)
            }
        }
    }

    fn remaining(&mut self) -> u64 {
        self.gas
    }

    fn refund(&mut self, amount: u64) -> Result<(), VmCallError> {
        self.gas = self.gas.saturating_add(amount);
        Ok(())
    }
}

impl Host for VecHost {}
