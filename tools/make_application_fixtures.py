#!/usr/bin/env python3
"""Real-world Keras models, made by Keras at test time (not committed: some are large).

What users bring after MNIST: `keras.applications` networks (built with
`weights=None` -- never downloaded -- and randomised, BatchNorm statistics
included) and the transfer-learning pattern of the Keras guide: augmentation
layers, preprocessing, a base model nested as a layer with its first layers
frozen (`fine_tune_at`), global pooling, dropout, a Dense head.

For each case and each Keras generation that has it, writes `<stem>.h5`
(Keras 3) / `<stem>_keras2.h5` (tf-keras), `<stem>.keras` (Keras 3), and
`<stem>[_keras2].reference.h5` with `inputs` and Keras's `outputs` (the model
as reloaded from the .h5), plus `manifest.json` listing every file.

Usage (repo root):
  .venv/bin/python tools/make_application_fixtures.py [--out DIR] [--cases a,b]
Default --out: .build/fixtures/applications (git-ignored; tools/test.sh makes it).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_fixture_support import (SAMPLES, SEED, import_keras, randomise, run_writers, save_model_files,  # noqa: E402
                                   trainable_parameters, write_manifest, write_reference)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, ".build", "fixtures", "applications")


def finetune_mobilenetv2(keras, legacy):
    """The Keras transfer-learning guide's model: augmentation,
    mobilenet_v2.preprocess_input (x / 127.5 - 1 as operations in the graph),
    MobileNetV2 base (BatchNorm) nested as a layer with layers before
    fine_tune_at frozen, global pooling, dropout, Dense head."""
    L = keras.layers
    augmentation = keras.Sequential([L.RandomFlip("horizontal"), L.RandomRotation(0.2), L.RandomZoom(0.1),
                                     L.RandomTranslation(0.1, 0.1), L.RandomContrast(0.2)], name="data_augmentation")
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
    base.trainable = True
    for layer in base.layers[:100]:
        layer.trainable = False
    inputs = keras.Input((32, 32, 3))
    x = augmentation(inputs)
    x = keras.applications.mobilenet_v2.preprocess_input(x)
    x = base(x, training=False)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dropout(0.2)(x)
    outputs = L.Dense(1)(x)
    return keras.Model(inputs, outputs, name="finetuned"), (32, 32, 3), 255.0


def frozen_mobilenetv2(keras, legacy):
    """The feature-extraction step of the same guide: the whole base frozen."""
    L = keras.layers
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
    base.trainable = False
    inputs = keras.Input((32, 32, 3))
    x = L.Rescaling(1 / 127.5, offset=-1, name="preprocess")(inputs)
    x = base(x, training=False)
    x = L.GlobalAveragePooling2D()(x)
    outputs = L.Dense(5, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="frozen"), (32, 32, 3), 255.0


def finetune_sequential(keras, legacy):
    """A fine-tuned base inside a Sequential model (the other common shape)."""
    L = keras.layers
    base = keras.applications.MobileNetV2(input_shape=(32, 32, 3), alpha=0.35, include_top=False, weights=None)
    for layer in base.layers[:60]:
        layer.trainable = False
    model = keras.Sequential([keras.Input((32, 32, 3)), base, L.GlobalAveragePooling2D(), L.Dense(3)], name="seq_finetuned")
    return model, (32, 32, 3), 1.0


def conv_head(keras, x, outputs):
    """A small plain conv stack after the preprocessing under test."""
    L = keras.layers
    x = L.Conv2D(8, 3, strides=2, padding="same")(x)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    x = L.Conv2D(12, 3, padding="same", activation="relu")(x)
    x = L.GlobalAveragePooling2D()(x)
    return L.Dense(outputs)(x)


def caffe_preprocess(keras, legacy):
    """resnet50.preprocess_input ("caffe": RGB -> BGR, minus the ImageNet mean
    per channel) in the graph: Keras 3 GetItem/Stack/Add, tf-keras getitem
    [..., ::-1] and nn.bias_add."""
    inputs = keras.Input((16, 16, 3))
    x = keras.applications.resnet50.preprocess_input(inputs)
    x = x / 128.0  # values of about +-128 would make float32 rounding in the head exceed interop_check's 1e-5
    return keras.Model(inputs, conv_head(keras, x, 4), name="caffe"), (16, 16, 3), 255.0


def torch_preprocess(keras, legacy):
    """densenet.preprocess_input ("torch": / 255, minus the mean, divided by
    the standard deviation, per channel) in the graph."""
    inputs = keras.Input((16, 16, 3))
    x = keras.applications.densenet.preprocess_input(inputs)
    return keras.Model(inputs, conv_head(keras, x, 3), name="torch"), (16, 16, 3), 255.0


def arithmetic_preprocess(keras, legacy):
    """Preprocessing written by hand: x / 255.0, (x - 0.5) * 2, constants on
    either side (1.0 - x, 2.0 * x), a per-channel list, and mobilenet_v3's
    hard_sigmoid (ReLU(6)(x + 3) * (1 / 6))."""
    import numpy as np
    L = keras.layers
    inputs = keras.Input((16, 16, 3))
    x = inputs / 255.0
    x = (x - 0.5) * 2.0
    x = 1.0 - x
    x = 2.0 * x
    x = x * np.array([0.5, 1.0, 2.0], dtype="float32")
    x = L.Conv2D(6, 3, padding="same")(x)
    x = L.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)
    return keras.Model(inputs, conv_head(keras, x, 2), name="arithmetic"), (16, 16, 3), 255.0


def branch_sum(keras, legacy):
    """Operations on two computed tensors (x + y, x * y, x - y of two conv
    branches), as RegNet/ConvNeXt write them, after x / 255.0."""
    L = keras.layers
    inputs = keras.Input((16, 16, 3))
    x = inputs / 255.0
    a = L.Conv2D(6, 3, padding="same", activation="relu")(x)
    b = L.Conv2D(6, 1, padding="same")(x)
    y = (a + b) * b - a
    return keras.Model(inputs, conv_head(keras, y, 3), name="branches"), (16, 16, 3), 255.0


def math_and_slicing(keras, legacy):
    """The element-wise math users write (sqrt, square, log, reciprocal,
    negative, abs, power, maximum/minimum with a constant, relu6, sigmoid,
    exp) and numpy indexing (x[:, 1::2, -1:0:-2, :], x[..., k]) with stack,
    as keras.ops calls (Keras 3) or tf functions (tf-keras)."""
    L = keras.layers
    if legacy:
        import tensorflow as tf
        sqrt, square, log, reciprocal, negative, absolute = tf.math.sqrt, tf.math.square, tf.math.log, tf.math.reciprocal, tf.math.negative, tf.math.abs
        power, maximum, minimum, relu6, sigmoid, exp, stack = tf.math.pow, tf.math.maximum, tf.math.minimum, tf.nn.relu6, tf.math.sigmoid, tf.math.exp, tf.stack
    else:
        o = keras.ops
        sqrt, square, log, reciprocal, negative, absolute = o.sqrt, o.square, o.log, o.reciprocal, o.negative, o.absolute
        power, maximum, minimum, relu6, sigmoid, exp, stack = o.power, o.maximum, o.minimum, o.relu6, o.sigmoid, o.exp, o.stack
    inputs = keras.Input((8, 8, 3))
    x = inputs / 255.0 + 0.1
    e = negative(x)
    parts = [sqrt(x), square(x), log(x), reciprocal(x), e, absolute(e), power(x, 3.0), maximum(x, 0.5), minimum(0.6, x),
             relu6(x * 8.0 - 1.0), sigmoid(x), exp(x)]
    y = L.Concatenate()(parts)
    y = y[:, 1::2, -1:0:-2, :]
    y = stack([y[..., 0], y[..., 13], y[..., -1]], axis=1)
    y = L.Flatten()(y)
    return keras.Model(inputs, L.Dense(3)(y), name="math_slicing"), (8, 8, 3), 255.0


CASES = {
    "finetune_mobilenetv2": finetune_mobilenetv2,
    "frozen_mobilenetv2": frozen_mobilenetv2,
    "finetune_sequential": finetune_sequential,
    "caffe_preprocess": caffe_preprocess,
    "torch_preprocess": torch_preprocess,
    "arithmetic_preprocess": arithmetic_preprocess,
    "branch_sum": branch_sum,
    "math_and_slicing": math_and_slicing,
}


def run_writer(writer, out, cases):
    import numpy as np
    keras, legacy, suffix = import_keras(writer)
    manifest = {}
    for name in cases:
        keras.utils.set_random_seed(SEED)
        rng = np.random.default_rng(SEED)
        model, shape, scale = CASES[name](keras, legacy)
        randomise(model, rng)
        model.compile(optimizer="adam", loss="mse")
        x = (rng.uniform(0, 1, (SAMPLES,) + shape) * scale).astype("float32")
        stem = name + suffix
        files = save_model_files(model, out, stem, legacy)
        try:
            y = keras.models.load_model(os.path.join(out, stem + ".h5"), compile=False).predict(x, verbose=0)
        except Exception:  # noqa: BLE001
            # Keras 3 cannot load its op layers (TrueDivide, GetItem, ...) from a legacy .h5, not even its own.
            if legacy:
                raise
            y = keras.models.load_model(os.path.join(out, stem + ".keras"), compile=False).predict(x, verbose=0)
        if not np.allclose(y, model.predict(x, verbose=0), atol=1e-5, rtol=1e-5):
            raise RuntimeError(f"{stem}: Keras's own reload of the .h5 predicts differently")
        write_reference(out, stem, x, y, keras, "tools/make_application_fixtures.py")
        manifest[stem] = dict(writer=writer, keras_version=keras.__version__, files=files, case=name,
                              parameters=int(model.count_params()), trainable_parameters=trainable_parameters(model))
        print(f"[{writer}] {stem}: {model.count_params()} parameters", flush=True)
    write_manifest(out, writer, manifest)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--cases", default=",".join(CASES))
    p.add_argument("--writer", help=argparse.SUPPRESS)
    args = p.parse_args()
    cases = [c for c in args.cases.split(",") if c]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        p.error(f"unknown case(s) {unknown}; known: {', '.join(CASES)}")
    os.makedirs(args.out, exist_ok=True)
    if args.writer:
        run_writer(args.writer, args.out, cases)
        return
    manifest = run_writers(__file__, args.out, ["--cases", ",".join(cases)])
    print(f"application fixtures: {len(manifest)} models in {args.out}")


if __name__ == "__main__":
    main()
