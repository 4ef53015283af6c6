#!/usr/bin/env bash
# test/run.sh - the one test entry point: installs what is missing, builds,
# and runs every test tier that exists.
#
#   1. unit tests (CUnit, build/test/unit_*)
#   2. functional tests on the host against the emulated devices
#      (build/test/func_*, test/func/*.sh)
#   3. the sanitizer build (ASan + UBSan) of tiers 1 and 2
#   4. the VM tier (test/vm/run.sh: QEMU, real VFIO, QEMU's NVMe)
#
# Ends with one line "N passed, N failed" and exits non-zero on any failure.
# Environment: VPIO_SKIP_VM=1, VPIO_SKIP_SAN=1 skip those tiers (said so in
# the output); VPIO_TEST_TIMEOUT (seconds per test program, default 600).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT" || exit 1
TIMEOUT=${VPIO_TEST_TIMEOUT:-600}
LOGS="$ROOT/build/test-logs"
PASSED=0
FAILED=0
SKIPPED=0
FAILURES=()

say() { printf '%s\n' "$*"; }
fail_build() { say "run.sh: $*"; say "0 passed, 1 failed"; exit 1; }

# ------------------------------------------------------------ set up
if [[ $(id -u) == 0 ]]; then
	sh scripts/pkgdep.sh || fail_build "scripts/pkgdep.sh failed"
else
	say "run.sh: not root: skipping scripts/pkgdep.sh (packages must already be installed)"
fi

build() { # DIR CONFIGURE-OPTIONS...
	local dir=$1
	shift
	./configure --build-dir="$dir" "$@" >"$LOGS/configure-$(basename "$dir").log" 2>&1 ||
		{ cat "$LOGS/configure-$(basename "$dir").log"; return 1; }
	ninja -C "$dir" >"$LOGS/ninja-$(basename "$dir").log" 2>&1 ||
		{ tail -n 40 "$LOGS/ninja-$(basename "$dir").log"; return 1; }
}
mkdir -p "$LOGS"
say "== build"
build build || fail_build "the build failed"
ninja -C build fuzz >"$LOGS/ninja-fuzz.log" 2>&1 || { tail -n 20 "$LOGS/ninja-fuzz.log"; fail_build "the fuzz targets failed to build"; }

# ------------------------------------------------------------ runners
# Run one CUnit program; count its tests from CUnit's run summary.
run_cunit() { # LABEL BINARY [ARGS...]
	local label=$1 bin=$2 log rc line ran fail
	shift 2
	log="$LOGS/${label//\//_}.log"
	timeout "$TIMEOUT" "$bin" "$@" >"$log" 2>&1
	rc=$?
	line=$(grep -E '^ +tests +[0-9]+' "$log" | tail -n 1)
	if [[ -n $line ]]; then
		read -r _ _ ran _ fail _ <<<"$line"
	else
		ran=0 fail=0
	fi
	if ((rc != 0 && fail == 0)); then fail=1; fi # crashed, timed out, or failed outside CUnit
	if ((rc == 124)); then say "TIMEOUT $label after ${TIMEOUT}s"; fi
	PASSED=$((PASSED + ran - (fail > ran ? ran : fail)))
	FAILED=$((FAILED + fail))
	if ((fail > 0)); then
		FAILURES+=("$label")
		say "FAIL $label ($fail of $ran failed, exit $rc); log: $log"
		grep -E 'FAILED|^ +[0-9]+\. |ERROR|Sanitizer|runtime error' "$log" | head -n 30
	else
		say "ok   $label ($ran tests)"
	fi
}

# Run one script test: it passes when it exits 0.
run_script() { # LABEL COMMAND...
	local label=$1 log rc
	shift
	log="$LOGS/${label//\//_}.log"
	timeout "$TIMEOUT" "$@" >"$log" 2>&1
	rc=$?
	if ((rc == 0)); then
		PASSED=$((PASSED + 1))
		say "ok   $label"
	else
		FAILED=$((FAILED + 1))
		FAILURES+=("$label")
		say "FAIL $label (exit $rc); log: $log"
		tail -n 15 "$log"
	fi
}

run_tier12() { # BUILD-DIR PREFIX
	local dir=$1 pfx=$2 t
	for t in "$dir"/test/unit_* "$dir"/test/func_*; do
		[[ -x $t ]] || continue
		run_cunit "$pfx$(basename "$t")" "$t"
	done
	for t in test/func/*.sh; do
		[[ -f $t ]] || continue
		run_script "$pfx$(basename "$t" .sh)" env VPIO_BUILD="$dir" bash "$t"
	done
}

# ------------------------------------------------------------ tiers
say "== unit and functional tests"
run_tier12 "$ROOT/build" ""

if [[ ${VPIO_SKIP_SAN:-0} == 1 ]]; then
	say "== sanitizers: skipped (VPIO_SKIP_SAN=1)"
	SKIPPED=$((SKIPPED + 1))
else
	say "== unit and functional tests under ASan + UBSan"
	if build "$ROOT/build-asan" --enable-asan --enable-ubsan --enable-debug; then
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
			UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
			run_tier12 "$ROOT/build-asan" "asan/"
	else
		FAILED=$((FAILED + 1))
		FAILURES+=("asan build")
		say "FAIL the ASan/UBSan build"
	fi
fi

if [[ -x test/vm/run.sh ]]; then
	say "== VM tier (QEMU, real VFIO)"
	log="$LOGS/vm.log"
	bash test/vm/run.sh 2>&1 | tee "$log" | grep -E '^vm: '
	line=$(grep -E '^vm: [0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [[ -z $line ]]; then
		FAILED=$((FAILED + 1))
		FAILURES+=("vm tier")
		say "FAIL the VM tier printed no summary; log: $log"
		tail -n 20 "$log"
	else
		p=$(sed -E 's/^vm: ([0-9]+) passed.*/\1/' <<<"$line")
		f=$(sed -E 's/^vm: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"$line")
		s=$(sed -nE 's/.*, ([0-9]+) skipped.*/\1/p' <<<"$line")
		PASSED=$((PASSED + p))
		FAILED=$((FAILED + f))
		SKIPPED=$((SKIPPED + ${s:-0}))
		((f > 0)) && FAILURES+=("vm tier")
	fi
fi

say "=="
((${#FAILURES[@]} > 0)) && say "failed: ${FAILURES[*]}"
if ((SKIPPED > 0)); then
	say "$PASSED passed, $FAILED failed, $SKIPPED skipped"
else
	say "$PASSED passed, $FAILED failed"
fi
((FAILED == 0))
