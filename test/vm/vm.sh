#!/usr/bin/env bash
# vm.sh - run a command as root in a throw-away QEMU guest with two emulated
# NVMe controllers and a virtual IOMMU; the guest sees the host's root
# filesystem read-only and starts in the host's cwd.
#
#   test/vm/vm.sh [OPTIONS] -- COMMAND [ARGS...]
#
# How (details in doc/testing.md):
#   * a Debian kernel package is fetched with `apt-get download` and unpacked
#     with `dpkg-deb -x` into the cache ($VPIO_VM_CACHE, default
#     /var/cache/vpio-vm); nothing is installed on the host;
#   * an initramfs (static busybox, init.sh as /init, modprobe.sh and the few
#     modules the guest needs, dependencies read from each module's .modinfo)
#     is built once per kernel and cached;
#   * QEMU boots it (TCG, q35, vIOMMU, 2 NVMe controllers on sparse files, the
#     second with small limits: 8 KiB per command, 2 I/O queue pairs, 4096-byte
#     blocks),
#     sharing / read-only and OUT read-write over virtio-9p; the guest chroots
#     into /, runs COMMAND with stdout+stderr on ttyS1 and powers off.
#
# OUT holds console.log (COMMAND's output, also echoed here), rc, boot.log
# (guest kernel console), boot_time_s, qemu.log, qemu-cmd.txt, and "error" or
# "skip" with a one-line reason when COMMAND did not run.
#
# Exit status: COMMAND's; 124 on --timeout; 125 when the guest did not boot
# or on a harness error; 77 when no VM can be started here (no QEMU, no static
# busybox, no kernel package): the caller may count that as skipped.

# SC2054: commas inside QEMU option values are intended.
# SC2317: cleanup() is reached through the EXIT trap.
# shellcheck disable=SC2054,SC2317
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${VPIO_VM_CACHE:-/var/cache/vpio-vm}
QEMU=${QEMU:-qemu-system-x86_64}
BUSYBOX=${BUSYBOX:-/bin/busybox}

KERNEL=6.12
IOMMU=intel48
MEM=1536
SMP=2
HUGEPAGES=0
DISK_SIZE=1G
CMB_MB=16
# QEMU properties of the second controller: legal but small limits (MDTS 1 =
# 8 KiB per command, 2 I/O queue pairs, 4096-byte blocks), so that every run
# meets a controller that is not roomy.
NVME1_PROPS=mdts=1,max_ioqpairs=2,logical_block_size=4096,physical_block_size=4096
TIMEOUT=300
BOOT_TIMEOUT=120
OUT=""
ACCEL=tcg
APPEND=""
ENVS=()
VERBOSE=0
DEBUG=0

usage() {
	cat <<'EOF'
usage: test/vm/vm.sh [OPTIONS] -- COMMAND [ARGS...]

Runs COMMAND as root in a QEMU guest: host / read-only over virtio-9p, fresh
/proc /sys /dev /dev/hugepages, tmpfs /tmp /run /var/tmp, cwd = host cwd,
OUT read-write at the same path.  Two NVMe controllers (QEMU nvme, 1b36:0010,
serials vpionvme0 and vpionvme1, the first with a CMB, the second with small
limits) start on the kernel nvme driver; vfio, vfio_iommu_type1 and vfio-pci
are loaded.

  --variant intel39|intel48|virtio
                      intel39: kernel 6.1, intel-iommu aw-bits=39
                      intel48: kernel 6.12, intel-iommu aw-bits=48
                      virtio:  kernel 6.12, virtio-iommu-pci (with
                               vfio_iommu_type1.allow_unsafe_interrupts=1)
  --kernel 6.1|6.12|PKG   Debian kernel (newest linux-image-V.*-amd64-unsigned)
  --iommu intel39|intel48|virtio|none
  --mem MiB           guest RAM (default 1536)
  --hugepages N       2 MiB hugepages reserved at boot (default 0)
  --cmb-size MiB      CMB of the first controller (default 16)
  --nvme1-props PROPS QEMU nvme properties of the second controller (default
                      mdts=1,max_ioqpairs=2,logical_block_size=4096,physical_block_size=4096;
                      "" = defaults, a roomy controller like the first)
  --disk-size SIZE    sparse backing file per controller (default 1G)
  --append STR        extra kernel command line (NAME.PARAM=VAL also applies
                      to modules the guest loads)
  --env NAME=VALUE    export in COMMAND's environment (repeatable)
  --timeout SEC       kill the guest after SEC seconds (default 300)
  --out DIR           output dir (default: new /tmp/vpio-vm.XXXXXX)
  --accel tcg|kvm     default tcg (-accel tcg,thread=multi -cpu max)
  --verbose           kernel messages not quiet, echoed to stderr
  --debug             trace the guest init (set -x) into boot.log
Environment: VPIO_VM_CACHE (default /var/cache/vpio-vm), QEMU, BUSYBOX.
Exit: COMMAND's status; 124 timeout; 125 boot/harness failure; 77 cannot
start a VM here (no QEMU, busybox-static or kernel package).
EOF
}

