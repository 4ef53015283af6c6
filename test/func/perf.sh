#!/usr/bin/env bash
# perf.sh [BUILD_DIR] - vpio-perf as users run it, against emulated
# controllers (and a file through io_uring): every flag, the table, the
# progress line on a terminal, the --json schema, --verify on clean runs of
# every workload and on data damaged behind its back (zeroed, rolled back),
# I/O errors, and every kind of bad input: exit 2, one line naming it, the
# device's backing file unchanged and no --json file left.
# BUILD_DIR defaults to $VPIO_BUILD (set by test/run.sh), else build.
# Prints "perf: N passed, N failed"; exit 0 when all passed.
set -u
B=${1:-${VPIO_BUILD:-build}}
P=$B/bin/vpio-perf
PASS=0 FAIL=0 RC=0
T=$(mktemp -d /tmp/vpio-perf-test.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT

if [[ ! -x $P ]]; then
	echo "perf: $P is not built (ninja -C $B)"
	echo "perf: 0 passed, 1 failed"
	exit 1
fi

# run ARGS...: vpio-perf with a deadline; stdout in $T/out, stderr in
# $T/err, exit status in RC (124: it hung).
run() {
	timeout 60 "$P" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}
# t DESCRIPTION COMMAND...: one check; on failure the last run's output.
t() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   $what"
		PASS=$((PASS + 1))
	else
		echo "FAIL $what (last exit status $RC)"
		FAIL=$((FAIL + 1))
		sed 's/^/     | /' "$T/out" "$T/err" | head -n 30
	fi
}
rc_is() { [[ $RC == "$1" ]]; }
out_has() { grep -Eq -- "$1" "$T/out"; }
err_has() { grep -Eq -- "$1" "$T/err"; }
out_lacks() { ! grep -Eq -- "$1" "$T/out"; }
# IOPS of the Total row > 0
total_ok() { awk '$1 == "Total" && $2 > 0 { ok = 1 } END { exit !ok }' "$T/out"; }
# the last line on stderr is vpio-perf's, and names $1
last_err_names() { tail -n 1 "$T/err" | grep -Eq -- "^vpio-perf: .*$1"; }
py() { python3 - "$@"; }

CORES=$(nproc)
MASK=0x1
((CORES >= 2)) && MASK=0x3

# ------------------------------------------------------------ help, defaults
run --help
t "--help: usage and examples, exit 0" eval 'rc_is 0 && out_has "^usage: vpio-perf" && out_has "^examples:" && out_has "--verify"'

