package svm

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(strings.Join(parts, ""), " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The receipts of the golden vectors of docs/wire-formats.md, in the
// transport encoding (with a message and page counters).
func goldenSuccess(t *testing.T) []byte {
	return unhex(t, "02 01 00", "0000", strings.Repeat("11", 32),
		"02 7fffffffff 7e000000000000002a", "00000002 6f6b", "00000002 00000001 61 00000000",
		"00000003 00000001", "00000000000f4240", "0000000000005208",
		"00000001", "00000001", strings.Repeat("cc", 20), "0001 67", "00", "00000000000001f4")
}

func goldenFailure(t *testing.T) []byte {
	return unhex(t, "02 00 04", "0004 74726170", strings.Repeat("22", 32),
		"00", "00000000", "00000000", "00000000 00000000", "0000000000000064", "000000000000003c",
		"00000000")
}

func TestDecodeReceipt(t *testing.T) {
	b := goldenSuccess(t)
	r, err := DecodeReceipt(b)
	if err != nil {
		t.Fatal(err)
	}
	want := &Receipt{
		Success: true, Returns: []Value{I32(-1), I64(42)}, ReturnData: []byte("ok"),
		Logs: [][]byte{[]byte("a"), {}}, PagesRead: 3, PagesWritten: 1,
		GasLimit: 1_000_000, GasUsed: 21_000, Encoded: b,
		Calls: []InnerCall{{Depth: 1, Function: "g", GasUsed: 500}},
	}
	for i := range want.NewState {
		want.NewState[i] = 0x11
	}
	for i := range want.Calls[0].Contract {
		want.Calls[0].Contract[i] = 0xcc
	}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("decoded %+v, want %+v", r, want)
	}
	b[0] = 9 // Encoded is a copy
	if r.Encoded[0] != 2 {
		t.Fatal("Encoded shares the input")
	}

	r, err = DecodeReceipt(goldenFailure(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Success || r.ErrorCode != CodeTrap || r.ErrorMessage != "trap" || r.Returns != nil ||
		r.ReturnData != nil || r.Logs != nil || r.GasLimit != 100 || r.GasUsed != 60 || r.NewState[31] != 0x22 {
		t.Fatalf("decoded %+v", r)
	}
	if err := r.Err(); err == nil || err.Error() != "svm: transaction failed: Trap: trap" {
		t.Fatalf("Err() = %v", err)
	}
}

func TestDecodeReceiptRejects(t *testing.T) {
	set := func(b []byte, at int, v ...byte) []byte {
		b = append([]byte(nil), b...)
		copy(b[at:], v)
		return b
	}
	insert := func(b []byte, at int, v ...byte) []byte {
		return append(append(append([]byte(nil), b[:at]...), v...), b[at:]...)
	}
	ok, fail := goldenSuccess(t), goldenFailure(t)
	for _, tc := range []struct {
		name   string
		input  []byte
		offset int
		reason string
	}{
		{"empty", nil, 0, "truncated version"},
		{"version 1", set(ok, 0, 1), 0, "version 1"},
		{"success flag 2", set(ok, 1, 2), 1, "success flag 2"},
		{"unknown error code", set(fail, 2, 14), 2, "unknown error code 14"},
		{"unknown inner call error code", set(ok, len(ok)-9, 14), len(ok) - 9, "unknown inner call error code 14"},
		{"an inner call function not UTF-8", set(ok, len(ok)-10, 0xff), len(ok) - 10, "not UTF-8"},
		{"success with an error code", set(ok, 2, 4), 2, "success with error code 4"},
		{"failure without an error code", set(fail, 2, 0), 2, "failure without"},
		{"a message without an error code", insert(set(ok, 4, 1), 5, 'x'), 5, "without an error code"},
		{"a message not UTF-8", set(fail, 5, 0xff), 5, "not UTF-8"},
		{"65 returned values", set(ok, 37, 65), 37, "65 returned values"},
		{"a bad value tag", set(ok, 38, 0x7d), 38, "value tag 0x7d"},
		{"a trailing byte", append(ok[:len(ok):len(ok)], 0), len(ok), "1 trailing bytes"},
		{"a huge log count", set(fail, 5+4+32+1+4, 0xff, 0xff, 0xff, 0xff), len(fail), "truncated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := DecodeReceipt(tc.input)
			var d *DecodeError
			if r != nil || !errors.As(err, &d) {
				t.Fatalf("got %+v, %v", r, err)
			}
			if d.Offset != tc.offset || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("got %v; want offset %d and %q", err, tc.offset, tc.reason)
			}
		})
	}
	// Every proper prefix is truncated.
	for _, b := range [][]byte{ok, fail} {
		for n := 0; n < len(b); n++ {
			_, err := DecodeReceipt(b[:n])
			var d *DecodeError
			if !errors.As(err, &d) || d.Offset != n || !strings.Contains(d.Reason, "truncated") {
				t.Fatalf("prefix of %d bytes of %x: %v", n, b, err)
			}
		}
	}
	if !bytes.Equal(ok, goldenSuccess(t)) {
		t.Fatal("the test changed its input")
	}
}
