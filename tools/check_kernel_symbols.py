#!/usr/bin/env python3
"""Checks that no code compiled for AVX2 or AVX-512 can run on a CPU without it.

ModelPortKernelsAVX2 and ModelPortKernelsAVX512 are built for newer CPUs than
the rest of ModelPort (Package.swift). The generic kernels they instantiate
are emitted as weak ("linkonce") symbols, and a linker keeps one copy of a
weak symbol: if any other module of the build defined the same symbol (the
same generic function specialised with the same types), the two copies could
be merged and the baseline code could end up running the AVX-512 copy (an
illegal instruction on other CPUs), or the AVX-512 module the baseline one.
This fails if a function symbol defined in one of the two kernel modules'
objects is also defined in any other object of the build.

Usage: tools/check_kernel_symbols.py [BUILD_DIR ...]   (default: every
existing .build/{debug,release})
"""
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KERNEL_MODULES = ("ModelPortKernelsAVX2", "ModelPortKernelsAVX512")


def defined_code_symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-P", obj], capture_output=True, text=True, check=True).stdout
    # nm -P: name type value size. Global (T) and weak (W) code symbols are
    # what a linker can merge; local ones (t) stay in their object.
    return {line.split()[0] for line in out.splitlines() if len(line.split()) >= 2 and line.split()[1] in "TW"}


def check(build_dir):
    objects = {}
    for root, _, files in os.walk(build_dir):
        module = os.path.basename(root).removesuffix(".build")
        for f in files:
            if f.endswith(".o"):
                objects.setdefault(module, []).append(os.path.join(root, f))
    missing = [m for m in KERNEL_MODULES if m not in objects]
    if missing:
        print(f"check_kernel_symbols: {build_dir}: no objects for {', '.join(missing)} (not built?)", file=sys.stderr)
        return False
    symbols = {m: set().union(*(defined_code_symbols(o) for o in objs)) for m, objs in objects.items()}
    ok = True
    for kernel in KERNEL_MODULES:
        for other, theirs in symbols.items():
            if other == kernel:
                continue
            shared = {s for s in symbols[kernel] & theirs if not s.startswith((".L", "__swift"))}
            if shared:
                ok = False
                print(f"check_kernel_symbols: {kernel} and {other} both define {len(shared)} symbol(s), e.g.:", file=sys.stderr)
                for s in sorted(shared)[:5]:
                    print(f"    {s}", file=sys.stderr)
    count = sum(len(symbols[k]) for k in KERNEL_MODULES)
    if ok:
        print(f"check_kernel_symbols: {build_dir}: the {count} code symbols of the AVX2/AVX-512 modules are defined nowhere else")
    return ok


def main():
    dirs = sys.argv[1:] or [d for d in (os.path.join(REPO, ".build", c) for c in ("debug", "release")) if os.path.isdir(d)]
    if not dirs:
        print("check_kernel_symbols: no build directory (run swift build first)", file=sys.stderr)
        return 2
    return 0 if all([check(os.path.realpath(d)) for d in dirs]) else 1


if __name__ == "__main__":
    sys.exit(main())
