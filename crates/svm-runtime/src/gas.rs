//! The gas schedule ([`svm_host::gas`], re-exported here) and the price of
//! each wasm operator under it ([`operator_cost`], [`dynamic_price`]), which the
//! runtime's metering middlewares compile into the code. See `docs/gas.md`.

pub use crate::engine::metering::{dynamic_price, operator_cost};
pub use svm_host::gas::*;
