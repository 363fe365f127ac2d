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
    let files = tempfile::tempdir().unwrap();
    let random = files.path().join("random.bin");
    std::fs::write(&random, b"hello, these bytes are no wasm at all").unwrap();
    let broken = files.path().join("broken.wat");
    std::fs::write(&broken, "(module\n  (func (result i32)\n    i32.bogus))").unwrap();
    let (random, broken) = (random.display().to_string(), broken.display().to_string());
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
        vec!["deploy", &random],
        vec!["deploy", &broken],
        vec!["validate", &random],
    ] {
        let out = svm(dir.path(), &args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        if args[0] == "validate" {
            // validate reports on stdout, a line per finding.
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(text.trim_end().lines().count(), 2, "{text}");
            assert!(text.contains("expected=[0x0, 0x61, 0x73, 0x6d]"), "{text}");
            continue;
        }
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
    assert_eq!(again["receipts_hash"], run["receipts_hash"]);
    assert_eq!(again["gas_used"], run["gas_used"]);
}

#[test]
fn the_token_demo_runs_on_map_storage_and_verifies_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut args = SMALL_DEMO.to_vec();
    args.extend_from_slice(&["--contract", "token"]);
    let run = json(d, &args);
    assert_eq!(run["contract"], "token");
    assert_eq!(run["blocks"], 6);
    assert!(run["failed"].as_u64().unwrap() > 0, "some overdraw: {run}");
    assert!(run["pages_written_per_block"].as_u64().unwrap() > 0);
    // A new process checks every balance in the token's map.
    let v = json(d, &["demo", "--verify"]);
    assert_eq!(v["verified"], true);
    assert_eq!(v["token_state"], run["token_state"]);
    // The same on LevelDB and under Cranelift.
    let other = tempfile::tempdir().unwrap();
    let mut more = vec!["--backend", "leveldb", "--compiler", "cranelift"];
    more.extend_from_slice(&args);
    let again = json(other.path(), &more);
    for field in ["token_state", "receipts_hash", "gas_used", "balances_hash"] {
        assert_eq!(again[field], run[field], "{field}");
    }
}

#[test]
fn the_demo_is_the_same_under_both_compilers() {
    let run = |compiler: &str| {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["--backend", "memory", "--compiler", compiler];
        args.extend_from_slice(&SMALL_DEMO);
        json(dir.path(), &args)
    };
    let singlepass = run("singlepass");
    let cranelift = run("cranelift");
    for field in [
        "coin_state",
        "counter_state",
        "receipts_hash",
        "gas_used",
        "failed",
        "balances_hash",
    ] {
        assert_eq!(singlepass[field], cranelift[field], "{field}");
    }
    assert!(
        singlepass["receipts_hash"]
            .as_str()
            .is_some_and(|h| h.len() == 64)
    );
}

#[test]
fn pre_standard_instruction_names_are_renamed_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("old.wat");
    std::fs::write(
        &file,
        r#"(module (memory 1)
  (func (export "twice") (param i64) (result i64)
    get_local 0
    get_local 0
    i64.add))"#,
    )
    .unwrap();
    let out = svm(dir.path(), &["deploy", &file.display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("renamed pre-standard instruction names: get_local -> local.get (2x)"),
        "{err}"
    );
    let address = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("address").map(|a| a.trim().to_string()))
        .expect("an address line");
    let r = json(dir.path(), &["call", &address, "twice", "i64:21"]);
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(r["returns"][0], "i64:42", "{r}");
}

