#!/bin/bash
# Shared by the benchmarks (sourced).

# stats FILE: p50 p99 max (usec) of the numbers in FILE (one a line, as
# stepper prints its crossings), their count, and the timeouts.
stats() {
	local n to
	to=$(grep -c timeout "$1")
	n=$(grep -c '^[0-9]' "$1")
	grep '^[0-9]' "$1" | sort -n | awk -v n="$n" -v to="$to" '
		{ v[NR] = $1 }
		END {
			if (n == 0) { printf "%8s %8s %8s %6d %6d\n", "-", "-", "-", 0, to; exit }
			p50 = v[int((n - 1) * 0.50) + 1]; p99 = v[int((n - 1) * 0.99) + 1]
			printf "%8d %8d %8d %6d %6d\n", p50, p99, v[n], n, to
		}'
}
