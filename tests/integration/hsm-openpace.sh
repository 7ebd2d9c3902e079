#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# A CVCA certificate self-signed through the token (the codec encodes, hsm/
# signs, as at a key ceremony) verifies with OpenPACE's cvc-print, for the
# curves of TR-03110-3 A.6.4.2 and for RSA; a flipped signature bit does not.
. "$(dirname "$0")/../lib.sh"

S=$(new_sandbox s) && track_sandbox "$S" || { not_ok "sandbox created"; done_testing; exit; }
. "$S/env"
MOD=$(sed -n 's/.*"module": "\(.*\)".*/\1/p' "$S/cvca.json")
TOOL=$EAC_BUILD/tests/tools/hsm-tool
SELFSIGN=$EAC_BUILD/tests/tools/hsm-selfsign
W=$T_DIR/work
mkdir -p "$W/trust"
cvca() { "$TOOL" --module "$MOD" --token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" "$@"; }
selfsign() { # KEY ALG OUT
	"$SELFSIGN" --module "$MOD" --token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" \
		--key "$1" --alg "$2" --effective 2026-01-01 --expiry 2028-12-31 --out "$3"
}
# cvc-print verifies against the trust anchor named by the CAR in --cvc-dir
openpace_verifies() { # CERT CHR
	rm -f "$W/trust/"*
	cp "$1" "$W/trust/$2"
	cvc-print --cvc "$1" --cvc-dir "$W/trust" > "$1.print" 2>&1
	grep -qx "certificate verified" "$1.print"
}

for kc in brainpoolP256r1:FICVCA00001:ECDSA-SHA-256 brainpoolP384r1:FICVCA00002:ECDSA-SHA-384 \
	brainpoolP512r1:FICVCA00003:ECDSA-SHA-512 P-256:FICVCA00004:ECDSA-SHA-256 \
	P-384:FICVCA00005:ECDSA-SHA-384 rsa2048:FICVCA00006:RSA-v1.5-SHA-256 \
	rsa2048:FICVCA00007:RSA-PSS-SHA-256; do
	IFS=: read -r spec chr alg <<< "$kc"
	check "$chr: CVCA key ($spec) generated in the token" cvca genkey "$spec" "$chr"
	check "$chr: self-signed CVCA certificate ($alg), signed in the token" \
		selfsign "$chr" "$alg" "$W/$chr.cvcert"
	check "$chr: OpenPACE cvc-print verifies it" openpace_verifies "$W/$chr.cvcert" "$chr"
	assert "$chr: cvc-print sees a CVCA certificate with CAR = CHR = $chr" bash -c "
		grep -q 'CVCA certificate' '$W/$chr.cvcert.print' &&
		grep -qx '  CAR: $chr' '$W/$chr.cvcert.print' && grep -qx '  CHR: $chr' '$W/$chr.cvcert.print'"
done

# the check can fail: one bit of the signature flipped
cp "$W/FICVCA00001.cvcert" "$W/flipped.cvcert"
last=$(($(stat -c %s "$W/flipped.cvcert") - 1))
byte=$(tail -c 1 "$W/flipped.cvcert" | od -An -tx1 | tr -d ' \n')
printf '%02x' $((16#$byte ^ 1)) | unhex | dd of="$W/flipped.cvcert" bs=1 seek="$last" conv=notrunc 2>/dev/null
assert "a flipped signature bit is refused by OpenPACE" bash -c "
	$(declare -f openpace_verifies); W='$W'; ! openpace_verifies '$W/flipped.cvcert' FICVCA00001 &&
	grep -qx 'certificate not verified' '$W/flipped.cvcert.print'"
done_testing
