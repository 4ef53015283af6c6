#!/usr/bin/env bash
# test/bench/driver_instr.sh [BUILD_DIR] [NVME_IOPS] - instructions per
# 4 KiB read of the NVMe driver alone, counted by callgrind (these machines
# have no hardware counters): nvme_iops -l (a qpair in plain memory, this
# thread plays the device) at QD 1 and 32, with the instructions of
# vpio_nvme_ns_cmd_read (submit) and vpio_nvme_qpair_process_completions
# (complete, including a one-line callback) and nothing else collected;
# then the same through the batch calls (vpio_nvme_ns_submit_batch_iova,
# vpio_nvme_qpair_poll_batch; nvme_iops -l -B), per I/O.
# NVME_IOPS overrides the program (to compare two builds in one run).
set -euo pipefail
B=${1:-${VPIO_BUILD:-build}}
PROG=${2:-}
[[ -n $PROG ]] || for p in "$B/bench/nvme_iops" "$B/test/nvme_iops"; do [[ -x $p ]] && PROG=$p && break; done
[[ -x ${PROG:-} ]] || { echo "driver_instr: nvme_iops not found under $B (build it first)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "driver_instr: valgrind not installed (apt-get install valgrind)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '| calls | QD | I/Os | instructions per I/O | submit | complete |\n|---|---|---|---|---|---|\n'
for mode in callback batch; do
	if [[ $mode == callback ]]; then
		sub_fn=vpio_nvme_ns_cmd_read cpl_fn=vpio_nvme_qpair_process_completions flag=
	else
		sub_fn=vpio_nvme_ns_submit_batch_iova cpl_fn=vpio_nvme_qpair_poll_batch flag=-B
	fi
	for qd in 1 32; do
		out=$tmp/$mode.$qd
		# shellcheck disable=SC2086 # $flag is empty or one word
		valgrind --tool=callgrind --callgrind-out-file="$out.cg" --collect-atstart=no \
			--toggle-collect=$sub_fn --toggle-collect=$cpl_fn \
			"$PROG" -l -q "$qd" -t 0.025 $flag >"$out.out" 2>"$out.err" ||
			{ echo "driver_instr: $PROG failed under callgrind:" >&2; tail -5 "$out.err" >&2; exit 1; }
		ios=$(awk '/loopback/ { n += $(NF - 1) } END { print n }' "$out.out")
		callgrind_annotate --inclusive=yes "$out.cg" >"$out.ann" 2>/dev/null
		total=$(awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }' "$out.ann")
		# a function's inclusive count: its largest line (inlined parts
		# are listed under the header they came from as well)
		fn() { awk -v f="$1" '$0 ~ ":" f "( |$)" { gsub(",", "", $1); if ($1 + 0 > s) s = $1 + 0 } END { print s + 0 }' "$out.ann"; }
		sub=$(fn "$sub_fn")
		cpl=$(fn "$cpl_fn")
		awk -v m="$mode" -v q="$qd" -v n="$ios" -v t="$total" -v s="$sub" -v c="$cpl" \
			'BEGIN { printf "| %s | %d | %d | %.0f | %.0f | %.0f |\n", m, q, n, t / n, s / n, c / n }'
	done
done
