package svm

import (
	"encoding/hex"
	"fmt"
)

// AddressSize is the size of an Address in bytes.
const AddressSize = 20

// StateSize is the size of a State in bytes.
const StateSize = 32

// PageSize is the size of a storage page in bytes: ReadSlice reads within
// one page.
const PageSize = 4096

// Address is a 20-byte account or contract address.
type Address [AddressSize]byte

// String is the address in lowercase hex (40 digits).
func (a Address) String() string { return hex.EncodeToString(a[:]) }

// State is a 32-byte state root: the Merkle root of a contract's pages
// after a committed call. A failed receipt carries the state the call ran
// against (all zeros when the contract does not exist).
type State [StateSize]byte

// String is the state root in lowercase hex (64 digits).
func (s State) String() string { return hex.EncodeToString(s[:]) }

// Kind is the wasm type of a Value.
type Kind uint8

// The kinds of svm.h's SvmValue.
const (
	// KindI32 is a wasm i32.
	KindI32 Kind = 0
	// KindI64 is a wasm i64.
	KindI64 Kind = 1
)

// String is "i32", "i64" or "kind(N)" for a kind the library refuses.
func (k Kind) String() string {
	switch k {
	case KindI32:
		return "i32"
	case KindI64:
		return "i64"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Value is a wasm argument or returned value. For KindI32 the library
// takes the low 32 bits of Int; returned i32 values are sign-extended.
// Any other Kind makes Call fail with StatusInvalidArgument.
type Value struct {
	// Kind is the wasm type.
	Kind Kind
	// Int is the value; for KindI32, the low 32 bits count.
	Int int64
}

// I32 is the i32 value v.
func I32(v int32) Value { return Value{Kind: KindI32, Int: int64(v)} }

// I64 is the i64 value v.
func I64(v int64) Value { return Value{Kind: KindI64, Int: v} }

// String is the value as the svm program writes it, e.g. "i64:30".
func (v Value) String() string { return fmt.Sprintf("%s:%d", v.Kind, v.Int) }

// Call is a transaction: a call of an exported function of a contract.
type Call struct {
	// Contract is the called contract's address.
	Contract Address
	// Sender is the caller's account.
	Sender Address
	// Function is the exported function's name (UTF-8, no NUL byte).
	Function string
	// Args are the function's arguments (at most 64 fit in a receipt's
	// wire encoding; the library itself does not limit them).
	Args []Value
	// Calldata is the call data the contract reads with svm.calldata_*;
	// nil or empty for none.
	Calldata []byte
	// Value is the amount moved from the sender's balance to the
	// contract's with the call (0 for none). A sender whose balance does
	// not cover it gets a failed receipt (CodeInsufficientBalance).
	Value uint64
	// GasLimit is the most gas the call may use. A call that reaches it
	// fails with CodeOutOfGas and uses exactly GasLimit.
	GasLimit uint64
	// State is the state root to run against; nil for the contract's
	// latest. A state that is no committed state of the contract gives
	// a failed receipt (CodeUnknownState).
	State *State
}

// Receipt is the outcome of a call, copied out of the library: a Go value
// that holds no C memory and needs no freeing.
type Receipt struct {
	// Success tells whether the transaction succeeded.
	Success bool
	// ErrorCode is why it failed (CodeNone on success).
	ErrorCode ErrorCode
	// ErrorMessage is a readable description of the failure, empty on
	// success (for a trap, wasmer's text, which may differ between
	// versions: not for consensus).
	ErrorMessage string
	// NewState is the contract's state root after the call; on failure,
	// the state the call ran against (all zeros when the contract does
	// not exist).
	NewState State
	// Returns are the function's returned values (none on failure).
	Returns []Value
	// ReturnData is the data the contract returned with svm.return_data;
	// nil when none.
	ReturnData []byte
	// Logs are the contract's log entries, in order.
	Logs [][]byte
	// PagesRead counts the pages loaded from storage (cache misses).
	PagesRead uint32
	// PagesWritten counts the pages the call wrote.
	PagesWritten uint32
	// GasLimit is the call's gas limit.
	GasLimit uint64
	// GasUsed is the gas the call used, at most GasLimit.
	GasUsed uint64
	// Calls are the inner contract calls (svm.call) the transaction made,
	// in order, at every depth; nil when none.
	Calls []InnerCall
	// Encoded is the receipt's transport encoding (docs/wire-formats.md),
	// e.g. to send to a peer, which reads it with DecodeReceipt. It is nil
	// only when a field is over its wire limit (more than 64 returned
	// values, a message over 65,535 bytes); ErrorMessage, ReturnData,
	// Logs, PagesRead, PagesWritten and GasLimit come from it, and are
	// zero then.
	Encoded []byte
}

// Err is nil for a successful receipt, else a *TxError with its code and
// message.
func (r *Receipt) Err() error {
	if r.Success {
		return nil
	}
	return &TxError{Code: r.ErrorCode, Message: r.ErrorMessage}
}

// TxError is a failed transaction as an error (Receipt.Err). A failed
// transaction is not an error of Runtime.Call, which returns its receipt.
type TxError struct {
	// Code is the receipt's error code.
	Code ErrorCode
	// Message is the receipt's error message.
	Message string
}

// Error formats the error as "svm: transaction failed: <code>: <message>".
func (e *TxError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("svm: transaction failed: %s", e.Code)
	}
	return fmt.Sprintf("svm: transaction failed: %s: %s", e.Code, e.Message)
}

// Backend is the storage backend of a runtime.
type Backend uint32

// The backends of svm.h's SvmBackend.
const (
	// BackendMemory keeps everything in memory; nothing persists.
	BackendMemory Backend = 0
	// BackendRocksDB is RocksDB in the directory Config.Path.
	BackendRocksDB Backend = 1
	// BackendLevelDB is LevelDB in the directory Config.Path.
	BackendLevelDB Backend = 2
)

// String is "memory", "rocksdb", "leveldb" or "backend(N)".
func (b Backend) String() string {
	switch b {
	case BackendMemory:
		return "memory"
	case BackendRocksDB:
		return "rocksdb"
	case BackendLevelDB:
		return "leveldb"
	}
	return fmt.Sprintf("backend(%d)", uint32(b))
}

// BalanceHost serves the node's account balances to a runtime, in place
// of the runtime's own key-value store (Config.Balances). Its methods are
// called during Runtime.Call, from the goroutine that called it, possibly
// from several goroutines at once: they must be safe for concurrent use,
// and must not call back into the Runtime. A panic in either method is
// recovered inside the library's callback (it cannot unwind through the
// library) and raised again by the Call that caused it, once the library
// has returned.
type BalanceHost interface {
	// Balance is the balance of account. A non-nil error (or a panic)
	// fails the call (CodeHostCall) and nothing is applied.
	Balance(account Address) (uint64, error)
	// Apply receives one final balance of a successful call, after its
	// state was committed: once per account whose balance the call
	// moved, in address order. A failed call applies nothing.
	Apply(account Address, balance uint64)
}

// Config is how to open a runtime. The zero Config is an in-memory
// runtime with the library's defaults.
type Config struct {
	// Backend is the storage backend (BackendMemory by default).
	Backend Backend
	// Path is the database directory of BackendRocksDB and
	// BackendLevelDB (created if missing); ignored for BackendMemory.
	Path string
	// ModuleCacheBytes is the memory budget of the compiled-module cache,
	// in bytes (0: 256 MiB).
	ModuleCacheBytes uint64
	// DeployGasLimit is the gas limit every deploy gets (0: 100,000,000).
	DeployGasLimit uint64
	// Balances serves the account balances; nil keeps them in the
	// runtime's own store, where Fund and Balance set and read them.
	Balances BalanceHost
	// AllowSetBalance lets contracts import node.vmcall_set_balance,
	// which sets any account's balance (SVM milestone-1 compatibility;
	// unsafe for untrusted code). By default the deploy gate rejects that
	// import.
	AllowSetBalance bool
	// SyncWrites makes each block's batch wait for an fsync before the
	// block counts as committed.
	SyncWrites bool
	// KeepBlocks is how many blocks' states stay readable (0: 128;
	// math.MaxUint64: never prune).
	KeepBlocks uint64
	// MaxCallDepth is the most frames on a transaction's call stack
	// (svm.call; the transaction's own included): a deeper inner call
	// fails with CodeCallDepth (0: 64).
	MaxCallDepth uint32
	// AllowReentrancy lets an inner call enter a contract already on the
	// call stack; by default it fails with CodeReentrancy.
	AllowReentrancy bool
}

// InnerCall is one contract-to-contract call (svm.call) made during a
// transaction.
type InnerCall struct {
	// Depth is the caller's depth: 1 for a call made by the transaction's
	// own contract.
	Depth uint32
	// Contract is the callee.
	Contract Address
	// Function is the callee's function.
	Function string
	// ErrorCode is CodeNone when the callee succeeded, else why it failed
	// (its effects were rolled back).
	ErrorCode ErrorCode
	// GasUsed is the gas the callee used, its instantiation included.
	GasUsed uint64
}
