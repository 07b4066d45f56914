#!/usr/bin/env python3
"""ONNX -> Keras on models others made (issue #16, item 6): every model of the onnx wheel's
`pytorch-converted` cases and `light` zoo architectures (seeded random weights, as in
tools/onnx_backend_cases.py) that ModelPort imports is converted with

  modelport convert model.onnx model.keras --no-verify                     (Keras 3 archive)
  modelport convert model.onnx model.k2.h5 --keras-version 2 --no-verify   (tf-keras)

(the real peers judge the files, not ModelPort's read-back), then Keras 3 loads the .keras
and tf-keras the .k2.h5, each in its own process (both at once), and predicts the
case's inputs — moved channels-last where the converted model takes them so (an NCHW image
becomes a channels-last Keras input) — and must give the case's reference outputs (PyTorch's
stored ones, or onnxruntime's for the light models): max |Keras - reference| <= 1e-4 *
max(1, max |reference|) per output, float32 rounding across a deep network with another
summation order, far below what a wrong weight or layout makes.

Verdicts per case and target:
  pass         Keras loads the file and predicts the reference outputs
  FAIL         the conversion broke (ModelPort's own verification failed, or exit 1), Keras
               cannot load the file, or predicts something else
  refused      ModelPort declined to write it, naming the layer Keras has no equivalent for
               (LocalResponseNormalization, ceil-mode pooling, ...): counted by layer type
  not imported ModelPort does not import the ONNX model (tools/onnx_backend_cases.py counts why)

Usage: .venv/bin/python tools/onnx_to_keras_check.py --bin .build/debug/modelport
           [--dirs pytorch-converted,light] [--exclude REGEX] [--only REGEX] [--work DIR]
Exit status 1 when any case FAILs.
"""
import argparse
import collections
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import onnx_backend_cases as cases  # noqa: E402

TARGETS = [(".keras", [], "keras3"), (".k2.h5", ["--keras-version", "2"], "keras2")]
RELATIVE_TOLERANCE = 1e-4
# Longest one peer may take for all its models.
WORKER_SECONDS = 1500


def refused_layer(message):
    m = re.search(r"layer type '([^']+)' has no Keras equivalent", message) or re.search(r"\(([A-Za-z0-9:_.]+)\): .*Keras", message)
    return m.group(1) if m else None


def convert(binary, model, out, extra):
    proc = subprocess.run([binary, "convert", model, out, "--no-verify"] + extra, capture_output=True, text=True, timeout=1200)
    text = (proc.stderr or "") + (proc.stdout or "")
    last = next((l for l in reversed(text.strip().splitlines()) if l.strip()), "")
    return proc.returncode, text, last


def channels_last(x, shape):
    """x moved to the converted model's input shape: as it is, or its axis 1 moved last."""
    import numpy as np
    if tuple(x.shape[1:]) == tuple(shape):
        return x
    moved = np.moveaxis(x, 1, -1)
    if tuple(moved.shape[1:]) == tuple(shape):
        return moved
    raise ValueError(f"the Keras model takes {tuple(shape)}, the case's input is {x.shape[1:]}")


def read_reference(path, input_names, output_names):
    """The reference tensors in the ONNX graph's input and output order."""
    import h5py
    import numpy as np

    def side(f, key, names):
        obj = f[key]
        if hasattr(obj, "shape"):
            return [np.asarray(obj[()])]
        return [np.asarray(obj[name][()]) for name in names]

    with h5py.File(path, "r") as f:
        return side(f, "inputs", input_names), side(f, "outputs", output_names)


