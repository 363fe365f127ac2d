/*
 * svm_contract.h: writing svm contracts in C (clang --target=wasm32,
 * wasm-ld; no libc needed). The C twin of the Rust crate svm-sdk.
 *
 * Every vmcall of docs/vmcalls.md as an import (module "svm", and "node"
 * for the balance calls), with its exact signature, plus small inline
 * helpers for the svm-sdk conventions:
 *
 *   - an entry point takes no parameters: SVM_EXPORT("name") void name(void);
 *     it reads its arguments from the call data and answers with
 *     svm_set_return_data (integers big-endian);
 *   - storage variables are slices (page, offset, length) of 4096-byte pages;
 *   - maps are B+ trees over the contract's pages (header page below
 *     0x80000000, keys 1..64 bytes, values 0..256 bytes, fixed per map);
 *   - events are one log entry: name length (1 byte) | name | fields;
 *   - svm_abort(msg) fails the call with code Trap and the message.
 *
 * Build: clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o c.wasm c.c
 */
#ifndef SVM_CONTRACT_H
#define SVM_CONTRACT_H

#include <stdint.h>

#define SVM_IMPORT(mod, name) __attribute__((import_module(mod), import_name(name)))
/* Marks an entry point: SVM_EXPORT("transfer") void transfer(void) { ... } */
#define SVM_EXPORT(name) __attribute__((export_name(name)))

/* The register the helpers use as scratch: 160 bits, index 0. */
#define SVM_ADDR_BITS 160u
#define SVM_ADDR_IDX 0u
/* The size of an address, in bytes. */
#define SVM_ADDRESS_LEN 20u
/* The size of a storage page, in bytes. */
#define SVM_PAGE_SIZE 4096u

/* ---- the vmcalls (docs/vmcalls.md) ---- */
SVM_IMPORT("svm", "mem_to_reg_copy")
void svm_mem_to_reg_copy(uint32_t mem_idx, uint32_t ptr, uint32_t len, uint32_t bits, uint32_t idx);
SVM_IMPORT("svm", "reg_to_mem_copy")
void svm_reg_to_mem_copy(uint32_t bits, uint32_t idx, uint32_t len, uint32_t mem_idx, uint32_t ptr);
SVM_IMPORT("svm", "storage_read_to_reg")
void svm_storage_read_to_reg(uint32_t page, uint32_t slice, uint32_t offset, uint32_t len,
                             uint32_t bits, uint32_t idx);
SVM_IMPORT("svm", "storage_read_to_mem")
void svm_storage_read_to_mem(uint32_t page, uint32_t slice, uint32_t offset, uint32_t len,
                             uint32_t mem_idx, uint32_t ptr);
SVM_IMPORT("svm", "storage_write_from_mem")
void svm_storage_write_from_mem(uint32_t mem_idx, uint32_t ptr, uint32_t len, uint32_t page,
                                uint32_t slice, uint32_t offset);
SVM_IMPORT("svm", "storage_write_from_reg")
void svm_storage_write_from_reg(uint32_t bits, uint32_t idx, uint32_t len, uint32_t page,
                                uint32_t slice, uint32_t offset);
