#!/usr/bin/env bash
# vm_kernel_vs_vpio_guest.sh - runs inside the VM of vm_kernel_vs_vpio.sh
# (test/vm/vm.sh, booted with nvme.poll_queues=1): the same QEMU NVMe
# namespace through
#   (a) fio, ioengine=io_uring, on the kernel's nvme driver
#   (b) the same with hipri (polled completions on the poll queue)
#   (c) vpio-perf -a uring:/dev/nvmeXnY, without and with iopoll
#   (d) vpio-perf through VFIO (after scripts/setup.sh binds the controller)
# 4 KiB randread and randwrite at QD 1 and 32, BENCH_SECONDS each.  Each
# run leaves its JSON in $BENCH_OUT; the host prints the table.
set -uo pipefail

BUILD=${VPIO_BUILD_DIR:-build}
OUT=${BENCH_OUT:?BENCH_OUT is not set}
T=${BENCH_SECONDS:-5}
SERIAL=vpionvme0
say() { echo "bench-guest: $*"; }

bdf=""
for d in /sys/bus/pci/devices/*; do
	[[ $(cat "$d/class" 2>/dev/null) == 0x010802 ]] || continue
	for c in "$d"/nvme/nvme*; do
		s=$(cat "$c/serial" 2>/dev/null)
		[[ ${s%% *} == "$SERIAL" ]] && bdf=${d##*/}
	done
done
[[ -n $bdf ]] || { say "no NVMe controller with serial $SERIAL"; exit 1; }
dev=""
for n in /sys/bus/pci/devices/"$bdf"/nvme/nvme*/nvme*n1; do
	[[ -b /dev/${n##*/} ]] && dev=/dev/${n##*/}
done
[[ -n $dev ]] || { say "no block device for $bdf"; exit 1; }
say "controller $bdf, namespace $dev, poll queues: $(cat /sys/module/nvme/parameters/poll_queues 2>/dev/null || echo ?), $T s per run"
command -v fio >/dev/null || { say "fio is not installed (scripts/pkgdep.sh installs it)"; exit 1; }
[[ -x $BUILD/bin/vpio-perf ]] || { say "$BUILD/bin/vpio-perf is not built"; exit 1; }

# Fill the namespace so that reads find data the device has written.
say "filling $dev"
fio --name=fill --filename="$dev" --rw=write --bs=1M --iodepth=8 --ioengine=io_uring --direct=1 \
	--output-format=json --output="$OUT/fill.json" >/dev/null || { say "fill failed"; exit 1; }

rc=0
for rw in randread randwrite; do
	for qd in 1 32; do
		common=(--name=bench --filename="$dev" --rw=$rw --bs=4k --iodepth=$qd --ioengine=io_uring --direct=1
			--registerfiles --fixedbufs --time_based --runtime="$T" --lat_percentiles=1 --output-format=json)
		say "(a) fio io_uring $rw QD $qd"
		fio "${common[@]}" --output="$OUT/a-$rw-$qd.json" >/dev/null || rc=1
		say "(b) fio io_uring hipri $rw QD $qd"
		fio "${common[@]}" --hipri --output="$OUT/b-$rw-$qd.json" >/dev/null || rc=1
		say "(c) vpio-perf uring $rw QD $qd"
		"$BUILD/bin/vpio-perf" -a "uring:$dev" -w $rw -q $qd -o 4K -t "$T" --json "$OUT/c-$rw-$qd.json" \
			>"$OUT/c-$rw-$qd.txt" 2>&1 || rc=1
		say "(c') vpio-perf uring iopoll $rw QD $qd"
		"$BUILD/bin/vpio-perf" -a "uring:$dev?iopoll=1" -w $rw -q $qd -o 4K -t "$T" \
			--json "$OUT/ci-$rw-$qd.json" >"$OUT/ci-$rw-$qd.txt" 2>&1 || rc=1
	done
done

say "binding $bdf to vfio-pci"
HUGEMEM=256 PCI_ALLOWED="$bdf" scripts/setup.sh config >"$OUT/setup.txt" 2>&1 || { say "setup.sh config failed"; exit 1; }
for rw in randread randwrite; do
	for qd in 1 32; do
		say "(d) vpio-perf VFIO $rw QD $qd"
		"$BUILD/bin/vpio-perf" -a "$bdf" -w $rw -q $qd -o 4K -t "$T" --json "$OUT/d-$rw-$qd.json" \
			>"$OUT/d-$rw-$qd.txt" 2>&1 || rc=1
	done
done
scripts/setup.sh reset >/dev/null 2>&1
exit $rc
