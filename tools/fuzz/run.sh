#!/usr/bin/env bash
# Builds the libFuzzer executable (ASan, in .build-fuzz) if needed and fuzzes
# one target, or every target one after another, for a bounded time.
#
# Usage: tools/fuzz/run.sh TARGET SECONDS     (TARGET: keras-config h5 keras onnx idx image reference)
#        tools/fuzz/run.sh all SECONDS        (each target SECONDS, one at a time)
#        tools/fuzz/run.sh build              (only build)
#        tools/fuzz/run.sh replay TARGET FILE_OR_DIR...   (sanitized replay, no fuzzing)
# Environment: FUZZ_RSS_MB (default 2048: -rss_limit_mb and -malloc_limit_mb),
#              FUZZ_TIMEOUT (seconds per input, default 10), FUZZ_JOBS_ARGS (extra libFuzzer flags).
#
# Seeds are read from Tests/Fuzz/corpus/TARGET (never written); new inputs go to
# .build-fuzz/corpus/TARGET, crashes/timeouts/OOMs to .build-fuzz/findings/TARGET,
# the log to .build-fuzz/logs/TARGET.log. One fuzzer at a time: the machine is shared.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
targets=(keras-config h5 keras onnx idx image reference)
build=.build-fuzz

build_fuzzer() {
    # -DFUZZING selects the libFuzzer entry in Sources/ModelPortFuzz; only that
    # product is built, so the CLI and the tests never see the sanitizers.
    swift build --build-path "$build" --product ModelPortFuzz \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING 2>&1 | grep -v "Cannot export local symbol" | tail -n 3
}

binary() { echo "$(swift build --build-path "$build" --show-bin-path)/ModelPortFuzz"; }

# The sanitizers' and Swift's settings shared by fuzzing and replay.
sanitizer_environment() {
    # Swift's own crash reporter would race libFuzzer's handler (and can hang on a pipe).
    export SWIFT_BACKTRACE=enable=no
    export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=0}"
    export LSAN_OPTIONS="suppressions=$repo/tools/fuzz/lsan.supp:print_suppressions=0"
}

fuzz_one() {
    local target="$1" seconds="$2"
    local seeds="Tests/Fuzz/corpus/$target" work="$build/corpus/$target" findings="$build/findings/$target"
    [[ -d "$seeds" ]] || { echo "unknown target '$target' (no $seeds); targets: ${targets[*]}" >&2; exit 2; }
    mkdir -p "$work" "$findings" "$build/logs"
    local dict=()
    [[ -f "tools/fuzz/dicts/$target.dict" ]] && dict=("-dict=tools/fuzz/dicts/$target.dict")
    local rss="${FUZZ_RSS_MB:-2048}" log="$build/logs/$target.log"
    echo "== $target: ${seconds}s (rss limit ${rss} MB, ${FUZZ_TIMEOUT:-10}s per input), log $log"
    sanitizer_environment
    # libFuzzer exits non-zero on a finding; keep going to the summary (and the next target).
    set +e
    MODELPORT_FUZZ_TARGET="$target" "$(binary)" "$work" "$seeds" "${dict[@]}" \
        -max_total_time="$seconds" -rss_limit_mb="$rss" -malloc_limit_mb="$rss" -timeout="${FUZZ_TIMEOUT:-10}" \
        -artifact_prefix="$findings/" -print_final_stats=1 -close_fd_mask=1 ${FUZZ_JOBS_ARGS:-} >"$log" 2>&1
    local status=$?
    set -e
    summarize "$target" "$log" "$findings" "$status"
}

summarize() {
    local target="$1" log="$2" findings="$3" status="$4"
    local last execs
    last="$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
    execs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)"
    echo "   exit $status; executions ${execs:-?}; last: ${last:-none}"
    echo "   findings in $findings: $(find "$findings" -type f | wc -l)"
    grep -E '^==[0-9]+==ERROR|^SUMMARY|deadly signal|Fatal error|out-of-memory|timeout after' "$log" | head -n 5 | sed 's/^/   /' || true
}

case "${1:-}" in
    build) build_fuzzer ;;
    replay)
        shift
        build_fuzzer >/dev/null
        sanitizer_environment
        target="$1"; shift
        # The fuzzer binary replays files given on the command line and exits.
        MODELPORT_FUZZ_TARGET="$target" "$(binary)" -runs=1 "$@"
        ;;
    all)
        [[ $# -eq 2 ]] || { sed -n '5,9p' "$0"; exit 2; }
        build_fuzzer
        for t in "${targets[@]}"; do fuzz_one "$t" "$2"; done
        ;;
    "" | -h | --help) sed -n '2,16p' "$0" ;;
    *)
        [[ $# -eq 2 ]] || { sed -n '5,9p' "$0"; exit 2; }
        build_fuzzer
        fuzz_one "$1" "$2"
        ;;
esac
