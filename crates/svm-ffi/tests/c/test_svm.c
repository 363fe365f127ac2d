/* The C API end to end: deploy the coin contract, run transfers, check the
 * receipts and the new state, hit each error path (null pointers, dead and
 * made-up handles, double frees), and use one runtime from several threads,
 * one of which destroys it. Prints a line per failed check and
 * "N passed, M failed"; exits non-zero on any failure.
 * Usage: test_svm path/to/coin.wasm */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svm.h"

/* Checks run on several threads. */
static atomic_int passed = 0, failed = 0;

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

static SvmReceipt transfer(SvmRuntime rt, const uint8_t *coin, const uint8_t *from,
                           const uint8_t *to, int64_t amount, uint64_t gas) {
  SvmValue arg = {1, amount};
  SvmReceipt r = 0;
  SvmStatus s = svm_call(rt, coin, from, "transfer", &arg, 1, to, 20, (uint64_t)(amount > 0 ? amount : 0), gas,
                          NULL, &r);
  CHECK(s == SVM_STATUS_OK && r != 0, "svm_call returns a receipt");
  return r;
}

/* Several threads on one runtime, each deploying and calling its own coin
 * contract, with accounts of its own. */
#define N_USERS 4
#define N_TRANSFERS 8
struct user {
  SvmRuntime rt;
  const unsigned char *code;
  size_t code_len;
  int id;
};

static void *user_thread(void *arg) {
  struct user *u = arg;
  uint8_t author[20], from[20], to[20], coin[20];
  memset(author, 0xc0 + u->id, 20); memset(from, 0x10 + u->id, 20); memset(to, 0x20 + u->id, 20);
  CHECK(svm_deploy(u->rt, author, 0, "coin", u->code, u->code_len, coin) == SVM_STATUS_OK, "[thread] deploy");
  CHECK(svm_fund(u->rt, from, 1000) == SVM_STATUS_OK, "[thread] fund");
  uint64_t sent = 0;
  for (int k = 0; k < N_TRANSFERS; k++) {
    SvmReceipt r = transfer(u->rt, coin, from, to, k + 1, 1000000);
    bool ok = false; uint32_t err = 99; uint8_t state[32], latest[32];
    size_t count = 0; SvmValue v = {0, 0};
    CHECK(svm_receipt_summary(r, &ok, &err, NULL, state) == SVM_STATUS_OK && ok && err == 0,
          "[thread] the transfer succeeds");
    CHECK(svm_receipt_return(r, 0, &count, &v) == SVM_STATUS_OK && count == 1 && v.value == k + 1,
          "[thread] the transfer counter of its own contract");
    CHECK(svm_contract_state(u->rt, coin, latest) == SVM_STATUS_OK && memcmp(state, latest, 32) == 0,
          "[thread] the contract's state is the receipt's");
    SvmBuffer enc = {0};
    CHECK(svm_receipt_encode(r, &enc) == SVM_STATUS_OK && enc.len == 83, "[thread] encode");
    CHECK(svm_buffer_free(enc) == SVM_STATUS_OK, "[thread] free the buffer");
    CHECK(svm_receipt_free(r) == SVM_STATUS_OK, "[thread] free the receipt");
    sent += (uint64_t)(k + 1);
  }
  uint64_t bf = 0, bt = 0;
  CHECK(svm_balance(u->rt, from, &bf) == SVM_STATUS_OK && svm_balance(u->rt, to, &bt) == SVM_STATUS_OK &&
            bf == 1000 - sent && bt == sent,
        "[thread] the balances of its accounts");
  return NULL;
}

static void threads_share_a_runtime(const unsigned char *code, size_t code_len) {
  SvmConfig cfg = {0};
  cfg.backend = SVM_BACKEND_MEMORY;
  SvmRuntime rt = 0;
  CHECK(svm_runtime_create(&cfg, &rt) == SVM_STATUS_OK, "create a shared runtime");
  pthread_t t[N_USERS];
  struct user u[N_USERS];
  for (int i = 0; i < N_USERS; i++) {
    u[i] = (struct user){rt, code, code_len, i};
    CHECK(pthread_create(&t[i], NULL, user_thread, &u[i]) == 0, "pthread_create");
  }
  for (int i = 0; i < N_USERS; i++) pthread_join(t[i], NULL);
  CHECK(svm_runtime_destroy(rt) == SVM_STATUS_OK, "destroy the shared runtime");
}

