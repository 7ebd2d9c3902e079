#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# db/ status at scale: 1,000,000 certificates and 1,000,000 requests
# bulk-loaded with COPY into the DV's database (tests/tools/db-bulkload),
# then every status query of db/ is EXPLAINed: none may read a big table
# with a sequential scan. Times nothing (the benchmark does); a query
# without an index is shown to be caught.
. "$(dirname "$0")/../lib.sh"

TOOL=$EAC_BUILD/tests/tools/db-bulkload
ROWS=${DB_BULK_ROWS:-1000000}
S=$(new_sandbox s) && track_sandbox "$S" || { not_ok "sandbox created"; done_testing; exit; }

# see db-cli.sh: `packaging/sandbox DIR stop` as root after the first run
hard_stop() {
	"$EAC_TOP/packaging/sandbox" "$S" stop >/dev/null 2>&1
	if [ -f "$S/pg/postmaster.pid" ] && [ "$(cat "$S/.pg-mode" 2>/dev/null)" = postgres ]; then
		chmod 0711 "$S"
		runuser -u postgres -- "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pg_ctl" \
			-D "$S/pg" -m fast -w stop >/dev/null 2>&1 || true
	fi
}
trap 'hard_stop; t_cleanup' EXIT

ADMIN="host=$S/run port=5432 dbname=dv user=eac_admin passfile=$S/pgpass"
check "bulk-load $ROWS certificates and requests; every status query uses an index" \
	"$TOOL" --config "$S/dv.json" --admin "$ADMIN" --rows "$ROWS"
diag "$T_OUT"
assert "all $ROWS rows loaded" grep -qx "loaded $ROWS certificates and $ROWS requests" "$T_OUT"
assert "three status queries explained, none scans a big table" \
	test "$(grep -c '^plan ok: ' "$T_OUT")" -eq 3 -a "$(grep -c '^plan SEQ SCAN' "$T_OUT")" -eq 0
assert "status still reads the three pending requests and the own certificate" \
	grep -qx "status: pending 3 overdue 0 awaiting 0 open 0 own FIDV000001 expiring 2026-04-01" "$T_OUT"
# (without ORDER BY id .. LIMIT, which an unindexed plan would serve by
# walking the primary key backwards: no "Seq Scan", but every row read)
check "the CVCA and link certificates are read through certificates_ca_ix, not a scan of the DV ones" \
	"$TOOL" --config "$S/dv.json" --admin "$ADMIN" --explain-only --also \
	"SELECT c.id FROM eac.certificates c WHERE c.kind IN ('cvca', 'link') AND c.issuer_id = \$1::bigint AND c.source = 'issued'"
assert "... its plan has no sequential scan and reads certificates_ca_ix" bash -c \
	"grep -q '^plan ok: SELECT c.id FROM eac.certificates c WHERE c.kind IN' '$T_OUT' &&
	 grep -Eq '^plan indexes: (.*,)?certificates_ca_ix(,|$)' '$T_OUT'"
check "the plan check itself can fail: a query over an unindexed column" bash -c \
	"'$TOOL' --config '$S/dv.json' --admin '$ADMIN' --explain-only --also 'SELECT count(*) FROM eac.certificates WHERE der_hash IS NOT NULL'; test \$? -eq 1"
assert "it names the table scanned" grep -q "^plan SEQ SCAN on certificates: SELECT count" "$T_OUT"

done_testing
