//! The import object: every vmcall of the table
//! ([`crate::vmcall_table`]) bound into wasmer, by a binder generated from
//! the table, over the engine-free entry points of [`svm_host`].

use svm_host::meter::{GasMeter, Host};
use svm_pages::PageStorage;
use wasmer::{
    Function, FunctionEnv, FunctionEnvMut, Imports, Instance, Memory, Module, Store, StoreMut,
};
use wasmer_middlewares::metering::{MeteringPoints, get_remaining_points, set_remaining_points};

pub use crate::vmcall_table::{VMCALLS, ValKind, VmCallSig};
use crate::vmcalls::{CallContext, GuestMemory, VmCallError};

/// The wasmer environment of one run: its [`CallContext`] and, once the
/// instance exists, its exported memory.
pub struct Env<S> {
    /// The run's context.
    pub ctx: CallContext<S>,
    /// The contract's exported `memory`.
    pub memory: Option<Memory>,
    /// The instance, once it exists: vmcalls charge gas through its
    /// metering points.
    pub instance: Option<Instance>,
    /// The instance's metering globals, looked up once (see [`Meter`]).
    pub meter: Option<Meter>,
}

/// The two globals of wasmer's `Metering` middleware in one instance,
/// looked up by name once instead of on every charge (four string-keyed
/// export lookups each time otherwise). Charging through it is exactly
/// [`charge`].
#[derive(Clone)]
pub struct Meter {
    remaining: wasmer::Global,
    exhausted: wasmer::Global,
}

impl Meter {
    /// The metering globals of `instance`; `None` when it has none (a
    /// module compiled without metering).
    pub fn of(instance: &Instance) -> Option<Self> {
        Some(Self {
            remaining: instance
                .exports
                .get_global("wasmer_metering_remaining_points")
                .ok()?
                .clone(),
            exhausted: instance
                .exports
                .get_global("wasmer_metering_points_exhausted")
                .ok()?
                .clone(),
        })
    }

    /// The points left (0 once exhausted).
    pub fn remaining(&self, store: &mut impl wasmer::AsStoreMut) -> u64 {
        let exhausted = self.exhausted.get(store).i32().unwrap_or(1) != 0;
        match exhausted {
            true => 0,
            false => self.remaining.get(store).i64().unwrap_or(0) as u64,
        }
    }

    /// The points as wasmer's `get_remaining_points` gives them, without
    /// its two name lookups.
    pub fn points(&self, store: &mut impl wasmer::AsStoreMut) -> MeteringPoints {
        if self.exhausted.get(store).i32().unwrap_or(1) != 0 {
            return MeteringPoints::Exhausted;
        }
        MeteringPoints::Remaining(self.remaining.get(store).i64().unwrap_or(0) as u64)
    }

    /// Sets the points to `points` and clears "exhausted", as wasmer's
    /// `set_remaining_points` does.
    ///
    /// # Errors
    /// [`VmCallError::OutOfGas`] when the globals cannot be set (a module
    /// whose metering globals are not the middleware's).
    pub fn set(&self, store: &mut impl wasmer::AsStoreMut, points: u64) -> Result<(), VmCallError> {
        self.remaining
            .set(store, wasmer::Value::I64(points as i64))
            .and_then(|()| self.exhausted.set(store, wasmer::Value::I32(0)))
            .map_err(|_| VmCallError::OutOfGas)
    }

    /// Gives `amount` points back (what an inner call did not use).
    ///
    /// # Errors
    /// [`VmCallError::OutOfGas`] when the globals cannot be set (a module
    /// whose metering globals are not the middleware's).
    pub fn refund(
        &self,
        store: &mut impl wasmer::AsStoreMut,
        amount: u64,
    ) -> Result<(), VmCallError> {
        let left = self.remaining(store).saturating_add(amount);
        self.remaining
            .set(store, wasmer::Value::I64(left as i64))
            .map_err(|_| VmCallError::OutOfGas)
    }

    /// [`charge`], through the cached globals.
    ///
    /// # Errors
    /// [`VmCallError::OutOfGas`], leaving 0 points, when fewer remain.
    pub fn charge(
        &self,
        store: &mut impl wasmer::AsStoreMut,
        amount: u64,
    ) -> Result<(), VmCallError> {
        let exhausted = self.exhausted.get(store).i32().unwrap_or(1) != 0;
        let remaining = self.remaining.get(store).i64().unwrap_or(0) as u64;
        if !exhausted && remaining >= amount {
            // "Not exhausted" already: only the count changes.
            return self
                .remaining
                .set(store, wasmer::Value::I64((remaining - amount) as i64))
                .map_err(|_| VmCallError::OutOfGas);
        }
        // As `set_remaining_points(0)`: no points, and "not exhausted" (the
        // error ends the run anyway).
        let _ = self.remaining.set(store, wasmer::Value::I64(0));
        let _ = self.exhausted.set(store, wasmer::Value::I32(0));
        Err(VmCallError::OutOfGas)
    }
}