msg() { echo "vm.sh: $*" >&2; }
# fail CODE FILE MESSAGE: record the reason in OUT/FILE and exit.
fail() {
	local code=$1 file=$2
	shift 2
	msg "$*"
	[[ -n $OUT && -d $OUT ]] && echo "$*" >"$OUT/$file"
	exit "$code"
}
die() { fail 125 error "$*"; }
skip() { fail 77 skip "$*"; }

need_arg() { [[ $# -ge 2 ]] || die "option $1 needs a value"; }
while [[ $# -gt 0 ]]; do
	case "$1" in
	--variant)
		need_arg "$@"
		case "$2" in
		intel39) KERNEL=6.1 IOMMU=intel39 ;;
		intel48) KERNEL=6.12 IOMMU=intel48 ;;
		virtio) KERNEL=6.12 IOMMU=virtio ;;
		*) die "unknown variant '$2' (intel39, intel48, virtio)" ;;
		esac
		shift
		;;
	--kernel) need_arg "$@"; KERNEL=$2; shift ;;
	--iommu) need_arg "$@"; IOMMU=$2; shift ;;
	--mem) need_arg "$@"; MEM=$2; shift ;;
	--hugepages) need_arg "$@"; HUGEPAGES=$2; shift ;;
	--cmb-size) need_arg "$@"; CMB_MB=$2; shift ;;
	--nvme1-props) need_arg "$@"; NVME1_PROPS=$2; shift ;;
	--disk-size) need_arg "$@"; DISK_SIZE=$2; shift ;;
	--append) need_arg "$@"; APPEND="$APPEND $2"; shift ;;
	--env) need_arg "$@"; ENVS+=("$2"); shift ;;
	--timeout) need_arg "$@"; TIMEOUT=$2; shift ;;
	--out) need_arg "$@"; OUT=$2; shift ;;
	--accel) need_arg "$@"; ACCEL=$2; shift ;;
	--verbose) VERBOSE=1 ;;
	--debug) DEBUG=1 ;;
	-h | --help) usage; exit 0 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (COMMAND goes after --; see --help)" ;;
	esac
	shift
done
[[ $# -ge 1 ]] || die "no COMMAND given (put it after --)"
for v in MEM HUGEPAGES CMB_MB TIMEOUT; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "--${v,,} must be a number (got '${!v}')"
done
case "$IOMMU" in intel39 | intel48 | virtio | none) ;; *) die "--iommu must be intel39, intel48, virtio or none" ;; esac
case "$ACCEL" in tcg | kvm) ;; *) die "--accel must be tcg or kvm" ;; esac
[[ $NVME1_PROPS =~ ^[A-Za-z0-9_.=,-]*$ ]] || die "--nvme1-props must be NAME=VALUE,... (got '$NVME1_PROPS')"

# ------------------------------------------------------------- work dirs
CWD=$(pwd -P)
if [[ -z $OUT ]]; then
	OUT=$(mktemp -d /tmp/vpio-vm.XXXXXX)
else
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd -P)
fi
rm -f "$OUT"/{rc,boot_time_s,error,skip}
: >"$OUT/console.log"
: >"$OUT/boot.log"
for p in "$OUT" "$CWD"; do
	[[ $p != *$'\n'* && $p != *"'"* ]] || die "paths with newlines or quotes are not supported: $p"
done

# No QEMU means "cannot run here" (77); the rest of what a VM needs is
# installed by scripts/pkgdep.sh, so its absence is a failure.
command -v "$QEMU" >/dev/null || skip "$QEMU not found (apt-get install qemu-system-x86, or scripts/pkgdep.sh)"
if [[ ! -x $BUSYBOX ]] || ldd "$BUSYBOX" >/dev/null 2>&1; then
	die "$BUSYBOX is not a static busybox (apt-get install busybox-static, or scripts/pkgdep.sh)"
