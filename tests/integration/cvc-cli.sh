#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# eac-cvc as an EAC engineer uses it: print, verify, fingerprint, request;
# exit statuses (0 valid, 1 verification failed, 2 malformed/usage, 3
# environment); one line naming file and offset for every malformed file of
# the corpus (tests/vectors/bad), one refusal for every flipped bit
# (tests/vectors/flipped). Runs under `make asan` as well.
. "$(dirname "$0")/../lib.sh"

CVC=$EAC_BIN/eac-cvc
V=$EAC_TOP/tests/vectors
G=$V/good
[ -x "$CVC" ] || { not_ok "$CVC is built"; done_testing; exit; }
TRUST=$T_DIR/trust
mkdir -p "$TRUST"
cp "$G/DECVCA00001" "$TRUST/cvca"
cp "$G/DEDVCA00001" "$TRUST/dv.cvcert"
cp "$G/DECVCA00002.link" "$TRUST/DECVCA00002"

# ---- usage ----
check "--help prints the usage" "$CVC" --help
assert "... naming every command and the exit statuses" \
	bash -c "grep -q 'print \[--json\] FILE' '$T_OUT' && grep -q 'verify --trust DIR' '$T_OUT' &&
		grep -q 'fingerprint FILE' '$T_OUT' && grep -q 'request --key KEY --chr CHR' '$T_OUT' && grep -q '^exit status' '$T_OUT'"
check "verify --help too" "$CVC" verify --help
refuse "no command: usage error" 2 '^eac-cvc: no command given \(see eac-cvc --help\)$' "$CVC"
refuse "unknown command" 2 "^eac-cvc: unknown command 'sign'" "$CVC" sign x
refuse "unknown option" 2 '^eac-cvc: print: unknown option --jsn' "$CVC" print --jsn x
refuse "print without files" 2 'print: no FILE given' "$CVC" print
refuse "verify without --trust" 2 'verify: --trust DIR is required' "$CVC" verify "$G/DETERM00001"
refuse "--at with --no-date-check" 2 'exclude each other' "$CVC" verify --trust "$TRUST" --at 2025-01-15 --no-date-check "$G/DETERM00001"
refuse "--at must be a date" 2 "^eac-cvc: --at: '2025-13-01' is not a valid date" "$CVC" verify --trust "$TRUST" --at 2025-13-01 "$G/DETERM00001"
refuse "a missing file is an environment failure" 3 "^eac-cvc: $T_DIR/none: No such file" "$CVC" print "$T_DIR/none"

# ---- print ----
check "print decodes a certificate" "$CVC" print "$G/DETERM00001"
assert "... every field, rights by name, ISO dates" bash -c "
	grep -q '^$G/DETERM00001: certificate, ' '$T_OUT' && grep -q 'CAR: *DEDVCA00001 (country DE' '$T_OUT' &&
	grep -q 'public key: *ECDSA-SHA-256 (0.4.0.127.0.7.2.2.2.2.3)' '$T_OUT' &&
	grep -q 'curve: *(inherited from the CVCA)' '$T_OUT' && grep -q 'role: *authentication terminal' '$T_OUT' &&
	grep -q 'rights: *age,dg1,dg4' '$T_OUT' && grep -q 'effective: *2025-01-01' '$T_OUT' &&
	grep -q 'expiry: *2025-01-31' '$T_OUT' && grep -q 'signature: *64 octets' '$T_OUT'"
check "print --json of a CVCA certificate and an authenticated request" \
	"$CVC" print --json "$G/DECVCA00001" "$G/DEDVCA00003.cvreq"
