//! The vmcall table: the one declarative list of every vmcall a contract
//! may import — its import module and name, its parameters with their
//! wasm types, its result, how it is metered and the bytes its entry gas
//! counts — with no engine behind it.
//!
//! [`for_each_vmcall!`](crate::for_each_vmcall) hands the list to a macro.
//! This crate builds from it the table the deploy gate checks imports
//! against ([`VMCALLS`]) and the metered entry points ([`crate::entry`]);
//! an engine builds from it its binder (`svm-runtime`'s import object), so
//! adding a vmcall is one row here and one function in [`crate::vmcalls`].

/// A wasm value type of a vmcall signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValKind {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
}

/// The name and wasm signature of one vmcall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmCallSig {
    /// The import module (`svm` or `node`).
    pub module: &'static str,
    /// The import name.
    pub name: &'static str,
    /// The parameter types.
    pub params: &'static [ValKind],
    /// The result types.
    pub results: &'static [ValKind],
}

/// The wasm type of a Rust parameter type of a vmcall (`u32` and `i32`
/// are wasm `i32`, `i64` is wasm `i64`).
pub trait WasmParam {
    /// Its wasm type.
    const KIND: ValKind;
}

impl WasmParam for u32 {
    const KIND: ValKind = ValKind::I32;
}
impl WasmParam for i32 {
    const KIND: ValKind = ValKind::I32;
}
impl WasmParam for i64 {
    const KIND: ValKind = ValKind::I64;
}

/// The wasm results of a Rust result type of a vmcall (`()` is none).
pub trait WasmResults {
    /// Its wasm types.
    const KINDS: &'static [ValKind];
}

impl WasmResults for () {
    const KINDS: &'static [ValKind] = &[];
}
impl<T: WasmParam> WasmResults for T {
    const KINDS: &'static [ValKind] = &[T::KIND];
}

