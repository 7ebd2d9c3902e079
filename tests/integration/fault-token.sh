#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Token faults on the issuance path, injected by the PKCS#11 fault module
# (tests/p11fault, docs/HSM.md §8), on both engines. The documented
# behaviour (docs/HSM.md §3, §7) and nothing half-written:
#  - wrong PIN: exactly one C_Login, no signature, exit 3 with one line,
#    audited as login.fail, no intent recorded; the request is approved
#    later with the right PIN;
#  - PIN locked / final-try flag: no C_Login at all (the PIN is not even
#    read), exit 3, audited, nothing recorded; C_Login answering
#    CKR_PIN_LOCKED: one try, the same;
#  - token absent: exit 3 naming the token, no login, nothing recorded;
#  - device removed at the signature of a single approval: exit 3, the
#    intent abandoned with the token's error as its reason (audited),
#    nothing written; the request is approved later;
#  - device removed in the middle of a batch: the batch stops (exit 3),
#    only certificates recorded before the removal are written out, every
#    intent is closed by `recover` once the token is back, and the batch
#    run again issues each request exactly once.
# The record's invariants (fault-lib.sh) hold after each.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"

flt_sandbox token
flt_pki
mkreqs FIDVA "$ROOT" 1 10 "$W/rq-cvca" || flt_bail "requests made"
mkreqs FIGATE1 "$DVCHR" 1 10 "$W/rq-dv" || flt_bail "requests made"
mkdir -p "$W/out-cvca" "$W/out-dv"
# a wrong PIN carries the suite's marker too: it must not leak either
WRONG=$W/wrong.pin
printf '%sWRONG\n' "${EAC_TEST_PIN_MARKER:-PINMARKlocal}" >"$WRONG"
chmod 600 "$WRONG"

audit_n() { sql "$1" "SELECT count(*) FROM eac.audit_events WHERE action = '$2'"; }
intents_for() { sql "$1" "SELECT count(*) FROM eac.issuances WHERE request_id = $2"; }

# login_fault ENGINE LABEL REQ OUT WANT-LOGINS REGEX ENV... -- CMD...:
# CMD (approving REQ) fails at the token with one line matching REGEX,
# exit 3, WANT-LOGINS C_Login, no C_Sign, audited, nothing recorded/written
login_fault() {
	local eng=$1 label=$2 req=$3 out=$4 logins=$5 re=$6 before
	shift 6
	local envs=()
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	before=$(audit_n "$eng" login.fail)
	rm -f "$COUNTS"
	refuse "$label: exit 3, one line" 3 "$re" env "${envs[@]}" "$@"
	assert "$label: $logins C_Login (counted $(calls C_Login))" test "$(calls C_Login)" -eq "$logins"
	assert "$label: nothing signed (C_Sign $(calls C_Sign))" test "$(calls C_Sign)" -eq 0
	assert "$label: audited as login.fail" test "$(audit_n "$eng" login.fail)" -eq $((before + 1))
	assert "$label: no intent recorded" test "$(intents_for "$eng" "$req")" -eq 0
	assert "$label: nothing written out" test ! -e "$out"
}
CV=("$FLT_CVCA" -c "$S/cvca-fault.json" --operator "$FLT_OPERATOR")
DVB=("$FLT_DV" -c "$S/dv-fault.json" --operator "$FLT_OPERATOR")

