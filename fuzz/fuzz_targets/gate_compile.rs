#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| svm_fuzz::gate_compile(data));
