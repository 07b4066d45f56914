#!/usr/bin/env python3
"""Keras's side of the training-parity table: train each MNIST tutorial
architecture with its tutorial hyperparameters under several seeds, with real
Keras 3, and record the final test accuracy on the 10,000 MNIST test images.

ModelPort's native trainer must land within 0.3 percentage points of the mean
recorded here (README, "Training parity"). The architectures and settings are
exactly those of tools/make_fixtures.py (imported, not repeated).

Output: fixtures/training/keras_parity.json (merged after every run, so an
interrupted run keeps what it finished):
  {"<arch>": {"runs": {"<seed>": {"test_accuracy", "test_loss", "history", ...}},
              "mean_test_accuracy": ..., "settings": {...}}, "versions": {...}}

With --swift PATH_TO_MODELPORT it instead runs ModelPort's native trainer
(`modelport train --arch NAME --seed S`, same settings) and records its test
accuracy in fixtures/training/swift_parity.json, so both sides of the table
come from one script.

Usage (from the repo root):
  .venv/bin/python tools/keras_parity.py [--seeds 1 2 3] [--only NAME ...] [--data DIR]
  .venv/bin/python tools/keras_parity.py --swift .build-train-rel/release/modelport [--seeds 1]
  .venv/bin/python tools/keras_parity.py --table     # the README's Markdown table from both JSON files
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

REPO = mf.REPO
OUT = os.path.join(REPO, "fixtures", "training", "keras_parity.json")
SWIFT_OUT = os.path.join(REPO, "fixtures", "training", "swift_parity.json")


def merge(path, update):
    data = {}
    if os.path.exists(path):
        with open(path) as f:
            data = json.load(f)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            for k2, v2 in value.items():
                if isinstance(v2, dict) and isinstance(data[key].get(k2), dict):
                    data[key][k2].update(v2)
                else:
                    data[key][k2] = v2
        else:
            data[key] = value
    for name, entry in data.items():
        runs = entry.get("runs") if isinstance(entry, dict) else None
        if runs:
            accs = [r["test_accuracy"] for r in runs.values()]
            entry["mean_test_accuracy"] = sum(accs) / len(accs)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(dict(sorted(data.items())), f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.environ.get("MNIST_DIR", mf.DEFAULT_DATA))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--only", nargs="*", choices=sorted(mf.ARCHITECTURES))
    ap.add_argument("--out", default=None)
    ap.add_argument("--swift", metavar="MODELPORT", help="run ModelPort's trainer (this binary) instead of Keras")
    ap.add_argument("--threads", type=int, default=2, help="ModelPort threads (with --swift)")
    ap.add_argument("--table", action="store_true", help="print the parity table (Markdown) and exit")
    args = ap.parse_args()
    if args.table:
        return print_table()
    if args.swift:
        return run_swift(args)
    args.out = args.out or OUT

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import keras
    import tensorflow as tf

    x_train, y_train, x_test, y_test = mf.load_mnist(args.data)
    x_train = (x_train.astype(np.float32) / 255.0)[..., None]
    x_test = (x_test.astype(np.float32) / 255.0)[..., None]
    merge(args.out, {"versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                                  "generator": "tools/keras_parity.py"}})
    for name, spec in mf.ARCHITECTURES.items():
        if args.only and name not in args.only:
            continue
        for seed in args.seeds:
            keras.utils.set_random_seed(seed)
            model = mf.build_model(keras, name, legacy=False)
            model.compile(optimizer="adam", loss=spec["loss"], metrics=["accuracy"])
            in_shape = tuple(model.input_shape[1:])
            xt, xs = x_train.reshape((-1,) + in_shape), x_test.reshape((-1,) + in_shape)
            if spec["loss"] == "categorical_crossentropy":
                yt, ys = np.eye(10, dtype=np.float32)[y_train], np.eye(10, dtype=np.float32)[y_test]
            else:
                yt, ys = y_train.astype(np.int64), y_test.astype(np.int64)
            t0 = time.time()
            hist = model.fit(xt, yt, epochs=spec["epochs"], batch_size=spec["batch_size"],
                             validation_split=spec["validation_split"], verbose=2)
            seconds = time.time() - t0
            test_loss, test_acc = model.evaluate(xs, ys, verbose=0)
            print(f"{name} seed {seed}: test accuracy {test_acc:.4f} ({seconds:.0f}s)", flush=True)
            settings = dict(optimizer="adam", loss=spec["loss"], epochs=spec["epochs"],
                            batch_size=spec["batch_size"], validation_split=spec["validation_split"])
            merge(args.out, {name: {"settings": settings, "runs": {str(seed): dict(
                test_accuracy=float(test_acc), test_loss=float(test_loss),
                history={k: [float(v) for v in vs] for k, vs in hist.history.items()},
                train_seconds=round(seconds, 1))}}})


def print_table():
    with open(OUT) as f:
        keras_runs = json.load(f)
    swift_runs = {}
    if os.path.exists(SWIFT_OUT):
        with open(SWIFT_OUT) as f:
            swift_runs = json.load(f)
    print("| architecture | epochs, batch | Keras 3 test accuracy (seeds 1, 2, 3) | Keras mean | ModelPort test accuracy (seed) | ModelPort mean | difference of means |")
    print("|---|---|---|---|---|---|---|")
    for name, spec in mf.ARCHITECTURES.items():
        k = keras_runs.get(name, {}).get("runs", {})
        s = swift_runs.get(name, {}).get("runs", {})
        if not k:
            continue
        mean = sum(r["test_accuracy"] for r in k.values()) / len(k)
        seeds = ", ".join(f"{100 * r['test_accuracy']:.2f}%" for _, r in sorted(k.items()))
        if s:
            ours = sum(r["test_accuracy"] for r in s.values()) / len(s)
            ours_text = ", ".join(f"{100 * r['test_accuracy']:.2f}% ({seed})" for seed, r in sorted(s.items()))
            ours_mean = f"{100 * ours:.2f}%"
            diff = f"{100 * (ours - mean):+.2f} pp"
        else:
            ours_text, ours_mean, diff = "not run", "", ""
        print(f"| `{name}` | {spec['epochs']}, {spec['batch_size']} | {seeds} | {100 * mean:.2f}% | {ours_text} | {ours_mean} | {diff} |")


def run_swift(args):
    import subprocess
    import tempfile
    out = args.out or SWIFT_OUT
    merge(out, {"versions": {"generator": "tools/keras_parity.py --swift", "threads": args.threads}})
    for name, spec in mf.ARCHITECTURES.items():
        if args.only and name not in args.only:
            continue
        for seed in args.seeds:
            with tempfile.TemporaryDirectory() as tmp:
                results = os.path.join(tmp, "results.json")
                cmd = [args.swift, "train", "--arch", name, "--seed", str(seed), "--data", args.data,
                       "--threads", str(args.threads), "--results", results]
                print(" ".join(cmd), flush=True)
                subprocess.run(cmd, check=True)
                with open(results) as f:
                    r = json.load(f)
            print(f"{name} seed {seed}: ModelPort test accuracy {r['test_accuracy']:.4f} ({r['seconds']:.0f}s)", flush=True)
            settings = dict(optimizer="adam", loss=spec["loss"], epochs=spec["epochs"],
                            batch_size=spec["batch_size"], validation_split=spec["validation_split"])
            merge(out, {name: {"settings": settings, "runs": {str(seed): dict(
                test_accuracy=r["test_accuracy"], test_loss=r["test_loss"], history=r["history"],
                train_seconds=round(r["seconds"], 1), threads=r["threads"])}}})


if __name__ == "__main__":
    main()
