#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The DV's side of its enrolment with CVCAs (eac-dv init, trust, request,
# import), against the real eac-cvca and CVCAs made by OpenPACE:
#  - init needs the DV staff (CP-3.2.4) and happens once;
#  - trust: CVCA and link certificates are verified; a link certificate that
#    does not verify against the CVCA certificate it extends is refused (one
#    of another CVCA using the same name, one with a flipped bit), and the
#    genuine link is accepted and carries the chain to the new CVCA key;
#  - import: a DV certificate that answers no pending request, certifies
#    another key than the request asked for, or does not chain to a trusted
#    CVCA is refused, and the request stays open for the right answer;
#  - request: one open request per CVCA and key; a request on another curve
#    than the CVCA's is refused (TR-03110-3 D.3.3); a first request to a
#    foreign CVCA says it needs the national CVCA's countersignature
#    (CP-3.2.3), and the countersigned request verifies;
#  - request --rekey: a new key in the DV token, the request authenticated
#    by the current DV certificate's key (outer CAR = its CHR, CP-4.7c),
#    accepted by the CVCA as a re-key (and refused with a broken outer
#    signature: so it was judged as one); on import the new key becomes
#    the DV's key: IS certificates chain to the new DV certificate, the old
#    one issues nothing more. Re-key needs a current certificate (CP-4.7c),
#    a new certificate needs a new key (CP-4.6).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/dv-lib.sh"

D0=$(date -u +%y%m%d)
D_Y2=$(date -u -d "2 years" +%y%m%d)

# another CVCA calling itself FICVCA00001, with its own key and token
R=$(new_sandbox rogue) && track_sandbox "$R" || { not_ok "second sandbox created"; done_testing; exit; }
rcvca() {
	env ${AT:+EAC_TEST_NOW=$AT} SOFTHSM2_CONF="$R/softhsm2.conf" \
		"$CVCA_BIN" -c "$R/cvca.json" --operator tester "$@"
}

# creceive DESC FILE: the national CVCA receives FILE; $CREQ is its id
creceive() {
	check "$1" cvca receive "$2"
	CREQ=$(sed -n 's/^request \([0-9][0-9]*\) from .*/\1/p' "$T_OUT")
	[ -n "$CREQ" ] || { not_ok "$1: the request id is printed"; CREQ=0; }
}

# ---- the CVCAs ----
check "CVCA key ceremony (95 days ago)" \
	at "$T_CEREMONY" cvca init --curve brainpoolP256r1 --officer "A. Admin" --officer "S. Officer"
check "... published to the Commission" at "$T_CEREMONY" cvca publish FICVCA00001 --to "European Commission"
check "CVCA export" cvca export --out-dir "$W/cvca"
check "the other FICVCA00001: its own key ceremony" \
	at "$T_CEREMONY" rcvca init --curve brainpoolP256r1 --officer "X. Admin" --officer "Y. Officer"
assert "... under the same name, with another key" bash -c "
	'$EAC_BIN/eac-cvca' -c '$R/cvca.json' export --out-dir '$W/rogue' >/dev/null 2>&1 &&
	[ -f '$W/rogue/FICVCA00001.cvcert' ] && ! cmp -s '$W/rogue/FICVCA00001.cvcert' '$CVCA_CERT'"
for c in DE NL; do # foreign CVCAs by OpenPACE on our curve; Sweden's on P-384
	openssl ecparam -name brainpoolP256r1 -genkey -noout 2>/dev/null |
		openssl pkcs8 -topk8 -nocrypt -outform DER -out "$W/${c}cvca.pkcs8"
done
openssl ecparam -name secp384r1 -genkey -noout 2>/dev/null |
	openssl pkcs8 -topk8 -nocrypt -outform DER -out "$W/SEcvca.pkcs8"
