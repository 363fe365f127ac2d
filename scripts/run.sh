#!/usr/bin/env bash
# The main job, after installing what a fresh Debian machine lacks:
# `svm demo` on a RocksDB database in DATA_DIR (default ./svm-data): deploy
# the bundled contracts, fund 1,000 accounts, run 100,000 seeded coin
# transfers in blocks of 1,000; then `svm demo --verify` reopens the
# database and checks the persisted roots and balances. When DATA_DIR
# already holds a finished demo, only the verification runs.
# Usage: scripts/run.sh [DATA_DIR] [extra `svm demo` options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
data="${1:-svm-data}"
shift || true
cargo build --release --locked -p svm-cli
svm="$CARGO_TARGET_DIR/release/svm"
if "$svm" --data-dir "$data" demo --verify 2>/dev/null; then
  echo "(the demo in $data had already run; verified it)"
  exit 0
fi
"$svm" --data-dir "$data" demo "$@"
"$svm" --data-dir "$data" demo --verify