fi
for t in cpio gzip xz zstd flock dpkg-deb apt-get; do
	command -v $t >/dev/null || die "$t not found (scripts/pkgdep.sh installs what the VM tier needs)"
done
if [[ $ACCEL == kvm && ! -w /dev/kvm ]]; then skip "--accel kvm: /dev/kvm is not usable"; fi

mkdir -p "$CACHE"/{kernels,initramfs} 2>/dev/null || die "cannot create $CACHE (set VPIO_VM_CACHE to a writable dir)"
RUNDIR=$(mktemp -d /tmp/vpio-vm-run.XXXXXX)
QPID=""
TPIDS=()
cleanup() {
	[[ -n $QPID ]] && kill "$QPID" 2>/dev/null
	for p in "${TPIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$RUNDIR"
	return 0
}
trap cleanup EXIT
trap 'msg "interrupted"; exit 130' INT TERM

# Serialise cache updates between concurrent runs.
exec 9>"$CACHE/.lock"
flock 9

# ------------------------------------------------------------- the kernel
# Debian's generic flavour: linux-image-6.1.0-N-amd64-unsigned,
# linux-image-6.12.N+debNN-amd64-unsigned.
series_re() { echo "^linux-image-${1//./\\.}\.[0-9]+(-[0-9]+|\+deb[0-9]+)-amd64-unsigned\$"; }

# Newest kernel package of a series that apt can download.
apt_kernel_pkg() {
	local p
	for p in $(apt-cache pkgnames "linux-image-$1." 2>/dev/null | grep -E "$(series_re "$1")" | sort -rV); do
		apt-cache show --no-all-versions "$p" >/dev/null 2>&1 && { echo "$p"; return 0; }
	done
	return 1
}

# Newest complete kernel tree of a series in the cache.
cached_kernel_pkg() {
	local d best=""
	for d in "$CACHE"/kernels/linux-image-"$1".*; do
		[[ -f $d/.complete && ${d##*/} =~ $(series_re "$1") ]] || continue
		best=$(printf '%s\n%s\n' "$best" "${d##*/}" | sort -V | tail -n1)
	done
	[[ -n $best ]] && echo "$best"
}

if [[ $KERNEL == linux-image-* ]]; then
	PKG=$KERNEL
else
	[[ $KERNEL =~ ^[0-9]+\.[0-9]+$ ]] || die "--kernel must be like 6.1, 6.12 or a package name"
	if ! PKG=$(apt_kernel_pkg "$KERNEL"); then
		# No package lists yet (fresh machine or container): update once.
		if ((EUID == 0)) && [[ -z $(cached_kernel_pkg "$KERNEL") ]]; then
			msg "apt knows no $KERNEL kernel package: apt-get update"
			apt-get update -qq >"$RUNDIR/apt.log" 2>&1 || msg "apt-get update failed: $(tail -n1 "$RUNDIR/apt.log")"
		fi
		PKG=$(apt_kernel_pkg "$KERNEL") || PKG=$(cached_kernel_pkg "$KERNEL") ||
			die "no Debian $KERNEL kernel package (linux-image-$KERNEL.*-amd64-unsigned) from apt and none cached in $CACHE"
	fi
fi
KTREE=$CACHE/kernels/$PKG
if [[ ! -f $KTREE/.complete ]]; then
	msg "downloading $PKG (once; cached in $CACHE)"
	mkdir -p "$RUNDIR/deb"
	aptopt=()
	((EUID == 0)) && aptopt=(-o APT::Sandbox::User=root)
	(cd "$RUNDIR/deb" && apt-get "${aptopt[@]}" download "$PKG") >"$RUNDIR/apt.log" 2>&1 ||
		die "apt-get download $PKG failed: $(grep -m1 -E '^(E|W):' "$RUNDIR/apt.log" || tail -n1 "$RUNDIR/apt.log")"
	rm -rf "$KTREE"
	dpkg-deb -x "$RUNDIR"/deb/*.deb "$KTREE" || die "dpkg-deb -x of $PKG failed"
	touch "$KTREE/.complete"
	rm -rf "$RUNDIR/deb"
	# Keep one kernel per series: drop older trees of the same series.
	if [[ $KERNEL != linux-image-* ]]; then
		for d in "$CACHE"/kernels/linux-image-"$KERNEL".*; do
			[[ $d != "$KTREE" && ${d##*/} =~ $(series_re "$KERNEL") ]] && rm -rf "$d"
		done
	fi
