#!/usr/bin/env python3
"""Real CNNs beside onnxruntime and Keras: ModelPort's speed on keras.applications networks.

Issue #15 item 7 (MobileNetV2, EfficientNetB0, ResNet50, DenseNet121,
NASNetMobile, VGG16) and issue #18 item 1 (InceptionV3, Xception).

Each network is built by Keras itself, `keras.applications.X(weights=None,
input_shape=(S, S, 3))` -- nothing is downloaded -- with seeded random
weights, randomised BatchNormalization statistics (positive variance) and a
classifier scaled to a confident softmax, saved as `.keras` and
exported to ONNX with tf2onnx (`from_function`, opset 17, input (None, S, S, 3)).
Files are cached under .build/bench-cnns/<S>/ (git-ignored).

Before anything is timed, every model passes a correctness check: ModelPort
(`modelport validate`) and onnxruntime run the same batch as Keras and their
largest absolute difference from Keras is printed; a model that fails is not
timed.

Then, in interleaved rounds (each round: every model, and for each model
ModelPort, onnxruntime and Keras one after another, each in its own process):
  - ModelPort: `modelport bench model.keras --batch 1 --batch 16 --json --threads T`
  - onnxruntime: intra_op_num_threads=T, inter_op 1, sequential execution
  - Keras (TensorFlow CPU, intra-op threads T, inter-op 1): the model call as a
    traced `tf.function` (jit_compile=False) and `model.predict`, in one process
measured: throughput at batch 1 and 16 (images/s), single-image latency p50 and
p99 (ms), peak resident memory (os.wait4 ru_maxrss of the process) and model
load time (ModelPort's and Keras's `.keras`, onnxruntime's session creation).
Medians over the rounds are reported, min-max in brackets in the JSON.

The result replaces the section `## Real CNNs at SxS (issues #15, #18)` of
docs/BENCHMARKS.md (the rest of the file is kept) and goes to a JSON file beside
it (docs/benchmarks-real-cnns.json).

Usage (repo root):
  .venv/bin/python tools/bench/real_cnns.py --modelport PATH [--models a,b] [--size 224]
      [--threads 2] [--rounds 3] [--kernels auto] [--quick] [--prepare-only]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
from keras_fixture_support import randomise  # noqa: E402  (tools/keras_fixture_support.py)
from run import REPO, PY, run_measured, median_range, pct, versions  # noqa: E402  (tools/bench/run.py)

CACHE = os.path.join(REPO, ".build", "bench-cnns")
SEED = 20261207
REFERENCE_SAMPLES = 2
BATCHES = [1, 16]
# Approximate multiply-adds per image at 224x224 (G), to size the timed work per model.
MODELS = {
    "MobileNetV2": 0.3, "EfficientNetB0": 0.4, "ResNet50": 3.9, "DenseNet121": 2.9,
    "NASNetMobile": 0.6, "VGG16": 15.5, "InceptionV3": 5.7, "Xception": 8.4,
}
ISSUE15 = ["MobileNetV2", "EfficientNetB0", "ResNet50", "DenseNet121", "NASNetMobile", "VGG16"]
ISSUE18 = ["InceptionV3", "Xception"]
CHILD_TIMEOUT = 1200  # seconds; a hung child must not eat the whole run


# ---------------------------------------------------------------- work plan per model

def plan(name, size, quick, scale):
    """Images per timed pass (the same at batch 1 and 16), timed passes per process, latency runs: the fewest
    that still measure something for the big models (a pass of 16 images is one batch of 16)."""
    if quick:
        return {"images": 16, "repetitions": 1, "runs": 3}
    gmacs = MODELS[name] * (size / 224.0) ** 2
    light = gmacs * 1.0 / scale < 1.0
    return {"images": 32 if light else 16, "repetitions": 1, "runs": 16 if light else 8}


# ---------------------------------------------------------------- child processes

def child_prepare(name, size, folder):
    """Build, randomise, save .keras, reference outputs from the reloaded file."""
    import numpy as np
    import h5py
    import tensorflow as tf
    import keras
    start = time.perf_counter()
    keras.utils.set_random_seed(SEED)
    model = getattr(keras.applications, name)(weights=None, input_shape=(size, size, 3))
    rng = np.random.default_rng(SEED)
    randomise(model, rng)  # tools/keras_fixture_support.py, as the application fixtures
    # With random weights the 1000 logits are nearly equal and the softmax almost uniform (every output ~1e-3),
    # which would make any comparison with Keras vacuous: the classifier kernel is redrawn so the logits have a
    # standard deviation of about 4 on random inputs (a confident softmax, as a trained model's).
    head = model.layers[-1]
    features = keras.Model(model.inputs, head.input)(
        rng.random((4, size, size, 3), dtype=np.float32), training=False)
    features = np.asarray(features, dtype=np.float64)
    kernel = rng.normal(0, 1, tuple(head.kernel.shape))
    kernel *= 4.0 / max(float((features @ kernel).std()), 1e-12)
    head.set_weights([kernel.astype(np.float32), np.zeros(tuple(head.bias.shape), np.float32)])
    keras_path = os.path.join(folder, name + ".keras")
    model.save(keras_path)
    model = keras.models.load_model(keras_path, compile=False)
    x = np.random.default_rng(SEED + 1).random((REFERENCE_SAMPLES, size, size, 3), dtype=np.float32)
    y = np.asarray(model(x, training=False), dtype=np.float32)
    with h5py.File(os.path.join(folder, name + ".reference.h5"), "w") as f:
        f.create_dataset("inputs", data=x)
        f.create_dataset("outputs", data=y)
    meta = {"model": name, "size": size, "seed": SEED, "parameters": int(model.count_params()),
            "keras": keras.__version__, "tensorflow": tf.__version__,
            "reference_output": {"max": float(y.max()), "min": float(y.min()), "std": float(y.std()),
                                 "top1": [int(i) for i in y.argmax(-1)], "top1_probability": [float(p) for p in y.max(-1)]},
            "build_seconds": time.perf_counter() - start}
    with open(os.path.join(folder, name + ".build.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(json.dumps(meta))


def child_export(name, size, folder, limit_gb):
    """tf2onnx's conversion of the saved .keras, in a process with an address-space limit (tf2onnx's graph
    optimisation of VGG16 grew past 22 GB and was killed by the kernel's OOM killer on a 23 GB machine)."""
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (int(limit_gb * 2**30),) * 2)
    import tensorflow as tf
    import keras
    import tf2onnx
    import onnx
    import onnx.numpy_helper
    start = time.perf_counter()
    model = keras.models.load_model(os.path.join(folder, name + ".keras"), compile=False)
    spec = (tf.TensorSpec((None, size, size, 3), tf.float32, name="input"),)
    function = tf.function(lambda a: model(a, training=False), input_signature=spec)
    proto, _ = tf2onnx.convert.from_function(function, input_signature=spec, opset=17)
    proto.producer_name = "tf2onnx"
    # tf2onnx freezes captured variables but leaves captured constant tensors as graph inputs (EfficientNet's
    # Normalization layer keeps its mean and variance as such tensors): they are made initializers, with the
    # values the traced function captured, so the ONNX file has the model's one input.
    concrete = function.get_concrete_function()
    placeholders = concrete.inputs[len(concrete.inputs) - len(concrete.captured_inputs):]
    captured = {p.name: v for p, v in zip(placeholders, concrete.captured_inputs) if v.dtype != tf.resource}
    fixed = []
    for graph_input in list(proto.graph.input)[1:]:
        if graph_input.name in captured:
            proto.graph.initializer.append(onnx.numpy_helper.from_array(captured[graph_input.name].numpy(), graph_input.name))
            proto.graph.input.remove(graph_input)
            fixed.append(graph_input.name)
    onnx.save(proto, os.path.join(folder, name + ".onnx"))
    print(json.dumps({"onnx_exporter": f"tf2onnx {tf2onnx.__version__} (from_function, opset 17)",
                      "onnx_ops": sorted({n.op_type for n in proto.graph.node}),
                      "onnx_captured_constants_made_initializers": fixed, "export_seconds": time.perf_counter() - start}))


