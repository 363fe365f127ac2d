//! Stage 3 of a call: the call context (with the call's value moved), the
//! import object, the instance and its gas.

use svm_cache::PageSliceCache;
use svm_kv::KvStore;
use svm_pages::PageOverlay;
use svm_registers::Registers;
use wasmer::{FunctionEnv, Instance, InstantiationError, Store};
use wasmer_middlewares::metering::set_remaining_points;

use super::Failure;
use super::load::Loaded;
use super::run::trap_error;
use crate::block::state::BlockState;
use crate::contracts::ContractRecord;
use crate::imports::{Env, import_externs};
use crate::runtime::{Runtime, tx_error};
use crate::vmcalls::{CallContext, VmCallError};
use crate::wire::{CallTx, ErrorCode};

/// A live instance and what settling it needs.
pub(crate) struct Instantiated<K> {
    pub(crate) store: Store,
    pub(crate) env: FunctionEnv<Env<PageOverlay<K>>>,
    pub(crate) instance: Instance,
    pub(crate) record: ContractRecord,
    pub(crate) query: bool,
    /// The call-stack limit, in slots, the code was compiled with.
    pub(crate) max_stack_slots: u32,
}

impl<K: KvStore + 'static> Runtime<K> {
    /// Builds the instance of `loaded` for `tx`, with the remaining gas.
    pub(crate) fn instantiate(
        &self,
        block: &BlockState<K>,
        tx: &CallTx,
        loaded: Loaded<K>,
    ) -> Result<Instantiated<K>, Failure> {
        let used = loaded.gas_used;
        let mut ctx = CallContext {
            registers: Registers::new(self.config.registers),
            storage: PageSliceCache::new(loaded.cache),
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
        };
        if let Err(e) = ctx.receive_value() {
            let code = match e {
                VmCallError::InsufficientBalance { .. } => ErrorCode::InsufficientBalance,
                VmCallError::Node(_) => ErrorCode::Storage,
                _ => ErrorCode::HostCall,
            };
            return Err(Failure::new(
                tx_error(code, format!("the call's value: {e}")),
                used,
            ));
        }
        let compiled = loaded.compiled;
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
        let externs = match import_externs(&mut store, &env, &compiled.module) {
            Ok(e) => e,
            Err(e) => {
                return Err(Failure::new(
                    tx_error(ErrorCode::InvalidCode, format!("instantiation: {e}")),
                    used,
                ));
            }
        };
        let instance = match Instance::new_by_index(&mut store, &compiled.module, &externs) {
            Ok(i) => i,
            Err(InstantiationError::Start(e)) => {
                return Err(Failure::new(trap_error(&e, false), used));
            }
            Err(e) => {
                return Err(Failure::new(
                    tx_error(ErrorCode::InvalidCode, format!("instantiation: {e}")),
                    used,
                ));
            }
        };
        set_remaining_points(&mut store, &instance, tx.gas_limit - used);
        // Memory 0, exported as `memory` or, for a module that does not
        // export it (SVM milestone-1 style), under the reserved name the
        // compiler added.
        let memory = match instance.exports.get_memory("memory").or_else(|_| {
            instance
                .exports
                .get_memory(crate::gate::RESERVED_MEMORY_EXPORT)
        }) {
            Ok(m) => m.clone(),
            Err(_) => {
                return Err(Failure::new(
                    tx_error(ErrorCode::InvalidCode, "no exported memory"),
                    used,
                ));
            }
        };
        let data = env.as_mut(&mut store);
        data.meter = crate::imports::Meter::of(&instance);
        data.instance = Some(instance.clone());
        data.memory = Some(memory);
        Ok(Instantiated {
            store,
            env,
            instance,
            record: loaded.record,
            query: loaded.query,
            max_stack_slots: self.config.max_stack_slots,
        })
    }
}
