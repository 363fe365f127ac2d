//! The gas schedule: the one place every price lives. See `docs/gas.md`.
//! The prices of wasm operators are applied by the runtime's metering
//! (`svm_runtime::gas::operator_cost`); this module holds the numbers.
//!
//! Every price is an entry of one table, [`SCHEDULE`], indexed by
//! [`Price`]. The schedule's version is the blake3 hash of that table
//! ([`schedule_hash`]): any change of a price changes the version by
//! construction, so compiled-module caches (which key on it, since
//! operator prices are compiled into the code) can never run an artifact
//! with old prices.
//!
//! Principle: every resource a contract can take — memory, tables, native
//! stack, host-side allocations, storage, compile time at deploy — is
//! bounded by a limit and paid for in gas proportionally to its size.

/// One entry of the gas schedule. The discriminant is the entry's index in
/// [`SCHEDULE`] and part of the schedule hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Price {
    /// Any wasm operator not priced otherwise (control, locals, globals,
    /// constants, integer arithmetic, comparisons, bit operations).
    Op = 0,
    /// Integer `mul`.
    OpMul,
    /// Integer `div` and `rem`.
    OpDiv,
    /// Memory loads and stores.
    OpMemory,
    /// `call` (also every vmcall, on top of [`Price::VmCallBase`]).
    OpCall,
    /// `call_indirect`.
    OpCallIndirect,
    /// `memory.size`.
    OpMemorySize,
    /// The fixed part of `memory.grow`, `memory.fill`, `memory.copy`,
    /// `memory.init`, `table.grow`, `table.fill`, `table.copy`,
    /// `table.init`.
    OpBulk,
    /// Per 64 KiB wasm page asked for by `memory.grow` (charged for the
    /// request, even when the grow fails), and per page of the initial
    /// memory at instantiation.
    MemoryPage,
    /// Per byte written or copied by `memory.fill`, `memory.copy`,
    /// `memory.init`, and per byte of active data segments at instantiation.
    BulkByte,
    /// Per table element asked for by `table.grow` or written by
    /// `table.fill`, `table.copy`, `table.init`, and per element of the
    /// initial tables at instantiation.
    TableElement,
    /// Fixed part of every vmcall, charged on entry.
    VmCallBase,
    /// Per byte a vmcall copies (memory, registers, slices, call data,
    /// return data, logs).
    PerByte,
    /// Per 4096-byte storage page loaded from page storage (at most once
    /// per page per call).
    PageLoad,
    /// Per 4096-byte storage page dirtied, charged at commit.
    PageWrite,
    /// Fixed part of every call, before anything is loaded.
    CallBase,
    /// Fixed part of instantiating a contract for a call.
    InstantiateBase,
    /// Fixed part of every deploy.
    DeployBase,
    /// Per byte of code at deploy (gate and compile).
    CodeByte,
}

/// The number of entries of [`SCHEDULE`].
pub const PRICES: usize = 19;

/// The gas schedule, in gas, indexed by [`Price`].
pub const SCHEDULE: [u64; PRICES] = [
    1,      // Op
    2,      // OpMul
    8,      // OpDiv
    3,      // OpMemory
    10,     // OpCall
    20,     // OpCallIndirect
    2,      // OpMemorySize
    20,     // OpBulk
    500,    // MemoryPage
    1,      // BulkByte
    16,     // TableElement
    20,     // VmCallBase
    1,      // PerByte
    5_000,  // PageLoad
    20_000, // PageWrite
    1_000,  // CallBase
    1_000,  // InstantiateBase
    10_000, // DeployBase
    10,     // CodeByte
];

/// The price of `p`, in gas.
pub const fn price(p: Price) -> u64 {
    SCHEDULE[p as usize]
}

/// Gas of every vmcall, charged on entry, before it does anything.
pub const VMCALL_BASE: u64 = price(Price::VmCallBase);
/// Gas per byte a vmcall copies.
pub const PER_BYTE: u64 = price(Price::PerByte);
/// Gas per 4096-byte storage page loaded from page storage (at most once
/// per page per call).
pub const PAGE_LOAD: u64 = price(Price::PageLoad);
/// Gas per 4096-byte storage page dirtied, charged at commit.
pub const PAGE_WRITE: u64 = price(Price::PageWrite);
/// Gas of every call before anything is loaded.
pub const CALL_BASE: u64 = price(Price::CallBase);
/// Gas of every deploy, plus [`PER_CODE_BYTE`] per byte of code.
pub const DEPLOY_BASE: u64 = price(Price::DeployBase);
/// Gas per byte of code at deploy.
pub const PER_CODE_BYTE: u64 = price(Price::CodeByte);
/// Gas per 64 KiB wasm page of linear memory (initial or grown).
pub const MEMORY_PAGE: u64 = price(Price::MemoryPage);
/// Gas per byte of a bulk memory operation or of active data segments.
pub const BULK_BYTE: u64 = price(Price::BulkByte);
/// Gas per table element (initial, grown, filled, copied or initialised).
pub const TABLE_ELEMENT: u64 = price(Price::TableElement);

