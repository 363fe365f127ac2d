package svm

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// receiptVersion is the version byte of the receipt transport encoding.
// Version 2 adds the inner calls.
const receiptVersion = 2

// maxValues is the most values a `values` field holds.
const maxValues = 64

// The value tags of the wire encoding: the wasm value-type codes.
const (
	tagI32 = 0x7f
	tagI64 = 0x7e
)

// maxErrorCode is the highest error code the library defines.
const maxErrorCode = CodeReentrancy

// DecodeError is why DecodeReceipt rejected its input.
type DecodeError struct {
	// Offset is the byte offset at which the input is wrong (the input's
	// length for truncated input).
	Offset int
	// Reason says what is wrong.
	Reason string
}

// Error formats the error as "svm: decode receipt at byte N: reason".
func (e *DecodeError) Error() string {
	return fmt.Sprintf("svm: decode receipt at byte %d: %s", e.Offset, e.Reason)
}

type reader struct {
	buf []byte
	pos int
}

func (r *reader) fail(at int, format string, args ...interface{}) error {
	return &DecodeError{Offset: at, Reason: fmt.Sprintf(format, args...)}
}

func (r *reader) take(n uint64, what string) ([]byte, error) {
	rest := uint64(len(r.buf) - r.pos)
	if rest < n {
		return nil, r.fail(len(r.buf), "truncated %s: %d more bytes needed", what, n-rest)
	}
	b := r.buf[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return b, nil
}

func (r *reader) u8(what string) (uint8, error) {
	b, err := r.take(1, what)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *reader) u16(what string) (uint16, error) {
	b, err := r.take(2, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint16(b), nil
}

func (r *reader) u32(what string) (uint32, error) {
	b, err := r.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(b), nil
}

func (r *reader) u64(what string) (uint64, error) {
	b, err := r.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint64(b), nil
}

// bytes reads a `bytes` field: a u32 length and that many bytes (a copy;
// nil when empty).
func (r *reader) bytes(what string) ([]byte, error) {
	n, err := r.u32(what + " length")
	if err != nil {
		return nil, err
	}
	b, err := r.take(uint64(n), what)
	if err != nil || n == 0 {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// DecodeReceipt decodes a receipt's transport encoding (Receipt.Encoded,
// docs/wire-formats.md) as strictly as the library's own decoder: it
// rejects truncated input, a version other than 1, a success flag other
// than 0 or 1, an unknown error code or value tag, success with an error
// code, failure without one, a message without an error code, a message
// that is not UTF-8, more than 64 returned values and trailing bytes. The
// receipt's Encoded is a copy of b.
func DecodeReceipt(b []byte) (*Receipt, error) {
	r := &reader{buf: b}
	v, err := r.u8("version")
	if err != nil {
		return nil, err
	}
	if v != receiptVersion {
		return nil, r.fail(0, "version %d, expected %d", v, receiptVersion)
	}
	flag, err := r.u8("success flag")
	if err != nil {
		return nil, err
	}
	if flag > 1 {
		return nil, r.fail(1, "success flag %d", flag)
	}
	code, err := r.u8("error code")
	if err != nil {
		return nil, err
	}
	if ErrorCode(code) > maxErrorCode {
		return nil, r.fail(2, "unknown error code %d", code)
	}
	rec := &Receipt{Success: flag == 1, ErrorCode: ErrorCode(code)}
	switch {
	case rec.Success && code != 0:
		return nil, r.fail(2, "success with error code %d", code)
	case !rec.Success && code == 0:
		return nil, r.fail(2, "failure without an error code")
	}
	n, err := r.u16("error message length")
	if err != nil {
		return nil, err
	}
	at := r.pos
	msg, err := r.take(uint64(n), "error message")
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(msg) {
		return nil, r.fail(at, "error message is not UTF-8")
	}
	if code == 0 && n > 0 {
		return nil, r.fail(at, "a message of %d bytes without an error code", n)
	}
	rec.ErrorMessage = string(msg)
	st, err := r.take(StateSize, "new state")
	if err != nil {
		return nil, err
	}
	copy(rec.NewState[:], st)
	count, err := r.u8("returned values count")
	if err != nil {
		return nil, err
	}
	if count > maxValues {
		return nil, r.fail(r.pos-1, "%d returned values, at most %d", count, maxValues)
	}
	for i := 0; i < int(count); i++ {
		at := r.pos
		tag, err := r.u8("value tag")
		if err != nil {
			return nil, err
		}
		switch tag {
		case tagI32:
			x, err := r.u32("i32 value")
			if err != nil {
				return nil, err
			}
			rec.Returns = append(rec.Returns, I32(int32(x)))
		case tagI64:
			x, err := r.u64("i64 value")
			if err != nil {
				return nil, err
			}
			rec.Returns = append(rec.Returns, I64(int64(x)))
		default:
			return nil, r.fail(at, "value tag %#x", tag)
		}
	}
	if rec.ReturnData, err = r.bytes("return data"); err != nil {
		return nil, err
	}
	logs, err := r.u32("log count")
	if err != nil {
		return nil, err
	}
	for i := uint32(0); i < logs; i++ {
		l, err := r.bytes("log")
		if err != nil {
			return nil, err
		}
		if l == nil {
			l = []byte{}
		}
		rec.Logs = append(rec.Logs, l)
	}
	if rec.PagesRead, err = r.u32("pages read"); err != nil {
		return nil, err
	}
	if rec.PagesWritten, err = r.u32("pages written"); err != nil {
		return nil, err
	}
	if rec.GasLimit, err = r.u64("gas limit"); err != nil {
		return nil, err
	}
	if rec.GasUsed, err = r.u64("gas used"); err != nil {
		return nil, err
	}
	calls, err := r.u32("inner call count")
	if err != nil {
		return nil, err
	}
	for i := uint32(0); i < calls; i++ {
		var c InnerCall
		if c.Depth, err = r.u32("inner call depth"); err != nil {
			return nil, err
		}
		a, err := r.take(AddressSize, "inner call contract")
		if err != nil {
			return nil, err
		}
		copy(c.Contract[:], a)
		n, err := r.u16("inner call function length")
		if err != nil {
			return nil, err
		}
		at := r.pos
		f, err := r.take(uint64(n), "inner call function")
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(f) {
			return nil, r.fail(at, "inner call function is not UTF-8")
		}
		c.Function = string(f)
		at = r.pos
		code, err := r.u8("inner call error code")
		if err != nil {
			return nil, err
		}
		if ErrorCode(code) > maxErrorCode {
			return nil, r.fail(at, "unknown inner call error code %d", code)
		}
		c.ErrorCode = ErrorCode(code)
		if c.GasUsed, err = r.u64("inner call gas used"); err != nil {
			return nil, err
		}
		rec.Calls = append(rec.Calls, c)
	}
	if rest := len(b) - r.pos; rest > 0 {
		return nil, r.fail(r.pos, "%d trailing bytes", rest)
	}
	rec.Encoded = append([]byte(nil), b...)
	return rec, nil
}
