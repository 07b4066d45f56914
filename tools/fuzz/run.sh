#!/usr/bin/env bash
# Builds the libFuzzer executable (ASan, in .build-fuzz) if needed and fuzzes
# one target, or every target one after another, for a bounded time.
#
# Usage: tools/fuzz/run.sh TARGET SECONDS     (TARGET: keras-config h5 keras onnx idx image reference)
#        tools/fuzz/run.sh all SECONDS        (each target SECONDS, one at a time)
#        tools/fuzz/run.sh build              (only build)
#        tools/fuzz/run.sh replay TARGET FILE_OR_DIR...   (sanitized replay, no fuzzing)
#        tools/fuzz/run.sh triage TARGET      (replay each finding, print the top of its stack)
# Environment: FUZZ_RSS_MB (default 2048: -rss_limit_mb and -malloc_limit_mb),
#              FUZZ_TIMEOUT (seconds per input, default 5: a valid seed takes well under 1 s),
#              FUZZ_JOBS_ARGS (extra libFuzzer flags or read-only corpus folders), FUZZ_NO_BUILD=1
#              (use the fuzzer as built), FUZZ_BUILD_PATH (default .build-fuzz; another name must
#              start with .build-fuzz so git ignores it),
#              MODELPORT_FUZZ_MESSAGES=1 (an error message that does not name the file is a finding).
#
# Seeds are read from Tests/Fuzz/corpus/TARGET (never written); new inputs go to
# .build-fuzz/corpus/TARGET, crashes/timeouts/OOMs to .build-fuzz/findings/TARGET,
# the log to .build-fuzz/logs/TARGET.log. One fuzzer at a time: the machine is shared.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
targets=(keras-config h5 keras onnx idx image reference)
build="${FUZZ_BUILD_PATH:-.build-fuzz}"

usage() { sed -n '2,/^set -euo/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; }

build_fuzzer() {
    [[ "${FUZZ_NO_BUILD:-}" == 1 ]] && return 0
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
    # A malloc that cannot be satisfied returns NULL as in production: libhdf5
    # asks for absurd sizes read from corrupt headers and handles the failure.
    # (libFuzzer's -malloc_limit_mb still reports any allocation above the limit.)
    export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1:allocator_may_return_null=1}"
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
    echo "== $target: ${seconds}s (rss limit ${rss} MB, ${FUZZ_TIMEOUT:-5}s per input), log $log"
    sanitizer_environment
    # Fork mode (one child at a time) records a crash, OOM or timeout and goes
    # on fuzzing, so a libhdf5 crash every few hundred inputs does not end the run.
    set +e
    MODELPORT_FUZZ_TARGET="$target" "$(binary)" "$work" "$seeds" "${dict[@]}" \
        -fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1 \
        -max_total_time="$seconds" -rss_limit_mb="$rss" -malloc_limit_mb="$rss" -timeout="${FUZZ_TIMEOUT:-5}" \
        -artifact_prefix="$findings/" -close_fd_mask=1 ${FUZZ_JOBS_ARGS:-} >"$log" 2>&1
    local status=$?
    set -e
    summarize "$target" "$log" "$findings" "$status"
}

summarize() {
    local target="$1" log="$2" findings="$3" status="$4"
    # Fork mode's status lines: "#EXECS: cov: C ft: F corp: N exec/s E oom/timeout/crash: O/T/X time: Ss ...".
    local last
    last="$(grep -E '^#[0-9]+: cov:' "$log" | tail -n 1 || true)"
    if [[ -z "$last" ]]; then
        echo "   exit $status; no status line in $log"
        return
    fi
    local execs cov ft corp otc time
    execs="$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")"
    cov="$(sed -E 's/.* cov: ([0-9]+) .*/\1/' <<<"$last")"
    ft="$(sed -E 's/.* ft: ([0-9]+) .*/\1/' <<<"$last")"
    corp="$(sed -E 's/.* corp: ([0-9]+) .*/\1/' <<<"$last")"
    otc="$(sed -E 's|.* oom/timeout/crash: ([0-9/]+) .*|\1|' <<<"$last")"
    time="$(sed -E 's/.* time: ([0-9]+)s.*/\1/' <<<"$last")"
    echo "   $target: $execs executions in ${time}s; coverage cov $cov ft $ft; corpus $corp; oom/timeout/crash $otc; exit $status"
    echo "   findings in $findings: $(find "$findings" -type f | wc -l) (tools/fuzz/run.sh triage $target)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$(git rev-parse --short HEAD)" "$target" \
        "$execs" "$time" "$cov" "$ft" "$corp" "$otc" >>"$build/results.tsv"
}

