#!/usr/bin/env python3
"""Proves ModelPort's Keras and ONNX writers with the real peers.

For every Keras fixture (fixtures/manifest.json, fixtures/coverage/manifest.json, the
generated .build/fixtures/applications and the small block of .build/fixtures/families),
every tf2onnx conversion (fixtures/onnx/*.tf2onnx.onnx, i.e. models that
reach ModelPort without a Keras config) and every PyTorch-style NCHW ONNX model
(fixtures/onnx/pytorch, whose Keras conversions are channels-last and so are fed
the *.nhwc.reference.h5 digits), the built `modelport` binary writes,
into a temporary directory:

  <name>.k3.h5       legacy HDF5, Keras 3 layout     -> keras.models.load_model
  <name>.k2.h5       legacy HDF5, Keras 2 layout     -> tf_keras.models.load_model
  <name>.keras       Keras 3 archive                 -> keras.models.load_model
  <name>.weights.h5  weights only                    -> model.load_weights (Keras 3)
  <name>.onnx        ONNX, opset 17                  -> onnx.checker (full) + onnxruntime

and every file is checked against the reference outputs (Keras's in fixtures'
*.reference.h5, onnxruntime's for the PyTorch-style models; within 1e-5) and
against ModelPort's own predictions for that same file (`modelport predict`,
within 1e-5). A Keras file written back in the
generation that wrote it must also keep every weight bit-identical and make
Keras predict what it predicts for the original (max abs diff <= 1e-6), and
keep the optimizer state bit-identical when it has one.

Training round trip: `modelport train --arch mnist_mlp` (a short run) saves a
Swift-trained model with its Adam state as a Keras-2-layout .h5
(`--keras-version 2`) and as a .keras archive; tf_keras (the .h5) and Keras 3
(the .keras) must each load it compiled, predict what
ModelPort predicts for it (within 1e-5), restore the optimizer's step count
and every slot bit-identically, and continue training from that state: one
train_on_batch must move the first moments to beta_1*m_saved + (1-beta_1)*g
(g from tf.GradientTape at the loaded weights, within 1e-6). Keras 3.15 cannot
do this with any compiled legacy .h5, its own included (load_model builds the
optimizer on variables the model then replaces: "Unknown variable ... This
optimizer can only be called for the variables it was originally built
with"), so for .h5 the generation that can is the one checked.

A conversion ModelPort refuses counts as a failure unless it is listed in
EXPECTED_REFUSALS with the words its message must contain (a layer or
activation the target Keras cannot express); those count as passed checks of
the refusal.

Usage: .venv/bin/python tools/interop_check.py [--modelport PATH] [--keep DIR] [--only NAME]
Prints one line per check and a closing 'N passed, N failed'; exits 1 on failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(REPO, "fixtures")
TOLERANCE = 1e-5
SAME_GENERATION_TOLERANCE = 1e-6

# (source name, output suffix) -> words the refusal message must contain.
EXPECTED_REFUSALS = {
    # Keras's ActivityRegularization keeps l1/l2 factors the runtime layer does not hold,
    # so its config can only be kept, never generated (other generation, .keras).
    ("cov_dense", ".k2.h5"): "ActivityRegularization",
    ("cov_dense", ".keras"): "ActivityRegularization",
    ("cov_dense_keras2", ".k3.h5"): "ActivityRegularization",
    ("cov_dense_keras2", ".keras"): "ActivityRegularization",
    # Keras 2's hard_sigmoid (0.2x + 0.5) does not exist in Keras 3, and the other way round.
    ("cov_residual_keras2", ".k3.h5"): "hard_sigmoid",
    ("cov_residual_keras2", ".keras"): "hard_sigmoid",
    ("cov_residual", ".k2.h5"): "hard_sigmoid",
    # relu6 / hard_silu are Keras 3 activations.
    ("cov_conv", ".k2.h5"): "does not exist in Keras 2",
    ("cov_merge", ".k2.h5"): "does not exist in Keras 2",
    # Keras 3 cannot load op layers (TrueDivide, GetItem, ...) from a legacy .h5, not even its own; x / 255.0,
    # preprocess_input's per-channel constants and channel flip are no exact standard layer there.
    **{(stem + generation, ".k3.h5"): "from a legacy .h5 file"
       for stem in ("finetune_mobilenetv2", "caffe_preprocess", "torch_preprocess", "arithmetic_preprocess", "branch_sum",
                    "math_and_slicing")
       for generation in ("", "_keras2")},
}

# Longest a peer checker may run (each takes 1-3 minutes here).
WORKER_SECONDS = 1200

SUFFIXES = [".k3.h5", ".k2.h5", ".keras", ".weights.h5", ".onnx"]


def log(ok, name, message):
    print(f"{'ok    ' if ok else 'FAILED'} {name}: {message}", flush=True)
    return ok


def sources():
    """(name, source path, reference path, writer or None, includes optimizer, fine-tuning, reference for Keras outputs)."""
    out = []
    # The committed fixtures, and the real-world models Keras makes at test time (tools/make_application_fixtures.py).
    generated = os.path.join(REPO, ".build", "fixtures")
    for manifest_dir in (FIXTURES, os.path.join(FIXTURES, "coverage"), os.path.join(generated, "applications"),
                         os.path.join(generated, "families")):
        path = os.path.join(manifest_dir, "manifest.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            manifest = json.load(f)
        for stem in sorted(manifest):
            entry = manifest[stem]
            if entry.get("interop") is False:  # a keras.applications family: checked by ApplicationTests only
                continue
            # The transfer-learning guide's models must also compile and train in Keras once written back.
            fine_tuning = str(entry.get("case", "")).startswith("finetune")
            out.append((stem, os.path.join(manifest_dir, stem + ".h5"), os.path.join(manifest_dir, stem + ".reference.h5"),
                        entry.get("writer"), bool(entry.get("include_optimizer", False)), fine_tuning))
    onnx_dir = os.path.join(FIXTURES, "onnx")
    for name in sorted(os.listdir(onnx_dir)) if os.path.isdir(onnx_dir) else []:
        if name.endswith(".tf2onnx.onnx"):
            stem = name[: -len(".tf2onnx.onnx")]
            out.append((stem + "_tf2onnx", os.path.join(onnx_dir, name), os.path.join(FIXTURES, stem + ".reference.h5"), None, False, False))
    # PyTorch-style NCHW graphs (tools/make_pytorch_style_onnx.py): their Keras conversions are channels-last,
    # so Keras and ModelPort feed those the same digits as (N, 28, 28, 1) (*.nhwc.reference.h5).
    pytorch_dir = os.path.join(onnx_dir, "pytorch")
    if os.path.exists(os.path.join(pytorch_dir, "manifest.json")):
        with open(os.path.join(pytorch_dir, "manifest.json")) as f:
            for stem in sorted(json.load(f)):
                base = os.path.join(pytorch_dir, stem)
                out.append((stem + "_pytorch", base + ".onnx", base + ".reference.h5", None, False, False, base + ".nhwc.reference.h5"))
    return [entry if len(entry) == 7 else entry + (entry[2],) for entry in out]


def modelport_binary(explicit):
    if explicit:
        return explicit
    if os.environ.get("MODELPORT_BIN"):
        return os.environ["MODELPORT_BIN"]
    bin_dir = subprocess.run(["swift", "build", "--show-bin-path"], cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(bin_dir, "modelport")


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True)


def produce(binary, workdir, only):
    """Writes every file with `modelport convert`; returns the plan for the checkers."""
    plan, results = [], []
    for name, src, onnx_ref, writer, optimizer, fine_tuning, keras_ref in sources():
        if only and only not in name:
            continue
        for suffix in SUFFIXES:
            out = os.path.join(workdir, name + suffix)
            # A Keras model made from an NCHW ONNX graph takes channels-last samples (a weights file is checked in that
            # model's architecture), ModelPort's read-back of a weights file (the source's architecture) the source's.
            ref = onnx_ref if suffix == ".onnx" else keras_ref
            # Weights files are verified by ModelPort reading them back into the source's architecture.
            args = [binary, "convert", src, out] + (["--reference", onnx_ref] if suffix == ".weights.h5" else ["--no-verify"])
            if suffix == ".k3.h5":
                args += ["--keras-version", "3"]
            elif suffix == ".k2.h5":
                args += ["--keras-version", "2"]
            proc = run(args)
            expected = EXPECTED_REFUSALS.get((name, suffix), "unexpected")
            if proc.returncode != 0:
                message = (proc.stderr or proc.stdout).strip().splitlines()[-1] if (proc.stderr or proc.stdout).strip() else ""
                if expected != "unexpected" and expected in message:
                    results.append(log(True, name + suffix, f"refused as expected: {message[:160]}"))
                else:
                    results.append(log(False, name + suffix, f"modelport convert failed (exit {proc.returncode}): {message}"))
                continue
            if expected != "unexpected":
                results.append(log(False, name + suffix, f"expected a refusal mentioning '{expected}', but the conversion succeeded"))
                continue
            item = {"name": name, "source": src, "reference": ref, "writer": writer, "optimizer": optimizer,
                    "file": out, "suffix": suffix, "fine_tuning": fine_tuning}
            if suffix == ".weights.h5":
                results.append(log(True, name + suffix, "modelport read it back into the source's architecture: " +
                                   " ".join(l.strip() for l in proc.stdout.splitlines() if "max" in l)))
            else:
                pred = run([binary, "predict", out, "--input", ref, "--json"])
                if pred.returncode != 0:
                    results.append(log(False, name + suffix, f"modelport predict on the written file failed: {pred.stderr.strip()}"))
                    continue
                rows = json.loads(pred.stdout)["predictions"]
                item["modelport"] = os.path.join(workdir, name + suffix + ".modelport.json")
                with open(item["modelport"], "w") as f:
                    json.dump([r["probabilities"] for r in rows], f)
            plan.append(item)
    return plan, results


def produce_trained(binary, workdir):
    """Short Swift training runs saved for the Kerases that can continue them:
    a Keras-2-layout .h5 for tf_keras and a .keras archive for Keras 3, with Adam state."""
    data = os.environ.get("MNIST_DIR", os.path.join(REPO, "..", "shared", "data", "mnist"))
    if not os.path.isdir(data):
        print(f"SKIPPED swift_trained_mlp: no MNIST data at {data} (set MNIST_DIR)")
        return [], []
    ref = os.path.join(FIXTURES, "mnist_mlp.reference.h5")
    items, results = [], []
    for suffix, extra in ((".k2.h5", ["--keras-version", "2"]), (".keras", [])):
        out = os.path.join(workdir, "swift_trained_mlp" + suffix)
        proc = run([binary, "train", "--arch", "mnist_mlp", "--data", data, "--limit", "4096", "--epochs", "1",
                    "--threads", "1", "--seed", "5", "--out", out] + extra)
        if proc.returncode != 0:
            results.append(log(False, "swift_trained_mlp" + suffix, f"modelport train failed: {(proc.stderr or proc.stdout).strip()[-400:]}"))
            continue
        pred = run([binary, "predict", out, "--input", ref, "--json"])
        if pred.returncode != 0:
            results.append(log(False, "swift_trained_mlp" + suffix, f"modelport predict failed: {pred.stderr.strip()}"))
            continue
        item = {"name": "swift_trained_mlp", "suffix": suffix, "file": out, "reference": ref, "trained": True,
                "modelport": out + ".modelport.json"}
        with open(item["modelport"], "w") as f:
            json.dump([r["probabilities"] for r in json.loads(pred.stdout)["predictions"]], f)
        items.append(item)
        results.append(log(True, "swift_trained_mlp" + suffix, "modelport train wrote it with its optimizer state"))
    return items, results


def saved_optimizer_variables(path):
    """The optimizer variables ModelPort saved, in Keras's order."""
    import h5py
    import numpy as np
    if path.endswith(".keras"):
        import io
        import zipfile
        with zipfile.ZipFile(path) as z, h5py.File(io.BytesIO(z.read("model.weights.h5")), "r") as f:
            g = f["optimizer/vars"]
            return [np.asarray(g[str(i)][()]) for i in range(len(g))]
    with h5py.File(path, "r") as f:
        g = f["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in g.attrs["weight_names"]]
        return [np.asarray(g[n][()]) for n in names]


def check_continue_training(item, keras):
    """A Keras loads a Swift-trained model compiled, predicts as ModelPort does, and continues its Adam state."""
    import h5py
    import numpy as np
    import tensorflow as tf
    name = item["name"] + item["suffix"]
    x, _ = load_reference(item["reference"])
    with h5py.File(item["reference"], "r") as f:
        labels = f["labels"][()]
    model = keras.models.load_model(item["file"])  # compiled: training/compile config and optimizer state
    results = []
    with open(item["modelport"]) as f:
        ours = np.asarray(json.load(f), dtype=np.float32)
    d = max_diff(model.predict(x, batch_size=len(x), verbose=0), ours)
    results.append(log(d <= TOLERANCE, name,
                       f"{keras.__name__} {keras.__version__} loads it compiled and predicts what ModelPort predicts: max diff {d:.2e} (<= 1e-5)"))
    saved = saved_optimizer_variables(item["file"])
    opt = model.optimizer
    variables = opt.variables() if callable(opt.variables) else opt.variables
    restored = [np.asarray(v.numpy()) for v in variables]
    same = len(restored) == len(saved) and all(np.array_equal(a, b) for a, b in zip(restored, saved))
    iterations = int(opt.iterations.numpy())
    results.append(log(same and iterations == int(saved[0]) and iterations > 0, name,
                       f"{type(opt).__name__} restored at step {iterations} with all {len(saved)} saved variables bit-identical"))
    # One more step from that state: Adam's first moment must become beta_1*m + (1-beta_1)*g.
    xb, yb = x[:32], labels[:32].astype(np.int64)
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        loss = loss_fn(tf.constant(yb), model(xb, training=True))
    grads = [g.numpy() for g in tape.gradient(loss, model.trainable_variables)]
    before = [m.numpy() for m in opt._momentums]
    model.train_on_batch(xb, yb)
    beta1 = float(opt.get_config()["beta_1"])
    worst = max(float(np.max(np.abs(m.numpy() - (beta1 * b + (1 - beta1) * g))))
                for m, b, g in zip(opt._momentums, before, grads))
    moved = len(before) == len(grads) and all(float(np.max(np.abs(b))) > 0 for b in before)
    results.append(log(worst <= 1e-6 and moved and int(opt.iterations.numpy()) == iterations + 1, name,
                       f"train_on_batch continues from the saved moments (step {iterations} -> {int(opt.iterations.numpy())}; "
                       f"first moments = beta_1*m_saved + (1-beta_1)*g within {worst:.1e})"))
    return results


# ---------------------------------------------------------------- checkers

def load_reference(path):
    import h5py
    with h5py.File(path, "r") as f:
        return f["inputs"][()], f["outputs"][()]


def max_diff(a, b):
    import numpy as np
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b))) if a.shape == b.shape else float("inf")


