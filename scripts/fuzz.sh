#!/usr/bin/env bash
# Runs every cargo-fuzz target (fuzz/fuzz_targets/) with libFuzzer for the
# given seconds each (default 60), then prints the executions per target.
#
#   bash scripts/fuzz.sh [seconds per target] [target ...]
#
# Installs what it needs when missing: the nightly toolchain, cargo-fuzz,
# and (scripts/setup.sh) clang for libFuzzer's C++ sources. Each target
# starts from its committed seed corpus (fuzz/corpus/<target>/, read only)
# and grows a working corpus in fuzz/work/<target>/; crashes are written to
# fuzz/artifacts/<target>/ (both ignored by git). Exits 1 when a target
# crashed. Environment: SVM_FUZZ_SANITIZER (default none; address works
# for the pure-Rust targets), SVM_FUZZ_TARGET_DIR, SVM_FUZZ_STRICT (set: also
# fail on the known issues of docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
all=(gate_compile deploy_call wire_decode vmcalls page_cache)
targets=("$@")
if [ $# -eq 0 ]; then targets=("${all[@]}"); fi

bash scripts/setup.sh
. scripts/env.sh
# Nightly and sanitizer flags: a target directory of its own.
export CARGO_TARGET_DIR="${SVM_FUZZ_TARGET_DIR:-$HOME/.cache/svm/fuzz-target}"
sanitizer="${SVM_FUZZ_SANITIZER:-none}"

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "fuzz: installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

echo "== building the fuzz targets (sanitizer: $sanitizer)"
cargo +nightly fuzz build --sanitizer "$sanitizer"

mkdir -p fuzz/work fuzz/artifacts fuzz/logs
declare -A execs status
failed=0
for t in "${targets[@]}"; do
  mkdir -p "fuzz/work/$t" "fuzz/artifacts/$t"
  log="fuzz/logs/$t.log"
  echo "== $t for ${seconds}s (log: $log)"
  set +e
  cargo +nightly fuzz run --sanitizer "$sanitizer" "$t" "fuzz/work/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -print_final_stats=1 -timeout=20 -rss_limit_mb=2048 \
    -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
  rc=$?
  set -e
  n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
  execs[$t]="${n:-?}"
  if [ $rc -eq 0 ]; then
    status[$t]="ok"
  else
    status[$t]="CRASH (exit $rc; see $log and fuzz/artifacts/$t/)"
    failed=1
    grep -m 5 -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" || true
  fi
done

echo
echo "== executions per target (${seconds}s each)"
for t in "${targets[@]}"; do
  printf '%-14s %12s  %s\n' "$t" "${execs[$t]}" "${status[$t]}"
done
exit $failed