# Replays every finding of a target through the sanitized build and prints,
# per finding, the sanitizer's verdict and the first frame in ModelPort's own
# sources (or the first library frame: libhdf5, libpng, ...), then the count
# per distinct place, to tell libhdf5's crashes from ModelPort's.
triage() {
    local target="$1" findings="$build/findings/$1" places
    sanitizer_environment
    mkdir -p "$build/findings/replay"
    places="$(mktemp)"
    for f in "$findings"/*; do
        [[ -f "$f" ]] || continue
        local report verdict place
        report="$(MODELPORT_FUZZ_TARGET="$target" timeout 120 "$(binary)" -runs=1 -rss_limit_mb="${FUZZ_RSS_MB:-2048}" \
            -malloc_limit_mb="${FUZZ_RSS_MB:-2048}" -timeout="${FUZZ_TIMEOUT:-5}" \
            -artifact_prefix="$build/findings/replay/" "$f" 2>&1 || true)"
        verdict="$(grep -m 1 -o -E 'Fatal error: .*|ERROR: AddressSanitizer: [a-z-]+|ERROR: libFuzzer: [a-z -]+|ERROR: LeakSanitizer: .*|ALARM: .*' <<<"$report" || echo 'no crash on replay')"
        local frames
        frames="$(grep -E '^ +#[0-9]+ ' <<<"$report" | grep -v -E 'ModelPortFuzz(Targets)?/' | sed -E 's/^ +#[0-9]+ 0x[0-9a-f]+ in //; s/ \(BuildId.*//' || true)"
        # Where it happened (the innermost frame past the sanitizer, libFuzzer,
        # libc and the Swift runtime) and the first frame in ModelPort's sources.
        local inner own
        inner="$(grep -v -E 'compiler-rt|fuzzer::|libc\.so|libswiftCore|Swift\.o|SwiftOnoneSupport|compiler-generated' <<<"$frames" | head -n 1 | cut -c1-160 || true)"
        own="$(grep -m 1 '/Sources/' <<<"$frames" | sed -E 's/^[^ ]+ //; s|.*/Sources/|Sources/|' || true)"
        place="$inner | first ModelPort frame: ${own:-none}"
        echo "== $(basename "$f") ($(stat -c %s "$f") bytes): $verdict"
        echo "   at ${place:-?}"
        echo "$verdict | ${place:-?}" >>"$places"
    done
    echo "== distinct places"
    sed -E 's/0x[0-9a-f]+//g' "$places" | sort | uniq -c | sort -rn
    rm -f "$places"
}

case "${1:-}" in
    build) build_fuzzer ;;
    replay)
        shift
        build_fuzzer >/dev/null
        sanitizer_environment
        target="$1"; shift
        # The fuzzer binary replays files given on the command line and exits.
        mkdir -p "$build/findings/replay"
        MODELPORT_FUZZ_TARGET="$target" "$(binary)" -runs=1 -artifact_prefix="$build/findings/replay/" "$@"
        ;;
    triage)
        build_fuzzer >/dev/null
        triage "$2"
        ;;
    all)
        [[ $# -eq 2 ]] || { usage; exit 2; }
        build_fuzzer
        for t in "${targets[@]}"; do fuzz_one "$t" "$2"; done
        ;;
    "" | -h | --help) usage ;;
    *)
        [[ $# -eq 2 ]] || { usage; exit 2; }
        build_fuzzer
        fuzz_one "$1" "$2"
        ;;
esac
