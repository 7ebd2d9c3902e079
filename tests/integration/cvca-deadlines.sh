#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The CVCA's 72-hour processing deadline (CP-4.2.2, CP-5.4.2) in
# `eac-cvca status`, with the test clock (EAC_TEST_NOW, test builds only):
# a request received 73 hours ago makes status exit 2 and name it; at 59 h
# it is on time (exit 0), from 60 h (the national 12-hour margin) through
# 72 h it is at risk (exit 1). Lateness never refuses a valid request: it is
# issued with a warning, and status is clean again afterwards.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cvca-lib.sh"

H=3600
issued "init (10 days ago)" at "$((NOW - 10 * DAY))" cvca init --curve brainpoolP256r1 \
	--officer "A. Admin" --officer "S. Officer"
check "a domestic DV is registered" cvca dv register --country FI --mnemonic DVA --name "DV A" \
	--conformity-expires 2099-12-31
status_at
assert "status with nothing pending: exit 0 ($STATUS_RC)" test "$STATUS_RC" -eq 0

eckey dva
check "the DV's request" "$CVC" request --key "$W/dva.pem" --chr FIDVA00001 --car FICVCA00001 --out "$W/dva.cvreq"
R=$((NOW - 73 * H))
AT=$R receive "request received 73 hours ago" "$W/dva.cvreq"
ID=$REQ
assert "... due 72 hours after receipt" grep -q "to be processed by $(date -u -d "@$((R + 72 * H))" +%FT%TZ)" "$T_OUT"

status_at "$((R + 59 * H))"
assert "status 59 h after receipt: on time, exit 0 ($STATUS_RC)" test "$STATUS_RC" -eq 0
assert "... the request is listed as information" grep -Eq "^info +request $ID from FIDVA00001: processing deadline" "$T_OUT"
status_at "$((R + 60 * H))"
assert "status 60 h after receipt: at risk (12-hour margin), exit 1 ($STATUS_RC)" test "$STATUS_RC" -eq 1
assert "... a warning naming the request and the rule" \
	grep -Eq "^warning +request $ID from FIDVA00001: processing deadline .* near \(CP-4\.2\.2\)$" "$T_OUT"
status_at "$((R + 72 * H))"
assert "status exactly 72 h after receipt: still in time, exit 1 ($STATUS_RC)" test "$STATUS_RC" -eq 1
status_at "$((R + 72 * H + 1))"
assert "status one second later: missed, exit 2 ($STATUS_RC)" test "$STATUS_RC" -eq 2

status_at
assert "status now, 73 h after receipt: exit 2 ($STATUS_RC)" test "$STATUS_RC" -eq 2
assert "... 'deadline missed'" grep -qx 'cvca status: deadline missed' "$T_OUT"
assert "... one pending, one overdue" grep -q '^requests pending 1 (overdue 1)' "$T_OUT"
assert "... it names the request, its holder, the deadline and the rule" grep -Eqx \
	"missed +request $ID from FIDVA00001: processing deadline $(date -u -d "@$((R + 72 * H))" +%FT%TZ) \(72 h\) missed \(CP-4\.2\.2\)" "$T_OUT"
assert "... nothing on stderr" test ! -s "$T_ERR"
cvca --json status > "$T_OUT" 2> "$T_ERR"
rc=$?
capture
assert "status --json: exit 2 too, verdict 2, the request overdue" bash -c "
	[ $rc -eq 2 ] && grep -q '\"verdict\": 2' '$T_OUT' && grep -q '\"request\": $ID' '$T_OUT' &&
	grep -q '\"status\": \"overdue\"' '$T_OUT'"

issued "the late request is still issued (lateness never refuses)" cvca approve "$ID" --out "$W/FIDVA00001.cvcert"
assert "... with a warning that the 72-hour deadline passed (CP-4.2.2)" \
	grep -q '^eac-cvca: warning: the 72-hour processing deadline for this request passed at .*(CP-4.2.2)$' "$T_ERR"
status_at
assert "status after it was processed: exit 0 ($STATUS_RC)" test "$STATUS_RC" -eq 0
assert "... nothing pending" grep -q '^requests pending 0 (overdue 0)' "$T_OUT"
done_testing