/// Calls macro `$m` with the vmcall list, one row per vmcall, in the
/// order of [`VMCALLS`]:
///
/// ```text
/// "module" name(arg: type, ...) -> result, metering, entry bytes;
/// ```
///
/// - *metering* says what the entry point ([`crate::entry`]) charges
///   around the vmcall function: `mem` and `ctx` (with and without the
///   contract's memory) charge `gas::vmcall(entry bytes)` on entry and
///   `gas::PAGE_LOAD` per page the call loaded; `map` charges
///   `gas::map_nodes` on top; `call` (`svm.call`) meters itself
///   ([`crate::inner_call`]).
/// - *entry bytes* is an expression over the arguments: the bytes the
///   vmcall copies, which its entry gas is proportional to.
///
/// `i32` parameters are `u32` (read as unsigned, as every vmcall does)
/// except where the vmcall reads a sign.
#[macro_export]
macro_rules! for_each_vmcall {
    ($m:ident) => {
        $m! {
            "svm" mem_to_reg_copy(mem_idx: u32, mem_ptr: u32, len: u32, reg_bits: u32, reg_idx: u32) -> (), mem, len;
            "svm" reg_to_mem_copy(reg_bits: u32, reg_idx: u32, len: u32, mem_idx: u32, mem_ptr: u32) -> (), mem, len;
            "svm" storage_read_to_reg(page: u32, slice: u32, offset: u32, len: u32, reg_bits: u32, reg_idx: u32) -> (), ctx, len;
            "svm" storage_read_to_mem(page: u32, slice: u32, offset: u32, len: u32, mem_idx: u32, mem_ptr: u32) -> (), mem, len;
            "svm" storage_write_from_mem(mem_idx: u32, mem_ptr: u32, len: u32, page: u32, slice: u32, offset: u32) -> (), mem, len;
            "svm" storage_write_from_reg(reg_bits: u32, reg_idx: u32, len: u32, page: u32, slice: u32, offset: u32) -> (), ctx, len;
            "svm" reg_replace_byte(reg_bits: u32, reg_idx: u32, byte: u32, offset: u32) -> (), ctx, 1;
            "svm" reg_read_be_i64(reg_bits: u32, reg_idx: u32) -> i64, ctx, 8;
            "svm" reg_write_be_i64(value: i64, reg_bits: u32, reg_idx: u32) -> (), ctx, 8;
            "svm" calldata_len() -> u32, ctx, 0;
            "svm" calldata_copy(mem_ptr: u32, offset: u32, len: u32) -> (), mem, len;
            "svm" set_return_data(mem_ptr: u32, len: u32) -> (), mem, len;
            "svm" log(mem_ptr: u32, len: u32) -> (), mem, len;
            "svm" sender_to_reg(reg_bits: u32, reg_idx: u32) -> (), ctx, 20;
            "svm" self_to_reg(reg_bits: u32, reg_idx: u32) -> (), ctx, 20;
            "svm" transfer(reg_bits: u32, reg_idx: u32, amount: i64) -> (), ctx, 40;
            "svm" value() -> i64, ctx, 0;
            "svm" call(addr_reg_bits: u32, addr_reg_idx: u32, func_ptr: u32, func_len: u32, data_ptr: u32, data_len: u32, gas: i64, value: i64) -> i32, call, 0;
            "svm" returndata_len() -> u32, ctx, 0;
            "svm" returndata_copy(mem_ptr: u32, offset: u32, len: u32) -> (), mem, len;
            "svm" map_get(header: u32, key_ptr: u32, key_len: u32, value_ptr: u32, value_len: u32) -> u32, map, key_len.saturating_add(value_len);
            "svm" map_set(header: u32, key_ptr: u32, key_len: u32, value_ptr: u32, value_len: u32) -> u32, map, key_len.saturating_add(value_len);
            "svm" map_remove(header: u32, key_ptr: u32, key_len: u32, value_len: u32) -> u32, map, key_len;
            "svm" map_len(header: u32) -> i64, ctx, 8;
            "node" vmcall_get_balance(reg_bits: u32, reg_idx: u32) -> i64, ctx, 20;
            "node" vmcall_set_balance(value: i64, reg_bits: u32, reg_idx: u32) -> (), ctx, 20;
            // Last, so that the fuzz corpus's vmcall indices keep their meaning.
            "svm" abort(mem_ptr: u32, len: u32) -> (), mem, len.min($crate::vmcalls::MAX_ABORT_MESSAGE);
        }
    };
}

macro_rules! table {
    ($( $module:literal $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty, $kind:ident, $bytes:expr; )*) => {
        /// Every vmcall of the import object, with its exact wasm
        /// signature, in the order of [`for_each_vmcall!`](crate::for_each_vmcall).
        /// A contract may import any of these and nothing else.
        pub const VMCALLS: &[VmCallSig] = &[
            $(VmCallSig {
                module: $module,
                name: stringify!($name),
                params: &[$(<$ty as WasmParam>::KIND),*],
                results: <$ret as WasmResults>::KINDS,
            },)*
        ];
    };
}

for_each_vmcall!(table);

/// The vmcall the runtime's `allow_set_balance` governs.
pub const SET_BALANCE: &str = "node.vmcall_set_balance";

#[cfg(test)]
mod tests {
    use super::*;
    use ValKind::{I32, I64};

    #[test]
    fn the_table_is_the_documented_one() {
        assert_eq!(VMCALLS.len(), 27);
        let call = VMCALLS.iter().find(|v| v.name == "call").unwrap();
        assert_eq!(call.params, &[I32, I32, I32, I32, I32, I32, I64, I64]);
        assert_eq!(call.results, &[I32]);
        let last = VMCALLS.last().unwrap();
        assert_eq!((last.module, last.name), ("svm", "abort"));
        let set = VMCALLS
            .iter()
            .find(|v| format!("{}.{}", v.module, v.name) == SET_BALANCE)
            .unwrap();
        assert_eq!((set.params, set.results), (&[I64, I32, I32][..], &[][..]));
        for (i, a) in VMCALLS.iter().enumerate() {
            assert!(
                VMCALLS[i + 1..].iter().all(|b| b.name != a.name),
                "{} twice",
                a.name
            );
        }
    }
}