def child_ort_check(onnx_path, reference, threads):
    import numpy as np
    import h5py
    import onnxruntime as ort
    with h5py.File(reference, "r") as f:
        x, y = f["inputs"][...], f["outputs"][...]
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    s = ort.InferenceSession(onnx_path, o, providers=["CPUExecutionProvider"])
    got = s.run(None, {s.get_inputs()[0].name: x})[0]
    print(json.dumps({"max_abs_error": float(np.max(np.abs(got - y))),
                      "argmax_agreement": int(np.sum(got.argmax(-1) == y.argmax(-1))), "samples": len(x)}))


def inputs(size, n):
    """Values in [0, 1), as `modelport bench` generates."""
    import numpy as np
    return np.random.default_rng(SEED + 2).random((n, size, size, 3), dtype=np.float32)


def child_ort(onnx_path, size, threads, work):
    import onnxruntime as ort
    o = ort.SessionOptions()
    o.intra_op_num_threads = threads
    o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    t0 = time.perf_counter()
    s = ort.InferenceSession(onnx_path, o, providers=["CPUExecutionProvider"])
    load = time.perf_counter() - t0
    name = s.get_inputs()[0].name
    x = inputs(size, work["images"])
    out = {"load_ms": load * 1000, "throughput": {}}
    for bs, n in ((1, work["images"]), (16, work["images"])):
        s.run(None, {name: x[:bs]})
        rates = []
        for _ in range(work["repetitions"]):
            t = time.perf_counter()
            for k in range(0, n - bs + 1, bs):
                s.run(None, {name: x[k:k + bs]})
            rates.append((n - n % bs) / (time.perf_counter() - t))
        out["throughput"][str(bs)] = statistics.median(rates)
    lat = []
    for i in range(work["runs"]):
        a = x[i % len(x):i % len(x) + 1]
        t = time.perf_counter()
        s.run(None, {name: a})
        lat.append((time.perf_counter() - t) * 1000)
    out["latency_ms_p50"], out["latency_ms_p99"] = pct(lat, 50), pct(lat, 99)
    print(json.dumps(out))


