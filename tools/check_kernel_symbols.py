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
objects is also defined in any other object of the build, unless the kernel
module's copy holds only baseline x86-64 instructions (no VEX/EVEX encoding,
no ymm/zmm/mask registers, none of the BMI/LZCNT/POPCNT/MOVBE extensions):
a debug build's runtime shares the SIMD types' lazy witness-table accessors
with the kernels, a cache-and-call thunk that is the same code in both.

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


# Instructions outside baseline x86-64 that are not VEX/EVEX-encoded (those all
# start with "v" or use ymm/zmm/k registers), plus the VEX-encoded BMI ones.
NON_BASELINE = {"tzcnt", "lzcnt", "popcnt", "movbe", "andn", "bextr", "blsi", "blsr", "blsmsk", "bzhi",
                "pdep", "pext", "rorx", "sarx", "shlx", "shrx", "mulx", "adcx", "adox", "kmovw", "kmovq"}


def non_baseline_instructions(obj, symbol):
    """The instructions of `symbol` in `obj` that need more than baseline x86-64."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", f"--disassemble={symbol}", obj],
                         capture_output=True, text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) < 2 or not parts[0].strip().endswith(":"):
            continue
        instruction = parts[1].strip()
        mnemonic = instruction.split()[0] if instruction else ""
        if (mnemonic.startswith("v") or mnemonic in NON_BASELINE
                or any(r in instruction for r in ("%ymm", "%zmm", "%k0", "%k1", "%k2", "%k3", "%k4", "%k5", "%k6", "%k7"))):
            found.append(instruction)
    return found


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
    defined = {m: {o: defined_code_symbols(o) for o in objs} for m, objs in objects.items()}
    symbols = {m: set().union(*by_object.values()) for m, by_object in defined.items()}
    ok = True
    baseline_shared = set()
    for kernel in KERNEL_MODULES:
        for other, theirs in symbols.items():
            if other == kernel:
                continue
            shared = {s for s in symbols[kernel] & theirs if not s.startswith((".L", "__swift"))}
            for s in sorted(shared):
                copies = [o for o, syms in defined[kernel].items() if s in syms]
                if not any(non_baseline_instructions(o, s) for o in copies):
                    shared.discard(s)
                    baseline_shared.add(s)
            if shared:
                ok = False
                print(f"check_kernel_symbols: {kernel} and {other} both define {len(shared)} symbol(s), e.g.:", file=sys.stderr)
                for s in sorted(shared)[:5]:
                    print(f"    {s}", file=sys.stderr)
    count = sum(len(symbols[k]) for k in KERNEL_MODULES)
    if ok:
        extra = f" ({len(baseline_shared)} shared, holding baseline instructions only)" if baseline_shared else ""
        print(f"check_kernel_symbols: {build_dir}: the {count} code symbols of the AVX2/AVX-512 modules are defined nowhere else{extra}")
    return ok


def main():
    dirs = sys.argv[1:] or [d for d in (os.path.join(REPO, ".build", c) for c in ("debug", "release")) if os.path.isdir(d)]
    if not dirs:
        print("check_kernel_symbols: no build directory (run swift build first)", file=sys.stderr)
        return 2
    return 0 if all([check(os.path.realpath(d)) for d in dirs]) else 1


if __name__ == "__main__":
    sys.exit(main())