fi
KVER=""
for d in "$KTREE"/lib/modules/*; do [[ -d $d ]] && KVER=${d##*/}; done
[[ -n $KVER ]] || die "no lib/modules/* in $KTREE"
VMLINUZ=$KTREE/boot/vmlinuz-$KVER
MODROOT=$KTREE/lib/modules/$KVER
[[ -f $VMLINUZ ]] || die "no $VMLINUZ"
kconfig() { sed -n "s/^CONFIG_$1=//p" "$KTREE/boot/config-$KVER" 2>/dev/null; }
if [[ $IOMMU == virtio && -z $(kconfig VIRTIO_IOMMU) ]]; then
	die "$KVER lacks CONFIG_VIRTIO_IOMMU (Debian 6.1 does): use --kernel 6.12 with --iommu virtio"
fi

# ------------------------------------------------------ kernel modules
# Loaded at boot, in this order; dependencies are packed and loaded first.
BOOT_MODULES="virtio_pci"
[[ $IOMMU == virtio ]] && BOOT_MODULES+=" virtio_iommu"
BOOT_MODULES+=" 9pnet_virtio 9p vfio vfio_iommu_type1 vfio_pci nvme"
# ext4: guest-test mounts a filesystem on a controller to check that
# setup.sh leaves a device with a mounted filesystem alone.
BOOT_MODULES+=" crc32c_generic ext4" # ext4 checksums ask the crypto API for crc32c

