#!/usr/bin/env python3
"""Load test, side by side: `modelport serve` against the server a Python user would
write for the same model (FastAPI + uvicorn + Keras `model.predict`,
tools/bench/fastapi_digit_server.py), one after the other on this machine.

Each server gets the same bounded wrk run on loopback (default 30 s, 16 connections,
2 wrk threads) POSTing a committed digit PNG to /api/predict, after a short warm-up.
Reported per server: requests/s, latency p50/p99 (wrk --latency), socket errors,
non-2xx answers, and the server process's peak RSS (VmHWM). Results replace the
"Serving over HTTP" section of docs/BENCHMARKS.md and go to docs/BENCHMARKS_SERVE.json.

Usage (repo root, after tools/setup.sh; use a release build for the figures):
  swift build -c release --product modelport
  .venv/bin/python tools/bench/serve_load.py --bin .build/release/modelport [--duration 30] [--connections 16]
Exit status 1 when a goal of issue #17 is missed (>= 20x the requests/s, <= 1/10 the
p99, zero errors, RSS under 200 MB).
"""
import argparse
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.dirname(os.path.abspath(__file__))
MODEL = os.path.join(REPO, "fixtures", "mnist_digit_model.h5")
IMAGE = os.path.join(REPO, "fixtures", "images", "3", "font_3.png")
START, END = "<!-- serve-load:start -->", "<!-- serve-load:end -->"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url, process, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode} before answering")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{url} did not answer /healthz within {seconds} s")


