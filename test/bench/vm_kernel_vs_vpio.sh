#!/usr/bin/env bash
# vm_kernel_vs_vpio.sh - benchmark 3 of doc/performance.md: the kernel and
# vpio on the same QEMU NVMe controller, in one VM boot (test/vm/vm.sh,
# TCG, intel-iommu, kernel booted with nvme.poll_queues=1).
#
#   test/bench/vm_kernel_vs_vpio.sh [-t SECONDS] [--json FILE]
#
# Prints a markdown table: IOPS, mean and p99 latency of (a) fio io_uring,
# (b) fio io_uring hipri (polled), (c) vpio-perf on uring:/dev/nvme0n1
# (plain and iopoll), (d) vpio-perf through VFIO, for 4 KiB randread and
# randwrite at QD 1 and 32, and vpio's ratios: (c)/(a), (c iopoll)/(b) and
# the headline (d)/(b).  Under TCG the emulated device and the vCPUs
# dominate every number: compare ratios from one run, not across machines.
# Never fails on speed; exits non-zero only when a run could not be made.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$ROOT" || exit 1
SECS=5
JSON=""
while [[ $# -gt 0 ]]; do
	case $1 in
	-t) SECS=${2:?-t needs seconds}; shift ;;
	--json) JSON=${2:?--json needs a file}; shift ;;
	-h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "vm_kernel_vs_vpio.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
[[ $SECS =~ ^[1-9][0-9]{0,3}$ ]] || { echo "vm_kernel_vs_vpio.sh: -t takes whole seconds (1-9999), not '$SECS'" >&2; exit 2; }
command -v fio >/dev/null || { echo "vm_kernel_vs_vpio.sh: fio is missing: run scripts/pkgdep.sh as root" >&2; exit 1; }
BUILD=${VPIO_BUILD_DIR:-build}
[[ -x $BUILD/bin/vpio-perf ]] || { echo "vm_kernel_vs_vpio.sh: $BUILD/bin/vpio-perf is not built (ninja -C $BUILD)" >&2; exit 1; }

OUT=$(mktemp -d /tmp/vpio-bench-vm.XXXXXX)
# 24 runs of SECS plus boot and fill
tmo=$((24 * (SECS + 8) + 240))
echo "vm_kernel_vs_vpio: ${SECS} s per run, about $((tmo / 60)) min; output in $OUT"
test/vm/vm.sh --variant intel48 --disk-size 256M --nvme1-props "" --append nvme.poll_queues=1 \
	--timeout "$tmo" --out "$OUT" --env "BENCH_OUT=$OUT" --env "BENCH_SECONDS=$SECS" \
	--env "VPIO_BUILD_DIR=$BUILD" -- test/bench/vm_kernel_vs_vpio_guest.sh >"$OUT/vm.log" 2>&1
rc=$?
grep '^bench-guest:' "$OUT/vm.log" | tail -n 3
python3 test/bench/vm_kernel_vs_vpio_table.py "$OUT" ${JSON:+--json "$JSON"} || rc=1
exit $rc
