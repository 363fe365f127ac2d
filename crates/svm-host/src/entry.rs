//! The metered entry point of each vmcall, generated from the table
//! ([`for_each_vmcall!`](crate::for_each_vmcall)): what an engine's binder
//! calls with the contract's arguments. Each charges the vmcall's gas
//! ([`metered`]) around its function in
//! [`crate::vmcalls`]; `svm.call` meters itself ([`crate::inner_call`]).

// An entry point takes the context, the host and the vmcall's wasm
// parameters (up to 8).
#![allow(clippy::too_many_arguments)]

use svm_pages::PageStorage;

use crate::meter::Host;
use crate::{CallContext, VmCallError, gas, vmcalls};

macro_rules! entry {
    (mem $module:literal $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty, $bytes:expr) => {
        entry!(@fn ctx host $module $name ($($arg: $ty),*) -> $ret, "",
            metered(ctx, host, gas::vmcall($bytes), |c, m| vmcalls::$name(c, m, $($arg),*)));
    };
    (ctx $module:literal $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty, $bytes:expr) => {
        entry!(@fn ctx host $module $name ($($arg: $ty),*) -> $ret, "",
            metered(ctx, host, gas::vmcall($bytes), |c, _| vmcalls::$name(c, $($arg),*)));
    };
    (map $module:literal $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty, $bytes:expr) => {
        entry!(@fn ctx host $module $name ($($arg: $ty),*) -> $ret,
            " and `gas::map_nodes` for the nodes it touched",
            metered_map(ctx, host, gas::vmcall($bytes), |c, m| vmcalls::$name(c, m, $($arg),*)));
    };
    (call $module:literal $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty, $bytes:expr) => {
        pub use crate::inner_call::call;
    };
    (@fn $ctx:ident $host:ident $module:literal $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty,
        $also:literal, $body:expr) => {
        #[doc = concat!("`", $module, ".", stringify!($name), "`, metered: [`vmcalls::",
            stringify!($name), "`] after `gas::vmcall` of its entry bytes, then `gas::PAGE_LOAD` \
            per page it loaded", $also, ".\n\n# Errors\n[`VmCallError::OutOfGas`], or the \
            vmcall's error.")]
        pub fn $name<S: PageStorage, H: Host>(
            $ctx: &mut CallContext<S>,
            $host: &mut H,
            $($arg: $ty),*
        ) -> Result<$ret, VmCallError> {
            $body
        }
    };
}

macro_rules! entries {
    ($( $module:literal $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty, $kind:ident, $bytes:expr; )*) => {
        $( entry!($kind $module $name ($($arg : $ty),*) -> $ret, $bytes); )*
    };
}

crate::for_each_vmcall!(entries);

/// Runs vmcall `f` after charging `cost` gas; afterwards charges
/// `gas::PAGE_LOAD` for every 4096-byte storage page it loaded, whether it
/// failed or not (a load that happened is paid).
///
/// # Errors
/// [`VmCallError::OutOfGas`], [`VmCallError::NoMemory`] (after the entry
/// gas), or `f`'s error.
pub fn metered<S: svm_pages::PageStorage, H: Host, R>(
    ctx: &mut CallContext<S>,
    host: &mut H,
    cost: u64,
    f: impl FnOnce(&mut CallContext<S>, &H) -> Result<R, VmCallError>,
) -> Result<R, VmCallError> {
    host.charge(cost)?;
    host.ready()?;
    let loaded = ctx.storage.pages_loaded();
    let out = f(ctx, host);
    let new_pages = ctx.storage.pages_loaded() - loaded;
    if new_pages > 0 {
        host.charge(new_pages.saturating_mul(gas::PAGE_LOAD))?;
    }
    out
}

/// [`metered`] for the map vmcalls: afterwards also charges
/// `gas::map_nodes` for the map nodes the operation touched, failed or
/// not.
///
/// # Errors
/// As [`metered`].
pub fn metered_map<S: svm_pages::PageStorage, H: Host>(
    ctx: &mut CallContext<S>,
    host: &mut H,
    cost: u64,
    f: impl FnOnce(&mut CallContext<S>, &H) -> (Result<u32, VmCallError>, svm_cache::map::MapStats),
) -> Result<u32, VmCallError> {
    let (result, stats) = metered(ctx, host, cost, |c, h| Ok(f(c, h)))?;
    host.charge(gas::map_nodes(stats.nodes_read, stats.nodes_written))?;
    result
}
