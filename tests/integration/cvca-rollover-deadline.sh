#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# CP-5.4b with the test clock (EAC_TEST_NOW, test builds only): the link
# certificate must be distributed at least 14 days before the CVCA
# certificate it replaces expires (on expiry E: by E-14; docs/POLICY.md).
#  - status: E-61 ok (exit 0); from E-60 (national lead time) the rollover
#    is due (exit 1); 15 and 14 days before expiry without a distributed link
#    certificate it warns (exit 1); 13 days before it is missed (exit 2);
#  - DV issuance: allowed 15 days before (with the CP-5.4b warning, clamped
#    to the CVCA's expiry), refused 13 days before (CP-5.4b, no C_Sign);
#  - a rollover signed then but not distributed still leaves the old
#    certificate's deadline missed (exit 2, naming the link); once
#    `publish` records its distribution, status is clean and DV
#    certificates are issued under the new key.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cvca-lib.sh"

issued "init today (3 years, the national default)" cvca init --curve brainpoolP256r1 \
	--officer "A. Admin" --officer "S. Officer"
check "eac-cvc print of the CVCA certificate" "$CVC" print "$S/cvca/FICVCA00001.cvcert"
E=$(sed -n 's/^  expiry: *//p' "$T_OUT")
assert "its expiry is 3 years from today ($E)" test "$E" = "$(date -u -d '3 years' +%F)"
EE=$(date -u -d "$E" +%s)
day() { echo $((EE - $1 * DAY + 12 * 3600)); } # noon UTC, N days before expiry
dstr() { date -u -d "$E - $1 days" +%F; }
for m in DVA DVB DVC; do
	check "dv register FI$m" cvca dv register --country FI --mnemonic $m --name "DV $m" --conformity-expires 2099-12-31
done

status_at "$(day 61)"
assert "61 days before expiry: exit 0 ($STATUS_RC)" test "$STATUS_RC" -eq 0
assert "... rollover due on $(dstr 60)" grep -q "rollover due $(dstr 60) (CP-5.4b)" "$T_OUT"
status_at "$(day 60)"
assert "60 days before expiry (the national lead time): the link certificate is due, exit 1 ($STATUS_RC)" \
	test "$STATUS_RC" -eq 1
status_at "$(day 15)"
assert "15 days before expiry without a distributed link: status warns, exit 1 ($STATUS_RC)" test "$STATUS_RC" -eq 1
assert "... naming the last day $(dstr 14) and CP-5.4b" grep -Eqx \
	"warning +CVCA certificate FICVCA00001 expires $E: the link certificate is due \(distribute it by $(dstr 14)\) \(CP-5\.4b\)" "$T_OUT"

eckey dva
"$CVC" request --key "$W/dva.pem" --chr FIDVA00001 --car FICVCA00001 --out "$W/dva.cvreq" > /dev/null
AT=$(day 15) receive "15 days before expiry: a DV request" "$W/dva.cvreq"
issued "15 days before expiry: the DV certificate is still issued" at "$(day 15)" cvca approve "$REQ" \
	--out "$W/FIDVA00001.cvcert"
assert "... with the CP-5.4b warning" grep -q '^eac-cvca: warning: .*(CP-5\.4b)$' "$T_ERR"
assert "... valid through the CVCA's expiry, not beyond (CP-5.4.1)" grep -q "valid $(dstr 15) .. $E" "$T_OUT"

status_at "$(day 14)"
assert "14 days before expiry (the last day): still a warning, exit 1 ($STATUS_RC)" test "$STATUS_RC" -eq 1
status_at "$(day 13)"
assert "13 days before expiry without a distributed link: deadline missed, exit 2 ($STATUS_RC)" test "$STATUS_RC" -eq 2
assert "... naming the certificate, the missed day and the refusal" grep -Eqx \
	"missed +CVCA certificate FICVCA00001 expires $E and no link certificate was distributed by $(dstr 14): DV issuance under it is refused \(CP-5\.4b\)" "$T_OUT"

eckey dvb
"$CVC" request --key "$W/dvb.pem" --chr FIDVB00001 --car FICVCA00001 --out "$W/dvb.cvreq" > /dev/null
AT=$(day 13) receive "13 days before expiry: a DV request" "$W/dvb.cvreq"
refused "13 days before expiry: DV issuance refused" CP-5.4b at "$(day 13)" cvca approve "$REQ"

# the late rollover: signed now, distributed a little later
issued "13 days before expiry: the rollover" at "$(day 13)" cvca rollover --officer "A. Admin" \
	--officer "S. Officer" --transcript "$W/rollover.json"
assert "... the transcript warns that the link comes late (CP-5.4b)" grep -q 'CP-5.4b' "$W/rollover.json"
status_at "$(day 13)"
assert "after the rollover, link not yet distributed: still missed, exit 2 ($STATUS_RC)" test "$STATUS_RC" -eq 2
assert "... naming the link certificate FICVCA00002 that awaits distribution" grep -Eq \
	"^missed .*FICVCA00002.*\(CP-5\.4b\)$" "$T_OUT"
check "publish FICVCA00002: link and new self-signed certificate distributed" \
	at "$(day 13)" cvca publish FICVCA00002 --to "European Commission, SPOC, DVs"
assert "... both recorded" test "$(grep -c '^recorded: ' "$T_OUT")" -eq 2
status_at "$(day 13)"
assert "after the distribution: status exit 0 ($STATUS_RC)" test "$STATUS_RC" -eq 0
assert "... the active certificate is FICVCA00002" grep -q 'CVCA certificate FICVCA00002 expires' "$T_OUT"

eckey dvc
"$CVC" request --key "$W/dvc.pem" --chr FIDVC00001 --car FICVCA00002 --out "$W/dvc.cvreq" > /dev/null
AT=$(day 13) receive "after the rollover: a DV request" "$W/dvc.cvreq"
issued "after the rollover: the DV certificate is issued under the new key" at "$(day 13)" cvca approve "$REQ" \
	--out "$W/FIDVC00001.cvcert"
assert "... CAR FICVCA00002, the full 3 months" \
	grep -q "issued certificate FIDVC00001 (CAR FICVCA00002.* valid $(dstr 13) .. $(date -u -d "$(dstr 13) + 3 months" +%F)" "$T_OUT"
done_testing
