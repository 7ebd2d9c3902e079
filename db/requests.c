/* SPDX-License-Identifier: Apache-2.0 */
/* The request queue: idempotent submission, acknowledgement, decisions
 * (transitions guarded by the schema), the pending list by deadline. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

static const char *const state_names[] = { NULL, "received", "validated", "issued", "rejected" };

const char *db_req_state_name(db_req_state s)
{
	return (unsigned)s < sizeof(state_names) / sizeof(state_names[0]) ? state_names[s] : NULL;
}

static db_req_state state_from(const char *s)
{
	for (int i = DB_REQ_RECEIVED; i <= DB_REQ_REJECTED; i++)
		if (strcmp(s, state_names[i]) == 0)
			return (db_req_state)i;
	return 0;
}


eac_err dbi_req_row(const PGresult *res, int row, db_request *out)
{
	db_request q = { 0 };
	char s[16];
	eac_err r;

	q.id = dbi_int(res, row, 0);
	dbi_text(res, row, 1, s, sizeof(s));
	q.kind = strcmp(s, "dv") == 0 ? DB_KIND_DV : DB_KIND_IS;
	dbi_text(res, row, 2, q.channel, sizeof(q.channel));
	q.authority = dbi_int(res, row, 3);
	q.inspection_system = dbi_int(res, row, 4);
	if ((r = dbi_hash(res, row, 5, q.raw_hash, DB_HASH_LEN, "request hash")) != EAC_OK)
		return r;
	dbi_latin1(res, row, 6, q.holder_chr, sizeof(q.holder_chr));
	dbi_latin1(res, row, 7, q.outer_car, sizeof(q.outer_car));
	q.received_at = dbi_int(res, row, 8);
	q.acknowledged_at = dbi_int(res, row, 9);
	q.deadline = dbi_int(res, row, 10);
	q.decided_at = dbi_int(res, row, 11);
	dbi_text(res, row, 12, s, sizeof(s));
	q.state = state_from(s);
	dbi_text(res, row, 13, q.rule_id, sizeof(q.rule_id));
	dbi_text(res, row, 14, q.message, sizeof(q.message));
	dbi_text(res, row, 15, q.decided_by, sizeof(q.decided_by));
	q.certificate = dbi_int(res, row, 16);
	*out = q;
	return EAC_OK;
}

static eac_err req_read(db_conn *db, int64_t id, db_request *out)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	dbi_p_int(&p, id);
	if ((r = dbi_exec_row(db, "read request", "request", id, DBI_REQ_SQL(db, "WHERE r.id = $1"), &p, &res)) !=
	    EAC_OK)
		return r;
	r = dbi_req_row(res, 0, out);
	PQclear(res);
	return r;
}

eac_err db_request_get(db_conn *db, int64_t id, db_request *out)
{
	eac_err r;
	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	return req_read(db, id, out);
}

/* ---------------------------------------------------------------------------
 * submission */

typedef struct submit_ctx {
	const db_request_in *in;
	uint8_t hash[DB_HASH_LEN];
	db_request out;
	int existing;
} submit_ctx;

