//! The process-wide tables that turn the integers C holds into library
//! objects: a slab of slots with a generation per slot for runtimes and
//! receipts, and a table of live buffers.
//!
//! A handle is a `u64`: bits 56..64 are the kind of object (so a receipt
//! handle is never taken for a runtime), bits 32..56 the generation of the
//! slot when the object was put there, bits 0..32 the slot's index. Removing
//! an object bumps its slot's generation, so every copy of the old handle
//! stops matching; a slot whose generation is used up is retired, never
//! reused. A kind is never 0, so neither is a handle.

use std::collections::BTreeMap;

/// The kind byte of runtime handles (`'R'`).
pub const KIND_RUNTIME: u8 = 0x52;
/// The kind byte of receipt handles (`'C'`, for call).
pub const KIND_RECEIPT: u8 = 0x43;

/// The largest generation (24 bits).
const MAX_GENERATION: u32 = (1 << 24) - 1;

/// Why a value could not be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// A slab of values addressed by generation-checked handles.
pub struct Registry<T> {
    kind: u8,
    max_slots: usize,
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
}

fn encode(kind: u8, generation: u32, index: u32) -> u64 {
    (u64::from(kind) << 56) | (u64::from(generation) << 32) | u64::from(index)
}

fn decode(handle: u64) -> (u8, u32, usize) {
    let kind = (handle >> 56) as u8;
    let generation = ((handle >> 32) & u64::from(MAX_GENERATION)) as u32;
    let index = (handle & 0xffff_ffff) as usize;
    (kind, generation, index)
}

impl<T: Clone> Registry<T> {
    /// An empty registry issuing handles of `kind` (non-zero) with at most
    /// `max_slots` slots (at most 2^32).
    pub const fn new(kind: u8, max_slots: usize) -> Self {
        Self {
            kind,
            max_slots,
            slots: Vec::new(),
            free: Vec::new(),
        }
    }

    /// Stores `value` and returns its handle; [`Full`] when every slot is
    /// taken or retired.
    pub fn insert(&mut self, value: T) -> Result<u64, Full> {
        while let Some(index) = self.free.pop() {
            if let Some(slot) = self.slots.get_mut(index as usize) {
                slot.value = Some(value);
                return Ok(encode(self.kind, slot.generation, index));
            }
        }
        let index = self.slots.len();
        if index >= self.max_slots {
            return Err(Full);
        }
        let index = u32::try_from(index).map_err(|_| Full)?;
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        Ok(encode(self.kind, 0, index))
    }

    fn slot(&self, handle: u64) -> Option<(usize, &Slot<T>)> {
        let (kind, generation, index) = decode(handle);
        if kind != self.kind {
            return None;
        }
        let slot = self.slots.get(index)?;
        (slot.generation == generation && slot.value.is_some()).then_some((index, slot))
    }

    /// A clone of the value of a live `handle`; `None` for a handle that
    /// was never issued, was removed, or is of another kind.
    pub fn get(&self, handle: u64) -> Option<T> {
        self.slot(handle).and_then(|(_, s)| s.value.clone())
    }

    /// Takes the value of a live `handle` out; every copy of the handle is
    /// dead from then on. `None` as for [`Registry::get`].
    pub fn remove(&mut self, handle: u64) -> Option<T> {
        let (index, _) = self.slot(handle)?;
        let slot = self.slots.get_mut(index)?;
        let value = slot.value.take();
        if slot.generation < MAX_GENERATION {
            slot.generation += 1;
            // `index` fits: it was decoded from 32 bits.
            self.free.push(index as u32);
        }
        value
    }

    /// The number of live values.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.value.is_some()).count()
    }
}

/// What the library knows of one buffer it handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct BufferEntry {
    data: usize,
    len: usize,
}

/// Why a buffer could not be released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BufferError {
    /// No live buffer has that id and address.
    Unknown,
    /// The id and address are a live buffer's, but the length is not.
    WrongLength,
}

/// The live buffers, by id (a counter that is never reused).
pub struct Buffers {
    next_id: u64,
    live: BTreeMap<u64, BufferEntry>,
}

impl Buffers {
    /// An empty table.
    pub const fn new() -> Self {
        Self {
            next_id: 1,
            live: BTreeMap::new(),
        }
    }