def child_keras(keras_path, size, threads, work):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    t0 = time.perf_counter()
    m = keras.models.load_model(keras_path, compile=False)
    load = time.perf_counter() - t0
    x = inputs(size, work["images"])
    out = {"load_ms": load * 1000, "throughput": {}, "predict_throughput": {}}
    f = tf.function(lambda a: m(a, training=False), jit_compile=False,
                    input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32)])
    for bs, n in ((1, work["images"]), (16, work["images"])):
        f(tf.constant(x[:bs])).numpy()
        rates = []
        for _ in range(work["repetitions"]):
            t = time.perf_counter()
            for k in range(0, n - bs + 1, bs):
                f(tf.constant(x[k:k + bs])).numpy()
            rates.append((n - n % bs) / (time.perf_counter() - t))
        out["throughput"][str(bs)] = statistics.median(rates)
    lat = []
    for i in range(work["runs"]):
        a = tf.constant(x[i % len(x):i % len(x) + 1])
        t = time.perf_counter()
        f(a).numpy()
        lat.append((time.perf_counter() - t) * 1000)
    out["latency_ms_p50"], out["latency_ms_p99"] = pct(lat, 50), pct(lat, 99)
    # model.predict, the call most Keras code makes (its own per-call overhead included).
    for bs, n in ((1, work["images"]), (16, work["images"])):
        m.predict(x[:bs], batch_size=bs, verbose=0)
        rates = []
        for _ in range(work["repetitions"]):
            t = time.perf_counter()
            m.predict(x[:n], batch_size=bs, verbose=0)
            rates.append(n / (time.perf_counter() - t))
        out["predict_throughput"][str(bs)] = statistics.median(rates)
    print(json.dumps(out))


# ---------------------------------------------------------------- parent

LOAD_SAMPLES = []  # the 1-minute load average as each child starts


def child(args_list, env=None):
    """Run a child under `timeout` (its peak RSS still reaches wait4: timeout waits for it)."""
    LOAD_SAMPLES.append(os.getloadavg()[0])
    cmd = ["timeout", "--kill-after=10", str(CHILD_TIMEOUT)] + args_list
    return run_measured(cmd, env=env)


def self_cmd(*a):
    return [PY, os.path.abspath(__file__)] + [str(v) for v in a]