/* Workers call a runtime and read a shared receipt in a loop while another
 * thread destroys the runtime and frees the receipt: each call gives OK or
 * INVALID_HANDLE, never a crash, and every call after the destroy gives
 * INVALID_HANDLE. */
#define N_WORKERS 3
#define MAX_ROUNDS 100000
static atomic_int rounds_done = 0;
struct worker {
  SvmRuntime rt;
  SvmReceipt shared;
  uint8_t coin[20], from[20], to[20];
  int ok_calls, refused_calls, other, receipt_ok, receipt_refused;
};

static void *worker_thread(void *arg) {
  struct worker *w = arg;
  bool runtime_dead = false, receipt_dead = false;
  for (int i = 0; i < MAX_ROUNDS && !(runtime_dead && receipt_dead); i++) {
    if (!runtime_dead) {
      SvmValue amount = {1, 1};
      SvmReceipt r = 0;
      SvmStatus s = svm_call(w->rt, w->coin, w->from, "transfer", &amount, 1, w->to, 20, 1, 1000000, NULL, &r);
      if (s == SVM_STATUS_OK) {
        w->ok_calls++;
        bool ok = false;
        if (svm_receipt_summary(r, &ok, NULL, NULL, NULL) != SVM_STATUS_OK || !ok) w->other++;
        if (svm_receipt_free(r) != SVM_STATUS_OK) w->other++;
      } else if (s == SVM_STATUS_INVALID_HANDLE) {
        w->refused_calls++;
        runtime_dead = true;
      } else {
        w->other++;
      }
    }
    if (!receipt_dead) {
      uint64_t gas = 0;
      SvmStatus s = svm_receipt_summary(w->shared, NULL, NULL, &gas, NULL);
      if (s == SVM_STATUS_OK && gas > 0) {
        w->receipt_ok++;
      } else if (s == SVM_STATUS_INVALID_HANDLE) {
        w->receipt_refused++;
        receipt_dead = true;
      } else {
        w->other++;
      }
    }
    atomic_fetch_add(&rounds_done, 1);
  }
  return NULL;
}

struct destroyer {
  SvmRuntime rt;
  SvmReceipt shared;
  SvmStatus destroyed, freed;
};

static void *destroyer_thread(void *arg) {
  struct destroyer *d = arg;
  /* Let every worker get some calls in first. */
  while (atomic_load(&rounds_done) < 2 * N_WORKERS) sched_yield();
  d->destroyed = svm_runtime_destroy(d->rt);
  d->freed = svm_receipt_free(d->shared);
  return NULL;
}

static void destroy_while_in_use(const unsigned char *code, size_t code_len) {
  SvmConfig cfg = {0};
  cfg.backend = SVM_BACKEND_MEMORY;
  SvmRuntime rt = 0;
  CHECK(svm_runtime_create(&cfg, &rt) == SVM_STATUS_OK, "create a runtime to destroy");
  struct worker w[N_WORKERS];
  memset(w, 0, sizeof w);
  uint8_t author[20];
  for (int i = 0; i < N_WORKERS; i++) {
    w[i].rt = rt;
    memset(author, 0xd0 + i, 20); memset(w[i].from, 0x30 + i, 20); memset(w[i].to, 0x40 + i, 20);
    CHECK(svm_deploy(rt, author, 0, "coin", code, code_len, w[i].coin) == SVM_STATUS_OK, "deploy (destroy test)");
    CHECK(svm_fund(rt, w[i].from, MAX_ROUNDS) == SVM_STATUS_OK, "fund (destroy test)");
  }
  SvmReceipt shared = transfer(rt, w[0].coin, w[0].from, w[0].to, 1, 1000000);
  for (int i = 0; i < N_WORKERS; i++) w[i].shared = shared;
  struct destroyer d = {rt, shared, SVM_STATUS_PANIC, SVM_STATUS_PANIC};
  pthread_t t[N_WORKERS], dt;
  for (int i = 0; i < N_WORKERS; i++)
    CHECK(pthread_create(&t[i], NULL, worker_thread, &w[i]) == 0, "pthread_create");
  CHECK(pthread_create(&dt, NULL, destroyer_thread, &d) == 0, "pthread_create");
  pthread_join(dt, NULL);
  for (int i = 0; i < N_WORKERS; i++) pthread_join(t[i], NULL);
  CHECK(d.destroyed == SVM_STATUS_OK && d.freed == SVM_STATUS_OK, "destroy and free while in use");
  for (int i = 0; i < N_WORKERS; i++) {
    CHECK(w[i].other == 0, "every call gave OK or INVALID_HANDLE");
    CHECK(w[i].refused_calls == 1 && w[i].receipt_refused == 1, "each worker saw the handles die");
  }
  int calls = 0;
  for (int i = 0; i < N_WORKERS; i++) calls += w[i].ok_calls;
  CHECK(calls > 0, "calls went through before the destroy");
  uint8_t state[32];
  CHECK(svm_contract_state(rt, w[0].coin, state) == SVM_STATUS_INVALID_HANDLE, "the destroyed handle stays dead");
  CHECK(svm_runtime_destroy(rt) == SVM_STATUS_INVALID_HANDLE, "a second destroy is refused");
  CHECK(svm_receipt_free(shared) == SVM_STATUS_INVALID_HANDLE, "a second free is refused");
}