run -t 1
DEF=emu:nvme0/ns1
for d in /sys/bus/pci/drivers/vfio-pci/0000:*; do
	[[ -e $d/class && $(<"$d/class") == 0x010802 ]] && { DEF=${d##*/}; break; }
done
t "no -a: the default target ($DEF), 1 s, a table" eval 'rc_is 0 && out_has "^  $DEF.* \(default target\)" && out_has "^core 0 " && total_ok'
t "no progress line when stdout is not a terminal" out_lacks '\[ +[0-9.]+ s'
t "no -L: no percentile columns" eval 'out_has "avg us +min us +max us$"'

# ------------------------------------------------- every flag, and --json
J=$T/a.json
run -a 'emu:nvme?null=1' -a 'emu:nvme1?size=64M&lba=4096' -q 16 -o 8K -w randrw -M 70 -t 1 --warmup 1 \
	-c $MASK -P 2 -L --seed 42 --json "$J"
t "every flag at once: exit 0, a table with percentiles" eval 'rc_is 0 && total_ok && out_has "p50 us +p90 us +p99 us +p99.9 us +p99.99 us"'
t "the header says what runs" eval 'out_has "randrw \(70% reads\), 8192-byte I/Os, queue depth 16, 2 channels per target per core, .*after 1 s of warm-up, seed 42"'
t "rows per target, per core and a total" eval 'out_has "^emu:nvme0/ns1 " && out_has "^emu:nvme1/ns1 " && out_has "^core 0 " && out_has "^Total "'
cat >"$T/schema.py" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
argv = sys.argv[2:]
err = []
def need(cond, what):
    if not cond:
        err.append(what)
for k in ("schema", "vpio_version", "command_line", "exit_status", "machine", "config", "targets",
          "results", "samples", "verify", "failures"):
    need(k in d, "key " + k)
need(d["schema"] == "vpio-perf/1.2", "schema")
need(d["command_line"][1:] == argv, "command_line %r" % d["command_line"])
need(d["exit_status"] == 0, "exit_status")
m = d["machine"]
need(m["cpu_model"] != "" and m["kernel"].startswith("Linux ") and m["tsc_hz"] > 0, "machine %r" % m)
need("vfio" in m["iommu"] and "iova_mode" in m["iommu"], "iommu facts")
c = d["config"]
need(c["workload"] == "randrw" and c["read_percent"] == 70 and c["queue_depth"] == 16 and c["io_size"] == 8192,
     "config %r" % c)
need(c["seed"] == 42 and c["warmup_seconds"] == 1 and c["seconds"] == 1 and c["channels_per_target_per_core"] == 2,
     "config %r" % c)
need([t["block_size"] for t in d["targets"]] == [512, 4096], "targets")
need([t["io_api"] for t in d["targets"]] == ["nvme-batch", "nvme-batch"], "io_api (auto: NVMe batches)")
r = d["results"]
lat_keys = ("avg", "min", "max", "p50", "p90", "p99", "p99.9", "p99.99")
def res(x, name):
    for k in ("ios", "reads", "writes", "bytes_read", "bytes_written", "seconds", "iops", "mib_s", "errors"):
        need(k in x, name + " " + k)
    need(x["ios"] == x["reads"] + x["writes"], name + " ios")
    need(x["bytes_read"] == 8192 * x["reads"] and x["bytes_written"] == 8192 * x["writes"], name + " bytes")
    need(x["errors"] == 0, name + " errors")
    l = x["latency_us"]
    need(all(k in l for k in lat_keys), name + " latency keys")
    need(l["min"] <= l["p50"] <= l["p90"] <= l["p99"] <= l["p99.9"] <= l["p99.99"] <= l["max"], name + " percentiles %r" % l)
    need(l["min"] <= l["avg"] <= l["max"], name + " avg")
    if x["ios"] > 0:
        need(abs(x["iops"] - x["ios"] / x["seconds"]) <= 0.05 * x["iops"] + 1, name + " iops %r" % x)
res(r["total"], "total")
need(r["total"]["ios"] > 0, "total ios")
need(0.6 <= r["total"]["reads"] / r["total"]["ios"] <= 0.8, "read share %r" % r["total"])
need(len(r["targets"]) == 2 and sum(x["ios"] for x in r["targets"]) == r["total"]["ios"], "per target")
need(sum(x["ios"] for x in r["cores"]) == r["total"]["ios"], "per core")
need(sum(x["ios"] for x in r["target_cores"]) == r["total"]["ios"], "per target and core")
for x in r["targets"] + r["cores"] + r["target_cores"]:
    res(x, "part")
for x in r["cores"]:
    need(x["busy_ticks"] + x["idle_ticks"] > 0 and x["loops"] > 0 and x["busy_ticks_per_io"] > 0, "core ticks %r" % x)
s = d["samples"]
need(len(s) >= 2, "2 per-second samples (1 s warm-up + 1 s)")
need(s and s[0]["warmup"] and not s[-1]["warmup"], "warm-up sample flags")
need(all(abs(x["iops"] - x["read_iops"] - x["write_iops"]) < 1 and x["t"] > 0 for x in s), "samples")
need(d["verify"]["enabled"] is False and d["failures"]["io_errors"] == 0, "verify/failures")
if err:
    print("schema: " + "; ".join(err))
    sys.exit(1)
EOF
t "--json: every section, numbers that add up" py "$T/schema.py" "$J" -a 'emu:nvme?null=1' -a 'emu:nvme1?size=64M&lba=4096' \
	-q 16 -o 8K -w randrw -M 70 -t 1 --warmup 1 -c $MASK -P 2 -L --seed 42 --json "$J"
if ((CORES >= 2)); then
	t "-c 0x3: a worker on core 1 too" eval 'out_has "^core 1 "'
fi
# scripts/perf-plot.py draws it (with Debian's python3-matplotlib)
PLOT=$(dirname "$0")/../../scripts/perf-plot.py
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
	cp "$J" "$T/b.json"
	/usr/bin/python3 "$PLOT" -o "$T/p.png" "$J" "$T/b.json" >"$T/out" 2>"$T/err"
	RC=$?
	t "perf-plot.py: two runs into one PNG" eval 'rc_is 0 && [[ $(head -c 4 "$T/p.png" | od -An -c | tr -d " ") == "211PNG" ]]'
	echo '{"x": 1}' >"$T/not.json"
	/usr/bin/python3 "$PLOT" -o "$T/q.png" "$T/not.json" >"$T/out" 2>"$T/err"
	RC=$?
	t "perf-plot.py: a file that is no vpio-perf report: exit 2, named" eval 'rc_is 2 && err_has "not.json: not a vpio-perf --json report" && [[ ! -e $T/q.png ]]'
else
	echo "skip perf-plot.py: python3-matplotlib is missing (scripts/pkgdep.sh installs it)"
fi

# sequential workloads: only reads or only writes
run -a 'emu:nvme?size=16M' -w write -o 64K -q 4 -t 0.5 --json "$J"
t "-w write -o 64K: writes only" py -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]["total"]; sys.exit(not (r["reads"] == 0 and r["writes"] > 0 and r["bytes_written"] == 65536 * r["writes"]))' "$J"
run -a 'emu:nvme?size=16M' -w read -q 1 -t 0.5 --json "$J"
t "-w read -q 1: reads only" py -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]["total"]; sys.exit(not (r["writes"] == 0 and r["reads"] > 0))' "$J"

# a file through io_uring
truncate -s 8M "$T/u.img"
run -a "uring:$T/u.img" -w randrw -q 8 -t 0.5 --verify
t "uring:FILE --verify: exit 0" eval 'rc_is 0 && total_ok && out_has "^uring:.*u.img " && out_has ", 0 mismatched"'
t "uring:FILE: I/O through lib/blk" out_has "I/O through lib/blk"

