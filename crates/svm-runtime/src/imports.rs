//! The import object: every vmcall of the table
//! ([`crate::vmcall_table`]) bound into wasmer.

use svm_pages::PageStorage;
use wasmer::{
    Function, FunctionEnv, FunctionEnvMut, Imports, Instance, Memory, MemoryView, Module, Store,
};
use wasmer_middlewares::metering::{MeteringPoints, get_remaining_points, set_remaining_points};

use crate::gas;
pub use crate::vmcall_table::{VMCALLS, ValKind, VmCallSig};
use crate::vmcalls::{self, CallContext, GuestMemory, VmCallError};

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

struct WasmMemory<'a>(MemoryView<'a>);

impl GuestMemory for WasmMemory<'_> {
    fn read(&self, ptr: u32, buf: &mut [u8]) -> Result<(), VmCallError> {
        self.0
            .read(ptr.into(), buf)
            .map_err(|_| VmCallError::MemoryOutOfBounds {
                ptr,
                len: buf.len() as u32,
            })
    }

    fn write(&self, ptr: u32, data: &[u8]) -> Result<(), VmCallError> {
        self.0
            .write(ptr.into(), data)
            .map_err(|_| VmCallError::MemoryOutOfBounds {
                ptr,
                len: data.len() as u32,
            })
    }
}

type EnvMut<'a, S> = FunctionEnvMut<'a, Env<S>>;

/// Runs vmcall `f` after charging `cost` gas; afterwards charges
/// [`gas::PAGE_LOAD`] for every page it loaded from storage.
fn with_mem<S: PageStorage + 'static, R>(
    env: &mut EnvMut<'_, S>,
    cost: u64,
    f: impl FnOnce(&mut CallContext<S>, &WasmMemory<'_>) -> Result<R, VmCallError>,
) -> Result<R, VmCallError> {
    let (data, mut store) = env.data_and_store_mut();
    let meter = data.meter.as_ref().ok_or(VmCallError::NoMemory)?;
    meter.charge(&mut store, cost)?;
    let loaded = data.ctx.storage.pages_loaded();
    let memory = data.memory.as_ref().ok_or(VmCallError::NoMemory)?;
    let out = f(&mut data.ctx, &WasmMemory(memory.view(&store)));
    let new_pages = data.ctx.storage.pages_loaded() - loaded;
    if new_pages > 0 {
        meter.charge(&mut store, new_pages * gas::PAGE_LOAD)?;
    }
    out
}

/// [`with_mem`] for the map vmcalls: afterwards also charges
/// [`gas::map_nodes`] for the nodes the operation touched, failed or not.
fn with_map<S: PageStorage + 'static>(
    env: &mut EnvMut<'_, S>,
    cost: u64,
    f: impl FnOnce(
        &mut CallContext<S>,
        &WasmMemory<'_>,
    ) -> (Result<u32, VmCallError>, svm_cache::map::MapStats),
) -> Result<u32, VmCallError> {
    let (result, stats) = with_mem(env, cost, |c, m| Ok(f(c, m)))?;
    let (data, mut store) = env.data_and_store_mut();
    let meter = data.meter.as_ref().ok_or(VmCallError::NoMemory)?;
    meter.charge(
        &mut store,
        gas::map_nodes(stats.nodes_read, stats.nodes_written),
    )?;
    result
}

/// [`with_mem`] for vmcalls that do not touch memory.
fn with_ctx<S: PageStorage + 'static, R>(
    env: &mut EnvMut<'_, S>,
    cost: u64,
    f: impl FnOnce(&mut CallContext<S>) -> Result<R, VmCallError>,
) -> Result<R, VmCallError> {
    with_mem(env, cost, |c, _| f(c))
}

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

