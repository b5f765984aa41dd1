# SPDX-License-Identifier: GPL-2.0-or-later
# The Linux test guest's workload (tests/linux/README.md), in busybox sh.
#
# Sourced by /init inside the guest, and by prepare.py on the host with the
# same busybox binary, after workload.conf has set the sizes. `workload`
# runs in an empty directory and prints one "STEP ANSWER" line per step;
# the guest compares them with the answers computed on the host.
#
# The steps exercise different parts of a CPU: awk's doubles (SSE2
# arithmetic), SHA-256 (rotates, adds), sort (compares, memory), deflate
# (branches, tables), shell arithmetic (64-bit multiply), and many
# short-lived processes (fork, page faults, copy on write, TLB).

# sha256 of stdin, the hash alone.
workload_sha256() {
	# shellcheck disable=SC2046 # split "HASH  -" into $1 and $2
	set -- $(sha256sum)
	echo "$1"
}

# WORKLOAD_LINES lines of text from the Park-Miller "minimal standard"
# generator (s = s * 16807 mod 2^31 - 1). Every product stays below 2^53,
# so awk's doubles compute it exactly and the host can check the data
# independently.
workload_generate() {
	awk -v n="$WORKLOAD_LINES" 'BEGIN {
		s = 20240917
		for (i = 1; i <= n; i++) {
			s = (s * 16807) % 2147483647
			printf "%010d %04x vessel line %d\n", s, s % 65536, i
		}
	}'
}

# FNV-1a-like hash of 0..WORKLOAD_ARITH_ROUNDS-1 in shell arithmetic; the
# mask keeps every product below 2^63.
workload_arith() {
	h=2166136261
	i=0
	while [ "$i" -lt "$WORKLOAD_ARITH_ROUNDS" ]; do
		h=$(( ((h ^ i) * 16777619) & 0xffffffff ))
		i=$((i + 1))
	done
	echo "$h"
}

# A sum of quotients in doubles, printed to the last bit. Only +, * and /:
# IEEE 754 rounds those exactly, so any correct CPU gives the same digits
# (transcendental functions could differ between libm code paths).
workload_float() {
	awk -v n="$WORKLOAD_FLOAT_TERMS" 'BEGIN {
		x = 0
		for (i = 1; i <= n; i++)
			x += i / (i * i + 0.5)
		printf "%.17g\n", x
	}'
}

# One pipeline, and so a few processes, per line.
workload_processes() {
	seq "$WORKLOAD_PROCESSES" | while read -r i; do
		echo "process $i" | md5sum
	done | workload_sha256
}

# The steps, in order; each prints its answer. "data" leaves data.txt and
# "gzip" data.gz for the steps after them.
WORKLOAD_STEPS="data sort gzip gunzip arith float processes"

step_data() {
	workload_generate > data.txt
	workload_sha256 < data.txt
}

step_sort() {
	sort data.txt | workload_sha256
}

step_gzip() {
	gzip -c < data.txt > data.gz
	workload_sha256 < data.gz
}

step_gunzip() {
	if gunzip -c < data.gz | cmp -s - data.txt; then
		echo identical
	else
		echo different
	fi
}

step_arith() {
	workload_arith
}

step_float() {
	workload_float
}

step_processes() {
	workload_processes
}

# Prints "STEP ANSWER" for every step. $1, when given, is a command run
# after each step with the step's name (the guest's /init times them).
workload() {
	for step in $WORKLOAD_STEPS; do
		echo "$step $("step_$step")"
		[ -z "${1:-}" ] || "$1" "$step"
	done
	rm -f data.txt data.gz
}
