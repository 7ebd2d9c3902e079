# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034
# (SC2034: NOW, DAY, DV_EXP, REQ … are for the tests that source this)
#
# Shared by the eac-dv integration tests (tests/integration/dv-*.sh). Not a
# test itself: not executable, so tests/run does not run it. Source it after
# lib.sh:
#   . "$(dirname "$0")/../lib.sh"; . "$(dirname "$0")/dv-lib.sh"
#
# It makes one sandbox ($S, country FI). Its CVCA engine runs on SoftHSM
# directly; its DV engine on a copy of dv.json whose token module is the
# PKCS#11 fault module in front of SoftHSM (docs/HSM.md §8), so every eac-dv
# run counts its PKCS#11 calls: a refusal must make no C_Sign, a success at
# least one (so that the assertion can fail).
#
#   dv ARGS...               eac-dv -c <fault config> --operator tester ARGS
#   cvca ARGS...             eac-cvca -c $S/cvca.json --operator tester ARGS
#                            (both: test clock EAC_TEST_NOW=$AT when AT is set)
#   at TIME CMD...           CMD with the test clock at TIME (epoch seconds or
#                            YYYY-MM-DDTHH:MM:SSZ)
#   calls FUNC               PKCS#11 calls FUNC of the last counted eac-dv run
#   signed DESC CMD...       CMD succeeds and signed in the DV token (C_Sign >= 1)
#   refused DESC RULE CMD... exit 1, stderr one line "eac-dv: refused: … (RULE)",
#                            and no C_Sign
#   refused_msg DESC RC REGEX CMD...  exit RC, stderr one line matching REGEX
#                            (after "eac-dv: "), and no C_Sign
#   dv_enrol [eac-cvca approve options]
#                            the CVCA's key ceremony 95 days ago; 4 days ago the
#                            DV's init, trust, request FIDVFI001, the CVCA's
#                            approval and the import (a function
#                            enrol_pending_hook, if defined, runs while the
#                            request is open). Sets DV_EXP (the DV
#                            certificate's expiry, YYYY-MM-DD), CVCA_CERT, DV_CERT
#   eckey NAME [CURVE]       $W/NAME.pem (default brainpoolP256r1)
#   isreq NAME KEY CHR [CAR [eac-cvc request options]]
#                            $W/NAME.cvreq: a terminal's request made by eac-cvc
#                            with the software key $W/KEY.pem (CAR default FIDVFI001)
#   receive DESC FILE        `eac-dv is receive FILE`; sets $REQ to its id
#   openpace DESC CERT CHR=FILE...  OpenPACE cvc-print verifies CERT with a
#                            trust directory of exactly these files, each named
#                            by its CHR (how cvc-print finds a CAR)
#   flip FILE OFFSET OUT     OUT = FILE with the byte at OFFSET (negative: from
#                            the end) XOR 0x01
#   sql DB QUERY             psql as eac_auditor (read-only), unaligned
#   field FILE NAME          a field of `eac-cvc print` (e.g. "expiry", "CHR")

DV_BIN=$EAC_BIN/eac-dv
CVCA_BIN=$EAC_BIN/eac-cvca
CVC=$EAC_BIN/eac-cvc
FAULT=$EAC_BUILD/lib/p11fault.so
for t in "$DV_BIN" "$CVCA_BIN" "$CVC"; do
	[ -x "$t" ] || { not_ok "$t is built"; done_testing; exit; }
done
[ -f "$FAULT" ] || { not_ok "$FAULT is built"; done_testing; exit; }
command -v cvc-print >/dev/null && command -v cvc-create >/dev/null ||
	{ not_ok "OpenPACE (cvc-create, cvc-print) is installed"; done_testing; exit; }

S=$(new_sandbox s) && track_sandbox "$S" || { not_ok "sandbox created"; done_testing; exit; }
. "$S/env"
W=$T_DIR/work
mkdir -p "$W"
REAL_MODULE=$(sed -n 's/^ *"module": "\(.*\)",$/\1/p' "$S/dv.json")
FCONF=$S/dv-fault.json
sed "s|\"module\": \"$REAL_MODULE\"|\"module\": \"$FAULT\"|" "$S/dv.json" > "$FCONF"
grep -q "\"module\": \"$FAULT\"" "$FCONF" || { not_ok "fault-module configuration made"; done_testing; exit; }
COUNTS=$W/p11-counts

NOW=$(date -u +%s)
DAY=86400
AT=
at() { local AT=$1; shift; "$@"; }
dv() {
	env ${AT:+EAC_TEST_NOW=$AT} P11FAULT_MODULE="$REAL_MODULE" P11FAULT_COUNTS="$COUNTS" \
		"$DV_BIN" -c "$FCONF" --operator tester "$@"
}
cvca() { env ${AT:+EAC_TEST_NOW=$AT} "$CVCA_BIN" -c "$S/cvca.json" --operator tester "$@"; }

