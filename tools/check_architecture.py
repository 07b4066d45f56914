#!/usr/bin/env python3
"""Checks the module dependency rules of docs/ARCHITECTURE.md against Package.swift.

Reads `swift package dump-package` and fails (exit 1, one line per broken rule)
when a module depends on something its layer may not: the runtime on a file
format, a C target from outside its one wrapper module, a library on the CLI.
Usage: tools/check_architecture.py [--package-json FILE]
"""
import json
import subprocess
import sys

# Each C target and the one Swift module allowed to use it.
C_WRAPPERS = {
    "CHDF5": {"ModelPortHDF5"},
    "CBLAS": {"ModelPortRuntime"},
    "CGzip": {"ModelPortData"},
    "CPNG": {"ModelPortImage"},
    "CJPEG": {"ModelPortImage"},
    "CONNXProto": {"ModelPortONNX"},
    "CProtobufC": {"CONNXProto"},
    "CLandlock": {"ModelPortIsolation"},
}
# What each library may depend on (besides C targets it wraps and external packages listed here).
ALLOWED = {
    "ModelPortFiles": set(),
    "ModelPortIsolation": set(),
    "ModelPortKernels": set(),
    "ModelPortKernelsAVX2": {"ModelPortKernels"},
    "ModelPortKernelsAVX512": {"ModelPortKernels"},
    # The runtime knows nothing about files or formats.
    "ModelPortRuntime": {"ModelPortKernels", "ModelPortKernelsAVX2", "ModelPortKernelsAVX512"},
    "ModelPortHDF5": {"ModelPortFiles"},
    "ModelPortKeras": {"ModelPortRuntime", "ModelPortHDF5", "ModelPortFiles", "ZIPFoundation"},
    "ModelPortONNX": {"ModelPortRuntime", "ModelPortFiles"},
    "ModelPortData": {"ModelPortRuntime", "ModelPortFiles", "Crypto"},
    "ModelPortImage": {"ModelPortRuntime", "ModelPortFiles"},
    "ModelPortValidation": {"ModelPortRuntime", "ModelPortHDF5", "ModelPortFiles"},
    "ModelPortReports": {"ModelPortRuntime", "ModelPortImage", "ModelPortFiles"},
    # Workflows across formats: any model file, conversion, saving and a whole training run.
    "ModelPortFormats": {"ModelPortRuntime", "ModelPortFiles", "ModelPortIsolation", "ModelPortKeras",
                         "ModelPortONNX", "ModelPortValidation", "ModelPortData", "ModelPortReports"},
    # `modelport serve`: HTTP over the libraries below it (Hummingbird, swift-log).
    "ModelPortServer": {"ModelPortRuntime", "ModelPortFiles", "ModelPortFormats", "ModelPortKeras", "ModelPortImage",
                        "ModelPortValidation", "Hummingbird", "Logging"},
    # Fuzz entry points: the readers of untrusted bytes, through their public API.
    "ModelPortFuzzTargets": {"ModelPortKeras", "ModelPortONNX", "ModelPortData", "ModelPortImage",
                             "ModelPortValidation"},
}


def dependencies(target):
    names = []
    for entry in target["dependencies"]:
        (kind, value), = entry.items()
        names.append(value[0] if isinstance(value, list) else value)
    return names


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--package-json":
        package = json.load(open(sys.argv[2]))
    else:
        package = json.loads(subprocess.run(["swift", "package", "dump-package"], check=True,
                                            capture_output=True, text=True).stdout)
    problems = []
    targets = {t["name"]: t for t in package["targets"]}
    for name, target in targets.items():
        if target["type"] == "test":
            continue
        for dep in dependencies(target):
            if dep in C_WRAPPERS:
                if name not in C_WRAPPERS[dep]:
                    problems.append(f"{name} uses the C target {dep}; only {', '.join(sorted(C_WRAPPERS[dep]))} may")
            elif name in ALLOWED and dep not in ALLOWED[name]:
                problems.append(f"{name} depends on {dep}, which docs/ARCHITECTURE.md does not allow")
            elif targets.get(dep, {}).get("type") == "executable":
                problems.append(f"{name} depends on the executable {dep}")
        if target["type"] == "regular" and name.startswith("ModelPort") and name not in ALLOWED:
            problems.append(f"{name} is a library with no rule in tools/check_architecture.py (add it, and to docs/ARCHITECTURE.md)")
    for line in problems:
        print("architecture:", line)
    print(f"architecture: {len(targets)} targets checked, {len(problems)} broken rules")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
