#!/bin/sh
# fuzz_cpl.sh [BUILD_DIR] - a short, fixed run of the NVMe completion-path
# fuzzer (BUILD_DIR/fuzz/fuzz_nvme_cpl, libFuzzer; BUILD_DIR defaults to
# $VPIO_BUILD, as test/run.sh sets it, else build): FUZZ_RUNS inputs (default
# 20000) from a fixed seed, starting from an empty corpus.  Builds the
# target first when it is missing ("ninja -C BUILD_DIR fuzz", needs clang).
# Prints "fuzz_cpl: N passed, N failed" and exits 0 on success, 1 when the
# fuzzer found a crash or an invariant violation, 77 when it cannot run.
set -u
B=${1:-${VPIO_BUILD:-build}}
RUNS=${FUZZ_RUNS:-20000}
F=$B/fuzz/fuzz_nvme_cpl

if [ ! -x "$F" ]; then
	ninja -C "$B" fuzz >/dev/null 2>&1
fi
if [ ! -x "$F" ]; then
	echo "fuzz_cpl: $F is not built; it needs clang with libFuzzer (scripts/pkgdep.sh installs it), then: ninja -C $B fuzz"
	echo "fuzz_cpl: 0 passed, 0 failed, 1 skipped"
	exit 77
fi
F=$(cd "$(dirname "$F")" && pwd -P)/$(basename "$F")
T=$(mktemp -d /tmp/vpio-fuzz.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
mkdir "$T/corpus"
ART=$(dirname "$F")/
if (cd "$T" && "$F" -runs="$RUNS" -seed=1 -max_len=2048 -artifact_prefix="$ART" corpus) >"$T/log" 2>&1; then
	grep -E '^Done [0-9]+ runs' "$T/log" | sed 's/^/fuzz_cpl: /'
	echo "fuzz_cpl: 1 passed, 0 failed"
	exit 0
fi
echo "fuzz_cpl: the fuzzer failed; the end of its log:"
tail -n 30 "$T/log" | sed 's/^/  | /'
grep -E '^artifact_prefix|Test unit written to' "$T/log" | sed 's/^/fuzz_cpl: /'
echo "fuzz_cpl: 0 passed, 1 failed"
exit 1
