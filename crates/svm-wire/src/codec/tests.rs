//! Tests of the encodings: golden vectors that pin the byte tables, property
//! tests of round trips, limits, truncation and garbage, and the consensus
//! encoding's (in)dependence on each field.

use proptest::prelude::*;
use svm_types::{Address, State};

use super::writer::{bytes_len, log_count, string_len, value_count};
use crate::*;

fn value() -> impl Strategy<Value = WasmValue> {
    prop_oneof![
        any::<i32>().prop_map(WasmValue::I32),
        any::<i64>().prop_map(WasmValue::I64)
    ]
}

fn deploy() -> impl Strategy<Value = DeployTx> {
    (
        any::<[u8; 20]>(),
        any::<u64>(),
        ".{0,20}",
        any::<u64>(),
        prop::collection::vec(any::<u8>(), 0..100),
    )
        .prop_map(|(author, nonce, name, gas_limit, code)| DeployTx {
            author: Address(author),
            nonce,
            name,
            gas_limit,
            code,
        })
}

fn call() -> impl Strategy<Value = CallTx> {
    (
        any::<[u8; 20]>(),
        any::<[u8; 20]>(),
        ".{0,20}",
        prop::collection::vec(value(), 0..=MAX_VALUES),
        prop::collection::vec(any::<u8>(), 0..64),
        any::<u64>(),
        any::<u64>(),
        prop::option::of(any::<[u8; 32]>()),
    )
        .prop_map(|(c, s, f, args, calldata, value, gas, st)| CallTx {
            contract: Address(c),
            sender: Address(s),
            function: f,
            args,
            calldata,
            value,
            gas_limit: gas,
            state: st.map_or(StateRef::Latest, |s| StateRef::At(State(s))),
        })
}

fn tx_error() -> impl Strategy<Value = TxError> {
    (prop::sample::select(ErrorCode::ALL.to_vec()), ".{0,30}")
        .prop_map(|(code, message)| TxError { code, message })
}

fn inner_call() -> impl Strategy<Value = InnerCall> {
    (
        any::<u32>(),
        any::<[u8; 20]>(),
        "[a-z_]{0,12}",
        prop::option::of(prop::sample::select(ErrorCode::ALL.to_vec())),
        any::<u64>(),
    )
        .prop_map(|(depth, a, function, error, gas_used)| InnerCall {
            depth,
            contract: Address(a),
            function,
            error,
            gas_used,
        })
}

/// Consistent receipts: `success` exactly when there is no error.
fn receipt() -> impl Strategy<Value = Receipt> {
    (
        prop::collection::vec(inner_call(), 0..3),
        prop::option::of(tx_error()),
        any::<[u8; 32]>(),
        prop::collection::vec(value(), 0..=MAX_VALUES),
        prop::collection::vec(any::<u8>(), 0..32),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..16), 0..4),
        any::<(u32, u32, u64, u64)>(),
    )
        .prop_map(
            |(calls, error, st, returns, data, logs, (pr, pw, gl, gu))| Receipt {
                success: error.is_none(),
                error,
                new_state: State(st),
                returns,
                return_data: data,
                logs,
                pages_read: pr,
                pages_written: pw,
                gas_limit: gl,
                gas_used: gu,
                calls,
            },
        )
}

/// The three messages' encodings, for the tests that hold for all of them.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Deploy,
    Call,
    Receipt,
}

/// Decodes `bytes` as `kind` and encodes the result again.
fn redecode(kind: Kind, bytes: &[u8]) -> Result<Vec<u8>, DecodeError> {
    Ok(match kind {
        Kind::Deploy => DeployTx::decode(bytes)?.encode().unwrap(),
        Kind::Call => CallTx::decode(bytes)?.encode().unwrap(),
        Kind::Receipt => Receipt::decode(bytes)?.encode().unwrap(),
    })
}

/// Any message's encoding, with its kind.
fn encoding() -> impl Strategy<Value = (Kind, Vec<u8>)> {
    prop_oneof![
        deploy().prop_map(|t| (Kind::Deploy, t.encode().unwrap())),
        call().prop_map(|t| (Kind::Call, t.encode().unwrap())),
        receipt().prop_map(|r| (Kind::Receipt, r.encode().unwrap())),
    ]
}

