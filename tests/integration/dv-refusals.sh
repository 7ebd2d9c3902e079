#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every IS request eac-dv must refuse, made by an independent generator
# (eac-cvc request with software keys): each refusal exits 1 with one line
# naming its rule, and the DV token signs nothing (C_Sign = 0, counted by the
# PKCS#11 fault module); the successes next to them sign and verify with
# OpenPACE (so the count and the verdict can fail).
#   stolen, lost, retired and unregistered inspection systems (CP-3.3.2);
#   rights wider than the DV certificate's (CP-1.3b); validity beyond the
#   national maximum or the DV certificate (CP-5.4.1: clamped, refused once
#   nothing is left); a key on another curve (TR-03110-3 D.3.3); a reused
#   key (CP-4.6) or holder reference (CP-3.1b); no proof of possession and
#   a bad outer signature (CP-4.2.3); a CAR that names no DV certificate of
#   this DV (CP-3.1a); a re-key signed by another terminal (CP-4.7b).
# Status changes (`is mark`) follow the registry's rule (a lost terminal
# may be found; stolen and retired are final, refused with CP-3.3.2) and
# are audited: the chain verifies and the auditor role sees the events.
# Around them: a resubmitted request is answered with its certificate
# (no second signature), and a request whose approval failed at the token
# after validation is issued by the next approval.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/dv-lib.sh"

# the CVCA grants this DV dg3 only: narrower than the national IS default
dv_enrol --rights dg3
TRUST=("FICVCA00001=$CVCA_CERT" "FIDVFI001=$DV_CERT")

for g in 1 2 3 4 5 6 7; do
	check "is add gate $g" dv is add "Gate $g" --org "Finnish Border Guard" --mnemonic "GATE$g"
done
refused_msg "is add: the same name again" 1 "an inspection system named 'Gate 1' or with mnemonic GATE1 is already registered\$" \
	dv is add "Gate 1" --org "Finnish Border Guard" --mnemonic GATE1
refused_msg "is mark: an unknown inspection system" 1 "no inspection system 'Gate 9' is registered\$" \
	dv is mark "Gate 9" stolen
refused_msg "is mark: an unknown status" 2 "status must be operational, stolen, lost or retired\$" \
	dv is mark "Gate 1" broken

# ---- a good request: issued, narrowed to the DV's rights ----
eckey g1
isreq g1 g1 FIGATE100001
receive "gate 1" "$W/g1.cvreq"
assert "... due within 24 hours (CP-5.4.2)" grep -q 'to be processed by .*(24 h, CP-5.4.2)' "$T_OUT"
signed "gate 1: issued" dv is approve "$REQ" --out "$W/FIGATE100001.cvcert"
assert "... exactly one signature" test "$(calls C_Sign)" -eq 1
assert "... with the warning that dg4 was dropped (CP-1.3b)" \
	grep -q '^eac-dv: warning: default rights narrowed.*dg4.*(CP-1\.3b)$' "$T_ERR"
openpace "gate 1: OpenPACE verifies FIGATE100001 under FIDVFI001 and FICVCA00001" \
	"$W/FIGATE100001.cvcert" "${TRUST[@]}"
