#!/bin/sh
# mk/libgraph.sh SRC - check the library graph that the mk/*.mk fragments
# declare against the #include lines of the sources (./configure runs it;
# test/func/libgraph.sh tests it).  Prints one line per violation, naming
# the file, the include and the fix, and exits 1 if there is any.
#
# The rules (doc/architecture.md, "The dependency rule"):
#  - a fragment's "deps LIB..." line names the libraries its targets use;
#    the libraries' deps form a graph without cycles;
#  - a library's public headers are the include/vpio headers its fragment
#    claims with "api HEADER..."; an unclaimed public header (a
#    specification, the version) belongs to no library and anyone may
#    include it;
#  - a source or header of a library (every *.c and *.h under lib/NAME, and
#    its api headers) includes headers of its own library, unclaimed public
#    headers, and headers of libraries its fragment declares: their public
#    headers and their lib/ headers other than *_internal.h, never another
#    library's *_internal.h;
#  - an app includes only public headers (of declared libraries) and its
#    own files: lib/ headers are not installed;
#  - tests, benchmarks and fuzz targets may include a declared library's
#    internal headers (they test its insides).
set -eu
SRC=$1
T=${TMPDIR:-/tmp}/vpio-libgraph.$$
trap 'rm -f "$T".*' EXIT INT TERM

# 1. The fragments: "F frag kind name", "D frag lib", "A frag header",
#    "S frag kind name file" lines.
for frag in "$SRC"/mk/*.mk; do
	f=mk/${frag##*/}
	kind="" name=""
	while read -r w1 rest; do
		case "$w1" in
		lib | app | test | bench | fuzz)
			kind=$w1 name=${rest%% *}
			echo "F $f $kind $name" ;;
		deps) for d in $rest; do echo "D $f $d"; done
			[ -n "$rest" ] || echo "D $f -" ;;
		api) for a in $rest; do echo "A $f $a"; done ;;
		src) echo "S $f $kind $name ${rest%% *}" ;;
		esac
	done <"$frag"
done >"$T.facts"

# 2. Every C file of the tree ("E file") and every #include line in them
#    ("G file token"), read by one find and one grep.
(cd "$SRC" && find lib app test include -name '*.[ch]' | sort) >"$T.files"
(cd "$SRC" && sed 's/^/E /' "$T.files" &&
	xargs grep -H '^[[:space:]]*#[[:space:]]*include[[:space:]]*[<"]' <"$T.files" |
	sed -n 's/^\([^:]*\):[[:space:]]*#[[:space:]]*include[[:space:]]*\([<"][^>"]*[>"]\).*/G \1 \2/p') >"$T.incs"

