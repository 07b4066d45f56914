#!/usr/bin/env python3
"""Run the built `modelport` on every case of the bad-input corpus and check each answer.

Makes the corpus first (tools/badinputs/make_corpus.py, into Tests/BadInputs/generated/)
unless --no-generate. Each case runs as a child process in its own session, with its own
empty TMPDIR, and must:
  - exit with the case's status (2 a file could not be used, 1 outputs differ or are NaN,
    0 where the right answer is success), and not die from a signal;
  - finish within its time bound (20 s unless shorter; killed and failed on timeout);
  - stay under 1 GiB peak RSS (ru_maxrss of the child, from os.wait4);
  - say what is wrong in words: every pattern of the case (case-insensitive) and the name
    of the file it is about occur in its output; no raw control characters, no Swift type
    names, no raw HDF5 error stacks, no NSCocoaErrorDomain, no line repeated over and over;
  - leave no temporary files behind (its TMPDIR and working directory) and no core file;
  - keep what the case protects: preserved files byte-identical with the same permissions
    and symlink targets, outputs that must not exist absent, 0600 files still 0600,
    symlinks still symlinks.

Two guards protect the shared machine from a case that runs away (both show up as a
failed case, never as a passed one): an address-space limit (--address-space-guard, 8 GiB)
and a file-size limit (--file-size-guard, 1 GiB) on the child.

Prints one line per case and a closing line 'N passed, N failed'; exits 1 on any failure.

Usage: .venv/bin/python tools/badinputs/check.py --bin PATH/TO/modelport [--only REGEX] [--no-generate]
"""
import argparse
import fcntl
import hashlib
import json
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_CORPUS = os.path.join(REPO, "Tests", "BadInputs", "generated")

MEMORY_BOUND_MB = 1024
TIME_BOUND_S = 20.0

# What a message for users never contains.
FORBIDDEN = [
    (re.compile(r"\bModelPort[A-Z]\w*\.[A-Za-z]\w*|\bSwift\.[A-Z]\w*|\.(known|unknown|symbolic)\(|Optional\(|\b(value|some|known)\(\d|"
                r"\b[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*\.[a-z]+[A-Z][A-Za-z0-9]*\b"), "a Swift type name"),
    (re.compile(r"NSCocoaErrorDomain|Error Domain=|NSUnderlyingError|NSFilePath|UserInfo=\{"), "a raw NSError"),
    (re.compile(r"HDF5-DIAG|#\d{3}: .* line \d+ in |major: |minor: |\bH5[A-Z]{1,2}_\w+|\w->\w"), "a raw HDF5 error stack"),
    (re.compile(r"Fatal error|Stack dump|Illegal instruction|Segmentation fault|Trace/breakpoint|Aborted|core dumped"),
     "a crash report"),
]
CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")
TEMPORARY = re.compile(r"\.tmp|^\.?modelport-|~$|\.partial$|^core(\.\d+)?$")


