//! vmcalls without an engine: each runs on a byte-vector memory and a gas
//! count ([`VecHost`]), through the metered entry points an engine binds.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use svm_cache::{CacheConfig, PageCache, PageSliceCache};
use svm_host::entry;
use svm_host::gas;
use svm_host::inner_call::{CallOutcome, CallRequest, Invoke, MAX_INNER_CALLDATA};
use svm_host::meter::VecHost;
use svm_host::node::{KvNodeHost, NodeHost};
use svm_host::tx_pages::TxPages;
use svm_host::{CallContext, GuestMemory, OutputLimits, VmCallError};
use svm_kv::MemKv;
use svm_pages::{PageStore, empty_root};
use svm_registers::{RegisterConfig, Registers};
use svm_types::Address;
use svm_wire::ErrorCode;

type Store = PageStore<MemKv>;

const CONTRACT: Address = Address([7; 20]);
const CALLEE: Address = Address([9; 20]);

fn context() -> CallContext<Store> {
    let node: Arc<dyn NodeHost> = Arc::new(KvNodeHost::new(MemKv::new()));
    let cache = PageCache::open(
        PageStore::new(MemKv::new()),
        CONTRACT,
        empty_root(),
        CacheConfig { lru_pages: 1 },
    )
    .unwrap();
    CallContext {
        registers: Registers::new(RegisterConfig::default()),
        storage: TxPages::new(PageSliceCache::new(cache)),
        sender: Address([1; 20]),
        contract: CONTRACT,
        calldata: b"hello".to_vec(),
        value: 0,
        return_data: Vec::new(),
        logs: Vec::new(),
        limits: OutputLimits::default(),
        node,
        balances: BTreeMap::new(),
        allow_set_balance: false,
        stack: vec![CONTRACT],
        calls: Vec::new(),
        inner_return: Vec::new(),
        invoker: None,
    }
}

#[test]
fn an_entry_charges_its_bytes_then_runs() {
    let mut ctx = context();
    let mut host = VecHost::new(64, 1_000);
    entry::calldata_copy(&mut ctx, &mut host, 10, 1, 4).unwrap();
    assert_eq!(host.gas, 1_000 - gas::vmcall(4));
    let mut buf = [0u8; 4];
    host.read(10, &mut buf).unwrap();
    assert_eq!(&buf, b"ello");
}

#[test]
fn out_of_gas_leaves_no_gas_and_does_nothing() {
    let mut ctx = context();
    let mut host = VecHost::new(64, gas::vmcall(4) - 1);
    assert_eq!(
        entry::calldata_copy(&mut ctx, &mut host, 10, 1, 4),
        Err(VmCallError::OutOfGas)
    );
    assert_eq!(host.gas, 0);
    let mut buf = [1u8; 4];
    host.read(10, &mut buf).unwrap();
    assert_eq!(buf, [0; 4], "nothing was copied");
}

#[test]
fn a_bad_range_is_an_error_after_the_entry_gas() {
    let mut ctx = context();
    let mut host = VecHost::new(64, 1_000);
    assert_eq!(
        entry::log(&mut ctx, &mut host, 60, 8),
        Err(VmCallError::MemoryOutOfBounds { ptr: 60, len: 8 })
    );
    assert_eq!(host.gas, 1_000 - gas::vmcall(8));
    assert!(ctx.logs.is_empty());
}

#[test]
fn logs_stop_at_their_limits() {
    // What does the maximum buy? `max_logs` logs, each paid per byte; the
    // next one is refused.
    let mut ctx = context();
    ctx.limits.max_logs = 3;
    let mut host = VecHost::new(64, 1_000_000);
    for _ in 0..3 {
        entry::log(&mut ctx, &mut host, 0, 16).unwrap();
    }
    assert!(matches!(
        entry::log(&mut ctx, &mut host, 0, 16),
        Err(VmCallError::TooLarge { .. })
    ));
    assert_eq!(ctx.logs.len(), 3);
}

/// An invoker that records what it was asked and uses a fixed amount of
/// gas.
struct Recorder {
    asked: Mutex<Vec<CallRequest>>,
    uses: u64,
}

