#!/usr/bin/env bash
# apps.sh [BUILD_DIR] - vpio-envinfo, vpio-identify and vpio-hello-nvme as a
# user runs them, against emulated controllers: what they print, and that
# bad addresses and options are refused with a non-zero exit and a line
# naming them.
# BUILD_DIR defaults to $VPIO_BUILD (set by test/run.sh), else build.
# Prints "apps: N passed, N failed"; exit 0 when all passed.
set -u
B=${1:-${VPIO_BUILD:-build}}
ENVINFO=$B/bin/vpio-envinfo
ID=$B/bin/vpio-identify
HELLO=$B/bin/vpio-hello-nvme
PASS=0 FAIL=0
OUT=$(mktemp /tmp/vpio-apps.XXXXXX)
ERR=$(mktemp /tmp/vpio-apps-err.XXXXXX)
trap 'rm -f "$OUT" "$ERR"' EXIT

ok() { echo "ok   $*"; PASS=$((PASS + 1)); }
bad() { echo "FAIL $*"; FAIL=$((FAIL + 1)); sed 's/^/     | /' "$OUT"; }
# expect RC DESCRIPTION CMD...: run CMD into $OUT; RC is a number or "nonzero".
expect() {
	local want=$1 what=$2 rc
	shift 2
	"$@" >"$OUT" 2>&1
	rc=$?
	if [[ $want == "$rc" ]] || [[ $want == nonzero && $rc != 0 ]]; then
		return 0
	fi
	bad "$what: exit $rc"
	return 1
}
# refused DESCRIPTION REGEX CMD...: CMD exits 2 (bad usage) with exactly one
# line, on stderr, matching REGEX.
refused() {
	local what=$1 re=$2 rc
	shift 2
	"$@" >"$OUT" 2>"$ERR"
	rc=$?
	if ((rc != 2)); then
		cat "$ERR" >>"$OUT"
		bad "$what: exit $rc, not 2"
	elif [[ -s $OUT ]] || (($(wc -l <"$ERR") != 1)) || ! grep -Eq -- "$re" "$ERR"; then
		cat "$ERR" >>"$OUT"
		bad "$what: not one line on stderr matching '$re'"
	else
		ok "$what"
	fi
}
# helps DESCRIPTION REGEX CMD...: CMD exits 0 with its usage (REGEX) on
# stdout and nothing on stderr.
helps() {
	local what=$1 re=$2 rc
	shift 2
	"$@" >"$OUT" 2>"$ERR"
	rc=$?
	if ((rc != 0)) || [[ -s $ERR ]] || ! grep -Eq -- "$re" "$OUT"; then
		cat "$ERR" >>"$OUT"
		bad "$what: exit $rc, usage not on stdout alone"
	else
		ok "$what"
	fi
}
# has DESCRIPTION REGEX...: every REGEX is in $OUT.
has() {
	local what=$1 r
	shift
	for r in "$@"; do
		grep -Eq -- "$r" "$OUT" || { bad "$what: no line matching '$r'"; return 1; }
	done
	ok "$what"
}

for f in "$ENVINFO" "$ID" "$HELLO"; do
	[[ -x $f ]] || { echo "apps: $f not built"; echo "apps: 0 passed, 1 failed"; exit 1; }
done

# vpio-envinfo: the environment, and the IOVA of buffers behind a device.
expect 0 "vpio-envinfo -a emu:nvme" "$ENVINFO" -m 32 -a emu:nvme &&
	has "vpio-envinfo: memory and IOVAs" "^vpio environment" "memory +: .*MiB registered for DMA" \
		"IOMMU facts \(through emu:nvme\)" "a DMA buffer +: va 0x[0-9a-f]+ -> iova 0x[0-9a-f]+" "IOVA mode +: "
expect nonzero "vpio-envinfo -a nope is refused" "$ENVINFO" -a nope && has "vpio-envinfo -a nope: error names it" "error: 'nope'"
for m in abc 0 -5 12x 010 ' 5' 5M 0x10; do
	refused "vpio-envinfo -m '$m' is refused" "-m '$m': .*positive decimal number of MiB" "$ENVINFO" -m "$m"
