package svm

// The balance callbacks of the C library, as exported Go functions. A file
// with //export may only declare C functions in its preamble, so the C
// side of the callbacks is in svm.go.

/*
#include <stdint.h>
*/
import "C"

import (
	"runtime/cgo"
	"syscall"
	"unsafe"
)

// threadID identifies the current OS thread.
func threadID() int { return syscall.Gettid() }

// callbackHost is the *host behind a callback context.
func callbackHost(ctx C.uintptr_t) *host { return cgo.Handle(ctx).Value().(*host) }

// callbackAddress copies the 20-byte account the library passes.
func callbackAddress(p *C.uint8_t) Address {
	var a Address
	copy(a[:], unsafe.Slice((*byte)(unsafe.Pointer(p)), AddressSize))
	return a
}

// keepPanic records a recovered panic of a BalanceHost method for the Call
// on this thread to raise again (the first one, if there are several).
func (h *host) keepPanic(p interface{}) {
	h.panics.LoadOrStore(threadID(), p)
}

//export svmGoBalanceGet
func svmGoBalanceGet(ctx C.uintptr_t, account *C.uint8_t, out *C.uint64_t) (rc C.int32_t) {
	h := callbackHost(ctx)
	defer func() {
		if p := recover(); p != nil {
			h.keepPanic(p)
			rc = 2
		}
	}()
	b, err := h.h.Balance(callbackAddress(account))
	if err != nil {
		return 1
	}
	*out = C.uint64_t(b)
	return 0
}

//export svmGoBalanceApply
func svmGoBalanceApply(ctx C.uintptr_t, account *C.uint8_t, balance C.uint64_t) {
	h := callbackHost(ctx)
	defer func() {
		if p := recover(); p != nil {
			h.keepPanic(p)
		}
	}()
	h.h.Apply(callbackAddress(account), uint64(balance))
}
