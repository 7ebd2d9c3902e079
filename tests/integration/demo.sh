#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The full demo path (make demo) as a test: CVCA ceremonies, DV enrolment
# with the national and a foreign CVCA (countersigned first request), three
# inspection systems certified and a stolen one refused, the link ceremony,
# and every certificate verified by eac-cvc and by OpenPACE.
. "$(dirname "$0")/../lib.sh"

D=$T_DIR/demo
EAC_DEMO_BIN=$EAC_BIN "$EAC_TOP/packaging/demo" "$D" >"$T_OUT" 2>"$T_ERR"
rc=$?
capture
track_sandbox "$D/home"
track_sandbox "$D/foreign"
assert "the demo runs to the end (exit 0)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || diag "$T_OUT" "$T_ERR"
out=$T_DIR/demo.out
cp "$T_OUT" "$out"
W=$D/work

for c in FICVCA00001.cvcert FICVCA00002.link.cvcert FICVCA00002.cvcert DECVCA00001.cvcert \
	FIDVFI001.cvcert FIDVDE001.cvcert FIHELGATE100001.cvcert FIHELGATE200001.cvcert \
	FIHELGATE300001.cvcert FIHELGATE100002.cvcert; do
	check "OpenPACE verified $c" grep -q "OpenPACE: $c: certificate verified" "$out"
done
assert "no certificate for the stolen gate 4" test ! -e "$W/FIHELGATE400001.cvcert"
check "gate 4 refused with CP-3.3.2" grep -q "gate 4: .*refused: .*stolen (CP-3.3.2" "$out"
check "the foreign DV certificate is DV (official foreign), CAR DECVCA00001" \
	grep -q "issued certificate FIDVDE001 (CAR DECVCA00001, DV (official foreign)" "$out"
check "the countersigned request carries the FI CVCA's outer signature" bash -c "
	'$EAC_BIN/eac-cvc' print '$W/FIDVDE001.auth.cvreq' | grep -qi 'outer.*FICVCA00001'"
# independent of the demo's own checks: OpenPACE again, link chain by file name
mkdir -p "$T_DIR/op"
cp "$W/fi-cvca/FICVCA00001.cvcert" "$T_DIR/op/FICVCA00001"
cp "$W/fi-cvca/FICVCA00002.link.cvcert" "$T_DIR/op/FICVCA00002"
cp "$W/FIDVFI001.cvcert" "$T_DIR/op/FIDVFI001"
check "OpenPACE: IS certificate FIHELGATE200001 through CVCA and DV" bash -c "
	cvc-print --cvc-dir '$T_DIR/op' --cvc '$W/FIHELGATE200001.cvcert' | grep -q '^certificate verified'"
check "OpenPACE refuses the IS certificate without its DV certificate" bash -c "
	mkdir -p '$T_DIR/op2' && cp '$W/fi-cvca/FICVCA00001.cvcert' '$T_DIR/op2/FICVCA00001' &&
	! cvc-print --cvc-dir '$T_DIR/op2' --cvc '$W/FIHELGATE200001.cvcert' 2>/dev/null | grep -q '^certificate verified'"
check "eac-cvc verify: every certificate valid" bash -c "! grep -q ': \(invalid\|NOT\)' '$out'"
check "both audit chains verify" bash -c "[ \$(grep -c 'audit chain verified' '$out') -eq 2 ]"
check "the demo says how long it took" grep -q '^Done in [0-9]* seconds' "$out"
done_testing
