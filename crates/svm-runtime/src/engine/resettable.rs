//! Whether a compiled module's instances can be reset and run again
//! (`call/reuse.rs`): the code's part comes from the analysis pass
//! ([`svm_gate::ModuleInfo::resettable`]); this is the compiled module's
//! part, which globals it exports.

use std::collections::BTreeSet;

use wasmer::Mutability;
use wasmer_types::ExportIndex;

/// Whether every mutable global of `module` (its own and those the
/// middlewares added) is exported, so that a reset can reach it.
pub(crate) fn globals_reachable(module: &wasmer::Module) -> bool {
    let info = module.info();
    let exported: BTreeSet<_> = info
        .exports
        .values()
        .filter_map(|e| match e {
            ExportIndex::Global(g) => Some(*g),
            _ => None,
        })
        .collect();
    info.globals
        .iter()
        .all(|(i, g)| g.mutability == Mutability::Const || exported.contains(&i))
}
