#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer + AddressSanitizer) on the stable toolchain; see
# fuzz/README.md.
#
#   scripts/lib/fuzz.sh short                 every target for FUZZ_SECONDS (10) from the
#                                             committed seeds (what scripts/test.sh runs)
#   scripts/lib/fuzz.sh long [SECONDS] [TARGET...]
#                                             each target SECONDS (600), one after another,
#                                             growing the kept corpus in fuzz/corpus/
#
# Both print one table (executions, exec/s, coverage, corpus) and fail on any crash, leak
# or timeout; the failing input is left in fuzz/artifacts/TARGET/.
set -euo pipefail
source "$(dirname "$0")/setup.sh"

CARGO_FUZZ_VERSION=0.13.2
TARGETS=(webhook_delivery signature settings_import flow)
FUZZ_DIR="$ROOT/fuzz"

# cargo-fuzz passes -Zsanitizer and friends to rustc; stable rustc takes them with
# RUSTC_BOOTSTRAP=1 and ships the sanitizer runtimes (librustc-stable_rt.asan.a), so no
# nightly toolchain is needed.
export RUSTC_BOOTSTRAP=1
# The fuzz build has its own flags; sharing a target directory with normal builds would
# rebuild both back and forth.
unset CARGO_TARGET_DIR

ensure_cargo_fuzz() {
  if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    say "Installing cargo-fuzz $CARGO_FUZZ_VERSION"
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
  fi
}

# The libFuzzer options of a target: its dictionary and the longest input worth trying.
target_options() {
  case "$1" in
    webhook_delivery | signature) echo "-dict=$FUZZ_DIR/dict/webhook.dict -max_len=8192" ;;
    settings_import) echo "-dict=$FUZZ_DIR/dict/settings.dict -max_len=16384" ;;
    flow) echo "-dict=$FUZZ_DIR/dict/flow.dict -max_len=8192" ;;
  esac
}

check_targets() {
  local t
  for t in "$@"; do
    [[ " ${TARGETS[*]} " == *" $t "* ]] || die "unknown fuzz target $t (the targets: ${TARGETS[*]})"
  done
}

# Runs one target for $2 seconds with $3 as its writable corpus; the log goes to $4.
run_target() {
  local target=$1 seconds=$2 corpus=$3 log=$4
  mkdir -p "$corpus" "$FUZZ_DIR/artifacts/$target"
  # shellcheck disable=SC2046 # the options are words
  cargo fuzz run --fuzz-dir "$FUZZ_DIR" --target-dir "$FUZZ_DIR/target" "$target" \
    "$corpus" "$FUZZ_DIR/corpus-seed/$target" -- \
    -max_total_time="$seconds" -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$FUZZ_DIR/artifacts/$target/" $(target_options "$target") \
    >"$log" 2>&1
}

# One table row from a libFuzzer log: executions, exec/s, the last coverage line's edges
# (cov) and features (ft), the corpus size, and the verdict.
report_row() {
  local target=$1 log=$2 status=$3
  local runs rate cov ft corp
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-18s %12s %9s %7s %8s %14s  %s\n' "$target" "${runs:--}" "${rate:--}" \
    "${cov:--}" "${ft:--}" "${corp:--}" "$status"
}

# Runs the targets one at a time (the machine may have two cores) and prints the table.
fuzz_targets() {
  local seconds=$1 corpus_root=$2 logs=$3
  shift 3
  local failed=() rows=() target log status
  say "Building the fuzz targets (release, AddressSanitizer)"
  cargo fuzz build --fuzz-dir "$FUZZ_DIR" --target-dir "$FUZZ_DIR/target"
  for target in "$@"; do
    log="$logs/$target.log"
    say "Fuzzing $target for $seconds s"
    if run_target "$target" "$seconds" "$corpus_root/$target" "$log"; then
      status=ok
    else
      status="FAILED (log: $log)"
      failed+=("$target")
      # What broke and where the input went; the whole story is in the log.
      grep -E -A1 '^(==[0-9]+==ERROR|thread .* panicked)' "$log" | head -20 || true
      grep -E '^(SUMMARY|Test unit written|Base64)' "$log" || true
    fi
    rows+=("$(report_row "$target" "$log" "$status")")
  done
  printf '\n%-18s %12s %9s %7s %8s %14s  %s\n' target executions "exec/s" cov ft corpus result
  printf '%s\n' "${rows[@]}"
  echo "Logs: $logs"
  if [ ${#failed[@]} -gt 0 ]; then
    printf '\nFuzzing found a failure in: %s\n' "${failed[*]}" >&2
    printf 'Reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run --fuzz-dir fuzz TARGET fuzz/artifacts/TARGET/<file>\n' >&2
    return 1
  fi
}

# A new directory for this run's logs in fuzz/logs/ (not committed).
new_log_dir() {
  local dir
  dir="$FUZZ_DIR/logs/$1-$(date +%Y%m%d-%H%M%S)"
  mkdir -p "$dir"
  echo "$dir"
}

main() {
  local mode=${1:-short}
  shift || true
  case "$mode" in short | long) ;; *) die "usage: $0 short | long [SECONDS] [TARGET...]" ;; esac
  ensure_cargo_fuzz
  case "$mode" in
    short)
      # A fresh corpus each time: the test command starts from the committed seeds only.
      tmp_corpus=$(mktemp -d)
      trap 'rm -rf "$tmp_corpus"' EXIT
      fuzz_targets "${FUZZ_SECONDS:-10}" "$tmp_corpus" "$(new_log_dir short)" "${TARGETS[@]}"
      ;;
    long)
      local seconds=600
      if [[ ${1:-} =~ ^[0-9]+$ ]]; then seconds=$1; shift; fi
      local targets=("$@")
      [ ${#targets[@]} -gt 0 ] || targets=("${TARGETS[@]}")
      check_targets "${targets[@]}"
      fuzz_targets "$seconds" "$FUZZ_DIR/corpus" "$(new_log_dir long)" "${targets[@]}"
      ;;
  esac
}

main "$@"