SVM_IMPORT("svm", "reg_replace_byte")
void svm_reg_replace_byte(uint32_t bits, uint32_t idx, uint32_t byte, uint32_t offset);
SVM_IMPORT("svm", "reg_read_be_i64") int64_t svm_reg_read_be_i64(uint32_t bits, uint32_t idx);
SVM_IMPORT("svm", "reg_write_be_i64")
void svm_reg_write_be_i64(int64_t value, uint32_t bits, uint32_t idx);
SVM_IMPORT("svm", "calldata_len") uint32_t svm_calldata_len(void);
SVM_IMPORT("svm", "calldata_copy") void svm_calldata_copy(uint32_t ptr, uint32_t offset, uint32_t len);
SVM_IMPORT("svm", "set_return_data") void svm_set_return_data_raw(uint32_t ptr, uint32_t len);
SVM_IMPORT("svm", "log") void svm_log_raw(uint32_t ptr, uint32_t len);
SVM_IMPORT("svm", "abort") void svm_abort_raw(uint32_t ptr, uint32_t len);
SVM_IMPORT("svm", "sender_to_reg") void svm_sender_to_reg(uint32_t bits, uint32_t idx);
SVM_IMPORT("svm", "self_to_reg") void svm_self_to_reg(uint32_t bits, uint32_t idx);
SVM_IMPORT("svm", "transfer") void svm_transfer_raw(uint32_t bits, uint32_t idx, int64_t amount);
SVM_IMPORT("svm", "value") int64_t svm_value(void);
SVM_IMPORT("svm", "call")
uint32_t svm_call_raw(uint32_t addr_bits, uint32_t addr_idx, uint32_t func_ptr, uint32_t func_len,
                      uint32_t data_ptr, uint32_t data_len, int64_t gas, int64_t value);
SVM_IMPORT("svm", "returndata_len") uint32_t svm_returndata_len(void);
SVM_IMPORT("svm", "returndata_copy")
void svm_returndata_copy(uint32_t ptr, uint32_t offset, uint32_t len);
SVM_IMPORT("svm", "map_get")
uint32_t svm_map_get_raw(uint32_t map_page, uint32_t key_ptr, uint32_t key_len, uint32_t val_ptr,
                         uint32_t val_len);
SVM_IMPORT("svm", "map_set")
uint32_t svm_map_set_raw(uint32_t map_page, uint32_t key_ptr, uint32_t key_len, uint32_t val_ptr,
                         uint32_t val_len);
SVM_IMPORT("svm", "map_remove")
uint32_t svm_map_remove_raw(uint32_t map_page, uint32_t key_ptr, uint32_t key_len, uint32_t val_len);
SVM_IMPORT("svm", "map_len") int64_t svm_map_len(uint32_t map_page);
SVM_IMPORT("node", "vmcall_get_balance") int64_t svm_get_balance_raw(uint32_t bits, uint32_t idx);

/* ---- helpers ---- */

/* A pointer as the vmcalls take it (wasm32: 32 bits). */
#define SVM_PTR(p) ((uint32_t)(uintptr_t)(p))

/* The status codes of svm_call (the receipt's error codes). */
enum svm_call_status {
    SVM_CALL_OK = 0,
    SVM_CALL_CONTRACT_NOT_FOUND = 1,
    SVM_CALL_FUNCTION_NOT_FOUND = 2,
    SVM_CALL_WRONG_ARGUMENTS = 3,
    SVM_CALL_TRAP = 4,
    SVM_CALL_HOST_CALL = 5,
    SVM_CALL_OUT_OF_GAS = 6,
    SVM_CALL_INVALID_CODE = 8,
    SVM_CALL_INSUFFICIENT_BALANCE = 11,
    SVM_CALL_DEPTH = 12,
    SVM_CALL_REENTRANCY = 13,
};

/* Forward all remaining gas with svm_call. */
#define SVM_GAS_ALL ((int64_t)-1)

static inline uint32_t svm_strlen(const char *s) {
    uint32_t n = 0;
    while (s[n]) n++;
    return n;
}

/* Fails the call: code Trap, message "contract aborted: <msg>". */
__attribute__((noreturn)) static inline void svm_abort(const char *msg) {
    svm_abort_raw(SVM_PTR(msg), svm_strlen(msg));
    __builtin_unreachable();
}

/* Aborts with msg unless cond holds. */
static inline void svm_ensure(int cond, const char *msg) {
    if (!cond) svm_abort(msg);
}

static inline uint64_t svm_be64(const uint8_t *b) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | b[i];
    return v;
}

static inline void svm_put_be64(uint8_t *b, uint64_t v) {
    for (int i = 7; i >= 0; i--) { b[i] = (uint8_t)v; v >>= 8; }
}