/* A block transaction: kind 1 (call) and the call's wire encoding (version
   2) of coin.transfer(amount) from `from` to `to`, carrying `amount` as its
   value. Returns its length. */
static size_t encode_transfer(uint8_t *out, const uint8_t *coin, const uint8_t *from, const uint8_t *to,
                              uint64_t amount) {
  size_t n = 0;
  out[n++] = 1; /* kind: call */
  out[n++] = 2; /* call transaction version */
  memcpy(out + n, coin, 20); n += 20;
  memcpy(out + n, from, 20); n += 20;
  out[n++] = 0; out[n++] = 8; memcpy(out + n, "transfer", 8); n += 8;
  out[n++] = 1; out[n++] = 0x7e;
  for (int i = 7; i >= 0; i--) out[n++] = (uint8_t)(amount >> (8 * i));
  out[n++] = 0; out[n++] = 0; out[n++] = 0; out[n++] = 20; memcpy(out + n, to, 20); n += 20;
  for (int i = 7; i >= 0; i--) out[n++] = (uint8_t)(amount >> (8 * i)); /* value */
  uint64_t gas = 1000000;
  for (int i = 7; i >= 0; i--) out[n++] = (uint8_t)(gas >> (8 * i));
  out[n++] = 0; /* latest state */
  return n;
}

