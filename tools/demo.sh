#!/usr/bin/env bash
# The main job on the bundled default, from a fresh Debian machine with the
# Swift toolchain: set-up, a release build, then `modelport demo` (load the
# Keras-trained MNIST model, predict sample digits, validate against Keras).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
command -v swift >/dev/null 2>&1 || export PATH="/opt/swift/usr/bin:$PATH"
bash tools/setup.sh --no-python
swift build -c release --product modelport
exec "$(swift build -c release --show-bin-path)/modelport" demo "$@"
