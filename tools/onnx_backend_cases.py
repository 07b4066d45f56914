#!/usr/bin/env python3
"""Runs ModelPort's ONNX import on the ONNX project's own backend test cases.

The cases ship inside the pinned onnx wheel (onnx/backend/test/data):

  pytorch-converted, pytorch-operator  model.onnx + test_data_set_0/{input,output}_*.pb,
                                       the outputs PyTorch computed
  light                                light_<net>.onnx (weights made by ConstantOfShape,
                                       one value each, replaced by seeded random weights so
                                       that outputs are not degenerate); no stored inputs, so
                                       the inputs are seeded random numbers and onnxruntime
                                       computes the reference
  node                                 the CNN-relevant single-operator cases; when the
                                       wheel ships no node/ directory they are generated
                                       from onnx.backend.test.case.node (outputs by the
                                       onnx project's numpy reference implementation).
                                       Every input after the first becomes an initializer
                                       holding its test value (ModelPort reads weights,
                                       pads, shapes and second operands as constants);
                                       the computation and the expected outputs are the
                                       same.

For each case the stored tensors become a ModelPort reference file (inputs / outputs
datasets, or inputs/<name> / outputs/<name> for several; see the README, "Reference
files") under the work directory, and `modelport validate MODEL --reference REF --json`
runs with a time limit. Verdicts:

  pass       the model loads and every output matches (ModelPort's default rule: float32
             rounding judged against its own float64 run)
  FAIL       the model loads and an output differs (wrong answer or wrong shape), or
             ModelPort crashed or hung
  refused    ModelPort declined the file with a message (exit 2): the reason is counted
  (pass)     when the default rule fails and the stored outputs are given to 4 decimals only
             (typed into the onnx test's source), onnx's reference implementation recomputes
             them; if the typed values are within 1e-4 of its, ModelPort is judged against it
             (default rule) and the JSON says so ("judged"), otherwise the case is unjudged
  unjudged   ModelPort's validator failed the case and the stored outputs hold NaN: the
             validator matches NaN with NaN where both have it (sqrt or pow of negative
             inputs pass), so this is a NaN where ModelPort has a number or the other way
             round, which the float64 run cannot judge; counted apart, not a pass

Exit status 1 when any case FAILs; refusals are counted, not failures.

Usage: .venv/bin/python tools/onnx_backend_cases.py --bin .build/debug/modelport
           [--dirs pytorch-converted,pytorch-operator,light,node] [--jobs 2]
           [--timeout 120] [--only REGEX] [--exclude REGEX] [--json OUT] [--work DIR]
"""
import argparse
import collections
import concurrent.futures
import glob
import json
import os
import re
import subprocess
import sys
import time

import h5py
import numpy as np
import onnx
from onnx import numpy_helper

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
DIRS = ["pytorch-converted", "pytorch-operator", "light", "node"]

# The CNN-relevant operators of the node tests (by the case's operator).
NODE_OPS = {
    "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
    "BatchNormalization", "InstanceNormalization", "LRN", "Gemm", "MatMul",
    "Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean",
    "Relu", "LeakyRelu", "PRelu", "Elu", "Selu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh",
    "Softplus", "Clip", "Softmax", "LogSoftmax", "Dropout", "Pad", "Reshape", "Flatten",
    "Transpose", "Concat", "Split", "Slice", "Tile", "Resize", "Upsample",
    "ReduceMean", "ReduceSum", "ReduceMax", "Identity", "LpNormalization",
}
LIGHT_SEED = 20261207


def graph_inputs(model):
    """The graph inputs that are not initializers, in graph order."""
    init = {t.name for t in model.graph.initializer}
    return [i for i in model.graph.input if i.name not in init]


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def stored_data_set(case_dir, model):
    """test_data_set_0's inputs and outputs, named after the graph's."""
    ds = os.path.join(case_dir, "test_data_set_0")
    ins = [read_pb(p) for p in sorted(glob.glob(os.path.join(ds, "input_*.pb")), key=pb_index)]
    outs = [read_pb(p) for p in sorted(glob.glob(os.path.join(ds, "output_*.pb")), key=pb_index)]
    in_names = [i.name for i in graph_inputs(model)]
    out_names = [o.name for o in model.graph.output]
    inputs = {(name or in_names[k]): a for k, (name, a) in enumerate(ins)}
    outputs = {out_names[k]: a for k, (_, a) in enumerate(outs)}
    return inputs, outputs


