#!/usr/bin/env bash
# test/bench/driver_instr.sh [BUILD_DIR] [NVME_IOPS] - instructions per
# 4 KiB read of the NVMe driver alone, counted by callgrind (these machines
# have no hardware counters): nvme_iops -l (a qpair in plain memory, this
# thread plays the device) at QD 1 and 32, with the instructions of
# vpio_nvme_ns_cmd_read (submit) and vpio_nvme_qpair_process_completions
# (complete, including a one-line callback) and nothing else collected.
# NVME_IOPS overrides the program (to compare two builds in one run).
set -euo pipefail
B=${1:-${VPIO_BUILD:-build}}
PROG=${2:-}
[[ -n $PROG ]] || for p in "$B/bench/nvme_iops" "$B/test/nvme_iops"; do [[ -x $p ]] && PROG=$p && break; done
[[ -x ${PROG:-} ]] || { echo "driver_instr: nvme_iops not found under $B (build it first)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "driver_instr: valgrind not installed (apt-get install valgrind)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '| QD | I/Os | instructions per I/O | submit | complete |\n|---|---|---|---|---|\n'
for qd in 1 32; do
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$qd" --collect-atstart=no \
		--toggle-collect=vpio_nvme_ns_cmd_read --toggle-collect=vpio_nvme_qpair_process_completions \
		"$PROG" -l -q "$qd" -t 0.025 >"$tmp/out.$qd" 2>"$tmp/err.$qd" ||
		{ echo "driver_instr: $PROG failed under callgrind:" >&2; tail -5 "$tmp/err.$qd" >&2; exit 1; }
	ios=$(awk '/loopback/ { n += $(NF - 1) } END { print n }' "$tmp/out.$qd")
	callgrind_annotate --inclusive=yes "$tmp/cg.$qd" >"$tmp/ann.$qd" 2>/dev/null
	total=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' "$tmp/ann.$qd")
	fn() { awk -v f="$1" '$0 ~ ":" f "( |$)" { gsub(",", "", $1); if ($1 + 0 > s) s = $1 + 0 } END { print s + 0 }' "$tmp/ann.$qd"; }
	sub=$(fn vpio_nvme_ns_cmd_read)
	cpl=$(fn vpio_nvme_qpair_process_completions)
	awk -v q="$qd" -v n="$ios" -v t="$total" -v s="$sub" -v c="$cpl" \
		'BEGIN { printf "| %d | %d | %.0f | %.0f | %.0f |\n", q, n, t / n, s / n, c / n }'
done
