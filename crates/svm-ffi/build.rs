//! Generates the C header `svm.h` into OUT_DIR with cbindgen. The committed
//! `include/svm.h` must equal it: the test `header_is_current` fails
//! otherwise, and `scripts/ffi-header.sh` copies the generated one over.

fn main() {
    let crate_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed=src/lib.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(format!("{crate_dir}/cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    match cbindgen::generate_with_config(&crate_dir, config) {
        Ok(bindings) => {
            bindings.write_to_file(out.join("svm.h"));
        }
        Err(e) => panic!("cbindgen could not generate svm.h: {e}"),
    }
}
