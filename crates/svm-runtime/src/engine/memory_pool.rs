//! A pool of linear-memory reservations, reused from one instance to the
//! next.
//!
//! A transaction runs on a fresh instance (unless its block reuses one:
//! `call/reuse.rs`), and a fresh wasmer memory
//! costs an `mmap` of its 8 GiB reservation, an `mprotect`, a page fault
//! per 4 KiB touched, and an `munmap` that clears those page tables: about
//! a third of a coin transfer in a block (profile in `docs/benchmarks.md`).
//! `PooledMemory` takes its reservation from a process-wide pool instead
//! and gives it back, zeroed, when the `Store` holding the instance is
//! dropped, as wasmtime's pooling allocator does.
//!
//! Invariants of a `Region` while it is in the pool:
//! - it is `RESERVATION` bytes of private anonymous memory, the layout
//!   wasmer's static memory style compiles against (the 4 GiB wasm32 space
//!   plus a 4 GiB and one page offset guard: [`MemoryStyle::Static`]);
//! - bytes `[0, accessible)` are read-write and **all zero**; the rest is
//!   `PROT_NONE`, so any access past a memory's current size faults and
//!   wasmer turns the fault into an out-of-bounds trap;
//! - at most [`KEEP_RESIDENT`] bytes of it are resident: a returned memory
//!   is zeroed with `memset` up to that size and with
//!   `madvise(MADV_DONTNEED)` beyond it, which on Linux (only there) makes a
//!   private anonymous mapping read as zero on the next touch;
//! - no `mprotect` on it ever failed: a region whose protections may be
//!   partly changed is unmapped, never pooled.
//!
//! A memory never sees its previous user's bytes, and `memory.size`,
//! `memory.grow` and out-of-bounds traps behave exactly as with wasmer's
//! own memory (`tests/memory_pool.rs`). The pool holds at most
//! [`MAX_FREE`] regions; more are unmapped. Only Linux has the pool (it
//! relies on `MADV_DONTNEED` zeroing); elsewhere, and for shared or
//! dynamic-style memories, wasmer's own memory is used.

use std::ptr::NonNull;

use parking_lot::Mutex;
use wasmer::sys::vm::{LinearMemory, MemoryStyle, VMMemory, VMMemoryDefinition};
use wasmer::{MemoryError, MemoryType, Pages, WASM_PAGE_SIZE};

/// Bytes of a returned memory zeroed with `memset` and kept resident
/// (256 KiB = 4 wasm pages); beyond that the pages go back to the kernel.
pub const KEEP_RESIDENT: usize = 256 << 10;

/// Regions the pool keeps at most (each 8 GiB of address space, at most
/// [`KEEP_RESIDENT`] resident).
pub const MAX_FREE: usize = 32;

/// Bytes of one reservation: wasmer's static bound plus its offset guard.
const RESERVATION: usize =
    (MemoryStyle::static_bound().0 as usize) * WASM_PAGE_SIZE + STATIC_GUARD as usize;
const STATIC_GUARD: u64 = MemoryStyle::static_offset_guard_size();

static POOL: Mutex<Vec<Region>> = Mutex::new(Vec::new());

/// `mprotect` failures so far, each of which damaged a region,
/// process-wide.
static DAMAGED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many `mprotect` failures have damaged a region in this process so
/// far: a block drops its kept instances when this changes
/// (`call/reuse.rs`), since a damaged region's pages past the memory's end
/// may be accessible.
pub fn damaged_regions() -> u64 {
    DAMAGED.load(std::sync::atomic::Ordering::SeqCst)
}

/// One reservation of `RESERVATION` bytes; see the module docs for its
/// invariants in the pool. Unmapped on drop.
#[derive(Debug)]
struct Region {
    base: NonNull<u8>,
    /// Bytes from `base` that are read-write.
    accessible: usize,
    /// An `mprotect` failed, possibly after changing part of its range:
    /// pages past `accessible` may be read-write, so the region must not be
    /// reused.
    damaged: bool,
}

// SAFETY: a `Region` is plain address space owned by one holder at a time
// (the pool's lock, or one `PooledMemory`).
unsafe impl Send for Region {}
unsafe impl Sync for Region {}

fn os_error(what: &str) -> MemoryError {
    MemoryError::Region(format!("{what}: {}", std::io::Error::last_os_error()))
}

