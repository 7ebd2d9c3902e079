#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# db/ from the shell (tests/tools/db-cli): first start migrates as the owner,
# a check-only start, the other engine's database refused, the service role
# refused when it is the owner, an unreachable database named in one line
# without the password, and the audit chain verified, tampered with as
# superuser, and named at its first bad row.
. "$(dirname "$0")/../lib.sh"

CLI=$EAC_BUILD/tests/tools/db-cli
S=$(new_sandbox s) && track_sandbox "$S" || { not_ok "sandbox created"; done_testing; exit; }

# `packaging/sandbox DIR stop` run as root after the first run cannot reach
# the cluster (DIR is left 0700; reported to the lead): stop it the way the
# sandbox does, so that no server outlives the test
hard_stop() {
	"$EAC_TOP/packaging/sandbox" "$S" stop >/dev/null 2>&1
	if [ -f "$S/pg/postmaster.pid" ] && [ "$(cat "$S/.pg-mode" 2>/dev/null)" = postgres ]; then
		chmod 0711 "$S"
		runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl" \
			-D "$S/pg" -m fast -w stop >/dev/null 2>&1 || true
	fi
}
trap 'hard_stop; t_cleanup' EXIT

admin_sql() { # DB SQL: as the superuser, triggers off (how the tamper tests tamper)
	PGPASSFILE=$S/pgpass psql -XAtq -v ON_ERROR_STOP=1 "host=$S/run port=5432 dbname=$1 user=eac_admin" \
		-c "SET session_replication_role = replica" -c "$2"
}

check "cvca: the first start migrates as the owner" "$CLI" open cvca "$S/cvca.json"
assert "cvca: it reports the schema version" grep -qx "schema [1-9][0-9]*" "$T_OUT"
check "dv: the first start migrates as the owner" "$CLI" open dv "$S/dv.json"
check "cvca: a start with the service role only checks" "$CLI" check cvca "$S/cvca.json"
check "cvca: status of an empty record" "$CLI" status cvca "$S/cvca.json"
assert "cvca: nothing pending, nothing awaiting, no own certificate" \
	grep -qx "pending 0 overdue 0 awaiting 0 late 0 open 0 own -" "$T_OUT"

sed 's/dbname=dv /dbname=cvca /' "$S/dv.json" > "$T_DIR/dv-on-cvca.json"
refuse "dv: the CVCA's database is refused" 3 \
	"db-cli: database cvca \(eac_service@$S/run:5432\): holds the cvca engine's schema, not the dv's; refusing" \
	"$CLI" check dv "$T_DIR/dv-on-cvca.json"

sed 's/user=eac_service /user=eac_owner /' "$S/cvca.json" > "$T_DIR/as-owner.json"
refuse "cvca: the engine does not run as the schema owner (least privilege)" 2 \
	"connects as 'eac_owner', which owns the schema; it must use the service role" \
	"$CLI" check cvca "$T_DIR/as-owner.json"

sed "s|host=$S/run |host=$S/nowhere password=NotPrinted123 |" "$S/cvca.json" > "$T_DIR/nowhere.json"
refuse "cvca: an unreachable database is named in one line" 3 \
	"^db-cli: database cvca \(eac_service@$S/nowhere:5432\): cannot connect: .*No such file or directory" \
	"$CLI" check cvca "$T_DIR/nowhere.json"
assert "cvca: the password of the connection string is not printed" bash -c "! grep -q NotPrinted123 '$T_ERR'"

# the audit chain
check "cvca: append an event" "$CLI" audit cvca "$S/cvca.json" login.fail officer:eve '{"reason": "wrong PIN"}'
check "cvca: read the chain head (what a ceremony transcript keeps)" "$CLI" head cvca "$S/cvca.json"
HEAD=$(last_out)
check "cvca: append another event" "$CLI" audit cvca "$S/cvca.json" config.change policy '{"file": "policy.json"}'
check "cvca: the chain verifies" "$CLI" verify cvca "$S/cvca.json" "$HEAD"
assert "cvca: against the head row and the kept head" grep -q "intact: [0-9]* events, 2 anchors" "$T_OUT"
refuse "cvca: a malformed event is refused before the database" 2 "audit login.fail: " \
	"$CLI" audit cvca "$S/cvca.json" login.fail x '{"a": 1, "a": 2}'

check "superuser changes one byte of event 1" admin_sql cvca \
	"UPDATE eac.audit_events SET details = regexp_replace(details, 'cvca', 'cvcb') WHERE seq = 1"
refuse "cvca: the verifier names the first bad row" 3 \
	"db-cli: database cvca .*: audit log broken at seq 1: seq 1: its content does not match its hash \(changed\)" \
	"$CLI" verify cvca "$S/cvca.json"
check "superuser puts the byte back" admin_sql cvca \
	"UPDATE eac.audit_events SET details = regexp_replace(details, 'cvcb', 'cvca') WHERE seq = 1"
check "cvca: the chain verifies again" "$CLI" verify cvca "$S/cvca.json" "$HEAD"
check "superuser cuts the tail and rewrites the head row" admin_sql cvca \
	"DELETE FROM eac.audit_events WHERE seq > ${HEAD%%:*} - 1; UPDATE eac.audit_head SET (seq, hash) = (SELECT seq, hash FROM eac.audit_events ORDER BY seq DESC LIMIT 1)"
refuse "cvca: the kept head names the cut" 3 \
	"audit log broken at seq ${HEAD%%:*}: the log ends at seq $((${HEAD%%:*} - 1)) but the expected tail recorded seq ${HEAD%%:*} \(events cut from the tail\)" \
	"$CLI" verify cvca "$S/cvca.json" "$HEAD"
refuse "cvca: the service role cannot delete events" 1 "permission denied for table audit_events" \
	bash -c "PGPASSFILE='$S/pgpass' psql -XAtq 'host=$S/run port=5432 dbname=cvca user=eac_service' -c 'DELETE FROM eac.audit_events' 2>&1 >/dev/null | head -n 1 >&2; exit 1"

done_testing