/// Takes `amount` gas from the instance's remaining points.
///
/// # Errors
/// [`VmCallError::OutOfGas`], leaving 0 points, when fewer remain.
pub fn charge(
    store: &mut impl wasmer::AsStoreMut,
    instance: &Instance,
    amount: u64,
) -> Result<(), VmCallError> {
    match get_remaining_points(store, instance) {
        MeteringPoints::Remaining(r) if r >= amount => {
            set_remaining_points(store, instance, r - amount);
            Ok(())
        }
        _ => {
            set_remaining_points(store, instance, 0);
            Err(VmCallError::OutOfGas)
        }
    }
}

/// The engine side of one vmcall ([`svm_host::meter::Host`]): the store,
/// the contract's memory (a view is taken for each access, as the meter
/// needs the store mutably between them) and its metering globals.
struct WasmHost<'a> {
    store: StoreMut<'a>,
    memory: Option<&'a Memory>,
    meter: &'a Meter,
}

impl GuestMemory for WasmHost<'_> {
    fn read(&self, ptr: u32, buf: &mut [u8]) -> Result<(), VmCallError> {
        let memory = self.memory.ok_or(VmCallError::NoMemory)?;
        memory
            .view(&self.store)
            .read(ptr.into(), buf)
            .map_err(|_| VmCallError::MemoryOutOfBounds {
                ptr,
                len: buf.len() as u32,
            })
    }

    fn write(&self, ptr: u32, data: &[u8]) -> Result<(), VmCallError> {
        let memory = self.memory.ok_or(VmCallError::NoMemory)?;
        memory
            .view(&self.store)
            .write(ptr.into(), data)
            .map_err(|_| VmCallError::MemoryOutOfBounds {
                ptr,
                len: data.len() as u32,
            })
    }
}

impl GasMeter for WasmHost<'_> {
    fn charge(&mut self, amount: u64) -> Result<(), VmCallError> {
        self.meter.charge(&mut self.store, amount)
    }

    fn remaining(&mut self) -> u64 {
        self.meter.remaining(&mut self.store)
    }

    fn refund(&mut self, amount: u64) -> Result<(), VmCallError> {
        self.meter.refund(&mut self.store, amount)
    }
}

impl Host for WasmHost<'_> {
    fn ready(&self) -> Result<(), VmCallError> {
        self.memory.map(|_| ()).ok_or(VmCallError::NoMemory)
    }
}

type EnvMut<'a, S> = FunctionEnvMut<'a, Env<S>>;

/// Builds the import object of one run over `env`, with exactly the
/// vmcalls `module` imports (creating a host function costs time on every
/// call, so unused ones are not created).
pub fn import_object<S: PageStorage + 'static>(
    store: &mut Store,
    env: &FunctionEnv<Env<S>>,
    module: &Module,
) -> Imports {
    let mut imports = Imports::new();
    for imp in module.imports() {
        let known = VMCALLS
            .iter()
            .any(|v| v.module == imp.module() && v.name == imp.name());
        if known && let Some(f) = vmcall_function(store, env, imp.name()) {
            imports.define(imp.module(), imp.name(), f);
        }
    }
    imports
}

/// The vmcalls `module` imports, as externs in the module's import order:
/// what [`Instance::new_by_index`](wasmer::Instance::new_by_index) takes,
/// without the name-keyed [`Imports`] map (built and searched on every
/// call otherwise).
///
/// # Errors
/// The `module.name` of an import that is no vmcall (the deploy gate
/// rejects such modules, so only code that bypassed it gets here).
pub fn import_externs<S: PageStorage + 'static>(
    store: &mut Store,
    env: &FunctionEnv<Env<S>>,
    module: &Module,
) -> Result<Vec<wasmer::Extern>, String> {
    let mut externs = Vec::new();
    for imp in module.imports() {
        let known = VMCALLS
            .iter()
            .any(|v| v.module == imp.module() && v.name == imp.name());
        match vmcall_function(store, env, imp.name()) {
            Some(f) if known => externs.push(wasmer::Extern::Function(f)),
            _ => return Err(format!("{}.{} is no vmcall", imp.module(), imp.name())),
        }
    }
    Ok(externs)
}

/// Generates [`vmcall_function`] from the vmcall table
/// ([`svm_host::for_each_vmcall!`]): one host function per row, which
/// lends the row's metered entry point ([`svm_host::entry`]) the run's
/// context and a [`WasmHost`].
macro_rules! binder {
    ($( $module:literal $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty, $kind:ident, $bytes:expr; )*) => {
        /// The host function of the vmcall named `name` (names are unique
        /// across the `svm` and `node` modules).
        fn vmcall_function<S: PageStorage + 'static>(
            store: &mut Store,
            env: &FunctionEnv<Env<S>>,
            name: &str,
        ) -> Option<Function> {
            Some(match name {
                $(stringify!($name) => Function::new_typed_with_env(
                    store,
                    env,
                    |mut e: EnvMut<S>, $($arg: $ty),*| -> Result<$ret, VmCallError> {
                        let (data, store) = e.data_and_store_mut();
                        let meter = data.meter.as_ref().ok_or(VmCallError::NoMemory)?;
                        let mut host = WasmHost {
                            store,
                            memory: data.memory.as_ref(),
                            meter,
                        };
                        svm_host::entry::$name(&mut data.ctx, &mut host, $($arg),*)
                    },
                ),)*
                _ => return None,
            })
        }
    };
}

svm_host::for_each_vmcall!(binder);
