//! svm layer 4: ephemeral, fixed-size, typed registers.
//!
//! A contract run gets a fresh [`Registers`] set; nothing in it persists.
//! A register is addressed by (bit width, index). The widths are the
//! original SVM's:
//!
//! | width (bits) | size (bytes) | default count |
//! |---|---|---|
//! | 32 | 4 | 16 |
//! | 64 | 8 | 16 |
//! | 160 | 20 | 8 |
//! | 256 | 32 | 4 |
//! | 512 | 64 | 4 |
//!
//! The counts are configurable ([`RegisterConfig`]). A width outside the
//! table, an index past the count, or a length larger than the register is a
//! typed [`RegisterError`]. Writing `n` bytes into a register sets its first
//! `n` bytes and zero-fills the rest; every register starts zeroed.
//!
//! ```
//! use svm_registers::Registers;
//! let mut regs = Registers::default();
//! regs.write(160, 0, &[0xaa; 20]).unwrap();
//! regs.write(160, 0, &[1, 2]).unwrap();          // zero-fills the other 18 bytes
//! assert_eq!(&regs.get(160, 0).unwrap()[..3], &[1, 2, 0]);
//! regs.write_be_i64(64, 3, -2).unwrap();
//! assert_eq!(regs.read_be_i64(64, 3).unwrap(), -2);
//! assert!(regs.get(128, 0).is_err());            // no 128-bit registers
//! assert!(regs.get(512, 4).is_err());            // only 4 of 512 bits
//! ```
#![deny(missing_docs)]

/// The register widths, in bits, in table order.
pub const WIDTHS: [u32; 5] = [32, 64, 160, 256, 512];

/// An error of a register access.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// No registers of this width exist (valid: 32, 64, 160, 256, 512).
    #[error("no {0}-bit registers (valid widths: 32, 64, 160, 256, 512)")]
    UnknownWidth(u32),
    /// The index is not below the number of registers of this width.
    #[error("register index {index} out of range: {count} registers of {bits} bits")]
    IndexOutOfRange {
        /// The width, in bits.
        bits: u32,
        /// The index asked for.
        index: u32,
        /// The number of registers of this width.
        count: u32,
    },
    /// A length (or offset) larger than the register.
    #[error("{len} bytes do not fit in a {bits}-bit register ({} bytes)", bits / 8)]
    TooLong {
        /// The width, in bits.
        bits: u32,
        /// The length asked for, in bytes (for an offset: offset + 1).
        len: u64,
    },
    /// A value given as a byte is larger than 255.
    #[error("byte value {0} is larger than 255")]
    NotAByte(u32),
}

/// The most registers of one width a set holds: a larger count in a
/// [`RegisterConfig`] is taken as this many. 1024 registers of every
/// width are 128 KiB (1024 × (4 + 8 + 20 + 32 + 64) = 131,072 bytes), allocated for
/// every run.
pub const MAX_COUNT: u32 = 1024;

/// How many registers of each width a set holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterConfig {
    /// The count for each width of [`WIDTHS`], in that order; each at most
    /// [`MAX_COUNT`] (a larger one is taken as [`MAX_COUNT`]).
    pub counts: [u32; 5],
}

impl Default for RegisterConfig {
    /// The original SVM's set: 16 × 32, 16 × 64, 8 × 160, 4 × 256, 4 × 512.
    fn default() -> Self {
        Self {
            counts: [16, 16, 8, 4, 4],
        }
    }
}

/// A set of registers for one run: 720 bytes with the default counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registers {
    counts: [u32; 5],
    banks: [Vec<u8>; 5],
}

impl Default for Registers {
    fn default() -> Self {
        Self::new(RegisterConfig::default())
    }
}

fn bank_of(bits: u32) -> Result<usize, RegisterError> {
    WIDTHS
        .iter()
        .position(|&w| w == bits)
        .ok_or(RegisterError::UnknownWidth(bits))
}

impl Registers {
    /// A zeroed set with `config`'s counts, each capped at [`MAX_COUNT`]
    /// (so a configuration can neither overflow a bank's size nor make a
    /// run allocate more than 128 KiB of registers).
    pub fn new(config: RegisterConfig) -> Self {
        let counts = config.counts.map(|c| c.min(MAX_COUNT));
        let banks =
            std::array::from_fn(|i| vec![0u8; (WIDTHS[i] / 8) as usize * counts[i] as usize]);
        Self { counts, banks }
    }