(cd "$W" && for c in DE NL SE; do
	s=ECDSA_SHA_256
	[ $c = SE ] && s=ECDSA_SHA_384
	cvc-create --role=cvca --type=is --chr=${c}CVCA00001 --issued="$D0" --expires="$D_Y2" \
		--sign-with=${c}cvca.pkcs8 --scheme=$s --read-finger --read-iris || exit 1
done) > "$W/cvc-create.log" 2>&1
assert "cvc-create made the German, Dutch and Swedish CVCA certificates" \
	test -f "$W/DECVCA00001.cvcert" -a -f "$W/NLCVCA00001.cvcert" -a -f "$W/SECVCA00001.cvcert"

# ---- init ----
refused "init without the DV staff" CP-3.2.4 at "$T_ENROL" dv init --mnemonic DV --curve brainpoolP256r1
assert "... the token was never opened" test ! -e "$COUNTS"
rm -f "$COUNTS"
check "init: the DV key generated in the DV token" \
	at "$T_ENROL" dv init --mnemonic DV --curve brainpoolP256r1 --officer "L. Officer" --officer "M. Witness"
assert "... one key pair generated, nothing signed" \
	test "$(calls C_GenerateKeyPair)" -eq 1 -a "$(calls C_Sign)" -eq 0
assert "... named FIDVFI001 (the CHR of its first request)" grep -q 'key FIDVFI001 (brainpoolP256r1) generated in the token' "$T_OUT"
refused_msg "init a second time" 1 "this DV is initialised \\(key FIDVFI001\\); new keys come from a re-key request" \
	dv init --mnemonic DV --curve brainpoolP256r1 --officer "L. Officer"

# ---- trust ----
refused_msg "request before any CVCA is trusted" 1 "no trusted CVCA certificate FICVCA00001: import it first with eac-dv trust\$" \
	dv request --to FICVCA00001 --out "$W/none.cvreq"
flip "$CVCA_CERT" -1 "$W/FICVCA00001.flipped.cvcert"
refused_msg "trust: a self-signed CVCA certificate with a flipped signature bit" 1 \
	".*/FICVCA00001.flipped.cvcert: the self-signature of FICVCA00001 does not verify\$" \
	dv trust "$W/FICVCA00001.flipped.cvcert"
check "trust FICVCA00001" at "$T_ENROL" dv trust "$CVCA_CERT"
assert "... imported" grep -q '^imported CVCA certificate FICVCA00001 (CAR FICVCA00001) of FI$' "$T_OUT"
check "trust the same certificate again" dv trust "$CVCA_CERT"
assert "... already known" grep -q '^already known: CVCA certificate FICVCA00001' "$T_OUT"
refused_msg "trust: another CVCA's certificate under the name FICVCA00001" 1 ".*refused.*\\(CP-3\\.1b\\)" \
	dv trust "$W/rogue/FICVCA00001.cvcert"
check "trust the German, Dutch and Swedish CVCAs (made by OpenPACE)" \
	at "$T_ENROL" dv trust "$W/DECVCA00001.cvcert" "$W/NLCVCA00001.cvcert" "$W/SECVCA00001.cvcert"

# ---- the first request and its answers ----
for c in cvca rcvca; do
	check "$c registers the DV" at "$T_ENROL" $c dv register --country FI --mnemonic DV \
		--name "Finnish Border Guard DV" --conformity-expires 2099-12-31
done
signed "request FIDVFI001 to FICVCA00001" at "$T_ENROL" dv request --to FICVCA00001 --out "$W/FIDVFI001.cvreq"
assert "... exactly one signature (the proof of possession)" test "$(calls C_Sign)" -eq 1
assert "... no countersignature is needed for the national CVCA" bash -c "! grep -q countersign '$T_OUT'"
refused_msg "a second request to FICVCA00001 while the first is unanswered" 1 \
	"request 1 \\(FIDVFI001\\) to FICVCA00001 is still unanswered" \
	dv request --to FICVCA00001 --out "$W/again.cvreq"