# (calls, p11_signed, p11_refused: tests/lib.sh)
signed() { p11_signed "$@"; }
refused() { p11_refused eac-dv "$@"; }
refused_msg() {
	local desc=$1 rc=$2 re=$3; shift 3
	rm -f "$COUNTS"
	refuse "$desc" "$rc" "^eac-dv: $re" "$@"
	assert "$desc: nothing signed (C_Sign $(calls C_Sign))" test "$(calls C_Sign)" -eq 0
}

eckey() { openssl ecparam -name "${2:-brainpoolP256r1}" -genkey -noout -out "$W/$1.pem" 2>/dev/null; }

isreq() {
	local n=$1 k=$2 chr=$3 car=${4:-FIDVFI001}
	shift 3
	[ $# -gt 0 ] && shift
	"$CVC" request --key "$W/$k.pem" --chr "$chr" --car "$car" "$@" --out "$W/$n.cvreq" > /dev/null 2>&1 ||
		not_ok "eac-cvc request made $n.cvreq"
}

receive() {
	REQ=
	rm -f "$COUNTS"
	check "$1: received and acknowledged" dv is receive "$2"
	REQ=$(sed -n 's/^IS request \([0-9][0-9]*\) from .*/\1/p' "$T_OUT")
	[ -n "$REQ" ] || { not_ok "$1: the request id is printed"; REQ=0; }
}

# cvc-print exits 0 whether or not it verified; its "certificate verified"
# line is the verdict
openpace_run() { # CERT CHR=FILE...
	local cert=$1 dir p
	shift
	dir=$(mktemp -d "$W/trust.XXXXXX")
	for p in "$@"; do cp "${p#*=}" "$dir/${p%%=*}"; done
	cvc-print --cvc "$cert" --cvc-dir "$dir" > "$W/op.out" 2> "$W/op.err"
	cat "$W/op.out" "$W/op.err" >> "$T_CAPTURE"
	rm -rf "$dir"
	grep -qx 'certificate verified' "$W/op.out"
}
openpace() {
	local desc=$1; shift
	if openpace_run "$@"; then ok "$desc"; else not_ok "$desc"; diag "$W/op.out" "$W/op.err"; fi
}

flip() {
	local size off byte
	size=$(stat -c %s "$1")
	off=$2
	[ "$off" -lt 0 ] && off=$((size + off))
	cp "$1" "$3"
	byte=$(od -An -tx1 -j "$off" -N 1 "$1" | tr -d ' \n')
	printf '%02x' $((16#$byte ^ 1)) | unhex | dd of="$3" bs=1 seek="$off" conv=notrunc 2>/dev/null
}

sql() { psql -d "$1" -XAtc "$2" 2>&1; }

field() { "$CVC" print "$1" 2>/dev/null | sed -n "s/^ *$2: *\([^ ]*\).*/\1/p" | head -n 1; }

T_CEREMONY=$((NOW - 95 * DAY))
T_ENROL=$((NOW - 4 * DAY))
CVCA_CERT=$W/cvca/FICVCA00001.cvcert
DV_CERT=$W/FIDVFI001.cvcert
DV_EXP=
dv_enrol() {
	local creq
	check "CVCA key ceremony (95 days ago)" \
		at "$T_CEREMONY" cvca init --curve brainpoolP256r1 --officer "A. Admin" --officer "S. Officer"
	check "the CVCA certificate goes to the Commission" \
		at "$T_CEREMONY" cvca publish FICVCA00001 --to "European Commission"
	check "CVCA export" cvca export --out-dir "$W/cvca"
	check "eac-dv init: the DV key generated in the DV token (4 days ago)" \
		at "$T_ENROL" dv init --mnemonic DV --curve brainpoolP256r1 --officer "L. Officer"
	check "eac-dv trust FICVCA00001" at "$T_ENROL" dv trust "$CVCA_CERT"
	check "the CVCA registers the DV" at "$T_ENROL" cvca dv register --country FI --mnemonic DV \
		--name "Finnish Border Guard DV" --conformity-expires 2099-12-31
	signed "eac-dv request FIDVFI001 to FICVCA00001" \
		at "$T_ENROL" dv request --to FICVCA00001 --out "$W/FIDVFI001.cvreq"
	# a test may look at the DV while its first request is open
	if declare -F enrol_pending_hook > /dev/null; then enrol_pending_hook; fi
	check "the CVCA receives it" at "$T_ENROL" cvca receive "$W/FIDVFI001.cvreq"
	creq=$(sed -n 's/^request \([0-9][0-9]*\) from .*/\1/p' "$T_OUT")
	check "the CVCA approves it" at "$T_ENROL" cvca approve "${creq:-0}" "$@" --out "$DV_CERT"
	check "eac-dv import FIDVFI001" at "$T_ENROL" dv import "$DV_CERT"
	DV_EXP=$(sed -n 's/^imported DV certificate .* valid [0-9-]* \.\. \([0-9-]*\);.*/\1/p' "$T_OUT")
	[ -n "$DV_EXP" ] || { not_ok "the import names the DV certificate's expiry"; DV_EXP=2000-01-01; }
}
