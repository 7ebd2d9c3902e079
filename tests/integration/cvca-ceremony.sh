#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# eac-cvca key ceremonies (docs/ceremony.md), checked by OpenPACE:
#  - a ceremony with too few officers is refused before any key exists;
#  - init: the key is generated in the token with the protective attributes,
#    the self-signed certificate is signed there, `export` writes it with
#    fingerprints, and OpenPACE's cvc-print verifies it (a flipped bit: not);
#  - rollover: one new key, two signatures (self-signed + link), the link
#    certificate verifies with OpenPACE against the OLD root alone (and not
#    against another key under the old CHR), and a DV certificate issued
#    after the rollover verifies against old root + link (not the old root
#    alone); the transcripts anchor the audit chain.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cvca-lib.sh"

T0=$((NOW - 30 * DAY)) # the initial ceremony, a month ago
D0=$(date -u +%y%m%d)
D_Y2=$(date -u -d "2 years" +%y%m%d)

# ---- before the ceremony ----
check_status() { cvca status > "$W/status.out" 2>&1; echo "rc=$?" >> "$W/status.out"; }
check_status
cat "$W/status.out" >> "$T_CAPTURE"
assert "status before init: exit 1, the initial ceremony is due (CP-4.2.1)" \
	grep -qx 'rc=1' "$W/status.out"
assert "... named with its rule" grep -q 'no active CVCA key: the initial key ceremony is due (CP-4.2.1)' "$W/status.out"

rm -f "$COUNTS"
refused "init with one officer" CP-4.2.1 at "$T0" cvca init --curve brainpoolP256r1 --officer "A. Admin"
assert "... and no key was generated (C_GenerateKeyPair $(calls C_GenerateKeyPair))" test "$(calls C_GenerateKeyPair)" -eq 0
refuse "init on a curve the appliance does not know: usage" 2 "^eac-cvca: curve 'P-521' refused" \
	at "$T0" cvca init --curve P-521 --officer "A. Admin" --officer "S. Officer"
# a national policy that allows brainpoolP256r1 only
sed 's/"curves": \[[^]]*\]/"curves": ["brainpoolP256r1"]/' "$S/policy.json" > "$S/policy-bp256.json"
sed "s|\"policy\": \"$S/policy.json\"|\"policy\": \"$S/policy-bp256.json\"|" "$FCONF" > "$S/cvca-bp256.json"
assert "a configuration with the narrowed national policy" grep -q policy-bp256 "$S/cvca-bp256.json"
refused "init on a curve outside the national list" "TR-03110-3 A.6.4.2" \
	env EAC_TEST_NOW="$T0" "$CVCA_BIN" -c "$S/cvca-bp256.json" init --curve P-384 \
	--officer "A. Admin" --officer "S. Officer"
assert "... and no key was generated" test "$(calls C_GenerateKeyPair)" -eq 0

# ---- init ----
issued "init: CVCA key and self-signed certificate" at "$T0" cvca init --curve brainpoolP256r1 \
	--validity 1095 --officer "A. Admin" --officer "S. Officer" --transcript "$W/init.json"
assert "init: exactly one key generated and one signature" test "$(calls C_GenerateKeyPair):$(calls C_Sign)" = 1:1
OLD=FICVCA00001
assert "init: the transcript names $OLD" grep -q "\"chr\": \"$OLD\"" "$W/init.json"
assert "init: the token reports the key sensitive, never extractable, generated in the token" bash -c "
	grep -q '\"CKA_SENSITIVE\": true' '$W/init.json' && grep -q '\"CKA_EXTRACTABLE\": false' '$W/init.json' &&
	grep -q '\"CKA_NEVER_EXTRACTABLE\": true' '$W/init.json' && grep -q '\"CKA_LOCAL\": true' '$W/init.json'"
check "init: the transcript's audit anchor verifies" cvca audit verify --transcript "$W/init.json"
refuse "a second init is refused: a new key comes from the link ceremony" 1 \
	'^eac-cvca: this CVCA is initialised \(active key FICVCA00001\).*rollover \(CP-5\.4b\)$' \
	cvca init --curve brainpoolP256r1 --officer "A. Admin" --officer "S. Officer"