#[test]
fn fund_adds_to_the_balance() {
    let dir = tempfile::tempdir().unwrap();
    let a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    assert_eq!(json(dir.path(), &["fund", a, "5"])["balance"], 5);
    assert_eq!(json(dir.path(), &["fund", a, "7"])["balance"], 12);
    assert_eq!(json(dir.path(), &["balance", a])["balance"], 12);
    let out = svm(dir.path(), &["fund", a, &u64::MAX.to_string()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exceeds u64::MAX"));
    assert_eq!(json(dir.path(), &["balance", a])["balance"], 12);
}

#[test]
fn every_backend_creates_missing_directories() {
    for backend in ["rocksdb", "leveldb"] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("new").join("dir");
        let out = Command::new(env!("CARGO_BIN_EXE_svm"))
            .args(["--backend", backend, "--data-dir"])
            .arg(&data)
            .args(["fund", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{backend}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(data.is_dir(), "{backend}");
    }
}

/// Starts `svm` with `args` and kills it (SIGKILL) after `ms` milliseconds,
/// or lets it finish.
fn kill_after(dir: &Path, args: &[&str], ms: u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_svm"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("svm starts");
    std::thread::sleep(std::time::Duration::from_millis(ms));
    let _ = child.kill(); // SIGKILL on Unix: no destructor, no flush
    let _ = child.wait();
}

/// A process killed in the middle of block commits, or of a prune, leaves
/// a database that opens at a whole block: every state of every kept
/// block and every contract is complete.
#[test]
fn kill_9_during_blocks_and_pruning_loses_no_kept_state() {
    for (i, ms) in [300u64, 700, 1200].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        // Blocks of 50 transfers; killed somewhere in the run.
        kill_after(
            dir.path(),
            &[
                "--keep-blocks",
                "4",
                "demo",
                "--transfers",
                "200000",
                "--block",
                "50",
                "--accounts",
                "50",
            ],
            ms,
        );
        let check = json(dir.path(), &["check"]);
        let height = check["height"].as_u64().unwrap();
        // The database goes on from where it stopped.
        if height > 0 {
            let more = json(dir.path(), &["--keep-blocks", "4", "check"]);
            assert_eq!(more["height"].as_u64(), Some(height), "run {i}");
        }
        // An archive run, then a prune killed at once or left to finish.
        let dir = tempfile::tempdir().unwrap();
        let out = svm(
            dir.path(),
            &[
                "--keep-blocks",
                "0",
                "demo",
                "--transfers",
                "2000",
                "--block",
                "20",
                "--accounts",
                "20",
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        kill_after(dir.path(), &["--keep-blocks", "2", "prune"], ms / 30);
        json(dir.path(), &["check"]);
        let pruned = json(dir.path(), &["--keep-blocks", "2", "prune"]);
        assert!(pruned["height"].as_u64().unwrap() >= 100);
        if i == 0 {
            // The archive indexed what went stale: the first prune (killed
            // or not) dropped it.
            let keys = json(dir.path(), &["check"])["keys"].as_u64().unwrap();
            assert!(
                keys <= 2 * 4 * 4,
                "{keys} pages and records kept for 2 blocks"
            );
        }
        let after = json(dir.path(), &["check"]);
        assert_eq!(after["blocks"].as_u64(), Some(2), "two block records kept");
        let verified = svm(dir.path(), &["demo", "--verify"]);
        assert!(
            verified.status.success(),
            "{}",
            String::from_utf8_lossy(&verified.stderr)
        );
    }
}

/// Every receipt (and so every contract root a transaction made, which its
/// receipt carries), the final roots and the balances of both demos, as
/// storage format 5 computed them: a change of the storage layout must
/// not change one root. The token demo keeps 3 blocks, so its reads go
/// through the slots' undo records and pruning.
#[test]
fn demo_roots_are_those_of_storage_format_5() {
    let dir = tempfile::tempdir().unwrap();
    let main = json(
        &dir.path().join("main"),
        &["demo", "--transfers", "1000", "--block", "100"],
    );
    assert_eq!(
        main["receipts_hash"],
        "09fef1e25cd3803ea14e607b4a778decf693f66f02b97a6305d4964b312c80fa"
    );
    assert_eq!(
        main["counter_state"],
        "babc7753c24535e9130d5cf185572b096a688c85114e5b8a5010df9eebc1fe73"
    );
    assert_eq!(
        main["balances_hash"],
        "3522e26a8a64b04c1d54ea4dab24ae15c88134b5a9952496e5cfafdadb98a1ea"
    );
    let token = json(
        &dir.path().join("token"),
        &[
            "--keep-blocks",
            "3",
            "demo",
            "--contract",
            "token",
            "--accounts",
            "2000",
            "--transfers",
            "1000",
            "--block",
            "100",
        ],
    );
    assert_eq!(
        token["receipts_hash"],
        "0ba30a0bc2c785a4bffe23d81c2fe5532cbbf1f5303f2cf43e297aff9af5a27d"
    );
    assert_eq!(
        token["token_state"],
        "7c239e4fff78dcfba1634484a16bc241af8cabea5cab38f823da00885db9870c"
    );
    assert_eq!(
        token["balances_hash"],
        "77d8bf7eec2b8b6f179a31e388041030fcfe0fd500dd7ee425d5b079a3ee197e"
    );
    let check = json(&dir.path().join("token"), &["check"]);
    assert!(check["pages"].as_u64().unwrap() > 0);
}
