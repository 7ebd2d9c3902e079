#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The CVCA and the DV keep their keys in separate tokens (CP-4.5a), and
# eac-dv signs only with its own token's keys:
#  - `eac-dv init --key` with the URI of the CVCA's key is refused, whether
#    the URI names the CVCA token or only the key (then it is looked for in
#    the DV token, where it is not); nothing is signed, generated or recorded;
#  - a DV configuration pointed at the CVCA token cannot log in with the
#    DV's PIN;
#  - pkcs11-tool with the DV's PIN: the DV token holds the DV key and no
#    CVCA key, and the DV PIN does not open the CVCA token (the CVCA's
#    PIN shows its key is there, so the listing can fail);
#  - a key made beforehand in the DV token (pkcs11-tool, sensitive) is
#    accepted by `init --key`, and everything the DV then signs verifies.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/dv-lib.sh"

MOD=$REAL_MODULE
# pkcs11-tool takes the PIN from its environment (env:), never from argv
p11() { # TOKEN PIN-FILE ARGS...
	local t=$1 f=$2
	shift 2
	TPIN=$(cat "$f") pkcs11-tool --module "$MOD" --token-label "$t" --login --pin env:TPIN "$@"
}
# the labels of the private keys pkcs11-tool lists
privkeys() { p11 "$@" --list-objects --type privkey 2>/dev/null | sed -n 's/^ *label: *//p' | sort | tr '\n' ' '; }

check "CVCA key ceremony" at "$T_CEREMONY" cvca init --curve brainpoolP256r1 --officer "A. Admin" --officer "S. Officer"
check "CVCA export" cvca export --out-dir "$W/cvca"
check "pkcs11-tool, CVCA PIN: the CVCA token lists its key" privkeys CVCA "$S/cvca.pin"
assert "... FICVCA00001 (the label the refusals below name)" test "$(last_out)" = "FICVCA00001 "

# ---- eac-dv init with the CVCA's key ----
refused "init --key naming the CVCA token and the CVCA key" CP-4.5a \
	dv init --key 'pkcs11:token=CVCA;object=FICVCA00001' --mnemonic DV --officer "L. Officer"
assert "... names both tokens" grep -q "names token 'CVCA', not the configured token DV" "$T_ERR"
assert "... no key generated (C_GenerateKeyPair $(calls C_GenerateKeyPair))" test "$(calls C_GenerateKeyPair)" -eq 0
refused "init --key 'pkcs11:token=CVCA;object=FICVCA00001;type=private'" CP-4.5a \
	dv init --key 'pkcs11:token=CVCA;object=FICVCA00001;type=private' --mnemonic DV --officer "L. Officer"
CVCA_ID=$(od -An -tx1 <<< "FICVCA00001" | tr -d ' \n' | sed 's/0a$//;s/../%&/g')
refused "init --key 'pkcs11:token=CVCA;id=<the CVCA key's id>'" CP-4.5a \
	dv init --key "pkcs11:token=CVCA;id=$CVCA_ID" --mnemonic DV --officer "L. Officer"
refused_msg "init --key 'pkcs11:object=FICVCA00001': not in the DV token" 3 \
	"token DV: key not found: no private key labelled 'FICVCA00001'\$" \
	dv init --key 'pkcs11:object=FICVCA00001' --mnemonic DV --officer "L. Officer"
assert "... looked for in the DV token (logged in: C_Login $(calls C_Login)), nothing generated" \
	test "$(calls C_Login)" -eq 1 -a "$(calls C_GenerateKeyPair)" -eq 0
refused_msg "init --key 'pkcs11:id=<the CVCA key's id>': not in the DV token" 3 "token DV: key not found" \
	dv init --key "pkcs11:id=$CVCA_ID;type=private" --mnemonic DV --officer "L. Officer"

# a configuration pointed at the CVCA token still has only the DV's PIN
sed 's|"uri": "pkcs11:token=DV"|"uri": "pkcs11:token=CVCA"|' "$FCONF" > "$S/dv-on-cvca-token.json"
assert "a DV configuration naming token CVCA is made" grep -q '"uri": "pkcs11:token=CVCA"' "$S/dv-on-cvca-token.json"
rm -f "$COUNTS"
refuse "the DV's PIN does not open the CVCA token (exit 3)" 3 "^eac-dv: token CVCA: wrong PIN \\(CKR_PIN_INCORRECT\\)$" \
	env P11FAULT_MODULE="$REAL_MODULE" P11FAULT_COUNTS="$COUNTS" "$DV_BIN" -c "$S/dv-on-cvca-token.json" \
	init --key 'pkcs11:token=CVCA;object=FICVCA00001' --mnemonic DV --officer "L. Officer"
assert "... one login tried, nothing signed or generated" \
	test "$(calls C_Login)" -eq 1 -a "$(calls C_Sign)" -eq 0 -a "$(calls C_GenerateKeyPair)" -eq 0
