/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The batch forms of the request queue, of distribution and of the facts
 * an approval reads: one statement for a whole chunk of a batch instead of
 * one or more per item (docs/PERFORMANCE.md). Each joins the caller's
 * db_tx transaction, or runs in one of its own; the schema's triggers and
 * constraints check every row exactly as for the single forms.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_internal.h"

typedef struct submit_many_ctx {
	const db_request_in *in;
	size_t n;
	db_request *out;
	int *existing;
} submit_many_ctx;


static eac_err submit_many_fn(db_conn *db, void *arg)
{
	submit_many_ctx *c = arg;
	int dv = strcmp(db->flavour, "dv") == 0;
	enum { KIND, CHANNEL, AUTH, RAW, HASH, CHR, OUTER, ACK, WITHIN, IS, NCOL };
	dbi_arr col[NCOL] = { 0 }, hashes = { 0 };
	uint8_t (*h)[DB_HASH_LEN] = calloc(c->n ? c->n : 1, DB_HASH_LEN);
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r = EAC_OK;

	if (h == NULL)
		return eac_fail(EAC_ERR_NOMEM, "%s: queue requests: out of memory", db->name);
	for (size_t i = 0; i < c->n; i++) {
		const db_request_in *in = &c->in[i];
		if (in->raw == NULL || in->raw_len == 0 || in->raw_len > DB_REQUEST_MAX ||
		    db_kind_name(in->kind) == NULL || in->channel == NULL || in->holder_chr == NULL) {
			r = eac_fail(EAC_ERR_USAGE, "%s: queue requests: request %zu is incomplete", db->name, i);
			goto out;
		}
		if ((r = eac_sha256(in->raw, in->raw_len, h[i])) != EAC_OK)
			goto out;
		dbi_arr_text(&col[KIND], db_kind_name(in->kind));
		dbi_arr_text(&col[CHANNEL], in->channel);
		dbi_arr_id(&col[AUTH], in->authority);
		dbi_arr_bytes(&col[RAW], in->raw, in->raw_len);
		dbi_arr_bytes(&col[HASH], h[i], DB_HASH_LEN);
		dbi_arr_latin1(&col[CHR], in->holder_chr);
		dbi_arr_latin1(&col[OUTER], in->outer_car);
		dbi_arr_text(&col[ACK], in->acknowledge ? "t" : "f");
		dbi_arr_int(&col[WITHIN], in->process_within);
		dbi_arr_id(&col[IS], in->inspection_system);
		dbi_arr_bytes(&hashes, h[i], DB_HASH_LEN);
	}
	for (int k = 0; k < NCOL; k++) {
		const char *v = dbi_arr_done(&col[k]);
		if (v == NULL) {
			r = eac_fail(EAC_ERR_USAGE, "%s: queue requests: a value cannot be sent", db->name);
			goto out;
		}
		dbi_p_text(&p, v);
	}
	dbi_p_int(&p, eac_now());
	/* the same bytes again are no second row: the first one answers */
	r = dbi_exec(db, "queue requests",
		     dv ? "INSERT INTO eac.requests (kind, channel, authority_id, raw, raw_hash, holder_chr, outer_car,"
			  " received_at, acknowledged_at, deadline, inspection_system_id)"
			  " SELECT u.kind, u.channel, u.auth, u.raw, u.hash, u.chr, u.outr, to_timestamp($11),"
			  " CASE WHEN u.ack THEN to_timestamp($11) END, to_timestamp($11) + u.within * interval '1 second',"
			  " u.isid FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::bytea[], $6::text[],"
			  " $7::text[], $8::boolean[], $9::bigint[], $10::bigint[])"
			  " AS u(kind, channel, auth, raw, hash, chr, outr, ack, within, isid)"
			  " ON CONFLICT ON CONSTRAINT requests_raw_hash_uq DO NOTHING RETURNING raw_hash"
		       : "INSERT INTO eac.requests (kind, channel, authority_id, raw, raw_hash, holder_chr, outer_car,"
			  " received_at, acknowledged_at, deadline)"
			  " SELECT u.kind, u.channel, u.auth, u.raw, u.hash, u.chr, u.outr, to_timestamp($11),"
			  " CASE WHEN u.ack THEN to_timestamp($11) END, to_timestamp($11) + u.within * interval '1 second'"
			  " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::bytea[], $6::text[],"
			  " $7::text[], $8::boolean[], $9::bigint[], $10::bigint[])"
			  " AS u(kind, channel, auth, raw, hash, chr, outr, ack, within, isid)"
			  " ON CONFLICT ON CONSTRAINT requests_raw_hash_uq DO NOTHING RETURNING raw_hash",
		     &p, &res);
	if (r != EAC_OK)
		goto out;
	for (size_t i = 0; i < c->n; i++)
		c->existing[i] = 1;
	for (int row = 0; row < PQntuples(res); row++) {
		uint8_t x[DB_HASH_LEN];
		if ((r = dbi_hash(res, row, 0, x, sizeof(x), "request hash")) != EAC_OK)
			goto out;
		for (size_t i = 0; i < c->n; i++)
			if (memcmp(h[i], x, sizeof(x)) == 0)
				c->existing[i] = 0;
	}
	PQclear(res);
	res = NULL;
	/* every submission is an event, the repeated ones too */
	for (size_t i = 0; i < c->n; i++) {
		if (!c->existing[i])
			continue;
		char details[160], hex[2 * DB_HASH_LEN + 1];
		eac_hex(h[i], DB_HASH_LEN, hex);
		snprintf(details, sizeof(details), "{\"sha256\": \"%s\"}", hex);
		if ((r = db_audit(db, NULL, "request.resubmit", "request", details, NULL)) != EAC_OK)
			goto out;
	}
	const char *hv = dbi_arr_done(&hashes);
	if (hv == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: queue requests: out of memory", db->name);
		goto out;
	}
	p.n = 0;
	dbi_p_text(&p, hv);
	if ((r = dbi_exec(db, "queue requests", DBI_REQ_SQL(db, "WHERE r.raw_hash = ANY($1::bytea[])"), &p,
			  &res)) != EAC_OK)
		goto out;
	for (int row = 0; row < PQntuples(res); row++) {
		db_request q;
		if ((r = dbi_req_row(res, row, &q)) != EAC_OK)
			goto out;
		for (size_t i = 0; i < c->n; i++)
			if (memcmp(h[i], q.raw_hash, DB_HASH_LEN) == 0)
				c->out[i] = q;
	}
	for (size_t i = 0; i < c->n; i++)
		if (c->out[i].id == 0) {
			r = eac_fail(EAC_ERR_INTERNAL, "%s: queue requests: request %zu was not recorded", db->name, i);
			goto out;
		}
out:
	for (int k = 0; k < NCOL; k++)
		dbi_arr_free(&col[k]);
	dbi_arr_free(&hashes);
	PQclear(res);
	free(h);
	return r;
}

