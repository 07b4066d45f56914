#!/usr/bin/env python3
"""Keras models that together use every layer and activation ModelPort imports.

Trained briefly on MNIST (so BatchNormalization statistics and every weight are
non-trivial), saved by Keras 3 as `.h5` and `.keras` and by tf-keras (Keras 2)
as `.h5`, each with a reference file holding Keras's outputs for the first 200
MNIST test images and, under `layers/<layer name>`, every layer's output for
the first LAYER_SAMPLES of them (per-layer divergence checks).

Also writes `activations.h5`: every Keras activation function evaluated by
Keras 3 and tf-keras on a grid of inputs (`x`, `keras3/<name>`, `keras2/<name>`,
plus `keras3/gelu_tanh` for gelu's tanh approximation).

Usage (repo root): .venv/bin/python tools/make_coverage_fixtures.py [--data DIR] [--out DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tools"))
from make_fixtures import DEFAULT_DATA, load_mnist  # noqa: E402

LAYER_SAMPLES = 8
TRAIN_IMAGES = 12000
EPOCHS = 3
MODELS = ["cov_conv", "cov_dense", "cov_residual", "cov_merge"]

ACTIVATIONS = ["linear", "relu", "relu6", "sigmoid", "hard_sigmoid", "tanh", "softmax", "log_softmax",
               "softplus", "softsign", "elu", "selu", "gelu", "swish", "silu", "exponential", "hard_silu"]


def build(keras, name, legacy):
    """Returns (model, {layer name: symbolic output of its first call})."""
    L = keras.layers
    leaky = (lambda: L.LeakyReLU(alpha=0.2, name="leaky")) if legacy else (lambda: L.LeakyReLU(negative_slope=0.2, name="leaky"))
    if name == "cov_conv":
        layers = [
            L.Normalization(name="norm"),
            L.ZeroPadding2D(((1, 2), (2, 1)), name="zpad"),
            L.Conv2D(8, 3, strides=2, padding="same", use_bias=False, name="conv_s2"),
            L.BatchNormalization(name="bn1"),
            L.Activation("relu6", name="act_relu6"),
            L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw"),
            L.BatchNormalization(center=False, name="bn2"),
            L.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.05, name="relu_cfg"),
            L.SeparableConv2D(12, 3, activation="elu", name="sep"),
            L.AveragePooling2D(3, strides=2, padding="same", name="avgpool"),
            L.Conv2DTranspose(6, 3, strides=2, padding="same", name="deconv"),
            leaky(),
            L.Cropping2D(((1, 1), (2, 0)), name="crop"),
            L.UpSampling2D(2, name="up"),
            L.MaxPooling2D(3, strides=2, padding="same", name="maxpool"),
            L.Conv2D(8, 3, dilation_rate=2, activation="swish", name="conv_dil"),
            L.Conv2DTranspose(4, 2, strides=1, padding="valid", name="deconv_valid"),
            L.SpatialDropout2D(0.1, name="sdrop"),
            L.GaussianNoise(0.1, name="gnoise"),
            L.AveragePooling2D(2, name="avgpool_valid"),
            L.GlobalAveragePooling2D(name="gap"),
            L.Dense(10, activation="softmax", name="out"),
        ]
        model = keras.Sequential([keras.Input((28, 28, 1))] + layers, name=name)
        return model, {l.name: l.output for l in model.layers}
    if name == "cov_dense":
        layers = [
            L.Rescaling(2.0, offset=-1.0, name="rescale"),
            L.Reshape((49, 16), name="reshape"),
            L.Permute((2, 1), name="permute"),
            L.Dense(8, activation="gelu", name="dense_rank3"),
            L.LayerNormalization(name="ln"),
            L.Flatten(name="flat"),
            L.Dense(32, activation="selu", name="d_selu"),
            L.GaussianDropout(0.1, name="gdrop"),
            L.ActivityRegularization(l1=0.01, name="actreg"),
            L.RepeatVector(3, name="repeat"),
            L.Dense(16, activation="softplus", name="d_softplus"),
            L.PReLU(shared_axes=[1], name="prelu"),
            L.ELU(alpha=0.5, name="elu"),
            L.Activation("softsign", name="act_softsign"),
            L.Flatten(name="flat2"),
            L.Dense(24, activation="tanh", name="d_tanh"),
            L.Activation("sigmoid", name="act_sigmoid"),
            L.Dropout(0.2, name="drop"),
            L.Dense(10, name="logits"),
            L.Softmax(name="softmax"),
        ]
        model = keras.Sequential([keras.Input((28, 28, 1))] + layers, name=name)
        return model, {l.name: l.output for l in model.layers}
    if name == "cov_residual":
        inp = keras.Input((28, 28, 1), name="image")
        t = {}
        x = t["c1"] = L.Conv2D(8, 3, padding="same", name="c1")(inp)
        x = t["bn_a"] = L.BatchNormalization(name="bn_a")(x)
        r = t["relu_a"] = L.Activation("relu", name="relu_a")(x)
        x = t["c2"] = L.Conv2D(8, 3, padding="same", name="c2")(r)
        x = t["bn_b"] = L.BatchNormalization(name="bn_b")(x)
        x = t["residual"] = L.Add(name="residual")([x, r])
        x = t["relu_b"] = L.Activation("relu", name="relu_b")(x)
        x = t["pool"] = L.MaxPooling2D(name="pool")(x)
        a = t["branch_1x1"] = L.Conv2D(4, 1, name="branch_1x1")(x)
        b = t["branch_3x3"] = L.Conv2D(4, 3, padding="same", activation="hard_sigmoid", name="branch_3x3")(x)
        x = t["concat"] = L.Concatenate(name="concat")([a, b])
        x = t["gmp"] = L.GlobalMaxPooling2D(keepdims=True, name="gmp")(x)
        x = t["flat"] = L.Flatten(name="flat")(x)
        out = t["out"] = L.Dense(10, activation="softmax", name="out")(x)
        return keras.Model(inp, out, name=name), t
    if name == "cov_merge":
        inp = keras.Input((28, 28, 1), name="image")
        t = {}
        f = t["flat"] = L.Flatten(name="flat")(inp)
        a = t["dense_a"] = L.Dense(16, activation="relu", name="dense_a")(f)
        b = t["dense_b"] = L.Dense(16, activation="silu", name="dense_b")(f)
        shared = L.Dense(16, activation="tanh", name="shared")
        sa = t["shared"] = shared(a)
        sb = shared(b)
        merged = [
            L.Subtract(name="sub")([sa, sb]), L.Multiply(name="mul")([sa, sb]),
            L.Average(name="avg")([a, b, sa]), L.Maximum(name="max")([a, sb]), L.Minimum(name="min")([b, sa]),
        ]
        for layer_name, tensor in zip(["sub", "mul", "avg", "max", "min"], merged):
            t[layer_name] = tensor
        x = t["concat"] = L.Concatenate(axis=-1, name="concat")(merged)
        head = keras.Sequential([keras.Input((80,)), L.Dense(32, activation="hard_silu" if not legacy else "relu", name="head_hidden"),
                                 L.Dense(10, name="head_logits")], name="head")
        x = t["head"] = head(x)
        x = t["log_softmax"] = L.Activation("log_softmax", name="log_softmax")(x)
        out = t["probs"] = L.Activation("exponential", name="probs")(x)
        return keras.Model(inp, out, name=name), t
    raise KeyError(name)


def write_h5(path, datasets, attrs):
    import h5py
    import numpy as np
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        for key, value in datasets.items():
            value = np.asarray(value)
            kw = dict(compression="gzip", compression_opts=9) if value.ndim > 0 and value.size > 16 else {}
            f.create_dataset(key, data=value, **kw)
        for k, v in attrs.items():
            f.attrs[k] = v
    os.replace(tmp, path)


def run_writer(writer, args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    if writer == "keras3":
        import keras
        legacy, suffix = False, ""
    else:
        import tf_keras as keras
        legacy, suffix = True, "_keras2"
    x_train, y_train, x_test, y_test = load_mnist(args.data)
    x_train = (x_train[:TRAIN_IMAGES].astype(np.float32) / 255.0)[..., None]
    y_train = y_train[:TRAIN_IMAGES].astype(np.int64)
    x_ref = (x_test[:200].astype(np.float32) / 255.0)[..., None]
    manifest = {}
    for name in MODELS:
        keras.utils.set_random_seed(args.seed)
        model, tensors = build(keras, name, legacy)
        if name == "cov_conv":
            model.get_layer("norm").adapt(x_train)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        t0 = time.time()
        hist = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=64, verbose=0)
        stem = name + suffix
        outputs = {}
        path = os.path.join(args.out, stem + ".h5")
        model.save(path + ".tmp.h5")
        os.replace(path + ".tmp.h5", path)
        saved = [stem + ".h5"]
        if writer == "keras3":
            kpath = os.path.join(args.out, stem + ".keras")
            model.save(kpath + ".tmp.keras")
            os.replace(kpath + ".tmp.keras", kpath)
            saved.append(stem + ".keras")
        # Reference outputs from the model as reloaded from disk.
        reloaded = keras.models.load_model(path, compile=False)
        y = reloaded.predict(x_ref, batch_size=200, verbose=0)
        if not np.allclose(y, model.predict(x_ref, batch_size=200, verbose=0), atol=1e-6, rtol=0):
            raise RuntimeError(f"{stem}: reloaded model predicts differently")
        if writer == "keras3":
            yk = keras.models.load_model(kpath, compile=False).predict(x_ref, batch_size=200, verbose=0)
            if not np.allclose(y, yk, atol=1e-6, rtol=0):
                raise RuntimeError(f"{stem}: .keras and .h5 predict differently")
        names = list(tensors)
        extractor = keras.Model(model.inputs, [tensors[n] for n in names])
        per_layer = extractor.predict(x_ref[:LAYER_SAMPLES], batch_size=LAYER_SAMPLES, verbose=0)
        datasets = {"inputs": x_ref, "outputs": y, "labels": y_test[:200].astype(np.int64)}
        for n, v in zip(names, per_layer):
            datasets["layers/" + n] = v.astype(np.float32)
        # The last layer's per-layer output must be the model output.
        if not np.allclose(per_layer[names.index(model.layers[-1].name)] if model.layers[-1].name in names else per_layer[-1],
                           y[:LAYER_SAMPLES], atol=1e-5):
            raise RuntimeError(f"{stem}: per-layer extractor disagrees with the model")
        write_h5(os.path.join(args.out, stem + ".reference.h5"), datasets,
                 {"model": stem + ".h5", "keras_version": keras.__version__, "generator": "tools/make_coverage_fixtures.py",
                  "layer_samples": LAYER_SAMPLES,
                  "source": "first 200 MNIST test images (t10k), scaled to [0,1]; layers/* for the first %d" % LAYER_SAMPLES})
        manifest[stem] = dict(writer=writer, keras_version=keras.__version__, files=saved,
                              class_name=model.__class__.__name__, layers=len(model.layers),
                              train_images=TRAIN_IMAGES, epochs=EPOCHS, loss=float(hist.history["loss"][-1]),
                              accuracy_on_reference=float(np.mean(np.argmax(y, 1) == y_test[:200])),
                              train_seconds=round(time.time() - t0, 1))
        print(f"[{writer}] {stem}: {len(model.layers)} layers, reference accuracy "
              f"{manifest[stem]['accuracy_on_reference']:.3f}", flush=True)

    # Activation table.
    grid = np.concatenate([np.linspace(-8, 8, 801, dtype=np.float32), np.array([-1e-4, 1e-4, 0, 20, -20], np.float32)])
    grid = np.concatenate([grid, np.zeros(9 - len(grid) % 9, np.float32)]).reshape(-1, 9)
    table = {}
    for act in ACTIVATIONS:
        try:
            fn = keras.activations.get(act)
        except Exception:
            continue  # not in this Keras generation (e.g. hard_silu in Keras 2)
        import tensorflow as tf
        table[act] = np.asarray(fn(tf.constant(grid))).astype(np.float32)
    if not legacy:
        table["gelu_tanh"] = np.asarray(keras.activations.gelu(tf.constant(grid), approximate=True)).astype(np.float32)
    act_path = os.path.join(args.out, "activations.h5")
    import h5py
    mode = "a" if os.path.exists(act_path) else "w"
    with h5py.File(act_path, mode) as f:
        if "x" not in f:
            f["x"] = grid
        for k, v in table.items():
            key = f"{writer}/{k}"
            if key in f:
                del f[key]
            f[key] = v
        f.attrs["generator"] = "tools/make_coverage_fixtures.py"

    mpath = os.path.join(args.out, "manifest.json")
    existing = json.load(open(mpath)) if os.path.exists(mpath) else {}
    existing.update(manifest)
    with open(mpath + ".tmp", "w") as f:
        json.dump(dict(sorted(existing.items())), f, indent=2)
        f.write("\n")
    os.replace(mpath + ".tmp", mpath)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", DEFAULT_DATA))
    ap.add_argument("--out", default=os.path.join(REPO, "fixtures", "coverage"))
    ap.add_argument("--writer", choices=["keras3", "keras2", "all"], default="all")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.writer == "all":
        for w in ("keras3", "keras2"):
            subprocess.run([sys.executable, os.path.abspath(__file__), "--writer", w, "--data", args.data,
                            "--out", args.out, "--seed", str(args.seed)], check=True)
    else:
        run_writer(args.writer, args)


if __name__ == "__main__":
    main()
