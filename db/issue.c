/* SPDX-License-Identifier: Apache-2.0 */
/* The issuance protocol: intents, results, abandonment, recovery, batches;
 * certificates (issued and imported) and their distribution. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db/db_internal.h"

static const char *const kind_names[] = { NULL, "cvca", "link", "dv", "is" };

const char *db_kind_name(db_kind kind)
{
	return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : NULL;
}

const char *dbi_kind_sql(db_kind k)
{
	return db_kind_name(k);
}

static db_kind kind_from(const char *s)
{
	for (int k = DB_KIND_CVCA; k <= DB_KIND_IS; k++)
		if (strcmp(s, kind_names[k]) == 0)
			return (db_kind)k;
	return 0;
}

/* ---------------------------------------------------------------------------
 * the CV certificate's framing (the schema checks it again) */

static int tlv(const uint8_t *b, size_t n, size_t p, unsigned *tag, size_t *voff, size_t *vlen)
{
	size_t l;
	if (p + 2 > n)
		return -1;
	*tag = b[p++];
	if ((*tag & 0x1f) == 0x1f) {
		if (b[p] & 0x80)
			return -1;
		*tag = *tag << 8 | b[p++];
	}
	if (p >= n)
		return -1;
	l = b[p++];
	if (l == 0x81) {
		if (p + 1 > n || b[p] < 0x80)
			return -1;
		l = b[p++];
	} else if (l == 0x82) {
		if (p + 2 > n)
			return -1;
		l = (size_t)b[p] << 8 | b[p + 1];
		p += 2;
		if (l < 256)
			return -1;
	} else if (l > 0x7f) {
		return -1;
	}
	if (l > n - p)
		return -1;
	*voff = p;
	*vlen = l;
	return 0;
}

eac_err dbi_cv_cert_body(const uint8_t *der, size_t len, const uint8_t **body, size_t *body_len)
{
	unsigned t;
	size_t co, cl, bo, bl, so, sl;

	if (der == NULL || tlv(der, len, 0, &t, &co, &cl) != 0 || t != 0x7f21)
		return eac_fail(EAC_ERR_MALFORMED, "not a CV certificate (7F21 with a minimal length)");
	if (co + cl != len)
		return eac_fail(EAC_ERR_MALFORMED, "trailing bytes after the CV certificate");
	if (tlv(der, len, co, &t, &bo, &bl) != 0 || t != 0x7f4e)
		return eac_fail(EAC_ERR_MALFORMED, "CV certificate: body 7F4E expected first");
	if (tlv(der, len, bo + bl, &t, &so, &sl) != 0 || t != 0x5f37 || sl == 0)
		return eac_fail(EAC_ERR_MALFORMED, "CV certificate: signature 5F37 expected after the body");
	if (so + sl != len)
		return eac_fail(EAC_ERR_MALFORMED, "CV certificate: data after the signature");
	*body = der + co;
	*body_len = bo + bl - co;
	return EAC_OK;
}

/* ---------------------------------------------------------------------------
 * batches: one transaction; an item the database refuses is marked and the
 * batch runs again without it, so every other item is still recorded */

typedef eac_err (*item_fn)(db_conn *db, void *ctx, size_t i, int64_t *id);

typedef struct batch {
	size_t n;
	db_batch_item *out;
	item_fn one;
	eac_err (*prepare)(db_conn *db, struct batch *b); /* optional, once per attempt */
	/* optional: every pending item in one statement (a batch's fast path);
	 * when the database refuses one of them, the batch runs again item by
	 * item to find which */
	eac_err (*many)(db_conn *db, struct batch *b);
	void *ctx;
	const char *failpoint_before;
	int item_failed;
	int try_many, many_failed;
} batch;

static int item_level(eac_err r)
{
	return r == EAC_ERR_DB_CONFLICT || r == EAC_ERR_STATE || r == EAC_ERR_POLICY ||
	       r == EAC_ERR_MALFORMED || r == EAC_ERR_NOT_FOUND || r == EAC_ERR_USAGE;
}

static void mark(db_conn *db, batch *b, size_t i, eac_err r)
{
	b->out[i].status = r;
	b->out[i].conflict = db->conflict;
	b->out[i].id = 0;
	snprintf(b->out[i].detail, sizeof(b->out[i].detail), "%s", eac_err_detail(r));
}

static eac_err batch_fn(db_conn *db, void *arg)
{
	batch *b = arg;
	eac_err r;

	if (b->prepare && (r = b->prepare(db, b)) != EAC_OK)
		return r;
	if (b->many != NULL && b->try_many) {
		db->conflict = DB_CONFLICT_NONE;
		db->sqlstate[0] = '\0';
		if ((r = b->many(db, b)) != EAC_OK) {
			if (item_level(r) && db->sqlstate[0] != '\0')
				b->many_failed = 1;
			return r;
		}
		eac_failpoint(b->failpoint_before);
		return EAC_OK;
	}
	for (size_t i = 0; i < b->n; i++) {
		int64_t id = 0;
		if (b->out[i].status != EAC_OK)
			continue;
		db->conflict = DB_CONFLICT_NONE;
		db->sqlstate[0] = '\0';
		if ((r = b->one(db, b->ctx, i, &id)) != EAC_OK) {
			if (!item_level(r))
				return r;
			mark(db, b, i, r);
			/* refused by C before any statement: the transaction is
			 * intact; refused by the database: run again without it */
			if (db->sqlstate[0] == '\0')
				continue;
			b->item_failed = 1;
			return r;
		}
		b->out[i].id = id;
	}
	eac_failpoint(b->failpoint_before);
	return EAC_OK;
}

static eac_err batch_run(db_conn *db, const char *what, batch *b)
{
	eac_err r;

	if (b->n > DB_BATCH_MAX)
		return eac_fail(EAC_ERR_USAGE, "%s: %s: %zu items exceed the batch limit %d", db->name, what,
				b->n, DB_BATCH_MAX);
	if (db->in_tx)
		return eac_fail(EAC_ERR_USAGE, "%s: %s commits on its own and must not run inside db_tx",
				db->name, what);
	for (size_t i = 0; i < b->n; i++)
		memset(&b->out[i], 0, sizeof(b->out[i]));
	b->try_many = b->many != NULL && b->n > 1;
	for (;;) {
		size_t pending = 0;
		for (size_t i = 0; i < b->n; i++)
			pending += b->out[i].status == EAC_OK;
		if (pending == 0)
			return EAC_OK;
		b->item_failed = 0;
		b->many_failed = 0;
		if ((r = dbi_tx(db, what, 1, batch_fn, b)) == EAC_OK)
			return EAC_OK;
		if (b->many_failed) {
			/* one of them was refused: find it, item by item */
			b->try_many = 0;
			for (size_t i = 0; i < b->n; i++)
				b->out[i].id = 0;
			continue;
		}
		if (!b->item_failed) {
			for (size_t i = 0; i < b->n; i++)
				b->out[i].id = 0;
			return r;
		}
	}
}

