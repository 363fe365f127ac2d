package svm

import (
	"bytes"
	"testing"
)

func TestExecuteBlock(t *testing.T) {
	rt := open(t, Config{})
	coin := deployCoin(t, rt)
	if err := rt.Fund(alice, 100); err != nil {
		t.Fatal(err)
	}
	before, _, err := rt.LastBlock()
	if err != nil || before == 0 {
		t.Fatalf("LastBlock before: %d, %v", before, err)
	}
	blk, err := rt.ExecuteBlock([]Call{
		transferCall(coin, alice, bob, 5, 1_000_000),
		transferCall(coin, bob, alice, 1000, 1_000_000), // more than bob has
		transferCall(coin, alice, bob, 5, 1_000_000),
	})
	if err != nil {
		t.Fatalf("ExecuteBlock: %v", err)
	}
	if blk.Height != before+1 || len(blk.Receipts) != 3 {
		t.Fatalf("block %d with %d receipts", blk.Height, len(blk.Receipts))
	}
	if !blk.Receipts[0].Success || blk.Receipts[1].Success || !blk.Receipts[2].Success {
		t.Fatalf("successes %v %v %v", blk.Receipts[0].Success, blk.Receipts[1].Success, blk.Receipts[2].Success)
	}
	if blk.Receipts[1].ErrorCode != CodeInsufficientBalance {
		t.Fatalf("the overdraw failed with %v", blk.Receipts[1].ErrorCode)
	}
	if a, b := balance(t, rt, alice), balance(t, rt, bob); a != 90 || b != 10 {
		t.Fatalf("balances %d / %d, want 90 / 10", a, b)
	}
	height, hash, err := rt.LastBlock()
	if err != nil || height != blk.Height || !bytes.Equal(hash[:], blk.Hash[:]) {
		t.Fatalf("LastBlock: %d %x %v, want %d %x", height, hash, err, blk.Height, blk.Hash)
	}
	// A call that cannot be encoded: nothing runs, no block.
	bad := transferCall(coin, alice, bob, 1, 1_000_000)
	bad.Args = make([]Value, 65)
	if _, err := rt.ExecuteBlock([]Call{bad}); err == nil {
		t.Fatal("65 arguments were accepted")
	}
	if h, _, _ := rt.LastBlock(); h != height {
		t.Fatalf("a refused block moved the height to %d", h)
	}
	// An empty block is a block.
	empty, err := rt.ExecuteBlock(nil)
	if err != nil || empty.Height != height+1 || len(empty.Receipts) != 0 {
		t.Fatalf("empty block: %+v, %v", empty, err)
	}
	_ = rt.Close()
	if _, err := rt.ExecuteBlock(nil); err == nil {
		t.Fatal("a closed runtime executed a block")
	}
}