done
mem_mib=$(($(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024))
for m in 99999999999999999999 18446744073709551615 $((mem_mib * 2)); do
	refused "vpio-envinfo -m $m (more than the machine has) is refused" "-m '$m': more than this machine's [0-9]+ MiB" \
		"$ENVINFO" -m "$m"
done
refused "vpio-envinfo with a stray argument" "unexpected argument 'stray'" "$ENVINFO" -m 32 stray
refused "vpio-envinfo -a twice" "-a given twice \('emu:nvme', 'emu:nvme1'\)" "$ENVINFO" -a emu:nvme -a emu:nvme1
helps "vpio-envinfo -h" "^usage: vpio-envinfo" "$ENVINFO" -h
helps "vpio-envinfo --help" "^usage: vpio-envinfo" "$ENVINFO" --help

# No address: the list, and the hint when no controller is on vfio-pci.
if expect 0 "vpio-identify (no address)" "$ID"; then
	bound=0
	for d in /sys/bus/pci/drivers/vfio-pci/0000:*; do
		[[ -e $d/class && $(<"$d/class") == 0x010802 ]] && bound=1
	done
	if ((bound)); then
		has "vpio-identify lists the controllers" "NVMe controllers"
	else
		has "vpio-identify says how to bind a controller" "NVMe controllers" "scripts/setup.sh config" "emu:nvme"
	fi
fi

# Two namespaces of 4096-byte blocks: controller, both namespaces, health.
A='emu:nvme?ns=2&lba=4096&size=64M'
if expect 0 "vpio-identify -a $A" "$ID" -a "$A"; then
	has "controller data" "^NVMe controller emu:nvme" "Serial number +: VPIOEMU" "MDTS +: [0-9]+" \
		"ONCS +: 0x[0-9a-f]+ \(.*Write Zeroes" "Namespaces +: 2 ids \(NN\), 2 active"
	has "namespace data" "^Namespace 1$" "^Namespace 2$" "16384 blocks of 4096 bytes \(64\.00 MiB\)" \
		"4096 bytes data, +0 bytes metadata.*\(in use\)"
	has "SMART / health" "^SMART / health" "Critical warning +: 0x00" "Available spare +: 100%" \
		"Data units read +: [0-9]+ \(" "Power cycles +: [0-9]+"
fi

# Sizes in emulator options: decimal with a binary unit, never octal or hex.
if expect 0 "vpio-identify -a emu:nvme?size=512B" "$ID" -a 'emu:nvme?size=512B'; then
	has "size=512B is one block of 512 bytes" "1 blocks of 512 bytes"
fi
for v in 010 0x1000 1MB; do
	expect 1 "vpio-identify -a 'emu:nvme?size=$v' is refused" "$ID" -a "emu:nvme?size=$v" &&
		has "size=$v: the error names the value as given" "invalid value '$v' for option 'size'"
done

# Refused addresses: non-zero exit, the address named.
for a in 0000:zz:00.0 emu:bogus 'emu:nvme?lba=1000' 'emu:nvme?ns=0'; do
	expect nonzero "vpio-identify -a '$a' is refused" "$ID" -a "$a" &&
		has "vpio-identify -a '$a': error names it" "error: .*'?${a%%\?*}"
done
expect 2 "vpio-identify with a stray argument" "$ID" stray &&
	has "vpio-identify stray: named, usage shown" "unexpected argument 'stray'" "usage: vpio-identify"
many=()
for i in $(seq 0 16); do many+=(-a "emu:nvme$i"); done
refused "vpio-identify with 17 -a names the limit" "more than 16 -a addresses" "$ID" "${many[@]}"
helps "vpio-identify -h" "^usage: vpio-identify" "$ID" -h
helps "vpio-identify --help" "^usage: vpio-identify" "$ID" --help

# The hello example: a block written and read back.
expect 0 "vpio-hello-nvme" "$HELLO" && has "vpio-hello-nvme reads back what it wrote" "read back: Hello, NVMe!"
expect 0 "vpio-hello-nvme -a emu:nvme?lba=4096" "$HELLO" -a 'emu:nvme?lba=4096' &&
	has "vpio-hello-nvme on 4096-byte blocks" "read back: Hello, NVMe! .*4096 bytes"
expect nonzero "vpio-hello-nvme with a bad option" "$HELLO" -x && has "hello usage shown" "usage: vpio-hello-nvme"

# ------------------------------------------------------------------------
# vpio-xdma-info (XDMA cards; kept in one block of its own)
XINFO=$B/bin/vpio-xdma-info
if [[ ! -x $XINFO ]]; then
	echo "FAIL $XINFO not built"
	FAIL=$((FAIL + 1))
else
	expect 0 "vpio-xdma-info (no address)" "$XINFO" &&
		has "vpio-xdma-info lists vendor 0x10ee devices" "Xilinx/AMD devices \(vendor 0x10ee\)"
	X='emu:xdma?h2c=2&c2h=1&mem=16M&bars=user,cfg,bypass'
	expect 0 "vpio-xdma-info -a $X" "$XINFO" -a "$X" &&
		has "vpio-xdma-info: BARs, config block, channels" "^XDMA card emu:xdma \(10ee:[0-9a-f]{4}, emulated\)" \
			"DMA config BAR +: BAR 1, 64 KiB" "User \(AXI-Lite\) +: BAR 0, 64 KiB" "DMA bypass +: BAR 2, 16 MiB" \
			"Config block +: version 6 " "Card memory +: 16 MiB" "Channels +: 2 H2C, 1 C2H" \
			"H2C 1 +: AXI4 memory-mapped, version 6 .*alignment 1, length granularity 1, 64 address bits"
	X='emu:xdma1?stream=1&align=64&gran=8&addrbits=48'
	expect 0 "vpio-xdma-info -a $X" "$XINFO" -a "$X" &&
		has "vpio-xdma-info: stream engines and their alignment" "User \(AXI-Lite\) +: none" \
			"C2H 0 +: AXI4-Stream, .*alignment 64, length granularity 8, 48 address bits"
	for a in emu:nvme 'emu:xdma2?h2c=9' 0000:zz:00.0; do
		expect nonzero "vpio-xdma-info -a '$a' is refused" "$XINFO" -a "$a" &&
			has "vpio-xdma-info -a '$a': error says why" "error: .*(no BAR holds the XDMA config block|'h2c'|'0000:zz:00.0')"
	done
	expect nonzero "vpio-xdma-info with a stray argument" "$XINFO" stray && has "xdma-info usage shown" "usage: vpio-xdma-info"
fi
# ------------------------------------------------------------------------

echo "apps: $PASS passed, $FAIL failed"
((FAIL == 0))
