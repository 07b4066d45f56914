#!/usr/bin/env python3
"""Side-by-side benchmark: ModelPort, Keras (TensorFlow CPU) and onnxruntime.

One run, one machine, one model file, the same data (the 10,000 MNIST test
images) and the same thread count for every peer. Each measurement runs in its
own process (so peak resident memory is that process's own), is repeated, and
is reported as the median with the min-max range. Results go to
docs/BENCHMARKS.md (absolute figures and ratios) and a JSON file beside it.

Measured:
  - batched inference throughput at batch 1, 32, 128, 1024 (images/s)
  - single-image latency p50/p99 in-process (ms)
  - training seconds per epoch on 60,000 images (tutorial CNN at batch 64 and
    128, the MLP at batch 128; Adam, categorical cross-entropy)
  - peak resident memory (MB) while inferring and while training
  - whole-process time of `modelport predict model.h5 digit.png` vs the
    equivalent Python script with Keras
  - model load time (.h5, .keras, .onnx)

Usage (repo root, after tools/setup.sh):
  .venv/bin/python tools/bench/run.py [--threads 2] [--repetitions 5] [--quick]

The peers run in rounds (each round: ModelPort, Keras, onnxruntime, each in
its own process), so that a noisy period on a shared machine disturbs all
of them; training alternates two runs per peer and reports each one's best.
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PY = sys.executable
MNIST = os.environ.get("MNIST_DIR", os.path.join(os.path.dirname(REPO), "shared", "data", "mnist"))
MODEL = os.path.join(REPO, "fixtures", "mnist_digit_model.h5")
BATCHES = [1, 32, 128, 1024]


def run_measured(cmd, env=None):
    """Like run, but returns the child's peak RSS (MB) from os.wait4."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({status}):\n{err.decode()[-3000:]}")
    return out.decode(), wall, usage.ru_maxrss / 1024.0


# ---------------------------------------------------------------- peers (run as child processes)

KERAS_INFER = textwrap.dedent("""
    import json, sys, time, os, gzip, numpy as np
    import tensorflow as tf
    threads, reps, model_path, images_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    raw = gzip.open(images_path).read()
    x = (np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28, 1).astype(np.float32) / 255.0)
    t0 = time.perf_counter(); m = keras.models.load_model(model_path, compile=False); load = time.perf_counter() - t0
    out = {"load_ms": load * 1000, "throughput": {}}
    for bs in %s:
        n = min(len(x), max(bs * 20, 2000)) if bs == 1 else len(x)
        m.predict(x[:bs * 2], batch_size=bs, verbose=0)
        rates = []
        for _ in range(reps):
            t = time.perf_counter(); m.predict(x[:n], batch_size=bs, verbose=0); rates.append(n / (time.perf_counter() - t))
        out["throughput"][bs] = rates
    # Keras's fastest single-image path: a traced tf.function of the model call.
    f = tf.function(lambda a: m(a, training=False), input_signature=[tf.TensorSpec([1, 28, 28, 1], tf.float32)])
    one = tf.constant(x[:1])
    for _ in range(50): f(one)
    lat = []
    for i in range(1000):
        a = tf.constant(x[i:i + 1]); t = time.perf_counter(); f(a).numpy(); lat.append((time.perf_counter() - t) * 1000)
    out["latency_ms"] = lat
    print(json.dumps(out))
""" % BATCHES)

ORT_INFER = textwrap.dedent("""
    import json, sys, time, gzip, numpy as np, onnxruntime as ort
    threads, reps, model_path, images_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    raw = gzip.open(images_path).read()
    x = (np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28, 1).astype(np.float32) / 255.0)
    o = ort.SessionOptions(); o.intra_op_num_threads = threads; o.inter_op_num_threads = 1
    o.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    t0 = time.perf_counter(); s = ort.InferenceSession(model_path, o, providers=["CPUExecutionProvider"]); load = time.perf_counter() - t0
    name = s.get_inputs()[0].name
    out = {"load_ms": load * 1000, "throughput": {}}
    for bs in %s:
        n = min(len(x), max(bs * 20, 2000)) if bs == 1 else len(x)
        s.run(None, {name: x[:bs]})
        rates = []
        for _ in range(reps):
            t = time.perf_counter()
            for k in range(0, n - bs + 1, bs): s.run(None, {name: x[k:k + bs]})
            rates.append((n - n %% bs) / (time.perf_counter() - t))
        out["throughput"][bs] = rates
    for _ in range(50): s.run(None, {name: x[:1]})
    lat = []
    for i in range(1000):
        a = x[i:i + 1]; t = time.perf_counter(); s.run(None, {name: a}); lat.append((time.perf_counter() - t) * 1000)
    out["latency_ms"] = lat
    print(json.dumps(out))
""" % BATCHES)