eac_err db_request_submit_many(db_conn *db, const db_request_in *in, size_t n, db_request *out,
			       int *existing)
{
	submit_many_ctx c = { in, n, out, existing };
	if (n == 0)
		return EAC_OK;
	if (in == NULL || out == NULL || existing == NULL || n > DB_BATCH_MAX)
		return eac_fail(EAC_ERR_USAGE, "%s: queue requests: 1..%d requests", db->name, DB_BATCH_MAX);
	memset(out, 0, n * sizeof(*out));
	return dbi_tx(db, "queue requests", 0, submit_many_fn, &c);
}

typedef struct ids_ctx {
	const int64_t *ids;
	size_t n;
	const char *officer;
	const char *channel;
	const char *const *recipients;
} ids_ctx;

static eac_err validate_many_fn(db_conn *db, void *arg)
{
	ids_ctx *c = arg;
	dbi_arr ids = { 0 };
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	for (size_t i = 0; i < c->n; i++)
		dbi_arr_int(&ids, c->ids[i]);
	const char *v = dbi_arr_done(&ids);
	if (v == NULL) {
		dbi_arr_free(&ids);
		return eac_fail(EAC_ERR_NOMEM, "%s: validate requests: out of memory", db->name);
	}
	dbi_p_text(&p, v);
	dbi_p_text(&p, c->officer);
	dbi_p_int(&p, eac_now());
	r = dbi_exec(db, "validate requests",
		     "UPDATE eac.requests SET state = 'validated', decided_by = $2, decided_at = to_timestamp($3)"
		     " WHERE id = ANY($1::bigint[]) AND state = 'received' RETURNING id",
		     &p, &res);
	dbi_arr_free(&ids);
	PQclear(res);
	return r;
}

