//! The vmcalls: host functions a contract imports, as small free functions
//! over a [`CallContext`] and a [`GuestMemory`], so each can be tested
//! without wasmer. The engine binds each row of the table ([`crate::abi`])
//! to its metered entry point ([`crate::entry`]), which calls these.
//!
//! Rules for every vmcall:
//! - `i32` pointers, lengths, pages, offsets and indices are read as
//!   **unsigned** 32-bit values;
//! - a memory index other than 0 is an error ([`VmCallError::MemoryIndex`]);
//! - a slice index is accepted for compatibility with the original SVM and
//!   identifies nothing beyond (page, offset, length);
//! - any out-of-bounds memory range, register, page slice or length ends
//!   the call as a failed receipt (a trap with a [`VmCallError`]); the host
//!   never panics, and the run's writes are discarded.
//!
//! Byte order: integers in registers and storage are big-endian; addresses
//! are their 20 raw bytes at the start of a register (160 bits or wider);
//! call data, return data and logs are raw bytes.

use svm_cache::PageSlice;
use svm_cache::map::{MapStats, PageMap};
use svm_pages::{PageIndex, PageStorage};
use svm_registers::RegisterError;

use crate::{CallContext, GuestMemory, VmCallError};

fn mem_index(idx: u32) -> Result<(), VmCallError> {
    if idx == 0 {
        Ok(())
    } else {
        Err(VmCallError::MemoryIndex(idx))
    }
}

fn slice(page: u32, offset: u32, len: u32) -> Result<PageSlice, VmCallError> {
    Ok(PageSlice::new(PageIndex(page), offset, len)?)
}

/// `svm.mem_to_reg_copy`: `len` bytes of memory at `src_mem_ptr` into the
/// register, zero-filled after.
///
/// # Errors
/// [`VmCallError::MemoryIndex`] for a memory index other than 0;
/// [`VmCallError::Register`] for a bad register width or index, or `len`
/// over its size; [`VmCallError::MemoryOutOfBounds`].
pub fn mem_to_reg_copy<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    src_mem_idx: u32,
    src_mem_ptr: u32,
    len: u32,
    dst_reg_bits: u32,
    dst_reg_idx: u32,
) -> Result<(), VmCallError> {
    mem_index(src_mem_idx)?;
    let size = ctx.registers.get(dst_reg_bits, dst_reg_idx)?.len();
    if len as usize > size {
        return Err(RegisterError::TooLong {
            bits: dst_reg_bits,
            len: len.into(),
        }
        .into());
    }
    let mut buf = [0u8; 64];
    mem.read(src_mem_ptr, &mut buf[..len as usize])?;
    Ok(ctx
        .registers
        .write(dst_reg_bits, dst_reg_idx, &buf[..len as usize])?)
}

/// `svm.reg_to_mem_copy`: the register's first `len` bytes into memory.
///
/// # Errors
/// [`VmCallError::MemoryIndex`] for a memory index other than 0;
/// [`VmCallError::Register`] for a bad register width or index, or `len`
/// over its size; [`VmCallError::MemoryOutOfBounds`].
pub fn reg_to_mem_copy<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    src_reg_bits: u32,
    src_reg_idx: u32,
    len: u32,
    dst_mem_idx: u32,
    dst_mem_ptr: u32,
) -> Result<(), VmCallError> {
    mem_index(dst_mem_idx)?;
    let bytes = ctx.registers.read(src_reg_bits, src_reg_idx, len.into())?;
    mem.write(dst_mem_ptr, bytes)
}

