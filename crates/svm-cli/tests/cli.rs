//! Drives the `svm` binary: deploy → call → inspect → restart → inspect,
//! validation of real contracts, errors, and a small demo with --verify.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

fn svm(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_svm"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .output()
        .expect("svm runs")
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    let out = svm(dir, &a);
    assert!(
        out.status.success(),
        "svm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object")
}

const COUNTER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../contracts/counter/counter.wat"
);

#[test]
fn deploy_call_inspect_restart_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let deployed = json(d, &["deploy", COUNTER]);
    let addr = deployed["address"].as_str().unwrap().to_string();
    let r = json(d, &["call", &addr, "add", "i64:40"]);
    assert_eq!(r["success"], true);
    let r = json(d, &["call", &addr, "add", "i64:2"]);
    assert_eq!(r["returns"][0], "i64:42");
    let root = r["new_state"].as_str().unwrap().to_string();
    let before = json(d, &["inspect", &addr]);
    assert_eq!(before["state"], root.as_str());
    assert_eq!(before["pages_used"], 1);
    // A new process: the database is reopened from disk.
    let after = json(d, &["inspect", &addr]);
    assert_eq!(after, before);
    let slice = json(d, &["read", &addr, "0", "0", "8"]);
    assert_eq!(slice["hex"], "000000000000002a");
    let human = svm(d, &["read", &addr, "0", "0", "8"]);
    assert_eq!(
        String::from_utf8_lossy(&human.stdout).trim(),
        "000000000000002a"
    );
}

#[test]
fn errors_are_one_line_and_a_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["inspect", "zz"],
        vec!["inspect", "0000000000000000000000000000000000000009"],
        vec![
            "call",
            "0000000000000000000000000000000000000009",
            "f",
            "f32:1",
        ],
        vec!["deploy", "/nonexistent.wasm"],
    ] {
        let out = svm(dir.path(), &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"));
    }
    // A failed transaction prints its receipt and exits 1.
    let out = svm(
        dir.path(),
        &["call", "0000000000000000000000000000000000000009", "f"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ContractNotFound"));
}

#[test]
fn validate_reports_why_real_contracts_are_rejected() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/cosmwasm");
    if !shared.exists() {
        println!("skipped: {} is absent", shared.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = |n: &str| shared.join(n).display().to_string();
    let out = svm(
        dir.path(),
        &[
            "--json",
            "validate",
            &file("floaty_2.0.wasm"),
            &file("hackatom.wasm"),
            &file("corrupted.wasm"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "rejected files exit 1");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = |i: usize| -> Vec<String> {
        v[i]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(rules(0).contains(&"floats".to_string()));
    let float = v[0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "floats")
        .unwrap();
    assert!(float["offset"].as_u64().unwrap() > 0);
    assert!(float["instruction"].as_str().unwrap().contains("F64"));
    assert_eq!(rules(1)[0], "imports");
    assert!(
        v[1]["findings"][0]["unknown"]
            .to_string()
            .contains("env.db_read")
    );
    assert_eq!(rules(2), vec!["malformed"]);
    let ok = svm(dir.path(), &["validate", COUNTER]);
    assert!(ok.status.success());
}

/// A demo small enough for a test, with enough transfers per account that
/// some overdraw.
const SMALL_DEMO: [&str; 7] = [
    "demo",
    "--accounts",
    "20",
    "--transfers",
    "600",
    "--block",
    "100",
];

#[test]
fn a_small_demo_runs_and_verifies_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = json(d, &SMALL_DEMO);
    assert_eq!(run["transfers"], 600);
    assert_eq!(run["blocks"], 6);
    assert!(
        run["failed"].as_u64().unwrap() > 0,
        "some transfers overdraw: {run}"
    );
    let v = json(d, &["demo", "--verify"]);
    assert_eq!(v["verified"], true);
    assert_eq!(v["coin_state"], run["coin_state"]);
    // The same seed gives the same roots on another backend.
    let other = tempfile::tempdir().unwrap();
    let mut leveldb = vec!["--backend", "leveldb"];
    leveldb.extend_from_slice(&SMALL_DEMO);
    let again = json(other.path(), &leveldb);
    assert_eq!(again["coin_state"], run["coin_state"]);
    assert_eq!(again["balances_hash"], run["balances_hash"]);
}