/* The outcome of a batch of one as the call's own result. */
static eac_err single(db_conn *db, eac_err r, const db_batch_item *it, int64_t *id)
{
	(void)db;
	if (r != EAC_OK)
		return r;
	if (it->status != EAC_OK) {
		char copy[sizeof(it->detail)];
		snprintf(copy, sizeof(copy), "%s", it->detail);
		db->conflict = it->conflict;
		return eac_fail(it->status, "%s", copy);
	}
	if (id)
		*id = it->id;
	return EAC_OK;
}

/* ---------------------------------------------------------------------------
 * claims (db.h): the session advisory lock 2^62 + intent id, a key space
 * apart from the other advisory locks (migrations, DV counting), which all
 * lie below 2^40 */

#define CLAIM(x) "(4611686018427387904 + " x "::bigint)"

/* Give up claims, best effort and without touching the error state (it may
 * hold the failure the caller reports): on a broken connection the server
 * has dropped them already, and inside a transaction we never get here. */
static void unclaim_many(db_conn *db, const int64_t *ids, size_t n)
{
	dbi_arr a = { 0 };
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (ids[i] > 0) {
			dbi_arr_int(&a, ids[i]);
			k++;
		}
	const char *v = dbi_arr_done(&a);
	if (k > 0 && v != NULL && PQstatus(db->pg) == CONNECTION_OK &&
	    PQtransactionStatus(db->pg) == PQTRANS_IDLE)
		PQclear(PQexecParams(db->pg,
				     "SELECT count(pg_advisory_unlock(" CLAIM("x") ")) FROM unnest($1::bigint[]) x",
				     1, NULL, &v, NULL, NULL, 0));
	dbi_arr_free(&a);
}

void db_intent_unclaim(db_conn *db, int64_t intent_id)
{
	if (db != NULL)
		unclaim_many(db, &intent_id, 1);
}

static eac_err intent_is_open(db_conn *db, int64_t id, int *open)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;
	dbi_p_int(&p, id);
	if ((r = dbi_exec(db, "look at an intent",
			  "SELECT EXISTS (SELECT 1 FROM eac.open_issuances WHERE issuance_id = $1)", &p,
			  &res)) != EAC_OK)
		return r;
	*open = dbi_bool(res, 0, 0);
	PQclear(res);
	return EAC_OK;
}

eac_err db_intent_claim(db_conn *db, int64_t intent_id, int wait_ms, int *claimed, int *open)
{
	eac_err r;
	*claimed = 0;
	*open = 0;
	if (db->in_tx)
		return eac_fail(EAC_ERR_USAGE, "%s: claim intent: not inside db_tx", db->name);
	if ((r = dbi_ready(db)) != EAC_OK)
		return r;
	for (int waited = 0;; waited += 50) {
		PGresult *res = NULL;
		dbi_params p = { 0 };
		dbi_p_int(&p, intent_id);
		if ((r = dbi_exec(db, "claim intent", "SELECT pg_try_advisory_lock(" CLAIM("$1") ")", &p,
				  &res)) != EAC_OK)
			return r;
		int got = dbi_bool(res, 0, 0);
		PQclear(res);
		if (got) {
			if ((r = intent_is_open(db, intent_id, open)) != EAC_OK || !*open) {
				db_intent_unclaim(db, intent_id);
				return r;
			}
			*claimed = 1;
			return EAC_OK;
		}
		/* its holder is alive (or its server process is still ending) */
		if (waited >= wait_ms)
			return intent_is_open(db, intent_id, open);
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}

eac_err db_request_intent_busy(db_conn *db, int64_t request, int64_t *intent, int *busy)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	*intent = 0;
	*busy = 0;
	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	dbi_p_int(&p, request);
	/* pg_locks, not a try-lock: looking must not take or drop a claim */
	if ((r = dbi_exec(db, "look for an intent under way",
			  "SELECT i.id, EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory'"
			  " AND l.granted AND l.objsubid = 1"
			  " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
			  " AND l.classid::bigint * 4294967296 + l.objid::bigint = " CLAIM("i.id") ")"
			  " FROM eac.issuances i JOIN eac.open_issuances o ON o.issuance_id = i.id"
			  " WHERE i.request_id = $1 ORDER BY i.id LIMIT 1",
			  &p, &res)) != EAC_OK)
		return r;
	if (PQntuples(res) == 1) {
		*intent = dbi_int(res, 0, 0);
		*busy = dbi_bool(res, 0, 1);
	}
	PQclear(res);
	return EAC_OK;
}

/* ---------------------------------------------------------------------------
 * 1. intents */

static int ref_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	return n >= 7 && n <= DB_REF_MAX;
}

/* What C checks of an intent before any statement; its body's hash. */
static eac_err intent_check(db_conn *db, const db_intent *in, uint8_t th[DB_HASH_LEN])
{
	if (db_kind_name(in->kind) == NULL || !ref_ok(in->chr) || !ref_ok(in->car) ||
	    in->holder_key_hash == NULL || in->chat == NULL || in->chat_len == 0 || in->effective == NULL ||
	    in->expiry == NULL || in->tbs == NULL || in->tbs_len == 0 || in->distribute_within < 0)
		return eac_fail(EAC_ERR_USAGE, "%s: record intent: incomplete intent (kind, CHR, CAR, key hash, CHAT, dates, body)",
				db->name);
	if (in->tbs_len > DB_TBS_MAX)
		return eac_fail(EAC_ERR_MALFORMED, "%s: record intent CHR %s: body of %zu octets exceeds %d",
				db->name, in->chr, in->tbs_len, DB_TBS_MAX);
	return eac_sha256(in->tbs, in->tbs_len, th);
}

/* Claim the intents just recorded (ids; freed here), in their recording
 * transaction, by a statement after the INSERT was accepted: the intent
 * checks run at the end of the INSERT (per statement since schema version
 * 3), and a session lock taken by a statement that then fails would
 * outlive its rollback. (A claim taken in a transaction that later fails
 * still stays with this session until it ends; its id is never reused, so
 * it binds nothing.) */