impl Invoke<Store> for Recorder {
    fn invoke(
        &self,
        _caller: &mut CallContext<Store>,
        request: CallRequest,
    ) -> Result<CallOutcome, VmCallError> {
        let gas_used = self.uses.min(request.gas_limit);
        self.asked.lock().unwrap().push(request);
        Ok(CallOutcome {
            error: (gas_used < self.uses).then_some(ErrorCode::OutOfGas),
            gas_used,
            return_data: b"back".to_vec(),
        })
    }
}

fn with_callee(ctx: &mut CallContext<Store>) {
    let mut reg = [0u8; 20];
    reg.copy_from_slice(&CALLEE.0);
    ctx.registers.write(160, 0, &reg).unwrap();
}

#[test]
fn svm_call_forwards_gas_and_refunds_what_is_left() {
    let mut ctx = context();
    with_callee(&mut ctx);
    let recorder = Arc::new(Recorder {
        asked: Mutex::new(Vec::new()),
        uses: 300,
    });
    ctx.invoker = Some(recorder.clone());
    let mut host = VecHost::new(64, 100_000);
    host.write(0, b"run").unwrap();
    host.write(8, b"data").unwrap();
    let status = entry::call(&mut ctx, &mut host, 160, 0, 0, 3, 8, 4, 1_000, 0).unwrap();
    assert_eq!(status, 0);
    let entry_gas = gas::inner_call(3 + 4);
    assert_eq!(host.gas, 100_000 - entry_gas - 300);
    let asked = recorder.asked.lock().unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].contract, CALLEE);
    assert_eq!(asked[0].function, "run");
    assert_eq!(asked[0].calldata, b"data");
    assert_eq!(asked[0].gas_limit, 1_000);
    assert_eq!(ctx.inner_return, b"back");
}

#[test]
fn svm_call_forwards_at_most_what_remains() {
    // -1 forwards everything: the callee gets the gas left after the
    // entry gas, and a callee that runs out reports OutOfGas (6).
    let mut ctx = context();
    with_callee(&mut ctx);
    let recorder = Arc::new(Recorder {
        asked: Mutex::new(Vec::new()),
        uses: u64::MAX,
    });
    ctx.invoker = Some(recorder.clone());
    let mut host = VecHost::new(64, 50_000);
    host.write(0, b"run").unwrap();
    let status = entry::call(&mut ctx, &mut host, 160, 0, 0, 3, 0, 0, -1, 0).unwrap();
    assert_eq!(status, i32::from(ErrorCode::OutOfGas.as_u8()));
    let left = 50_000 - gas::inner_call(3);
    assert_eq!(recorder.asked.lock().unwrap()[0].gas_limit, left);
    assert_eq!(host.gas, 0);
}

#[test]
fn svm_call_refuses_what_is_over_its_limits_before_reading_memory() {
    // What does the maximum buy? Call data of MAX_INNER_CALLDATA bytes is
    // paid per byte on entry; one byte more is refused after the entry gas
    // and before anything is read or invoked.
    let mut ctx = context();
    with_callee(&mut ctx);
    let recorder = Arc::new(Recorder {
        asked: Mutex::new(Vec::new()),
        uses: 0,
    });
    ctx.invoker = Some(recorder.clone());
    let too_long = MAX_INNER_CALLDATA as u32 + 1;
    let mut host = VecHost::new(64, 10_000_000);
    assert!(matches!(
        entry::call(&mut ctx, &mut host, 160, 0, 0, 3, 0, too_long, 0, 0),
        Err(VmCallError::TooLarge { .. })
    ));
    assert_eq!(
        host.gas,
        10_000_000 - gas::inner_call(3 + u64::from(too_long))
    );
    assert_eq!(
        entry::call(&mut ctx, &mut host, 160, 0, 0, 256, 0, 0, 0, 0),
        Err(VmCallError::BadFunctionName)
    );
    assert_eq!(
        entry::call(&mut ctx, &mut host, 160, 0, 0, 3, 0, 0, 0, -5),
        Err(VmCallError::NegativeAmount(-5))
    );
    assert!(recorder.asked.lock().unwrap().is_empty());
}

#[test]
fn svm_call_without_an_invoker_is_disabled() {
    let mut ctx = context();
    with_callee(&mut ctx);
    let mut host = VecHost::new(64, 100_000);
    host.write(0, b"run").unwrap();
    assert_eq!(
        entry::call(&mut ctx, &mut host, 160, 0, 0, 3, 0, 0, 0, 0),
        Err(VmCallError::Disabled("svm.call"))
    );
}
