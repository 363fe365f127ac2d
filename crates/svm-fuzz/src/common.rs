//! Helpers shared by the targets: runtimes over `MemKv`, KV snapshots, and
//! the properties every receipt must have.

use std::sync::Arc;

use svm_kv::{KvStore, MemKv, WriteBatch};
use svm_runtime::{
    CallTx, Compiler, DeployTx, ErrorCode, KvNodeHost, Receipt, Runtime, RuntimeConfig, StateRef,
};
use svm_types::{Address, State};

/// The runtime type of every target.
pub type Rt = Runtime<Arc<MemKv>>;

/// A runtime (and its node host) over a fresh in-memory KV.
pub fn runtime(compiler: Compiler, allow_set_balance: bool) -> (Rt, Arc<KvNodeHost<Arc<MemKv>>>) {
    let kv = Arc::new(MemKv::new());
    let node = Arc::new(KvNodeHost::new(kv.clone()));
    let config = RuntimeConfig {
        compiler,
        allow_set_balance,
        ..RuntimeConfig::default()
    };
    (Runtime::new(kv, node.clone(), config), node)
}

/// The compilers to compare: Singlepass, and Cranelift with the feature.
pub fn compilers() -> Vec<Compiler> {
    #[allow(unused_mut)]
    let mut v = vec![Compiler::Singlepass];
    #[cfg(feature = "cranelift")]
    v.push(Compiler::Cranelift);
    v
}

/// Every key and value of the runtime's KV, in key order.
///
/// Block bookkeeping is left out: every committing call is a block of one,
/// so even a failed one adds a block record (with no state change).
pub fn snapshot(rt: &Rt) -> Vec<(Vec<u8>, Vec<u8>)> {
    rt.kv()
        .scan_prefix(&[])
        .expect("MemKv scans")
        .into_iter()
        .filter(|(k, _)| k[0] != b'B' && &k[..] != svm_runtime::block::record::LATEST_BLOCK_KEY)
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect()
}

/// The latest state of `contract`.
pub fn latest(rt: &Rt, contract: &Address) -> State {
    rt.contract(contract)
        .expect("MemKv reads")
        .expect("the contract is deployed")
        .state
}

// The wire encoders refuse values over their limits (`EncodeError`). Every
// value the targets encode was decoded or made by the runtime, so it fits:
// an error here is a finding.

/// [`DeployTx::encode`]; panics (a finding) if it refuses.
pub fn encode_deploy(tx: &DeployTx) -> Vec<u8> {
    tx.encode().expect("a decoded deploy encodes")
}

/// [`CallTx::encode`]; panics (a finding) if it refuses.
pub fn encode_call(tx: &CallTx) -> Vec<u8> {
    tx.encode().expect("a decoded call encodes")
}

/// [`Receipt::encode`]; panics (a finding) if it refuses.
pub fn encode_receipt(r: &Receipt) -> Vec<u8> {
    r.encode()
        .expect("a receipt of the runtime or the decoder encodes")
}

/// Runs `tx` (against the latest state) and checks every property of a
/// single call: the receipt is well-formed and round-trips through the wire;
/// a failed call wrote nothing at all; the same call at the same state
/// gives the same receipt again. Returns the receipt.
pub fn checked_call(rt: &Rt, node: &KvNodeHost<Arc<MemKv>>, tx: &CallTx) -> Receipt {
    assert_eq!(tx.state, StateRef::Latest);
    let base = latest(rt, &tx.contract);
    let before = snapshot(rt);
    let r = rt.call(tx);
    well_formed(tx, &r);
    assert_eq!(
        Receipt::decode(&encode_receipt(&r)).as_ref(),
        Ok(&r),
        "receipt round trip"
    );
    if r.success {
        assert_eq!(latest(rt, &tx.contract), r.new_state, "latest state moved");
    } else {
        // The base state, or the zero state for a call refused before any
        // state was loaded (gas limit over the maximum or below the
        // intrinsic gas).
        let refused =
            r.error.as_ref().is_some_and(|e| {
                matches!(e.code, ErrorCode::GasLimitTooHigh | ErrorCode::OutOfGas)
            }) && r.pages_read == 0;
        assert!(
            r.new_state == base || (refused && r.new_state == State::ZERO),
            "a failed receipt names the base state: {r:?}"
        );
        assert_eq!(
            latest(rt, &tx.contract),
            base,
            "a failed call moved the root"
        );
        assert!(snapshot(rt) == before, "a failed call wrote to the KV");
    }
    // Determinism: the same call at the same state, on the same runtime
    // (now with a warm module cache and possibly a newer latest state).
    // Balances live outside the contract's state: put them back first.
    // A call at an explicit state is a read-only query: it gives the same
    // outcome, but commits nothing and reports the state it ran at.
    let after = snapshot(rt);
    restore_balances(rt, node, &before);
    let at_base = snapshot(rt);
    let again = rt.call(&CallTx {
        state: StateRef::At(base),
        ..tx.clone()
    });
    assert_eq!(
        Receipt {
            new_state: r.new_state,
            pages_written: r.pages_written,
            ..again.clone()
        },
        r,
        "the same call at the same state differs"
    );
    let ran_at = if !r.success && r.new_state == State::ZERO {
        State::ZERO
    } else {
        base
    };
    assert_eq!(again.new_state, ran_at, "a query moved the state");
    assert_eq!(again.pages_written, 0, "a query wrote pages");
    assert!(snapshot(rt) == at_base, "a query wrote to the KV");
    // Back to the balances the call left.
    restore_balances(rt, node, &after);
    r
}

/// The namespace of balances in the KV (`svm_runtime::node` docs).
const BALANCES: &[u8] = b"b";

/// Puts the balances of `snapshot` back (deleting newer ones), past the
/// node host, whose balance cache is then emptied.
fn restore_balances(rt: &Rt, node: &KvNodeHost<Arc<MemKv>>, snapshot: &[(Vec<u8>, Vec<u8>)]) {
    let mut batch = WriteBatch::new();
    for (k, _) in rt.kv().scan_prefix(BALANCES).expect("MemKv scans") {
        batch.delete(k);
    }
    for (k, v) in snapshot.iter().filter(|(k, _)| k.starts_with(BALANCES)) {
        batch.put(k.clone(), v.clone());
    }
    rt.kv().write(batch).expect("MemKv writes");
    node.forget_cached();
}

/// The properties of any receipt of `tx`.
pub fn well_formed(tx: &CallTx, r: &Receipt) {
    assert_eq!(r.gas_limit, tx.gas_limit);
    assert!(r.gas_used <= r.gas_limit, "gas used over the limit: {r:?}");
    assert_eq!(r.success, r.error.is_none(), "{r:?}");
    if r.success {
        assert!(r.gas_used >= svm_runtime::gas::call_intrinsic(tx.calldata.len()));
    } else {
        assert!(r.returns.is_empty() && r.return_data.is_empty() && r.logs.is_empty());
        assert_eq!(r.pages_written, 0);
        let e = r.error.as_ref().expect("failed receipts carry an error");
        assert_ne!(e.code, ErrorCode::Storage, "MemKv never fails: {e}");
        if e.code == ErrorCode::OutOfGas {
            assert_eq!(r.gas_used, r.gas_limit, "out of gas uses the whole limit");
        }
    }
    let limits = svm_runtime::vmcalls::OutputLimits::default();
    assert!(r.return_data.len() <= limits.max_return_data);
    assert!(r.logs.len() <= limits.max_logs);
    assert!(r.logs.iter().map(Vec::len).sum::<usize>() <= limits.max_log_bytes);
}
