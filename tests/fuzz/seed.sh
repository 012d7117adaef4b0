#!/bin/bash
# tests/fuzz/seed.sh DIR: the seed corpora, DIR/HARNESS/, made from the
# fixtures (tests/fixtures, tests/config) in each harness's input format
# (see the comment at the head of each fuzz_*.c) and from the hand-made
# seeds in tests/fuzz/seeds/HARNESS/.
set -eu
out=$1
here=$(cd "$(dirname "$0")" && pwd)
fx=$here/../fixtures cfg=$here/../config
rm -rf "$out"
for h in units config cgroup memcg psi action unit args endpoint dockerjson; do
	mkdir -p "$out/$h"
	if [ -d "$here/seeds/$h" ]; then
		cp "$here/seeds/$h"/* "$out/$h/"
	fi
done

# cgroup: /proc/self/cgroup, NUL, /proc/self/mountinfo, per fixture tree.
for t in hybrid legacy nsv1 v2; do
	{ cat "$fx/$t/proc/self/cgroup"; printf '\0'; cat "$fx/$t/proc/self/mountinfo"; } \
		>"$out/cgroup/$t"
	cp "$fx/$t/proc/pressure/memory" "$out/psi/$t-system"
done
cp "$fx/v2/sys/fs/cgroup/test/memory.pressure" "$out/psi/v2-cgroup"

# memcg: version byte, then usage, limit, stat, oom_control or high,
# events, meminfo, NUL-separated.
memcg_seed() { # NAME VERSION DIR MEMINFO
	local d=$3
	{
		if [ "$2" = 1 ]; then
			printf '\0'
			cat "$d/memory.usage_in_bytes"; printf '\0'
			cat "$d/memory.limit_in_bytes"; printf '\0'
			cat "$d/memory.stat"; printf '\0'
			cat "$d/memory.oom_control"; printf '\0\0'
		else
			printf '\1'
			cat "$d/memory.current"; printf '\0'
			cat "$d/memory.max"; printf '\0'
			cat "$d/memory.stat"; printf '\0'
			cat "$d/memory.high"; printf '\0'
			cat "$d/memory.events"; printf '\0'
		fi
		cat "$4"
	} >"$out/memcg/$1"
}
for t in hybrid legacy; do
	memcg_seed "$t" 1 "$(dirname "$(find "$fx/$t/sys/fs/cgroup/memory" -name memory.oom_control | head -1)")" \
		"$fx/$t/proc/meminfo"
done
memcg_seed nsv1 1 "$fx/nsv1/sys/fs/cgroup/memory" "$fx/nsv1/proc/meminfo"
memcg_seed v2-test 2 "$fx/v2/sys/fs/cgroup/test" "$fx/v2/proc/meminfo"
memcg_seed v2-nolimit 2 "$fx/v2/sys/fs/cgroup/nolimit" "$fx/v2/proc/meminfo"

# config: the file, NUL, environment, NUL, keys.
for f in "$cfg"/good/*.ini "$cfg"/bad/*.ini; do
	cp "$f" "$out/config/$(basename "$(dirname "$f")")-$(basename "$f")"
done
cp "$here/../../conf/oomguard.ini" "$out/config/example.ini"

# units: every value of the configuration files.
sed -n 's/^[a-z_]* *= *//p' "$cfg"/good/*.ini "$cfg"/bad/*.ini "$here/../../conf/oomguard.ini" |
	sort -u | while IFS= read -r v; do
		printf '%s' "$v" >"$out/units/$(printf '%s' "$v" | md5sum | cut -c1-12)"
	done

# dockerjson: a kind byte (0 list, 1 inspection, 2 event), then the reply,
# from the real engine's captures and the hostile ones.
dj=$fx/docker
{ printf '\0'; cat "$dj/list.json"; } >"$out/dockerjson/list"
{ printf '\1'; cat "$dj/inspect.json"; } >"$out/dockerjson/inspect"
{ printf '\1'; cat "$dj/inspect-stopped.json"; } >"$out/dockerjson/inspect-stopped"
i=0
while IFS= read -r line; do
	i=$((i + 1))
	{ printf '\2'; printf '%s' "$line"; } >"$out/dockerjson/event-$i"
done <"$dj/events.ndjson"
for f in "$dj"/hostile/*.json; do
	case $(basename "$f") in
	list-*) k='\0' ;; inspect-*) k='\1' ;; *) k='\2' ;;
	esac
	{ printf '%b' "$k"; cat "$f"; } >"$out/dockerjson/hostile-$(basename "$f")"
done
