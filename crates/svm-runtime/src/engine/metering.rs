//! The price of each wasm operator under the gas schedule
//! ([`svm_host::gas`]), which wasmer's `Metering` middleware and the
//! bulk-gas middleware ([`super::bulk_gas`]) compile into the code.

use svm_host::gas::{BULK_BYTE, MEMORY_PAGE, Price, TABLE_ELEMENT, price};
use wasmer::wasmparser::Operator;

/// The gas of one wasm operator, charged by wasmer's `Metering` middleware
/// at the end of each basic block. Operators with a size operand (bulk
/// memory and table operations, `memory.grow`, `table.grow`) pay
/// [`Price::OpBulk`] here and a size-proportional price on top, charged
/// by the runtime's bulk-gas middleware before they run.
pub fn operator_cost(op: &Operator) -> u64 {
    use Operator::*;
    price(match op {
        I32Mul | I64Mul => Price::OpMul,
        I32DivS | I32DivU | I32RemS | I32RemU | I64DivS | I64DivU | I64RemS | I64RemU => {
            Price::OpDiv
        }
        I32Load { .. }
        | I64Load { .. }
        | I32Load8S { .. }
        | I32Load8U { .. }
        | I32Load16S { .. }
        | I32Load16U { .. }
        | I64Load8S { .. }
        | I64Load8U { .. }
        | I64Load16S { .. }
        | I64Load16U { .. }
        | I64Load32S { .. }
        | I64Load32U { .. }
        | I32Store { .. }
        | I64Store { .. }
        | I32Store8 { .. }
        | I32Store16 { .. }
        | I64Store8 { .. }
        | I64Store16 { .. }
        | I64Store32 { .. } => Price::OpMemory,
        Call { .. } => Price::OpCall,
        CallIndirect { .. } => Price::OpCallIndirect,
        MemorySize { .. } => Price::OpMemorySize,
        MemoryGrow { .. }
        | MemoryFill { .. }
        | MemoryCopy { .. }
        | MemoryInit { .. }
        | TableGrow { .. }
        | TableFill { .. }
        | TableCopy { .. }
        | TableInit { .. } => Price::OpBulk,
        _ => Price::Op,
    })
}

/// The size-proportional price of an operator whose size operand (the
/// value on top of the stack, an `i32` read as unsigned) is charged at run
/// time, or `None` for every other operator.
pub fn dynamic_price(op: &Operator) -> Option<u64> {
    use Operator::*;
    match op {
        MemoryGrow { .. } => Some(MEMORY_PAGE),
        MemoryFill { .. } | MemoryCopy { .. } | MemoryInit { .. } => Some(BULK_BYTE),
        TableGrow { .. } | TableFill { .. } | TableCopy { .. } | TableInit { .. } => {
            Some(TABLE_ELEMENT)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators_take_their_schedule_entry() {
        assert_eq!(operator_cost(&Operator::I64Mul), price(Price::OpMul));
        assert_eq!(operator_cost(&Operator::Nop), price(Price::Op));
        assert_eq!(
            dynamic_price(&Operator::MemoryFill { mem: 0 }),
            Some(BULK_BYTE)
        );
        assert_eq!(dynamic_price(&Operator::I32Add), None);
    }
}
