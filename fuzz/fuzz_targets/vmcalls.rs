#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| svm_fuzz::vmcalls(data));
