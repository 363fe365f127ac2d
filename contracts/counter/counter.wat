;; counter: a 64-bit counter in storage page 0, offset 0 (8 bytes, big-endian).
;; Exports: get() -> i64, add(n i64) -> i64 (returns the new value).
(module
  (import "svm" "storage_read_to_reg" (func $read (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "storage_write_from_reg" (func $write (param i32 i32 i32 i32 i32 i32)))
  (import "svm" "reg_read_be_i64" (func $reg_get (param i32 i32) (result i64)))
  (import "svm" "reg_write_be_i64" (func $reg_set (param i64 i32 i32)))
  (memory (export "memory") 1)

  ;; page 0, slice 0, offset 0, 8 bytes -> 64-bit register 0
  (func $get (export "get") (result i64)
    (call $read (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 8) (i32.const 64) (i32.const 0))
    (call $reg_get (i32.const 64) (i32.const 0)))

  (func (export "add") (param $n i64) (result i64)
    (local $v i64)
    (local.set $v (i64.add (call $get) (local.get $n)))
    (call $reg_set (local.get $v) (i32.const 64) (i32.const 0))
    (call $write (i32.const 64) (i32.const 0) (i32.const 8) (i32.const 0) (i32.const 0) (i32.const 0))
    (local.get $v))

  ;; adds n, then traps: the write must be discarded
  (func (export "add_then_fail") (param $n i64)
    (drop (call 5 (local.get $n)))
    unreachable)
)
