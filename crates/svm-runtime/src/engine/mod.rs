//! Everything that touches wasmer, and nothing else does: compiling a
//! module with the metering, bulk-gas and stack-limit middlewares
//! (`compile`, `metering`, `bulk_gas`, [`stack_limit`]), the
//! limiting tunables and the memory pool (`tunables`, [`memory_pool`]),
//! the compiled-module cache ([`module_cache`]), the linker that binds
//! `svm-host`'s vmcall table into an instance ([`linker`]), a live instance
//! and its gas (`instance`), resetting instances for reuse in a block
//! (`reuse`, `resettable`) and the typed errors of traps (`trap`).
//!
//! The call stages (`call/`), blocks (`block/`) and deploys sit on top;
//! the host (`svm-host`), the gate (`svm-gate`) and the messages
//! (`svm-wire`) sit below, with no wasmer in their trees.

pub(crate) mod bulk_gas;
pub(crate) mod compile;
pub(crate) mod instance;
pub mod linker;
pub mod memory_pool;
pub(crate) mod metering;
pub mod module_cache;
pub(crate) mod resettable;
pub(crate) mod reuse;
pub mod stack_limit;
pub(crate) mod trap;
pub(crate) mod tunables;
