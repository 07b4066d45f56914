#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora into Tests/Fuzz/corpus/<target>/.

Small valid files of every format ModelPort reads, so the fuzzers start deep
inside the parsers: tiny Keras models (.h5, .keras, their configs), hand-built
ONNX graphs, IDX files, PNG/JPEG/PGM images and reference files. Deterministic
apart from the HDF5/zip timestamps Keras writes.

Usage: $MODELPORT_VENV/bin/python tools/fuzz/make_seeds.py [TARGET...]   (default: every target)
"""
import gzip
import io
import json
import os
import shutil
import struct
import sys
import tempfile
import zipfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import h5py  # noqa: E402
import numpy as np  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(REPO, "Tests", "Fuzz", "corpus")
rng = np.random.default_rng(13)


def target_dir(name):
    path = os.path.join(CORPUS, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def write(directory, name, data):
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- Keras models
def keras_models():
    """Tiny models covering the layer families the importer knows."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(13)
    models = {}
    models["dense"] = keras.Sequential([
        keras.Input((4,)), layers.Dense(3, activation="relu"), layers.Dropout(0.5),
        layers.Dense(2, activation="softmax")])
    models["conv"] = keras.Sequential([
        keras.Input((6, 6, 1)), layers.Conv2D(2, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2), layers.BatchNormalization(), layers.Flatten(), layers.Dense(3)])
    models["pool"] = keras.Sequential([
        keras.Input((5, 5, 2)), layers.DepthwiseConv2D(2), layers.AveragePooling2D(2, padding="same"),
        layers.GlobalAveragePooling2D(), layers.Dense(2, activation="sigmoid")])
    inputs = keras.Input((4, 4, 1))
    a = layers.Conv2D(2, 1)(inputs)
    b = layers.Conv2D(2, 1, activation="tanh")(inputs)
    merged = layers.Concatenate()([layers.Add()([a, b]), layers.Multiply()([a, b])])
    x = layers.Reshape((4, 16))(merged)
    x = layers.Permute((2, 1))(x)
    x = layers.Flatten()(x)
    models["merge"] = keras.Model(inputs, layers.Dense(2)(x))
    inputs = keras.Input((3, 3, 2))
    x = layers.ZeroPadding2D(1)(inputs)
    x = layers.SeparableConv2D(2, 2)(x)
    x = layers.LeakyReLU()(x)
    x = layers.Cropping2D(1)(x)
    x = layers.UpSampling2D(2)(x)
    x = layers.Conv2DTranspose(1, 2, strides=2)(x)
    x = layers.LayerNormalization()(x)
    x = layers.Rescaling(0.5)(x)
    models["shapes"] = keras.Model(inputs, layers.Flatten()(x))
    return models


def make_keras_seeds():
    config_dir, h5_dir, keras_dir = target_dir("keras-config"), target_dir("h5"), target_dir("keras")
    for name, model in keras_models().items():
        try:
            model.compile(optimizer="adam", loss="mse")
        except Exception:
            pass
        write(config_dir, f"{name}.json", model.to_json().encode())
        with tempfile.TemporaryDirectory() as tmp:
            h5 = os.path.join(tmp, f"{name}.h5")
            model.save(h5)
            write(h5_dir, f"{name}.h5", open(h5, "rb").read())
            archive = os.path.join(tmp, f"{name}.keras")
            model.save(archive)
            write(keras_dir, f"{name}.keras", open(archive, "rb").read())
            # The same archive stored, not deflated: mutations then reach the
            # JSON and HDF5 members instead of breaking the deflate stream.
            stored = io.BytesIO()
            with zipfile.ZipFile(archive) as src, zipfile.ZipFile(stored, "w", zipfile.ZIP_STORED) as dst:
                for info in src.infolist():
                    dst.writestr(info.filename, src.read(info.filename))
            write(keras_dir, f"{name}.stored.keras", stored.getvalue())
    # Keras 2 (tf-keras) configs from the committed fixtures: another dialect.
    for fixture in ["coverage/cov_dense_keras2.h5", "coverage/cov_conv_keras2.h5",
                    "coverage/cov_merge_keras2.h5", "coverage/cov_residual_keras2.h5"]:
        with h5py.File(os.path.join(REPO, "fixtures", fixture), "r") as f:
            config = f.attrs["model_config"]
            config = json.loads(config.decode() if isinstance(config, bytes) else config)
            version = f.attrs["keras_version"]
        # A bare config is read as Keras 3 unless it says otherwise.
        config["keras_version"] = version.decode() if isinstance(version, bytes) else version
        write(config_dir, os.path.basename(fixture).replace(".h5", ".json"), json.dumps(config).encode())