eac_err db_request_validate_many(db_conn *db, const int64_t *ids, size_t n, const char *officer)
{
	ids_ctx c = { .ids = ids, .n = n, .officer = officer };
	if (n == 0)
		return EAC_OK;
	if (officer == NULL || *officer == '\0')
		return eac_fail(EAC_ERR_USAGE, "%s: validate requests: who decided is required", db->name);
	return dbi_tx(db, "validate requests", 0, validate_many_fn, &c);
}

static eac_err dist_many_fn(db_conn *db, void *arg)
{
	ids_ctx *c = arg;
	dbi_arr ids = { 0 }, rec = { 0 };
	dbi_params p = { 0 };
	eac_err r;

	for (size_t i = 0; i < c->n; i++) {
		dbi_arr_int(&ids, c->ids[i]);
		dbi_arr_text(&rec, c->recipients[i]);
	}
	const char *a = dbi_arr_done(&ids), *b = dbi_arr_done(&rec);
	if (a == NULL || b == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: record distributions: out of memory", db->name);
		goto out;
	}
	dbi_p_text(&p, a);
	dbi_p_text(&p, b);
	dbi_p_int(&p, eac_now());
	dbi_p_text(&p, c->channel);
	r = dbi_exec(db, "record distributions",
		     "INSERT INTO eac.distributions (certificate_id, distributed_at, channel, recipient)"
		     " SELECT u.id, to_timestamp($3), $4, u.recipient"
		     " FROM unnest($1::bigint[], $2::text[]) AS u(id, recipient)",
		     &p, NULL);
out:
	dbi_arr_free(&ids);
	dbi_arr_free(&rec);
	return r;
}

eac_err db_distribution_record_many(db_conn *db, const int64_t *cert_ids, size_t n,
				    const char *channel, const char *const *recipients)
{
	ids_ctx c = { .ids = cert_ids, .n = n, .channel = channel, .recipients = recipients };
	if (n == 0)
		return EAC_OK;
	if (channel == NULL || recipients == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: record distributions: channel and recipients are required",
				db->name);
	return dbi_tx(db, "record distributions", 0, dist_many_fn, &c);
}

/* The facts of a chunk, per item: certified or intended already (CP-4.6),
 * compromised, the key its CHR names (CP-3.1b), its outer certificate.
 * Each fact is a LATERAL subquery with LIMIT 1: an index probe per item,
 * whatever the statistics. (Written as EXISTS sublinks and a plain join,
 * the planner hashed them — read every certificate and intent of the
 * issuer once per chunk, O(table) per 64 certificates.) The unique
 * indexes' predicates are repeated so that those indexes serve the probes.
 * tests/unit/db/test_internal.c checks the rows the plan reads. */