/// The host function of the vmcall named `name` (names are unique across
/// the `svm` and `node` modules).
fn vmcall_function<S: PageStorage + 'static>(
    store: &mut Store,
    env: &FunctionEnv<Env<S>>,
    name: &str,
) -> Option<Function> {
    use vmcalls as v;
    Some(match name {
        "mem_to_reg_copy" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, mi: u32, p: u32, l: u32, b: u32, r: u32| {
                with_mem(&mut e, gas::vmcall(l), |c, m| {
                    v::mem_to_reg_copy(c, m, mi, p, l, b, r)
                })
            },
        ),
        "reg_to_mem_copy" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, b: u32, r: u32, l: u32, mi: u32, p: u32| {
                with_mem(&mut e, gas::vmcall(l), |c, m| {
                    v::reg_to_mem_copy(c, m, b, r, l, mi, p)
                })
            },
        ),
        "storage_read_to_reg" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, pg: u32, sl: u32, o: u32, l: u32, b: u32, r: u32| {
                with_ctx(&mut e, gas::vmcall(l), |c| {
                    v::storage_read_to_reg(c, pg, sl, o, l, b, r)
                })
            },
        ),
        "storage_read_to_mem" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, pg: u32, sl: u32, o: u32, l: u32, mi: u32, p: u32| {
                with_mem(&mut e, gas::vmcall(l), |c, m| {
                    v::storage_read_to_mem(c, m, pg, sl, o, l, mi, p)
                })
            },
        ),
        "storage_write_from_mem" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, mi: u32, p: u32, l: u32, pg: u32, sl: u32, o: u32| {
                with_mem(&mut e, gas::vmcall(l), |c, m| {
                    v::storage_write_from_mem(c, m, mi, p, l, pg, sl, o)
                })
            },
        ),
        "storage_write_from_reg" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, b: u32, r: u32, l: u32, pg: u32, sl: u32, o: u32| {
                with_ctx(&mut e, gas::vmcall(l), |c| {
                    v::storage_write_from_reg(c, b, r, l, pg, sl, o)
                })
            },
        ),
        "reg_replace_byte" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, b: u32, r: u32, byte: u32, o: u32| {
                with_ctx(&mut e, gas::vmcall(1), |c| {
                    v::reg_replace_byte(c, b, r, byte, o)
                })
            },
        ),
        "reg_read_be_i64" => {
            Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, b: u32, r: u32| {
                with_ctx(&mut e, gas::vmcall(8), |c| v::reg_read_be_i64(c, b, r))
            })
        }
        "reg_write_be_i64" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, val: i64, b: u32, r: u32| {
                with_ctx(&mut e, gas::vmcall(8), |c| {
                    v::reg_write_be_i64(c, val, b, r)
                })
            },
        ),
        "calldata_len" => Function::new_typed_with_env(store, env, |mut e: EnvMut<S>| {
            with_ctx(&mut e, gas::vmcall(0), v::calldata_len)
        }),
        "calldata_copy" => {
            Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, p: u32, o: u32, l: u32| {
                with_mem(&mut e, gas::vmcall(l), |c, m| {
                    v::calldata_copy(c, m, p, o, l)
                })
            })
        }
        "set_return_data" => {
            Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, p: u32, l: u32| {
                with_mem(&mut e, gas::vmcall(l), |c, m| {
                    v::set_return_data(c, m, p, l)
                })
            })
        }
        "log" => Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, p: u32, l: u32| {
            with_mem(&mut e, gas::vmcall(l), |c, m| v::log(c, m, p, l))
        }),
        "abort" => Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, p: u32, l: u32| {
            let kept = l.min(vmcalls::MAX_ABORT_MESSAGE);
            with_mem(&mut e, gas::vmcall(kept), |c, m| v::abort(c, m, p, l))
        }),
        "sender_to_reg" => {
            Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, b: u32, r: u32| {
                with_ctx(&mut e, gas::vmcall(20), |c| v::sender_to_reg(c, b, r))
            })
        }
        "self_to_reg" => {
            Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, b: u32, r: u32| {
                with_ctx(&mut e, gas::vmcall(20), |c| v::self_to_reg(c, b, r))
            })
        }
        "transfer" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, b: u32, r: u32, amount: i64| {
                with_ctx(&mut e, gas::vmcall(40), |c| v::transfer(c, b, r, amount))
            },
        ),
        "value" => Function::new_typed_with_env(store, env, |mut e: EnvMut<S>| {
            with_ctx(&mut e, gas::vmcall(0), v::value)
        }),
        "call" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>,
             addr_reg_bits: u32,
             addr_reg_idx: u32,
             func_ptr: u32,
             func_len: u32,
             data_ptr: u32,
             data_len: u32,
             gas: i64,
             value: i64| {
                crate::inner_call::call(
                    &mut e,
                    crate::inner_call::CallArgs {
                        addr_reg_bits,
                        addr_reg_idx,
                        func_ptr,
                        func_len,
                        data_ptr,
                        data_len,
                        gas,
                        value,
                    },
                )
            },
        ),
        "returndata_len" => Function::new_typed_with_env(store, env, |mut e: EnvMut<S>| {
            with_ctx(&mut e, gas::vmcall(0), v::returndata_len)
        }),
        "returndata_copy" => {
            Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, p: u32, o: u32, l: u32| {
                with_mem(&mut e, gas::vmcall(l), |c, m| {
                    v::returndata_copy(c, m, p, o, l)
                })
            })
        }
        "map_get" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, pg: u32, kp: u32, kl: u32, vp: u32, vl: u32| {
                with_map(&mut e, gas::vmcall(kl.saturating_add(vl)), |c, m| {
                    v::map_get(c, m, pg, kp, kl, vp, vl)
                })
            },
        ),
        "map_set" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, pg: u32, kp: u32, kl: u32, vp: u32, vl: u32| {
                with_map(&mut e, gas::vmcall(kl.saturating_add(vl)), |c, m| {
                    v::map_set(c, m, pg, kp, kl, vp, vl)
                })
            },
        ),
        "map_remove" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, pg: u32, kp: u32, kl: u32, vl: u32| {
                with_map(&mut e, gas::vmcall(kl), |c, m| {
                    v::map_remove(c, m, pg, kp, kl, vl)
                })
            },
        ),
        "map_len" => Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, pg: u32| {
            with_ctx(&mut e, gas::vmcall(8), |c| v::map_len(c, pg))
        }),
        "vmcall_get_balance" => {
            Function::new_typed_with_env(store, env, |mut e: EnvMut<S>, b: u32, r: u32| {
                with_ctx(&mut e, gas::vmcall(20), |c| v::vmcall_get_balance(c, b, r))
            })
        }
        "vmcall_set_balance" => Function::new_typed_with_env(
            store,
            env,
            |mut e: EnvMut<S>, val: i64, b: u32, r: u32| {
                with_ctx(&mut e, gas::vmcall(20), |c| {
                    v::vmcall_set_balance(c, val, b, r)
                })
            },
        ),
        _ => return None,
    })
}