def pb_index(path):
    return int(re.search(r"_(\d+)\.pb$", path).group(1))


def random_inputs(model, seed):
    """Seeded standard-normal float32 inputs of the graph's declared shapes (free axes: 1)."""
    rng = np.random.default_rng(seed)
    out = {}
    for i in graph_inputs(model):
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else 1 for d in i.type.tensor_type.shape.dim]
        out[i.name] = rng.standard_normal(dims).astype(np.float32)
    return out


def onnxruntime_outputs(model_path, inputs):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.log_severity_level = 3  # no warnings about initializers left unused (the light models' fill shapes)
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, inputs)))


def write_reference(path, inputs, outputs):
    """ModelPort's reference file: one dataset per side, or a group of named ones."""
    with h5py.File(path, "w") as f:
        for group, tensors in (("inputs", inputs), ("outputs", outputs)):
            if len(tensors) == 1:
                f.create_dataset(group, data=np.asarray(next(iter(tensors.values())), dtype=np.float32))
            else:
                for name, a in tensors.items():
                    f.create_dataset(f"{group}/{name}", data=np.asarray(a, dtype=np.float32))


# Operators whose every operand is data (element-wise arithmetic, Concat): their other
# inputs stay graph inputs when they can share the first input's batch axis.
DATA_OPERAND_OPS = {"Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Mean", "Concat"}