declare -A MODPATH=() MODDEPS=() BUILTIN=() SEEN=()
ORDER=()
while IFS= read -r f; do
	n=${f##*/}
	n=${n%%.ko*}
	MODPATH[${n//-/_}]=${f#"$MODROOT"/}
done < <(find "$MODROOT/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz')
if [[ -f $MODROOT/modules.builtin ]]; then
	while IFS= read -r f; do
		n=${f##*/}
		n=${n%%.ko*}
		BUILTIN[${n//-/_}]=1
	done <"$MODROOT/modules.builtin"
fi

ko_cat() {
	case "$1" in
	*.xz) xz -dc "$1" ;;
	*.zst) zstd -dcq "$1" ;;
	*.gz) gzip -dc "$1" ;;
	*) cat "$1" ;;
	esac
}
# "depends=" of the module's .modinfo (NUL-separated strings); awk reads to
# the end so that no stage of the pipe dies of SIGPIPE.
ko_depends() { ko_cat "$1" | tr '\0' '\n' | awk '/^depends=/ && !d { print substr($0, 9); d = 1 }'; }

add_module() { # depth first: dependencies before the module
	local n=${1//-/_} d deps
	[[ -n ${SEEN[$n]:-} ]] && return 0
	SEEN[$n]=1
	[[ -n ${BUILTIN[$n]:-} ]] && return 0
	[[ -n ${MODPATH[$n]:-} ]] || die "module $n is neither built into $KVER nor in $MODROOT"
	deps=$(ko_depends "$MODROOT/${MODPATH[$n]}")
	MODDEPS[$n]=${deps//-/_}
	for d in ${deps//,/ }; do add_module "$d"; done
	ORDER+=("$n")
}
for m in $BOOT_MODULES; do add_module "$m"; done

# ---------------------------------------------------------- initramfs
KEY=$({
	echo "$KVER ${ORDER[*]}"
	sha256sum "$HERE/init.sh" "$HERE/modprobe.sh" "$BUSYBOX" "${BASH_SOURCE[0]}" | cut -d' ' -f1
} | sha256sum | cut -c1-16)
INITRAMFS=$CACHE/initramfs/$KVER-$KEY.cpio.gz
if [[ ! -f $INITRAMFS ]]; then
	msg "building the initramfs for $KVER (${#ORDER[@]} modules)"
	ST=$RUNDIR/initramfs
	mkdir -p "$ST"/{bin,dev,proc,sys,newroot,vpio,lib/modules/"$KVER"}
	cp "$BUSYBOX" "$ST/bin/busybox"
	install -m 755 "$HERE/init.sh" "$ST/init"
	install -m 755 "$HERE/modprobe.sh" "$ST/vpio/modprobe.sh"
	dep=$ST/lib/modules/$KVER/vpio.dep
	: >"$dep"
	for n in "${ORDER[@]}"; do
		rel=${MODPATH[$n]%.xz}
		rel=${rel%.zst}
		rel=${rel%.gz}
		mkdir -p "$ST/lib/modules/$KVER/$(dirname "$rel")"
		ko_cat "$MODROOT/${MODPATH[$n]}" >"$ST/lib/modules/$KVER/$rel"
		echo "$n $rel ${MODDEPS[$n]:--}" >>"$dep"
	done
	(cd "$ST" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) | gzip -6 >"$INITRAMFS.tmp"
	mv "$INITRAMFS.tmp" "$INITRAMFS"
fi
# Each edit of these scripts makes a new image: drop those unused for a week.
touch "$INITRAMFS"
find "$CACHE/initramfs" -name '*.cpio.gz' -mtime +7 -delete

# ------------------------------------ per-run part, appended to the initrd
shq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
PR=$RUNDIR/run
mkdir -p "$PR/vpio"
{
	echo "OUT=$(shq "$OUT")"
	echo "NVME=2"
	echo "BOOT_MODULES=$(shq "$BOOT_MODULES")"
	echo "DEBUG=$DEBUG"
	# Host dirs the guest's tmpfs /tmp, /run would hide: re-exposed.
	case "$CWD/" in
	/tmp/* | /run/* | /var/tmp/*) echo "RESHARE=$(shq "$CWD")" ;;
	*) echo "RESHARE=" ;;
	esac
} >"$PR/vpio/run.conf"
{
	echo "export PATH=/run/vpio-vm/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "export HOME=/root TERM=dumb LANG=C.UTF-8"
	echo "export VPIO_VM_OUT=$(shq "$OUT") VPIO_VM_KERNEL=$(shq "$KVER") VPIO_VM_IOMMU=$IOMMU"
	for e in "${ENVS[@]}"; do
		[[ $e =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env needs NAME=VALUE (got '$e')"
		echo "export $(shq "$e")"
	done
	echo "cd $(shq "$CWD") || exit 125"
	printf 'exec'
	for a in "$@"; do printf ' %s' "$(shq "$a")"; done
	echo
} >"$PR/vpio/cmd.sh"
(cd "$PR" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --owner=0:0 --quiet) |
	gzip -1 >"$RUNDIR/run.cpio.gz"
# The kernel unpacks concatenated compressed cpio archives one after another.
cat "$INITRAMFS" "$RUNDIR/run.cpio.gz" >"$RUNDIR/initrd.img"
flock -u 9
exec 9>&-

# ------------------------------------------------------------- QEMU
Q=("$QEMU" -name vpio-vm -nodefaults -no-user-config -display none -monitor none -no-reboot)
if [[ $ACCEL == kvm ]]; then
	Q+=(-accel kvm -cpu host)
else
	Q+=(-accel tcg,thread=multi -cpu max)
fi
Q+=(-smp "$SMP" -m "$MEM")
# init_on_alloc=0: Debian zeroes every page at allocation by default, which
# is slow under TCG (hugepages especially).  iommu=pt: the kernel's own
# drivers get identity DMA (fast); vfio always gets a translated domain.
KARGS="console=ttyS0 panic=-1 no_timer_check rdinit=/init init_on_alloc=0 hugepagesz=2M hugepages=$HUGEPAGES"
((VERBOSE)) || KARGS+=" quiet"
case "$IOMMU" in
intel39 | intel48)
	# caching-mode=on: QEMU learns of every mapping (needed to assign
	# devices; harmless here).  intremap=on needs kernel-irqchip=split.
	aw=39
	[[ $IOMMU == intel48 ]] && aw=48
	Q+=(-machine q35,kernel-irqchip=split -device "intel-iommu,intremap=on,caching-mode=on,aw-bits=$aw")
	KARGS+=" intel_iommu=on iommu=pt"
	;;
virtio)
	# No interrupt remapping with virtio-iommu: vfio refuses groups unless
	# allow_unsafe_interrupts is set.
	Q+=(-machine q35 -device virtio-iommu-pci)
	KARGS+=" iommu=pt vfio_iommu_type1.allow_unsafe_interrupts=1"
	;;
none) Q+=(-machine q35) ;;
esac
KARGS+=" $APPEND"
Q+=(-kernel "$VMLINUZ" -initrd "$RUNDIR/initrd.img" -append "$KARGS")
Q+=(-fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap"
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
	-fsdev "local,id=vpioout,path=$OUT,security_model=none,multidevs=remap"
	-device virtio-9p-pci,fsdev=vpioout,mount_tag=vpioout)
for i in 0 1; do
	truncate -s "$DISK_SIZE" "$RUNDIR/nvme$i.img"
	dev="nvme,serial=vpionvme$i,drive=nvm$i"
	((i == 0 && CMB_MB > 0)) && dev+=",cmb_size_mb=$CMB_MB"
	[[ $i == 1 && -n $NVME1_PROPS ]] && dev+=",$NVME1_PROPS"
	Q+=(-drive "file=$RUNDIR/nvme$i.img,if=none,id=nvm$i,format=raw" -device "$dev")
done
Q+=(-chardev "file,id=con0,path=$OUT/boot.log,append=on" -serial chardev:con0
	-chardev "file,id=con1,path=$OUT/console.log,append=on" -serial chardev:con1)
printf '%q ' "${Q[@]}" >"$OUT/qemu-cmd.txt"
echo >>"$OUT/qemu-cmd.txt"

# --------------------------------------------------------------- run
msg "kernel $KVER, iommu $IOMMU, ${MEM} MiB, $SMP vCPUs; out: $OUT"
now_ms() { date +%s%3N; }
T0=$(now_ms)
"${Q[@]}" </dev/null >"$OUT/qemu.log" 2>&1 &
QPID=$!
tail -n +1 -F --pid="$QPID" "$OUT/console.log" 2>/dev/null &
TPIDS+=($!)
if ((VERBOSE)); then
	tail -n +1 -F --pid="$QPID" "$OUT/boot.log" >&2 2>/dev/null &
	TPIDS+=($!)
fi

REASON=""
BOOTED=0
BOOT_S="?"
while kill -0 "$QPID" 2>/dev/null; do
	el=$(($(now_ms) - T0))
	if ((!BOOTED)) && grep -q 'vpio-vm: command start' "$OUT/boot.log"; then
		BOOTED=1
		BOOT_S=$(awk -v ms="$el" 'BEGIN { printf "%.1f", ms / 1000 }')
		echo "$BOOT_S" >"$OUT/boot_time_s"
		msg "guest booted in $BOOT_S s"
	fi
	if ((!BOOTED && el > BOOT_TIMEOUT * 1000)); then REASON=boot; break; fi
	if ((el > TIMEOUT * 1000)); then REASON=timeout; break; fi
	sleep 0.2
done
if [[ -n $REASON ]]; then
	kill "$QPID" 2>/dev/null || true
	sleep 1
	kill -9 "$QPID" 2>/dev/null || true
fi
QRC=0
wait "$QPID" 2>/dev/null || QRC=$?
QPID=""
for p in "${TPIDS[@]}"; do wait "$p" 2>/dev/null || true; done
TPIDS=()
EL=$(awk -v ms="$(($(now_ms) - T0))" 'BEGIN { printf "%.1f", ms / 1000 }')

boot_tail() {
	echo "----- tail of $OUT/boot.log -----" >&2
	tail -n 20 "$OUT/boot.log" >&2
	[[ -s $OUT/qemu.log ]] && { echo "----- $OUT/qemu.log -----" >&2; tail -n 10 "$OUT/qemu.log" >&2; }
	return 0
}
[[ $REASON == timeout ]] && fail 124 error "timeout: guest killed after $TIMEOUT s"
if [[ $REASON == boot ]]; then
	boot_tail
	die "boot failure: COMMAND had not started after $BOOT_TIMEOUT s"
fi
if [[ ! -f $OUT/rc ]]; then
	# The guest could not write OUT/rc: take it from its console.
	rc=$(sed -n 's/^vpio-vm: rc=\([0-9]*\).*/\1/p' "$OUT/boot.log" | tail -n1)
	if ((BOOTED)) && [[ -n $rc ]]; then
		echo "$rc" >"$OUT/rc"
	else
		boot_tail
		f=$(grep -m1 'vpio-vm: FATAL' "$OUT/boot.log" | sed 's/^vpio-vm: FATAL: //' || true)
		die "boot failure: ${f:-guest stopped (QEMU exit $QRC) without running COMMAND}"
	fi
fi
rc=$(tr -dc '0-9' <"$OUT/rc")
[[ -n $rc ]] || die "empty $OUT/rc"
msg "COMMAND exited $rc; ${EL} s in all (boot $BOOT_S s)"
exit "$rc"
