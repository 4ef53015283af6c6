#!/bin/sh
# nosyscall.sh [BUILD_DIR] - the NVMe I/O path makes no system call.
#
# Runs BUILD_DIR/test/nvme_nosyscall (a null-mode emulated controller, 32
# I/Os in flight, polled; NOSYSCALL_PROG=NAME runs BUILD_DIR/test/NAME
# instead, a program with the same options and output, e.g. xdma_nosyscall
# from test/func/xdma_nosyscall.sh) under "strace -f -ff", which writes one trace file
# per thread, and counts the system calls of the I/O thread only, between
# the two prctl(PR_SET_NAME) markers the program puts around its I/O loop.
# The emulator's thread (which sleeps and yields when idle) and DPDK's
# threads have their own files and are not counted.  Passes when N and
# 10*N I/Os cost the same number of system calls (zero is expected), and
# when the self-check, one getppid() per I/O (-x), is seen by the count.
# BUILD_DIR defaults to $VPIO_BUILD (set by test/run.sh), else build.
# Prints "nosyscall: N passed, N failed"; exit 0 when all passed.
set -u
B=${1:-${VPIO_BUILD:-build}}
PROG=${NOSYSCALL_PROG:-nvme_nosyscall}
P=$B/test/$PROG
N=${NOSYSCALL_N:-2000}
PASS=0 FAIL=0
case "$N" in '' | *[!0-9]*) echo "nosyscall: NOSYSCALL_N=$N is not a number"; exit 1 ;; esac

if ! command -v strace >/dev/null 2>&1; then
	echo "nosyscall: strace is missing (scripts/pkgdep.sh installs it)"
	echo "nosyscall: 0 passed, 1 failed"
	exit 1
fi
[ -x "$P" ] || ninja -C "$B" "$(cd "$B" && pwd -P)/test/$PROG" >/dev/null 2>&1
if [ ! -x "$P" ]; then
	echo "nosyscall: $P is not built (ninja -C $B)"
	echo "nosyscall: 0 passed, 1 failed"
	exit 1
fi
T=$(mktemp -d /tmp/vpio-nosys.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

# count NAME ARGS...: run under strace; print the I/O thread's system calls
# between the markers, or "error".
count() {
	name=$1
	shift
	# LeakSanitizer cannot run under ptrace: off for sanitizer builds
	if ! ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
		strace -f -ff -qq -o "$T/$name" "$P" "$@" >"$T/$name.out" 2>"$T/$name.err"; then
		echo error
		return
	fi
	tid=$(sed -n 's/^io_tid=//p' "$T/$name.out")
	f="$T/$name.$tid"
	if [ -z "$tid" ] || [ ! -f "$f" ] || ! grep -q 'vpio-io-end' "$f"; then
		echo error
		return
	fi
	awk '/PR_SET_NAME, "vpio-io-start"/ { on = 1; next }
	     /PR_SET_NAME, "vpio-io-end"/ { on = 0 }
	     on && /^[a-z_0-9]+\(/ { n++ }
	     END { print n + 0 }' "$f"
}

check() { # DESCRIPTION TRUE|FALSE
	if [ "$2" = true ]; then
		echo "nosyscall: ok: $1"
		PASS=$((PASS + 1))
	else
		echo "nosyscall: FAIL: $1"
		FAIL=$((FAIL + 1))
	fi
}
num() { case "$1" in '' | *[!0-9]*) return 1 ;; esac; }
is() { if "$@"; then echo true; else echo false; fi; }

c1=$(count n1 -n "$N")
c10=$(count n10 -n $((N * 10)))
cx=$(count self -n "$N" -x)
for r in n1 n10 self; do
	if grep -q . "$T/$r.err" 2>/dev/null; then sed "s/^/  $r | /" "$T/$r.err" | head -n 5; fi
done
echo "nosyscall: I/O thread system calls: $c1 for $N I/Os, $c10 for $((N * 10)) I/Os, $cx for $N I/Os with one getppid() each"
ran=false
num "$c1" && num "$c10" && num "$cx" && ran=true
check "the program ran under strace ($N, $((N * 10)) and $N I/Os)" $ran
check "system calls do not grow with the number of I/Os ($c1 -> $c10)" "$($ran && is [ "$c10" -le "$c1" ] || echo false)"
check "no system call at all in the I/O loop" "$($ran && is [ "$c10" -eq 0 ] || echo false)"
check "self-check: the count sees one system call per I/O ($cx >= $N)" "$($ran && is [ "$cx" -ge "$N" ] || echo false)"
echo "nosyscall: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
