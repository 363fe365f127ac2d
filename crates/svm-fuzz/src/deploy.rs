//! `deploy_call`: deploy and call `wasm-smith` modules.

use arbitrary::{Result, Unstructured};
use svm_runtime::imports::{VMCALLS, ValKind};
use svm_runtime::{CallTx, DeployError, DeployTx, Receipt, StateRef, WasmValue};
use svm_types::Address;
use wasm_encoder::{
    CodeSection, EntityType, ExportKind, ExportSection, Function, FunctionSection, ImportSection,
    Instruction, MemorySection, MemoryType, Module, TypeSection, ValType,
};

use crate::common::{checked_call, compilers, runtime};
use crate::gate::float_free;

const AUTHOR: Address = Address([0xa1; 20]);
const SENDER: Address = Address([0x5e; 20]);

/// The signature of one exported function.
#[derive(Debug, Clone)]
struct Sig {
    params: Vec<ValType>,
    results: Vec<ValType>,
}

/// One call of a case.
#[derive(Debug, Clone)]
struct Call {
    function: String,
    /// The export called, when `function` names one.
    export: Option<usize>,
    args: Vec<WasmValue>,
    calldata: Vec<u8>,
    gas_limit: u64,
}

/// One input: a module and the calls to make on it.
#[derive(Debug)]
struct Case {
    /// Floats and SIMD allowed: such code must be rejected.
    floats: bool,
    code: Vec<u8>,
    sigs: Vec<Sig>,
    calls: Vec<Call>,
}

fn val_type(u: &mut Unstructured, floats: bool) -> Result<ValType> {
    let all = [ValType::I32, ValType::I64, ValType::F32, ValType::F64];
    Ok(*u.choose(&all[..if floats { 4 } else { 2 }])?)
}