# 3. The checks.
cat "$T.facts" "$T.incs" | awk '
function err(msg) { print "configure: error: " msg; bad = 1 }
$1 == "F" { kind[$2] = $3; if ($3 == "lib") { libfrag[$4] = $2; libname[$2] = $4; nlibs++ } }
$1 == "D" { if ($3 != "-") { deps[$2, $3] = 1; dlist[$2] = dlist[$2] " " $3 } hasdeps[$2] = 1 }
$1 == "A" {
	if ($3 in owner) err($2 ": api " $3 ": already claimed by " libfrag[owner[$3]] "; a public header belongs to one library")
	owner[$3] = libname[$2]; apifrag[$3] = $2
}
$1 == "S" && $3 == "lib" && index($5, "lib/" $4 "/") != 1 {
	err($2 ": src " $5 " is outside lib/" $4 "/: one library per folder (move the file or the line)")
}
$1 == "S" && $3 != "lib" && $5 ~ /^lib\// { lsrc[++nl] = $2 " " $5 }
$1 == "E" { exists[$2] = 1 }
$1 == "G" { ng++; gfile[ng] = $2; gtok[ng] = $3; byfile[$2] = byfile[$2] " " ng }
$1 == "S" && $5 !~ /^lib\// { srcs[$2, $4] = srcs[$2, $4] " " $5 }
$1 == "F" { tlist[++nt] = $2 " " $3 " " $4 }
function declared(frag, lib) { return lib == libname[frag] || ((frag, lib) in deps) }
function need(frag, file, what, lib) {
	return file " includes " what ", a header of lib/" lib ", but " frag " does not declare it: add " lib \
		" to its deps line (\"deps" dlist[frag] " " lib "\") if that makes no cycle, or drop the include"
}
END {
	# deps lines: known libraries, libraries required to have one
	for (f in kind) {
		if (kind[f] == "lib" && !(f in hasdeps))
			err(f ": no deps line: name the libraries lib/" libname[f] " uses (\"deps\" alone for none)")
	}
	for (k in deps) {
		split(k, p, SUBSEP)
		if (!(p[2] in libfrag)) err(p[1] ": deps names " p[2] ", which is no library (no \"lib " p[2] "\" fragment)")
		else if (p[2] == libname[p[1]]) err(p[1] ": deps names the library itself (" p[2] ")")
	}
	# the files of each target: a library is every file under lib/NAME and
	# its api headers; any other target its sources outside lib/ and the
	# headers next to them.  Their includes, resolved: "pub HEADER" or
	# "lib DIR/FILE" (a quoted include found next to the file or under lib/).
	for (t = 1; t <= nt; t++) {
		split(tlist[t], w, " "); frag = w[1]; k = w[2]; name = w[3]
		delete mine
		if (k == "lib") {
			for (f in exists) if (index(f, "lib/" name "/") == 1) mine[f] = 1
			for (h in owner) if (owner[h] == name) mine["include/vpio/" h] = 1
		} else {
			m = split(srcs[frag, name], sl, " ")
			for (j = 1; j <= m; j++) {
				mine[sl[j]] = 1
				dir = sl[j]; sub(/\/[^\/]*$/, "", dir)
				for (f in exists) if (f ~ /\.h$/ && index(f, dir "/") == 1 && index(substr(f, length(dir) + 2), "/") == 0) mine[f] = 1
			}
		}
		for (f in mine) {
			m = split(byfile[f], gl, " ")
			for (j = 1; j <= m; j++) {
				tok = gtok[gl[j]]
				if (tok ~ /^<vpio\//) { h = substr(tok, 7, length(tok) - 7); inc[++ni] = "I " frag " " k " " name " " f " pub " h; continue }
				if (tok !~ /^"/) continue
				ip = substr(tok, 2, length(tok) - 2); dir = f; sub(/\/[^\/]*$/, "", dir)
				if ((dir "/" ip) in exists) r = dir "/" ip
				else if (("lib/" ip) in exists) r = "lib/" ip
				else continue
				if (r ~ /^lib\//) inc[++ni] = "I " frag " " k " " name " " f " lib " substr(r, 5) " " tok
			}
		}
	}
	# library sources built into another target (a fuzz target)
	for (i = 1; i <= nl; i++) {
		split(lsrc[i], w, " "); lib = w[2]; sub(/^lib\//, "", lib); sub(/\/.*/, "", lib)
		if ((lib in libfrag) && !declared(w[1], lib))
			err(w[1] ": src " w[2] " is a source of lib/" lib ", which " w[1] " does not declare: add " lib \
			    " to its deps line (\"deps" dlist[w[1]] " " lib "\")")
	}
	# includes
	for (i = 1; i <= ni; i++) {
		n = split(inc[i], w, " ")
		frag = w[2]; k = w[3]; file = w[5]
		if (w[6] == "pub") {
			h = w[7]; lib = owner[h]
			if (lib == "" || declared(frag, lib)) continue
			if (k == "lib" && file ~ /^include\/vpio\//) {
				err(file " (api of " libname[frag] ") includes <vpio/" h ">, a header of lib/" lib ", but " frag \
				    " does not declare it: add " lib " to its deps line if that makes no cycle, or drop the include")
				continue
			}
			err(need(frag, file, "<vpio/" h ">", lib))
			continue
		}
		path = w[7]; q = w[8]; lib = path; sub(/\/.*/, "", lib)
		if (k == "lib" && lib == libname[frag]) continue
		if (k == "app") {
			err(file " includes " q " (lib/" path "): an app uses only public headers (include/vpio), lib/ is not installed; use or add a public call instead")
			continue
		}
		if (path ~ /_internal\.h$/ && k == "lib") {
			err(file " includes " q ", the internal header of lib/" lib ": use its public header or a small declared header of lib/" lib " (like lib/env/dma_target.h), and add " lib " to the deps line of " frag)
			continue
		}
		if (!(lib in libfrag)) continue
		if (!declared(frag, lib)) err(need(frag, file, q, lib))
	}
	# cycles: depth-first search over the libraries deps
	for (l in libfrag) state[l] = 0
	for (l in libfrag) if (state[l] == 0) dfs(l, l)
	exit bad
}
function dfs(l, path,    d, m, parts, j, cyc, nf, members, x, frags) {
	state[l] = 1
	m = split(dlist[libfrag[l]], parts, " ")
	for (j = 1; j <= m; j++) {
		d = parts[j]
		if (!(d in libfrag)) continue
		if (state[d] == 1) {
			cyc = " " path " "
			cyc = substr(cyc, index(cyc, " " d " ") + 1)
			sub(/ $/, "", cyc)
			gsub(/ /, " -> ", cyc)
			nf = split(cyc, members, " -> "); frags = ""
			for (x = 1; x <= nf; x++) frags = frags (x > 1 ? ", " : "") libfrag[members[x]]
			err("the library graph has a cycle: " cyc " -> " d " (deps lines of " frags \
			    "): a library may use only libraries under it; move the shared part down or pass it in from the caller")
			continue
		}
		if (state[d] == 0) dfs(d, path " " d)
	}
	state[l] = 2
}
' >"$T.out" && rc=0 || rc=$?
if [ "$rc" -gt 1 ]; then
	echo "configure: error: mk/libgraph.sh failed (awk exit $rc)"
	exit 2
fi
# one line per violation (a header shared by several targets is read once per target)
sort -u "$T.out"
[ "$rc" = 0 ]