static eac_err claim_recorded(db_conn *db, dbi_arr *ids)
{
	dbi_params q = { 0 };
	const char *v = dbi_arr_done(ids);
	eac_err r;
	if (v == NULL) {
		dbi_arr_free(ids);
		return eac_fail(EAC_ERR_NOMEM, "%s: claim intents: out of memory", db->name);
	}
	dbi_p_text(&q, v);
	r = dbi_exec(db, "claim intents",
		     "SELECT count(pg_advisory_lock(" CLAIM("x") ")) FROM unnest($1::bigint[]) x", &q, NULL);
	dbi_arr_free(ids);
	return r;
}

static eac_err intent_one(db_conn *db, void *ctx, size_t i, int64_t *id)
{
	const db_intent *in = (const db_intent *)ctx + i;
	uint8_t th[DB_HASH_LEN];
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	if ((r = intent_check(db, in, th)) != EAC_OK)
		return r;
	dbi_p_id(&p, in->issuer);
	dbi_p_id(&p, in->signing_key);
	dbi_p_text(&p, db_kind_name(in->kind));
	dbi_p_latin1(&p, in->chr);
	dbi_p_latin1(&p, in->car);
	dbi_p_bytes(&p, in->holder_key_hash, DB_HASH_LEN);
	dbi_p_id(&p, in->request);
	dbi_p_bytes(&p, in->chat, in->chat_len);
	dbi_p_text(&p, in->effective);
	dbi_p_text(&p, in->expiry);
	dbi_p_bytes(&p, in->tbs, in->tbs_len);
	dbi_p_bytes(&p, th, sizeof(th));
	dbi_p_int(&p, in->distribute_within);
	dbi_p_int(&p, eac_now());
	r = dbi_exec(db, "record intent",
		     "INSERT INTO eac.issuances (issuer_id, signing_key_id, kind, chr, car,"
		     " holder_key_hash, request_id, chat, effective, expiry, tbs, tbs_hash, distribute_within,"
		     " created_at)"
		     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::date, $10::date, $11, $12,"
		     " CASE WHEN $13::bigint > 0 THEN $13::bigint * interval '1 second' END, to_timestamp($14))"
		     " RETURNING id",
		     &p, &res);
	if (r != EAC_OK)
		return r;
	*id = dbi_int(res, 0, 0);
	PQclear(res);
	dbi_arr ids = { 0 };
	dbi_arr_int(&ids, *id);
	return claim_recorded(db, &ids);
}

/* Every pending intent in one INSERT .. SELECT FROM unnest(..). */
static eac_err intent_many(db_conn *db, batch *b)
{
	const db_intent *in = b->ctx;
	enum { ISSUER, KEY, KIND, CHR, CAR, HK, REQ, CHAT, EFF, EXP, TBS, TH, DW, ORD, NCOL };
	dbi_arr col[NCOL] = { 0 };
	uint8_t (*th)[DB_HASH_LEN] = calloc(b->n ? b->n : 1, DB_HASH_LEN);
	size_t *idx = calloc(b->n ? b->n : 1, sizeof(*idx)), k = 0;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r = EAC_OK;

	if (th == NULL || idx == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: record intents: out of memory", db->name);
		goto out;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (b->out[i].status != EAC_OK)
			continue;
		const db_intent *x = &in[i];
		if ((r = intent_check(db, x, th[i])) != EAC_OK) {
			if (!item_level(r))
				goto out;
			mark(db, b, i, r); /* refused before any statement */
			r = EAC_OK;
			continue;
		}
		dbi_arr_id(&col[ISSUER], x->issuer);
		dbi_arr_id(&col[KEY], x->signing_key);
		dbi_arr_text(&col[KIND], db_kind_name(x->kind));
		dbi_arr_latin1(&col[CHR], x->chr);
		dbi_arr_latin1(&col[CAR], x->car);
		dbi_arr_bytes(&col[HK], x->holder_key_hash, DB_HASH_LEN);
		dbi_arr_id(&col[REQ], x->request);
		dbi_arr_bytes(&col[CHAT], x->chat, x->chat_len);
		dbi_arr_text(&col[EFF], x->effective);
		dbi_arr_text(&col[EXP], x->expiry);
		dbi_arr_bytes(&col[TBS], x->tbs, x->tbs_len);
		dbi_arr_bytes(&col[TH], th[i], DB_HASH_LEN);
		dbi_arr_int(&col[DW], x->distribute_within);
		dbi_arr_int(&col[ORD], (int64_t)k);
		idx[k++] = i;
	}
	if (k == 0)
		goto out;
	for (int c = 0; c < NCOL; c++) {
		const char *v = dbi_arr_done(&col[c]);
		if (v == NULL) {
			r = eac_fail(EAC_ERR_USAGE, "%s: record intents: a value cannot be sent", db->name);
			goto out;
		}
		dbi_p_text(&p, v);
	}
	dbi_p_int(&p, eac_now());
	r = dbi_exec(db, "record intents",
		     "INSERT INTO eac.issuances (issuer_id, signing_key_id, kind, chr, car, holder_key_hash,"
		     " request_id, chat, effective, expiry, tbs, tbs_hash, distribute_within, created_at)"
		     " SELECT u.issuer, u.key, u.kind, u.chr, u.car, u.hk, u.req, u.chat, u.eff::date,"
		     " u.exp::date, u.tbs, u.th, CASE WHEN u.dw > 0 THEN u.dw * interval '1 second' END,"
		     " to_timestamp($15) FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[],"
		     " $5::text[], $6::bytea[], $7::bigint[], $8::bytea[], $9::text[], $10::text[],"
		     " $11::bytea[], $12::bytea[], $13::bigint[], $14::bigint[])"
		     " AS u(issuer, key, kind, chr, car, hk, req, chat, eff, exp, tbs, th, dw, ord)"
		     " ORDER BY u.ord RETURNING id, tbs_hash",
		     &p, &res);
	if (r != EAC_OK)
		goto out;
	for (int row = 0; row < PQntuples(res); row++) {
		uint8_t h[DB_HASH_LEN];
		if ((r = dbi_hash(res, row, 1, h, sizeof(h), "body hash")) != EAC_OK)
			goto out;
		for (size_t j = 0; j < k; j++)
			if (memcmp(th[idx[j]], h, sizeof(h)) == 0 && b->out[idx[j]].id == 0) {
				b->out[idx[j]].id = dbi_int(res, row, 0);
				break;
			}
	}
	for (size_t j = 0; j < k; j++)
		if (b->out[idx[j]].id == 0) {
			r = eac_fail(EAC_ERR_INTERNAL, "%s: record intents: an intent came back without its id",
				     db->name);
			goto out;
		}
	{
		dbi_arr ids = { 0 };
		for (size_t j = 0; j < k; j++)
			dbi_arr_int(&ids, b->out[idx[j]].id);
		r = claim_recorded(db, &ids);
	}
out:
	for (int c = 0; c < NCOL; c++)
		dbi_arr_free(&col[c]);
	PQclear(res);
	free(th);
	free(idx);
	return r;
}