assert "... one object per file, every field decoded" bash -c "
	test \$(grep -c '^{' '$T_OUT') -eq 2 && grep -q '\"file\": \"$G/DECVCA00001\"' '$T_OUT' &&
	grep -q '\"kind\": \"certificate\"' '$T_OUT' && grep -q '\"kind\": \"authenticated request\"' '$T_OUT' &&
	grep -q '\"curve\": \"brainpoolP256r1\"' '$T_OUT' && grep -q '\"domain_parameters\": true' '$T_OUT' &&
	grep -q '\"role\": \"cvca\"' '$T_OUT' && grep -q '\"install-cert\"' '$T_OUT' &&
	grep -q '\"effective\": \"2025-01-01\"' '$T_OUT' && grep -q '\"outer\": {' '$T_OUT' &&
	grep -q '\"ref\": \"DEDVCA00001\"' '$T_OUT'"
check "print shows an extension by name" "$CVC" print "$G/DETERM00002"
assert "... id-description with its hash" grep -q 'id-description (0.4.0.127.0.7.3.1.3.1)' "$T_OUT"

# ---- fingerprint ----
check "fingerprint: SHA-256 of the encoding, as sha256sum" bash -c \
	"cd '$G' && diff <('$CVC' fingerprint DECVCA00001 DEDVCA00003.cvreq) <(sha256sum DECVCA00001 DEDVCA00003.cvreq)"
refuse "fingerprint: unknown option" 2 'fingerprint: unknown option -x' "$CVC" fingerprint -x "$G/DECVCA00001"
refuse "fingerprint refuses what is not a CV object" 2 'offset 0: expected 7F21' "$CVC" fingerprint "$V/real-world/README.md"

# ---- verify ----
check "verify: the good chain at a date inside every validity" \
	"$CVC" verify --trust "$TRUST" --at 2025-01-15 "$G/DECVCA00001" "$G/DEDVCA00001" "$G/DETERM00001" "$G/DETERM00002" \
	"$G/DETERM00003.cvreq" "$G/DEDVCA00003.cvreq"
assert "... one line per file" test "$(grep -c ': valid: ' "$T_OUT")" -eq 6
assert "... with the chain and the effective rights (AND of the chain)" \
	grep -q "^$G/DETERM00001: valid: certificate DETERM00001, authentication terminal (id-AT); chain DECVCA00001 > DEDVCA00001 > DETERM00001; effective rights: age,dg1$" "$T_OUT"
assert "... the authenticated request by both signatures" \
	grep -q 'authenticated request DEDVCA00003, inner signature (proof of possession) verified; outer signature by DEDVCA00001 verified' "$T_OUT"
check "verify: through the link certificate" "$CVC" verify --trust "$TRUST" --at 2025-06-15 "$G/DEDVCA00002"
assert "... old CVCA > link > DV" grep -q 'chain DECVCA00001 > DECVCA00002 > DEDVCA00002;' "$T_OUT"
refuse "verify: a terminal certificate the day after it expired" 1 \
	'DETERM00001: certificate DETERM00001 expired after 2025-01-31 \(checked at 2025-02-01\)$' \
	"$CVC" verify --trust "$TRUST" --at 2025-02-01 "$G/DETERM00001"
refuse "verify: before it is effective" 1 'certificate DEDVCA00001 is not valid before 2025-01-01' \
	"$CVC" verify --trust "$TRUST" --at 2024-12-31 "$G/DEDVCA00001"
check "verify: the expired one with --no-date-check" "$CVC" verify --trust "$TRUST" --no-date-check "$G/DETERM00001"
refuse "verify: today, by default (the 2025 certificates have expired)" 1 "expired after 2025-0[13]-31 \\(checked at $(date -u +%F)\\)" \
	"$CVC" verify --trust "$TRUST" "$G/DETERM00001"
EAC_TEST_NOW=2025-01-20T12:00:00Z check "verify: the test clock (EAC_TEST_NOW) decides the default date" \
	"$CVC" verify --trust "$TRUST" "$G/DETERM00001"
mkdir -p "$T_DIR/onlycvca"
cp "$G/DECVCA00001" "$T_DIR/onlycvca/"
refuse "verify: no path without the DV certificate" 1 \
	'no certificate with CHR DEDVCA00001 \(the CAR of DETERM00001\) in the trust store' \
	"$CVC" verify --trust "$T_DIR/onlycvca" --no-date-check "$G/DETERM00001"