# --io-api: NVMe targets through lib/nvme batches by default, lib/blk on
# request, both verified; an I/O larger than one command falls back
run -a 'emu:nvme?size=16M' -w randrw -q 16 -t 0.5 --verify
t "emu:nvme, auto: lib/nvme batches, verified" eval 'rc_is 0 && total_ok && out_has "I/O through lib/nvme batches" && out_has ", 0 mismatched"'
run -a 'emu:nvme?size=16M' -w randrw -q 16 -t 0.5 --verify --io-api blk
t "--io-api blk: lib/blk, verified" eval 'rc_is 0 && total_ok && out_has "I/O through lib/blk" && out_has ", 0 mismatched"'
run -a 'emu:nvme?size=16M' -w randrw -o 1M -q 2 -t 0.5 --verify
t "auto, -o 1M (more than one command): lib/blk, verified" eval 'rc_is 0 && total_ok && out_has "I/O through lib/blk" && out_has ", 0 mismatched"'

# -------------------------------------------------------------- --verify
F=$T/v.img
# Reads are checked once their slot was written in this run: a mix that
# made three laps' worth of I/Os over the 128 slots must have checked some
# (a machine too slow for that is said so, not failed).
lapped() {
	py -c 'import json,sys
d = json.load(open(sys.argv[1])); ios = d["results"]["total"]["ios"]; slots = d["targets"][0]["slots_used"]
if ios < 3 * slots: print("     (only %d I/Os over %d slots: not enough to require checked blocks)" % (ios, slots))
sys.exit(0 if ios < 3 * slots or d["verify"]["blocks_checked"] > 0 else 1)' "$J"
}
for w in read write randread randwrite rw randrw; do
	run -a "emu:nvme?backing=$F&size=512K" -w $w -q 8 -t 0.5 --verify --seed 7 --json "$J"
	t "--verify -w $w on a clean target: exit 0, no mismatch" eval 'rc_is 0 && out_has "^verify: .*, 0 mismatched$"'
	if [[ $w == rw || $w == randrw ]]; then
		t "--verify -w $w: blocks were checked" lapped
	fi
done
# Blocks the previous runs wrote (seed 7) are not this run's: not checked.
run -a "emu:nvme?backing=$F&size=512K" -w randread -q 8 -t 0.5 --verify --seed 8
t "--verify: blocks never written in this run are not mismatches" eval \
	'rc_is 0 && out_has "^verify: 0 blocks read and checked, [1-9][0-9]* read that this run had not written"'

# damage: a --verify randrw run of 3 s on $F, a 64 KiB target (16 slots,
# 128 blocks); once every block carries a signature (waited for up to
# 10 s), $DAMAGE runs behind vpio-perf's back.
damage() {
	local pid i
	rm -f "$F"
	timeout 60 "$P" -a "emu:nvme?backing=$F&size=64K" -w randrw -q 2 -t 3 --verify --seed 7 --json "$J" \
		>"$T/out" 2>"$T/err" &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		(($(grep -ao vpioperf "$F" 2>/dev/null | wc -l) >= 128)) && break
		sleep 0.1
	done
	eval "$DAMAGE"
	wait $pid
	RC=$?
}
mismatch_lines() { grep -E '^vpio-perf: verify mismatch on emu:nvme0/ns1: LBA [0-9]+: expected lba' "$T/err"; }
once_each() { [[ -z $(mismatch_lines | sed -E 's/.*: LBA ([0-9]+):.*/\1/' | sort | uniq -d) ]]; }
DAMAGE='dd if=/dev/zero of="$F" bs=64K count=1 conv=notrunc status=none'
damage
t "--verify: blocks zeroed behind its back: exit 1" rc_is 1
t "--verify: each zeroed block named once with what was expected" eval \
	'mismatch_lines | grep -Eq "LBA ([0-9]+): expected lba \1 gen [0-9]+ seed 7, got no vpio-perf signature" && once_each'
t "--verify: the mismatches are in --json" py -c 'import json,sys; v=json.load(open(sys.argv[1]))
sys.exit(not (v["exit_status"] == 1 and v["verify"]["mismatches"] > 0 and v["verify"]["mismatch_list"][0]["got"]["signature"] is False))' "$J"
DAMAGE='cp "$F" "$T/old.img"; sleep 0.5; dd if="$T/old.img" of="$F" conv=notrunc status=none'
damage
t "--verify: blocks rolled back to older writes: exit 1" rc_is 1
t "--verify: a stale block shows its old generation" eval \
	'mismatch_lines | grep -Eq "expected lba ([0-9]+) gen ([0-9]+) seed 7, got lba \1 gen [0-9]+ seed 7" && once_each'

# A controller that keeps no data (null mode) completes reads without moving
# any: every block this run wrote and read back is a mismatch (unless the
# machine was too slow to read back anything: said so, not failed).
run -a 'emu:nvme?null=1&size=64K' -w randrw -q 4 -t 1 --verify --json "$J"
nodata() {
	[[ -s $J ]] || return 1
	py -c 'import json,sys
v = json.load(open(sys.argv[1]))["verify"]; rc = int(sys.argv[2])
if v["blocks_checked"] == 0 and v["blocks_not_written_in_run"] < 3 * 128:
    print("     (too few reads to see one of a written block)"); sys.exit(0)
sys.exit(0 if rc == 1 and v["mismatches"] == v["blocks_checked"] > 0 else 1)' "$J" "$RC"
}
t "--verify on a controller that keeps no data: exit 1, every checked block a mismatch" eval \
	'nodata && { rc_is 1 || out_has "^verify: 0 blocks read and checked"; }'