def fold_inputs(model, inputs):
    """Node cases: inputs after the first become initializers holding their test values
    (weights, pads, shapes, bounds), except the data operands of DATA_OPERAND_OPS that
    have the first input's first-axis size (ModelPort's batch axis; a vector is N samples
    of one value)."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    live = graph_inputs(model)
    if not live:
        return model, {}
    ops = {n.op_type for n in model.graph.node}
    first = np.asarray(inputs[live[0].name])
    keep = [live[0].name]
    for i in live[1:]:
        a = np.asarray(inputs[i.name])
        if ops <= DATA_OPERAND_OPS and a.ndim >= 1 and first.ndim >= 1 and a.shape[0] == first.shape[0]:
            keep.append(i.name)
        else:
            model.graph.initializer.append(numpy_helper.from_array(inputs[i.name], i.name))
    return model, {k: inputs[k] for k in keep}


# ---------------------------------------------------------------------------
# Case discovery (each case: dir, name, model path, reference path; made lazily)

def prepare_stored(directory, name, work):
    """pytorch-converted / pytorch-operator (and a shipped node/) case."""
    case_dir = os.path.join(DATA, directory, name)
    model_path = os.path.join(case_dir, "model.onnx")
    model = onnx.load(model_path)
    inputs, outputs = stored_data_set(case_dir, model)
    if directory == "node":
        model, inputs = fold_inputs(model, inputs)
        model_path = os.path.join(work, name + ".onnx")
        onnx.save(model, model_path)
    ref = os.path.join(work, name + ".reference.h5")
    write_reference(ref, inputs, outputs)
    return model_path, ref


def randomized_light(model, seed):
    """A light model with seeded random weights in place of its ConstantOfShape fills (every
    weight one constant, which makes deep nets' outputs degenerate: softmax of equal logits):
    LeCun-scaled Conv/Gemm kernels (variance 1/fan-in), small biases, BatchNormalization scales and variances in
    [0.5, 1.5) and means near 0, Caffe2's per-channel Mul scales and Add shifts the same."""
    model = onnx.ModelProto.FromString(model.SerializeToString())
    rng = np.random.default_rng(seed)
    consumers = collections.defaultdict(list)
    for node in model.graph.node:
        for k, name in enumerate(node.input):
            consumers[name].append((node, k))
    shapes = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type != "ConstantOfShape" or node.input[0] not in shapes:
            continue
        shape = [int(d) for d in shapes[node.input[0]]]
        users = consumers[node.output[0]]
        if len(users) == 1 and users[0][0].op_type == "Unsqueeze":  # Caffe2's per-channel affine: look through it
            users = consumers[users[0][0].output[0]]
        if len(users) != 1:
            continue
        user, k = users[0]
        if user.op_type in ("Conv", "Gemm") and k == 1:
            trans_b = any(a.name == "transB" and a.i == 1 for a in user.attribute)
            fan_in = int(np.prod(shape[1:])) if user.op_type == "Conv" or trans_b else shape[0]
            values = rng.standard_normal(shape) * np.sqrt(1.0 / max(fan_in, 1))
        elif (user.op_type == "BatchNormalization" and k in (1, 4)) or user.op_type == "Mul":
            values = rng.uniform(0.5, 1.5, shape)
        elif user.op_type in ("Conv", "Gemm", "BatchNormalization", "Add"):
            values = rng.standard_normal(shape) * 0.1
        else:
            continue
        value = numpy_helper.from_array(values.astype(np.float32), node.output[0])
        node.op_type = "Constant"
        del node.input[:]
        del node.attribute[:]
        node.attribute.append(onnx.helper.make_attribute("value", value))
    return model


def prepare_light(name, work):
    model = randomized_light(onnx.load(os.path.join(DATA, "light", name + ".onnx")), LIGHT_SEED)
    model_path = os.path.join(work, name + ".onnx")
    onnx.save(model, model_path)
    inputs = random_inputs(model, LIGHT_SEED)
    outputs = onnxruntime_outputs(model_path, inputs)
    ref = os.path.join(work, name + ".reference.h5")
    write_reference(ref, inputs, outputs)
    return model_path, ref


def generated_node_cases(work):
    """The CNN-relevant cases of onnx.backend.test.case.node, written once per onnx version."""
    os.makedirs(work, exist_ok=True)
    stamp = os.path.join(work, ".made-by")
    key = "onnx " + onnx.__version__ + ", folding 3"
    listing = os.path.join(work, "cases.json")
    if open(stamp).read() == key if os.path.exists(stamp) else False:
        return json.load(open(listing))
    from onnx.backend.test.case import node as node_cases
    import warnings
    warnings.simplefilter("ignore")
    names = []
    for case in node_cases.collect_testcases(None):
        ops = {n.op_type for n in case.model.graph.node}
        if len(ops) != 1 or not ops <= NODE_OPS or not case.data_sets:
            continue
        inputs_list, outputs_list = case.data_sets[0]
        model = case.model
        live = graph_inputs(model)
        if len(inputs_list) != len(live):
            continue
        inputs = {i.name: a for i, a in zip(live, inputs_list)}
        outputs = {o.name: a for o, a in zip(model.graph.output, outputs_list)}
        model, inputs = fold_inputs(model, inputs)
        model_path = os.path.join(work, case.name + ".onnx")
        onnx.save(model, model_path)
        write_reference(os.path.join(work, case.name + ".reference.h5"), inputs, outputs)
        names.append(case.name)
    json.dump(sorted(names), open(listing, "w"))
    open(stamp, "w").write(key)
    return sorted(names)


def node_op(model_path):
    return {n.op_type for n in onnx.load(model_path, load_external_data=False).graph.node}


def discover(directory, work, only):
    """(case name, prepare function) pairs of one directory."""
    os.makedirs(work, exist_ok=True)
    cases = []
    if directory == "light":
        for p in sorted(glob.glob(os.path.join(DATA, "light", "light_*.onnx"))):
            name = os.path.basename(p)[:-5]
            cases.append((name, lambda n=name: prepare_light(n, work)))
    elif directory == "node" and not os.path.isdir(os.path.join(DATA, "node")):
        for name in generated_node_cases(work):
            cases.append((name, lambda n=name: (os.path.join(work, n + ".onnx"), os.path.join(work, n + ".reference.h5"))))
    else:
        for case_dir in sorted(glob.glob(os.path.join(DATA, directory, "test_*"))):
            name = os.path.basename(case_dir)
            if directory == "node" and not node_op(os.path.join(case_dir, "model.onnx")) <= NODE_OPS:
                continue
            cases.append((name, lambda n=name: prepare_stored(directory, n, work)))
    return [(n, f) for n, f in cases if not only or re.search(only, n)]


# ---------------------------------------------------------------------------
# Running

SHAPE_MISMATCH = re.compile(r"reference outputs have shape|produces outputs of shape")


def run_case(binary, directory, name, prepare, timeout):
    start = time.time()
    result = {"dir": directory, "case": name}
    try:
        model_path, ref = prepare()
    except Exception as e:  # the reference tool itself could not run the case
        result.update(verdict="refused", reason=f"harness: the reference could not be made: {type(e).__name__}: {e}".splitlines()[0])
        return result
    cmd = [binary, "validate", model_path, "--reference", ref, "--json"]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        result.update(verdict="FAIL", reason=f"no answer within {timeout} s (hang?)")
        return result
    result["seconds"] = round(time.time() - start, 2)
    err = "\n".join(l for l in p.stderr.splitlines() if l.strip())
    if p.returncode == 0:
        result["verdict"] = "pass"
        result["max_abs_error"] = max_error(p.stdout)
    elif p.returncode == 1 and reference_is_rounded(ref):
        # Outputs typed by hand to 4 decimals in the onnx test's source (one of them mistyped in
        # test_averagepool_2d_ceil_last_window_starts_on_pad): onnx's reference implementation
        # recomputes them, and ModelPort is judged against that, by the default rule.
        recomputed, note = recompute_reference(model_path, ref)
        if recomputed is None:
            result.update(verdict="unjudged", reason=note)
            return result
        retry = subprocess.run([binary, "validate", model_path, "--reference", recomputed, "--json"], capture_output=True, text=True, timeout=timeout)
        if retry.returncode == 0:
            result.update(verdict="pass", max_abs_error=max_error(retry.stdout), judged=note)
        else:
            result.update(verdict="FAIL", reason="wrong answer: max |modelport - reference| = %s (%s)" % (max_error(retry.stdout), note))
    elif p.returncode == 1 and reference_has_nan(ref):
        # sqrt or pow of negative inputs: the stored outputs hold NaN, which ModelPort's
        # validator always counts as a difference (it has no equal_nan); not judged here.
        result.update(verdict="unjudged", reason="the reference holds NaN, which ModelPort's validator counts as a difference "
                      "(%s elements outside tolerance)" % json_field(p.stdout, "elements_outside_tolerance"))
    elif p.returncode == 1:
        result.update(verdict="FAIL", reason="wrong answer: max |modelport - reference| = %s" % max_error(p.stdout))
    elif p.returncode == 2:
        message = err.replace(model_path, "MODEL").replace(ref, "REF")
        message = message[len("error: "):] if message.startswith("error: ") else message
        if SHAPE_MISMATCH.search(message):
            result.update(verdict="FAIL", reason="wrong output shape: " + message)
        else:
            result.update(verdict="refused", reason=message)
    else:
        result.update(verdict="FAIL", reason=f"crashed (exit {p.returncode}): {err[-300:]}")
    return result


ROUNDED_DECIMALS = 4


def reference_is_rounded(ref):
    """Every stored output is a multiple of 10^-4 and some are not whole numbers: values
    typed to 4 decimals in the onnx test's source, not computed."""
    with h5py.File(ref, "r") as f:
        outputs = f["outputs"]
        datasets = [outputs] if isinstance(outputs, h5py.Dataset) else [outputs[k] for k in outputs]
        values = np.concatenate([np.asarray(d[()], dtype=np.float64).ravel() for d in datasets])
    scaled = values * 10 ** ROUNDED_DECIMALS
    return bool(np.all(np.isfinite(values)) and np.all(np.abs(scaled - np.round(scaled)) < 1e-2)
                and np.any(values != np.round(values)))


def recompute_reference(model_path, ref):
    """A copy of `ref` with the outputs onnx's reference implementation computes, when the
    stored (rounded) outputs agree with them within one unit of their last decimal; else
    None and why."""
    from onnx.reference import ReferenceEvaluator
    model = onnx.load(model_path)
    with h5py.File(ref, "r") as f:
        ins = f["inputs"]
        inputs = {graph_inputs(model)[0].name: ins[()]} if isinstance(ins, h5py.Dataset) else {k: ins[k][()] for k in ins}
        outs = f["outputs"]
        stored = [outs[()]] if isinstance(outs, h5py.Dataset) else [outs[o.name][()] for o in model.graph.output]
    names = [o.name for o in model.graph.output]
    computed = ReferenceEvaluator(model).run(names, inputs)
    worst = max(float(np.max(np.abs(np.asarray(c, np.float64) - np.asarray(s, np.float64)))) for c, s in zip(computed, stored))
    if worst > 10 ** -ROUNDED_DECIMALS:
        return None, f"the stored outputs, given to {ROUNDED_DECIMALS} decimals, differ from onnx's reference implementation by {worst:.3g}"
    path = ref[: -len(".reference.h5")] + ".recomputed.reference.h5"
    write_reference(path, inputs, dict(zip(names, computed)))
    return path, (f"the stored outputs are given to {ROUNDED_DECIMALS} decimals (within {worst:.2g} of onnx's reference "
                  f"implementation, which computed the reference used)")


def reference_has_nan(ref):
    with h5py.File(ref, "r") as f:
        outputs = f["outputs"]
        datasets = [outputs] if isinstance(outputs, h5py.Dataset) else [outputs[k] for k in outputs]
        return any(np.isnan(d[()]).any() for d in datasets)


def json_field(stdout, key):
    try:
        return json.loads(stdout).get(key)
    except ValueError:
        return None


def max_error(stdout):
    try:
        data = json.loads(stdout)
    except ValueError:
        return None
    if "max_abs_error" in data:
        return data["max_abs_error"]
    return max((o.get("max_abs_error", 0) for o in data.get("outputs", [])), default=None)


def short_reason(reason, width=110):
    reason = " ".join(reason.split())
    return reason if len(reason) <= width else reason[: width - 3] + "..."


def refusal_key(reason):
    """The refusal without the node's and file's names: operator and message."""
    m = re.match(r"MODEL: node '.*?' \((\w+)\): (.*)", reason, re.S) or re.match(r"MODEL: (\w+): (.*)", reason, re.S)
    key = f"{m.group(1)}: {m.group(2)}" if m else reason.replace("MODEL: ", "")
    return " ".join(key.split())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "debug", "modelport"))
    ap.add_argument("--dirs", default=",".join(DIRS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--only", help="only cases whose name matches this regular expression")
    ap.add_argument("--exclude", help="leave out cases whose name matches this regular expression (listed in the output)")
    ap.add_argument("--json", help="write the verdicts here")
    ap.add_argument("--work", default=os.path.join(REPO, ".build", "onnx-backend"))
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        sys.exit(f"{args.bin}: no modelport binary (swift build first)")
    print(f"ONNX backend cases of onnx {onnx.__version__} ({DATA}); modelport {args.bin}")
    dirs = [d for d in args.dirs.split(",") if d]
    jobs = []
    for d in dirs:
        if d not in DIRS:
            sys.exit(f"unknown directory {d} (known: {', '.join(DIRS)})")
        where = "generated from onnx.backend.test.case.node" if d == "node" and not os.path.isdir(os.path.join(DATA, "node")) else "shipped"
        cases = discover(d, os.path.join(args.work, d), args.only)
        left_out = [n for n, _ in cases if args.exclude and re.search(args.exclude, n)]
        cases = [(n, f) for n, f in cases if n not in left_out]
        print(f"  {d}: {len(cases)} cases ({where})" + (f"; left out by --exclude: {', '.join(left_out)}" if left_out else ""))
        jobs += [(d, n, f) for n, f in cases]
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = [pool.submit(run_case, args.bin, d, n, f, args.timeout) for d, n, f in jobs]
        for fut in futures:
            results.append(fut.result())
    width = max((len(r["case"]) for r in results), default=10)
    print()
    print(f"{'dir':<18} {'case':<{width}}  verdict")
    for r in results:
        verdict = r["verdict"] if r["verdict"] == "pass" else f"{r['verdict']}: {short_reason(r['reason'])}"
        print(f"{r['dir']:<18} {r['case']:<{width}}  {verdict}")
    print()
    totals = collections.OrderedDict()
    for r in results:
        t = totals.setdefault(r["dir"], collections.Counter())
        t[r["verdict"]] += 1
        t["cases"] += 1
    print(f"{'directory':<18} {'cases':>5} {'pass':>5} {'FAIL':>5} {'refused':>8} {'unjudged':>9}")
    for d, t in totals.items():
        print(f"{d:<18} {t['cases']:>5} {t['pass']:>5} {t['FAIL']:>5} {t['refused']:>8} {t['unjudged']:>9}")
    all_t = sum(totals.values(), collections.Counter())
    print(f"{'total':<18} {all_t['cases']:>5} {all_t['pass']:>5} {all_t['FAIL']:>5} {all_t['refused']:>8} {all_t['unjudged']:>9}")
    reasons = collections.Counter(refusal_key(r["reason"]) for r in results if r["verdict"] == "refused")
    if reasons:
        print("\nMost frequent refusals:")
        for reason, k in reasons.most_common(15):
            print(f"  {k:>4}  {short_reason(reason, 150)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"onnx": onnx.__version__, "results": results,
                       "totals": {d: dict(t) for d, t in totals.items()}}, f, indent=1, sort_keys=True)
    failed = [r for r in results if r["verdict"] == "FAIL"]
    if failed:
        print(f"\n{len(failed)} case(s) FAILED: a model ModelPort loads must match the reference")
        sys.exit(1)
    print(f"\nno wrong answers, crashes or hangs ({all_t['pass']} passed, {all_t['refused']} refused, {all_t['unjudged']} unjudged)")


if __name__ == "__main__":
    main()
