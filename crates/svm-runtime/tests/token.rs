//! The `svm-sdk` contracts end to end, through `svm_runtime::testing`:
//! `contracts/token` (balances and allowances in maps over its pages),
//! `contracts/escrow` (calls the token with `svm.call`), and
//! `contracts/c-registry` (C over `svm_contract.h`). Success, a failing
//! callee rolled back while its caller goes on, re-entrancy refused, the
//! depth limit, out of gas inside the callee, a panic's message in the
//! receipt, and the same receipts and roots on every backend.

use std::sync::Arc;

use svm_kv::{KvStore, LevelKv, MemKv, RocksKv};
use svm_runtime::testing::{TestVm, account};
use svm_runtime::{ErrorCode, Receipt, RuntimeConfig};
use svm_types::Address;

const TOKEN: &[u8] = include_bytes!("../../../contracts/token/token.wasm");
const ESCROW: &[u8] = include_bytes!("../../../contracts/escrow/escrow.wasm");
const REGISTRY: &[u8] = include_bytes!("../../../contracts/c-registry/registry.wasm");

fn ok(r: &Receipt) -> &Receipt {
    assert!(r.success, "call failed: {:?}", r.error);
    r
}

fn aborted(r: &Receipt, message: &str) {
    assert!(!r.success, "call succeeded");
    let e = r.error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::Trap, "{e}");
    assert!(
        e.message.contains(message),
        "{:?} lacks {message:?}",
        e.message
    );
}

fn be(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn event(name: &str, fields: &[&[u8]]) -> Vec<u8> {
    let mut e = vec![name.len() as u8];
    e.extend_from_slice(name.as_bytes());
    for f in fields {
        e.extend_from_slice(f);
    }
    e
}

struct Token<'a, K: KvStore + Clone + 'static> {
    vm: &'a TestVm<K>,
    at: Address,
}

impl<K: KvStore + Clone + 'static> Token<'_, K> {
    fn balance(&self, who: Address) -> u64 {
        let r = self.vm.call(self.at, "balance_of").calldata(who.0).send();
        u64::from_be_bytes(ok(&r).return_data[..].try_into().unwrap())
    }

    fn transfer(&self, from: Address, to: Address, amount: u64) -> Receipt {
        self.vm
            .call(self.at, "transfer")
            .sender(from)
            .calldata(cat(&[&to.0, &be(amount)]))
            .send()
    }

    fn approve(&self, owner: Address, spender: Address, amount: u64) -> Receipt {
        self.vm
            .call(self.at, "approve")
            .sender(owner)
            .calldata(cat(&[&spender.0, &be(amount)]))
            .send()
    }
}

/// A token with `supply` minted to alice.
fn token<K: KvStore + Clone + 'static>(vm: &mut TestVm<K>, supply: u64) -> Address {
    let at = vm.deploy(TOKEN).expect("token deploys");
    ok(&vm
        .call(at, "init")
        .sender(account("alice"))
        .calldata(be(supply))
        .send());
    at
}

fn escrow<K: KvStore + Clone + 'static>(vm: &mut TestVm<K>, token: Address) -> Address {
    let at = vm.deploy(ESCROW).expect("escrow deploys");
    ok(&vm.call(at, "init").calldata(token.0).send());
    at
}

fn deposit<K: KvStore + Clone + 'static>(
    vm: &TestVm<K>,
    escrow: Address,
    id: u64,
    amount: u64,
    token_gas: Option<u64>,
) -> Receipt {
    let mut data = cat(&[&be(id), &account("bob").0, &be(amount)]);
    if let Some(g) = token_gas {
        data.extend_from_slice(&be(g));
    }
    vm.call(escrow, "deposit")
        .sender(account("alice"))
        .calldata(data)
        .send()
}

