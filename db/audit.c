/* SPDX-License-Identifier: Apache-2.0 */
/* The hash-chained audit log: appending, the head, and the independent
 * verifier (canonical form version 1, docs/DATABASE.md). */

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "db/db_internal.h"

#define FETCH_ROWS "2000"

static int action_ok(const char *a)
{
	size_t n = a ? strlen(a) : 0;
	if (n == 0 || n > 64 || a[0] < 'a' || a[0] > 'z')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = a[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

typedef struct audit_ctx {
	const char *actor, *action, *object, *details;
	db_anchor anchor;
} audit_ctx;

static eac_err audit_fn(db_conn *db, void *arg)
{
	audit_ctx *c = arg;
	PGresult *res = NULL;
	dbi_params p = { 0 };
	eac_err r;

	dbi_p_text(&p, c->actor);
	dbi_p_text(&p, c->action);
	dbi_p_text(&p, c->object);
	dbi_p_text(&p, c->details);
	r = dbi_exec(db, "append an audit event",
		     "INSERT INTO eac.audit_events (actor, action, object, details) VALUES ($1, $2, $3, $4)"
		     " RETURNING seq, hash",
		     &p, &res);
	if (r != EAC_OK)
		return r == EAC_ERR_DB_UNAVAILABLE ? r : dbi_recode(r, EAC_ERR_AUDIT);
	c->anchor.seq = dbi_int(res, 0, 0);
	r = dbi_hash(res, 0, 1, c->anchor.hash, DB_HASH_LEN, "audit hash");
	PQclear(res);
	return r;
}

eac_err db_audit(db_conn *db, const char *actor, const char *action, const char *object,
		 const char *details_json, db_anchor *out)
{
	audit_ctx c = { .actor = actor ? actor : db->actor, .action = action,
			.object = object ? object : "", .details = details_json ? details_json : "{}" };
	json_t *j = NULL;
	eac_err r;

	if (!action_ok(action))
		return eac_fail(EAC_ERR_USAGE, "%s: audit: action '%s' is not [a-z][a-z0-9_.-]{0,63}",
				db->name, action ? action : "");
	if (strlen(c.actor) == 0 || strlen(c.actor) > 200 || strlen(c.object) > 200)
		return eac_fail(EAC_ERR_USAGE, "%s: audit %s: actor 1..200 and object 0..200 octets",
				db->name, action);
	if (strlen(c.details) > DB_DETAILS_MAX)
		return eac_fail(EAC_ERR_MALFORMED, "%s: audit %s: details exceed %d octets", db->name, action,
				DB_DETAILS_MAX);
	/* strict: an object, no duplicate keys (what an auditor reads must
	 * mean one thing) */
	if ((r = eac_json_load_string(c.details, "audit details", &j)) != EAC_OK) {
		r = dbi_recode(r, EAC_ERR_MALFORMED);
		return eac_fail_prefix(r, "%s: audit %s: ", db->name, action);
	}
	json_decref(j);
	if ((r = dbi_tx(db, "append an audit event", 0, audit_fn, &c)) != EAC_OK)
		return r;
	if (out)
		*out = c.anchor;
	return EAC_OK;
}

eac_err db_audit_head(db_conn *db, db_anchor *out)
{
	PGresult *res = NULL;
	db_anchor a;
	eac_err r;

	if (!db->in_tx && (r = dbi_ready(db)) != EAC_OK)
		return r;
	if ((r = dbi_exec_row(db, "read the audit chain head", "head", 1,
			      "SELECT seq, hash FROM eac.audit_head WHERE id = 1", NULL, &res)) != EAC_OK)
		return r;
	a.seq = dbi_int(res, 0, 0);
	r = dbi_hash(res, 0, 1, a.hash, DB_HASH_LEN, "audit head hash");
	PQclear(res);
	if (r == EAC_OK)
		*out = a;
	return r;
}

/* ---------------------------------------------------------------------------
 * canonical form (version 1) */

eac_err dbi_iso_time(const char *pg, char out[28])
{
	int y, mo, d, h, mi, s, n = 0;
	char frac[7] = "000000";
	const char *p;

	if (sscanf(pg, "%4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &n) != 6 || n != 19)
		return eac_fail(EAC_ERR_MALFORMED, "unreadable time '%.40s'", pg);
	p = pg + n;
	if (*p == '.') {
		size_t k = 0;
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (k >= 6)
				return eac_fail(EAC_ERR_MALFORMED, "unreadable time '%.40s'", pg);
			frac[k++] = *p;
		}
		if (k == 0)
			return eac_fail(EAC_ERR_MALFORMED, "unreadable time '%.40s'", pg);
	}
	if (strcmp(p, "+00") != 0 && strcmp(p, "+00:00") != 0)
		return eac_fail(EAC_ERR_MALFORMED, "time '%.40s' is not in UTC", pg);
	snprintf(out, 28, "%04d-%02d-%02dT%02d:%02d:%02d.%sZ", y, mo, d, h, mi, s, frac);
	return EAC_OK;
}

static int put(EVP_MD_CTX *md, const char *s, size_t n)
{
	return EVP_DigestUpdate(md, s, n) == 1;
}

static int put_field(EVP_MD_CTX *md, const char *name, const char *v)
{
	char head[64];
	size_t n = strlen(v);
	int k = snprintf(head, sizeof(head), "%s:%zu:", name, n);
	return put(md, head, (size_t)k) && put(md, v, n) && put(md, "\n", 1);
}

eac_err dbi_audit_hash(const dbi_audit_row *row, const uint8_t prev[DB_HASH_LEN], uint8_t out[DB_HASH_LEN])
{
	eac_err r;
	char at[28], head[96];
	unsigned int n = 0;
	EVP_MD_CTX *md;

	if ((r = dbi_iso_time(row->at, at)) != EAC_OK)
		return r;
	int k = snprintf(head, sizeof(head), "EAC-AUDIT-1\nseq:%" PRId64 "\nat:%s\n", row->seq, at);
	if ((md = EVP_MD_CTX_new()) == NULL)
		return eac_fail(EAC_ERR_NOMEM, "audit: out of memory");
	if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 || !put(md, (const char *)prev, DB_HASH_LEN) ||
	    !put(md, head, (size_t)k) || !put_field(md, "db_user", row->db_user) ||
	    !put_field(md, "actor", row->actor) || !put_field(md, "action", row->action) ||
	    !put_field(md, "object", row->object) || !put_field(md, "details", row->details) ||
	    EVP_DigestFinal_ex(md, out, &n) != 1 || n != DB_HASH_LEN)
		r = eac_fail(EAC_ERR_INTERNAL, "audit: SHA-256 failed");
	EVP_MD_CTX_free(md);
	return r;
}

/* ---------------------------------------------------------------------------
 * verification */

enum { A_HEAD, A_CERT, A_CEREMONY, A_EXPECTED, A_COUNT };

typedef struct verify_ctx {
	const db_anchor *expected;
	db_audit_report rep;
	int have[A_COUNT];
	db_anchor anchor[A_COUNT];
	char anchor_name[A_COUNT][64];
} verify_ctx;

static void bad(verify_ctx *c, int64_t seq, const char *fmt, ...) EAC_PRINTF(3, 4);
static void bad(verify_ctx *c, int64_t seq, const char *fmt, ...)
{
	va_list ap;
	if (c->rep.first_bad != 0 && c->rep.first_bad <= seq)
		return;
	c->rep.first_bad = seq;
	va_start(ap, fmt);
	vsnprintf(c->rep.why, sizeof(c->rep.why), fmt, ap);
	va_end(ap);
}

static eac_err load_anchor(db_conn *db, verify_ctx *c, int which, const char *sql, const char *noun)
{
	PGresult *res = NULL;
	eac_err r;

	if ((r = dbi_exec(db, "read the audit anchors", sql, NULL, &res)) != EAC_OK)
		return r;
	if (PQntuples(res) == 1) {
		c->anchor[which].seq = dbi_int(res, 0, 0);
		if ((r = dbi_hash(res, 0, 1, c->anchor[which].hash, DB_HASH_LEN, "audit anchor")) != EAC_OK)
			goto out;
		c->have[which] = 1;
		if (PQnfields(res) > 2)
			snprintf(c->anchor_name[which], sizeof(c->anchor_name[which]), "%s %s", noun,
				 PQgetvalue(res, 0, 2));
		else
			snprintf(c->anchor_name[which], sizeof(c->anchor_name[which]), "%s", noun);
	}
	r = EAC_OK;
out:
	PQclear(res);
	return r;
}

static void check_anchors_at(verify_ctx *c, int64_t seq, const uint8_t hash[DB_HASH_LEN])
{
	for (int i = 0; i < A_COUNT; i++)
		if (c->have[i] && c->anchor[i].seq == seq) {
			c->rep.anchors++;
			if (memcmp(c->anchor[i].hash, hash, DB_HASH_LEN) != 0)
				bad(c, seq, "the hash at seq %" PRId64 " differs from the one %s recorded", seq,
				    c->anchor_name[i]);
		}
}

static eac_err verify_fn(db_conn *db, void *arg)
{
	verify_ctx *c = arg;
	uint8_t prev[DB_HASH_LEN] = { 0 };
	int64_t expect = 1;
	int done = 0;
	eac_err r;

	memset(&c->rep, 0, sizeof(c->rep));
	memset(c->have, 0, sizeof(c->have));
	if ((r = dbi_exec(db, "verify the audit log",
			  "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", NULL, NULL)) != EAC_OK)
		return r;
	if ((r = load_anchor(db, c, A_HEAD, "SELECT seq, hash FROM eac.audit_head WHERE id = 1",
			     "the chain head row")) != EAC_OK ||
	    (r = load_anchor(db, c, A_CERT,
			     "SELECT audit_seq, audit_hash, certificate_id FROM eac.certificate_anchors"
			     " ORDER BY audit_seq DESC LIMIT 1",
			     "certificate")) != EAC_OK ||
	    (r = load_anchor(db, c, A_CEREMONY,
			     "SELECT audit_seq, audit_hash, id FROM eac.ceremonies ORDER BY audit_seq DESC LIMIT 1",
			     "ceremony")) != EAC_OK)
		return r;
	if (c->expected) {
		c->anchor[A_EXPECTED] = *c->expected;
		c->have[A_EXPECTED] = 1;
		snprintf(c->anchor_name[A_EXPECTED], sizeof(c->anchor_name[A_EXPECTED]), "the expected tail");
	}
	if ((r = dbi_exec(db, "verify the audit log",
			  "DECLARE eac_audit_verify NO SCROLL CURSOR FOR"
			  " SELECT seq, at, db_user, actor, action, object, details, prev_hash, hash"
			  " FROM eac.audit_events ORDER BY seq",
			  NULL, NULL)) != EAC_OK)
		return r;
	while (!done) {
		PGresult *res = NULL;
		if ((r = dbi_exec(db, "verify the audit log", "FETCH FORWARD " FETCH_ROWS " FROM eac_audit_verify",
				  NULL, &res)) != EAC_OK)
			return r;
		int rows = PQntuples(res);
		if (rows == 0)
			done = 1;
		for (int i = 0; i < rows && !done; i++) {
			dbi_audit_row row = { 0 };
			uint8_t h[DB_HASH_LEN];

			row.seq = dbi_int(res, i, 0);
			row.at = PQgetvalue(res, i, 1);
			row.db_user = PQgetvalue(res, i, 2);
			row.actor = PQgetvalue(res, i, 3);
			row.action = PQgetvalue(res, i, 4);
			row.object = PQgetvalue(res, i, 5);
			row.details = PQgetvalue(res, i, 6);
			if ((r = dbi_hash(res, i, 7, row.prev_hash, DB_HASH_LEN, "prev_hash")) != EAC_OK ||
			    (r = dbi_hash(res, i, 8, row.hash, DB_HASH_LEN, "hash")) != EAC_OK) {
				/* a hash of the wrong length is tampering, not a failure */
				bad(c, row.seq, "seq %" PRId64 ": a stored hash is not 32 octets", row.seq);
				done = 1;
				break;
			}
			c->rep.rows++;
			if (row.seq != expect) {
				if (row.seq > expect)
					bad(c, expect, "seq %" PRId64 " is missing: the next event is %" PRId64
						       " (deleted or renumbered)", expect, row.seq);
				else
					bad(c, row.seq, "seq %" PRId64 " out of order", row.seq);
				done = 1;
				break;
			}
			if (memcmp(row.prev_hash, prev, DB_HASH_LEN) != 0) {
				bad(c, row.seq, "seq %" PRId64 ": prev_hash is not the hash of seq %" PRId64
						" (rows deleted, inserted or swapped)", row.seq, row.seq - 1);
				done = 1;
				break;
			}
			if (dbi_audit_hash(&row, prev, h) != EAC_OK) {
				bad(c, row.seq, "seq %" PRId64 ": %s", row.seq, eac_err_detail(EAC_ERR_MALFORMED));
				done = 1;
				break;
			}
			if (memcmp(h, row.hash, DB_HASH_LEN) != 0) {
				bad(c, row.seq, "seq %" PRId64 ": its content does not match its hash (changed)",
				    row.seq);
				done = 1;
				break;
			}
			check_anchors_at(c, row.seq, h);
			memcpy(prev, h, DB_HASH_LEN);
			c->rep.last.seq = row.seq;
			memcpy(c->rep.last.hash, h, DB_HASH_LEN);
			expect++;
		}
		PQclear(res);
	}
	if ((r = dbi_exec(db, "verify the audit log", "CLOSE eac_audit_verify", NULL, NULL)) != EAC_OK)
		return r;
	if (c->rep.first_bad == 0) {
		/* anchors past the end: the tail was cut */
		for (int i = 0; i < A_COUNT; i++)
			if (c->have[i] && c->anchor[i].seq > c->rep.last.seq) {
				c->rep.anchors++;
				bad(c, c->rep.last.seq + 1,
				    "the log ends at seq %" PRId64 " but %s recorded seq %" PRId64
				    " (events cut from the tail)", c->rep.last.seq, c->anchor_name[i],
				    c->anchor[i].seq);
			}
		if (c->have[A_HEAD] && c->anchor[A_HEAD].seq < c->rep.last.seq)
			bad(c, c->anchor[A_HEAD].seq + 1,
			    "events after seq %" PRId64 ", the chain head, were not appended through the chain",
			    c->anchor[A_HEAD].seq);
	}
	return EAC_OK;
}

eac_err db_audit_verify(db_conn *db, const db_anchor *expected_tail, db_audit_report *report)
{
	verify_ctx *c;
	eac_err r;

	if (report == NULL)
		return eac_fail(EAC_ERR_USAGE, "db_audit_verify: no report");
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return eac_fail(EAC_ERR_NOMEM, "%s: verify the audit log: out of memory", db->name);
	c->expected = expected_tail;
	if ((r = dbi_tx(db, "verify the audit log", 1, verify_fn, c)) != EAC_OK)
		goto out;
	*report = c->rep;
	if (c->rep.first_bad != 0)
		r = eac_fail(EAC_ERR_AUDIT, "%s: audit log broken at seq %" PRId64 ": %s", db->name,
			     c->rep.first_bad, c->rep.why);
out:
	free(c);
	return r;
}