impl Region {
    /// A new reservation, all `PROT_NONE`.
    fn reserve() -> Result<Region, MemoryError> {
        // SAFETY: a fresh private anonymous mapping, no address requested.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                RESERVATION,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(os_error("reserving a linear memory"));
        }
        let base = NonNull::new(ptr.cast::<u8>()).ok_or_else(|| os_error("mmap gave null"))?;
        Ok(Region {
            base,
            accessible: 0,
            damaged: false,
        })
    }

    /// Makes exactly `[0, bytes)` read-write (`bytes` a multiple of the OS
    /// page size, at most the static bound).
    fn set_accessible(&mut self, bytes: usize) -> Result<(), MemoryError> {
        if bytes > self.accessible {
            let rw = libc::PROT_READ | libc::PROT_WRITE;
            self.protect(
                self.accessible,
                bytes,
                rw,
                "making linear memory accessible",
            )?;
        } else if bytes < self.accessible {
            self.protect(
                bytes,
                self.accessible,
                libc::PROT_NONE,
                "shrinking linear memory",
            )?;
        }
        self.accessible = bytes;
        Ok(())
    }

    /// `mprotect` of bytes `[from, to)`; a failure marks the region damaged
    /// (the kernel may have changed part of the range).
    fn protect(
        &mut self,
        from: usize,
        to: usize,
        prot: libc::c_int,
        what: &str,
    ) -> Result<(), MemoryError> {
        // SAFETY: `from < to <= RESERVATION`: inside this region's mapping.
        let r = unsafe { libc::mprotect(self.base.as_ptr().add(from).cast(), to - from, prot) };
        if r != 0 {
            self.damaged = true;
            DAMAGED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            return Err(os_error(what));
        }
        Ok(())
    }

    /// Zeroes `[0, accessible)` ([`zero_memory`]).
    fn zero(&mut self) -> Result<(), MemoryError> {
        // SAFETY: `[0, accessible)` is read-write, inside this region's
        // private anonymous mapping, and no instance uses it any more.
        unsafe { zero_memory(self.base.as_ptr(), self.accessible) }
    }
}

/// Zeroes the `len` bytes of linear memory at `base`: `memset` up to
/// [`KEEP_RESIDENT`] (which stay resident), `madvise(MADV_DONTNEED)` beyond
/// (the kernel's zero pages on the next touch). Used when a region goes
/// back to the pool and when a block resets a kept instance
/// (`call/reuse.rs`).
///
/// # Safety
/// `[base, base + len)` must be read-write private anonymous memory that
/// nothing uses meanwhile, and `base` page-aligned.
///
/// # Errors
/// [`MemoryError::Region`] when `madvise` fails (the part beyond
/// [`KEEP_RESIDENT`] may then still hold data).
pub(crate) unsafe fn zero_memory(base: *mut u8, len: usize) -> Result<(), MemoryError> {
    let keep = len.min(KEEP_RESIDENT);
    // SAFETY: the caller's contract.
    unsafe { std::ptr::write_bytes(base, 0, keep) };
    if len > keep {
        // SAFETY: the caller's contract; `keep` is a multiple of the OS
        // page; a private anonymous mapping reads as zero after
        // MADV_DONTNEED.
        let r = unsafe { libc::madvise(base.add(keep).cast(), len - keep, libc::MADV_DONTNEED) };
        if r != 0 {
            return Err(os_error("zeroing linear memory"));
        }
    }
    Ok(())
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the whole mapping made in `reserve`, used by no one now.
        unsafe { libc::munmap(self.base.as_ptr().cast(), RESERVATION) };
    }
}

/// A region from the pool (or a new one) with exactly `bytes` accessible.
fn take(bytes: usize) -> Result<Region, MemoryError> {
    let pooled = POOL.lock().pop();
    let mut region = match pooled {
        Some(r) => r,
        None => Region::reserve()?,
    };
    region.set_accessible(bytes)?;
    Ok(region)
}

/// Zeroes `region` and puts it back (or unmaps it when the pool is full,
/// an `mprotect` on it failed or zeroing failed); whether it was pooled.
fn give_back(mut region: Region) -> bool {
    if region.damaged || region.zero().is_err() {
        return false;
    }
    let mut pool = POOL.lock();
    if pool.len() < MAX_FREE {
        pool.push(region);
        return true;
    }
    false
}

/// Regions waiting in the pool now (for tests and statistics).
pub fn pooled_regions() -> usize {
    POOL.lock().len()
}

/// A local linear memory of one instance on a pooled region (static
/// style: the region never moves, growing only changes protections).
///
/// Invariants: `[0, pages)` wasm pages of the region are read-write and
/// the rest `PROT_NONE`; `definition` (in the instance's `VMContext`)
/// holds the region's base and `pages` in bytes.
#[derive(Debug)]
pub(crate) struct PooledMemory {
    region: Option<Region>,
    definition: NonNull<VMMemoryDefinition>,
    ty: MemoryType,
    pages: Pages,
}

// SAFETY: as wasmer's own `VMOwnedMemory`: the definition pointer is into
// the `VMContext` of the instance in the same `Store`, which owns both and
// moves between threads with them.
unsafe impl Send for PooledMemory {}
unsafe impl Sync for PooledMemory {}