# the other FICVCA00001 certifies the DV's real key (from the DV's own request)
check "the other CVCA receives the DV's request" at "$T_ENROL" rcvca receive "$W/FIDVFI001.cvreq"
check "... and issues FIDVFI001" at "$T_ENROL" rcvca approve 1 --out "$W/FIDVFI001.rogue.cvcert"
refused_msg "import: FIDVFI001 for the DV's key, not chaining to the trusted FICVCA00001" 1 \
	".*/FIDVFI001.rogue.cvcert: certificate FIDVFI001, signed by FICVCA00001: signature does not verify" \
	dv import "$W/FIDVFI001.rogue.cvcert"
AT=$T_ENROL creceive "the CVCA receives the request" "$W/FIDVFI001.cvreq"
check "... and approves it" at "$T_ENROL" cvca approve "$CREQ" --out "$DV_CERT"
flip "$DV_CERT" -1 "$W/FIDVFI001.flipped.cvcert"
refused_msg "import: FIDVFI001 with a flipped signature bit" 1 \
	".*/FIDVFI001.flipped.cvcert: certificate FIDVFI001, signed by FICVCA00001: signature does not verify" \
	dv import "$W/FIDVFI001.flipped.cvcert"
refused_msg "import: a CVCA certificate is no DV certificate" 2 ".*not a DV certificate\$" dv import "$CVCA_CERT"
check "the certificates held: still no DV certificate" dv certs
assert "... none" bash -c "! grep -q '^dv ' '$T_OUT'"
check "import the genuine FIDVFI001" at "$T_ENROL" dv import "$DV_CERT"
assert "... chain verified" grep -q '^imported DV certificate FIDVFI001 from FICVCA00001 .*; chain verified$' "$T_OUT"
DV_EXP=$(sed -n 's/^imported DV certificate .* valid [0-9-]* \.\. \([0-9-]*\);.*/\1/p' "$T_OUT")
openpace "OpenPACE verifies FIDVFI001 under FICVCA00001" "$DV_CERT" "FICVCA00001=$CVCA_CERT"
refused "import FIDVFI001 a second time: it answers no pending request" CP-4.4 dv import "$DV_CERT"
eckey forged5
"$CVC" request --key "$W/forged5.pem" --chr FIDVFI005 --car FICVCA00001 --out "$W/forged5.cvreq" >/dev/null 2>&1
creceive "the CVCA receives a request FIDVFI005 this DV never made" "$W/forged5.cvreq"
check "... and issues it" cvca approve "$CREQ" --out "$W/FIDVFI005.cvcert"
refused "import: FIDVFI005 answers no request of this DV" CP-4.4 dv import "$W/FIDVFI005.cvcert"
check "certs" dv certs
assert "... FIDVFI001 from FICVCA00001 is the one DV certificate" test "$(grep -c '^dv ' "$T_OUT")" -eq 1 -a \
	"$(grep -c '^dv *FIDVFI001 *CAR FICVCA00001 ' "$T_OUT")" -eq 1

# ---- foreign CVCAs ----
signed "request to the German CVCA" dv request --to DECVCA00001 --out "$W/FIDVDE001.cvreq"
assert "... FIDVDE001: the sequence names the certifying CVCA's country (TR-03110-3 A.6.1)" \
	grep -q '^request [0-9]*: FIDVDE001 to DECVCA00001' "$T_OUT"
assert "... says it needs the national CVCA's countersignature (CP-3.2.3)" grep -q \
	"^a first request to a foreign CVCA needs the national CVCA's countersignature: eac-cvca countersign $W/FIDVDE001.cvreq --out FILE (CP-3.2.3)\$" "$T_OUT"
signed "request to the Dutch CVCA, --json" dv --json request --to NLCVCA00001 --out "$W/FIDVNL001.cvreq"
assert "... needs_countersignature: true" grep -q '"needs_countersignature": *true' "$T_OUT"
check "the national CVCA countersigns the German request" \
	cvca countersign "$W/FIDVDE001.cvreq" --out "$W/FIDVDE001.auth.cvreq"
check "eac-cvc print: the countersigned request" "$CVC" print "$W/FIDVDE001.auth.cvreq"
assert "... outer CAR FICVCA00001, inner CAR DECVCA00001" bash -c "
	grep -q '^  outer CAR: *FICVCA00001 ' '$T_OUT' && grep -q '^  CAR: *DECVCA00001 ' '$T_OUT'"