const char dbi_issue_facts_sql[] =
	"SELECT u.ord, c1.hit IS NOT NULL OR i1.hit IS NOT NULL, k1.hit IS NOT NULL, c2.holder_key_hash,"
	" o.der, k2.hit IS NOT NULL"
	" FROM unnest($3::bytea[], $4::text[], $5::text[]) WITH ORDINALITY AS u(hk, chr, outr, ord)"
	" LEFT JOIN LATERAL (SELECT 1 AS hit FROM eac.certificates x WHERE x.issuer_id = $1"
	"  AND x.holder_key_hash = u.hk AND x.kind IN ('dv', 'is') LIMIT 1) c1 ON true"
	" LEFT JOIN LATERAL (SELECT 1 AS hit FROM eac.issuances x WHERE x.issuer_id = $1"
	"  AND x.holder_key_hash = u.hk AND x.abandoned_at IS NULL AND x.kind IN ('dv', 'is') LIMIT 1) i1 ON true"
	" LEFT JOIN LATERAL (SELECT 1 AS hit FROM eac.keys k WHERE k.pubkey_hash = u.hk"
	"  AND k.state = 'compromised' LIMIT 1) k1 ON true"
	" LEFT JOIN LATERAL (SELECT x.holder_key_hash FROM eac.certificates x WHERE x.issuer_id = $1"
	"  AND x.kind = $2 AND x.chr = u.chr LIMIT 1) c2 ON true"
	" LEFT JOIN LATERAL (SELECT x.der, x.holder_key_hash FROM eac.certificates x WHERE x.issuer_id = $1"
	"  AND x.kind = $2 AND x.chr = u.outr LIMIT 1) o ON true"
	" LEFT JOIN LATERAL (SELECT 1 AS hit FROM eac.keys k WHERE k.pubkey_hash = o.holder_key_hash"
	"  AND k.state = 'compromised' LIMIT 1) k2 ON true";

eac_err db_issue_facts(db_conn *db, int64_t issuer, db_kind kind, size_t n,
		       const db_fact_query *q, db_issue_fact *out)
{
	dbi_arr hk = { 0 }, chr = { 0 }, outer = { 0 };
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	if (n == 0)
		return EAC_OK;
	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	memset(out, 0, n * sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		dbi_arr_bytes(&hk, q[i].key_hash, DB_HASH_LEN);
		dbi_arr_latin1(&chr, q[i].chr);
		dbi_arr_latin1(&outer, q[i].outer_car);
	}
	const char *a = dbi_arr_done(&hk), *b = dbi_arr_done(&chr), *c = dbi_arr_done(&outer);
	if (a == NULL || b == NULL || c == NULL) {
		r = eac_fail(EAC_ERR_USAGE, "%s: read facts: a value cannot be sent", db->name);
		goto out;
	}
	dbi_p_int(&p, issuer);
	dbi_p_text(&p, dbi_kind_sql(kind));
	dbi_p_text(&p, a);
	dbi_p_text(&p, b);
	dbi_p_text(&p, c);
	r = dbi_exec(db, "read facts", dbi_issue_facts_sql, &p, &res);
	if (r != EAC_OK)
		goto out;
	for (int row = 0; row < PQntuples(res); row++) {
		int64_t ord = dbi_int(res, row, 0);
		if (ord < 1 || (size_t)ord > n)
			continue;
		db_issue_fact *f = &out[ord - 1];
		f->certified = dbi_bool(res, row, 1);
		f->compromised = dbi_bool(res, row, 2);
		if (!dbi_isnull(res, row, 3)) {
			f->chr_found = 1;
			if ((r = dbi_hash(res, row, 3, f->chr_key, DB_HASH_LEN, "holder key hash")) != EAC_OK)
				goto out;
		}
		if (!dbi_isnull(res, row, 4) &&
		    (r = dbi_bytes(res, row, 4, &f->outer_der, &f->outer_len, "certificate")) != EAC_OK)
			goto out;
		f->outer_compromised = dbi_bool(res, row, 5);
	}
	r = EAC_OK;
out:
	if (r != EAC_OK)
		db_issue_facts_free(out, n);
	dbi_arr_free(&hk);
	dbi_arr_free(&chr);
	dbi_arr_free(&outer);
	PQclear(res);
	return r;
}

void db_issue_facts_free(db_issue_fact *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		free(f[i].outer_der);
		f[i].outer_der = NULL;
	}
}
