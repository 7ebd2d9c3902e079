#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# DV requests made by independent generators, issued by eac-cvca and
# verified by OpenPACE's cvc-print:
#  - a domestic DV's initial request (eac-cvc request, software key);
#  - a foreign (German) DV's initial request, countersigned by the German
#    CVCA — made with OpenPACE cvc-create on another curve and registered
#    with `foreign import` — through `eac-cvc request --outer-key`;
#  - re-key requests of both, authenticated by the DV's current key.
# Each success signs exactly once in the token; the roles (official
# domestic / foreign DV), CAR and dates are what the policy says. The
# initial CVCA certificate went to the Commission 100 days before (CP-5.4a).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/cvca-lib.sh"

T0=$((NOW - 100 * DAY))
TODAY=$(date -u +%F)
D0=$(date -u +%y%m%d)
D_Y2=$(date -u -d "2 years" +%y%m%d)
ROOT=FICVCA00001

# ---- the CVCA, 100 days ago, and its registries ----
issued "init (100 days ago)" at "$T0" cvca init --curve brainpoolP256r1 --officer "A. Admin" --officer "S. Officer"
check "publish: the initial CVCA certificate sent to the Commission (100 days ago)" \
	at "$T0" cvca publish "$ROOT" --to "European Commission"
check "export" cvca export --out-dir "$W/exp"
TRUST=("$ROOT=$W/exp/$ROOT.cvcert")

# the German CVCA: OpenPACE, brainpoolP384r1 (another curve than ours)
(cd "$W" && eckey decvca brainpoolP384r1 &&
	cvc-create --role=cvca --type=is --chr=DECVCA00001 --issued="$D0" --expires="$D_Y2" \
		--sign-with=decvca.pkcs8 --scheme=ECDSA_SHA_384 --read-finger --read-iris) > "$W/de.log" 2>&1 ||
	{ not_ok "cvc-create made the German CVCA certificate"; diag "$W/de.log"; }
check "foreign import: the German CVCA certificate (CP-3.2.2)" cvca foreign import "$W/DECVCA00001.cvcert"
check "foreign list shows it" cvca foreign list
assert "... as DE CVCA" grep -q 'DECVCA .*foreign' "$T_OUT"

check "dv register: a domestic DV with its conformity certificate" \
	cvca dv register --country FI --mnemonic DVA --name "Finnish Border Guard DV" --conformity-expires 2099-12-31
check "dv register: a foreign (German) DV" \
	cvca dv register --country DE --mnemonic DVB --name "German DV" --org "BSI" --conformity-expires 2099-12-31
assert "... registered as foreign" grep -q 'registered foreign DV DEDVB' "$T_OUT"

# ---- domestic initial request ----
eckey fi1
check "domestic: eac-cvc makes an initial request" \
	"$CVC" request --key "$W/fi1.pem" --chr FIDVA00001 --car "$ROOT" --out "$W/fi1.cvreq"