#[test]
fn token_transfers_approves_and_reports_in_events() {
    let mut vm = TestVm::new();
    let at = token(&mut vm, 1_000);
    let t = Token { vm: &vm, at };
    let (alice, bob, carol) = (account("alice"), account("bob"), account("carol"));
    assert_eq!(t.balance(alice), 1_000);

    let r = t.transfer(alice, bob, 300);
    ok(&r);
    assert_eq!(
        r.logs,
        vec![event("Transfer", &[&alice.0, &bob.0, &be(300)])]
    );
    assert_eq!((t.balance(alice), t.balance(bob)), (700, 300));

    // Too much: aborted with its message, nothing changed.
    let before = vm.runtime().contract(&at).unwrap().unwrap().state;
    aborted(
        &t.transfer(bob, carol, 301),
        "contract aborted: insufficient balance",
    );
    assert_eq!(vm.runtime().contract(&at).unwrap().unwrap().state, before);
    assert_eq!((t.balance(bob), t.balance(carol)), (300, 0));

    // Allowances.
    let r = t.approve(alice, carol, 50);
    assert_eq!(
        ok(&r).logs,
        vec![event("Approval", &[&alice.0, &carol.0, &be(50)])]
    );
    let allowance = |owner: Address, spender: Address| {
        let r = vm
            .call(at, "allowance")
            .calldata(cat(&[&owner.0, &spender.0]))
            .send();
        u64::from_be_bytes(ok(&r).return_data[..].try_into().unwrap())
    };
    assert_eq!(allowance(alice, carol), 50);
    let spend = |amount: u64| {
        vm.call(at, "transfer_from")
            .sender(carol)
            .calldata(cat(&[&alice.0, &bob.0, &be(amount)]))
            .send()
    };
    aborted(&spend(51), "allowance exceeded");
    ok(&spend(20));
    assert_eq!(allowance(alice, carol), 30);
    assert_eq!((t.balance(alice), t.balance(bob)), (680, 320));
    let r = vm.call(at, "total_supply").send();
    assert_eq!(ok(&r).return_data, be(1_000));

    // Only the minter mints; init runs once.
    let mint = cat(&[&carol.0, &be(5)]);
    aborted(
        &vm.call(at, "mint")
            .sender(bob)
            .calldata(mint.clone())
            .send(),
        "only the minter mints",
    );
    ok(&vm.call(at, "mint").sender(alice).calldata(mint).send());
    assert_eq!(t.balance(carol), 5);
    aborted(
        &vm.call(at, "init").sender(bob).calldata(be(1)).send(),
        "already initialised",
    );
    // Short call data.
    aborted(
        &vm.call(at, "transfer")
            .sender(alice)
            .calldata(vec![1, 2])
            .send(),
        "call data too short",
    );
}

#[test]
fn a_panic_reaches_the_receipt_with_its_message() {
    let mut vm = TestVm::new();
    let at = token(&mut vm, 10);
    // Minting u64::MAX onto alice's 10 overflows: `expect` panics, and the
    // SDK's panic handler aborts with the message and its location.
    let r = vm
        .call(at, "mint")
        .sender(account("alice"))
        .calldata(cat(&[&account("alice").0, &be(u64::MAX)]))
        .send();
    aborted(&r, "contract aborted: panicked at src/lib.rs:");
    aborted(&r, "balance overflow");
    assert_eq!(Token { vm: &vm, at }.balance(account("alice")), 10);
}