    fn locate(
        &self,
        bits: u32,
        index: u32,
    ) -> Result<(usize, std::ops::Range<usize>), RegisterError> {
        let bank = bank_of(bits)?;
        let count = self.counts[bank];
        if index >= count {
            return Err(RegisterError::IndexOutOfRange { bits, index, count });
        }
        let size = (bits / 8) as usize;
        let start = index as usize * size;
        Ok((bank, start..start + size))
    }

    /// The whole register (`bits / 8` bytes).
    ///
    /// # Errors
    /// [`RegisterError::UnknownWidth`], [`RegisterError::IndexOutOfRange`].
    pub fn get(&self, bits: u32, index: u32) -> Result<&[u8], RegisterError> {
        let (bank, range) = self.locate(bits, index)?;
        Ok(&self.banks[bank][range])
    }

    /// The first `len` bytes of the register.
    ///
    /// # Errors
    /// As [`Registers::get`], and [`RegisterError::TooLong`] when `len`
    /// exceeds the register's size.
    pub fn read(&self, bits: u32, index: u32, len: u64) -> Result<&[u8], RegisterError> {
        let reg = self.get(bits, index)?;
        if len > reg.len() as u64 {
            return Err(RegisterError::TooLong { bits, len });
        }
        Ok(&reg[..len as usize])
    }

    /// Sets the first `data.len()` bytes of the register to `data` and the
    /// rest to zero.
    ///
    /// # Errors
    /// As [`Registers::read`]; the register is unchanged on error.
    pub fn write(&mut self, bits: u32, index: u32, data: &[u8]) -> Result<(), RegisterError> {
        let (bank, range) = self.locate(bits, index)?;
        let reg = &mut self.banks[bank][range];
        if data.len() > reg.len() {
            return Err(RegisterError::TooLong {
                bits,
                len: data.len() as u64,
            });
        }
        reg[..data.len()].copy_from_slice(data);
        reg[data.len()..].fill(0);
        Ok(())
    }

    /// Sets the register's byte at `offset` to `byte`, leaving the others.
    ///
    /// # Errors
    /// [`RegisterError::NotAByte`] when `byte > 255`,
    /// [`RegisterError::TooLong`] when `offset` is outside the register,
    /// and those of [`Registers::get`].
    pub fn replace_byte(
        &mut self,
        bits: u32,
        index: u32,
        byte: u32,
        offset: u32,
    ) -> Result<(), RegisterError> {
        let byte = u8::try_from(byte).map_err(|_| RegisterError::NotAByte(byte))?;
        let (bank, range) = self.locate(bits, index)?;
        let reg = &mut self.banks[bank][range];
        let slot = reg.get_mut(offset as usize).ok_or(RegisterError::TooLong {
            bits,
            len: u64::from(offset) + 1,
        })?;
        *slot = byte;
        Ok(())
    }

    /// The register's first 8 bytes as a big-endian `i64`.
    ///
    /// # Errors
    /// [`RegisterError::TooLong`] for a 32-bit register, and those of
    /// [`Registers::get`].
    pub fn read_be_i64(&self, bits: u32, index: u32) -> Result<i64, RegisterError> {
        let bytes = self.read(bits, index, 8)?;
        let mut b = [0u8; 8];
        b.copy_from_slice(bytes);
        Ok(i64::from_be_bytes(b))
    }

    /// Writes `value` as 8 big-endian bytes and zero-fills the rest.
    ///
    /// # Errors
    /// As [`Registers::read_be_i64`].
    pub fn write_be_i64(&mut self, bits: u32, index: u32, value: i64) -> Result<(), RegisterError> {
        self.write(bits, index, &value.to_be_bytes())
    }

    /// Zeroes every register.
    pub fn clear(&mut self) {
        for bank in &mut self.banks {
            bank.fill(0);
        }
    }

