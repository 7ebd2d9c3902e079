#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Crash at every step of the issuance protocol (docs/ARCHITECTURE.md):
# the test build's failpoints end the engine with SIGKILL
#   before_intent_commit, after_intent_commit, after_sign,
#   before_result_commit, after_result_commit, before_release
# in each issuing path — the CVCA's `approve` (DV certificates), the DV's
# `is approve` and `is issue-batch` (IS certificates) — and in the CVCA's
# key ceremonies (init, rollover), whose open intents recovery abandons: a
# ceremony is completed only by holding it again (CP-4.2.1, CP-5.4b).
# After each crash, and again after `recover`:
#  - nothing was signed before its intent was committed (C_Sign counted by
#    the PKCS#11 fault module) and nothing was written out;
#  - every certificate file written out has a committed row with the same
#    bytes, every row has its intent with the same body, no CHR or sequence
#    number twice, open_issuances exact, the audit chain verifies
#    (fault-lib.sh: invariants);
#  - `recover` completes the open intent (audited certificate.issue) or
#    abandons it when its key is no longer usable (audited
#    issuance.abandon), and the next issuance works;
#  - approving the same request again answers with the recorded
#    certificate, byte for byte, without signing again.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"

FPS="before_intent_commit after_intent_commit after_sign before_result_commit after_result_commit before_release"
# C_Sign expected before the kill; intents left open by it
signs_before() { case $1 in before_intent_commit | after_intent_commit) echo 0 ;; *) echo 1 ;; esac; }
left_open() { case $1 in after_intent_commit | after_sign | before_result_commit) echo 1 ;; *) echo 0 ;; esac; }

flt_sandbox crash

# ---- the initial key ceremony, interrupted after signing ----
export EAC_TEST_NOW=$(($(date -u +%s) - 95 * 86400))
rm -f "$COUNTS"
killed "the initial key ceremony" after_sign cvca init --curve brainpoolP256r1 \
	--officer "A. Admin" --officer "S. Officer"
unset EAC_TEST_NOW
assert "ceremony: the self-signed body was signed once (C_Sign $(calls C_Sign))" test "$(calls C_Sign)" -eq 1
assert "ceremony: no CVCA certificate written out" \
	test -z "$(find "$S/cvca" -name '*.cvcert' 2>/dev/null)"
assert "ceremony: its intent is open" test "$(open_intents cvca)" -eq 1
STATUS_RC=0
cvca status >"$T_OUT" 2>"$T_ERR" || STATUS_RC=$?
capture
assert "ceremony: status warns of the interrupted issuance (exit 1)" bash -c \
	"[ $STATUS_RC -eq 1 ] && grep -q 'interrupted issuances 1' '$T_OUT'"
invariants "ceremony killed" cvca "$S/cvca"
check "ceremony: recover" cvca recover
assert "ceremony: recover abandons it: a ceremony is completed only by holding it again (CP-4.2.1)" \
	grep -Eq 'FICVCA00001\): abandoned: key ceremony interrupted: .*\(CP-4\.2\.1, CP-5\.4b\)' "$T_OUT"
assert "ceremony: recovery signed nothing (C_Sign still 1)" test "$(calls C_Sign)" -eq 1
assert "ceremony: no open intent after recovery" test "$(open_intents cvca)" -eq 0
assert "ceremony: the key of the unfinished ceremony never became active" \
	test "$(sql cvca "SELECT state FROM eac.keys WHERE label = 'FICVCA00001'")" != active
invariants "ceremony recovered" cvca "$S/cvca"

# the ceremony is held again: a new key, FICVCA00002 (sequence numbers are
# never reused), and only the finished ceremony's certificate is exported
flt_pki
assert "the repeated ceremony made a new CHR ($ROOT)" test "$ROOT" = FICVCA00002
assert "export holds only the finished ceremony's certificate" bash -c \
	"[ \"\$(ls '$W/exp' | grep -c cvcert)\" -eq 1 ] && [ -f '$W/exp/$ROOT.cvcert' ]"