fn golden_call() -> CallTx {
    CallTx {
        contract: Address([0xaa; 20]),
        sender: Address([0xbb; 20]),
        function: "f".into(),
        args: vec![WasmValue::I32(1), WasmValue::I64(-2)],
        calldata: vec![0xc0, 0xde],
        value: 7,
        gas_limit: 1000,
        state: StateRef::At(State([0x33; 32])),
    }
}

fn golden_success() -> Receipt {
    Receipt {
        success: true,
        error: None,
        new_state: State([0x11; 32]),
        returns: vec![WasmValue::I32(-1), WasmValue::I64(42)],
        return_data: b"ok".to_vec(),
        logs: vec![b"a".to_vec(), Vec::new()],
        pages_read: 3,
        pages_written: 1,
        gas_limit: 1_000_000,
        gas_used: 21_000,
        calls: vec![InnerCall {
            depth: 1,
            contract: Address([0xcc; 20]),
            function: "g".into(),
            error: None,
            gas_used: 500,
        }],
    }
}

fn golden_failure() -> Receipt {
    Receipt {
        success: false,
        error: Some(TxError {
            code: ErrorCode::Trap,
            message: "boom".into(),
        }),
        new_state: State([0x22; 32]),
        returns: vec![],
        return_data: vec![],
        logs: vec![],
        pages_read: 5,
        pages_written: 0,
        gas_limit: 100,
        gas_used: 60,
        calls: vec![],
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

// ---- golden vectors: the byte tables of the module docs ----

#[test]
fn deploy_encoding_follows_the_table() {
    let tx = DeployTx {
        author: Address([0x01; 20]),
        nonce: 2,
        name: "n".into(),
        gas_limit: 3,
        code: vec![0, 0x61, 0x73, 0x6d],
    };
    let expected = [
        &[DEPLOY_TX_VERSION][..],
        &[0x01; 20],
        &2u64.to_be_bytes(),
        &[0, 1, b'n'],
        &3u64.to_be_bytes(),
        &[0, 0, 0, 4, 0, 0x61, 0x73, 0x6d],
    ]
    .concat();
    assert_eq!(DEPLOY_TX_VERSION, 1);
    assert_eq!(tx.encode().unwrap(), expected);
    assert_eq!(DeployTx::decode(&expected).unwrap(), tx);
}

#[test]
fn call_encoding_follows_the_table() {
    let expected = [
        &[2][..],
        &[0xaa; 20],
        &[0xbb; 20],
        &[0, 1, b'f'],
        &[2, 0x7f, 0, 0, 0, 1, 0x7e],
        &(-2i64).to_be_bytes(),
        &[0, 0, 0, 2, 0xc0, 0xde],
        &7u64.to_be_bytes(), // the value, after the call data
        &1000u64.to_be_bytes(),
        &[1],
        &[0x33; 32],
    ]
    .concat();
    assert_eq!(CALL_TX_VERSION, 2);
    assert_eq!(golden_call().encode().unwrap(), expected);
    assert_eq!(CallTx::decode(&expected).unwrap(), golden_call());

    let mut latest = golden_call();
    latest.state = StateRef::Latest;
    assert_eq!(
        latest.encode().unwrap(),
        [&expected[..expected.len() - 33], &[0]].concat()
    );
}

#[test]
fn receipt_encoding_follows_the_table() {
    let expected = [
        &[RECEIPT_VERSION, 0, 4, 0, 4][..],
        b"boom",
        &[0x22; 32],
        &[0],
        &[0, 0, 0, 0],
        &[0, 0, 0, 0],
        &5u32.to_be_bytes(),
        &0u32.to_be_bytes(),
        &100u64.to_be_bytes(),
        &60u64.to_be_bytes(),
        &[0, 0, 0, 0], // no inner calls
    ]
    .concat();
    assert_eq!(RECEIPT_VERSION, 2);
    assert_eq!(golden_failure().encode().unwrap(), expected);
    assert_eq!(Receipt::decode(&expected).unwrap(), golden_failure());
}

/// The pinned consensus vectors. The hashes were computed outside this
/// crate (Python's `blake3` over the domain separator and the bytes built
/// from the table). A change here is a consensus change: it needs a new
/// [`CONSENSUS_RECEIPT_VERSION`] and domain separator.
#[test]
fn consensus_golden_vectors() {
    let expected = [
        &[2, 1, 0][..], // version, success, no error code
        &[0x11; 32],
        &[2, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x7e],
        &42u64.to_be_bytes(),
        &[0, 0, 0, 2, b'o', b'k'],
        &[0, 0, 0, 2], // two logs
        &[0, 0, 0, 1, b'a'],
        &[0, 0, 0, 0],
        &1_000_000u64.to_be_bytes(),
        &21_000u64.to_be_bytes(),
        &[0, 0, 0, 1], // one inner call: depth, callee, function, no error, gas
        &1u32.to_be_bytes(),
        &[0xcc; 20],
        &[0, 1, b'g', 0],
        &500u64.to_be_bytes(),
    ]
    .concat();
    let r = golden_success();
    assert_eq!(expected.len(), 125);
    assert_eq!(r.consensus_bytes().unwrap(), expected);
    assert_eq!(
        hex(&r.consensus_hash().unwrap()),
        "d978f9db47a4fff6b6bb14e57c9e6b9033541ff83b02f1280ebe9ea9f61746c7"
    );

    let expected = [
        &[2, 0, 4][..], // version, failure, Trap; no message
        &[0x22; 32],
        &[0],
        &[0, 0, 0, 0],
        &[0, 0, 0, 0],
        &100u64.to_be_bytes(),
        &60u64.to_be_bytes(),
        &[0, 0, 0, 0],
    ]
    .concat();
    let r = golden_failure();
    assert_eq!(expected.len(), 64);
    assert_eq!(r.consensus_bytes().unwrap(), expected);
    assert_eq!(
        hex(&r.consensus_hash().unwrap()),
        "199f65b812b38d9e6b4d347d3408697ad68f450a4808d86892fecf20b5f9ab4f"
    );
    assert_eq!(CONSENSUS_RECEIPT_VERSION, 2);
    assert_eq!(CONSENSUS_RECEIPT_DOMAIN, b"svm/receipt/v2");
}

// ---- typed errors ----

#[test]
fn typed_decode_errors() {
    let tx = DeployTx {
        author: Address([1; 20]),
        nonce: 2,
        name: "n".into(),
        gas_limit: 3,
        code: vec![0, 0x61, 0x73, 0x6d],
    };
    let mut e = tx.encode().unwrap();
    assert_eq!(
        DeployTx::decode(&e[..5]),
        Err(DecodeError::Truncated { at: 5, needed: 16 })
    );
    e.push(0);
    assert_eq!(DeployTx::decode(&e), Err(DecodeError::TrailingBytes(1)));
    e[0] = 9;
    assert_eq!(
        DeployTx::decode(&e),
        Err(DecodeError::BadVersion {
            what: "deploy transaction",
            found: 9,
            expected: 1
        })
    );

    let call = CallTx {
        value: 0,
        contract: Address([1; 20]),
        sender: Address([2; 20]),
        function: "f".into(),
        args: vec![WasmValue::I32(1)],
        calldata: vec![],
        gas_limit: 1,
        state: StateRef::Latest,
    };
    let mut e = call.encode().unwrap();
    e[1 + 20 + 20 + 2 + 1 + 1] = 0x7d; // the first value's tag: f32
    assert_eq!(
        CallTx::decode(&e),
        Err(DecodeError::BadTag {
            what: "value tag",
            value: 0x7d,
            at: 45
        })
    );
    let mut e = call.encode().unwrap();
    e[43] = 0xff; // the function name's only byte
    assert_eq!(CallTx::decode(&e), Err(DecodeError::BadUtf8(43)));
    let mut e = call.encode().unwrap();
    e[44] = 65; // the argument count
    assert_eq!(CallTx::decode(&e), Err(DecodeError::TooManyValues(65)));
    let mut e = call.encode().unwrap();
    let flag = e.len() - 1;
    e[flag] = 2;
    assert_eq!(
        CallTx::decode(&e),
        Err(DecodeError::BadTag {
            what: "state flag",
            value: 2,
            at: flag
        })
    );

    let mut e = golden_failure().encode().unwrap();
    e[2] = 14;
    assert_eq!(
        Receipt::decode(&e),
        Err(DecodeError::BadTag {
            what: "error code",
            value: 14,
            at: 2
        })
    );
    e[1] = 2;
    assert_eq!(
        Receipt::decode(&e),
        Err(DecodeError::BadTag {
            what: "success flag",
            value: 2,
            at: 1
        })
    );
}

/// A version 1 call (without the value) is not read as a call with value 0.
#[test]
fn call_version_1_is_rejected() {
    let v2 = golden_call().encode().unwrap();
    // The version 1 layout: the same fields without the value.
    let value_at = 1 + 20 + 20 + 3 + 1 + 5 + 9 + 6;
    let v1 = [&[1][..], &v2[1..value_at], &v2[value_at + 8..]].concat();
    assert_eq!(
        CallTx::decode(&v1),
        Err(DecodeError::BadVersion {
            what: "call transaction",
            found: 1,
            expected: 2
        })
    );
    // Relabelled as version 2 it is too short: the gas limit is read as
    // the value, the state flag as part of the gas limit.
    let relabelled = [&[2][..], &v1[1..]].concat();
    assert!(CallTx::decode(&relabelled).is_err());
}

/// `success = 1` with an error code, `success = 0` without one, and a
/// message without a code are each rejected.
#[test]
fn inconsistent_receipts_do_not_decode() {
    let mut e = golden_failure().encode().unwrap();
    e[1] = 1;
    assert_eq!(
        Receipt::decode(&e),
        Err(DecodeError::SuccessWithError(ErrorCode::Trap))
    );

    let mut e = golden_success().encode().unwrap();
    e[1] = 0;
    assert_eq!(Receipt::decode(&e), Err(DecodeError::FailureWithoutError));

    let e = golden_success().encode().unwrap();
    // Replace the empty message (bytes 3..5) by "hi".
    let with_message = [&e[..3], &[0, 2, b'h', b'i'], &e[5..]].concat();
    assert_eq!(
        Receipt::decode(&with_message),
        Err(DecodeError::MessageWithoutError(2))
    );
}

#[test]
fn inconsistent_receipts_do_not_encode() {
    let mut r = golden_failure();
    r.success = true;
    assert_eq!(
        r.encode(),
        Err(EncodeError::SuccessWithError(ErrorCode::Trap))
    );
    assert_eq!(
        r.consensus_bytes(),
        Err(EncodeError::SuccessWithError(ErrorCode::Trap))
    );
    assert!(r.consensus_hash().is_err());

    let mut r = golden_success();
    r.success = false;
    assert_eq!(r.encode(), Err(EncodeError::FailureWithoutError));
    assert_eq!(r.consensus_bytes(), Err(EncodeError::FailureWithoutError));
}

/// Length prefixes are checked against the bytes left before anything is
/// allocated: a 4 GiB prefix in a short input is a quick `Truncated`.
#[test]
fn huge_length_prefixes_are_truncation() {
    let tx = DeployTx {
        author: Address([1; 20]),
        nonce: 0,
        name: String::new(),
        gas_limit: 0,
        code: vec![1, 2, 3],
    };
    let mut e = tx.encode().unwrap();
    let len_at = e.len() - 7;
    e[len_at..len_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert_eq!(
        DeployTx::decode(&e),
        Err(DecodeError::Truncated {
            at: e.len(),
            needed: u32::MAX as usize - 3
        })
    );

    // u32::MAX logs announced, none present.
    let mut r = golden_success();
    r.logs.clear();
    let mut e = r.encode().unwrap();
    let count_at = 1 + 1 + 1 + 2 + 32 + 15 + 4 + 2;
    assert_eq!(e[count_at..count_at + 4], [0, 0, 0, 0]);
    e[count_at..count_at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    // 24 bytes follow the count (counters and gas), read as log length
    // prefixes: the decode stops at the first one that runs past the end,
    // without allocating for the announced count.
    assert!(matches!(
        Receipt::decode(&e),
        Err(DecodeError::Truncated { at, .. }) if at == e.len()
    ));

    // A string length beyond the input.
    let e = [&[1][..], &[0; 28], &[0xff, 0xff], b"abc"].concat();
    assert_eq!(
        DeployTx::decode(&e),
        Err(DecodeError::Truncated {
            at: e.len(),
            needed: 0xffff - 3
        })
    );
}

// ---- limits: encoders refuse, never cut ----

#[test]
fn limits_are_exact() {
    assert_eq!(string_len("s", MAX_STRING_BYTES), Ok(u16::MAX));
    assert_eq!(
        string_len("s", MAX_STRING_BYTES + 1),
        Err(EncodeError::StringTooLong {
            field: "s",
            len: 65_536
        })
    );
    assert_eq!(value_count("v", 64), Ok(64));
    assert_eq!(
        value_count("v", 65),
        Err(EncodeError::TooManyValues {
            field: "v",
            count: 65
        })
    );
    assert_eq!(bytes_len("b", MAX_BYTES_LEN), Ok(u32::MAX));
    assert_eq!(log_count(MAX_LOGS), Ok(u32::MAX));
}

/// Byte strings and log lists over `u32::MAX` cannot be built in a test;
/// the checks the writer applies to their lengths are tested instead.
#[cfg(target_pointer_width = "64")]
#[test]
fn lengths_over_u32_are_refused() {
    let over = u32::MAX as usize + 1;
    assert_eq!(
        bytes_len("code", over),
        Err(EncodeError::BytesTooLong {
            field: "code",
            len: over
        })
    );
    assert_eq!(log_count(over), Err(EncodeError::TooManyLogs(over)));
}

#[test]
fn values_and_strings_at_the_limit_round_trip() {
    let mut tx = golden_call();
    tx.args = vec![WasmValue::I64(-1); MAX_VALUES];
    tx.function = "é".repeat(MAX_STRING_BYTES / 2) + "x"; // 65 535 bytes
    assert_eq!(tx.function.len(), MAX_STRING_BYTES);
    assert_eq!(CallTx::decode(&tx.encode().unwrap()).unwrap(), tx);

    let mut r = golden_failure();
    r.error = Some(TxError {
        code: ErrorCode::HostCall,
        message: "m".repeat(MAX_STRING_BYTES),
    });
    r.returns = vec![WasmValue::I32(0); MAX_VALUES];
    assert_eq!(Receipt::decode(&r.encode().unwrap()).unwrap(), r);
}

#[test]
fn tx_error_new_keeps_messages_encodable() {
    let short = TxError::new(ErrorCode::Trap, "unreachable");
    assert_eq!(short.message, "unreachable");
    // 2-byte characters: the cut falls inside one and moves back.
    let long = TxError::new(ErrorCode::Trap, "é".repeat(40_000));
    assert_eq!(long.message.len(), MAX_STRING_BYTES - 1);
    assert!(long.message.chars().all(|c| c == 'é'));
    let mut r = golden_failure();
    r.error = Some(long);
    assert!(r.encode().is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn too_many_values_are_refused(n in MAX_VALUES + 1..300, tx in call(), r in receipt()) {
        let mut tx = tx;
        tx.args = vec![WasmValue::I32(0); n];
        prop_assert_eq!(
            tx.encode(),
            Err(EncodeError::TooManyValues { field: "arguments", count: n })
        );
        let mut r = r;
        r.returns = vec![WasmValue::I64(0); n];
        let err = Err(EncodeError::TooManyValues { field: "returned values", count: n });
        prop_assert_eq!(r.encode(), err.clone());
        prop_assert_eq!(r.consensus_bytes(), err);
    }

    #[test]
    fn long_strings_are_refused(extra in 1usize..2000, tx in call(), d in deploy(),
                                e in tx_error(), r in receipt()) {
        let long = "x".repeat(MAX_STRING_BYTES + extra);
        let len = long.len();
        let mut tx = tx;
        tx.function = long.clone();
        prop_assert_eq!(tx.encode(), Err(EncodeError::StringTooLong { field: "function", len }));
        let mut d = d;
        d.name = long.clone();
        prop_assert_eq!(d.encode(), Err(EncodeError::StringTooLong { field: "name", len }));
        let mut r = r;
        r.success = false;
        r.error = Some(TxError { code: e.code, message: long });
        prop_assert_eq!(
            r.encode(),
            Err(EncodeError::StringTooLong { field: "error message", len })
        );
        // The message is not part of consensus: that encoding still works.
        prop_assert!(r.consensus_bytes().is_ok());
    }
}

// ---- round trips, truncation, garbage ----

proptest! {
    #[test]
    fn deploy_round_trips(tx in deploy()) {
        prop_assert_eq!(DeployTx::decode(&tx.encode().unwrap()).unwrap(), tx);
    }

    #[test]
    fn call_round_trips(tx in call()) {
        prop_assert_eq!(CallTx::decode(&tx.encode().unwrap()).unwrap(), tx);
    }

    #[test]
    fn receipt_round_trips(r in receipt()) {
        prop_assert_eq!(Receipt::decode(&r.encode().unwrap()).unwrap(), r);
    }

    /// Every strict prefix of an encoding is `Truncated` at its end.
    #[test]
    fn truncations_are_errors((kind, e) in encoding()) {
        for n in 0..e.len() {
            match redecode(kind, &e[..n]) {
                Err(DecodeError::Truncated { at, needed }) => {
                    prop_assert_eq!(at, n);
                    prop_assert!(needed > 0);
                }
                other => prop_assert!(false, "{:?} prefix {}: {:?}", kind, n, other),
            }
        }
    }

    #[test]
    fn trailing_bytes_are_errors((kind, e) in encoding(),
                                 extra in prop::collection::vec(any::<u8>(), 1..10)) {
        let n = extra.len();
        let e = [e, extra].concat();
        prop_assert_eq!(redecode(kind, &e), Err(DecodeError::TrailingBytes(n)));
    }

    /// A changed byte either fails to decode or decodes to a message that
    /// encodes back to exactly the changed bytes: one encoding per message.
    #[test]
    fn accepted_bytes_are_canonical((kind, e) in encoding(), i in any::<prop::sample::Index>(),
                                    b in any::<u8>()) {
        let mut e = e;
        let i = i.index(e.len());
        e[i] = b;
        if let Ok(again) = redecode(kind, &e) {
            prop_assert_eq!(again, e);
        }
    }

    /// Garbage never panics, with or without a valid version byte.
    #[test]
    fn garbage_does_not_panic(version in 0u8..4, bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        for input in [bytes.clone(), [&[version][..], &bytes].concat()] {
            for kind in [Kind::Deploy, Kind::Call, Kind::Receipt] {
                if let Ok(again) = redecode(kind, &input) {
                    prop_assert_eq!(again, input.clone());
                }
            }
        }
    }

    /// Flipping the success byte of a consistent receipt makes it
    /// inconsistent, and the decoder says which way.
    #[test]
    fn flipped_success_is_rejected(r in receipt()) {
        let mut e = r.encode().unwrap();
        e[1] ^= 1;
        let expected = match &r.error {
            Some(err) => DecodeError::SuccessWithError(err.code),
            None => DecodeError::FailureWithoutError,
        };
        prop_assert_eq!(Receipt::decode(&e), Err(expected));
    }
}

// ---- consensus encoding ----

/// The fields of a receipt that are in consensus.
type ConsensusView = (
    bool,
    Option<ErrorCode>,
    State,
    Vec<WasmValue>,
    Vec<u8>,
    Vec<Vec<u8>>,
    u64,
    u64,
    Vec<InnerCall>,
);

fn consensus_view(r: &Receipt) -> ConsensusView {
    (
        r.success,
        r.error.as_ref().map(|e| e.code),
        r.new_state,
        r.returns.clone(),
        r.return_data.clone(),
        r.logs.clone(),
        r.gas_limit,
        r.gas_used,
        r.calls.clone(),
    )
}

/// `r` with one consensus field changed (`field` picks which, `b` is a
/// varying byte); the change always makes a different [`ConsensusView`].
fn mutate(r: &Receipt, field: usize, b: u8) -> Receipt {
    let mut m = r.clone();
    match field {
        0 => match &mut m.error {
            // Success to failure, failure to success.
            None => {
                m.success = false;
                m.error = Some(TxError::new(ErrorCode::ALL[usize::from(b) % 9], ""));
            }
            Some(_) => {
                m.success = true;
                m.error = None;
            }
        },
        1 => match &mut m.error {
            // Another error code.
            Some(e) => {
                let i = (usize::from(e.code.as_u8()) + usize::from(b) % 8) % 9;
                e.code = ErrorCode::ALL[i];
            }
            None => {
                m.success = false;
                m.error = Some(TxError::new(ErrorCode::OutOfGas, ""));
            }
        },
        2 => m.new_state.0[usize::from(b) % 32] ^= 1 << (b % 8),
        3 => match m.returns.first_mut() {
            Some(WasmValue::I32(x)) => *x ^= 1 << (b % 32),
            // Same bits, other type: the tag must tell them apart.
            Some(v @ WasmValue::I64(_)) if b.is_multiple_of(2) => *v = WasmValue::I32(0),
            Some(WasmValue::I64(x)) => *x = x.wrapping_add(1),
            None => m.returns.push(WasmValue::I64(0)),
        },
        4 => m.return_data.push(b),
        5 => match m.logs.len() {
            // Splitting a log, adding an empty one, changing a byte.
            0 => m.logs.push(Vec::new()),
            _ if m.logs[0].len() >= 2 => {
                let tail = m.logs[0].split_off(1);
                m.logs.insert(1, tail);
            }
            _ if b.is_multiple_of(2) => m.logs.push(Vec::new()),
            _ => m.logs[0].push(b),
        },
        6 => m.gas_limit = m.gas_limit.wrapping_add(1 + u64::from(b)),
        7 => match m.calls.first_mut() {
            Some(c) if b.is_multiple_of(2) => c.gas_used = c.gas_used.wrapping_add(1),
            Some(c) => c.depth = c.depth.wrapping_add(1),
            None => m.calls.push(InnerCall {
                depth: 1,
                contract: Address([b; 20]),
                function: String::new(),
                error: None,
                gas_used: 0,
            }),
        },
        _ => m.gas_used = m.gas_used.wrapping_add(1 + u64::from(b)),
    }
    m
}

/// A receipt that differs only in its error message has the same consensus
/// bytes and hash: wasmer's trap text cannot split consensus.
#[test]
fn error_messages_are_outside_consensus() {
    let a = golden_failure();
    let mut b = a.clone();
    b.error = Some(TxError {
        code: ErrorCode::Trap,
        message: "RuntimeError: unreachable\n    at <unnamed> (<module>[3]:0x5a)".into(),
    });
    assert_ne!(a.encode().unwrap(), b.encode().unwrap());
    assert_eq!(a.consensus_bytes().unwrap(), b.consensus_bytes().unwrap());
    assert_eq!(a.consensus_hash().unwrap(), b.consensus_hash().unwrap());
}

/// Log boundaries are in consensus: `[ab]`, `[a, b]` and `[ab, ""]` differ.
#[test]
fn log_boundaries_are_in_consensus() {
    let with_logs = |logs: Vec<&[u8]>| {
        let mut r = golden_success();
        r.logs = logs.into_iter().map(<[u8]>::to_vec).collect();
        r.consensus_hash().unwrap()
    };
    let hashes = [
        with_logs(vec![]),
        with_logs(vec![b""]),
        with_logs(vec![b"ab"]),
        with_logs(vec![b"a", b"b"]),
        with_logs(vec![b"ab", b""]),
    ];
    for (i, a) in hashes.iter().enumerate() {
        for b in &hashes[i + 1..] {
            assert_ne!(a, b);
        }
    }
}

proptest! {
    /// The message and the page counters never change consensus bytes.
    #[test]
    fn non_consensus_fields_do_not_change_the_hash(r in receipt(), message in ".{0,100}",
                                                    pr in any::<u32>(), pw in any::<u32>()) {
        let mut other = r.clone();
        if let Some(e) = &mut other.error {
            e.message = message;
        }
        other.pages_read = pr;
        other.pages_written = pw;
        prop_assert_eq!(r.consensus_bytes().unwrap(), other.consensus_bytes().unwrap());
        prop_assert_eq!(r.consensus_hash().unwrap(), other.consensus_hash().unwrap());
    }

    /// Any change of a consensus field changes the bytes and the hash.
    #[test]
    fn every_consensus_field_changes_the_hash(r in receipt(), field in 0usize..9, b in any::<u8>()) {
        let m = mutate(&r, field, b);
        prop_assert_ne!(consensus_view(&r), consensus_view(&m));
        prop_assert_ne!(r.consensus_bytes().unwrap(), m.consensus_bytes().unwrap());
        prop_assert_ne!(r.consensus_hash().unwrap(), m.consensus_hash().unwrap());
    }

    /// Two receipts have the same consensus bytes exactly when they agree
    /// on every consensus field.
    #[test]
    fn consensus_bytes_are_injective(a in receipt(), b in receipt()) {
        prop_assert_eq!(
            consensus_view(&a) == consensus_view(&b),
            a.consensus_bytes().unwrap() == b.consensus_bytes().unwrap()
        );
    }
}