def snapshot(path):
    """What must not change about PATH: for each file below it, its type, mode, bytes or link target."""
    result = {}

    def one(p, key):
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            result[key] = "missing"
            return
        if stat.S_ISLNK(st.st_mode):
            result[key] = ("link", os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            result[key] = ("dir", stat.S_IMODE(st.st_mode))
            for name in sorted(os.listdir(p)):
                one(os.path.join(p, name), key + "/" + name)
        elif stat.S_ISREG(st.st_mode):
            with open(p, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            result[key] = ("file", stat.S_IMODE(st.st_mode), digest)
        else:
            result[key] = ("special", stat.S_IFMT(st.st_mode))

    one(path, ".")
    return result


def describe_difference(before, after):
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key):
            b, a = before.get(key, "missing"), after.get(key, "missing")
            if a == "missing":
                return f"{key} was deleted"
            if b == "missing":
                return f"{key} appeared"
            if b[0] != a[0]:
                return f"{key} changed from {b[0]} to {a[0]}"
            if b[0] == "file" and b[1] != a[1]:
                return f"{key} permissions changed from {oct(b[1])} to {oct(a[1])}"
            return f"{key} was modified"
    return None


def printable(text, limit=160):
    """One line of output, control characters made visible, for the report."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
    return line if len(line) <= limit else line[: limit - 3] + "..."


class Result:
    def __init__(self):
        self.problems = []

    def fail(self, message):
        self.problems.append(message)


def run_case(binary, corpus, case, guards, verbose):
    result = Result()
    cwd = os.path.join(corpus, case["cwd"])
    tmpdir = os.path.join(corpus, "_run", case["name"], "tmp")
    logdir = os.path.join(corpus, "_run", case["name"])
    shutil.rmtree(logdir, ignore_errors=True)
    os.makedirs(tmpdir)

    def resolve(p):
        return p if os.path.isabs(p) else os.path.normpath(os.path.join(cwd, p))

    protected = {p: snapshot(resolve(p)) for p in case["preserve"]}
    for p, snap in protected.items():
        if snap.get(".") == "missing":
            result.fail(f"corpus is stale: {p} is missing before the run (run make_corpus.py)")
            return result, None
    entries_before = set(os.listdir(cwd))

    env = dict(os.environ)
    # --untrusted runs the reader in a child that ModelPort itself stops after this
    # wall time (default 120 s): kept below TIME_BOUND_S so that a file on which
    # libhdf5 loops instead of crashing is stopped by ModelPort, with its message,
    # rather than by this harness.
    env.update({"TMPDIR": tmpdir, "LC_ALL": "C.UTF-8", "MODELPORT_UNTRUSTED_SECONDS": "10"})

    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (guards.address_space << 30, guards.address_space << 30))
        resource.setrlimit(resource.RLIMIT_FSIZE, (guards.file_size << 30, guards.file_size << 30))

    timeout = min(float(case["timeout"]), TIME_BOUND_S)
    out_path, err_path = os.path.join(logdir, "stdout"), os.path.join(logdir, "stderr")
    sent = None
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.monotonic()
        child = subprocess.Popen([binary] + case["argv"], cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=err, start_new_session=True, preexec_fn=limits)
        timed_out = False
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - start
            if case["signal_after"] and sent is None and elapsed >= case["signal_after"][1]:
                sent = getattr(signal, case["signal_after"][0])
                os.killpg(child.pid, sent)
            if elapsed > timeout:
                timed_out = True
                os.killpg(child.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.01)
        elapsed = time.monotonic() - start
        child.returncode = 0  # reaped above; keep Popen from waiting again
    try:
        os.killpg(child.pid, signal.SIGKILL)  # anything the case left running (an isolation child)
    except ProcessLookupError:
        pass

    with open(out_path, "rb") as f:
        stdout_bytes = f.read()
    with open(err_path, "rb") as f:
        stderr_bytes = f.read()
    stdout = stdout_bytes.decode("utf-8", "replace")
    stderr = stderr_bytes.decode("utf-8", "replace")
    text = stderr + "\n" + stdout
    peak_mb = usage.ru_maxrss / 1024
    exit_status = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    killed_by = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
    summary = {"status": exit_status, "signal": killed_by, "seconds": elapsed, "peak_mb": peak_mb,
               "message": printable(stderr) or printable(stdout)}

    if timed_out:
        result.fail(f"hung: killed after {timeout:.0f} s")
    elif killed_by is not None and killed_by != sent:
        result.fail(f"died from signal {signal.Signals(killed_by).name}")
    elif exit_status is not None and exit_status not in case["status"]:
        result.fail(f"exit status {exit_status}, expected {' or '.join(map(str, case['status']))}")
    if peak_mb > MEMORY_BOUND_MB:
        result.fail(f"peak RSS {peak_mb:.0f} MB > {MEMORY_BOUND_MB} MB")

    interrupted = sent is not None
    succeeded = exit_status == 0
    # The words must be the message's, not the file name's (h5_external_storage.h5 says "external").
    words = text
    for argument in sorted(case["argv"], key=len, reverse=True):
        if len(argument) > 2 and not argument.startswith("-"):
            words = words.replace(argument, "<FILE>")
            if len(os.path.basename(argument)) > 2:
                words = words.replace(os.path.basename(argument), "<FILE>")
    if not timed_out and not interrupted:
        for pattern in case["forbid"]:
            if re.search(pattern, words, re.IGNORECASE):
                result.fail(f"output matches forbidden /{pattern}/")
    if not timed_out and not interrupted and not succeeded:
        for pattern in case["patterns"]:
            if not re.search(pattern, words, re.IGNORECASE):
                result.fail(f"message does not match /{pattern}/")
        for name in case["names"]:
            if name not in text:
                result.fail(f"message does not name {name!r}")
        if case["one_line"] and len([l for l in stderr.splitlines() if l.strip()]) != 1:
            result.fail(f"the error takes {len([l for l in stderr.splitlines() if l.strip()])} lines, not one")
    if not timed_out and not interrupted:
        if case["stdout_json"]:
            def refuse(constant):
                raise ValueError(f"{constant} is not JSON")
            try:
                json.loads(stdout, parse_constant=refuse)
            except ValueError as e:
                result.fail(f"stdout is not valid JSON ({printable(str(e), 80)})")
    for stream, data in (("stderr", stderr_bytes), ("stdout", stdout_bytes)):
        bad = CONTROL.search(data)
        if bad:
            result.fail(f"{stream} has a raw control character {bad.group()!r}")
    for pattern, what in FORBIDDEN:
        found = pattern.search(text)
        if found:
            result.fail(f"output has {what}: {printable(found.group(), 60)!r}")
    lines = [l for l in stderr.splitlines() if l.strip()]
    if lines:
        most = max(set(lines), key=lines.count)
        if lines.count(most) > 3:
            result.fail(f"a line repeated {lines.count(most)} times: {printable(most, 60)!r}")

    for p, before in protected.items():
        difference = describe_difference(before, snapshot(resolve(p)))
        if difference:
            result.fail(f"data loss: {p}: {difference}")
    for p in case["absent"]:
        if os.path.lexists(resolve(p)):
            result.fail(f"{p} exists after the run (partial or unwanted output)")
    for p, mode in case["modes"]:
        try:
            st = os.lstat(resolve(p))
            if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != int(mode, 8):
                result.fail(f"{p} is now {oct(stat.S_IMODE(st.st_mode))}"
                            f"{'' if stat.S_ISREG(st.st_mode) else ' and not a regular file'}, expected {mode}")
        except FileNotFoundError:
            result.fail(f"{p} is missing")
    for p, target in case["links"]:
        if not os.path.islink(resolve(p)):
            result.fail(f"{p} is no longer a symlink")
        elif os.readlink(resolve(p)) != target:
            result.fail(f"{p} now points to {os.readlink(resolve(p))}, expected {target}")

    leftovers = os.listdir(tmpdir)
    if leftovers:
        size = sum(os.path.getsize(os.path.join(tmpdir, n)) for n in leftovers if os.path.isfile(os.path.join(tmpdir, n)))
        result.fail(f"left {len(leftovers)} temporary file(s) in TMPDIR ({size / 1e6:.0f} MB): {printable(leftovers[0], 60)}")
    if os.path.isdir(cwd):
        new = [n for n in set(os.listdir(cwd)) - entries_before if TEMPORARY.search(n)]
        if new:
            result.fail(f"left {printable(new[0], 60)!r} in the working directory")
    shutil.rmtree(tmpdir, ignore_errors=True)
    if verbose:
        summary["stderr"] = stderr
    return result, summary


def modelport_binary(args):
    if args.bin:
        return os.path.abspath(args.bin)
    command = ["swift", "build", "--show-bin-path"]
    bin_dir = subprocess.run(command, cwd=REPO, check=True, capture_output=True, text=True).stdout.strip()
    return os.path.join(bin_dir, "modelport")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", help="the modelport executable (default: swift build --show-bin-path)")
    parser.add_argument("--corpus", default=DEFAULT_CORPUS, help="where the corpus is (made there first)")
    parser.add_argument("--no-generate", action="store_true", help="use the corpus as it is")
    parser.add_argument("--only", help="run only the cases whose name matches this regular expression")
    parser.add_argument("--address-space-guard", dest="address_space", type=int, default=8, help="GiB (default 8)")
    parser.add_argument("--file-size-guard", dest="file_size", type=int, default=1, help="GiB (default 1)")
    parser.add_argument("--verbose", action="store_true", help="print each failing case's whole stderr")
    args = parser.parse_args()

    binary = modelport_binary(args)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"{binary}: not an executable (build first, or pass --bin)")
    corpus = os.path.abspath(args.corpus)
    # Two runs on one corpus would regenerate and delete each other's files: take turns.
    lock = open(corpus.rstrip("/") + ".lock", "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"waiting for another check.py run on {os.path.relpath(corpus, os.getcwd())} to finish", flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    if not args.no_generate:
        subprocess.run([sys.executable, os.path.join(HERE, "make_corpus.py"), "--out", corpus], check=True)
    with open(os.path.join(corpus, "cases.json")) as f:
        cases = json.load(f)["cases"]
    if args.only:
        cases = [c for c in cases if re.search(args.only, c["name"])]

    passed = failed = 0
    width = max((len(c["name"]) for c in cases), default=0)
    for case in cases:
        result, summary = run_case(binary, corpus, case, args, args.verbose)
        if summary is None:
            figures = ""
        else:
            how = f"signal {summary['signal']}" if summary["signal"] is not None else f"exit {summary['status']}"
            figures = f"{how}, {summary['seconds']:.2f} s, {summary['peak_mb']:.0f} MB"
        if result.problems:
            failed += 1
            print(f"FAILED  {case['name']:<{width}}  ({figures}): {'; '.join(result.problems)}")
            if summary and summary["message"]:
                print(f"          said: {summary['message']}")
            if args.verbose and summary:
                for line in summary["stderr"].splitlines()[:20]:
                    print(f"          | {printable(line, 200)}")
        else:
            passed += 1
            print(f"ok      {case['name']:<{width}}  ({figures})")
        sys.stdout.flush()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
