#!/bin/sh
# t-limits.sh - memory.max and memory.high stay what the operator found or
# set: oomguard never leaves either at a value of its own.
#  1. memory.max max, memory.high 100M, oomguard --cgroup from outside
#     (reserve mode auto: limit). memory.high is where the kernel stops
#     the app, so the levels count from it, but the reserve must never
#     write it (or anything) into memory.max: 2 s after start, after the
#     operator sets memory.high to 200M, and after oomguard exits,
#     memory.max reads max and memory.high the operator's value.
#  2. The same sidecar, memory.max 256M: raised to 512M, lowered to 384M,
#     removed (max) and set to 300M while watched; 2 s after each change
#     and after oomguard exits it reads exactly what the operator wrote.
#  3. [watch] high = 90%, no memory.max, memory.high 100M, oomguard as the
#     entrypoint: memory.high set once to 90M and held there (the value
#     oomguard set is not the next limit: it fell by 10% on every sample);
#     the operator sets 200M; after oomguard exits memory.high is 200M.
#  4. [watch] high = auto under memory.max 128M with memory.high 120M; the
#     operator changes memory.max to 192M while watched: memory.high
#     follows the new restart level and 120M comes back at the exit.

. /payload/vmlib.sh

# is NAME WANT FILE: FILE reads WANT, else a FAIL with the log.
is() {
	_got=$(cat "$3")
	if [ "$_got" = "$2" ]; then
		pass "$1" "$(basename "$3") $_got"
	else
		fail "$1" "$(basename "$3") $_got, want $2" -- "$TMP/og.log"
	fi
}

# sidecar DIR: oomguard --cgroup DIR from its own cgroup, started once the
# reserve is held; sets og.
sidecar() {
	guard=$(cg_new limits-guard max) || exit 1
	cg_spawn "$guard" "$TMP/og.log" oomguard --cgroup "$1"
	og=$SPAWNED
	wait_line 50 "$TMP/og.log" 'reserve: |watching '
}

stop() {
	kill -TERM "$og" 2>/dev/null
	wait_pid 50 "$og"
}

# 1. memory.high the only limit.
app=$(cg_new limits-high max 100M) || exit 1
cg_spawn "$app" "$TMP/hold1.log" hold 16
sidecar "$app"
usleep 2000000
is v2-limits-high-max max "$app/memory.max"
is v2-limits-high-high 104857600 "$app/memory.high"
echo 200M >"$app/memory.high"
usleep 2000000
is v2-limits-high-changed-max max "$app/memory.max"
is v2-limits-high-changed-high 209715200 "$app/memory.high"
stop
is v2-limits-high-exit-max max "$app/memory.max"
is v2-limits-high-exit-high 209715200 "$app/memory.high"
cg_destroy "$app"
cg_destroy "$guard"

# 2. memory.max changed while watched.
app=$(cg_new limits-max 256M) || exit 1
cg_spawn "$app" "$TMP/hold2.log" hold 16
sidecar "$app"
for v in 512M 384M max 300M; do
	echo "$v" >"$app/memory.max"
	want=$(cat "$app/memory.max")
	usleep 2000000
	is "v2-limits-max-$v" "$want" "$app/memory.max"
done
stop
is v2-limits-max-exit "$want" "$app/memory.max"
cg_destroy "$app"
cg_destroy "$guard"

# 3. [watch] high = 90% without memory.max.
app=$(cg_new limits-knob max 100M) || exit 1
cg_spawn "$app" "$TMP/og.log" env OOMGUARD_WATCH_HIGH=90% oomguard -- hold 8
og=$SPAWNED
wait_line 50 "$TMP/og.log" 'memory.high set'
usleep 2000000
is v2-limits-knob-set 94371840 "$app/memory.high"
n=$(grep -c 'memory.high set' "$TMP/og.log")
if [ "$n" = 1 ]; then
	pass v2-limits-knob-once "memory.high set once in 2 s"
else
	fail v2-limits-knob-once "memory.high set $n times in 2 s (want 1)" -- "$TMP/og.log"
fi
echo 200M >"$app/memory.high"
usleep 2000000
stop
is v2-limits-knob-exit 209715200 "$app/memory.high"
cg_destroy "$app"

# 4. [watch] high = auto, memory.max changed while watched.
app=$(cg_new limits-auto 128M 120M) || exit 1
cg_spawn "$app" "$TMP/og.log" env OOMGUARD_WATCH_HIGH=auto oomguard -- hold 8
og=$SPAWNED
wait_line 50 "$TMP/og.log" 'memory.high set'
echo 192M >"$app/memory.max"
usleep 2000000
high=$(cat "$app/memory.high")
# 90% of 192M is 181193932 bytes; the kernel keeps whole pages.
if [ "$high" -le 181193932 ] && [ "$high" -gt $((181193932 - 4096)) ]; then
	pass v2-limits-auto-follows "memory.high $high for memory.max 192M"
else
	fail v2-limits-auto-follows "memory.high $high, want ~181193932" -- "$TMP/og.log"
fi
stop
is v2-limits-auto-exit 125829120 "$app/memory.high"
is v2-limits-auto-exit-max 201326592 "$app/memory.max"
cg_destroy "$app"
exit 0
