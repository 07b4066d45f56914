#!/usr/bin/env python3
"""Converts every Keras fixture model to ONNX with tf2onnx, the converter people
actually use, so ModelPort's ONNX importer is tested on third-party ONNX.

For each model in fixtures/manifest.json this writes
  fixtures/onnx/<stem>.tf2onnx.onnx   tf2onnx's conversion (opset 17)
and checks it with onnx.checker (full check) and onnxruntime against the
committed Keras reference outputs (max abs diff <= 1e-5), so a bad conversion
is never committed. The Swift tests (Tests/ModelPortONNXTests) import these
files and validate them against the same reference files.

Keras 2 (tf-keras) fixtures are converted with tf2onnx.convert.from_keras;
Keras 3 models through a tf.function of the model with an NHWC input
signature (tf2onnx.convert.from_function), as tf2onnx's Keras path targets tf-keras.

Usage: .venv/bin/python tools/make_onnx_fixtures.py [--opset 17]
"""
import argparse
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import h5py
import numpy as np
import onnx
import onnxruntime as ort
import tensorflow as tf
import tf2onnx

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "fixtures")
OUT = os.path.join(FIXTURES, "onnx")


def convert(stem, writer, opset):
    path = os.path.join(FIXTURES, stem + ".h5")
    if writer == "keras2":
        import tf_keras
        model = tf_keras.models.load_model(path, compile=False)
        spec = (tf.TensorSpec((None,) + tuple(model.input_shape[1:]), tf.float32, name="input"),)
        proto, _ = tf2onnx.convert.from_keras(model, input_signature=spec, opset=opset)
    else:
        import keras
        model = keras.models.load_model(path, compile=False)
        spec = (tf.TensorSpec((None,) + tuple(model.input_shape[1:]), tf.float32, name="input"),)
        function = tf.function(lambda x: model(x, training=False), input_signature=spec)
        proto, _ = tf2onnx.convert.from_function(function, input_signature=spec, opset=opset)
    proto.producer_name = "tf2onnx"
    proto.doc_string = f"tf2onnx {tf2onnx.__version__} conversion of fixtures/{stem}.h5 (tools/make_onnx_fixtures.py)"
    return proto


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--opset", type=int, default=17)
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(FIXTURES, "manifest.json")) as f:
        manifest = json.load(f)
    failures = 0
    for stem in sorted(manifest):
        proto = convert(stem, manifest[stem]["writer"], args.opset)
        target = os.path.join(OUT, stem + ".tf2onnx.onnx")
        onnx.save(proto, target)
        onnx.checker.check_model(onnx.load(target), full_check=True)
        with h5py.File(os.path.join(FIXTURES, stem + ".reference.h5"), "r") as ref:
            x, y = ref["inputs"][...], ref["outputs"][...]
        session = ort.InferenceSession(target, providers=["CPUExecutionProvider"])
        got = session.run(None, {session.get_inputs()[0].name: x})[0]
        diff = float(np.max(np.abs(got - y)))
        ok = diff <= 1e-5
        failures += not ok
        ops = sorted({n.op_type for n in proto.graph.node})
        print(f"{'ok  ' if ok else 'FAIL'} {target}: max |onnxruntime - keras| = {diff:.2e}; ops {', '.join(ops)}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