refuse "verify: a self-signed certificate not in the trust directory" 1 \
	'self-signed certificate DECVCAeID00102 is not in the trust store' \
	"$CVC" verify --trust "$TRUST" --no-date-check "$V/real-world/DECVCAeID00102"
mkdir -p "$T_DIR/junk"
cp "$G/DECVCA00001" "$T_DIR/junk/"
echo "not a certificate" > "$T_DIR/junk/notes.txt"
refuse "verify: the trust directory holds only certificates" 2 "junk/notes.txt: offset [0-9]+: " \
	"$CVC" verify --trust "$T_DIR/junk" "$G/DETERM00001"
mkdir -p "$T_DIR/empty"
refuse "verify: an empty trust directory" 1 'no certificates in the trust directory' \
	"$CVC" verify --trust "$T_DIR/empty" "$G/DETERM00001"
refuse "verify: a missing trust directory" 3 'cannot open the trust directory' \
	"$CVC" verify --trust "$T_DIR/nowhere" "$G/DETERM00001"
# the worst status of several files: malformed (2) over failed (1) over valid
"$CVC" verify --trust "$TRUST" --no-date-check "$G/DETERM00001" "$V/flipped/term-point.cvcert" \
	"$V/bad/trunc-10.cvcert" > "$T_OUT" 2> "$T_ERR"
rc=$?
capture
assert "verify: several files, the highest status (2) and one line each" \
	test "$rc" -eq 2 -a "$(wc -l < "$T_OUT")" -eq 1 -a "$(wc -l < "$T_ERR")" -eq 2

# ---- the corpus: one line naming the file and the offset ----
# corpus_refuse DESC RC FILE REGEX CMD...: CMD exits RC with one line on
# stderr, "eac-cvc: FILE: DETAIL", DETAIL matching REGEX (tests/vectors/*/EXPECTED)
corpus_refuse() {
	local desc=$1 want=$2 f=$3 re=$4 line msg rc
	shift 4
	"$@" > "$T_OUT" 2> "$T_ERR"
	rc=$?
	capture
	line=$(cat "$T_ERR")
	msg=${line#"eac-cvc: $f: "}
	if [ "$rc" -eq "$want" ] && [ "$(wc -l < "$T_ERR")" -eq 1 ] && [ "$msg" != "$line" ] &&
		printf '%s\n' "$msg" | grep -Eq -- "$re"; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc, wanted $want and 'eac-cvc: $f: ' + /$re/)"
		diag "$T_ERR"
	fi
}
n=0
while IFS=$'\t' read -r name stage code re; do
	case $name in '#'*) continue ;; esac
	f=$V/bad/$name
	if [ "$stage" = parse ]; then
		corpus_refuse "bad/$name: exit 2, one line naming the file and what is wrong" 2 "$f" "$re" "$CVC" print "$f"
		# every refusal but the size limit says where
		[ "$name" = too-large.cvcert ] || corpus_refuse "bad/$name: ... at an offset" 2 "$f" '^offset [0-9]+: ' \
			"$CVC" print "$f"
	else
		corpus_refuse "bad/$name: parses, fails verification (exit 1)" 1 "$f" "$re" \
			"$CVC" verify --trust "$TRUST" --no-date-check "$f"
	fi
	n=$((n + 1))
done < "$V/bad/EXPECTED"
assert "the malformed corpus has its 80+ files" test "$n" -ge 80
while IFS=$'\t' read -r name stage code re; do
	case $name in '#'*) continue ;; esac
	f=$V/flipped/$name
	check "flipped/$name: parses" "$CVC" print "$f"
	corpus_refuse "flipped/$name: fails verification (exit 1)" 1 "$f" "$re" \
		"$CVC" verify --trust "$TRUST" --no-date-check "$f"
done < "$V/flipped/EXPECTED"

