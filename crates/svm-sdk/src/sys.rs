//! The raw vmcalls, exactly as `docs/vmcalls.md` lists them (import module
//! `svm`, and `node` for the balance calls).
//!
//! On `wasm32` these are the contract's imports. On any other target (a
//! host build of a contract crate, `cargo test`, docs) they exist so that
//! code compiles, and every one of them panics when called: vmcalls run
//! only inside the VM. Prefer the typed wrappers of the other modules.

macro_rules! vmcalls {
    ($module:literal: $( $(#[$m:meta])* fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?; )*) => {
        #[cfg(target_arch = "wasm32")]
        #[link(wasm_import_module = $module)]
        unsafe extern "C" {
            $( $(#[$m])* pub fn $name($($arg: $ty),*) $(-> $ret)?; )*
        }

        $(
            #[cfg(not(target_arch = "wasm32"))]
            $(#[$m])*
            ///
            /// # Safety
            /// Off wasm32 this only panics; on wasm32 it is the import.
            #[allow(unused_variables, clippy::too_many_arguments)]
            pub unsafe fn $name($($arg: $ty),*) $(-> $ret)? {
                panic!(concat!("svm-sdk: `", stringify!($name), "` is a vmcall and runs only inside the VM (wasm32)"))
            }
        )*
    };
}

vmcalls! { "svm":
    /// `len` bytes of memory at `ptr` into register (`bits`, `idx`).
    fn mem_to_reg_copy(mem_idx: u32, ptr: u32, len: u32, bits: u32, idx: u32);
    /// The first `len` bytes of register (`bits`, `idx`) into memory.
    fn reg_to_mem_copy(bits: u32, idx: u32, len: u32, mem_idx: u32, ptr: u32);
    /// A storage slice into a register.
    fn storage_read_to_reg(page: u32, slice: u32, offset: u32, len: u32, bits: u32, idx: u32);
    /// A storage slice into memory.
    fn storage_read_to_mem(page: u32, slice: u32, offset: u32, len: u32, mem_idx: u32, ptr: u32);
    /// Memory into a storage slice.
    fn storage_write_from_mem(mem_idx: u32, ptr: u32, len: u32, page: u32, slice: u32, offset: u32);
    /// A register into a storage slice.
    fn storage_write_from_reg(bits: u32, idx: u32, len: u32, page: u32, slice: u32, offset: u32);
    /// Sets one byte of a register.
    fn reg_replace_byte(bits: u32, idx: u32, byte: u32, offset: u32);
    /// A register's first 8 bytes, big-endian.
    fn reg_read_be_i64(bits: u32, idx: u32) -> i64;
    /// 8 bytes big-endian into a register.
    fn reg_write_be_i64(value: i64, bits: u32, idx: u32);
    /// The call data's size, in bytes.
    fn calldata_len() -> u32;
    /// Call data bytes `[offset, offset + len)` into memory.
    fn calldata_copy(ptr: u32, offset: u32, len: u32);
    /// The call's return data (the last call wins).
    fn set_return_data(ptr: u32, len: u32);
    /// Appends one log entry.
    fn log(ptr: u32, len: u32);
    /// Ends the call with a failed receipt carrying the message.
    fn abort(ptr: u32, len: u32);
    /// The sender's address into a register.
    fn sender_to_reg(bits: u32, idx: u32);
    /// The contract's own address into a register.
    fn self_to_reg(bits: u32, idx: u32);
    /// Moves `amount` of the contract's own balance to the address in the register.
    fn transfer(bits: u32, idx: u32, amount: i64);
    /// The value the call carries.
    fn value() -> i64;
    /// An inner contract call; 0 or an error code.
    fn call(addr_bits: u32, addr_idx: u32, func_ptr: u32, func_len: u32, data_ptr: u32, data_len: u32, gas: i64, value: i64) -> u32;
    /// The size of the last inner call's return data.
    fn returndata_len() -> u32;
    /// Bytes of the last inner call's return data into memory.
    fn returndata_copy(ptr: u32, offset: u32, len: u32);
    /// A map lookup; 1 when found.
    fn map_get(map_page: u32, key_ptr: u32, key_len: u32, val_ptr: u32, val_len: u32) -> u32;
    /// A map insert; 1 when it replaced a value.
    fn map_set(map_page: u32, key_ptr: u32, key_len: u32, val_ptr: u32, val_len: u32) -> u32;
    /// A map removal; 1 when the key was there.
    fn map_remove(map_page: u32, key_ptr: u32, key_len: u32, val_len: u32) -> u32;
    /// A map's number of entries.
    fn map_len(map_page: u32) -> i64;
}

vmcalls! { "node":
    /// The balance of the address in the register.
    fn vmcall_get_balance(bits: u32, idx: u32) -> i64;
    /// Sets a balance (disabled unless the runtime allows it).
    fn vmcall_set_balance(value: i64, bits: u32, idx: u32);
}

/// The register the wrappers use as scratch: 160 bits (an address), index 0.
pub(crate) const ADDR_REG: (u32, u32) = (160, 0);

/// A pointer into the contract's memory, as the vmcalls take it.
#[inline(always)]
pub(crate) fn ptr<T: ?Sized>(p: *const T) -> u32 {
    p as *const u8 as usize as u32
}
