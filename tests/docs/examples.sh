# examples.sh: run the examples of oomguard's documents (bash; source it,
# with tests/lib/testlib.sh). Sourcing defines functions and nothing else.
#
#   docs_examples FILE...   print the records tests/docs/extract.awk finds
#   docs_run FILE...        run every example of the documents, one result
#                           each: an INI snippet must pass --check-config;
#                           a command block runs as one bash script from
#                           the repository root and must end with the exit
#                           code the document gives (0 unless marked); for
#                           a block of "# command" prompts, every label the
#                           shown output has ("cgroup:", "limit:") must be
#                           in the real output. A "not run" mark is a skip
#                           with its reason; any other mark is a failure.
#
# The commands run with $OOMGUARD for build/oomguard and for oomguard on
# the PATH, and $WORKLOAD_DIR for build/workload, in a directory of their
# own that shows the source tree's files under their usual names.

_docs_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_docs_root=$(cd "$_docs_here/../.." && pwd)

docs_examples() {
	local f
	for f in "$@"; do
		awk -f "$_docs_here/extract.awk" "$f"
	done
}

# _docs_script: the block on stdin as a script on stdout, commands only,
# with the binaries under test; the output shown after prompts goes to the
# file $1.
_docs_script() {
	local out=$1 line prompt=
	: >"$out"
	while IFS= read -r line; do
		[[ -z $prompt ]] && { [[ $line == '# '* || $line == '$ '* ]] && prompt=yes || prompt=no; }
		if [[ $prompt == yes && $line != '# '* && $line != '$ '* ]]; then
			printf '%s\n' "$line" >>"$out"
			continue
		fi
		[[ $prompt == yes ]] && line=${line:2}
		line=${line//build\/oomguard/\"\$OOMGUARD\"}
		line=${line//build\/workload\//\"\$WORKLOAD_DIR\"/}
		printf '%s\n' "$line"
	done
}

# _docs_labels SHOWN REAL: the labels of SHOWN's lines missing from REAL.
_docs_labels() {
	local line label missing=
	while IFS= read -r line; do
		line=${line#"${line%%[! ]*}"}
		[[ $line =~ ^([a-z][a-z0-9\ _().+/-]*:)( |$) ]] || continue
		label=${BASH_REMATCH[1]}
		grep -qF -- "$label" "$2" || missing+=" '$label'"
	done <"$1"
	printf '%s' "$missing"
}

# _docs_one KIND WHERE EXPECT FILE: run one example held in FILE.
_docs_one() {
	local kind=$1 where=$2 expect=$3 file=$4 out rc want missing work d
	case $expect in
	skip*) t_skip "$where" "${expect#skip }"; return ;;
	exit*) want=${expect#exit } ;;
	*) t_fail "$where" "unknown mark '$expect'"; return ;;
	esac
	out=$(mktemp)
	if [[ $kind == ini ]]; then
		"$OOMGUARD" --check-config -c "$file" >"$out" 2>&1
		rc=$?
		[[ $rc == 0 && $(<"$out") == "configuration OK" ]] &&
			t_pass "$where: INI passes --check-config" ||
			t_fail "$where" "--check-config: exit $rc: $(<"$out")"
		rm -f "$out"
		return
	fi
	_docs_script "$file.shown" <"$file" >"$file.sh"
	# A directory of its own, where the tree's files are found by the
	# same relative names and what the example writes is removed after.
	work=$(mktemp -d)
	mkdir "$work/.bin"
	ln -s "$OOMGUARD" "$work/.bin/oomguard"
	for d in "$_docs_root"/*; do
		[[ -e $work/${d##*/} ]] || ln -s "$d" "$work/${d##*/}"
	done
	(cd "$work" && PATH=$work/.bin:$PATH t_timeout 60 bash -o pipefail "$file.sh") >"$out" 2>&1
	rc=$?
	rm -rf "$work"
	missing=$(_docs_labels "$file.shown" "$out")
	if [[ $rc != "$want" ]]; then
		t_fail "$where" "exit $rc, want $want: $(head -c 2000 "$out")"
	elif [[ -n $missing ]]; then
		t_fail "$where" "the output lacks$missing: $(head -c 2000 "$out")"
	else
		t_pass "$where: $(head -1 "$file.sh" | cut -c1-70)"
	fi
	rm -f "$out" "$file.sh" "$file.shown"
}

docs_run() {
	local tmp file= kind where expect line
	tmp=$(mktemp -d)
	while IFS= read -r line; do
		if [[ $line == '@@ '* ]]; then
			[[ -n $file ]] && _docs_one "$kind" "$where" "$expect" "$file"
			read -r _ kind where expect <<<"$line"
			file=$tmp/example
			: >"$file"
		else
			printf '%s\n' "$line" >>"$file"
		fi
	done < <(docs_examples "$@")
	[[ -n $file ]] && _docs_one "$kind" "$where" "$expect" "$file"
	rm -rf "$tmp"
}
