#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `eac-dv status`, the DV's health for cron or a monitor: exit 0 when all is
# well; 1 on a warning — no key or no DV certificate yet, the DV
# certificate within 21 days of its expiry (re-key due, CP-4.7a), an IS
# request at risk of its 24-hour processing deadline; 2 when a policy
# deadline is missed — an IS request past its 24 hours (CP-5.4.2), the DV
# certificate expired (CP-4.7c). Boundaries to the second with the test
# clock EAC_TEST_NOW (epoch seconds and ISO 8601 both); processing the
# request and re-keying clear the verdict again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/dv-lib.sh"

# status_is DESC WANT [TIME]: `eac-dv status` (at TIME) exits WANT; the
# output stays in $T_OUT for the assertions that follow
status_is() {
	local desc=$1 want=$2 rc
	rm -f "$COUNTS"
	if [ -n "${3:-}" ]; then
		EAC_TEST_NOW=$3 P11FAULT_MODULE="$REAL_MODULE" P11FAULT_COUNTS="$COUNTS" \
			"$DV_BIN" -c "$FCONF" status > "$T_OUT" 2> "$T_ERR"
	else
		dv status > "$T_OUT" 2> "$T_ERR"
	fi
	rc=$?
	capture
	if [ "$rc" -eq "$want" ] && [ ! -s "$T_ERR" ]; then
		ok "status $desc: exit $want"
	else
		not_ok "status $desc: exit $rc, wanted $want (and nothing on stderr)"
		diag "$T_OUT" "$T_ERR"
	fi
}
iso() { date -u -d "$1" +%Y-%m-%dT%H:%M:%SZ; }

status_is "before init" 1
assert "... this DV has no key yet (CP-3.2.4)" grep -q '^warning .*this DV has no key yet: eac-dv init (CP-3.2.4)' "$T_OUT"
assert "... and it never touched the token" test ! -e "$COUNTS"
enrol_pending_hook() {
	status_is "while the first request is open" 1
	assert "... no DV certificate yet (CP-4.1)" grep -q '^warning .*holds no DV certificate for its key.*(CP-4.1)' "$T_OUT"
}
dv_enrol
status_is "enrolled" 0
assert "... ok, the DV certificate and its re-key date" bash -c "
	grep -q '^dv status: ok' '$T_OUT' &&
	grep -q '^info .*DV certificate FIDVFI001 from FICVCA00001 expires $DV_EXP; re-key due $(date -u -d "$DV_EXP - 21 days" +%F) (CP-4.7a)' '$T_OUT'"
rm -f "$COUNTS"
check "status --json" dv --json status
assert "... one document with the DV certificate and its re-key date" bash -c "
	grep -q '\"certificate\": *\"FIDVFI001\"' '$T_OUT' && grep -q '\"rekey_due\": *\"$(date -u -d "$DV_EXP - 21 days" +%F)\"' '$T_OUT'"

# ---- an IS request and its 24 hours (CP-5.4.2; at risk from 12 h before) ----
check "is add gate 1" dv is add "Gate 1" --org "Finnish Border Guard" --mnemonic GATE1
eckey g1
isreq g1 g1 FIGATE100001
TR=$(( (NOW / 3600) * 3600 )) # received on the hour
AT=$TR receive "gate 1 (received $(iso "@$TR"))" "$W/g1.cvreq"
assert "... due $(iso "@$((TR + DAY))")" grep -q "to be processed by $(iso "@$((TR + DAY))")" "$T_OUT"
status_is "1 hour after receipt" 0 $((TR + 3600))
assert "... one request pending, none overdue" grep -q '^requests pending 1 (overdue 0)' "$T_OUT"
status_is "11:59:59 after receipt" 0 $((TR + 12 * 3600 - 1))
status_is "12 hours after receipt (at risk)" 1 $((TR + 12 * 3600))
assert "... the note: deadline near (CP-5.4.2)" grep -q "^warning request $REQ from FIGATE100001: processing deadline .* near (CP-5.4.2)\$" "$T_OUT"
status_is "24 hours after receipt (the deadline itself)" 1 "$(iso "@$((TR + DAY))")"
status_is "24 hours and 1 second after receipt" 2 $((TR + DAY + 1))
assert "... overdue" grep -q '^requests pending 1 (overdue 1)' "$T_OUT"
assert "... the note: deadline missed (CP-5.4.2)" grep -q \
	"^missed  request $REQ from FIGATE100001: processing deadline $(iso "@$((TR + DAY))") (24 h) missed (CP-5.4.2)\$" "$T_OUT"
