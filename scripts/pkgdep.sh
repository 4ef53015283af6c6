#!/bin/sh
# pkgdep.sh - install every Debian package vpio needs to build and test.
# Idempotent and quiet: does nothing (not even apt-get update) when all
# packages are already installed.  Run as root.
set -eu

# Build: compiler, ninja, pkg-config, DPDK (EAL/mempool/ring, linked
# statically, which needs libbsd and libnuma), liburing, CUnit.
BUILD="gcc libc6-dev ninja-build pkg-config libdpdk-dev libbsd-dev libnuma-dev liburing-dev libcunit1-dev"
# Tests: clang + its runtimes (libFuzzer, sanitizers), strace (no-syscall
# check), fio (the kernel side of test/bench/vm_kernel_vs_vpio.sh),
# valgrind (instructions per I/O: test/bench/driver_instr.sh), and
# what the VM tier needs (QEMU, a static busybox for the
# initramfs, cpio/xz/zstd to unpack Debian kernels, kmod, pciutils).
TEST="clang libclang-rt-14-dev strace fio valgrind qemu-system-x86 busybox-static cpio xz-utils zstd kmod pciutils"
# Tools: scripts/perf-plot.py draws vpio-perf --json reports.
TOOLS="python3-matplotlib"

PKGS="$BUILD $TEST $TOOLS"
missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "pkgdep.sh: missing packages:$missing; run as root: sudo $0" >&2
	exit 1
fi
echo "pkgdep.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086  # word list on purpose
apt-get install -y -qq --no-install-recommends $missing >/dev/null
