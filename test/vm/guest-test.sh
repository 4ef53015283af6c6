#!/usr/bin/env bash
# guest-test.sh - vpio's VM test.  Runs as root inside a test/vm/vm.sh guest
# (two QEMU NVMe controllers, serials vpionvme0/vpionvme1, on the kernel nvme
# driver; vIOMMU; the second with small limits: 8 KiB per command, 2 I/O
# queue pairs, 4096-byte blocks), cwd = the project tree (read-only, with the
# host's build dir).  Steps, each printing "ok:", "FAIL:" or "skip:":
#   1. find the controllers by serial, the second's limits; scripts/setup.sh
#      status;
#   2. setup.sh config skips a controller in use (swap on its namespace);
#   3. setup.sh config: both controllers on vfio-pci, /dev/vfio/N, hugepages,
#      hugetlbfs, TARGET_USER; config again is a no-op;
#   4. the vpio programs from the build dir (vpio-envinfo, vpio-identify,
#      func_nvme, vm_mem, vpio-perf, nvme_pattern), each only if built (see
#      REQUIRED and doc/testing.md for what each is expected to do); on
#      both controllers vpio-perf writes signed blocks (VERIFY_WRITE_ARGS);
#   5. setup.sh reset: both back on nvme, block devices back, hugepages freed;
#   6. read back what vpio wrote (on both controllers) through the kernel's
#      block devices;
#   7. vpio-perf through io_uring on the kernel's block devices: first it
#      reads back and checks the blocks vpio-perf signed through VFIO in
#      step 4 (VERIFY_READ_ARGS), then PERF_ARGS (which overwrites them);
#   8. setup.sh status.
# Exit status 0 when no step failed.
# SC2015: "A && ok || fail" is safe, ok() always succeeds.
# shellcheck disable=SC2015
set -uo pipefail

BUILD=${VPIO_BUILD_DIR:-build}
# Binaries whose absence fails the test once they exist in the tree, i.e.
# once a mk/*.mk fragment declares them ("app NAME" / "test NAME"); before
# that a missing one is only skipped.  Extend as tools land.
REQUIRED="bin/vpio-envinfo bin/vpio-identify test/func_nvme test/vm_mem test/nvme_pattern bin/vpio-perf"
# Binaries run only when built.
OPTIONAL=""
# vpio-perf's arguments (doc/perf.md): mixed random I/O with every block
# written signed and every read checked; a mismatch or I/O error exits 1.
PERF_ARGS="-w randrw -M 50 -q 16 -t 2 --verify"
# vpio-perf through VFIO signs every block of bytes 16M..24M of each
# controller once (seed VERIFY_SEED; 64 KiB writes: 8 commands each on the
# small controller), and after reset reads them back through io_uring on
# the kernel's block device, requiring every block of the range to carry
# that signature and to be right (--verify-min all).  The range misses
# nvme_pattern's (LBA 2048..2303: 1 MiB or 8 MiB in).  test/func/perf.sh
# runs the same arguments against an emulated controller and a file.
VERIFY_SEED=$(($$ * 65536 + RANDOM))
VERIFY_WRITE_ARGS="-w write -o 64K -q 4 -t 30 --range 16M:8M --one-pass --verify --seed $VERIFY_SEED"
VERIFY_READ_ARGS="-w read -o 64K -q 4 -t 60 --range 16M:8M --verify-only --verify-min all --seed $VERIFY_SEED"
# 1 = the unprivileged vpio-identify run (TARGET_USER) fails the test.
UNPRIV_FATAL=1
SERIALS=(vpionvme0 vpionvme1)
# What test/vm/vm.sh gives the second controller (vpionvme1): MDTS 1 (8 KiB
# per command), 2 I/O queue pairs, 4096-byte blocks.
SMALL_BS=4096
SMALL_XFER_KB=8
SMALL_QPAIRS=2
HUGEMEM_MB=256
# type1's DMA mapping limit while vm_mem runs (the default, 65535, would take
# minutes to exceed under TCG); vm_mem reads it from sysfs.
VM_MEM_DMA_LIMIT=1024
# Pattern written with vpio and read back through the kernel (step 6).
PAT_LBA=2048
PAT_COUNT=256
PAT_SEED=$$

NOK=0 NFAIL=0 NSKIP=0
class="" serial="" hp="" bs="" mx="" old_lim="" # set by rd
ok() { echo "ok: $*"; NOK=$((NOK + 1)); }
fail() { echo "FAIL: $*"; NFAIL=$((NFAIL + 1)); }
skip() { echo "skip: $*"; NSKIP=$((NSKIP + 1)); }
note() { echo "  $*"; }
now() { echo "${EPOCHREALTIME/[.,]/}"; }                   # microseconds
secs() { awk -v us="$(($(now) - $1))" 'BEGIN { printf "%.1f", us / 1e6 }'; }