/// `svm.storage_read_to_reg`: the slice into the register, zero-filled
/// after.
///
/// # Errors
/// [`VmCallError::Storage`] for a slice outside its 4096-byte storage page,
/// longer than 64 bytes, or a page storage failure;
/// [`VmCallError::Register`] for a bad register width or index, or a slice
/// longer than the register.
#[allow(clippy::too_many_arguments)]
pub fn storage_read_to_reg<S: PageStorage>(
    ctx: &mut CallContext<S>,
    src_page: u32,
    _src_slice: u32,
    offset: u32,
    len: u32,
    dst_reg_bits: u32,
    dst_reg_idx: u32,
) -> Result<(), VmCallError> {
    let s = slice(src_page, offset, len)?;
    let size = ctx.registers.get(dst_reg_bits, dst_reg_idx)?.len();
    if s.len() > size {
        return Err(RegisterError::TooLong {
            bits: dst_reg_bits,
            len: len.into(),
        }
        .into());
    }
    let mut buf = [0u8; 64];
    ctx.storage.cache()?.read_into(&s, &mut buf[..s.len()])?;
    Ok(ctx
        .registers
        .write(dst_reg_bits, dst_reg_idx, &buf[..s.len()])?)
}

/// `svm.storage_read_to_mem`: the slice into memory; zeros where never
/// written.
///
/// # Errors
/// [`VmCallError::MemoryIndex`] for a memory index other than 0;
/// [`VmCallError::Storage`] for a slice outside its 4096-byte storage page,
/// longer than 64 bytes, or a page storage failure;
/// [`VmCallError::MemoryOutOfBounds`].
#[allow(clippy::too_many_arguments)]
pub fn storage_read_to_mem<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    src_page: u32,
    _src_slice: u32,
    offset: u32,
    len: u32,
    dst_mem_idx: u32,
    dst_mem_ptr: u32,
) -> Result<(), VmCallError> {
    mem_index(dst_mem_idx)?;
    let s = slice(src_page, offset, len)?;
    let mut buf = vec![0u8; s.len()];
    ctx.storage.cache()?.read_into(&s, &mut buf)?;
    mem.write(dst_mem_ptr, &buf)
}

/// `svm.storage_write_from_mem`: `len` bytes of memory into the slice.
///
/// # Errors
/// [`VmCallError::MemoryIndex`] for a memory index other than 0;
/// [`VmCallError::Storage`] for a slice outside its 4096-byte storage page,
/// longer than 64 bytes, or a page storage failure;
/// [`VmCallError::MemoryOutOfBounds`].
#[allow(clippy::too_many_arguments)]
pub fn storage_write_from_mem<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    src_mem_idx: u32,
    src_mem_ptr: u32,
    len: u32,
    dst_page: u32,
    _dst_slice: u32,
    dst_offset: u32,
) -> Result<(), VmCallError> {
    mem_index(src_mem_idx)?;
    let s = slice(dst_page, dst_offset, len)?;
    let mut buf = vec![0u8; s.len()];
    mem.read(src_mem_ptr, &mut buf)?;
    Ok(ctx.storage.cache()?.write(&s, &buf)?)
}

/// `svm.storage_write_from_reg`: the register's first `len` bytes into the
/// slice.
///
/// # Errors
/// [`VmCallError::Storage`] for a slice outside its 4096-byte storage page,
/// longer than 64 bytes, or a page storage failure;
/// [`VmCallError::Register`] for a bad register width or index, or `len`
/// over its size.
#[allow(clippy::too_many_arguments)]
pub fn storage_write_from_reg<S: PageStorage>(
    ctx: &mut CallContext<S>,
    src_reg_bits: u32,
    src_reg_idx: u32,
    len: u32,
    dst_page: u32,
    _dst_slice: u32,
    dst_offset: u32,
) -> Result<(), VmCallError> {
    let s = slice(dst_page, dst_offset, len)?;
    let bytes = ctx.registers.read(src_reg_bits, src_reg_idx, len.into())?;
    let mut buf = [0u8; 64];
    buf[..bytes.len()].copy_from_slice(bytes);
    Ok(ctx.storage.cache()?.write(&s, &buf[..s.len()])?)
}

/// `svm.reg_replace_byte`: one byte of the register; `byte > 255` or an
/// offset outside the register is an error.
///
/// # Errors
/// [`VmCallError::Register`] for a bad register width or index, a byte over
/// 255 or an offset outside the register.
pub fn reg_replace_byte<S: PageStorage>(
    ctx: &mut CallContext<S>,
    reg_bits: u32,
    reg_idx: u32,
    byte: u32,
    offset: u32,
) -> Result<(), VmCallError> {
    Ok(ctx
        .registers
        .replace_byte(reg_bits, reg_idx, byte, offset)?)
}