# ---------------------------------------------------------------- ONNX graphs
def make_onnx_seeds():
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out = target_dir("onnx")

    def const(name, array):
        return numpy_helper.from_array(np.asarray(array), name)

    def save(name, nodes, inputs, outputs, inits):
        graph = helper.make_graph(nodes, name, inputs, outputs, inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="make_seeds")
        model.ir_version = 8
        onnx.checker.check_model(model)
        write(out, f"{name}.onnx", model.SerializeToString())

    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 6, 6])
    y = lambda shape: helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)  # noqa: E731
    save("cnn", [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "wd", "bd"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"], axis=1),
    ], [x], [y(["N", 3])], [const("w", f32(2, 1, 3, 3)), const("b", f32(2)), const("wd", f32(3, 18)), const("bd", f32(3))])
    v = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    save("mlp", [
        helper.make_node("MatMul", ["x", "w"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["a"]),
        helper.make_node("Sigmoid", ["a"], ["s"]),
        helper.make_node("Mul", ["s", "k"], ["y"]),
    ], [v], [y(["N", 3])], [const("w", f32(4, 3)), const("b", f32(3)), const("k", np.float32(2.0))])
    save("norm", [
        helper.make_node("BatchNormalization", ["x", "g", "bb", "m", "v"], ["n"]),
        helper.make_node("AveragePool", ["n"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["q"]),
        helper.make_node("Reshape", ["q", "shape"], ["y"]),
    ], [x], [y(["N", 1])], [const("g", f32(1)), const("bb", f32(1)), const("m", f32(1)),
                            const("v", np.abs(f32(1)) + 1), const("shape", np.array([-1, 1], np.int64))])
    # tf2onnx's dynamic flatten: Shape -> Gather -> Unsqueeze -> Concat -> Reshape.
    save("dynamic", [
        helper.make_node("Transpose", ["x"], ["t"], perm=[0, 2, 3, 1]),
        helper.make_node("Shape", ["t"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["t", "shape"], ["r"]),
        helper.make_node("Clip", ["r", "lo", "hi"], ["y"]),
    ], [x], [y(["N", 36])], [const("zero", np.array(0, np.int64)), const("axes", np.array([0], np.int64)),
                             const("minus1", np.array([-1], np.int64)), const("lo", np.float32(0)), const("hi", np.float32(6))])
    save("pad", [
        helper.make_node("Pad", ["x", "pads"], ["p"], mode="constant"),
        helper.make_node("ConvTranspose", ["p", "w"], ["c"], strides=[2, 2]),
        helper.make_node("LeakyRelu", ["c"], ["l"], alpha=0.1),
        helper.make_node("Concat", ["l", "l"], ["cc"], axis=1),
        helper.make_node("GlobalMaxPool", ["cc"], ["g"]),
        helper.make_node("Flatten", ["g"], ["y"]),
    ], [x], [y(["N", 4])], [const("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)), const("w", f32(1, 2, 2, 2))])


# ---------------------------------------------------------------- IDX, images, references
def idx_bytes(array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def make_idx_seeds():
    out = target_dir("idx")
    labels = np.arange(10, dtype=np.uint8)
    images = rng.integers(0, 256, (3, 5, 4), dtype=np.uint8)
    write(out, "labels.idx1-ubyte", idx_bytes(labels))
    write(out, "images.idx3-ubyte", idx_bytes(images))
    write(out, "images.idx3-ubyte.gz", gzip.compress(idx_bytes(images), mtime=0))
    write(out, "one-image.idx3-ubyte", idx_bytes(rng.integers(0, 256, (1, 28, 28), dtype=np.uint8)))


def make_image_seeds():
    from PIL import Image

    out = target_dir("image")
    gray = rng.integers(0, 256, (12, 10), dtype=np.uint8)
    rgb = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)

    def png(name, image, **options):
        buffer = io.BytesIO()
        image.save(buffer, "PNG", **options)
        write(out, name, buffer.getvalue())

    png("gray.png", Image.fromarray(gray))
    png("rgb.png", Image.fromarray(rgb))
    png("rgba.png", Image.fromarray(np.dstack([rgb, rgb[:, :, :1]]), "RGBA"))
    png("palette.png", Image.fromarray(rgb).convert("P"))
    png("gray16.png", Image.fromarray(gray.astype(np.uint16) * 257))
    png("bilevel.png", Image.fromarray(gray > 127))
    for name, image, options in [("gray.jpg", Image.fromarray(gray), {}), ("rgb.jpg", Image.fromarray(rgb), {}),
                                 ("progressive.jpg", Image.fromarray(rgb), {"progressive": True})]:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=80, **options)
        write(out, name, buffer.getvalue())
    write(out, "gray.pgm", b"P5\n10 12\n255\n" + gray.tobytes())
    write(out, "gray16.pgm", b"P5 3 2 65535\n" + (gray[:2, :3].astype(">u2") * 257).tobytes())
    write(out, "ascii.pgm", b"P2\n# comment\n3 2\n15\n0 1 2\n13 14 15\n")


def make_reference_seeds():
    out = target_dir("reference")

    def reference(name, inputs, outputs, labels=None, layers=None):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, name)
            with h5py.File(path, "w") as f:
                f["inputs"] = inputs
                f["outputs"] = outputs
                if labels is not None:
                    f["labels"] = labels
                for layer, values in (layers or {}).items():
                    f[f"layers/{layer}"] = values
            write(out, name, open(path, "rb").read())

    reference("dense.h5", rng.random((3, 4), np.float32), rng.random((3, 2), np.float32), np.array([0, 1, 1], np.int64))
    reference("images.h5", rng.random((2, 4, 4, 1), np.float32), rng.random((2, 3), np.float32), np.array([2, 0], np.int64),
              {"conv": rng.random((2, 4, 4, 2), np.float32), "dense": rng.random((1, 3), np.float32)})
    reference("float64.h5", rng.random((2, 3)), rng.random((2, 2)))


MAKERS = {"idx": make_idx_seeds, "image": make_image_seeds, "reference": make_reference_seeds,
          "onnx": make_onnx_seeds, "keras": make_keras_seeds}  # keras: keras-config, h5 and keras

if __name__ == "__main__":
    for name in sys.argv[1:] or MAKERS:
        MAKERS[{"h5": "keras", "keras-config": "keras"}.get(name, name)]()
    for name in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, name))
        size = sum(os.path.getsize(os.path.join(CORPUS, name, f)) for f in files)
        print(f"{name}: {len(files)} seeds, {size // 1024} KB")
    sys.exit(0)
