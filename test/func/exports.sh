#!/usr/bin/env bash
# libvpio.so exports exactly the functions declared in include/vpio/*.h
# (README.md, "Exported symbols"), and a program that has symbols of vpio's
# insides (DPDK's rte_*, the emulator's emu_*, internal vpio_* helpers) or
# links DPDK itself runs against it without the two getting mixed up.
# VPIO_BUILD: the build directory (default build).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
B=${VPIO_BUILD:-$ROOT/build}
SO=$B/lib/libvpio.so
T=$(mktemp -d /tmp/vpio-exports.XXXXXX)
trap 'rm -rf "$T"' EXIT
FAILS=0
fail() { # the first 30 lines, then a count
	FAILS=$((FAILS + 1))
	if ((FAILS <= 30)); then echo "FAIL: $*"; elif ((FAILS == 31)); then echo "FAIL: (more below the first 30 not shown)"; fi
}

[[ -f $SO ]] || { echo "FAIL: $SO missing (ninja -C $B)"; exit 1; }

# ---- 1. the exports against the headers
# What the headers declare, read by the compiler itself (gcc -aux-info
# lists every function prototype with its file), independently of the
# build's mk/exports.sh.
for h in "$ROOT"/include/vpio/*.h; do echo "#include <vpio/${h##*/}>"; done >"$T/all.c"
gcc -std=c11 -D_GNU_SOURCE -I"$ROOT/include" -fsyntax-only -aux-info "$T/aux" "$T/all.c"
grep -F "/* $ROOT/include/vpio/" "$T/aux" | grep ' \*/ extern ' |
	sed -E 's/^.*\*\/ extern [^(]*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*) \(.*$/\1/' | LC_ALL=C sort -u >"$T/declared"
# extern variables, if a header ever has one, are public too
for h in "$ROOT"/include/vpio/*.h; do
	sed -nE 's/^[[:space:]]*extern[^("]*[^A-Za-z0-9_("]([A-Za-z_][A-Za-z0-9_]*)[[:space:]]*(\[[^]]*\])?[[:space:]]*;.*/\1/p' "$h"
done | LC_ALL=C sort -u >"$T/declared_data"
LC_ALL=C sort -u "$T/declared" "$T/declared_data" -o "$T/declared"
nm -D --defined-only "$SO" | awk '{ sub(/@.*/, "", $3); print $3 }' | LC_ALL=C sort -u >"$T/exported"
nm --defined-only "$B/lib/libvpio.a" 2>/dev/null | awk '$2 ~ /^[TDBR]$/ { print $3 }' | LC_ALL=C sort -u >"$T/in_archive"

n_decl=$(wc -l <"$T/declared")
((n_decl > 50)) || fail "only $n_decl declarations found in include/vpio/*.h: the header scan is broken"
for s in $(LC_ALL=C comm -13 "$T/declared" "$T/exported"); do
	case $s in
	rte_* | emu_*) fail "libvpio.so exports $s: DPDK and the emulator are private to the library (the version script of configure is not applied?)" ;;
	*) fail "libvpio.so exports $s, which no header in include/vpio declares: if it is internal, it must not be exported (stale $B/gen/vpio.map? re-run ninja); if it is public, declare it in include/vpio" ;;
	esac
done
for s in $(LC_ALL=C comm -23 "$T/declared" "$T/exported"); do
	if grep -qx "$s" "$T/in_archive"; then
		fail "$s is declared in include/vpio and defined in libvpio but not exported: mk/exports.sh did not see its declaration (write it as 'TYPE $s(ARGS);' at file scope) or $B/gen/vpio.map is stale (re-run ninja)"
	else
		fail "$s is declared in include/vpio but libvpio does not define it: define it, or remove the declaration"
	fi
done
for s in $(grep -v '^vpio_' "$T/declared" || true); do
	fail "include/vpio declares $s: public names start with vpio_ (rename it, or make it static inline)"
done
echo "exports: $(wc -l <"$T/exported") symbols exported, $n_decl declared in include/vpio"

# ---- 2. programs that share names with vpio's insides
# The linker flags of the build's vpio.pc (sanitizer runtimes included),
# with its libdir moved to the build directory.
mkdir -p "$T/lib"
ln -s "$SO" "$T/lib/libvpio.so.0"
VPIO_LIBS="-L$B/lib $(PKG_CONFIG_PATH=$B pkg-config --define-variable=prefix="$B" --libs vpio | sed "s|-L$B/lib||")"

# What both programs do with vpio: start it and translate a DMA buffer.
cat >"$T/use_vpio.h" <<'C'
#include <stdio.h>
#include <vpio/env.h>