def prepare(name, size, mp, log):
    """The cached .keras, .onnx and reference of a model at this size, made when missing."""
    folder = os.path.join(CACHE, str(size))
    os.makedirs(folder, exist_ok=True)
    meta_path = os.path.join(folder, name + ".json")
    files = [os.path.join(folder, name + ext) for ext in (".keras", ".onnx", ".reference.h5")]
    if os.path.exists(meta_path) and all(os.path.exists(p) for p in files):
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("seed") == SEED:
            return meta, files
    build_path = os.path.join(folder, name + ".build.json")
    if os.path.exists(build_path) and all(os.path.exists(p) for p in (files[0], files[2])):
        with open(build_path) as f:
            meta = json.load(f)
    else:
        log(f"building {name} at {size}x{size} (keras.applications, randomised, saved as .keras) ...")
        out, wall, _ = child(self_cmd("_build", name, size, folder))
        meta = json.loads(out.strip().splitlines()[-1])
        ro = meta["reference_output"]
        log(f"  {name}: {meta['parameters']:,} parameters, {wall:.0f} s, softmax outputs in [{ro['min']:.3g}, {ro['max']:.3g}]")
    log(f"exporting {name} to ONNX with tf2onnx ...")
    try:
        limit = max(4.0, min(12.0, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 / 2))
        out, wall, rss = child(self_cmd("_export", name, size, folder, limit))
        meta.update(json.loads(out.strip().splitlines()[-1]))
        log(f"  {name}: tf2onnx, {wall:.0f} s, peak {rss:,.0f} MB")
    except RuntimeError as e:
        # Disclosed in the report: onnxruntime then runs ModelPort's own ONNX export (checked by modelport convert).
        error = [line for line in str(e).strip().splitlines() if "cudart_stub" not in line and "absl::" not in line]
        status = re.search(r"failed \((-?\d+)\):", str(e))
        status = int(status.group(1)) if status else None
        why = (f"killed by signal {status} ({signal_name(status)})" if status and 0 < status < 128 else
               f"{error[-1] if error else 'no message'}") + f" in a process limited to {limit:.1f} GB of address space"
        log(f"  {name}: tf2onnx failed: {why}; using `modelport convert` instead")
        converted = subprocess.run([mp, "convert", files[0], files[1]], capture_output=True, text=True, timeout=CHILD_TIMEOUT)
        if converted.returncode != 0:
            raise RuntimeError(f"tf2onnx failed:\n{e}\nmodelport convert failed:\n{converted.stderr}")
        import onnx  # only the graph's operator list
        meta.update({"onnx_exporter": f"`modelport convert` (tf2onnx failed: {why})",
                     "tf2onnx_error": "\n".join(error[-20:]),
                     "onnx_ops": sorted({n.op_type for n in onnx.load(files[1], load_external_data=False).graph.node})})
    with open(meta_path, "w") as f:
        json.dump(meta, f, indent=2)
    return meta, files


def signal_name(number):
    import signal
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"


