//! `gate_compile`: the deploy gate and the compilers on arbitrary bytes.

use svm_runtime::gate::{self, Limits};
use svm_runtime::{DeployError, DeployTx};
use svm_types::Address;

use crate::common::{compilers, latest, runtime};

/// The features of the gate without floats: code the gate accepts must
/// validate under them (an independent validator, wasmparser 0.263, where
/// wasmer uses its own copy).
pub(crate) fn float_free_features() -> wasmparser::WasmFeatures {
    use wasmparser::WasmFeatures as F;
    F::MUTABLE_GLOBAL
        | F::SIGN_EXTENSION
        | F::MULTI_VALUE
        | F::BULK_MEMORY
        | F::REFERENCE_TYPES
        | F::GC_TYPES
}

/// Why the independent validator rejected code.
#[derive(Debug)]
pub(crate) struct Invalid {
    pub(crate) message: String,
    pub(crate) offset: usize,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (at offset {:#x})", self.message, self.offset)
    }
}

/// Whether `code` is a valid module without any float or SIMD type or
/// instruction, under the features the gate accepts.
pub(crate) fn float_free(code: &[u8]) -> Result<(), Invalid> {
    wasmparser::Validator::new_with_features(float_free_features())
        .validate_all(code)
        .map(|_| ())
        .map_err(|e| Invalid {
            message: e.message().to_string(),
            offset: usize::try_from(e.offset()).unwrap_or(usize::MAX),
        })
}

/// Runs `data` through the gate, `Runtime::validate` and `Runtime::deploy`
/// under every compiler. Properties: nothing panics; what the gate rejects
/// validate rejects, and deploy agrees with validate; accepted code compiles, is float-free and exports its
/// memory; a second deploy of the same code finds the first; all compilers
/// reach the same outcome.
pub fn gate_compile(data: &[u8]) {
    let limits = Limits::default();
    let verdict = gate::check(data, &limits);
    if let Err(rejection) = &verdict {
        assert!(!rejection.0.is_empty(), "a rejection without findings");
    }
    let tx = DeployTx {
        author: Address([0xa1; 20]),
        nonce: 7,
        name: "fuzz".into(),
        gas_limit: 50_000_000,
        code: data.to_vec(),
    };
    let mut outcomes = Vec::new();
    for compiler in compilers() {
        let (rt, _) = runtime(compiler, false);
        let too_large = data.len() > rt.config().max_code_bytes;
        // The runtime may add rules to the gate (per its configuration),
        // never remove one.
        let validated = rt.validate(data);
        match &validated {
            Err(DeployError::CodeTooLarge { .. }) => assert!(too_large),
            Err(DeployError::Gate(r)) => assert!(!r.0.is_empty(), "a rejection without findings"),
            Ok(()) => assert!(verdict.is_ok(), "validate accepted what the gate rejects"),
            Err(e) => panic!("validate: unexpected {e:?}"),
        }
        let outcome = rt.deploy(&tx);
        match &outcome {
            Ok(d) => {
                assert_eq!(validated, Ok(()), "deploy accepted what validate rejects");
                if let Err(e) = float_free(data) {
                    panic!("the gate accepted code an independent validator rejects: {e}");
                }
                assert_eq!(latest(&rt, &d.address), d.state);
                assert_eq!(d.gas_used, svm_runtime::gas::deploy(data.len()));
                assert_eq!(
                    rt.deploy(&tx),
                    Err(DeployError::AlreadyDeployed(d.address)),
                    "a second deploy of the same code"
                );
            }
            Err(DeployError::Compile(e)) => {
                panic!("{compiler:?} cannot compile code the gate accepted: {e}")
            }
            Err(e @ (DeployError::Gate(_) | DeployError::CodeTooLarge { .. })) => {
                assert_eq!(Err(e), validated.as_ref(), "deploy and validate differ");
            }
            Err(e) => panic!("deploy: unexpected {e:?}"),
        }
        outcomes.push((compiler, outcome));
    }
    for (c, o) in &outcomes[1..] {
        assert_eq!(
            o, &outcomes[0].1,
            "{c:?} and {:?} deploy differently",
            outcomes[0].0
        );
    }
}
