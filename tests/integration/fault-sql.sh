#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# SQL (and JSON, format-string, shell) metacharacters in every text field
# the engines store — operator, ceremony officers, DV names, organisations
# and mnemonics, inspection-system names and organisations, reasons of
# suspensions, reactivations, rejections and status changes, distribution
# recipients and channels — are stored literally: each value read back
# with psql (as the auditor, compared through psql's own quoting) is the
# exact string given, in its table and as a string in its audit event's
# JSON; nothing was executed (the tables are all there, no pg_sleep ran,
# the audit chains verify); listings print the value as given.
# Control characters (a newline, a tab) in a name are refused: they would
# let one record print as two lines in listings and logs.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"

HOSTILE=(
	"O'Brien\"; DROP TABLE eac.certificates; --"
	"Robert'); DELETE FROM eac.audit_events WHERE ('1'='1"
	'$$; SELECT pg_sleep(20); $$ \'"'"' \\ E'"'"'\x00'"'"' %s%n%x%999999999s {} ${x} `id` $(id)'
	'null", "role": "admin", "x": "'
	'Ärende ÅÄÖ € — 日本 ü; --'
)
NH=${#HOSTILE[@]}

flt_sandbox sql
start=$SECONDS
# lit DB QUERY NAME=VALUE...: QUERY with :'NAME' bound to VALUE by psql's
# own quoting (psql variables)
lit() {
	local db=$1 q=$2 a vars=()
	shift 2
	for a in "$@"; do vars+=(-v "$a"); done
	printf '%s\n' "$q" | psql -X -q -A -t -v ON_ERROR_STOP=1 "${vars[@]}" \
		"host=$S/run port=5432 dbname=$db user=eac_auditor"
}
# stored DESC DB VALUE QUERY: QUERY (with :'v' = VALUE) counts at least one row
stored() {
	local n
	n=$(lit "$2" "$4" "v=$3")
	if [ -n "$n" ] && [ "$n" -ge 1 ] 2>/dev/null; then ok "$1"; else not_ok "$1 (found: ${n:-error})"; fi
}
# the same with an operator (audit actor) of our choosing
cvca_as() { local op=$1; shift; "$FLT_CVCA" -c "$S/cvca-fault.json" --operator "$op" "$@"; }
dv_as() { local op=$1; shift; "$FLT_DV" -c "$S/dv-fault.json" --operator "$op" "$@"; }

# ---- ceremonies: officers and operators ----
export EAC_TEST_NOW=$(($(date -u +%s) - 95 * 86400))
check "CVCA ceremony with hostile officer names and operator" cvca_as "${HOSTILE[0]}" init \
	--curve brainpoolP256r1 --officer "${HOSTILE[1]}" --officer "${HOSTILE[2]}" --officer "${HOSTILE[4]}" \
	--transcript "$W/init.json"
unset EAC_TEST_NOW
for k in 1 2 4; do
	stored "ceremony officer $k stored literally (ceremonies.officers)" cvca "${HOSTILE[$k]}" \
		"SELECT count(*) FROM eac.ceremonies c, json_array_elements_text(c.officers::json) o WHERE o = :'v';"
	stored "ceremony officer $k literally in the ceremony.record event" cvca "${HOSTILE[$k]}" \
		"SELECT count(*) FROM eac.audit_events e, json_array_elements_text(e.details::json->'officers') o
		 WHERE e.action = 'ceremony.record' AND o = :'v';"
done
stored "the operator is the audit actor, literally" cvca "${HOSTILE[0]}" \
	"SELECT count(*) FROM eac.audit_events WHERE actor = :'v';"
assert "the transcript is JSON holding the officers as strings" test "$(lit cvca \
	"SELECT count(*) FROM json_array_elements_text((:'t')::json->'officers') o WHERE o IN (:'a', :'b', :'c');" \
	"t=$(cat "$W/init.json")" "a=${HOSTILE[1]}" "b=${HOSTILE[2]}" "c=${HOSTILE[4]}")" = 3
check "publish: hostile recipient and channel" cvca_as "${HOSTILE[3]}" publish FICVCA00001 \
	--to "${HOSTILE[0]}" --channel "${HOSTILE[1]}"
stored "distribution recipient stored literally" cvca "${HOSTILE[0]}" \
	"SELECT count(*) FROM eac.distributions WHERE recipient = :'v';"
stored "distribution channel stored literally" cvca "${HOSTILE[1]}" \
	"SELECT count(*) FROM eac.distributions WHERE channel = :'v';"
stored "... and as strings of the certificate.distribute event" cvca "${HOSTILE[0]}" \
	"SELECT count(*) FROM eac.audit_events WHERE action = 'certificate.distribute'
	 AND details::json->>'recipient' = :'v';"
check "export" cvca export --out-dir "$W/exp"
check "DV init with a hostile officer" dv_as "${HOSTILE[2]}" init --mnemonic DV --curve brainpoolP256r1 \
	--officer "${HOSTILE[3]}"
stored "DV officer stored literally" dv "${HOSTILE[3]}" \
	"SELECT count(*) FROM eac.ceremonies c, json_array_elements_text(c.officers::json) o WHERE o = :'v';"
stored "DV operator is the audit actor, literally" dv "${HOSTILE[2]}" \
	"SELECT count(*) FROM eac.audit_events WHERE actor = :'v';"
check "DV trusts the CVCA" dv trust "$W/exp/FICVCA00001.cvcert"

# ---- DV registry of the CVCA: names, organisations, mnemonics, reasons ----
countries=(SE NO DK EE LV)
for k in $(seq 0 $((NH - 1))); do
	h=${HOSTILE[$k]}
	cc=${countries[$k]}
	check "dv register $cc: hostile name, organisations, operator" cvca_as "$h" dv register --country "$cc" \
		--mnemonic "D'V;-$k" --name "$h" --org "$h" --org "${HOSTILE[$(((k + 1) % NH))]}"
	stored "DV $cc: name stored literally" cvca "$h" "SELECT count(*) FROM eac.authorities WHERE name = :'v';"
	stored "DV $cc: organisations stored literally" cvca "$h" \
		"SELECT count(*) FROM eac.authorities a, json_array_elements_text(a.organisations::json) o
		 WHERE a.country = '$cc' AND o = :'v';"
	stored "DV $cc: mnemonic stored literally" cvca "D'V;-$k" \
		"SELECT count(*) FROM eac.authorities WHERE mnemonic = :'v';"
	stored "DV $cc: name a string in its authority.register event" cvca "$h" \
		"SELECT count(*) FROM eac.audit_events WHERE action = 'authority.register' AND details::json->>'name' = :'v';"
	check "dv suspend $cc with a hostile reason" cvca_as "$h" dv suspend "$cc""D'V;-$k" --reason "$h"
	check "dv reactivate $cc with a hostile reason" cvca_as "$h" dv reactivate "$cc""D'V;-$k" \
		--reason "${HOSTILE[$(((k + 2) % NH))]}"
	stored "DV $cc: suspension reason stored literally (authority.change)" cvca "$h" \
		"SELECT count(*) FROM eac.audit_events WHERE action = 'authority.change' AND details::json->>'reason' = :'v';"
	stored "DV $cc: operator stored literally" cvca "$h" "SELECT count(*) FROM eac.audit_events WHERE actor = :'v';"
done
check "dv list" cvca dv list
for h in "${HOSTILE[@]}"; do
	assert "dv list prints a name as given: ${h:0:20}…" grep -qF -- "$h" "$T_OUT"
done

# rejections: the reason is the request's message
mkreqs FIDVA FICVCA00001 1 $NH "$W/rq" || flt_bail "requests made"
check "the CVCA registers DVA" cvca dv register --country FI --mnemonic DVA --name "Police DV" --conformity-expires 2099-12-31
for k in $(seq 0 $((NH - 1))); do
	receive_cvca "$W/rq/FIDVA0000$((k + 1)).cvreq"
	check "reject with a hostile reason $k" cvca_as "${HOSTILE[$k]}" reject "$REQ" --reason "${HOSTILE[$k]}"
	stored "rejection reason $k stored literally (requests.message)" cvca "${HOSTILE[$k]}" \
		"SELECT count(*) FROM eac.requests WHERE id = $REQ AND message = :'v' AND decided_by = :'v';"
	stored "rejection reason $k a string in its request.reject event" cvca "${HOSTILE[$k]}" \
		"SELECT count(*) FROM eac.audit_events WHERE action = 'request.reject' AND details::json->>'message' = :'v';"
done

# ---- inspection systems ----
for k in $(seq 0 $((NH - 1))); do
	h=${HOSTILE[$k]}
	check "is add: hostile name and organisation $k" dv_as "$h" is add "$h" --org "$h" --mnemonic "G'$k;--"
	stored "IS $k: name and organisation stored literally" dv "$h" \
		"SELECT count(*) FROM eac.inspection_systems WHERE name = :'v' AND organisation = :'v';"
	stored "IS $k: mnemonic stored literally" dv "G'$k;--" "SELECT count(*) FROM eac.inspection_systems WHERE mnemonic = :'v';"
	stored "IS $k: name a string in its is.register event" dv "$h" \
		"SELECT count(*) FROM eac.audit_events WHERE action = 'is.register' AND details::json->>'name' = :'v';"
	check "is mark lost with a hostile reason $k" dv_as "$h" is mark "$h" lost --reason "$h"
	stored "IS $k: reason stored literally (is.change)" dv "$h" \
		"SELECT count(*) FROM eac.audit_events WHERE action = 'is.change' AND details::json->>'reason' = :'v';"
done
check "is list" dv is list
for h in "${HOSTILE[@]}"; do
	assert "is list prints a name as given: ${h:0:20}…" grep -qF -- "$h" "$T_OUT"
done

# ---- nothing was executed ----
assert "no injected statement ran: no pg_sleep (all of the above in $((SECONDS - start)) s < 20 s)" \
	test $((SECONDS - start)) -lt 20
for db in cvca dv; do
	assert "$db: every table is still there" test "$(sql "$db" "SELECT count(*) FROM pg_tables WHERE schemaname = 'eac'
		AND tablename IN ('certificates', 'audit_events', 'issuances', 'requests', 'authorities')")" -eq 5
	assert "$db: no audit event has a key smuggled in by JSON injection" \
		test "$(sql "$db" "SELECT count(*) FROM eac.audit_events WHERE details::jsonb ? 'role'")" -eq 0
done
check "the CVCA audit chain verifies" cvca audit verify
check "the DV audit chain verifies" dv audit verify

# ---- control characters ----
k=0
for bad in "$(printf 'Gate\nok 99 - forged')" "$(printf 'Gate\tX')" "$(printf 'Gate\rX')"; do
	k=$((k + 1))
	cc=$(echo "IS LT PL" | cut -d' ' -f$k)
	refuse "is add: a name with a control character ($k) is refused (exit 2)" 2 "^eac-dv: " \
		dv is add "$bad" --org "Border Guard" --mnemonic "CTRL$k"
	refuse "dv register: a name with a control character ($k) is refused (exit 2)" 2 "^eac-cvca: " \
		cvca dv register --country "$cc" --mnemonic DV --name "$bad" --conformity-expires 2099-12-31
	refuse "--operator with a control character ($k) is refused (exit 2)" 2 "^eac-dv: " \
		dv_as "$bad" is list
done
done_testing