# --------------------------------------------------------- --verify-only
# Data written by one vpio-perf process is read back and checked by
# another, through the other path: NVMe (the emulated controller on a
# backing file) <-> the same file through io_uring.  WARGS/RARGS are the
# arguments test/vm/guest-test.sh gives on a real controller through
# VFIO and on its block device through the kernel (with --seed added).
WARGS="-w write -o 64K -q 4 -t 30 --range 16M:8M --one-pass --verify"
RARGS="-w read -o 64K -q 4 -t 60 --range 16M:8M --verify-only --verify-min all"
X=$T/x.img
# vjson KEY=VALUE...: the --json report's verify (v), targets[0] (t) and
# verify.targets[0] (vt) match, e.g. vjson 'v["blocks_checked"] == 16384'
vjson() {
	py -c 'import json,sys
d = json.load(open(sys.argv[1])); v = d["verify"]; t = d["targets"][0]; vt = v["targets"][0]
bad = [c for c in sys.argv[2:] if not eval(c)]
if bad: print("     json: not " + "; ".join(bad) + " in " + json.dumps(v)[:400])
sys.exit(1 if bad else 0)' "$J" "$@"
}
# shape NAME NVME URING BLOCKS: one target shape, the NVMe and io_uring
# addresses of the same file, BLOCKS = blocks in 8 MiB.
shape() {
	local name=$1 nv=$2 ur=$3 n=$4
	rm -f "$X"
	# shellcheck disable=SC2086  # word lists on purpose
	{
		run -a "$nv" $WARGS --seed 11 --json "$J"
		t "$name: NVMe writes 16M:8M once, signed: exit 0, the whole pass" eval \
			'rc_is 0 && out_has "^one pass: emu:nvme0/ns1: $n of the range.s $n blocks written$" && vjson "t[\"pass_blocks\"] == $n"'
		run -a "$ur" $RARGS --seed 11 --json "$J"
		t "$name: io_uring reads it back: exit 0, all $n blocks checked" eval \
			'rc_is 0 && vjson "v[\"blocks_checked\"] == $n" "v[\"mismatches\"] == 0" "t[\"pass_blocks\"] == $n" "v[\"min_met\"]" "v[\"mode\"] == \"verify_only\"" "d[\"results\"][\"total\"][\"writes\"] == 0"'
		run -a "$ur" ${WARGS/16M:8M/0:8M} -o 8K -q 8 --seed 12
		t "$name: io_uring writes 0:8M once, signed: exit 0" rc_is 0
		run -a "$nv" ${RARGS/16M:8M/0:8M} --seed 12 --json "$J"
		t "$name: NVMe reads that back: exit 0, all $n blocks checked" eval \
			'rc_is 0 && vjson "v[\"blocks_checked\"] == $n" "v[\"mismatches\"] == 0"'
		# the whole target: seed 12's blocks checked, seed 11's counted
		# apart, the rest has no signature; no minimum, nothing wrong
		run -a "$nv" -w read -o 64K -q 4 -t 60 --verify-only --seed 12 --json "$J"
		t "$name: the whole target: $n checked, $n another seed's, $((2 * n)) without a signature, exit 0" eval \
			'rc_is 0 && vjson "v[\"blocks_checked\"] == $n" "v[\"blocks_other_seed\"] == $n" "v[\"blocks_unsigned\"] == 2 * $n" "v[\"blocks_not_written_in_run\"] == 3 * $n" "v[\"mismatches\"] == 0" "t[\"pass_blocks\"] == 4 * $n"'
		run -a "$ur" -w randread -o 4K -q 8 -t 0.5 --range 16M:8M --verify-only --seed 11 --verify-min 8 --json "$J"
		t "$name: randread --verify-only: exit 0, blocks checked" eval \
			'rc_is 0 && vjson "v[\"blocks_checked\"] >= 8" "v[\"blocks_unsigned\"] == 0" "t[\"pass_blocks\"] is None"'
		run -a "$nv" $RARGS --seed 13 --json "$J"
		t "$name: another seed: nothing checked, --verify-min all not met: exit 1" eval \
			'rc_is 1 && err_has "emu:nvme0/ns1: --verify-min all not met: 0 blocks checked" && vjson "v[\"blocks_checked\"] == 0" "v[\"blocks_other_seed\"] == $n" "not v[\"min_met\"]"'
		run -a "$nv" ${RARGS/all/1} --seed 13
		t "$name: another seed, --verify-min 1: exit 1" eval 'rc_is 1 && last_err_names "--verify-min 1 not met: 0 blocks checked, 0 without a signature, $n signed with another seed than 13"'
	}
}
shape "512-byte blocks" "emu:nvme?backing=$X&size=32M" "uring:$X?bs=512" 16384
shape "4096-byte blocks, 8 KiB per command" "emu:nvme?backing=$X&size=32M&lba=4096&mdts=1&queues=2" "uring:$X" 2048