    /// Records a buffer of `len` bytes at `data`; returns its id, or
    /// [`Full`] once 2^64 - 1 ids were issued.
    pub fn insert(&mut self, data: usize, len: usize) -> Result<u64, Full> {
        let id = self.next_id;
        self.next_id = id.checked_add(1).ok_or(Full)?;
        self.live.insert(id, BufferEntry { data, len });
        Ok(id)
    }

    /// Forgets the buffer `id` at `data` of `len` bytes, which the caller
    /// then frees; leaves it live on an error.
    pub fn remove(&mut self, id: u64, data: usize, len: usize) -> Result<(), BufferError> {
        match self.live.get(&id) {
            Some(e) if e.data == data && e.len == len => {
                self.live.remove(&id);
                Ok(())
            }
            Some(e) if e.data == data => Err(BufferError::WrongLength),
            _ => Err(BufferError::Unknown),
        }
    }

    /// The number of live buffers.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.live.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles_are_nonzero_and_of_their_kind() {
        let mut r = Registry::new(KIND_RUNTIME, 16);
        let h = r.insert(7u32).unwrap();
        assert_ne!(h, 0);
        assert_eq!(h >> 56, u64::from(KIND_RUNTIME));
        assert_eq!(r.get(h), Some(7));
        // The same slot and generation under another kind is not this handle.
        let other_kind = (h & !(0xff << 56)) | (u64::from(KIND_RECEIPT) << 56);
        assert_eq!(r.get(other_kind), None);
        assert_eq!(r.get(0), None);
        assert_eq!(r.get(12345), None);
        assert_eq!(r.get(u64::MAX), None);
    }

    #[test]
    fn a_removed_handle_is_dead_even_when_its_slot_is_reused() {
        let mut r = Registry::new(KIND_RECEIPT, 16);
        let a = r.insert("a").unwrap();
        assert_eq!(r.remove(a), Some("a"));
        assert_eq!(r.get(a), None);
        assert_eq!(r.remove(a), None);
        let b = r.insert("b").unwrap();
        assert_ne!(a, b, "the reused slot has a new generation");
        assert_eq!(a & 0xffff_ffff, b & 0xffff_ffff, "same slot");
        assert_eq!(r.get(a), None);
        assert_eq!(r.get(b), Some("b"));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn a_full_registry_refuses_and_recovers_after_a_remove() {
        let mut r = Registry::new(KIND_RECEIPT, 2);
        let a = r.insert(1).unwrap();
        let _b = r.insert(2).unwrap();
        assert_eq!(r.insert(3), Err(Full));
        r.remove(a).unwrap();
        assert!(r.insert(3).is_ok());
    }

    #[test]
    fn a_slot_whose_generations_are_used_up_is_retired() {
        let mut r = Registry::new(KIND_RECEIPT, 2);
        let first = r.insert(0).unwrap();
        r.remove(first).unwrap();
        // Jump the free slot to its last generation rather than cycling it
        // 2^24 times.
        r.slots[0].generation = MAX_GENERATION;
        let h = r.insert(1).unwrap();
        assert_eq!(
            (h >> 32) & u64::from(MAX_GENERATION),
            u64::from(MAX_GENERATION)
        );
        assert_eq!(r.remove(h), Some(1));
        assert!(r.free.is_empty(), "the slot is not reused");
        let next = r.insert(2).unwrap();
        assert_eq!(next & 0xffff_ffff, 1, "a new slot");
        assert_eq!(r.get(h), None);
    }

    #[test]
    fn buffers_are_released_once_and_only_with_their_id_address_and_length() {
        let mut b = Buffers::new();
        let id = b.insert(0x1000, 79).unwrap();
        assert_eq!(b.remove(id + 1, 0x1000, 79), Err(BufferError::Unknown));
        assert_eq!(b.remove(id, 0x2000, 79), Err(BufferError::Unknown));
        assert_eq!(b.remove(id, 0x1000, 78), Err(BufferError::WrongLength));
        assert_eq!(b.len(), 1, "a refused release leaves the buffer live");
        assert_eq!(b.remove(id, 0x1000, 79), Ok(()));
        assert_eq!(b.remove(id, 0x1000, 79), Err(BufferError::Unknown));
        // The allocator may hand out the same address again: a new id.
        let id2 = b.insert(0x1000, 79).unwrap();
        assert_ne!(id, id2);
        assert_eq!(b.remove(id, 0x1000, 79), Err(BufferError::Unknown));
        assert_eq!(b.len(), 1);
    }
}