invariants "PKI set up" cvca "$W/cvca-out" "$S/cvca" "$W/exp"

# ---- one path: PATH-NAME ENGINE PREFIX CAR OUTDIR APPROVE-CMD... ----
# The request k of PREFIX is received, approved with each failpoint in
# turn, recovered, approved again; at the end one more is issued.
crash_single() {
	local path=$1 eng=$2 prefix=$3 car=$4 out=$5 k=0 fp chr id f iid rec want
	local rq=$W/rq-$eng
	mkreqs "$prefix" "$car" 1 7 "$rq" || flt_bail "$path: requests made"
	mkdir -p "$out"
	for fp in $FPS; do
		k=$((k + 1))
		chr=$(printf '%s%05d' "$prefix" "$k")
		f=$out/$chr.cvcert
		if [ "$eng" = cvca ]; then receive_cvca "$rq/$chr.cvreq"; else receive_dv "$rq/$chr.cvreq"; fi
		id=$REQ
		rm -f "$COUNTS"
		killed "$path $chr" "$fp" "${@:6}" "$id" --out "$f"
		assert "$path/$fp: C_Sign $(calls C_Sign): nothing signed before the intent committed" \
			test "$(calls C_Sign)" -eq "$(signs_before "$fp")"
		assert "$path/$fp: nothing written out" test ! -e "$f"
		want=$(left_open "$fp")
		assert "$path/$fp: $want open intent(s)" test "$(open_intents "$eng")" -eq "$want"
		invariants "$path/$fp killed" "$eng" "$out" "$S/$eng"
		if [ "$fp" = after_sign ]; then
			# an officer approves again before anyone ran recover: no second
			# signature, no second intent; the dead approval holds no claim
			# (db.h), so one line sends the officer to recover at once
			rm -f "$COUNTS"
			refuse "$path/$fp: approving again before recovery points to recover" 1 \
				"^eac-$eng: request $id: its issuance \\(intent [0-9]+\\) was interrupted and no process works on it: eac-$eng recover completes it$" \
				"${@:6}" "$id" --out "$f"
			assert "$path/$fp: ... nothing signed, nothing written, still one open intent" \
				test "$(calls C_Sign):$([ -e "$f" ] && echo written):$(open_intents "$eng")" = 0::1
		fi
		rm -f "$COUNTS"
		check "$path/$fp: recover" "$eng" recover
		iid=$(sql "$eng" "SELECT id FROM eac.issuances WHERE chr = '$chr' AND abandoned_at IS NULL")
		if [ "$want" = 1 ]; then
			assert "$path/$fp: recover completed intent $iid" grep -q "intent $iid ($(
				[ "$eng" = cvca ] && echo dv || echo is) $chr): completed" "$T_OUT"
			assert "$path/$fp: recovery signed the recorded body again (C_Sign 1)" \
				test "$(calls C_Sign)" -eq 1
			assert "$path/$fp: the recovered certificate is audited (certificate.issue of intent $iid)" \
				test "$(sql "$eng" "SELECT count(*) FROM eac.audit_events WHERE action = 'certificate.issue'
					AND details::json->>'issuance' = '$iid'")" -eq 1
			rec=$(find "$S/$eng/recovered" -name "$chr-*.cvcert" | head -n 1)
			assert "$path/$fp: recovery released it into the data directory" test -n "$rec"
		else
			assert "$path/$fp: nothing to recover" grep -q 'nothing to recover' "$T_OUT"
			rec=
		fi
		assert "$path/$fp: no open intent after recovery" test "$(open_intents "$eng")" -eq 0
		rm -f "$COUNTS"
		# the officer tries again two minutes later (test clock)
		export EAC_TEST_NOW=$(($(date -u +%s) + 120))
		check "$path/$fp: approving the request again answers" "${@:6}" "$id" --out "$f"
		unset EAC_TEST_NOW
		if [ "$fp" = before_intent_commit ]; then
			assert "$path/$fp: ... by issuing it now (C_Sign 1)" test "$(calls C_Sign)" -eq 1
		else
			assert "$path/$fp: ... with the recorded certificate, nothing signed again" \
				bash -c "[ $(calls C_Sign) -eq 0 ] && grep -q 'already issued' '$T_OUT'"
		fi
		[ -n "$rec" ] && assert "$path/$fp: the answer is the recovered certificate, byte for byte" \
			cmp -s "$f" "$rec"
		assert "$path/$fp: exactly one certificate for the request" \
			test "$(sql "$eng" "SELECT count(*) FROM eac.certificates WHERE request_id = $id")" -eq 1
		invariants "$path/$fp recovered" "$eng" "$out" "$S/$eng"
	done
	chr=$(printf '%s%05d' "$prefix" 7)
	if [ "$eng" = cvca ]; then receive_cvca "$rq/$chr.cvreq"; else receive_dv "$rq/$chr.cvreq"; fi
	rm -f "$COUNTS"
	check "$path: the next issuance works" "${@:6}" "$REQ" --out "$out/$chr.cvcert"
	assert "$path: ... signed once" test "$(calls C_Sign)" -eq 1
}