def compare_all(item, got, x, y):
    """Against Keras's reference and ModelPort's predictions of the same file."""
    import numpy as np
    ok = True
    d_ref = max_diff(got, y)
    ok &= d_ref <= TOLERANCE
    message = f"max |peer - reference| = {d_ref:.2e}"
    if "modelport" in item:
        with open(item["modelport"]) as f:
            mp = np.array(json.load(f), dtype=np.float32)
        d_mp = max_diff(got, mp)
        ok &= d_mp <= TOLERANCE
        message += f", max |peer - modelport| = {d_mp:.2e}"
    return ok, message


def weight_datasets(path):
    """Every weight in layer_names / weight_names order, as stored bytes."""
    import h5py
    import numpy as np

    def strings(obj, name):
        if name in obj.attrs:
            values = obj.attrs[name]
        else:
            values, k = [], 0
            while f"{name}{k}" in obj.attrs:
                values = list(values) + list(obj.attrs[f"{name}{k}"])
                k += 1
        return [v.decode() if isinstance(v, bytes) else str(v) for v in values]

    out = []
    with h5py.File(path, "r") as f:
        g = f["model_weights"]
        for layer in strings(g, "layer_names"):
            for w in strings(g[layer], "weight_names"):
                data = g[layer][w][()]
                out.append((layer, data.dtype.str, data.shape, np.ascontiguousarray(data).tobytes()))
    return out


