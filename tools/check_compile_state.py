#!/usr/bin/env python3
"""`modelport convert` keeps what Keras keeps: compiled models continue training.

Keras 3 and tf-keras compile and train small CNNs (with BatchNormalization)
under several optimizers and losses and save them in every layout they write
(.keras, Keras 3 .h5, tf-keras .h5). Each source is converted by ModelPort to
every Keras layout; then the Keras that reads the target layout loads the
converted file *compiled* and takes one `train_on_batch` step on a fixed
batch. That step must give what the source's own Keras gives from the
source file (weights within 1e-5, same loss, same step count): the optimizer
class, its hyperparameters and its moments were all carried. As a control,
the same step from a freshly compiled optimizer must differ by far more than
the tolerance (so the check would notice lost state), and `--model-only`
must load uncompiled.

Usage (repo root, after tools/setup.sh):
  .venv/bin/python tools/check_compile_state.py --modelport .build/debug/modelport
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

TOLERANCE = 1e-5
# name -> (Keras generation, optimizer, loss) of the sources.
SOURCES = {
    "adam_k3": ("keras3", "Adam(learning_rate=0.01)", "categorical_crossentropy"),
    "adam_string_k3": ("keras3", "'adam'", "categorical_crossentropy"),
    "rmsprop_logits_k3": ("keras3", "RMSprop(learning_rate=0.005, momentum=0.5)", "logits"),
    "sgd_k3": ("keras3", "SGD(learning_rate=0.05, momentum=0.9, nesterov=True)", "categorical_crossentropy"),
    "adam_k2": ("keras2", "Adam(learning_rate=0.01, amsgrad=True)", "categorical_crossentropy"),
    "sgd_logits_k2": ("keras2", "SGD(learning_rate=0.05, momentum=0.9)", "logits"),
}
# Layouts each generation writes, and which Keras reads each target.
WRITES = {"keras3": [".keras", ".k3.h5"], "keras2": [".k2.h5"]}
READER = {".keras": "keras3", ".k3.h5": "keras3", ".k2.h5": "keras2"}


def import_keras(generation):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if generation == "keras2":
        import tf_keras as keras
    else:
        import keras
    return keras


def batch():
    import numpy as np
    rng = np.random.default_rng(7)
    x = rng.random((32, 10, 10, 1)).astype("float32")
    y = np.eye(4, dtype="float32")[rng.integers(0, 4, 32)]
    return x, y


def continue_one_step(keras, model, x, y):
    """One train_on_batch step; the weights after it and the loss."""
    loss = model.train_on_batch(x, y)
    loss = float(loss[0] if isinstance(loss, (list, tuple)) else loss)
    return [w.copy() for w in model.get_weights()], loss


def iterations(model):
    return int(model.optimizer.iterations.numpy())


def make(generation, workdir):
    """Compiles, trains and saves each source of this generation, and records the
    step its own Keras takes next from the saved file."""
    import numpy as np
    keras = import_keras(generation)
    keras.utils.set_random_seed(3)
    x, y = batch()
    made = {}
    for name, (gen, optimizer, loss) in SOURCES.items():
        if gen != generation:
            continue
        logits = loss == "logits"
        # No bias before BatchNormalization: its gradient is float noise, which Adam would scale up to the
        # learning rate, so two correct implementations would disagree on it.
        model = keras.Sequential([
            keras.Input((10, 10, 1)), keras.layers.Conv2D(6, 3, use_bias=False, name="conv"), keras.layers.BatchNormalization(name="bn"),
            keras.layers.Activation("relu"), keras.layers.Flatten(),
            keras.layers.Dense(4, activation=None if logits else "softmax", name="head")])
        opt = eval("keras.optimizers." + optimizer) if not optimizer.startswith("'") else optimizer.strip("'")
        model.compile(optimizer=opt, loss=keras.losses.CategoricalCrossentropy(from_logits=True) if logits else loss,
                      metrics=["accuracy"])
        model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
        # Keras 3 saves the .keras first: saving a legacy .h5 removes the optimizer from the model's compile config.
        for suffix in WRITES[generation]:
            model.save(_keras_path(os.path.join(workdir, name + suffix)))
        # The next step as the source's Keras takes it. Keras 3 cannot continue from a legacy .h5 at all, not
        # even its own (its loader builds the optimizer without the model's variables: "Unknown variable"),
        # so its .h5 sources are held to the step it takes from the .keras saved at the same moment.
        first = os.path.join(workdir, name + WRITES[generation][0])
        loaded = keras.models.load_model(_keras_path(first))
        step = iterations(loaded)
        weights, value = continue_one_step(keras, loaded, x, y)
        np.savez(first + ".next.npz", *weights)
        for suffix in WRITES[generation]:
            made[name + suffix] = {"iterations": step, "loss": value, "optimizer": type(loaded.optimizer).__name__,
                                   "optimizer_config": _plain_config(loaded.optimizer.get_config()),
                                   "source_next": first + ".next.npz",
                                   "twin_h5": os.path.join(workdir, name + ".h5") if generation == "keras3" else None}
    with open(os.path.join(workdir, f"made_{generation}.json"), "w") as f:
        json.dump(made, f)


def _plain_config(config):
    """An optimizer's hyperparameters that both generations spell alike."""
    keys = ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad", "momentum", "nesterov", "rho", "centered")
    def plain(v):
        return v if isinstance(v, (bool, str)) or v is None else round(float(v), 7)
    return {k: plain(v) for k, v in config.items() if k in keys}


