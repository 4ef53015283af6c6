#!/usr/bin/env bash
# setup.sh - scripts/setup.sh against a fake sysfs tree (SYSFS_ROOT=R/sys,
# so its state goes to R/run/vpio/setup): every bad input of config is
# refused with exit 1 and one line before anything changes (the tree holds
# an NVMe controller that config would rebind), and valid runs do what they
# should in the fake tree.
#
# It never writes the real /sys, /run, /etc or /dev: setup.sh runs with a
# clean environment, and, as root where unshare works, in a private mount
# namespace with empty tmpfs over /sys, /run, /dev/hugepages and
# /etc/security/limits.d (anything written there fails the test and
# vanishes with the namespace).  Without that, the real /run/vpio and the
# limits files are compared before and after.
# Prints "setup: N passed, N failed"; exit 0 when all passed.
set -u
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
SETUP=$SRC/scripts/setup.sh
T=$(mktemp -d /tmp/vpio-setup-test.XXXXXX) || exit 1
OUT=$T/out
trap 'rm -rf "$T"' EXIT
PASS=0 FAIL=0
BDF=0000:01:00.0 # the NVMe controller config would take
NIC=0000:02:00.0 # a network card it leaves alone
R=$T/tree # the fake root: R/sys, and R/run, R/etc, R/dev that setup.sh writes
FS=$R/sys
STATE=$R/run/vpio/setup

ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); sed 's/^/     | /' "$OUT"; }

# ------------------------------------------------------------ the fake tree
put() { mkdir -p "$(dirname "$1")" && printf '%s\n' "$2" >"$1"; }
mkdev() { # BDF VENDOR CLASS DRIVER GROUP
	local d=$FS/bus/pci/devices/$1
	put "$d/vendor" "$2"
	put "$d/device" 0x0010
	put "$d/class" "$3"
	put "$d/numa_node" 0
	put "$d/driver_override" "(null)"
	put "$FS/bus/pci/drivers/$4/unbind" ""
	put "$FS/bus/pci/drivers/$4/bind" ""
	ln -s "$FS/bus/pci/drivers/$4" "$d/driver"
	mkdir -p "$FS/kernel/iommu_groups/$5/devices"
	ln -s "$FS/kernel/iommu_groups/$5" "$d/iommu_group"
	ln -s "$d" "$FS/kernel/iommu_groups/$5/devices/$1"
}
mktree() {
	rm -rf "$R"
	mkdev "$BDF" 0x1b36 0x010802 nvme 5
	mkdev "$NIC" 0x8086 0x020000 e1000e 6
	put "$FS/bus/pci/drivers_probe" ""
	put "$FS/bus/pci/drivers/vfio-pci/bind" ""
	mkdir -p "$FS/module/vfio_pci" "$FS/class/block" "$FS/class/iommu/dmar0"
	put "$FS/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts" Y
	put "$FS/module/vfio/parameters/enable_unsafe_noiommu_mode" N
	put "$FS/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages" 0
	put "$FS/kernel/mm/hugepages/hugepages-2048kB/free_hugepages" 0
	put "$FS/devices/system/node/has_memory" 0
	put "$FS/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages" 0
	put "$FS/devices/system/node/node0/hugepages/hugepages-2048kB/free_hugepages" 0
	mkdir -p "$R/notsys"
	BASE=$(snap)
}
# Everything under R: names, types, modes, sizes, nanosecond mtimes, link
# targets and contents.
snap() {
	(cd "$R" && find . -printf '%p %y %m %s %T@ %l\n' | sort && find . -type f -exec md5sum {} + | sort)
}

