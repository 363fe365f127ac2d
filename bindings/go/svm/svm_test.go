package svm

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func addr(b byte) Address {
	var a Address
	for i := range a {
		a[i] = b
	}
	return a
}

var (
	author = addr(0xa1)
	alice  = addr(0xaa)
	bob    = addr(0xbb)
)

func coinCode(t *testing.T) []byte {
	t.Helper()
	code, err := os.ReadFile(filepath.Join("..", "..", "..", "contracts", "coin", "coin.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func newRuntime(t *testing.T, cfg Config) *Runtime {
	t.Helper()
	rt, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	return rt
}

// transfer moves amount from `from` to `to` through the coin: the call
// carries value == amount, and the coin transfers it on.
func transfer(t *testing.T, rt *Runtime, coin, from, to Address, amount int64, gas uint64) Receipt {
	t.Helper()
	r, err := rt.Call(Call{
		Contract: coin, Sender: from, Function: "transfer",
		Args: []Value{Int64(amount)}, Calldata: to[:], Value: uint64(amount), GasLimit: gas,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func status(t *testing.T, err error, want Status) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Status != want {
		t.Fatalf("want status %d, got %v", want, err)
	}
	if strings.Contains(e.Message, "\n") || e.Message == "" {
		t.Fatalf("the message is not one line: %q", e.Message)
	}
	return e
}

func TestTransfersOnEveryBackend(t *testing.T) {
	for _, b := range []Backend{Memory, RocksDB, LevelDB} {
		dir := filepath.Join(t.TempDir(), "new", "dir")
		rt := newRuntime(t, Config{Backend: b, Path: dir})
		coin, err := rt.Deploy(author, 0, "coin", coinCode(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.Fund(alice, 100); err != nil {
			t.Fatal(err)
		}
		state0, err := rt.ContractState(coin)
		if err != nil {
			t.Fatal(err)
		}
		r := transfer(t, rt, coin, alice, bob, 30, 1_000_000)
		if !r.Success || r.ErrorCode != 0 || r.GasUsed == 0 || len(r.Wire) == 0 {
			t.Fatalf("backend %d: %+v", b, r)
		}
		if a, _ := rt.Balance(alice); a != 70 {
			t.Fatalf("alice %d", a)
		}
		if b, _ := rt.Balance(bob); b != 30 {
			t.Fatalf("bob %d", b)
		}
		latest, _ := rt.ContractState(coin)
		if latest != r.NewState || latest == state0 {
			t.Fatalf("state %x vs %x", latest, r.NewState)
		}
		// The coin counts transfers at page 0: read it at both states.
		now, err := rt.ReadSlice(coin, latest, 0, 0, 8)
		if err != nil {
			t.Fatal(err)
		}
		before, err := rt.ReadSlice(coin, state0, 0, 0, 8)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(now, before) {
			t.Fatalf("page 0 did not change: %x", now)
		}
	}
}

func TestFailedTransactionsAreReceipts(t *testing.T) {
	rt := newRuntime(t, Config{})
	coin, err := rt.Deploy(author, 0, "coin", coinCode(t))
	if err != nil {
		t.Fatal(err)
	}
	_ = rt.Fund(alice, 50)
	state, _ := rt.ContractState(coin)
	cases := []struct {
		name     string
		from     Address
		contract Address
		amount   int64
		gas      uint64
		code     uint32
	}{
		{"overdraw", bob, coin, 31, 1_000_000, 11},
		{"out of gas", alice, coin, 1, 1_500, 6},
		{"unknown contract", alice, addr(0x42), 1, 1_000_000, 1},
	}
	for _, c := range cases {
		r := transfer(t, rt, c.contract, c.from, bob, c.amount, c.gas)
		if r.Success || r.ErrorCode != c.code {
			t.Fatalf("%s: %+v", c.name, r)
		}
		if c.code == 6 && r.GasUsed != c.gas {
			t.Fatalf("out of gas uses the whole limit: %+v", r)
		}
	}
	if now, _ := rt.ContractState(coin); now != state {
		t.Fatal("a failed call moved the state")
	}
	if a, _ := rt.Balance(alice); a != 50 {
		t.Fatalf("alice %d", a)
	}
}

func TestAQueryAtAStateCommitsNothing(t *testing.T) {
	rt := newRuntime(t, Config{})
	coin, _ := rt.Deploy(author, 0, "coin", coinCode(t))
	_ = rt.Fund(alice, 50)
	state, _ := rt.ContractState(coin)
	r, err := rt.Call(Call{Contract: coin, Sender: alice, Function: "transfer",
		Args: []Value{Int64(5)}, Calldata: bob[:], Value: 5, GasLimit: 1_000_000, State: &state})
	if err != nil || !r.Success || r.NewState != state {
		t.Fatalf("%v %+v", err, r)
	}
	if a, _ := rt.Balance(alice); a != 50 {
		t.Fatalf("a query moved a balance: %d", a)
	}
}

func TestBadInputsAreErrors(t *testing.T) {
	rt := newRuntime(t, Config{})
	coin, _ := rt.Deploy(author, 0, "coin", coinCode(t))

	e := status(t, rt.Validate([]byte{0, 'a', 's', 'm', 1, 0, 0, 0, 0x99}), StatusRejected)
	if !strings.Contains(e.Message, "malformed") {
		t.Fatal(e)
	}
	_, err := rt.Deploy(author, 1, "bad", []byte("not wasm"))
	status(t, err, StatusRejected)
	_, err = rt.Deploy(author, 0, "coin", coinCode(t))
	status(t, err, StatusRejected) // already deployed at that address
	_, err = rt.Deploy(author, 2, "empty", nil)
	status(t, err, StatusRejected)

	_, err = rt.Call(Call{Contract: coin, Sender: alice, Function: "transfer",
		Args: []Value{{Kind: 7, Int: 0}}, GasLimit: 1})
	status(t, err, StatusInvalidArgument)

	_, err = rt.ContractState(addr(0x42))
	status(t, err, StatusNotFound)
	var never State
	_, err = rt.ReadSlice(coin, never, 0, 0, 8)
	status(t, err, StatusNotFound)
	state, _ := rt.ContractState(coin)
	_, err = rt.ReadSlice(coin, state, 0, 4090, 8)
	status(t, err, StatusInvalidArgument)

	_, err = New(Config{Backend: 9})
	status(t, err, StatusInvalidArgument)
	file := filepath.Join(t.TempDir(), "file")
	_ = os.WriteFile(file, []byte("x"), 0o600)
	_, err = New(Config{Backend: RocksDB, Path: filepath.Join(file, "db")})
	status(t, err, StatusStorage)
}

func TestSetBalanceIsOffByDefault(t *testing.T) {
	code := []byte("\x00asm\x01\x00\x00\x00" +
		"\x01\x07\x01\x60\x03\x7e\x7f\x7f\x00" + // type: (i64, i32, i32) -> ()
		"\x02\x1b\x01\x04node\x12vmcall_set_balance\x00\x00" + // import
		"\x05\x03\x01\x00\x01" + // memory 1
		"\x07\x0a\x01\x06memory\x02\x00") // export memory
	off := newRuntime(t, Config{})
	e := status(t, off.Validate(code), StatusRejected)
	if !strings.Contains(e.Message, "vmcall_set_balance") {
		t.Fatal(e)
	}
	on := newRuntime(t, Config{AllowSetBalance: true})
	if err := on.Validate(code); err != nil {
		t.Fatal(err)
	}
}

func TestAClosedRuntimeIsAnError(t *testing.T) {
	rt, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rt.Close(); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := rt.Deploy(author, 0, "coin", coinCode(t)); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := rt.Call(Call{Function: "f"}); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

// balances is a BalanceHost over a map.
type balances struct {
	mu      sync.Mutex
	m       map[Address]uint64
	applied int
}

func (b *balances) Balance(a Address) (uint64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.m[a], nil
}

func (b *balances) Apply(a Address, v uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.m[a] = v
	b.applied++
}

func TestBalancesFromGo(t *testing.T) {
	host := &balances{m: map[Address]uint64{alice: 50}}
	rt := newRuntime(t, Config{Balances: host})
	coin, err := rt.Deploy(author, 0, "coin", coinCode(t))
	if err != nil {
		t.Fatal(err)
	}
	if r := transfer(t, rt, coin, alice, bob, 20, 1_000_000); !r.Success {
		t.Fatalf("%+v", r)
	}
	// alice -> coin -> bob: three accounts applied, the coin's at 0.
	if host.m[alice] != 30 || host.m[bob] != 20 || host.m[coin] != 0 || host.applied != 3 {
		t.Fatalf("%+v", host)
	}
	if r := transfer(t, rt, coin, alice, bob, 31, 1_000_000); r.Success || r.ErrorCode != 11 {
		t.Fatalf("%+v", r)
	}
	if host.applied != 3 {
		t.Fatal("a failed call applied balances")
	}
	status(t, rt.Fund(alice, 1), StatusInvalidArgument)
}

// One runtime used from several goroutines at once; each works on its own
// coin and accounts (the runtime does not order concurrent transactions on
// the same state: a node runs those in sequence).
func TestConcurrentCalls(t *testing.T) {
	rt := newRuntime(t, Config{})
	code := coinCode(t)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		from, to := addr(byte(0x10+i)), addr(byte(0x20+i))
		coin, err := rt.Deploy(author, uint64(i), "coin", code)
		if err != nil {
			t.Fatal(err)
		}
		_ = rt.Fund(from, 100)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 10; j++ {
				r, err := rt.Call(Call{Contract: coin, Sender: from, Function: "transfer",
					Args: []Value{Int64(1)}, Calldata: to[:], Value: 1, GasLimit: 1_000_000})
				if err != nil || !r.Success {
					t.Errorf("%v %+v", err, r)
				}
			}
		}()
	}
	wg.Wait()
	for i := 0; i < 4; i++ {
		if b, _ := rt.Balance(addr(byte(0x20 + i))); b != 10 {
			t.Fatalf("account %d: %d", i, b)
		}
	}
}
