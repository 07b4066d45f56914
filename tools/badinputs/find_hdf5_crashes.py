#!/usr/bin/env python3
"""Find single-byte mutations of a Keras .h5 file that crash libhdf5 itself.

Debian's libhdf5 1.10.8 dies from a signal on some damaged metadata before any ModelPort
check can run (about 3 in 700 single-byte mutations of fixtures/mnist_digit_model.h5).
Those files cannot be made safe from outside the library; `--untrusted` contains them in
a child process. This script finds a few such files for the bad-input corpus:

  1. mutates one metadata byte at a time (the weights' raw data is skipped: changing it
     cannot crash the library), seeded so a run is repeatable;
  2. runs `modelport predict MUTANT --input REFERENCE --limit 1` (reads every weight) and
     keeps the mutants that die from a signal;
  3. confirms the crash is the library's: h5dump, linked to the same libhdf5 and with no
     ModelPort code, must also die from a signal on it;
  4. zeroes the weights' raw data (git then stores the 1 MB file in a few KB) and keeps the
     mutant only if it still crashes both programs.

Writes Tests/BadInputs/committed/libhdf5_crash_<offset>_<byte>.h5.

Usage: .venv/bin/python tools/badinputs/find_hdf5_crashes.py --bin PATH/TO/modelport [--tries 700] [--keep 2]
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

import h5py

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOURCE = os.path.join(REPO, "fixtures", "mnist_digit_model.h5")
REFERENCE = os.path.join(REPO, "fixtures", "mnist_digit_model.reference.h5")
OUT = os.path.join(REPO, "Tests", "BadInputs", "committed")


def raw_data_ranges(path):
    """[start, end) byte ranges of every dataset's raw data."""
    ranges = []
    with h5py.File(path, "r") as f:
        def visit(_, obj):
            if isinstance(obj, h5py.Dataset):
                offset = obj.id.get_offset()
                if offset is not None:
                    ranges.append((offset, offset + obj.id.get_storage_size()))
        f.visititems(visit)
    return sorted(ranges)


def crashes(command):
    """True when COMMAND dies from a signal (a time-out is not a crash)."""
    try:
        result = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=20)
    except subprocess.TimeoutExpired:
        return False
    return result.returncode < 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the modelport executable")
    parser.add_argument("--tries", type=int, default=700)
    parser.add_argument("--keep", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()

    original = open(SOURCE, "rb").read()
    data = raw_data_ranges(SOURCE)
    metadata = [i for i in range(len(original)) if not any(a <= i < b for a, b in data)]
    print(f"{len(original)} bytes, {len(metadata)} outside raw data")
    rng = random.Random(args.seed)
    os.makedirs(OUT, exist_ok=True)
    kept = 0
    with tempfile.TemporaryDirectory() as scratch:
        mutant_path = os.path.join(scratch, "mutant.h5")
        for attempt in range(args.tries):
            offset = rng.choice(metadata)
            value = rng.randrange(256)
            if value == original[offset]:
                continue
            mutant = bytearray(original)
            mutant[offset] = value
            with open(mutant_path, "wb") as f:
                f.write(mutant)
            modelport = [args.bin, "predict", mutant_path, "--input", REFERENCE, "--limit", "1"]
            if not crashes(modelport):
                continue
            library_crash = crashes(["h5dump", "-d", "/", mutant_path]) or crashes(["h5dump", mutant_path])
            print(f"try {attempt}: byte {offset} -> {value:#04x} crashes modelport; h5dump {'crashes too' if library_crash else 'does not'}")
            if not library_crash:
                continue
            for a, b in data:
                mutant[a:b] = bytes(b - a)
            with open(mutant_path, "wb") as f:
                f.write(mutant)
            if not crashes(modelport):
                print("  no longer crashes with the weights zeroed; skipped")
                continue
            name = os.path.join(OUT, f"libhdf5_crash_{offset}_{value:02x}.h5")
            with open(name, "wb") as f:
                f.write(mutant)
            print(f"  kept {os.path.relpath(name, REPO)}")
            kept += 1
            if kept >= args.keep:
                break
    print(f"{kept} kept")
    sys.exit(0 if kept else 1)


if __name__ == "__main__":
    main()