assert "... rights dg3 only, CAR FIDVFI001" bash -c "
	'$CVC' print '$W/FIGATE100001.cvcert' | grep -q '^    rights: *dg3\$' &&
	[ \"\$('$CVC' print '$W/FIGATE100001.cvcert' | sed -n 's/^  CAR: *\([^ ]*\).*/\1/p')\" = FIDVFI001 ]"

receive "gate 1's request again" "$W/g1.cvreq"
assert "... is the same request, resubmitted" grep -q '^IS request 1 from FIGATE100001 (resubmitted: same request)' "$T_OUT"
rm -f "$COUNTS"
check "approving it again" dv is approve 1 --out "$W/FIGATE100001.again.cvcert"
assert "... answers with the same certificate, nothing signed" bash -c "
	grep -q '^already issued: IS certificate FIGATE100001' '$T_OUT' &&
	cmp -s '$W/FIGATE100001.cvcert' '$W/FIGATE100001.again.cvcert' && [ $(calls C_Sign) -eq 0 ]"

# an approval that fails at the token after validating the request leaves
# it validated, without intent: the next approval issues it (at once)
eckey g1b
isreq g1b g1b FIGATE100009
receive "gate 1, a second key" "$W/g1b.cvreq"
rm -f "$COUNTS"
P11FAULT_LOGIN_RV=CKR_DEVICE_ERROR dv is approve "$REQ" --out "$W/FIGATE100009.cvcert" > "$T_OUT" 2> "$T_ERR"
rc=$?
capture
assert "approval with the token failing at login: exit $rc = 3, nothing signed, nothing written" \
	test "$rc" -eq 3 -a "$(calls C_Sign)" -eq 0 -a ! -e "$W/FIGATE100009.cvcert"
assert "... the request was validated before the token failed" \
	test "$(sql dv "select state from eac.requests where id = $REQ")" = validated
t0=$SECONDS
signed "the next approval, by another officer, issues it" env P11FAULT_MODULE="$REAL_MODULE" \
	P11FAULT_COUNTS="$COUNTS" "$DV_BIN" -c "$FCONF" --operator "second officer" \
	is approve "$REQ" --out "$W/FIGATE100009.cvcert"
assert "... without waiting for an approval that is not under way ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 10
openpace "... OpenPACE verifies FIGATE100009" "$W/FIGATE100009.cvcert" "${TRUST[@]}"

# ---- CP-3.3.2: stolen, lost, retired, unregistered ----
check "is mark gate 2 stolen" dv is mark "Gate 2" stolen --reason "reported stolen at the airport"
assert "... says no certificate will be issued (CP-3.3.2)" \
	grep -q 'Gate 2 is now stolen: no certificate will be issued to it (CP-3.3.2)' "$T_OUT"
eckey g2
isreq g2 g2 FIGATE200001
receive "gate 2 (stolen)" "$W/g2.cvreq"
STOLEN=$REQ
refused "a stolen inspection system" CP-3.3.2b dv is approve "$STOLEN" --out "$W/FIGATE200001.cvcert"
assert "... no certificate written" test ! -e "$W/FIGATE200001.cvcert"
refused "approving it again gives the same answer" CP-3.3.2b dv is approve "$STOLEN"
assert "... which says it was rejected" grep -q "request $STOLEN was rejected: .*stolen" "$T_ERR"

check "is mark gate 3 lost" dv is mark "Gate 3" lost --reason "missing since the inventory"
eckey g3
isreq g3 g3 FIGATE300001
receive "gate 3 (lost)" "$W/g3.cvreq"
LOST=$REQ
refused "a lost inspection system" CP-3.3.2b dv is approve "$LOST"
assert "... named as lost" grep -q 'FIGATE3 is marked lost' "$T_ERR"

check "is mark gate 4 retired" dv is mark "Gate 4" retired --reason "decommissioned"
eckey g4
isreq g4 g4 FIGATE400001
receive "gate 4 (retired)" "$W/g4.cvreq"
refused "a retired inspection system" CP-3.3.2a dv is approve "$REQ"

eckey ghost
isreq ghost ghost FIGHOST00001
refused "is receive: an unregistered inspection system" CP-3.3.2 dv is receive "$W/ghost.cvreq"
assert "... the token was never opened" test ! -e "$COUNTS"
isreq de-gate ghost DEGATE100001
refused "is receive: a terminal of another country" CP-3.3.2 dv is receive "$W/de-gate.cvreq"

# a lost terminal may be found; a stolen one is never trusted again and
# retirement is final (the database's rule; eac-dv says so with CP-3.3.2)
check "is mark gate 3 operational (found)" dv is mark "Gate 3" operational --reason "found in the lost-and-found office"
refused "the request refused while gate 3 was lost stays rejected" CP-3.3.2b dv is approve "$LOST"
eckey g3b
isreq g3b g3b FIGATE300002
receive "gate 3, a new request" "$W/g3b.cvreq"
signed "gate 3 operational again: issued" dv is approve "$REQ" --out "$W/FIGATE300002.cvcert"
openpace "... OpenPACE verifies FIGATE300002" "$W/FIGATE300002.cvcert" "${TRUST[@]}"
refused "is mark: a stolen inspection system cannot become operational" CP-3.3.2 \
	dv is mark "Gate 2" operational --reason "found"
assert "... never trusted again" grep -q 'Gate 2 is stolen and cannot become operational: a stolen inspection system is never trusted again' "$T_ERR"
refused "is mark: nor lost" CP-3.3.2 dv is mark "Gate 2" lost
refused "is mark: a retired inspection system cannot return" CP-3.3.2 dv is mark "Gate 4" operational
assert "... retirement is final" grep -q 'Gate 4 is retired and cannot become operational: retirement is final' "$T_ERR"
check "is mark: a stolen inspection system may be retired" dv is mark "Gate 2" retired --reason "written off"

# ---- CP-1.3b: rights wider than the DV certificate's (dg3) ----
eckey g5
isreq g5 g5 FIGATE500001
receive "gate 5" "$W/g5.cvreq"
refused "--rights dg3,dg4 under a DV certificate with dg3" CP-1.3b dv is approve "$REQ" --rights dg3,dg4
refused "--rights dg4 under a DV certificate with dg3" CP-1.3b dv is approve "$REQ" --rights dg4
# ---- CP-5.4.1: the national maximum (1 month; no month has 32 days) ----
refused "--validity 32: more than the IS maximum of 1 month" CP-5.4.1 dv is approve "$REQ" --validity 32
# the officer's own options caused those refusals: the request is still open
signed "gate 5: the same request issued with --rights dg3 --validity 7" \
	dv is approve "$REQ" --rights dg3 --validity 7 --out "$W/FIGATE500001.cvcert"
assert "... valid 7 days from today" test "$(field "$W/FIGATE500001.cvcert" expiry)" = "$(date -u -d '+7 days' +%F)"
openpace "... OpenPACE verifies FIGATE500001" "$W/FIGATE500001.cvcert" "${TRUST[@]}"

# ---- TR-03110-3 D.3.3: the terminal's key on another curve ----
eckey g6p256 P-256
isreq g6p256 g6p256 FIGATE600001
receive "gate 6, key on P-256" "$W/g6p256.cvreq"
refused "a key on P-256 under a brainpoolP256r1 chain" "TR-03110-3 D.3.3" dv is approve "$REQ"
eckey g6bp384 brainpoolP384r1
isreq g6bp384 g6bp384 FIGATE600002
receive "gate 6, key on brainpoolP384r1" "$W/g6bp384.cvreq"
refused "a key on brainpoolP384r1" "TR-03110-3 D.3.3" dv is approve "$REQ"

# ---- keys and names (CP-4.6, CP-3.1b) ----
isreq reuse-same g1 FIGATE100002
receive "gate 1 asks again for its certified key" "$W/reuse-same.cvreq"
refused "gate 1's certified key requested again by gate 1 (renewal)" CP-4.6 dv is approve "$REQ"
isreq reuse-other g1 FIGATE600003
receive "gate 6 asks for gate 1's key" "$W/reuse-other.cvreq"
refused "gate 1's certified key requested by gate 6" CP-4.6 dv is approve "$REQ"
eckey g1new
isreq chr-reuse g1new FIGATE100001
receive "FIGATE100001 again, with a new key" "$W/chr-reuse.cvreq"
refused "a holder reference that already names another key" CP-3.1b dv is approve "$REQ"

# ---- the request's signatures (CP-4.2.3) and its CAR (CP-3.1a) ----
eckey g6
isreq g6 g6 FIGATE600004
flip "$W/g6.cvreq" -1 "$W/g6-badinner.cvreq"
receive "gate 6, inner signature broken" "$W/g6-badinner.cvreq"
refused "no proof of possession (inner signature)" CP-4.2.3 dv is approve "$REQ"
eckey stranger
isreq g6-outer g6 FIGATE600004 FIDVFI001 --outer-key "$W/stranger.pem" --outer-car FIGATE999999
receive "gate 6, outer-signed under an unknown CAR" "$W/g6-outer.cvreq"
refused "an outer signature by a key this DV does not know" CP-4.2.3 dv is approve "$REQ"
isreq g6-car g6 FIGATE600004 FIDVFI009
receive "gate 6, CAR FIDVFI009" "$W/g6-car.cvreq"
refused "a CAR that names no DV certificate of this DV" CP-3.1a dv is approve "$REQ"
isreq g6-cvca g6 FIGATE600004 FICVCA00001
receive "gate 6, CAR FICVCA00001" "$W/g6-cvca.cvreq"
refused "a CAR that names the CVCA" CP-3.1a dv is approve "$REQ"

# ---- re-key (TR-03110-3 C.2.6): outer-signed by the terminal's current key ----
eckey g1r
isreq g1-rekey g1r FIGATE100003 FIDVFI001 --outer-key "$W/g1.pem" --outer-car FIGATE100001
receive "gate 1 re-key, outer-signed by FIGATE100001" "$W/g1-rekey.cvreq"
signed "gate 1 re-key: issued" dv is approve "$REQ" --out "$W/FIGATE100003.cvcert"
openpace "... OpenPACE verifies FIGATE100003" "$W/FIGATE100003.cvcert" "${TRUST[@]}"
eckey g1r2
isreq g1-rekey-other g1r2 FIGATE100004 FIDVFI001 --outer-key "$W/g5.pem" --outer-car FIGATE500001
receive "gate 1 re-key, outer-signed by gate 5's certificate" "$W/g1-rekey-other.cvreq"
refused "a re-key signed by another terminal's key" CP-4.7b dv is approve "$REQ"

# ---- CP-5.4.1: never beyond the DV certificate ----
EXP_T=$(date -u -d "$DV_EXP 10:00" +%s)
eckey g7a
isreq g7a g7a FIGATE700001
AT=$((EXP_T - 10 * DAY))
receive "gate 7, 10 days before FIDVFI001 expires" "$W/g7a.cvreq"
signed "... issued, clamped to the DV certificate" dv is approve "$REQ" --out "$W/FIGATE700001.cvcert"
assert "... with a warning naming FIDVFI001 (CP-5.4.1)" \
	grep -q '^eac-dv: warning: IS validity shortened to end with the DV certificate FIDVFI001.*(CP-5\.4\.1)$' "$T_ERR"
assert "... expiring with it ($DV_EXP), not a month later" test "$(field "$W/FIGATE700001.cvcert" expiry)" = "$DV_EXP"
AT=
eckey g7b
isreq g7b g7b FIGATE700002
AT=$EXP_T
receive "gate 7, on FIDVFI001's last day" "$W/g7b.cvreq"
refused "on the DV certificate's last day nothing is left (IS minimum 1 day)" CP-5.4.1 dv is approve "$REQ"
assert "... the message names FIDVFI001 and its expiry" grep -q "FIDVFI001 expires on $DV_EXP" "$T_ERR"
AT=
eckey g7c
isreq g7c g7c FIGATE700003
AT=$((EXP_T + DAY))
receive "gate 7, the day after FIDVFI001 expired" "$W/g7c.cvreq"
refused "under an expired DV certificate" CP-5.4.1 dv is approve "$REQ"
assert "... the message says FIDVFI001 expired" grep -q "FIDVFI001 expired on $DV_EXP" "$T_ERR"
AT=

# ---- the record ----
assert "the auditor sees every refusal as a rejected request with its rule" bash -c "
	[ \"\$(psql -d dv -XAtc \"select rule_id from eac.requests where state = 'rejected' order by id\" | tr '\n' ' ')\" = \
	  'CP-3.3.2b CP-3.3.2b CP-3.3.2a TR-03110-3 D.3.3 TR-03110-3 D.3.3 CP-4.6 CP-4.6 CP-3.1b CP-4.2.3 CP-4.2.3 CP-3.1a CP-3.1a CP-4.7b CP-5.4.1 CP-5.4.1 ' ]"
check "the auditor: the refused input from unregistered terminals" bash -c "
	[ \"\$(psql -d dv -XAtc \"select count(*) from eac.audit_events where action = 'request.refused'\")\" = 2 ]"
check "the auditor: every status change of an inspection system, old and new" bash -c "
	psql -d dv -XAtc \"select details from eac.audit_events where action = 'is.change' order by seq\" > '$W/is-change'"
assert "... five changes, in order, with their reasons" bash -c "
	[ \$(wc -l < '$W/is-change') -eq 5 ] &&
	sed -n 1p '$W/is-change' | grep -q '\"operational\", \"stolen\".*reported stolen at the airport' &&
	sed -n 2p '$W/is-change' | grep -q '\"operational\", \"lost\".*missing since the inventory' &&
	sed -n 3p '$W/is-change' | grep -q '\"operational\", \"retired\".*decommissioned' &&
	sed -n 4p '$W/is-change' | grep -q '\"lost\", \"operational\".*lost-and-found' &&
	sed -n 5p '$W/is-change' | grep -q '\"stolen\", \"retired\".*written off'"
check "is list" dv is list
assert "... shows the statuses" bash -c "
	grep -q '^Gate 2 .* retired' '$T_OUT' && grep -q '^Gate 3 .* operational' '$T_OUT' && grep -q '^Gate 4 .* retired' '$T_OUT'"
check "the audit chain verifies" dv audit verify
done_testing
