package svm

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

// The accounts of the tests, as in the C test (crates/svm-ffi/tests/c).
var (
	author = fill(0xa1)
	alice  = fill(0xaa)
	bob    = fill(0xbb)
	nobody = fill(0x42)
)

func fill(b byte) Address {
	var a Address
	for i := range a {
		a[i] = b
	}
	return a
}

var coinWasm []byte

func TestMain(m *testing.M) {
	var err error
	coinWasm, err = os.ReadFile(filepath.Join("..", "..", "..", "contracts", "coin", "coin.wasm"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "read coin.wasm:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// open opens a runtime that the test closes at its end (a runtime the test
// closed itself gives StatusInvalidHandle then, which is ignored).
func open(t *testing.T, cfg Config) *Runtime {
	t.Helper()
	rt, err := NewRuntime(cfg)
	if err != nil {
		t.Fatalf("NewRuntime(%+v): %v", cfg, err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	return rt
}

// deployCoin deploys the coin contract by author with nonce 0.
func deployCoin(t *testing.T, rt *Runtime) Address {
	t.Helper()
	coin, err := rt.Deploy(author, 0, "coin", coinWasm)
	if err != nil {
		t.Fatalf("deploy coin: %v", err)
	}
	return coin
}

// transferCall is the coin's transfer of amount from from to to, carrying
// amount as its value (the coin's value model).
func transferCall(coin, from, to Address, amount int64, gas uint64) Call {
	value := uint64(0)
	if amount > 0 {
		value = uint64(amount)
	}
	return Call{
		Contract: coin, Sender: from, Function: "transfer",
		Args: []Value{I64(amount)}, Calldata: to[:], Value: value, GasLimit: gas,
	}
}

func transfer(t *testing.T, rt *Runtime, coin, from, to Address, amount int64, gas uint64) *Receipt {
	t.Helper()
	r, err := rt.Call(transferCall(coin, from, to, amount, gas))
	if err != nil {
		t.Fatalf("call transfer: %v", err)
	}
	return r
}

func balance(t *testing.T, rt *Runtime, a Address) uint64 {
	t.Helper()
	b, err := rt.Balance(a)
	if err != nil {
		t.Fatalf("balance of %s: %v", a, err)
	}
	return b
}

// wantStatus fails unless err is an *Error with status want.
func wantStatus(t *testing.T, what string, err error, want Status) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %v, want an *Error with status %q", what, err, want)
	}
	if e.Status != want || !errors.Is(err, want) {
		t.Fatalf("%s: got status %q (%v), want %q", what, e.Status, err, want)
	}
	return e
}

// checkEncoded checks that r.Encoded decodes to r itself.
func checkEncoded(t *testing.T, r *Receipt) {
	t.Helper()
	if r.Encoded == nil {
		t.Fatal("the receipt has no encoding")
	}
	d, err := DecodeReceipt(r.Encoded)
	if err != nil {
		t.Fatalf("decode the receipt's own encoding: %v", err)
	}
	if !reflect.DeepEqual(d, r) {
		t.Fatalf("the encoding decodes to %+v, not to the receipt %+v", d, r)
	}
}

func TestTransfer(t *testing.T) {
	rt := open(t, Config{})
	if err := rt.Validate(coinWasm); err != nil {
		t.Fatalf("validate coin: %v", err)
	}
	coin := deployCoin(t, rt)
	if err := rt.Fund(alice, 100); err != nil {
		t.Fatalf("fund alice: %v", err)
	}
	state0, err := rt.ContractState(coin)
	if err != nil {
		t.Fatalf("state before: %v", err)
	}

	r := transfer(t, rt, coin, alice, bob, 30, 1_000_000)
	if !r.Success || r.ErrorCode != CodeNone || r.ErrorMessage != "" || r.Err() != nil {
		t.Fatalf("transfer failed: %+v (%v)", r, r.Err())
	}
	if r.GasUsed == 0 || r.GasUsed > 1_000_000 || r.GasLimit != 1_000_000 {
		t.Fatalf("gas used %d of limit %d", r.GasUsed, r.GasLimit)
	}
	if want := []Value{I64(1)}; !reflect.DeepEqual(r.Returns, want) {
		t.Fatalf("returns %v, want %v (the transfer count)", r.Returns, want)
	}
	if r.PagesWritten != 1 || r.ReturnData != nil || r.Logs != nil {
		t.Fatalf("pages written %d, return data %q, logs %q", r.PagesWritten, r.ReturnData, r.Logs)
	}
	if len(r.Encoded) != 83 || r.Encoded[0] != 2 || r.Encoded[1] != 1 {
		t.Fatalf("encoding %x: want 83 bytes, version 2, success", r.Encoded)
	}
	checkEncoded(t, r)

	state1, err := rt.ContractState(coin)
	if err != nil {
		t.Fatalf("state after: %v", err)
	}
	if state1 != r.NewState || state1 == state0 {
		t.Fatalf("contract state %s, receipt %s, before %s", state1, r.NewState, state0)
	}
	if a, b, c := balance(t, rt, alice), balance(t, rt, bob), balance(t, rt, coin); a != 70 || b != 30 || c != 0 {
		t.Fatalf("balances alice %d, bob %d, coin %d; want 70, 30, 0", a, b, c)
	}
	slice, err := rt.ReadSlice(coin, state1, 0, 0, 8)
	if err != nil || !bytes.Equal(slice, []byte{0, 0, 0, 0, 0, 0, 0, 1}) {
		t.Fatalf("the transfer counter slice: %x, %v", slice, err)
	}
	if slice, err = rt.ReadSlice(coin, state0, 0, 0, 8); err != nil || !bytes.Equal(slice, make([]byte, 8)) {
		t.Fatalf("the counter slice at the state before: %x, %v", slice, err)
	}
	if slice, err = rt.ReadSlice(coin, state1, 3, 4000, 0); err != nil || len(slice) != 0 {
		t.Fatalf("an empty slice: %x, %v", slice, err)
	}

	// A second transfer counts 2.
	r = transfer(t, rt, coin, alice, bob, 5, 1_000_000)
	if !r.Success || !reflect.DeepEqual(r.Returns, []Value{I64(2)}) {
		t.Fatalf("second transfer: %+v", r)
	}
}

// A call at an explicit state is a read-only query: it runs, commits
// nothing and its receipt keeps the state it ran at.
func TestQueryAtState(t *testing.T) {
	rt := open(t, Config{})
	coin := deployCoin(t, rt)
	if err := rt.Fund(alice, 100); err != nil {
		t.Fatal(err)
	}
	state0, _ := rt.ContractState(coin)
	state1 := transfer(t, rt, coin, alice, bob, 10, 1_000_000).NewState

	for _, tc := range []struct {
		name  string
		state *State
		want  int64
	}{
		{"latest", nil, 1},
		{"after the transfer", &state1, 1},
		{"before the transfer", &state0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := rt.Call(Call{Contract: coin, Sender: alice, Function: "transfers", GasLimit: 1_000_000, State: tc.state})
			if err != nil || !r.Success || !reflect.DeepEqual(r.Returns, []Value{I64(tc.want)}) {
				t.Fatalf("transfers(): %+v, %v; want %d", r, err, tc.want)
			}
			if tc.state != nil && r.NewState != *tc.state {
				t.Fatalf("a query's receipt has state %s, want %s", r.NewState, *tc.state)
			}
		})
	}

	// A transfer at the state before runs but commits nothing.
	c := transferCall(coin, alice, bob, 10, 1_000_000)
	c.State = &state0
	r, err := rt.Call(c)
	if err != nil || !r.Success || !reflect.DeepEqual(r.Returns, []Value{I64(1)}) {
		t.Fatalf("a transfer at the state before: %+v, %v", r, err)
	}
	if r.NewState != state0 || r.PagesWritten != 0 {
		t.Fatalf("the query's receipt: state %s (want %s), pages written %d", r.NewState, state0, r.PagesWritten)
	}
	if latest, _ := rt.ContractState(coin); latest != state1 {
		t.Fatalf("a query moved the contract to %s", latest)
	}
	if a, b := balance(t, rt, alice), balance(t, rt, bob); a != 90 || b != 10 {
		t.Fatalf("a query moved balances: alice %d, bob %d", a, b)
	}
}

// Failed transactions are receipts, not errors, and change nothing.
func TestFailedReceipts(t *testing.T) {
	rt := open(t, Config{})
	coin := deployCoin(t, rt)
	if err := rt.Fund(alice, 100); err != nil {
		t.Fatal(err)
	}
	state := transfer(t, rt, coin, alice, bob, 30, 1_000_000).NewState
	unknown := fill(0x77)
	var zero State

	for _, tc := range []struct {
		name      string
		call      Call
		code      ErrorCode
		state     State  // the receipt's state: the one the call ran against
		gasUsed   uint64 // checked when non-zero
		inMessage string
	}{
		{"insufficient balance", transferCall(coin, bob, alice, 31, 1_000_000), CodeInsufficientBalance, state, 0, ""},
		{"out of gas", transferCall(coin, alice, bob, 1, 1500), CodeOutOfGas, state, 1500, ""},
		{"unknown contract", transferCall(nobody, alice, bob, 1, 1_000_000), CodeContractNotFound, zero, 0, ""},
		{"unknown function", Call{Contract: coin, Sender: alice, Function: "mint", GasLimit: 1_000_000}, CodeFunctionNotFound, state, 0, "mint"},
		{"wrong arguments", Call{Contract: coin, Sender: alice, Function: "transfer", Calldata: bob[:], GasLimit: 1_000_000}, CodeWrongArguments, state, 0, ""},
		{"value differs from the amount (the coin traps)", func() Call {
			c := transferCall(coin, alice, bob, 5, 1_000_000)
			c.Value = 4
			return c
		}(), CodeTrap, state, 0, ""},
		{"unknown state", func() Call {
			c := transferCall(coin, alice, bob, 1, 1_000_000)
			c.State = (*State)(&[32]byte{1, 2, 3})
			return c
		}(), CodeUnknownState, State{1, 2, 3}, 0, ""},
		{"gas limit too high", transferCall(coin, alice, bob, 1, 1<<62), CodeGasLimitTooHigh, zero, 0, "maximum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := rt.Call(tc.call)
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			if r.Success || r.ErrorCode != tc.code || r.Returns != nil {
				t.Fatalf("receipt %+v: want a failure with %s", r, tc.code)
			}
			if r.NewState != tc.state {
				t.Fatalf("receipt state %s, want %s", r.NewState, tc.state)
			}
			if tc.gasUsed != 0 && r.GasUsed != tc.gasUsed {
				t.Fatalf("gas used %d, want %d", r.GasUsed, tc.gasUsed)
			}
			if r.ErrorMessage == "" || !strings.Contains(r.ErrorMessage, tc.inMessage) {
				t.Fatalf("message %q, want one with %q", r.ErrorMessage, tc.inMessage)
			}
			var txErr *TxError
			if !errors.As(r.Err(), &txErr) || txErr.Code != tc.code || txErr.Message != r.ErrorMessage {
				t.Fatalf("Err() = %v", r.Err())
			}
			if r.Encoded[1] != 0 || r.Encoded[2] != byte(tc.code) {
				t.Fatalf("encoding %x: want success 0, code %d", r.Encoded[:3], tc.code)
			}
			checkEncoded(t, r)
		})
	}
	if latest, _ := rt.ContractState(coin); latest != state {
		t.Fatalf("a failed call moved the contract to %s", latest)
	}
	if a, b, c := balance(t, rt, alice), balance(t, rt, bob), balance(t, rt, coin); a != 70 || b != 30 || c != 0 {
		t.Fatalf("failed calls moved balances: alice %d, bob %d, coin %d", a, b, c)
	}
	if _, err := rt.ContractState(unknown); err == nil {
		t.Fatal("a state for no contract")
	}
}

// Bad inputs give an *Error with the library's status and message.
func TestErrors(t *testing.T) {
	rt := open(t, Config{})
	coin := deployCoin(t, rt)
	state, _ := rt.ContractState(coin)
	bad := []byte{0, 'a', 's', 'm', 1, 0, 0, 0, 0x99}

	for _, tc := range []struct {
		name      string
		run       func() error
		status    Status
		inMessage string
	}{
		{"deploy bad wasm", func() error { _, err := rt.Deploy(author, 1, "bad", bad); return err }, StatusRejected, "malformed"},
		{"validate bad wasm", func() error { return rt.Validate(bad) }, StatusRejected, "malformed"},
		{"validate no code", func() error { return rt.Validate(nil) }, StatusRejected, ""},
		{"deploy twice", func() error { _, err := rt.Deploy(author, 0, "coin", coinWasm); return err }, StatusRejected, ""},
		{"deploy a name with NUL", func() error { _, err := rt.Deploy(author, 2, "co\x00in", coinWasm); return err }, StatusInvalidArgument, "NUL"},
		{"deploy a name not UTF-8", func() error { _, err := rt.Deploy(author, 3, "\xff", coinWasm); return err }, StatusInvalidArgument, "UTF-8"},
		{"bad value kind", func() error {
			_, err := rt.Call(Call{Contract: coin, Sender: alice, Function: "transfer", Args: []Value{{Kind: 7}}, GasLimit: 1})
			return err
		}, StatusInvalidArgument, "kind"},
		{"function with NUL", func() error {
			_, err := rt.Call(Call{Contract: coin, Sender: alice, Function: "transfer\x00", GasLimit: 1})
			return err
		}, StatusInvalidArgument, "NUL"},
		{"function not UTF-8", func() error {
			_, err := rt.Call(Call{Contract: coin, Sender: alice, Function: "\xc3", GasLimit: 1})
			return err
		}, StatusInvalidArgument, "UTF-8"},
		{"state of nobody", func() error { _, err := rt.ContractState(nobody); return err }, StatusNotFound, ""},
		{"read an unknown state", func() error { _, err := rt.ReadSlice(coin, State{9}, 0, 0, 8); return err }, StatusNotFound, ""},
		{"read across the page end", func() error { _, err := rt.ReadSlice(coin, state, 0, 4090, 8); return err }, StatusInvalidArgument, ""},
		{"read more than a page", func() error { _, err := rt.ReadSlice(coin, state, 0, 0, PageSize+1); return err }, StatusInvalidArgument, "page"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := wantStatus(t, tc.name, tc.run(), tc.status)
			if !strings.Contains(e.Message, tc.inMessage) {
				t.Fatalf("message %q, want one with %q", e.Message, tc.inMessage)
			}
			if !strings.HasPrefix(e.Error(), "svm: "+e.Op+": "+tc.status.String()) {
				t.Fatalf("Error() = %q", e.Error())
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		status Status
	}{
		{"unknown backend", Config{Backend: 9}, StatusInvalidArgument},
		{"unopenable RocksDB path", Config{Backend: BackendRocksDB, Path: "/proc/version/not-a-dir"}, StatusStorage},
		{"unopenable LevelDB path", Config{Backend: BackendLevelDB, Path: "/proc/version/not-a-dir"}, StatusStorage},
		{"path with NUL", Config{Backend: BackendRocksDB, Path: "/tmp/a\x00b"}, StatusInvalidArgument},
		{"path not UTF-8", Config{Backend: BackendLevelDB, Path: "/tmp/\xff"}, StatusInvalidArgument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, err := NewRuntime(tc.cfg)
			if rt != nil {
				t.Fatal("a runtime with the error")
			}
			wantStatus(t, tc.name, err, tc.status)
		})
	}
}

func TestConfig(t *testing.T) {
	t.Run("deploy gas limit", func(t *testing.T) {
		rt := open(t, Config{DeployGasLimit: 10})
		_, err := rt.Deploy(author, 0, "coin", coinWasm)
		wantStatus(t, "deploy with 10 gas", err, StatusRejected)
	})
	t.Run("module cache", func(t *testing.T) {
		rt := open(t, Config{ModuleCacheBytes: 1}) // too small to keep a module: compiled each call
		coin := deployCoin(t, rt)
		if err := rt.Fund(alice, 10); err != nil {
			t.Fatal(err)
		}
		for i := int64(1); i <= 2; i++ {
			if r := transfer(t, rt, coin, alice, bob, 1, 1_000_000); !r.Success || r.Returns[0].Int != i {
				t.Fatalf("transfer %d: %+v", i, r)
			}
		}
	})
}

// Every method of a closed, nil or zero Runtime fails, as in C for a
// destroyed handle or the handle 0.
func TestClosedRuntime(t *testing.T) {
	rt := open(t, Config{})
	coin := deployCoin(t, rt)
	if err := rt.Fund(alice, 10); err != nil {
		t.Fatal(err)
	}
	// A receipt read before the close stays a plain Go value.
	r := transfer(t, rt, coin, alice, bob, 1, 1_000_000)
	state := r.NewState
	if err := rt.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if !r.Success || r.Returns[0] != I64(1) {
		t.Fatalf("the receipt after the close: %+v", r)
	}

	calls := func(rt *Runtime) map[string]error {
		errs := map[string]error{}
		errs["validate"] = rt.Validate(coinWasm)
		_, errs["deploy"] = rt.Deploy(author, 1, "coin", coinWasm)
		_, errs["call"] = rt.Call(transferCall(coin, alice, bob, 1, 1_000_000))
		_, errs["contract state"] = rt.ContractState(coin)
		_, errs["read slice"] = rt.ReadSlice(coin, state, 0, 0, 8)
		errs["fund"] = rt.Fund(alice, 1)
		_, errs["balance"] = rt.Balance(alice)
		errs["close"] = rt.Close()
		return errs
	}
	for _, tc := range []struct {
		name    string
		rt      *Runtime
		status  Status
		message string
	}{
		{"closed", rt, StatusInvalidHandle, "not a live runtime handle"},
		{"nil", nil, StatusNullPointer, "nil runtime"},
		{"zero", &Runtime{}, StatusNullPointer, "runtime handle is 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for op, err := range calls(tc.rt) {
				e := wantStatus(t, op, err, tc.status)
				if e.Op != op || !strings.Contains(e.Message, tc.message) {
					t.Fatalf("%s: %v", op, err)
				}
			}
		})
	}

	// A new runtime gets a new handle; the old one stays dead.
	again := open(t, Config{AllowSetBalance: true})
	if again.handle == rt.handle {
		t.Fatal("a new runtime took over the old handle")
	}
	wantStatus(t, "the old runtime", rt.Validate(coinWasm), StatusInvalidHandle)
}