/// `svm.reg_read_be_i64`: the register's first 8 bytes, big-endian.
///
/// # Errors
/// [`VmCallError::Register`] for a bad register width or index, or a
/// register narrower than 64 bits.
pub fn reg_read_be_i64<S: PageStorage>(
    ctx: &mut CallContext<S>,
    reg_bits: u32,
    reg_idx: u32,
) -> Result<i64, VmCallError> {
    Ok(ctx.registers.read_be_i64(reg_bits, reg_idx)?)
}

/// `svm.reg_write_be_i64`: 8 bytes big-endian, zero-filled after.
///
/// # Errors
/// [`VmCallError::Register`] for a bad register width or index, or a
/// register narrower than 64 bits.
pub fn reg_write_be_i64<S: PageStorage>(
    ctx: &mut CallContext<S>,
    value: i64,
    reg_bits: u32,
    reg_idx: u32,
) -> Result<(), VmCallError> {
    Ok(ctx.registers.write_be_i64(reg_bits, reg_idx, value)?)
}

/// `svm.calldata_len`: the size of the call data, in bytes.
///
/// # Errors
/// None: always `Ok`.
pub fn calldata_len<S: PageStorage>(ctx: &mut CallContext<S>) -> Result<u32, VmCallError> {
    Ok(ctx.calldata.len() as u32)
}

/// `svm.calldata_copy`: `len` bytes of call data from `offset` into memory
/// at `mem_ptr`.
///
/// # Errors
/// [`VmCallError::CallDataOutOfBounds`] for a range outside the call data;
/// [`VmCallError::MemoryOutOfBounds`].
pub fn calldata_copy<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    mem_ptr: u32,
    offset: u32,
    len: u32,
) -> Result<(), VmCallError> {
    let size = ctx.calldata.len();
    let bytes = byte_range(&ctx.calldata, offset, len).ok_or(VmCallError::CallDataOutOfBounds {
        offset,
        len,
        size,
    })?;
    mem.write(mem_ptr, bytes)
}

/// Bytes `[offset, offset + len)` of `bytes`, or `None` when the range is
/// not inside them (`calldata_copy`, `returndata_copy`).
fn byte_range(bytes: &[u8], offset: u32, len: u32) -> Option<&[u8]> {
    let start = offset as usize;
    bytes.get(start..start.checked_add(len as usize)?)
}

/// `svm.set_return_data`: `len` bytes of memory at `mem_ptr` become the
/// receipt's return data (replacing earlier return data).
///
/// # Errors
/// [`VmCallError::TooLarge`] over [`crate::OutputLimits::max_return_data`]
/// bytes (64 KiB by default); [`VmCallError::MemoryOutOfBounds`].
pub fn set_return_data<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    mem_ptr: u32,
    len: u32,
) -> Result<(), VmCallError> {
    if len as usize > ctx.limits.max_return_data {
        return Err(VmCallError::TooLarge {
            what: "return data",
            limit: ctx.limits.max_return_data,
        });
    }
    let mut buf = vec![0u8; len as usize];
    mem.read(mem_ptr, &mut buf)?;
    ctx.return_data = buf;
    Ok(())
}

/// `svm.log`: appends `len` bytes of memory at `mem_ptr` to the receipt's
/// logs.
///
/// # Errors
/// [`VmCallError::TooLarge`] past [`crate::OutputLimits::max_log_bytes`]
/// bytes of logs in all (64 KiB by default) or
/// [`crate::OutputLimits::max_logs`] logs (256);
/// [`VmCallError::MemoryOutOfBounds`].
pub fn log<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    mem_ptr: u32,
    len: u32,
) -> Result<(), VmCallError> {
    let total: usize = ctx.logs.iter().map(Vec::len).sum::<usize>() + len as usize;
    if total > ctx.limits.max_log_bytes || ctx.logs.len() >= ctx.limits.max_logs {
        return Err(VmCallError::TooLarge {
            what: "log output",
            limit: ctx.limits.max_log_bytes,
        });
    }
    let mut buf = vec![0u8; len as usize];
    mem.read(mem_ptr, &mut buf)?;
    ctx.logs.push(buf);
    Ok(())
}

