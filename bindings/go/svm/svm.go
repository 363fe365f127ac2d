package svm

/*
#cgo CFLAGS: -I${SRCDIR}/../../../crates/svm-ffi/include
#cgo LDFLAGS: -lsvm_ffi -lstdc++ -lgcc_s -lpthread -lm -ldl -lrt
#include <stdint.h>
#include <stdlib.h>
#include "svm.h"

// The exported Go callbacks (callbacks.go), reached through these C
// functions of the SvmBalanceGet and SvmBalanceApply types; the context
// is a runtime/cgo.Handle.
extern int32_t svmGoBalanceGet(uintptr_t ctx, uint8_t *account, uint64_t *out);
extern void svmGoBalanceApply(uintptr_t ctx, uint8_t *account, uint64_t balance);

static int32_t svm_go_balance_get(void *ctx, const uint8_t *account, uint64_t *out) {
	return svmGoBalanceGet((uintptr_t)ctx, (uint8_t *)account, out);
}

static void svm_go_balance_apply(void *ctx, const uint8_t *account, uint64_t balance) {
	svmGoBalanceApply((uintptr_t)ctx, (uint8_t *)account, balance);
}

static void svm_go_set_callbacks(SvmConfig *cfg, uintptr_t ctx) {
	cfg->balance_get = svm_go_balance_get;
	cfg->balance_apply = svm_go_balance_apply;
	cfg->callback_ctx = (void *)ctx;
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"
)

// ccall runs f, a call into the library, on a locked OS thread, and turns
// a failed status into an *Error with the thread's svm_last_error message.
func ccall(op string, f func() C.enum_SvmStatus) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := f()
	if s == C.SVM_STATUS_OK {
		return nil
	}
	return &Error{Op: op, Status: Status(s), Message: C.GoString(C.svm_last_error())}
}

// cstring is s as a C string to free with C.free, or an
// StatusInvalidArgument error when s holds a NUL byte (which C would take
// for its end).
func cstring(op, what, s string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, &Error{Op: op, Status: StatusInvalidArgument, Message: what + " contains a NUL byte"}
	}
	return C.CString(s), nil
}

// bytePtr is a pointer to the first byte of b for the duration of a C
// call, or nil when b is empty.
func bytePtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// Runtime is a runtime of the C library: a storage backend, the deployed
// contracts and a module cache. Its methods are safe for concurrent use:
// calls on different contracts run in parallel (the caller orders calls
// on one contract). Close it when done: until then it keeps its database
// open (there is no finalizer). A nil or zero Runtime gives
// StatusNullPointer; a closed one gives StatusInvalidHandle. Do not copy a
// Runtime; share the pointer.
type Runtime struct {
	handle uint64 // the library's SvmRuntime

	mu     sync.Mutex
	closed bool
	calls  int        // library calls in progress
	host   cgo.Handle // the *host of Config.Balances; 0 if none
}

// host is what a runtime's callback context stands for.
type host struct {
	h BalanceHost
	// panics holds a panic of a BalanceHost method by the OS thread that
	// ran it, for the Call on that thread to raise again.
	panics sync.Map // int (thread id) -> interface{}
}

// NewRuntime opens a runtime. Errors: StatusInvalidArgument (an unknown
// backend, a path with a NUL byte or not UTF-8), StatusStorage (the
// database cannot be opened, e.g. it is open in another runtime),
// StatusTooManyHandles.
func NewRuntime(cfg Config) (*Runtime, error) {
	var c C.SvmConfig
	c.backend = C.uint32_t(cfg.Backend)
	c.module_cache_bytes = C.uint64_t(cfg.ModuleCacheBytes)
	c.deploy_gas_limit = C.uint64_t(cfg.DeployGasLimit)
	if cfg.AllowSetBalance {
		c.allow_set_balance = 1
	}
	if cfg.SyncWrites {
		c.sync_writes = 1
	}
	c.keep_blocks = C.uint64_t(cfg.KeepBlocks)
	c.max_call_depth = C.uint32_t(cfg.MaxCallDepth)
	if cfg.AllowReentrancy {
		c.allow_reentrancy = 1
	}
	if cfg.Backend != BackendMemory {
		p, err := cstring("open", "path", cfg.Path)
		if err != nil {
			return nil, err
		}
		defer C.free(unsafe.Pointer(p))
		c.path = p
	}
	var hh cgo.Handle
	if cfg.Balances != nil {
		hh = cgo.NewHandle(&host{h: cfg.Balances})
		C.svm_go_set_callbacks(&c, C.uintptr_t(hh))
	}
	var h C.SvmRuntime
	err := ccall("open", func() C.enum_SvmStatus { return C.svm_runtime_create(&c, &h) })
	if err != nil {
		if hh != 0 {
			hh.Delete()
		}
		return nil, err
	}
	return &Runtime{handle: uint64(h), host: hh}, nil
}

// enter registers a library call on rt and gives its handle; leave ends
// it. The callback context outlives every call that may use it.
func (rt *Runtime) enter(op string) (C.SvmRuntime, error) {
	if rt == nil {
		return 0, &Error{Op: op, Status: StatusNullPointer, Message: "nil runtime"}
	}
	rt.mu.Lock()
	rt.calls++
	rt.mu.Unlock()
	return C.SvmRuntime(rt.handle), nil
}

func (rt *Runtime) leave() {
	rt.mu.Lock()
	rt.calls--
	rt.release()
	rt.mu.Unlock()
}

// release drops the callback context of a closed runtime once no call is
// in progress. rt.mu is held.
func (rt *Runtime) release() {
	if rt.closed && rt.calls == 0 && rt.host != 0 {
		rt.host.Delete()
		rt.host = 0
	}
}

// Close destroys the runtime; every later use of it, a second Close
// included, gives StatusInvalidHandle. Calls in progress on other
// goroutines finish normally, and the database is closed when the last of
// them returns (until then, opening the same directory again can fail
// with StatusStorage). Errors: StatusInvalidHandle (closed already),
// StatusNullPointer (a nil or zero Runtime).
func (rt *Runtime) Close() error {
	h, err := rt.enter("close")
	if err != nil {
		return err
	}
	defer rt.leave()
	err = ccall("close", func() C.enum_SvmStatus { return C.svm_runtime_destroy(h) })
	rt.mu.Lock()
	rt.closed = true
	rt.mu.Unlock()
	return err
}

// Validate runs the deploy gate over code (a wasm binary) without storing
// anything. Errors: StatusRejected with every finding in the message.
func (rt *Runtime) Validate(code []byte) error {
	h, err := rt.enter("validate")
	if err != nil {
		return err
	}
	defer rt.leave()
	return ccall("validate", func() C.enum_SvmStatus {
		return C.svm_validate(h, bytePtr(code), C.uintptr_t(len(code)))
	})
}

// Deploy deploys code (a wasm binary) by author with nonce, under name
// (may be empty), with the runtime's deploy gas limit, and gives the new
// contract's address, which depends on author, nonce and code only.
// Errors: StatusRejected (the deploy gate, size, gas, compile, an existing
// contract at the address), StatusStorage, StatusInvalidArgument (name
// with a NUL byte or not UTF-8).
func (rt *Runtime) Deploy(author Address, nonce uint64, name string, code []byte) (Address, error) {
	var out Address
	h, err := rt.enter("deploy")
	if err != nil {
		return out, err
	}
	defer rt.leave()
	n, err := cstring("deploy", "name", name)
	if err != nil {
		return out, err
	}
	defer C.free(unsafe.Pointer(n))
	err = ccall("deploy", func() C.enum_SvmStatus {
		return C.svm_deploy(h, bytePtr(author[:]), C.uint64_t(nonce), n,
			bytePtr(code), C.uintptr_t(len(code)), bytePtr(out[:]))
	})
	return out, err
}

// Call runs a transaction and gives its receipt. A failed transaction
// (unknown contract, trap, out of gas, insufficient balance, ...) is not
// an error: its receipt says why (Receipt.Err). Errors:
// StatusInvalidArgument (a bad value kind, a function name with a NUL byte
// or not UTF-8), StatusTooManyHandles (the transaction ran, but its
// receipt was lost). A panic of the runtime's BalanceHost is raised again
// here.
func (rt *Runtime) Call(call Call) (*Receipt, error) {
	r, err := rt.call(call)
	if err != nil {
		return nil, err
	}
	defer freeReceipt(r)
	return readReceipt(r)
}

// call runs a transaction and gives the library's receipt handle, to free
// with freeReceipt.
func (rt *Runtime) call(call Call) (uint64, error) {
	h, err := rt.enter("call")
	if err != nil {
		return 0, err
	}
	defer rt.leave()
	fn, err := cstring("call", "function", call.Function)
	if err != nil {
		return 0, err
	}
	defer C.free(unsafe.Pointer(fn))
	args := make([]C.SvmValue, len(call.Args))
	for i, a := range call.Args {
		args[i].kind = C.uint8_t(a.Kind)
		args[i].value = C.int64_t(a.Int)
	}
	var argp *C.SvmValue
	if len(args) > 0 {
		argp = &args[0]
	}
	var state *C.uint8_t
	var st State
	if call.State != nil {
		st = *call.State
		state = bytePtr(st[:])
	}
	var r C.SvmReceipt
	var raised interface{}
	err = ccall("call", func() C.enum_SvmStatus {
		s := C.svm_call(h, bytePtr(call.Contract[:]), bytePtr(call.Sender[:]), fn, argp,
			C.uintptr_t(len(args)), bytePtr(call.Calldata), C.uintptr_t(len(call.Calldata)),
			C.uint64_t(call.Value), C.uint64_t(call.GasLimit), state, &r)
		raised = rt.takePanic()
		return s
	})
	if raised != nil {
		if err == nil {
			_ = freeReceipt(uint64(r))
		}
		panic(raised)
	}
	return uint64(r), err
}

// takePanic gives (and forgets) a panic of the runtime's BalanceHost on
// the current OS thread, or nil. The thread is locked.
func (rt *Runtime) takePanic() interface{} {
	rt.mu.Lock()
	hh := rt.host
	rt.mu.Unlock()
	if hh == 0 {
		return nil
	}
	p, _ := hh.Value().(*host).panics.LoadAndDelete(threadID())
	return p
}

// readReceipt copies the receipt r out of the library.
func readReceipt(handle uint64) (*Receipt, error) {
	r := C.SvmReceipt(handle)
	var (
		ok    C.bool
		code  C.uint32_t
		gas   C.uint64_t
		state State
		count C.uintptr_t
	)
	err := ccall("receipt", func() C.enum_SvmStatus {
		return C.svm_receipt_summary(r, &ok, &code, &gas, bytePtr(state[:]))
	})
	if err != nil {
		return nil, err
	}
	if err := ccall("receipt", func() C.enum_SvmStatus {
		return C.svm_receipt_return(r, 0, &count, nil)
	}); err != nil {
		return nil, err
	}
	returns := make([]Value, 0, int(count))
	for i := 0; i < int(count); i++ {
		var v C.SvmValue
		if err := ccall("receipt", func() C.enum_SvmStatus {
			return C.svm_receipt_return(r, C.uintptr_t(i), nil, &v)
		}); err != nil {
			return nil, err
		}
		returns = append(returns, Value{Kind: Kind(v.kind), Int: int64(v.value)})
	}
	rec := &Receipt{}
	enc, err := encodeReceipt(handle)
	switch {
	case err == nil:
		if rec, err = DecodeReceipt(enc); err != nil {
			return nil, fmt.Errorf("svm: call: the library's receipt encoding does not decode: %w", err)
		}
	case err.(*Error).Status != StatusInvalidArgument: // InvalidArgument: over a wire limit
		return nil, err
	}
	rec.Success = bool(ok)
	rec.ErrorCode = ErrorCode(code)
	rec.GasUsed = uint64(gas)
	rec.NewState = state
	rec.Returns = returns
	if len(returns) == 0 {
		rec.Returns = nil
	}
	return rec, nil
}

// encodeReceipt gives the transport encoding of the receipt r, copied out
// of the library's buffer, which it frees.
func encodeReceipt(r uint64) ([]byte, error) {
	buf, err := encodeBuffer(r)
	if err != nil {
		return nil, err
	}
	b := C.GoBytes(unsafe.Pointer(buf.data), C.int(buf.len))
	if err := freeBuffer(buf); err != nil {
		return nil, err
	}
	return b, nil
}

// encodeBuffer gives the transport encoding of the receipt r in a buffer
// of the library, to free with freeBuffer.
func encodeBuffer(r uint64) (C.SvmBuffer, error) {
	var buf C.SvmBuffer
	err := ccall("receipt", func() C.enum_SvmStatus { return C.svm_receipt_encode(C.SvmReceipt(r), &buf) })
	return buf, err
}

// freeReceipt frees the receipt r.
func freeReceipt(r uint64) error {
	return ccall("receipt", func() C.enum_SvmStatus { return C.svm_receipt_free(C.SvmReceipt(r)) })
}

// freeBuffer frees a buffer of the library.
func freeBuffer(b C.SvmBuffer) error {
	return ccall("buffer", func() C.enum_SvmStatus { return C.svm_buffer_free(b) })
}

// ContractState gives the latest state root of contract. Errors:
// StatusNotFound (no contract there), StatusStorage.
func (rt *Runtime) ContractState(contract Address) (State, error) {
	var out State
	h, err := rt.enter("contract state")
	if err != nil {
		return out, err
	}
	defer rt.leave()
	err = ccall("contract state", func() C.enum_SvmStatus {
		return C.svm_contract_state(h, bytePtr(contract[:]), bytePtr(out[:]))
	})
	return out, err
}

// ReadSlice reads length bytes at byte offset of page page of contract's
// storage, as of the committed state root state, read-only (zeros where
// never written). The slice must lie within its PageSize-byte page.
// Errors: StatusNotFound (a state the contract never committed),
// StatusInvalidArgument (a slice outside its page).
func (rt *Runtime) ReadSlice(contract Address, state State, page, offset, length uint32) ([]byte, error) {
	h, err := rt.enter("read slice")
	if err != nil {
		return nil, err
	}
	defer rt.leave()
	if length > PageSize { // no slice is longer: refused before allocating
		return nil, &Error{Op: "read slice", Status: StatusInvalidArgument,
			Message: fmt.Sprintf("a slice of %d bytes is longer than a page (%d bytes)", length, PageSize)}
	}
	out := make([]byte, length)
	err = ccall("read slice", func() C.enum_SvmStatus {
		return C.svm_read_slice(h, bytePtr(contract[:]), bytePtr(state[:]), C.uint32_t(page),
			C.uint32_t(offset), C.uint32_t(length), bytePtr(out))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Fund sets the balance of account, kept in the runtime's own store, to
// amount. Errors: StatusInvalidArgument (the runtime has a BalanceHost),
// StatusStorage.
func (rt *Runtime) Fund(account Address, amount uint64) error {
	h, err := rt.enter("fund")
	if err != nil {
		return err
	}
	defer rt.leave()
	return ccall("fund", func() C.enum_SvmStatus {
		return C.svm_fund(h, bytePtr(account[:]), C.uint64_t(amount))
	})
}

// Balance gives the balance of account, kept in the runtime's own store.
// Errors: StatusInvalidArgument (the runtime has a BalanceHost: ask it),
// StatusStorage.
func (rt *Runtime) Balance(account Address) (uint64, error) {
	h, err := rt.enter("balance")
	if err != nil {
		return 0, err
	}
	defer rt.leave()
	var out C.uint64_t
	err = ccall("balance", func() C.enum_SvmStatus {
		return C.svm_balance(h, bytePtr(account[:]), &out)
	})
	return uint64(out), err
}
