#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# eac-dv trust: one holder reference names one key (CP-3.1b), and a new key
# of a CVCA already trusted needs its link certificate (CP-1.4b); and
# is issue-batch with the same request twice: answered once, the batch whole.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/dv-lib.sh"

dv_enrol
# an impostor: a self-signed FICVCA00001 with another key (OpenPACE makes it)
( cd "$W" && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP256r1 \
	-outform DER -out imp.pkcs8 2>/dev/null &&
	cvc-create --role=cvca --type=is --chr=FICVCA00001 --expires="$(date -u -d '+1 year' +%y%m%d)" \
		--sign-with=imp.pkcs8 --scheme=ECDSA_SHA_256 --read-finger --read-iris \
		--out-cert=impostor.cvcert >/dev/null &&
	cvc-create --role=cvca --type=is --chr=FICVCA00002 --expires="$(date -u -d '+1 year' +%y%m%d)" \
		--sign-with=imp.pkcs8 --scheme=ECDSA_SHA_256 --read-finger --read-iris \
		--out-cert=newkey.cvcert >/dev/null )
refused_msg "a second FICVCA00001 with another key is refused" 1 \
	'refused: .*another key is already trusted.*\(CP-3\.1b\)$' dv trust "$W/impostor.cvcert"
refused_msg "a new self-signed key of the trusted CVCA without its link is refused" 1 \
	'refused: .*FICVCA00002 is a new key of the CVCA FICVCA already trusted.*\(CP-1\.4b\)$' \
	dv trust "$W/newkey.cvcert"
check "the trusted certificate itself is accepted again" dv trust "$CVCA_CERT"
# the genuine rollover: link first, then the new self-signed certificate
at "$(date -u +%Y-%m-%dT%H:%M:%SZ)" cvca rollover --officer A --officer B >/dev/null 2>&1
cvca export --out-dir "$W/exp2" >/dev/null
check "the link certificate is accepted" dv trust "$W/exp2/FICVCA00002.link.cvcert"
check "then the new self-signed certificate of the same key" dv trust "$W/exp2/FICVCA00002.cvcert"

# the same request twice in one batch directory
dv is add "Batch gate" --org FBG --mnemonic BGATE >/dev/null
eckey bg
isreq bg bg FIBGATE00001
mkdir -p "$W/dup"
cp "$W/bg.cvreq" "$W/dup/1.cvreq"
cp "$W/bg.cvreq" "$W/dup/2.cvreq"
dv is issue-batch "$W/dup" --out-dir "$W/dupout" --workers 1 >"$T_OUT" 2>"$T_ERR"
rc=$?
capture
cp "$T_OUT" "$W/dup.out"
assert "the batch with a duplicate ends normally (exit 0)" test "$rc" -eq 0
check "one certificate, the duplicate answered by it" bash -c "
	grep -q '^issued  1.cvreq -> .*FIBGATE00001.cvcert' '$W/dup.out' &&
	grep -q '^same    2.cvreq: the same request as another file' '$W/dup.out' &&
	grep -q '^2 issued, 0 refused, 0 failed' '$W/dup.out'"
assert "exactly one signature" test "$(calls C_Sign)" -eq 1
check "its distribution is recorded: nothing awaits distribution" bash -c "
	. '$S/env' && test \"\$(psql -d dv -XAtc 'select count(*) from eac.awaiting_distribution')\" = 0"
check "status is well afterwards" dv status
done_testing
