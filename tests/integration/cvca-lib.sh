# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash disable=SC2034
# (SC2034: NOW, DAY, STATUS_RC, REQ … are for the tests that source this)
#
# Shared by the eac-cvca integration tests (tests/integration/cvca-*.sh).
# Not a test itself: not executable, so tests/run does not run it. Source it
# after lib.sh:
#   . "$(dirname "$0")/../lib.sh"; . "$(dirname "$0")/cvca-lib.sh"
#
# It makes one sandbox ($S) and a copy of its cvca.json whose token module is
# the PKCS#11 fault module in front of SoftHSM (docs/HSM.md §8), so every
# eac-cvca run here counts its PKCS#11 calls: a refusal must make no C_Sign,
# a success at least one (so the assertion can fail).
#
#   cvca ARGS...            eac-cvca -c <fault config> ARGS (clock: $AT if set)
#   at TIME CMD...          run CMD with the test clock EAC_TEST_NOW=TIME
#                           (epoch seconds); certificates are dated by it
#   issued DESC CMD...      CMD succeeds and signed in the token (C_Sign >= 1)
#   refused DESC RULE CMD...  exit 1, one stderr line "eac-cvca: refused: …
#                           (RULE)", and no C_Sign
#   receive DESC FILE       `eac-cvca receive FILE`; sets $REQ to the request id
#   eckey NAME [CURVE]      NAME.pem (default brainpoolP256r1), NAME.pkcs8 (DER,
#                           for OpenPACE cvc-create)
#   openpace DESC CERT CHR=FILE...  OpenPACE cvc-print verifies CERT with a trust
#                           directory holding exactly the given files, each
#                           under its CHR (how cvc-print looks up a CAR)
#   openpace_fails DESC CERT CHR=FILE...  the same, and it does not verify
#   flip FILE OFFSET OUT    OUT = FILE with the byte at OFFSET (negative: from
#                           the end) XOR 0x01
#   status_at [TIME]        eac-cvca status; exit status in $STATUS_RC

CVCA_BIN=$EAC_BIN/eac-cvca
CVC=$EAC_BIN/eac-cvc
FAULT=$EAC_BUILD/lib/p11fault.so
for t in "$CVCA_BIN" "$CVC"; do
	[ -x "$t" ] || { not_ok "$t is built"; done_testing; exit; }
done
[ -f "$FAULT" ] || { not_ok "$FAULT is built"; done_testing; exit; }
command -v cvc-create >/dev/null && command -v cvc-print >/dev/null ||
	{ not_ok "OpenPACE (cvc-create, cvc-print) is installed"; done_testing; exit; }

S=$(new_sandbox s) && track_sandbox "$S" || { not_ok "sandbox created"; done_testing; exit; }
. "$S/env"
W=$T_DIR/work
mkdir -p "$W"
REAL_MODULE=$(sed -n 's/^ *"module": "\(.*\)",$/\1/p' "$S/cvca.json")
FCONF=$S/cvca-fault.json
sed "s|\"module\": \"$REAL_MODULE\"|\"module\": \"$FAULT\"|" "$S/cvca.json" > "$FCONF"
grep -q "\"module\": \"$FAULT\"" "$FCONF" || { not_ok "fault-module configuration made"; done_testing; exit; }
export P11FAULT_MODULE=$REAL_MODULE
COUNTS=$W/p11-counts
export P11FAULT_COUNTS=$COUNTS

NOW=$(date -u +%s)
DAY=86400
AT=
at() { local AT=$1; shift; "$@"; }
cvca() { env ${AT:+EAC_TEST_NOW=$AT} "$CVCA_BIN" -c "$FCONF" "$@"; }

# (calls, p11_signed, p11_refused: tests/lib.sh)
issued() { p11_signed "$@"; }
refused() { p11_refused eac-cvca "$@"; }
receive() {
	REQ=
	check "$1: received and acknowledged" cvca receive "$2"
	REQ=$(sed -n 's/^request \([0-9][0-9]*\) from .*/\1/p' "$T_OUT")
	[ -n "$REQ" ] || { not_ok "$1: the request id is printed"; REQ=0; }
}

eckey() {
	openssl ecparam -name "${2:-brainpoolP256r1}" -genkey -noout -out "$W/$1.pem" 2>/dev/null &&
		openssl pkcs8 -topk8 -nocrypt -in "$W/$1.pem" -outform DER -out "$W/$1.pkcs8"
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
openpace_fails() {
	local desc=$1; shift
	if ! openpace_run "$@" && grep -qx 'certificate not verified' "$W/op.out"; then
		ok "$desc"
	else
		not_ok "$desc"; diag "$W/op.out" "$W/op.err"
	fi
}
# the field cvc-print printed, e.g. op_field CHR
op_field() { sed -n "s/^  $1: //p" "$W/op.out"; }

flip() {
	local size off byte
	size=$(stat -c %s "$1")
	off=$2
	[ "$off" -lt 0 ] && off=$((size + off))
	cp "$1" "$3"
	byte=$(od -An -tx1 -j "$off" -N 1 "$1" | tr -d ' \n')
	printf '%02x' $((16#$byte ^ 1)) | unhex | dd of="$3" bs=1 seek="$off" conv=notrunc 2>/dev/null
}

# status_at [TIME]: `eac-cvca status` (at TIME); its output in $T_OUT and
# $T_ERR (captured for the PIN scan), its exit status in $STATUS_RC
status_at() {
	if [ -n "${1:-}" ]; then at "$1" cvca status > "$T_OUT" 2> "$T_ERR"; else cvca status > "$T_OUT" 2> "$T_ERR"; fi
	STATUS_RC=$?
	capture
}