crash_single "cvca approve" cvca FIDVA "$ROOT" "$W/cvca-out" cvca approve
crash_single "dv is approve" dv FIGATE1 "$DVCHR" "$W/dv-out" dv is approve

# ---- the batch path (dv-core/batch.c), one worker so counts are exact ----
n=8
from=100
for fp in $FPS; do
	dir=$W/batch-$fp
	out=$W/batch-out-$fp
	mkreqs FIGATE1 "$DVCHR" "$from" "$n" "$dir" || flt_bail "batch requests made"
	from=$((from + n))
	rm -f "$COUNTS"
	killed "is issue-batch ($n requests)" "$fp" dv is issue-batch "$dir" --out-dir "$out" --workers 1
	case $fp in
	before_intent_commit | after_intent_commit) want=0 ;;
	*) want=$n ;;
	esac
	assert "batch/$fp: C_Sign $(calls C_Sign) (wanted $want)" test "$(calls C_Sign)" -eq "$want"
	assert "batch/$fp: nothing written out" test -z "$(find "$out" -type f 2>/dev/null)"
	case $fp in
	after_intent_commit | after_sign | before_result_commit) want=$n ;;
	*) want=0 ;;
	esac
	assert "batch/$fp: $want open intents" test "$(open_intents dv)" -eq "$want"
	invariants "batch/$fp killed" dv "$out" "$S/dv"
	check "batch/$fp: recover" dv recover
	assert "batch/$fp: no open intent after recovery" test "$(open_intents dv)" -eq 0
	rm -f "$COUNTS"
	check "batch/$fp: the batch run again completes" dv is issue-batch "$dir" --out-dir "$out" --workers 1
	case $fp in
	before_intent_commit) want=$n ;;
	*) want=0 ;;
	esac
	assert "batch/$fp: ... signing only what was never signed and recorded (C_Sign $(calls C_Sign), wanted $want)" \
		test "$(calls C_Sign)" -eq "$want"
	missing=0
	for r in "$dir"/*.cvreq; do
		c=$(basename "$r" .cvreq)
		[ -f "$out/$c.cvcert" ] || missing=$((missing + 1))
		[ "$(sql dv "SELECT count(*) FROM eac.certificates WHERE chr = '$c'")" = 1 ] || missing=$((missing + 1))
	done
	assert "batch/$fp: every request has exactly one certificate, written out" test "$missing" -eq 0
	invariants "batch/$fp recovered" dv "$out" "$S/dv"
done

# a kill in the middle of a batch: 130 requests are 3 chunks (64, 64, 2);
# the 2nd chunk's results commit and the process dies before releasing them
dir=$W/batch-mid
out=$W/batch-out-mid
mkreqs FIGATE1 "$DVCHR" 200 130 "$dir" || flt_bail "batch requests made"
killed "is issue-batch (130 requests)" after_result_commit:2 dv is issue-batch "$dir" --out-dir "$out" --workers 1
assert "mid-batch: the first chunk was released (64 files)" test "$(find "$out" -name '*.cvcert' | wc -l)" -eq 64
assert "mid-batch: two chunks recorded (128 certificates)" \
	test "$(sql dv "SELECT count(*) FROM eac.certificates WHERE chr BETWEEN 'FIGATE100200' AND 'FIGATE100329'")" -eq 128
invariants "mid-batch killed" dv "$out" "$S/dv"
check "mid-batch: the batch run again completes" dv is issue-batch "$dir" --out-dir "$out" --workers 1
assert "mid-batch: 130 certificates, one per request" bash -c \
	"[ \$(find '$out' -name '*.cvcert' | wc -l) -eq 130 ] && grep -q '^130 issued, 0 refused, 0 failed' '$T_OUT'"
invariants "mid-batch completed" dv "$out" "$S/dv"

# ---- abandonment: the key of an open intent is retired before recovery ----
mkreqs FIGATE1 "$DVCHR" 900 1 "$W/rq-ab" || flt_bail "request made"
receive_dv "$W/rq-ab/FIGATE100900.cvreq"
AB=$REQ
killed "is approve FIGATE100900" after_sign dv is approve "$AB" --out "$W/dv-out/FIGATE100900.cvcert"
check "the DV re-keys while the intent is open" dv request --rekey --to "$ROOT" --out "$W/dv2.cvreq"
DV2=$(sed -n 's/^request [0-9]*: \([A-Z0-9]*\) to .*/\1/p' "$T_OUT")
receive_cvca "$W/dv2.cvreq"
check "the CVCA issues $DV2" cvca approve "$REQ" --out "$W/cvca-out/$DV2.cvcert"
check "the DV imports $DV2: its old key $DVCHR is retired" dv import "$W/cvca-out/$DV2.cvcert"
IID=$(sql dv "SELECT issuance_id FROM eac.open_issuances")
check "recover" dv recover
assert "recover abandoned intent $IID: its key is retired" \
	grep -q "intent $IID (is FIGATE100900): abandoned: signing key $DVCHR is no longer usable (retired)" "$T_OUT"
