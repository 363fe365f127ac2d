#!/usr/bin/env bash
# The main job, after installing what a fresh Debian machine lacks.
# Until the `svm` program exists: the svm-kv example that writes a RocksDB
# database, reopens it and reads it back. Arguments go to the program.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
cargo run --release --locked -p svm-kv --example rocks_roundtrip -- "$@"
