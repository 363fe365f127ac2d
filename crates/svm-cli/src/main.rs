//! `svm`: the command-line program over the svm runtime.
//!
//! Every command opens the database in `--data-dir` (default `./svm-data`)
//! with `--backend` (default `rocksdb`; `memory` keeps nothing between
//! runs), prints a readable result or, with `--json`, one JSON object, and
//! on any error prints one line `error: …` and exits with status 1.

/// The program's allocator: mimalloc, whose small-object paths suit the
/// many short-lived allocations of a call (store, import object, page
/// cache); see the demo figures in `docs/benchmarks.md`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};
use svm_kv::{KvStore, LevelKv, MemKv, RocksKv};
use svm_pages::PageIndex;
use svm_runtime::gate::{GateError, Rejection};
use svm_runtime::{
    CallTx, Compiler, DeployError, DeployTx, KvNodeHost, ModuleCacheConfig, NodeHost, Receipt,
    Runtime, RuntimeConfig, StateRef, WasmValue,
};
use svm_types::{Address, State};

mod code;
mod demo;
mod token_demo;

use code::load_code;

type Kv = Arc<dyn KvStore>;
type Rt = Runtime<Kv>;

#[derive(Parser)]
#[command(
    name = "svm",
    version,
    about = "Deploy and run WebAssembly contracts over hashed page storage"
)]
struct Cli {
    /// The database directory.
    #[arg(long, global = true, default_value = "svm-data")]
    data_dir: PathBuf,
    /// The storage backend.
    #[arg(long, global = true, value_enum, default_value_t = Backend::Rocksdb)]
    backend: Backend,
    /// Print one JSON object instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Let contracts import `node.vmcall_set_balance`, which sets any
    /// account's balance (SVM milestone-1 compatibility; unsafe for
    /// untrusted code, off by default).
    #[arg(long, global = true)]
    allow_set_balance: bool,
    /// The wasm compiler. Receipts, gas and state roots are the same under
    /// both; the module cache keeps each compiler's artifacts apart.
    #[arg(long, global = true, value_enum, default_value_t = CompilerArg::Singlepass)]
    compiler: CompilerArg,
    /// How many blocks' states stay readable; each block prunes what only
    /// older states reach (1: only the newest; 0: never prune).
    #[arg(long, global = true, default_value_t = 128)]
    keep_blocks: u64,
    /// Make every block's batch wait for an fsync of the database's log
    /// before the block counts as committed (survives a power loss, not
    /// only a crash of the process).
    #[arg(long, global = true)]
    sync: bool,
    /// The memory of the node-wide page and tree-record caches, in MiB.
    #[arg(long, global = true, default_value_t = 256)]
    state_cache_mib: usize,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Clone, Copy, ValueEnum)]
enum CompilerArg {
    Singlepass,
    Cranelift,
}