# A controller that keeps nothing: reads move no data, nothing is signed.
# shellcheck disable=SC2086
run -a 'emu:nvme?null=1&size=32M' $RARGS --seed 11
t "--verify-only on a controller that keeps no data: exit 1, nothing checked" eval \
	'rc_is 1 && err_has "--verify-min all not met: 0 blocks checked, 16384 without a signature"'

# Damage behind its back between the writing and the checking run, on the
# 512-byte shape; each case starts from a freshly written range.
NV="emu:nvme?backing=$X&size=32M"
UR="uring:$X?bs=512"
# damaged WHAT CMD...: write 16M:8M (seed 11), run CMD on the file, check
# with $CHECK_ARGS through io_uring.
damaged() {
	local what=$1
	shift
	rm -f "$X"
	# shellcheck disable=SC2086
	timeout 60 "$P" -a "$NV" $WARGS --seed 11 >"$T/out" 2>"$T/err" || { RC=98 && echo "     (the write failed)" && return; }
	"$@" || { RC=99 && echo "     (the damage failed: $*)" && return; }
	# shellcheck disable=SC2086
	run -a "$UR" $CHECK_ARGS --seed 11 --json "$J"
}
vo_lines() { grep -E '^vpio-perf: verify mismatch on uring:.*: LBA [0-9]+: expected lba' "$T/err"; }
vo_once() { [[ -z $(vo_lines | sed -E 's/.*: LBA ([0-9]+):.*/\1/' | sort | uniq -d) ]]; }
L0=$((16 << 11)) # the first LBA of 16M
CHECK_ARGS="-w read -o 64K -q 4 -t 60 --range 16M:8M --verify-only"
# bytes 100..299 of LBA L0+5 (the body, the header kept) overwritten
damaged "body" dd if=/dev/urandom of="$X" bs=1 seek=$(((L0 + 5) * 512 + 100)) count=200 conv=notrunc status=none
t "--verify-only: a block's body overwritten: exit 1, named once, first bad byte" eval \
	'rc_is 1 && [[ $(vo_lines | wc -l) == 1 ]] && vo_lines | grep -q "LBA $((L0 + 5)): expected lba $((L0 + 5)) gen 1 seed 11, got lba $((L0 + 5)) gen 1 seed 11 (first difference at byte 96)" && vjson "v[\"mismatches\"] == 1" "v[\"blocks_checked\"] == 16384"'
# LBA L0+9's block copied onto L0+3000
damaged "moved" dd if="$X" of="$X" bs=512 skip=$((L0 + 9)) seek=$((L0 + 3000)) count=1 conv=notrunc status=none
t "--verify-only: a block copied to another LBA: exit 1, its LBA and where it came from" eval \
	'rc_is 1 && [[ $(vo_lines | wc -l) == 1 ]] && vo_lines | grep -q "LBA $((L0 + 3000)): expected lba $((L0 + 3000)) gen 1 seed 11, got lba $((L0 + 9)) gen 1 seed 11 (first difference at byte 8)"'
# 8 blocks zeroed: no signature, so not checked ...
zero8() { dd if=/dev/zero of="$X" bs=512 seek=$((L0 + 64)) count=8 conv=notrunc status=none; }
damaged "zeroed" zero8
t "--verify-only without a minimum: zeroed blocks are counted as not written, exit 0" eval \
	'rc_is 0 && vjson "v[\"blocks_unsigned\"] == 8" "v[\"blocks_checked\"] == 16384 - 8" "v[\"mismatches\"] == 0"'
# ... but a minimum of all blocks fails, and 'all' names each one
CHECK_ARGS="-w read -o 64K -q 4 -t 60 --range 16M:8M --verify-only --verify-min 16384"
damaged "zeroed" zero8
t "--verify-only --verify-min 16384: 8 zeroed blocks: exit 1, 16376 checked" eval \
	'rc_is 1 && last_err_names "--verify-min 16384 not met: 16376 blocks checked, 8 without a signature"'
CHECK_ARGS=$RARGS
damaged "zeroed" zero8
t "--verify-only --verify-min all: 8 zeroed blocks: exit 1, each a mismatch, named once" eval \
	'rc_is 1 && [[ $(vo_lines | wc -l) == 8 ]] && vo_once && vo_lines | grep -q "LBA $((L0 + 64)): expected lba $((L0 + 64)) gen any seed 11, got no vpio-perf signature" && vjson "v[\"mismatches\"] == 8" "v[\"blocks_unsigned\"] == 8"'
# the same range written with another seed in between: foreign blocks
damaged "rewritten" timeout 60 "$P" -a "$NV" ${WARGS/16M:8M/20M:64K} -o 8K --seed 99 >/dev/null
t "--verify-only --verify-min all: blocks rewritten with another seed: exit 1, each a mismatch" eval \
	'rc_is 1 && vjson "v[\"mismatches\"] == 128" "v[\"blocks_other_seed\"] == 128" && vo_lines | grep -q "expected lba $((20 << 11)) gen any seed 11, got lba $((20 << 11)) gen 1 seed 99 (first difference at byte 24)"'