mkdir -p "$W/trust-fi"
cp "$CVCA_CERT" "$W/trust-fi/"
check "eac-cvc verify: inner signature, outer by FICVCA00001 and its chain" \
	"$CVC" verify --trust "$W/trust-fi" "$W/FIDVDE001.auth.cvreq"
# the Dutch CVCA (trusted) answers the request meant for the German one:
# the certificate chains and certifies the DV's key, but from the wrong CVCA
ISSUE=$EAC_BUILD/tests/tools/cvc-issue
if [ -x "$ISSUE" ]; then
	check "the Dutch CVCA's key certifies FIDVDE001 (cvc-issue, a software CVCA)" \
		"$ISSUE" --sign-key "$W/NLcvca.pkcs8" --issuer "$W/NLCVCA00001.cvcert" --request "$W/FIDVDE001.cvreq" \
		--chr FIDVDE001 --role dv_foreign --type is --rights dg3,dg4 --effective "$(date -u +%F)" \
		--expiry "$(date -u -d '+1 month' +%F)" --out "$W/FIDVDE001.nl.cvcert"
	refused "import: FIDVDE001 issued by NLCVCA00001, not by the CVCA the request went to" CP-4.3 \
		dv import "$W/FIDVDE001.nl.cvcert"
	assert "... so it says" grep -q 'FIDVDE001 was issued by NLCVCA00001, not by the CVCA request [0-9]* went to' "$T_ERR"
else
	not_ok "$ISSUE is built (make BUILD=... $ISSUE)"
fi
refused "request to the Swedish CVCA, on P-384" "TR-03110-3 D.3.3" dv request --to SECVCA00001 --out "$W/se.cvreq"
assert "... no file written" test ! -e "$W/se.cvreq"
refused "re-key with a CVCA that has not certified this key" CP-4.7c \
	dv request --to DECVCA00001 --rekey --out "$W/de-rekey.cvreq"

# ---- re-key with the national CVCA ----
refused "a new request for the certified key (renewal)" CP-4.6 dv request --to FICVCA00001 --out "$W/renew.cvreq"
refused "re-key once the DV certificate has expired" CP-4.7c \
	at "$(date -u -d "$DV_EXP + 1 day" +%Y-%m-%dT12:00:00Z)" dv request --to FICVCA00001 --rekey --out "$W/late.cvreq"
assert "... no key generated" test "$(calls C_GenerateKeyPair)" -eq 0
signed "request --rekey to FICVCA00001" dv request --to FICVCA00001 --rekey --out "$W/FIDVFI002.cvreq"
assert "... a new key pair, two signatures (inner by the new key, outer by the current)" \
	test "$(calls C_GenerateKeyPair)" -eq 1 -a "$(calls C_Sign)" -eq 2
assert "... FIDVFI002, authenticated by the current key" \
	grep -q '^request [0-9]*: FIDVFI002 to FICVCA00001 (re-key, authenticated by the current key)' "$T_OUT"
check "eac-cvc print: the re-key request" "$CVC" print "$W/FIDVFI002.cvreq"
assert "... an authenticated request: CHR FIDVFI002, CAR FICVCA00001, outer CAR FIDVFI001" bash -c "
	grep -q 'authenticated request' '$T_OUT' && grep -q '^  CHR: *FIDVFI002 ' '$T_OUT' &&
	grep -q '^  CAR: *FICVCA00001 ' '$T_OUT' && grep -q '^  outer CAR: *FIDVFI001 ' '$T_OUT'"
cp "$DV_CERT" "$W/trust-fi/"
check "eac-cvc verify: outer signature by FIDVFI001, chain FICVCA00001 > FIDVFI001" \
	"$CVC" verify --trust "$W/trust-fi" "$W/FIDVFI002.cvreq"
assert "... so it says" grep -q 'outer signature by FIDVFI001 verified (chain FICVCA00001 > FIDVFI001)' "$T_OUT"