def optimizer_state(path):
    import h5py
    import numpy as np
    with h5py.File(path, "r") as f:
        if "optimizer_weights" not in f:
            return None
        g = f["optimizer_weights"]
        names = [v.decode() if isinstance(v, bytes) else str(v) for v in g.attrs["weight_names"]]
        return [(n, np.asarray(g[n][()]).tobytes()) for n in names]


def application_objects(keras):
    """The layer classes keras.applications defines for its own networks: a legacy
    .h5 names them without a module, so Keras loads them -- its own saves included --
    only when told the classes, as a Keras user does with custom_objects."""
    import importlib
    package = "keras.src.applications" if keras.__name__ == "keras" else "tf_keras.src.applications"
    convnext = importlib.import_module(package + ".convnext")
    scale = importlib.import_module(package + ".inception_resnet_v2").CustomScaleLayer
    return {"LayerScale": convnext.LayerScale, "StochasticDepth": convnext.StochasticDepth,
            "CustomScaleLayer": scale, "Custom>CustomScaleLayer": scale}


def load(keras, path, **kwargs):
    return keras.models.load_model(path, custom_objects=application_objects(keras), **kwargs)


def trains_in_keras(model, x, y, name, keras):
    """A fine-tuned model written back by ModelPort compiles and takes a training step in
    this Keras: the loss is finite, trainable weights move, and the frozen layers'
    weights (the base's first layers, `layer.trainable = False`) do not."""
    import numpy as np

    def layers(m):
        for layer in m.layers:
            yield layer
            if hasattr(layer, "layers"):
                yield from layers(layer)

    frozen_layers = [l for l in layers(model) if not l.trainable and l.weights and not hasattr(l, "layers")]
    frozen = [w.numpy().copy() for l in frozen_layers for w in l.weights]
    trainable = [w.numpy().copy() for w in model.trainable_weights]
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    loss = float(np.asarray(model.train_on_batch(x, y)).reshape(-1)[0])
    moved = sum(int(not np.array_equal(a, w.numpy())) for a, w in zip(trainable, model.trainable_weights))
    kept = all(np.array_equal(a, w.numpy()) for a, w in zip(frozen, (w for l in frozen_layers for w in l.weights)))
    ok = bool(np.isfinite(loss)) and moved > 0 and kept and len(frozen_layers) > 0
    return log(ok, name, f"compiles and trains in {keras.__name__}: loss {loss:.4g}, {moved}/{len(trainable)} trainable "
                         f"weights moved, the {len(frozen_layers)} frozen layers' weights {'unchanged' if kept else 'CHANGED'}")


