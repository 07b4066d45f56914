#!/usr/bin/env bash
# One-time, idempotent set-up for a fresh Debian machine (run as root or with sudo):
#   - the Debian packages ModelPort builds and tests against,
#   - the Python virtualenv with the pinned reference tools (tools/requirements.txt).
#
# Usage: tools/setup.sh [--no-python]
#   MODELPORT_VENV  where the virtualenv goes (default: <repo>/.venv, ignored by git)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want_python=1
for arg in "$@"; do
  case "$arg" in
    --no-python) want_python=0 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

# Debian packages: C libraries reached through SwiftPM system-library targets,
# plus hdf5-tools (h5dump/h5ls) for inspecting files by hand and binutils (nm,
# for tools/check_kernel_symbols.py); for `modelport serve`'s tests, headless
# Chromium and its WebDriver (tools/serve_test.py) and wrk (tools/bench/serve_load.py).
debs=(pkg-config binutils libhdf5-dev hdf5-tools libopenblas-dev zlib1g-dev
      libpng-dev libjpeg62-turbo-dev libprotobuf-c-dev protobuf-c-compiler dataset-fashion-mnist
      fonts-dejavu-core chromium chromium-driver wrk)
missing=()
for p in "${debs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ((want_python)); then
  venv="${MODELPORT_VENV:-$repo/.venv}"
  stamp="$venv/.requirements.sha256"
  want="$(sha256sum "$repo/tools/requirements.txt" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "setup: creating Python virtualenv at $venv with the pinned reference tools in tools/requirements.txt (a few minutes the first time)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$repo/tools/requirements.txt"
    echo "$want" > "$stamp"
  fi
fi
echo "setup: ready"
