#!/usr/bin/env python3
"""Writes fixtures/onnx/pytorch/: the MNIST CNN as `torch.onnx.export` writes it, for
issue #16's must-hold (a PyTorch-style CNN converts to a channels-last Keras model).

PyTorch itself is too heavy to pin here, so the graphs are built with the onnx helper API
in the exact form torch.onnx.export gives a `nn.Sequential` CNN with `x.view(x.size(0), -1)`:
an NCHW input named `input.1` with a symbolic batch, Conv weights (O, I, kh, kw), the flatten
as `Shape -> Gather(0) -> Unsqueeze -> Concat(-1) -> Reshape`, a `Gemm(transB=1)` head over
the channels-first (C, H, W) flattening, and the opset's own Unsqueeze/Softmax forms:

  mnist_cnn_opset9.onnx    opset 9 (Unsqueeze `axes` an attribute, Softmax's 2-D coercion)
  mnist_cnn_opset17.onnx   opset 17 (Unsqueeze `axes` an input)
  mnist_cnn_flatten_opset13.onnx  opset 13, torch.flatten(x, 1) as `Flatten` and an
                           inference `Dropout` before the head

The weights are the trained Keras MNIST CNN's (fixtures/mnist_cnn.h5), moved into PyTorch's
layouts (the first Gemm's rows reordered from Keras's (H, W, C) flattening to (C, H, W)),
so the models recognise digits. For each model this writes
  <stem>.reference.h5       inputs: the first 32 MNIST test digits, (N, 1, 28, 28) as the
                            ONNX file takes them; outputs: what onnxruntime computes
  <stem>.nhwc.reference.h5  the same digits as (N, 28, 28, 1) with the same outputs: what a
                            channels-last Keras conversion of the model takes
and manifest.json (the interop check reads it). Every model is checked with onnx.checker
(full) before it is written.

Usage: .venv/bin/python tools/make_pytorch_style_onnx.py [--data ../shared/data/mnist]
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
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import find_idx, read_idx  # noqa: E402  (the fixtures' own IDX reader)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "fixtures", "onnx", "pytorch")
SAMPLES = 32


def keras_weights():
    """(conv1 W, b), (conv2 W, b), (dense1 W, b), (dense2 W, b) in Keras layouts."""
    import keras
    model = keras.models.load_model(os.path.join(REPO, "fixtures", "mnist_cnn.h5"), compile=False)
    convs = [l.get_weights() for l in model.layers if type(l).__name__ == "Conv2D"]
    denses = [l.get_weights() for l in model.layers if type(l).__name__ == "Dense"]
    assert len(convs) == 2 and len(denses) == 2, "fixtures/mnist_cnn.h5 is not Conv-Pool-Conv-Pool-Flatten-Dense-Dense"
    flatten = [l for l in model.layers if type(l).__name__ == "Flatten"][0]
    h, w, c = flatten.input.shape[1:]
    return convs, denses, (int(c), int(h), int(w))


def build(opset, convs, denses, chw, flatten_op):
    c, h, w = chw
    init = []

    def const(name, array):
        init.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    nodes = []
    x = "input.1"
    for k, (kernel, bias) in enumerate(convs):
        wname = const(f"features.{3 * k}.weight", kernel.transpose(3, 2, 0, 1).astype(np.float32))
        bname = const(f"features.{3 * k}.bias", bias.astype(np.float32))
        conv, relu, pool = (f"/features/features.{3 * k + j}/{op}_output_0" for j, op in enumerate(["Conv", "Relu", "MaxPool"]))
        nodes.append(helper.make_node("Conv", [x, wname, bname], [conv], name=f"/features/features.{3 * k}/Conv",
                                      dilations=[1, 1], group=1, kernel_shape=list(kernel.shape[:2]), pads=[0, 0, 0, 0],
                                      strides=[1, 1]))
        nodes.append(helper.make_node("Relu", [conv], [relu], name=f"/features/features.{3 * k + 1}/Relu"))
        nodes.append(helper.make_node("MaxPool", [relu], [pool], name=f"/features/features.{3 * k + 2}/MaxPool",
                                      kernel_shape=[2, 2], pads=[0, 0, 0, 0], strides=[2, 2]))
        x = pool
    if flatten_op:
        nodes.append(helper.make_node("Flatten", [x], ["/Flatten_output_0"], name="/Flatten", axis=1))
        nodes.append(helper.make_node("Dropout", ["/Flatten_output_0"], ["/dropout/Dropout_output_0"], name="/dropout/Dropout"))
        flat = "/dropout/Dropout_output_0"
    else:
        nodes.append(helper.make_node("Shape", [x], ["/Shape_output_0"], name="/Shape"))
        nodes.append(helper.make_node("Constant", [], ["/Constant_output_0"], name="/Constant",
                                      value=numpy_helper.from_array(np.array(0, dtype=np.int64))))
        nodes.append(helper.make_node("Gather", ["/Shape_output_0", "/Constant_output_0"], ["/Gather_output_0"], name="/Gather", axis=0))
        if opset < 13:
            nodes.append(helper.make_node("Unsqueeze", ["/Gather_output_0"], ["/Unsqueeze_output_0"], name="/Unsqueeze", axes=[0]))
        else:
            nodes.append(helper.make_node("Constant", [], ["/Constant_1_output_0"], name="/Constant_1",
                                          value=numpy_helper.from_array(np.array([0], dtype=np.int64))))
            nodes.append(helper.make_node("Unsqueeze", ["/Gather_output_0", "/Constant_1_output_0"], ["/Unsqueeze_output_0"], name="/Unsqueeze"))
        nodes.append(helper.make_node("Constant", [], ["/Constant_2_output_0"], name="/Constant_2",
                                      value=numpy_helper.from_array(np.array([-1], dtype=np.int64))))
        nodes.append(helper.make_node("Concat", ["/Unsqueeze_output_0", "/Constant_2_output_0"], ["/Concat_output_0"], name="/Concat", axis=0))
        nodes.append(helper.make_node("Reshape", [x, "/Concat_output_0"], ["/Reshape_output_0"], name="/Reshape"))
        flat = "/Reshape_output_0"
    (k1, b1), (k2, b2) = denses
    # Keras flattens (H, W, C); PyTorch (C, H, W): row (h, w, ch) of the Keras kernel is column (ch, h, w) of PyTorch's.
    k1_chw = k1.reshape(h, w, c, -1).transpose(2, 0, 1, 3).reshape(c * h * w, -1)
    const("classifier.0.weight", k1_chw.T.astype(np.float32))
    const("classifier.0.bias", b1.astype(np.float32))
    const("classifier.2.weight", k2.T.astype(np.float32))
    const("classifier.2.bias", b2.astype(np.float32))
    nodes.append(helper.make_node("Gemm", [flat, "classifier.0.weight", "classifier.0.bias"], ["/classifier/classifier.0/Gemm_output_0"],
                                  name="/classifier/classifier.0/Gemm", alpha=1.0, beta=1.0, transB=1))
    nodes.append(helper.make_node("Relu", ["/classifier/classifier.0/Gemm_output_0"], ["/classifier/classifier.1/Relu_output_0"],
                                  name="/classifier/classifier.1/Relu"))
    nodes.append(helper.make_node("Gemm", ["/classifier/classifier.1/Relu_output_0", "classifier.2.weight", "classifier.2.bias"],
                                  ["/classifier/classifier.2/Gemm_output_0"], name="/classifier/classifier.2/Gemm", alpha=1.0, beta=1.0, transB=1))
    nodes.append(helper.make_node("Softmax", ["/classifier/classifier.2/Gemm_output_0"], ["output"], name="/Softmax", axis=1))
    graph = helper.make_graph(
        nodes, "main_graph",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["batch_size", 1, 28, 28])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["batch_size", 10])],
        init)
    model = helper.make_model(graph, producer_name="pytorch", producer_version="2.5.1",
                              opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = {9: 4, 13: 7, 17: 8}[opset]
    model.doc_string = "PyTorch-style export of fixtures/mnist_cnn.h5's weights (tools/make_pytorch_style_onnx.py)"
    onnx.checker.check_model(model, full_check=True)
    return model


def write_reference(path, inputs, outputs):
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.create_dataset("inputs", data=inputs)
        f.create_dataset("outputs", data=outputs)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(REPO), "shared", "data", "mnist"),
                        help="directory with t10k-images-idx3-ubyte.gz (default: ../shared/data/mnist)")
    args = parser.parse_args()
    os.makedirs(OUT, exist_ok=True)
    convs, denses, chw = keras_weights()
    images = read_idx(find_idx(args.data, "t10k-images-idx3-ubyte"))[:SAMPLES].astype(np.float32) / 255.0
    labels = read_idx(find_idx(args.data, "t10k-labels-idx1-ubyte"))[:SAMPLES]
    x_nchw = images[:, None, :, :]
    manifest = {}
    for stem, opset, flatten_op in [("mnist_cnn_opset9", 9, False), ("mnist_cnn_opset17", 17, False),
                                    ("mnist_cnn_flatten_opset13", 13, True)]:
        model = build(opset, convs, denses, chw, flatten_op)
        path = os.path.join(OUT, stem + ".onnx")
        onnx.save(model, path + ".tmp")
        os.replace(path + ".tmp", path)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        y = session.run(None, {"input.1": x_nchw})[0]
        write_reference(os.path.join(OUT, stem + ".reference.h5"), x_nchw, y)
        write_reference(os.path.join(OUT, stem + ".nhwc.reference.h5"), images[:, :, :, None], y)
        manifest[stem] = {"opset": opset, "flatten": "Flatten" if flatten_op else "Shape-Gather-Unsqueeze-Concat-Reshape",
                          "input_layout": "NCHW", "onnxruntime_version": ort.__version__, "onnx_version": onnx.__version__}
        print(f"{stem}: opset {opset}, onnxruntime classifies {int(np.sum(np.argmax(y, 1) == labels))}/{SAMPLES} test digits right")
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
