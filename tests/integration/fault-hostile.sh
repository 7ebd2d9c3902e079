#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Hostile input: every command that reads a file, run on the malformed
# corpus (tests/vectors/bad/, one defect per file, EXPECTED) and on random
# bytes (pure noise, and noise behind a valid CV tag and length): a clear
# error — exactly one line on stderr that names the file — and exit 2, never
# a crash (ASan/UBSan would print more than one line and abort: `make asan`
# runs this test on the sanitizer build). Nothing reaches the record: no
# request, certificate or trust anchor is added, and the audit chains
# verify at the end. Also: configuration and national policy files with
# garbage, duplicate or unknown keys; inputs that are not regular files or
# never end; and `is issue-batch` on a directory of all of it, which
# refuses each bad file on its own line, issues the good ones, records the
# refusals in the audit log and exits 1 (refusals present).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"

V=$EAC_TOP/tests/vectors
flt_sandbox hostile
flt_pki
H=$W/hostile
mkdir -p "$H/random" "$W/trust"
cp "$W/exp/$ROOT.cvcert" "$W/trust/"
cp "$V/good/DECVCA00001" "$V/good/DEDVCA00001" "$W/trust/"

# random inputs, kept in the test directory (KEEP_FAILED=1 keeps them)
for i in $(seq 1 12); do
	head -c $((RANDOM % 700 + 1)) /dev/urandom >"$H/random/noise-$i"
done
for i in $(seq 1 6); do
	# a certificate tag and a plausible length, then noise
	{ printf '\x7f\x21\x81\xe0'; head -c 224 /dev/urandom; } >"$H/random/cert-noise-$i"
	{ printf '\x7f\x21\x82\x01\x8d\x7f\x4e\x82\x01\x4c\x5f\x29\x01\x00'; head -c 380 /dev/urandom; } \
		>"$H/random/req-noise-$i"
	{ printf '\x67\x82\x01\xd0\x7f\x21\x82\x01\x8d'; head -c 450 /dev/urandom; } >"$H/random/auth-noise-$i"
done
head -c 5000000 /dev/urandom >"$H/random/huge"

counts_before=$(sql cvca "SELECT count(*) FROM eac.requests")/$(sql cvca "SELECT count(*) FROM eac.certificates")/$(sql dv "SELECT count(*) FROM eac.requests")/$(sql dv "SELECT count(*) FROM eac.certificates")/$(sql dv "SELECT count(*) FROM eac.authorities")

# the commands, each with the file as $F ($TO: an optional timeout); run
# with eval, which shellcheck does not follow
# shellcheck disable=SC2034
CV=("$FLT_CVCA" -c "$S/cvca-fault.json" --operator "$FLT_OPERATOR")
# shellcheck disable=SC2034
DVB=("$FLT_DV" -c "$S/dv-fault.json" --operator "$FLT_OPERATOR")
TO=
CMDS=(
	'eac-cvc print|$TO "$CVC" print "$F"'
	'eac-cvc fingerprint|$TO "$CVC" fingerprint "$F"'
	'eac-cvc verify|$TO "$CVC" verify --trust "$W/trust" "$F"'
	'eac-cvc request --key|$TO "$CVC" request --key "$F" --chr FIHOST00001 --out "$H/out.cvreq"'
	'eac-cvca receive|$TO "${CV[@]}" receive "$F"'
	'eac-cvca countersign|$TO "${CV[@]}" countersign "$F" --out "$H/out.auth.cvreq"'
	'eac-cvca foreign import|$TO "${CV[@]}" foreign import "$F"'
	'eac-cvca audit verify --transcript|$TO "${CV[@]}" audit verify --transcript "$F"'
	'eac-dv trust|$TO "${DVB[@]}" trust "$F"'
	'eac-dv import|$TO "${DVB[@]}" import "$F"'
	'eac-dv is receive|$TO "${DVB[@]}" is receive "$F"'
	'eac-dv audit verify --transcript|$TO "${DVB[@]}" audit verify --transcript "$F"'
)
# the transcript readers take JSON, the key reader PEM/DER keys: for them
# every file of the corpus is malformed, even the verify-stage ones
json_or_key() { case $1 in *transcript* | *--key*) return 0 ;; esac; return 1; }

