#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Every DV request eac-cvca must refuse, from independent generators
# (eac-cvc request with software keys; foreign CVCAs made by OpenPACE
# cvc-create): each refusal exits 1 with one line naming its rule, and
# the token signs nothing (C_Sign = 0, counted by the PKCS#11 fault module);
# the successes next to them sign (so the count can fail).
#   bad inner signature; bad, unknown or other-state outer signature;
#   a foreign initial request without its CVCA's countersignature; a reused
#   public key; a suspended DV; an unregistered DV, one without conformity
#   certificate; a fourth DV of a country (registration, and approval under
#   a lowered national limit); the wrong curve; validity out of range; a
#   foreign DV while the initial CVCA certificate has been with the
#   Commission for less than 90 days (CP-5.4a), and issued once it has.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cvca-lib.sh"

T0=$((NOW - 89 * DAY)) # the root reached the Commission 89 days ago
D0=$(date -u +%y%m%d)
D_Y2=$(date -u -d "2 years" +%y%m%d)
ROOT=FICVCA00001

issued "init (89 days ago)" at "$T0" cvca init --curve brainpoolP256r1 --officer "A. Admin" --officer "S. Officer"
check "publish: the initial CVCA certificate sent to the Commission 89 days ago" \
	at "$T0" cvca publish "$ROOT" --to "European Commission"

# foreign CVCAs by OpenPACE: Germany (registered) and Sweden (registered, but
# not Germany's); keys on other curves than ours
(cd "$W" && eckey decvca brainpoolP384r1 && eckey secvca P-256 &&
	cvc-create --role=cvca --type=is --chr=DECVCA00001 --issued="$D0" --expires="$D_Y2" \
		--sign-with=decvca.pkcs8 --scheme=ECDSA_SHA_384 --read-finger --read-iris &&
	cvc-create --role=cvca --type=is --chr=SECVCA00001 --issued="$D0" --expires="$D_Y2" \
		--sign-with=secvca.pkcs8 --scheme=ECDSA_SHA_256 --read-finger --read-iris) > "$W/cvcas.log" 2>&1 ||
	{ not_ok "cvc-create made the foreign CVCA certificates"; diag "$W/cvcas.log"; }
check "foreign import: the German and Swedish CVCAs" cvca foreign import "$W/DECVCA00001.cvcert" "$W/SECVCA00001.cvcert"

# ---- the registry: three DVs per country at most (CP-1.3a) ----
for m in DVA DVB; do
	check "dv register FI$m" cvca dv register --country FI --mnemonic $m --name "FI $m" --conformity-expires 2099-12-31
done
check "dv register FIDVC, without conformity certificate" cvca dv register --country FI --mnemonic DVC --name "FI DVC"
refused "a fourth domestic DV" CP-1.3a cvca dv register --country FI --mnemonic DVD --name "FI DVD" \
	--conformity-expires 2099-12-31
for m in DVB DVC DVD; do
	check "dv register DE$m" cvca dv register --country DE --mnemonic $m --name "DE $m" --conformity-expires 2099-12-31
done
refused "a fourth German DV" CP-1.3a cvca dv register --country DE --mnemonic DVE --name "DE DVE" \
	--conformity-expires 2099-12-31
check "dv list" cvca dv list
assert "... six DVs" test "$(grep -c 'domestic\|foreign' "$T_OUT")" -eq 6

# req NAME KEY CHR [eac-cvc request options]: a request file $W/NAME.cvreq
req() {
	local n=$1 k=$2 chr=$3
	shift 3
	"$CVC" request --key "$W/$k.pem" --chr "$chr" --car "$ROOT" "$@" --out "$W/$n.cvreq" > /dev/null
}
# refused_request DESC RULE NAME [approve options]: received, then refused
refused_request() {
	local desc=$1 rule=$2 n=$3
	shift 3
	receive "$desc" "$W/$n.cvreq"
	refused "$desc" "$rule" cvca approve "$REQ" "$@"
}

# ---- a domestic DV certificate (the key reused below) ----
eckey fi1
req fi1 fi1 FIDVA00001
receive "domestic FIDVA00001" "$W/fi1.cvreq"
issued "domestic FIDVA00001 issued" cvca approve "$REQ" --out "$W/FIDVA00001.cvcert"
assert "... with a warning: the root has been with the Commission under 90 days (CP-5.4a)" \
	grep -q '^eac-cvca: warning: .*(CP-5.4a)' "$T_ERR"

# ---- the request itself ----
eckey fib
req fib-inner fib FIDVB00001
flip "$W/fib-inner.cvreq" -1 "$W/fib-badinner.cvreq"
refused_request "bad inner signature (no proof of possession)" CP-3.2.3d fib-badinner
eckey p256 P-256
req p256 p256 FIDVB00001
refused_request "a key on P-256 under a brainpoolP256r1 CVCA" "TR-03110-3 D.3.3" p256
eckey bp384 brainpoolP384r1
req bp384 bp384 FIDVB00001
refused_request "a key on brainpoolP384r1" "TR-03110-3 D.3.3" bp384

# ---- keys (CP-4.6 no renewal) ----
req reuse-other fi1 FIDVB00001
refused_request "FIDVA00001's public key requested by another DV" CP-4.6 reuse-other
req reuse-same fi1 FIDVA00002
refused_request "FIDVA00001's public key requested again by its holder" CP-4.6 reuse-same
req reuse-rekey fi1 FIDVA00002 --outer-key "$W/fi1.pem" --outer-car FIDVA00001
refused_request "a re-key request for the key already certified" CP-4.6 reuse-rekey

