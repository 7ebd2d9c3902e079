#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Database faults on the issuance path, on both engines:
#  - the server is stopped before an approval: one clear line naming the
#    database, exit 3, the token never opened (zero C_Login, zero C_Sign,
#    counted by the PKCS#11 fault module), nothing written; after a restart
#    the same approval works;
#  - the server dies between signing and recording: the engine has signed
#    (C_Sign 1) and is waiting to insert the certificate — held up by a
#    SHARE lock an administrator session takes on eac.certificates, so the
#    moment is exact — when every server process is killed with SIGKILL (a
#    power cut of the database host). No certificate is written out; the
#    engine says the database is unavailable (exit 3). After the restart
#    (crash recovery of PostgreSQL) the intent is still there, open;
#    `recover` completes it (audited), and approving the request answers
#    with that certificate. The same for a batch of ten.
# The record's invariants (fault-lib.sh) hold after each.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/fault-lib.sh"

flt_sandbox db
flt_pki
mkreqs FIDVA "$ROOT" 1 4 "$W/rq-cvca" || flt_bail "requests made"
mkreqs FIGATE1 "$DVCHR" 1 4 "$W/rq-dv" || flt_bail "requests made"
mkreqs FIGATE1 "$DVCHR" 100 10 "$W/batch" || flt_bail "requests made"
mkdir -p "$W/out-cvca" "$W/out-dv"
LOCKER=

# ---- the server is down before anything is done ----
receive_cvca "$W/rq-cvca/FIDVA00001.cvreq"
C1=$REQ
receive_dv "$W/rq-dv/FIGATE100001.cvreq"
D1=$REQ
check "the database server is stopped" "$EAC_TOP/packaging/sandbox" "$S" stop
down() { # DESC PROG CMD...
	local desc=$1 prog=$2
	shift 2
	rm -f "$COUNTS"
	refuse "server down: $desc: one line naming the database, exit 3" 3 \
		"^$prog: (migrations: )?database (cvca|dv) \\(eac_(service|owner)@$S/run:5432\\): .*" "$@"
	assert "server down: $desc: the token was never opened (C_Login $(calls C_Login), C_Sign $(calls C_Sign))" \
		test "$(calls C_Login):$(calls C_Sign)" = 0:0
}
down "cvca approve" eac-cvca cvca approve "$C1" --out "$W/out-cvca/FIDVA00001.cvcert"
down "cvca recover" eac-cvca cvca recover
down "cvca receive" eac-cvca cvca receive "$W/rq-cvca/FIDVA00002.cvreq"
down "dv is approve" eac-dv dv is approve "$D1" --out "$W/out-dv/FIGATE100001.cvcert"
down "dv is issue-batch" eac-dv dv is issue-batch "$W/batch" --out-dir "$W/out-batch"
down "dv recover" eac-dv dv recover
assert "server down: nothing written out" test -z "$(find "$W/out-cvca" "$W/out-dv" "$W/out-batch" -type f 2>/dev/null)"
check "the database server is started again" pg_start
for e in cvca dv; do
	assert "$e: no intent was recorded while the server was down" test "$(open_intents $e)" -eq 0
done
rm -f "$COUNTS"
check "cvca approve works once the server is back" cvca approve "$C1" --out "$W/out-cvca/FIDVA00001.cvcert"
assert "... signed once" test "$(calls C_Sign)" -eq 1
rm -f "$COUNTS"
check "dv is approve works once the server is back" dv is approve "$D1" --out "$W/out-dv/FIGATE100001.cvcert"
assert "... signed once" test "$(calls C_Sign)" -eq 1
invariants "cvca after the server was down" cvca "$W/out-cvca" "$S/cvca"
invariants "dv after the server was down" dv "$W/out-dv" "$S/dv"

# ---- the server dies between signing and recording ----
# lock_certificates DB: an administrator session holds SHARE on
# eac.certificates (readers pass, the engine's INSERT waits) until killed
lock_certificates() {
	psql -X -q "host=$S/run port=5432 dbname=$1 user=eac_admin" -c \
		"BEGIN; LOCK TABLE eac.certificates IN SHARE MODE; SELECT pg_sleep(120); COMMIT;" \
		>/dev/null 2>&1 &
	LOCKER=$!
	for _ in $(seq 1 100); do
		[ "$(sql_admin "$1" "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
			WHERE c.relname = 'certificates' AND l.mode = 'ShareLock' AND l.granted")" = 1 ] && return 0
		sleep 0.1
	done
	return 1
}
# waiting_insert DB APP: a session of APP waits for its lock on
# eac.certificates: it wants to insert a certificate (up to 30 s)
waiting_insert() {
	for _ in $(seq 1 300); do
		[ "$(sql_admin "$1" "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND l.relation = 'eac.certificates'::regclass
			AND a.application_name = '$2'")" -ge 1 ] && return 0
		sleep 0.1
	done
	return 1
}
# power_cut DESC DB APP WANT-SIGNS CMD...: CMD in the background; once it
# waits to record, the server is killed; CMD's exit status in $RC
power_cut() {
	local desc=$1 db=$2 app=$3 want=$4 pid
	shift 4
	assert "$desc: an administrator holds SHARE on eac.certificates" lock_certificates "$db"
	rm -f "$COUNTS"
	"$@" >"$T_OUT" 2>"$T_ERR" &
	pid=$!
	assert "$desc: the engine signed and now waits to record the certificate" waiting_insert "$db" "$app"
	assert "$desc: ... after $want C_Sign" test "$(calls C_Sign)" -eq "$want"
	assert "$desc: every database server process killed (SIGKILL)" pg_kill
	wait "$pid"
	RC=$?
	wait "$LOCKER" 2>/dev/null
	LOCKER=
	capture
}

