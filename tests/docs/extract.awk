# extract.awk: the examples of a document, for tests/docs/check.sh.
#
# Reads a Markdown file (README.md, docs/*.md) or a man page (roff: any
# other name) and prints one record per example:
#
#   @@ KIND FILE:LINE EXPECT
#   the example's lines
#
# KIND is "ini" (a block whose first line is a [section] header) or "cmd"
# (a block whose first line is a command: a prompt "# " or "$ ", or a
# known command word). Other blocks (output, code in other languages,
# prose) are not examples. EXPECT is "exit N" (0 unless the document says
# otherwise) or "skip REASON".
#
# Blocks are Markdown fences (untagged, or tagged sh, bash, console,
# shell or ini), Markdown blocks indented by four spaces, and roff
# .nf/.fi or .EX/.EE. A document marks an example on the line just before
# its block:
#   Markdown  <!-- example: not run: REASON -->   or  <!-- example: exit N -->
#   roff      .\" example: not run: REASON        or  .\" example: exit N
FNR == 1 { roff = FILENAME !~ /\.md$/; prevblank = 1; prevmark = ""; indented = fence = inblock = n = 0 }
BEGIN {
	cmdword = "^(oomguard|build/oomguard|make|printf|echo|env|cat|grep|systemctl|docker|kubectl|journalctl|man|gcc|go|node|java|python3?|OOMGUARD_[A-Z_]+=[^ ]*)( |$)"
}

function marker(line,    m) {
	if (roff)
		m = line ~ /^\.\\" example: / ? substr(line, 14) : ""
	else if (line ~ /^<!-- example: .* -->$/) {
		m = substr(line, 15)
		sub(/ -->$/, "", m)
	}
	if (m ~ /^not run: /)
		return "skip " substr(m, 10)
	if (m ~ /^exit [0-9]+$/)
		return m
	return m == "" ? "" : "bad " m
}

function unroff(s) {
	gsub(/\\-/, "-", s)
	gsub(/\\\(dq/, "\"", s)
	gsub(/\\\(rs/, "\\", s)
	gsub(/\\e/, "\\", s)
	gsub(/\\f[BIRP]/, "", s)
	gsub(/\\&/, "", s)
	return s
}

function flush(    kind, first, expect) {
	if (n == 0)
		return
	first = lines[1]
	if (first ~ /^\[[A-Za-z]+\]/)
		kind = "ini"
	else if (first ~ /^[#$] / || first ~ cmdword)
		kind = "cmd"
	if (kind != "") {
		expect = mark == "" ? "exit 0" : mark
		print "@@ " kind " " FILENAME ":" start " " expect
		for (i = 1; i <= n; i++)
			print lines[i]
	}
	n = 0
}

function add(line) {
	if (n == 0)
		start = FNR
	lines[++n] = line
}

# roff
roff && /^\.(nf|EX)$/ { inblock = 1; n = 0; mark = prevmark; prevmark = ""; next }
roff && /^\.(fi|EE)$/ { flush(); inblock = 0; next }
roff && inblock { add(unroff($0)); next }
roff { prevmark = marker($0); next }

# Markdown fences
!roff && /^```/ {
	if (fence) {
		flush()
		fence = 0
	} else {
		fence = 1
		lang = substr($0, 4)
		use = lang ~ /^(|sh|bash|console|shell|ini)$/
		n = 0
		mark = prevmark
		prevmark = ""
	}
	next
}
!roff && fence { if (use) add($0); next }

# Markdown indented blocks: four spaces after a blank line.
!roff && /^    / && (indented || prevblank) {
	if (!indented) {
		indented = 1
		n = 0
		mark = prevmark
		prevmark = ""
	}
	add(substr($0, 5))
	prevblank = 0
	next
}
!roff && /^[ \t]*$/ && indented { add(""); prevblank = 1; next }
!roff {
	if (indented) {
		while (n > 0 && lines[n] == "")
			n--
		flush()
		indented = 0
	}
	if ($0 ~ /^[ \t]*$/) {
		prevblank = 1
	} else {
		prevmark = marker($0)
		# A marker stands between a blank line and its block.
		prevblank = prevblank && prevmark != ""
	}
}
END {
	if (indented || inblock) {
		while (n > 0 && lines[n] == "")
			n--
		flush()
	}
}
