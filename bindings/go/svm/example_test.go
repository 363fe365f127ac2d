package svm_test

import (
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/svm-vm/svm/bindings/go/svm"
)

func fill(b byte) (a svm.Address) {
	for i := range a {
		a[i] = b
	}
	return a
}

// Deploy the coin contract, fund an account, transfer with a value and
// read the receipt.
func Example() {
	code, err := os.ReadFile("../../../contracts/coin/coin.wasm")
	if err != nil {
		log.Fatal(err)
	}
	rt, err := svm.NewRuntime(svm.Config{Backend: svm.BackendMemory})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.Close()

	author, alice, bob := fill(0xa1), fill(0xaa), fill(0xbb)
	coin, err := rt.Deploy(author, 0, "coin", code)
	if err != nil {
		log.Fatal(err)
	}
	if err := rt.Fund(alice, 100); err != nil {
		log.Fatal(err)
	}
	// transfer(amount i64), the recipient as call data; the call carries
	// the amount as its value: alice -> coin -> bob.
	r, err := rt.Call(svm.Call{
		Contract: coin,
		Sender:   alice,
		Function: "transfer",
		Args:     []svm.Value{svm.I64(30)},
		Calldata: bob[:],
		Value:    30,
		GasLimit: 1_000_000,
	})
	if err != nil {
		log.Fatal(err) // the library refused the call
	}
	if err := r.Err(); err != nil {
		log.Fatal(err) // the transaction failed: r.ErrorCode says why
	}
	state, _ := rt.ContractState(coin)
	a, _ := rt.Balance(alice)
	b, _ := rt.Balance(bob)
	fmt.Println("returns", r.Returns, "alice", a, "bob", b)
	fmt.Println("state is the receipt's:", state == r.NewState, "gas used > 0:", r.GasUsed > 0)
	fmt.Println("wire encoding:", len(r.Encoded), "bytes")

	// Too much: a failed receipt, not an error.
	r, _ = rt.Call(svm.Call{Contract: coin, Sender: bob, Function: "transfer",
		Args: []svm.Value{svm.I64(31)}, Calldata: alice[:], Value: 31, GasLimit: 1_000_000})
	fmt.Println(r.Success, r.ErrorCode)

	// A library error: errors.Is matches its status.
	_, err = rt.Deploy(author, 1, "bad", []byte("not wasm"))
	fmt.Println(errors.Is(err, svm.StatusRejected))
	// Output:
	// returns [i64:1] alice 70 bob 30
	// state is the receipt's: true gas used > 0: true
	// wire encoding: 83 bytes
	// false InsufficientBalance
	// true
}
