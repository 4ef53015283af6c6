#!/usr/bin/env bash
# quickstart.sh - the README's first command: install what is missing,
# build, prepare the machine (vfio-pci bindings and hugepages, when run as
# root) and run vpio's main job.  Run as root on a fresh Debian 12 machine.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"

if [[ $(id -u) == 0 ]]; then
	sh scripts/pkgdep.sh
else
	echo "quickstart: not root: skipping scripts/pkgdep.sh and scripts/setup.sh" >&2
fi
./configure >/dev/null
ninja -C build >/dev/null
if [[ $(id -u) == 0 ]]; then
	# Binds NVMe/XDMA devices to vfio-pci and reserves hugepages; on a
	# machine without an IOMMU it says so and vpio runs on emulated devices.
	HUGEMEM=${HUGEMEM:-512} scripts/setup.sh config || echo "quickstart: setup.sh could not prepare everything (see above); continuing with emulated devices" >&2
fi
build/bin/vpio-envinfo
echo
# The NVMe controllers vpio can use, then the main job: vpio-perf, 4 KiB
# random reads for 3 s on the first controller bound to vfio-pci (or the
# emulated controller emu:nvme when none is), and its table.
build/bin/vpio-identify
echo
build/bin/vpio-perf -o 4K -w randread -q 32 -t 3 -L