/// The longest `svm.abort` message kept, in bytes: longer messages are
/// cut to their first 1024 bytes.
pub const MAX_ABORT_MESSAGE: u32 = 1024;

/// `svm.abort`: ends the call with a failed receipt
/// ([`svm_wire::ErrorCode::Trap`]) whose message is the first
/// [`MAX_ABORT_MESSAGE`] (1024) bytes of the `len` bytes at `mem_ptr`.
/// Always returns an error: [`VmCallError::Abort`], or
/// [`VmCallError::MemoryOutOfBounds`] when the kept bytes are not in memory.
pub fn abort<S: PageStorage>(
    _ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    mem_ptr: u32,
    len: u32,
) -> Result<(), VmCallError> {
    let mut buf = vec![0u8; len.min(MAX_ABORT_MESSAGE) as usize];
    mem.read(mem_ptr, &mut buf)?;
    Err(VmCallError::Abort(
        String::from_utf8_lossy(&buf).into_owned(),
    ))
}

/// `svm.sender_to_reg`: the sender's 20-byte address into the register
/// (160 bits or wider), zero-filled after.
///
/// # Errors
/// [`VmCallError::Register`] for a bad register width or index, or a
/// register narrower than 160 bits.
pub fn sender_to_reg<S: PageStorage>(
    ctx: &mut CallContext<S>,
    reg_bits: u32,
    reg_idx: u32,
) -> Result<(), VmCallError> {
    let a = ctx.sender;
    Ok(ctx.registers.write(reg_bits, reg_idx, a.as_bytes())?)
}

/// `svm.self_to_reg`: the contract's own 20-byte address into the register
/// (160 bits or wider), zero-filled after.
///
/// # Errors
/// [`VmCallError::Register`] for a bad register width or index, or a
/// register narrower than 160 bits.
pub fn self_to_reg<S: PageStorage>(
    ctx: &mut CallContext<S>,
    reg_bits: u32,
    reg_idx: u32,
) -> Result<(), VmCallError> {
    let a = ctx.contract;
    Ok(ctx.registers.write(reg_bits, reg_idx, a.as_bytes())?)
}

/// `svm.transfer`: moves `amount` from the contract's own balance to the
/// account whose address is in the register.
///
/// # Errors
/// [`VmCallError::NegativeAmount`]; [`VmCallError::Register`] for a bad
/// register width or index; [`VmCallError::InsufficientBalance`],
/// [`VmCallError::BalanceOverflow`] (past `i64::MAX`),
/// [`VmCallError::Node`].
pub fn transfer<S: PageStorage>(
    ctx: &mut CallContext<S>,
    dst_reg_bits: u32,
    dst_reg_idx: u32,
    amount: i64,
) -> Result<(), VmCallError> {
    let amount = u64::try_from(amount).map_err(|_| VmCallError::NegativeAmount(amount))?;
    let to = ctx.address_in(dst_reg_bits, dst_reg_idx)?;
    let from = ctx.contract;
    ctx.move_balance(from, to, amount)
}

/// `svm.value`: the value the call carries (moved from the sender to the
/// contract before the function ran), as an `i64` (values are at most
/// `i64::MAX`, since no balance exceeds it).
///
/// # Errors
/// None: always `Ok`.
pub fn value<S: PageStorage>(ctx: &mut CallContext<S>) -> Result<i64, VmCallError> {
    Ok(i64::try_from(ctx.value).unwrap_or(i64::MAX))
}

/// `svm.returndata_len`: the size, in bytes, of the return data of the
/// last inner call this frame made (0 before any).
///
/// # Errors
/// None: always `Ok`.
pub fn returndata_len<S: PageStorage>(ctx: &mut CallContext<S>) -> Result<u32, VmCallError> {
    Ok(ctx.inner_return.len() as u32)
}

