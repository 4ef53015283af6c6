#!/usr/bin/env bash
# The library graph (doc/architecture.md, "The dependency rule"): ./configure
# accepts the real tree, and on a scratch copy refuses each planted breach
# with one line naming the file, the include and the fix, without writing
# build.ninja: another library's internal header, a header of an
# undeclared library, a cycle, an app using a lib/ header, a library
# without a deps line.  Also: a new fragment in mk/ re-runs configure from
# ninja, and a removed one does not stop ninja.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
T=$(mktemp -d /tmp/vpio-libgraph.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

copy() { # a fresh scratch copy of the sources in $T/src
	rm -rf "$T/src" "$T/build"
	mkdir -p "$T/src"
	cp -r "$ROOT/configure" "$ROOT/mk" "$ROOT/lib" "$ROOT/include" "$ROOT/app" "$ROOT/test" "$T/src/"
}
conf() { (cd "$T/src" && ./configure --build-dir="$T/build" 2>&1); }

# refused WHAT EXPECTED-TEXT...: configure fails, says every text on one
# "configure: error:" line, and leaves no build.ninja behind
refused() {
	local what=$1 out rc line t
	shift
	out=$(conf)
	rc=$?
	if ((rc == 0)); then
		fail "$what: configure accepted it"
		return
	fi
	[[ -e $T/build/build.ninja ]] && fail "$what: configure wrote build.ninja before refusing"
	line=$(grep -F "configure: error: " <<<"$out" | grep -F "$1" | head -n 1)
	for t in "$@"; do
		[[ $line == *"$t"* ]] || { fail "$what: no error line with '$t'; configure said: $out"; return; }
	done
	echo "ok: $what: $line"
}

# 1. the real tree passes
copy
out=$(conf) || fail "configure refuses the real tree: $out"
[[ -f $T/build/build.ninja ]] || fail "the real tree: no build.ninja"
echo "ok: the real tree passes the graph check"

# 2. a library including another's internal header (vfio joining the DMA
# registry through env_internal.h, as it once did)
copy
echo '#include "env/env_internal.h"' >>"$T/src/lib/vfio/container.c"
refused "internal header" "lib/vfio/container.c" '"env/env_internal.h"' "internal header of lib/env" "dma_target.h"

# 3. a header of a library the fragment does not declare (xdma asking the
# emulator for the card size, as it once did)
copy
echo '#include <vpio/emu.h>' >>"$T/src/lib/xdma/xdma_dev.c"
refused "undeclared library" "lib/xdma/xdma_dev.c" "<vpio/emu.h>" "mk/xdma.mk does not declare it" "add emu to its deps line"

# 4. a cycle (pci and emu using each other, as they once did)
copy
sed -i 's/^deps util vfio$/deps util vfio emu/' "$T/src/mk/pci.mk"
grep -qx 'deps util vfio emu' "$T/src/mk/pci.mk" || fail "could not plant the cycle: mk/pci.mk changed its deps line"
refused "cycle" "cycle" "pci" "emu" "mk/pci.mk" "mk/emu.mk"

# 5. an app using util's internal header (as vpio-perf once did)
copy
echo '#include "util/util.h"' >>"$T/src/app/perf/options.c"
refused "app using lib/" "app/perf/options.c" '"util/util.h"' "public headers"

# 6. a library without a deps line
copy
sed -i '/^deps/d' "$T/src/mk/pci.mk"
refused "no deps line" "mk/pci.mk: no deps line" "deps\" alone for none"

# 7. a new fragment re-runs configure from ninja; removing it does not
# stop ninja either
copy
conf >/dev/null || fail "configure refuses the real tree (regeneration)"
sleep 1 # a new mtime for the mk folder
mkdir -p "$T/src/test/bench/zz"
printf 'int main(void)\n{\n\treturn 0;\n}\n' >"$T/src/test/bench/zz/zz_probe.c"
printf '# a probe\ndeps\nbench zz_probe\nsrc test/bench/zz/zz_probe.c\n' >"$T/src/mk/zz_probe.mk"
out=$(timeout 120 ninja -C "$T/build" build.ninja 2>&1) || fail "ninja build.ninja after a new fragment: $out"
if grep -q 'bench/zz_probe' "$T/build/build.ninja"; then
	echo "ok: a new mk/ fragment re-runs configure"
else
	fail "a new mk/ fragment did not re-run configure: $out"
fi
sleep 1
rm "$T/src/mk/zz_probe.mk"
out=$(timeout 120 ninja -C "$T/build" build.ninja 2>&1) || fail "ninja after a removed fragment: $out"
grep -q 'bench/zz_probe' "$T/build/build.ninja" && fail "a removed mk/ fragment did not re-run configure: $out"
((fails == 0)) && echo "ok: a removed mk/ fragment re-runs configure"

echo "libgraph: $fails failed"
((fails == 0))