check "export after init" cvca export --out-dir "$W/exp1"
assert "export: the CVCA certificate and fingerprints.txt" test -f "$W/exp1/$OLD.cvcert" -a -f "$W/exp1/fingerprints.txt"
check "export: fingerprints.txt is the SHA-256 of each file" bash -c "cd '$W/exp1' && sha256sum -c --strict fingerprints.txt"
assert "export: the exported file is the certificate the ceremony wrote" cmp -s "$W/exp1/$OLD.cvcert" "$S/cvca/$OLD.cvcert"
openpace "OpenPACE verifies the exported CVCA certificate" "$W/exp1/$OLD.cvcert" "$OLD=$W/exp1/$OLD.cvcert"
assert "... CAR = CHR = $OLD, an IS CVCA certificate with dg3/dg4 (fingerprint, iris)" bash -c "
	[ \"\$(sed -n 's/^  CAR: //p' '$W/op.out'):\$(sed -n 's/^  CHR: //p' '$W/op.out')\" = '$OLD:$OLD' ] &&
	grep -qx '    Inspection system' '$W/op.out' && grep -qx '      CVCA certificate' '$W/op.out' &&
	grep -qx '      Read fingerprint' '$W/op.out' && grep -qx '      Read iris' '$W/op.out'"
assert "... effective on the ceremony's date" grep -qx "  Effective Date: $(date -u -d "@$T0" +%F)" "$W/op.out"
flip "$W/exp1/$OLD.cvcert" -1 "$W/flipped.cvcert"
openpace_fails "OpenPACE refuses it with one signature bit flipped" "$W/flipped.cvcert" "$OLD=$W/exp1/$OLD.cvcert"

# ---- rollover ----
refused "rollover with one officer" CP-4.2.1 cvca rollover --officer "A. Admin"
assert "... and no key was generated" test "$(calls C_GenerateKeyPair)" -eq 0
issued "rollover: new key, self-signed and link certificates" cvca rollover \
	--officer "A. Admin" --officer "S. Officer" --transcript "$W/rollover.json"
assert "rollover: one new key, two signatures (self-signed by the new key, link by the old)" \
	test "$(calls C_GenerateKeyPair):$(calls C_Sign)" = 1:2
NEW=FICVCA00002
assert "rollover: the transcript names $OLD -> $NEW and the verified chain" bash -c "
	grep -q '\"previous_chr\": \"$OLD\"' '$W/rollover.json' && grep -q '\"chain_verified\": true' '$W/rollover.json' &&
	grep -q '\"kind\": \"link\"' '$W/rollover.json' && grep -q '\"chr\": \"$NEW\"' '$W/rollover.json'"
check "rollover: the transcript's audit anchor verifies" cvca audit verify --transcript "$W/rollover.json"
status_at
assert "status after the rollover: the link certificate awaits distribution, exit 1 ($STATUS_RC)" test "$STATUS_RC" -eq 1
assert "... named, with the last day to distribute it (CP-5.4b)" grep -Eqx "warning +link certificate $NEW \(CAR $OLD, \
which expires $(date -u -d "$(date -u -d "@$T0" +%F) + 1095 days" +%F)\) awaits distribution: .*publish $NEW' by \
$(date -u -d "$(date -u -d "@$T0" +%F) + 1081 days" +%F) \(CP-5\.4b\)" "$T_OUT"
check "publish $NEW: the link and the new self-signed certificate are distributed" cvca publish "$NEW"
status_at
assert "status after publish: exit 0 ($STATUS_RC)" test "$STATUS_RC" -eq 0

check "export after rollover" cvca export --out-dir "$W/exp2"
assert "export: old, new and link certificates" \
	test -f "$W/exp2/$OLD.cvcert" -a -f "$W/exp2/$NEW.cvcert" -a -f "$W/exp2/$NEW.link.cvcert"
assert "export: three fingerprints" test "$(wc -l < "$W/exp2/fingerprints.txt")" -eq 3
check "export: they match the files" bash -c "cd '$W/exp2' && sha256sum -c --strict fingerprints.txt"

LINK=$W/exp2/$NEW.link.cvcert
openpace "OpenPACE verifies the link certificate against the old root alone" "$LINK" "$OLD=$W/exp2/$OLD.cvcert"
assert "... CAR $OLD, CHR $NEW" test "$(op_field CAR):$(op_field CHR)" = "$OLD:$NEW"
# control: a root with the same CHR but another key does not verify it
(cd "$W" && eckey impostor && cvc-create --role=cvca --type=is --chr=$OLD --issued="$D0" --expires="$D_Y2" \
	--sign-with=impostor.pkcs8 --scheme=ECDSA_SHA_256 --read-finger --read-iris --out-cert=impostor.cvcert) \
	> "$W/impostor.log" 2>&1 || not_ok "cvc-create made an impostor root"
openpace_fails "OpenPACE refuses the link certificate under an impostor $OLD" "$LINK" "$OLD=$W/impostor.cvcert"
openpace "OpenPACE verifies the new self-signed certificate" "$W/exp2/$NEW.cvcert" "$NEW=$W/exp2/$NEW.cvcert"

# ---- a DV certificate after the rollover ----
check "a domestic DV is registered" cvca dv register --country FI --mnemonic DVA --name "DV A" \
	--conformity-expires 2099-12-31
eckey dva
check "the DV makes its request (eac-cvc, software key)" \
	"$CVC" request --key "$W/dva.pem" --chr FIDVA00001 --car "$NEW" --out "$W/dva.cvreq"
receive "DV request after rollover" "$W/dva.cvreq"
issued "the DV certificate is issued" cvca approve "$REQ" --out "$W/FIDVA00001.cvcert"
openpace "OpenPACE verifies the DV certificate against old root + link" "$W/FIDVA00001.cvcert" \
	"$OLD=$W/exp2/$OLD.cvcert" "$NEW=$LINK"
assert "... CAR $NEW (the new key), CHR FIDVA00001" test "$(op_field CAR):$(op_field CHR)" = "$NEW:FIDVA00001"
openpace_fails "OpenPACE does not verify it with the old root alone" "$W/FIDVA00001.cvcert" "$OLD=$W/exp2/$OLD.cvcert"
mkdir -p "$W/trust-old"
cp "$W/exp2/$OLD.cvcert" "$LINK" "$W/trust-old/"
check "eac-cvc verifies the chain old root > link > DV" "$CVC" verify --trust "$W/trust-old" "$W/FIDVA00001.cvcert"
assert "... through the link" grep -q "chain $OLD > $NEW > FIDVA00001" "$T_OUT"

# ---- after: a curve change needs the officers' explicit permission ----
refused "rollover to another curve without --allow-curve-change" "TR-03110-3 2.3" \
	cvca rollover --curve brainpoolP384r1 --officer "A. Admin" --officer "S. Officer"
assert "... refused after the new key was generated in the token (the count is live)" test "$(calls C_GenerateKeyPair)" -eq 1
check "export" cvca export --out-dir "$W/exp3"
assert "... the refused ceremony's key has no certificate: still three" test "$(wc -l < "$W/exp3/fingerprints.txt")" -eq 3
check "the audit chain verifies at the end" cvca audit verify
done_testing