eac_err db_intent_record_batch(db_conn *db, const db_intent *in, size_t n, db_batch_item *out)
{
	batch b = { .n = n, .out = out, .one = intent_one, .many = intent_many, .ctx = (void *)in,
		    .failpoint_before = "before_intent_commit" };
	eac_err r;

	if (in == NULL || out == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: record intents: no input", db->name);
	if ((r = batch_run(db, "record intents", &b)) == EAC_OK)
		eac_failpoint("after_intent_commit");
	return r;
}

eac_err db_intent_record(db_conn *db, const db_intent *in, int64_t *intent_id)
{
	db_batch_item it;
	batch b = { .n = 1, .out = &it, .one = intent_one, .ctx = (void *)in,
		    .failpoint_before = "before_intent_commit" };
	eac_err r;

	if (in == NULL || intent_id == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: record intent: no input", db->name);
	if ((r = single(db, batch_run(db, "record intent", &b), &it, intent_id)) == EAC_OK)
		eac_failpoint("after_intent_commit");
	return r;
}

/* ---------------------------------------------------------------------------
 * 3. results */

typedef struct result_ctx {
	const db_result *in;
	size_t n;
	int64_t now;
	/* the intents' bodies, fetched once per attempt, in the order of `in` */
	uint8_t **tbs;
	size_t *tbs_len;
} result_ctx;

static eac_err result_prepare(db_conn *db, batch *b)
{
	result_ctx *c = b->ctx;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	char *ids = NULL;
	size_t cap = c->n * 21 + 3, o = 0;
	eac_err r = EAC_OK;

	for (size_t i = 0; i < c->n; i++) {
		free(c->tbs[i]);
		c->tbs[i] = NULL;
		c->tbs_len[i] = 0;
	}
	if ((ids = malloc(cap)) == NULL)
		return eac_fail(EAC_ERR_NOMEM, "%s: record results: out of memory", db->name);
	/* a bigint[] parameter in its text form: digits and commas only */
	ids[o++] = '{';
	for (size_t i = 0; i < c->n; i++)
		o += (size_t)snprintf(ids + o, cap - o, "%s%" PRId64, i ? "," : "", c->in[i].intent_id);
	ids[o++] = '}';
	ids[o] = '\0';
	dbi_p_text(&p, ids);
	r = dbi_exec(db, "record results", "SELECT id, tbs FROM eac.issuances WHERE id = ANY($1::bigint[])",
		     &p, &res);
	if (r != EAC_OK)
		goto out;
	for (int row = 0; row < PQntuples(res); row++) {
		int64_t id = dbi_int(res, row, 0);
		for (size_t i = 0; i < c->n; i++)
			if (c->in[i].intent_id == id && c->tbs[i] == NULL &&
			    (r = dbi_bytes(res, row, 1, &c->tbs[i], &c->tbs_len[i], "intent body")) != EAC_OK)
				goto out;
	}
out:
	PQclear(res);
	free(ids);
	return r;
}

/* The C checks of a result: its framing and body against the intent's. */
static eac_err result_check(db_conn *db, result_ctx *c, size_t i)
{
	const db_result *in = &c->in[i];
	const uint8_t *body = NULL;
	size_t blen = 0;
	eac_err r;

	if (in->der == NULL || in->der_len == 0 || in->der_len > DB_CERT_MAX)
		return eac_fail(EAC_ERR_MALFORMED, "%s: record result for intent %" PRId64
				": certificate missing or over %d octets", db->name, in->intent_id, DB_CERT_MAX);
	if ((r = dbi_cv_cert_body(in->der, in->der_len, &body, &blen)) != EAC_OK)
		return eac_fail_prefix(r, "%s: record result for intent %" PRId64 ": ", db->name,
				       in->intent_id);
	if (c->tbs[i] == NULL)
		return eac_fail(EAC_ERR_NOT_FOUND, "%s: record result: intent %" PRId64 " not found", db->name,
				in->intent_id);
	if (blen != c->tbs_len[i] || memcmp(body, c->tbs[i], blen) != 0) {
		db->conflict = DB_CONFLICT_BODY;
		return eac_fail(EAC_ERR_DB_CONFLICT,
				"%s: record result for intent %" PRId64
				": the certificate's body differs from the intent's to-be-signed body; refused",
				db->name, in->intent_id);
	}
	return EAC_OK;
}

/* The result row repeats its intent's columns (read from the intent in the
 * same statement), so that the schema checks the statement's rows at once
 * instead of filling each row from its intent (schema version 4,
 * certificates_admit); u is (iid, der, at). Each intent is an index probe
 * (LATERAL .. LIMIT 1; a join is planned as a scan of all intents). A
 * vanished intent leaves the columns empty and meets the row guard, which
 * names it. */
#define RESULT_INSERT                                                                                  \
	"INSERT INTO eac.certificates (source, issuance_id, issuer_id, kind, chr, car, chat, effective," \
	" expiry, holder_key_hash, request_id, der, der_hash, issued_at, distribute_by)"                 \
	" SELECT 'issued', u.iid, i.issuer_id, i.kind, i.chr, i.car, i.chat, i.effective, i.expiry,"     \
	" i.holder_key_hash, i.request_id, u.der, sha256(u.der), u.at, u.at + i.distribute_within FROM ("
#define RESULT_FROM_INTENT " LEFT JOIN LATERAL (SELECT * FROM eac.issuances WHERE id = u.iid LIMIT 1) i ON true"

static eac_err result_one(db_conn *db, void *ctx, size_t i, int64_t *id)
{
	result_ctx *c = ctx;
	const db_result *in = &c->in[i];
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	if ((r = result_check(db, c, i)) != EAC_OK)
		return r;
	dbi_p_int(&p, in->intent_id);
	dbi_p_bytes(&p, in->der, in->der_len);
	dbi_p_int(&p, c->now);
	r = dbi_exec(db, "record result",
		     RESULT_INSERT "SELECT $1::bigint AS iid, $2::bytea AS der, to_timestamp($3) AS at) u"
		     RESULT_FROM_INTENT " RETURNING id",
		     &p, &res);
	if (r != EAC_OK)
		return r;
	*id = dbi_int(res, 0, 0);
	PQclear(res);
	return EAC_OK;
}

/* Every pending result in one INSERT .. SELECT FROM unnest(..). */
static eac_err result_many(db_conn *db, batch *b)
{
	result_ctx *c = b->ctx;
	dbi_arr iid = { 0 }, der = { 0 }, ord = { 0 };
	size_t k = 0;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r = EAC_OK;

	for (size_t i = 0; i < b->n; i++) {
		if (b->out[i].status != EAC_OK)
			continue;
		if ((r = result_check(db, c, i)) != EAC_OK) {
			if (!item_level(r))
				goto out;
			mark(db, b, i, r);
			r = EAC_OK;
			continue;
		}
		dbi_arr_int(&iid, c->in[i].intent_id);
		dbi_arr_bytes(&der, c->in[i].der, c->in[i].der_len);
		dbi_arr_int(&ord, (int64_t)k++);
	}
	if (k == 0)
		goto out;
	const char *a = dbi_arr_done(&iid), *d = dbi_arr_done(&der), *o = dbi_arr_done(&ord);
	if (!a || !d || !o) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: record results: out of memory", db->name);
		goto out;
	}
	dbi_p_text(&p, a);
	dbi_p_text(&p, d);
	dbi_p_text(&p, o);
	dbi_p_int(&p, c->now);
	r = dbi_exec(db, "record results",
		     RESULT_INSERT "SELECT x.iid, x.der, x.ord, to_timestamp($4) AS at"
		     " FROM unnest($1::bigint[], $2::bytea[], $3::bigint[]) AS x(iid, der, ord)) u"
		     RESULT_FROM_INTENT " ORDER BY u.ord RETURNING id, issuance_id",
		     &p, &res);
	if (r != EAC_OK)
		goto out;
	for (int row = 0; row < PQntuples(res); row++) {
		int64_t issuance = dbi_int(res, row, 1);
		for (size_t i = 0; i < b->n; i++)
			if (b->out[i].status == EAC_OK && c->in[i].intent_id == issuance &&
			    b->out[i].id == 0) {
				b->out[i].id = dbi_int(res, row, 0);
				break;
			}
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->out[i].status == EAC_OK && b->out[i].id == 0) {
			r = eac_fail(EAC_ERR_INTERNAL, "%s: record results: a certificate came back without its id",
				     db->name);
			goto out;
		}
out:
	dbi_arr_free(&iid);
	dbi_arr_free(&der);
	dbi_arr_free(&ord);
	PQclear(res);
	return r;
}

static eac_err results(db_conn *db, const char *what, const db_result *in, size_t n, db_batch_item *out)
{
	result_ctx c = { .in = in, .n = n, .now = eac_now() };
	batch b = { .n = n, .out = out, .one = result_one, .prepare = result_prepare, .many = result_many,
		    .ctx = &c, .failpoint_before = "before_result_commit" };
	eac_err r;

	c.tbs = calloc(n ? n : 1, sizeof(*c.tbs));
	c.tbs_len = calloc(n ? n : 1, sizeof(*c.tbs_len));
	if (c.tbs == NULL || c.tbs_len == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: %s: out of memory", db->name, what);
		goto out;
	}
	r = batch_run(db, what, &b);
	/* recorded or not, this session is done with these intents: a failed
	 * one is recovery's now */
	int64_t *ids = calloc(n ? n : 1, sizeof(*ids));
	for (size_t i = 0; ids && i < n; i++)
		ids[i] = in[i].intent_id;
	if (ids)
		unclaim_many(db, ids, n);
	free(ids);
out:
	for (size_t i = 0; c.tbs && i < n; i++)
		free(c.tbs[i]);
	free(c.tbs);
	free(c.tbs_len);
	return r;
}

eac_err db_result_record_batch(db_conn *db, const db_result *in, size_t n, db_batch_item *out)
{
	eac_err r;
	if (in == NULL || out == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: record results: no input", db->name);
	if ((r = results(db, "record results", in, n, out)) == EAC_OK)
		eac_failpoint("after_result_commit");
	return r;
}

eac_err db_result_record(db_conn *db, int64_t intent_id, const uint8_t *der, size_t der_len,
			 int64_t *cert_id)
{
	db_result in = { intent_id, der, der_len };
	db_batch_item it;
	eac_err r;

	if ((r = single(db, results(db, "record result", &in, 1, &it), &it, cert_id)) == EAC_OK)
		eac_failpoint("after_result_commit");
	return r;
}

/* ---------------------------------------------------------------------------
 * abandonment and recovery */

typedef struct abandon_ctx {
	int64_t id;
	const char *reason;
} abandon_ctx;

static eac_err abandon_fn(db_conn *db, void *arg)
{
	abandon_ctx *c = arg;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	dbi_p_int(&p, c->id);
	dbi_p_int(&p, eac_now());
	dbi_p_text(&p, c->reason);
	r = dbi_exec(db, "abandon intent",
		     "UPDATE eac.issuances SET abandoned_at = to_timestamp($2), abandon_reason = $3 WHERE id = $1",
		     &p, &res);
	if (r != EAC_OK)
		return r;
	int n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n != 1)
		return eac_fail(EAC_ERR_NOT_FOUND, "%s: abandon intent: intent %" PRId64 " not found", db->name,
				c->id);
	return EAC_OK;
}

eac_err db_abandon(db_conn *db, int64_t intent_id, const char *reason)
{
	abandon_ctx c = { intent_id, reason };
	size_t n = reason ? strlen(reason) : 0;
	if (n == 0 || n > DB_TEXT_MAX)
		return eac_fail(EAC_ERR_USAGE, "%s: abandon intent %" PRId64 ": a reason of 1..%d octets is required",
				db->name, intent_id, DB_TEXT_MAX);
	eac_err r = dbi_tx(db, "abandon intent", 1, abandon_fn, &c);
	db_intent_unclaim(db, intent_id);
	return r;
}

void db_open_intents_free(db_open_intent *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++)
		free(list[i].tbs);
	free(list);
}

