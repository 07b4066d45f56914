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
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"

bash tools/setup.sh
export TF_CPP_MIN_LOG_LEVEL=3
venv="${MODELPORT_VENV:-$repo/.venv}"

echo "== Keras reference check (the committed fixtures' outputs, recomputed by Keras)"
"$venv/bin/python" tools/check_fixtures.py

echo "== Real-world Keras models, made by Keras now (keras.applications bases, fine-tuning; not committed)"
apps="$repo/.build/fixtures/applications"
apps_key="$(cat tools/make_application_fixtures.py tools/requirements.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$apps/.made-by" 2>/dev/null)" != "$apps_key" ]; then
  "$venv/bin/python" tools/make_application_fixtures.py --out "$apps"
  echo "$apps_key" > "$apps/.made-by"
else
  echo "(up to date: made by this script and these pinned tools)"
fi

echo "== Swift build and tests"
swift test "$@"
python3 tools/check_kernel_symbols.py "$(swift build --show-bin-path)"
python3 tools/check_architecture.py
"$venv/bin/python" tools/interop_check.py --modelport "$(swift build --show-bin-path)/modelport"
"$venv/bin/python" tools/check_reports.py --bin "$(swift build --show-bin-path)/modelport"

echo "== Bad-input corpus (hostile and broken files: no crash, hang, data loss or runaway memory)"
"$venv/bin/python" tools/badinputs/check.py --bin "$(swift build --show-bin-path)/modelport"

echo "== modelport serve: malformed requests and a real browser (screenshots in .build/test-artifacts/serve)"
"$venv/bin/python" tools/serve_test.py --bin "$(swift build --show-bin-path)/modelport"
