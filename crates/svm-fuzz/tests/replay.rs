//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through the
//! target bodies, on stable, as ordinary tests: one test per target.
//! Crashes not fixed yet live in `fuzz/regressions/<target>/`; the ignored
//! test `regressions` replays them (`cargo test -p svm-fuzz -- --ignored`)
//! and passes once they are fixed.

use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay_dir(kind: &str, name: &str) -> usize {
    let (_, target) = svm_fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a known target");
    let files = inputs(&fuzz_dir().join(kind).join(name));
    for file in &files {
        let data = std::fs::read(file).expect("a readable input");
        // A panic names the file through this line.
        eprintln!("replaying {}", file.display());
        target(&data);
    }
    files.len()
}

fn replay(name: &str) {
    let n = replay_dir("corpus", name);
    assert!(n > 0, "no corpus for {name}");
    println!("{name}: {n} inputs replayed");
}

#[test]
#[ignore = "crashes not fixed yet: passes once they are"]
fn regressions() {
    // No stepping around the known issues here.
    svm_fuzz::STRICT.store(true, std::sync::atomic::Ordering::Relaxed);
    for (name, _) in svm_fuzz::TARGETS {
        replay_dir("regressions", name);
    }
}

#[test]
fn every_target_has_a_replay_test() {
    let names = [
        "gate_compile",
        "deploy_call",
        "wire_decode",
        "vmcalls",
        "page_cache",
    ];
    for (n, _) in svm_fuzz::TARGETS {
        assert!(names.contains(n), "{n} has no replay test");
        assert!(
            fuzz_dir()
                .join("fuzz_targets")
                .join(format!("{n}.rs"))
                .is_file(),
            "{n} has no cargo-fuzz target"
        );
    }
}

#[test]
fn gate_compile() {
    replay("gate_compile");
}

#[test]
fn deploy_call() {
    replay("deploy_call");
}

#[test]
fn wire_decode() {
    replay("wire_decode");
}

#[test]
fn vmcalls() {
    replay("vmcalls");
}

#[test]
fn page_cache() {
    replay("page_cache");
}