static eac_err submit_fn(db_conn *db, void *arg)
{
	submit_ctx *c = arg;
	const db_request_in *in = c->in;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	int64_t id = 0;
	eac_err r;

	dbi_p_text(&p, db_kind_name(in->kind));
	dbi_p_text(&p, in->channel);
	dbi_p_id(&p, in->authority);
	dbi_p_bytes(&p, in->raw, in->raw_len);
	dbi_p_bytes(&p, c->hash, DB_HASH_LEN);
	dbi_p_latin1(&p, in->holder_chr);
	dbi_p_latin1(&p, in->outer_car);
	dbi_p_int(&p, eac_now());
	dbi_p_bool(&p, in->acknowledge);
	dbi_p_int(&p, in->process_within);
	if (strcmp(db->flavour, "dv") == 0)
		dbi_p_id(&p, in->inspection_system);
	/* the same bytes again: no second row, the first one answers */
	r = dbi_exec(db, "queue request",
		     strcmp(db->flavour, "dv") == 0
			     ? "INSERT INTO eac.requests (kind, channel, authority_id, raw, raw_hash, holder_chr, outer_car,"
			       " received_at, acknowledged_at, deadline, inspection_system_id)"
			       " VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8),"
			       " CASE WHEN $9::boolean THEN to_timestamp($8) END,"
			       " to_timestamp($8) + $10::bigint * interval '1 second', $11)"
			       " ON CONFLICT ON CONSTRAINT requests_raw_hash_uq DO NOTHING RETURNING id"
			     : "INSERT INTO eac.requests (kind, channel, authority_id, raw, raw_hash, holder_chr, outer_car,"
			       " received_at, acknowledged_at, deadline)"
			       " VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8),"
			       " CASE WHEN $9::boolean THEN to_timestamp($8) END,"
			       " to_timestamp($8) + $10::bigint * interval '1 second')"
			       " ON CONFLICT ON CONSTRAINT requests_raw_hash_uq DO NOTHING RETURNING id",
		     &p, &res);
	if (r != EAC_OK)
		return r;
	c->existing = PQntuples(res) == 0;
	if (!c->existing)
		id = dbi_int(res, 0, 0);
	PQclear(res);
	if (c->existing) {
		char details[160], hex[2 * DB_HASH_LEN + 1];
		p.n = 0;
		dbi_p_bytes(&p, c->hash, DB_HASH_LEN);
		if ((r = dbi_exec_row(db, "queue request", "request", 0,
				      "SELECT id FROM eac.requests WHERE raw_hash = $1", &p, &res)) != EAC_OK)
			return r;
		id = dbi_int(res, 0, 0);
		PQclear(res);
		/* every submission is an event, the repeated ones too */
		eac_hex(c->hash, DB_HASH_LEN, hex);
		snprintf(details, sizeof(details), "{\"sha256\": \"%s\"}", hex);
		char object[48];
		snprintf(object, sizeof(object), "request:%" PRId64, id);
		if ((r = db_audit(db, NULL, "request.resubmit", object, details, NULL)) != EAC_OK)
			return r;
	}
	return req_read(db, id, &c->out);
}

eac_err db_request_submit(db_conn *db, const db_request_in *in, db_request *out, int *existing)
{
	submit_ctx c = { .in = in };
	eac_err r;

	if (in == NULL || out == NULL || db_kind_name(in->kind) == NULL || in->channel == NULL ||
	    in->holder_chr == NULL || in->raw == NULL || in->process_within <= 0)
		return eac_fail(EAC_ERR_USAGE, "%s: queue request: kind, channel, bytes, CHR and deadline are required",
				db->name);
	if (in->raw_len == 0 || in->raw_len > DB_REQUEST_MAX)
		return eac_fail(EAC_ERR_MALFORMED, "%s: queue request: %zu octets (1..%d allowed)", db->name,
				in->raw_len, DB_REQUEST_MAX);
	if (in->inspection_system && strcmp(db->flavour, "dv") != 0)
		return eac_fail(EAC_ERR_USAGE, "%s: queue request: inspection systems exist only on the DV", db->name);
	if ((r = eac_sha256(in->raw, in->raw_len, c.hash)) != EAC_OK)
		return r;
	if ((r = dbi_tx(db, "queue request", 0, submit_fn, &c)) != EAC_OK)
		return r;
	*out = c.out;
	if (existing)
		*existing = c.existing;
	return EAC_OK;
}

eac_err db_request_raw(db_conn *db, int64_t id, uint8_t **raw, size_t *len)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	dbi_p_int(&p, id);
	if ((r = dbi_exec_row(db, "read request bytes", "request", id, "SELECT raw FROM eac.requests WHERE id = $1",
			      &p, &res)) != EAC_OK)
		return r;
	r = dbi_bytes(res, 0, 0, raw, len, "request");
	PQclear(res);
	return r;
}

/* ---------------------------------------------------------------------------
 * decisions */

typedef struct decide_ctx {
	const char *what, *sql;
	int64_t id;
	const dbi_params *p;
} decide_ctx;