impl CompilerArg {
    fn compiler(self) -> Result<Compiler, String> {
        match self {
            CompilerArg::Singlepass => Ok(Compiler::Singlepass),
            #[cfg(feature = "cranelift")]
            CompilerArg::Cranelift => Ok(Compiler::Cranelift),
            #[cfg(not(feature = "cranelift"))]
            CompilerArg::Cranelift => {
                Err("this svm was built without the `cranelift` feature".into())
            }
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum Backend {
    Memory,
    Rocksdb,
    Leveldb,
}

#[derive(Subcommand)]
enum Cmd {
    /// Deploy a contract from a .wasm or .wat file.
    Deploy {
        file: PathBuf,
        /// The author's address (40 hex digits).
        #[arg(long, default_value = "0000000000000000000000000000000000000001")]
        author: String,
        /// The author's nonce.
        #[arg(long, default_value_t = 0)]
        nonce: u64,
        /// A name (default: the file name).
        #[arg(long)]
        name: Option<String>,
        /// The gas limit.
        #[arg(long, default_value_t = 100_000_000)]
        gas: u64,
    },
    /// Call a contract function; arguments look like i32:5 or i64:-3.
    Call {
        address: String,
        function: String,
        args: Vec<String>,
        /// The sender's address.
        #[arg(long, default_value = "0000000000000000000000000000000000000001")]
        sender: String,
        /// The gas limit.
        #[arg(long, default_value_t = 10_000_000)]
        gas: u64,
        /// Call data, as hex.
        #[arg(long)]
        calldata_hex: Option<String>,
        /// The value moved from the sender's balance to the contract's with
        /// the call (returned if the call fails).
        #[arg(long, default_value_t = 0)]
        value: u64,
        /// Run against this state root instead of the latest, as a
        /// read-only query: nothing is committed.
        #[arg(long)]
        state: Option<String>,
    },
    /// Show a contract's code hash, state root and pages used.
    Inspect { address: String },
    /// Read a slice of a contract's page, at its latest or a given state.
    Read {
        address: String,
        page: u32,
        offset: u32,
        len: u32,
        #[arg(long)]
        state: Option<String>,
    },
    /// Add to a node account's balance (fails, changing nothing, if the
    /// sum would exceed u64::MAX).
    Fund { account: String, amount: u64 },
    /// Show a node account's balance.
    Balance { account: String },
    /// Delete, in one atomic batch, what only the states of blocks older
    /// than the last --keep-blocks reach (blocks prune as they commit; this
    /// catches up after a larger setting or an archive run).
    Prune,
    /// Check the database: the newest block's record, and every page and
    /// tree record of every contract's latest state and of every kept
    /// block's states (for start-up after a crash); exits 1 on a problem.
    Check,
    /// Run the deploy gate over files and print every finding; exits 1 when
    /// any file is rejected.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The main job: deploy the bundled contracts, fund accounts, run coin
    /// transfers in blocks; or, with --verify, check a finished demo.
    Demo {
        /// Reopen the database and check the persisted roots and balances.
        #[arg(long)]
        verify: bool,
        /// Accounts to fund.
        #[arg(long, default_value_t = 1_000)]
        accounts: u32,
        /// Transfers to run.
        #[arg(long, default_value_t = 100_000)]
        transfers: u32,
        /// Transfers per block.
        #[arg(long, default_value_t = 1_000)]
        block: u32,
        /// The seed of the transfer generator.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Where the balances live: `coin` (the node's accounts, moved by
        /// the C coin contract) or `token` (the Rust token's map in its
        /// own pages).
        #[arg(long, value_enum, default_value = "coin")]
        contract: demo::DemoContract,
    },
}

/// An opened database: the runtime and its node accounts.
pub(crate) struct Env {
    pub(crate) rt: Rt,
    pub(crate) node: Arc<KvNodeHost<Kv>>,
    pub(crate) json: bool,
    /// The database directory of a disk backend.
    pub(crate) dir: Option<PathBuf>,
}

fn open(cli: &Cli) -> Result<Env, String> {
    let kv: Kv = match cli.backend {
        Backend::Memory => Arc::new(MemKv::new()),
        Backend::Rocksdb => {
            Arc::new(RocksKv::open(cli.data_dir.join("rocksdb")).map_err(|e| e.to_string())?)
        }
        Backend::Leveldb => {
            Arc::new(LevelKv::open(cli.data_dir.join("leveldb")).map_err(|e| e.to_string())?)
        }
    };
    let node = Arc::new(KvNodeHost::new(kv.clone()));
    let config = RuntimeConfig {
        module_cache: ModuleCacheConfig {
            disk_dir: match cli.backend {
                Backend::Memory => None,
                _ => Some(cli.data_dir.join("modules")),
            },
            ..ModuleCacheConfig::default()
        },
        allow_set_balance: cli.allow_set_balance,
        compiler: cli.compiler.compiler()?,
        keep_blocks: cli.keep_blocks,
        sync_writes: cli.sync,
        state_cache_bytes: cli.state_cache_mib.saturating_mul(1 << 20),
        ..RuntimeConfig::default()
    };
    let rt = Runtime::open(kv, node.clone(), config).map_err(|e| e.to_string())?;
    Ok(Env {
        rt,
        node,
        json: cli.json,
        dir: match cli.backend {
            Backend::Memory => None,
            Backend::Rocksdb => Some(cli.data_dir.join("rocksdb")),
            Backend::Leveldb => Some(cli.data_dir.join("leveldb")),
        },
    })
}

pub(crate) fn address(s: &str) -> Result<Address, String> {
    s.parse().map_err(|e| format!("bad address {s:?}: {e}"))
}

pub(crate) fn state(s: &str) -> Result<State, String> {
    s.parse().map_err(|e| format!("bad state root {s:?}: {e}"))
}

impl Env {
    pub(crate) fn print(&self, text: impl std::fmt::Display, value: Value) {
        if self.json {
            println!("{value}");
        } else {
            println!("{text}");
        }
    }
}

pub(crate) fn receipt_json(r: &Receipt) -> Value {
    json!({
        "success": r.success,
        "error": r.error.as_ref().map(|e| json!({"code": format!("{:?}", e.code), "message": e.message})),
        "new_state": r.new_state.to_string(),
        "returns": r.returns.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "return_data": hex::encode(&r.return_data),
        "logs": r.logs.iter().map(hex::encode).collect::<Vec<_>>(),
        "pages_read": r.pages_read,
        "pages_written": r.pages_written,
        "gas_limit": r.gas_limit,
        "gas_used": r.gas_used,
    })
}

fn receipt_text(r: &Receipt) -> String {
    let mut lines = vec![
        format!(
            "status      {}",
            match &r.error {
                None => "success".to_string(),
                Some(e) => format!("failed: {e}"),
            }
        ),
        format!("state       {}", r.new_state),
    ];
    if !r.returns.is_empty() {
        let v: Vec<String> = r.returns.iter().map(ToString::to_string).collect();
        lines.push(format!("returns     {}", v.join(" ")));
    }
    if !r.return_data.is_empty() {
        lines.push(format!("return data {}", hex::encode(&r.return_data)));
    }
    for log in &r.logs {
        lines.push(format!("log         {}", hex::encode(log)));
    }
    lines.push(format!(
        "pages       {} read, {} written",
        r.pages_read, r.pages_written
    ));
    lines.push(format!("gas         {} of {}", r.gas_used, r.gas_limit));
    lines.join("\n")
}

fn finding_json(f: &GateError) -> Value {
    match f {
        GateError::Malformed { offset, message } => {
            json!({"rule": "malformed", "offset": offset, "message": message})
        }
        GateError::NonDeterministic {
            rule,
            instruction,
            offset,
        } => json!({"rule": rule, "instruction": instruction, "offset": offset}),
        GateError::UnknownImports(names) => json!({"rule": "imports", "unknown": names}),
        GateError::MissingMemory => json!({"rule": "memory", "message": f.to_string()}),
        GateError::ReservedExport(name) => {
            json!({"rule": "exports", "name": name, "message": f.to_string()})
        }
        GateError::StartFunction(func) => {
            json!({"rule": "start", "function": func, "message": f.to_string()})
        }
        GateError::DisabledVmCall(name) => {
            json!({"rule": "policy", "vmcall": name, "message": f.to_string()})
        }
        GateError::LimitExceeded { what, value, limit } => {
            json!({"rule": "limits", "what": what, "value": value, "limit": limit})
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    if let Cmd::Validate { files } = &cli.cmd {
        // Validation needs no database.
        let kv: Kv = Arc::new(MemKv::new());
        let env = Env {
            rt: Runtime::new(
                kv.clone(),
                Arc::new(KvNodeHost::new(kv)),
                RuntimeConfig {
                    allow_set_balance: cli.allow_set_balance,
                    compiler: cli.compiler.compiler()?,
                    ..RuntimeConfig::default()
                },
            ),
            node: Arc::new(KvNodeHost::new(Arc::new(MemKv::new()) as Kv)),
            json: cli.json,
            dir: None,
        };
        return Ok(validate(&env, files));
    }
    let env = open(&cli)?;
    match cli.cmd {
        Cmd::Deploy {
            file,
            author,
            nonce,
            name,
            gas,
        } => {
            let code = load_code(&file)?;
            let name = name.unwrap_or_else(|| {
                file.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
            let d = env
                .rt
                .deploy(&DeployTx {
                    author: address(&author)?,
                    nonce,
                    name,
                    gas_limit: gas,
                    code,
                })
                .map_err(|e| e.to_string())?;
            env.print(
                format!(
                    "address     {}\ncode hash   {}\nstate       {}\ngas         {}",
                    d.address, d.code_hash, d.state, d.gas_used
                ),
                json!({"address": d.address.to_string(), "code_hash": d.code_hash.to_string(),
                       "state": d.state.to_string(), "gas_used": d.gas_used}),
            );
        }
        Cmd::Call {
            address: a,
            function,
            args,
            sender,
            gas,
            calldata_hex,
            value,
            state: st,
        } => {
            let args = args
                .iter()
                .map(|s| s.parse::<WasmValue>())
                .collect::<Result<Vec<_>, _>>()?;
            let calldata = match calldata_hex {
                Some(h) => hex::decode(h.trim_start_matches("0x"))
                    .map_err(|e| format!("bad --calldata-hex: {e}"))?,
                None => Vec::new(),
            };
            let r = env.rt.call(&CallTx {
                value,
                contract: address(&a)?,
                sender: address(&sender)?,
                function,
                args,
                calldata,
                gas_limit: gas,
                state: match st {
                    Some(s) => StateRef::At(state(&s)?),
                    None => StateRef::Latest,
                },
            });
            env.print(receipt_text(&r), receipt_json(&r));
            if !r.success {
                return Ok(ExitCode::FAILURE);
            }
        }
        Cmd::Inspect { address: a } => {
            let a = address(&a)?;
            let rec = env
                .rt
                .contract(&a)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("no contract at {a}"))?;
            let info = env
                .rt
                .pages()
                .state_info(&a, &rec.state)
                .map_err(|e| e.to_string())?;
            env.print(
                format!(
                    "address     {a}\nname        {}\nauthor      {}\nnonce       {}\ncode hash   {}\nstate       {}\npages used  {}",
                    rec.name, rec.author, rec.nonce, rec.code_hash, rec.state, info.page_count
                ),
                json!({"address": a.to_string(), "name": rec.name, "author": rec.author.to_string(),
                       "nonce": rec.nonce, "code_hash": rec.code_hash.to_string(),
                       "state": rec.state.to_string(), "pages_used": info.page_count}),
            );
        }
        Cmd::Read {
            address: a,
            page,
            offset,
            len,
            state: st,
        } => {
            let a = address(&a)?;
            let root = match st {
                Some(s) => state(&s)?,
                None => {
                    env.rt
                        .contract(&a)
                        .map_err(|e| e.to_string())?
                        .ok_or_else(|| format!("no contract at {a}"))?
                        .state
                }
            };
            let view = env.rt.pages().open(&a, &root).map_err(|e| e.to_string())?;
            let bytes = view
                .read(PageIndex(page), offset as usize, len as usize)
                .map_err(|e| e.to_string())?;
            env.print(
                hex::encode(&bytes),
                json!({"address": a.to_string(), "state": root.to_string(), "page": page,
                       "offset": offset, "len": len, "hex": hex::encode(&bytes)}),
            );
        }
        Cmd::Fund { account, amount } => {
            let a = address(&account)?;
            let before = env.node.balance(&a).map_err(|e| e.to_string())?;
            let balance = before
                .checked_add(amount)
                .ok_or_else(|| format!("{a} holds {before}: adding {amount} exceeds u64::MAX"))?;
            env.node
                .set_balance(&a, balance)
                .map_err(|e| e.to_string())?;
            env.print(
                format!("{a} balance {balance} (+{amount})"),
                json!({"account": a.to_string(), "added": amount, "balance": balance}),
            );
        }
        Cmd::Balance { account } => {
            let a = address(&account)?;
            let b = env.node.balance(&a).map_err(|e| e.to_string())?;
            env.print(
                format!("{a} balance {b}"),
                json!({"account": a.to_string(), "balance": b}),
            );
        }
        Cmd::Check => {
            let r = env.rt.check().map_err(|e| format!("check failed: {e}"))?;
            env.print(
                format!(
                    "sound: newest block {}, {} block records, {} contracts, {} states, {} pages read, {} tree records",
                    r.height, r.blocks, r.contracts, r.states, r.pages, r.keys
                ),
                json!({"height": r.height, "blocks": r.blocks, "contracts": r.contracts,
                       "states": r.states, "pages": r.pages, "keys": r.keys}),
            );
        }
        Cmd::Prune => {
            let out = env
                .rt
                .prune(cli.keep_blocks.max(1))
                .map_err(|e| e.to_string())?;
            env.print(
                format!(
                    "pruned {} stale keys and {} block records; newest block {}, keeping {}",
                    out.keys,
                    out.blocks,
                    out.height,
                    cli.keep_blocks.max(1)
                ),
                json!({"keys": out.keys, "blocks": out.blocks, "height": out.height}),
            );
        }
        Cmd::Demo {
            verify,
            accounts,
            transfers,
            block,
            seed,
            contract,
        } => {
            let opts = demo::Options {
                accounts,
                transfers,
                block,
                seed,
                contract,
            };
            if verify {
                let s = demo::summary(&env)?;
                if s["contract"] == "token" {
                    token_demo::verify(&env, &s)?;
                } else {
                    demo::verify(&env, &opts, &s)?;
                }
            } else if opts.contract == demo::DemoContract::Token {
                token_demo::run(&env, &opts)?;
            } else {
                demo::run(&env, &opts)?;
            }
        }
        Cmd::Validate { .. } => unreachable!("handled above"),
    }
    Ok(ExitCode::SUCCESS)
}

fn validate(env: &Env, files: &[PathBuf]) -> ExitCode {
    let mut rejected = false;
    let mut out = Vec::new();
    for file in files {
        let (ok, findings): (bool, Vec<Value>) = match load_code(file) {
            Err(e) => (false, vec![json!({"rule": "read", "message": e})]),
            Ok(code) => match env.rt.validate(&code) {
                Ok(()) => (true, vec![]),
                Err(DeployError::Gate(Rejection(f))) => {
                    (false, f.iter().map(finding_json).collect())
                }
                Err(e) => (
                    false,
                    vec![json!({"rule": "size", "message": e.to_string()})],
                ),
            },
        };
        rejected |= !ok;
        if !env.json {
            println!(
                "{}: {}",
                file.display(),
                if ok { "accepted" } else { "rejected" }
            );
            for f in &findings {
                println!("  - {}", finding_text(f));
            }
        }
        out.push(json!({"file": file.display().to_string(), "accepted": ok, "findings": findings}));
    }
    if env.json {
        println!("{}", Value::Array(out));
    }
    if rejected {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn finding_text(f: &Value) -> String {
    let rule = f["rule"].as_str().unwrap_or("?");
    match rule {
        "imports" => format!(
            "unknown imports: {}",
            f["unknown"]
                .as_array()
                .map(|a| a
                    .iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", "))
                .unwrap_or_default()
        ),
        "floats" => format!(
            "floats: `{}` at offset {}",
            f["instruction"].as_str().unwrap_or("?"),
            f["offset"]
        ),
        "malformed" => format!(
            "malformed at offset {}: {}",
            f["offset"],
            f["message"].as_str().unwrap_or("")
        ),
        "limits" => format!(
            "{} is {}, over the limit of {}",
            f["what"].as_str().unwrap_or("?"),
            f["value"],
            f["limit"]
        ),
        _ => format!("{rule}: {}", f["message"].as_str().unwrap_or("")),
    }
}

fn main() -> ExitCode {
    // Library code does not panic; should anything still, print one line,
    // never a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error: {info}");
    }));
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            // One line, whatever a library put in the message.
            let e = e.split_whitespace().collect::<Vec<_>>().join(" ");
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The instant `Instant::now()`, for tx/s figures only (never in a hash or
/// a receipt).
pub(crate) fn now() -> Instant {
    Instant::now()
}