receive "domestic initial" "$W/fi1.cvreq"
assert "... on the domestic channel, due in 72 hours (CP-4.2.2)" grep -q 'to be processed by .*(72 h, CP-4.2.2)' "$T_OUT"
issued "domestic initial: issued" cvca approve "$REQ" --out "$W/FIDVA00001.cvcert"
assert "domestic initial: exactly one signature" test "$(calls C_Sign)" -eq 1
assert "domestic initial: no CP-5.4a warning 100 days after the Commission got the root" bash -c "! grep -q 'CP-5.4a' '$T_ERR'"
openpace "domestic initial: OpenPACE verifies the DV certificate" "$W/FIDVA00001.cvcert" "${TRUST[@]}"
assert "... CAR $ROOT, CHR FIDVA00001, effective today, 3 months (national default)" bash -c "
	[ \"\$(sed -n 's/^  CAR: //p;s/^  CHR: //p' '$W/op.out' | tr '\n' :)\" = '$ROOT:FIDVA00001:' ] &&
	grep -qx '  Effective Date: $TODAY' '$W/op.out' &&
	grep -qx '  Expiration Date: $(date -u -d "$TODAY + 3 months" +%F)' '$W/op.out'"
check "eac-cvc print" "$CVC" print "$W/FIDVA00001.cvcert"
assert "... role DV (official domestic), rights dg3,dg4" bash -c \
	"grep -q 'role: *DV (official domestic)' '$T_OUT' && grep -q 'rights: *dg3,dg4$' '$T_OUT'"
rm -f "$COUNTS"
check "approving it again answers with the same certificate" cvca approve "$REQ" --out "$W/FIDVA00001.again"
assert "... the same bytes, nothing signed" bash -c "cmp -s '$W/FIDVA00001.cvcert' '$W/FIDVA00001.again' && [ $(calls C_Sign) -eq 0 ]"
FIRST=$REQ
receive "the same request file resubmitted" "$W/fi1.cvreq"
assert "... is the same request, already issued" bash -c "[ '$REQ' = '$FIRST' ] &&
	grep -qx 'request $FIRST from FIDVA00001 (resubmitted: same request): received .*' '$T_OUT' &&
	grep -qx 'state: issued' '$T_OUT'"

# ---- foreign initial request, countersigned by its CVCA ----
eckey de1
check "foreign: eac-cvc makes the German DV's request, outer-signed with the German CVCA's key" \
	"$CVC" request --key "$W/de1.pem" --chr DEDVB00001 --car "$ROOT" \
	--outer-key "$W/decvca.pem" --outer-car DECVCA00001 --out "$W/de1.cvreq"
receive "foreign initial" "$W/de1.cvreq"
check "requests lists it on the foreign channel" cvca requests --pending
assert "... pending" grep -Eq "^$REQ +DEDVB00001 +foreign +(received|acknowledged)" "$T_OUT"
issued "foreign initial: issued" cvca approve "$REQ" --out "$W/DEDVB00001.cvcert"
openpace "foreign initial: OpenPACE verifies the DV certificate" "$W/DEDVB00001.cvcert" "${TRUST[@]}"
assert "... CAR $ROOT, CHR DEDVB00001" test "$(op_field CAR):$(op_field CHR)" = "$ROOT:DEDVB00001"
check "eac-cvc print" "$CVC" print "$W/DEDVB00001.cvcert"
assert "... role DV (official foreign)" grep -q 'role: *DV (official foreign)' "$T_OUT"

# ---- re-key requests, authenticated by the current DV key ----
eckey fi2
check "domestic re-key: request for FIDVA00002, outer-signed by FIDVA00001's key" \
	"$CVC" request --key "$W/fi2.pem" --chr FIDVA00002 --car "$ROOT" \
	--outer-key "$W/fi1.pem" --outer-car FIDVA00001 --out "$W/fi2.cvreq"
receive "domestic re-key" "$W/fi2.cvreq"
issued "domestic re-key: issued" cvca approve "$REQ" --out "$W/FIDVA00002.cvcert"
openpace "domestic re-key: OpenPACE verifies the new DV certificate" "$W/FIDVA00002.cvcert" "${TRUST[@]}"
assert "... CHR FIDVA00002" test "$(op_field CHR)" = FIDVA00002

eckey de2
check "foreign re-key: request for DEDVB00002, outer-signed by DEDVB00001's key" \
	"$CVC" request --key "$W/de2.pem" --chr DEDVB00002 --car "$ROOT" \
	--outer-key "$W/de1.pem" --outer-car DEDVB00001 --out "$W/de2.cvreq"
receive "foreign re-key" "$W/de2.cvreq"
issued "foreign re-key: issued" cvca approve "$REQ" --out "$W/DEDVB00002.cvcert"
openpace "foreign re-key: OpenPACE verifies the new DV certificate" "$W/DEDVB00002.cvcert" "${TRUST[@]}"

# ---- a domestic DV's first request to a foreign CVCA, countersigned here ----
eckey fi3
check "the domestic DV's request to the German CVCA" \
	"$CVC" request --key "$W/fi3.pem" --chr FIDVA00003 --car DECVCA00001 --out "$W/fi3.cvreq"
issued "countersign: outer-signed with the CVCA key (CP-1.4a)" \
	cvca countersign "$W/fi3.cvreq" --out "$W/fi3-auth.cvreq"
mkdir -p "$W/trust"
cp "$W/exp/$ROOT.cvcert" "$W/trust/"
check "eac-cvc verifies the countersigned request: inner, outer by $ROOT, and its chain" \
	"$CVC" verify --trust "$W/trust" "$W/fi3-auth.cvreq"

# ---- afterwards ----
check "requests: every request issued" cvca requests
assert "... four issued, none pending" test "$(grep -c ' issued ' "$T_OUT")" -eq 4
cvca status > "$W/status.out" 2>&1
rc=$?
cat "$W/status.out" >> "$T_CAPTURE"
assert "status: all well (exit $rc)" test "$rc" -eq 0
check "the audit chain verifies" cvca audit verify
done_testing