# ---- outer signatures ----
eckey fi2
eckey stranger
req rekey-wrongkey fi2 FIDVA00002 --outer-key "$W/stranger.pem" --outer-car FIDVA00001
refused_request "re-key outer-signed by another key than FIDVA00001's" CP-3.3.1d rekey-wrongkey
req rekey-good fi2 FIDVA00002 --outer-key "$W/fi1.pem" --outer-car FIDVA00001
flip "$W/rekey-good.cvreq" -1 "$W/rekey-flipped.cvreq"
refused_request "re-key with one bit of the outer signature flipped" CP-3.3.1d rekey-flipped
eckey fib2
req fib-rekey-other fib2 FIDVB00001 --outer-key "$W/fi1.pem" --outer-car FIDVA00001
refused_request "FIDVB's request outer-signed with FIDVA's key" CP-3.3.1d fib-rekey-other
req unknown-outer fib2 FIDVB00001 --outer-key "$W/stranger.pem" --outer-car FIXYZ00001
refused_request "domestic request outer-signed under an unknown CAR" CP-4.2.2 unknown-outer

eckey de1
req de-plain de1 DEDVB00001
refused_request "foreign initial request without its CVCA's countersignature" CP-3.2.3d de-plain
req de-unknown de1 DEDVB00001 --outer-key "$W/decvca.pem" --outer-car DECVCA00009
refused_request "foreign request outer-signed under an unknown CVCA CAR" CP-3.2.3d de-unknown
req de-wrongkey de1 DEDVB00001 --outer-key "$W/stranger.pem" --outer-car DECVCA00001
refused_request "foreign request whose outer signature does not verify with DECVCA00001" CP-3.2.3d de-wrongkey
req de-se de1 DEDVB00001 --outer-key "$W/secvca.pem" --outer-car SECVCA00001
refused_request "German DV countersigned by the Swedish CVCA" CP-3.2.3d de-se
req de-good de1 DEDVB00001 --outer-key "$W/decvca.pem" --outer-car DECVCA00001
check "eac-cvc: the countersigned German request itself verifies" bash -c "
	mkdir -p '$W/de-trust' && cp '$W/DECVCA00001.cvcert' '$W/de-trust/' &&
	'$CVC' verify --trust '$W/de-trust' '$W/de-good.cvreq'"
refused_request "foreign DV 89 days after the root reached the Commission" CP-5.4a de-good

# ---- the registry at approval ----
eckey fix
req unregistered fix FIDVX00001
refused_request "a DV that is not registered" CP-4.1 unregistered
eckey fic
req fic fic FIDVC00001
refused_request "a domestic DV without conformity certificate" CP-4.2.2 fic
# the national limit lowered to 2 while FI has 3 DVs
sed 's/"max_dvs_per_country": 3/"max_dvs_per_country": 2/' "$S/policy.json" > "$S/policy-max2.json"
sed "s|\"policy\": \"$S/policy.json\"|\"policy\": \"$S/policy-max2.json\"|" "$FCONF" > "$S/cvca-max2.json"
receive "FIDVA00002 re-key" "$W/rekey-good.cvreq"
refused "FI has 3 DVs, the national limit is now 2" CP-1.3a "$CVCA_BIN" -c "$S/cvca-max2.json" approve "$REQ"

# ---- validity (an officer's option: the request stays pending) ----
eckey fib3
req fib3 fib3 FIDVB00001
receive "FIDVB00001 (validity)" "$W/fib3.cvreq"
VREQ=$REQ
refused "validity 120 days: more than 3 months" CP-5.4.1 cvca approve "$VREQ" --validity 120
refused "validity 13 days: less than 2 weeks" CP-5.4.1 cvca approve "$VREQ" --validity 13
check "requests --pending" cvca requests --pending
assert "... the request is still pending after the officer's refused options" grep -Eq "^$VREQ +FIDVB00001 " "$T_OUT"

# ---- a suspended DV (CP-3.3.1b) ----
check "dv suspend FIDVB" cvca dv suspend FIDVB --reason "conformity under review"
refused "a request of the suspended DV" CP-3.3.1b cvca approve "$VREQ" --validity 30
refused "approving the rejected request again gives the same answer" CP-3.3.1b cvca approve "$VREQ"
check "dv reactivate FIDVB" cvca dv reactivate FIDVB --reason "review passed"
eckey fib4
req fib4 fib4 FIDVB00001
receive "FIDVB00001 after reactivation" "$W/fib4.cvreq"
issued "FIDVB00001 issued, validity 30 days" cvca approve "$REQ" --validity 30 --out "$W/FIDVB00001.cvcert"
assert "... expiring 30 days from today" grep -q "valid $(date -u +%F) .. $(date -u -d '30 days' +%F)" "$T_OUT"

check "requests: each refusal recorded with its rule" cvca requests
for rule in CP-3.2.3d "TR-03110-3 D.3.3" CP-4.6 CP-3.3.1d CP-4.2.2 CP-5.4a CP-4.1 CP-1.3a CP-3.3.1b; do
	assert "... $rule" grep -q " rejected .*$rule: " "$T_OUT"
done

# ---- CP-5.4a: 90 days after the root reached the Commission ----
eckey de2
req de-90 de2 DEDVB00001 --outer-key "$W/decvca.pem" --outer-car DECVCA00001
T90=$((T0 + 90 * DAY + 60))
AT=$T90 receive "foreign DV request, 90 days after" "$W/de-90.cvreq"
issued "foreign DV issued 90 days after the root reached the Commission" at "$T90" cvca approve "$REQ" \
	--out "$W/DEDVB00001.cvcert"
check "the audit chain verifies" at "$T90" cvca audit verify
done_testing