def check_keras(item, keras, generation):
    """Loads a written .h5 / .keras / .weights.h5 with this Keras and checks it."""
    x, y = load_reference(item["reference"])
    name = item["name"] + item["suffix"]
    results = []
    if item["suffix"] == ".weights.h5":
        # The weights alone, loaded into the architecture of the written .keras.
        base = item["file"][: -len(".weights.h5")]
        candidates = [base + ".keras", base + ".k3.h5"] + ([item["source"]] if item["writer"] == "keras3" else [])
        architecture = next((p for p in candidates if os.path.exists(p)), None)
        if architecture is None:
            return [log(True, name, "Keras 3 cannot describe this model (refused above), so only ModelPort's read-back verified it")]
        model = keras.models.clone_model(load(keras, architecture, compile=False))
        model.load_weights(item["file"])
    else:
        model = load(keras, item["file"], compile=False)
    got = model.predict(x, batch_size=len(x), verbose=0)
    ok, message = compare_all(item, got, x, y)
    results.append(log(ok, name, f"{keras.__name__} {keras.__version__} loads it; {message}"))
    if item.get("fine_tuning") and item["suffix"] != ".weights.h5":
        results.append(trains_in_keras(model, x, y, name, keras))
    same_generation = item["writer"] == generation and item["suffix"] in (".k3.h5", ".k2.h5")
    if same_generation:
        original = load(keras, item["source"], compile=False)
        d = max_diff(got, original.predict(x, batch_size=len(x), verbose=0))
        results.append(log(d <= SAME_GENERATION_TOLERANCE, name, f"predictions equal the original file's under {keras.__name__}: max diff {d:.2e} (<= 1e-6)"))
        same = weight_datasets(item["file"]) == weight_datasets(item["source"])
        results.append(log(same, name, "every weight bit-identical to the source (same layers, names order, dtype, shape, bytes)"))
        if item["optimizer"]:
            written, source = optimizer_state(item["file"]), optimizer_state(item["source"])
            results.append(log(written is not None and written == source, name,
                               f"optimizer state kept bit-identical ({len(source or [])} variables)"))
            compiled = load(keras, item["file"])  # compile=True restores the optimizer
            reference = load(keras, item["source"])
            a = [v.numpy() if hasattr(v, "numpy") else v for v in compiled.optimizer.variables]
            b = [v.numpy() if hasattr(v, "numpy") else v for v in reference.optimizer.variables]
            equal = len(a) == len(b) and len(a) > 0 and all(max_diff(p, q) == 0 for p, q in zip(a, b))
            results.append(log(equal, name, f"{keras.__name__} restores the same optimizer ({type(compiled.optimizer).__name__}, {len(a)} variables)"))
    return results


