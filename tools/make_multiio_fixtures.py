#!/usr/bin/env python3
"""Small Keras models with several inputs or several outputs, and their reference files.

Made by Keras 3 (`<stem>.h5`, `<stem>.keras`) and by tf-keras (Keras 2,
`<stem>_keras2.h5`), with fixed seeds and untrained (initialised) weights,
into fixtures/multiio/:

  two_inputs   inputs 'image' (8x8x1) and 'features' (5): a Conv2D branch and a
               Dense branch concatenated, one softmax output 'class' (3)
  two_heads    one input 'features' (6), a shared Dense trunk and two heads:
               'class' (softmax, 4) and 'value' (linear, 1)

Each `<stem>.reference.h5` holds Keras's predictions for SAMPLES random
inputs, written with the named datasets of the multi-input/output reference
format (README, "Several inputs or outputs"): `inputs/<name>` for each of
`[t.name for t in model.inputs]` and `outputs/<name>` for each of
`model.output_names` — except that a side with a single tensor is the plain
`inputs` / `outputs` dataset in two_inputs (its one output), to cover files
mixing both forms; two_heads names its one input (`inputs/features`).

two_inputs's reference also holds `layers/<layer name>`: every layer's
output for the first LAYER_SAMPLES samples (`validate --layers`).

`two_heads_wrong.h5` is two_heads (Keras 3) with one kernel element of the
'value' head changed by WRONG_DELTA: validating it against two_heads's
reference must fail on 'value' and pass on 'class'.

`--check` reloads every committed model with the Keras generation that wrote
it and requires its predictions to match the committed reference outputs
(within 1e-6), and the wrong-weight model to differ: the references are
Keras's own numbers for these files.

Usage (repo root): TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python tools/make_multiio_fixtures.py [--check]
"""
import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "fixtures", "multiio")
SAMPLES = 16
SEED = 4321
WRONG_DELTA = 0.05
LAYER_SAMPLES = 4
MODELS = ["two_inputs", "two_heads"]


def build(keras, name):
    L = keras.layers
    if name == "two_inputs":
        image = keras.Input((8, 8, 1), name="image")
        features = keras.Input((5,), name="features")
        x = L.Conv2D(4, 3, activation="relu", name="conv")(image)
        x = L.GlobalAveragePooling2D(name="gap")(x)
        y = L.Dense(4, activation="tanh", name="embed")(features)
        z = L.Concatenate(name="concat")([x, y])
        out = L.Dense(3, activation="softmax", name="class")(z)
        return keras.Model([image, features], out, name=name)
    if name == "two_heads":
        features = keras.Input((6,), name="features")
        trunk = L.Dense(8, activation="relu", name="trunk")(features)
        cls = L.Dense(4, activation="softmax", name="class")(trunk)
        value = L.Dense(1, name="value")(trunk)
        return keras.Model(features, [cls, value], name=name)
    raise ValueError(name)


def input_names(model):
    return [t.name for t in model.inputs] if not hasattr(model, "input_names") else list(model.input_names)


def sample_inputs(model, np):
    rng = np.random.default_rng(SEED)
    return {n: rng.uniform(0, 1, (SAMPLES,) + tuple(t.shape[1:])).astype("float32")
            for n, t in zip(input_names(model), model.inputs)}


def predict(model, inputs):
    names = input_names(model)
    # One input as the array itself: Keras 3 warns about a dict for a single input.
    feed = inputs[names[0]] if len(names) == 1 else {n: inputs[n] for n in names}
    out = model.predict(feed, batch_size=SAMPLES, verbose=0)
    outs = out if isinstance(out, list) else [out]
    return dict(zip(list(model.output_names), outs))


def layer_outputs(keras, model, inputs):
    """Every non-input layer's output for the first LAYER_SAMPLES samples, by layer name."""
    layers = [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)]
    probe = keras.Model(model.inputs, [l.output for l in layers])
    names = input_names(model)
    outs = probe.predict([inputs[n][:LAYER_SAMPLES] for n in names], verbose=0)
    return {l.name: o for l, o in zip(layers, outs)}


def write_reference(path, inputs, outputs, h5py, layers=None):
    with h5py.File(path, "w") as f:
        for name, value in (layers or {}).items():
            f.create_dataset(f"layers/{name}", data=value)
        for group, tensors in (("inputs", inputs), ("outputs", outputs)):
            # two_inputs's one output: the plain dataset, as a single-output file has it.
            if group == "outputs" and len(tensors) == 1:
                f.create_dataset("outputs", data=next(iter(tensors.values())))
                continue
            for name, value in tensors.items():
                f.create_dataset(f"{group}/{name}", data=value)