/// `svm.returndata_copy`: `len` bytes of the last inner call's return data
/// from `offset` into memory at `mem_ptr`.
///
/// # Errors
/// [`VmCallError::ReturnDataOutOfBounds`] for a range outside the return
/// data; [`VmCallError::MemoryOutOfBounds`].
pub fn returndata_copy<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    mem_ptr: u32,
    offset: u32,
    len: u32,
) -> Result<(), VmCallError> {
    let size = ctx.inner_return.len();
    let bytes = byte_range(&ctx.inner_return, offset, len)
        .ok_or(VmCallError::ReturnDataOutOfBounds { offset, len, size })?;
    mem.write(mem_ptr, bytes)
}

/// Reads a map key of `key_len` bytes at `key_ptr`, refusing a length
/// over the map limit before anything is allocated.
fn map_key(
    mem: &impl GuestMemory,
    key_ptr: u32,
    key_len: u32,
    val_len: u32,
) -> Result<Vec<u8>, VmCallError> {
    use svm_cache::map::{MAX_KEY_LEN, MAX_VALUE_LEN, MapError};
    if key_len == 0 || key_len as usize > MAX_KEY_LEN || val_len as usize > MAX_VALUE_LEN {
        return Err(MapError::BadLength {
            key: key_len as usize,
            value: val_len as usize,
        }
        .into());
    }
    let mut key = vec![0u8; key_len as usize];
    mem.read(key_ptr, &mut key)?;
    Ok(key)
}

/// Runs `op` on the map whose header is page `map_page` of the running
/// contract; its result, and the nodes it touched **even when it failed**
/// (a corrupt map fails after reading nodes, which are charged all the
/// same).
fn on_map<S: PageStorage, R>(
    ctx: &mut CallContext<S>,
    map_page: u32,
    key_len: usize,
    val_len: usize,
    op: impl FnOnce(&mut PageMap<'_, S>) -> Result<R, svm_cache::map::MapError>,
) -> (Result<R, VmCallError>, MapStats) {
    let cache = match ctx.storage.cache() {
        Ok(c) => c.cache_mut(),
        Err(e) => return (Err(e.into()), MapStats::default()),
    };
    let mut map = match PageMap::open(cache, map_page, key_len, val_len) {
        Ok(m) => m,
        Err(e) => return (Err(e.into()), MapStats::default()),
    };
    let r = op(&mut map).map_err(VmCallError::from);
    (r, map.stats)
}

/// `svm.map_get`: the value of the key at `key_ptr` in the map whose header
/// is page `map_page` ([`svm_cache::map`]) into memory at `val_ptr`;
/// 1 when found, 0 (memory untouched) when not. Also the nodes touched,
/// for gas, whether or not it failed.
///
/// # Errors
/// In the result: [`VmCallError::Map`] for a key of 0 or more than 64
/// bytes, a value over 256 bytes, lengths other than the map's, or a
/// corrupt map; [`VmCallError::MemoryOutOfBounds`];
/// [`VmCallError::Storage`] when the page storage fails.
pub fn map_get<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    map_page: u32,
    key_ptr: u32,
    key_len: u32,
    val_ptr: u32,
    val_len: u32,
) -> (Result<u32, VmCallError>, MapStats) {
    let key = match map_key(mem, key_ptr, key_len, val_len) {
        Ok(k) => k,
        Err(e) => return (Err(e), MapStats::default()),
    };
    let (found, stats) = on_map(ctx, map_page, key.len(), val_len as usize, |m| m.get(&key));
    let r = found.and_then(|f| match f {
        Some(v) => mem.write(val_ptr, &v).map(|()| 1),
        None => Ok(0),
    });
    (r, stats)
}