static uint64_t be64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
  return v;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: %s coin.wasm\n", argv[0]); return 2; }
  size_t code_len = 0;
  unsigned char *code = read_file(argv[1], &code_len);
  CHECK(code != NULL, "read coin.wasm");
  if (!code) return 1;

  SvmConfig cfg = {0};
  cfg.backend = SVM_BACKEND_MEMORY;
  SvmRuntime rt = 0;
  CHECK(svm_runtime_create(&cfg, &rt) == SVM_STATUS_OK && rt != 0, "create runtime");

  uint8_t author[20], alice[20], bob[20], coin[20];
  memset(author, 0xa1, 20); memset(alice, 0xaa, 20); memset(bob, 0xbb, 20);
  CHECK(svm_validate(rt, code, code_len) == SVM_STATUS_OK, "validate coin");
  CHECK(svm_deploy(rt, author, 0, "coin", code, code_len, coin) == SVM_STATUS_OK, "deploy coin");
  CHECK(svm_fund(rt, alice, 100) == SVM_STATUS_OK, "fund alice");

  /* A transfer of 30: success, balances move, state changes. */
  uint8_t state0[32], state1[32];
  CHECK(svm_contract_state(rt, coin, state0) == SVM_STATUS_OK, "state before");
  SvmReceipt r = transfer(rt, coin, alice, bob, 30, 1000000);
  bool ok = false; uint32_t code_err = 99; uint64_t gas = 0; uint8_t new_state[32];
  CHECK(svm_receipt_summary(r, &ok, &code_err, &gas, new_state) == SVM_STATUS_OK, "summary");
  CHECK(ok && code_err == 0 && gas > 0, "transfer succeeded with gas");
  size_t count = 0; SvmValue v = {0, 0};
  CHECK(svm_receipt_return(r, 0, &count, &v) == SVM_STATUS_OK && count == 1 && v.kind == 1 && v.value == 1,
        "transfer returns the transfer count 1");
  SvmBuffer enc = {0};
  CHECK(svm_receipt_encode(r, &enc) == SVM_STATUS_OK && enc.len == 83 && enc.data[0] == 2 && enc.data[1] == 1,
        "receipt encodes: 83 bytes, version 2, success");
  CHECK(svm_buffer_free(enc) == SVM_STATUS_OK, "free the encoding");
  CHECK(svm_buffer_free(enc) == SVM_STATUS_INVALID_HANDLE, "a buffer freed twice is refused");
  CHECK(svm_receipt_free(r) == SVM_STATUS_OK, "free the receipt");
  CHECK(svm_receipt_free(r) == SVM_STATUS_INVALID_HANDLE, "a receipt freed twice is refused");
  CHECK(svm_receipt_summary(r, &ok, NULL, NULL, NULL) == SVM_STATUS_INVALID_HANDLE,
        "a freed receipt cannot be read");
  CHECK(svm_receipt_encode(r, &enc) == SVM_STATUS_INVALID_HANDLE, "a freed receipt cannot be encoded");
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

  /* A block of three transfers: two succeed, one overdraws; one batch. */
  {
    uint8_t t[3][128];
    const uint8_t *txs[3];
    size_t lens[3];
    lens[0] = encode_transfer(t[0], coin, alice, bob, 5);
    lens[1] = encode_transfer(t[1], coin, bob, alice, 1000); /* more than bob has */
    lens[2] = encode_transfer(t[2], coin, alice, bob, 5);
    for (int i = 0; i < 3; i++) txs[i] = t[i];
    uint64_t before = 0;
    CHECK(svm_last_block(rt, &before, NULL) == SVM_STATUS_OK && before > 0, "last block before");
    SvmBuffer out = {0};
    CHECK(svm_execute_block(rt, txs, lens, 3, &out) == SVM_STATUS_OK && out.len > 77 && out.data[0] == 1,
          "execute a block of three");
    uint64_t height = 0; uint8_t hash[32];
    CHECK(svm_last_block(rt, &height, hash) == SVM_STATUS_OK && height == before + 1 &&
              be64(out.data + 1) == height && memcmp(hash, out.data + 9, 32) == 0,
          "the block is the newest, with the outcome's height and hash");
    CHECK(out.data[73] == 0 && out.data[74] == 0 && out.data[75] == 0 && out.data[76] == 3, "three outcomes");
    /* Walk the outcomes: kind 1 (call), u32 length, receipt (byte 1: success). */
    size_t at = 77; int successes = 0;
    for (int i = 0; i < 3 && at + 5 <= out.len; i++) {
      uint32_t len = ((uint32_t)out.data[at + 1] << 24) | ((uint32_t)out.data[at + 2] << 16) |
                     ((uint32_t)out.data[at + 3] << 8) | out.data[at + 4];
      CHECK(out.data[at] == 1 && at + 5 + len <= out.len, "a call outcome");
      successes += out.data[at + 5 + 1];
      at += 5 + len;
    }
    CHECK(successes == 2 && at == out.len, "two of three succeeded");
    uint64_t ba2 = 0, bb2 = 0;
    svm_balance(rt, alice, &ba2); svm_balance(rt, bob, &bb2);
    CHECK(ba2 == 60 && bb2 == 40, "balances 60 / 40 after the block");
    CHECK(svm_buffer_free(out) == SVM_STATUS_OK, "free the block outcome");
    /* A transaction that does not decode: nothing runs. */
    t[1][0] = 7;
    CHECK(svm_execute_block(rt, txs, lens, 3, &out) == SVM_STATUS_INVALID_ARGUMENT &&
              strstr(svm_last_error(), "transaction 1") != NULL,
          "a bad transaction kind is refused");
    uint64_t same = 0;
    CHECK(svm_last_block(rt, &same, NULL) == SVM_STATUS_OK && same == height, "and makes no block");
    CHECK(svm_execute_block(rt, NULL, NULL, 1, &out) == SVM_STATUS_NULL_POINTER, "null transactions");
    CHECK(svm_execute_block(rt, txs, lens, 3, NULL) == SVM_STATUS_NULL_POINTER, "null out");
    CHECK(svm_execute_block(0, txs, lens, 0, &out) == SVM_STATUS_NULL_POINTER, "runtime handle 0");
  }

  /* Bad wasm. */
  const unsigned char bad[] = {0, 'a', 's', 'm', 1, 0, 0, 0, 0x99};
  CHECK(svm_deploy(rt, author, 1, "bad", bad, sizeof bad, coin) == SVM_STATUS_REJECTED &&
            strstr(svm_last_error(), "malformed") != NULL,
        "bad wasm is rejected as malformed");
  /* Null pointers and bad handles. */
  CHECK(svm_runtime_create(NULL, &rt) == SVM_STATUS_NULL_POINTER, "null config");
  CHECK(svm_deploy(rt, NULL, 0, "x", code, code_len, coin) == SVM_STATUS_NULL_POINTER, "null author");
  CHECK(svm_call(0, coin, alice, "transfer", NULL, 0, NULL, 0, 0, 1, NULL, &r) == SVM_STATUS_NULL_POINTER,
        "runtime handle 0");
  CHECK(svm_call(rt, coin, alice, NULL, NULL, 0, NULL, 0, 0, 1, NULL, &r) == SVM_STATUS_NULL_POINTER,
        "null function");
  CHECK(svm_receipt_summary(0, &ok, NULL, NULL, NULL) == SVM_STATUS_NULL_POINTER, "receipt handle 0");
  CHECK(svm_receipt_free(0) == SVM_STATUS_OK, "freeing receipt handle 0 is a no-op");
  const uint64_t garbage[] = {12345, UINT64_MAX, 1, (uint64_t)1 << 63};
  for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
    uint64_t h = garbage[i];
    CHECK(svm_validate(h, code, code_len) == SVM_STATUS_INVALID_HANDLE, "a made-up runtime handle is refused");
    CHECK(svm_call(h, coin, alice, "transfer", NULL, 0, NULL, 0, 0, 1, NULL, &r) == SVM_STATUS_INVALID_HANDLE,
          "svm_call refuses a made-up runtime handle");
    CHECK(svm_runtime_destroy(h) == SVM_STATUS_INVALID_HANDLE, "destroying a made-up handle is refused");
    CHECK(svm_receipt_summary(h, &ok, NULL, NULL, NULL) == SVM_STATUS_INVALID_HANDLE,
          "a made-up receipt handle is refused");
    CHECK(svm_receipt_free(h) == SVM_STATUS_INVALID_HANDLE, "freeing a made-up receipt handle is refused");
  }
  /* The two kinds of handle are not interchangeable. */
  r = transfer(rt, coin, alice, bob, 1, 1000000);
  CHECK(svm_validate(r, code, code_len) == SVM_STATUS_INVALID_HANDLE, "a receipt is not a runtime");
  CHECK(svm_receipt_free(rt) == SVM_STATUS_INVALID_HANDLE, "a runtime is not a receipt");
  CHECK(svm_runtime_destroy(r) == SVM_STATUS_INVALID_HANDLE, "a receipt cannot be destroyed as a runtime");
  CHECK(svm_receipt_free(r) == SVM_STATUS_OK, "free");
  /* Buffers the library did not allocate, or whose length was changed. */
  uint8_t mine[16];
  memset(mine, 7, sizeof mine);
  SvmBuffer foreign = {mine, sizeof mine, 1};
  CHECK(svm_buffer_free(foreign) == SVM_STATUS_INVALID_HANDLE && mine[0] == 7 && mine[15] == 7,
        "a foreign buffer is refused and left alone");
  SvmBuffer empty = {0};
  CHECK(svm_buffer_free(empty) == SVM_STATUS_OK, "an empty buffer frees as a no-op");
  r = transfer(rt, coin, alice, bob, 1, 1000000);
  CHECK(svm_receipt_encode(r, &enc) == SVM_STATUS_OK && enc.id != 0, "encode again");
  SvmBuffer changed = enc;
  changed.len = 3;
  CHECK(svm_buffer_free(changed) == SVM_STATUS_INVALID_ARGUMENT, "a buffer with a changed length is refused");
  CHECK(svm_buffer_free(enc) == SVM_STATUS_OK && svm_buffer_free(enc) == SVM_STATUS_INVALID_HANDLE,
        "... and stays live until freed as it was handed out");
  CHECK(svm_receipt_free(r) == SVM_STATUS_OK, "free");
  SvmValue bad_kind = {7, 0};
  CHECK(svm_call(rt, coin, alice, "transfer", &bad_kind, 1, NULL, 0, 0, 1, NULL, &r) == SVM_STATUS_INVALID_ARGUMENT,
        "bad value kind");
  cfg.backend = 9;
  SvmRuntime other = 0;
  CHECK(svm_runtime_create(&cfg, &other) == SVM_STATUS_INVALID_ARGUMENT, "unknown backend");
  cfg.backend = SVM_BACKEND_ROCKS_DB;
  cfg.path = "/proc/version/not-a-dir";
  CHECK(svm_runtime_create(&cfg, &other) == SVM_STATUS_STORAGE, "unopenable path");

  /* A receipt outlives its runtime; the runtime's handle dies with it. */
  r = transfer(rt, coin, alice, bob, 1, 1000000);
  CHECK(svm_runtime_destroy(rt) == SVM_STATUS_OK, "destroy");
  CHECK(svm_receipt_summary(r, &ok, NULL, NULL, NULL) == SVM_STATUS_OK && ok,
        "a receipt is readable after its runtime was destroyed");
  CHECK(svm_receipt_free(r) == SVM_STATUS_OK, "free");
  CHECK(svm_validate(rt, code, code_len) == SVM_STATUS_INVALID_HANDLE, "a destroyed runtime is refused");
  CHECK(svm_balance(rt, alice, &ba) == SVM_STATUS_INVALID_HANDLE, "svm_balance refuses a destroyed runtime");
  CHECK(svm_runtime_destroy(rt) == SVM_STATUS_INVALID_HANDLE, "a runtime destroyed twice is refused");
  SvmRuntime again = 0;
  cfg.backend = SVM_BACKEND_MEMORY;
  cfg.path = NULL;
  cfg.allow_set_balance = 1;
  CHECK(svm_runtime_create(&cfg, &again) == SVM_STATUS_OK && again != rt,
        "a new runtime (allow_set_balance on) gets a new handle");
  CHECK(svm_validate(rt, code, code_len) == SVM_STATUS_INVALID_HANDLE, "the old handle stays dead");
  CHECK(svm_runtime_destroy(again) == SVM_STATUS_OK, "destroy the new runtime");
  /* Keeping one block, synced: blocks commit, older states are pruned. */
  cfg.allow_set_balance = 0;
  cfg.keep_blocks = 1;
  cfg.sync_writes = 1;
  CHECK(svm_runtime_create(&cfg, &again) == SVM_STATUS_OK, "a runtime keeping one block, synced");
  uint8_t kept_coin[20], first[32], second[32];
  CHECK(svm_deploy(again, author, 0, "coin", code, code_len, kept_coin) == SVM_STATUS_OK &&
            svm_fund(again, alice, 10) == SVM_STATUS_OK,
        "deploy and fund (keep 1)");
  r = transfer(again, kept_coin, alice, bob, 1, 1000000);
  svm_receipt_free(r);
  svm_contract_state(again, kept_coin, first);
  r = transfer(again, kept_coin, alice, bob, 1, 1000000);
  svm_receipt_free(r);
  svm_contract_state(again, kept_coin, second);
  uint8_t word[8];
  CHECK(svm_read_slice(again, kept_coin, second, 0, 0, 8, word) == SVM_STATUS_OK && word[7] == 2,
        "the newest state reads");
  CHECK(svm_read_slice(again, kept_coin, first, 0, 0, 8, word) != SVM_STATUS_OK,
        "the state before it was pruned");
  CHECK(svm_runtime_destroy(again) == SVM_STATUS_OK, "destroy (keep 1)");

  threads_share_a_runtime(code, code_len);
  destroy_while_in_use(code, code_len);

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
