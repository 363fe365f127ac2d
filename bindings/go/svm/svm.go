// Package svm runs WebAssembly smart contracts with the svm runtime, from Go.
//
// It is a cgo binding over the C API of crates/svm-ffi (include/svm.h and
// the static library libsvm_ffi.a). Everything it returns is Go memory:
// receipts are copied out of the library and freed before a call returns,
// errors are Go errors (*Error, with the library's status and message),
// and no C type appears in the API. A Runtime is safe for concurrent use;
// Close it when done.
//
// Link flags: the package does not know where the static library is built;
// set CGO_LDFLAGS to "/path/to/libsvm_ffi.a -lstdc++ -lgcc_s -lpthread -lm
// -ldl -lrt" (scripts/go-test.sh does).
package svm

/*
#cgo CFLAGS: -I${SRCDIR}/../../../crates/svm-ffi/include
#include <stdlib.h>
#include "svm.h"

extern int32_t svmGoBalanceGet(void *ctx, uint8_t *account, uint64_t *out);
extern void svmGoBalanceApply(void *ctx, uint8_t *account, uint64_t balance);

static void svm_go_callbacks(SvmConfig *c, void *ctx) {
	c->balance_get = (SvmBalanceGet)svmGoBalanceGet;
	c->balance_apply = (SvmBalanceApply)svmGoBalanceApply;
	c->callback_ctx = ctx;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Address is a 20-byte account or contract address.
type Address [20]byte

// State is a 32-byte contract state root.
type State [32]byte

// Backend is where a runtime keeps its data.
type Backend uint32

const (
	// Memory keeps everything in memory; nothing persists.
	Memory Backend = 0
	// RocksDB keeps the data in a RocksDB database in Config.Path.
	RocksDB Backend = 1
	// LevelDB keeps the data in a LevelDB database in Config.Path.
	LevelDB Backend = 2
)

// Status is the library's status code of a failed function (the
// SvmStatus values of svm.h).
type Status int

// The statuses an *Error carries.
const (
	StatusNullPointer     Status = 1 // a required value was missing
	StatusInvalidHandle   Status = 2 // a closed runtime or freed receipt
	StatusInvalidArgument Status = 3 // bad UTF-8, backend, value kind, slice
	StatusStorage         Status = 4 // the database failed
	StatusRejected        Status = 5 // the code was rejected at deploy
	StatusNotFound        Status = 6 // no such contract or state
	StatusPanic           Status = 7 // a bug inside the library
	StatusTooManyHandles  Status = 8 // too many live runtimes or receipts
)

// Error is a failed library call: its status and the library's one-line
// message.
type Error struct {
	Status  Status
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("svm: %s (status %d)", e.Message, int(e.Status))
}

// ErrClosed is returned by every method of a closed Runtime.
var ErrClosed = errors.New("svm: the runtime is closed")

// BalanceHost serves the node's account balances to the `node` vmcalls
// when a full node keeps them itself (Config.Balances). Both methods may
// be called from several goroutines at once.
type BalanceHost interface {
	// Balance is the balance of account; an error fails the call.
	Balance(account Address) (uint64, error)
	// Apply receives one final balance of a successful call, after the
	// contract's state was committed.
	Apply(account Address, balance uint64)
}

// Config is how to create a runtime; the zero value is an in-memory
// runtime with the defaults.
type Config struct {
	// Backend is where the data lives. Default: Memory.
	Backend Backend
	// Path is the database directory (created with its parents when
	// missing); ignored for Memory.
	Path string
	// ModuleCacheBytes is the memory budget of the compiled-module cache,
	// in bytes (0: 256 MiB).
	ModuleCacheBytes uint64
	// DeployGasLimit is the gas every deploy gets (0: 100 000 000).
	DeployGasLimit uint64
	// Balances, when set, serves and receives the node's balances; when
	// nil they live in the runtime's own database (Fund and Balance).
	Balances BalanceHost
	// AllowSetBalance lets contracts import node.vmcall_set_balance,
	// which sets any account's balance (SVM milestone-1 compatibility;
	// unsafe for untrusted code). Default: false.
	AllowSetBalance bool
}

// Runtime is a running svm: deploy contracts and call them. Safe for
// concurrent use.
type Runtime struct {
	mu     sync.RWMutex
	handle C.SvmRuntime
	ctx    unsafe.Pointer // C memory holding the cgo.Handle of Balances
	host   cgo.Handle
}

// call runs f on a locked OS thread and turns a status into an error with
// the library's message (kept per thread).
func call(f func() C.enum_SvmStatus) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	s := f()
	if s == C.SVM_STATUS_OK {
		return nil
	}
	return &Error{Status: Status(s), Message: C.GoString(C.svm_last_error())}
}

func cBytes(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// New creates a runtime. Errors: StatusInvalidArgument (unknown backend,
// bad path), StatusStorage (the database cannot be opened).
func New(cfg Config) (*Runtime, error) {
	var c C.SvmConfig
	c.backend = C.uint32_t(cfg.Backend)
	c.module_cache_bytes = C.uint64_t(cfg.ModuleCacheBytes)
	c.deploy_gas_limit = C.uint64_t(cfg.DeployGasLimit)
	if cfg.AllowSetBalance {
		c.allow_set_balance = 1
	}
	if cfg.Path != "" {
		p := C.CString(cfg.Path)
		defer C.free(unsafe.Pointer(p))
		c.path = p
	}
	r := &Runtime{}
	if cfg.Balances != nil {
		r.host = cgo.NewHandle(cfg.Balances)
		r.ctx = C.malloc(C.size_t(unsafe.Sizeof(C.uintptr_t(0))))
		*(*C.uintptr_t)(r.ctx) = C.uintptr_t(r.host)
		C.svm_go_callbacks(&c, r.ctx)
	}
	var h C.SvmRuntime
	if err := call(func() C.enum_SvmStatus { return C.svm_runtime_create(&c, &h) }); err != nil {
		r.release()
		return nil, err
	}
	r.handle = h
	return r, nil
}

func (r *Runtime) release() {
	if r.ctx != nil {
		C.free(r.ctx)
		r.ctx = nil
		r.host.Delete()
	}
}

// Close destroys the runtime and closes its database; later calls give
// ErrClosed (Close too).
func (r *Runtime) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.handle == 0 {
		return ErrClosed
	}
	err := call(func() C.enum_SvmStatus { return C.svm_runtime_destroy(r.handle) })
	r.handle = 0
	r.release()
	return err
}

// with runs f with the live handle, holding the runtime open meanwhile.
func (r *Runtime) with(f func(h C.SvmRuntime) C.enum_SvmStatus) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.handle == 0 {
		return ErrClosed
	}
	return call(func() C.enum_SvmStatus { return f(r.handle) })
}

// Validate runs the deploy gate over code without deploying it; a
// rejection is StatusRejected with every finding in the message.
func (r *Runtime) Validate(code []byte) error {
	return r.with(func(h C.SvmRuntime) C.enum_SvmStatus {
		return C.svm_validate(h, cBytes(code), C.uintptr_t(len(code)))
	})
}

// Deploy stores code as a new contract of author with nonce and returns
// its address (derived from author, nonce and the code). Errors:
// StatusRejected (gate, size, gas, compile, already deployed),
// StatusStorage.
func (r *Runtime) Deploy(author Address, nonce uint64, name string, code []byte) (Address, error) {
	var out Address
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	err := r.with(func(h C.SvmRuntime) C.enum_SvmStatus {
		return C.svm_deploy(h, (*C.uint8_t)(&author[0]), C.uint64_t(nonce), cname,
			cBytes(code), C.uintptr_t(len(code)), (*C.uint8_t)(&out[0]))
	})
	return out, err
}

// Kind is the wasm type of a Value.
type Kind uint8

const (
	// I32 is a 32-bit integer.
	I32 Kind = 0
	// I64 is a 64-bit integer.
	I64 Kind = 1
)

// Value is a wasm argument or result: its kind and its value (an i32 is
// sign-extended).
type Value struct {
	Kind Kind
	Int  int64
}

// Int32 is an i32 value.
func Int32(v int32) Value { return Value{Kind: I32, Int: int64(v)} }

// Int64 is an i64 value.
func Int64(v int64) Value { return Value{Kind: I64, Int: v} }

// Call is a call transaction.
type Call struct {
	Contract Address
	Sender   Address
	Function string
	Args     []Value
	Calldata []byte
	// Value is moved from the sender's balance to the contract's with the
	// call (returned if it fails).
	Value uint64
	// GasLimit is the most gas the call may use.
	GasLimit uint64
	// State, when set, makes the call a read-only query at that state
	// root; nil runs at the latest state and commits on success.
	State *State
}

// Receipt is the outcome of a call, copied out of the library.
type Receipt struct {
	Success bool
	// ErrorCode is 0 on success, else a code of docs/wire-formats.md
	// (e.g. 6 out of gas, 11 insufficient balance).
	ErrorCode uint32
	GasUsed   uint64
	// NewState is the contract's state root after the call.
	NewState State
	Returns  []Value
	// Wire is the receipt's wire encoding.
	Wire []byte
}

// Call runs a call transaction. A failed transaction is a Receipt with
// Success false, not an error; errors are for calls that could not be
// made (StatusInvalidArgument: a bad value kind or function name).
func (r *Runtime) Call(c Call) (Receipt, error) {
	var rec Receipt
	fn := C.CString(c.Function)
	defer C.free(unsafe.Pointer(fn))
	var args *C.SvmValue
	if len(c.Args) > 0 {
		args = (*C.SvmValue)(C.malloc(C.size_t(len(c.Args)) * C.size_t(unsafe.Sizeof(C.SvmValue{}))))
		defer C.free(unsafe.Pointer(args))
		slots := unsafe.Slice(args, len(c.Args))
		for i, a := range c.Args {
			slots[i].kind = C.uint8_t(a.Kind)
			slots[i].value = C.int64_t(a.Int)
		}
	}
	var state *C.uint8_t
	if c.State != nil {
		state = (*C.uint8_t)(&c.State[0])
	}
	err := r.with(func(h C.SvmRuntime) C.enum_SvmStatus {
		var receipt C.SvmReceipt
		s := C.svm_call(h, (*C.uint8_t)(&c.Contract[0]), (*C.uint8_t)(&c.Sender[0]), fn,
			args, C.uintptr_t(len(c.Args)), cBytes(c.Calldata), C.uintptr_t(len(c.Calldata)),
			C.uint64_t(c.Value), C.uint64_t(c.GasLimit), state, &receipt)
		if s != C.SVM_STATUS_OK {
			return s
		}
		defer C.svm_receipt_free(receipt)
		return copyReceipt(receipt, &rec)
	})
	return rec, err
}

func copyReceipt(r C.SvmReceipt, out *Receipt) C.enum_SvmStatus {
	var ok C.bool
	var code C.uint32_t
	var gas C.uint64_t
	if s := C.svm_receipt_summary(r, &ok, &code, &gas, (*C.uint8_t)(&out.NewState[0])); s != C.SVM_STATUS_OK {
		return s
	}
	out.Success, out.ErrorCode, out.GasUsed = bool(ok), uint32(code), uint64(gas)
	var n C.uintptr_t
	if s := C.svm_receipt_return(r, 0, &n, nil); s != C.SVM_STATUS_OK {
		return s
	}
	for i := C.uintptr_t(0); i < n; i++ {
		var v C.SvmValue
		if s := C.svm_receipt_return(r, i, &n, &v); s != C.SVM_STATUS_OK {
			return s
		}
		out.Returns = append(out.Returns, Value{Kind: Kind(v.kind), Int: int64(v.value)})
	}
	var buf C.SvmBuffer
	if s := C.svm_receipt_encode(r, &buf); s != C.SVM_STATUS_OK {
		return s
	}
	out.Wire = C.GoBytes(unsafe.Pointer(buf.data), C.int(buf.len))
	return C.svm_buffer_free(buf)
}

// ContractState is the latest state root of contract. Errors:
// StatusNotFound (no contract there), StatusStorage.
func (r *Runtime) ContractState(contract Address) (State, error) {
	var out State
	err := r.with(func(h C.SvmRuntime) C.enum_SvmStatus {
		return C.svm_contract_state(h, (*C.uint8_t)(&contract[0]), (*C.uint8_t)(&out[0]))
	})
	return out, err
}

// ReadSlice reads length bytes at offset of page (4096 bytes) of contract
// at any committed state (zeros where never written). Errors:
// StatusNotFound (a state never committed), StatusInvalidArgument (the
// slice leaves its page).
func (r *Runtime) ReadSlice(contract Address, state State, page, offset, length uint32) ([]byte, error) {
	out := make([]byte, length)
	err := r.with(func(h C.SvmRuntime) C.enum_SvmStatus {
		return C.svm_read_slice(h, (*C.uint8_t)(&contract[0]), (*C.uint8_t)(&state[0]),
			C.uint32_t(page), C.uint32_t(offset), C.uint32_t(length), cBytes(out))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Fund sets the balance of account in the runtime's own database (not
// available with Config.Balances: StatusInvalidArgument).
func (r *Runtime) Fund(account Address, amount uint64) error {
	return r.with(func(h C.SvmRuntime) C.enum_SvmStatus {
		return C.svm_fund(h, (*C.uint8_t)(&account[0]), C.uint64_t(amount))
	})
}

// Balance is the balance of account in the runtime's own database (not
// available with Config.Balances: StatusInvalidArgument).
func (r *Runtime) Balance(account Address) (uint64, error) {
	var out C.uint64_t
	err := r.with(func(h C.SvmRuntime) C.enum_SvmStatus {
		return C.svm_balance(h, (*C.uint8_t)(&account[0]), &out)
	})
	return uint64(out), err
}
