#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with the Swift toolchain:
# installs what is missing (tools/setup.sh), builds, runs every Swift test, and
# re-checks the committed Keras reference outputs with Keras itself, then tests
# `modelport serve` end to end (malformed requests, headless Chromium).
#
# Usage: tools/test.sh [extra `swift test` arguments, e.g. --filter CLITests]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# Each stage's heading says when it started (minutes:seconds into the run), so
# a CI log shows where the time goes.
started=$SECONDS
stage() { printf '== [%d:%02d] %s\n' $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) "$1"; }
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"

bash tools/setup.sh
export TF_CPP_MIN_LOG_LEVEL=3
venv="${MODELPORT_VENV:-$repo/.venv}"

stage "Keras reference check (the committed fixtures' outputs, recomputed by Keras)"
"$venv/bin/python" tools/check_fixtures.py

# Real-world Keras models, made by Keras now (not committed; large): each set is
# remade only when its script or the pinned tools change. Made in the
# background while Swift builds (Python uses one core).
make_set() {  # name, script, output directory, extra arguments
  local key
  key="$(cat "tools/$2" tools/keras_fixture_support.py tools/requirements.txt | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$3/.made-by" 2>/dev/null)" != "$key" ]; then
    "$venv/bin/python" "tools/$2" --out "$3" "${@:4}"
    echo "$key" > "$3/.made-by"
  else
    echo "$1: up to date (made by this script and these pinned tools)"
  fi
}
fixtures_log="$repo/.build/fixtures-made.log"
mkdir -p "$repo/.build"
( make_set "transfer-learning models" make_application_fixtures.py "$repo/.build/fixtures/applications" &&
  make_set "keras.applications families" make_family_fixtures.py "$repo/.build/fixtures/families" ) > "$fixtures_log" 2>&1 &
fixtures_pid=$!

stage "Swift build"
build_log="$repo/.build/build-tests.log"
if ! swift build --build-tests > "$build_log" 2>&1; then
  cat "$build_log"
  kill "$fixtures_pid" 2>/dev/null || true
  exit 1
fi
tail -n 2 "$build_log"

stage "Real-world Keras models, made by Keras (keras.applications families, fine-tuning; not committed)"
if ! wait "$fixtures_pid"; then
  cat "$fixtures_log"
  echo "making the real-world Keras models failed (log above)"
  exit 1
fi
grep -v -E "^(WARNING|I0000|W0000|E0000)|absl::|cuda" "$fixtures_log" || true

# Keras 3 and tf-keras train compiled models, ModelPort converts them between every Keras layout,
# and each Keras continues training them (in the background: Python uses one core, the tests the other).
compile_log="$repo/.build/compile-state.log"
"$venv/bin/python" tools/check_compile_state.py --modelport "$(swift build --show-bin-path)/modelport" > "$compile_log" 2>&1 &
compile_pid=$!

stage "Swift tests"
swift test "$@"
if [ "${MODELPORT_ALL_FAMILIES:-0}" = 1 ]; then
  # Opt-in (about an hour on two cores): ResNet101/152 and V2, NASNetLarge, VGG19, ConvNeXtSmall, EfficientNetB1-B7.
  echo "== The larger keras.applications variants (MODELPORT_ALL_FAMILIES=1)"
  make_set "large keras.applications variants" make_family_fixtures.py "$repo/.build/fixtures/families-large" --large
  "$venv/bin/python" tools/validate_fixture_set.py "$repo/.build/fixtures/families-large" --modelport "$(swift build --show-bin-path)/modelport"
fi
stage "convert keeps the compile settings and optimizer state (Keras continues training the converted files)"
if ! wait "$compile_pid"; then
  cat "$compile_log"
  exit 1
fi
tail -n 1 "$compile_log"
stage "Kernel symbols, architecture, interop with Keras and onnxruntime, reports"
python3 tools/check_kernel_symbols.py "$(swift build --show-bin-path)"
python3 tools/check_architecture.py
"$venv/bin/python" tools/interop_check.py --modelport "$(swift build --show-bin-path)/modelport"
"$venv/bin/python" tools/check_reports.py --bin "$(swift build --show-bin-path)/modelport"

stage "ONNX backend test cases (the onnx wheel's PyTorch, light and node cases: every model ModelPort loads must match)"
# light_vgg19 (143 million weights) takes more than 5 minutes in a debug build; it is
# run by hand with a release binary: tools/onnx_backend_cases.py --bin .build/release/modelport --only vgg19 --timeout 900
"$venv/bin/python" tools/onnx_backend_cases.py --bin "$(swift build --show-bin-path)/modelport" --jobs 2 \
  --exclude '^light_vgg19$' --json "$repo/.build/onnx-backend/verdicts.json"

stage "ONNX -> Keras on the PyTorch and zoo models (Keras 3 and tf-keras load each conversion and predict the reference)"
"$venv/bin/python" tools/onnx_to_keras_check.py --bin "$(swift build --show-bin-path)/modelport" \
  --dirs pytorch-converted,light --exclude '^light_vgg19$'

stage "Bad-input corpus (hostile and broken files: no crash, hang, data loss or runaway memory)"
"$venv/bin/python" tools/badinputs/check.py --bin "$(swift build --show-bin-path)/modelport"

stage "modelport serve: malformed requests and a real browser (screenshots in .build/test-artifacts/serve)"
"$venv/bin/python" tools/serve_test.py --bin "$(swift build --show-bin-path)/modelport"
stage "done"
