"""Shared pieces of vpio-perf's benchmarks (test/bench/run.sh runs them).

Each benchmark runs build/bin/vpio-perf (and other tools), prints a
markdown table and writes the same numbers as JSON.  None passes or fails
on speed: the exit status is non-zero only when something did not run.
"""
import json
import os
import subprocess
import sys
import tempfile


class BenchError(Exception):
    pass


def args(argv, what):
    """BUILD_DIR and OUT_DIR from argv (defaults: $VPIO_BUILD or build,
    BUILD_DIR/bench-results)."""
    build = argv[1] if len(argv) > 1 else os.environ.get("VPIO_BUILD", "build")
    out = argv[2] if len(argv) > 2 else os.path.join(build, "bench-results")
    perf = os.path.join(build, "bin", "vpio-perf")
    if not os.access(perf, os.X_OK):
        fail(what, "%s is not built (ninja -C %s)" % (perf, build))
    os.makedirs(out, exist_ok=True)
    return build, out, perf


def fail(what, msg):
    print("%s: %s" % (what, msg), file=sys.stderr)
    sys.exit(1)


def perf(binary, perf_args, prefix=None):
    """Run vpio-perf with --json; returns (report dict, stdout).  prefix: a
    command to run it under (strace ...)."""
    fd, path = tempfile.mkstemp(prefix="vpio-bench.", suffix=".json")
    os.close(fd)
    cmd = (prefix or []) + [binary] + perf_args + ["--json", path]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
        if p.returncode != 0:
            raise BenchError("%s: exit %d: %s" % (" ".join(cmd), p.returncode, p.stderr.strip()[-500:]))
        with open(path) as f:
            return json.load(f), p.stdout
    finally:
        os.unlink(path)


def machine(report):
    m = report["machine"]
    return "%s, %d CPUs online, %s, TSC %.2f GHz, %s memory" % (
        m["cpu_model"], m["cpus_online"], m["kernel"].split(" ")[1], m["tsc_hz"] / 1e9,
        "hugepage" if m["hugepages"] else "ordinary (no hugepages)")


def table(headers, rows):
    """A markdown table; numbers formatted by the caller."""
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join("---" for _ in headers) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def write(out, name, data):
    path = os.path.join(out, name + ".json")
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    return path


def cores_online():
    return len(os.sched_getaffinity(0))