/// `svm.map_set`: sets the key at `key_ptr` to the value at `val_ptr` in
/// the map whose header is page `map_page` (created by its first set);
/// 1 when it replaced a value, 0 when it added the key. Also the nodes
/// touched, for gas, whether or not it failed.
///
/// # Errors
/// In the result: as [`map_get`].
pub fn map_set<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    map_page: u32,
    key_ptr: u32,
    key_len: u32,
    val_ptr: u32,
    val_len: u32,
) -> (Result<u32, VmCallError>, MapStats) {
    let key = match map_key(mem, key_ptr, key_len, val_len) {
        Ok(k) => k,
        Err(e) => return (Err(e), MapStats::default()),
    };
    let mut value = vec![0u8; val_len as usize];
    if let Err(e) = mem.read(val_ptr, &mut value) {
        return (Err(e), MapStats::default());
    }
    let (replaced, stats) = on_map(ctx, map_page, key.len(), value.len(), |m| {
        m.insert(&key, &value)
    });
    (replaced.map(u32::from), stats)
}

/// `svm.map_remove`: removes the key at `key_ptr` from the map whose header
/// is page `map_page` (values of `val_len` bytes); 1 when it was there, 0
/// when not. Also the nodes touched, for gas, whether or not it failed.
///
/// # Errors
/// In the result: as [`map_get`].
pub fn map_remove<S: PageStorage>(
    ctx: &mut CallContext<S>,
    mem: &impl GuestMemory,
    map_page: u32,
    key_ptr: u32,
    key_len: u32,
    val_len: u32,
) -> (Result<u32, VmCallError>, MapStats) {
    let key = match map_key(mem, key_ptr, key_len, val_len) {
        Ok(k) => k,
        Err(e) => return (Err(e), MapStats::default()),
    };
    let (removed, stats) = on_map(ctx, map_page, key.len(), val_len as usize, |m| {
        m.remove(&key)
    });
    (removed.map(u32::from), stats)
}

/// `svm.map_len`: the number of entries of the map whose header is page
/// `map_page` (0 when there is none).
///
/// # Errors
/// [`VmCallError::Map`] for a corrupt header; [`VmCallError::Storage`] when
/// the page storage fails.
pub fn map_len<S: PageStorage>(
    ctx: &mut CallContext<S>,
    map_page: u32,
) -> Result<i64, VmCallError> {
    let cache = ctx.storage.cache()?.cache_mut();
    let n = PageMap::len_at(cache, map_page)?;
    Ok(i64::try_from(n).unwrap_or(i64::MAX))
}

/// `node.vmcall_get_balance`: the balance of the account whose 20-byte
/// address is in the register.
///
/// # Errors
/// [`VmCallError::Register`] for a bad register width or index, or a
/// register narrower than 160 bits; [`VmCallError::Node`].
pub fn vmcall_get_balance<S: PageStorage>(
    ctx: &mut CallContext<S>,
    reg_bits: u32,
    reg_idx: u32,
) -> Result<i64, VmCallError> {
    let account = ctx.address_in(reg_bits, reg_idx)?;
    Ok(ctx.balance(&account)? as i64)
}

/// `node.vmcall_set_balance`: sets the balance of the account whose
/// address is in the register; a negative value is an error. Only where
/// [`CallContext::allow_set_balance`] is set (SVM milestone-1
/// compatibility): otherwise [`VmCallError::Disabled`], since it lets any
/// contract set any account's balance.
///
/// # Errors
/// [`VmCallError::Disabled`] unless allowed;
/// [`VmCallError::NegativeAmount`]; [`VmCallError::Register`] for a bad
/// register width or index.
pub fn vmcall_set_balance<S: PageStorage>(
    ctx: &mut CallContext<S>,
    value: i64,
    reg_bits: u32,
    reg_idx: u32,
) -> Result<(), VmCallError> {
    if !ctx.allow_set_balance {
        return Err(VmCallError::Disabled(crate::abi::SET_BALANCE));
    }
    let value = u64::try_from(value).map_err(|_| VmCallError::NegativeAmount(value))?;
    let account = ctx.address_in(reg_bits, reg_idx)?;
    ctx.balances.insert(account, value);
    Ok(())
}
