#!/usr/bin/env python3
"""Write the bad-input corpus: hostile and broken files of every format ModelPort reads.

Every case is made from the committed fixtures with the real tools (h5py, the onnx
helper API, Python's zipfile, Pillow), written into Tests/BadInputs/generated/
(git-ignored), together with cases.json: for each case the `modelport` arguments and
what a good answer looks like (exit status, words the message must contain, files
that must survive). tools/badinputs/check.py runs them.

Everything is made afresh on every run: FIFOs, symlinks, the sparse 6 GB IDX file and
the data-loss cases' directories cannot be committed, and a case that deletes or
overwrites its files (the bugs the data-loss cases catch) must not spoil the next run.
Only inputs found by search (the libhdf5-crashing mutants in Tests/BadInputs/committed/,
see find_hdf5_crashes.py) are committed.

Usage: .venv/bin/python tools/badinputs/make_corpus.py [--out DIR]
"""
import argparse
import gzip
import io
import json
import os
import shutil
import struct
import warnings
import zipfile
import zlib

import h5py
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(REPO, "fixtures")
COMMITTED = os.path.join(REPO, "Tests", "BadInputs", "committed")
DEFAULT_OUT = os.path.join(REPO, "Tests", "BadInputs", "generated")

MODEL_K3 = os.path.join(FIXTURES, "mnist_digit_model.h5")
MODEL_K2 = os.path.join(FIXTURES, "mnist_digit_model_keras2.h5")
REFERENCE = os.path.join(FIXTURES, "mnist_digit_model.reference.h5")
MLP_K3 = os.path.join(FIXTURES, "mnist_mlp.h5")
MLP_REFERENCE = os.path.join(FIXTURES, "mnist_mlp.reference.h5")
CONV_PAIR = os.path.join(FIXTURES, "mnist_conv_pair.h5")
KERAS_ARCHIVE = os.path.join(FIXTURES, "coverage", "cov_dense.keras")
KERAS_REFERENCE = os.path.join(FIXTURES, "coverage", "cov_dense.reference.h5")
ONNX_DIGITS = os.path.join(FIXTURES, "onnx", "mnist_digit_model.tf2onnx.onnx")
ONNX_MLP = os.path.join(FIXTURES, "onnx", "mnist_mlp.tf2onnx.onnx")
DIGIT_PNG = os.path.join(FIXTURES, "images", "3", "drawn_3.png")
DIGIT_JPEG = os.path.join(FIXTURES, "images", "3", "inverse_3.jpg")
DIGIT_PGM = os.path.join(FIXTURES, "images", "3", "photo_3.pgm")

# Wording a good error uses for each kind of problem (case-insensitive regular
# expressions). They describe a good message, not today's: the point is that a
# user reading it knows what is wrong with which file.
TRUNCATED = r"truncat|too short|ends (early|before|too soon)|incomplete|unexpected end|corrupt|damaged"
NOT_REGULAR = r"not a regular file|fifo|named pipe|pipe|special file|device"
IS_DIRECTORY = r"is a directory|directory"
TOO_LARGE = r"too (large|big|many)|larger than|exceeds|more than|limit|memory|overflow"
MEMORY = r"memory|too large|larger than|exceeds|limit"


class Corpus:
    """The cases written so far and where their files go."""

    def __init__(self, out):
        self.out = out
        self.cases = []

    def path(self, name):
        return os.path.join(self.out, name)

    def scratch(self, name):
        """A fresh directory of its own for a case that writes or may destroy files."""
        directory = self.path(name)
        os.makedirs(directory)
        return directory

    def add(self, name, argv, status, patterns=(), *, names=None, cwd=".", forbid=(), stdout_json=False,
            preserve=(), absent=(), modes=(), links=(), timeout=20, signal_after=None, one_line=False, note=""):
        """One case: run `modelport ARGV` in CWD (relative to the corpus) and expect STATUS.

        - status: allowed exit statuses (an int or a list).
        - patterns: regular expressions that must all occur in the output (stderr and stdout).
        - names: strings the output must contain (the file it is about, as given).
        - forbid: regular expressions that must not occur (beyond the harness's own list).
        - stdout_json: stdout must be strict JSON (no NaN or Infinity literals).
        - preserve: paths whose bytes, permissions and symlink targets must be unchanged.
        - absent: paths that must not exist afterwards (no partial outputs).
        - modes: [path, octal mode] pairs the path must have afterwards.
        - links: [path, target] pairs that must still be symlinks to target afterwards.
        - signal_after: [signal name, seconds]: interrupt the run (that signal is then allowed).
        - one_line: the error is one line of stderr.
        Patterns and names are checked when the run fails (exit status other than 0).
        """
        assert not any(c["name"] == name for c in self.cases), name
        statuses = [status] if isinstance(status, int) else list(status)
        self.cases.append({
            "name": name, "argv": list(argv), "cwd": cwd, "status": statuses,
            "patterns": list(patterns), "names": list(names if names is not None else []),
            "forbid": list(forbid), "stdout_json": stdout_json, "preserve": list(preserve),
            "absent": list(absent), "modes": [[p, m] for p, m in modes], "links": [[p, t] for p, t in links],
            "timeout": timeout, "signal_after": signal_after, "one_line": one_line, "note": note,
        })

    def write_manifest(self):
        with open(self.path("cases.json"), "w") as f:
            json.dump({"cases": self.cases}, f, indent=1)


# MARK: - Small helpers

def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    return path


def flip(data, offset, mask=0x01):
    b = bytearray(data)
    b[offset] ^= mask
    return bytes(b)


def copy(src, dst):
    shutil.copyfile(src, dst)
    return dst


def model_config(path):
    with h5py.File(path, "r") as f:
        return json.loads(f.attrs["model_config"])


def set_model_config(path, config):
    with h5py.File(path, "r+") as f:
        f.attrs["model_config"] = json.dumps(config)


def layers_of(config):
    return config["config"]["layers"]


def replace_dataset(f, name, data=None, shape=None, **kwargs):
    """Deletes dataset NAME and makes it again (data, or only a shape: declared, never written)."""
    del f[name]
    if data is not None:
        return f.create_dataset(name, data=data, **kwargs)
    return f.create_dataset(name, shape=shape, dtype="float32", **kwargs)


def weight_paths(path):
    with h5py.File(path, "r") as f:
        found = []
        f.visititems(lambda n, o: found.append(n) if isinstance(o, h5py.Dataset) else None)
        return found


# MARK: - Keras .h5 (Keras 3 and Keras 2 layouts)

