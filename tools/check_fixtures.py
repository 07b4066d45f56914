#!/usr/bin/env python3
"""Re-check the committed fixtures with the real Keras that wrote them.

For every model in fixtures/manifest.json: load `<stem>.h5` with the Keras
generation that saved it (Keras 3, or tf-keras for `*_keras2`), predict the
reference inputs, and require the result to match the committed `outputs`
(within 1e-6; bit-identical on the machine that wrote them). This proves the reference files are Keras's own numbers for these
model files (not edited by hand, not stale after a fixture change).

Then the multi-input/output fixtures (fixtures/multiio/, whose references
hold named datasets) are re-checked the same way by
`tools/make_multiio_fixtures.py --check`, counted as one more check.

The PyTorch-style ONNX models (fixtures/onnx/pytorch/) are re-run with
onnxruntime against their references the same way.

Prints one line per model and a closing 'N passed, N failed' line; exits 1 on
any failure. Each generation runs in its own subprocess.
"""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "fixtures")


def check(writer, stems):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import h5py
    import numpy as np
    if writer == "keras3":
        import keras
    else:
        import tf_keras as keras
    failed = 0
    for stem in stems:
        with h5py.File(os.path.join(FIXTURES, stem + ".reference.h5"), "r") as f:
            x, y = f["inputs"][()], f["outputs"][()]
        model = keras.models.load_model(os.path.join(FIXTURES, stem + ".h5"), compile=False)
        got = model.predict(x, batch_size=len(x), verbose=0)
        diff = float(np.max(np.abs(got - y))) if got.shape == y.shape else float("inf")
        # Same machine, same Keras: bit-identical in practice. The 1e-6 margin
        # only absorbs a CPU whose kernels (oneDNN) sum in another order.
        if diff <= 1e-6:
            print(f"ok      {stem}: {writer} {keras.__version__} reproduces all {y.size} reference outputs (max diff {diff:g})")
        else:
            print(f"FAILED  {stem}: {writer} output differs from the committed reference (max diff {diff:g})")
            failed += 1
    return failed


def check_pytorch_style(stems):
    """fixtures/onnx/pytorch: onnxruntime reproduces each reference, and the NHWC copy holds the same digits."""
    import h5py
    import numpy as np
    import onnxruntime as ort
    failed = 0
    for stem in stems:
        base = os.path.join(FIXTURES, "onnx", "pytorch", stem)
        with h5py.File(base + ".reference.h5", "r") as f, h5py.File(base + ".nhwc.reference.h5", "r") as g:
            x, y, x_nhwc, y_nhwc = f["inputs"][()], f["outputs"][()], g["inputs"][()], g["outputs"][()]
        session = ort.InferenceSession(base + ".onnx", providers=["CPUExecutionProvider"])
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        diff = float(np.max(np.abs(got - y))) if got.shape == y.shape else float("inf")
        same = np.array_equal(x.transpose(0, 2, 3, 1), x_nhwc) and np.array_equal(y, y_nhwc)
        if diff <= 1e-6 and same:
            print(f"ok      onnx/pytorch/{stem}: onnxruntime {ort.__version__} reproduces all {y.size} reference outputs "
                  f"(max diff {diff:g}); the NHWC reference holds the same digits and outputs")
        else:
            print(f"FAILED  onnx/pytorch/{stem}: onnxruntime differs from the committed reference by {diff:g}"
                  + ("" if same else "; the NHWC reference is not the NCHW one transposed"))
            failed += 1
    return failed


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--writer":
        # The exit status is the number of models that failed.
        sys.exit(min(check(sys.argv[2], sys.argv[3:]), 100))
    with open(os.path.join(FIXTURES, "manifest.json")) as f:
        manifest = json.load(f)
    by_writer = {}
    for stem, entry in manifest.items():
        by_writer.setdefault(entry["writer"], []).append(stem)
    total = sum(len(v) for v in by_writer.values())
    if total == 0:
        print("no fixtures listed in fixtures/manifest.json")
        sys.exit(1)
    failures = 0
    for writer, stems in sorted(by_writer.items()):
        rc = subprocess.run([sys.executable, os.path.abspath(__file__), "--writer", writer, *stems]).returncode
        # A crash (negative status) counts every model of that writer as failed.
        failures += rc if 0 <= rc <= len(stems) else len(stems)
    multiio = os.path.join(REPO, "tools", "make_multiio_fixtures.py")
    total += 1
    failures += 0 if subprocess.run([sys.executable, multiio, "--check"]).returncode == 0 else 1
    pytorch = os.path.join(FIXTURES, "onnx", "pytorch", "manifest.json")
    with open(pytorch) as f:
        stems = sorted(json.load(f))
    total += len(stems)
    failures += check_pytorch_style(stems)
    print(f"fixture check: {total - failures} passed, {failures} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