# -t too short for the pass
run -a "$UR" ${RARGS/-t 60/-t 0.01} -q 1 -o 512 --seed 11
t "--verify-only --verify-min all: -t ends the pass first: exit 1, said so" eval \
	'rc_is 1 && err_has "of the range.s 16384 blocks read before -t ended \(raise -t\)"'
run -a "$NV" ${WARGS/-t 30/-t 0.01} -q 1 -o 512 --seed 11
t "--one-pass: -t ends the pass first: exit 1, said so" eval \
	'rc_is 1 && last_err_names "--one-pass not finished: [0-9]+ of the range.s 16384 blocks written when the run ended \(raise -t\)"'

# ------------------------------------------------------------ I/O errors
# The emulator's writes to its backing file fail.  As root: the file lies on
# a 256 KiB tmpfs in a private mount namespace (ENOSPC once it is full).
# Otherwise: beyond a file size limit (RLIMIT_FSIZE), which works only while
# DPDK makes no hugepage files (with free hugepages its own files hit the
# limit first and it cannot start).
if [[ $(id -u) == 0 ]] && command -v unshare >/dev/null; then
	mkdir -p "$T/small"
	RC=$(
		unshare -m sh -c 'mount -t tmpfs -o size=256k vpio-perf-test "$1" && truncate -s 1M "$1/e.img" &&
			exec timeout 60 "$2" -a "emu:nvme?backing=$1/e.img&size=1M" -w randwrite -q 4 -t 0.5' \
			sh "$T/small" "$P" >"$T/out" 2>"$T/err"
		echo $?
	)
else
	rm -f "$T/e.img"
	truncate -s 1M "$T/e.img"
	RC=$(
		trap '' XFSZ
		ulimit -f 256
		timeout 60 "$P" -a "emu:nvme?backing=$T/e.img&size=1M" -w randwrite -q 4 -t 0.5 >"$T/out" 2>"$T/err"
		echo $?
	)
fi
t "I/O errors during the run: exit 1, counted and named" eval 'rc_is 1 && err_has "^vpio-perf: emu:nvme0/ns1, core 0: [0-9]+ I/O errors? \(the first: "'

# -------------------------------------------------------------- bad input
# bad EXPECTED-WORDS ARGS...: exit 2, vpio-perf's last line names it, the
# backing file $G is unchanged and no --json file is left.
G=$T/g.img
head -c 4M /dev/urandom >"$G"
SUM=$(md5sum <"$G")
bad() {
	local words=$1
	shift
	rm -f "$T/bad.json"
	run "$@" --json "$T/bad.json"
	t "bad input $*: exit 2, '$words', nothing written" eval \
		'rc_is 2 && last_err_names "$words" && [[ $(md5sum <"$G") == "$SUM" && ! -e $T/bad.json ]]'
}
E="emu:nvme?backing=$G&size=4M"
bad "unknown option '-x'" -a "$E" -w write -x
bad "unknown option '--bogus'" -a "$E" -w write --bogus
bad "unexpected argument 'stray'" -a "$E" -w write stray
bad "-q '0'" -a "$E" -w write -q 0
bad "-q '-1'" -a "$E" -w write -q -1
bad "-q 2000: .* holds at most 1023" -a "$E" -w write -q 2000
bad "-o '1000'" -a "$E" -w write -o 1000
bad "-o 512: not a multiple of the block size" -a "emu:nvme?backing=$G&size=4M&lba=4096" -w write -o 512
bad "-o 8388608: .*takes at most|-o 8388608: larger than" -a "$E" -w write -o 8M
bad "-o '4Q'" -a "$E" -w write -o 4Q
bad "-w 'bogus'" -a "$E" -w bogus
bad "-M '101'" -a "$E" -w randrw -M 101
bad "-M 50: .*not -w write" -a "$E" -w write -M 50
bad "-t '0'" -a "$E" -w write -t 0
bad "-t '-1'" -a "$E" -w write -t -1
bad "-t 'abc'" -a "$E" -w write -t abc
bad "--warmup '-1'" -a "$E" -w write --warmup -1
bad "-c '0x0'" -a "$E" -w write -c 0x0
bad "-c '0x$(printf %x $((1 << CORES)))': core $CORES does not exist" -a "$E" -w write -c 0x$(printf %x $((1 << CORES)))
bad "-P '0'" -a "$E" -w write -P 0
bad "fewer queues; lower -P" -a "emu:nvme?backing=$G&size=4M&queues=2" -w write -P 3
bad "--verify: .* has 256 slots .* needs more than -q 600" -a "emu:nvme?backing=$G&size=1M" -w write --verify -q 600
bad "-a '0000:ff:1f.7': cannot open" -a 0000:ff:1f.7 -a "$E" -w write
bad "-a 'emu:bogus': cannot open" -a "$E" -a emu:bogus -w write
bad "-a 'uring:/nonexistent/f': cannot open" -a "$E" -a uring:/nonexistent/f -w write
bad "-a 'uring:$T': cannot open" -a "$E" -a "uring:$T" -w write
bad "--verify-only needs --seed" -a "$E" -w read --verify-only
bad "--verify-only -w write: .*never writes" -a "$E" -w write --verify-only --seed 1
bad "--verify-only -w randwrite: .*never writes" -a "$E" -w randwrite --verify-only --seed 1
bad "--verify-only -w rw: .*never writes" -a "$E" -w rw --verify-only --seed 1
bad "--verify and --verify-only exclude each other" -a "$E" -w read --verify --verify-only --seed 1
bad "--verify-min all: only with --verify-only" -a "$E" -w write --verify --verify-min all
bad "--verify-min: counts checked blocks" -a "$E" -w write --verify-min 5
bad "--one-pass: for the sequential workloads" -a "$E" -w randwrite --one-pass
bad "--range 3145728:2097152: beyond the end" -a "$E" -w write --range 3M:2M
bad "--range START 4194304: at or beyond the end" -a "$E" -w write --range 4M:
bad "--range START 512: not a multiple of the block size" -a "emu:nvme?backing=$G&size=4M&lba=4096" -w write --range 512:1M
bad "--range '1M'" -a "$E" -w write --range 1M
bad "--io-api 'fast': give auto, blk or nvme-batch" -a "$E" -w write --io-api fast
bad "--io-api: for NVMe targets; -w h2c runs on an XDMA card" -a emu:xdma -w h2c --io-api blk
bad "--io-api nvme-batch: -o 1048576 is more than one command" -a "$E" -w write -o 1M -q 2 --io-api nvme-batch
bad "--io-api nvme-batch: .* is a uring target" -a "uring:$T/u.img" -w write --io-api nvme-batch
head -c 5000 /dev/zero >"$T/odd.img"
bad "-a 'uring:$T/odd.img': cannot open" -a "$E" -a "uring:$T/odd.img" -w write
rm -f "$T/bad.json"
run -a "$E" -w write --json /nonexistent/dir/x.json
t "bad input --json /nonexistent/dir/x.json: exit 2, nothing written" eval \
	'rc_is 2 && last_err_names "--json .*/nonexistent/dir/x.json.: cannot write it" && [[ $(md5sum <"$G") == "$SUM" ]]'

