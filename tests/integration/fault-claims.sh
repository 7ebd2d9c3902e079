#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Recovery beside a live issuance (db.h: claims). An approval stopped
# (SIGSTOP, EAC_FAILPOINT_STOP) right after signing is alive: it holds its
# database connection and the claim on its intent. Then:
#  - `recover` leaves its intent alone ("in progress"): no C_Sign, nothing
#    abandoned, the intent still open;
#  - a second approval of the same request waits for it and, once the first
#    goes on (SIGCONT), answers with the same certificate, byte for byte;
#    one intent, one certificate, one C_Sign in all;
#  - an approval killed at the same point holds nothing any more: a second
#    approval of its request says at once that the issuance was interrupted
#    and that `recover` completes it; `recover` does, and the request's
#    answer is then that certificate.
# The record's invariants (fault-lib.sh) hold afterwards.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"

flt_sandbox claims
flt_pki
OUT=$W/dv-out
mkdir -p "$OUT"
mkreqs FIGATE1 "$DVCHR" 500 2 "$W/rq" || flt_bail "requests made"

# stopped APPROVAL-OUT REQ FILE: `dv is approve REQ --out FILE` in the
# background, stopped after signing; sets HOLDER (its pid)
stopped() {
	local log=$1 req=$2 file=$3 i
	(
		export EAC_FAILPOINT=after_sign EAC_FAILPOINT_STOP=1 P11FAULT_COUNTS=$W/holder.counts
		exec "$FLT_DV" -c "$S/dv-fault.json" --operator "$FLT_OPERATOR" is approve "$req" --out "$file"
	) >"$log.out" 2>"$log.err" &
	HOLDER=$!
	for i in $(seq 1 600); do
		[ "$(ps -o stat= -p "$HOLDER" 2>/dev/null | cut -c1)" = T ] && break
		sleep 0.05
	done
	if [ "$(ps -o stat= -p "$HOLDER" 2>/dev/null | cut -c1)" = T ] &&
		grep -qx "failpoint after_sign: stopping process" "$log.err"; then
		ok "the approval of request $req stopped after signing (pid $HOLDER)"
	else
		not_ok "the approval of request $req stopped after signing"
		diag "$log.out" "$log.err"
	fi
}

# ---- a live holder: recovery and a second approval leave it alone ----
receive_dv "$W/rq/FIGATE100500.cvreq"
R1=$REQ
stopped "$W/holder1" "$R1" "$OUT/FIGATE100500.cvcert"
IID=$(sql dv "SELECT issuance_id FROM eac.open_issuances")
assert "its intent ($IID) is open" test "$(open_intents dv)" -eq 1
rm -f "$COUNTS"
check "recover beside the live approval" dv recover
assert "recover leaves intent $IID alone: in progress" \
	grep -q "intent $IID (is FIGATE100500): in progress: another process is issuing it now" "$T_OUT"
assert "... signs nothing (C_Sign $(calls C_Sign))" test "$(calls C_Sign)" -eq 0
assert "... and abandons nothing: the intent is still open" test "$(open_intents dv)" -eq 1
assert "... no abandonment recorded" \
	test "$(sql dv "SELECT count(*) FROM eac.issuances WHERE abandoned_at IS NOT NULL")" -eq 0

# a second approval of the same request, while the first is stopped
(
	export P11FAULT_COUNTS=$W/second.counts
	exec "$FLT_DV" -c "$S/dv-fault.json" --operator "$FLT_OPERATOR" is approve "$R1" \
		--out "$W/second.cvcert"
) >"$W/second.out" 2>"$W/second.err" &
SECOND=$!
sleep 1
assert "the second approval waits for the first" kill -0 "$SECOND"
kill -CONT "$HOLDER"
wait "$HOLDER"
H_RC=$?
wait "$SECOND"
S_RC=$?
cat "$W/holder1.out" "$W/holder1.err" "$W/second.out" "$W/second.err" >>"$T_CAPTURE"
assert "the first approval, continued, issues FIGATE100500 (exit $H_RC)" bash -c \
	"[ $H_RC -eq 0 ] && [ -s '$OUT/FIGATE100500.cvcert' ]"
assert "the second answers with the same certificate (exit $S_RC)" bash -c \
	"[ $S_RC -eq 0 ] && cmp -s '$OUT/FIGATE100500.cvcert' '$W/second.cvcert'"
assert "one intent, one certificate for the request" bash -c \
	"[ $(sql dv "SELECT count(*) FROM eac.issuances WHERE request_id = $R1") -eq 1 ] &&
	 [ $(sql dv "SELECT count(*) FROM eac.certificates WHERE request_id = $R1") -eq 1 ]"
assert "one C_Sign in all (the holder's; the second signed nothing)" bash -c \
	"[ $(calls C_Sign "$W/holder.counts") -eq 1 ] && [ $(calls C_Sign "$W/second.counts") -eq 0 ]"
assert "no intent open" test "$(open_intents dv)" -eq 0
check "recover: nothing to recover" dv recover
assert "... says so" grep -q "nothing to recover" "$T_OUT"

# ---- a dead holder: interrupted, recovery's to complete ----
receive_dv "$W/rq/FIGATE100501.cvreq"
R2=$REQ
stopped "$W/holder2" "$R2" "$OUT/FIGATE100501.cvcert"
IID=$(sql dv "SELECT issuance_id FROM eac.open_issuances")
kill -KILL "$HOLDER"
wait "$HOLDER" 2>/dev/null
# the server notices the lost connection a moment later: give it a second
sleep 1
refuse "a second approval says at once that the issuance was interrupted" 1 \
	"request $R2: its issuance \\(intent $IID\\) was interrupted and no process works on it: eac-dv recover completes it" \
	dv is approve "$R2" --out "$W/third.cvcert"
assert "... and writes nothing" test ! -e "$W/third.cvcert"
rm -f "$COUNTS"
check "recover completes it" dv recover
assert "intent $IID completed" grep -q "intent $IID (is FIGATE100501): completed -> " "$T_OUT"
assert "... with one C_Sign" test "$(calls C_Sign)" -eq 1
check "the request's answer is now that certificate" dv is approve "$R2" --out "$OUT/FIGATE100501.cvcert"
assert "... the recorded bytes" test "$(sha256sum <"$OUT/FIGATE100501.cvcert" | cut -c1-64)" = \
	"$(sql dv "SELECT encode(sha256(der), 'hex') FROM eac.certificates WHERE request_id = $R2")"
invariants "after the claims" dv "$OUT" "$W/second.cvcert" "$S/dv"
done_testing
