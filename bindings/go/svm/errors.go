package svm

import "fmt"

// Status is the result code of a C library function (SvmStatus in svm.h).
// It implements error, so that errors.Is(err, svm.StatusRejected) tells
// what kind of failure an *Error is.
type Status int

// The statuses of svm.h. StatusOK is never returned as an error.
const (
	// StatusOK is success.
	StatusOK Status = 0
	// StatusNullPointer: a required pointer was null, or the runtime
	// handle was 0. From Go: a nil or zero-value *Runtime.
	StatusNullPointer Status = 1
	// StatusInvalidHandle: the runtime is not live (closed, or never
	// opened), or, inside the package, a receipt or buffer was freed
	// already.
	StatusInvalidHandle Status = 2
	// StatusInvalidArgument: an argument is invalid (bad UTF-8, a NUL byte
	// in a string, an unknown backend, a bad value kind, a slice outside
	// its page, Fund or Balance on a runtime with a BalanceHost).
	StatusInvalidArgument Status = 3
	// StatusStorage: the storage failed (open, read or write).
	StatusStorage Status = 4
	// StatusRejected: the code was rejected at deploy (gate, size, gas,
	// compile, an existing contract at the address).
	StatusRejected Status = 5
	// StatusNotFound: no such contract or state.
	StatusNotFound Status = 6
	// StatusPanic: a panic was caught inside the library (a bug; the
	// runtime may still be used).
	StatusPanic Status = 7
	// StatusTooManyHandles: the process holds too many live runtimes or
	// receipts (about 2^32 of one kind).
	StatusTooManyHandles Status = 8
)

var statusNames = [...]string{
	StatusOK:              "ok",
	StatusNullPointer:     "null pointer",
	StatusInvalidHandle:   "invalid handle",
	StatusInvalidArgument: "invalid argument",
	StatusStorage:         "storage",
	StatusRejected:        "rejected",
	StatusNotFound:        "not found",
	StatusPanic:           "panic",
	StatusTooManyHandles:  "too many handles",
}

// String is the status's name, e.g. "invalid handle".
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("status %d", int(s))
}

// Error makes a Status an error: its name.
func (s Status) Error() string { return s.String() }

// Error is the error of every failed operation of the package: the
// operation, the library's status and its message (svm_last_error, read on
// the OS thread that made the call). Use errors.Is(err, svm.StatusX) to
// test the status, or errors.As to get the *Error.
type Error struct {
	// Op is the operation that failed: "open", "close", "validate",
	// "deploy", "call", "contract state", "read slice", "fund" or
	// "balance" (or "receipt", "buffer" inside the package).
	Op string
	// Status is the library's status (never StatusOK).
	Status Status
	// Message is the library's message, e.g. every finding of the deploy
	// gate for StatusRejected; it may be empty.
	Message string
}

// Error formats the error as "svm: <op>: <status>: <message>".
func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("svm: %s: %s", e.Op, e.Status)
	}
	return fmt.Sprintf("svm: %s: %s: %s", e.Op, e.Status, e.Message)
}

// Unwrap gives the Status, so that errors.Is matches it.
func (e *Error) Unwrap() error { return e.Status }

// ErrorCode is why a transaction failed: the error code of its receipt
// (docs/wire-formats.md; 0 for success).
type ErrorCode uint8

// The error codes of failed receipts.
const (
	// CodeNone: the transaction succeeded.
	CodeNone ErrorCode = 0
	// CodeContractNotFound: no contract at the address.
	CodeContractNotFound ErrorCode = 1
	// CodeFunctionNotFound: the contract exports no function of that name.
	CodeFunctionNotFound ErrorCode = 2
	// CodeWrongArguments: the arguments do not match the parameter types.
	CodeWrongArguments ErrorCode = 3
	// CodeTrap: the wasm code trapped (unreachable, out-of-bounds access,
	// stack overflow, ...).
	CodeTrap ErrorCode = 4
	// CodeHostCall: a vmcall failed (bad pointer, register, slice,
	// balance, or a BalanceHost error).
	CodeHostCall ErrorCode = 5
	// CodeOutOfGas: the gas limit was reached; gas used = gas limit.
	CodeOutOfGas ErrorCode = 6
	// CodeUnknownState: the state asked for is no committed state of the
	// contract.
	CodeUnknownState ErrorCode = 7
	// CodeInvalidCode: the stored code failed validation or compilation.
	CodeInvalidCode ErrorCode = 8
	// CodeStorage: the storage backend failed; the call had no effect.
	CodeStorage ErrorCode = 9
	// CodeGasLimitTooHigh: the gas limit is over the runtime's maximum per
	// transaction.
	CodeGasLimitTooHigh ErrorCode = 10
	// CodeInsufficientBalance: the sender's balance does not cover the
	// call's value.
	CodeInsufficientBalance ErrorCode = 11
	// CodeCallDepth: an inner call was refused, the call stack being full
	// (only in InnerCall.ErrorCode).
	CodeCallDepth ErrorCode = 12
	// CodeReentrancy: an inner call into a contract already on the call
	// stack was refused (only in InnerCall.ErrorCode).
	CodeReentrancy ErrorCode = 13
)

var codeNames = [...]string{
	CodeNone:                "None",
	CodeContractNotFound:    "ContractNotFound",
	CodeFunctionNotFound:    "FunctionNotFound",
	CodeWrongArguments:      "WrongArguments",
	CodeTrap:                "Trap",
	CodeHostCall:            "HostCall",
	CodeOutOfGas:            "OutOfGas",
	CodeUnknownState:        "UnknownState",
	CodeInvalidCode:         "InvalidCode",
	CodeStorage:             "Storage",
	CodeGasLimitTooHigh:     "GasLimitTooHigh",
	CodeInsufficientBalance: "InsufficientBalance",
	CodeCallDepth:           "CallDepth",
	CodeReentrancy:          "Reentrancy",
}

// String is the code's name as in docs/wire-formats.md, e.g. "OutOfGas".
func (c ErrorCode) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("ErrorCode(%d)", uint8(c))
}