def worker(kind, plan_path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import warnings
    warnings.filterwarnings("ignore")
    import numpy as np
    if kind == "keras3":
        import keras
    else:
        import tf_keras as keras
    with open(plan_path) as f:
        plan = [p for p in json.load(f) if p["peer"] == kind]
    for item in plan:
        try:
            model = keras.models.load_model(item["file"], compile=False)
            inputs, outputs = read_reference(item["reference"], item["inputs"], item["outputs"])
            shapes = [tuple(t.shape[1:]) for t in model.inputs]
            got = model.predict([channels_last(x, s) for x, s in zip(inputs, shapes)], batch_size=len(inputs[0]), verbose=0)
            got = got if isinstance(got, list) else [got]
            worst = 0.0
            ok = len(got) == len(outputs)
            for g, y in zip(got, outputs):
                if g.shape != y.shape:
                    ok = False
                    worst = float("inf")
                    continue
                d = float(np.max(np.abs(g.astype(np.float64) - y))) if y.size else 0.0
                ok &= d <= RELATIVE_TOLERANCE * max(1.0, float(np.max(np.abs(y))) if y.size else 1.0)
                worst = max(worst, d)
            print(json.dumps({"case": item["case"], "target": item["target"], "ok": bool(ok),
                              "detail": f"{keras.__name__} {keras.__version__}: max |Keras - reference| = {worst:.2e}"}), flush=True)
        except Exception as e:  # noqa: BLE001 - the peer's words are the finding
            print(json.dumps({"case": item["case"], "target": item["target"], "ok": False,
                              "detail": f"{keras.__name__} could not load or run it: {type(e).__name__}: {str(e)[:300]}"}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=False, help="the modelport binary")
    parser.add_argument("--dirs", default="pytorch-converted,light")
    parser.add_argument("--only", help="only cases matching this regular expression")
    parser.add_argument("--exclude", help="skip cases matching this regular expression")
    parser.add_argument("--work", help="keep the converted files here")
    parser.add_argument("--worker", choices=["keras3", "keras2"], help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.plan)
        return
    if not args.bin or not os.path.exists(args.bin):
        sys.exit(f"onnx_to_keras_check: the modelport binary '{args.bin}' does not exist; build first (swift build)")
    work = args.work or tempfile.mkdtemp(prefix="modelport-onnx-keras-")
    os.makedirs(work, exist_ok=True)
    verdicts = []   # (case, target, verdict, detail)
    plan = []

    def convert_case(directory, name, prepare):
        """The case's conversions: plan items and verdicts."""
        items, found = [], []
        model, ref = prepare()
        names = {"inputs": [i.name for i in cases.graph_inputs(cases.onnx.load(model))],
                 "outputs": [o.name for o in cases.onnx.load(model).graph.output]}
        for suffix, extra, peer in TARGETS:
            out = os.path.join(work, directory, name + suffix)
            code, text, last = convert(args.bin, model, out, extra)
            if code == 0:
                items.append({"case": name, "target": suffix, "peer": peer, "file": out, "reference": ref, **names})
                continue
            layer = refused_layer(last)
            if code == 2 and layer:
                found.append((name, suffix, "refused", layer))
            elif code == 2 and not os.path.exists(out):
                found.append((name, suffix, "not imported", last[:160]))
            else:
                found.append((name, suffix, "FAIL", f"modelport convert exit {code}: {last[:200]}"))
        return items, found

    jobs = [(directory, name, prepare) for directory in args.dirs.split(",")
            for name, prepare in cases.discover(directory, os.path.join(work, directory), args.only)
            if not (args.exclude and re.search(args.exclude, name))]
    # Two conversions at a time (a debug build converts a 224x224 zoo model in seconds).
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for items, found in pool.map(lambda job: convert_case(*job), jobs):
            plan += items
            verdicts += found
    plan_path = os.path.join(work, "plan.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    # Keras 3 and tf-keras each in their own process (they do not share one), side by side.
    workers = {peer: subprocess.Popen([sys.executable, os.path.abspath(__file__), "--worker", peer, "--plan", plan_path],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
               for _, _, peer in TARGETS}
    for peer, proc in workers.items():
        expected = {(p["case"], p["target"]) for p in plan if p["peer"] == peer}
        try:
            out, _ = proc.communicate(timeout=WORKER_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
        seen = set()
        for line in out.splitlines():
            if line.startswith("{"):
                r = json.loads(line)
                seen.add((r["case"], r["target"]))
                verdicts.append((r["case"], r["target"], "pass" if r["ok"] else "FAIL", r["detail"]))
        for case, target in sorted(expected - seen):
            verdicts.append((case, target, "FAIL", f"the {peer} checker crashed or timed out before this file"))
    for case, target, verdict, detail in sorted(verdicts):
        if verdict != "not imported":
            print(f"{verdict:8} {case}{target}: {detail}")
    counts = collections.Counter(v for _, _, v, _ in verdicts)
    refused = collections.Counter(d for _, _, v, d in verdicts if v == "refused")
    print(f"ONNX -> Keras: {counts['pass']} pass, {counts['FAIL']} FAIL, {counts['refused']} refused "
          f"(no Keras equivalent: {', '.join(f'{k} {n}' for k, n in refused.most_common())}), "
          f"{counts['not imported']} not imported (see onnx_backend_cases.py)")
    sys.exit(1 if counts["FAIL"] else 0)


if __name__ == "__main__":
    main()
