//! `token`: an ERC-20-like token whose balances and allowances live in the
//! contract's own pages (two `svm-sdk` maps), written with `svm-sdk`.
//!
//! Storage:
//!
//! | where | what |
//! |---|---|
//! | page 0, bytes 0..8 | total supply (u64 BE) |
//! | page 0, bytes 8..28 | the minter: the sender of `init` |
//! | map, header page 1 | balances: address (20 bytes) → amount (u64 BE); a zero balance is no entry |
//! | map, header page 2 | allowances: owner ‖ spender (40 bytes) → amount (u64 BE) |
//!
//! Entry points (no parameters; arguments in the call data, integers
//! big-endian; answers as return data):
//!
//! | function | call data | effect | return data |
//! |---|---|---|---|
//! | `init` | supply (8) | once: the sender becomes the minter and gets `supply`. Until it runs anyone may call it: send it in the deploy's block | — |
//! | `mint` | n × (account (20) ‖ amount (8)) | minter only: credits each account | — |
//! | `transfer` | to (20) ‖ amount (8) | moves the sender's tokens; event `Transfer` | — |
//! | `approve` | spender (20) ‖ amount (8) | sets the sender's allowance for `spender`; event `Approval` | — |
//! | `transfer_from` | from (20) ‖ to (20) ‖ amount (8) | spends the sender's allowance from `from`; event `Transfer` | — |
//! | `balance_of` | account (20) | — | amount (8) |
//! | `allowance` | owner (20) ‖ spender (20) | — | amount (8) |
//! | `total_supply` | — | — | supply (8) |
//!
//! Events (`svm_sdk::event` layout: name length, name, fields):
//! `Transfer` from (20) ‖ to (20) ‖ amount (8); `Approval` owner (20) ‖
//! spender (20) ‖ amount (8); `init` logs a `Transfer` from the zero
//! address (`mint` logs nothing: one batch may credit more accounts than a
//! transaction may log). A failed check aborts the call with a message (a failed
//! receipt that changes nothing).
#![no_std]

use svm_sdk::calldata::return_u64;
use svm_sdk::{Address, CallData, Event, Map, StorageBytes, StorageU64, abort, ensure, env};

const TOTAL_SUPPLY: StorageU64 = StorageU64::at(0, 0);
const MINTER: StorageBytes<20> = StorageBytes::at(0, 8);
const BALANCES: Map<20, 8> = Map::at(1);
const ALLOWANCES: Map<40, 8> = Map::at(2);

fn allowance_key(owner: &Address, spender: &Address) -> [u8; 40] {
    let mut k = [0u8; 40];
    k[..20].copy_from_slice(&owner.0);
    k[20..].copy_from_slice(&spender.0);
    k
}

fn credit(to: &Address, amount: u64) {
    let b = BALANCES.get_u64(&to.0);
    // A panic: the SDK's handler puts its message in the failed receipt.
    let v = b.checked_add(amount).expect("balance overflow");
    BALANCES.set_u64(&to.0, v);
}

fn move_tokens(from: &Address, to: &Address, amount: u64) {
    let b = BALANCES.get_u64(&from.0);
    ensure(b >= amount, "insufficient balance");
    BALANCES.set_u64(&from.0, b - amount);
    credit(to, amount);
    Event::new("Transfer")
        .address(from)
        .address(to)
        .u64(amount)
        .emit();
}

#[unsafe(no_mangle)]
pub extern "C" fn init() {
    let supply = CallData::new().u64();
    ensure(MINTER.get() == [0; 20], "already initialised");
    let minter = env::sender();
    MINTER.set(&minter.0);
    mint_to(&minter, supply);
}

fn mint_to(to: &Address, amount: u64) {
    match TOTAL_SUPPLY.get().checked_add(amount) {
        Some(s) => TOTAL_SUPPLY.set(s),
        None => abort("total supply overflow"),
    }
    credit(to, amount);
    Event::new("Transfer")
        .address(&Address::default())
        .address(to)
        .u64(amount)
        .emit();
}

#[unsafe(no_mangle)]
pub extern "C" fn mint() {
    ensure(env::sender().0 == MINTER.get(), "only the minter mints");
    let mut args = CallData::new();
    ensure(args.len() % 28 == 0, "mint takes (account, amount) pairs");
    let mut total: u64 = 0;
    while args.remaining() > 0 {
        let to = args.address();
        let amount = args.u64();
        credit(&to, amount);
        total = match total.checked_add(amount) {
            Some(t) => t,
            None => abort("total supply overflow"),
        };
    }
    match TOTAL_SUPPLY.get().checked_add(total) {
        Some(s) => TOTAL_SUPPLY.set(s),
        None => abort("total supply overflow"),
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn transfer() {
    let mut args = CallData::new();
    let to = args.address();
    let amount = args.u64();
    move_tokens(&env::sender(), &to, amount);
}

#[unsafe(no_mangle)]
pub extern "C" fn approve() {
    let mut args = CallData::new();
    let spender = args.address();
    let amount = args.u64();
    let owner = env::sender();
    ALLOWANCES.set_u64(&allowance_key(&owner, &spender), amount);
    Event::new("Approval")
        .address(&owner)
        .address(&spender)
        .u64(amount)
        .emit();
}

#[unsafe(no_mangle)]
pub extern "C" fn transfer_from() {
    let mut args = CallData::new();
    let from = args.address();
    let to = args.address();
    let amount = args.u64();
    let key = allowance_key(&from, &env::sender());
    let allowed = ALLOWANCES.get_u64(&key);
    ensure(allowed >= amount, "allowance exceeded");
    ALLOWANCES.set_u64(&key, allowed - amount);
    move_tokens(&from, &to, amount);
}

#[unsafe(no_mangle)]
pub extern "C" fn balance_of() {
    let who = CallData::new().address();
    return_u64(BALANCES.get_u64(&who.0));
}

#[unsafe(no_mangle)]
pub extern "C" fn allowance() {
    let mut args = CallData::new();
    let owner = args.address();
    let spender = args.address();
    return_u64(ALLOWANCES.get_u64(&allowance_key(&owner, &spender)));
}

#[unsafe(no_mangle)]
pub extern "C" fn total_supply() {
    return_u64(TOTAL_SUPPLY.get());
}