eac_err db_recover_list(db_conn *db, db_open_intent **list, size_t *n)
{
	PGresult *res = NULL;
	db_open_intent *l = NULL;
	size_t rows = 0;
	eac_err r;

	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	r = dbi_exec(db, "list open intents",
		     "SELECT i.id, i.issuer_id, i.signing_key_id, i.request_id, i.kind, i.chr, i.car,"
		     " i.holder_key_hash, i.tbs_hash, i.tbs, floor(extract(epoch FROM i.created_at))::bigint"
		     " FROM eac.open_issuances o JOIN eac.issuances i ON i.id = o.issuance_id ORDER BY i.id",
		     NULL, &res);
	if (r != EAC_OK)
		return r;
	rows = (size_t)PQntuples(res);
	if ((l = calloc(rows ? rows : 1, sizeof(*l))) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: list open intents: out of memory", db->name);
		goto out;
	}
	for (size_t i = 0; i < rows; i++) {
		int row = (int)i;
		char kind[8];
		l[i].id = dbi_int(res, row, 0);
		l[i].issuer = dbi_int(res, row, 1);
		l[i].signing_key = dbi_int(res, row, 2);
		l[i].request = dbi_int(res, row, 3);
		dbi_text(res, row, 4, kind, sizeof(kind));
		l[i].kind = kind_from(kind);
		dbi_latin1(res, row, 5, l[i].chr, sizeof(l[i].chr));
		dbi_latin1(res, row, 6, l[i].car, sizeof(l[i].car));
		l[i].created_at = dbi_int(res, row, 10);
		if ((r = dbi_hash(res, row, 7, l[i].holder_key_hash, DB_HASH_LEN, "holder key hash")) != EAC_OK ||
		    (r = dbi_hash(res, row, 8, l[i].tbs_hash, DB_HASH_LEN, "body hash")) != EAC_OK ||
		    (r = dbi_bytes(res, row, 9, &l[i].tbs, &l[i].tbs_len, "body")) != EAC_OK)
			goto out;
	}
	*list = l;
	*n = rows;
	l = NULL;
	r = EAC_OK;
out:
	db_open_intents_free(l, rows);
	PQclear(res);
	return r;
}

