//! A live instance of a contract's code ([`Instantiated`]) and its gas,
//! read and set through the metering globals.

use svm_kv::KvStore;
use svm_pages::PageOverlay;
use wasmer::{FunctionEnv, Instance, Store};
use wasmer_middlewares::metering::{MeteringPoints, get_remaining_points, set_remaining_points};

use crate::contracts::ContractRecord;
use crate::engine::linker::{Env, Meter};
use crate::vmcalls::VmCallError;

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

impl<K: KvStore + 'static> Instantiated<K> {
    /// The metering globals the environment looked up at instantiation
    /// (`None` without metering).
    fn meter(&self) -> Option<Meter> {
        self.env.as_ref(&self.store).meter.clone()
    }

    /// The instance's metering points.
    pub(crate) fn points(&mut self) -> MeteringPoints {
        match self.meter() {
            Some(m) => m.points(&mut self.store),
            None => get_remaining_points(&mut self.store, &self.instance),
        }
    }

    /// Sets the instance's metering points to `points`.
    pub(crate) fn set_points(&mut self, points: u64) {
        let set = self.meter().map(|m| m.set(&mut self.store, points));
        if !matches!(set, Some(Ok(()))) {
            set_remaining_points(&mut self.store, &self.instance, points);
        }
    }

    /// Takes `amount` points, as [`crate::engine::linker::charge`].
    ///
    /// # Errors
    /// [`VmCallError::OutOfGas`], leaving 0 points, when fewer remain.
    pub(crate) fn charge(&mut self, amount: u64) -> Result<(), VmCallError> {
        match self.meter() {
            Some(m) => m.charge(&mut self.store, amount),
            None => crate::engine::linker::charge(&mut self.store, &self.instance, amount),
        }
    }
}

/// The gas used so far by `inst` (all of `limit` once exhausted).
pub(crate) fn gas_used<K: KvStore + 'static>(inst: &mut Instantiated<K>, limit: u64) -> u64 {
    match inst.points() {
        MeteringPoints::Remaining(r) => limit.saturating_sub(r),
        MeteringPoints::Exhausted => limit,
    }
}