static int use_vpio(const char *name)
{
	struct vpio_env_opts o;
	void *buf;

	vpio_env_opts_init(&o);
	o.name = name;
	o.mem_size_mb = 64;
	o.no_huge = 1;
	o.quiet = 1;
	if (vpio_env_init(&o) != 0) {
		fprintf(stderr, "%s: vpio_env_init failed\n", name);
		return -1;
	}
	buf = vpio_dma_zmalloc(8192, 4096);
	if (buf == NULL || vpio_vtophys(buf, NULL) == VPIO_VTOPHYS_ERROR) {
		fprintf(stderr, "%s: no translated DMA buffer\n", name);
		return -1;
	}
	vpio_dma_free(buf);
	return 0;
}
C

# (a) its own rte_eal_init, mempool, emulator and internal vpio functions:
# libvpio.so must keep calling its own, and the program must get its own.
cat >"$T/own.c" <<'C'
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <vpio/emu.h>
#include <vpio/env.h>
#include <vpio/pci.h>
#include "use_vpio.h"

static int g_mine;
/* names libvpio.so exported before it had a version script */
int rte_eal_init(int argc, char **argv);
int rte_eal_init(int argc, char **argv) { (void)argc; (void)argv; g_mine++; return -1; }
void *rte_malloc(const char *type, size_t size, unsigned align);
void *rte_malloc(const char *type, size_t size, unsigned align) { (void)type; (void)size; (void)align; g_mine++; return NULL; }
uint64_t emu_now_ns(void);
uint64_t emu_now_ns(void) { g_mine++; return 0; }
int emu_parse_name(const char *name);
int emu_parse_name(const char *name) { (void)name; g_mine++; return -1; }
int vpio_iova_alloc(void);
int vpio_iova_alloc(void) { g_mine++; return -1; }
void *vpio_mem_map_create(void);
void *vpio_mem_map_create(void) { g_mine++; return NULL; }

int main(void)
{
	struct vpio_pci_device *dev = NULL;
	int own;

	if (use_vpio("own") != 0)
		return 1;
	if (vpio_pci_device_open("emu:nvme", &dev) != 0) {
		fprintf(stderr, "own: cannot open emu:nvme\n");
		return 1;
	}
	vpio_pci_device_close(dev);
	vpio_emu_destroy_all();
	if (g_mine != 0) {
		fprintf(stderr, "own: libvpio.so called %d of the program's functions instead of its own\n", g_mine);
		return 1;
	}
	/* and the program's calls reach its own functions */
	own = rte_eal_init(0, NULL) == -1 && emu_now_ns() == 0 && vpio_iova_alloc() == -1;
	vpio_env_fini();
	printf("own: ok\n");
	return own && g_mine == 3 ? 0 : 1;
}
C
if cc -std=c11 -Wall -Werror -I"$ROOT/include" "$T/own.c" -o "$T/own" $VPIO_LIBS 2>"$T/err"; then
	LD_LIBRARY_PATH="$T/lib" "$T/own" || fail "a program with its own rte_*, emu_* and internal vpio_* functions: mixed up with libvpio.so's"
else
	cat "$T/err"
	fail "a program with its own rte_*, emu_* and internal vpio_* functions does not link against libvpio.so"
fi

# (b) linked against DPDK's shared libraries as well: its rte_* calls go to
# DPDK, vpio's stay inside libvpio.so (its own static copy of DPDK).
cat >"$T/dpdk.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <rte_version.h>
#include <vpio/env.h>
#include "use_vpio.h"

int main(void)
{
	Dl_info di;

	if (dladdr((void *)rte_version, &di) == 0 || strstr(di.dli_fname, "librte_eal") == NULL) {
		fprintf(stderr, "dpdk: rte_version() comes from %s, not DPDK's librte_eal\n", di.dli_fname);
		return 1;
	}
	if (use_vpio("dpdk") != 0)
		return 1;
	vpio_env_fini();
	printf("dpdk: ok (%s next to vpio)\n", rte_version());
	return 0;
}
C
# shellcheck disable=SC2046
if cc -std=c11 -Wall -Werror -I"$ROOT/include" $(pkg-config --cflags libdpdk) "$T/dpdk.c" -o "$T/dpdk" \
	$VPIO_LIBS $(pkg-config --libs libdpdk) -ldl 2>"$T/err"; then
	LD_LIBRARY_PATH="$T/lib" "$T/dpdk" || fail "a program linked against DPDK's shared libraries and libvpio.so"
else
	cat "$T/err"
	fail "a program linked against DPDK's shared libraries does not link against libvpio.so"
fi

((FAILS == 0)) || { echo "exports: $FAILS failed"; exit 1; }
echo "exports: ok"
