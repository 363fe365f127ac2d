//! A counter contract in Rust `#![no_std]`: a u64 in storage page 0,
//! offset 0 (big-endian), behind the SVM milestone-1 vmcalls.
//!
//! - `get() -> i64`: the counter.
//! - `add(n: i64) -> i64`: adds `n`, returns the new value.
//! - `add_logged(n: i64) -> i64`: as `add`, and logs the new value (8 bytes BE).
#![no_std]

#[link(wasm_import_module = "svm")]
unsafe extern "C" {
    fn storage_read_to_reg(page: u32, slice: u32, offset: u32, len: u32, bits: u32, idx: u32);
    fn storage_write_from_reg(bits: u32, idx: u32, len: u32, page: u32, slice: u32, offset: u32);
    fn reg_read_be_i64(bits: u32, idx: u32) -> i64;
    fn reg_write_be_i64(value: i64, bits: u32, idx: u32);
    fn log(ptr: u32, len: u32);
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    core::arch::wasm32::unreachable()
}

#[unsafe(no_mangle)]
pub extern "C" fn get() -> i64 {
    unsafe {
        storage_read_to_reg(0, 0, 0, 8, 64, 0);
        reg_read_be_i64(64, 0)
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn add(n: i64) -> i64 {
    let v = get().wrapping_add(n);
    unsafe {
        reg_write_be_i64(v, 64, 0);
        storage_write_from_reg(64, 0, 8, 0, 0, 0);
    }
    v
}

#[unsafe(no_mangle)]
pub extern "C" fn add_logged(n: i64) -> i64 {
    let v = add(n);
    let bytes = v.to_be_bytes();
    unsafe { log(bytes.as_ptr() as u32, 8) };
    v
}
