#!/usr/bin/env bash
# Contract state at scale: the token demo (balances in the token
# contract's own map) at several account counts, on RocksDB in a fresh
# temporary directory each, with the release build; and beside it the
# same workload on two peers (`benches/scale-peer`): NOMT (a Merkle trie
# database, each commit synced) and a flat RocksDB without a Merkle tree.
# For each run it prints transfers per second, minting time, the database
# directory's size, the bytes the process wrote to disk (from
# /usr/bin/time -v) and, of those, the bytes written during the transfers
# (from /proc/self/io), its peak RSS, and for svm the main thread's CPU
# seconds during the transfers (from /proc/thread-self/schedstat: steadier
# than tx/s for comparing two builds, as compactions on the other core
# move the wall clock more than the main thread's work). Runs alternate svm, NOMT, flat
# RocksDB for each count and repetition, so all share one sitting.
#
# Usage: scripts/bench-scale.sh [ACCOUNTS...] [-- extra `svm` options]
#   default account counts: 1000 100000 1000000
#   e.g. scripts/bench-scale.sh 1000000 -- --sync
#        SVM=/path/to/old/svm scripts/bench-scale.sh 1000   (another binary)
#        RUNS=3 scripts/bench-scale.sh                        (repeat each)
#        PEERS=0 scripts/bench-scale.sh                       (svm only)
#        PEERS=1 scripts/bench-scale.sh 1000000 -- --sync     (the flat
#          RocksDB peer syncs each block too when svm gets --sync)
set -euo pipefail
cd "$(dirname "$0")/.."
counts=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do counts+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 100000 1000000)
runs="${RUNS:-1}"
peers="${PEERS:-1}"
bash scripts/setup.sh
. scripts/env.sh
if [ -z "${SVM:-}" ]; then
  cargo build --release --locked -p svm-cli >&2
  SVM="$CARGO_TARGET_DIR/release/svm"
fi
PEER=""
if [ "$peers" = 1 ]; then
  # Its own workspace and lock file: the test command never builds NOMT.
  cargo build --release --locked --manifest-path benches/scale-peer/Cargo.toml >&2
  PEER="$CARGO_TARGET_DIR/release/svm-scale-peer"
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }
peer_sync=""
for o in "${extra[@]}"; do [ "$o" = "--sync" ] && peer_sync="--sync"; done

report() { # dir accounts engine options
  python3 - "$@" <<'PY'
import json, re, sys
d, n, engine, opts = sys.argv[1:5]
out = json.load(open(f"{d}/out.json"))
t = open(f"{d}/time").read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
outputs = int(re.search(r"File system outputs: (\d+)", t).group(1))  # 512-byte blocks
tw = out.get('transfers_disk_written_bytes')
tw = f"{tw / 1e6:,.0f}" if tw is not None else ''
cpu = out.get('transfers_main_thread_cpu_s', '')
print(f"| {int(n):,} | {engine} | {opts} | {out['tx_per_s']:,.0f} | {out.get('mint_s', '')} | "
      f"{out['db_dir_bytes'] / 1e6:,.1f} | {outputs * 512 / 1e6:,.0f} | {tw} | {rss_kb / 1024:,.0f} | {cpu} |")
PY
}

printf '| accounts | engine | options | tx/s | mint s | db dir MB | written MB | of it, transfers MB | peak RSS MB | main thread CPU s |\n'
printf '|---|---|---|---|---|---|---|---|---|---|\n'
for n in "${counts[@]}"; do
  for _ in $(seq "$runs"); do
    dir=$(mktemp -d)
    /usr/bin/time -v -o "$dir/time" "$SVM" --data-dir "$dir/db" --json "${extra[@]}" \
      demo --contract token --accounts "$n" > "$dir/out.json"
    report "$dir" "$n" svm "${extra[*]:-default}"
    rm -rf "$dir"
    [ -n "$PEER" ] || continue
    for engine in nomt rocksdb; do
      dir=$(mktemp -d)
      opts=()
      [ "$engine" = rocksdb ] && [ -n "$peer_sync" ] && opts=(--sync)
      /usr/bin/time -v -o "$dir/time" "$PEER" --engine "$engine" --dir "$dir/db" \
        --accounts "$n" "${opts[@]}" > "$dir/out.json"
      label="no sync"
      [ "$engine" = nomt ] || [ -n "${opts[*]}" ] && label="sync per block"
      report "$dir" "$n" "$engine" "$label"
      rm -rf "$dir"
    done
  done
done