KERAS_TRAIN = textwrap.dedent("""
    import json, sys, time, gzip, numpy as np
    import tensorflow as tf
    threads, arch, batch, data = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    sys.path.insert(0, sys.argv[5])
    import keras
    from make_fixtures import build_model, load_mnist
    xt, yt, _, _ = load_mnist(data)
    x = (xt.astype(np.float32) / 255.0)[..., None]
    y = np.eye(10, dtype=np.float32)[yt]
    keras.utils.set_random_seed(1)
    m = build_model(keras, arch, False)
    x = x.reshape((-1,) + tuple(m.input_shape[1:]))
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    times = []
    class T(keras.callbacks.Callback):
        def on_epoch_begin(self, e, logs=None): self.t = time.perf_counter()
        def on_epoch_end(self, e, logs=None): times.append(time.perf_counter() - self.t)
    m.fit(x, y, epochs=2, batch_size=batch, verbose=0, callbacks=[T()])
    print(json.dumps({"epoch_seconds": times}))
""")

KERAS_PREDICT_IMAGE = textwrap.dedent("""
    import sys, os
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    import numpy as np
    from PIL import Image
    import keras
    model = keras.models.load_model(sys.argv[1], compile=False)
    img = Image.open(sys.argv[2]).convert("L").resize((28, 28))
    x = (np.asarray(img, np.float32) / 255.0).reshape(1, 28, 28, 1)
    print(int(np.argmax(model.predict(x, verbose=0))))
""")


