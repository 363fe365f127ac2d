//! `escrow`: holds a buyer's `token`s for a seller until the buyer releases
//! them or the seller refunds them; it calls the token contract with
//! `svm.call` (through `svm-sdk`).
//!
//! Storage: page 0 bytes 0..20 the token's address (set once by `init`);
//! a map at header page 1 of deals: buyer (20) ‖ id (8) → buyer (20) ‖
//! seller (20) ‖ amount (8, BE) ‖ state (1: 1 open, 2 released, 3
//! refunded). Ids are per buyer, so nobody can take another buyer's id.
//!
//! | function | call data | what |
//! |---|---|---|
//! | `init` | token (20) | once: the token this escrow holds. Until it runs anyone may set it: send it in the deploy's block |
//! | `token_address` | — | return data: the token's address (20) |
//! | `deposit` | id (8) ‖ seller (20) ‖ amount (8) [‖ token gas (8)] | calls `token.transfer_from(sender, escrow, amount)` forwarding at most `token gas` (default: all). On success opens the deal (event `Deposited` id ‖ buyer ‖ seller ‖ amount, return data `[0]`); when the token call fails its effects are rolled back and the escrow **goes on**: event `DepositFailed` id ‖ code (1 byte), return data `[code]`, no deal |
//! | `release` | id (8) | the buyer (the sender) pays the seller: `token.transfer(seller, amount)`; event `Released` id ‖ buyer |
//! | `refund` | buyer (20) ‖ id (8) | the seller gives the tokens back: `token.transfer(buyer, amount)`; event `Refunded` id ‖ buyer |
//! | `deal` | buyer (20) ‖ id (8) | return data: the deal's 49 bytes (empty when unknown) |
//!
//! `release` and `refund` abort when the token call fails, so nothing of
//! the transaction stays.
#![no_std]

use svm_sdk::call::{self, Gas};
use svm_sdk::calldata::set_return_data;
use svm_sdk::{Address, CallData, Event, Map, StorageBytes, abort, ensure, env};

const TOKEN: StorageBytes<20> = StorageBytes::at(0, 0);
const DEALS: Map<28, 49> = Map::at(1);

const OPEN: u8 = 1;
const RELEASED: u8 = 2;
const REFUNDED: u8 = 3;

struct Deal {
    buyer: Address,
    seller: Address,
    amount: u64,
    state: u8,
}

/// The deals map's key: buyer ‖ id.
fn deal_key(buyer: &Address, id: &[u8; 8]) -> [u8; 28] {
    let mut k = [0u8; 28];
    k[..20].copy_from_slice(&buyer.0);
    k[20..].copy_from_slice(id);
    k
}

impl Deal {
    fn load(id: &[u8; 28]) -> Deal {
        let Some(b) = DEALS.get(id) else {
            abort("no such deal");
        };
        let mut buyer = [0u8; 20];
        let mut seller = [0u8; 20];
        let mut amount = [0u8; 8];
        buyer.copy_from_slice(&b[..20]);
        seller.copy_from_slice(&b[20..40]);
        amount.copy_from_slice(&b[40..48]);
        Deal {
            buyer: Address(buyer),
            seller: Address(seller),
            amount: u64::from_be_bytes(amount),
            state: b[48],
        }
    }

    fn store(&self, id: &[u8; 28]) {
        let mut b = [0u8; 49];
        b[..20].copy_from_slice(&self.buyer.0);
        b[20..40].copy_from_slice(&self.seller.0);
        b[40..48].copy_from_slice(&self.amount.to_be_bytes());
        b[48] = self.state;
        DEALS.insert(id, &b);
    }
}

fn token() -> Address {
    let t = TOKEN.get();
    ensure(t != [0; 20], "not initialised");
    Address(t)
}

/// `token.transfer(to, amount)`, aborting when it fails.
fn pay(to: &Address, amount: u64) {
    let mut data = [0u8; 28];
    data[..20].copy_from_slice(&to.0);
    data[20..].copy_from_slice(&amount.to_be_bytes());
    if call::call(&token(), "transfer", &data, Gas::All, 0).is_err() {
        abort("the token transfer failed");
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn init() {
    let t = CallData::new().address();
    ensure(TOKEN.get() == [0; 20], "already initialised");
    ensure(t.0 != [0; 20], "the zero address is no token");
    TOKEN.set(&t.0);
}

#[unsafe(no_mangle)]
pub extern "C" fn token_address() {
    set_return_data(&token().0);
}

#[unsafe(no_mangle)]
pub extern "C" fn deposit() {
    let mut args = CallData::new();
    let id: [u8; 8] = args.bytes();
    let seller = args.address();
    let amount = args.u64();
    let gas = if args.remaining() >= 8 {
        Gas::Limit(args.u64())
    } else {
        Gas::All
    };
    let buyer = env::sender();
    let key = deal_key(&buyer, &id);
    ensure(DEALS.get(&key).is_none(), "deal id taken");
    let mut data = [0u8; 48];
    data[..20].copy_from_slice(&buyer.0);
    data[20..40].copy_from_slice(&env::this().0);
    data[40..].copy_from_slice(&amount.to_be_bytes());
    match call::call(&token(), "transfer_from", &data, gas, 0) {
        Ok(()) => {
            // Checked again: a token that re-entered (when the runtime
            // allows it) may have opened the same deal meanwhile.
            ensure(DEALS.get(&key).is_none(), "deal id taken");
            Deal {
                buyer,
                seller,
                amount,
                state: OPEN,
            }
            .store(&key);
            Event::new("Deposited")
                .bytes(&id)
                .address(&buyer)
                .address(&seller)
                .u64(amount)
                .emit();
            set_return_data(&[0]);
        }
        Err(e) => {
            let code = [e.0 as u8];
            Event::new("DepositFailed").bytes(&id).bytes(&code).emit();
            set_return_data(&code);
        }
    }
}

#[unsafe(no_mangle)]
pub extern "C" fn release() {
    let id: [u8; 8] = CallData::new().bytes();
    let buyer = env::sender();
    let key = deal_key(&buyer, &id);
    let mut d = Deal::load(&key);
    ensure(d.state == OPEN, "deal not open");
    d.state = RELEASED;
    d.store(&key);
    pay(&d.seller, d.amount);
    Event::new("Released").bytes(&id).address(&buyer).emit();
}

#[unsafe(no_mangle)]
pub extern "C" fn refund() {
    let mut args = CallData::new();
    let buyer = args.address();
    let id: [u8; 8] = args.bytes();
    let key = deal_key(&buyer, &id);
    let mut d = Deal::load(&key);
    ensure(d.state == OPEN, "deal not open");
    ensure(env::sender() == d.seller, "only the seller refunds");
    d.state = REFUNDED;
    d.store(&key);
    pay(&d.buyer, d.amount);
    Event::new("Refunded").bytes(&id).address(&buyer).emit();
}

#[unsafe(no_mangle)]
pub extern "C" fn deal() {
    let key: [u8; 28] = CallData::new().bytes();
    match DEALS.get(&key) {
        Some(b) => set_return_data(&b),
        None => set_return_data(&[]),
    }
}