assert "the abandonment is audited with its reason" \
	test "$(sql dv "SELECT count(*) FROM eac.audit_events WHERE action = 'issuance.abandon'
		AND object = 'issuance:$IID' AND details::json->>'reason' LIKE '%no longer usable (retired)%'")" -eq 1
assert "no open intent" test "$(open_intents dv)" -eq 0
assert "nothing written out for it" test ! -e "$W/dv-out/FIGATE100900.cvcert"
refuse "the request names the retired DV certificate: refused" 1 "CP-3\\.1a" \
	dv is approve "$AB" --out "$W/dv-out/FIGATE100900.cvcert"
mkreqs FIGATE1 "$DV2" 901 1 "$W/rq-ab" || flt_bail "request made"
receive_dv "$W/rq-ab/FIGATE100901.cvreq"
rm -f "$COUNTS"
check "the next issuance works, under $DV2" dv is approve "$REQ" --out "$W/dv-out/FIGATE100901.cvcert"
assert "... signed once" test "$(calls C_Sign)" -eq 1
invariants "after abandonment" dv "$W/dv-out" "$S/dv"
invariants "CVCA at the end" cvca "$W/cvca-out" "$S/cvca" "$W/exp"

# ---- the link ceremony, interrupted after its first signature ----
# (the new key's self-signed certificate): recovery abandons it, the old key
# stays the CVCA's, and the ceremony held again links old -> new
rm -f "$COUNTS"
killed "the link ceremony (rollover)" after_sign cvca rollover --officer "A. Admin" \
	--officer "S. Officer"
assert "rollover: one open intent" test "$(open_intents cvca)" -eq 1
check "rollover: recover" cvca recover
assert "rollover: recover abandons the ceremony's intent (CP-4.2.1, CP-5.4b)" \
	grep -Eq '\(cvca FICVCA00003\): abandoned: key ceremony interrupted: .*\(CP-4\.2\.1, CP-5\.4b\)' "$T_OUT"