def median_range(values):
    return statistics.median(values), min(values), max(values)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100 * len(v) + 0.5)) - 1))]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, no MLP training (for a smoke run)")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "BENCHMARKS.md"))
    ap.add_argument("--modelport", help="a release modelport binary to use instead of building one")
    args = ap.parse_args()
    reps = 2 if args.quick else args.repetitions
    training_runs = 1 if args.quick else 2
    images = os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")

    if args.modelport:
        mp = os.path.abspath(args.modelport)
    else:
        print("building modelport (release) ...", flush=True)
        subprocess.run(["swift", "build", "-c", "release", "--product", "modelport"], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL)
        bindir = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=REPO, check=True,
                                capture_output=True, text=True).stdout.strip()
        mp = os.path.join(bindir, "modelport")
    work = tempfile.mkdtemp(prefix="modelport-bench-")
    onnx_path = os.path.join(work, "mnist_digit_model.onnx")
    keras_path = os.path.join(work, "mnist_digit_model.keras")
    subprocess.run([mp, "convert", MODEL, onnx_path], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([mp, "convert", MODEL, keras_path], check=True, stdout=subprocess.DEVNULL)
    results = {"threads": args.threads, "repetitions": reps, "load_average_start": os.getloadavg()[0]}

    # Inference: `reps` rounds; in each round every peer runs once, in its own
    # process, one after another. The machine is shared (a VM), so a noisy
    # period then hits every peer alike instead of one peer's whole run.
    # "modelport_blas" is ModelPort on its portable OpenBLAS path (--kernels
    # blas): what its own kernels add, measured in the same rounds.
    raw = {name: {"throughput": {}, "latency_ms": [], "rss_mb": [], "load_ms": []}
           for name in ("modelport", "modelport_blas", "keras", "onnxruntime")}
    for round_ in range(reps):
        print(f"inference: round {round_ + 1} of {reps}", flush=True)
        for name, kernels in (("modelport", "auto"), ("modelport_blas", "blas")):
            out, _, rss = run_measured([mp, "bench", MODEL, "--json", "--input", images, "--threads", str(args.threads),
                                        "--repetitions", "1", "--runs", "1000", "--kernels", kernels]
                                       + sum([["--batch", str(b)] for b in BATCHES], []))
            r = json.loads(out)
            for t in r["throughput"]:
                raw[name]["throughput"].setdefault(str(t["batch_size"]), []).append(t["images_per_second"])
            raw[name]["latency_ms"].append((r["latency_ms_p50"], r["latency_ms_p99"]))
            raw[name]["rss_mb"].append(rss)
            raw[name]["blas"] = r.get("blas", "unknown")
            raw[name]["kernels"] = r.get("kernels", "unknown")
        for name, script, path in (("keras", KERAS_INFER, MODEL), ("onnxruntime", ORT_INFER, onnx_path)):
            out, _, rss = run_measured([PY, "-c", script, str(args.threads), "1", path, images])
            r = json.loads(out.strip().splitlines()[-1])
            for b, v in r["throughput"].items():
                raw[name]["throughput"].setdefault(str(b), []).extend(v)
            raw[name]["latency_ms"].append((pct(r["latency_ms"], 50), pct(r["latency_ms"], 99)))
            raw[name]["rss_mb"].append(rss)
            raw[name]["load_ms"].append(r["load_ms"])
    for name, v in raw.items():
        results[name] = {"throughput": {b: list(median_range(x)) for b, x in v["throughput"].items()},
                         # Each round's percentiles over its 1,000 runs; the median round is reported.
                         "latency_p50": statistics.median(p50 for p50, _ in v["latency_ms"]),
                         "latency_p99": statistics.median(p99 for _, p99 in v["latency_ms"]),
                         "rss_mb": max(v["rss_mb"])}
        if v["load_ms"]:
            results[name]["load_ms"] = statistics.median(v["load_ms"])
        for key in ("blas", "kernels"):
            if key in v:
                results[name][key] = v[key]

    # Load times (each in a fresh process, median of reps).
    print("load times", flush=True)
    loads = {}
    for label, path in ((".h5", MODEL), (".keras", keras_path), (".onnx", onnx_path)):
        vals = []
        for _ in range(reps):
            out, _, _ = run_measured([mp, "bench", path, "--json", "--batch", "1", "--images", "1",
                                      "--repetitions", "1", "--runs", "1"])
            vals.append(json.loads(out)["load_ms"])
        loads[label] = list(median_range(vals))
    results["load_ms"] = loads

    # Training.
    trainings = [("mnist_digit_model", 64), ("mnist_digit_model", 128)] + ([] if args.quick else [("mnist_mlp", 128)])
    results["training"] = []
    for arch, batch in trainings:
        # Alternating runs of both peers (2 epochs each); each peer's best run
        # (lowest mean epoch time) is reported, as timeit reports the best of
        # its repetitions: the least disturbed measurement of each.
        mp_runs, k_runs, mp_rss, k_rss = [], [], [], []
        for round_ in range(training_runs):
            print(f"training: {arch} batch {batch}, round {round_ + 1} of {training_runs}", flush=True)
            summary = os.path.join(work, f"{arch}-{batch}.results.json")
            # Same workload as the Keras side: categorical cross-entropy, Adam, no validation split.
            _, wall, rss = run_measured([mp, "train", "--arch", arch, "--epochs", "2", "--batch-size", str(batch),
                                         "--data", MNIST, "--seed", "1", "--threads", str(args.threads),
                                         "--loss", "categorical_crossentropy", "--validation-split", "0",
                                         "--out", os.path.join(work, f"{arch}-{batch}.h5"), "--results", summary])
            with open(summary) as f:
                mp_runs.append(json.load(f)["epoch_seconds"])  # per-epoch wall time, as the Keras callback measures
            mp_rss.append(rss)
            out, _, rss = run_measured([PY, "-c", KERAS_TRAIN, str(args.threads), arch, str(batch), MNIST,
                                        os.path.join(REPO, "tools")])
            k_runs.append(json.loads(out.strip().splitlines()[-1])["epoch_seconds"])
            k_rss.append(rss)
        best = lambda runs: min(runs, key=lambda e: sum(e) / len(e))
        results["training"].append({"arch": arch, "batch": batch, "modelport_epoch_s": best(mp_runs),
                                    "keras_epoch_s": best(k_runs), "modelport_runs": mp_runs, "keras_runs": k_runs,
                                    "modelport_rss_mb": max(mp_rss), "keras_rss_mb": max(k_rss)})

    # Whole-process prediction of one image file.
    print("whole-process predict", flush=True)
    images_dir = os.path.join(REPO, "fixtures", "images")
    pngs = sorted(os.path.join(d, f) for d, _, fs in os.walk(images_dir) for f in fs if f.endswith(".png"))
    digit = pngs[0]
    mp_times, py_times = [], []
    for _ in range(max(reps, 5)):
        _, wall, _ = run_measured([mp, "predict", MODEL, digit])
        mp_times.append(wall * 1000)
        _, wall, _ = run_measured([PY, "-c", KERAS_PREDICT_IMAGE, MODEL, digit])
        py_times.append(wall * 1000)
    results["predict_process_ms"] = {"modelport": list(median_range(mp_times)), "keras_script": list(median_range(py_times)),
                                     "image": os.path.relpath(digit, REPO)}
    shutil.rmtree(work, ignore_errors=True)

    results["load_average_end"] = os.getloadavg()[0]
    write_report(results, args)
    print(f"wrote {args.out}")


def versions():
    out = {}
    for mod in ("tensorflow", "keras", "onnxruntime", "numpy"):
        try:
            out[mod] = __import__(mod).__version__
        except Exception as e:  # noqa: BLE001 - report whatever failed
            out[mod] = f"unavailable ({e.__class__.__name__})"
    out["swift"] = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return out


def goals(r):
    """The goals of issue #7, checked against this run's figures."""
    m128 = r["modelport"]["throughput"]["128"][0]
    train64 = next(t for t in r["training"] if t["arch"] == "mnist_digit_model" and t["batch"] == 64)
    mean = lambda v: sum(v) / len(v)
    rows = [
        ("Batched inference, batch 128: >= 1.0x onnxruntime", m128 / r["onnxruntime"]["throughput"]["128"][0], 1.0, True),
        ("Batched inference, batch 128: >= 2x Keras", m128 / r["keras"]["throughput"]["128"][0], 2.0, True),
        ("Single-image latency p50: <= onnxruntime", r["modelport"]["latency_p50"] / r["onnxruntime"]["latency_p50"], 1.0, False),
        ("Training epoch, tutorial CNN, batch 64: <= 0.75x Keras",
         mean(train64["modelport_epoch_s"]) / mean(train64["keras_epoch_s"]), 0.75, False),
        ("Peak memory while training (batch 64): <= 1/4 of Keras", train64["modelport_rss_mb"] / train64["keras_rss_mb"], 0.25, False),
        ("`modelport predict` whole process, one image: <= 100 ms", r["predict_process_ms"]["modelport"][0], 100, False),
    ]
    out = ["", "## Goals (issue #7) in this run", "", "| goal | this run | met |", "|---|---:|:---:|"]
    for name, value, bound, higher_is_better in rows:
        met = value >= bound if higher_is_better else value <= bound
        shown = f"{value:.0f} ms" if bound == 100 else f"{value:.2f}x"
        out.append(f"| {name} | {shown} | {'yes' if met else 'no'} |")
    return out


def kept_sections(path, lines):
    """The sections of the existing report that this script does not write (other
    benchmarks' sections, e.g. tools/bench/real_cnns.py's), to keep them."""
    if not os.path.exists(path):
        return []
    ours = {l for l in lines if l.startswith("## ")}
    kept, keep = [], False
    for line in open(path).read().splitlines():
        if line.startswith("## "):
            keep = line not in ours
        if keep:
            kept.append(line)
    return kept


def write_report(r, args):
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    flags = next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "")
    v = versions()
    t = args.threads
    lines = [
        "# Benchmarks",
        "",
        f"Produced by `.venv/bin/python tools/bench/run.py --threads {t} --repetitions {r['repetitions']}`"
        f" on {time.strftime('%Y-%m-%d')}. Inference: {r['repetitions']} rounds, each running ModelPort, Keras and"
        " onnxruntime one after another, each in its own process; medians over the rounds, min-max in brackets."
        " Training: two alternating runs per peer, each peer's best run. Same model file"
        " (`fixtures/mnist_digit_model.h5`, its ONNX from `modelport convert`), same data (the 10,000 MNIST test"
        " images; the 60,000 training images), same thread count.",
        "",
        f"Machine: {cpu}, {os.cpu_count()} cores ({'AVX-512' if 'avx512f' in flags else 'AVX2, no AVX-512' if 'avx2' in flags else 'no AVX2'}),"
        f" Linux {platform.release()}."
        f" Versions: {v['swift']}; TensorFlow {v['tensorflow']}, Keras {v['keras']}, onnxruntime {v['onnxruntime']}.",
        "",
        f"ModelPort's kernels (inference and training): {r['modelport'].get('kernels', 'unknown')} (its own; `--kernels blas`"
        f" below is its portable path, on {r['modelport'].get('blas', 'unknown')}).",
        "",
        f"1-minute load average at the start and end of the run: {r['load_average_start']:.1f} and {r['load_average_end']:.1f}"
        " (above 0 means other work shared the cores; the peers ran one after another, so all saw similar conditions).",
        "",
        "## Batched inference (images/s, higher is better)",
        "",
        "| batch | ModelPort | Keras | onnxruntime | ModelPort / Keras | ModelPort / onnxruntime | ModelPort `--kernels blas` |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for b in map(str, BATCHES):
        m, k, o = r["modelport"]["throughput"][b], r["keras"]["throughput"][b], r["onnxruntime"]["throughput"][b]
        mb = r["modelport_blas"]["throughput"][b]
        lines.append(f"| {b} | {m[0]:,.0f} [{m[1]:,.0f}-{m[2]:,.0f}] | {k[0]:,.0f} [{k[1]:,.0f}-{k[2]:,.0f}] | "
                     f"{o[0]:,.0f} [{o[1]:,.0f}-{o[2]:,.0f}] | {m[0] / k[0]:.2f}x | {m[0] / o[0]:.2f}x | "
                     f"{mb[0]:,.0f} [{mb[1]:,.0f}-{mb[2]:,.0f}] |")
    lines += ["", "## Single-image latency, in-process (ms, lower is better)", "",
              "| | ModelPort | Keras (tf.function) | onnxruntime | ModelPort / onnxruntime | ModelPort `--kernels blas` |",
              "|---|---:|---:|---:|---:|---:|"]
    for p in ("50", "99"):
        m, k, o, mb = (r[x][f"latency_p{p}"] for x in ("modelport", "keras", "onnxruntime", "modelport_blas"))
        lines.append(f"| p{p} | {m:.3f} | {k:.3f} | {o:.3f} | {m / o:.2f}x | {mb:.3f} |")
    lines += ["", "## Training (seconds per epoch on 60,000 images; Adam, categorical cross-entropy)", "",
              "Mean of the 2 epochs of each peer's best run (Keras's first epoch includes tracing); all runs are in"
              " BENCHMARKS.json.", "",
              "| model | batch | ModelPort | Keras | ModelPort / Keras | peak RSS ModelPort | peak RSS Keras | RSS ratio |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for tr in r["training"]:
        m, k = tr["modelport_epoch_s"], tr["keras_epoch_s"]
        # Mean over the 2 epochs for both (Keras's first includes tracing, ModelPort's its warm-up).
        m, k = [sum(m) / len(m)], [sum(k) / len(k)]
        lines.append(f"| {tr['arch']} | {tr['batch']} | {m[-1]:.1f} | {k[-1]:.1f} | {m[-1] / k[-1]:.2f}x | "
                     f"{tr['modelport_rss_mb']:.0f} MB | {tr['keras_rss_mb']:.0f} MB | {tr['modelport_rss_mb'] / tr['keras_rss_mb']:.2f}x |")
    lines += ["", "## Peak resident memory while inferring (MB)", "",
              f"ModelPort {r['modelport']['rss_mb']:.0f}, Keras {r['keras']['rss_mb']:.0f}, onnxruntime {r['onnxruntime']['rss_mb']:.0f}.",
              "", "## Whole process: predict one digit image (ms)", ""]
    pm, pk = r["predict_process_ms"]["modelport"], r["predict_process_ms"]["keras_script"]
    lines.append(f"`modelport predict fixtures/mnist_digit_model.h5 {r['predict_process_ms']['image']}`: {pm[0]:.0f} [{pm[1]:.0f}-{pm[2]:.0f}];"
                 f" the equivalent Python script with Keras: {pk[0]:.0f} [{pk[1]:.0f}-{pk[2]:.0f}] ({pk[0] / pm[0]:.0f}x slower).")
    lines += ["", "## Model load time, ModelPort (ms)", "", "| format | median [min-max] |", "|---|---:|"]
    for k, val in r["load_ms"].items():
        lines.append(f"| {k} | {val[0]:.1f} [{val[1]:.1f}-{val[2]:.1f}] |")
    lines += ["", f"For comparison, in the same run: Keras loads the .h5 in {r['keras']['load_ms']:.0f} ms,"
              f" onnxruntime creates a session for the .onnx in {r['onnxruntime']['load_ms']:.1f} ms.", ""]
    lines += goals(r)
    lines += ["", "What the profiles showed and what was changed because of them: [PERFORMANCE.md](PERFORMANCE.md).", ""]
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    lines += kept_sections(args.out, lines)
    with open(args.out + ".tmp", "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(args.out + ".tmp", args.out)
    json_path = os.path.splitext(args.out)[0] + ".json"
    with open(json_path + ".tmp", "w") as f:
        json.dump(r, f, indent=2)
    os.replace(json_path + ".tmp", json_path)


if __name__ == "__main__":
    main()
