//! The vmcall table: the name and wasm signature of every vmcall a
//! contract may import, with no engine behind it. The deploy gate checks
//! imports against it; the wasmer binder (`crate::imports`) binds each row.

/// A wasm value type of a vmcall signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValKind {
    /// `i32`.
    I32,
    /// `i64`.
    I64,
}

/// The name and wasm signature of one vmcall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmCallSig {
    /// The import module (`svm` or `node`).
    pub module: &'static str,
    /// The import name.
    pub name: &'static str,
    /// The parameter types.
    pub params: &'static [ValKind],
    /// The result types.
    pub results: &'static [ValKind],
}

use ValKind::{I32, I64};

/// Every vmcall of the import object, with its exact wasm signature. A
/// contract may import any of these and nothing else.
pub const VMCALLS: &[VmCallSig] = &[
    VmCallSig {
        module: "svm",
        name: "mem_to_reg_copy",
        params: &[I32, I32, I32, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "reg_to_mem_copy",
        params: &[I32, I32, I32, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "storage_read_to_reg",
        params: &[I32, I32, I32, I32, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "storage_read_to_mem",
        params: &[I32, I32, I32, I32, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "storage_write_from_mem",
        params: &[I32, I32, I32, I32, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "storage_write_from_reg",
        params: &[I32, I32, I32, I32, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "reg_replace_byte",
        params: &[I32, I32, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "reg_read_be_i64",
        params: &[I32, I32],
        results: &[I64],
    },
    VmCallSig {
        module: "svm",
        name: "reg_write_be_i64",
        params: &[I64, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "calldata_len",
        params: &[],
        results: &[I32],
    },
    VmCallSig {
        module: "svm",
        name: "calldata_copy",
        params: &[I32, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "set_return_data",
        params: &[I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "log",
        params: &[I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "sender_to_reg",
        params: &[I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "self_to_reg",
        params: &[I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "transfer",
        params: &[I32, I32, I64],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "value",
        params: &[],
        results: &[I64],
    },
    VmCallSig {
        module: "svm",
        name: "call",
        params: &[I32, I32, I32, I32, I32, I32, I64, I64],
        results: &[I32],
    },
    VmCallSig {
        module: "svm",
        name: "returndata_len",
        params: &[],
        results: &[I32],
    },
    VmCallSig {
        module: "svm",
        name: "returndata_copy",
        params: &[I32, I32, I32],
        results: &[],
    },
    VmCallSig {
        module: "svm",
        name: "map_get",
        params: &[I32, I32, I32, I32, I32],
        results: &[I32],
    },
    VmCallSig {
        module: "svm",
        name: "map_set",
        params: &[I32, I32, I32, I32, I32],
        results: &[I32],
    },
    VmCallSig {
        module: "svm",
        name: "map_remove",
        params: &[I32, I32, I32, I32],
        results: &[I32],
    },
    VmCallSig {
        module: "svm",
        name: "map_len",
        params: &[I32],
        results: &[I64],
    },
    VmCallSig {
        module: "node",
        name: "vmcall_get_balance",
        params: &[I32, I32],
        results: &[I64],
    },
    VmCallSig {
        module: "node",
        name: "vmcall_set_balance",
        params: &[I64, I32, I32],
        results: &[],
    },
    // Last, so that the fuzz corpus's vmcall indices keep their meaning.
    VmCallSig {
        module: "svm",
        name: "abort",
        params: &[I32, I32],
        results: &[],
    },
];

/// The vmcall [`crate::gate::Policy::allow_set_balance`] governs.
pub const SET_BALANCE: &str = "node.vmcall_set_balance";