#[test]
fn escrow_calls_the_token_and_both_commit_together() {
    let mut vm = TestVm::new();
    let tok = token(&mut vm, 1_000);
    let esc = escrow(&mut vm, tok);
    let t = Token { vm: &vm, at: tok };
    let (alice, bob) = (account("alice"), account("bob"));
    ok(&t.approve(alice, esc, 400));

    let r = deposit(&vm, esc, 7, 400, None);
    ok(&r);
    assert_eq!(r.return_data, [0]);
    assert_eq!(r.calls.len(), 1);
    let c = &r.calls[0];
    assert_eq!(
        (c.depth, c.contract, c.function.as_str(), c.error),
        (1, tok, "transfer_from", None)
    );
    assert!(c.gas_used > 0 && c.gas_used < r.gas_used);
    // The logs of both frames, in the order they were made.
    assert_eq!(
        r.logs,
        vec![
            event("Transfer", &[&alice.0, &esc.0, &be(400)]),
            event("Deposited", &[&be(7), &alice.0, &bob.0, &be(400)]),
        ]
    );
    assert_eq!((t.balance(alice), t.balance(esc)), (600, 400));

    // Deal ids are per buyer: bob's id 7 is another deal (none), and his
    // deposit with id 7 does not collide with alice's.
    aborted(
        &vm.call(esc, "release").sender(bob).calldata(be(7)).send(),
        "no such deal",
    );
    let r = vm
        .call(esc, "deposit")
        .sender(bob)
        .calldata(cat(&[&be(7), &bob.0, &be(1)]))
        .send();
    assert_eq!(
        ok(&r).return_data,
        [ErrorCode::Trap as u8],
        "no allowance, not a taken id"
    );
    // Only the seller refunds.
    ok(&t.approve(alice, esc, 50));
    assert_eq!(ok(&deposit(&vm, esc, 8, 50, None)).return_data, [0]);
    let refund = cat(&[&alice.0, &be(8)]);
    aborted(
        &vm.call(esc, "refund")
            .sender(alice)
            .calldata(refund.clone())
            .send(),
        "only the seller refunds",
    );
    ok(&vm.call(esc, "refund").sender(bob).calldata(refund).send());
    assert_eq!((t.balance(alice), t.balance(esc)), (600, 400));
    let r = vm.call(esc, "token_address").send();
    assert_eq!(ok(&r).return_data, tok.0);
    // The buyer releases; the seller is paid.
    let r = vm.call(esc, "release").sender(alice).calldata(be(7)).send();
    ok(&r);
    assert_eq!(r.calls[0].function, "transfer");
    assert_eq!((t.balance(esc), t.balance(bob)), (0, 400));
    aborted(
        &vm.call(esc, "release").sender(alice).calldata(be(7)).send(),
        "deal not open",
    );
}

#[test]
fn a_failing_token_call_is_rolled_back_while_the_escrow_goes_on() {
    let mut vm = TestVm::new();
    let tok = token(&mut vm, 1_000);
    let esc = escrow(&mut vm, tok);
    let t = Token { vm: &vm, at: tok };
    let token_root = vm.runtime().contract(&tok).unwrap().unwrap().state;
    // No allowance: the token aborts, its writes are undone, the escrow
    // logs the failure and succeeds.
    let r = deposit(&vm, esc, 1, 10, None);
    ok(&r);
    assert_eq!(r.return_data, [ErrorCode::Trap as u8]);
    assert_eq!(r.calls[0].error, Some(ErrorCode::Trap));
    assert_eq!(r.logs, vec![event("DepositFailed", &[&be(1), &[4]])]);
    assert_eq!(
        vm.runtime().contract(&tok).unwrap().unwrap().state,
        token_root
    );
    assert_eq!(t.balance(account("alice")), 1_000);
    let r = vm
        .call(esc, "deal")
        .calldata(cat(&[&account("alice").0, &be(1)]))
        .send();
    assert!(ok(&r).return_data.is_empty(), "no deal was opened");
}

#[test]
fn out_of_gas_inside_the_token_costs_the_escrow_only_what_it_forwarded() {
    let mut vm = TestVm::new();
    let tok = token(&mut vm, 1_000);
    let esc = escrow(&mut vm, tok);
    ok(&Token { vm: &vm, at: tok }.approve(account("alice"), esc, 10));
    let r = deposit(&vm, esc, 1, 10, Some(3_000));
    ok(&r);
    assert_eq!(r.return_data, [ErrorCode::OutOfGas as u8]);
    assert_eq!(r.calls[0].error, Some(ErrorCode::OutOfGas));
    assert_eq!(r.calls[0].gas_used, 3_000);
    // With enough gas the same deposit goes through.
    let r = deposit(&vm, esc, 1, 10, Some(10_000_000));
    assert_eq!(ok(&r).return_data, [0]);
}

#[test]
fn re_entering_a_contract_on_the_stack_is_refused() {
    let mut vm = TestVm::new();
    // An escrow whose "token" is itself: its deposit calls itself.
    let esc = vm.deploy(ESCROW).unwrap();
    ok(&vm.call(esc, "init").calldata(esc.0).send());
    let r = deposit(&vm, esc, 1, 10, None);
    ok(&r);
    assert_eq!(r.return_data, [ErrorCode::Reentrancy as u8]);
    assert_eq!(r.calls[0].error, Some(ErrorCode::Reentrancy));
    assert_eq!(r.calls[0].gas_used, 0);
    // Allowed by configuration, the call goes in and finds no such
    // function.
    let mut vm = TestVm::with_config(RuntimeConfig {
        allow_reentrancy: true,
        ..RuntimeConfig::default()
    });
    let esc = vm.deploy(ESCROW).unwrap();
    ok(&vm.call(esc, "init").calldata(esc.0).send());
    let r = deposit(&vm, esc, 1, 10, None);
    assert_eq!(ok(&r).return_data, [ErrorCode::FunctionNotFound as u8]);
}

