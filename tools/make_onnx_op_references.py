#!/usr/bin/env python3
"""Writes fixtures/onnx/ops/: small single-operator ONNX models for the operators
ModelPort imports as its ONNX-only runtime layers (LRN, InstanceNormalization,
LpNormalization, MaxPool/AveragePool beyond Keras's padding, Pad's modes, Resize beyond
Keras's UpSampling2D, 3-D Conv, ConvTranspose beyond Keras's Conv2DTranspose), each with
seeded inputs and the outputs onnxruntime computes (numpy, from the definition, for an even
LRN size, which onnxruntime refuses), in references.json. The Swift test
ONNXOnlyLayerTests imports every model and compares ModelPort's outputs with these.

Usage: .venv/bin/python tools/make_onnx_op_references.py [--out fixtures/onnx/ops]
"""
import argparse
import json
import os

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 20261207
# onnxruntime's LRN takes odd sizes only; ONNX defines even ones too. onnx's reference
# implementation of LRN loops over the batch instead of the channels (onnx 1.23), so the
# even case is computed here with numpy, from the operator's definition.
NUMPY_LRN = {"lrn_size4": dict(size=4, alpha=0.5, beta=0.6, bias=1.0)}


def numpy_lrn(x, size, alpha, beta, bias):
    """ONNX LRN: square_sum[n, c] = sum(x[n, i]^2) for i from c - floor((size - 1) / 2) to
    c + ceil((size - 1) / 2) within the channels; y = x / (bias + alpha / size * square_sum)^beta."""
    channels = x.shape[1]
    square_sum = np.zeros_like(x, dtype=np.float64)
    for c in range(channels):
        begin, end = max(0, c - (size - 1) // 2), min(channels - 1, c + size // 2)
        square_sum[:, c] = np.sum(x[:, begin:end + 1].astype(np.float64) ** 2, axis=1)
    return (x / (bias + alpha / size * square_sum) ** beta).astype(np.float32)


def model(op, x_shape, attributes, opset=17, initializers=(), extra_inputs=()):
    """One node `op(x, *extra_inputs)` with a batch-free output shape left to inference."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N"] + list(x_shape[1:]))
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N"] + [None] * (len(x_shape) - 1))
    node = helper.make_node(op, ["x"] + list(extra_inputs), ["y"], **attributes)
    graph = helper.make_graph([node], op.lower(), [x], [y], initializer=list(initializers))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8 if opset < 19 else 9
    onnx.checker.check_model(m, full_check=True)
    return m


def cases(rng):
    """The models; their inputs have batch size 2 (Resize's sizes name it)."""
    def pads(values, name="pads"):
        return numpy_helper.from_array(np.array(values, dtype=np.int64), name)

    def floats(values, name):
        return numpy_helper.from_array(np.array(values, dtype=np.float32), name)

    yield "lrn_size3", model("LRN", (2, 5, 3, 4), dict(size=3, alpha=0.3, beta=0.75, bias=1.5))
    yield "lrn_size4", model("LRN", (1, 6, 2, 2), dict(size=4, alpha=0.5, beta=0.6, bias=1.0))
    yield "instancenorm_image", model("InstanceNormalization", (2, 3, 4, 5), dict(epsilon=1e-3),
                                      initializers=[floats(rng.standard_normal(3), "scale"), floats(rng.standard_normal(3), "bias")],
                                      extra_inputs=["scale", "bias"])
    yield "instancenorm_sequence", model("InstanceNormalization", (2, 3, 6), {},
                                         initializers=[floats(rng.standard_normal(3), "scale"), floats(rng.standard_normal(3), "bias")],
                                         extra_inputs=["scale", "bias"])
    yield "lpnorm_l1_channels", model("LpNormalization", (2, 3, 4, 5), dict(axis=1, p=1))
    yield "lpnorm_l2_last", model("LpNormalization", (2, 3, 4), dict(axis=-1, p=2))
    yield "lpnorm_l2_height", model("LpNormalization", (2, 3, 4, 5), dict(axis=2, p=2))
    yield "maxpool_ceil_pads", model("MaxPool", (1, 2, 6, 7), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 0, 1, 2], ceil_mode=1))
    yield "maxpool_dilated", model("MaxPool", (2, 3, 7, 6), dict(kernel_shape=[2, 2], strides=[1, 2], dilations=[2, 3]))
    yield "maxpool_same_lower", model("MaxPool", (1, 2, 5, 6), dict(kernel_shape=[2, 3], strides=[2, 2], auto_pad="SAME_LOWER"))
    yield "maxpool_3d", model("MaxPool", (1, 2, 4, 5, 6), dict(kernel_shape=[2, 2, 3], strides=[2, 1, 2], pads=[1, 0, 1, 0, 1, 1]))
    yield "avgpool_ceil_include_pad", model("AveragePool", (1, 2, 6, 7), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1],
                                                                              ceil_mode=1, count_include_pad=1))
    yield "avgpool_asymmetric_pads", model("AveragePool", (2, 2, 5, 6), dict(kernel_shape=[3, 3], strides=[1, 2], pads=[2, 1, 0, 2]))
    yield "avgpool_dilated_ceil", model("AveragePool", (1, 1, 6, 6), dict(kernel_shape=[2, 2], strides=[2, 2], dilations=[2, 2], ceil_mode=1),
                                        opset=19)
    yield "avgpool_3d", model("AveragePool", (1, 2, 4, 4, 5), dict(kernel_shape=[2, 3, 2], strides=[2, 2, 2], pads=[0, 1, 1, 1, 1, 0]))
    yield "pad_reflect", model("Pad", (1, 2, 4, 5), dict(mode="reflect"), initializers=[pads([0, 0, 2, 1, 0, 0, 3, 4])], extra_inputs=["pads"])
    yield "pad_edge", model("Pad", (2, 2, 3, 3), dict(mode="edge"), initializers=[pads([0, 0, 1, 4, 0, 0, 2, 0])], extra_inputs=["pads"])
    yield "pad_constant", model("Pad", (1, 3, 2, 3), dict(mode="constant"), initializers=[pads([0, 0, 1, 2, 0, 0, 0, 1]), floats(1.5, "value")],
                                extra_inputs=["pads", "value"])
    def resize(name, x_shape, attributes, scales=None, sizes=None, opset=19, roi=()):
        inits = [floats(list(roi), "roi")]
        inputs = ["roi"]
        if scales is not None:
            inits.append(floats(scales, "scales"))
            inputs.append("scales")
        else:
            inits.append(pads(sizes, "sizes"))
            inputs += ["", "sizes"]
        return name, model("Resize", x_shape, attributes, opset=opset, initializers=inits, extra_inputs=inputs)

    yield resize("resize_cubic_exclude_outside", (1, 2, 5, 6), dict(mode="cubic", cubic_coeff_a=-0.5, exclude_outside=1), scales=[1, 1, 0.7, 1.5])
    yield resize("resize_cubic_asymmetric", (1, 1, 4, 4), dict(mode="cubic", coordinate_transformation_mode="asymmetric"), sizes=[2, 1, 7, 3])
    yield resize("resize_linear_align_corners", (1, 2, 3, 5), dict(mode="linear", coordinate_transformation_mode="align_corners"), sizes=[2, 2, 5, 4])
    yield resize("resize_linear_pytorch_half_pixel", (1, 2, 4, 4), dict(mode="linear", coordinate_transformation_mode="pytorch_half_pixel"),
                 sizes=[2, 2, 3, 1])
    yield resize("resize_nearest_round_prefer_ceil", (1, 2, 3, 4), dict(mode="nearest", nearest_mode="round_prefer_ceil"), scales=[1, 1, 2.5, 0.75])
    yield resize("resize_nearest_ceil_axes", (1, 2, 3, 4), dict(mode="nearest", nearest_mode="ceil", axes=[3, 2],
                                                                    coordinate_transformation_mode="align_corners"), sizes=[5, 7])
    yield resize("resize_linear_half_pixel_symmetric", (1, 1, 3, 4), dict(mode="linear", coordinate_transformation_mode="half_pixel_symmetric"),
                 scales=[1, 1, 2.3, 0.6])
    yield resize("resize_linear_antialias", (1, 2, 6, 7), dict(mode="linear", antialias=1), scales=[1, 1, 0.5, 0.6])
    yield resize("resize_cubic_antialias", (1, 2, 7, 6), dict(mode="cubic", antialias=1), sizes=[2, 2, 3, 5])
    yield resize("resize_tf_crop_and_resize", (1, 2, 5, 6), dict(mode="linear", coordinate_transformation_mode="tf_crop_and_resize",
                                                                 extrapolation_value=-3.0), sizes=[2, 2, 4, 3], roi=[0, 0, 0.2, -0.3, 1, 1, 0.9, 1.2])
    yield "conv3d_groups_dilated", model("Conv", (1, 4, 5, 6, 7), dict(group=2, dilations=[1, 2, 1], strides=[1, 1, 2], pads=[1, 0, 2, 0, 1, 1]),
                                         initializers=[floats(rng.standard_normal((6, 2, 2, 3, 3)), "w"), floats(rng.standard_normal(6), "b")],
                                         extra_inputs=["w", "b"])
    yield "conv3d_same_lower", model("Conv", (1, 3, 4, 5, 3), dict(auto_pad="SAME_LOWER", strides=[2, 1, 1]),
                                     initializers=[floats(rng.standard_normal((2, 3, 2, 2, 3)), "w")], extra_inputs=["w"])
    yield "convtranspose_groups_dilated", model("ConvTranspose", (1, 4, 3, 4), dict(group=2, dilations=[2, 1], strides=[2, 3],
                                                                                  pads=[1, 0, 0, 2], output_padding=[1, 2]),
                                                initializers=[floats(rng.standard_normal((4, 3, 2, 3)), "w"), floats(rng.standard_normal(6), "b")],
                                                extra_inputs=["w", "b"])
    yield "convtranspose_output_shape", model("ConvTranspose", (1, 2, 3, 3), dict(strides=[2, 2], output_shape=[8, 7]),
                                              initializers=[floats(rng.standard_normal((2, 3, 3, 3)), "w")], extra_inputs=["w"])
    yield "convtranspose_same_upper_3d", model("ConvTranspose", (1, 2, 2, 3, 2), dict(strides=[2, 1, 2], auto_pad="SAME_UPPER"),
                                               initializers=[floats(rng.standard_normal((2, 2, 3, 2, 2)), "w")], extra_inputs=["w"])
    yield "pad_wrap", model("Pad", (1, 2, 3, 4), dict(mode="wrap"), opset=19, initializers=[pads([0, 0, 2, 1, 0, 0, 1, 3])], extra_inputs=["pads"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(REPO, "fixtures", "onnx", "ops"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    references = []
    for name, m in cases(rng):
        shape = [d.dim_value or 2 for d in m.graph.input[0].type.tensor_type.shape.dim]
        x = rng.standard_normal(shape).astype(np.float32)
        path = os.path.join(args.out, name + ".onnx")
        onnx.save(m, path)
        if name in NUMPY_LRN:
            y, by = numpy_lrn(x, **NUMPY_LRN[name]), "numpy (the ONNX definition)"
        else:
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            y, by = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"]).run(["y"], {"x": x})[0], "onnxruntime"
        references.append({"name": name, "computed_by": by, "input_shape": list(x.shape), "input": [float(v) for v in x.ravel()],
                           "output_shape": list(y.shape), "output": [float(v) for v in y.ravel()]})
        print(f"{name}: {list(x.shape)} -> {list(y.shape)}")
    with open(os.path.join(args.out, "references.json"), "w") as f:
        json.dump({"onnx": onnx.__version__, "onnxruntime": ort.__version__, "seed": SEED, "cases": references}, f)


if __name__ == "__main__":
    main()
