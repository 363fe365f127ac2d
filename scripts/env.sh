# Sourced by the scripts: one cargo target directory outside the clone, so
# that the ~13-minute bundled RocksDB build is reused by later runs and CI.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/svm/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
