//! svm's host interface: everything a contract can call, with no engine.
//!
//! - [`abi`]: the vmcall table, one row per vmcall
//!   ([`for_each_vmcall!`]), from which the gate's list of allowed imports
//!   ([`abi::VMCALLS`]), the metered entry points ([`entry`]) and an
//!   engine's binder are built;
//! - [`vmcalls`]: each vmcall as a plain function of a [`CallContext`],
//!   the contract's memory ([`GuestMemory`]) and its arguments, and
//!   [`inner_call`] (`svm.call`, over a [`meter::Host`] and an
//!   [`inner_call::Invoke`] the runtime implements);
//! - [`gas`]: the gas schedule; [`meter`]: the gas and memory an engine
//!   lends a vmcall, and [`meter::VecHost`], both over plain values;
//! - [`node`]: the node's accounts ([`node::NodeHost`]); [`tx_pages`]: the
//!   page caches of a transaction's frames.
//!
//! `svm-runtime` binds this crate into wasmer. Nothing here depends on
//! wasmer (`cargo tree -p svm-host` shows it), so vmcalls are tested on a
//! byte vector and a gas count ([`meter::VecHost`]), as NEAR's host
//! functions are on its mocks.

pub mod abi;
mod context;
pub mod entry;
mod error;
pub mod gas;
pub mod inner_call;
mod memory;
pub mod meter;
pub mod node;
pub mod tx_pages;
pub mod vmcalls;

pub use context::{CallContext, OutputLimits};
pub use error::VmCallError;
pub use memory::{GuestMemory, VecMemory};
