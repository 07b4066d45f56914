#!/usr/bin/env python3
"""Every keras.applications family, made by Keras at test time (not committed).

Each network is built with `weights=None` (never downloaded), `include_top=False`,
`pooling="avg"` at a small input size, its BatchNorm statistics and ConvNeXt
LayerScale factors randomised (fresh ones are 0/1 and 1e-6, which would hide a
wrong branch), and saved by Keras 3 as `<stem>.h5` and `<stem>.keras` and,
where tf-keras has the family, by tf-keras as `<stem>_keras2.h5`; with
`<stem>[_keras2].reference.h5` holding `inputs` and Keras's `outputs` for them
(the model Keras built, predicting in float32) and `manifest.json`.

The default set is one network per family and variant the code paths differ
in; `--all` adds the deeper or wider variants built by the same Keras code
(ResNet101/152 and V2, NASNetLarge, VGG19, EfficientNetB1-B7, ConvNeXtSmall),
which are large (hundreds of MB each) and slow to make.

Usage (repo root):
  .venv/bin/python tools/make_family_fixtures.py [--out DIR] [--models A,B] [--all]
Default --out: .build/fixtures/families (git-ignored; tools/test.sh makes it).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from keras_fixture_support import (SEED, import_keras, randomise, run_writers, save_model_files,  # noqa: E402
                                   trainable_parameters, write_manifest, write_reference)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO, ".build", "fixtures", "families")
SAMPLES = 2  # the families are large: two samples each

def resample_block(keras, weights, include_top, pooling, input_shape):
    """Not a family: the layers those families and their users' heads use that
    the families above leave out or only touch at size 1 -- list-valued
    Normalization, Conv2D(groups=channels) and groups=2, a broadcasting squeeze-and-excitation
    Multiply, bilinear UpSampling2D (factors 2 and 3x2), UnitNormalization --
    with every output element compared (no pooling at the end)."""
    L = keras.layers
    inp = keras.Input(input_shape)
    x = L.Normalization(mean=[120.0, 110.0, 100.0], variance=[3000.0, 3200.0, 3100.0], name="norm")(inp)
    x = L.Conv2D(6, 3, padding="same", name="conv")(x)
    x = L.Conv2D(6, 3, padding="same", groups=6, name="grouped")(x)
    x = L.Conv2D(6, 3, padding="same", groups=2, name="grouped_2")(x)
    se = L.GlobalAveragePooling2D(keepdims=True, name="squeeze")(x)
    se = L.Conv2D(6, 1, activation="sigmoid", name="excite_gate")(se)
    x = L.Multiply(name="excite")([x, se])
    x = L.UpSampling2D(2, interpolation="bilinear", name="up2")(x)
    x = L.UpSampling2D((3, 2), interpolation="bilinear", name="up32")(x)
    x = L.UnitNormalization(name="unit_norm")(x)
    return keras.Model(inp, L.Flatten(name="flat")(x), name="resample_block")


def application_layers_block(keras, weights, include_top, pooling, input_shape):
    """Not a family: the layers keras.applications defines for its own networks,
    in the settings a fine-tuning user meets -- ConvNeXt's StochasticDepth with a
    non-zero drop_path_rate (built with drop_path_rate=0 the family uses a linear
    Activation instead), its LayerScale, InceptionResNetV2's CustomScaleLayer."""
    import importlib
    package = "keras.src.applications" if keras.__name__ == "keras" else "tf_keras.src.applications"
    convnext = importlib.import_module(package + ".convnext")
    inception_resnet = importlib.import_module(package + ".inception_resnet_v2")
    L = keras.layers
    inp = keras.Input(input_shape)
    x = L.Rescaling(1 / 255, name="unit_range")(inp)
    x = L.Conv2D(8, 3, padding="same", name="stem")(x)
    branch = L.Conv2D(8, 3, padding="same", activation="relu", name="branch")(x)
    branch = convnext.LayerScale(0.5, 8, name="layer_scale")(branch)
    branch = convnext.StochasticDepth(0.2, name="stochastic_depth")(branch)
    x = L.Add(name="residual")([x, branch])
    up = L.Conv2D(8, 1, name="up")(x)
    x = inception_resnet.CustomScaleLayer(0.17, name="custom_scale")([x, up])
    return keras.Model(inp, L.Flatten(name="flat")(x), name="application_layers_block")