# a certificate FIDVFI002 for another key (a request the DV never made)
eckey forged2
"$CVC" request --key "$W/forged2.pem" --chr FIDVFI002 --car FICVCA00001 --out "$W/forged2.cvreq" >/dev/null 2>&1
creceive "the CVCA receives a request FIDVFI002 for a key that is not the DV's" "$W/forged2.cvreq"
check "... and issues it" cvca approve "$CREQ" --out "$W/FIDVFI002.forged.cvcert"
refused "import: FIDVFI002 certifies another key than the re-key request asked for" CP-4.3 \
	dv import "$W/FIDVFI002.forged.cvcert"
assert "... so it says" grep -q 'FIDVFI002 certifies another public key than request [0-9]* asked for' "$T_ERR"
check "the key the DV signs with is still FIDVFI001's" \
	bash -c "psql -d dv -XAtc 'select label, state from eac.keys order by id' | tr '\n' ' '"
assert "... FIDVFI001 active, FIDVFI002 pending" test "$(last_out)" = "FIDVFI001|active FIDVFI002|pending "
# that CHR is spent at the CVCA now: the DV asks again, for the same new key
check "request --rekey again: the same new key, the next CHR" dv request --to FICVCA00001 --rekey --out "$W/FIDVFI003.cvreq"
assert "... FIDVFI003, no new key pair" bash -c "
	grep -q '^request [0-9]*: FIDVFI003 to FICVCA00001 (re-key' '$T_OUT' && [ $(calls C_GenerateKeyPair) -eq 0 ]"
assert "... the key of FIDVFI003 is the key of FIDVFI002's request" \
	test "$(field "$W/FIDVFI003.cvreq" "key SHA-256")" = "$(field "$W/FIDVFI002.cvreq" "key SHA-256")"
flip "$W/FIDVFI003.cvreq" -1 "$W/FIDVFI003.badouter.cvreq"
creceive "the CVCA receives FIDVFI003 with a flipped outer signature bit" "$W/FIDVFI003.badouter.cvreq"
rc=0
cvca approve "$CREQ" > "$T_OUT" 2> "$T_ERR" || rc=$?
capture
assert "... and refuses it as a re-key whose outer signature fails (CP-3.3.1d)" \
	bash -c "[ $rc -eq 1 ] && grep -q 'refused: .*(CP-3\\.3\\.1d)\$' '$T_ERR'"
creceive "the CVCA receives FIDVFI003" "$W/FIDVFI003.cvreq"
check "... and approves it (a re-key)" cvca approve "$CREQ" --out "$W/FIDVFI003.cvcert"
assert "... certificate FIDVFI003 for the new key" \
	test "$(field "$W/FIDVFI003.cvcert" "key SHA-256")" = "$(field "$W/FIDVFI003.cvreq" "key SHA-256")"

check "is add gate 1" dv is add "Gate 1" --org "Finnish Border Guard" --mnemonic GATE1
eckey g1
isreq g1 g1 FIGATE100001 FIDVFI001
receive "gate 1, CAR FIDVFI001, before the import" "$W/g1.cvreq"
signed "... issued under FIDVFI001 (the key is still the old one)" dv is approve "$REQ" --out "$W/FIGATE100001.cvcert"
openpace "... OpenPACE verifies it under FIDVFI001" "$W/FIGATE100001.cvcert" "FICVCA00001=$CVCA_CERT" "FIDVFI001=$DV_CERT"

check "import FIDVFI003" dv import "$W/FIDVFI003.cvcert"
check "the new key is the DV's key now" bash -c "psql -d dv -XAtc 'select label, state from eac.keys order by id' | tr '\n' ' '"
assert "... FIDVFI001 retired, FIDVFI002 active" test "$(last_out)" = "FIDVFI001|retired FIDVFI002|active "
eckey g1b
isreq g1b g1b FIGATE100002 FIDVFI003
receive "gate 1, CAR FIDVFI003" "$W/g1b.cvreq"
signed "... issued under FIDVFI003 with the new key" dv is approve "$REQ" --out "$W/FIGATE100002.cvcert"
openpace "... OpenPACE verifies it under FIDVFI003 and FICVCA00001" "$W/FIGATE100002.cvcert" \
	"FICVCA00001=$CVCA_CERT" "FIDVFI003=$W/FIDVFI003.cvcert"