rm -f "$COUNTS"
refuse "... nor can it generate a key there (init --curve, exit 3)" 3 "^eac-dv: token CVCA: wrong PIN \\(CKR_PIN_INCORRECT\\)$" \
	env P11FAULT_MODULE="$REAL_MODULE" P11FAULT_COUNTS="$COUNTS" "$DV_BIN" -c "$S/dv-on-cvca-token.json" \
	init --curve brainpoolP256r1 --mnemonic DV --officer "L. Officer"
assert "... one login tried, nothing generated" test "$(calls C_Login)" -eq 1 -a "$(calls C_GenerateKeyPair)" -eq 0
assert "... the failed logins are in the DV's audit log" \
	test "$(sql dv "select count(*) from eac.audit_events where action = 'login.fail'")" = 2

# nothing of the refused attempts remains: no identity, no key, no sequence
rm -f "$COUNTS"
dv status > "$T_OUT" 2> "$T_ERR"
rc=$?
capture
assert "status: still no key (exit $rc = 1)" test "$rc" -eq 1
assert "... says so (CP-3.2.4)" grep -q 'this DV has no key yet: eac-dv init (CP-3.2.4)' "$T_OUT"
assert "the DV database holds no authority, key or sequence number after the refusals" test \
	"$(sql dv "select (select count(*) from eac.authorities) + (select count(*) from eac.keys) +
		(select count(*) from eac.audit_events where action like 'sequence%')")" = 0

# ---- what pkcs11-tool, not our code, sees with the DV's PIN ----
check "pkcs11-tool, DV PIN: the DV token has no private key yet" privkeys DV "$S/dv.pin"
assert "... none" test -z "$(last_out)"
p11 CVCA "$S/dv.pin" --list-objects > "$T_OUT" 2> "$T_ERR"
rc=$?
capture
assert "pkcs11-tool: the DV's PIN does not open the CVCA token (exit $rc, CKR_PIN_INCORRECT)" \
	bash -c "[ $rc -ne 0 ] && grep -q 'C_Login failed: rv = CKR_PIN_INCORRECT' '$T_ERR'"

# ---- a key made beforehand in the DV token is what --key is for ----
check "pkcs11-tool makes a sensitive brainpoolP256r1 key FIDVKEY in the DV token" \
	p11 DV "$S/dv.pin" --keypairgen --key-type EC:brainpoolP256r1 --label FIDVKEY --id 01 --usage-sign --sensitive
check "init --key 'pkcs11:token=DV;object=FIDVKEY'" \
	at "$T_ENROL" dv init --key 'pkcs11:token=DV;object=FIDVKEY' --mnemonic DV --officer "L. Officer"
check "trust FICVCA00001" at "$T_ENROL" dv trust "$CVCA_CERT"
check "the CVCA registers the DV" at "$T_ENROL" cvca dv register --country FI --mnemonic DV --name "FI DV" \
	--conformity-expires 2099-12-31
signed "request to FICVCA00001, signed with FIDVKEY" at "$T_ENROL" dv request --to FICVCA00001 --out "$W/dv.cvreq"
assert "... the first request is FIDVFI001: the refused inits spent no sequence number" \
	grep -q '^request 1: FIDVFI001 to FICVCA00001' "$T_OUT"
check "the CVCA receives it" at "$T_ENROL" cvca receive "$W/dv.cvreq"
check "the CVCA approves it" at "$T_ENROL" cvca approve 1 --out "$DV_CERT"
check "import" at "$T_ENROL" dv import "$DV_CERT"
check "pkcs11-tool, DV PIN: the DV token's private keys" privkeys DV "$S/dv.pin"
assert "... FIDVKEY only, no CVCA key" test "$(last_out)" = "FIDVKEY "
check "pkcs11-tool, CVCA PIN: the CVCA token's private keys" privkeys CVCA "$S/cvca.pin"
assert "... FICVCA00001 only, no DV key" test "$(last_out)" = "FICVCA00001 "
refused_msg "init again, now with the CVCA key's URI: the DV is initialised" 1 "this DV is initialised \\(key FIDVKEY\\)" \
	dv init --key 'pkcs11:token=CVCA;object=FICVCA00001' --mnemonic DV --officer "L. Officer"

# the DV key signs: an IS certificate, verified by OpenPACE
check "is add gate 1" dv is add "Gate 1" --org "Finnish Border Guard" --mnemonic GATE1
eckey g1
isreq g1 g1 FIGATE100001
receive "gate 1" "$W/g1.cvreq"
signed "gate 1: issued with the DV token's key" dv is approve "$REQ" --out "$W/FIGATE100001.cvcert"
assert "... one C_Sign" test "$(calls C_Sign)" -eq 1
openpace "OpenPACE verifies FIGATE100001 under FIDVFI001 and FICVCA00001" "$W/FIGATE100001.cvcert" \
	"FICVCA00001=$CVCA_CERT" "FIDVFI001=$DV_CERT"
check "the audit chain verifies" dv audit verify
done_testing
