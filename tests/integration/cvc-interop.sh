#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# cvc/ interoperability with OpenPACE, both directions, for every supported
# curve and every Terminal Authentication scheme (TR-03110-3 A.6.3/A.6.4):
#  - chains made by OpenPACE's cvc-create verify with `eac-cvc verify`
#    (and a flipped bit does not);
#  - certificates, link certificates and requests made by our encoder
#    verify with OpenPACE's cvc-print (which exits 0 even on failure, so we
#    look for its "verified" line), and OpenPACE issues a certificate from
#    our request that we verify;
#  - authenticated requests (which the Debian OpenPACE cannot parse, cv-format
#    P4): the inner request checked by cvc-print, the outer signature over
#    7F21-TLV || 42-TLV checked by the OpenSSL command line.
. "$(dirname "$0")/../lib.sh"

CVC=$EAC_BIN/eac-cvc
ISSUE=$EAC_BUILD/tests/tools/cvc-issue
for t in "$CVC" "$ISSUE"; do
	[ -x "$t" ] || { not_ok "$t is built"; done_testing; exit; }
done
command -v cvc-create >/dev/null && command -v cvc-print >/dev/null ||
	{ not_ok "OpenPACE (cvc-create, cvc-print) is installed"; done_testing; exit; }

# OpenPACE checks validity against the real clock, so dates are today's
D0=$(date -u +%F)
D_Y1=$(date -u -d "1 year" +%F)
D_D20=$(date -u -d "20 days" +%F)
op() { date -u -d "$1" +%y%m%d; } # YYMMDD for cvc-create
W=$T_DIR

