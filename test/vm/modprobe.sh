#!/bin/sh
# modprobe.sh - a tiny modprobe for vpio test guests (busybox sh).
#
# The guest runs the host's root filesystem, which has no modules for the
# guest kernel, so vm.sh packs the few modules the guest needs into the
# initramfs with a dependency list, vpio.dep ("NAME PATH DEP1,DEP2" or "-"),
# and this script loads them with busybox insmod.  It serves as the boot-time
# loader (init.sh), the kernel's usermode helper (/proc/sys/kernel/modprobe)
# and "modprobe" in the test's PATH (/run/vpio-vm/bin).
#
#   modprobe [-q] [-r] [--] NAME [PARAM=VALUE...]
# NAME.PARAM=VALUE words on the kernel command line apply as with kmod.

kver=$(uname -r)
BB=/bin/busybox
[ -x /run/vpio-vm/bin/busybox ] && BB=/run/vpio-vm/bin/busybox
MODDIR=/lib/modules/$kver
[ -f "/run/vpio-vm/modules/$kver/vpio.dep" ] && MODDIR=/run/vpio-vm/modules/$kver

quiet=0
remove=0
say() { [ "$quiet" = 1 ] || echo "modprobe: $*" >&2; }
norm() { echo "$1" | tr '-' '_'; }

# NAME.PARAM=VALUE words of the kernel command line for module $1.
cmdline_params() {
	_out=""
	# shellcheck disable=SC2013  # the command line is a list of words
	for _w in $(cat /proc/cmdline); do
		case "$_w" in *.*=*) [ "$(norm "${_w%%.*}")" = "$1" ] && _out="$_out ${_w#*.}" ;; esac
	done
	echo "$_out"
}

# load NAME [PARAMS...]: dependencies first; nothing to do if present.
load() {
	_n=$(norm "$1")
	shift
	[ -d "/sys/module/$_n" ] && return 0
	_line=$(grep "^$_n " "$MODDIR/vpio.dep")
	if [ -z "$_line" ]; then
		say "module $_n is not in the vpio-vm initramfs (add it to BOOT_MODULES in test/vm/vm.sh)"
		return 1
	fi
	set -- "$_n" "$(echo "$_line" | cut -d' ' -f2)" "$(echo "$_line" | cut -d' ' -f3)" "$@"
	for _d in $(echo "$3" | tr ',' ' '); do
		[ "$_d" = "-" ] || load "$_d" || return 1
	done
	_n=$1 _p=$2
	shift 3
	# shellcheck disable=SC2046  # parameter words on purpose
	"$BB" insmod "$MODDIR/$_p" $(cmdline_params "$_n") "$@"
}

while [ $# -gt 0 ]; do
	case "$1" in
	-q | --quiet) quiet=1 ;;
	-r | --remove) remove=1 ;;
	--) shift; break ;;
	-*) ;; # other kmod options: ignored
	*) break ;;
	esac
	shift
done
[ $# -ge 1 ] || { echo "usage: modprobe [-q] [-r] NAME [PARAM=VALUE...]" >&2; exit 1; }

if [ "$remove" = 1 ]; then
	rc=0
	for m in "$@"; do "$BB" rmmod "$(norm "$m")" || rc=1; done
	exit $rc
fi
load "$@"
