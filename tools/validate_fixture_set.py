#!/usr/bin/env python3
"""Validates every model of a generated fixture set (a directory with a manifest.json
from tools/make_family_fixtures.py or tools/make_application_fixtures.py) with
`modelport validate` and its default verdict (float32 rounding against a float64 run).

For sets too large for the Swift test run -- the larger keras.applications variants:
  .venv/bin/python tools/make_family_fixtures.py --out .build/fixtures/families-large \\
      --models ResNet101,ResNet152,ResNet101V2,ResNet152V2,NASNetLarge,VGG19,ConvNeXtSmall,EfficientNetB1,...
  .venv/bin/python tools/validate_fixture_set.py .build/fixtures/families-large --modelport .build/release/modelport
Exit status 1 if any file fails or is refused.
"""
import argparse
import json
import os
import subprocess
import sys
import time


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("directory")
    p.add_argument("--modelport", default=os.environ.get("MODELPORT_BIN", ".build/release/modelport"))
    p.add_argument("--float64-samples", default="1")
    args = p.parse_args()
    with open(os.path.join(args.directory, "manifest.json")) as f:
        manifest = json.load(f)
    failures = 0
    for stem in sorted(manifest):
        entry = manifest[stem]
        reference = os.path.join(args.directory, stem + ".reference.h5")
        for name in entry["files"]:
            start = time.perf_counter()
            proc = subprocess.run([args.modelport, "validate", os.path.join(args.directory, name), "--reference", reference,
                                   "--float64-samples", args.float64_samples, "--json"], capture_output=True, text=True)
            seconds = time.perf_counter() - start
            try:
                result = json.loads(proc.stdout)
            except json.JSONDecodeError:
                failures += 1
                print(f"REFUSED {name}: {(proc.stderr or proc.stdout).strip()[-300:]}")
                continue
            ok = proc.returncode == 0 and result.get("passed")
            failures += 0 if ok else 1
            r = result.get("rounding") or {}
            print(f"{'ok     ' if ok else 'FAILED '}{name}: {entry.get('parameters', '?')} parameters, verdict by {result.get('rule')}, "
                  f"max difference {result.get('max_abs_error', float('nan')):.2e} (ModelPort's float32 error {r.get('modelport_error', float('nan')):.1e}, "
                  f"Keras's {r.get('reference_error', float('nan')):.1e}), {seconds:.0f} s")
    print(f"{sum(len(e['files']) for e in manifest.values()) - failures} passed, {failures} failed or refused")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
