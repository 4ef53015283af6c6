#!/usr/bin/env python3
"""Table of test/bench/vm_kernel_vs_vpio.sh: reads the fio and vpio-perf
JSON files the guest left in DIR and prints IOPS, mean and p99 latency of
each way through, and vpio's ratios.  Usage: vm_kernel_vs_vpio_table.py DIR
[--json FILE]."""
import json
import os
import sys

WAYS = [
    ("a", "fio io_uring (kernel nvme)"),
    ("b", "fio io_uring hipri (poll queue)"),
    ("c", "vpio-perf uring:"),
    ("ci", "vpio-perf uring: iopoll"),
    ("d", "vpio-perf VFIO"),
]
RATIOS = [("c", "a", "vpio uring / fio"), ("ci", "b", "vpio uring iopoll / fio hipri"),
          ("d", "b", "vpio VFIO / fio hipri (headline)"), ("d", "a", "vpio VFIO / fio")]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def fio_numbers(doc, rw):
    job = doc["jobs"][0]["read" if rw == "randread" else "write"]
    lat = job.get("lat_ns", {})
    p99 = lat.get("percentile", {}).get("99.000000")
    return job["iops"], lat.get("mean", 0) / 1000.0, (p99 or 0) / 1000.0


def perf_numbers(doc):
    t = doc["results"]["total"]
    return t["iops"], t["latency_us"]["avg"], t["latency_us"]["p99"]


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = sys.argv[1]
    json_out = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    rows, missing, result = [], 0, {}
    for rw in ("randread", "randwrite"):
        for qd in (1, 32):
            got = {}
            for key, _ in WAYS:
                doc = load(os.path.join(out, "%s-%s-%d.json" % (key, rw, qd)))
                try:
                    got[key] = fio_numbers(doc, rw) if key in ("a", "b") else perf_numbers(doc)
                except (TypeError, KeyError, IndexError):
                    got[key] = None
                    missing += 1
            result["%s-qd%d" % (rw, qd)] = got
            for key, name in WAYS:
                v = got[key]
                cells = ["%.0f" % v[0], "%.1f" % v[1], "%.1f" % v[2]] if v else ["-", "-", "-"]
                rows.append("| %s | %d | %s | %s |" % (rw, qd, name, " | ".join(cells)))
            for num, den, name in RATIOS:
                a, b = got[num], got[den]
                r = "%.2fx" % (a[0] / b[0]) if a and b and b[0] > 0 else "-"
                rows.append("| %s | %d | *%s* | %s | | |" % (rw, qd, name, r))
    print("\n| workload | QD | way | IOPS | mean µs | p99 µs |")
    print("| --- | --- | --- | --- | --- | --- |")
    print("\n".join(rows))
    print("\nQEMU TCG: the emulated controller and the vCPUs dominate; compare the ratios of one run.")
    if json_out:
        with open(json_out, "w") as f:
            json.dump({"benchmark": "vm_kernel_vs_vpio", "results": result}, f, indent=1)
    if missing:
        print("%d runs left no numbers: see the .txt files and vm.log in %s" % (missing, out), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
