#!/bin/sh
# install.sh SRC BUILD PREFIX - run by "ninja -C build install".
# DESTDIR is honoured, as usual.
set -eu
SRC=$1 B=$2 PREFIX=$3
D=${DESTDIR:-}
install -d "$D$PREFIX/include/vpio" "$D$PREFIX/lib/pkgconfig" "$D$PREFIX/bin"
install -m 644 "$SRC"/include/vpio/*.h "$D$PREFIX/include/vpio/"
install -m 644 "$B/lib/libvpio.a" "$D$PREFIX/lib/"
install -m 755 "$B/lib/libvpio.so" "$D$PREFIX/lib/libvpio.so.0"
ln -sf libvpio.so.0 "$D$PREFIX/lib/libvpio.so"
install -m 644 "$B/vpio.pc" "$D$PREFIX/lib/pkgconfig/"
for f in "$B"/bin/*; do [ -f "$f" ] && install -m 755 "$f" "$D$PREFIX/bin/"; done
echo "installed vpio into $D$PREFIX"