# ------------------------------------------------------------ isolation
ISOLATE=()
if ((EUID == 0)) && unshare -m --propagation private true 2>/dev/null; then
	# shellcheck disable=SC2016  # expanded by the inner shell
	ISOLATE=(unshare -m --propagation private -- bash -c '
		ds=()
		for d in /sys /run /dev/hugepages /etc/security/limits.d; do
			[[ -d $d ]] || continue
			mount -n -t tmpfs vpio-setup-test "$d" || { echo "cannot mount tmpfs on $d"; exit 99; }
			ds+=("$d")
		done
		"$@"
		rc=$?
		for d in "${ds[@]}"; do
			[[ -z $(ls -A "$d") ]] || { echo "TOUCHED THE REAL $d: $(ls -A "$d" | tr "\n" " ")"; exit 98; }
		done
		exit $rc' _)
	echo "     (each run of setup.sh in a private mount namespace, tmpfs over /sys /run /dev/hugepages /etc/security/limits.d)"
fi
real_state() { ls -lA --time-style=full-iso /run/vpio /run/vpio/setup /etc/security/limits.d 2>&1; }
REAL_BEFORE=$(real_state)

# run [VAR=VALUE...] -- ARGS...: scripts/setup.sh on the fake tree with only
# these variables set; output in $OUT, exit status in RC.
run() {
	local envs=()
	while [[ $1 != -- ]]; do envs+=("$1"); shift; done
	shift
	"${ISOLATE[@]}" env -i PATH="$PATH" SYSFS_ROOT="$FS" "${envs[@]}" bash "$SETUP" "$@" >"$OUT" 2>&1
	RC=$?
}

# refused DESCRIPTION REGEX [VAR=VALUE...] -- ARGS...: exit 1, one line
# "setup.sh: error: ..." matching REGEX, and nothing under R changed since
# mktree (BASE).
refused() {
	local what=$1 re=$2 before=$BASE
	shift 2
	run "$@"
	if ((RC != 1)); then
		bad "$what: exit $RC, not 1"
	elif (($(wc -l <"$OUT") != 1)) || ! grep -Eq -- "^setup\.sh: error: .*$re" "$OUT"; then
		bad "$what: not one error line matching '$re'"
	elif [[ $(snap) != "$before" ]]; then
		bad "$what: the fake tree changed: $(diff <(echo "$before") <(snap) | grep '^>' | head -n 3 | tr '\n' ' ')"
	elif [[ -e $R/run ]]; then
		bad "$what: $R/run was created"
	else
		ok "$what"
		return 0
	fi
	mktree # for the next case
}

# file_is DESCRIPTION FILE CONTENT
file_is() {
	local got
	got=$(cat "$2" 2>&1)
	if [[ $got == "$3" ]]; then ok "$1"; else echo "FAIL $1: ${2#"$R"/} holds '$got', not '$3'"; FAIL=$((FAIL + 1)); fi
}

[[ -f $SETUP ]] || { echo "setup: $SETUP missing"; echo "setup: 0 passed, 1 failed"; exit 1; }
mktree
MEM=$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))

# ------------------------------------------------------------ bad HUGEMEM
for h in 2G 012 08 00 99999999999999999999 9223372036854775808 -1 +2 " 2048" "2048 " $'2048\n1' 1e3 0x10 1.5 \
	2048M "2 048"; do
	refused "HUGEMEM=$(printf %q "$h") is refused" "HUGEMEM" "HUGEMEM=$h" -- config
done
refused "HUGEMEM=MemTotal+1 ($((MEM + 1)) MiB) is refused" "more than this machine's memory \($MEM MiB" \
	"HUGEMEM=$((MEM + 1))" -- config
refused "HUGEMEM with a newline is shown on one line" "got \\$'2048\\\\n1'" $'HUGEMEM=2048\n1' -- config

# ------------------------------------------------------------ the other inputs
refused "PCI_ALLOWED=zz is refused" "PCI_ALLOWED: 'zz' is not a PCI address" PCI_ALLOWED=zz -- config
refused "PCI_ALLOWED with '*' is not expanded" "PCI_ALLOWED: '\*' is not a PCI address" "PCI_ALLOWED=$BDF *" -- config
refused "PCI_BLOCKED with a path is refused" "PCI_BLOCKED: '01:00.0/\.\./x'" PCI_BLOCKED=01:00.0/../x -- config
refused "PCI_ALLOWED naming no device is refused" "names 0000:09:00.0, which does not exist" \
	PCI_ALLOWED=0000:09:00.0 -- config
refused "PCI_ALLOWED naming a network card is refused" "names $NIC, which is neither" "PCI_ALLOWED=$NIC" -- config
refused "TARGET_USER naming no user is refused" "TARGET_USER: no user 'vpio-no-such-user'" \
	TARGET_USER=vpio-no-such-user -- config
refused "TARGET_USER with a newline is shown on one line" "TARGET_USER: no user \\$'root\\\\nx'" \
	$'TARGET_USER=root\nx' -- config
refused "NOIOMMU=maybe is refused" "NOIOMMU must be yes or no" NOIOMMU=maybe -- config
refused "SPDK's NRHUGE is refused" "NRHUGE is a setting of SPDK's setup.sh.*HUGEMEM" NRHUGE=512 -- config
refused "SPDK's PCI_WHITELIST is refused" "PCI_WHITELIST .*use PCI_ALLOWED" "PCI_WHITELIST=$BDF" -- config
refused "an unknown command is refused" "unknown command 'configure'" -- configure
refused "an empty command is refused" "unknown command ''" -- ""
refused "a second argument is refused" "unexpected argument 'now' after 'config'" -- config now
refused "SYSFS_ROOT not named sys is refused" "must be a directory named sys" "SYSFS_ROOT=$R/notsys" -- config
refused "SYSFS_ROOT that does not exist is refused" "is not a directory" "SYSFS_ROOT=$R/none/sys" -- status
refused "reset: a bad PCI_BLOCKED is refused" "PCI_BLOCKED: 'zz'" PCI_BLOCKED=zz -- reset
rm -r "$FS/kernel/mm/hugepages/hugepages-2048kB"
BASE=$(snap)
refused "HUGEMEM=2 without 2 MiB hugepages is refused before binding" "no 2 MiB hugepages" HUGEMEM=2 -- config
mktree

