#!/usr/bin/env python3
"""driver_cost.py [BUILD_DIR] [OUT_DIR] - benchmark 1: what vpio-perf's
I/O path costs per I/O on the host.

vpio-perf on a null-mode emulated controller (no data moved, the
controller on another core), 4 KiB random reads at QD 1, 32 and 128, with
each --io-api (lib/blk callbacks, lib/nvme batches): IOPS
and TSC cycles of the vpio-perf core per I/O - busy cycles (loop turns that
completed something) and all cycles - next to the driver-alone loopback of
build/bench/nvme_iops from the same run (lib/nvme with no device: submit +
complete, batched doorbells) and the IOPS nvme_iops gets from the driver
alone against the same kind of controller.  Writes
OUT_DIR/driver_cost.json.
"""
import re
import subprocess
import sys

import benchlib

WHAT = "driver_cost"
QDS = (1, 32, 128)
APIS = ("blk", "nvme-batch")  # vpio-perf --io-api: lib/blk callbacks, lib/nvme batches
SECONDS = 2


def nvme_iops(build):
    """nvme_iops (batched doorbells), by QD: loopback cycles per I/O, and
    IOPS of the driver alone against the same kind of emulated controller."""
    p = subprocess.run([build + "/bench/nvme_iops", "-t", "0.5"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=300)
    loop, dev = {}, {}
    for m in re.finditer(r"loopback +QD +(\d+) +doorbell batched +([0-9.]+) cycles per I/O", p.stdout):
        loop[int(m.group(1))] = float(m.group(2))
    for m in re.finditer(r"device +QD +(\d+) +doorbell batched +([0-9.]+) IOPS", p.stdout):
        dev[int(m.group(1))] = float(m.group(2))
    if p.returncode != 0 or not loop:
        benchlib.fail(WHAT, "build/bench/nvme_iops did not run: " + p.stdout[-300:])
    return loop, dev


def main():
    build, out, perf = benchlib.args(sys.argv, WHAT)
    rows, data = [], {"bench": WHAT, "seconds": SECONDS, "runs": []}
    loop, dev = nvme_iops(build)
    for qd in QDS:
        for api in APIS:
            try:
                r, _ = benchlib.perf(perf, ["-a", "emu:nvme?null=1", "-w", "randread", "-o", "4K", "-q", str(qd),
                                            "-t", str(SECONDS), "--warmup", "0.5", "--io-api", api])
            except benchlib.BenchError as e:
                benchlib.fail(WHAT, str(e))
            core = r["results"]["cores"][0]
            total = r["results"]["total"]
            lb = loop.get(qd)
            busy = core["busy_ticks_per_io"]
            data["machine"] = benchlib.machine(r)
            data["runs"].append({"qd": qd, "io_api": api, "iops": total["iops"], "busy_cycles_per_io": busy,
                                 "cycles_per_io": core["ticks_per_io"], "latency_us": total["latency_us"],
                                 "loopback_cycles_per_io": lb, "driver_alone_iops": dev.get(qd),
                                 "added_percent": (busy / lb - 1) * 100 if lb else None})
            rows.append([qd, api, "%.0f" % total["iops"], "%.0f" % dev[qd] if qd in dev else "-", "%.1f" % busy,
                         "%.1f" % core["ticks_per_io"], "%.1f" % total["latency_us"]["avg"], "%.1f" % lb if lb else "-",
                         "%+.0f %%" % ((busy / lb - 1) * 100) if lb else "-"])
    print("### 1. Driver cost: vpio-perf on emu:nvme?null=1, 4 KiB random reads, %d s each\n" % SECONDS)
    print(benchlib.table(["QD", "--io-api", "IOPS", "driver alone IOPS (nvme_iops)", "busy cycles / I/O", "all cycles / I/O", "avg latency us",
                          "driver alone (nvme_iops loopback) cycles / I/O", "busy vs driver alone"], rows))
    print("\nBusy cycles count every loop turn that completed something, cache-line transfers from the")
    print("controller's core and waiting for it included: while the controller thread is slower than the")
    print("host (always, on a few cores) they measure the controller, not the host's cost, which the")
    print("loopback column gives for the driver alone.  Compare IOPS with the driver alone's instead.")
    print("\n%s\nJSON: %s" % (data.get("machine", ""), benchlib.write(out, WHAT, data)))


if __name__ == "__main__":
    main()
