#!/usr/bin/env bash
# setup.sh - prepare a Linux machine for vpio (run as root).
#
#   scripts/setup.sh [config|reset|status|help]      (default: config)
#
# config  load vfio-pci; hand NVMe controllers (PCI class 0x010802) and Xilinx
#         devices (vendor 0x10ee, e.g. XDMA) to vfio-pci via driver_override,
#         skipping devices in use and refusing non-viable IOMMU groups;
#         reserve HUGEMEM MiB of 2 MiB hugepages split across NUMA nodes and
#         mount hugetlbfs on /dev/hugepages.  Each device's previous driver
#         and the previous hugepage counts are remembered in /run/vpio/setup.
#         All input (the environment below) is checked before anything is
#         changed.
# reset   give every device back to the driver it had, free the hugepages
#         (or restore the counts config found).
# status  devices, hugepages, IOMMU, interrupt remapping, DMA coherency.
#
# Environment: HUGEMEM (MiB, default 2048; 0 leaves hugepages alone),
# PCI_ALLOWED / PCI_BLOCKED (space-separated PCI addresses), NOIOMMU=yes,
# TARGET_USER (see usage() and doc/setup.md), SYSFS_ROOT (default /sys; for
# tests, ROOT/sys of a fake tree, and then every path setup.sh writes is
# under ROOT too).  Exit status: 0 on success, 1 with a one-line reason
# otherwise.
set -uo pipefail

PROG=setup.sh
SYS=${SYSFS_ROOT:-/sys}
ROOT=""     # "" for the real machine, else the fake tree SYSFS_ROOT is in
STATE=/run/vpio/setup
LIMITS_DIR=/etc/security/limits.d
HUGE_MNT=/dev/hugepages
DEV_VFIO=/dev/vfio
HUGEMEM=${HUGEMEM:-2048}
PCI_ALLOWED=${PCI_ALLOWED:-}
PCI_BLOCKED=${PCI_BLOCKED:-}
NOIOMMU=${NOIOMMU:-no}
TARGET_USER=${TARGET_USER:-}
VFIO_DRV=vfio-pci
CLASS_NVME=0x010802
VENDOR_XILINX=0x10ee

usage() {
	cat <<'EOF'
usage: scripts/setup.sh [config|reset|status|help]        (run as root)

  config  (default) bind NVMe controllers (class 0x010802) and Xilinx devices
          (vendor 0x10ee, e.g. XDMA) to vfio-pci, reserve hugepages, mount
          hugetlbfs on /dev/hugepages.  Devices in use (mounted, swap, held by
          LVM/md/dm) are skipped; devices whose IOMMU group holds other
          devices on non-vfio drivers are refused.
  reset   give the devices back to the drivers they had before config, free
          the hugepages config reserved
  status  devices, drivers, block devices and mounts, hugepages per NUMA
          node, IOMMU, interrupt remapping, DMA coherency
  help    this text

Environment:
  HUGEMEM=MiB        hugepage memory to reserve, split across NUMA nodes,
                     2 MiB pages (default 2048; 0 = leave hugepages alone)
  PCI_ALLOWED="BDF ..."  only these devices (e.g. "0000:01:00.0 02:00.0")
  PCI_BLOCKED="BDF ..."  never these devices
  NOIOMMU=yes        if the machine has no IOMMU, turn on VFIO's unsafe
                     no-IOMMU mode (no DMA isolation; root only; needs a
                     kernel with CONFIG_VFIO_NOIOMMU)
  TARGET_USER=NAME   let NAME run vpio unprivileged: chown /dev/vfio/N to
                     NAME and set NAME's memlock limit to unlimited in
                     /etc/security/limits.d/vpio-NAME.conf
  SYSFS_ROOT=ROOT/sys  for tests: a fake sysfs tree; the state, limits and
                     /dev paths then are under ROOT as well (ROOT/run/vpio/
                     setup...), no module is loaded, nothing is mounted and
                     root is not needed
config checks all of these before it changes anything.
Exit status 0 on success; 1 with a one-line reason on stderr otherwise.
See doc/setup.md.
EOF
}