receive_cvca "$W/rq-cvca/FIDVA00002.cvreq"
C2=$REQ
power_cut "cvca approve" cvca eac-cvca 1 cvca approve "$C2" --out "$W/out-cvca/FIDVA00002.cvcert"
assert "cvca approve: the engine reports the lost database (exit 3, one line naming it)" bash -c "
	[ $RC -eq 3 ] && [ \$(wc -l < '$T_ERR') -eq 1 ] && grep -q '^eac-cvca: database cvca ' '$T_ERR'"
diag "$T_ERR"
assert "cvca approve: no certificate written out" test ! -e "$W/out-cvca/FIDVA00002.cvcert"
check "the server restarts (crash recovery)" pg_start
assert "cvca: the intent survived the crash, open" test "$(open_intents cvca)" -eq 1
assert "cvca: no certificate was recorded for it" \
	test "$(sql cvca "SELECT count(*) FROM eac.certificates WHERE request_id = $C2")" -eq 0
invariants "cvca after the power cut" cvca "$W/out-cvca" "$S/cvca"
rm -f "$COUNTS"
check "cvca recover" cvca recover
assert "cvca recover: completed the intent" grep -q "(dv FIDVA00002): completed" "$T_OUT"
assert "cvca recover: the recovered certificate is audited" test "$(sql cvca "SELECT count(*) FROM
	eac.audit_events e JOIN eac.certificates c ON e.object = 'certificate:' || c.id
	WHERE e.action = 'certificate.issue' AND c.request_id = $C2")" -eq 1
assert "cvca: no open intent" test "$(open_intents cvca)" -eq 0
export EAC_TEST_NOW=$(($(date -u +%s) + 120))
check "cvca approve answers with the recovered certificate" cvca approve "$C2" --out "$W/out-cvca/FIDVA00002.cvcert"
unset EAC_TEST_NOW
assert "... byte for byte" cmp -s "$W/out-cvca/FIDVA00002.cvcert" "$(ls "$S"/cvca/recovered/FIDVA00002-*.cvcert)"
invariants "cvca after recovery" cvca "$W/out-cvca" "$S/cvca"

receive_dv "$W/rq-dv/FIGATE100002.cvreq"
D2=$REQ
power_cut "dv is approve" dv eac-dv 1 dv is approve "$D2" --out "$W/out-dv/FIGATE100002.cvcert"
assert "dv is approve: the engine reports the lost database (exit 3, one line naming it)" bash -c "
	[ $RC -eq 3 ] && [ \$(wc -l < '$T_ERR') -eq 1 ] && grep -q '^eac-dv: database dv ' '$T_ERR'"
diag "$T_ERR"
assert "dv is approve: no certificate written out" test ! -e "$W/out-dv/FIGATE100002.cvcert"
check "the server restarts (crash recovery)" pg_start
assert "dv: the intent survived the crash, open" test "$(open_intents dv)" -eq 1
invariants "dv after the power cut" dv "$W/out-dv" "$S/dv"
check "dv recover" dv recover
assert "dv recover: completed the intent" grep -q "(is FIGATE100002): completed" "$T_OUT"
assert "dv: no open intent" test "$(open_intents dv)" -eq 0
export EAC_TEST_NOW=$(($(date -u +%s) + 120))
check "dv is approve answers with the recovered certificate" dv is approve "$D2" --out "$W/out-dv/FIGATE100002.cvcert"
unset EAC_TEST_NOW
assert "... byte for byte" cmp -s "$W/out-dv/FIGATE100002.cvcert" "$(ls "$S"/dv/recovered/FIGATE100002-*.cvcert)"
invariants "dv after recovery" dv "$W/out-dv" "$S/dv"

power_cut "dv is issue-batch (10)" dv eac-dv 10 dv is issue-batch "$W/batch" --out-dir "$W/out-batch" --workers 1
assert "batch: stopped with exit 3" test "$RC" -eq 3
diag "$T_ERR"
assert "batch: no certificate written out" test -z "$(ls -A "$W/out-batch" 2>/dev/null)"
check "the server restarts (crash recovery)" pg_start
assert "batch: its 10 intents survived, open" test "$(open_intents dv)" -eq 10
invariants "batch after the power cut" dv "$W/out-batch" "$S/dv"
check "dv recover" dv recover
assert "dv recover: completed the 10 intents" test "$(grep -c '): completed' "$T_OUT")" -eq 10
rm -f "$COUNTS"
check "the batch run again" dv is issue-batch "$W/batch" --out-dir "$W/out-batch" --workers 1
assert "... releases the 10 recovered certificates without signing" bash -c "
	[ $(calls C_Sign) -eq 0 ] && grep -q '^10 issued, 0 refused, 0 failed' '$T_OUT'"
invariants "batch after recovery" dv "$W/out-batch" "$S/dv"
[ -n "$LOCKER" ] && kill "$LOCKER" 2>/dev/null
done_testing
