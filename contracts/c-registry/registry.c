/*
 * registry: a name registry in C over svm_contract.h (the C twin of
 * svm-sdk): 20-byte keys to u64 values in a map at header page 1, a count
 * of updates at page 0.
 *
 *   set()    call data key (20) | value (8, BE); event "Set" key | value
 *   get()    call data key (20); return data the value (8, BE; 0 if absent)
 *   count()  return data the number of `set` calls (8, BE)
 *   relay()  call data target (20) | key (20): calls target's get(key) and
 *            returns its return data (a contract-to-contract call); aborts
 *            "relay failed" when the inner call fails.
 *
 * Built by build.sh with clang --target=wasm32 and wasm-ld.
 */
#include "../../crates/svm-sdk/include/svm_contract.h"

#define VALUES 1u

SVM_EXPORT("set") void set(void) {
    uint8_t args[28];
    svm_calldata(args, 0, 28);
    svm_map_set_u64(VALUES, args, 20, svm_be64(args + 20));
    svm_storage_set_u64(0, 0, svm_storage_get_u64(0, 0) + 1);
    uint8_t ev[1 + 3 + 28] = {3, 'S', 'e', 't'};
    for (int i = 0; i < 28; i++) ev[4 + i] = args[i];
    svm_log(ev, sizeof ev);
}

SVM_EXPORT("get") void get(void) {
    uint8_t key[20];
    svm_calldata(key, 0, 20);
    svm_return_u64(svm_map_get_u64(VALUES, key, 20));
}

SVM_EXPORT("count") void count(void) { svm_return_u64(svm_storage_get_u64(0, 0)); }

SVM_EXPORT("relay") void relay(void) {
    uint8_t args[40];
    svm_calldata(args, 0, 40);
    uint32_t status = svm_call(args, "get", args + 20, 20, SVM_GAS_ALL, 0);
    svm_ensure(status == SVM_CALL_OK, "relay failed");
    uint8_t out[8];
    svm_ensure(svm_returndata_len() == 8, "bad return data");
    svm_returndata_copy(SVM_PTR(out), 0, 8);
    svm_set_return_data(out, 8);
}
