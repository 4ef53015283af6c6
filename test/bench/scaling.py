#!/usr/bin/env python3
"""scaling.py [BUILD_DIR] [OUT_DIR] - benchmark 4: IOPS as cores grow.

vpio-perf, 4 KiB random reads at QD 32 on null-mode emulated controllers,
on 1 .. all cores of this machine (at most 8): once with one controller
shared by every core, once with a controller per core; 1 and 2 channels
per target per core.  Every emulated controller runs its own thread, which
needs a core of its own to keep up: on a machine with few cores the I/O
threads and the controllers share them, and the table shows that, not
vpio's limit.  Writes OUT_DIR/scaling.json.
"""
import sys

import benchlib

WHAT = "scaling"
SECONDS = 2


def main():
    _, out, perf = benchlib.args(sys.argv, WHAT)
    ncpu = min(benchlib.cores_online(), 8)
    allowed = sorted(__import__("os").sched_getaffinity(0))
    rows, data = [], {"bench": WHAT, "seconds": SECONDS, "cpus": ncpu, "runs": []}
    for cores in range(1, ncpu + 1):
        mask = sum(1 << c for c in allowed[:cores])
        for ctrlrs in sorted({1, cores}):
            for ch in (1, 2):
                a = []
                for i in range(ctrlrs):
                    a += ["-a", "emu:nvme%d?null=1&queues=16" % i]
                try:
                    r, _ = benchlib.perf(perf, a + ["-w", "randread", "-o", "4K", "-q", "32", "-c", hex(mask),
                                                    "-P", str(ch), "-t", str(SECONDS)])
                except benchlib.BenchError as e:
                    benchlib.fail(WHAT, str(e))
                total = r["results"]["total"]
                per_core = [c["iops"] for c in r["results"]["cores"]]
                data["machine"] = benchlib.machine(r)
                data["runs"].append({"cores": cores, "core_mask": hex(mask), "controllers": ctrlrs,
                                     "channels_per_target_per_core": ch, "iops": total["iops"],
                                     "iops_per_core": per_core, "latency_us": total["latency_us"]})
                rows.append([cores, ctrlrs, ch, "%.0f" % total["iops"],
                             " / ".join("%.0f" % x for x in per_core), "%.1f" % total["latency_us"]["avg"],
                             "%d + %d" % (cores, ctrlrs)])
    print("### 4. Scaling: null-mode emulated controllers, 4 KiB random reads, QD 32 per channel, %d s each\n"
          % SECONDS)
    print(benchlib.table(["cores", "controllers", "channels / target / core", "IOPS", "IOPS per core",
                          "avg latency us", "spinning threads (I/O + controllers)"], rows))
    print("\n%s; %d CPUs for vpio-perf's threads and the controllers' together.\nJSON: %s"
          % (data.get("machine", ""), ncpu, benchlib.write(out, WHAT, data)))


if __name__ == "__main__":
    main()
