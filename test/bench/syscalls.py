#!/usr/bin/env python3
"""syscalls.py [BUILD_DIR] [OUT_DIR] - benchmark 2: system calls of a
vpio-perf run, for N and about 10 N I/Os.

Each run length is measured twice under strace: "strace -f -c" counts the
whole process (setup, teardown, DPDK's and the emulator's threads), and
"strace -f -ff" gives each thread its own trace so that the calls the I/O
threads make inside their loop (between their perf-io-/perf-end- names)
are counted alone: those must not grow with the number of I/Os (the test
suite checks that they are zero: test/func/perf_nosyscall.sh).  Writes
OUT_DIR/syscalls.json.
"""
import glob
import os
import re
import shutil
import sys
import tempfile

import benchlib

WHAT = "syscalls"
RUNS = (0.5, 5.0)  # seconds: about N and 10 N I/Os
ARGS = ["-a", "emu:nvme?null=1", "-w", "randread", "-o", "4K", "-q", "32"]


def strace_c(perf, secs, tmp):
    """(I/Os, total calls, {name: calls}) from strace -f -c."""
    summary = os.path.join(tmp, "c.txt")
    r, _ = benchlib.perf(perf, ARGS + ["-t", str(secs)], ["strace", "-f", "-c", "-o", summary])
    calls, total = {}, None
    for line in open(summary):
        f = line.split()
        if len(f) >= 5 and f[-1] == "total":
            total = int(f[3]) if len(f) == 5 else int(f[3])
        elif len(f) >= 5 and re.match(r"^[0-9.]+$", f[0]) and f[-1] != "total":
            calls[f[-1]] = int(f[3])
    if total is None:
        total = sum(calls.values())
    return r["results"]["total"]["ios"], total, calls


def strace_ff(perf, secs, tmp):
    """(I/Os, calls of the I/O threads inside their loops)."""
    d = os.path.join(tmp, "ff")
    os.makedirs(d)
    r, _ = benchlib.perf(perf, ARGS + ["-t", str(secs)], ["strace", "-f", "-ff", "-qq", "-o", d + "/t"])
    inside = 0
    for path in glob.glob(d + "/t.*"):
        on = False
        for line in open(path, errors="replace"):
            if 'PR_SET_NAME, "perf-io-' in line:
                on = True
            elif 'PR_SET_NAME, "perf-end-' in line:
                on = False
            elif on and re.match(r"^[a-z_0-9]+\(", line):
                inside += 1
    shutil.rmtree(d)
    return r["results"]["total"]["ios"], inside


def main():
    _, out, perf = benchlib.args(sys.argv, WHAT)
    if shutil.which("strace") is None:
        benchlib.fail(WHAT, "strace is missing (scripts/pkgdep.sh installs it)")
    rows, data = [], {"bench": WHAT, "args": ARGS, "runs": []}
    for secs in RUNS:
        tmp = tempfile.mkdtemp(prefix="vpio-bench-sys.")
        try:
            ios, total, calls = strace_c(perf, secs, tmp)
            ios_ff, inside = strace_ff(perf, secs, tmp)
        except benchlib.BenchError as e:
            benchlib.fail(WHAT, str(e))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        top = sorted(calls.items(), key=lambda kv: -kv[1])[:4]
        data["runs"].append({"seconds": secs, "ios": ios, "syscalls_total": total, "by_name": calls,
                             "ios_ff_run": ios_ff, "io_thread_syscalls_in_loop": inside})
        rows.append([secs, ios, total, "%.6f" % (total / ios if ios else 0), inside,
                     ", ".join("%s %d" % kv for kv in top)])
    print("### 2. System calls: vpio-perf on emu:nvme?null=1, 4 KiB random reads, QD 32, under strace\n")
    print(benchlib.table(["seconds", "I/Os (strace -f -c run)", "system calls, whole process",
                          "per I/O", "I/O threads, inside their loop (strace -ff run)", "most frequent"], rows))
    print("\nJSON: %s" % benchlib.write(out, WHAT, data))


if __name__ == "__main__":
    main()