/// A module that only declares the exports the generated module must have:
/// `memory` and the functions `f0`, `f1`, ... of the given signatures.
fn exports_module(sigs: &[Sig], min_pages: u64, max_pages: Option<u64>) -> Vec<u8> {
    let mut types = TypeSection::new();
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    let mut exports = ExportSection::new();
    for (i, s) in sigs.iter().enumerate() {
        types
            .ty()
            .function(s.params.iter().copied(), s.results.iter().copied());
        funcs.function(i as u32);
        let mut f = Function::new([]);
        f.instruction(&Instruction::Unreachable);
        f.instruction(&Instruction::End);
        code.function(&f);
        exports.export(&format!("f{i}"), ExportKind::Func, i as u32);
    }
    let mut memories = MemorySection::new();
    memories.memory(MemoryType {
        minimum: min_pages,
        maximum: max_pages,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    exports.export("memory", ExportKind::Memory, 0);
    let mut m = Module::new();
    m.section(&types)
        .section(&funcs)
        .section(&memories)
        .section(&exports)
        .section(&code);
    m.finish()
}

fn kind(k: &ValKind) -> ValType {
    match k {
        ValKind::I32 => ValType::I32,
        ValKind::I64 => ValType::I64,
    }
}

/// A module importing every vmcall a contract may import by default: the
/// imports `wasm-smith` may choose from.
fn imports_module() -> Vec<u8> {
    let mut types = TypeSection::new();
    let mut imports = ImportSection::new();
    for (i, v) in VMCALLS
        .iter()
        .filter(|v| v.name != "vmcall_set_balance")
        .enumerate()
    {
        types
            .ty()
            .function(v.params.iter().map(kind), v.results.iter().map(kind));
        imports.import(v.module, v.name, EntityType::Function(i as u32));
    }
    let mut m = Module::new();
    m.section(&types).section(&imports);
    m.finish()
}

fn value(u: &mut Unstructured, t: ValType) -> Result<WasmValue> {
    Ok(match t {
        ValType::I64 => WasmValue::I64(u.arbitrary()?),
        // Floats have no wire value: an i32 there is a wrong argument.
        _ => WasmValue::I32(u.arbitrary()?),
    })
}

impl Case {
    fn generate(u: &mut Unstructured) -> Result<Self> {
        let floats = u.ratio(1, 4)?;
        let mut sigs = Vec::new();
        for _ in 0..u.int_in_range(1..=4)? {
            let mut params = Vec::new();
            for _ in 0..u.int_in_range(0..=4)? {
                params.push(val_type(u, floats)?);
            }
            let mut results = Vec::new();
            for _ in 0..u.int_in_range(0..=2)? {
                results.push(val_type(u, floats)?);
            }
            sigs.push(Sig { params, results });
        }
        let min_pages = u.int_in_range(0..=2)?;
        let max_pages = if u.arbitrary()? {
            Some(u.int_in_range(min_pages..=min_pages + 3)?)
        } else {
            None
        };

        // The calls first: wasm-smith takes whatever bytes are left.
        let mut calls = Vec::new();
        for _ in 0..u.int_in_range(1..=4)? {
            let i = u.choose_index(sigs.len())?;
            let (function, export) = if u.ratio(1, 16)? {
                (u.arbitrary::<String>()?, None)
            } else {
                (format!("f{i}"), Some(i))
            };
            let args = if u.ratio(1, 8)? {
                let n = u.int_in_range(0..=5)?;
                (0..n)
                    .map(|_| val_type(u, false).and_then(|t| value(u, t)))
                    .collect::<Result<_>>()?
            } else {
                sigs[i]
                    .params
                    .iter()
                    .map(|t| value(u, *t))
                    .collect::<Result<_>>()?
            };
            let n = u.int_in_range(0..=16)?;
            let calldata = u.bytes(n)?.to_vec();
            let gas_limit = if u.ratio(1, 16)? {
                u.int_in_range(0..=2_000)?
            } else {
                u.int_in_range(1_000..=200_000)?
            };
            calls.push(Call {
                function,
                export,
                args,
                calldata,
                gas_limit,
            });
        }
        let config = wasm_smith::Config {
            exports: Some(exports_module(&sigs, min_pages, max_pages)),
            available_imports: Some(imports_module()),
            allow_floats: floats,
            simd_enabled: floats,
            relaxed_simd_enabled: false,
            saturating_float_to_int_enabled: floats,
            sign_extension_ops_enabled: true,
            multi_value_enabled: true,
            bulk_memory_enabled: true,
            reference_types_enabled: true,
            exceptions_enabled: false,
            gc_enabled: false,
            tail_call_enabled: false,
            threads_enabled: false,
            memory64_enabled: false,
            wide_arithmetic_enabled: false,
            extended_const_enabled: false,
            custom_page_sizes_enabled: false,
            compact_imports_enabled: false,
            custom_descriptors_enabled: false,
            shared_everything_threads_enabled: false,
            // The gate rejects start functions (they would run before gas
            // is set); gate_compile covers that rejection.
            allow_start_export: false,
            disallow_traps: u.ratio(1, 3)?,
            max_funcs: 10,
            max_imports: 6,
            max_types: 16,
            max_globals: 8,
            max_tables: 2,
            max_table_elements: 64,
            max_elements: 16,
            max_element_segments: 4,
            max_data_segments: 4,
            // The required `memory` export is the one memory (it does not
            // count against this limit).
            max_memories: 0,
            max_memory32_bytes: 4 << 16,
            max_instructions: 64,
            max_nesting_depth: 6,
            max_type_size: 200,
            max_values: 4,
            ..wasm_smith::Config::default()
        };
        let code = wasm_smith::Module::new(config, u)?.to_bytes();

        Ok(Case {
            floats,
            code,
            sigs,
            calls,
        })
    }
}

fn returns_match(returns: &[WasmValue], results: &[ValType]) -> bool {
    returns.len() == results.len()
        && returns.iter().zip(results).all(|(r, t)| {
            matches!(
                (r, t),
                (WasmValue::I32(_), ValType::I32) | (WasmValue::I64(_), ValType::I64)
            )
        })
}

/// Generates a module with `wasm-smith` (exports `memory` and 1 to 4
/// functions of random integer signatures; the vmcalls as available
/// imports; a quarter of the inputs with floats and SIMD allowed), deploys
/// it and makes 1 to 4 calls of random exports with random (mostly
/// well-typed) arguments and small gas limits.
///
/// Properties: code with floats or SIMD is rejected by the gate, float-free
/// code deploys; every receipt is well-formed and round-trips; a failed
/// call leaves the root and the whole KV unchanged; the same call at the
/// same state gives the same receipt; a successful call returns values of
/// the export's result types; Singlepass and (with the feature) Cranelift
/// give the same deploy outcome and the same receipts.
pub fn deploy_call(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(case) = Case::generate(&mut u) else {
        return;
    };
    let clean = float_free(&case.code);
    if !case.floats {
        assert!(
            clean.is_ok(),
            "wasm-smith made a module outside the gate's features: {clean:?}"
        );
    }
    let mut runs: Vec<(svm_runtime::Compiler, Vec<Receipt>)> = Vec::new();
    for compiler in compilers() {
        let (rt, node) = runtime(compiler, false);
        let tx = DeployTx {
            author: AUTHOR,
            nonce: 0,
            name: "smith".into(),
            gas_limit: 50_000_000,
            code: case.code.clone(),
        };
        let deployed = match (rt.deploy(&tx), &clean) {
            (Err(DeployError::Gate(_)), Err(_)) => continue,
            (Ok(_), Err(e)) => panic!("the gate accepted a float or SIMD module ({e})"),
            (Err(e), Ok(())) => panic!("{compiler:?}: a float-free module failed to deploy: {e}"),
            (Err(e), Err(_)) => panic!("{compiler:?}: a float module failed with {e:?}"),
            (Ok(d), Ok(())) => d,
        };
        node.set_balance(&SENDER, 1_000).expect("MemKv writes");
        node.set_balance(&deployed.address, 1_000_000)
            .expect("MemKv writes");
        let mut receipts = Vec::new();
        for call in &case.calls {
            let tx = CallTx {
                contract: deployed.address,
                sender: SENDER,
                function: call.function.clone(),
                args: call.args.clone(),
                calldata: call.calldata.clone(),
                value: 0,
                gas_limit: call.gas_limit,
                state: StateRef::Latest,
            };
            let r = checked_call(&rt, &node, &tx);
            if r.success {
                let export = call.export.expect("only exports can succeed");
                assert!(
                    returns_match(&r.returns, &case.sigs[export].results),
                    "{:?} returned {:?}",
                    case.sigs[export],
                    r.returns
                );
            }
            receipts.push(r);
        }
        runs.push((compiler, receipts));
    }
    if std::env::var_os("SVM_FUZZ_DEBUG").is_some() {
        let outcomes: Vec<String> = runs
            .first()
            .map(|(_, rs)| {
                rs.iter()
                    .map(|r| match &r.error {
                        None => format!("ok {:?}", r.returns),
                        Some(e) => format!("{:?}", e.code),
                    })
                    .collect()
            })
            .unwrap_or_default();
        eprintln!(
            "deploy_call: floats {}, {} bytes, valid without floats: {}, calls: {outcomes:?}",
            case.floats,
            case.code.len(),
            clean.is_ok()
        );
    }
    for (c, receipts) in runs.iter().skip(1) {
        for (i, (a, b)) in runs[0].1.iter().zip(receipts).enumerate() {
            assert_eq!(
                a, b,
                "call {i}: {:?} and {c:?} give different receipts",
                runs[0].0
            );
        }
    }
}
