#!/usr/bin/env bash
# Instructions per operation of the XPC codec and the net shadow's record
# step, counted by callgrind (valgrind). A count is
# the same for the same binary and input whatever else the machine does, so
# it can be checked on a noisy 2-core CI machine where a time cannot.
#
# Each workload runs twice, with N1 and N2 operations; the difference of the
# two totals over N2 - N1 is the cost of one operation, start-up and exit
# cancelled out. (drivermgrd's broker path is not counted: valgrind 3.19
# has neither clone3 nor pidfd_open, with which the daemon spawns and
# watches u-drivers; make bench reports its CPU time per upcall instead.)
#
#   instruction-counts.sh BIN_DIR [--check BASELINE] [--json OUT]
#
# --check: exit 1 if an operation costs more than BASELINE's figure for it
# by more than its tolerance (the file says both; made with the same build
# configuration as BIN_DIR).
set -euo pipefail
BIN=${1:?usage: instruction-counts.sh BIN_DIR [--check BASELINE] [--json OUT]}
shift
CHECK= JSON=
while [ $# -gt 0 ]; do
	case $1 in
	--check) CHECK=$2; shift 2 ;;
	--json) JSON=$2; shift 2 ;;
	*) echo "instruction-counts: unknown argument $1" >&2; exit 2 ;;
	esac
done
command -v valgrind >/dev/null || { echo "instruction-counts: valgrind is not installed" >&2; exit 1; }

# Total instructions callgrind collected in the process it ran.
collected() {
	sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$1" | tail -1
}

# per_op KIND N1 N2: instructions of one operation.
per_op() {
	local kind=$1 n1=$2 n2=$3 log1 log2 c1 c2
	log1=$(mktemp) log2=$(mktemp)
	for n in "$n1" "$n2"; do
		local log=$log1
		[ "$n" = "$n2" ] && log=$log2
		# Swift seeds its hashing per process at random: a Set's probes,
		# and so the count, would differ from run to run.
		SWIFT_DETERMINISTIC_HASHING=1 valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		  "$BIN/xpc-bench" --instructions "$kind" --iterations "$n" >"$log" 2>&1 ||
		  { echo "instruction-counts: the $kind run failed:" >&2; tail -20 "$log" >&2; exit 1; }
	done
	c1=$(collected "$log1") c2=$(collected "$log2")
	rm -f "$log1" "$log2"
	[ -n "$c1" ] && [ -n "$c2" ] || { echo "instruction-counts: callgrind reported no total for $kind" >&2; exit 1; }
	echo $(((c2 - c1) / (n2 - n1)))
}

declare -A ops=([codec]="1000 11000" [shadow]="1000 11000")
declare -A got
status=0
for kind in codec shadow; do
	set -- ${ops[$kind]}
	got[$kind]=$(per_op "$kind" "$1" "$2")
	printf '%-7s %9d instructions per operation' "$kind" "${got[$kind]}"
	if [ -n "$CHECK" ]; then
		line=$(awk -v k="$kind" '$1 == k { print $2, $3 }' "$CHECK")
		if [ -z "$line" ]; then
			printf '   (no baseline)\n'
			continue
		fi
		set -- $line
		base=$1 tol=${2:-10}
		limit=$((base * (100 + tol) / 100))
		ratio=$(awk -v g="${got[$kind]}" -v b="$base" 'BEGIN { printf "%.2f", g / b }')
		if [ "${got[$kind]}" -gt "$limit" ]; then
			printf '   %sx the baseline %d: over its +%d%% tolerance\n' "$ratio" "$base" "$tol"
			status=1
		else
			printf '   %sx the baseline %d (tolerance +%d%%)\n' "$ratio" "$base" "$tol"
		fi
	else
		printf '\n'
	fi
done
if [ -n "$JSON" ]; then
	printf '{"codec": %d, "shadow_record": %d}\n' "${got[codec]}" "${got[shadow]}" >"$JSON"
fi
[ $status = 0 ] || echo "instruction-counts: a path got more expensive; if that is intended, update $CHECK" >&2
exit $status
