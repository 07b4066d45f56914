"""What the scripts that make real-world Keras fixtures share
(tools/make_application_fixtures.py, tools/make_family_fixtures.py): one Keras
generation per process, randomised BatchNorm statistics, the model files in
every layout that generation writes, the reference file and the manifest."""
import json
import os
import subprocess
import sys

SAMPLES = 4
SEED = 20261207
WRITERS = ("keras3", "keras2")


def import_keras(writer):
    """(keras module, legacy?, file-name suffix) of one generation."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if writer == "keras3":
        import keras
        return keras, False, ""
    import tf_keras as keras
    return keras, True, "_keras2"


def iter_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from iter_layers(layer)


def randomise(model, rng):
    """Non-trivial BatchNormalization statistics and affine weights (fresh ones are
    0/1), and LayerScale factors."""
    for layer in iter_layers(model):
        kind = layer.__class__.__name__
        if kind == "BatchNormalization":
            values = []
            for w in layer.weights:
                n = w.name.split("/")[-1].split(":")[0]
                shape = tuple(w.shape)
                if n == "moving_variance":
                    values.append(rng.uniform(0.5, 1.5, shape).astype("float32"))
                elif n == "gamma":
                    values.append(rng.uniform(0.7, 1.3, shape).astype("float32"))
                else:
                    values.append(rng.normal(0, 0.1, shape).astype("float32"))
            layer.set_weights(values)
        elif kind == "LayerScale":
            layer.set_weights([rng.uniform(0.5, 1.5, tuple(w.shape)).astype("float32") for w in layer.weights])


def write_h5(path, datasets, attrs):
    import h5py
    import numpy as np
    tmp = path + ".tmp"
    with h5py.File(tmp, "w") as f:
        for key, value in datasets.items():
            f.create_dataset(key, data=np.asarray(value))
        for k, v in attrs.items():
            f.attrs[k] = v
    os.replace(tmp, path)


def save_model_files(model, out, stem, legacy):
    """The model as .h5 and (Keras 3) .keras, each written then renamed; the file names."""
    files = [stem + ".h5"]
    path = os.path.join(out, stem + ".h5")
    model.save(path + ".tmp.h5")
    os.replace(path + ".tmp.h5", path)
    if not legacy:
        kpath = os.path.join(out, stem + ".keras")
        model.save(kpath + ".tmp.keras")
        os.replace(kpath + ".tmp.keras", kpath)
        files.append(stem + ".keras")
    return files


def write_reference(out, stem, x, y, keras, generator):
    write_h5(os.path.join(out, stem + ".reference.h5"), {"inputs": x, "outputs": y},
             {"model": stem + ".h5", "keras_version": keras.__version__, "generator": generator})


def trainable_parameters(model):
    import numpy as np
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))


def write_manifest(out, writer, manifest):
    with open(os.path.join(out, f"manifest.{writer}.json"), "w") as f:
        json.dump(manifest, f, indent=2)


def run_writers(script, out, arguments):
    """Runs `script --writer W` for each generation in its own process (Keras 3 and
    tf-keras cannot share one) and merges their manifests into manifest.json."""
    for writer in WRITERS:
        subprocess.run([sys.executable, os.path.abspath(script), "--out", out] + arguments + ["--writer", writer], check=True)
    manifest = {}
    for writer in WRITERS:
        with open(os.path.join(out, f"manifest.{writer}.json")) as f:
            manifest.update(json.load(f))
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
    return manifest