def check_onnx(item):
    import numpy as np
    import onnx
    import onnxruntime as ort
    x, y = load_reference(item["reference"])
    name = item["name"] + item["suffix"]
    proto = onnx.load(item["file"])
    try:
        onnx.checker.check_model(proto, full_check=True)
        checked = True
        detail = "passes onnx.checker full check"
    except Exception as e:  # noqa: BLE001 - report the checker's words
        checked, detail = False, f"onnx.checker: {e}"
    results = [log(checked, name, f"{detail} (opset {proto.opset_import[0].version}, IR {proto.ir_version})")]
    session = ort.InferenceSession(item["file"], providers=["CPUExecutionProvider"])
    got = session.run(None, {session.get_inputs()[0].name: x.astype(np.float32)})[0]
    ok, message = compare_all(item, got, x, y)
    results.append(log(ok, name, f"onnxruntime {ort.__version__}; {message}"))
    return results


def worker(kind, plan_path):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    with open(plan_path) as f:
        plan = json.load(f)
    results = []
    if kind == "keras3":
        import keras
        items = [i for i in plan if i["suffix"] in (".k3.h5", ".keras", ".weights.h5")]
        for item in items:
            try:
                if item.get("trained"):
                    results += check_continue_training(item, keras)
                    continue
                results += check_keras(item, keras, "keras3")
            except Exception as e:  # noqa: BLE001
                results.append(log(False, item["name"] + item["suffix"], f"keras could not load it: {type(e).__name__}: {str(e)[:400]}"))
    elif kind == "keras2":
        import tf_keras
        for item in [i for i in plan if i["suffix"] == ".k2.h5"]:
            try:
                if item.get("trained"):
                    results += check_continue_training(item, tf_keras)
                    continue
                results += check_keras(item, tf_keras, "keras2")
            except Exception as e:  # noqa: BLE001
                results.append(log(False, item["name"] + item["suffix"], f"tf_keras could not load it: {type(e).__name__}: {str(e)[:400]}"))
    else:
        for item in [i for i in plan if i["suffix"] == ".onnx"]:
            try:
                results += check_onnx(item)
            except Exception as e:  # noqa: BLE001
                results.append(log(False, item["name"] + item["suffix"], f"onnxruntime could not run it: {type(e).__name__}: {str(e)[:400]}"))
    print(f"RESULT {sum(results)} {len(results) - sum(results)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modelport", help="the modelport binary (default: $MODELPORT_BIN, else `swift build --show-bin-path`)")
    parser.add_argument("--keep", help="write the files into this directory and keep them")
    parser.add_argument("--only", help="only sources whose name contains this")
    parser.add_argument("--worker", choices=["keras3", "keras2", "onnx"], help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.plan)
        return
    binary = modelport_binary(args.modelport)
    if not os.path.exists(binary):
        sys.exit(f"interop_check: {binary} does not exist; build first (swift build)")
    with tempfile.TemporaryDirectory(prefix="modelport-interop-") as tmp:
        workdir = args.keep or tmp
        os.makedirs(workdir, exist_ok=True)
        plan, results = produce(binary, workdir, args.only)
        if not args.only or args.only in "swift_trained_mlp":
            trained, logged = produce_trained(binary, workdir)
            plan, results = plan + trained, results + logged
        passed, failed = sum(results), len(results) - sum(results)
        plan_path = os.path.join(workdir, "plan.json")
        with open(plan_path, "w") as f:
            json.dump(plan, f)
        # Keras 3 and tf-keras each in their own process, as they do not share one.
        for kind in ("keras3", "keras2", "onnx"):
            # A peer that never returns (tf-keras on a wrong node index did) is a failure, not a stuck CI.
            try:
                proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", kind, "--plan", plan_path],
                                      capture_output=True, text=True, timeout=WORKER_SECONDS)
            except subprocess.TimeoutExpired as e:
                out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
                print(out, end="", flush=True)
                failed += 1
                print(f"FAILED {kind} checker did not finish in {WORKER_SECONDS} s (the last line above is the last check it finished)")
                continue
            lines = proc.stdout.splitlines()
            for line in lines:
                if not line.startswith("RESULT "):
                    print(line, flush=True)
            summary = [l for l in lines if l.startswith("RESULT ")]
            if proc.returncode != 0 or not summary:
                failed += 1
                print(f"FAILED {kind} checker crashed (exit {proc.returncode}): {proc.stderr.strip()[-2000:]}")
                continue
            p, q = map(int, summary[-1].split()[1:])
            passed, failed = passed + p, failed + q
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
