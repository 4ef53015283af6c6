#!/usr/bin/env bash
# ./configure on a machine missing a dependency must fail and name the
# Debian package that provides it.  Dependencies are hidden from pkg-config
# one at a time with a pkg-config directory that has all the others.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
T=$(mktemp -d /tmp/vpio-confdeps.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0

sysdirs=$(pkg-config --variable pc_path pkg-config)
check() { # PC-NAME-TO-HIDE EXPECTED-PACKAGE
	local hide=$1 pkg=$2 out
	rm -rf "$T/pc" && mkdir -p "$T/pc"
	# every .pc file but the hidden one (and for DPDK, its companion)
	IFS=: read -ra dirs <<<"$sysdirs"
	for d in "${dirs[@]}"; do
		for f in "$d"/*.pc; do
			[[ -f $f ]] || continue
			case "$(basename "$f" .pc)" in "$hide" | "$hide"-libs) continue ;; esac
			[[ -e $T/pc/$(basename "$f") ]] || ln -s "$f" "$T/pc/"
		done
	done
	out=$(cd "$ROOT" && PKG_CONFIG_LIBDIR="$T/pc" PKG_CONFIG_PATH= ./configure --build-dir="$T/build" 2>&1)
	if [[ $? -ne 0 && $out == *"'$pkg'"* ]]; then
		echo "ok: without $hide, configure says: $out"
	else
		echo "FAIL: without $hide, configure should fail naming '$pkg'; it said: $out"
		fails=$((fails + 1))
	fi
}
check libdpdk libdpdk-dev
check liburing liburing-dev
check cunit libcunit1-dev
check libbsd libbsd-dev
check numa libnuma-dev

out=$(cd "$ROOT" && ./configure --cc=no-such-cc --build-dir="$T/build" 2>&1)
if [[ $? -ne 0 && $out == *"'gcc'"* ]]; then
	echo "ok: with no compiler, configure says: $out"
else
	echo "FAIL: a missing compiler should name 'gcc'; configure said: $out"
	fails=$((fails + 1))
fi
out=$(cd "$ROOT" && ./configure --enable-nothing 2>&1)
if [[ $? -ne 0 && $out == *"unknown option"* ]]; then
	echo "ok: a bad option is refused: $out"
else
	echo "FAIL: a bad option should be refused; configure said: $out"
	fails=$((fails + 1))
fi
echo "$((7 - fails)) passed, $fails failed"
((fails == 0))
