#!/usr/bin/env bash
# Every public function states its threading rule (doc/api.md, "Threading
# notes"): a function declared or defined in include/vpio/*.h must have a
# line "Thread: ..." in the comment right above it, or above the group of
# declarations it belongs to (no blank line and no other comment between),
# or in a comment on its own lines.  The declarations are found by the
# compiler itself (gcc -aux-info gives each prototype with its file and
# line), so macros and struct members are not mistaken for functions.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
T=$(mktemp -d /tmp/vpio-thread-notes.XXXXXX)
trap 'rm -rf "$T"' EXIT

for h in "$ROOT"/include/vpio/*.h; do echo "#include <vpio/${h##*/}>"; done >"$T/all.c"
gcc -std=c11 -D_GNU_SOURCE -I"$ROOT/include" -fsyntax-only -aux-info "$T/aux" "$T/all.c"
# "FILE LINE NAME" for every function of the public headers
grep -F "/* $ROOT/include/vpio/" "$T/aux" |
	sed -E 's|^/\* ([^:]+):([0-9]+):[A-Z]+ \*/ [^(]*[^A-Za-z0-9_]([A-Za-z_][A-Za-z0-9_]*) \(.*$|\1 \2 \3|' |
	LC_ALL=C sort -u >"$T/decls"
n=$(wc -l <"$T/decls")
if ((n < 100)); then
	echo "FAIL: only $n functions found in include/vpio/*.h: the scan is broken"
	exit 1
fi

fails=0
while read -r file; do
	# awk gets the file's lines and, on stdin, "LINE NAME" of its functions
	grep -F "$file " "$T/decls" | cut -d' ' -f2- |
		awk -v f="${file#"$ROOT"/}" '
		FNR == NR { l[FNR] = $0; last = FNR; next }
		function is_comment(s) { return s ~ /^[ \t]*(\/\*|\*)/ }
		function has_note(s) { return s ~ /Thread: [^ ]/ }
		{
			line = $1; name = $2; ok = 0
			# the declaration itself, up to its ";" or "{"
			for (i = line; i <= last; i++) {
				if (has_note(l[i])) ok = 1
				if (l[i] ~ /[;{]/) break
			}
			# up: other declarations of its group, then one comment block
			incomment = 0
			for (i = line - 1; !ok && i >= 1 && l[i] !~ /^[ \t]*$/; i--) {
				if (is_comment(l[i])) {
					incomment = 1
					if (has_note(l[i])) ok = 1
					if (l[i] ~ /^[ \t]*\/\*/) break
				} else if (incomment) {
					break
				} else if (has_note(l[i])) {
					ok = 1
				}
			}
			if (!ok) {
				printf "FAIL: %s:%d: %s has no threading note (a line \"Thread: ...\" in its comment; doc/api.md)\n", f, line, name
				bad++
			}
		}
		END { exit bad > 0 }' "$file" - || fails=$((fails + 1))
done < <(cut -d' ' -f1 "$T/decls" | LC_ALL=C sort -u)

if ((fails > 0)); then
	echo "thread_notes: public functions without a threading note (above)"
	exit 1
fi
echo "thread_notes: ok ($n public functions, each with a \"Thread:\" note)"