assert "rollover: recovery signed nothing (C_Sign still 1)" test "$(calls C_Sign)" -eq 1
assert "rollover: $ROOT's key is still the active one" \
	test "$(sql cvca "SELECT state FROM eac.keys WHERE label = '$ROOT'")" = active
assert "rollover: the interrupted ceremony's key never became active" \
	test "$(sql cvca "SELECT state FROM eac.keys WHERE label = 'FICVCA00003'")" = pending
check "rollover: the ceremony held again" cvca rollover --officer "A. Admin" --officer "S. Officer"
assert "rollover: it made FICVCA00004 (sequence numbers are never reused)" \
	test "$(sql cvca "SELECT label FROM eac.keys WHERE state = 'active'")" = FICVCA00004
check "rollover: export" cvca export --out-dir "$W/exp2"
assert "rollover: export holds $ROOT, the link to FICVCA00004 and FICVCA00004, nothing of FICVCA00003" \
	bash -c "[ \"\$(ls '$W/exp2' | grep cvcert | sort | tr '\n' ' ')\" = '$ROOT.cvcert FICVCA00004.cvcert FICVCA00004.link.cvcert ' ]"
mkdir -p "$W/op" && cp "$W/exp2/$ROOT.cvcert" "$W/op/$ROOT"
check "rollover: OpenPACE verifies the link FICVCA00004 with $ROOT" bash -c \
	"cvc-print --cvc-dir '$W/op' --cvc '$W/exp2/FICVCA00004.link.cvcert' | grep -q '^certificate verified'"
invariants "rollover recovered" cvca "$S/cvca" "$W/exp2"

# ---- control: the invariants catch what they claim to catch ----
# (run in a subshell: their TAP lines are read here, not counted)
catches() { # DESC WHAT-REGEX DIR...
	local desc=$1 re=$2
	shift 2
	(invariants control dv "$@") >"$W/control.tap" 2>&1
	if grep -Eq "^not ok [0-9]+ - control: $re" "$W/control.tap"; then ok "control: $desc"; else
		not_ok "control: $desc"; diag "$W/control.tap"; fi
}
mkdir -p "$W/forged"
f=$(find "$W/dv-out" -name '*.cvcert' | head -n 1)
cp "$f" "$W/forged/x.cvcert"
# flip every bit of the last byte (setting it to a constant would change
# nothing when the signature happens to end in it: 1 run in 256)
last=$(tail -c 1 "$f" | od -An -tu1 | tr -d ' ')
printf "\\$(printf '%03o' $((255 - last)))" |
	dd of="$W/forged/x.cvcert" bs=1 seek=$(($(stat -c %s "$f") - 1)) conv=notrunc 2>/dev/null
cmp -s "$f" "$W/forged/x.cvcert" && flt_bail "the forged copy differs from $f"
catches "the invariants catch a certificate file whose bytes were never recorded" \
	"all [0-9]+ certificate files written out have a committed row" "$W/forged"
touch "$W/forged/.eac-tmp-abc123"
catches "the invariants catch a left-over temporary file" "no half-written" "$W/forged"
# tampering as the superuser, guard triggers off (session_replication_role)
tamper() { sql_admin dv "SET session_replication_role = replica; $1"; }
tamper "INSERT INTO eac.open_issuances (issuance_id) SELECT issuance_id FROM eac.certificates
	WHERE source = 'issued' ORDER BY id LIMIT 1" >/dev/null
catches "the invariants catch open_issuances listing a completed intent" "open_issuances is exactly" "$W/dv-out"
tamper "INSERT INTO eac.pending_requests (request_id, deadline) SELECT id, deadline FROM eac.requests
	WHERE state = 'issued' ORDER BY id LIMIT 1" >/dev/null
catches "the invariants catch pending_requests listing an issued request" "pending_requests is exactly" "$W/dv-out"
tamper "UPDATE eac.certificates SET car = 'FIXXXX00001' WHERE id = (SELECT max(id) FROM eac.certificates
	WHERE source = 'issued')" >/dev/null
catches "the invariants catch a certificate row that differs from its intent" \
	"every issued certificate has its intent" "$W/dv-out"
done_testing