# ------------------------------------------------------- signals, terminal
timeout 60 "$P" -a 'emu:nvme?null=1' -t 30 >"$T/out" 2>"$T/err" &
pid=$!
sleep 1.5
kill -INT $pid
SECONDS=0
wait $pid
RC=$?
t "SIGINT ends a 30 s run early with its table, exit 0" eval 'rc_is 0 && total_ok && ((SECONDS < 10))'

if command -v script >/dev/null 2>&1; then
	script -qec "$P -a 'emu:nvme?null=1' -t 2.5" /dev/null >"$T/out" 2>&1
	RC=$?
	t "on a terminal: a progress line every second (elapsed, IOPS, MiB/s)" eval \
		'rc_is 0 && grep -aEq "\[ +1\.[0-9] s\] +[0-9]+ IOPS +[0-9.]+ MiB/s" "$T/out" && grep -aEq "\[ +2\.[0-9] s\]" "$T/out"'
else
	echo "skip progress line on a terminal: 'script' (bsdutils) is missing"
fi

# ====================================================== XDMA cards (emu:xdma)
# -w h2c|c2h|loopback on an emulated XDMA card through lib/xdma: the table
# with transfers/s and GiB/s, --json (backend xdma, gib_s, bytes both
# ways), --verify of the read back catching one byte that card memory
# flips (emu:xdma?corrupt=N), a channel pair per core, bad input.
XJ=$T/x.json
# Total row: column 4 is GiB/s
gib_ok() { awk '$1 == "Total" && $4 > 0 { ok = 1 } END { exit !ok }' "$T/out"; }
run -a emu:xdma -w loopback -o 1M -q 4 -t 2 --verify --json "$XJ"
t "xdma loopback -o 1M -q 4 --verify: exit 0, a Total row with GiB/s" eval \
	'rc_is 0 && total_ok && out_has "transfers/s +MiB/s +GiB/s" && gib_ok'
t "xdma loopback: the header says transfers and a channel pair per core" eval \
	'out_has "^vpio-perf: loopback, 1048576-byte transfers, queue depth 4, one channel pair per core" && out_has "^  emu:xdma: xdma, "'