def saved_optimizer_variables(path):
    """(name, values) of a legacy .h5's /optimizer_weights, in stored order."""
    import h5py
    import numpy as np
    with h5py.File(path, "r") as f:
        g = f["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else str(n) for n in g.attrs["weight_names"]]
        return [(n, np.asarray(g[n][()])) for n in names]


def _keras_path(path):
    """Keras picks the format by extension: name the .h5 layouts plainly."""
    return path[:-6] + ".h5" if path.endswith((".k3.h5", ".k2.h5")) else path


def check(generation, workdir, plan_path):
    import numpy as np
    keras = import_keras(generation)
    x, y = batch()
    with open(plan_path) as f:
        plan = json.load(f)
    results = []
    for item in plan:
        if READER[item["target_suffix"]] != generation:
            continue
        label = f"{item['source']} -> {os.path.basename(item['target'])}"
        try:
            if item["model_only"]:
                model = keras.models.load_model(item["target"])
                compiled = getattr(model, "optimizer", None) is not None and getattr(model, "compiled", True)
                results.append((not compiled, label, "--model-only: Keras loads it uncompiled" if not compiled
                                else f"--model-only: Keras loaded it compiled with {type(model.optimizer).__name__}"))
                continue
            if item["target_suffix"] == ".k3.h5":
                results.append(check_keras3_h5(keras, item, label))
                continue
            expected_data = np.load(item["source_next"])
            expected = [expected_data[f"arr_{i}"] for i in range(len(expected_data.files))]
            model = keras.models.load_model(item["target"])
            optimizer = type(model.optimizer).__name__ if getattr(model, "optimizer", None) is not None else None
            step = iterations(model) if optimizer else -1
            weights, value = continue_one_step(keras, model, x, y)
            worst = max(float(np.max(np.abs(a - b))) for a, b in zip(weights, expected)) if len(weights) == len(expected) else float("inf")
            ok = (optimizer == item["optimizer"] and step == item["iterations"] and worst <= TOLERANCE
                  and abs(value - item["loss"]) <= 1e-4 * max(1.0, abs(item["loss"])))
            # Control: the same step from a fresh optimizer must be visibly different.
            fresh = keras.models.load_model(item["target"], compile=False)
            fresh.compile(optimizer=keras.optimizers.get({"class_name": model.optimizer.__class__.__name__,
                                                          "config": model.optimizer.get_config()}),
                          loss=model.loss, metrics=["accuracy"])
            fresh_weights, _ = continue_one_step(keras, fresh, x, y)
            control = max(float(np.max(np.abs(a - b))) for a, b in zip(fresh_weights, expected))
            ok = ok and control > 100 * TOLERANCE
            results.append((ok, label,
                            f"{keras.__name__} loads it compiled ({optimizer} at step {step}, source {item['optimizer']} at {item['iterations']}); "
                            f"one more step matches the source's within {worst:.1e} (loss {value:.6f} vs {item['loss']:.6f}); "
                            f"a fresh optimizer would differ by {control:.1e}"))
        except Exception as e:  # noqa: BLE001
            results.append((False, label, f"{keras.__name__} failed: {type(e).__name__}: {str(e)[:400]}"))
    for ok, label, message in results:
        print(("ok     " if ok else "FAILED ") + label + ": " + message)
    print(f"RESULT {sum(1 for r in results if r[0])} {sum(1 for r in results if not r[0])}")


def check_keras3_h5(keras, item, label):
    """A Keras 3 legacy .h5 cannot continue training in Keras 3 (see `make`): Keras 3 must load it compiled with
    the source's optimizer and settings, and its optimizer variables must be those Keras 3 itself writes for
    the same model, name by name and value by value (when Keras 3 wrote the source). The variables are also
    proved by converting the file on to .keras and continuing there (a separate plan entry)."""
    import numpy as np
    model = keras.models.load_model(item["target"])
    optimizer = type(model.optimizer).__name__ if getattr(model, "optimizer", None) is not None else None
    config = _plain_config(model.optimizer.get_config()) if optimizer else None
    ok = optimizer == item["optimizer"] and config == item["optimizer_config"]
    message = f"Keras 3 loads it compiled ({optimizer}, {config})"
    ours = saved_optimizer_variables(item["target"])
    if item.get("twin_h5"):
        theirs = saved_optimizer_variables(item["twin_h5"])
        same_names = [n for n, _ in ours] == [n for n, _ in theirs]
        worst = max((float(np.max(np.abs(a.astype("float64") - b.astype("float64")))) for (_, a), (_, b) in zip(ours, theirs)),
                    default=float("inf")) if len(ours) == len(theirs) else float("inf")
        ok = ok and same_names and worst <= 1e-7
        message += (f"; its {len(ours)} optimizer variables are named as Keras 3's own .h5 of the source names them"
                    f" ({'same' if same_names else 'DIFFERENT'} names, values within {worst:.1e})")
    else:
        message += f"; {len(ours)} optimizer variables (checked by continuing after converting on to .keras)"
    return ok, label, message


def run_worker(mode, generation, workdir, plan=None):
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", mode, "--generation", generation, "--workdir", workdir]
    if plan:
        cmd += ["--plan", plan]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{mode} worker ({generation}) failed:\n{proc.stderr[-3000:]}")
    return proc.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modelport", default=os.environ.get("MODELPORT_BIN"), help="the modelport binary")
    parser.add_argument("--keep", help="work in this directory and keep the files")
    parser.add_argument("--worker", choices=["make", "check"], help=argparse.SUPPRESS)
    parser.add_argument("--generation", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "make":
        return make(args.generation, args.workdir)
    if args.worker == "check":
        return check(args.generation, args.workdir, args.plan)
    if not args.modelport:
        raise SystemExit("give --modelport (or MODELPORT_BIN)")

    workdir = args.keep or tempfile.mkdtemp(prefix="modelport-compile-state-")
    os.makedirs(workdir, exist_ok=True)
    for generation in ("keras3", "keras2"):
        run_worker("make", generation, workdir)
    made = {}
    for generation in ("keras3", "keras2"):
        with open(os.path.join(workdir, f"made_{generation}.json")) as f:
            made.update(json.load(f))

    plan, failures = [], 0
    for source, facts in sorted(made.items()):
        source_path = _keras_path(os.path.join(workdir, source))
        for target_suffix, extra in ((".keras", []), (".k3.h5", ["--keras-version", "3"]), (".k2.h5", ["--keras-version", "2"])):
            for model_only in (False, True):
                if model_only and target_suffix != ".k2.h5" and not source.endswith(".keras"):
                    continue  # --model-only: one target per source is enough
                stem = source.replace(".", "_") + "_to" + ("_model_only" if model_only else "")
                target = os.path.join(workdir, stem + target_suffix.replace(".k3.h5", "_k3.h5").replace(".k2.h5", "_k2.h5"))
                cmd = [args.modelport, "convert", source_path, target] + extra + (["--model-only"] if model_only else [])
                proc = subprocess.run(cmd, capture_output=True, text=True)
                if proc.returncode != 0:
                    failures += 1
                    print(f"FAILED {source} -> {os.path.basename(target)}: modelport convert failed: {(proc.stderr or proc.stdout).strip()[-400:]}")
                    continue
                written = proc.stdout.splitlines()[0] if proc.stdout else ""
                if not model_only and "compiled (" not in written:
                    failures += 1
                    print(f"FAILED {source} -> {os.path.basename(target)}: modelport did not say it kept the compile state: {written}")
                    continue
                plan.append({"source": source, "target": target, "target_suffix": target_suffix, "model_only": model_only, **facts})
                if target_suffix == ".k3.h5" and not model_only:
                    # On to .keras, where Keras 3 can continue: proves the .h5 held the state.
                    again = target[:-3] + "_again.keras"
                    proc = subprocess.run([args.modelport, "convert", target, again], capture_output=True, text=True)
                    if proc.returncode != 0:
                        failures += 1
                        print(f"FAILED {os.path.basename(target)} -> .keras: {(proc.stderr or proc.stdout).strip()[-400:]}")
                        continue
                    plan.append({"source": source + " -> _k3.h5", "target": again, "target_suffix": ".keras",
                                 "model_only": False, **facts})
    plan_path = os.path.join(workdir, "plan.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    passed = 0
    for generation in ("keras3", "keras2"):
        out = run_worker("check", generation, workdir, plan_path)
        for line in out.splitlines():
            if line.startswith("RESULT "):
                good, bad = map(int, line.split()[1:])
                passed += good
                failures += bad
            else:
                print(line)
    print(f"compile state carried by convert: {passed} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main() or 0)