def keras_h5_cases(c):
    for tag, source in (("k3", MODEL_K3), ("k2", MODEL_K2)):
        data = read(source)
        truncated = write(c.path(f"h5_{tag}_truncated.h5"), data[: len(data) // 2])
        c.add(f"h5_{tag}_truncated", ["inspect", truncated], 2, [TRUNCATED], names=["h5_" + tag + "_truncated.h5"])
        cut_header = write(c.path(f"h5_{tag}_cut_in_superblock.h5"), data[:40])
        c.add(f"h5_{tag}_cut_in_superblock", ["inspect", cut_header], 2, [TRUNCATED + r"|not an? (valid )?HDF5"],
              names=[os.path.basename(cut_header)])
        signature = write(c.path(f"h5_{tag}_bad_signature.h5"), flip(data, 1))
        c.add(f"h5_{tag}_bad_signature", ["inspect", signature], 2, [r"not an? (valid )?HDF5|HDF5 signature|not .*HDF5"],
              names=[os.path.basename(signature)])

        # A bit flipped inside the model config text: broken JSON.
        config_flip = copy(source, c.path(f"h5_{tag}_config_bitflip.h5"))
        raw = read(config_flip)
        at = raw.find(b'{"class_name"')
        write(config_flip, flip(raw, at, 0x40))  # '{' -> ';'
        c.add(f"h5_{tag}_config_bitflip", ["inspect", config_flip], 2, [r"json|config"],
              names=[os.path.basename(config_flip)])

        # A bit flipped in a weight's exponent: a valid file with wrong numbers; validate must say they differ.
        weight_flip = copy(source, c.path(f"h5_{tag}_weight_bitflip.h5"))
        with h5py.File(weight_flip, "r") as f:
            kernel = next(n for n in weight_paths(weight_flip) if "kernel" in n and "conv" in n)
            offset = f[kernel].id.get_offset()
        raw = read(weight_flip)
        write(weight_flip, flip(raw, offset + 3, 0x40))  # the first float's exponent: x 2^±64
        reference = REFERENCE if tag == "k3" else os.path.join(FIXTURES, "mnist_digit_model_keras2.reference.h5")
        c.add(f"h5_{tag}_weight_bitflip", ["validate", weight_flip, "--reference", reference], 1,
              [r"FAILED|differ|outside"], names=[os.path.basename(weight_flip)])

    # Config lies (Keras 3 layout).
    lie = copy(MODEL_K3, c.path("h5_config_units_lie.h5"))
    config = model_config(lie)
    dense = next(l for l in layers_of(config) if l["class_name"] == "Dense")
    dense["config"]["units"] = 65
    set_model_config(lie, config)
    c.add("h5_config_units_lie", ["inspect", lie], 2, [r"shape|kernel|weight"], names=["h5_config_units_lie.h5",
                                                                                      dense["config"]["name"]])

    negative = copy(MODEL_K3, c.path("h5_config_negative_shape.h5"))
    config = model_config(negative)
    layers_of(config)[0]["config"]["batch_shape"] = [None, -28, 28, 1]
    set_model_config(negative, config)
    c.add("h5_config_negative_shape", ["inspect", negative], 2, [r"shape|negative|dimension|invalid"],
          names=["h5_config_negative_shape.h5"])

    huge = copy(MLP_K3, c.path("h5_config_huge_input.h5"))
    config = model_config(huge)
    layers_of(config)[0]["config"]["batch_shape"] = [None, 1 << 40, 1 << 40]
    set_model_config(huge, config)
    c.add("h5_config_huge_input", ["inspect", huge], 2, [TOO_LARGE + r"|shape|kernel"], names=["h5_config_huge_input.h5"])

    unknown = copy(MODEL_K3, c.path("h5_config_unknown_layer.h5"))
    config = model_config(unknown)
    layers_of(config)[1]["class_name"] = "FancyConv2D"
    set_model_config(unknown, config)
    c.add("h5_config_unknown_layer", ["inspect", unknown], 2, [r"FancyConv2D", r"not supported|unknown|unsupported"],
          names=["h5_config_unknown_layer.h5"])

    # JSON nested 100,000 deep, and Sequential models nested 3,000 deep (past any JSON depth
    # limit: the message should say the nesting is too deep, not that the JSON is invalid).
    deep_json = copy(MODEL_K3, c.path("h5_config_deep_json.h5"))
    with h5py.File(deep_json, "r+") as f:
        f.attrs["model_config"] = "[" * 100_000 + "]" * 100_000
    c.add("h5_config_deep_json", ["inspect", deep_json], 2, [r"deep|nest|depth"], names=["h5_config_deep_json.h5"])

    nested = copy(MLP_K3, c.path("h5_config_nested_models.h5"))
    config = model_config(nested)
    # Built as text: Python's own json module cannot encode 3,000 levels.
    opening = "".join(f'{{"class_name": "Sequential", "config": {{"name": "m{d}", "layers": [' for d in range(3000))
    nested_layer = opening + json.dumps(layers_of(config)[1]) + "]}}" * 3000
    text = json.dumps(config)
    marker = json.dumps(layers_of(config)[1])
    assert text.count(marker) == 1
    with h5py.File(nested, "r+") as f:
        f.attrs["model_config"] = text.replace(marker, nested_layer)
    c.add("h5_config_nested_models", ["inspect", nested], 2, [r"deep|nest|depth"], names=["h5_config_nested_models.h5"])

    # 120 nested Sequential models, each with its own input: deep, but within JSON's 512 levels,
    # so it is the model builder's recursion that must cope (build it, or refuse in words).
    nested = copy(MLP_K3, c.path("h5_nested_models_120.h5"))
    config = model_config(nested)
    marker = json.dumps(layers_of(config)[1])
    opening = "".join('{"class_name": "Sequential", "config": {"name": "m%d", "layers": [{"class_name": "InputLayer", '
                      '"config": {"batch_shape": [null, 28, 28], "dtype": "float32", "name": "in%d"}}, ' % (d, d)
                      for d in range(120))
    with h5py.File(nested, "r+") as f:
        f.attrs["model_config"] = json.dumps(config).replace(marker, opening + marker + "]}}" * 120)
    c.add("h5_nested_models_120", ["inspect", nested], [0, 2], [r"deep|nest|depth"],
          names=["h5_nested_models_120.h5"])

    # NaN weights: the model runs, every output is NaN.
    nan_model = copy(MODEL_K3, c.path("h5_nan_weights.h5"))
    with h5py.File(nan_model, "r+") as f:
        bias = [n for n in weight_paths(nan_model) if n.startswith("model_weights/") and n.endswith("bias")][-1]
        f[bias][...] = np.nan
    c.add("nan_predict_json", ["predict", nan_model, "--input", REFERENCE, "--limit", "3", "--json"], 1,
          [r"nan|not a number"], names=[], stdout_json=True,
          forbid=[r"NSCocoaErrorDomain"], note="NaN outputs: exit 1 with valid JSON, NaN as null or a string")
    c.add("nan_predict_image", ["predict", nan_model, DIGIT_PNG], 1, [r"nan|not a number"], names=[],
          forbid=[r"(?m)^\S*drawn_3\.png\s+0\s"], note="all-NaN probabilities must not be reported as digit 0")
    c.add("nan_validate", ["validate", nan_model, "--reference", REFERENCE], 1, [r"nan|not a number"],
          names=["h5_nan_weights.h5"], forbid=[r"PASSED"])

    # 4096x4096 input with 1024 filters: ~64 GiB of activations for one image, refused before allocating.
    big = copy(CONV_PAIR, c.path("h5_input_4096.h5"))
    config = model_config(big)
    layers = layers_of(config)
    layers[0]["config"]["batch_shape"] = [None, 4096, 4096, 1]
    convs = [l for l in layers if l["class_name"] == "Conv2D"]
    convs[0]["config"]["filters"] = 1024
    flatten = next(l for l in layers if l["class_name"] == "Flatten")
    flatten["class_name"] = "GlobalMaxPooling2D"
    flatten["config"] = {"name": flatten["config"]["name"], "trainable": True, "dtype": flatten["config"]["dtype"],
                         "data_format": "channels_last", "keepdims": False}
    set_model_config(big, config)
    with h5py.File(big, "r+") as f:
        names = weight_paths(big)
        first = convs[0]["config"]["name"]
        second = convs[1]["config"]["name"]
        rng = np.random.default_rng(13)
        for n in names:
            leaf = n.split("/")
            if first in leaf and n.endswith("kernel"):
                replace_dataset(f, n, rng.normal(0, 0.1, (3, 3, 1, 1024)).astype("float32"))
            elif first in leaf and n.endswith("bias"):
                replace_dataset(f, n, np.zeros(1024, "float32"))
            elif second in leaf and n.endswith("kernel"):
                replace_dataset(f, n, rng.normal(0, 0.01, (3, 3, 1024, 32)).astype("float32"))
            elif "dense" in n and n.endswith("kernel"):
                replace_dataset(f, n, rng.normal(0, 0.1, (32, 10)).astype("float32"))
    c.add("h5_input_4096_bench", ["bench", big, "--batch", "1", "--repetitions", "1", "--images", "1", "--runs", "1"],
          2, [MEMORY], names=["h5_input_4096.h5"])

    # Datasets declared but never written: 2^28 float32 elements (1 GiB) each, three of them, in a tiny file.
    unallocated = copy(MLP_K3, c.path("h5_unallocated_weights.h5"))
    config = model_config(unallocated)
    layers = layers_of(config)
    layers[0]["config"]["batch_shape"] = [None, 16384]
    denses = [l for l in layers if l["class_name"] == "Dense"]
    for d in denses:
        d["config"]["units"] = 16384
    set_model_config(unallocated, config)
    with h5py.File(unallocated, "r+") as f:
        for n in weight_paths(unallocated):
            if n.startswith("model_weights/") and n.endswith("kernel"):
                replace_dataset(f, n, shape=(16384, 16384))
            elif n.startswith("model_weights/") and n.endswith("bias"):
                replace_dataset(f, n, shape=(16384,))
    wide_reference = c.path("reference_16384.h5")
    with h5py.File(wide_reference, "w") as f:
        f["inputs"] = np.zeros((1, 16384), "float32")
        f["outputs"] = np.zeros((1, 16384), "float32")
    c.add("h5_unallocated_weights", ["predict", unallocated, "--input", wide_reference], 2,
          [r"no data|not (been )?(stored|written|allocated)|unallocated|never written|missing|storage|empty"],
          names=["h5_unallocated_weights.h5"],
          note="30 KB file declaring 3 GiB of weights it does not hold")


# MARK: - HDF5 routes out of the file

def hdf5_escape_cases(c):
    """External storage, virtual datasets, external links and filter plugins: data from outside the file."""
    # External storage is written with a placeholder name of the same length, then the
    # name is patched in the file's bytes: HDF5 never touches the real target (which, run
    # as root, it could overwrite with fill values).
    def external(name, target, size_check_target=None):
        model = copy(MLP_K3, c.path(name))
        bias = next(n for n in weight_paths(model) if n.startswith("model_weights/") and "dense_7" in n and n.endswith("bias"))
        placeholder = "/" + "x" * (len(target) - 1)
        with h5py.File(model, "r+") as f:
            del f[bias]
            space = h5py.h5s.create_simple((10,))
            dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
            dcpl.set_external(placeholder.encode(), 0, 40)
            dcpl.set_fill_time(h5py.h5d.FILL_TIME_NEVER)
            h5py.h5d.create(f.id, bias.encode(), h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
        raw = read(model)
        assert raw.count(placeholder.encode() + b"\0") == 1, "placeholder not found once"
        write(model, raw.replace(placeholder.encode() + b"\0", target.encode() + b"\0"))
        return model

    passwd = external("h5_external_storage_passwd.h5", "/etc/passwd")
    out = c.path("external_passwd_out.onnx")
    c.add("h5_external_storage_passwd", ["convert", passwd, out], 2, [r"external"],
          names=["h5_external_storage_passwd.h5"], absent=[out],
          note="weights whose raw data is /etc/passwd must not be copied into the output")
    fifo_target = c.path("external_target.fifo")
    fifo_model = external("h5_external_storage_fifo.h5", fifo_target)
    os.mkfifo(fifo_target)
    c.add("h5_external_storage_fifo", ["predict", fifo_model, "--input", MLP_REFERENCE, "--limit", "1"], 2,
          [r"external"], names=["h5_external_storage_fifo.h5"], timeout=10)
    zero = external("h5_external_storage_devzero.h5", "/dev/zero")
    c.add("h5_external_storage_devzero", ["predict", zero, "--input", MLP_REFERENCE, "--limit", "1"], 2,
          [r"external"], names=["h5_external_storage_devzero.h5"])

    # A virtual dataset whose data lives in another HDF5 file.
    source = c.path("vds_source.h5")
    with h5py.File(source, "w") as f:
        f["data"] = np.ones(10, "float32")
    vds = copy(MLP_K3, c.path("h5_virtual_dataset.h5"))
    with h5py.File(vds, "r+") as f:
        bias = next(n for n in weight_paths(vds) if n.startswith("model_weights/") and "dense_7" in n and n.endswith("bias"))
        del f[bias]
        layout = h5py.VirtualLayout(shape=(10,), dtype="float32")
        layout[:] = h5py.VirtualSource(source, "data", shape=(10,))
        f.create_virtual_dataset(bias, layout)
    c.add("h5_virtual_dataset", ["predict", vds, "--input", MLP_REFERENCE, "--limit", "1"], 2,
          [r"virtual|external"], names=["h5_virtual_dataset.h5"])

    link = copy(MLP_K3, c.path("h5_external_link.h5"))
    with h5py.File(link, "r+") as f:
        bias = next(n for n in weight_paths(link) if n.startswith("model_weights/") and "dense_7" in n and n.endswith("bias"))
        del f[bias]
        f[bias] = h5py.ExternalLink(source, "data")
    c.add("h5_external_link", ["predict", link, "--input", MLP_REFERENCE, "--limit", "1"], 2,
          [r"external link|link"], names=["h5_external_link.h5"])

    # Soft links inside the file that point at each other.
    loop = copy(MLP_K3, c.path("h5_soft_link_loop.h5"))
    with h5py.File(loop, "r+") as f:
        del f["model_weights/dense_7"]
        f["model_weights/dense_7"] = h5py.SoftLink("/model_weights/dense_7_again")
        f["model_weights/dense_7_again"] = h5py.SoftLink("/model_weights/dense_7")
    c.add("h5_soft_link_loop", ["predict", loop, "--input", MLP_REFERENCE, "--limit", "1"], 2,
          [r"link|loop|cycle"], names=["h5_soft_link_loop.h5"])

    # A dataset that needs a filter plugin (id 32013, not installed): HDF5 would search
    # HDF5_PLUGIN_PATH and load a shared library to read it.
    plugin = copy(MLP_K3, c.path("h5_filter_plugin.h5"))
    with h5py.File(plugin, "r+") as f:
        bias = next(n for n in weight_paths(plugin) if n.startswith("model_weights/") and "dense_7" in n and n.endswith("bias"))
        del f[bias]
        dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        dcpl.set_chunk((10,))
        dcpl.set_filter(32013, h5py.h5z.FLAG_OPTIONAL, ())
        space = h5py.h5s.create_simple((10,))
        h5py.h5d.create(f.id, bias.encode(), h5py.h5t.IEEE_F32LE, space, dcpl=dcpl)
    c.add("h5_filter_plugin", ["predict", plugin, "--input", MLP_REFERENCE, "--limit", "1"], 2,
          [r"filter|compression|plugin|not supported|no data|stores none|never written"], names=["h5_filter_plugin.h5"])


# MARK: - .keras archives and .weights.h5

def zip_members(members):
    """A zip (STORED, as Keras writes) of (name, bytes) pairs in order; duplicates and any name allowed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)
    return buffer.getvalue()


def keras_members():
    with zipfile.ZipFile(KERAS_ARCHIVE) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def keras_archive_cases(c):
    members = keras_members()
    original = read(KERAS_ARCHIVE)
    config_text = dict(members)["config.json"]

    truncated = write(c.path("keras_truncated.keras"), original[: len(original) // 2])
    c.add("keras_truncated", ["inspect", truncated], 2, [TRUNCATED + r"|not a (readable |valid )?zip"],
          names=["keras_truncated.keras"])
    not_zip = write(c.path("keras_not_zip.keras"), b"this is not a zip archive\n" * 10)
    c.add("keras_not_zip", ["inspect", not_zip], 2, [r"not a (readable |valid )?zip|zip"], names=["keras_not_zip.keras"])
    eocd = original.rfind(b"PK\x05\x06")
    cd_flip = write(c.path("keras_central_directory_bitflip.keras"), flip(original, eocd + 16, 0x10))
    c.add("keras_central_directory_bitflip", ["inspect", cd_flip], 2, [r"zip|archive|corrupt|damaged|directory"],
          names=["keras_central_directory_bitflip.keras"])

    # Stale CRC-32: "tanh" changed to "relu" in config.json without updating the CRC. Keras refuses it (Bad CRC-32).
    archive = zip_members(members)
    at = archive.find(b"\"activation\": \"tanh\"", archive.find(config_text[:64]))
    assert at > 0
    at += len(b"\"activation\": ")
    stale = write(c.path("keras_stale_crc.keras"), archive[:at] + b"\"relu\"" + archive[at + 6:])
    c.add("keras_stale_crc", ["inspect", stale], 2, [r"crc|checksum"], names=["keras_stale_crc.keras"],
          forbid=[r"not valid JSON"])

    # Duplicate members: two config.json, the first altered. Python's zipfile (and so Keras) takes
    # the last; an archive that reads differently in different tools is refused.
    altered = config_text.replace(b"\"activation\": \"tanh\"", b"\"activation\": \"relu\"", 1)
    duplicate = zip_members([(n, altered if n == "config.json" else d) for n, d in members] + [("config.json", config_text)])
    duplicate_path = write(c.path("keras_duplicate_member.keras"), duplicate)
    c.add("keras_duplicate_member", ["inspect", duplicate_path], 2, [r"duplicate|more than once|twice"],
          names=["keras_duplicate_member.keras"])

    # Traversal and absolute member names.
    for tag, name in (("dotdot", "../../../../../../tmp/modelport-traversal-probe"),
                      ("absolute", "/tmp/modelport-absolute-probe")):
        archive_path = write(c.path(f"keras_traversal_{tag}.keras"), zip_members(members + [(name, b"escaped\n")]))
        c.add(f"keras_traversal_{tag}", ["inspect", archive_path], 2, [r"member|entry", r"\.\.|absolute|unsafe|outside|not allowed|invalid"],
              names=[f"keras_traversal_{tag}.keras"], absent=["/" + name.lstrip("./")])
    weights_only_traversal = write(c.path("keras_traversal_weights.keras"), zip_members(
        [(("../model.weights.h5" if n == "model.weights.h5" else n), d) for n, d in members]))
    c.add("keras_traversal_weights", ["inspect", weights_only_traversal], 2,
          [r"model\.weights\.h5|member|entry"], names=["keras_traversal_weights.keras"])

    # A zip bomb: model.weights.h5 declares 2.7 MB but inflates to 320 MB (CRC correct for the
    # inflated bytes, so only the size lie is wrong). Generated by streaming, patched afterwards.
    bomb = c.path("keras_bomb.keras")
    inflated = 320 << 20
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_STORED) as z:
        for n, d in members:
            if n != "model.weights.h5":
                z.writestr(zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0)), d)
        info = zipfile.ZipInfo("model.weights.h5", date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=False) as w:
            weights = dict(members)["model.weights.h5"]
            w.write(weights)
            zeros = bytes(1 << 20)
            for _ in range((inflated - len(weights)) >> 20):
                w.write(zeros)
    raw = bytearray(read(bomb))
    declared = 2_700_000
    patched = 0
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while True:
            at = raw.find(signature, start)
            if at < 0:
                break
            name_offset = 30 if signature == b"PK\x03\x04" else 46
            name_length = struct.unpack_from("<H", raw, at + (26 if signature == b"PK\x03\x04" else 28))[0]
            if bytes(raw[at + name_offset: at + name_offset + name_length]) == b"model.weights.h5":
                struct.pack_into("<I", raw, at + size_offset, declared)
                patched += 1
            start = at + 4
    assert patched == 2, patched
    write(bomb, bytes(raw))
    c.add("keras_bomb", ["inspect", bomb], 2, [r"size|declare|larger|more than|bomb|expected"],
          names=["keras_bomb.keras"], note="member declares 2.7 MB, inflates to 320 MB")
    c.add("keras_bomb_convert", ["convert", bomb, c.path("keras_bomb_out.onnx")], 2,
          [r"size|declare|larger|more than|bomb|expected"], names=["keras_bomb.keras"],
          absent=[c.path("keras_bomb_out.onnx")])
    # Interrupted while inflating the bomb: no temporary file may be left behind.
    for sig in ("SIGINT", "SIGTERM"):
        out = c.path(f"keras_bomb_{sig.lower()}_out.h5")
        c.add(f"keras_bomb_{sig.lower()}", ["convert", bomb, out], [2, 130, 143], [], names=[],
              signal_after=[sig, 1.0], absent=[out], note="temp files removed on " + sig)

    # config.json that honestly declares 200 MB.
    big_config = c.path("keras_huge_config.keras")
    with zipfile.ZipFile(big_config, "w", zipfile.ZIP_DEFLATED) as z:
        for n, d in members:
            if n == "config.json":
                info = zipfile.ZipInfo("config.json", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with z.open(info, "w") as w:
                    w.write(d[:-1])
                    for _ in range(200):
                        w.write(b" " * (1 << 20))
                    w.write(d[-1:])
            else:
                z.writestr(zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0)), d)
    c.add("keras_huge_config", ["inspect", big_config], 2, [TOO_LARGE], names=["keras_huge_config.keras"])

    lie = json.loads(config_text)
    next(l for l in lie["config"]["layers"] if l["class_name"] == "Dense")["config"]["units"] += 3
    lie_archive = write(c.path("keras_config_units_lie.keras"),
                        zip_members([(n, json.dumps(lie).encode() if n == "config.json" else d) for n, d in members]))
    c.add("keras_config_units_lie", ["inspect", lie_archive], 2, [r"shape|kernel|weight"], names=["keras_config_units_lie.keras"])

    missing = write(c.path("keras_no_weights.keras"), zip_members([m for m in members if m[0] != "model.weights.h5"]))
    c.add("keras_no_weights", ["inspect", missing], 2, [r"model\.weights\.h5"], names=["keras_no_weights.keras"])

    # .weights.h5 + config JSON.
    weights = write(c.path("split.weights.h5"), dict(members)["model.weights.h5"])
    config = write(c.path("split_config.json"), config_text)
    truncated_weights = write(c.path("split_truncated.weights.h5"), dict(members)["model.weights.h5"][:5000])
    c.add("weights_truncated", ["inspect", truncated_weights, "--config", config], 2, [TRUNCATED + r"|not an? (valid )?HDF5"],
          names=["split_truncated.weights.h5"])
    bad_json = write(c.path("split_bad_config.json"), config_text[: len(config_text) // 2])
    c.add("weights_config_not_json", ["inspect", weights, "--config", bad_json], 2, [r"json"],
          names=["split_bad_config.json"])
    lie = json.loads(config_text)
    dense = next(l for l in lie["config"]["layers"] if l["class_name"] == "Dense")
    dense["config"]["units"] += 3
    lie_path = write(c.path("split_units_lie.json"), json.dumps(lie).encode())
    c.add("weights_config_lie", ["validate", weights, "--config", lie_path, "--reference", KERAS_REFERENCE], 2,
          [r"shape|kernel|weight"], names=["split.weights.h5"])
    deep = write(c.path("split_deep_config.json"), b"[" * 100_000 + b"]" * 100_000)
    c.add("weights_config_deep_json", ["inspect", weights, "--config", deep], 2, [r"deep|nest|depth"],
          names=["split_deep_config.json"])


# MARK: - ONNX

def varint(value):
    """Protobuf's base-128 varint."""
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def onnx_cases(c):
    import onnx
    from onnx import helper, numpy_helper, TensorProto

    data = read(ONNX_DIGITS)
    truncated = write(c.path("onnx_truncated.onnx"), data[: len(data) // 2])
    c.add("onnx_truncated", ["inspect", truncated], 2, [TRUNCATED + r"|not a valid ONNX"], names=["onnx_truncated.onnx"])
    garbage = write(c.path("onnx_garbage.onnx"), b"\xff" * 64)
    c.add("onnx_garbage", ["inspect", garbage], 2, [r"not a valid ONNX|protobuf|onnx"], names=["onnx_garbage.onnx"])
    # The graph's length prefix claims a megabyte more than the file holds.
    m = onnx.load(ONNX_DIGITS)
    graph_bytes = m.graph.SerializeToString()
    m.ClearField("graph")
    lying = m.SerializeToString() + b"\x3a" + varint(len(graph_bytes) + (1 << 20)) + graph_bytes
    path = write(c.path("onnx_length_lie.onnx"), lying)
    c.add("onnx_length_lie", ["inspect", path], 2, [TRUNCATED + r"|not a valid ONNX|protobuf"],
          names=["onnx_length_lie.onnx"])

    def with_reshape(shape, name):
        m = onnx.load(ONNX_MLP)
        for i, t in enumerate(m.graph.initializer):
            if t.name.endswith("Reshape_shape__220"):
                m.graph.initializer[i].CopyFrom(numpy_helper.from_array(np.array(shape, dtype=np.int64), t.name))
        return write(c.path(name), m.SerializeToString())

    for tag, shape in (("2pow40", [-1, 1 << 40, 1 << 40, 1]), ("int64max", [-1, (1 << 63) - 1]),
                       ("negative", [-7, -1])):
        path = with_reshape(shape, f"onnx_reshape_{tag}.onnx")
        c.add(f"onnx_reshape_{tag}", ["inspect", path], 2, [r"reshape|shape", TOO_LARGE + r"|invalid|negative|cannot"],
              names=[f"onnx_reshape_{tag}.onnx"])

    # The graph input itself claims [N, 2^40, 2^40, 1].
    m = onnx.load(ONNX_DIGITS)
    dims = m.graph.input[0].type.tensor_type.shape.dim
    dims[1].dim_value = 1 << 40
    dims[2].dim_value = 1 << 40
    path = write(c.path("onnx_input_2pow40.onnx"), m.SerializeToString())
    c.add("onnx_input_2pow40", ["inspect", path], 2, [TOO_LARGE + r"|shape"], names=["onnx_input_2pow40.onnx"])

    # Conv pads of 2^62: the output size overflows.
    m = onnx.load(ONNX_DIGITS)
    conv = next(n for n in m.graph.node if n.op_type == "Conv")
    conv.attribute.append(helper.make_attribute("pads", [1 << 62] * 4))
    path = write(c.path("onnx_conv_huge_pads.onnx"), m.SerializeToString())
    c.add("onnx_conv_huge_pads", ["inspect", path], 2, [r"pad|conv", TOO_LARGE + r"|invalid"],
          names=["onnx_conv_huge_pads.onnx"])
    m = onnx.load(ONNX_DIGITS)
    conv = next(n for n in m.graph.node if n.op_type == "Conv")
    for a in conv.attribute:
        if a.name == "strides":
            del a.ints[:]
            a.ints.extend([0, 0])
    path = write(c.path("onnx_conv_zero_stride.onnx"), m.SerializeToString())
    c.add("onnx_conv_zero_stride", ["inspect", path], 2, [r"stride"], names=["onnx_conv_zero_stride.onnx"])

    # Graph attributes nested 3,000 deep (about 30 KB), hand-encoded: the protobuf
    # library itself refuses to build such a message.
    def field(number, wire, payload):
        key = (number << 3) | wire
        return varint(key) + (varint(len(payload)) + payload if wire == 2 else varint(payload))
    node = field(4, 2, b"If")
    for _ in range(3000):
        attribute = field(1, 2, b"g") + field(20, 0, 5) + field(6, 2, field(1, 2, node))
        node = field(4, 2, b"If") + field(5, 2, attribute)
    m = onnx.load(ONNX_MLP)
    # Append one more node (field 1 of GraphProto) to the graph (field 7 of ModelProto) by re-encoding the graph.
    graph_bytes = m.graph.SerializeToString() + field(1, 2, node)
    m.ClearField("graph")
    deep = m.SerializeToString() + field(7, 2, graph_bytes)
    path = write(c.path("onnx_nested_attributes.onnx"), deep)
    c.add("onnx_nested_attributes", ["inspect", path], 2, [r"deep|nest|depth"], names=["onnx_nested_attributes.onnx"])

    # Dropout in training mode is not the identity.
    m = onnx.load(ONNX_MLP)
    relu = next(i for i, n in enumerate(m.graph.node) if n.op_type == "Relu")
    out = m.graph.node[relu].output[0]
    m.graph.node[relu].output[0] = out + "_pre_dropout"
    m.graph.initializer.extend([numpy_helper.from_array(np.array(0.5, dtype=np.float32), "dropout_ratio"),
                                numpy_helper.from_array(np.array(True), "dropout_training")])
    m.graph.node.insert(relu + 1, helper.make_node("Dropout", [out + "_pre_dropout", "dropout_ratio", "dropout_training"],
                                                   [out], name="dropout_training_mode"))
    path = write(c.path("onnx_dropout_training.onnx"), m.SerializeToString())
    c.add("onnx_dropout_training", ["predict", path, "--input", MLP_REFERENCE, "--limit", "2"], 2,
          [r"training[_ ]mode|training", r"dropout"], names=["onnx_dropout_training.onnx"])

    # Internal type names must not leak: an input dimension of 0.
    m = onnx.load(ONNX_DIGITS)
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 0
    m.graph.input[0].type.tensor_type.shape.dim[1].ClearField("dim_param")
    path = write(c.path("onnx_zero_dimension.onnx"), m.SerializeToString())
    c.add("onnx_zero_dimension", ["inspect", path], 2, [r"shape|dimension|size"], names=["onnx_zero_dimension.onnx"])


# MARK: - Reference files

def reference_cases(c):
    truncated = write(c.path("reference_truncated.h5"), read(REFERENCE)[:30000])
    c.add("reference_truncated", ["validate", MODEL_K3, "--reference", truncated], 2, [TRUNCATED + r"|not an? (valid )?HDF5"],
          names=["reference_truncated.h5"])
    with h5py.File(REFERENCE, "r") as f:
        inputs, outputs, labels = f["inputs"][:], f["outputs"][:], f["labels"][:]
    empty = c.path("reference_zero_samples.h5")
    with h5py.File(empty, "w") as f:
        f["inputs"], f["outputs"], f["labels"] = inputs[:0], outputs[:0], labels[:0]
    c.add("reference_zero_samples", ["validate", MODEL_K3, "--reference", empty], 2, [r"no samples|0 samples|empty|zero"],
          names=["reference_zero_samples.h5"], forbid=[r"PASSED"])
    wrong = c.path("reference_wrong_shape.h5")
    with h5py.File(wrong, "w") as f:
        f["inputs"] = np.zeros((4, 32, 32, 1), "float32")
        f["outputs"], f["labels"] = outputs[:4], labels[:4]
    c.add("reference_wrong_shape", ["validate", MODEL_K3, "--reference", wrong], 2, [r"shape"],
          names=["reference_wrong_shape.h5", "mnist_digit_model.h5"], note="both files named")
    outputs_wrong = c.path("reference_wrong_output_shape.h5")
    with h5py.File(outputs_wrong, "w") as f:
        f["inputs"], f["outputs"], f["labels"] = inputs[:4], np.zeros((4, 12), "float32"), labels[:4]
    c.add("reference_wrong_output_shape", ["validate", MODEL_K3, "--reference", outputs_wrong], 2, [r"shape|outputs"],
          names=["reference_wrong_output_shape.h5", "mnist_digit_model.h5"])
    nan = c.path("reference_nan_outputs.h5")
    with h5py.File(nan, "w") as f:
        bad = outputs[:4].copy()
        bad[1, 3] = np.nan
        f["inputs"], f["outputs"], f["labels"] = inputs[:4], bad, labels[:4]
    c.add("reference_nan_outputs", ["validate", MODEL_K3, "--reference", nan], [1, 2], [r"nan|not a number"],
          names=["reference_nan_outputs.h5"], forbid=[r"PASSED"])
    count = c.path("reference_count_mismatch.h5")
    with h5py.File(count, "w") as f:
        f["inputs"], f["outputs"], f["labels"] = inputs[:10], outputs[:7], labels[:10]
    c.add("reference_count_mismatch", ["validate", MODEL_K3, "--reference", count], 2, [r"samples|rows|count|10|7"],
          names=["reference_count_mismatch.h5"])
    missing = c.path("reference_missing_inputs.h5")
    with h5py.File(missing, "w") as f:
        f["outputs"] = outputs[:4]
    c.add("reference_missing_inputs", ["validate", MODEL_K3, "--reference", missing], 2, [r"inputs"],
          names=["reference_missing_inputs.h5"])
    lying = c.path("reference_unallocated.h5")
    with h5py.File(lying, "w") as f:
        f.create_dataset("inputs", shape=(1 << 22, 28, 28, 1), dtype="float32")  # 13 GB declared, none stored
        f.create_dataset("outputs", shape=(1 << 22, 10), dtype="float32")
    c.add("reference_unallocated", ["validate", MODEL_K3, "--reference", lying], 2,
          [r"no data|not (been )?(stored|written|allocated)|unallocated|never written|missing|storage|" + MEMORY],
          names=["reference_unallocated.h5"])


# MARK: - IDX files

def idx(dims, payload, kind=0x08):
    return bytes([0, 0, kind, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def idx_cases(c):
    images = np.zeros((20, 28, 28), np.uint8)
    good = idx([20, 28, 28], images.tobytes())
    gz = gzip.compress(good)
    truncated = write(c.path("idx_truncated-images-idx3-ubyte.gz"), gz[: len(gz) // 2])
    c.add("idx_gz_truncated", ["predict", MODEL_K3, "--input", truncated], 2, [TRUNCATED],
          names=["idx_truncated-images-idx3-ubyte.gz"])
    short = write(c.path("idx_short-images-idx3-ubyte"), good[:-100])
    c.add("idx_raw_short", ["predict", MODEL_K3, "--input", short], 2, [TRUNCATED + r"|bytes|size|header"],
          names=["idx_short-images-idx3-ubyte"])
    magic = write(c.path("idx_bad_magic-images-idx3-ubyte.gz"), gzip.compress(b"\x12\x34" + good[2:]))
    c.add("idx_bad_magic", ["predict", MODEL_K3, "--input", magic], 2, [r"idx|magic|header|not an"],
          names=["idx_bad_magic-images-idx3-ubyte.gz"])
    huge = write(c.path("idx_huge_dims-images-idx3-ubyte.gz"), gzip.compress(idx([0xFFFFFFFF, 100000, 100000], b"\0" * 64)))
    c.add("idx_huge_dims", ["predict", MODEL_K3, "--input", huge], 2, [TOO_LARGE + r"|header|bytes|size"],
          names=["idx_huge_dims-images-idx3-ubyte.gz"])
    rank = write(c.path("idx_rank_255-images-idx3-ubyte"), bytes([0, 0, 8, 255]) + b"\0\0\0\1" * 255)
    c.add("idx_rank_255", ["predict", MODEL_K3, "--input", rank], 2, [r"rank|dimension|shape|header|28"],
          names=["idx_rank_255-images-idx3-ubyte"])
    # A gzip bomb: the header says 20 images, the stream inflates to 300 MB.
    bomb = c.path("idx_bomb-images-idx3-ubyte.gz")
    with gzip.open(bomb, "wb", compresslevel=9) as g:
        g.write(good)
        zeros = bytes(1 << 20)
        for _ in range(300):
            g.write(zeros)
    c.add("idx_gz_bomb", ["predict", MODEL_K3, "--input", bomb], [2], [r"bytes|size|header|more|larger|expected|trailing"],
          names=["idx_bomb-images-idx3-ubyte.gz"])
    # A 6 GB sparse raw file whose header claims 20 images: the header is checked before reading.
    sparse = c.path("idx_sparse_6gb-images-idx3-ubyte")
    with open(sparse, "wb") as f:
        f.write(good)
        f.truncate(6 << 30)
    c.add("idx_sparse_6gb", ["predict", MODEL_K3, "--input", sparse], 2, [r"bytes|size|header|larger|expected|trailing|" + TOO_LARGE],
          names=["idx_sparse_6gb-images-idx3-ubyte"])
    labels_lie = c.path("idx_labels_lie-labels-idx1-ubyte")
    write(labels_lie, idx([7], bytes(7)))
    images_path = write(c.path("idx_labels_lie-images-idx3-ubyte"), good)
    c.add("idx_labels_count_mismatch", ["predict", MODEL_K3, "--input", images_path, "--labels", labels_lie], 2,
          [r"labels?", r"20|7|count|match"], names=["idx_labels_lie-labels-idx1-ubyte"])
    # evaluate --data with a broken test-images file.
    data_dir = c.scratch("idx_data_dir")
    write(os.path.join(data_dir, "t10k-images-idx3-ubyte.gz"), gz[: len(gz) // 3])
    write(os.path.join(data_dir, "t10k-labels-idx1-ubyte.gz"), gzip.compress(idx([20], bytes(20), 0x08)))
    write(os.path.join(data_dir, "train-images-idx3-ubyte.gz"), gz)
    write(os.path.join(data_dir, "train-labels-idx1-ubyte.gz"), gzip.compress(idx([20], bytes(20), 0x08)))
    c.add("idx_evaluate_truncated", ["evaluate", MODEL_K3, "--data", data_dir, "--no-download"], 2, [TRUNCATED],
          names=["t10k-images-idx3-ubyte.gz"])


# MARK: - Images

def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def jpeg_frame_header(jpeg):
    """Offset of the SOFn marker, found by walking the segments (not by searching bytes)."""
    at = 2
    while at + 4 <= len(jpeg):
        assert jpeg[at] == 0xFF, "not at a marker"
        marker = jpeg[at + 1]
        if marker in (0xC0, 0xC1, 0xC2):
            return at
        at += 2 + struct.unpack_from(">H", jpeg, at + 2)[0]
    raise ValueError("no frame header")


def image_cases(c):
    from PIL import Image

    png = read(DIGIT_PNG)
    truncated = write(c.path("img_truncated.png"), png[: len(png) // 2])
    c.add("png_truncated", ["predict", MODEL_K3, truncated], 2, [TRUNCATED], names=["img_truncated.png"])
    crc = write(c.path("img_bad_crc.png"), flip(png, len(png) - 20, 0x04))
    c.add("png_bitflip", ["predict", MODEL_K3, crc], 2, [r"crc|corrupt|damaged|invalid|truncat"], names=["img_bad_crc.png"])
    # IHDR claims 100000 x 100000 (CRC fixed, so only the size is the problem).
    ihdr = png.find(b"IHDR")
    header = bytearray(png[ihdr + 4: ihdr + 17])
    struct.pack_into(">II", header, 0, 100000, 100000)
    bomb = png[: ihdr - 4] + png_chunk(b"IHDR", bytes(header)) + png[ihdr + 21:]
    bomb_path = write(c.path("img_100000x100000.png"), bomb)
    c.add("png_huge_dimensions", ["predict", MODEL_K3, bomb_path], 2, [r"100000|" + TOO_LARGE],
          names=["img_100000x100000.png"])
    # A real decompression bomb: 20000 x 20000 of black in a ~50 KB file.
    raw_rows = zlib.compressobj(9)
    idat = bytearray()
    row = bytes(1 + 20000)
    for _ in range(20000):
        idat += raw_rows.compress(row)
    idat += raw_rows.flush()
    bomb2 = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 0, 0, 0, 0)) + \
        png_chunk(b"IDAT", bytes(idat)) + png_chunk(b"IEND", b"")
    bomb2_path = write(c.path("img_bomb_20000.png"), bomb2)
    c.add("png_decompression_bomb", ["predict", MODEL_K3, bomb2_path], 2, [r"20000|" + TOO_LARGE],
          names=["img_bomb_20000.png"])

    jpeg = read(DIGIT_JPEG)
    jt = write(c.path("img_truncated.jpg"), jpeg[: len(jpeg) // 2])
    c.add("jpeg_truncated", ["predict", MODEL_K3, jt], [2], [TRUNCATED], names=["img_truncated.jpg"])
    sof = jpeg_frame_header(jpeg)
    huge = bytearray(jpeg)
    struct.pack_into(">HH", huge, sof + 5, 65000, 65000)  # JPEG dimensions are 16-bit: 65000 is near the maximum
    jh = write(c.path("img_65000x65000.jpg"), bytes(huge))
    c.add("jpeg_huge_dimensions", ["predict", MODEL_K3, jh], 2, [r"65000|" + TOO_LARGE], names=["img_65000x65000.jpg"])
    scan = jpeg.find(b"\xff\xda")
    flipped = write(c.path("img_scan_bitflip.jpg"), flip(jpeg, scan + (len(jpeg) - scan) // 2, 0x20))
    c.add("jpeg_scan_bitflip", ["predict", MODEL_K3, flipped], [0, 2], [r"corrupt|damaged|invalid|truncat|jpeg"],
          names=["img_scan_bitflip.jpg"], note="damaged entropy-coded data: decoded with warnings, or refused")
    cmyk_path = c.path("img_cmyk.jpg")
    Image.open(DIGIT_JPEG).convert("CMYK").save(cmyk_path, "JPEG")
    c.add("jpeg_cmyk", ["predict", MODEL_K3, cmyk_path], 2, [r"cmyk|colou?r (space|model)"], names=["img_cmyk.jpg"],
          forbid=[r"corrupt|truncated"])

    pgm = read(DIGIT_PGM)
    pt = write(c.path("img_truncated.pgm"), pgm[: len(pgm) // 2])
    c.add("pgm_truncated", ["predict", MODEL_K3, pt], 2, [TRUNCATED + r"|bytes|size"], names=["img_truncated.pgm"])
    lie = write(c.path("img_header_lie.pgm"), b"P5\n100000 100000\n255\n" + bytes(100))
    c.add("pgm_header_lie", ["predict", MODEL_K3, lie], 2, [r"100000|" + TOO_LARGE + "|" + TRUNCATED], names=["img_header_lie.pgm"])
    negative = write(c.path("img_bad_header.pgm"), b"P5\n-3 99999999999999999999\n255\n" + bytes(100))
    c.add("pgm_bad_header", ["predict", MODEL_K3, negative], 2, [r"header|width|height|invalid|size|pgm"],
          names=["img_bad_header.pgm"])
    text = write(c.path("img_not_an_image.png"), b"hello, I am text\n")
    c.add("png_not_an_image", ["predict", MODEL_K3, text], 2, [r"not a|png|image"], names=["img_not_an_image.png"])


# MARK: - Paths: FIFOs, directories, loops, long names, control characters

def path_cases(c):
    for name, argv in (("x.h5", ["inspect"]), ("x.keras", ["inspect"]), ("x.onnx", ["inspect"])):
        fifo = c.path("fifo_" + name)
        os.mkfifo(fifo)
        c.add("fifo_" + name.replace(".", "_"), argv + [fifo], 2, [NOT_REGULAR], names=["fifo_" + name], timeout=10)
    fifo_png = c.path("fifo_x.png")
    os.mkfifo(fifo_png)
    c.add("fifo_x_png", ["predict", MODEL_K3, fifo_png], 2, [NOT_REGULAR], names=["fifo_x.png"], timeout=10)
    fifo_ref = c.path("fifo_reference.h5")
    os.mkfifo(fifo_ref)
    c.add("fifo_reference", ["validate", MODEL_K3, "--reference", fifo_ref], 2, [NOT_REGULAR], names=["fifo_reference.h5"],
          timeout=10)
    fifo_idx = c.path("fifo-images-idx3-ubyte")
    os.mkfifo(fifo_idx)
    c.add("fifo_idx", ["predict", MODEL_K3, "--input", fifo_idx], 2, [NOT_REGULAR], names=["fifo-images-idx3-ubyte"],
          timeout=10)
    zero = c.path("zero.h5")
    os.symlink("/dev/zero", zero)
    c.add("device_dev_zero_as_h5", ["inspect", zero], 2, [NOT_REGULAR], names=["zero.h5"], timeout=10)
    fifo_link = c.path("link_to_fifo.keras")
    os.symlink("fifo_x.keras", fifo_link)
    c.add("symlink_to_fifo", ["inspect", fifo_link], 2, [NOT_REGULAR], names=["link_to_fifo.keras"], timeout=10)

    directory = c.path("dir_x.h5")
    os.makedirs(directory)
    c.add("directory_named_h5", ["inspect", directory], 2, [IS_DIRECTORY], names=["dir_x.h5"])
    keras_dir = c.path("dir_x.keras")
    os.makedirs(keras_dir)
    c.add("directory_named_keras", ["inspect", keras_dir], 2, [IS_DIRECTORY], names=["dir_x.keras"])

    loop_a, loop_b = c.path("loop_a.h5"), c.path("loop_b.h5")
    os.symlink("loop_b.h5", loop_a)
    os.symlink("loop_a.h5", loop_b)
    c.add("symlink_loop", ["inspect", loop_a], 2, [r"symbolic link|symlink|loop|too many levels"], names=["loop_a.h5"],
          forbid=[r"no such file"])
    c.add("symlink_loop_message_once", ["predict", loop_a, DIGIT_PNG], 2, [r"symbolic link|symlink|loop|too many levels"],
          names=["loop_a.h5"], forbid=[r"(?s)(loop_a\.h5.*){4,}"], note="one clear message, not repeated")

    long_name = "L" * 300 + ".h5"
    c.add("path_component_too_long", ["inspect", c.path(long_name)], 2, [r"too long|name.*long|length"],
          names=["L" * 40], forbid=[r"no such file"])
    deep_path = c.path("/".join(["d" * 200] * 25) + "/model.h5")
    c.add("path_too_long", ["inspect", deep_path], 2, [r"too long|length"], names=["model.h5"], forbid=[r"no such file"])

    control = c.path("ctl_\x1b[31mred\x07_\x08name.h5")
    write(control, b"not hdf5 at all\n")
    c.add("path_control_characters", ["inspect", control], 2, [r"not an? (valid )?HDF5|not a Keras model file|format|signature"],
          names=["ctl_", "red", "name.h5"], note="control characters escaped, never echoed raw")
    control_missing = c.path("missing_\x1b]0;pwned\x07.h5")
    c.add("path_control_characters_missing", ["inspect", control_missing], 2, [r"no such file|not found|does not exist"],
          names=["missing_", ".h5"])

    c.add("missing_model", ["inspect", c.path("does_not_exist.h5")], 2, [r"no such file|not found|does not exist"],
          names=["does_not_exist.h5"])
    empty = write(c.path("empty.h5"), b"")
    c.add("empty_model", ["inspect", empty], 2, [r"empty|0 bytes|truncat|not an? (valid )?HDF5"], names=["empty.h5"])


# MARK: - Outputs: data loss, permissions, symlinks, unwritable targets

def snapshot_dir(c, name, with_image=True):
    """A case's own directory with a copy of the model (and an image), and a file that must survive."""
    directory = c.scratch(name)
    copy(MODEL_K3, os.path.join(directory, "model.h5"))
    if with_image:
        copy(DIGIT_PNG, os.path.join(directory, "digit.png"))
    os.makedirs(os.path.join(directory, "keep"))
    write(os.path.join(directory, "keep", "precious.txt"), b"this file must survive\n")
    return directory


def output_cases(c):
    for option in ("--output", "--csv", "--show-preprocessed"):
        tag = option.strip("-").replace("-", "_")
        d = snapshot_dir(c, f"out_{tag}_dir")
        c.add(f"output_{tag}_is_directory", ["predict", "model.h5", "digit.png", option, "keep"], 2, [IS_DIRECTORY],
              cwd=os.path.basename(d), names=["keep"], preserve=["keep", "model.h5", "digit.png"])
    d = snapshot_dir(c, "out_output_dot")
    c.add("output_is_working_directory", ["predict", "model.h5", "digit.png", "--output", "."], 2, [IS_DIRECTORY],
          cwd=os.path.basename(d), names=[], preserve=["."], note="--output . must not delete the working directory")
    d = snapshot_dir(c, "out_csv_dot")
    c.add("csv_is_working_directory", ["predict", "model.h5", "digit.png", "--csv", "."], 2, [IS_DIRECTORY],
          cwd=os.path.basename(d), names=[], preserve=["."])

    dense = next(l["config"]["name"] for l in layers_of(model_config(MODEL_K3)) if l["class_name"] == "Dense")
    d = snapshot_dir(c, "out_dump_model")
    c.add("dump_file_is_model", ["predict", "model.h5", "digit.png", "--dump", dense, "--dump-file", "model.h5"], 2,
          [r"input|same file|overwrite|would replace|is read"], cwd=os.path.basename(d), names=["model.h5"],
          preserve=["model.h5"])
    d = snapshot_dir(c, "out_dump_reference")
    copy(REFERENCE, os.path.join(d, "reference.h5"))
    c.add("dump_file_is_reference", ["predict", "model.h5", "--input", "reference.h5", "--limit", "2", "--dump", dense,
                                     "--dump-file", "reference.h5"], 2,
          [r"input|same file|overwrite|would replace|is read"], cwd=os.path.basename(d), names=["reference.h5"],
          preserve=["reference.h5", "model.h5"])
    d = snapshot_dir(c, "out_output_is_image")
    c.add("output_is_input_image", ["predict", "model.h5", "digit.png", "--output", "digit.png"], 2,
          [r"input|same file|overwrite|would replace|is read"], cwd=os.path.basename(d), names=["digit.png"],
          preserve=["digit.png"])
    d = snapshot_dir(c, "out_convert_self")
    c.add("convert_onto_itself", ["convert", "model.h5", "model.h5"], [2, 64], [r"input|same file|overwrite|would replace|is read"],
          cwd=os.path.basename(d), names=["model.h5"], preserve=["model.h5"])
    d = snapshot_dir(c, "out_convert_dir")
    os.makedirs(os.path.join(d, "out.keras"))
    write(os.path.join(d, "out.keras", "inside.txt"), b"must survive\n")
    c.add("convert_onto_directory", ["convert", "model.h5", "out.keras"], 2, [IS_DIRECTORY], cwd=os.path.basename(d),
          names=["out.keras"], preserve=["out.keras", "model.h5"])

    # A 0600 output keeps its permissions; a symlinked output stays a symlink (absolute
    # paths here; the same with relative paths below).
    d = snapshot_dir(c, "out_mode_0600")
    private = os.path.join(d, "private.txt")
    write(private, b"old\n")
    os.chmod(private, 0o600)
    c.add("output_keeps_mode_0600", ["predict", os.path.join(d, "model.h5"), os.path.join(d, "digit.png"), "--output", private],
          0, [], cwd=os.path.basename(d), names=[], modes=[["private.txt", "0600"]])
    d = snapshot_dir(c, "out_symlink")
    write(os.path.join(d, "real.txt"), b"old\n")
    os.symlink("real.txt", os.path.join(d, "link.txt"))
    c.add("output_symlink_stays_symlink", ["predict", os.path.join(d, "model.h5"), os.path.join(d, "digit.png"),
                                           "--output", os.path.join(d, "link.txt")], 0, [],
          cwd=os.path.basename(d), names=[], links=[["link.txt", "real.txt"]])
    d = snapshot_dir(c, "out_convert_mode")
    target = os.path.join(d, "private.onnx")
    write(target, b"old\n")
    os.chmod(target, 0o600)
    c.add("convert_keeps_mode_0600", ["convert", os.path.join(d, "model.h5"), target], 0, [], cwd=os.path.basename(d),
          names=[], modes=[["private.onnx", "0600"]])
    # Replacing an existing output given by a relative path.
    d = snapshot_dir(c, "out_relative_existing")
    write(os.path.join(d, "out.txt"), b"old\n")
    c.add("output_relative_existing_file", ["predict", "model.h5", "digit.png", "--output", "out.txt"], 0, [],
          cwd=os.path.basename(d), names=[], preserve=["model.h5", "digit.png", "keep"])
    d = snapshot_dir(c, "out_relative_existing_csv")
    write(os.path.join(d, "out.csv"), b"old\n")
    c.add("csv_relative_existing_file", ["predict", "model.h5", "digit.png", "--csv", "out.csv"], 0, [],
          cwd=os.path.basename(d), names=[], preserve=["model.h5", "digit.png", "keep"])

    # Unwritable targets: a directory that does not exist, a path through a regular file.
    d = snapshot_dir(c, "out_unwritable")
    for tag, out in (("h5", "no_such_dir/out.h5"), ("keras", "no_such_dir/out.keras"), ("onnx", "no_such_dir/out.onnx")):
        c.add(f"convert_unwritable_{tag}", ["convert", "model.h5", out], 2,
              [r"no such (file or )?directory|does not exist|cannot (write|create)|not writable"],
              cwd=os.path.basename(d), names=[out], forbid=[r"\.tmp|modelport-[0-9A-F]{8}-|temporary"])
    # Targets no one can write, even root: the message names the target, in one line, without
    # the temporary file's name or the HDF5 library's error stack.
    unwritable = r"cannot (be )?(write|written|create|created)|not writable|permission|read-only|refused|no such|does not exist"
    no_temporary = [r"\.tmp|tmp-\d|temporary|errno|o_flags"]
    for tag, out in (("h5", "/proc/modelport_out.h5"), ("keras", "/proc/modelport_out.keras"),
                     ("onnx", "/proc/modelport_out.onnx"), ("weights", "/proc/modelport_out.weights.h5"),
                     ("sys_h5", "/sys/modelport_out.h5")):
        c.add(f"convert_to_proc_{tag}", ["convert", MLP_K3, out], 2, [unwritable], names=[out], forbid=no_temporary,
              one_line=True)
    c.add("output_to_proc", ["predict", "model.h5", "digit.png", "--output", "/proc/modelport_out.txt"], 2, [unwritable],
          cwd=os.path.basename(d), names=["/proc/modelport_out.txt"], forbid=no_temporary, one_line=True)
    c.add("dump_file_to_proc", ["predict", "model.h5", "digit.png", "--dump", dense, "--dump-file", "/proc/modelport_dump.h5"],
          2, [unwritable], cwd=os.path.basename(d), names=["/proc/modelport_dump.h5"], forbid=no_temporary, one_line=True)
    c.add("output_through_file", ["predict", "model.h5", "digit.png", "--output", "digit.png/out.txt"], 2,
          [r"not a directory|" + unwritable], cwd=os.path.basename(d), names=["digit.png/out.txt"],
          preserve=["digit.png"])


# MARK: - Threads and batch sizes

def thread_cases(c):
    for threads in (3, 256):
        c.add(f"bench_threads_{threads}", ["bench", MODEL_K3, "--threads", str(threads), "--batch", "1", "--repetitions", "1",
                                           "--images", "4", "--runs", "20", "--json"], 0, [r"images_per_second"],
              names=[], stdout_json=True, note="more threads than cores must not spin forever")
    # Training splits each batch over its threads: more threads than samples per batch too.
    tiny = c.scratch("tiny_mnist")
    rng = np.random.default_rng(13)
    for part, count in (("train", 64), ("t10k", 20)):
        pixels = rng.integers(0, 256, (count, 28, 28), dtype=np.uint8)
        write(os.path.join(tiny, f"{part}-images-idx3-ubyte.gz"), gzip.compress(idx([count, 28, 28], pixels.tobytes())))
        labels = rng.integers(0, 10, count, dtype=np.uint8)
        write(os.path.join(tiny, f"{part}-labels-idx1-ubyte.gz"), gzip.compress(idx([count], labels.tobytes())))
    for threads in (3, 256):
        out = os.path.join(tiny, f"trained_threads_{threads}.h5")
        c.add(f"train_threads_{threads}", ["train", "--arch", "mnist_mlp", "--data", tiny, "--epochs", "1", "--batch-size", "32",
                                           "--threads", str(threads), "--out", out], 0, [], names=[])
    c.add("bench_batch_100000000", ["bench", MODEL_K3, "--batch", "100000000", "--repetitions", "1", "--images", "100000000",
                                    "--runs", "1"], [2, 64], [MEMORY + r"|batch"], names=[])


# MARK: - libhdf5 crashes, contained by --untrusted

def untrusted_cases(c):
    if not os.path.isdir(COMMITTED):
        return
    for name in sorted(os.listdir(COMMITTED)):
        if name.startswith("libhdf5_crash") and name.endswith(".h5"):
            path = copy(os.path.join(COMMITTED, name), c.path(name))
            c.add("untrusted_" + name[:-3], ["inspect", path, "--untrusted"], 2,
                  [r"crash|could not be read|damaged|corrupt|malformed|signal|took longer"], names=[name],
                  note="crashes (or, once seen in CI, hangs) Debian's libhdf5 1.10.8 in-process; must be contained by the child process")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=DEFAULT_OUT, help="where to write the corpus (emptied first)")
    args = parser.parse_args()
    out = os.path.abspath(args.out)
    if os.path.exists(out):
        # The data-loss cases may have left read-only or odd files: make everything removable.
        for root, dirs, files in os.walk(out):
            for d in dirs:
                p = os.path.join(root, d)
                if not os.path.islink(p):
                    os.chmod(p, 0o755)
        shutil.rmtree(out)
    os.makedirs(out)
    # Writing duplicate members on purpose.
    warnings.filterwarnings("ignore", message="Duplicate name")
    c = Corpus(out)
    for make in (keras_h5_cases, hdf5_escape_cases, keras_archive_cases, onnx_cases, reference_cases, idx_cases,
                 image_cases, path_cases, output_cases, thread_cases, untrusted_cases):
        make(c)
    c.write_manifest()
    print(f"wrote {len(c.cases)} cases to {os.path.relpath(out, os.getcwd())}")


if __name__ == "__main__":
    main()