cat >"$T/xjson.py" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
t = d["results"]["total"]
assert d["exit_status"] == 0, d["exit_status"]
assert d["targets"][0]["backend"] == "xdma", d["targets"][0]
assert d["config"]["workload"] == "loopback"
assert t["gib_s"] > 0 and abs(t["gib_s"] * 1024 - t["mib_s"]) < 0.01 * t["mib_s"] + 0.01, t
assert t["transfers_s"] == t["iops"] and t["errors"] == 0
assert t["bytes_written"] > 0 and t["bytes_read"] > 0
# each write is read back (the last ones may be cut off by -t)
assert 0 <= t["writes"] - t["reads"] <= 4, t
assert t["bytes_read"] == t["reads"] * 1048576 and t["bytes_written"] == t["writes"] * 1048576, t
v = d["verify"]
assert v["mismatches"] == 0 and v["blocks_checked"] >= t["reads"] * 2048, v
PYEOF
t "xdma loopback --json: backend xdma, GiB/s > 0, bytes both ways, every read back checked" python3 "$T/xjson.py" "$XJ"
# one_way FIELD-THAT-IS-ZERO: the other direction has transfers, GiB/s > 0
one_way() {
	python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["results"]["total"]
other = "reads" if sys.argv[2] == "writes" else "writes"
assert t[sys.argv[2]] == 0 and t[other] > 0 and t["gib_s"] > 0, t' "$XJ" "$1"
}
run -a emu:xdma -w h2c -o 64K -q 8 -t 1 --json "$XJ"
t "xdma h2c: exit 0, only writes (host to card)" eval 'rc_is 0 && total_ok && gib_ok && one_way reads'
run -a emu:xdma -w c2h -o 64K -q 8 -t 1 --json "$XJ"
t "xdma c2h: exit 0, only reads (card to host)" eval 'rc_is 0 && total_ok && gib_ok && one_way writes'
if ((CORES >= 2)); then
	run -a 'emu:xdma?h2c=2&c2h=2' -w loopback -o 256K -q 4 -t 1 -c 0x3 --verify
	t "xdma loopback on 2 cores: a channel pair each, rows per core, no mismatch" eval \
		'rc_is 0 && total_ok && out_has "^core 0 " && out_has "^core 1 " && out_has " 0 mismatched$"'
	run -a emu:xdma -w loopback -t 1 -c 0x3
	t "xdma: 2 cores on a card with 1 channel pair: exit 2, the line says why" eval \
		'rc_is 2 && last_err_names "2 cores need 2 H2C channels on emu:xdma, which has 1"'
fi
run -a 'emu:xdma?corrupt=40' -w loopback -o 64K -q 4 -t 1 --verify --json "$XJ"
t "xdma --verify: a byte of card memory flipped under a read back: exit 1, one mismatch with its card offset" eval \
	'rc_is 1 && [[ $(grep -c "^vpio-perf: verify mismatch on emu:xdma at card offset 0x[0-9a-f]*: LBA" "$T/err") == 1 ]] && out_has " 1 mismatched$"'
cat >"$T/xmm.py" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
m = d["verify"]["mismatch_list"]
assert d["exit_status"] == 1 and len(m) == 1, (d["exit_status"], m)
assert m[0]["card_offset"] == m[0]["lba"] * 512 and m[0]["card_offset"] % 65536 == 0, m
PYEOF
t "xdma --verify mismatch in --json: card_offset, exit_status 1" python3 "$T/xmm.py" "$XJ"
run -a 'emu:xdma?corrupt=40' -w loopback -o 64K -q 4 -t 1
t "xdma: without --verify the same flipped byte passes (exit 0): the failure above is --verify's" eval 'rc_is 0 && total_ok'
if command -v script >/dev/null 2>&1; then
	script -qec "$P -a emu:xdma -w h2c -o 256K -q 8 -t 1.5" /dev/null >"$T/out" 2>&1
	RC=$?
	t "xdma on a terminal: the progress line has transfers/s, MiB/s and GiB/s" eval \
		'rc_is 0 && grep -aEq "\[ +1\.[0-9] s\] +[0-9]+ transfers/s +[0-9.]+ MiB/s +[0-9.]+ GiB/s" "$T/out"'
fi
# xbad EXPECTED-WORDS ARGS...: exit 2, vpio-perf's last line names it, no --json file
xbad() {
	local words=$1
	shift
	rm -f "$T/bad.json"
	run "$@" --json "$T/bad.json"
	t "xdma bad input $*: exit 2, '$words'" eval 'rc_is 2 && last_err_names "$words" && [[ ! -e $T/bad.json ]]'
}
xbad "-o '0'" -a emu:xdma -w loopback -o 0
xbad "-o 1048576: larger than the card memory of emu:xdma \(65536 bytes\)" -a 'emu:xdma?mem=64K' -w h2c -o 1M
# (a card's granularity and alignment above 512 bytes would be named too;
# the emulator's go up to 128)
xbad "-o '1000': the I/O size must be a multiple of 512 bytes" -a emu:xdma -w h2c -o 1000
xbad "-w read: -a 'emu:xdma' is an XDMA card; it takes -w h2c, c2h or loopback" -a emu:xdma -w read
xbad "-w randwrite: -a 'emu:xdma' is an XDMA card" -a emu:xdma -w randwrite
xbad "-w loopback: for XDMA cards" -a 'emu:nvme?null=1' -w loopback
xbad "-w h2c: for XDMA cards" -a 'emu:nvme?null=1' -w h2c
xbad "an XDMA card and a block target cannot run together" -a emu:xdma -a 'emu:nvme?null=1' -w h2c
xbad "--verify -w c2h: an XDMA run checks what it reads back with -w loopback only" -a emu:xdma -w c2h --verify
xbad "-w loopback: --verify-only, --one-pass, --range and -P are for block targets" -a emu:xdma -w loopback -P 2
xbad "-w h2c: --verify-only, --one-pass, --range and -P are for block targets" -a emu:xdma -w h2c --range 0:1M
xbad "AXI4-Stream engine" -a 'emu:xdma?stream=1' -w loopback
xbad "-a 'emu:xdma.bogus=1': cannot attach" -a 'emu:xdma?bogus=1' -w loopback
xbad "-w 'pingpong': the workload is one of .* h2c, c2h, loopback" -a emu:xdma -w pingpong

echo "perf: $PASS passed, $FAIL failed"
((FAIL == 0))