for eng in cvca dv; do
	if [ "$eng" = cvca ]; then
		prefix=FIDVA; label=CVCA; prog=eac-cvca; cmd=("${CV[@]}" approve); key=$ROOT
	else
		prefix=FIGATE1; label=DV; prog=eac-dv; cmd=("${DVB[@]}" is approve); key=$DVCHR
	fi
	# one request per fault, so that each one starts from a clean state
	ids=()
	for k in 1 2 3 4 5 6; do
		if [ "$eng" = cvca ]; then receive_cvca "$W/rq-cvca/FIDVA0000$k.cvreq"; else
			receive_dv "$W/rq-dv/FIGATE10000$k.cvreq"; fi
		ids+=("$REQ")
	done
	o() { echo "$W/out-$eng/${prefix}0000$1.cvcert"; }
	# --pin-fd takes precedence over the configuration's pin_file
	login_fault "$eng" "$eng: wrong PIN" "${ids[0]}" "$(o 1)" 1 \
		"^$prog: token $label: wrong PIN \\(CKR_PIN_INCORRECT\\)" -- \
		bash -c '"$@" 3<"$0"' "$WRONG" "${cmd[0]}" "${cmd[@]:1:4}" --pin-fd 3 "${cmd[@]:5}" \
		"${ids[0]}" --out "$(o 1)"
	login_fault "$eng" "$eng: PIN locked (token flag)" "${ids[1]}" "$(o 2)" 0 \
		"^$prog: token $label: user PIN locked; the security officer must unlock it \\(no login attempted\\)" \
		P11FAULT_TOKEN_FLAGS=+CKF_USER_PIN_LOCKED -- "${cmd[@]}" "${ids[1]}" --out "$(o 2)"
	login_fault "$eng" "$eng: final try (token flag)" "${ids[2]}" "$(o 3)" 0 \
		"^$prog: token $label: the user PIN has one try left; refusing to spend it \\(no login attempted" \
		P11FAULT_TOKEN_FLAGS=+CKF_USER_PIN_FINAL_TRY -- "${cmd[@]}" "${ids[2]}" --out "$(o 3)"
	login_fault "$eng" "$eng: C_Login answers CKR_PIN_LOCKED" "${ids[3]}" "$(o 4)" 1 \
		"^$prog: token $label: PIN locked: the security officer must unlock it \\(CKR_PIN_LOCKED\\)" \
		P11FAULT_LOGIN_RV=CKR_PIN_LOCKED -- "${cmd[@]}" "${ids[3]}" --out "$(o 4)"
	rm -f "$COUNTS"
	refuse "$eng: token absent: exit 3, one line naming it" 3 "^$prog: .*token.*$label" \
		env P11FAULT_REMOVE_AT=C_GetTokenInfo@1 "${cmd[@]}" "${ids[4]}" --out "$(o 5)"
	assert "$eng: token absent: no login, nothing signed" test "$(calls C_Login):$(calls C_Sign)" = 0:0
	assert "$eng: token absent: no intent recorded, nothing written" \
		test "$(intents_for "$eng" "${ids[4]}"):$([ -e "$(o 5)" ] && echo written)" = 0:
	# the officer types the right PIN, minutes later
	export EAC_TEST_NOW=$(($(date -u +%s) + 300))
	rm -f "$COUNTS"
	check "$eng: the request of the wrong PIN is approved with the right one" \
		"${cmd[@]}" "${ids[0]}" --out "$(o 1)"
	unset EAC_TEST_NOW
	assert "$eng: ... one login, one signature" test "$(calls C_Login):$(calls C_Sign)" = 1:1
	invariants "$eng after login faults" "$eng" "$W/out-$eng" "$S/$eng"

	# device removed at the signature of a single approval
	id=${ids[5]}
	out=$(o 6)
	before=$(audit_n "$eng" issuance.abandon)
	rm -f "$COUNTS"
	refuse "$eng: device removed while signing: exit 3, one line" 3 \
		"^$prog: token $label: signing with key $key \\([A-Z0-9-]*\\): device removed \\(CKR_DEVICE_REMOVED\\)\$" \
		env P11FAULT_REMOVE_AT=C_Sign@1 "${cmd[@]}" "$id" --out "$out"
	assert "$eng: device removed: nothing written out" test ! -e "$out"
	assert "$eng: device removed: the intent is abandoned, none left open" \
		test "$(sql "$eng" "SELECT count(*) FROM eac.issuances WHERE request_id = $id AND abandoned_at IS NOT NULL"):$(open_intents "$eng")" = 1:0
	assert "$eng: device removed: the abandonment is audited with the token's error" \
		test "$(audit_n "$eng" issuance.abandon):$(sql "$eng" "SELECT count(*) FROM eac.audit_events
			WHERE action = 'issuance.abandon'
			AND details::json->>'reason' LIKE 'signing failed: %CKR_DEVICE_REMOVED%'")" = "$((before + 1)):1"
	invariants "$eng after the device was removed" "$eng" "$W/out-$eng" "$S/$eng"
	export EAC_TEST_NOW=$(($(date -u +%s) + 300))
	rm -f "$COUNTS"
	check "$eng: approved once the device is back" "${cmd[@]}" "$id" --out "$out"
	unset EAC_TEST_NOW
	assert "$eng: ... signed once" test "$(calls C_Sign)" -eq 1
	assert "$eng: ... one certificate for the request" \
		test "$(sql "$eng" "SELECT count(*) FROM eac.certificates WHERE request_id = $id")" -eq 1
	invariants "$eng at the end" "$eng" "$W/out-$eng" "$S/$eng"
done

# ---- device removed in the middle of a batch ----
# 80 requests, one worker: chunks of 64 and 16; the device goes away at the
# 70th signature, in the second chunk
mkreqs FIGATE1 "$DVCHR" 100 80 "$W/batch" || flt_bail "batch requests made"
B=$W/out-batch
rm -f "$COUNTS"
refuse "batch: device removed at the 70th signature: the batch stops, exit 3, one line" 3 \
	"^eac-dv: batch stopped: .*device removed \\(CKR_DEVICE_REMOVED\\)" \
	env P11FAULT_REMOVE_AT=C_Sign@70 "${DVB[@]}" is issue-batch "$W/batch" --out-dir "$B" --workers 1
cp "$T_OUT" "$W/batch1.out"
assert "batch: 70 C_Sign, none after the removal" test "$(calls C_Sign)" -eq 70
assert "batch: the first chunk (64) is written out, nothing of the second" \
	test "$(find "$B" -name '*.cvcert' | wc -l)" -eq 64
assert "batch: the report says 64 issued, 16 failed" grep -q '^64 issued, 0 refused, 16 failed' "$W/batch1.out"
assert "batch: each of the 16 is reported failed" test "$(grep -c '^failed  FIGATE1' "$W/batch1.out")" -eq 16
invariants "batch after the removal" dv "$B" "$S/dv"
rm -f "$COUNTS"
check "batch: recover once the device is back" dv recover
assert "batch: no open intent after recovery" test "$(open_intents dv)" -eq 0
rm -f "$COUNTS"
check "batch: run again, it completes" dv is issue-batch "$W/batch" --out-dir "$B" --workers 1
missing=0
for r in "$W/batch"/*.cvreq; do
	c=$(basename "$r" .cvreq)
	[ -f "$B/$c.cvcert" ] || missing=$((missing + 1))
	[ "$(sql dv "SELECT count(*) FROM eac.certificates WHERE chr = '$c'")" = 1 ] || missing=$((missing + 1))
done
assert "batch: every one of the 80 requests has exactly one certificate, written out" test "$missing" -eq 0
invariants "batch completed" dv "$B" "$S/dv"
done_testing
