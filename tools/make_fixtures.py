#!/usr/bin/env python3
"""Train the MNIST tutorial models with real Keras and write ModelPort's fixtures.

Every number ModelPort's tests compare against comes from here: the models are
trained by Keras 3 (``keras``) and by Keras 2 (``tf_keras``) on the real MNIST
files, saved with ``model.save(...h5)``, and run by that same Keras on the first
200 MNIST test images to produce the reference outputs.

Outputs, in --out (default: fixtures/):
  <name>.h5                     saved by Keras 3
  <name>_keras2.h5              saved by tf-keras (Keras 2)
  <name>[_keras2].reference.h5  inputs (N x input shape, float32 in [0,1]),
                                outputs (N x 10, float32, Keras's predict),
                                labels (N, int64); gzip-compressed datasets
  manifest.json                 how each model was trained and its test accuracy

Usage (from the repo root, with the project virtualenv):
  .venv/bin/python tools/make_fixtures.py [--data DIR] [--out DIR]
      [--writer keras3|keras2|all] [--only NAME ...] [--samples 200]

Each writer runs in its own subprocess so Keras 3 and tf-keras never share one
Python process.
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(os.path.dirname(REPO), "shared", "data", "mnist")

# The architectures of the MNIST tutorials ModelPort grew from.
# (name, description, training settings). Layer stacks are built in build_model.
ARCHITECTURES = {
    "mnist_digit_model": dict(
        summary="Conv2D(32)-MaxPool-Conv2D(64)-MaxPool-Conv2D(64)-Flatten-Dense(64)-Dense(10)",
        loss="categorical_crossentropy", epochs=5, batch_size=64, validation_split=0.0,
        include_optimizer=True),
    "mnist_cnn": dict(
        summary="Conv2D(32)-MaxPool-Conv2D(64)-MaxPool-Flatten-Dense(128)-Dense(10)",
        loss="categorical_crossentropy", epochs=10, batch_size=128, validation_split=0.0,
        include_optimizer=False),
    "mnist_conv_pair": dict(
        summary="Conv2D(64)-Conv2D(32)-MaxPool-Flatten-Dense(10)",
        loss="categorical_crossentropy", epochs=3, batch_size=32, validation_split=0.0,
        include_optimizer=False),
    "mnist_mlp": dict(
        summary="Flatten-Dense(128)-Dense(64)-Dense(10)",
        loss="sparse_categorical_crossentropy", epochs=10, batch_size=32, validation_split=0.2,
        include_optimizer=False),
}


def read_idx(path):
    """Read an IDX file (gzipped or not) into a numpy array, checking its header."""
    import numpy as np
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path}: not a uint8 IDX file")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims}, data has {body.size} bytes")
    return body.reshape(dims)


def find_idx(data_dir, stem):
    for cand in (stem + ".gz", stem):
        p = os.path.join(data_dir, cand)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{stem}(.gz) not found in {data_dir}")


def load_mnist(data_dir):
    x_train = read_idx(find_idx(data_dir, "train-images-idx3-ubyte"))
    y_train = read_idx(find_idx(data_dir, "train-labels-idx1-ubyte"))
    x_test = read_idx(find_idx(data_dir, "t10k-images-idx3-ubyte"))
    y_test = read_idx(find_idx(data_dir, "t10k-labels-idx1-ubyte"))
    return x_train, y_train, x_test, y_test


def build_model(keras, name, legacy):
    L = keras.layers
    if legacy:
        inp = lambda shape: L.InputLayer(input_shape=shape)
    else:
        inp = lambda shape: keras.Input(shape=shape)
    if name == "mnist_digit_model":
        layers = [inp((28, 28, 1)),
                  L.Conv2D(32, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                  L.Conv2D(64, (3, 3), activation="relu"), L.MaxPooling2D((2, 2)),
                  L.Conv2D(64, (3, 3), activation="relu"),
                  L.Flatten(), L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")]
    elif name == "mnist_cnn":
        layers = [inp((28, 28, 1)),
                  L.Conv2D(32, kernel_size=(3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)),
                  L.Conv2D(64, kernel_size=(3, 3), activation="relu"), L.MaxPooling2D(pool_size=(2, 2)),
                  L.Flatten(), L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")]
    elif name == "mnist_conv_pair":
        layers = [inp((28, 28, 1)),
                  L.Conv2D(64, kernel_size=3, activation="relu"),
                  L.Conv2D(32, kernel_size=3, activation="relu"),
                  L.MaxPooling2D(), L.Flatten(), L.Dense(10, activation="softmax")]
    elif name == "mnist_mlp":
        layers = [inp((28, 28)), L.Flatten(),
                  L.Dense(128, activation="relu"), L.Dense(64, activation="relu"),
                  L.Dense(10, activation="softmax")]
    else:
        raise KeyError(name)
    return keras.Sequential(layers, name=name)


def write_reference(path, x, y_pred, labels, attrs):
    import h5py
    import numpy as np
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        f.create_dataset("inputs", data=x.astype(np.float32), compression="gzip", compression_opts=9)
        f.create_dataset("outputs", data=y_pred.astype(np.float32), compression="gzip", compression_opts=9)
        f.create_dataset("labels", data=labels.astype(np.int64), compression="gzip", compression_opts=9)
        for k, v in attrs.items():
            f.attrs[k] = v
    os.replace(tmp, path)


def run_writer(writer, args):
    """Train and save every requested model with one Keras generation."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    if writer == "keras3":
        import keras
        legacy, suffix = False, ""
    else:
        import tf_keras as keras
        legacy, suffix = True, "_keras2"
    x_train, y_train, x_test, y_test = load_mnist(args.data)
    x_train = (x_train.astype(np.float32) / 255.0)[..., None]
    x_test = (x_test.astype(np.float32) / 255.0)[..., None]

    manifest_path = os.path.join(args.out, "manifest.json")
    results = {}
    for name, spec in ARCHITECTURES.items():
        if args.only and name not in args.only:
            continue
        keras.utils.set_random_seed(args.seed)
        model = build_model(keras, name, legacy)
        model.compile(optimizer="adam", loss=spec["loss"], metrics=["accuracy"])
        in_shape = tuple(model.input_shape[1:])
        xt = x_train.reshape((-1,) + in_shape)
        xs = x_test.reshape((-1,) + in_shape)
        if spec["loss"] == "categorical_crossentropy":
            yt, ys = np.eye(10, dtype=np.float32)[y_train], np.eye(10, dtype=np.float32)[y_test]
        else:
            yt, ys = y_train.astype(np.int64), y_test.astype(np.int64)
        t0 = time.time()
        hist = model.fit(xt, yt, epochs=spec["epochs"], batch_size=spec["batch_size"],
                         validation_split=spec["validation_split"], verbose=2)
        train_seconds = time.time() - t0
        test_loss, test_acc = model.evaluate(xs, ys, verbose=0)
        stem = name + suffix
        model_path = os.path.join(args.out, stem + ".h5")
        tmp = model_path[:-3] + ".tmp.h5"
        model.save(tmp, include_optimizer=spec["include_optimizer"])
        os.replace(tmp, model_path)

        # Reference outputs: Keras's own predictions from the model *as saved*,
        # reloaded from disk, so the fixture and its reference cannot disagree.
        reloaded = keras.models.load_model(model_path, compile=False)
        n = args.samples
        x_ref = xs[:n]
        y_ref = reloaded.predict(x_ref, batch_size=n, verbose=0)
        y_live = model.predict(x_ref, batch_size=n, verbose=0)
        if not np.array_equal(y_ref, y_live):
            raise RuntimeError(f"{stem}: reloaded model predicts differently from the trained one")
        write_reference(os.path.join(args.out, stem + ".reference.h5"), x_ref, y_ref, y_test[:n],
                        {"model": stem + ".h5", "keras_version": keras.__version__,
                         "generator": "tools/make_fixtures.py",
                         "source": "first %d MNIST test images (t10k), scaled to [0,1]" % n})
        results[stem] = dict(
            architecture=spec["summary"], writer=writer, keras_version=keras.__version__,
            tensorflow_version=__import__("tensorflow").__version__,
            optimizer="adam", loss=spec["loss"], epochs=spec["epochs"], batch_size=spec["batch_size"],
            validation_split=spec["validation_split"], seed=args.seed,
            include_optimizer=spec["include_optimizer"],
            test_loss=float(test_loss), test_accuracy=float(test_acc),
            history={k: [float(v) for v in vs] for k, vs in hist.history.items()},
            train_seconds=round(train_seconds, 1))
        print(f"[{writer}] {stem}: test accuracy {test_acc:.4f} ({train_seconds:.0f}s)", flush=True)

    # Merge into the manifest (other writers' entries are kept).
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f)
    manifest.update(results)
    with open(manifest_path + ".tmp", "w") as f:
        json.dump(dict(sorted(manifest.items())), f, indent=2)
        f.write("\n")
    os.replace(manifest_path + ".tmp", manifest_path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", DEFAULT_DATA),
                    help="directory with the four MNIST IDX files (default: ../shared/data/mnist)")
    ap.add_argument("--out", default=os.path.join(REPO, "fixtures"), help="output directory")
    ap.add_argument("--writer", choices=["keras3", "keras2", "all"], default="all")
    ap.add_argument("--only", nargs="*", choices=sorted(ARCHITECTURES), help="only these models")
    ap.add_argument("--samples", type=int, default=200, help="reference samples (first N test images)")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.writer == "all":
        for w in ("keras3", "keras2"):
            cmd = [sys.executable, os.path.abspath(__file__), "--writer", w, "--data", args.data,
                   "--out", args.out, "--samples", str(args.samples), "--seed", str(args.seed)]
            if args.only:
                cmd += ["--only", *args.only]
            subprocess.run(cmd, check=True)
    else:
        run_writer(args.writer, args)


if __name__ == "__main__":
    main()