def check(name, mp, files, args, log):
    """ModelPort's and onnxruntime's outputs on the reference batch beside Keras's."""
    keras_path, onnx_path, reference = files
    result = {}
    proc = subprocess.run([mp, "validate", keras_path, "--reference", reference, "--json", "--atol", "1e-4",
                           "--rtol", "1e-3"], capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    try:
        v = json.loads(proc.stdout)
        result["modelport"] = {k: v.get(k) for k in ("max_abs_error", "max_rel_error", "argmax_agreement",
                                                     "samples", "passed", "elements_outside_tolerance")}
    except json.JSONDecodeError:
        result["modelport"] = {"error": (proc.stderr or proc.stdout).strip(), "exit_status": proc.returncode}
    try:
        out, _, _ = child(self_cmd("_ortcheck", onnx_path, reference, args.threads))
        result["onnxruntime"] = json.loads(out.strip().splitlines()[-1])
    except RuntimeError as e:
        result["onnxruntime"] = {"error": str(e)}
    ok = {}
    for peer, r in result.items():
        ok[peer] = "error" not in r and r["max_abs_error"] <= args.tolerance and r["argmax_agreement"] == r["samples"]
        shown = r.get("error", "").splitlines()[-1] if "error" in r else \
            f"max |{peer} - keras| = {r['max_abs_error']:.2e}, arg-max {r['argmax_agreement']}/{r['samples']}"
        log(f"  check {name}: {'ok  ' if ok[peer] else 'FAIL'} {shown}")
    result["passed"] = ok
    return result


def cpu_info():
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown")
    flags = set(next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "").split())
    return {"model": model, "cores": os.cpu_count(),
            "flags": {f: f in flags for f in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni")}}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--modelport", default=os.path.join(REPO, ".build", "release", "modelport"),
                    help="a release modelport binary (default: .build/release/modelport)")
    ap.add_argument("--models", default=",".join(MODELS), help="comma-separated, of: " + ", ".join(MODELS))
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0, help="above 1, more models count as light (32 images per pass)")
    ap.add_argument("--budget-minutes", type=float, default=0,
                    help="stop starting rounds (after the first) when the next one would end past this many minutes"
                         " from the start of the timed rounds (0: no limit, all --rounds)")
    ap.add_argument("--kernels", default="auto", choices=["auto", "avx2", "avx512", "blas"],
                    help="ModelPort's kernels (passed to modelport bench --kernels)")
    ap.add_argument("--tolerance", type=float, default=1e-4,
                    help="largest |output - Keras| accepted by the correctness check (outputs are softmax probabilities)")
    ap.add_argument("--quick", action="store_true", help="one round, a handful of images (a smoke run)")
    ap.add_argument("--prepare-only", action="store_true", help="only build, export and check the models")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "BENCHMARKS.md"))
    args = ap.parse_args()
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown models: {', '.join(unknown)}")
    mp = os.path.abspath(args.modelport)
    if not os.access(mp, os.X_OK):
        ap.error(f"no modelport binary at {mp} (build one with swift build -c release, or pass --modelport)")
    rounds = 1 if args.quick else args.rounds
    started = time.time()
    # A private copy, so a binary replaced during the run (another build finishing) does not mix two builds.
    built = os.path.getmtime(mp)
    private = os.path.join(CACHE, "modelport-" + time.strftime("%Y%m%dT%H%M%S", time.gmtime(built)))
    os.makedirs(CACHE, exist_ok=True)
    if not os.path.exists(private):
        shutil.copy2(mp, private + ".tmp")
        os.replace(private + ".tmp", private)
    source_mp, mp = mp, private
    commit_file = os.path.join(os.path.dirname(source_mp), "COMMIT")
    built_from = open(commit_file).read().strip() if os.path.exists(commit_file) else None

    def log(msg):
        print(f"[{time.time() - started:6.0f} s] {msg}", flush=True)

    results = {"command": " ".join([".venv/bin/python", os.path.relpath(os.path.abspath(__file__), REPO)] + sys.argv[1:]),
               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "size": args.size, "threads": args.threads,
               "rounds": rounds, "rounds_requested": rounds, "budget_minutes": args.budget_minutes, "kernels_requested": args.kernels, "cpu": cpu_info(),
               "load_average_start": list(os.getloadavg()), "models": {}, "failures": []}
    log(f"load average {results['load_average_start']}")

    # Build and export (cached), then the correctness check, before anything is timed.
    ready = []
    for name in names:
        entry = results["models"][name] = {}
        try:
            meta, files = prepare(name, args.size, mp, log)
        except RuntimeError as e:
            entry["error"] = f"prepare: {e}"
            results["failures"].append({"model": name, "stage": "prepare", "error": str(e)})
            log(f"  {name}: preparation failed\n{e}")
            continue
        entry.update({"parameters": meta["parameters"], "reference_output": meta["reference_output"],
                      "onnx_ops": meta["onnx_ops"], "onnx_exporter": meta.get("onnx_exporter", f"tf2onnx {meta.get('tf2onnx')} (from_function, opset 17)"), "work": plan(name, args.size, args.quick, args.scale)})
        c = entry["check"] = check(name, mp, files, args, log)
        for peer, good in c["passed"].items():
            if not good:
                results["failures"].append({"model": name, "stage": f"check ({peer})", "error": c[peer].get("error") or
                                            f"max abs error {c[peer]['max_abs_error']:.3g} > {args.tolerance:g} or arg-max differs"})
        if all(c["passed"].values()):
            ready.append((name, files))
        else:
            entry["skipped"] = "correctness check failed: not timed"
    if args.prepare_only:
        print(json.dumps(results["failures"], indent=2))
        return

    # Interleaved rounds.
    raw = {name: {peer: [] for peer in ("modelport", "onnxruntime", "keras")} for name, _ in ready}
    timing_started = time.time()
    for round_ in range(rounds):
        elapsed = time.time() - timing_started
        if round_ and args.budget_minutes and elapsed + elapsed / round_ > args.budget_minutes * 60:
            log(f"stopping after {round_} round(s): another would end past the {args.budget_minutes:g}-minute budget")
            break
        results["rounds"] = round_ + 1
        for name, (keras_path, onnx_path, _) in ready:
            work = results["models"][name]["work"]
            log(f"round {round_ + 1}/{rounds}: {name} {work}")
            runs = {
                "modelport": [mp, "bench", keras_path, "--json", "--threads", args.threads, "--kernels", args.kernels,
                              "--images", work["images"], "--repetitions", work["repetitions"], "--runs", work["runs"],
                              "--batch", 1, "--batch", 16],
                "onnxruntime": self_cmd("_ort", onnx_path, args.size, args.threads, json.dumps(work)),
                "keras": self_cmd("_keras", keras_path, args.size, args.threads, json.dumps(work)),
            }
            for peer, cmd in runs.items():
                if raw[name].get("failed", {}).get(peer):
                    continue
                try:
                    out, _, rss = child([str(v) for v in cmd])
                    r = json.loads(out.strip().splitlines()[-1])
                    r["rss_mb"] = rss
                    if peer == "modelport":
                        r["throughput"] = {str(t["batch_size"]): t["images_per_second"] for t in r["throughput"]}
                except (RuntimeError, json.JSONDecodeError) as e:
                    raw[name].setdefault("failed", {})[peer] = str(e)
                    results["failures"].append({"model": name, "stage": f"timing ({peer})", "error": str(e)})
                    log(f"  {peer} failed:\n{e}")
                    continue
                raw[name][peer].append(r)
                log(f"  {peer:11s} b1 {r['throughput']['1']:8.2f}/s  b16 {r['throughput']['16']:8.2f}/s"
                    f"  p50 {r['latency_ms_p50']:8.1f} ms  rss {r['rss_mb']:6.0f} MB  load {r['load_ms']:7.0f} ms")
    results["load_average_end"] = list(os.getloadavg())
    results["load_average_during"] = {"samples": len(LOAD_SAMPLES), "mean": statistics.mean(LOAD_SAMPLES or [0]),
                                      "max": max(LOAD_SAMPLES or [0])}
    log(f"load average {results['load_average_end']}; during the run (1-minute, at each child's start):"
        f" mean {results['load_average_during']['mean']:.2f}, max {results['load_average_during']['max']:.2f}")
    for name, peers in raw.items():
        entry = results["models"][name]
        for peer, rs in peers.items():
            if peer == "failed" or not rs:
                continue
            agg = {"throughput": {b: list(median_range([r["throughput"][b] for r in rs])) for b in ("1", "16")},
                   "latency_ms_p50": statistics.median(r["latency_ms_p50"] for r in rs),
                   "latency_ms_p99": statistics.median(r["latency_ms_p99"] for r in rs),
                   "rss_mb": max(r["rss_mb"] for r in rs),
                   "load_ms": list(median_range([r["load_ms"] for r in rs])), "rounds": rs}
            if peer == "keras":
                agg["predict_throughput"] = {b: list(median_range([r["predict_throughput"][b] for r in rs]))
                                             for b in ("1", "16")}
            if peer == "modelport":
                agg["kernels"] = rs[-1].get("kernels")
                agg["blas"] = rs[-1].get("blas")
            entry[peer] = agg
    results["versions"] = safe_versions()
    try:
        import tf2onnx
        results["versions"]["tf2onnx"] = tf2onnx.__version__
    except Exception as e:  # noqa: BLE001
        results["versions"]["tf2onnx"] = f"unavailable ({e.__class__.__name__})"
    results["modelport_binary"] = {"path": source_mp, "copy": mp, "modified": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(os.path.getmtime(mp)))}
    results["repo_commit"] = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                                            text=True).stdout.strip()
    # The commit the binary was built from, when a COMMIT file beside it says; commits to the sources made
    # after it (or after the binary was built) are not in what was measured.
    results["modelport_binary"]["commit"] = built_from
    since = [f"{built_from}..HEAD"] if built_from else \
        ["--since=" + time.strftime("%Y-%m-%d %H:%M:%S +0000", time.gmtime(os.path.getmtime(mp)))]
    results["source_commits_newer_than_binary"] = subprocess.run(
        ["git", "-C", REPO, "log", "--format=%h"] + since + ["--", "Sources"], capture_output=True, text=True).stdout.split()
    results["seconds"] = time.time() - started
    write_report(results, args)


