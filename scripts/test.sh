#!/usr/bin/env bash
# Runs every test of the workspace, after installing what a fresh Debian
# machine lacks. This is the README's test command; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/env.sh
cargo test --workspace --all-features --locked
