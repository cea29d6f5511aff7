#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs one libFuzzer harness for SECONDS from its seed corpus and prints
# what it did: executions, coverage (cov), features (ft), corpus size.
# Fails when the harness crashes, leaks, times out on an input or reports
# anything; the input is then in FUZZ_DIR/artifacts/.
#
#   run-harness.sh FUZZ_DIR HARNESS SECONDS
set -u
dir=$1 harness=$2 seconds=$3
src=$(dirname "$0")
bin=$dir/$harness
seeds=$src/corpus/$harness
work=$dir/corpus/$harness
log=$dir/logs/$harness.log
mkdir -p "$work" "$dir/artifacts" "$dir/logs" "$seeds"
# A crash goes to libFuzzer's handler, not to Swift's interactive backtracer.
LSAN_OPTIONS=suppressions=$src/lsan.supp:print_suppressions=0 \
SWIFT_BACKTRACE=enable=no "$bin" -max_total_time="$seconds" -print_final_stats=1 \
	-timeout=60 -rss_limit_mb=2048 -max_len=65536 \
	-artifact_prefix="$dir/artifacts/$harness-" "$work" "$seeds" >"$log" 2>&1
rc=$?
last=$(grep -E '^#[0-9]+' "$log" | grep -E ' cov: ' | tail -1)
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
printf '%-18s %4ss  execs %-10s %7s/s  cov %-5s ft %-6s corpus %s\n' \
	"$harness" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}"
if [ "$rc" -ne 0 ] || grep -qE '^SUMMARY: |ERROR: (AddressSanitizer|libFuzzer|LeakSanitizer)|runtime error:|property violated' "$log"; then
	echo "$harness: FAILED (exit $rc); the report:" >&2
	grep -E -A30 'ERROR:|runtime error:|property violated|Fatal error|deadly signal' "$log" | head -60 >&2
	ls "$dir"/artifacts/"$harness"-* 2>/dev/null >&2
	exit 1
fi
