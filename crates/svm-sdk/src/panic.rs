//! The panic handler: a panic ends the call through `svm.abort`, so its
//! message reaches the failed receipt.

use core::fmt::Write;

/// A fixed buffer that keeps the first 256 bytes written to it.
struct Buf {
    bytes: [u8; 256],
    len: usize,
}

impl Write for Buf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let n = s.len().min(self.bytes.len() - self.len);
        self.bytes[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let mut b = Buf {
        bytes: [0; 256],
        len: 0,
    };
    let _ = match info.location() {
        Some(l) => write!(
            b,
            "panicked at {}:{}: {}",
            l.file(),
            l.line(),
            info.message()
        ),
        None => write!(b, "panicked: {}", info.message()),
    };
    // The cut may split a UTF-8 character: the VM replaces invalid bytes.
    // SAFETY: the buffer is readable for `len` bytes.
    unsafe { crate::sys::abort(crate::sys::ptr(b.bytes.as_ptr()), b.len as u32) };
    core::arch::wasm32::unreachable()
}