declare -A BAD
declare -A N
# run NAME FILE WANT: WANT is an exit status or a set "1|2"
run() {
	local name=$1 F=$2 want=$3 rc cmd=${4#*|}
	rm -f "$H/out.cvreq" "$H/out.auth.cvreq"
	eval "$cmd" >"$T_OUT" 2>"$T_ERR"
	rc=$?
	capture
	N[$name]=$((${N[$name]:-0} + 1))
	if ! [[ $rc =~ ^($want)$ ]] || [ "$(wc -l <"$T_ERR")" -ne 1 ] || ! grep -qF -- "$F" "$T_ERR" ||
		[ -e "$H/out.cvreq" ] || [ -e "$H/out.auth.cvreq" ]; then
		BAD[$name]+="$(basename "$F") (exit $rc: $(head -c 300 "$T_ERR" | tr '\n' ' '))"$'\n'
	fi
}
report() { # NAME DESC
	local name=$1
	if [ -z "${BAD[$name]:-}" ]; then
		ok "$2: ${N[$name]:-0} files"
	else
		not_ok "$2: $(printf '%s' "${BAD[$name]}" | wc -l) of ${N[$name]:-0} files"
		printf '%s' "${BAD[$name]}" | head -n 20 | sed 's/^/#   /'
	fi
}

# ---- the malformed corpus ----
while IFS=$'\t' read -r name stage _; do
	case $name in '#'* | '') continue ;; esac
	F=$V/bad/$name
	[ -f "$F" ] || { not_ok "corpus file $name exists"; continue; }
	for c in "${CMDS[@]}"; do
		cname=${c%%|*}
		if [ "$stage" = parse ] || json_or_key "$cname"; then
			run "$cname/malformed" "$F" 2 "$c"
		else
			# verify-stage files parse: print and fingerprint show them,
			# the others refuse them (bad signature: 1; wrong kind: 2)
			case $cname in
			'eac-cvc print' | 'eac-cvc fingerprint') "$CVC" "${cname#eac-cvc }" "$F" >/dev/null 2>&1 ||
				BAD[$cname/verify-stage]+="$name (refused)"$'\n'
				N[$cname/verify-stage]=$((${N[$cname/verify-stage]:-0} + 1)) ;;
			*) run "$cname/verify-stage" "$F" '1|2' "$c" ;;
			esac
		fi
	done
done <"$V/bad/EXPECTED"
for c in "${CMDS[@]}"; do
	cname=${c%%|*}
	report "$cname/malformed" "$cname: malformed corpus: exit 2, one line naming the file"
	[ -n "${N[$cname/verify-stage]:-}" ] &&
		report "$cname/verify-stage" "$cname: corpus files that parse but do not verify: handled, one line"
done

