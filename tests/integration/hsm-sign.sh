#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# hsm/ signatures made in the sandbox token for every Terminal Authentication
# scheme (TR-03110-3 A.6.3/A.6.4) verify with the openssl command line and
# with the codec; ECDSA output is plain r||s of fixed width (TR-03111), RSA-PSS
# uses salt = hash length; a batch signs on one login from several threads.
. "$(dirname "$0")/../lib.sh"

S=$(new_sandbox s) && track_sandbox "$S" || { not_ok "sandbox created"; done_testing; exit; }
. "$S/env"
MOD=$(sed -n 's/.*"module": "\(.*\)".*/\1/p' "$S/cvca.json")
TOOL=$EAC_BUILD/tests/tools/hsm-tool
W=$T_DIR/work
mkdir -p "$W"
cvca() { "$TOOL" --module "$MOD" --token-uri pkcs11:token=CVCA --pin-file "$S/cvca.pin" "$@"; }

# plain r||s -> DER ECDSA-Sig-Value, for openssl
der_len() { if [ "$1" -lt 128 ]; then printf '%02x' "$1"; else printf '81%02x' "$1"; fi; }
int_der() {
	local h=$1
	while [ ${#h} -gt 2 ] && [ "${h:0:2}" = 00 ]; do h=${h:2}; done
	[ $((16#${h:0:1})) -ge 8 ] && h=00$h
	printf '02%s%s' "$(der_len $((${#h} / 2)))" "$h"
}
rs2der() { # IN OUT
	local hex half body
	hex=$(hexof "$1")
	half=$((${#hex} / 2))
	body=$(int_der "${hex:0:half}")$(int_der "${hex:half}")
	printf '30%s%s' "$(der_len $((${#body} / 2)))" "$body" | unhex > "$2"
}
md_of() { case $1 in *SHA-1) echo sha1 ;; *SHA-224) echo sha224 ;; *SHA-256) echo sha256 ;;
	*SHA-384) echo sha384 ;; *SHA-512) echo sha512 ;; esac; }
# openssl's verdict on a TA signature of $3 over $2 with the PEM key $1
ossl_verify() { # PUB MSG SIG ALG
	local md sig=$3
	md=$(md_of "$4")
	case $4 in
	ECDSA*) rs2der "$3" "$3.der" && sig=$3.der
		openssl dgst "-$md" -verify "$1" -signature "$sig" "$2" ;;
	RSA-PSS*) openssl dgst "-$md" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:-1 \
		-verify "$1" -signature "$sig" "$2" ;;
	*) openssl dgst "-$md" -verify "$1" -signature "$sig" "$2" ;;
	esac
}

# a CV certificate body stands in for the to-be-signed bytes
head -c 300 /dev/urandom > "$W/tbs"
cp "$W/tbs" "$W/tampered" && printf 'x' | dd of="$W/tampered" bs=1 seek=17 conv=notrunc 2>/dev/null

sign_case() { # CHR ALG BYTES
	local k=$1 alg=$2 len=$3 sig=$W/$1.$2.sig
	check "$k: sign with $alg" cvca sign "$k" "$alg" "$W/tbs" "$sig"
	assert "$k $alg: the signature is $len bytes" test "$(stat -c %s "$sig")" -eq "$len"
	check "$k $alg: openssl verifies it" ossl_verify "$W/$k.pem" "$W/tbs" "$sig" "$alg"
	check "$k $alg: openssl refuses it over other bytes" bash -c "$(declare -f hexof unhex der_len int_der rs2der md_of ossl_verify); ! ossl_verify '$W/$k.pem' '$W/tampered' '$sig' '$alg'"
	check "$k $alg: the codec verifies it" cvca verify "$k" "$alg" "$W/tbs" "$sig"
	refuse "$k $alg: the codec refuses it over other bytes" 1 "." \
		cvca verify "$k" "$alg" "$W/tampered" "$sig"
}

keys="brainpoolP256r1:FISIGN00001 brainpoolP384r1:FISIGN00002 brainpoolP512r1:FISIGN00003
      P-256:FISIGN00004 P-384:FISIGN00005 rsa2048:FISIGN00006"
for kc in $keys; do
	check "genkey ${kc%%:*}" cvca genkey "${kc%%:*}" "${kc#*:}"
	check "${kc#*:}: export the public key" cvca pubkey "${kc#*:}" "$W/${kc#*:}.pem"
done
for a in ECDSA-SHA-1 ECDSA-SHA-224 ECDSA-SHA-256; do sign_case FISIGN00001 "$a" 64; done
sign_case FISIGN00002 ECDSA-SHA-384 96
sign_case FISIGN00003 ECDSA-SHA-512 128
sign_case FISIGN00004 ECDSA-SHA-256 64
sign_case FISIGN00005 ECDSA-SHA-384 96
for a in RSA-v1.5-SHA-1 RSA-v1.5-SHA-256 RSA-v1.5-SHA-512 RSA-PSS-SHA-1 RSA-PSS-SHA-256 RSA-PSS-SHA-512; do
	sign_case FISIGN00006 "$a" 256
done
# PSS salt is the hash length exactly: a verifier fixed to another salt refuses
check "RSA-PSS-SHA-256: salt length 32 accepted by openssl" \
	openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 \
	-verify "$W/FISIGN00006.pem" -signature "$W/FISIGN00006.RSA-PSS-SHA-256.sig" "$W/tbs"
check "RSA-PSS-SHA-256: salt length 222 (OpenPACE's maximum) refused by openssl" bash -c "
	! openssl dgst -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:222 \
	-verify '$W/FISIGN00006.pem' -signature '$W/FISIGN00006.RSA-PSS-SHA-256.sig' '$W/tbs'"

# ---- the scheme must fit the key ----
refuse "an EC key refuses an RSA scheme" 2 "key FISIGN00004 is an EC key; it cannot sign RSA-PSS-SHA-256" \
	cvca sign FISIGN00004 RSA-PSS-SHA-256 "$W/tbs" "$W/x.sig"
refuse "an RSA key refuses ECDSA" 2 "key FISIGN00006 is an RSA key; it cannot sign ECDSA-SHA-256" \
	cvca sign FISIGN00006 ECDSA-SHA-256 "$W/tbs" "$W/x.sig"
assert "no signature file from the refusals" test ! -e "$W/x.sig"

# ---- fixed width over a batch, and several threads on one key ----
mkdir -p "$W/batch"
check "a batch of 400 P-256 signatures on one login" cvca sign-many FISIGN00004 ECDSA-SHA-256 400 "$W/batch"
assert "all 400 are exactly 64 bytes (r and s each padded to 32)" \
	test "$(find "$W/batch" -name '*.sig' -size 64c | wc -l)" -eq 400
check "the 400th verifies with openssl" bash -c "printf 'message 400' > '$W/m400' &&
	$(declare -f hexof unhex der_len int_der rs2der md_of ossl_verify); ossl_verify '$W/FISIGN00004.pem' '$W/m400' '$W/batch/400.sig' ECDSA-SHA-256"
check "4 threads x 250 signatures with one key, each verified" \
	cvca threads FISIGN00004 ECDSA-SHA-256 250 4
assert "1000 signatures verified" grep -qx "1000 signatures verified (4 threads)" "$T_OUT"
check "2 threads x 20 brainpoolP512r1 signatures" cvca threads FISIGN00003 ECDSA-SHA-512 20 2
check "2 threads x 10 RSA-PSS signatures" cvca threads FISIGN00006 RSA-PSS-SHA-256 10 2
done_testing
