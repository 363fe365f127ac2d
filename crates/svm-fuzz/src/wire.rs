//! `wire_decode`: the decoders of the deploy transaction, the call
//! transaction, the block transaction and the receipt.

use arbitrary::{Result, Unstructured};
use svm_runtime::{CallTx, DeployTx, ErrorCode, Receipt, StateRef, TxError, WasmValue};
use svm_types::{Address, State};

use crate::common::{encode_call, encode_deploy, encode_receipt};

/// Checks one decoder on `data`: a successful decode re-encodes to a
/// value that decodes to itself, and, when the re-encoding uses the same
/// wire version, to exactly `data` (every field is fixed-size or
/// length-prefixed, so the encoding of a decoded value is canonical).
fn check<T: PartialEq + std::fmt::Debug, E: std::fmt::Debug>(
    what: &str,
    data: &[u8],
    decode: impl Fn(&[u8]) -> std::result::Result<T, E>,
    encode: impl Fn(&T) -> Vec<u8>,
    canonical: bool,
) {
    let Ok(value) = decode(data) else {
        return;
    };
    let bytes = encode(&value);
    let again = decode(&bytes)
        .unwrap_or_else(|e| panic!("{what}: the encoding of a decoded value fails: {e:?}"));
    assert_eq!(again, value, "{what}: decode(encode(x)) != x");
    if canonical && bytes.first() == data.first() {
        assert_eq!(bytes, data, "{what}: decoded bytes re-encode differently");
    }
}

fn value(u: &mut Unstructured) -> Result<WasmValue> {
    Ok(if u.arbitrary()? {
        WasmValue::I32(u.arbitrary()?)
    } else {
        WasmValue::I64(u.arbitrary()?)
    })
}

fn values(u: &mut Unstructured) -> Result<Vec<WasmValue>> {
    let n = u.int_in_range(0..=svm_runtime::wire::MAX_VALUES)?;
    (0..n).map(|_| value(u)).collect()
}

fn address(u: &mut Unstructured) -> Result<Address> {
    Ok(Address(u.arbitrary()?))
}

fn state(u: &mut Unstructured) -> Result<State> {
    Ok(State(u.arbitrary()?))
}

fn bytes(u: &mut Unstructured) -> Result<Vec<u8>> {
    let n = u.arbitrary_len::<u8>()?;
    Ok(u.bytes(n)?.to_vec())
}

/// Structured values from `u`: each must survive encode then decode.
fn round_trips(u: &mut Unstructured) -> Result<()> {
    let deploy = DeployTx {
        author: address(u)?,
        nonce: u.arbitrary()?,
        name: u.arbitrary()?,
        gas_limit: u.arbitrary()?,
        code: bytes(u)?,
    };
    assert_eq!(
        DeployTx::decode(&encode_deploy(&deploy)),
        Ok(deploy),
        "deploy round trip"
    );
    let call = CallTx {
        contract: address(u)?,
        sender: address(u)?,
        function: u.arbitrary()?,
        args: values(u)?,
        calldata: bytes(u)?,
        // The call value is not on the wire yet: any value it carries must
        // come back, a 0 always does.
        value: 0,
        gas_limit: u.arbitrary()?,
        state: if u.arbitrary()? {
            StateRef::At(state(u)?)
        } else {
            StateRef::Latest
        },
    };
    assert_eq!(
        CallTx::decode(&encode_call(&call)),
        Ok(call),
        "call round trip"
    );
    let error = if u.arbitrary()? {
        Some(TxError {
            code: *u.choose(&ErrorCode::ALL)?,
            message: u.arbitrary()?,
        })
    } else {
        None
    };
    let mut logs = Vec::new();
    for _ in 0..u.int_in_range(0..=8)? {
        logs.push(bytes(u)?);
    }
    let receipt = Receipt {
        success: error.is_none(),
        error,
        new_state: state(u)?,
        returns: values(u)?,
        return_data: bytes(u)?,
        logs,
        pages_read: u.arbitrary()?,
        pages_written: u.arbitrary()?,
        gas_limit: u.arbitrary()?,
        gas_used: u.arbitrary()?,
        calls: inner_calls(u)?,
    };
    assert_eq!(
        Receipt::decode(&encode_receipt(&receipt)),
        Ok(receipt),
        "receipt round trip"
    );
    Ok(())
}

/// Decodes `data` as a deploy, a call, a block transaction and a receipt
/// (see `check`; a
/// receipt's error message is dropped with error code 0, so only its
/// round trip is checked), then reads structured values from the same
/// bytes and checks that each round-trips through its encoding.
pub fn wire_decode(data: &[u8]) {
    check("deploy", data, DeployTx::decode, encode_deploy, true);
    check("call", data, CallTx::decode, encode_call, true);
    check("receipt", data, Receipt::decode, encode_receipt, false);
    check(
        "block transaction",
        data,
        svm_runtime::Tx::decode,
        |t| t.encode().expect("a decoded transaction encodes"),
        true,
    );
    let _ = round_trips(&mut Unstructured::new(data));
}

fn inner_calls(u: &mut Unstructured<'_>) -> arbitrary::Result<Vec<svm_runtime::InnerCall>> {
    let mut calls = Vec::new();
    for _ in 0..u.int_in_range(0..=4)? {
        let name: String = u.arbitrary()?;
        calls.push(svm_runtime::InnerCall {
            depth: u.arbitrary()?,
            contract: svm_types::Address(u.arbitrary()?),
            function: name.chars().take(64).collect(),
            error: if u.arbitrary()? {
                Some(*u.choose(&ErrorCode::ALL)?)
            } else {
                None
            },
            gas_used: u.arbitrary()?,
        });
    }
    Ok(calls)
}