# ---- request ----
R=$T_DIR/req
mkdir -p "$R"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP384r1 -out "$R/t.pem" 2>/dev/null
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:brainpoolP384r1 -out "$R/o.pem" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$R/r.pem" 2>/dev/null
openssl pkcs8 -topk8 -in "$R/t.pem" -passout pass:secret -out "$R/enc.pem" 2>/dev/null
check "request: a terminal request with the scheme of the key's size" \
	"$CVC" request --key "$R/t.pem" --chr DETERM00010 --car DEDVCA00001 --out "$R/a.cvreq"
assert "... reported on one line" grep -qx "$R/a.cvreq: request DETERM00010 (ECDSA-SHA-384, brainpoolP384r1)" "$T_OUT"
check "... which verifies (proof of possession)" "$CVC" verify --trust "$TRUST" "$R/a.cvreq"
check "... and carries all domain parameters" "$CVC" print --json "$R/a.cvreq"
assert "... 81..87" bash -c "grep -q '\"domain_parameters\": true' '$T_OUT' && grep -q '\"cofactor_present\": true' '$T_OUT'"
check "request: RSA defaults to RSA-v1.5-SHA-256; --outer-alg picks the outer scheme" \
	"$CVC" request --key "$R/r.pem" --chr DETERM00011 --outer-key "$R/o.pem" --outer-car DEDVCA00001 \
	--outer-alg ECDSA-SHA-256 --out "$R/b.cvreq"
assert "... both schemes named" grep -q 'request DETERM00011 (RSA-v1.5-SHA-256; outer signature by DEDVCA00001, ECDSA-SHA-256)' "$T_OUT"
refuse "request: the output is never overwritten" 1 'file exists; not overwriting it' \
	"$CVC" request --key "$R/t.pem" --chr DETERM00010 --out "$R/a.cvreq"
refuse "request: --key, --chr and --out are required" 2 'are required' "$CVC" request --key "$R/t.pem" --out "$R/x"
refuse "request: --outer-key needs --outer-car" 2 'go together' \
	"$CVC" request --key "$R/t.pem" --chr DETERM00010 --outer-key "$R/o.pem" --out "$R/x"
refuse "request: an invalid CHR" 2 "^eac-cvc: --chr: reference sequence number" \
	"$CVC" request --key "$R/t.pem" --chr DETERMabcde --out "$R/x"
refuse "request: a CHR of 17 characters" 2 'reference of 17 characters' \
	"$CVC" request --key "$R/t.pem" --chr DETERMINAL1200001 --out "$R/x"
refuse "request: an unknown scheme" 2 "unknown scheme 'ECDSA-SHA-3'" \
	"$CVC" request --key "$R/t.pem" --chr DETERM00010 --alg ECDSA-SHA-3 --out "$R/x"
refuse "request: a scheme of the other family" 2 'scheme RSA-PSS-SHA-256 needs an RSA key' \
	"$CVC" request --key "$R/t.pem" --chr DETERM00010 --alg RSA-PSS-SHA-256 --out "$R/x"
refuse "request: a hash longer than the key (TR-03111)" 2 'ECDSA-SHA-512 on a 384-bit curve' \
	"$CVC" request --key "$R/t.pem" --chr DETERM00010 --alg ECDSA-SHA-512 --out "$R/x"
refuse "request: an encrypted key is refused, never prompted for" 2 'not an unencrypted private key' \
	"$CVC" request --key "$R/enc.pem" --chr DETERM00010 --out "$R/x"
refuse "request: a public key cannot sign" 2 'r.pub: ' \
	bash -c "openssl pkey -in '$R/r.pem' -pubout -out '$R/r.pub' && '$CVC' request --key '$R/r.pub' --chr DETERM00010 --out '$R/x'"
assert "request: nothing written by a refused request" test ! -e "$R/x"
refuse "request: P-521 is not a TR-03110 curve" 2 'unsupported curve' bash -c \
	"openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out '$R/p521.pem' && '$CVC' request --key '$R/p521.pem' --chr DETERM00010 --out '$R/x'"

done_testing