/* ---------------------------------------------------------------------------
 * the whole protocol */

eac_err db_issue(db_conn *db, const db_intent *in, db_sign_fn sign, void *arg, int64_t *cert_id,
		 uint8_t **der, size_t *der_len)
{
	int64_t intent = 0, cid = 0;
	uint8_t *d = NULL;
	size_t dl = 0;
	char saved[1024];
	eac_err r;

	if (sign == NULL || cert_id == NULL || der == NULL || der_len == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: issue: signer and outputs are required", db->name);
	/* 1. the intent is committed before anything is signed */
	if ((r = db_intent_record(db, in, &intent)) != EAC_OK)
		return r;
	/* 2. sign */
	if ((r = sign(arg, in->tbs, in->tbs_len, &d, &dl)) != EAC_OK) {
		char reason[DB_TEXT_MAX + 1];
		snprintf(saved, sizeof(saved), "%s", eac_err_detail(r));
		snprintf(reason, sizeof(reason), "signing failed: %.900s", saved);
		/* best effort: if the database is gone too, recovery finds it */
		if (db_abandon(db, intent, reason) != EAC_OK)
			eac_err_clear();
		return eac_fail(r, "%s", saved);
	}
	eac_failpoint("after_sign");
	/* 3. the result is committed before the certificate is released */
	if ((r = db_result_record(db, intent, d, dl, &cid)) != EAC_OK) {
		if (db->conflict == DB_CONFLICT_BODY) {
			snprintf(saved, sizeof(saved), "%s", eac_err_detail(r));
			if (db_abandon(db, intent, "the signer returned a certificate for another body") != EAC_OK)
				eac_err_clear();
			r = eac_fail(r, "%s", saved);
			db->conflict = DB_CONFLICT_BODY;
		}
		free(d);
		return r;
	}
	/* 4. release */
	*cert_id = cid;
	*der = d;
	*der_len = dl;
	return EAC_OK;
}

/* ---------------------------------------------------------------------------
 * certificates */

#define CERT_COLUMNS                                                                                     \
	"SELECT c.id, c.source = 'imported', c.issuance_id, c.issuer_id, c.request_id, c.kind, c.chr, c.car," \
	" c.effective, c.expiry, c.holder_key_hash, c.der_hash, floor(extract(epoch FROM c.issued_at))::bigint," \
	" floor(extract(epoch FROM c.distribute_by))::bigint,"                                             \
	" (SELECT floor(extract(epoch FROM min(d.distributed_at)))::bigint FROM eac.distributions d"       \
	"  WHERE d.certificate_id = c.id), a.audit_seq, a.audit_hash, c.der FROM eac.certificates c" \
	" LEFT JOIN eac.certificate_anchors a ON a.certificate_id = c.id "

/* One row of CERT_COLUMNS into *out (der malloc'ed). */
static eac_err cert_row(const PGresult *res, int row, db_cert *out)
{
	db_cert c = { 0 };
	char kind[8];
	eac_err r;

	c.id = dbi_int(res, row, 0);
	c.imported = dbi_bool(res, row, 1);
	c.issuance = dbi_int(res, row, 2);
	c.issuer = dbi_int(res, row, 3);
	c.request = dbi_int(res, row, 4);
	dbi_text(res, row, 5, kind, sizeof(kind));
	c.kind = kind_from(kind);
	dbi_latin1(res, row, 6, c.chr, sizeof(c.chr));
	dbi_latin1(res, row, 7, c.car, sizeof(c.car));
	dbi_text(res, row, 8, c.effective, sizeof(c.effective));
	dbi_text(res, row, 9, c.expiry, sizeof(c.expiry));
	c.issued_at = dbi_int(res, row, 12);
	c.distribute_by = dbi_int(res, row, 13);
	c.distributed_at = dbi_int(res, row, 14);
	c.audit.seq = dbi_int(res, row, 15);
	if ((r = dbi_hash(res, row, 10, c.holder_key_hash, DB_HASH_LEN, "holder key hash")) != EAC_OK ||
	    (r = dbi_hash(res, row, 11, c.der_hash, DB_HASH_LEN, "certificate hash")) != EAC_OK ||
	    (r = dbi_hash(res, row, 16, c.audit.hash, DB_HASH_LEN, "audit hash")) != EAC_OK ||
	    (r = dbi_bytes(res, row, 17, &c.der, &c.der_len, "certificate")) != EAC_OK) {
		free(c.der);
		return r;
	}
	*out = c;
	return EAC_OK;
}

static eac_err cert_read(db_conn *db, const char *what, const char *noun, int64_t id, const char *sql,
			 db_cert *out)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	dbi_p_int(&p, id);
	if ((r = dbi_exec_row(db, what, noun, id, sql, &p, &res)) != EAC_OK)
		return r;
	r = cert_row(res, 0, out);
	PQclear(res);
	return r;
}