rm -f "$COUNTS"
EAC_TEST_NOW=$((TR + DAY + 1)) P11FAULT_MODULE="$REAL_MODULE" P11FAULT_COUNTS="$COUNTS" \
	"$DV_BIN" -c "$FCONF" --json status > "$T_OUT" 2> "$T_ERR"
rc=$?
capture
assert "status --json, overdue: exit $rc = 2, verdict 2, the note 'missed' for request $REQ" bash -c "
	[ $rc -eq 2 ] && grep -q '\"verdict\": 2' '$T_OUT' && grep -q '\"requests_overdue\": 1' '$T_OUT' &&
	grep -q '\"severity\": \"missed\"' '$T_OUT'"
signed "approved 25 hours after receipt" at $((TR + 25 * 3600)) dv is approve "$REQ" --out "$W/FIGATE100001.cvcert"
assert "... with the warning that the processing deadline passed (CP-5.4.2)" grep -q '^eac-dv: warning: .*(CP-5\.4\.2)$' "$T_ERR"
status_is "once it is processed" 0 $((TR + 25 * 3600))

# ---- the DV certificate: re-key due 21 days before its expiry ----
DUE=$(date -u -d "$DV_EXP - 21 days" +%F)
status_is "the day before the re-key date, 23:59:59" 0 "$(date -u -d "$DUE - 1 day" +%Y-%m-%dT23:59:59Z)"
status_is "on the re-key date, 00:00:00 (21 days before expiry)" 1 "${DUE}T00:00:00Z"
assert "... re-key now, with the command" grep -q \
	"^warning .*DV certificate FIDVFI001 from FICVCA00001 expires $DV_EXP: re-key now (due $DUE; eac-dv request --to FICVCA00001 --rekey) (CP-4.7a)" "$T_OUT"
status_is "on the expiry date, 23:59:59" 1 "$(date -u -d "$DV_EXP 23:59:59" +%s)"
status_is "the day after the expiry" 2 "$(date -u -d "$DV_EXP + 1 day" +%Y-%m-%dT00:00:00Z)"
assert "... expired: a new initial request is needed (CP-4.7c)" \
	grep -q "FIDVFI001 from FICVCA00001 expired on $DV_EXP: a new initial request is needed (CP-4.7c)" "$T_OUT"

# re-key on the re-key date: the new certificate clears the warning
AT=${DUE}T09:00:00Z
signed "request --rekey on the re-key date" dv request --to FICVCA00001 --rekey --out "$W/FIDVFI002.cvreq"
check "the CVCA receives it" cvca receive "$W/FIDVFI002.cvreq"
CREQ=$(sed -n 's/^request \([0-9][0-9]*\) from .*/\1/p' "$T_OUT")
check "... and approves it" cvca approve "${CREQ:-0}" --out "$W/FIDVFI002.cvcert"
status_is "re-key requested, not yet imported" 1 "$AT"
check "import FIDVFI002" dv import "$W/FIDVFI002.cvcert"
AT=
status_is "after the re-key, on the old re-key date" 0 "${DUE}T12:00:00Z"
assert "... the new certificate's dates" grep -q '^info .*DV certificate FIDVFI002 from FICVCA00001 expires' "$T_OUT"
done_testing
