#!/usr/bin/env bash
# test/bench/run.sh [BUILD_DIR] [OUT_DIR] - vpio-perf's benchmarks, one
# after the other; each prints a markdown table and writes OUT_DIR/NAME.json
# (default BUILD_DIR/bench-results).  None passes or fails on speed: the
# exit status says only whether each one ran.  Results and how to read
# them: doc/performance.md.
#   0. the benchmark programs of mk/bench_*.mk, briefly: vtophys_bench
#      (registration scaling up to 100 k regions), xdma_bw (-t 0.5);
#      nvme_iops runs in 1.
#   1. driver_cost.py  cycles per I/O of the vpio-perf core vs the driver
#      alone (build/bench/nvme_iops)
#   2. syscalls.py     strace counts for N and 10 N I/Os
#   3. vm_kernel_vs_vpio.sh  fio and vpio-perf on one QEMU NVMe controller
#      in one VM boot (kernel io_uring, polled, vpio uring, vpio VFIO);
#      about 8 minutes; VPIO_SKIP_VM=1 skips it, VPIO_BENCH_SECONDS sets
#      the length of each of its 24 runs (default 3)
#   4. scaling.py      IOPS as cores grow
#   5. driver_instr.sh instructions per 4 KiB read of the NVMe driver
#      alone (nvme_iops -l under callgrind), submit and complete
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
B=${1:-${VPIO_BUILD:-build}}
OUT=${2:-$B/bench-results}
failed=0
mkdir -p "$OUT"
echo "# vpio-perf benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$HERE" describe --always --dirty 2>/dev/null || echo unknown))"
echo
echo "### 0. Benchmark programs"
for cmd in "vtophys_bench 2000000 100000" "xdma_bw -t 0.5"; do
	echo
	echo "\$ $B/bench/$cmd"
	# shellcheck disable=SC2086 # the arguments are words
	"$B"/bench/$cmd || { echo "bench: ${cmd%% *} did not run"; failed=$((failed + 1)); }
done
for b in driver_cost syscalls scaling; do
	echo
	python3 "$HERE/$b.py" "$B" "$OUT" || { echo "bench: $b did not run"; failed=$((failed + 1)); }
done
echo
echo "### 3. Kernel vs vpio in one VM boot (vm_kernel_vs_vpio.sh)"
if [[ ${VPIO_SKIP_VM:-0} == 1 ]]; then
	echo "skipped (VPIO_SKIP_VM=1)"
else
	VPIO_BUILD_DIR=$B bash "$HERE/vm_kernel_vs_vpio.sh" -t "${VPIO_BENCH_SECONDS:-3}" \
		--json "$OUT/vm_kernel_vs_vpio.json" || { echo "bench: vm_kernel_vs_vpio did not run"; failed=$((failed + 1)); }
fi
echo
echo "### 5. Instructions per I/O of the NVMe driver (driver_instr.sh, callgrind)"
echo
bash "$HERE/driver_instr.sh" "$B" || { echo "bench: driver_instr did not run"; failed=$((failed + 1)); }
((failed == 0))
