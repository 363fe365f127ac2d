//! Stage 3 of a call: the call context (with the call's value moved), the
//! import object, the instance and its gas.

use std::sync::Arc;

use svm_cache::PageSliceCache;
use svm_kv::KvStore;
use svm_pages::PageOverlay;
use svm_registers::Registers;
use wasmer::{FunctionEnv, Instance, InstantiationError, Store};
use wasmer_middlewares::metering::set_remaining_points;

use super::Failure;
use super::inner::Invoker;
use super::load::Loaded;
use crate::block::state::BlockState;
use crate::engine::instance::Instantiated;
use crate::engine::linker::{Env, import_externs};
use crate::engine::module_cache::Compiled;
use crate::engine::reuse::{InstancePool, Kept, Snapshot};
use crate::engine::trap::{trap_error, value_error};
use crate::runtime::{Runtime, tx_error};
use crate::tx_pages::TxPages;
use crate::vmcalls::CallContext;
use crate::wire::{CallTx, ErrorCode, TxError};

/// The instance a call runs on: built for it, or kept by the block's
/// [`InstancePool`] (then given back to it after the call).
pub(crate) enum Live<K> {
    /// Built for this call, dropped after it.
    Fresh(Instantiated<K>),
    /// Reset or snapshotted, to go back to the pool.
    Kept(Kept<K>),
}

impl<K: KvStore + 'static> Live<K> {
    /// The instance.
    pub(crate) fn inst(&mut self) -> &mut Instantiated<K> {
        match self {
            Live::Fresh(i) => i,
            Live::Kept(k) => k.instance(),
        }
    }
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Builds the instance of `loaded` for `tx`, with the remaining gas, or
    /// takes `pool`'s instance of its code, reset.
    pub(crate) fn instantiate(
        &self,
        block: &BlockState<K>,
        tx: &CallTx,
        loaded: Loaded<K>,
        pool: Option<&mut InstancePool<K>>,
    ) -> Result<Live<K>, Failure> {
        let used = loaded.gas_used;
        let mut ctx = CallContext {
            registers: Registers::new(self.config.registers),
            storage: TxPages::new(PageSliceCache::new(loaded.cache)),
            sender: tx.sender,
            contract: tx.contract,
            calldata: tx.calldata.clone(),
            value: tx.value,
            return_data: Vec::new(),
            logs: Vec::new(),
            limits: self.config.outputs,
            node: block.balances.clone(),
            balances: Default::default(),
            allow_set_balance: self.config.allow_set_balance,
            stack: vec![tx.contract],
            calls: Vec::new(),
            inner_return: Vec::new(),
            invoker: Some(Arc::new(Invoker::new(self.handle(), block.clone()))),
        };
        if let Err(e) = ctx.receive_value() {
            return Err(Failure::new(value_error(&e), used));
        }
        let gas_left = tx.gas_limit - used;
        let mut pool = pool.filter(|p| loaded.compiled.resettable && p.wanted(&tx.contract));
        let code = loaded.record.code_hash;
        if let Some(pool) = pool.as_deref_mut()
            && let Some(mut kept) = pool.take(&code)
        {
            let inst = kept.instance();
            inst.env.as_mut(&mut inst.store).ctx = ctx;
            inst.set_points(gas_left);
            inst.record = loaded.record;
            inst.query = loaded.query;
            return Ok(Live::Kept(kept));
        }
        let (store, env, instance) = self.instance_of(&loaded.compiled, ctx, gas_left);
        let mut inst = Instantiated {
            instance: instance.map_err(|e| Failure::new(e, used))?,
            store,
            env,
            record: loaded.record,
            query: loaded.query,
            max_stack_slots: self.config.max_stack_slots,
        };
        if pool.is_none() {
            return Ok(Live::Fresh(inst));
        }
        Ok(match Snapshot::of(&mut inst) {
            Some(s) => Live::Kept(Kept::new(code, inst, s)),
            None => Live::Fresh(inst),
        })
    }

    /// A store holding `ctx` and, unless instantiation failed, the instance
    /// of `compiled` with `gas_left` metering points. The store and its
    /// environment come back either way, so that the caller can take the
    /// context back.
    pub(crate) fn instance_of(
        &self,
        compiled: &Compiled,
        ctx: CallContext<PageOverlay<K>>,
        gas_left: u64,
    ) -> (
        Store,
        FunctionEnv<Env<PageOverlay<K>>>,
        Result<Instance, TxError>,
    ) {
        let mut store = Store::new(compiled.engine.clone());
        let env = FunctionEnv::new(
            &mut store,
            Env {
                ctx,
                memory: None,
                instance: None,
                meter: None,
            },
        );
        let instance = instantiate_in(&mut store, &env, compiled, gas_left);
        (store, env, instance)
    }
}

fn instantiate_in<K: KvStore + 'static>(
    store: &mut Store,
    env: &FunctionEnv<Env<PageOverlay<K>>>,
    compiled: &Compiled,
    gas_left: u64,
) -> Result<Instance, TxError> {
    let externs = import_externs(store, env, &compiled.module)
        .map_err(|e| tx_error(ErrorCode::InvalidCode, format!("instantiation: {e}")))?;
    let instance = match Instance::new_by_index(store, &compiled.module, &externs) {
        Ok(i) => i,
        Err(InstantiationError::Start(e)) => return Err(trap_error(&e, false)),
        Err(e) => {
            return Err(tx_error(
                ErrorCode::InvalidCode,
                format!("instantiation: {e}"),
            ));
        }
    };
    set_remaining_points(store, &instance, gas_left);
    // Memory 0, exported as `memory` or, for a module that does not export
    // it (SVM milestone-1 style), under the reserved name the compiler
    // added.
    let memory = instance
        .exports
        .get_memory("memory")
        .or_else(|_| {
            instance
                .exports
                .get_memory(crate::gate::RESERVED_MEMORY_EXPORT)
        })
        .map_err(|_| tx_error(ErrorCode::InvalidCode, "no exported memory"))?
        .clone();
    let data = env.as_mut(store);
    data.meter = crate::engine::linker::Meter::of(&instance);
    data.instance = Some(instance.clone());
    data.memory = Some(memory);
    Ok(instance)
}
