/*
 * coin: transfers between node accounts under the safe value model, and
 * counts the transfers in its own storage (page 0, offset 0, u64 BE).
 *
 *   transfer(amount i64) -> i64   call data: the 20-byte recipient address.
 *                                 The call must carry `amount` as its value
 *                                 (the runtime moves it from the sender to
 *                                 the coin before the function runs, and
 *                                 fails the call when the sender's balance
 *                                 is too small); the coin passes it on to
 *                                 the recipient from its own balance with
 *                                 `svm.transfer`. Traps (a failed receipt,
 *                                 nothing written, the value returned) when
 *                                 amount <= 0 or differs from the value.
 *                                 Returns the number of transfers so far.
 *   balance() -> i64              call data: a 20-byte address. Its balance.
 *   transfers() -> i64            the number of transfers so far.
 *
 * Built by build.sh with Debian's clang --target=wasm32 and wasm-ld.
 */
#include <stdint.h>

#define IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name)))

IMPORT("svm", "calldata_len") uint32_t calldata_len(void);
IMPORT("svm", "calldata_copy") void calldata_copy(uint32_t ptr, uint32_t offset, uint32_t len);
IMPORT("svm", "mem_to_reg_copy")
void mem_to_reg_copy(uint32_t mem, uint32_t ptr, uint32_t len, uint32_t bits, uint32_t idx);
IMPORT("svm", "storage_read_to_reg")
void storage_read_to_reg(uint32_t page, uint32_t slice, uint32_t offset, uint32_t len,
                         uint32_t bits, uint32_t idx);
IMPORT("svm", "storage_write_from_reg")
void storage_write_from_reg(uint32_t bits, uint32_t idx, uint32_t len, uint32_t page,
                            uint32_t slice, uint32_t offset);
IMPORT("svm", "reg_read_be_i64") int64_t reg_read_be_i64(uint32_t bits, uint32_t idx);
IMPORT("svm", "reg_write_be_i64") void reg_write_be_i64(int64_t value, uint32_t bits, uint32_t idx);
IMPORT("svm", "value") int64_t call_value(void);
IMPORT("svm", "transfer") void transfer_to(uint32_t bits, uint32_t idx, int64_t amount);
IMPORT("node", "vmcall_get_balance") int64_t get_balance(uint32_t bits, uint32_t idx);

#define ADDR_BITS 160
#define OTHER 1

static uint8_t address[20];

/* The 20-byte address in the call data into 160-bit register OTHER. */
static void load_address(void) {
  if (calldata_len() != 20) __builtin_trap();
  calldata_copy((uint32_t)(uintptr_t)address, 0, 20);
  mem_to_reg_copy(0, (uint32_t)(uintptr_t)address, 20, ADDR_BITS, OTHER);
}

EXPORT("transfers") int64_t transfers(void) {
  storage_read_to_reg(0, 0, 0, 8, 64, 0);
  return reg_read_be_i64(64, 0);
}

EXPORT("balance") int64_t balance(void) {
  load_address();
  return get_balance(ADDR_BITS, OTHER);
}

EXPORT("transfer") int64_t transfer(int64_t amount) {
  if (amount <= 0 || call_value() != amount) __builtin_trap();
  load_address();
  transfer_to(ADDR_BITS, OTHER, amount);
  int64_t n = transfers() + 1;
  reg_write_be_i64(n, 64, 0);
  storage_write_from_reg(64, 0, 8, 0, 0, 0);
  return n;
}