def safe_versions():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env_path = os.environ.get("PATH", "")
    if "/opt/swift/usr/bin" not in env_path:
        os.environ["PATH"] = "/opt/swift/usr/bin:" + env_path
    try:
        return versions()
    except Exception as e:  # noqa: BLE001 - versions are informative only
        return {"error": repr(e)}


# ---------------------------------------------------------------- report

def fmt_rate(v):
    return "—" if v is None else f"{v:,.1f}" if v < 100 else f"{v:,.0f}"


def write_report(r, args):
    heading = f"## Real CNNs at {r['size']}x{r['size']} (issues #15, #18)"
    if args.kernels != "auto":
        heading += f", ModelPort `--kernels {args.kernels}`"
    json_name = "benchmarks-real-cnns.json" if (r["size"] == 224 and args.kernels == "auto") else \
        f"benchmarks-real-cnns-{r['size']}-{args.kernels}.json"
    json_path = os.path.join(os.path.dirname(os.path.abspath(args.out)), json_name)
    cpu = r["cpu"]
    isa = "AVX-512" if cpu["flags"]["avx512f"] else "AVX2+FMA, no AVX-512" if cpu["flags"]["avx2"] else "no AVX2"
    kernels = sorted({m["modelport"]["kernels"] for m in r["models"].values() if "modelport" in m and m["modelport"].get("kernels")})
    blas = sorted({m["modelport"]["blas"] for m in r["models"].values() if "modelport" in m and m["modelport"].get("blas")})
    v = r["versions"]
    la0, la1, ld = r["load_average_start"], r["load_average_end"], r["load_average_during"]
    names = list(r["models"])
    works = {n: r["models"][n].get("work") for n in names}
    L = [heading, "",
         f"Produced on {r['date']} by", "", "```", r["command"], "```", "",
         f"(repo at {r['repo_commit']}; ModelPort release binary built {r['modelport_binary']['modified']}"
         + (f" from {r['modelport_binary']['commit']}" if r["modelport_binary"].get("commit") else "")
         + (f"; source commits made after it was built: {', '.join(r['source_commits_newer_than_binary'])}"
            if r.get("source_commits_newer_than_binary") else "")
         + f"; the run took {r['seconds'] / 60:.0f} minutes)."
         f" Every network is `keras.applications.<Name>(weights=None, input_shape=({r['size']}, {r['size']}, 3))` with the"
         " 1000-class softmax top, seeded random weights and randomised BatchNormalization statistics (no pretrained"
         " weights are downloaded; speed does not depend on the values), saved as `.keras` for ModelPort and Keras and"
         f" exported with tf2onnx {v.get('tf2onnx')} (`from_function`, opset 17, input (None, H, W, 3)) for onnxruntime"
         " (where tf2onnx failed, the table below says so and onnxruntime runs `modelport convert`'s ONNX file instead).",
         "",
         f"Machine: {cpu['model']}, {cpu['cores']} cores ({isa}; flags avx2={cpu['flags']['avx2']},"
         f" fma={cpu['flags']['fma']}, avx512f={cpu['flags']['avx512f']})."
         f" ModelPort's kernel family as it reported it: {', '.join(kernels) or 'unknown'}"
         f" (`--kernels {args.kernels}`; its BLAS: {', '.join(blas) or 'unknown'})."
         f" Versions: TensorFlow {v.get('tensorflow')}, Keras {v.get('keras')}, onnxruntime {v.get('onnxruntime')}, {v.get('swift')}.",
         "",
         f"Threads: {r['threads']} for every peer (ModelPort `--threads`, onnxruntime intra-op with sequential execution,"
         " TensorFlow intra-op with inter-op 1). "
         f"{r['rounds']} interleaved round(s)"
         + (f" (of {r['rounds_requested']} requested: the {r['budget_minutes']:g}-minute budget stopped it)"
            if r["rounds"] < r["rounds_requested"] else "")
         + ": in each, every model in turn, and for each model ModelPort, onnxruntime and"
         " Keras one after another, each in its own process; medians over the rounds (all rounds are in"
         f" [{json_name}]({json_name})). Inputs are random values in [0, 1). Keras is the model call traced as a"
         " `tf.function` (jit_compile=False), with `model.predict` beside it; ModelPort is `modelport bench model.keras`.",
         "",
         f"Load average (1, 5, 15 minutes) before the run: {la0[0]:.2f}, {la0[1]:.2f}, {la0[2]:.2f} (other work only);"
         f" after it: {la1[0]:.2f}, {la1[1]:.2f}, {la1[2]:.2f}; 1-minute load as each measured process started: mean"
         f" {ld['mean']:.2f}, max {ld['max']:.2f} (this benchmark alone accounts for up to {r['threads']})."
         + (" **The machine was shared**: other work (builds, tests) ran on its 2 cores during this run, so the"
            " absolute figures are lower and noisier than on an idle machine. The peers ran in the same rounds,"
            " one after another, so all saw similar conditions and the ratios are the more reliable figures."
            if la0[0] > 1.0 or ld["max"] > r["threads"] + 1.0 else
            " The machine was otherwise idle enough for the figures to stand as measured."),
         "",
         "Correctness, before timing (the same batch of " + str(REFERENCE_SAMPLES) + " images through each peer, the"
         " largest absolute difference from Keras's softmax outputs; a model failing it is not timed):", "",
         "| model | parameters | max abs diff ModelPort | max abs diff onnxruntime | arg-max agrees | ONNX file from |",
         "|---|---:|---:|---:|:---:|---|"]
    for n in names:
        m = r["models"][n]
        c = m.get("check", {})
        def d(p):
            x = c.get(p, {})
            return "error" if "error" in x else f"{x['max_abs_error']:.1e}" if "max_abs_error" in x else "—"
        agree = all(c.get(p, {}).get("argmax_agreement") == c.get(p, {}).get("samples") for p in ("modelport", "onnxruntime")) if c else False
        L.append(f"| {n} | {m.get('parameters', 0):,} | {d('modelport')} | {d('onnxruntime')} | {'yes' if agree else 'no'} |"
                 f" {m.get('onnx_exporter', '—')} |")

    def tp(m, peer, b, key="throughput"):
        return m.get(peer, {}).get(key, {}).get(b, [None])[0]

    def ratio(a, b):
        return "—" if a is None or b is None else f"{a / b:.2f}x"

    for b in ("1", "16"):
        L += ["", f"### Throughput at batch {b} (images/s, higher is better)", "",
              "| model | ModelPort | onnxruntime | Keras tf.function | Keras predict | **ModelPort / onnxruntime** | **ModelPort / Keras tf.function** |",
              "|---|---:|---:|---:|---:|---:|---:|"]
        for n in names:
            m = r["models"][n]
            a, o, k, p = tp(m, "modelport", b), tp(m, "onnxruntime", b), tp(m, "keras", b), tp(m, "keras", b, "predict_throughput")
            L.append(f"| {n} | {fmt_rate(a)} | {fmt_rate(o)} | {fmt_rate(k)} | {fmt_rate(p)} | {ratio(a, o)} | {ratio(a, k)} |")
    L += ["", "### Single-image latency, peak memory, load time", "",
          "Latency in-process, p50 (p99) in ms, lower is better; peak resident memory of the whole process (MB,"
          " os.wait4); model load time (ms: ModelPort and Keras read the `.keras`, onnxruntime creates a session"
          " for the `.onnx`).", "",
          "| model | p50 (p99) ModelPort | onnxruntime | Keras tf.function | **p50 ModelPort / onnxruntime** |"
          " RSS ModelPort | onnxruntime | Keras | load ModelPort | onnxruntime | Keras |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n in names:
        m = r["models"][n]
        def lat(p):
            x = m.get(p)
            return "—" if not x else f"{x['latency_ms_p50']:.1f} ({x['latency_ms_p99']:.1f})"
        def rss(p):
            return "—" if p not in m else f"{m[p]['rss_mb']:,.0f}"
        def load(p):
            return "—" if p not in m else f"{m[p]['load_ms'][0]:,.0f}"
        lr = ratio(m["modelport"]["latency_ms_p50"], m["onnxruntime"]["latency_ms_p50"]) \
            if "modelport" in m and "onnxruntime" in m else "—"
        L.append(f"| {n} | {lat('modelport')} | {lat('onnxruntime')} | {lat('keras')} | {lr} | {rss('modelport')} |"
                 f" {rss('onnxruntime')} | {rss('keras')} | {load('modelport')} | {load('onnxruntime')} | {load('keras')} |")
    L += ["", "Timed work per model and round (each peer): " + "; ".join(
        f"{n} {w['images']} images per timed pass at batch 1 and at batch 16, {w['repetitions']} pass(es) each,"
        f" {w['runs']} latency runs" for n, w in works.items() if w) + "."]
    if r["failures"]:
        L += ["", "Failures in this run (verbatim):", ""]
        for f in r["failures"]:
            L += [f"- {f['model']}, {f['stage']}:", "", "  ```", *("  " + line for line in f["error"].strip().splitlines()[-15:]), "  ```"]
    L.append("")
    replace_section(args.out, heading, "\n".join(L))
    with open(json_path + ".tmp", "w") as f:
        json.dump(r, f, indent=2)
    os.replace(json_path + ".tmp", json_path)
    print(f"wrote the section '{heading}' of {args.out} and {json_path}")


def replace_section(path, heading, text):
    """Replace the `## heading` section (up to the next `## ` heading) or append it; the rest is kept as is."""
    old = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    pattern = re.compile(r"^" + re.escape(heading) + r"\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(old):
        new = pattern.sub(lambda _: text + "\n", old, count=1)
    else:
        new = old.rstrip("\n") + "\n\n\n" + text
    with open(path + ".tmp", "w") as f:
        f.write(new.rstrip("\n") + "\n")
    os.replace(path + ".tmp", path)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1].startswith("_"):
        mode, a = sys.argv[1], sys.argv[2:]
        if mode == "_build":
            child_prepare(a[0], int(a[1]), a[2])
        elif mode == "_export":
            child_export(a[0], int(a[1]), a[2], float(a[3]))
        elif mode == "_ortcheck":
            child_ort_check(a[0], a[1], int(a[2]))
        elif mode == "_ort":
            child_ort(a[0], int(a[1]), int(a[2]), json.loads(a[3]))
        elif mode == "_keras":
            child_keras(a[0], int(a[1]), int(a[2]), json.loads(a[3]))
        else:
            sys.exit(f"unknown child mode {mode}")
    else:
        main()