info() { echo "$PROG: $*"; }
# A value from the user, quoted for a one-line message (control characters
# escaped, long values cut).
shown() {
	local v=$1
	((${#v} > 48)) && v="${v:0:48}..."
	if [[ $v == *[![:print:]]* ]]; then printf '%q' "$v"; else printf "'%s'" "$v"; fi
}
warn() { echo "$PROG: warning: $*" >&2; }
die() {
	echo "$PROG: error: $*" >&2
	exit 1
}

# rd VAR FILE: first line of FILE into VAR (empty when unreadable).
rd() {
	local -n _rd=$1
	_rd=
	[[ -r $2 ]] && IFS= read -r _rd <"$2"
	return 0
}

# Name of the driver bound to PCI device $1 (empty when none).
driver_of() {
	local l
	l=$(readlink "$SYS/bus/pci/devices/$1/driver" 2>/dev/null) || return 0
	echo "${l##*/}"
}

# IOMMU group number of PCI device $1 (empty when none).
group_of() {
	local l
	l=$(readlink "$SYS/bus/pci/devices/$1/iommu_group" 2>/dev/null) || return 0
	echo "${l##*/}"
}

# /dev/vfio node of a group: N, or noiommu-N for no-IOMMU groups.
group_node() {
	local g=$1 n
	[[ -n $g ]] || return 0
	for n in "$DEV_VFIO/$g" "$DEV_VFIO/noiommu-$g"; do
		[[ -e $n ]] && { echo "$n"; return 0; }
	done
	echo "$DEV_VFIO/$g"
}

# Accept "0000:01:00.0" or "01:00.0"; print the full lower-case form.
norm_bdf() {
	local b=${1,,}
	[[ $b =~ ^[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] && b="0000:$b"
	[[ $b =~ ^[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]] || return 1
	echo "$b"
}

ALLOWED=() BLOCKED=()
parse_bdf_lists() {
	local b n words
	# Split on blanks without expanding '*' or '?' against the current directory.
	read -r -d '' -a words <<<"$PCI_ALLOWED"
	for b in "${words[@]}"; do
		n=$(norm_bdf "$b") || die "PCI_ALLOWED: $(shown "$b") is not a PCI address like 0000:01:00.0"
		ALLOWED+=("$n")
	done
	read -r -d '' -a words <<<"$PCI_BLOCKED"
	for b in "${words[@]}"; do
		n=$(norm_bdf "$b") || die "PCI_BLOCKED: $(shown "$b") is not a PCI address like 0000:01:00.0"
		BLOCKED+=("$n")
	done
}

in_list() {
	local x=$1
	shift
	local e
	for e in "$@"; do [[ $e == "$x" ]] && return 0; done
	return 1
}

# Is $1 a device setup.sh manages (NVMe controller or Xilinx device)?
is_candidate() {
	local d=$SYS/bus/pci/devices/$1 class vendor
	rd class "$d/class"
	rd vendor "$d/vendor"
	[[ $class == "$CLASS_NVME" || $vendor == "$VENDOR_XILINX" ]]
}

# Does PCI_ALLOWED / PCI_BLOCKED select $1?
selected() {
	in_list "$1" "${BLOCKED[@]}" && return 1
	((${#ALLOWED[@]} == 0)) && return 0
	in_list "$1" "${ALLOWED[@]}"
}

# All managed devices present, in PCI order.
CANDIDATES=() ALLOWED_BAD=()
find_candidates() {
	local d b
	CANDIDATES=()
	for d in "$SYS"/bus/pci/devices/*; do
		[[ -e $d ]] || continue
		b=${d##*/}
		is_candidate "$b" && CANDIDATES+=("$b")
	done
	ALLOWED_BAD=()
	for b in "${ALLOWED[@]}"; do
		if [[ ! -e $SYS/bus/pci/devices/$b ]]; then
			ALLOWED_BAD+=("PCI_ALLOWED names $b, which does not exist (see lspci -D)")
		elif ! is_candidate "$b"; then
			ALLOWED_BAD+=("PCI_ALLOWED names $b, which is neither an NVMe controller nor a Xilinx device")
		fi
	done
}

# --------------------------------------------------- block devices and use
MOUNTS=() # "MAJ:MIN SOURCE MOUNTPOINT" from /proc/self/mountinfo
SWAPS=()  # swap device paths from /proc/swaps
load_usage_tables() {
	local devno mnt rest name src
	MOUNTS=()
	SWAPS=()
	# Fields: id parent MAJ:MIN root mountpoint options... - fstype source
	# superoptions.  btrfs shows an anonymous MAJ:MIN, so the source counts.
	while read -r _ _ devno _ mnt rest; do
		src=${rest#* - }
		src=${src#* }
		MOUNTS+=("$devno ${src%% *} $mnt")
	done </proc/self/mountinfo
	while read -r name rest; do
		[[ $name == Filename ]] || SWAPS+=("$name")
	done </proc/swaps
}

# Block devices (namespaces) of the NVMe controller at $1.  With native NVMe
# multipath the controller holds the hidden path device nvmeXcYnZ; the block
# device users see is the head nvmeXnZ.
block_devs() {
	local c n name out=()
	for c in "$SYS/bus/pci/devices/$1"/nvme/nvme*; do
		[[ -d $c ]] || continue
		for n in "$c"/nvme*n*; do
			[[ -d $n ]] || continue
			name=${n##*/}
			[[ $name =~ ^nvme([0-9]+)c[0-9]+n([0-9]+)$ ]] &&
				name="nvme${BASH_REMATCH[1]}n${BASH_REMATCH[2]}"
			[[ -e $SYS/class/block/$name ]] && ! in_list "$name" "${out[@]}" && out+=("$name")
		done
	done
	echo "${out[*]}"
}

# Why the block devices of $1 are in use ("" when they are not): mounted
# filesystems, swap, holders (LVM, md, dm-crypt, multipath...).
usage_of() {
	local bdf=$1 b p name devno m h hname mdev msrc mmnt why=()
	for b in $(block_devs "$bdf"); do
		for p in "$SYS/class/block/$b" "$SYS/class/block/$b/$b"*; do
			[[ -d $p ]] || continue
			name=${p##*/}
			rd devno "$p/dev"
			for m in "${MOUNTS[@]}"; do
				read -r mdev msrc mmnt <<<"$m"
				[[ $mdev == "$devno" || $msrc == "/dev/$name" ]] && why+=("/dev/$name mounted on $mmnt")
			done
			in_list "/dev/$name" "${SWAPS[@]}" && why+=("/dev/$name is swap")
			compgen -G "$SYS/fs/btrfs/*/devices/$name" >/dev/null && why+=("/dev/$name is in a btrfs filesystem")
			for h in "$p"/holders/*; do
				[[ -e $h || -L $h ]] || continue
				hname=${h##*/}
				local dmname=""
				rd dmname "$SYS/class/block/$hname/dm/name"
				why+=("/dev/$name is held by $hname${dmname:+ ($dmname)}")
			done
		done
	done
	# The kernel's own answer: a block device that a filesystem, swap, md,
	# dm or ZFS holds cannot be opened with O_EXCL (perl-base is essential).
	if ((${#why[@]} == 0)) && [[ -z $ROOT ]] && command -v perl >/dev/null; then
		for b in $(block_devs "$bdf"); do
			for p in "$SYS/class/block/$b" "$SYS/class/block/$b/$b"*; do
				[[ -d $p && -b /dev/${p##*/} ]] || continue
				excl_busy "/dev/${p##*/}" && why+=("/dev/${p##*/} is open exclusively (a filesystem, RAID, LVM or ZFS member?)")
			done
		done
	fi
	local IFS=';'
	echo "${why[*]}"
}

# Is block device $1 claimed by someone (open O_EXCL fails with EBUSY)?
excl_busy() {
	perl -MFcntl -MPOSIX=EBUSY -e 'sysopen(my $f, $ARGV[0], O_RDONLY | O_EXCL) and exit 1; exit($! == EBUSY ? 0 : 1)' "$1"
}

# PIDs (with command names) that have /dev/vfio node $1 open.
openers() {
	local node=$1 f pid comm out=()
	[[ -e $node ]] || return 0
	while IFS= read -r f; do
		pid=${f#/proc/}
		pid=${pid%%/*}
		rd comm "/proc/$pid/comm"
		in_list "$pid ($comm)" "${out[@]}" || out+=("$pid ($comm)")
	done < <(find /proc/[0-9]*/fd -maxdepth 1 -lname "$node" 2>/dev/null)
	echo "${out[*]}"
}

# ----------------------------------------------------------------- IOMMU
# IOMMU groups of a real IOMMU (vfio's no-IOMMU mode makes groups named
# "vfio-noiommu", which do not mean an IOMMU is there).
iommu_groups_count() {
	local n=0 g name
	for g in "$SYS"/kernel/iommu_groups/*; do
		[[ -e $g ]] || continue
		name=""
		rd name "$g/name"
		[[ $name == vfio-noiommu ]] || n=$((n + 1))
	done
	echo "$n"
}

noiommu_on() {
	local v=""
	rd v "$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode"
	[[ $v == Y ]]
}

iommu_units() {
	local u out=()
	for u in "$SYS"/class/iommu/*; do [[ -e $u ]] && out+=("${u##*/}"); done
	echo "${out[*]}"
}

has_virtio_iommu() {
	local v
	for v in "$SYS"/bus/virtio/drivers/virtio_iommu/virtio*; do
		[[ -e $v ]] && return 0
	done
	return 1
}

# Interrupt remapping is in effect when MSIs go through an IR-* irq domain.
intr_remap_on() { grep -q 'IR-' /proc/interrupts 2>/dev/null; }

# Describe whether the IOMMU enforces cache coherency (snooping) for device
# DMA, which is what VFIO_CHECK_EXTENSION(VFIO_DMA_CC_IOMMU) reports once a
# group is attached: Intel VT-d when every unit has ecap.SC (bit 7), AMD-Vi
# always, virtio-iommu never.
iommu_cc() {
	local u ecap no=() n=0
	for u in "$SYS"/class/iommu/dmar*; do
		[[ -e $u/intel-iommu/ecap ]] || continue
		n=$((n + 1))
		rd ecap "$u/intel-iommu/ecap"
		[[ $ecap =~ ^[0-9a-fA-F]+$ ]] || continue
		(((0x$ecap >> 7) & 1)) || no+=("${u##*/}")
	done
	if ((n > 0)); then
		if ((${#no[@]})); then echo "no (VT-d ecap.SC=0 on ${no[*]})"; else echo "yes (VT-d ecap.SC=1)"; fi
	elif compgen -G "$SYS/class/iommu/ivhd*" >/dev/null; then
		echo "yes (AMD-Vi)"
	elif has_virtio_iommu; then
		echo "no (virtio-iommu cannot enforce snooping)"
	else
		echo "n/a (no IOMMU)"
	fi
}

# Warn when vfio_iommu_type1 will refuse groups for lack of interrupt
# remapping (typical with virtio-iommu).
check_intr_remap() {
	local unsafe=""
	(($(iommu_groups_count) > 0)) || return 0
	intr_remap_on && return 0
	rd unsafe "$SYS/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
	[[ $unsafe == Y ]] && return 0
	local what="the IOMMU"
	has_virtio_iommu && what="virtio-iommu"
	warn "$what provides no interrupt remapping, so vfio will refuse to attach groups (\"No interrupt remapping support\"); if you accept that risk: echo Y > /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts (or boot with vfio_iommu_type1.allow_unsafe_interrupts=1)"
}

# Non-vfio drivers may not be bound to another device of the group; these
# are fine (no driver, vfio drivers, pci-stub, PCIe port services).
group_blockers() { # BDF PLANNED...: print "BDF[driver]" of blocking members
	local bdf=$1 g m mb drv out=()
	shift
	g=$(group_of "$bdf")
	[[ -n $g ]] || return 0
	for m in "$SYS/kernel/iommu_groups/$g/devices"/*; do
		[[ -e $m ]] || continue
		mb=${m##*/}
		[[ $mb == "$bdf" ]] && continue
		in_list "$mb" "$@" && continue
		drv=$(driver_of "$mb")
		case "$drv" in "" | vfio* | pci-stub | pcieport) continue ;; esac
		out+=("$mb [$drv]")
	done
	local IFS=,
	echo "${out[*]}"
}

# ------------------------------------------------------------- hugepages
HP_KB=2048
NODES=() # NUMA nodes with memory (empty on kernels without NUMA sysfs)
find_nodes() {
	local n list="" r a b i
	NODES=()
	rd list "$SYS/devices/system/node/has_memory"
	if [[ -z $list ]]; then
		for n in "$SYS"/devices/system/node/node[0-9]*; do
			[[ -d $n/hugepages ]] && NODES+=("${n##*node}")
		done
		return 0
	fi
	# A list like "0-1,3".
	local IFS=,
	for r in $list; do
		a=${r%-*}
		b=${r#*-}
		for ((i = a; i <= b; i++)); do NODES+=("$i"); done
	done
}

hp_file() { # NODE|"" FILE: path of the hugepage counter for a node or global
	if [[ -n $1 ]]; then
		echo "$SYS/devices/system/node/node$1/hugepages/hugepages-${HP_KB}kB/$2"
	else
		echo "$SYS/kernel/mm/hugepages/hugepages-${HP_KB}kB/$2"
	fi
}

hugetlbfs_mounted() { # MOUNTPOINT
	local mnt rest
	while read -r _ _ _ _ mnt rest; do
		[[ $mnt == "$1" && $rest == *" - hugetlbfs "* ]] && return 0
	done </proc/self/mountinfo
	return 1
}

# HUGEMEM: a decimal number of MiB (no unit, sign, blanks or leading zero:
# bash would read 012 as octal), at most the machine's memory.
check_hugemem() {
	local total="" mib k v
	[[ $HUGEMEM =~ ^(0|[1-9][0-9]*)$ ]] ||
		die "HUGEMEM must be a decimal number of MiB without unit or leading zero, such as 2048 (got $(shown "$HUGEMEM"))"
	[[ $HUGEMEM == 0 ]] && return 0
	while read -r k v _; do [[ $k == MemTotal: ]] && total=$v; done </proc/meminfo
	[[ $total =~ ^[0-9]+$ ]] || die "cannot read MemTotal from /proc/meminfo (needed to check HUGEMEM)"
	mib=$((total / 1024))
	# Count digits first: bash arithmetic wraps above 2^63 - 1.
	if ((${#HUGEMEM} > 15)) || ((HUGEMEM > mib)); then
		die "HUGEMEM=$(shown "$HUGEMEM") MiB is more than this machine's memory ($mib MiB, MemTotal); give at most that"
	fi
	[[ -d $SYS/kernel/mm/hugepages/hugepages-${HP_KB}kB ]] ||
		die "HUGEMEM=$HUGEMEM but the kernel offers no 2 MiB hugepages ($SYS/kernel/mm/hugepages/hugepages-${HP_KB}kB missing); use HUGEMEM=0"
}

hugepages_config() {
	((HUGEMEM > 0)) || { info "HUGEMEM=0: hugepages left alone"; return 0; }
	local pages=$(((HUGEMEM + 1) / 2)) nodes=() n i want got f short=() rep=()
	find_nodes
	if ((${#NODES[@]})); then nodes=("${NODES[@]}"); else nodes=(""); fi
	local cnt=${#nodes[@]}
	for ((i = 0; i < cnt; i++)); do
		n=${nodes[i]}
		want=$((pages / cnt + (i < pages % cnt ? 1 : 0)))
		f=$(hp_file "$n" nr_hugepages)
		rd got "$f"
		# Remember what was there before the first config, for reset.
		[[ -e $STATE/hugepages-node${n:-all} ]] || echo "$got" >"$STATE/hugepages-node${n:-all}"
		echo "$want" >"$f" 2>/dev/null || die "cannot write $f"
		rd got "$f"
		rep+=("${n:+node$n }$got")
		((got < want)) && short+=("${n:+node$n: }$got of $want")
	done
	info "hugepages (2 MiB): ${rep[*]} (HUGEMEM=$HUGEMEM MiB)"
	if [[ -n $ROOT ]]; then
		info "fake tree (SYSFS_ROOT=$SYS): nothing mounted on $HUGE_MNT"
	elif ! hugetlbfs_mounted "$HUGE_MNT"; then
		{ mkdir -p "$HUGE_MNT" && mount -t hugetlbfs -o pagesize=2M nodev "$HUGE_MNT"; } ||
			die "cannot mount hugetlbfs on $HUGE_MNT"
		info "mounted hugetlbfs on $HUGE_MNT"
	fi
	if ((${#short[@]})); then
		FAILURES+=("only ${short[*]} hugepages could be reserved (memory fragmented: free memory, lower HUGEMEM, or boot with hugepages=N)")
	fi
}

hugepages_reset() {
	local f n v nodes=() i
	for f in "$STATE"/hugepages-node*; do
		[[ -e $f ]] || continue
		n=${f##*hugepages-node}
		[[ $n == all ]] && n=""
		rd v "$f"
		[[ $v =~ ^[0-9]+$ ]] || v=0
		echo "$v" >"$(hp_file "$n" nr_hugepages)" 2>/dev/null || warn "cannot restore hugepages${n:+ on node $n}"
		rm -f "$f"
		nodes+=("${n:+node$n }$v")
	done
	local total free
	rd total "$(hp_file "" nr_hugepages)"
	rd free "$(hp_file "" free_hugepages)"
	if ((${#nodes[@]} == 0)); then
		# config did not reserve any since boot: these belong to someone else
		# (e.g. hugepages=N on the kernel command line).
		info "hugepages (2 MiB): config reserved none since boot; left at ${total:-0} (free them: echo 0 > /proc/sys/vm/nr_hugepages)"
		return 0
	fi
	info "hugepages (2 MiB) set back to: ${nodes[*]}"
	if [[ -n $total ]] && ((total > 0 && free < total)); then
		warn "$((total - free)) hugepages are still in use (files in $HUGE_MNT or a running process); they are freed when released"
	fi
}

# ------------------------------------------------------------------ config
FAILURES=()

load_module() { # MODULE [PARAMS]: modprobe unless /sys/module has it
	[[ -d $SYS/module/${1//-/_} ]] && return 0
	[[ -z $ROOT ]] || return 1 # a fake tree: never load a real module
	modprobe "$@" 2>/dev/null
}

enable_noiommu() {
	local p=$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode v
	load_module vfio enable_unsafe_noiommu_mode=1 ||
		die "cannot load the vfio module (modprobe vfio)"
	[[ -e $p ]] ||
		die "this kernel has no VFIO no-IOMMU mode (CONFIG_VFIO_NOIOMMU is not set; Debian's kernels lack it): enable the IOMMU instead"
	rd v "$p"
	if [[ $v != Y ]]; then
		echo Y >"$p" 2>/dev/null || die "cannot write Y to $p"
		: >"$STATE/noiommu-enabled"
	fi
	warn "VFIO no-IOMMU mode is on (NOIOMMU=yes): devices can DMA anywhere in memory, vpio must run as root and use physical addresses"
}

explain_no_iommu() {
	echo "$PROG: no IOMMU: $SYS/kernel/iommu_groups is empty, so vfio-pci cannot take $1. Either:" >&2
	echo "$PROG:   - enable VT-d / AMD-Vi in the firmware and boot with intel_iommu=on (Intel; AMD kernels turn AMD-Vi on by themselves unless amd_iommu=off), then re-run; or" >&2
	echo "$PROG:   - NOIOMMU=yes $0 config: VFIO's unsafe no-IOMMU mode (no DMA isolation, root only, kernel needs CONFIG_VFIO_NOIOMMU)" >&2
	die "no IOMMU for $1: enable VT-d/AMD-Vi in the firmware (+ intel_iommu=on) or set NOIOMMU=yes"
}

# Record the driver $1 had before config (only the first time).
remember_driver() {
	local f=$STATE/dev-$1
	[[ -e $f ]] || echo "${2:--}" >"$f"
}

wait_for() { # PATH TENTHS: wait until PATH exists
	local i
	for ((i = 0; i < $2; i++)); do
		[[ -e $1 ]] && return 0
		sleep 0.1
	done
	[[ -e $1 ]]
}

bind_vfio() {
	local bdf=$1 d=$SYS/bus/pci/devices/$1 cur g node
	cur=$(driver_of "$bdf")
	if [[ $cur == "$VFIO_DRV" ]]; then
		g=$(group_of "$bdf")
		info "$bdf: already on $VFIO_DRV ($(group_node "$g"))"
		BOUND_NODES+=("$(group_node "$g")")
		return 0
	fi
	remember_driver "$bdf" "$cur"
	if ! echo "$VFIO_DRV" >"$d/driver_override" 2>/dev/null; then
		FAILURES+=("$bdf: cannot write $d/driver_override")
		return 1
	fi
	if [[ -n $cur ]] && ! echo "$bdf" >"$d/driver/unbind" 2>/dev/null; then
		echo >"$d/driver_override" 2>/dev/null
		FAILURES+=("$bdf: cannot unbind it from $cur")
		return 1
	fi
	# drivers_probe fails when no driver takes the device; checked below.
	echo "$bdf" >"$SYS/bus/pci/drivers_probe" 2>/dev/null
	if [[ $(driver_of "$bdf") != "$VFIO_DRV" ]]; then
		echo "$bdf" >"$SYS/bus/pci/drivers/$VFIO_DRV/bind" 2>/dev/null
	fi
	cur=$(driver_of "$bdf")
	if [[ $cur != "$VFIO_DRV" ]]; then
		FAILURES+=("$bdf: $VFIO_DRV did not take it (now: ${cur:-no driver}); see dmesg; '$0 reset' gives it back to ${2:-its driver}")
		return 1
	fi
	g=$(group_of "$bdf")
	node=$(group_node "$g")
	if ! wait_for "$node" 50; then
		FAILURES+=("$bdf: on $VFIO_DRV but $node did not appear (udev?)")
		return 1
	fi
	BOUND_NODES+=("$node")
	info "$bdf: ${2:-?} -> $VFIO_DRV ($node)"
}

setup_target_user() {
	local u=$TARGET_USER node f mode
	local uid
	uid=$(id -u -- "$u")
	for node in "${BOUND_NODES[@]}"; do
		chown "$u" "$node" 2>/dev/null || FAILURES+=("cannot chown $node to $u")
	done
	f=$LIMITS_DIR/vpio-$u.conf
	local want="# written by vpio scripts/setup.sh: vfio pins DMA memory against RLIMIT_MEMLOCK
$u soft memlock unlimited
$u hard memlock unlimited"
	if [[ ! -f $f || $(<"$f") != "$want" ]]; then
		{ mkdir -p "$LIMITS_DIR" && echo "$want" >"$f"; } 2>/dev/null ||
			FAILURES+=("cannot write $f (memlock limit for $u)")
	fi
	if hugetlbfs_mounted "$HUGE_MNT"; then
		mode=$(stat -c %a "$HUGE_MNT")
		if (((8#$mode & 8#002) == 0)) && [[ $(stat -c %u "$HUGE_MNT") != "$uid" ]]; then
			chmod 1777 "$HUGE_MNT" && info "made $HUGE_MNT world-writable (mode 1777, like /tmp) for $u"
		fi
	fi
	info "TARGET_USER $u: owns ${BOUND_NODES[*]:-no /dev/vfio node}; memlock unlimited in $f (applies from $u's next login)"
	[[ $NOIOMMU == yes ]] && (($(iommu_groups_count) == 0)) &&
		warn "no-IOMMU mode needs CAP_SYS_RAWIO: $u cannot use it unprivileged"
	return 0
}

# Every input of config, checked before anything is changed.
check_config_input() {
	local v name
	# SPDK's setup.sh settings do nothing here; say so rather than reserve
	# what the user did not ask for.
	for v in NRHUGE:"HUGEMEM=MiB (NRHUGE 2 MiB pages = HUGEMEM=2*NRHUGE)" HUGENODE:"HUGEMEM=MiB (split across NUMA nodes)" \
		HUGEPGSZ:"HUGEMEM=MiB (2 MiB pages only)" PCI_WHITELIST:PCI_ALLOWED PCI_BLACKLIST:PCI_BLOCKED; do
		name=${v%%:*}
		[[ -z ${!name:-} ]] || die "$name is a setting of SPDK's setup.sh, not of this one; use ${v#*:}"
	done
	check_hugemem
	parse_bdf_lists
	if [[ -n $TARGET_USER ]]; then
		name=$(id -nu -- "$TARGET_USER" 2>/dev/null) ||
			die "TARGET_USER: no user $(shown "$TARGET_USER") on this machine"
		TARGET_USER=$name # a uid becomes the name limits.d needs
	fi
	find_candidates
	((${#ALLOWED_BAD[@]} == 0)) || die "${ALLOWED_BAD[0]}; nothing changed"
}

need_root() { # COMMAND
	((EUID == 0)) || [[ -n $ROOT ]] || die "$1 needs root: sudo $0 $1"
}

cmd_config() {
	local b why plan=() changed g bl iommu_n
	check_config_input
	need_root config
	mkdir -p "$STATE" || die "cannot create $STATE"
	exec 8>"$STATE/.lock" && flock 8

	load_usage_tables
	for b in "${CANDIDATES[@]}"; do
		selected "$b" || continue
		why=$(usage_of "$b")
		if [[ -n $why ]]; then
			if in_list "$b" "${ALLOWED[@]}"; then
				FAILURES+=("$b (in PCI_ALLOWED) is in use: ${why//;/, }; stop using it first")
			else
				info "skip $b: in use: ${why//;/, } (stop using it, or add it to PCI_BLOCKED)"
			fi
			continue
		fi
		plan+=("$b")
	done

	iommu_n=$(iommu_groups_count)
	if ((${#plan[@]})); then
		if ((iommu_n == 0)); then
			[[ $NOIOMMU == yes ]] || explain_no_iommu "${plan[*]}"
			enable_noiommu
		elif [[ $NOIOMMU == yes ]]; then
			info "NOIOMMU=yes ignored: the IOMMU is on ($iommu_n groups)"
		fi
	elif noiommu_on; then
		warn "VFIO no-IOMMU mode is on (enable_unsafe_noiommu_mode=Y): devices bound to vfio-pci can DMA anywhere in memory; '$0 reset' turns it off when config turned it on"
		# Drop devices whose group is not viable; repeat because dropping
		# one can make a group partner non-viable.
		changed=1
		while ((changed)); do
			changed=0
			for b in "${plan[@]}"; do
				if ((iommu_n > 0)) && [[ -z $(group_of "$b") ]]; then
					FAILURES+=("$b has no IOMMU group (not behind the IOMMU); use another slot")
				else
					bl=$(group_blockers "$b" "${plan[@]}")
					[[ -z $bl ]] && continue
					g=$(group_of "$b")
					FAILURES+=("refused $b: IOMMU group $g is not viable, it also holds ${bl//,/, }; unbind those (or give them to vfio-pci) or use a slot with its own group")
				fi
				local keep=() x
				for x in "${plan[@]}"; do [[ $x == "$b" ]] || keep+=("$x"); done
				plan=("${keep[@]}")
				changed=1
				break
			done
		done
	fi

	if ((${#plan[@]})); then
		load_module "$VFIO_DRV" || die "cannot load $VFIO_DRV (modprobe $VFIO_DRV failed; kernel without CONFIG_VFIO_PCI?)"
		((iommu_n > 0)) && { load_module vfio_iommu_type1 || warn "cannot load vfio_iommu_type1"; }
	fi
	BOUND_NODES=()
	for b in "${plan[@]}"; do bind_vfio "$b" "$(driver_of "$b")"; done
	((${#CANDIDATES[@]})) || info "no NVMe controller or Xilinx device found"
	((${#plan[@]})) && ((iommu_n > 0)) && check_intr_remap

	hugepages_config
	[[ -n $TARGET_USER ]] && setup_target_user

	report_failures config
}

# One line per problem; the last line sums up (exit 1).
report_failures() {
	local n=${#FAILURES[@]} i
	((n == 0)) && return 0
	((n == 1)) && die "${FAILURES[0]}"
	for ((i = 1; i < n; i++)); do echo "$PROG: error: ${FAILURES[i]}" >&2; done
	die "$1 incomplete: ${FAILURES[0]} (and $((n - 1)) more problems, above)"
}

# ------------------------------------------------------------------- reset
reset_dev() { # BDF PREVIOUS-DRIVER ("-" or "" when none)
	local bdf=$1 prev=${2#-} d=$SYS/bus/pci/devices/$1 cur g node who
	cur=$(driver_of "$bdf")
	if [[ $cur == "$VFIO_DRV" ]]; then
		g=$(group_of "$bdf")
		node=$(group_node "$g")
		who=$(openers "$node")
		if [[ -n $who ]]; then
			FAILURES+=("$bdf: $node is open by $who; stop it first (unbinding would block until it exits)")
			return 1
		fi
	fi
	echo >"$d/driver_override" 2>/dev/null
	if [[ -n $cur && $cur != "$prev" ]]; then
		echo "$bdf" >"$d/driver/unbind" 2>/dev/null || { FAILURES+=("$bdf: cannot unbind it from $cur"); return 1; }
	fi
	if [[ -n $prev && $cur != "$prev" ]]; then
		load_module "$prev" || warn "cannot load $prev (modprobe $prev)"
		echo "$bdf" >"$SYS/bus/pci/drivers/$prev/bind" 2>/dev/null ||
			echo "$bdf" >"$SYS/bus/pci/drivers_probe" 2>/dev/null
	elif [[ -z $prev ]]; then
		echo "$bdf" >"$SYS/bus/pci/drivers_probe" 2>/dev/null
	fi
	cur=$(driver_of "$bdf")
	if [[ -n $prev && $cur != "$prev" ]]; then
		FAILURES+=("$bdf: $prev did not take it back (now: ${cur:-no driver}); see dmesg")
		return 1
	fi
	rm -f "$STATE/dev-$bdf"
	info "$bdf: -> ${cur:-no driver}"
}

cmd_reset() {
	local f b prev done_=()
	parse_bdf_lists
	need_root reset
	mkdir -p "$STATE" || die "cannot create $STATE"
	exec 8>"$STATE/.lock" && flock 8
	for f in "$STATE"/dev-*; do
		[[ -e $f ]] || continue
		b=${f##*/dev-}
		selected "$b" || continue
		rd prev "$f"
		done_+=("$b")
		if [[ ! -e $SYS/bus/pci/devices/$b ]]; then
			info "$b: gone; forgotten"
			rm -f "$f"
			continue
		fi
		reset_dev "$b" "$prev"
	done
	# Devices on vfio-pci that config did not record (bound before a reboot,
	# or by hand): let the kernel pick their default driver.
	find_candidates
	for b in "${CANDIDATES[@]}"; do
		selected "$b" || continue
		in_list "$b" "${done_[@]}" && continue
		[[ $(driver_of "$b") == "$VFIO_DRV" ]] || continue
		reset_dev "$b" ""
	done
	hugepages_reset
	if [[ -e $STATE/noiommu-enabled ]] && ((${#FAILURES[@]} == 0)); then
		if echo N >"$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode" 2>/dev/null; then
			info "VFIO no-IOMMU mode: off again"
			rm -f "$STATE/noiommu-enabled"
		else
			FAILURES+=("cannot turn VFIO no-IOMMU mode off ($SYS/module/vfio/parameters/enable_unsafe_noiommu_mode)")
		fi
	fi
	report_failures reset
}

# ------------------------------------------------------------------ status
cmd_status() {
	local d b vendor device class numa g drv prev devs use list=() fmt
	parse_bdf_lists
	for d in "$SYS"/bus/pci/devices/*; do
		[[ -e $d ]] || continue
		b=${d##*/}
		if is_candidate "$b" || [[ $(driver_of "$b") == vfio* ]]; then list+=("$b"); fi
	done
	load_usage_tables
	fmt="%-13s %-9s %-7s %-4s %-5s %-20s %-16s %s\n"
	# shellcheck disable=SC2059  # fmt is our own format
	printf "$fmt" BDF VEN:DEV CLASS NUMA GROUP DRIVER BLOCK IN-USE
	for b in "${list[@]}"; do
		d=$SYS/bus/pci/devices/$b
		rd vendor "$d/vendor"
		rd device "$d/device"
		rd class "$d/class"
		rd numa "$d/numa_node"
		[[ -z $numa || $numa == -1 ]] && numa=-
		g=$(group_of "$b")
		drv=$(driver_of "$b")
		prev=""
		rd prev "$STATE/dev-$b"
		[[ -n $prev ]] && drv="${drv:--}(was ${prev})"
		devs=$(block_devs "$b")
		use=$(usage_of "$b")
		use=${use:--}
		# shellcheck disable=SC2059
		printf "$fmt" "$b" "${vendor#0x}:${device#0x}" "${class#0x}" "$numa" "${g:--}" \
			"${drv:--}" "${devs// /,}" "${use//;/, }"
	done
	((${#list[@]})) || echo "(no NVMe controller, Xilinx device or vfio-bound device)"
	echo

	# Hugepages.
	local n t f line=()
	find_nodes
	for n in "${NODES[@]}"; do
		rd t "$(hp_file "$n" nr_hugepages)"
		rd f "$(hp_file "$n" free_hugepages)"
		line+=("node$n ${t:-0} (${f:-0} free)")
	done
	if ((${#NODES[@]} == 0)); then
		rd t "$(hp_file "" nr_hugepages)"
		rd f "$(hp_file "" free_hugepages)"
		line+=("${t:-0} (${f:-0} free)")
	fi
	echo "hugepages 2 MiB: ${line[*]}"
	if hugetlbfs_mounted "$HUGE_MNT"; then echo "hugetlbfs: mounted on $HUGE_MNT"; else echo "hugetlbfs: not mounted on $HUGE_MNT (config mounts it)"; fi

	# IOMMU, VFIO, interrupt remapping, coherency.
	local ng units v noi="" unsafe="" ir
	ng=$(iommu_groups_count)
	units=$(iommu_units)
	has_virtio_iommu && units="${units:+$units }(virtio-iommu)"
	if ((ng > 0)); then
		echo "IOMMU: on ($ng groups; units: ${units:-?})"
	else
		echo "IOMMU: off ($SYS/kernel/iommu_groups is empty${units:+; units: $units}): enable VT-d/AMD-Vi in the firmware (+ intel_iommu=on on Intel) or use NOIOMMU=yes"
	fi
	v="not loaded"
	[[ -d $SYS/bus/pci/drivers/vfio-pci ]] && v="vfio-pci loaded"
	rd noi "$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode"
	rd unsafe "$SYS/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
	if [[ -d $SYS/module/vfio && ! -e $SYS/module/vfio/parameters/enable_unsafe_noiommu_mode ]]; then
		noi="unavailable (no CONFIG_VFIO_NOIOMMU)"
	elif [[ $noi == Y ]]; then
		noi="ON (UNSAFE: devices on vfio-pci can DMA anywhere in memory)"
	elif [[ $noi == N ]]; then
		noi=off
	fi
	echo "VFIO: $v; no-IOMMU mode: ${noi:-off}; type1 allow_unsafe_interrupts: ${unsafe:-n/a (vfio_iommu_type1 not loaded)}"
	if ((ng == 0)); then
		ir="n/a (no IOMMU)"
	elif intr_remap_on; then
		ir="on (IR- interrupt domains in /proc/interrupts)"
	elif [[ $unsafe == Y ]]; then
		ir="off (vfio_iommu_type1.allow_unsafe_interrupts=Y, so vfio accepts groups anyway)"
	else
		ir="off: vfio attaches groups only with vfio_iommu_type1.allow_unsafe_interrupts=1"
		dmesg 2>/dev/null | grep -q 'No interrupt remapping support' &&
			ir+=" (dmesg: vfio already refused a group for this)"
	fi
	echo "interrupt remapping: $ir"
	case "$HOSTTYPE" in
	x86_64 | i?86) echo "DMA coherency: coherent (x86: PCIe DMA snoops CPU caches); IOMMU-enforced snooping, which vpio reads as VFIO_CHECK_EXTENSION(VFIO_DMA_CC_IOMMU): $(iommu_cc)" ;;
	*) echo "DMA coherency: not known from sysfs on $HOSTTYPE; vpio reads VFIO_CHECK_EXTENSION(VFIO_DMA_CC_IOMMU); IOMMU-enforced snooping: $(iommu_cc)" ;;
	esac
	return 0
}

# SYSFS_ROOT: /sys, or ROOT/sys of a fake tree; with a fake tree the other
# paths setup.sh writes move under ROOT so that a test never writes the real
# /run, /etc or /dev.
set_root() {
	local abs
	[[ $SYS == /sys ]] && return 0
	[[ -d $SYS ]] || die "SYSFS_ROOT: $(shown "$SYS") is not a directory (leave it unset for /sys)"
	[[ $SYS -ef /sys ]] && { SYS=/sys; return 0; }
	abs=$(cd -P -- "$SYS" && pwd) || die "SYSFS_ROOT: cannot enter $(shown "$SYS")"
	[[ ${abs##*/} == sys ]] ||
		die "SYSFS_ROOT=$(shown "$SYS") must be a directory named sys in a test tree (ROOT/sys): state goes to ROOT/run/vpio/setup"
	ROOT=${abs%/sys}
	[[ -n $ROOT && ! $ROOT -ef / ]] || die "SYSFS_ROOT=$(shown "$SYS") is not /sys but its tree is the real /"
	SYS=$abs
	STATE=$ROOT/run/vpio/setup
	LIMITS_DIR=$ROOT/etc/security/limits.d
	HUGE_MNT=$ROOT/dev/hugepages
	DEV_VFIO=$ROOT/dev/vfio
}

case "$NOIOMMU" in yes | no | "") ;; *) die "NOIOMMU must be yes or no (got $(shown "$NOIOMMU"))" ;; esac
(($# <= 1)) || die "unexpected argument $(shown "$2") after $(shown "$1") (one command: config, reset, status or help)"
set_root

case "${1-config}" in
config) cmd_config ;;
reset) cmd_reset ;;
status) cmd_status ;;
help | -h | --help) usage ;;
*) die "unknown command $(shown "$1") (config, reset, status or help; see $0 help)" ;;
esac
