package svm

/*
#include <stdint.h>
#include <stdlib.h>
#include "svm.h"
*/
import "C"

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
	"unsafe"
)

// Block is what Runtime.ExecuteBlock committed: one atomic batch for all
// its calls.
type Block struct {
	// Height is the block's height; the first block is 1. Deploys and
	// single calls at the latest state are blocks of one.
	Height uint64
	// Hash is the block hash (blake3 of the block record,
	// docs/architecture.md).
	Hash [32]byte
	// ReceiptsHash is blake3 over each receipt's consensus hash, in order.
	ReceiptsHash [32]byte
	// Receipts holds one receipt per call, in order. A failed call is a
	// failed receipt here: it rolled back only itself.
	Receipts []*Receipt
}

// encodeCall gives kind 1 (call) and the call's wire encoding (version 2,
// docs/wire-formats.md).
func encodeCall(c Call) ([]byte, error) {
	if len(c.Function) > 0xffff || !utf8.ValidString(c.Function) {
		return nil, fmt.Errorf("svm: function name is not UTF-8 of at most 65535 bytes")
	}
	if len(c.Args) > 64 {
		return nil, fmt.Errorf("svm: %d arguments, more than 64", len(c.Args))
	}
	b := make([]byte, 0, 80+len(c.Function)+9*len(c.Args)+len(c.Calldata))
	b = append(b, 1, 2)
	b = append(b, c.Contract[:]...)
	b = append(b, c.Sender[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(c.Function)))
	b = append(b, c.Function...)
	b = append(b, byte(len(c.Args)))
	for _, a := range c.Args {
		switch a.Kind {
		case KindI32:
			b = append(b, 0x7f)
			b = binary.BigEndian.AppendUint32(b, uint32(int32(a.Int)))
		case KindI64:
			b = append(b, 0x7e)
			b = binary.BigEndian.AppendUint64(b, uint64(a.Int))
		default:
			return nil, fmt.Errorf("svm: value kind %d", a.Kind)
		}
	}
	b = binary.BigEndian.AppendUint32(b, uint32(len(c.Calldata)))
	b = append(b, c.Calldata...)
	b = binary.BigEndian.AppendUint64(b, c.Value)
	b = binary.BigEndian.AppendUint64(b, c.GasLimit)
	if c.State == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = append(b, c.State[:]...)
	}
	return b, nil
}

// ExecuteBlock runs calls in order as one block and commits it in one
// atomic batch (pruning older states as the runtime's configuration says).
// Errors: a call that does not encode (nothing ran), *Error with
// StatusStorage (the batch failed: nothing of the block is stored),
// StatusInvalidHandle after Close. A panic of the runtime's BalanceHost is
// raised again here.
func (rt *Runtime) ExecuteBlock(calls []Call) (*Block, error) {
	encoded := make([][]byte, len(calls))
	for i, c := range calls {
		b, err := encodeCall(c)
		if err != nil {
			return nil, fmt.Errorf("call %d: %w", i, err)
		}
		encoded[i] = b
	}
	h, err := rt.enter("execute block")
	if err != nil {
		return nil, err
	}
	defer rt.leave()
	// The pointers handed to C live in C memory: cgo forbids Go memory
	// holding Go pointers.
	n := len(encoded)
	ptrs := (*[1 << 28]*C.uint8_t)(C.malloc(C.size_t(n+1) * C.size_t(unsafe.Sizeof(uintptr(0)))))[: n+1 : n+1]
	lens := (*[1 << 28]C.uintptr_t)(C.malloc(C.size_t(n+1) * C.size_t(unsafe.Sizeof(C.uintptr_t(0)))))[: n+1 : n+1]
	defer C.free(unsafe.Pointer(&ptrs[0]))
	defer C.free(unsafe.Pointer(&lens[0]))
	for i, b := range encoded {
		ptrs[i] = (*C.uint8_t)(C.CBytes(b))
		lens[i] = C.uintptr_t(len(b))
	}
	defer func() {
		for i := 0; i < n; i++ {
			C.free(unsafe.Pointer(ptrs[i]))
		}
	}()
	var out C.SvmBuffer
	var raised interface{}
	err = ccall("execute block", func() C.enum_SvmStatus {
		s := C.svm_execute_block(h, (**C.uint8_t)(unsafe.Pointer(&ptrs[0])), &lens[0], C.uintptr_t(n), &out)
		raised = rt.takePanic()
		return s
	})
	if err == nil && raised != nil {
		_ = freeBuffer(out)
	}
	if raised != nil {
		panic(raised)
	}
	if err != nil {
		return nil, err
	}
	bytes := C.GoBytes(unsafe.Pointer(out.data), C.int(out.len))
	if err := freeBuffer(out); err != nil {
		return nil, err
	}
	return decodeBlock(bytes)
}

// decodeBlock decodes a block outcome (docs/wire-formats.md) whose
// outcomes are all calls.
func decodeBlock(b []byte) (*Block, error) {
	r := &reader{buf: b}
	v, err := r.u8("version")
	if err != nil {
		return nil, err
	}
	if v != 1 {
		return nil, r.fail(0, "block outcome version %d, expected 1", v)
	}
	blk := &Block{}
	if blk.Height, err = r.u64("height"); err != nil {
		return nil, err
	}
	hash, err := r.take(32, "block hash")
	if err != nil {
		return nil, err
	}
	copy(blk.Hash[:], hash)
	rh, err := r.take(32, "receipts hash")
	if err != nil {
		return nil, err
	}
	copy(blk.ReceiptsHash[:], rh)
	count, err := r.u32("outcome count")
	if err != nil {
		return nil, err
	}
	for i := uint32(0); i < count; i++ {
		at := r.pos
		kind, err := r.u8("outcome kind")
		if err != nil {
			return nil, err
		}
		if kind != 1 {
			return nil, r.fail(at, "outcome kind %d, expected a call (1)", kind)
		}
		body, err := r.bytes("receipt")
		if err != nil {
			return nil, err
		}
		rec, err := DecodeReceipt(body)
		if err != nil {
			return nil, err
		}
		blk.Receipts = append(blk.Receipts, rec)
	}
	if r.pos != len(b) {
		return nil, r.fail(r.pos, "%d trailing bytes", len(b)-r.pos)
	}
	return blk, nil
}

// LastBlock gives the newest committed block's height (0 before the first)
// and hash: what a node reads after a restart to tell which block the VM
// database holds.
func (rt *Runtime) LastBlock() (uint64, [32]byte, error) {
	var hash [32]byte
	h, err := rt.enter("last block")
	if err != nil {
		return 0, hash, err
	}
	defer rt.leave()
	var height C.uint64_t
	err = ccall("last block", func() C.enum_SvmStatus {
		return C.svm_last_block(h, &height, (*C.uint8_t)(unsafe.Pointer(&hash[0])))
	})
	return uint64(height), hash, err
}
