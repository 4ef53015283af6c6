#!/usr/bin/env bash
# perf_nosyscall.sh [BUILD_DIR] - vpio-perf's I/O threads make no system
# call while they run.
#
# vpio-perf names each I/O thread "perf-io-CORE" when its loop starts and
# "perf-end-CORE" when it ends (prctl PR_SET_NAME).  Under "strace -f -ff"
# (one trace file per thread) this counts the system calls each I/O thread
# makes between the two names, for a run of 1 s and one of 3 s on a
# null-mode emulated controller, with an I/O thread on every core: zero is
# expected, and the count must not grow with the run.  The same for a 1 s
# XDMA loopback on an emulated card (emu:xdma).  Self-check: the same
# count on a file through io_uring sees the ring's io_uring_enter() calls.
# BUILD_DIR defaults to $VPIO_BUILD (set by test/run.sh), else build.
# Prints "perf_nosyscall: N passed, N failed"; exit 0 when all passed.
set -u
B=${1:-${VPIO_BUILD:-build}}
P=$B/bin/vpio-perf
PASS=0 FAIL=0
MASK=0x1
(($(nproc) >= 2)) && MASK=0x3
NCORES=$(((MASK == 3) + 1))

finish() {
	echo "perf_nosyscall: $PASS passed, $FAIL failed"
	((FAIL == 0))
	exit
}
check() { # DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then
		echo "perf_nosyscall: ok: $what"
		PASS=$((PASS + 1))
	else
		echo "perf_nosyscall: FAIL: $what"
		FAIL=$((FAIL + 1))
	fi
}
if ! command -v strace >/dev/null 2>&1; then
	echo "perf_nosyscall: strace is missing (scripts/pkgdep.sh installs it)"
	FAIL=1
	finish
fi
if [[ ! -x $P ]]; then
	echo "perf_nosyscall: $P is not built (ninja -C $B)"
	FAIL=1
	finish
fi
T=$(mktemp -d /tmp/vpio-perf-nosys.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

# trace NAME ARGS...: run vpio-perf under strace; prints one line per I/O
# thread: "CALLS NAME-OF-EACH..." between its markers, or "error".
trace() {
	local name=$1 f
	shift
	# LeakSanitizer cannot run under ptrace: off for sanitizer builds
	if ! ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=0" \
		timeout 120 strace -f -ff -qq -o "$T/$name" "$P" "$@" >"$T/$name.out" 2>"$T/$name.err"; then
		echo error
		sed "s/^/  $name | /" "$T/$name.out" "$T/$name.err" | tail -n 8 >&2
		return
	fi
	for f in $(grep -l 'PR_SET_NAME, "perf-io-' "$T/$name".[0-9]*); do
		grep -q 'PR_SET_NAME, "perf-end-' "$f" || { echo error; continue; }
		awk '/PR_SET_NAME, "perf-io-/ { on = 1; next }
		     /PR_SET_NAME, "perf-end-/ { on = 0 }
		     on && /^[a-z_0-9]+\(/ { n++; sub(/\(.*/, ""); seen[$0] = 1 }
		     END { printf "%d", n; for (s in seen) printf " %s", s; printf "\n" }' "$f"
	done
}
# all_zero LINES: one line per I/O thread, each with 0 calls
all_zero() { [[ -n $1 ]] && ! grep -qv '^0$' <<<"$1"; }

short=$(trace short -a 'emu:nvme?null=1' -c $MASK -t 1)
long=$(trace long -a 'emu:nvme?null=1' -c $MASK -t 3)
echo "perf_nosyscall: I/O thread system calls, 1 s run: $(tr '\n' ';' <<<"$short") 3 s run: $(tr '\n' ';' <<<"$long")"
check "an I/O thread per core ($NCORES), each marked at start and end" \
	eval '[[ $(grep -c . <<<"$short") == $NCORES && $(grep -c . <<<"$long") == $NCORES ]] && ! grep -q error <<<"$short$long"'
check "no system call in the I/O loop of a 1 s run" all_zero "$short"
check "no system call in the I/O loop of a 3 s run" all_zero "$long"
check "the run printed its table" grep -q '^Total ' "$T/long.out"

# an XDMA card: a channel pair per core through lib/xdma (completions from
# the writeback word in memory, engine starts through the emulated BAR)
xdma=$(trace xdma -a "emu:xdma?h2c=$NCORES&c2h=$NCORES" -c $MASK -w loopback -o 64K -q 8 -t 1 --verify)
echo "perf_nosyscall: I/O thread system calls, XDMA loopback 1 s: $(tr '\n' ';' <<<"$xdma")"
check "XDMA loopback: an I/O thread per core ($NCORES), each marked" \
	eval '[[ $(grep -c . <<<"$xdma") == $NCORES ]] && ! grep -q error <<<"$xdma"'
check "XDMA loopback: no system call in the I/O loop" all_zero "$xdma"
check "XDMA loopback: the run printed its table with GiB/s" grep -q 'GiB/s' "$T/xdma.out"

truncate -s 16M "$T/u.img"
self=$(trace self -a "uring:$T/u.img" -q 4 -t 1)
echo "perf_nosyscall: self-check on uring:FILE: $self"
check "self-check: the count sees io_uring_enter() in an io_uring target's I/O loop" \
	eval '[[ $self =~ ^[1-9][0-9]*\ .*io_uring_enter ]]'
finish