/* Copies call data [offset, offset + len) to out; aborts when it is shorter. */
static inline void svm_calldata(uint8_t *out, uint32_t offset, uint32_t len) {
    svm_ensure(offset <= svm_calldata_len() && len <= svm_calldata_len() - offset,
               "call data too short");
    svm_calldata_copy(SVM_PTR(out), offset, len);
}

static inline void svm_set_return_data(const void *p, uint32_t len) {
    svm_set_return_data_raw(SVM_PTR(p), len);
}

static inline void svm_return_u64(uint64_t v) {
    uint8_t b[8];
    svm_put_be64(b, v);
    svm_set_return_data(b, 8);
}

static inline void svm_log(const void *p, uint32_t len) { svm_log_raw(SVM_PTR(p), len); }

/* The sender's (or this contract's) 20-byte address into out. */
static inline void svm_sender(uint8_t out[20]) {
    svm_sender_to_reg(SVM_ADDR_BITS, SVM_ADDR_IDX);
    svm_reg_to_mem_copy(SVM_ADDR_BITS, SVM_ADDR_IDX, 20, 0, SVM_PTR(out));
}

static inline void svm_self(uint8_t out[20]) {
    svm_self_to_reg(SVM_ADDR_BITS, SVM_ADDR_IDX);
    svm_reg_to_mem_copy(SVM_ADDR_BITS, SVM_ADDR_IDX, 20, 0, SVM_PTR(out));
}

/* Moves amount of this contract's own coins to `to`. */
static inline void svm_transfer(const uint8_t to[20], int64_t amount) {
    svm_mem_to_reg_copy(0, SVM_PTR(to), 20, SVM_ADDR_BITS, SVM_ADDR_IDX);
    svm_transfer_raw(SVM_ADDR_BITS, SVM_ADDR_IDX, amount);
}

static inline int64_t svm_balance(const uint8_t account[20]) {
    svm_mem_to_reg_copy(0, SVM_PTR(account), 20, SVM_ADDR_BITS, SVM_ADDR_IDX);
    return svm_get_balance_raw(SVM_ADDR_BITS, SVM_ADDR_IDX);
}

/* A u64 storage variable at (page, offset), 8 bytes big-endian. */
static inline uint64_t svm_storage_get_u64(uint32_t page, uint32_t offset) {
    uint8_t b[8];
    svm_storage_read_to_mem(page, 0, offset, 8, 0, SVM_PTR(b));
    return svm_be64(b);
}

static inline void svm_storage_set_u64(uint32_t page, uint32_t offset, uint64_t v) {
    uint8_t b[8];
    svm_put_be64(b, v);
    svm_storage_write_from_mem(0, SVM_PTR(b), 8, page, 0, offset);
}

/* Map values as u64 (8 bytes BE): 0 when absent; setting 0 removes. */
static inline uint64_t svm_map_get_u64(uint32_t map_page, const void *key, uint32_t key_len) {
    uint8_t b[8];
    if (!svm_map_get_raw(map_page, SVM_PTR(key), key_len, SVM_PTR(b), 8)) return 0;
    return svm_be64(b);
}

static inline void svm_map_set_u64(uint32_t map_page, const void *key, uint32_t key_len, uint64_t v) {
    uint8_t b[8];
    if (v == 0) {
        svm_map_remove_raw(map_page, SVM_PTR(key), key_len, 8);
        return;
    }
    svm_put_be64(b, v);
    svm_map_set_raw(map_page, SVM_PTR(key), key_len, SVM_PTR(b), 8);
}

/* Calls `function` of the contract at `addr`; an svm_call_status. */
static inline uint32_t svm_call(const uint8_t addr[20], const char *function, const void *data,
                                uint32_t data_len, int64_t gas, int64_t value) {
    svm_mem_to_reg_copy(0, SVM_PTR(addr), 20, SVM_ADDR_BITS, SVM_ADDR_IDX);
    return svm_call_raw(SVM_ADDR_BITS, SVM_ADDR_IDX, SVM_PTR(function), svm_strlen(function),
                        SVM_PTR(data), data_len, gas, value);
}

#endif /* SVM_CONTRACT_H */