# ---- random bytes ----
for F in "$H"/random/*; do
	for c in "${CMDS[@]}"; do
		run "${c%%|*}/random" "$F" 2 "$c"
	done
done
for c in "${CMDS[@]}"; do
	report "${c%%|*}/random" "${c%%|*}: random bytes: exit 2, one line naming the file"
done

# ---- a trust directory holding a malformed file ----
# (eac-cvc verify --trust DIR reads every file of DIR; a certificate that
# parses but does not verify is merely not on the path)
for F in $(awk -F'\t' '$2 == "parse" && $1 ~ /\.cvcert$/ { print "'"$V"'/bad/" $1 }' "$V/bad/EXPECTED") \
	"$H"/random/noise-*; do
	rm -rf "$H/trust"
	mkdir -p "$H/trust"
	cp "$V/good/DECVCA00001" "$F" "$H/trust/"
	run "eac-cvc verify --trust/dir" "$H/trust/$(basename "$F")" 2 \
		'x|"$CVC" verify --trust "$H/trust" --no-date-check "$V/good/DEDVCA00001"'
done
report "eac-cvc verify --trust/dir" \
	"eac-cvc verify: a malformed or random file in the trust directory: exit 2, one line naming it"

# ---- not a regular file, a file that never ends, a missing file ----
# (the timeout: a reader that does not bound its input would never end)
TO="timeout -k 5 20"
for F in "$H" /dev/zero /dev/urandom "$H/no-such-file"; do
	for c in "${CMDS[@]}"; do
		run "${c%%|*}/special" "$F" '2|3' "$c"
	done
done
# shellcheck disable=SC2034
TO=
for c in "${CMDS[@]}"; do
	report "${c%%|*}/special" "${c%%|*}: a directory, /dev/zero, /dev/urandom, a missing file: exit 2 or 3 at once, one line naming it"
done

# ---- nothing reached the record ----
assert "no request, certificate or authority was added by any of it" test "$counts_before" = \
	"$(sql cvca "SELECT count(*) FROM eac.requests")/$(sql cvca "SELECT count(*) FROM eac.certificates")/$(sql dv "SELECT count(*) FROM eac.requests")/$(sql dv "SELECT count(*) FROM eac.certificates")/$(sql dv "SELECT count(*) FROM eac.authorities")"
check "the CVCA audit chain verifies" cvca audit verify
check "the DV audit chain verifies" dv audit verify

# ---- configuration and national policy files ----
cfg=$W/cfg
mkdir -p "$cfg"
for e in cvca dv; do
	prog=eac-$e
	bin=$EAC_BIN/$prog
	head -c 300 /dev/urandom >"$cfg/$e-noise.json"
	sed 's/"engine": "\([a-z]*\)",/"engine": "\1", "engine": "\1",/' "$S/$e.json" >"$cfg/$e-dup.json"
	sed 's/"engine": "\([a-z]*\)",/"engine": "\1", "p11_pin": "x",/' "$S/$e.json" >"$cfg/$e-unknown.json"
	sed 's/"data_dir": "\([^"]*\)"/"data_dir": 7/' "$S/$e.json" >"$cfg/$e-type.json"
	head -c 150 "$S/$e.json" >"$cfg/$e-truncated.json"
	printf '{"engine": "%s"}' "$e" >"$cfg/$e-incomplete.json"
	printf '[]' >"$cfg/$e-array.json"
	for f in noise dup unknown type truncated incomplete array; do
		refuse "$prog -c: $f configuration: exit 2, one line naming the file" 2 \
			"^$prog: $cfg/$e-$f\\.json" "$bin" -c "$cfg/$e-$f.json" status
	done
	refuse "$prog -c: a missing configuration: one line naming the file" 2 \
		"^$prog: $cfg/missing\\.json" "$bin" -c "$cfg/missing.json" status
	# the national policy the configuration names
	head -c 400 /dev/urandom >"$cfg/$e-policy-noise.json"
	sed 's/"country": "FI",/"country": "FI", "country": "SE",/' "$S/policy.json" >"$cfg/$e-policy-dup.json"
	sed 's/"max_dvs_per_country": 3,/"max_dvs_per_country": "3",/' "$S/policy.json" >"$cfg/$e-policy-type.json"
	for f in noise dup type missing; do
		sed "s|\"policy\": \"[^\"]*\"|\"policy\": \"$cfg/$e-policy-$f.json\"|" "$S/$e.json" >"$cfg/$e-with-policy-$f.json"
		refuse "$prog: national policy $f: exit 2, one line naming the policy file" 2 \
			"^$prog: (national policy: )?$cfg/$e-policy-$f\\.json" "$bin" -c "$cfg/$e-with-policy-$f.json" status
	done
done

# ---- text the officer types: one line of printable text ----
# What goes into the audit log and the listings is never a second line, an
# escape sequence or a C1 control (a forged log line, a terminal's screen
# rewritten); such text is refused before anything is recorded.
events_before=$(sql dv "SELECT count(*) FROM eac.audit_events")
refuse "--operator with a newline: exit 2, one line naming the option" 2 \
	"^eac-dv: --operator has a control character \(0x0a\)" \
	"$FLT_DV" -c "$S/dv-fault.json" --operator $'eve\nsigned by: root' status
refuse "is add with an escape sequence in the name: exit 2" 2 \
	"^eac-dv: the name has a control character \(0x1b\)" \
	dv is add $'GATE\e[2J' --org "Border Guard"
refuse "is add with a C1 control (U+009B) in --org: exit 2" 2 \
	"^eac-dv: --org has a control character \(0x9b\)" \
	dv is add GATEC1 --org $'Border\xc2\x9bGuard'
refuse "is mark --reason with a carriage return: exit 2" 2 \
	"^eac-dv: --reason has a control character \(0x0d\)" \
	dv is mark "Gate 1" lost --reason $'lost\rok'
refuse "cvca dv register --name empty: exit 2" 2 "^eac-cvca: --name must be 1 to 200 bytes" \
	cvca dv register --country DE --mnemonic DVX --name ""
assert "... nothing of it reached the record" \
	test "$(sql dv "SELECT count(*) FROM eac.audit_events")" -eq "$events_before"
check "is add with UTF-8 letters in the name and organisation is fine" \
	dv is add "Tornio–Haparanda" --org "Rajavartiolaitos / Gränsbevakningsväsendet" --mnemonic TORNIO

# ---- is issue-batch on a directory of everything ----
B=$W/batch
mkdir -p "$B"
cp "$V"/bad/*.cvcert "$V"/bad/*.cvreq "$B/"
cp "$H"/random/noise-* "$H"/random/*-noise-* "$H/random/huge" "$B/"
mkreqs FIGATE1 "$DVCHR" 1 3 "$B" || flt_bail "good requests made"
nbad=$(($(ls "$B" | wc -l) - 3))
refused_before=$(sql dv "SELECT count(*) FROM eac.audit_events WHERE action = 'request.refused'")
dv is issue-batch "$B" --out-dir "$W/batch-out" >"$T_OUT" 2>"$T_ERR"
rc=$?
capture
assert "issue-batch: exit 1 (the batch ran to the end; there were refusals)" test "$rc" -eq 1
assert "issue-batch: at most one line on stderr" test "$(wc -l <"$T_ERR")" -le 1
diag "$T_ERR"
assert "issue-batch: the summary counts 3 issued, $nbad refused, 0 failed" \
	grep -q "^3 issued, $nbad refused, 0 failed" "$T_OUT"
missing=0
for f in "$B"/*; do
	n=$(basename "$f")
	case $n in
	FIGATE1*.cvreq) grep -q "^issued  $n -> " "$T_OUT" || missing=$((missing + 1)) ;;
	*) grep -q "^refused $n: \($B/\)\{0,1\}$n: " "$T_OUT" || missing=$((missing + 1)) ;;
	esac
done
assert "issue-batch: one line per file: issued, or refused naming the file and why ($missing missing)" \
	test "$missing" -eq 0
assert "issue-batch: exactly the 3 good requests were certified" bash -c "
	[ \$(ls '$W/batch-out' | wc -l) -eq 3 ] && [ -f '$W/batch-out/FIGATE100001.cvcert' ] &&
	[ -f '$W/batch-out/FIGATE100002.cvcert' ] && [ -f '$W/batch-out/FIGATE100003.cvcert' ]"
assert "issue-batch: each refusal is in the audit log (request.refused)" \
	test "$(sql dv "SELECT count(*) FROM eac.audit_events WHERE action = 'request.refused'")" -eq \
	$((refused_before + nbad))
invariants "after the hostile batch" dv "$W/batch-out" "$S/dv"
done_testing
