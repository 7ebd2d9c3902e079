/* SPDX-License-Identifier: Apache-2.0 */
/* The engines' status: queue, deadlines, distribution, open intents and
 * the own certificate. Every query reaches the big tables (requests,
 * certificates) through an index (the holder-key index); the other tables
 * it reads stay small (pending requests are a side table since schema
 * version 4). The EXPLAIN check in tests/tools/db-bulkload.c runs exactly
 * these. */

#include <stdio.h>
#include <string.h>

#include "db/db_internal.h"

const char *const dbi_status_sql[] = {
	"SELECT"
	" (SELECT count(*) FROM eac.pending_requests),"
	" (SELECT count(*) FROM eac.pending_requests WHERE deadline < to_timestamp($1)),"
	" (SELECT floor(extract(epoch FROM min(deadline)))::bigint FROM eac.pending_requests),"
	" (SELECT count(*) FROM eac.awaiting_distribution),"
	" (SELECT count(*) FROM eac.awaiting_distribution WHERE deadline < to_timestamp($1)),"
	" (SELECT floor(extract(epoch FROM min(deadline)))::bigint FROM eac.awaiting_distribution),"
	" (SELECT count(*) FROM eac.open_issuances)",

	"SELECT k.id, c.chr, c.car, c.expiry FROM eac.keys k"
	" JOIN eac.authorities a ON a.id = k.authority_id AND a.kind IN ('own_cvca', 'own_dv')"
	" LEFT JOIN LATERAL (SELECT chr, car, expiry FROM eac.certificates c"
	"  WHERE c.holder_key_hash = k.pubkey_hash ORDER BY c.expiry, c.id LIMIT 1) c ON true"
	" WHERE k.state = 'active' AND k.pkcs11_uri IS NOT NULL",
};
const size_t dbi_status_sql_count = sizeof(dbi_status_sql) / sizeof(dbi_status_sql[0]);

eac_err db_status_get(db_conn *db, db_status *out)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	db_status s = { 0 };
	eac_err r;

	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	dbi_p_int(&p, eac_now());
	if ((r = dbi_exec(db, "status", dbi_status_sql[0], &p, &res)) != EAC_OK)
		return r;
	s.requests_pending = dbi_int(res, 0, 0);
	s.requests_overdue = dbi_int(res, 0, 1);
	s.next_deadline = dbi_int(res, 0, 2);
	s.awaiting_distribution = dbi_int(res, 0, 3);
	s.distribution_overdue = dbi_int(res, 0, 4);
	s.next_distribution_deadline = dbi_int(res, 0, 5);
	s.open_intents = dbi_int(res, 0, 6);
	PQclear(res);
	if ((r = dbi_exec(db, "status", dbi_status_sql[1], NULL, &res)) != EAC_OK)
		return r;
	if (PQntuples(res) == 1) {
		s.own_key = dbi_int(res, 0, 0);
		s.has_own_cert = !dbi_isnull(res, 0, 1);
		dbi_latin1(res, 0, 1, s.own_chr, sizeof(s.own_chr));
		dbi_latin1(res, 0, 2, s.own_car, sizeof(s.own_car));
		dbi_text(res, 0, 3, s.own_expiry, sizeof(s.own_expiry));
	}
	PQclear(res);
	*out = s;
	return EAC_OK;
}
