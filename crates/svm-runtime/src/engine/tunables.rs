//! wasmer tunables that cap a contract's memory, tables and native stack.

use std::ptr::NonNull;

use wasmer::sys::vm::{
    MemoryStyle, TableStyle, VMConfig, VMMemory, VMMemoryDefinition, VMTable, VMTableDefinition,
};
use wasmer::sys::{BaseTunables, Tunables};
use wasmer::{MemoryError, MemoryType, Pages, TableType};

/// Caps every memory at `max_pages` (64 KiB each): a memory declared with
/// a larger or no maximum gets `max_pages` as its maximum, so `memory.grow`
/// past it returns -1 inside wasm. Caps every table the same way at
/// `max_elements`, so `table.grow` past it returns -1 (a table declared
/// with no maximum would otherwise grow towards 2^32 elements). Runs wasm
/// on a native stack of `stack_bytes`, so deep recursion traps with a stack
/// overflow. On Linux, contract memories come from the reuse pool of
/// [`crate::engine::memory_pool`].
pub(crate) struct Limiting {
    base: BaseTunables,
    max_pages: Pages,
    max_elements: u32,
    config: VMConfig,
}

impl Limiting {
    pub(crate) fn new(max_pages: u32, max_elements: u32, stack_bytes: usize) -> Self {
        Self {
            base: BaseTunables::new(),
            max_pages: Pages(max_pages),
            max_elements,
            config: VMConfig {
                wasm_stack_size: Some(stack_bytes),
            },
        }
    }

    fn adjust_table(&self, ty: &TableType) -> Result<TableType, String> {
        let mut ty = *ty;
        if ty.minimum > self.max_elements {
            return Err(format!(
                "table of {} elements is over the limit of {}",
                ty.minimum, self.max_elements
            ));
        }
        if ty.maximum.is_none_or(|m| m > self.max_elements) {
            ty.maximum = Some(self.max_elements);
        }
        Ok(ty)
    }

    fn adjust(&self, ty: &MemoryType) -> Result<MemoryType, MemoryError> {
        let mut ty = *ty;
        if ty.minimum > self.max_pages {
            return Err(MemoryError::Generic(format!(
                "memory of {} pages is over the limit of {}",
                ty.minimum.0, self.max_pages.0
            )));
        }
        if ty.maximum.is_none_or(|m| m > self.max_pages) {
            ty.maximum = Some(self.max_pages);
        }
        Ok(ty)
    }
}

impl Tunables for Limiting {
    fn memory_style(&self, memory: &MemoryType) -> MemoryStyle {
        self.base.memory_style(memory)
    }

    fn table_style(&self, table: &TableType) -> TableStyle {
        self.base.table_style(table)
    }

    fn create_host_memory(
        &self,
        ty: &MemoryType,
        style: &MemoryStyle,
    ) -> Result<VMMemory, MemoryError> {
        self.base.create_host_memory(&self.adjust(ty)?, style)
    }

    unsafe fn create_vm_memory(
        &self,
        ty: &MemoryType,
        style: &MemoryStyle,
        vm_definition_location: NonNull<VMMemoryDefinition>,
    ) -> Result<VMMemory, MemoryError> {
        let ty = self.adjust(ty)?;
        // SAFETY: forwarded unchanged from wasmer's own call, with the same
        // contract on `vm_definition_location`.
        #[cfg(target_os = "linux")]
        unsafe {
            crate::engine::memory_pool::PooledMemory::create(&ty, style, vm_definition_location)
        }
        #[cfg(not(target_os = "linux"))]
        unsafe {
            self.base
                .create_vm_memory(&ty, style, vm_definition_location)
        }
    }

    fn create_host_table(&self, ty: &TableType, style: &TableStyle) -> Result<VMTable, String> {
        self.base.create_host_table(&self.adjust_table(ty)?, style)
    }

    unsafe fn create_vm_table(
        &self,
        ty: &TableType,
        style: &TableStyle,
        vm_definition_location: NonNull<VMTableDefinition>,
    ) -> Result<VMTable, String> {
        let ty = self.adjust_table(ty)?;
        // SAFETY: as in `create_vm_memory`.
        unsafe {
            self.base
                .create_vm_table(&ty, style, vm_definition_location)
        }
    }

    fn vmconfig(&self) -> &VMConfig {
        &self.config
    }
}
