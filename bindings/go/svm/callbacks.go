package svm

// The C callbacks of a runtime whose balances live in Go (Config.Balances).
// A file with //export may declare, not define, in its preamble.

/*
#include "svm.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

func hostOf(ctx unsafe.Pointer) BalanceHost {
	h := *(*C.uintptr_t)(ctx)
	return cgo.Handle(h).Value().(BalanceHost)
}

func addressOf(p *C.uint8_t) Address {
	var a Address
	copy(a[:], unsafe.Slice((*byte)(unsafe.Pointer(p)), len(a)))
	return a
}

//export svmGoBalanceGet
func svmGoBalanceGet(ctx unsafe.Pointer, account *C.uint8_t, out *C.uint64_t) C.int32_t {
	b, err := hostOf(ctx).Balance(addressOf(account))
	if err != nil {
		return 1
	}
	*out = C.uint64_t(b)
	return 0
}

//export svmGoBalanceApply
func svmGoBalanceApply(ctx unsafe.Pointer, account *C.uint8_t, balance C.uint64_t) {
	hostOf(ctx).Apply(addressOf(account), uint64(balance))
}
