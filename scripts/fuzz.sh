#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang, ASan and UBSan (cmake --preset fuzz,
# build/fuzz; only the libraries the targets need) and runs each for a bounded time,
# starting from its seed corpus (tests/fuzz/corpus/<target>).
#   scripts/fuzz.sh                 every target, ORDERFLOW_FUZZ_SECONDS (default 30) each
#   scripts/fuzz.sh event_decoder_fuzz   one target
# A crash stops with the failing input saved as build/fuzz/findings/<target>/crash-*:
# fix the bug, then copy the input to tests/fuzz/regressions/<target>/ — ctest replays
# that folder in every build (the <target>_replay tests).
# Environment: ORDERFLOW_FUZZ_SECONDS (per target), ORDERFLOW_FUZZ_JOBS (build jobs, 2),
# ORDERFLOW_FUZZ_ARGS (more libFuzzer flags, e.g. -max_len=4096).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ORDERFLOW_ROOT"

TARGETS=(http_request_fuzz order_decoder_fuzz event_decoder_fuzz)
[ $# -gt 0 ] && TARGETS=("$@")
SECONDS_EACH="${ORDERFLOW_FUZZ_SECONDS:-30}"
BUILD="$ORDERFLOW_ROOT/build/fuzz"

command -v clang++ >/dev/null || die "clang++ is missing: scripts/deps.sh installs it"
info "building the fuzz targets (clang, ASan + UBSan): ${TARGETS[*]}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$ORDERFLOW_ROOT}"
cmake --preset fuzz >/dev/null
cmake --build "$BUILD" -j "${ORDERFLOW_FUZZ_JOBS:-2}" --target "${TARGETS[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for t in "${TARGETS[@]}"; do
  corpus="$BUILD/corpus/$t"      # grows while fuzzing; the seeds stay as they are
  findings="$BUILD/findings/$t"
  mkdir -p "$corpus" "$findings"
  info "fuzzing $t for ${SECONDS_EACH}s"
  # shellcheck disable=SC2086  # ORDERFLOW_FUZZ_ARGS is a list of flags
  if "$BUILD/bin/$t" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
       -artifact_prefix="$findings/" ${ORDERFLOW_FUZZ_ARGS:-} \
       "$corpus" "tests/fuzz/corpus/$t" >"$findings/run.log" 2>&1; then
    ok "$t: $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$findings/run.log" | awk '{print $2}') inputs, no crash"
  else
    err "$t found a crash (input in $findings/): last lines of $findings/run.log:"
    tail -40 "$findings/run.log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  die "fuzzing failed: ${failed[*]}"
fi
ok "fuzzing: no crash in ${TARGETS[*]}"
