#!/usr/bin/python3
"""perf-plot.py - draw vpio-perf --json reports into one PNG.

    scripts/perf-plot.py [-o OUT.png] [--title TEXT] RUN.json [RUN.json ...]

One column per run, side by side: IOPS over time (the per-second samples;
warm-up seconds shaded) above, the latency percentile curve (p1 ... p99.999,
max) below.  The rows share their axes, so the runs can be compared by eye.

Needs python3-matplotlib (scripts/pkgdep.sh installs it).  Exit status: 0
done, 2 bad input (no file, unreadable or not a vpio-perf report), 1 when
matplotlib is missing or the PNG cannot be written.
"""
import argparse
import json
import math
import os
import sys


def fail(status, msg):
    print("perf-plot: " + msg, file=sys.stderr)
    sys.exit(status)


def load(path):
    try:
        with open(path) as f:
            d = json.load(f)
    except OSError as e:
        fail(2, "%s: cannot read it: %s" % (path, e.strerror))
    except ValueError as e:
        fail(2, "%s: not JSON (%s); give files written by vpio-perf --json" % (path, e))
    if not isinstance(d, dict) or not str(d.get("schema", "")).startswith("vpio-perf/"):
        fail(2, "%s: not a vpio-perf --json report (no \"schema\": \"vpio-perf/...\")" % path)
    return d


def label(path, d):
    c = d["config"]
    names = ", ".join(t["name"] for t in d["targets"])
    return "%s\n%s %s QD %d x %d core(s)\n%s" % (
        os.path.basename(path), c["workload"], human(c["io_size"]), c["queue_depth"], len(c["cores"]), names)


def human(n):
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return ("%d %s" % (n, unit)) if n == int(n) else ("%.1f %s" % (n, unit))
        n /= 1024.0
    return str(n)


def nines(p):
    """Percentile -> x position: 90 -> 1, 99 -> 2, 99.9 -> 3 ..."""
    return -math.log10(max(1e-6, 1.0 - p / 100.0))


def main():
    ap = argparse.ArgumentParser(description="Draw vpio-perf --json reports into one PNG.")
    ap.add_argument("runs", nargs="+", metavar="RUN.json", help="vpio-perf --json report(s)")
    ap.add_argument("-o", "--output", default="perf.png", help="PNG to write (default perf.png)")
    ap.add_argument("--title", default=None, help="title above the plots")
    a = ap.parse_args()
    runs = [(p, load(p)) for p in a.runs]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        fail(1, "matplotlib is missing: apt-get install python3-matplotlib (scripts/pkgdep.sh)")

    n = len(runs)
    fig, ax = plt.subplots(2, n, figsize=(4.8 * n, 7.5), squeeze=False, sharey="row")
    ticks = [0, 1, 2, 3, 4, 5]
    tick_labels = ["p0", "p90", "p99", "p99.9", "p99.99", "p99.999"]
    for i, (path, d) in enumerate(runs):
        top, bottom = ax[0][i], ax[1][i]
        samples = d.get("samples", [])
        # each sample covers the second before its time stamp
        xs = [0.0] + [s["t"] for s in samples]
        def steps(key):
            v = [s[key] for s in samples]
            return v[:1] + v
        top.plot(xs, steps("iops"), drawstyle="steps-pre", label="all")
        if any(s["write_iops"] > 0 for s in samples) and any(s["read_iops"] > 0 for s in samples):
            top.plot(xs, steps("read_iops"), drawstyle="steps-pre", linestyle="--", label="reads")
            top.plot(xs, steps("write_iops"), drawstyle="steps-pre", linestyle=":", label="writes")
            top.legend(loc="lower right", fontsize="small")
        warm = d["config"].get("warmup_seconds", 0)
        if warm > 0:
            top.axvspan(0, warm, color="0.9")
            top.text(warm / 2, 0, "warm-up", ha="center", va="bottom", fontsize="small", color="0.4")
        top.set_xlim(left=0)
        total = d["results"]["total"]
        top.set_title(label(path, d), fontsize="small")
        top.set_xlabel("seconds (total %.0f IOPS, %.1f MiB/s)" % (total["iops"], total["mib_s"]))
        if i == 0:
            top.set_ylabel("IOPS per second")
        top.set_ylim(bottom=0)
        top.grid(True, alpha=0.3)

        curve = [pt for pt in total.get("latency_curve_us", []) if pt[0] < 100]
        if curve:
            bottom.plot([nines(p) for p, _ in curve], [v for _, v in curve], marker=".")
            bottom.axhline(total["latency_us"]["max"], color="0.6", linestyle=":", linewidth=1)
        bottom.set_xticks(ticks)
        bottom.set_xticklabels(tick_labels)
        bottom.set_yscale("log")
        bottom.set_xlabel("percentile (dotted: max %.1f us)" % total["latency_us"]["max"])
        if i == 0:
            bottom.set_ylabel("latency (us)")
        bottom.grid(True, which="both", alpha=0.3)
    if a.title:
        fig.suptitle(a.title)
    fig.tight_layout()
    try:
        fig.savefig(a.output, dpi=100)
    except OSError as e:
        fail(1, "%s: cannot write the PNG: %s" % (a.output, e.strerror))
    print("perf-plot: wrote %s (%d run%s)" % (a.output, n, "" if n == 1 else "s"))


if __name__ == "__main__":
    main()