# name -> (input size, extra constructor arguments; "build" replaces keras.applications.<name>)
DEFAULT = {
    "ResampleBlock": (8, dict(build=resample_block)),
    "ApplicationLayersBlock": (6, dict(build=application_layers_block)),
    "MobileNet": (32, dict(alpha=0.25)),
    "MobileNetV2": (32, dict(alpha=0.35)),
    "MobileNetV3Small": (32, dict(alpha=0.75)),
    "MobileNetV3Large": (32, dict(alpha=0.75)),
    "EfficientNetB0": (32, {}),
    "EfficientNetV2B0": (32, {}),
    "ResNet50": (32, {}),
    "ResNet50V2": (32, {}),
    "ResNetRS50": (32, {}),
    "RegNetX002": (32, {}),
    "RegNetY002": (32, {}),
    "DenseNet121": (32, {}),
    "InceptionV3": (75, {}),
    "InceptionResNetV2": (75, {}),
    "Xception": (71, {}),
    "NASNetMobile": (32, {}),
    "VGG16": (32, {}),
    "ConvNeXtTiny": (32, {}),
}
LARGE = {
    "ResNet101": (32, {}), "ResNet152": (32, {}), "ResNet101V2": (32, {}), "ResNet152V2": (32, {}),
    "NASNetLarge": (32, {}), "VGG19": (32, {}), "ConvNeXtSmall": (32, {}),
    **{f"EfficientNetB{k}": (32, {}) for k in range(1, 8)},
}


def run_writer(writer, out, names, table):
    import numpy as np
    keras, legacy, suffix = import_keras(writer)
    manifest = {}
    for name in names:
        size, extra = table[name]
        extra = dict(extra)
        custom = extra.pop("build", None)
        build = (lambda **kw: custom(keras, **kw)) if custom else getattr(keras.applications, name, None)
        if build is None:
            print(f"[{writer}] {name}: not in this Keras generation", flush=True)
            continue
        keras.utils.set_random_seed(SEED)
        rng = np.random.default_rng(SEED)
        model = build(weights=None, include_top=False, pooling="avg", input_shape=(size, size, 3), **extra)
        randomise(model, rng)
        # Pixel values, as the families' own preprocessing expects.
        x = (rng.uniform(0, 255, (SAMPLES, size, size, 3))).astype("float32")
        y = model.predict(x, verbose=0)
        if not np.all(np.isfinite(y)):
            raise RuntimeError(f"{name} ({writer}): Keras's outputs are not finite")
        stem = name + suffix
        files = save_model_files(model, out, stem, legacy)
        write_reference(out, stem, x, y, keras, "tools/make_family_fixtures.py")
        # The small block is also converted by tools/interop_check.py (the families are too large for that).
        manifest[stem] = dict(writer=writer, keras_version=keras.__version__, files=files, family=name,
                              parameters=int(model.count_params()), trainable_parameters=trainable_parameters(model),
                              interop=custom is not None)
        print(f"[{writer}] {stem}: {model.count_params()} parameters", flush=True)
        del model
        keras.backend.clear_session()
    write_manifest(out, writer, manifest)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=DEFAULT_OUT)
    p.add_argument("--models", help="comma-separated names (default: the default set)")
    p.add_argument("--all", action="store_true", help="add the large variants")
    p.add_argument("--large", action="store_true", help="only the large variants (tools/validate_fixture_set.py checks them)")
    p.add_argument("--writer", help=argparse.SUPPRESS)
    args = p.parse_args()
    table = {**DEFAULT, **LARGE}
    names = (args.models.split(",") if args.models else list(LARGE) if args.large
             else list(DEFAULT) + (list(LARGE) if args.all else []))
    unknown = [n for n in names if n not in table]
    if unknown:
        p.error(f"unknown model(s) {unknown}; known: {', '.join(table)}")
    os.makedirs(args.out, exist_ok=True)
    if args.writer:
        run_writer(args.writer, args.out, names, table)
        return
    manifest = run_writers(__file__, args.out, ["--models", ",".join(names)])
    print(f"family fixtures: {len(manifest)} models in {args.out}")


if __name__ == "__main__":
    main()