static eac_err decide_fn(db_conn *db, void *arg)
{
	decide_ctx *c = arg;
	PGresult *res = NULL;
	eac_err r = dbi_exec(db, c->what, c->sql, c->p, &res);
	if (r != EAC_OK)
		return r;
	int n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n != 1)
		return eac_fail(EAC_ERR_NOT_FOUND, "%s: %s: request %" PRId64 " not found", db->name, c->what, c->id);
	return EAC_OK;
}

static eac_err decide(db_conn *db, const char *what, int64_t id, const char *sql, const dbi_params *p)
{
	decide_ctx c = { what, sql, id, p };
	return dbi_tx(db, what, 0, decide_fn, &c);
}

eac_err db_request_acknowledge(db_conn *db, int64_t id)
{
	dbi_params p = { 0 };
	dbi_p_int(&p, id);
	dbi_p_int(&p, eac_now());
	return decide(db, "acknowledge request", id,
		      "UPDATE eac.requests SET acknowledged_at = coalesce(acknowledged_at, to_timestamp($2)) WHERE id = $1",
		      &p);
}

eac_err db_request_validate(db_conn *db, int64_t id, const char *officer)
{
	dbi_params p = { 0 };
	if (officer == NULL || *officer == '\0')
		return eac_fail(EAC_ERR_USAGE, "%s: validate request %" PRId64 ": who decided is required", db->name, id);
	dbi_p_int(&p, id);
	dbi_p_text(&p, officer);
	dbi_p_int(&p, eac_now());
	return decide(db, "validate request", id,
		      "UPDATE eac.requests SET state = 'validated', decided_by = $2, decided_at = to_timestamp($3)"
		      " WHERE id = $1",
		      &p);
}

eac_err db_request_reject(db_conn *db, int64_t id, const char *rule_id, const char *message, const char *officer)
{
	dbi_params p = { 0 };
	if (rule_id == NULL || *rule_id == '\0' || message == NULL || *message == '\0' || officer == NULL ||
	    *officer == '\0')
		return eac_fail(EAC_ERR_USAGE, "%s: reject request %" PRId64 ": rule, message and who decided are required",
				db->name, id);
	dbi_p_int(&p, id);
	dbi_p_text(&p, rule_id);
	dbi_p_text(&p, message);
	dbi_p_text(&p, officer);
	dbi_p_int(&p, eac_now());
	return decide(db, "reject request", id,
		      "UPDATE eac.requests SET state = 'rejected', rule_id = $2, message = $3, decided_by = $4,"
		      " decided_at = to_timestamp($5) WHERE id = $1",
		      &p);
}

/* The pending list; also one of the status queries checked with EXPLAIN. */
const char *dbi_requests_pending_sql(const db_conn *db)
{
	return DBI_REQ_SQL(db, "JOIN eac.pending_requests p ON p.request_id = r.id"
			       " ORDER BY p.deadline, p.request_id LIMIT $1");
}

static eac_err requests_query(db_conn *db, const char *sql, size_t limit, db_request **list,
			      size_t *n)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	db_request *l = NULL;
	size_t rows;
	eac_err r;

	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	dbi_p_int(&p, (int64_t)(limit == 0 || limit > 100000 ? 100000 : limit));
	if ((r = dbi_exec(db, "list requests", sql, &p, &res)) != EAC_OK)
		return r;
	rows = (size_t)PQntuples(res);
	if ((l = calloc(rows ? rows : 1, sizeof(*l))) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: list requests: out of memory", db->name);
		goto out;
	}
	for (size_t i = 0; i < rows; i++)
		if ((r = dbi_req_row(res, (int)i, &l[i])) != EAC_OK)
			goto out;
	*list = l;
	*n = rows;
	l = NULL;
	r = EAC_OK;
out:
	free(l);
	PQclear(res);
	return r;
}

eac_err db_requests_list(db_conn *db, size_t limit, db_request **list, size_t *n)
{
	return requests_query(db, DBI_REQ_SQL(db, "ORDER BY r.id DESC LIMIT $1"), limit, list, n);
}

eac_err db_requests_pending(db_conn *db, size_t limit, db_request **list, size_t *n)
{
	return requests_query(db, dbi_requests_pending_sql(db), limit, list, n);
}
