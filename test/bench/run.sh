#!/usr/bin/env bash
# test/bench/run.sh [BUILD_DIR] [OUT_DIR] - vpio-perf's benchmarks, one
# after the other; each prints a markdown table and writes OUT_DIR/NAME.json
# (default BUILD_DIR/bench-results).  None passes or fails on speed: the
# exit status says only whether each one ran.  Results and how to read
# them: doc/performance.md.
#   1. driver_cost.py  cycles per I/O of the vpio-perf core vs the driver alone
#   2. syscalls.py     strace counts for N and 10 N I/Os
#   3. (kernel vs vpio in one VM boot: runs in the VM tier, not here; see
#      doc/performance.md - TODO, the lead wires it into test/vm)
#   4. scaling.py      IOPS as cores grow
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
B=${1:-${VPIO_BUILD:-build}}
OUT=${2:-$B/bench-results}
failed=0
echo "# vpio-perf benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$HERE" describe --always --dirty 2>/dev/null || echo unknown))"
for b in driver_cost syscalls scaling; do
	echo
	python3 "$HERE/$b.py" "$B" "$OUT" || { echo "bench: $b did not run"; failed=$((failed + 1)); }
done
echo
echo "### 3. Kernel vs vpio: not run on the host (needs the VM tier; doc/performance.md)"
((failed == 0))