// Handles the library never issued, and handles of the other kind, are
// refused (the Runtime type cannot hold one outside the package).
func TestMadeUpHandles(t *testing.T) {
	rt := open(t, Config{})
	coin := deployCoin(t, rt)
	if err := rt.Fund(alice, 10); err != nil {
		t.Fatal(err)
	}
	for _, h := range []uint64{12345, ^uint64(0), 1, 1 << 63} {
		t.Run(fmt.Sprintf("%#x", h), func(t *testing.T) {
			fake := &Runtime{handle: h}
			wantStatus(t, "validate", fake.Validate(coinWasm), StatusInvalidHandle)
			_, err := fake.Call(transferCall(coin, alice, bob, 1, 1_000_000))
			wantStatus(t, "call", err, StatusInvalidHandle)
			wantStatus(t, "close", fake.Close(), StatusInvalidHandle)
			_, err = readReceipt(h)
			wantStatus(t, "read receipt", err, StatusInvalidHandle)
			wantStatus(t, "free receipt", freeReceipt(h), StatusInvalidHandle)
		})
	}
	r, err := rt.call(transferCall(coin, alice, bob, 1, 1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	asRuntime := &Runtime{handle: r}
	wantStatus(t, "a receipt is not a runtime", asRuntime.Validate(coinWasm), StatusInvalidHandle)
	wantStatus(t, "a receipt cannot be closed as a runtime", asRuntime.Close(), StatusInvalidHandle)
	wantStatus(t, "a runtime is not a receipt", freeReceipt(rt.handle), StatusInvalidHandle)
	_, err = readReceipt(rt.handle)
	wantStatus(t, "a runtime cannot be read as a receipt", err, StatusInvalidHandle)
	if err := freeReceipt(r); err != nil {
		t.Fatal(err)
	}
	// The runtime is untouched.
	if err := rt.Validate(coinWasm); err != nil {
		t.Fatal(err)
	}
}

// The receipt and buffer handling inside Call: each is freed once, a freed
// one is refused, a receipt outlives its runtime.
func TestReceiptHandles(t *testing.T) {
	rt := open(t, Config{})
	coin := deployCoin(t, rt)
	if err := rt.Fund(alice, 10); err != nil {
		t.Fatal(err)
	}
	r, err := rt.call(transferCall(coin, alice, bob, 1, 1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := readReceipt(r)
	if err != nil || !rec.Success {
		t.Fatalf("read the receipt: %+v, %v", rec, err)
	}
	if err := freeReceipt(r); err != nil {
		t.Fatalf("free the receipt: %v", err)
	}
	wantStatus(t, "a receipt freed twice", freeReceipt(r), StatusInvalidHandle)
	_, err = readReceipt(r)
	wantStatus(t, "a freed receipt cannot be read", err, StatusInvalidHandle)
	_, err = encodeReceipt(r)
	wantStatus(t, "a freed receipt cannot be encoded", err, StatusInvalidHandle)
	_, err = readReceipt(0)
	wantStatus(t, "receipt handle 0", err, StatusNullPointer)
	if err := freeReceipt(0); err != nil {
		t.Fatalf("freeing receipt handle 0 is a no-op: %v", err)
	}

	// Buffers.
	r, err = rt.call(transferCall(coin, alice, bob, 1, 1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	defer freeReceipt(r)
	buf, err := encodeBuffer(r)
	if err != nil || buf.len != 83 || buf.id == 0 {
		t.Fatalf("encode: %v (%d bytes, id %d)", err, buf.len, buf.id)
	}
	changed := buf
	changed.len = 3
	wantStatus(t, "a buffer with a changed length", freeBuffer(changed), StatusInvalidArgument)
	if err := freeBuffer(buf); err != nil {
		t.Fatalf("... stays live until freed as it was handed out: %v", err)
	}
	wantStatus(t, "a buffer freed twice", freeBuffer(buf), StatusInvalidHandle)
	mine := bytes.Repeat([]byte{7}, 16)
	foreign := buf
	*(*unsafe.Pointer)(unsafe.Pointer(&foreign.data)) = unsafe.Pointer(&mine[0])
	foreign.len = 16
	foreign.id = 1
	wantStatus(t, "a foreign buffer", freeBuffer(foreign), StatusInvalidHandle)
	if !bytes.Equal(mine, bytes.Repeat([]byte{7}, 16)) {
		t.Fatal("the library touched a foreign buffer")
	}
	empty := buf
	empty.data, empty.len, empty.id = nil, 0, 0
	if err := freeBuffer(empty); err != nil {
		t.Fatalf("an empty buffer frees as a no-op: %v", err)
	}

	// A receipt outlives its runtime.
	r2, err := rt.call(transferCall(coin, alice, bob, 1, 1_000_000))
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if rec, err := readReceipt(r2); err != nil || !rec.Success {
		t.Fatalf("a receipt after its runtime was closed: %+v, %v", rec, err)
	}
	if err := freeReceipt(r2); err != nil {
		t.Fatal(err)
	}
}

// The databases persist contracts, states and balances across a reopen.
func TestPersistentBackends(t *testing.T) {
	for _, backend := range []Backend{BackendRocksDB, BackendLevelDB} {
		t.Run(backend.String(), func(t *testing.T) {
			cfg := Config{Backend: backend, Path: filepath.Join(t.TempDir(), "db")}
			rt := open(t, cfg)
			coin := deployCoin(t, rt)
			if err := rt.Fund(alice, 100); err != nil {
				t.Fatal(err)
			}
			state := transfer(t, rt, coin, alice, bob, 40, 1_000_000).NewState
			// The database is in use.
			_, err := NewRuntime(cfg)
			wantStatus(t, "open the same database twice", err, StatusStorage)
			if err := rt.Close(); err != nil {
				t.Fatal(err)
			}

			rt = open(t, cfg)
			if s, err := rt.ContractState(coin); err != nil || s != state {
				t.Fatalf("state after reopening: %s, %v; want %s", s, err, state)
			}
			if a, b := balance(t, rt, alice), balance(t, rt, bob); a != 60 || b != 40 {
				t.Fatalf("balances after reopening: %d, %d", a, b)
			}
			if r := transfer(t, rt, coin, alice, bob, 1, 1_000_000); !r.Success || r.Returns[0] != I64(2) {
				t.Fatalf("a transfer after reopening: %+v", r)
			}
		})
	}
}

// mapHost is a BalanceHost over a map.
type mapHost struct {
	mu       sync.Mutex
	balances map[Address]uint64
	applied  []Address
	fail     map[Address]bool // Balance fails for these
	panicOn  map[Address]bool // Balance panics for these
	panicked bool             // Apply panics (once) when set
}

func (h *mapHost) Balance(a Address) (uint64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.panicOn[a] {
		panic("balance of " + a.String())
	}
	if h.fail[a] {
		return 0, errors.New("no balance")
	}
	return h.balances[a], nil
}

func (h *mapHost) Apply(a Address, b uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.applied = append(h.applied, a)
	h.balances[a] = b
	if h.panicked {
		h.panicked = false
		panic("apply")
	}
}

func (h *mapHost) get(a Address) uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.balances[a]
}

// Balances served by the embedder.
func TestBalanceHost(t *testing.T) {
	host := &mapHost{balances: map[Address]uint64{alice: 50}, fail: map[Address]bool{}, panicOn: map[Address]bool{}}
	rt := open(t, Config{Balances: host})
	coin := deployCoin(t, rt)

	r := transfer(t, rt, coin, alice, bob, 20, 1_000_000)
	// The value moves alice -> coin -> bob: three accounts applied, the coin's at 0.
	if !r.Success || len(host.applied) != 3 || host.get(alice) != 30 || host.get(bob) != 20 || host.get(coin) != 0 {
		t.Fatalf("receipt %+v, applied %v, balances %v", r, host.applied, host.balances)
	}
	r = transfer(t, rt, coin, alice, bob, 31, 1_000_000)
	if r.Success || r.ErrorCode != CodeInsufficientBalance || len(host.applied) != 3 || host.get(alice) != 30 {
		t.Fatalf("overdraw: receipt %+v, applied %v", r, host.applied)
	}
	// A failing Balance fails the call.
	host.fail[bob] = true
	r = transfer(t, rt, coin, alice, bob, 1, 1_000_000)
	if r.Success || r.ErrorCode != CodeHostCall || len(host.applied) != 3 {
		t.Fatalf("a failing BalanceHost: receipt %+v, applied %v", r, host.applied)
	}
	host.fail[bob] = false

	wantStatus(t, "fund", rt.Fund(alice, 1), StatusInvalidArgument)
	_, err := rt.Balance(alice)
	wantStatus(t, "balance", err, StatusInvalidArgument)

	// A panic in Balance fails the call and is raised again by Call.
	host.panicOn[bob] = true
	p := catch(func() { transfer(t, rt, coin, alice, bob, 1, 1_000_000) })
	if p != "balance of "+bob.String() || len(host.applied) != 3 {
		t.Fatalf("a panicking Balance: recovered %v, applied %v", p, host.applied)
	}
	host.panicOn[bob] = false
	// A panic in Apply comes after the commit.
	host.panicked = true
	before, _ := rt.ContractState(coin)
	if p := catch(func() { transfer(t, rt, coin, alice, bob, 1, 1_000_000) }); p != "apply" {
		t.Fatalf("a panicking Apply: recovered %v", p)
	}
	if after, _ := rt.ContractState(coin); after == before {
		t.Fatal("the call with a panicking Apply was not committed")
	}
	// The runtime is still fine.
	if r := transfer(t, rt, coin, alice, bob, 2, 1_000_000); !r.Success || host.get(bob) != 23 {
		t.Fatalf("a transfer after the panics: %+v, bob %d", r, host.get(bob))
	}
}

func catch(f func()) (p interface{}) {
	defer func() { p = recover() }()
	f()
	return nil
}

// AllowSetBalance lets contracts import node.vmcall_set_balance.
func TestAllowSetBalance(t *testing.T) {
	setter := setterWasm()
	rt := open(t, Config{})
	e := wantStatus(t, "validate by default", rt.Validate(setter), StatusRejected)
	if !strings.Contains(e.Message, "vmcall_set_balance") {
		t.Fatalf("message %q", e.Message)
	}

	rt = open(t, Config{AllowSetBalance: true})
	c, err := rt.Deploy(author, 0, "setter", setter)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rt.Call(Call{Contract: c, Sender: alice, Function: "set", Args: []Value{I64(77)}, GasLimit: 1_000_000})
	if err != nil || !r.Success {
		t.Fatalf("set: %+v, %v", r, err)
	}
	if b := balance(t, rt, alice); b != 77 {
		t.Fatalf("alice has %d, want 77", b)
	}
}

// Logs, return data and a negative i32 result reach the receipt.
func TestLogsAndReturnData(t *testing.T) {
	rt := open(t, Config{})
	c, err := rt.Deploy(author, 0, "logger", loggerWasm())
	if err != nil {
		t.Fatal(err)
	}
	r, err := rt.Call(Call{Contract: c, Sender: alice, Function: "run", GasLimit: 1_000_000})
	if err != nil || !r.Success {
		t.Fatalf("run: %+v, %v", r, err)
	}
	if !reflect.DeepEqual(r.Returns, []Value{I32(-7)}) {
		t.Fatalf("returns %v", r.Returns)
	}
	if string(r.ReturnData) != "hello" || !reflect.DeepEqual(r.Logs, [][]byte{[]byte("he"), {}}) {
		t.Fatalf("return data %q, logs %q", r.ReturnData, r.Logs)
	}
	checkEncoded(t, r)
}

// Goroutines share a runtime, each with a coin of its own.
func TestConcurrentUse(t *testing.T) {
	rt := open(t, Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i byte) {
			defer wg.Done()
			errs <- func() error {
				from, to := fill(0x10+i), fill(0x20+i)
				coin, err := rt.Deploy(fill(0xc0+i), 0, "coin", coinWasm)
				if err != nil {
					return err
				}
				if err := rt.Fund(from, 1000); err != nil {
					return err
				}
				sent := uint64(0)
				for k := int64(1); k <= 8; k++ {
					r, err := rt.Call(transferCall(coin, from, to, k, 1_000_000))
					if err != nil {
						return err
					}
					if !r.Success || r.Returns[0] != I64(k) {
						return fmt.Errorf("transfer %d: %+v", k, r)
					}
					if s, err := rt.ContractState(coin); err != nil || s != r.NewState {
						return fmt.Errorf("state %s, %v; receipt %s", s, err, r.NewState)
					}
					sent += uint64(k)
				}
				bf, err1 := rt.Balance(from)
				bt, err2 := rt.Balance(to)
				if err1 != nil || err2 != nil || bf != 1000-sent || bt != sent {
					return fmt.Errorf("balances %d, %d (%v, %v)", bf, bt, err1, err2)
				}
				return nil
			}()
		}(byte(i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// Closing a runtime while goroutines use it: each call gives a receipt or
// StatusInvalidHandle, and every call after the close gives
// StatusInvalidHandle. With a BalanceHost, whose context must outlive the
// calls in progress.
func TestCloseWhileInUse(t *testing.T) {
	for _, withHost := range []bool{false, true} {
		t.Run(fmt.Sprintf("balance host %v", withHost), func(t *testing.T) {
			const workers = 3
			cfg := Config{}
			host := &mapHost{balances: map[Address]uint64{}}
			if withHost {
				cfg.Balances = host
			}
			rt := open(t, cfg)
			coins := make([]Address, workers)
			for i := range coins {
				var err error
				if coins[i], err = rt.Deploy(fill(0xd0+byte(i)), 0, "coin", coinWasm); err != nil {
					t.Fatal(err)
				}
				if withHost {
					host.balances[fill(0x30+byte(i))] = 100_000
				} else if err := rt.Fund(fill(0x30+byte(i)), 100_000); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			started := make(chan struct{}, workers)
			type result struct{ ok, refused, other int }
			results := make([]result, workers)
			for i := 0; i < workers; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					res := &results[i]
					signalled := false
					signal := func() {
						if !signalled {
							signalled = true
							started <- struct{}{}
						}
					}
					defer signal() // also when failing early
					for n := 0; n < 100_000; n++ {
						r, err := rt.Call(transferCall(coins[i], fill(0x30+byte(i)), fill(0x40+byte(i)), 1, 1_000_000))
						switch {
						case err == nil && r.Success:
							res.ok++
							if res.ok == 2 {
								signal()
							}
						case errors.Is(err, StatusInvalidHandle):
							res.refused++
							return
						default:
							res.other++
							return
						}
					}
				}(i)
			}
			for i := 0; i < workers; i++ {
				<-started
			}
			if err := rt.Close(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			for i, res := range results {
				if res.other != 0 || res.refused != 1 || res.ok < 2 {
					t.Fatalf("worker %d: %+v", i, res)
				}
			}
			_, err := rt.ContractState(coins[0])
			wantStatus(t, "the closed runtime stays dead", err, StatusInvalidHandle)
			wantStatus(t, "a second close", rt.Close(), StatusInvalidHandle)
			rt.mu.Lock()
			defer rt.mu.Unlock()
			if rt.host != 0 || rt.calls != 0 {
				t.Fatalf("after the last call: host %v, calls %d", rt.host, rt.calls)
			}
		})
	}
}

// wasm assembles small wasm modules for the tests.
func leb(n uint32) []byte {
	var b []byte
	for {
		c := byte(n & 0x7f)
		n >>= 7
		if n == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func vec(items ...[]byte) []byte {
	b := leb(uint32(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func name(s string) []byte { return append(leb(uint32(len(s))), s...) }

func section(id byte, payload []byte) []byte {
	return append(append([]byte{id}, leb(uint32(len(payload)))...), payload...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func module(sections ...[]byte) []byte {
	return cat(append([][]byte{{0, 'a', 's', 'm', 1, 0, 0, 0}}, sections...)...)
}

func body(code ...byte) []byte {
	b := append([]byte{0}, code...) // no locals
	b = append(b, 0x0b)
	return append(leb(uint32(len(b))), b...)
}

const (
	i32 = 0x7f
	i64 = 0x7e
)

// memorySection defines one memory of one page; exportMemory exports it
// as "memory", as the deploy gate requires.
var memorySection = section(5, vec([]byte{0, 1}))

func exportMemory() []byte { return cat(name("memory"), []byte{2, 0}) }

// setterWasm: set(v i64) sets the sender's balance to v with
// node.vmcall_set_balance.
func setterWasm() []byte {
	return module(
		section(1, vec(
			[]byte{0x60, 3, i64, i32, i32, 0}, // vmcall_set_balance
			[]byte{0x60, 2, i32, i32, 0},      // sender_to_reg
			[]byte{0x60, 1, i64, 0},           // set
		)),
		section(2, vec(
			cat(name("node"), name("vmcall_set_balance"), []byte{0, 0}),
			cat(name("svm"), name("sender_to_reg"), []byte{0, 1}),
		)),
		section(3, vec([]byte{2})),
		memorySection,
		section(7, vec(exportMemory(), cat(name("set"), []byte{0, 2}))),
		section(10, vec(body(
			0x41, 0xa0, 0x01, 0x41, 0x00, 0x10, 1, // sender_to_reg(160, 0)
			0x20, 0, 0x41, 0xa0, 0x01, 0x41, 0x00, 0x10, 0, // vmcall_set_balance(v, 160, 0)
		))),
	)
}

// loggerWasm: run() -> i32 logs "he" and "", sets the return data "hello"
// and returns -7.
func loggerWasm() []byte {
	return module(
		section(1, vec(
			[]byte{0x60, 2, i32, i32, 0}, // log, set_return_data
			[]byte{0x60, 0, 1, i32},      // run
		)),
		section(2, vec(
			cat(name("svm"), name("log"), []byte{0, 0}),
			cat(name("svm"), name("set_return_data"), []byte{0, 0}),
		)),
		section(3, vec([]byte{1})),
		memorySection,
		section(7, vec(exportMemory(), cat(name("run"), []byte{0, 2}))),
		section(10, vec(body(
			0x41, 0, 0x41, 2, 0x10, 0, // log(0, 2)
			0x41, 0, 0x41, 0, 0x10, 0, // log(0, 0)
			0x41, 0, 0x41, 5, 0x10, 1, // set_return_data(0, 5)
			0x41, 0x79, // i32.const -7
		))),
		section(11, vec(cat([]byte{0, 0x41, 0, 0x0b}, name("hello")))),
	)
}

// TestInnerCallSettings runs contracts/escrow, whose deposit calls its
// token's transfer_from with svm.call, with the escrow itself as the token:
// the inner call re-enters the escrow. Each setting of the config gives its
// own status to the escrow, which logs it and succeeds.
func TestInnerCallSettings(t *testing.T) {
	escrowWasm, err := os.ReadFile(filepath.Join("..", "..", "..", "contracts", "escrow", "escrow.wasm"))
	if err != nil {
		t.Fatalf("read escrow.wasm: %v", err)
	}
	cases := []struct {
		name string
		cfg  Config
		want ErrorCode
	}{
		{"re-entrancy refused by default", Config{}, CodeReentrancy},
		{"re-entrancy allowed: no transfer_from in the escrow", Config{AllowReentrancy: true}, CodeFunctionNotFound},
		{"one frame only", Config{MaxCallDepth: 1, AllowReentrancy: true}, CodeCallDepth},
	}
	for _, c := range cases {
		rt := open(t, c.cfg)
		escrow, err := rt.Deploy(author, 0, "escrow", escrowWasm)
		if err != nil {
			t.Fatalf("%s: deploy: %v", c.name, err)
		}
		r, err := rt.Call(Call{Contract: escrow, Sender: alice, Function: "init",
			Calldata: escrow[:], GasLimit: 10_000_000})
		if err != nil || !r.Success {
			t.Fatalf("%s: init: %v %+v", c.name, err, r)
		}
		data := make([]byte, 36)
		copy(data[8:28], bob[:])
		data[35] = 10
		r, err = rt.Call(Call{Contract: escrow, Sender: alice, Function: "deposit",
			Calldata: data, GasLimit: 10_000_000})
		if err != nil || !r.Success {
			t.Fatalf("%s: deposit: %v %+v", c.name, err, r)
		}
		if len(r.Calls) != 1 || r.Calls[0].ErrorCode != c.want || r.Calls[0].Function != "transfer_from" {
			t.Fatalf("%s: inner calls %+v, want one failing with %v", c.name, r.Calls, c.want)
		}
		if !reflect.DeepEqual(r.ReturnData, []byte{byte(c.want)}) {
			t.Fatalf("%s: return data %v, want [%d]", c.name, r.ReturnData, c.want)
		}
	}
}
