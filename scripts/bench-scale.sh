#!/usr/bin/env bash
# Contract state at scale: the token demo (balances in the token
# contract's own map) at several account counts, on RocksDB in a fresh
# temporary directory each, with the release build. For each run it prints
# transfers per second, minting time, the database directory's size, the
# bytes the process wrote to disk (from /usr/bin/time -v) and, of those,
# the bytes written during the transfers (the demo's
# transfers_disk_written_bytes, from /proc/self/io), and its peak RSS.
#
# Usage: scripts/bench-scale.sh [ACCOUNTS...] [-- extra `svm` options]
#   default account counts: 1000 100000 1000000
#   e.g. scripts/bench-scale.sh 1000000 -- --sync
#        SVM=/path/to/old/svm scripts/bench-scale.sh 1000   (another binary)
#        RUNS=3 scripts/bench-scale.sh                        (repeat each)
set -euo pipefail
cd "$(dirname "$0")/.."
counts=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do counts+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1000 100000 1000000)
runs="${RUNS:-1}"
if [ -z "${SVM:-}" ]; then
  bash scripts/setup.sh
  . scripts/env.sh
  cargo build --release --locked -p svm-cli >&2
  SVM="$CARGO_TARGET_DIR/release/svm"
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (Debian package time)" >&2; exit 1; }
printf '| accounts | options | tx/s | mint s | db dir MB | written MB | of it, transfers MB | peak RSS MB |\n'
printf '|---|---|---|---|---|---|---|---|\n'
for n in "${counts[@]}"; do
  for _ in $(seq "$runs"); do
    dir=$(mktemp -d)
    /usr/bin/time -v -o "$dir/time" "$SVM" --data-dir "$dir/db" --json "${extra[@]}" \
      demo --contract token --accounts "$n" > "$dir/out.json"
    python3 - "$dir" "$n" "${extra[*]:-default}" <<'PY'
import json, re, sys
d, n, opts = sys.argv[1], sys.argv[2], sys.argv[3]
out = json.load(open(f"{d}/out.json"))
t = open(f"{d}/time").read()
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
outputs = int(re.search(r"File system outputs: (\d+)", t).group(1))  # 512-byte blocks
tw = out.get('transfers_disk_written_bytes')
tw = f"{tw / 1e6:,.0f}" if tw is not None else ''
print(f"| {int(n):,} | {opts} | {out['tx_per_s']:,.0f} | {out.get('mint_s', '')} | "
      f"{out['db_dir_bytes'] / 1e6:,.1f} | {outputs * 512 / 1e6:,.0f} | {tw} | {rss_kb / 1024:,.0f} |")
PY
    rm -rf "$dir"
  done
done
