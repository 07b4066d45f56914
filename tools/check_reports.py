#!/usr/bin/env python3
"""Check `modelport evaluate` against scikit-learn and Keras on the same predictions.

For each case below, runs the built `modelport evaluate ... --json` (found with
`swift build --show-bin-path`, or --bin PATH), takes its per-sample labels and
predictions, and recomputes with scikit-learn:
  - classification_report(output_dict=True): every precision, recall, F1 and
    support, per class and for the macro and weighted averages, and accuracy,
    must be equal to 4 decimals;
  - confusion_matrix must be identical;
and for the MNIST test set, Keras itself: model.evaluate() on the same 10,000
images must give the same loss (categorical cross-entropy) and accuracy.

Prints one line per check and a closing 'N passed, N failed' line; exits 1 on
any failure.

Usage: .venv/bin/python tools/check_reports.py [--bin PATH/TO/modelport] [--scratch-path DIR]
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(REPO, "fixtures", "mnist_digit_model.h5")

passed = 0
failed = 0


def report(ok, message):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok      {message}")
    else:
        failed += 1
        print(f"FAILED  {message}")


def modelport_binary(args):
    if args.bin:
        return args.bin
    command = ["swift", "build", "--show-bin-path"]
    if args.scratch_path:
        command += ["--scratch-path", args.scratch_path]
    bin_dir = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(bin_dir, "modelport")


def evaluate(binary, arguments):
    result = subprocess.run([binary, "evaluate", *arguments, "--json"], cwd=REPO, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"modelport evaluate {' '.join(arguments)} failed ({result.returncode}):\n{result.stderr}")
    return json.loads(result.stdout)


def compare_with_sklearn(name, got):
    from sklearn.metrics import accuracy_score, classification_report, confusion_matrix
    y_true, y_pred = got["labels"], got["predictions"]
    names = got["class_names"]
    present = sorted(set(y_true) | set(y_pred))
    with warnings.catch_warnings():
        # Classes never predicted: scikit-learn warns and uses 0, as ModelPort does.
        warnings.simplefilter("ignore")
        expected = classification_report(y_true, y_pred, labels=present,
                                          target_names=[names[i] for i in present], output_dict=True)
    mine = got["classification_report"]
    mismatches = []
    for key, value in expected.items():
        if key == "accuracy":
            if key not in mine or round(mine[key], 4) != round(value, 4):
                mismatches.append(f"accuracy: modelport {mine.get(key)} sklearn {value}")
            continue
        for metric in ("precision", "recall", "f1-score", "support"):
            a, b = mine.get(key, {}).get(metric), value[metric]
            if a is None or round(float(a), 4) != round(float(b), 4):
                mismatches.append(f"{key} {metric}: modelport {a} sklearn {b}")
    extra = set(mine) - set(expected)
    if extra:
        mismatches.append(f"rows sklearn does not have: {sorted(extra)}")
    report(not mismatches, f"{name}: classification report ({len(expected) - 1} rows x 4 figures) equals scikit-learn's to 4 decimals"
           + ("" if not mismatches else ":\n          " + "\n          ".join(mismatches[:10])))
    cm = confusion_matrix(y_true, y_pred, labels=list(range(len(names)))).tolist()
    report(cm == got["confusion_matrix"], f"{name}: confusion matrix equals scikit-learn's")
    acc = accuracy_score(y_true, y_pred)
    report(abs(acc - got["accuracy"]) < 1e-12, f"{name}: accuracy {got['accuracy']:.4f} (scikit-learn {acc:.4f})")


def read_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        data = f.read()
    rank = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def compare_with_keras(got, mnist_dir):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    x = read_idx(os.path.join(mnist_dir, "t10k-images-idx3-ubyte.gz")).astype("float32")[..., None] / 255.0
    y = read_idx(os.path.join(mnist_dir, "t10k-labels-idx1-ubyte.gz")).astype("int64")
    report(y.tolist() == got["labels"], "mnist: the labels modelport read are the IDX file's labels (numpy)")
    model = keras.models.load_model(MODEL)
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(x, keras.utils.to_categorical(y, 10), batch_size=500, verbose=0)
    report(abs(loss - got["loss"]) <= 1e-4 * max(1.0, loss),
           f"mnist: loss {got['loss']:.6f} equals Keras model.evaluate's {loss:.6f}")
    # Keras keeps metrics in float32: agree to its resolution.
    report(abs(accuracy - got["accuracy"]) <= 1e-6, f"mnist: accuracy {got['accuracy']:.4f} equals Keras's {accuracy:.4f}")
    keras_pred = np.argmax(model.predict(x, batch_size=500, verbose=0), axis=1)
    agree = int(np.sum(keras_pred == np.array(got["predictions"])))
    report(agree == len(y), f"mnist: modelport's predicted classes agree with Keras's on {agree}/{len(y)} images")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", help="the modelport executable (default: from swift build --show-bin-path)")
    parser.add_argument("--scratch-path", help="SwiftPM scratch path the executable was built in")
    args = parser.parse_args()
    binary = modelport_binary(args)
    mnist_dir = os.environ.get("MNIST_DIR") or os.path.join(os.path.dirname(REPO), "shared", "data", "mnist")

    mnist = evaluate(binary, [MODEL, "--data", mnist_dir, "--no-download"])
    compare_with_sklearn("mnist", mnist)
    compare_with_keras(mnist, mnist_dir)

    # A model that is wrong often, on a dataset it was not trained for: classes
    # with low precision and recall, some never predicted.
    fashion = evaluate(binary, [os.path.join(REPO, "fixtures", "mnist_mlp.h5"), "--dataset", "fashion-mnist",
                                "--limit", "2000", "--no-download"])
    compare_with_sklearn("fashion-mnist with an MNIST model", fashion)

    images = evaluate(binary, [MODEL, "--images", os.path.join(REPO, "fixtures", "images")])
    compare_with_sklearn("committed test images", images)

    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
