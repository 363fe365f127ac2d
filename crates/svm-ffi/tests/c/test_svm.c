/* The C API end to end: deploy the coin contract, run transfers, check the
 * receipts and the new state, and hit each error path. Prints one line per
 * check and "N passed, M failed"; exits non-zero on any failure.
 * Usage: test_svm path/to/coin.wasm */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svm.h"

static int passed = 0, failed = 0;

#define CHECK(cond, what)                                          \
  do {                                                             \
    if (cond) {                                                    \
      passed++;                                                    \
    } else {                                                       \
      failed++;                                                    \
      fprintf(stderr, "FAIL %s (last error: %s)\n", what, svm_last_error()); \
    }                                                              \
  } while (0)

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)n);
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* Balances served by the embedder through callbacks. */
static uint64_t node_balances[3] = {50, 0, 0}; /* 0xaa…, 0xbb…, the coin */
static int applied = 0;
static int slot(const uint8_t *a) { return a[0] == 0xaa ? 0 : a[0] == 0xbb ? 1 : 2; }
static int32_t cb_get(void *ctx, const uint8_t *account, uint64_t *out) {
  (void)ctx;
  *out = node_balances[slot(account)];
  return 0;
}
static void cb_apply(void *ctx, const uint8_t *account, uint64_t balance) {
  (*(int *)ctx)++;
  node_balances[slot(account)] = balance;
}