eac_err db_cert_chr_key(db_conn *db, int64_t issuer, db_kind kind, const char *chr,
			uint8_t key_hash[DB_HASH_LEN], int *found)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	dbi_p_int(&p, issuer);
	dbi_p_text(&p, dbi_kind_sql(kind));
	dbi_p_latin1(&p, chr);
	if ((r = dbi_exec(db, "look up a holder reference",
			  "SELECT holder_key_hash FROM eac.certificates"
			  " WHERE issuer_id = $1 AND kind = $2 AND chr = $3",
			  &p, &res)) != EAC_OK)
		return r;
	*found = PQntuples(res) > 0;
	if (*found)
		r = dbi_hash(res, 0, 0, key_hash, DB_HASH_LEN, "holder key hash");
	PQclear(res);
	return r;
}

eac_err db_certs_find(db_conn *db, const db_cert_filter *f, db_cert **list, size_t *n)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	db_cert *l = NULL;
	size_t rows = 0, done = 0;
	eac_err r;

	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	if (f->kind != 0)
		dbi_p_text(&p, dbi_kind_sql(f->kind));
	else
		dbi_p_null(&p);
	dbi_p_id(&p, f->issuer);
	dbi_p_latin1(&p, f->chr);
	dbi_p_latin1(&p, f->car);
	dbi_p_bytes(&p, f->holder_key_hash, f->holder_key_hash ? DB_HASH_LEN : 0);
	if (f->imported < 0)
		dbi_p_null(&p);
	else
		dbi_p_bool(&p, f->imported);
	dbi_p_int(&p, (int64_t)(f->limit == 0 || f->limit > 100000 ? 100000 : f->limit));
	if (f->ca_only)
		dbi_p_bool(&p, 1);
	else
		dbi_p_null(&p);
	/* one static statement; NULL parameters switch a condition off (the
	 * unnamed statement is planned with the actual values, so a CVCA or
	 * link condition reaches the partial index certificates_ca_ix) */
	if ((r = dbi_exec(db, "find certificates",
			  CERT_COLUMNS "WHERE ($1::text IS NULL OR c.kind = $1::text)"
				       " AND ($2::bigint IS NULL OR c.issuer_id = $2::bigint)"
				       " AND ($3::text IS NULL OR c.chr = $3::text)"
				       " AND ($4::text IS NULL OR c.car = $4::text)"
				       " AND ($5::bytea IS NULL OR c.holder_key_hash = $5::bytea)"
				       " AND ($6::boolean IS NULL OR (c.source = 'imported') = $6::boolean)"
				       " AND ($8::boolean IS NULL OR c.kind IN ('cvca', 'link'))"
				       " ORDER BY c.id DESC LIMIT $7",
			  &p, &res)) != EAC_OK)
		return r;
	rows = (size_t)PQntuples(res);
	if ((l = calloc(rows ? rows : 1, sizeof(*l))) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "%s: find certificates: out of memory", db->name);
		goto out;
	}
	for (; done < rows; done++)
		if ((r = cert_row(res, (int)done, &l[done])) != EAC_OK)
			goto out;
	*list = l;
	*n = rows;
	l = NULL;
	r = EAC_OK;
out:
	if (l != NULL)
		db_certs_free(l, done);
	PQclear(res);
	return r;
}

void db_certs_free(db_cert *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(list[i].der);
	free(list);
}

eac_err db_cert_get(db_conn *db, int64_t id, db_cert *out)
{
	return cert_read(db, "read certificate", "certificate", id, CERT_COLUMNS "WHERE c.id = $1", out);
}

eac_err db_cert_by_request(db_conn *db, int64_t request, db_cert *out)
{
	return cert_read(db, "read the certificate of a request", "certificate for request", request,
			 CERT_COLUMNS "WHERE c.request_id = $1", out);
}

void db_cert_free(db_cert *c)
{
	if (c == NULL)
		return;
	free(c->der);
	c->der = NULL;
	c->der_len = 0;
}

typedef struct import_ctx {
	const db_import *in;
	int64_t id;
} import_ctx;

static eac_err import_fn(db_conn *db, void *arg)
{
	import_ctx *c = arg;
	const db_import *in = c->in;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	dbi_p_id(&p, in->issuer);
	dbi_p_text(&p, db_kind_name(in->kind));
	dbi_p_latin1(&p, in->chr);
	dbi_p_latin1(&p, in->car);
	dbi_p_bytes(&p, in->chat, in->chat_len);
	dbi_p_text(&p, in->effective);
	dbi_p_text(&p, in->expiry);
	dbi_p_bytes(&p, in->holder_key_hash, DB_HASH_LEN);
	dbi_p_bytes(&p, in->der, in->der_len);
	dbi_p_int(&p, eac_now());
	r = dbi_exec(db, "import certificate",
		     "INSERT INTO eac.certificates (issuer_id, kind, chr, car, chat, effective, expiry,"
		     " holder_key_hash, der, issued_at)"
		     " VALUES ($1, $2, $3, $4, $5, $6::date, $7::date, $8, $9, to_timestamp($10)) RETURNING id",
		     &p, &res);
	if (r != EAC_OK)
		return r;
	c->id = dbi_int(res, 0, 0);
	PQclear(res);
	return EAC_OK;
}