def post_once(url, body):
    request = urllib.request.Request(url + "/api/predict", data=body, headers={"Content-Type": "image/png"}, method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


def peak_rss_mb(pid):
    """The process's peak resident set (VmHWM), MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def to_ms(text):
    value, unit = re.match(r"([0-9.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url, duration, connections, threads):
    env = {**os.environ, "WRK_BODY_FILE": IMAGE, "WRK_CONTENT_TYPE": "image/png"}
    out = subprocess.run(["wrk", "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                          "--timeout", "10s", "-s", os.path.join(HERE, "wrk_post.lua"), url + "/api/predict"],
                         env=env, capture_output=True, text=True, timeout=duration + 60).stdout
    result = {"raw": out}
    result["requests_per_second"] = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    result["p50_ms"] = to_ms(re.search(r"\s50%\s+([0-9.]+(?:us|ms|s))", out).group(1))
    result["p99_ms"] = to_ms(re.search(r"\s99%\s+([0-9.]+(?:us|ms|s))", out).group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(map(int, socket_errors.groups())) if socket_errors else 0
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(non2xx.group(1)) if non2xx else 0
    return result


def measure(name, command, url, args, env=None):
    print(f"== {name}: {' '.join(command)}", flush=True)
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})
    try:
        wait_healthy(url, process)
        body = open(IMAGE, "rb").read()
        status, answer = post_once(url, body)
        if status != 200 or answer.get("label") != 3:
            raise SystemExit(f"{name}: the digit 3 was answered with {status} {answer}")
        # Warm-up: first requests pay for lazy initialisation (TensorFlow's graph tracing).
        run_wrk(url, 3, args.connections, args.wrk_threads)
        result = run_wrk(url, args.duration, args.connections, args.wrk_threads)
        # What else the shared machine was doing meanwhile (both servers run under the same conditions only roughly).
        result["load_average_1min"] = os.getloadavg()[0]
        result["peak_rss_mb"] = peak_rss_mb(process.pid)
        print(f"   {result['requests_per_second']:.1f} requests/s, p50 {result['p50_ms']:.2f} ms, p99 {result['p99_ms']:.2f} ms, "
              f"{result['socket_errors']} socket errors, {result['non_2xx']} non-2xx, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
        return result
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.path.join(REPO, ".build", "release", "modelport"))
    parser.add_argument("--duration", type=int, default=30, help="seconds of load per server (at most 120)")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections (at most 256)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--compare-batching", action="store_true",
                        help="also run modelport serve with --max-batch 1 (each request its own model run)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    args.duration = max(1, min(args.duration, 120))
    args.connections = max(1, min(args.connections, 256))

    results = {}
    port = free_port()
    results["modelport"] = measure("modelport serve", [os.path.abspath(args.bin), "serve", MODEL, "--port", str(port)],
                                   f"http://127.0.0.1:{port}", args)
    if args.compare_batching:
        port = free_port()
        results["modelport_unbatched"] = measure("modelport serve --max-batch 1",
                                                 [os.path.abspath(args.bin), "serve", MODEL, "--port", str(port), "--max-batch", "1"],
                                                 f"http://127.0.0.1:{port}", args)
    port = free_port()
    results["fastapi"] = measure("FastAPI + uvicorn + Keras",
                                 [sys.executable, "-m", "uvicorn", "--app-dir", HERE, "fastapi_digit_server:app",
                                  "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                 f"http://127.0.0.1:{port}", args, env={"MODELPORT_MODEL": MODEL})
    m, f = results["modelport"], results["fastapi"]
    ratio_rps = m["requests_per_second"] / max(f["requests_per_second"], 1e-9)
    ratio_p99 = m["p99_ms"] / max(f["p99_ms"], 1e-9)
    goals = {
        ">= 20x the requests/s": ratio_rps >= 20,
        "p99 <= 1/10 of FastAPI's": ratio_p99 <= 0.1,
        "zero errors and non-2xx": m["socket_errors"] == 0 and m["non_2xx"] == 0,
        "server RSS under 200 MB": m["peak_rss_mb"] < 200,
    }
    print(f"modelport serve: {ratio_rps:.1f}x the requests/s, p99 {ratio_p99:.3f}x FastAPI's")
    for goal, ok in goals.items():
        print(f"  {'met' if ok else 'MISSED'}: {goal}")

    if not args.no_write:
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
        versions = subprocess.run([sys.executable, "-c", "import fastapi, uvicorn, keras, tensorflow as tf; "
                                   "print(f'FastAPI {fastapi.__version__}, uvicorn {uvicorn.__version__}, Keras {keras.__version__}, TensorFlow {tf.__version__}')"],
                                  capture_output=True, text=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}).stdout.strip()
        rows = [("modelport serve", m)]
        if "modelport_unbatched" in results:
            rows.append(("modelport serve --max-batch 1 (no batching)", results["modelport_unbatched"]))
        rows.append(("FastAPI + uvicorn + Keras", f))
        table = ["| server | requests/s | p50 (ms) | p99 (ms) | socket errors | non-2xx | peak RSS (MB) | machine load (1 min) |",
                 "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, r in rows:
            table.append(f"| {name} | {r['requests_per_second']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                         f"{r['socket_errors']} | {r['non_2xx']} | {r['peak_rss_mb']:.0f} | {r['load_average_1min']:.1f} |")
        section = "\n".join([
            START, "## Serving over HTTP: `modelport serve` vs FastAPI + Keras", "",
            f"`wrk --latency -t{args.wrk_threads} -c{args.connections} -d{args.duration}s` on loopback, POSTing "
            f"`fixtures/images/3/font_3.png` ({os.path.getsize(IMAGE)} bytes; both servers read it as 3) to `/api/predict` of each server in turn, "
            f"after a 3 s warm-up; the same model (`fixtures/mnist_digit_model.h5`). Machine: {cpu}, {os.cpu_count()} cores, "
            f"shared with other work. Peer: {versions}, one uvicorn worker, `model.predict` per request "
            "(tools/bench/fastapi_digit_server.py). Peak RSS is the server process's VmHWM; machine load is the "
            "1-minute load average at the end of the run, which counts wrk and the server themselves as well as "
            "anything else running on the shared machine.", "",
            *table, "",
            f"modelport serve answers **{ratio_rps:.1f}x** the requests/s with **{ratio_p99:.3f}x** the p99 latency. "
            + (f"Batching the requests that wait while a batch runs (the default) gives "
               f"{m['requests_per_second'] / max(results['modelport_unbatched']['requests_per_second'], 1e-9):.2f}x the requests/s "
               "of running them one at a time. " if "modelport_unbatched" in results else "")
            +
            "Goals of issue #17: " + "; ".join(f"{g}: {'met' if ok else 'MISSED'}" for g, ok in goals.items()) + ".", "",
            f"Produced by `.venv/bin/python tools/bench/serve_load.py --bin {os.path.relpath(os.path.abspath(args.bin), REPO)} "
            f"--duration {args.duration} --connections {args.connections}{' --compare-batching' if args.compare_batching else ''}` on {time.strftime('%Y-%m-%d')}.",
            END])
        path = os.path.join(REPO, "docs", "BENCHMARKS.md")
        text = open(path).read()
        if START in text and END in text:
            text = text[: text.index(START)] + section + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + section + "\n"
        open(path, "w").write(text)
        for r in results.values():
            r.pop("raw", None)
        json.dump({"date": time.strftime("%Y-%m-%d"), "duration_s": args.duration, "connections": args.connections,
                   "results": results, "goals": goals}, open(os.path.join(REPO, "docs", "BENCHMARKS_SERVE.json"), "w"), indent=1)
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