impl PooledMemory {
    /// The memory for a local memory of type `ty`, pooled when it can be:
    /// static style, not shared, on Unix.
    ///
    /// # Safety
    /// `definition` must point to the instance's `VMMemoryDefinition` and
    /// outlive the memory (wasmer's contract for `create_vm_memory`).
    ///
    /// # Errors
    /// A minimum over the maximum or the wasm32 space, or the OS refusing
    /// the mapping.
    pub(crate) unsafe fn create(
        ty: &MemoryType,
        style: &MemoryStyle,
        definition: NonNull<VMMemoryDefinition>,
    ) -> Result<VMMemory, MemoryError> {
        if ty.shared || !matches!(style, MemoryStyle::Static) {
            // SAFETY: the caller's contract, passed on.
            return unsafe { VMMemory::from_definition(ty, style, definition) };
        }
        if ty.minimum > MemoryStyle::static_bound() {
            return Err(MemoryError::MinimumMemoryTooLarge {
                min_requested: ty.minimum,
                max_allowed: MemoryStyle::static_bound(),
            });
        }
        if let Some(max) = ty.maximum.filter(|&m| m > Pages::max_value()) {
            return Err(MemoryError::MaximumMemoryTooLarge {
                max_requested: max,
                max_allowed: Pages::max_value(),
            });
        }
        if ty.maximum.is_some_and(|m| m < ty.minimum) {
            return Err(MemoryError::InvalidMemory {
                reason: "the maximum is less than the minimum".into(),
            });
        }
        let region = take(ty.minimum.bytes().0)?;
        // SAFETY: the caller's contract on `definition`.
        unsafe {
            let d = definition.as_ptr();
            (*d).base = region.base.as_ptr();
            (*d).current_length = region.accessible;
        }
        Ok(VMMemory(Box::new(PooledMemory {
            region: Some(region),
            definition,
            ty: *ty,
            pages: ty.minimum,
        })))
    }
}

impl Drop for PooledMemory {
    fn drop(&mut self) {
        if let Some(region) = self.region.take() {
            give_back(region);
        }
    }
}

impl LinearMemory for PooledMemory {
    fn ty(&self) -> MemoryType {
        let mut ty = self.ty;
        ty.minimum = self.pages;
        ty
    }

    fn size(&self) -> Pages {
        self.pages
    }

    fn style(&self) -> MemoryStyle {
        MemoryStyle::Static
    }

    fn grow(&mut self, delta: Pages) -> Result<Pages, MemoryError> {
        let previous = self.pages;
        if delta.0 == 0 {
            return Ok(previous);
        }
        let refuse = MemoryError::CouldNotGrow {
            current: previous,
            attempted_delta: delta,
        };
        let Some(new) = previous.checked_add(delta) else {
            return Err(refuse);
        };
        let limit = self
            .ty
            .maximum
            .unwrap_or(MemoryStyle::static_bound())
            .min(MemoryStyle::static_bound());
        if new > limit {
            return Err(refuse);
        }
        let region = self.region.as_mut().ok_or(refuse)?;
        region.set_accessible(new.bytes().0)?;
        self.pages = new;
        // SAFETY: `definition` is the instance's, per `create`'s contract.
        unsafe { self.definition.as_mut().current_length = region.accessible };
        Ok(previous)
    }

    fn vmmemory(&self) -> NonNull<VMMemoryDefinition> {
        self.definition
    }

    fn try_clone(&self) -> Result<Box<dyn LinearMemory + Send + Sync + 'static>, MemoryError> {
        Err(MemoryError::MemoryNotShared)
    }

    fn copy(&self) -> Result<Box<dyn LinearMemory + Send + Sync + 'static>, MemoryError> {
        Err(MemoryError::Generic(
            "a pooled contract memory cannot be copied".into(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(r: &Region, at: usize, len: usize) -> Vec<u8> {
        // SAFETY: tests read only inside `[0, accessible)`.
        unsafe { std::slice::from_raw_parts(r.base.as_ptr().add(at), len).to_vec() }
    }

    #[test]
    fn zeroing_clears_the_resident_part_and_the_part_beyond() {
        let mut r = Region::reserve().unwrap();
        let len = KEEP_RESIDENT + 2 * WASM_PAGE_SIZE;
        r.set_accessible(len).unwrap();
        for at in [0, KEEP_RESIDENT - 8, KEEP_RESIDENT, len - 8] {
            // SAFETY: inside `[0, accessible)`.
            unsafe { std::ptr::write_bytes(r.base.as_ptr().add(at), 0xAB, 8) };
            assert_eq!(bytes(&r, at, 8), [0xAB; 8]);
        }
        r.zero().unwrap();
        for at in [0, KEEP_RESIDENT - 8, KEEP_RESIDENT, len - 8] {
            assert_eq!(bytes(&r, at, 8), [0; 8], "byte {at} after zeroing");
        }
    }

    #[test]
    fn a_damaged_region_is_never_pooled() {
        let mut r = Region::reserve().unwrap();
        r.set_accessible(WASM_PAGE_SIZE).unwrap();
        r.damaged = true;
        assert!(!give_back(r));
    }

    #[test]
    fn shrinking_and_growing_keep_exactly_the_asked_bytes_accessible() {
        let mut r = Region::reserve().unwrap();
        r.set_accessible(3 * WASM_PAGE_SIZE).unwrap();
        r.set_accessible(WASM_PAGE_SIZE).unwrap();
        assert_eq!(r.accessible, WASM_PAGE_SIZE);
        assert_eq!(bytes(&r, WASM_PAGE_SIZE - 8, 8), [0; 8]);
        r.set_accessible(2 * WASM_PAGE_SIZE).unwrap();
        assert_eq!(bytes(&r, 2 * WASM_PAGE_SIZE - 8, 8), [0; 8]);
        assert!(!r.damaged);
    }
}