eac_err db_cert_import(db_conn *db, const db_import *in, int64_t *cert_id)
{
	import_ctx c = { .in = in };
	const uint8_t *body;
	size_t blen;
	eac_err r;

	if (in == NULL || cert_id == NULL || db_kind_name(in->kind) == NULL || !ref_ok(in->chr) ||
	    !ref_ok(in->car) || in->holder_key_hash == NULL || in->chat == NULL || in->effective == NULL ||
	    in->expiry == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: import certificate: incomplete description", db->name);
	if (in->der_len > DB_CERT_MAX)
		return eac_fail(EAC_ERR_MALFORMED, "%s: import certificate %s: over %d octets", db->name,
				in->chr, DB_CERT_MAX);
	if ((r = dbi_cv_cert_body(in->der, in->der_len, &body, &blen)) != EAC_OK)
		return eac_fail_prefix(r, "%s: import certificate %s: ", db->name, in->chr);
	if ((r = dbi_tx(db, "import certificate", 0, import_fn, &c)) != EAC_OK)
		return r;
	*cert_id = c.id;
	return EAC_OK;
}

/* ---------------------------------------------------------------------------
 * distribution */

typedef struct dist_ctx {
	int64_t cert;
	const char *channel, *recipient;
} dist_ctx;

static eac_err dist_fn(db_conn *db, void *arg)
{
	dist_ctx *c = arg;
	dbi_params p = { 0 };
	dbi_p_int(&p, c->cert);
	dbi_p_int(&p, eac_now());
	dbi_p_text(&p, c->channel);
	dbi_p_text(&p, c->recipient);
	return dbi_exec(db, "record distribution",
			"INSERT INTO eac.distributions (certificate_id, distributed_at, channel, recipient)"
			" VALUES ($1, to_timestamp($2), $3, $4)",
			&p, NULL);
}

eac_err db_distribution_record(db_conn *db, int64_t cert_id, const char *channel, const char *recipient)
{
	dist_ctx c = { cert_id, channel, recipient };
	if (channel == NULL || recipient == NULL)
		return eac_fail(EAC_ERR_USAGE, "%s: record distribution: channel and recipient are required",
				db->name);
	return dbi_tx(db, "record distribution", 0, dist_fn, &c);
}

/* ---------------------------------------------------------------------------
 * DV: requests sent to CVCAs */

typedef struct dvreq_ctx {
	const db_dv_request_in *in;
	int64_t id, cert;
} dvreq_ctx;

static eac_err dvreq_fn(db_conn *db, void *arg)
{
	dvreq_ctx *c = arg;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	uint8_t h[DB_HASH_LEN];
	eac_err r;

	if ((r = eac_sha256(c->in->raw, c->in->raw_len, h)) != EAC_OK)
		return r;
	dbi_p_id(&p, c->in->cvca);
	dbi_p_latin1(&p, c->in->car);
	dbi_p_latin1(&p, c->in->chr);
	dbi_p_id(&p, c->in->key);
	dbi_p_bytes(&p, c->in->raw, c->in->raw_len);
	dbi_p_bytes(&p, h, sizeof(h));
	dbi_p_int(&p, eac_now());
	r = dbi_exec(db, "record DV request",
		     "INSERT INTO eac.dv_requests (cvca_id, car, chr, key_id, raw, raw_hash, created_at)"
		     " VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7)) RETURNING id",
		     &p, &res);
	if (r != EAC_OK)
		return r;
	c->id = dbi_int(res, 0, 0);
	PQclear(res);
	return EAC_OK;
}

static eac_err dv_only(db_conn *db, const char *what)
{
	if (strcmp(db->flavour, "dv") != 0)
		return eac_fail(EAC_ERR_USAGE, "%s: %s: only a DV database has this", db->name, what);
	return EAC_OK;
}

eac_err db_dv_request_record(db_conn *db, const db_dv_request_in *in, int64_t *id)
{
	dvreq_ctx c = { .in = in };
	eac_err r;

	if ((r = dv_only(db, "record DV request")) != EAC_OK)
		return r;
	if (in == NULL || id == NULL || in->raw == NULL || in->raw_len == 0 || in->raw_len > DB_REQUEST_MAX ||
	    !ref_ok(in->chr))
		return eac_fail(EAC_ERR_USAGE, "%s: record DV request: CHR and 1..%d octets are required",
				db->name, DB_REQUEST_MAX);
	if ((r = dbi_tx(db, "record DV request", 0, dvreq_fn, &c)) != EAC_OK)
		return r;
	*id = c.id;
	return EAC_OK;
}

static eac_err dvans_fn(db_conn *db, void *arg)
{
	dvreq_ctx *c = arg;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	dbi_p_int(&p, c->id);
	dbi_p_int(&p, c->cert);
	dbi_p_int(&p, eac_now());
	r = dbi_exec(db, "record the answer to a DV request",
		     "UPDATE eac.dv_requests SET answered_by = $2, answered_at = to_timestamp($3) WHERE id = $1",
		     &p, &res);
	if (r != EAC_OK)
		return r;
	int n = atoi(PQcmdTuples(res));
	PQclear(res);
	if (n != 1)
		return eac_fail(EAC_ERR_NOT_FOUND, "%s: record the answer: DV request %" PRId64 " not found",
				db->name, c->id);
	return EAC_OK;
}

eac_err db_dv_requests_list(db_conn *db, int open_only, db_dv_request **list, size_t *n)
{
	PGresult *res = NULL;
	dbi_params p = { 0 };
	db_dv_request *l = NULL;
	size_t rows;
	eac_err r;

	if ((r = dv_only(db, "list DV requests")) != EAC_OK)
		return r;
	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	dbi_p_bool(&p, open_only);
	if ((r = dbi_exec(db, "list DV requests",
			  "SELECT id, cvca_id, car, chr, key_id, floor(extract(epoch FROM created_at))::bigint,"
			  " answered_by, floor(extract(epoch FROM answered_at))::bigint, raw_hash"
			  " FROM eac.dv_requests WHERE NOT $1::boolean OR answered_by IS NULL ORDER BY id",
			  &p, &res)) != EAC_OK)
		return r;
	rows = (size_t)PQntuples(res);
	if ((l = calloc(rows ? rows : 1, sizeof(*l))) == NULL) {
		PQclear(res);
		return eac_fail(EAC_ERR_NOMEM, "%s: list DV requests: out of memory", db->name);
	}
	for (size_t i = 0; i < rows; i++) {
		l[i].id = dbi_int(res, (int)i, 0);
		l[i].cvca = dbi_int(res, (int)i, 1);
		dbi_latin1(res, (int)i, 2, l[i].car, sizeof(l[i].car));
		dbi_latin1(res, (int)i, 3, l[i].chr, sizeof(l[i].chr));
		l[i].key = dbi_int(res, (int)i, 4);
		l[i].created_at = dbi_int(res, (int)i, 5);
		l[i].answered_by = dbi_int(res, (int)i, 6);
		l[i].answered_at = dbi_int(res, (int)i, 7);
		if ((r = dbi_hash(res, (int)i, 8, l[i].raw_hash, DB_HASH_LEN, "request hash")) != EAC_OK) {
			free(l);
			PQclear(res);
			return r;
		}
	}
	PQclear(res);
	*list = l;
	*n = rows;
	return EAC_OK;
}

eac_err db_dv_request_answer(db_conn *db, int64_t id, int64_t cert_id)
{
	dvreq_ctx c = { .id = id, .cert = cert_id };
	eac_err r;
	if ((r = dv_only(db, "record the answer to a DV request")) != EAC_OK)
		return r;
	return dbi_tx(db, "record the answer to a DV request", 0, dvans_fn, &c);
}