    /// The number of registers of width `bits`.
    ///
    /// # Errors
    /// [`RegisterError::UnknownWidth`].
    pub fn count(&self, bits: u32) -> Result<u32, RegisterError> {
        Ok(self.counts[bank_of(bits)?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn default_counts_are_the_original_svms() {
        let r = Registers::default();
        let counts: Vec<u32> = WIDTHS.iter().map(|&w| r.count(w).unwrap()).collect();
        assert_eq!(counts, vec![16, 16, 8, 4, 4]);
        for (w, c) in WIDTHS.iter().zip(&counts) {
            assert_eq!(r.get(*w, c - 1).unwrap().len() as u32, w / 8);
            assert_eq!(
                r.get(*w, *c),
                Err(RegisterError::IndexOutOfRange {
                    bits: *w,
                    index: *c,
                    count: *c
                })
            );
        }
    }

    /// A count whose bank size would overflow a `u32` (2^26 registers of
    /// 512 bits are 2^32 bytes) is capped: the last register is usable
    /// and the next one is out of range, with no panic and no huge bank.
    #[test]
    fn counts_are_capped() {
        let mut r = Registers::new(RegisterConfig {
            counts: [u32::MAX, 1 << 26, 3, MAX_COUNT, MAX_COUNT + 1],
        });
        assert_eq!(r.count(32).unwrap(), MAX_COUNT);
        assert_eq!(r.count(64).unwrap(), MAX_COUNT);
        assert_eq!(r.count(160).unwrap(), 3);
        for w in [32, 64, 256, 512] {
            r.write(w, MAX_COUNT - 1, &[7]).unwrap();
            assert_eq!(r.get(w, MAX_COUNT - 1).unwrap()[0], 7);
            assert!(matches!(
                r.get(w, MAX_COUNT),
                Err(RegisterError::IndexOutOfRange {
                    count: MAX_COUNT,
                    ..
                })
            ));
        }
        let bytes: usize = r.banks.iter().map(Vec::len).sum();
        assert_eq!(bytes, 1024 * (4 + 8 + 32 + 64) + 3 * 20);
    }

    #[test]
    fn counts_are_configurable() {
        let r = Registers::new(RegisterConfig {
            counts: [1, 0, 2, 0, 1],
        });
        assert!(r.get(32, 0).is_ok());
        assert!(r.get(32, 1).is_err());
        assert!(r.get(64, 0).is_err());
        assert!(r.get(160, 1).is_ok());
    }

    #[test]
    fn bad_widths_lengths_and_bytes_are_errors() {
        let mut r = Registers::default();
        for bits in [0, 8, 128, 1024, u32::MAX] {
            assert_eq!(r.get(bits, 0), Err(RegisterError::UnknownWidth(bits)));
        }
        assert_eq!(
            r.write(32, 0, &[1; 5]),
            Err(RegisterError::TooLong { bits: 32, len: 5 })
        );
        assert_eq!(r.get(32, 0).unwrap(), &[0; 4], "unchanged after an error");
        assert_eq!(
            r.read(64, 0, 9),
            Err(RegisterError::TooLong { bits: 64, len: 9 })
        );
        assert_eq!(
            r.replace_byte(64, 0, 256, 0),
            Err(RegisterError::NotAByte(256))
        );
        assert_eq!(
            r.replace_byte(64, 0, 1, 8),
            Err(RegisterError::TooLong { bits: 64, len: 9 })
        );
        assert!(r.read_be_i64(32, 0).is_err());
        assert!(r.write_be_i64(32, 0, 1).is_err());
    }

    #[test]
    fn replace_byte_touches_one_byte() {
        let mut r = Registers::default();
        r.write(256, 1, &[9; 32]).unwrap();
        r.replace_byte(256, 1, 0x42, 31).unwrap();
        let reg = r.get(256, 1).unwrap();
        assert_eq!(reg[31], 0x42);
        assert!(reg[..31].iter().all(|&b| b == 9));
        assert_eq!(r.get(256, 0).unwrap(), &[0; 32], "neighbour untouched");
    }

    proptest! {
        /// A write of n bytes sets the first n bytes and zero-fills the rest,
        /// whatever the register held before, and touches no other register.
        #[test]
        fn write_zero_fills(w in 0usize..5, before in any::<u8>(), data in prop::collection::vec(any::<u8>(), 0..=64)) {
            let bits = WIDTHS[w];
            let size = (bits / 8) as usize;
            let mut r = Registers::default();
            r.write(bits, 1, &vec![before; size]).unwrap();
            let res = r.write(bits, 1, &data);
            if data.len() > size {
                prop_assert!(res.is_err());
                prop_assert_eq!(r.get(bits, 1).unwrap(), &vec![before; size][..]);
            } else {
                prop_assert!(res.is_ok());
                let reg = r.get(bits, 1).unwrap();
                prop_assert_eq!(&reg[..data.len()], &data[..]);
                prop_assert!(reg[data.len()..].iter().all(|&b| b == 0));
                prop_assert!(r.get(bits, 0).unwrap().iter().all(|&b| b == 0));
            }
        }
    }
}