# run LOGFILE CMD...: run CMD with its output indented and kept in LOGFILE;
# return its status.
run() {
	local log=$1 rc
	shift
	"$@" >"$log" 2>&1
	rc=$?
	sed 's/^/  | /' "$log"
	return $rc
}

# step DESCRIPTION CMD...: run CMD; ok or FAIL with its exit status and time.
step() {
	local what=$1 t rc
	shift
	t=$(now)
	run /tmp/step.log "$@"
	rc=$?
	if ((rc == 0)); then ok "$what ($(secs "$t") s)"; else fail "$what: exit $rc"; fi
	return $rc
}

rd() { local -n _v=$1; _v=; [[ -r $2 ]] && IFS= read -r _v <"$2"; return 0; }
driver_of() { local l; l=$(readlink "/sys/bus/pci/devices/$1/driver") && echo "${l##*/}"; }

# Block device (nvmeXnY) of the first namespace of the controller at $1.
blockdev_of() {
	local n name
	for n in /sys/bus/pci/devices/"$1"/nvme/nvme*/nvme*n*; do
		[[ -d $n ]] || continue
		name=${n##*/}
		[[ $name =~ ^nvme([0-9]+)c[0-9]+n([0-9]+)$ ]] && name="nvme${BASH_REMATCH[1]}n${BASH_REMATCH[2]}"
		[[ -b /dev/$name ]] && { echo "$name"; return 0; }
	done
	return 1
}

# is_declared bin/NAME|test/NAME: does a mk/*.mk fragment build it?
is_declared() {
	local kind=${1%%/*} name=${1##*/}
	[[ $kind == bin ]] && kind=app
	cat mk/*.mk 2>/dev/null | grep -qE "^[[:space:]]*${kind}[[:space:]]+${name}[[:space:]]*\$"
}

# have BIN: is $BUILD/BIN built?  Prints skip/FAIL when it is not.
have() {
	[[ -x $BUILD/$1 ]] && return 0
	if [[ " $REQUIRED " == *" $1 "* ]] && is_declared "$1"; then
		fail "$BUILD/$1 not built (required: mk/ declares it)"
	else
		skip "$BUILD/$1 not built"
	fi
	return 1
}

T_ALL=$(now)
echo "guest-test: kernel $(uname -r), iommu ${VPIO_VM_IOMMU:-?}, build dir $BUILD"
for b in $REQUIRED $OPTIONAL; do [[ -x $BUILD/$b ]] && note "built: $BUILD/$b"; done

# --- 1. the controllers, status ------------------------------------------
declare -A BDF=() GROUP=() BLK=()
for d in /sys/bus/pci/devices/*; do
	rd class "$d/class"
	[[ $class == 0x010802 ]] || continue
	for c in "$d"/nvme/nvme*; do
		rd serial "$c/serial"
		serial=${serial%"${serial##*[! ]}"} # trailing blanks
		for s in "${SERIALS[@]}"; do [[ $serial == "$s" ]] && BDF[$s]=${d##*/}; done
	done
done
for s in "${SERIALS[@]}"; do
	b=${BDF[$s]:-}
	if [[ -z $b ]]; then
		fail "no NVMe controller with serial $s"
		continue
	fi
	g=$(readlink "/sys/bus/pci/devices/$b/iommu_group") && GROUP[$s]=${g##*/}
	BLK[$s]=$(blockdev_of "$b")
	note "$s: $b, driver $(driver_of "$b"), IOMMU group ${GROUP[$s]:-none}, /dev/${BLK[$s]:-?}"
	[[ -n ${GROUP[$s]:-} ]] || fail "$s ($b) has no IOMMU group"
	[[ -n ${BLK[$s]} ]] || fail "$s ($b) has no block device"
done
if ((NFAIL)); then
	echo "guest-test: cannot go on without both controllers"
	exit 1
fi
A0=${BDF[${SERIALS[0]}]}
A1=${BDF[${SERIALS[1]}]}
# The kernel's view of the small controller's limits.
rd bs "/sys/class/block/${BLK[${SERIALS[1]}]}/queue/logical_block_size"
rd mx "/sys/class/block/${BLK[${SERIALS[1]}]}/queue/max_hw_sectors_kb"
[[ $bs == "$SMALL_BS" && $mx == "$SMALL_XFER_KB" ]] &&
	ok "$A1 is the small controller: $bs-byte blocks, $mx KiB per command" ||
	fail "$A1: $bs-byte blocks and $mx KiB per command, expected $SMALL_BS and $SMALL_XFER_KB (test/vm/vm.sh NVME1_PROPS)"

if step "setup.sh status" scripts/setup.sh status; then
	grep -q '^IOMMU: on' /tmp/step.log && ok "status reports the IOMMU on" || fail "status does not say 'IOMMU: on'"
	grep -q "^$A0 .*nvme" /tmp/step.log && ok "status lists $A0 on nvme" || fail "status does not list $A0 on nvme"
fi

# --- 2. a controller in use is skipped -------------------------------------
S1=/dev/${BLK[${SERIALS[1]}]}
# in_use_case WHAT REASON: with S1 in use (WHAT), config skips A1 and names
# REASON; an explicit PCI_ALLOWED=A1 is refused with a non-zero exit.
in_use_case() {
	if step "setup.sh config skips $A1 ($1)" env PCI_BLOCKED="$A0" HUGEMEM=0 scripts/setup.sh config; then
		grep -q "skip $A1: in use: .*$2" /tmp/step.log && ok "config said why it skipped $A1 ($2)" ||
			fail "config did not say '$A1: in use: ... $2'"
	fi
	if run /tmp/step.log env PCI_ALLOWED="$A1" HUGEMEM=0 scripts/setup.sh config; then
		fail "config with PCI_ALLOWED=$A1 exited 0 although $A1 is in use ($1)"
	else
		grep -q "$A1 (in PCI_ALLOWED) is in use" /tmp/step.log && ok "config with PCI_ALLOWED=$A1 in use: refused" ||
			fail "config with PCI_ALLOWED=$A1 in use: no 'is in use' line"
	fi
	[[ $(driver_of "$A1") == nvme ]] && ok "$A1 stayed on nvme ($1)" || fail "$A1 left nvme while in use ($1)"
}
if command -v mkswap >/dev/null && command -v swapon >/dev/null; then
	if mkswap -q "$S1" >/dev/null 2>&1 && swapon "$S1"; then
		in_use_case "swap on $S1" "$S1 is swap"
		swapoff "$S1" || fail "swapoff $S1"
	else
		skip "in-use check: cannot make $S1 a swap device"
	fi
else
	skip "in-use check: no mkswap/swapon"
fi
if command -v mkfs.ext4 >/dev/null && mkdir -p /tmp/vpio-mnt; then
	if mkfs.ext4 -q -F "$S1" >/dev/null 2>&1 && mount "$S1" /tmp/vpio-mnt; then
		in_use_case "ext4 on $S1 mounted" "$S1 mounted on /tmp/vpio-mnt"
		umount /tmp/vpio-mnt || fail "umount $S1"
	else
		skip "mounted check: cannot make and mount an ext4 filesystem on $S1"
	fi
	wipefs -a -q "$S1" 2>/dev/null
else
	skip "mounted check: no mkfs.ext4"
fi

# --- 3. config ---------------------------------------------------------------
# Let config mount hugetlbfs itself; give TARGET_USER a writable limits.d (the
# host root is read-only here).
umount /dev/hugepages 2>/dev/null
TU=()
if [[ -d /etc/security/limits.d ]] && id nobody >/dev/null 2>&1 &&
	mount -t tmpfs -o mode=755 tmpfs /etc/security/limits.d; then
	TU=(TARGET_USER=nobody)
fi
if ! step "setup.sh config (HUGEMEM=$HUGEMEM_MB ${TU[*]})" env HUGEMEM=$HUGEMEM_MB "${TU[@]}" scripts/setup.sh config; then
	echo "guest-test: config failed; trying reset"
	scripts/setup.sh reset
	exit 1
fi
for s in "${SERIALS[@]}"; do
	b=${BDF[$s]}
	node=/dev/vfio/${GROUP[$s]}
	drv=$(driver_of "$b")
	[[ $drv == vfio-pci ]] && ok "$s ($b) on vfio-pci" || fail "$s ($b) on '${drv:-no driver}', not vfio-pci"
	[[ -c $node ]] && ok "$node exists" || fail "$node missing"
	[[ ! -e /dev/${BLK[$s]} ]] && ok "/dev/${BLK[$s]} gone" || fail "/dev/${BLK[$s]} still there"
	if ((${#TU[@]})); then
		[[ $(stat -c %U "$node" 2>/dev/null) == nobody ]] && ok "$node owned by nobody" || fail "$node not owned by nobody"
	fi
done
rd hp /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
((hp == HUGEMEM_MB / 2)) && ok "$hp hugepages reserved" || fail "$hp hugepages reserved, expected $((HUGEMEM_MB / 2))"
grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts && ok "hugetlbfs on /dev/hugepages" || fail "hugetlbfs not mounted on /dev/hugepages"
if ((${#TU[@]})); then
	grep -qs 'nobody hard memlock unlimited' /etc/security/limits.d/vpio-nobody.conf &&
		ok "memlock limit for nobody written" || fail "no memlock limit in /etc/security/limits.d/vpio-nobody.conf"
fi
if step "setup.sh config again" env HUGEMEM=$HUGEMEM_MB scripts/setup.sh config; then
	[[ $(grep -c 'already on vfio-pci' /tmp/step.log) == 2 ]] && ok "second config left both alone" ||
		fail "second config did not report both controllers already on vfio-pci"
fi

# --- 4. vpio -----------------------------------------------------------------
if have bin/vpio-envinfo && step "vpio-envinfo -a $A0" "$BUILD/bin/vpio-envinfo" -a "$A0"; then
	# What each variant is for: 39 address bits are fewer than user VAs
	# (IOVAs allocated); 48 bits and virtio-iommu cover them (IOVA = VA).
	case ${VPIO_VM_IOMMU:-} in
	intel39) want="a heap buffer .*(IOVA allocated)" ;;
	intel48 | virtio) want="a heap buffer .*(IOVA = VA)" ;;
	*) want="" ;;
	esac
	if [[ -n $want ]]; then
		grep -q "$want" /tmp/step.log && ok "vpio-envinfo: '$want' (${VPIO_VM_IOMMU})" ||
			fail "vpio-envinfo does not report '$want' under ${VPIO_VM_IOMMU}"
	fi
fi
if have bin/vpio-identify; then
	if step "vpio-identify" "$BUILD/bin/vpio-identify"; then
		for b in "$A0" "$A1"; do
			grep -q "$b" /tmp/step.log && ok "vpio-identify lists $b" || fail "vpio-identify does not list $b"
		done
	fi
	step "vpio-identify -a $A0" "$BUILD/bin/vpio-identify" -a "$A0"
	if step "vpio-identify -a $A1" "$BUILD/bin/vpio-identify" -a "$A1"; then
		for want in ": $SMALL_QPAIRS I/O queue pairs granted" "$SMALL_XFER_KB.00 KiB per command" \
			"blocks of $SMALL_BS bytes"; do
			grep -q "$want" /tmp/step.log && ok "vpio-identify -a $A1: '$want'" ||
				fail "vpio-identify -a $A1 does not report '$want'"
		done
	fi
	if ((${#TU[@]})) && command -v setpriv >/dev/null && command -v prlimit >/dev/null; then
		t=$(now)
		if run /tmp/step.log prlimit --memlock=unlimited:unlimited setpriv --reuid=nobody --regid=nogroup \
			--clear-groups -- "$BUILD/bin/vpio-identify" -a "$A0"; then
			ok "vpio-identify -a $A0 as nobody ($(secs "$t") s)"
		elif ((UNPRIV_FATAL)); then
			fail "vpio-identify -a $A0 as nobody (TARGET_USER=nobody)"
		else
			echo "warn: vpio-identify -a $A0 fails as nobody (TARGET_USER=nobody); not fatal (UNPRIV_FATAL=0)"
		fi
	fi
fi
have test/func_nvme && step "func_nvme -a $A0 -a $A1" "$BUILD/test/func_nvme" -a "$A0" -a "$A1"
if have test/vm_mem; then
	lim=/sys/module/vfio_iommu_type1/parameters/dma_entry_limit
	rd old_lim "$lim"
	echo "$VM_MEM_DMA_LIMIT" >"$lim" && note "dma_entry_limit $old_lim -> $VM_MEM_DMA_LIMIT"
	step "vm_mem -a $A1" "$BUILD/test/vm_mem" -a "$A1"
	[[ -n $old_lim ]] && echo "$old_lim" >"$lim"
fi
if have bin/vpio-perf; then
	if [[ -n $PERF_ARGS ]]; then
		# shellcheck disable=SC2086  # word list on purpose
		step "vpio-perf -a $A0 $PERF_ARGS" "$BUILD/bin/vpio-perf" -a "$A0" $PERF_ARGS
	else
		skip "vpio-perf: no PERF_ARGS in test/vm/guest-test.sh yet"
	fi
fi
declare -A VERIFY_WRITTEN=()
if have bin/vpio-perf; then
	for s in "${SERIALS[@]}"; do
		b=${BDF[$s]}
		# shellcheck disable=SC2086  # word list on purpose
		step "vpio-perf -a $b $VERIFY_WRITE_ARGS ($s, through VFIO)" "$BUILD/bin/vpio-perf" -a "$b" \
			$VERIFY_WRITE_ARGS && VERIFY_WRITTEN[$s]=1
	done
fi
declare -A PAT_WRITTEN=()
if have test/nvme_pattern; then
	for s in "${SERIALS[@]}"; do
		b=${BDF[$s]}
		step "nvme_pattern -a $b --write --lba $PAT_LBA --count $PAT_COUNT --seed $PAT_SEED" \
			"$BUILD/test/nvme_pattern" -a "$b" --write --lba $PAT_LBA --count $PAT_COUNT --seed $PAT_SEED &&
			PAT_WRITTEN[$s]=1
	done
fi

# --- 5. reset ------------------------------------------------------------------
step "setup.sh reset" scripts/setup.sh reset
for s in "${SERIALS[@]}"; do
	b=${BDF[$s]}
	drv=$(driver_of "$b")
	[[ $drv == nvme ]] && ok "$s ($b) back on nvme" || fail "$s ($b) on '${drv:-no driver}', not nvme"
	t=$(now)
	for ((i = 0; i < 100; i++)); do
		BLK[$s]=$(blockdev_of "$b") && break
		sleep 0.1
	done
	[[ -n ${BLK[$s]} ]] && ok "$s: /dev/${BLK[$s]} back ($(secs "$t") s)" || fail "$s: no block device 10 s after reset"
	[[ ! -e /dev/vfio/${GROUP[$s]} ]] || fail "/dev/vfio/${GROUP[$s]} still there after reset"
done
rd hp /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
((hp == 0)) && ok "hugepages freed" || fail "$hp hugepages left after reset"

# --- 6. what vpio wrote, read through the kernel -------------------------------
for s in "${SERIALS[@]}"; do
	[[ -n ${PAT_WRITTEN[$s]:-} && -n ${BLK[$s]} ]] || continue
	dev=/dev/${BLK[$s]}
	rd bs "/sys/class/block/${dev#/dev/}/queue/logical_block_size"
	# The image starts at LBA 0, so byte offset = LBA * block size, as in
	# the block device itself.
	if step "dd $PAT_COUNT blocks of $bs bytes at LBA $PAT_LBA from $dev ($s)" \
		dd if="$dev" of=/tmp/pattern.img bs="$bs" count=$((PAT_LBA + PAT_COUNT)) iflag=direct status=none; then
		step "nvme_pattern --check-file --block-size $bs (written by vpio, read by the kernel)" \
			"$BUILD/test/nvme_pattern" --check-file /tmp/pattern.img --lba $PAT_LBA --count $PAT_COUNT \
			--seed $PAT_SEED --block-size "$bs"
	fi
	rm -f /tmp/pattern.img
done

# --- 7. vpio on the kernel's nvme driver: the io_uring backend -------------------
# The same controllers, now under the kernel.  First vpio-perf through
# io_uring reads back the blocks vpio-perf signed through VFIO in step 4
# and checks each one (--verify-only; --verify-min all: every block of the
# range read, signed with VERIFY_SEED and right).  Then PERF_ARGS checks
# every block it reads that it wrote in the same run - and overwrites
# step 4's blocks, so it comes second.
for s in "${SERIALS[@]}"; do
	[[ -n ${BLK[$s]} ]] || continue
	dev=/dev/${BLK[$s]}
	if [[ -n ${VERIFY_WRITTEN[$s]:-} ]] && have bin/vpio-perf; then
		# shellcheck disable=SC2086  # word list on purpose
		step "vpio-perf -a uring:$dev $VERIFY_READ_ARGS ($s, kernel driver: what vpio wrote through VFIO)" \
			"$BUILD/bin/vpio-perf" -a "uring:$dev" $VERIFY_READ_ARGS
	fi
	if have bin/vpio-perf; then
		# shellcheck disable=SC2086  # word list on purpose
		step "vpio-perf -a uring:$dev $PERF_ARGS ($s, kernel driver)" "$BUILD/bin/vpio-perf" -a "uring:$dev" $PERF_ARGS
	fi
done

# --- 8. status -------------------------------------------------------------------
if step "setup.sh status" scripts/setup.sh status; then
	grep -q "^$A0 .* nvme " /tmp/step.log && ok "status lists $A0 on nvme again" || fail "status does not list $A0 on nvme"
fi

echo "guest-test: $NOK ok, $NFAIL failed, $NSKIP skipped in $(secs "$T_ALL") s"
((NFAIL == 0))
