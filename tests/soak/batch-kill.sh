#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Soak: SIGKILL at random moments during batch issuance (tests/soak/run,
# `make soak`). Round after round, a fresh directory of SOAK_BATCH requests
# (a new inspection system each round) goes to `eac-dv is issue-batch` with
# SOAK_WORKERS threads, and the batch is cut short by one of:
#   - SIGKILL after a random delay (up to about one batch's duration),
#   - a random failpoint, at its 1st to 3rd hit (EAC_FAILPOINT=name:N),
#   - SIGKILL of every database server process at a random moment (a power
#     cut of the database host), and a restart.
# After each cut the invariants hold (tests/integration/fault-lib.sh: every
# certificate written out has its committed row with the same bytes, every
# row its intent, no CHR or sequence number twice, open_issuances exact,
# the audit chain verifies); `recover` closes every open intent; the batch
# run again issues every request of the round exactly once. A SIGKILL at a
# random moment may land inside a file publish: its temporary dot-file is
# tolerated (never read as a certificate) and counted.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../integration/fault-lib.sh"

SECS=${SOAK_SECONDS:-600}
BATCH=${SOAK_BATCH:-400}
WORKERS=${SOAK_WORKERS:-4}
FPS=(before_intent_commit after_intent_commit after_sign before_result_commit after_result_commit before_release)
export FLT_ALLOW_TMP=1

flt_sandbox soak
flt_pki
DVB=("$FLT_DV" -c "$S/dv-fault.json" --operator soak)
now_ms() { date +%s%3N; }
# calibration: one uninterrupted batch sets the scale of the random delays
check "calibration: inspection system registered" dv is add "soak 0" --org Soak --mnemonic SK0
mkreqs FISK0 "$DVCHR" 1 "$BATCH" "$W/r0" || flt_bail "requests made"
t0=$(now_ms)
check "calibration: a batch of $BATCH with $WORKERS workers" \
	"${DVB[@]}" is issue-batch "$W/r0" --out-dir "$W/out-r0" --workers "$WORKERS"
dur_ms=$(($(now_ms) - t0))
echo "# soak: an uninterrupted batch of $BATCH takes $dur_ms ms"
deadline=$((SECONDS + SECS))
round=0
kills=0 fps=0 cuts=0 finished=0 total=0

while [ "$SECONDS" -lt "$deadline" ]; do
	round=$((round + 1))
	R=r$round
	dir=$W/$R
	out=$W/out-$R
	dv is add "soak $round" --org Soak --mnemonic "SK$round" >"$T_OUT" 2>"$T_ERR" ||
		{ capture; not_ok "$R: inspection system registered"; diag "$T_ERR"; break; }
	capture
	mkreqs "FISK$round" "$DVCHR" 1 "$BATCH" "$dir" || { not_ok "$R: requests made"; break; }
	total=$((total + BATCH))
	rm -f "$COUNTS"
	mode=$((RANDOM % 10))
	if [ "$mode" -lt 5 ]; then
		how="SIGKILL after"
		delay=$(((RANDOM * 32768 + RANDOM) % (dur_ms * 6 / 5 + 1)))
		"${DVB[@]}" is issue-batch "$dir" --out-dir "$out" --workers "$WORKERS" >"$T_OUT" 2>"$T_ERR" &
		pid=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		kill -9 "$pid" 2>/dev/null && kills=$((kills + 1))
		wait "$pid"
		rc=$?
		how="$how $delay ms"
	elif [ "$mode" -lt 9 ]; then
		fp=${FPS[$((RANDOM % ${#FPS[@]}))]}:$((RANDOM % 3 + 1))
		how="failpoint $fp"
		EAC_FAILPOINT=$fp "${DVB[@]}" is issue-batch "$dir" --out-dir "$out" --workers "$WORKERS" \
			>"$T_OUT" 2>"$T_ERR"
		rc=$?
		[ "$rc" -eq 137 ] && fps=$((fps + 1))
	else
		delay=$(((RANDOM * 32768 + RANDOM) % (dur_ms * 6 / 5 + 1)))
		how="database killed after $delay ms"
		"${DVB[@]}" is issue-batch "$dir" --out-dir "$out" --workers "$WORKERS" >"$T_OUT" 2>"$T_ERR" &
		pid=$!
		sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
		pg_kill && cuts=$((cuts + 1))
		wait "$pid"
		rc=$?
		pg_start || { not_ok "$R: the database server restarts"; break; }
	fi
	capture
	[ "$rc" -eq 0 ] && finished=$((finished + 1))
	echo "# $R: $how: exit $rc, $(find "$out" -name '*.cvcert' 2>/dev/null | wc -l) written, $(open_intents dv) open intents"
	invariants "$R ($how)" dv "$out" "$S/dv/recovered"
	check "$R: recover" dv recover
	assert "$R: no open intent after recovery" test "$(open_intents dv)" -eq 0
	check "$R: the batch run again completes" "${DVB[@]}" is issue-batch "$dir" --out-dir "$out" --workers "$WORKERS"
	n=$(find "$out" -name 'FISK*.cvcert' | wc -l)
	assert "$R: $BATCH requests, $n certificates written out" test "$n" -eq "$BATCH"
	assert "$R: exactly one certificate per request in the record" test "$(sql dv "SELECT count(*) FROM
		eac.certificates WHERE chr LIKE 'FISK${round}0%' AND length(chr) = length('FISK${round}') + 5")" -eq "$BATCH"
	invariants "$R completed" dv "$out" "$S/dv/recovered"
done
echo "# soak: $round rounds, $total requests: $kills killed at random, $fps at a failpoint, $cuts database power cuts, $finished batches finished before the cut"
assert "the soak ran at least one round" test "$round" -ge 1
invariants "at the end" dv "$W"/out-* "$S/dv"
done_testing