eckey g1c
isreq g1c g1c FIGATE100003 FIDVFI001
receive "gate 1, CAR FIDVFI001, after the import" "$W/g1c.cvreq"
refused "... the old DV certificate issues nothing more" CP-3.1a dv is approve "$REQ"

# ---- link certificates ----
check "the other FICVCA00001 rolls over" rcvca rollover --officer "X. Admin" --officer "Y. Officer"
check "... export" rcvca export --out-dir "$W/rogue"
refused_msg "trust: a link FICVCA00002 signed by the other FICVCA00001's key" 1 \
	".*link certificate FICVCA00002 does not verify against a known certificate FICVCA00001" \
	dv trust "$W/rogue/FICVCA00002.link.cvcert"
check "the national CVCA rolls over (link ceremony)" cvca rollover --officer "A. Admin" --officer "S. Officer"
check "... export" cvca export --out-dir "$W/cvca"
flip "$W/cvca/FICVCA00002.link.cvcert" -1 "$W/link.flipped.cvcert"
refused_msg "trust: the genuine link with a flipped signature bit" 1 \
	".*link certificate FICVCA00002 does not verify against a known certificate FICVCA00001" \
	dv trust "$W/link.flipped.cvcert"
check "trust: the genuine link and the new self-signed certificate" \
	dv trust "$W/cvca/FICVCA00002.link.cvcert" "$W/cvca/FICVCA00002.cvcert"
assert "... imported" bash -c "
	grep -q '^imported link certificate FICVCA00002 (CAR FICVCA00001) of FI\$' '$T_OUT' &&
	grep -q '^imported CVCA certificate FICVCA00002 (CAR FICVCA00002) of FI\$' '$T_OUT'"
refused_msg "trust: the other CVCA's link, now that FICVCA00002 is held" 1 \
	".*link certificate FICVCA00002 does not verify against a known certificate FICVCA00001" \
	dv trust "$W/rogue/FICVCA00002.link.cvcert"
# the next re-key is certified by the new CVCA key, reached through the link
signed "request --rekey to FICVCA00002" dv request --to FICVCA00002 --rekey --out "$W/FIDVFI004.cvreq"
assert "... FIDVFI004, outer CAR FIDVFI003" bash -c "
	grep -q '^request [0-9]*: FIDVFI004 to FICVCA00002 (re-key' '$T_OUT' &&
	'$CVC' print '$W/FIDVFI004.cvreq' | grep -q '^  outer CAR: *FIDVFI003 '"
creceive "the CVCA receives it" "$W/FIDVFI004.cvreq"
check "... and approves it with FICVCA00002" cvca approve "$CREQ" --out "$W/FIDVFI004.cvcert"
check "import FIDVFI004 (chain FICVCA00001 > link FICVCA00002 > FIDVFI004)" dv import "$W/FIDVFI004.cvcert"
assert "... from FICVCA00002" grep -q '^imported DV certificate FIDVFI004 from FICVCA00002 ' "$T_OUT"
eckey g1d
isreq g1d g1d FIGATE100004 FIDVFI004
receive "gate 1, CAR FIDVFI004" "$W/g1d.cvreq"
signed "... issued under FIDVFI004" dv is approve "$REQ" --out "$W/FIGATE100004.cvcert"
openpace "OpenPACE verifies FIGATE100004 through the link: FICVCA00001 > FICVCA00002 > FIDVFI004" \
	"$W/FIGATE100004.cvcert" "FICVCA00001=$CVCA_CERT" "FICVCA00002=$W/cvca/FICVCA00002.link.cvcert" \
	"FIDVFI004=$W/FIDVFI004.cvcert"
check "the audit chain verifies" dv audit verify
done_testing