#[test]
fn the_depth_limit_refuses_the_call_and_the_caller_goes_on() {
    // One frame allowed: the transaction's own. The escrow's call into the
    // token is the second.
    let mut vm = TestVm::with_config(RuntimeConfig {
        max_call_depth: 1,
        ..RuntimeConfig::default()
    });
    let tok = token(&mut vm, 1_000);
    let esc = escrow(&mut vm, tok);
    ok(&Token { vm: &vm, at: tok }.approve(account("alice"), esc, 10));
    let r = deposit(&vm, esc, 1, 10, None);
    ok(&r);
    assert_eq!(r.return_data, [ErrorCode::CallDepth as u8]);
    assert_eq!(r.calls[0].error, Some(ErrorCode::CallDepth));
}

/// The escrow scenario on one backend: every receipt's consensus hash and
/// the final roots of both contracts.
fn scenario<K: KvStore + Clone + 'static>(kv: K) -> (Vec<[u8; 32]>, Vec<String>) {
    let mut vm = TestVm::on(kv, RuntimeConfig::default());
    let tok = token(&mut vm, 1_000_000);
    let esc = escrow(&mut vm, tok);
    let t = Token { vm: &vm, at: tok };
    let mut receipts = vec![ok(&t.approve(account("alice"), esc, 1_000)).clone()];
    for i in 0..50u64 {
        receipts.push(t.transfer(account("alice"), account(&format!("u{i}")), 100 + i));
        receipts.push(deposit(
            &vm,
            esc,
            i,
            10 + i,
            if i % 7 == 0 { Some(3_000) } else { None },
        ));
    }
    receipts.push(
        vm.call(esc, "release")
            .sender(account("alice"))
            .calldata(be(1))
            .send(),
    );
    let hashes = receipts
        .iter()
        .map(|r| r.consensus_hash().unwrap())
        .collect();
    let roots = [tok, esc]
        .iter()
        .map(|a| vm.runtime().contract(a).unwrap().unwrap().state.to_string())
        .collect();
    (hashes, roots)
}

#[test]
fn the_same_receipts_and_roots_on_every_backend() {
    let dir = tempfile::tempdir().unwrap();
    let mem = scenario(Arc::new(MemKv::new()));
    let rocks = scenario(Arc::new(RocksKv::open(dir.path().join("rocks")).unwrap()));
    let level = scenario(Arc::new(LevelKv::open(dir.path().join("level")).unwrap()));
    assert_eq!(mem, rocks);
    assert_eq!(mem, level);
}

#[test]
fn the_c_contract_over_the_header_keeps_a_map_and_calls_another() {
    let mut vm = TestVm::new();
    let a = vm.deploy(REGISTRY).expect("the C registry deploys");
    let b = vm.deploy(REGISTRY).expect("a second registry deploys");
    let key = account("key");
    let r = vm.call(a, "set").calldata(cat(&[&key.0, &be(42)])).send();
    assert_eq!(ok(&r).logs, vec![event("Set", &[&key.0, &be(42)])]);
    let r = vm.call(a, "get").calldata(key.0).send();
    assert_eq!(ok(&r).return_data, be(42));
    let r = vm.call(a, "count").send();
    assert_eq!(ok(&r).return_data, be(1));
    // b relays a get to a.
    let r = vm.call(b, "relay").calldata(cat(&[&a.0, &key.0])).send();
    assert_eq!(ok(&r).return_data, be(42));
    assert_eq!(r.calls[0].contract, a);
    // Relaying to no contract aborts with the header's message.
    let r = vm
        .call(b, "relay")
        .calldata(cat(&[&[9; 20], &key.0]))
        .send();
    aborted(&r, "relay failed");
}