/// The hash of `schedule`: blake3 of the ASCII domain `svm/gas/v1`, then
/// each price as a `u64` big-endian, in [`Price`] order (8 bytes each).
pub fn schedule_hash_of(schedule: &[u64]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(b"svm/gas/v1");
    for p in schedule {
        h.update(&p.to_be_bytes());
    }
    *h.finalize().as_bytes()
}

/// The version of this schedule: the hash of [`SCHEDULE`]
/// ([`schedule_hash_of`]).
pub fn schedule_hash() -> [u8; 32] {
    schedule_hash_of(&SCHEDULE)
}

/// The gas of a vmcall that copies `bytes` bytes.
pub fn vmcall(bytes: u32) -> u64 {
    VMCALL_BASE + u64::from(bytes) * PER_BYTE
}

/// The intrinsic gas of a call with `calldata` bytes of call data, charged
/// before anything is loaded.
pub fn call_intrinsic(calldata: usize) -> u64 {
    CALL_BASE.saturating_add((calldata as u64).saturating_mul(PER_BYTE))
}

/// The gas `svm.call` charges the caller on entry for `bytes` bytes of
/// function name and call data: a vmcall plus the intrinsic gas of a call
/// ([`call_intrinsic`]). The callee's instantiation and run are paid from
/// the gas forwarded to it.
pub fn inner_call(bytes: u64) -> u64 {
    VMCALL_BASE.saturating_add(call_intrinsic(usize::try_from(bytes).unwrap_or(usize::MAX)))
}

/// The host-side gas of a map operation (`svm.map_*`) that read
/// `nodes_read` and wrote `nodes_written` node pages, on top of the
/// vmcall's entry gas and the page loads and page writes it caused: 64 ×
/// [`PER_BYTE`] per node searched, 4096 × [`PER_BYTE`] per node re-encoded.
pub fn map_nodes(nodes_read: u64, nodes_written: u64) -> u64 {
    nodes_read
        .saturating_mul(64 * PER_BYTE)
        .saturating_add(nodes_written.saturating_mul(4096 * PER_BYTE))
}

/// The gas of instantiating a module for a call: [`Price::InstantiateBase`]
/// plus its initial memory pages, table elements and active data bytes.
pub fn instantiate(memory_pages: u64, table_elements: u64, data_bytes: u64) -> u64 {
    price(Price::InstantiateBase)
        .saturating_add(memory_pages.saturating_mul(MEMORY_PAGE))
        .saturating_add(table_elements.saturating_mul(TABLE_ELEMENT))
        .saturating_add(data_bytes.saturating_mul(BULK_BYTE))
}

/// The gas of deploying `code` bytes of code.
pub fn deploy(code: usize) -> u64 {
    DEPLOY_BASE.saturating_add((code as u64).saturating_mul(PER_CODE_BYTE))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pinned schedule version. A change of any price changes it: then
    /// update this value and `docs/gas.md`, and re-measure the figures that
    /// depend on gas.
    const GOLDEN: &str = "33886ffa81565fdb497fdc43bfa427853430c84927a02b5a8170716935778c62";

    #[test]
    fn schedule_version_is_pinned() {
        let hex: String = schedule_hash().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex, GOLDEN,
            "the gas schedule changed: update GOLDEN and docs/gas.md"
        );
    }

    #[test]
    fn any_price_change_changes_the_version() {
        let base = schedule_hash();
        for i in 0..PRICES {
            let mut s = SCHEDULE;
            s[i] += 1;
            assert_ne!(schedule_hash_of(&s), base, "price {i}");
        }
        // Order matters too.
        let mut s = SCHEDULE;
        s.swap(0, 1);
        assert_ne!(schedule_hash_of(&s), base);
    }

    #[test]
    fn every_price_is_an_entry() {
        assert_eq!(Price::CodeByte as usize, PRICES - 1);
        assert_eq!(price(Price::PageWrite), PAGE_WRITE);
    }
}