# key NAME CURVE|rsa: NAME.pem and NAME.pkcs8 (DER PKCS#8 for cvc-create)
key() {
	if [ "$2" = rsa ]; then
		openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1.pem" 2>/dev/null
	else
		openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$1.pem" 2>/dev/null
	fi && openssl pkcs8 -topk8 -nocrypt -in "$1.pem" -outform DER -out "$1.pkcs8"
}
# the byte length of the TLV at byte offset $2 of hex string $1
tlv_total() {
	local h=$1 o=$(($2 * 2)) t=1 l
	[ $((16#${h:$o:2} & 0x1f)) -eq 31 ] && t=2
	l=${h:$((o + t * 2)):2}
	case $l in
	81) echo $((t + 2 + 16#${h:$((o + t * 2 + 2)):2})) ;;
	82) echo $((t + 3 + 16#${h:$((o + t * 2 + 2)):4})) ;;
	*) echo $((t + 1 + 16#$l)) ;;
	esac
}
verified() { # LINE ARGS...: cvc-print ARGS prints LINE (indentation aside)
	local line=$1
	shift
	cvc-print "$@" > "$T_OUT.op" 2> "$T_OUT.operr"
	cat "$T_OUT.op" "$T_OUT.operr" >> "$T_CAPTURE"
	grep -Eqx "[[:space:]]*$line" "$T_OUT.op"
}

# RSA keys are slow to make: one set for the six RSA schemes
(cd "$W" && key rsa-c rsa && key rsa-d rsa && key rsa-t rsa && key rsa-n rsa) ||
	{ not_ok "RSA keys made"; done_testing; exit; }

COMBOS="brainpoolP256r1:ECDSA_SHA_1 brainpoolP256r1:ECDSA_SHA_224 brainpoolP256r1:ECDSA_SHA_256
prime256v1:ECDSA_SHA_256 brainpoolP384r1:ECDSA_SHA_384 secp384r1:ECDSA_SHA_384
brainpoolP512r1:ECDSA_SHA_512 rsa:RSA_v1_5_SHA_1 rsa:RSA_v1_5_SHA_256 rsa:RSA_v1_5_SHA_512
rsa:RSA_PSS_SHA_1 rsa:RSA_PSS_SHA_256 rsa:RSA_PSS_SHA_512"

for combo in $COMBOS; do
	curve=${combo%%:*} scheme=${combo#*:}
	D=$W/$curve-$scheme
	mkdir -p "$D/op" "$D/optrust" "$D/ours" "$D/ourtrust"
	if [ "$curve" = rsa ]; then
		for k in c d t n; do cp "$W/rsa-$k.pem" "$D/$k.pem"; cp "$W/rsa-$k.pkcs8" "$D/$k.pkcs8"; done
	else
		(cd "$D" && key c "$curve" && key d "$curve" && key t "$curve" && key n "$curve")
	fi

	# ---- OpenPACE -> us ----
	(cd "$D/op" &&
		cvc-create --role=cvca --type=at --chr=DECVCA00001 --issued="$(op "$D0")" --expires="$(op "$D_Y1")" \
			--sign-with=../c.pkcs8 --scheme="$scheme" --read-dg1 --read-dg2 --verify-age --rid &&
		cvc-create --role=dv_domestic --chr=DEDVCA00001 --issued="$(op "$D0")" --expires="$(op "$D_Y1")" \
			--sign-with=../c.pkcs8 --sign-as=DECVCA00001.cvcert --key=../d.pkcs8 --scheme="$scheme" \
			--read-dg1 --verify-age &&
		cvc-create --role=terminal --chr=DETERM00001 --issued="$(op "$D0")" --expires="$(op "$D_D20")" \
			--sign-with=../d.pkcs8 --sign-as=DEDVCA00001.cvcert --key=../t.pkcs8 --scheme="$scheme" \
			--read-dg1) > "$D/op.log" 2>&1 || { not_ok "$combo: cvc-create made a chain"; diag "$D/op.log"; continue; }
	cp "$D/op/DECVCA00001.cvcert" "$D/optrust/cvca.cvcert"
	cp "$D/op/DEDVCA00001.cvcert" "$D/optrust/dv"
	check "$combo: OpenPACE's CVCA, DV and terminal certificates verify with eac-cvc" \
		"$CVC" verify --trust "$D/optrust" "$D/op/DECVCA00001.cvcert" "$D/op/DEDVCA00001.cvcert" "$D/op/DETERM00001.cvcert"
	assert "$combo: ... one line per file, effective rights dg1" \
		test "$(grep -c ': valid: certificate' "$T_OUT")" -eq 3 -a "$(grep -c 'effective rights: dg1$' "$T_OUT")" -eq 1
	h=$(hexof "$D/op/DETERM00001.cvcert")
	n=$((${#h} / 2 - 5))
	printf '%s%02x%s' "${h:0:$((n * 2))}" $((16#${h:$((n * 2)):2} ^ 0x01)) "${h:$((n * 2 + 2))}" | unhex > "$D/op/flipped"
	refuse "$combo: a flipped signature bit fails" 1 'DETERM00001, signed by DEDVCA00001: signature does not verify' \
		"$CVC" verify --trust "$D/optrust" "$D/op/flipped"

	# ---- us -> OpenPACE ----
	(cd "$D/ours" &&
		"$ISSUE" --sign-key ../c.pem --alg "$scheme" --chr DECVCA00001 --role cvca --type at --rights dg1,dg2,age \
			--effective "$D0" --expiry "$D_Y1" --out DECVCA00001 &&
		"$ISSUE" --sign-key ../c.pem --issuer DECVCA00001 --key ../d.pem --alg "$scheme" --chr DEDVCA00001 \
			--role dv_domestic --type at --rights dg1,age --effective "$D0" --expiry "$D_Y1" --out DEDVCA00001 &&
		"$ISSUE" --sign-key ../d.pem --issuer DEDVCA00001 --key ../t.pem --alg "$scheme" --chr DETERM00001 \
			--role terminal --type at --rights dg1 --effective "$D0" --expiry "$D_D20" --out DETERM00001) \
		> "$D/ours.log" 2>&1 || { not_ok "$combo: cvc-issue made a chain"; diag "$D/ours.log"; continue; }
	cp "$D/ours/DECVCA00001" "$D/ourtrust/"
	assert "$combo: OpenPACE verifies our self-signed CVCA certificate" \
		verified "certificate verified" --cvc-dir "$D/ourtrust" --cvc "$D/ours/DECVCA00001"
	assert "$combo: OpenPACE verifies our DV certificate" \
		verified "certificate verified" --cvc-dir "$D/ourtrust" --cvc "$D/ours/DEDVCA00001"
	cp "$D/ours/DEDVCA00001" "$D/ourtrust/"
	assert "$combo: OpenPACE verifies our terminal certificate through the DV" \
		verified "certificate verified" --cvc-dir "$D/ourtrust" --cvc "$D/ours/DETERM00001"
	check "$combo: eac-cvc request makes a request with this scheme" \
		"$CVC" request --key "$D/t.pem" --alg "$scheme" --chr DETERM00002 --car DEDVCA00001 --out "$D/ours/req.cvreq"
	assert "$combo: OpenPACE verifies the request's inner signature" \
		verified "certificate request verified" --csr "$D/ours/req.cvreq"
done

# ---- OpenPACE issues from our request; we verify what it made ----
D=$W/brainpoolP256r1-ECDSA_SHA_256
check "OpenPACE issues a DV certificate from our request (CSR mode)" bash -c "
	cd '$D/ours' && '$CVC' request --key ../n.pem --chr DEDVCA00002 --car DECVCA00001 --out dvreq.cvreq >/dev/null &&
	cvc-create --csr=dvreq.cvreq --role=dv_domestic --type=at --expires=$(op "$D_Y1") \
		--sign-with=../c.pkcs8 --scheme=ECDSA_SHA_256 --read-dg1 --out-cert=DEDVCA00002.cvcert"
check "... and eac-cvc verifies that certificate under our CVCA" \
	"$CVC" verify --trust "$D/ourtrust" "$D/ours/DEDVCA00002.cvcert"

# ---- link certificates: the new CVCA key on another curve ----
L=$W/link
mkdir -p "$L/trust1" "$L/trust2"
(cd "$L" && key old brainpoolP256r1 && key new secp384r1 && key dv secp384r1 &&
	"$ISSUE" --sign-key old.pem --chr DECVCA00001 --role cvca --type is --rights dg3,dg4 \
		--effective "$D0" --expiry "$D_Y1" --out DECVCA00001 &&
	"$ISSUE" --sign-key old.pem --issuer DECVCA00001 --key new.pem --alg ECDSA-SHA-384 --chr DECVCA00002 \
		--role cvca --type is --rights dg3,dg4 --effective "$D0" --expiry "$D_Y1" --out DECVCA00002 &&
	"$ISSUE" --sign-key new.pem --issuer DECVCA00002 --key dv.pem --chr DEDVCA00002 --role dv_foreign \
		--type is --rights dg3 --effective "$D0" --expiry "$D_D20" --out DEDVCA00002) > "$L/log" 2>&1 ||
	{ not_ok "link chain made"; diag "$L/log"; }
cp "$L/DECVCA00001" "$L/trust1/"
assert "OpenPACE verifies our link certificate (bp256 -> P-384) with the old CVCA key" \
	verified "certificate verified" --cvc-dir "$L/trust1" --cvc "$L/DECVCA00002"
cp "$L/DECVCA00001" "$L/DECVCA00002" "$L/trust2/"
assert "OpenPACE verifies the DV certificate under the link certificate" \
	verified "certificate verified" --cvc-dir "$L/trust2" --cvc "$L/DEDVCA00002"
check "eac-cvc verifies the chain old CVCA > link > DV" "$CVC" verify --trust "$L/trust2" "$L/DECVCA00002" "$L/DEDVCA00002"
assert "... through the link certificate" grep -q 'chain DECVCA00001 > DECVCA00002 > DEDVCA00002; effective rights: dg3$' "$T_OUT"

# ---- authenticated requests: inner by OpenPACE, outer by OpenSSL ----
# outer_check DIR AUTHREQ SIGNER.pem DGST ec|v15|pss: OpenSSL's verdict on
# the outer signature, with the parts cut out of the 67 by hand
outer_check() {
	local d=$1 f=$2 key=$3 dg=$4 mode=$5 h hl il cl o sh sl sig
	h=$(hexof "$f")
	[ "${h:0:2}" = 67 ] || return 1
	case ${h:2:2} in 81) hl=3 ;; 82) hl=4 ;; *) hl=2 ;; esac
	il=$(tlv_total "$h" $hl)          # the inner 7F21
	cl=$(tlv_total "$h" $((hl + il))) # the outer 42
	o=$((hl + il + cl))               # the outer 5F37
	[ "${h:$((o * 2)):4}" = 5f37 ] || return 1
	case ${h:$((o * 2 + 4)):2} in 81) sh=4 ;; 82) sh=5 ;; *) sh=3 ;; esac
	sl=$(($(tlv_total "$h" $o) - sh))
	sig=${h:$(((o + sh) * 2)):$((sl * 2))}
	printf '%s' "${h:$((hl * 2)):$((il * 2))}" | unhex > "$d/inner.cvreq"
	printf '%s' "${h:$((hl * 2)):$(((il + cl) * 2))}" | unhex > "$d/outer.tbs"
	openssl pkey -in "$key" -pubout -out "$d/signer.pub" 2>/dev/null || return 1
	if [ "$mode" = ec ]; then # plain r||s (TR-03111) to DER for OpenSSL
		printf 'asn1=SEQUENCE:s\n[s]\nr=INTEGER:0x%s\ns=INTEGER:0x%s\n' "${sig:0:$sl}" "${sig:$sl}" > "$d/sig.conf"
		openssl asn1parse -genconf "$d/sig.conf" -out "$d/outer.sig" >/dev/null || return 1
	else
		printf '%s' "$sig" | unhex > "$d/outer.sig"
	fi
	PSSOPT=()
	[ "$mode" = pss ] && PSSOPT=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:auto)
	openssl dgst "-$dg" "${PSSOPT[@]}" -verify "$d/signer.pub" -signature "$d/outer.sig" "$d/outer.tbs" \
		> "$d/openssl.out" 2>&1 && grep -qx 'Verified OK' "$d/openssl.out"
}
for spec in "brainpoolP256r1:ECDSA-SHA-256:sha256:ec" "brainpoolP384r1:ECDSA-SHA-384:sha384:ec" \
	"rsa:RSA-v1.5-SHA-256:sha256:v15" "rsa:RSA-PSS-SHA-512:sha512:pss"; do
	IFS=: read -r curve alg dg mode <<< "$spec"
	A=$W/auth-$curve-$alg
	mkdir -p "$A"
	if [ "$curve" = rsa ]; then cp "$W/rsa-n.pem" "$A/new.pem"; cp "$W/rsa-d.pem" "$A/cur.pem"
	else (cd "$A" && key new "$curve" && key cur "$curve"); fi
	check "$alg: eac-cvc request makes a re-key request authenticated with the current key" \
		"$CVC" request --key "$A/new.pem" --chr DEDVCA00002 --car DECVCA00001 --outer-key "$A/cur.pem" \
		--outer-car DEDVCA00001 --outer-alg "$alg" --out "$A/auth.cvreq"
	assert "$alg: OpenSSL verifies the outer signature over 7F21-TLV || 42-TLV (TR-03110-3 C.2.6)" \
		outer_check "$A" "$A/auth.cvreq" "$A/cur.pem" "$dg" "$mode"
	assert "$alg: OpenPACE verifies the inner request" verified "certificate request verified" --csr "$A/inner.cvreq"
	# and the outer signature is not over the 7F21 alone (pico-hsm style, cv-format P3)
	assert "$alg: ... and not over the inner request alone" \
		bash -c "! openssl dgst -$dg ${PSSOPT[*]} -verify '$A/signer.pub' -signature '$A/outer.sig' '$A/inner.cvreq' >/dev/null 2>&1"
done

# ---- the published real-world certificates ----
RW=$EAC_TOP/tests/vectors/real-world
mkdir -p "$W/rw"
cp "$RW"/DECVCA* "$W/rw/"
check "real-world: eac-cvc prints every published certificate" "$CVC" print "$RW"/DECVCA* "$RW"/*.cvcert
check "real-world: the German CVCA certificates' self-signatures verify (no date check)" \
	"$CVC" verify --trust "$W/rw" --no-date-check "$RW"/DECVCA*
assert "... all three" test "$(grep -c ': valid: certificate DECVCA' "$T_OUT")" -eq 3
refuse "real-world: the test DV has no CVCA in the trust directory" 1 \
	'no certificate with CHR DETESTCVCA00003 \(the CAR of DETESTDVDE019\) in the trust store' \
	"$CVC" verify --trust "$W/rw" --no-date-check "$RW/dv_cert_19.cvcert"
check "real-world: fingerprints are the SHA-256 of the files" bash -c \
	"cd '$RW' && diff <('$CVC' fingerprint DECVCAeID00102 at_cert_19a.cvcert) <(sha256sum DECVCAeID00102 at_cert_19a.cvcert)"

done_testing