static SvmReceipt *transfer(SvmRuntime *rt, const uint8_t *coin, const uint8_t *from,
                            const uint8_t *to, int64_t amount, uint64_t gas) {
  SvmValue arg = {1, amount};
  SvmReceipt *r = NULL;
  SvmStatus s = svm_call(rt, coin, from, "transfer", &arg, 1, to, 20, gas, (uint64_t)(amount > 0 ? amount : 0), NULL, &r);
  CHECK(s == SVM_STATUS_OK && r != NULL, "svm_call returns a receipt");
  return r;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s coin.wasm\n", argv[0]); return 2; }
  size_t code_len = 0;
  unsigned char *code = read_file(argv[1], &code_len);
  CHECK(code != NULL, "read coin.wasm");
  if (!code) return 1;

  SvmConfig cfg = {0};
  cfg.backend = SVM_BACKEND_MEMORY;
  SvmRuntime *rt = NULL;
  CHECK(svm_runtime_create(&cfg, &rt) == SVM_STATUS_OK && rt, "create runtime");

  uint8_t author[20], alice[20], bob[20], coin[20];
  memset(author, 0xa1, 20); memset(alice, 0xaa, 20); memset(bob, 0xbb, 20);
  CHECK(svm_validate(rt, code, code_len) == SVM_STATUS_OK, "validate coin");
  CHECK(svm_deploy(rt, author, 0, "coin", code, code_len, coin) == SVM_STATUS_OK, "deploy coin");
  CHECK(svm_fund(rt, alice, 100) == SVM_STATUS_OK, "fund alice");

  /* A transfer of 30: success, balances move, state changes. */
  uint8_t state0[32], state1[32];
  CHECK(svm_contract_state(rt, coin, state0) == SVM_STATUS_OK, "state before");
  SvmReceipt *r = transfer(rt, coin, alice, bob, 30, 1000000);
  bool ok = false; uint32_t code_err = 99; uint64_t gas = 0; uint8_t new_state[32];
  CHECK(svm_receipt_summary(r, &ok, &code_err, &gas, new_state) == SVM_STATUS_OK, "summary");
  CHECK(ok && code_err == 0 && gas > 0, "transfer succeeded with gas");
  size_t count = 0; SvmValue v = {0, 0};
  CHECK(svm_receipt_return(r, 0, &count, &v) == SVM_STATUS_OK && count == 1 && v.kind == 1 && v.value == 1,
        "transfer returns the transfer count 1");
  SvmBuffer enc = {0};
  CHECK(svm_receipt_encode(r, &enc) == SVM_STATUS_OK && enc.len == 79 && enc.data[0] == 1 && enc.data[1] == 1,
        "receipt encodes: 79 bytes, version 1, success");
  svm_buffer_free(enc);
  svm_receipt_free(r);
  CHECK(svm_contract_state(rt, coin, state1) == SVM_STATUS_OK && memcmp(state1, new_state, 32) == 0 &&
            memcmp(state0, state1, 32) != 0,
        "the contract's state is the receipt's new state");
  uint64_t ba = 0, bb = 0;
  svm_balance(rt, alice, &ba); svm_balance(rt, bob, &bb);
  CHECK(ba == 70 && bb == 30, "balances 70 / 30");
  uint8_t slice[8];
  CHECK(svm_read_slice(rt, coin, state1, 0, 0, 8, slice) == SVM_STATUS_OK && slice[7] == 1,
        "read the transfer counter slice");

  /* Insufficient balance: a failed receipt, nothing changes. */
  r = transfer(rt, coin, bob, alice, 31, 1000000);
  svm_receipt_summary(r, &ok, &code_err, NULL, new_state);
  CHECK(!ok && code_err == 11 && memcmp(new_state, state1, 32) == 0,
        "overdraw is a failed receipt (InsufficientBalance)");
  svm_receipt_free(r);
  /* Out of gas. */
  r = transfer(rt, coin, alice, bob, 1, 1500);
  svm_receipt_summary(r, &ok, &code_err, &gas, NULL);
  CHECK(!ok && code_err == 6 && gas == 1500, "out of gas uses the whole limit");
  svm_receipt_free(r);
  /* Unknown contract. */
  uint8_t nobody[20]; memset(nobody, 0x42, 20);
  r = transfer(rt, nobody, alice, bob, 1, 1000000);
  svm_receipt_summary(r, &ok, &code_err, NULL, NULL);
  CHECK(!ok && code_err == 1, "unknown contract: ContractNotFound");
  svm_receipt_free(r);
  CHECK(svm_contract_state(rt, nobody, state0) == SVM_STATUS_NOT_FOUND, "state of nobody: NOT_FOUND");

  /* Bad wasm. */
  const unsigned char bad[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x99};
  CHECK(svm_deploy(rt, author, 1, "bad", bad, sizeof bad, coin) == SVM_STATUS_REJECTED &&
            strstr(svm_last_error(), "malformed") != NULL,
        "bad wasm is rejected as malformed");
  /* Null pointers and bad handles. */
  CHECK(svm_runtime_create(NULL, &rt) == SVM_STATUS_NULL_POINTER, "null config");
  CHECK(svm_deploy(rt, NULL, 0, "x", code, code_len, coin) == SVM_STATUS_NULL_POINTER, "null author");
  CHECK(svm_call(NULL, coin, alice, "transfer", NULL, 0, NULL, 0, 1, 0, NULL, &r) == SVM_STATUS_NULL_POINTER,
        "null runtime");
  CHECK(svm_call(rt, coin, alice, NULL, NULL, 0, NULL, 0, 1, 0, NULL, &r) == SVM_STATUS_NULL_POINTER,
        "null function");
  CHECK(svm_receipt_summary(NULL, &ok, NULL, NULL, NULL) == SVM_STATUS_NULL_POINTER, "null receipt");
  uint64_t not_a_runtime[8] = {0};
  CHECK(svm_validate((SvmRuntime *)not_a_runtime, code, code_len) == SVM_STATUS_INVALID_HANDLE,
        "a bogus handle is refused");
  SvmValue bad_kind = {7, 0};
  CHECK(svm_call(rt, coin, alice, "transfer", &bad_kind, 1, NULL, 0, 1, 0, NULL, &r) == SVM_STATUS_INVALID_ARGUMENT,
        "bad value kind");
  cfg.backend = 9;
  SvmRuntime *other = NULL;
  CHECK(svm_runtime_create(&cfg, &other) == SVM_STATUS_INVALID_ARGUMENT, "unknown backend");
  cfg.backend = SVM_BACKEND_ROCKS_DB;
  cfg.path = "/proc/version/not-a-dir";
  CHECK(svm_runtime_create(&cfg, &other) == SVM_STATUS_STORAGE, "unopenable path");

  CHECK(svm_runtime_destroy(rt) == SVM_STATUS_OK, "destroy");

  /* A runtime whose balances live in the embedder, through callbacks. */
  SvmConfig cb = {0};
  cb.backend = SVM_BACKEND_MEMORY;
  cb.balance_get = cb_get;
  cb.balance_apply = cb_apply;
  cb.callback_ctx = &applied;
  CHECK(svm_runtime_create(&cb, &rt) == SVM_STATUS_OK, "create with callbacks");
  CHECK(svm_deploy(rt, author, 0, "coin", code, code_len, coin) == SVM_STATUS_OK, "deploy (callbacks)");
  r = transfer(rt, coin, alice, bob, 20, 1000000);
  svm_receipt_summary(r, &ok, NULL, NULL, NULL);
  svm_receipt_free(r);
  /* The value moves alice -> coin -> bob: three accounts applied, the coin's at 0. */
  CHECK(ok && applied == 3 && node_balances[0] == 30 && node_balances[1] == 20 && node_balances[2] == 0,
        "a successful call applies its balances through the callback");
  r = transfer(rt, coin, alice, bob, 31, 1000000);
  svm_receipt_summary(r, &ok, NULL, NULL, NULL);
  svm_receipt_free(r);
  CHECK(!ok && applied == 3 && node_balances[0] == 30, "a failed call applies nothing");
  CHECK(svm_fund(rt, alice, 1) == SVM_STATUS_INVALID_ARGUMENT, "svm_fund needs the KV host");
  CHECK(svm_runtime_destroy(rt) == SVM_STATUS_OK, "destroy (callbacks)");
  free(code);
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
