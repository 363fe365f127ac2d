//! Stage 5 of a call: pay for dirtied pages, then merge into the block
//! (calls at the latest state) or discard (queries), and make the receipt.

use svm_kv::KvStore;

use super::Failure;
use crate::block::state::BlockState;
use crate::engine::instance::Instantiated;
use crate::engine::instance::gas_used;
use crate::gas;
use crate::runtime::{Runtime, storage_error, tx_error};
use crate::wire::{CallTx, ErrorCode, Receipt, WasmValue};

impl<K: KvStore + 'static> Runtime<K> {
    /// Settles a successful run of `tx` that returned `returns`.
    pub(crate) fn settle(
        &self,
        block: &mut BlockState<K>,
        tx: &CallTx,
        inst: &mut Instantiated<K>,
        returns: Vec<WasmValue>,
    ) -> Result<Receipt, Failure> {
        let limit = tx.gas_limit;
        let ctx = &inst.env.as_ref(&inst.store).ctx;
        let dirty = ctx.storage.dirty_pages();
        let pages_read = ctx.storage.total_pages_loaded() as u32;
        let fail = |error, gas_used| Failure {
            error,
            gas_used,
            pages_read,
        };
        // Every page dirtied, in every contract the transaction reached, is
        // paid for before the commit.
        if inst.charge(dirty * gas::PAGE_WRITE).is_err() {
            inst.env.as_mut(&mut inst.store).ctx.storage.discard();
            return Err(fail(
                tx_error(ErrorCode::OutOfGas, "out of gas at commit"),
                limit,
            ));
        }
        let gas_used = gas_used(inst, limit);
        let query = inst.query;
        let ctx = &mut inst.env.as_mut(&mut inst.store).ctx;
        let return_data = std::mem::take(&mut ctx.return_data);
        let logs = std::mem::take(&mut ctx.logs);
        let calls = std::mem::take(&mut ctx.calls);
        let (new_state, pages_written) = if query {
            // A query commits nothing; its receipt keeps the state it ran at.
            let state = ctx
                .storage
                .states()
                .get(&tx.contract)
                .copied()
                .unwrap_or(inst.record.state);
            ctx.storage.discard();
            (state, 0)
        } else {
            // Into the block: the pages (hashed, in memory), the records,
            // the balances.
            let balances = std::mem::take(&mut ctx.balances);
            let before = ctx.storage.states();
            let after = match ctx.storage.commit() {
                Ok(s) => s,
                Err(e) => {
                    ctx.storage.discard();
                    // A cache already committed may have reached the
                    // block's overlay: the block cannot be committed.
                    if before.len() > 1 {
                        block.poison(format!("a transaction's commit failed: {e}"));
                    }
                    return Err(fail(storage_error(e), gas_used));
                }
            };
            for (address, state) in &after {
                if before.get(address) == Some(state) {
                    continue;
                }
                let record = if *address == tx.contract {
                    Ok(Some(inst.record.clone()))
                } else {
                    block.record(address)
                };
                match record {
                    Ok(Some(mut r)) => {
                        r.state = *state;
                        block.records.lock().insert(*address, r);
                    }
                    Ok(None) | Err(_) => {
                        block.poison(format!("the record of {address} vanished"));
                        return Err(fail(storage_error("a contract record vanished"), gas_used));
                    }
                }
            }
            block.balances.merge(balances);
            let state = after
                .get(&tx.contract)
                .copied()
                .unwrap_or(inst.record.state);
            (state, dirty as u32)
        };
        Ok(Receipt {
            success: true,
            error: None,
            new_state,
            returns,
            return_data,
            logs,
            pages_read,
            pages_written,
            gas_limit: limit,
            gas_used,
            calls,
        })
    }
}
