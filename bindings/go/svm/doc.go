// Package svm is a Go binding of svm's C API (crates/svm-ffi/include/svm.h):
// open a runtime over a memory, RocksDB or LevelDB store, validate and deploy
// wasm contracts, call them and read their receipts, state roots, storage
// slices and account balances.
//
// # Building
//
// The package links the library with -lsvm_ffi (and -lstdc++ -lgcc_s
// -lpthread -lm -ldl -lrt, which the static library needs). Build
// crates/svm-ffi (cargo build -p svm-ffi) and point cgo at a directory
// holding libsvm_ffi.a alone, so that the static library is linked:
//
//	CGO_LDFLAGS=-L/path/to/dir go test ./...
//
// scripts/go-test.sh does this with a copy of the workspace's debug build.
// The header comes from the repository (crates/svm-ffi/include).
//
// # Conventions
//
//   - No C type or C memory reaches the caller: Call copies the library's
//     receipt into a Receipt (and its wire encoding into Receipt.Encoded)
//     and frees it before returning. Only a Runtime needs closing.
//   - A failed library call returns an *Error with the library's Status and
//     message; errors.Is(err, svm.StatusNotFound) tests the status. A failed
//     transaction is not an error: Call returns its receipt, whose Success,
//     ErrorCode and ErrorMessage say why (Receipt.Err gives it as an error).
//   - Addresses are 20 bytes (Address), state roots 32 bytes (State),
//     amounts and gas unsigned 64-bit integers.
//   - A Runtime is safe for concurrent use. Calls on different contracts run
//     in parallel; the caller orders the calls on one contract. Closing a
//     Runtime while other goroutines use it is safe: their calls finish
//     normally or fail with StatusInvalidHandle.
//   - Each call into the library runs on a locked OS thread, so that the
//     library's per-thread last error belongs to that call.
package svm