# ------------------------------------------------------------ valid runs
# config rebinds the controller (the fake kernel does not move the driver
# link, so it ends with "vfio-pci did not take it"): what a late check of
# the input would have let happen.
run HUGEMEM=0 -- config
if ((RC == 1)) && grep -q "$BDF: vfio-pci did not take it" "$OUT"; then
	ok "config on the fake tree: tried to bind $BDF"
else
	bad "config on the fake tree: exit $RC"
fi
file_is "config wrote vfio-pci to driver_override" "$FS/bus/pci/devices/$BDF/driver_override" vfio-pci
file_is "config unbound the controller from nvme" "$FS/bus/pci/drivers/nvme/unbind" "$BDF"
file_is "config remembered the driver in R/run/vpio/setup" "$STATE/dev-$BDF" nvme
file_is "config left the network card alone" "$FS/bus/pci/devices/$NIC/driver_override" "(null)"
run -- reset
if ((RC == 0)) && [[ ! -e $STATE/dev-$BDF ]]; then ok "reset forgets $BDF"; else bad "reset: exit $RC"; fi
file_is "reset cleared driver_override" "$FS/bus/pci/devices/$BDF/driver_override" ""

# Hugepages: HUGEMEM MiB rounded up to 2 MiB pages, nothing mounted.
mktree
run HUGEMEM=3 "PCI_BLOCKED=$BDF" -- config
if ((RC == 0)) && grep -q "hugepages (2 MiB): node0 2 (HUGEMEM=3 MiB)" "$OUT" && grep -q "nothing mounted" "$OUT"; then
	ok "HUGEMEM=3: 2 pages of 2 MiB, nothing mounted"
else
	bad "HUGEMEM=3: exit $RC"
fi
file_is "HUGEMEM=3 wrote node0's count" "$FS/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages" 2
file_is "config remembered node0's count" "$STATE/hugepages-node0" 0
run -- reset
file_is "reset gave the pages back" "$FS/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages" 0
mktree
run "HUGEMEM=$MEM" "PCI_BLOCKED=$BDF" -- config
if ((RC == 0)); then ok "HUGEMEM=MemTotal ($MEM MiB) is accepted"; else bad "HUGEMEM=$MEM: exit $RC"; fi
if ((MEM >= 2048)); then
	mktree
	run HUGEMEM= "PCI_BLOCKED=$BDF" -- config
	if ((RC == 0)) && grep -q "node0 1024 (HUGEMEM=2048 MiB)" "$OUT"; then
		ok "an empty HUGEMEM is the default, 2048"
	else
		bad "HUGEMEM=: exit $RC"
	fi
fi

# TARGET_USER as a uid: the limits file names the user, under R/etc.
mktree
run TARGET_USER=0 HUGEMEM=0 "PCI_BLOCKED=$BDF" -- config
if ((RC == 0)) && grep -q "TARGET_USER root:" "$OUT"; then ok "TARGET_USER=0 is root"; else bad "TARGET_USER=0: exit $RC"; fi
file_is "the limits file is under R/etc and names root" "$R/etc/security/limits.d/vpio-root.conf" \
	"$(printf '%s\n' "# written by vpio scripts/setup.sh: vfio pins DMA memory against RLIMIT_MEMLOCK" \
		"root soft memlock unlimited" "root hard memlock unlimited")"

run -- status
if ((RC == 0)) && grep -q "^$BDF .* nvme " "$OUT"; then ok "status on the fake tree"; else bad "status: exit $RC"; fi

# ------------------------------------------------------------ the real machine
if [[ $(real_state) == "$REAL_BEFORE" ]]; then
	ok "the real /run/vpio and /etc/security/limits.d are as they were"
else
	echo "FAIL the real /run/vpio or /etc/security/limits.d changed:"
	diff <(echo "$REAL_BEFORE") <(real_state)
	FAIL=$((FAIL + 1))
fi

echo "setup: $PASS passed, $FAIL failed"
((FAIL == 0))