def read_reference(path, h5py):
    def side(f, group):
        node = f[group]
        return {None: node[()]} if isinstance(node, h5py.Dataset) else {k: node[k][()] for k in node}
    with h5py.File(path, "r") as f:
        return side(f, "inputs"), side(f, "outputs")


def make(writer):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import h5py
    import numpy as np
    if writer == "keras3":
        import keras
    else:
        import tf_keras as keras
    suffix = "" if writer == "keras3" else "_keras2"
    manifest = {}
    for name in MODELS:
        keras.utils.set_random_seed(SEED)
        model = build(keras, name)
        stem = name + suffix
        files = [stem + ".h5"] + ([stem + ".keras"] if writer == "keras3" else [])
        for file in files:
            model.save(os.path.join(OUT, file))
        inputs = sample_inputs(model, np)
        layers = layer_outputs(keras, model, inputs) if name == "two_inputs" else None
        write_reference(os.path.join(OUT, stem + ".reference.h5"), inputs, predict(model, inputs), h5py, layers)
        manifest[stem] = {"writer": writer, "keras_version": keras.__version__, "files": files,
                          "inputs": input_names(model), "outputs": list(model.output_names), "samples": SAMPLES}
        if name == "two_heads" and writer == "keras3":
            kernel, bias = model.get_layer("value").get_weights()
            kernel[0, 0] += WRONG_DELTA
            model.get_layer("value").set_weights([kernel, bias])
            model.save(os.path.join(OUT, "two_heads_wrong.h5"))
            manifest["two_heads_wrong"] = {"writer": writer, "keras_version": keras.__version__,
                                           "files": ["two_heads_wrong.h5"], "wrong_weight_of": "two_heads",
                                           "change": f"value kernel[0, 0] + {WRONG_DELTA}"}
    print(json.dumps(manifest))


def check(writer):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import h5py
    import numpy as np
    if writer == "keras3":
        import keras
    else:
        import tf_keras as keras
    with open(os.path.join(OUT, "manifest.json")) as f:
        manifest = json.load(f)
    failed = 0
    for stem, entry in sorted(manifest.items()):
        if entry["writer"] != writer:
            continue
        reference_stem = entry.get("wrong_weight_of", stem)
        inputs, outputs = read_reference(os.path.join(OUT, reference_stem + ".reference.h5"), h5py)
        for file in entry["files"]:
            model = keras.models.load_model(os.path.join(OUT, file), compile=False)
            names = input_names(model)
            feed = inputs if None not in inputs else {names[0]: inputs[None]}
            got = predict(model, feed)
            expected = outputs if None not in outputs else {model.output_names[0]: outputs[None]}
            diff = max(float(np.max(np.abs(got[k] - expected[k]))) if got[k].shape == expected[k].shape else float("inf")
                       for k in expected)
            ok = diff > 1e-3 if "wrong_weight_of" in entry else diff <= 1e-6
            print(f"{'ok     ' if ok else 'FAILED '} {file}: {writer} {keras.__version__}, max diff {diff:g} "
                  + ("(must differ)" if "wrong_weight_of" in entry else "(must match)"))
            failed += 0 if ok else 1
    return failed


def main():
    if len(sys.argv) > 2 and sys.argv[1] in ("--make-writer", "--check-writer"):
        if sys.argv[1] == "--make-writer":
            make(sys.argv[2])
            return
        sys.exit(min(check(sys.argv[2]), 100))
    writers = ["keras3", "keras2"]
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        failures = sum(subprocess.run([sys.executable, os.path.abspath(__file__), "--check-writer", w]).returncode
                       for w in writers)
        print(f"multiio fixture check: {'passed' if failures == 0 else f'{failures} failed'}")
        sys.exit(1 if failures else 0)
    os.makedirs(OUT, exist_ok=True)
    manifest = {}
    for w in writers:
        # Each generation in its own process: Keras 3 and tf-keras do not share one.
        run = subprocess.run([sys.executable, os.path.abspath(__file__), "--make-writer", w],
                             check=True, capture_output=True, text=True)
        manifest.update(json.loads(run.stdout.strip().splitlines()[-1]))
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    print(f"wrote {len(manifest)} models to {os.path.relpath(OUT, REPO)}")


if __name__ == "__main__":
    main()
