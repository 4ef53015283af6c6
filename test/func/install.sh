#!/usr/bin/env bash
# "ninja install" gives a usable vpio: headers, libvpio.a/.so and vpio.pc
# into DESTDIR; a program built with `pkg-config vpio` against that copy
# links (static and shared) and runs.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
B=${VPIO_BUILD:-$ROOT/build}
T=$(mktemp -d /tmp/vpio-install.XXXXXX)
trap 'rm -rf "$T"' EXIT

DESTDIR="$T/root" ninja -C "$B" install >/dev/null
P="$T/root/usr/local"
for f in include/vpio/env.h include/vpio/nvme.h lib/libvpio.a lib/libvpio.so lib/libvpio.so.0 lib/pkgconfig/vpio.pc; do
	[[ -e $P/$f ]] || { echo "FAIL: $f not installed"; exit 1; }
done
cat >"$T/app.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <vpio/env.h>
int main(void)
{
	void *p = aligned_alloc(4096, 4096);
	int rc = vpio_mem_register(p, 4096);
	unsigned long long iova = vpio_vtophys(p, NULL);
	int ok = rc == 0 && iova == (unsigned long long)(unsigned long)p;
	printf("registered: %d, iova == va: %d\n", rc, ok);
	if (rc == 0 && vpio_mem_unregister(p, 4096) != 0)
		ok = 0;
	free(p);
	return !ok;
}
C
# the installed vpio.pc, with its prefix moved into DESTDIR
mkdir -p "$T/pc"
sed "s|^prefix=.*|prefix=$P|" "$P/lib/pkgconfig/vpio.pc" >"$T/pc/vpio.pc"
export PKG_CONFIG_PATH="$T/pc"
# static
cc -std=c11 $(pkg-config --cflags vpio) "$T/app.c" -o "$T/app-static" "$P/lib/libvpio.a" $(pkg-config --static --libs vpio | sed 's/-lvpio\b//')
"$T/app-static"
# shared
cc -std=c11 $(pkg-config --cflags vpio) "$T/app.c" -o "$T/app-shared" $(pkg-config --libs vpio)
LD_LIBRARY_PATH="$P/lib" "$T/app-shared"
echo "install: ok"
