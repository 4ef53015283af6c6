#!/usr/bin/env bash
# run.sh - vpio's VM test tier: boot a QEMU guest per variant and run
# test/vm/guest-test.sh in it (see doc/testing.md).
#
#   test/vm/run.sh [-v] [VARIANT...]       (default: intel39 intel48 virtio)
#
#   intel39  kernel 6.1,  intel-iommu aw-bits=39 (IOVA != VA)
#   intel48  kernel 6.12, intel-iommu aw-bits=48 (IOVA = VA)
#   virtio   kernel 6.12, virtio-iommu-pci
#
# Prints "vm: VARIANT: PASS (N s)", "vm: VARIANT: FAIL (reason)" or
# "vm: VARIANT: SKIP (reason)" per variant, then "vm: N passed, N failed"
# (", N skipped" when some were).  Exit status 1 when a variant failed.
# A variant is skipped only when QEMU cannot start here (vm.sh exit 77) or
# when VPIO_SKIP_VM=1.  The whole tier must finish within VPIO_VM_BUDGET
# seconds (default 900); a variant that would start past it fails.
#
# Environment: VPIO_SKIP_VM=1, VPIO_VM_TIMEOUT (s per variant, default 300),
# VPIO_VM_BUDGET (s for the whole tier, default 900),
# VPIO_VM_CACHE (kernels and initramfs, default /var/cache/vpio-vm),
# VPIO_VM_KEEP=1 (keep the logs of passing runs), VPIO_BUILD_DIR (default
# build).  -v: stream the guest's output.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
ALL="intel39 intel48 virtio"
TIMEOUT=${VPIO_VM_TIMEOUT:-300}
BUDGET=${VPIO_VM_BUDGET:-900}
VERBOSE=0
[[ ${1:-} == -v ]] && { VERBOSE=1; shift; }
VARIANTS=("$@")
((${#VARIANTS[@]})) || read -ra VARIANTS <<<"$ALL"
for v in "${VARIANTS[@]}"; do
	[[ " $ALL " == *" $v "* ]] || { echo "vm: unknown variant '$v' (one of: $ALL)" >&2; exit 2; }
done

pass=0 failed=0 skipped=0
summary() {
	local s="vm: $pass passed, $failed failed"
	((skipped)) && s+=", $skipped skipped"
	echo "$s"
}

if [[ ${VPIO_SKIP_VM:-0} == 1 ]]; then
	for v in "${VARIANTS[@]}"; do
		echo "vm: $v: SKIP (VPIO_SKIP_VM=1)"
		skipped=$((skipped + 1))
	done
	summary
	exit 0
fi

LOGS=$(mktemp -d /tmp/vpio-vm-logs.XXXXXX)
ENVS=()
[[ -n ${VPIO_BUILD_DIR:-} ]] && ENVS+=(--env "VPIO_BUILD_DIR=$VPIO_BUILD_DIR")
T_ALL=$SECONDS
cd "$ROOT" || exit 1
for v in "${VARIANTS[@]}"; do
	out=$LOGS/$v
	mkdir -p "$out"
	t=$SECONDS
	left=$((BUDGET - (SECONDS - T_ALL)))
	if ((left < 60)); then
		echo "vm: $v: FAIL (the tier's budget of $BUDGET s is used up; the variants before took too long)"
		failed=$((failed + 1))
		continue
	fi
	tmo=$((left < TIMEOUT ? left : TIMEOUT))
	if ((VERBOSE)); then
		test/vm/vm.sh --variant "$v" --timeout "$tmo" --out "$out" "${ENVS[@]}" -- test/vm/guest-test.sh 2>&1 |
			tee "$out/vm.log"
		rc=${PIPESTATUS[0]}
	else
		test/vm/vm.sh --variant "$v" --timeout "$tmo" --out "$out" "${ENVS[@]}" -- test/vm/guest-test.sh \
			>"$out/vm.log" 2>&1
		rc=$?
	fi
	el=$((SECONDS - t))
	case $rc in
	0)
		boot=$(cat "$out/boot_time_s" 2>/dev/null)
		echo "vm: $v: PASS ($el s${boot:+, boot $boot s})"
		pass=$((pass + 1))
		;;
	77)
		echo "vm: $v: SKIP ($(cat "$out/skip" 2>/dev/null || echo "cannot start a VM"))"
		skipped=$((skipped + 1))
		;;
	*)
		if [[ -s $out/error ]]; then
			reason=$(cat "$out/error")
		else
			reason=$(grep -m1 '^FAIL: ' "$out/console.log" 2>/dev/null | cut -c7-)
			reason=${reason:-guest test exit $rc}
		fi
		echo "vm: $v: FAIL ($reason; $el s)"
		if ((!VERBOSE)); then
			log=$out/console.log
			[[ -s $log ]] || log=$out/vm.log
			echo "---- $v: last lines of $log ----"
			tail -n 30 "$log"
			echo "----"
		fi
		failed=$((failed + 1))
		;;
	esac
done
if ((failed)) || [[ ${VPIO_VM_KEEP:-0} == 1 ]]; then
	echo "vm: logs in $LOGS ($((SECONDS - T_ALL)) s in all)"
else
	rm -rf "$LOGS"
	echo "vm: $((SECONDS - T_ALL)) s in all"
fi
summary
((failed == 0))
