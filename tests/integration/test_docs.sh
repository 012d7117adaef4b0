#!/bin/bash
# The documents' examples do what the documents say: every INI snippet
# and every command line of README.md, docs/*.md and the man pages is run
# (tests/docs/examples.sh), but those marked as not runnable here, which
# are listed with the reason. First the extractor itself, on a fixture
# whose examples are known.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source "$root/tests/lib/testlib.sh"
source "$root/tests/docs/examples.sh"
cd "$root"

for f in tests/docs/fixture.md tests/docs/fixture.5; do
	if docs_examples "$f" | diff -u "${f%.*}.${f##*.}.want" - >/dev/null; then
		t_pass "extractor: $f"
	else
		t_fail "extractor: $f" "$(docs_examples "$f" | diff -u "${f%.*}.${f##*.}.want" -)"
	fi
done

# The runner fails what it should: an INI that does not pass, a command
# that ends otherwise than marked, output labels that do not appear.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' '    [gc]' '    at = lots' '' '<!-- example: exit 3 -->' '    oomguard --version' '' 'Text.' '' \
	'    # oomguard --version' '    version: 1' >"$tmp/bad.md"
got=$(T_RESULTS=$tmp/results docs_run "$tmp/bad.md" | grep -c '^not ok')
[[ $got == 3 ]] && t_pass "the runner fails a bad INI, a wrong exit and missing output" ||
	t_fail "runner" "$got failures of 3: $(T_RESULTS=$tmp/results docs_run "$tmp/bad.md")"
rm -f "$tmp/results"

docs_run README.md docs/*.md docs/oomguard.8 docs/oomguard.ini.5
t_summary
