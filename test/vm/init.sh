#!/bin/busybox sh
# shellcheck shell=dash
# init.sh - PID 1 of a vpio test guest, packed as /init by vm.sh together
# with a static busybox, the kernel modules (/lib/modules/KVER + vpio.dep) and
# modprobe.sh.  A second, per-run cpio archive adds /vpio/run.conf and
# /vpio/cmd.sh.
#
#   1. mount proc/sys/devtmpfs, load the modules (virtio, 9p, vIOMMU, vfio,
#      nvme);
#   2. mount the host root read-only (9p tag "hostroot") on /newroot with
#      fresh /proc /sys /dev /dev/pts /dev/shm /dev/hugepages and tmpfs
#      /tmp /run /var/tmp; mount the out dir (9p tag "vpioout") read-write at
#      its host path;
#   3. wait for the NVMe namespaces, chroot and run /run/vpio-vm/cmd.sh with
#      stdout+stderr on ttyS1 (the host's OUT/console.log), write OUT/rc and
#      power off.
# Lines starting with "vpio-vm:" go to ttyS0 (OUT/boot.log); the host waits
# for "vpio-vm: command start" and falls back on "vpio-vm: rc=".

/bin/busybox mkdir -p /proc /sys /dev /newroot /tmp
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node: re-open stdio now that /dev exists.
exec </dev/console >/dev/console 2>&1

log() { echo "vpio-vm: $*"; }
poweroff_now() {
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 30
}
die() {
	log "FATAL: $*"
	log "rc=125"
	poweroff_now
}

# OUT NVME BOOT_MODULES DEBUG RESHARE
# shellcheck disable=SC1091  # written by vm.sh for each run
. /vpio/run.conf || die "missing /vpio/run.conf"
[ "$DEBUG" = 1 ] && set -x

# Kernel-requested module loads (request_module) go through our modprobe.
echo /vpio/modprobe.sh >/proc/sys/kernel/modprobe

# --- 1. modules
for m in $BOOT_MODULES; do
	sh /vpio/modprobe.sh "$m" || log "warning: could not load module $m"
done

# --- 2. root filesystem
R=/newroot
opts="trans=virtio,version=9p2000.L,msize=262144"
# Behind a vIOMMU the 9p device may probe a little later.
i=0
until mount -t 9p -o "$opts,cache=loose,ro" hostroot "$R" 2>/dev/null; do
	i=$((i + 1))
	[ $i -ge 100 ] && die "cannot mount the host root (9p tag hostroot)"
	sleep 0.1
done
# A cwd under /tmp or /run would be hidden by the tmpfs mounts below.
if [ -n "$RESHARE" ] && [ -d "$R$RESHARE" ]; then
	mkdir -p /reshare && mount --bind "$R$RESHARE" /reshare
fi

mount -t proc proc "$R/proc" || die "mount proc"
mount -t sysfs sysfs "$R/sys" || die "mount sysfs"
mount -t devtmpfs devtmpfs "$R/dev" || die "mount devtmpfs"
mkdir -p "$R/dev/pts" "$R/dev/shm" "$R/dev/hugepages"
# What udev would add (bash process substitution needs /dev/fd).
ln -sf /proc/self/fd "$R/dev/fd"
ln -sf /proc/self/fd/0 "$R/dev/stdin"
ln -sf /proc/self/fd/1 "$R/dev/stdout"
ln -sf /proc/self/fd/2 "$R/dev/stderr"
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts "$R/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$R/dev/shm"
mount -t hugetlbfs -o pagesize=2M hugetlbfs "$R/dev/hugepages" || log "warning: hugetlbfs mount failed"
mount -t tmpfs -o mode=1777 tmpfs "$R/tmp" || die "mount /tmp"
mount -t tmpfs -o mode=755 tmpfs "$R/run" || die "mount /run"
# On Debian /var/run is a symlink to /run.
[ -L "$R/var/run" ] || mount -t tmpfs -o mode=755 tmpfs "$R/var/run"
[ -L "$R/var/tmp" ] || mount -t tmpfs -o mode=1777 tmpfs "$R/var/tmp"
if [ -d /reshare ]; then
	{ mkdir -p "$R$RESHARE" && mount --bind /reshare "$R$RESHARE"; } || log "warning: cannot re-expose $RESHARE"
fi
mkdir -p "$R$OUT" 2>/dev/null
mount -t 9p -o "$opts" vpioout "$R$OUT" || die "cannot mount the out dir (9p tag vpioout) on $OUT"

# The host's modprobe cannot work (no modules for this kernel on the host
# root): put ours first in the command's PATH.
H=$R/run/vpio-vm
mkdir -p "$H/bin" "$H/modules"
cp /bin/busybox "$H/bin/busybox"
cp /vpio/modprobe.sh "$H/bin/modprobe"
chmod 755 "$H/bin/modprobe"
for a in insmod rmmod lsmod; do ln -s busybox "$H/bin/$a"; done
mount --bind /lib/modules "$H/modules"
cp /vpio/cmd.sh "$H/cmd.sh"

# --- 3. wait for the NVMe namespaces, run the command
nvme_ns() {
	_c=0
	for _b in /sys/class/block/nvme*n*; do
		case "${_b##*/}" in nvme*n*p*) ;; nvme*n*) [ -e "$_b" ] && _c=$((_c + 1)) ;; esac
	done
	echo $_c
}
i=0
while [ "$(nvme_ns)" -lt "$NVME" ]; do
	i=$((i + 1))
	if [ $i -ge 300 ]; then
		log "warning: only $(nvme_ns) of $NVME NVMe namespaces appeared"
		break
	fi
	sleep 0.1
done

hostname vpio-vm
stty -F /dev/ttyS1 raw -echo 2>/dev/null
log "command start uptime=$(cut -d' ' -f1 /proc/uptime) kernel=$(uname -r)"
chroot "$R" /bin/sh /run/vpio-vm/cmd.sh </dev/null >/dev/ttyS1 2>&1
rc=$?
log "command end uptime=$(cut -d' ' -f1 /proc/uptime)"
echo "$rc" >"$R$OUT/rc" || log "warning: cannot write $OUT/rc"
log "rc=$rc"
sync
umount "$R$OUT" 2>/dev/null
poweroff_now
