/* SPDX-License-Identifier: Apache-2.0 */
/* Connections, statements, error mapping and transactions with bounded retry. */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "db/db_internal.h"

/* Session limits: a statement or a lock wait that runs this long is a
 * fault, not a workload (the largest batch takes well under a second). */
#define STATEMENT_TIMEOUT "30s"
#define LOCK_TIMEOUT "15s"
#define IDLE_TX_TIMEOUT "60s"
#define MIGRATION_TIMEOUT "300s"

/* ---------------------------------------------------------------------------
 * parameters */

static int p_slot(dbi_params *p)
{
	if (p->n >= DBI_MAXP) {
		p->bad = 1;
		return -1;
	}
	p->fmt[p->n] = 0;
	p->len[p->n] = 0;
	p->v[p->n] = NULL;
	return p->n++;
}

void dbi_p_null(dbi_params *p)
{
	(void)p_slot(p);
}

void dbi_p_text(dbi_params *p, const char *s)
{
	int i = p_slot(p);
	if (i >= 0)
		p->v[i] = s;
}

void dbi_p_latin1(dbi_params *p, const char *s)
{
	int i = p_slot(p);
	if (i < 0 || s == NULL)
		return;
	if (strlen(s) > 32 || dbi_latin1_to_utf8(s, p->buf[i], sizeof(p->buf[i])) != 0) {
		p->bad = 1;
		return;
	}
	p->v[i] = p->buf[i];
}

void dbi_p_int(dbi_params *p, int64_t v)
{
	int i = p_slot(p);
	if (i < 0)
		return;
	snprintf(p->buf[i], sizeof(p->buf[i]), "%" PRId64, v);
	p->v[i] = p->buf[i];
}

void dbi_p_id(dbi_params *p, int64_t v)
{
	if (v == 0)
		dbi_p_null(p);
	else
		dbi_p_int(p, v);
}

void dbi_p_bool(dbi_params *p, int v)
{
	dbi_p_text(p, v ? "true" : "false");
}

void dbi_p_bytes(dbi_params *p, const uint8_t *b, size_t len)
{
	int i = p_slot(p);
	if (i < 0 || b == NULL)
		return;
	if (len > INT32_MAX) {
		p->bad = 1;
		return;
	}
	p->v[i] = (const char *)b;
	p->len[i] = (int)len;
	p->fmt[i] = 1; /* binary: bytea goes as raw octets */
}

/* ---------------------------------------------------------------------------
 * ISO 8859-1 <-> UTF-8 (references in certificates are ISO 8859-1, the
 * database speaks UTF-8) */

int dbi_latin1_to_utf8(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	for (const unsigned char *s = (const unsigned char *)in; *s; s++) {
		if (*s < 0x80) {
			if (o + 1 >= outlen)
				return -1;
			out[o++] = (char)*s;
		} else {
			if (o + 2 >= outlen)
				return -1;
			out[o++] = (char)(0xc0 | (*s >> 6));
			out[o++] = (char)(0x80 | (*s & 0x3f));
		}
	}
	if (o >= outlen)
		return -1;
	out[o] = '\0';
	return 0;
}

int dbi_utf8_to_latin1(const char *in, char *out, size_t outlen)
{
	size_t o = 0;
	for (const unsigned char *s = (const unsigned char *)in; *s; s++) {
		unsigned c = *s;
		if (c >= 0x80) {
			if ((c != 0xc2 && c != 0xc3) || (s[1] & 0xc0) != 0x80)
				return -1;
			c = ((c & 0x1f) << 6) | (s[1] & 0x3f);
			s++;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

/* ---------------------------------------------------------------------------
 * result readers */

int dbi_isnull(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col);
}

int64_t dbi_int(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return 0;
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int dbi_bool(const PGresult *res, int row, int col)
{
	return !PQgetisnull(res, row, col) && PQgetvalue(res, row, col)[0] == 't';
}

void dbi_text(const PGresult *res, int row, int col, char *out, size_t outlen)
{
	if (PQgetisnull(res, row, col)) {
		out[0] = '\0';
		return;
	}
	snprintf(out, outlen, "%s", PQgetvalue(res, row, col));
}

void dbi_latin1(const PGresult *res, int row, int col, char *out, size_t outlen)
{
	if (PQgetisnull(res, row, col) ||
	    dbi_utf8_to_latin1(PQgetvalue(res, row, col), out, outlen) != 0)
		out[0] = '\0';
}

eac_err dbi_bytes(const PGresult *res, int row, int col, uint8_t **out, size_t *len,
		  const char *what)
{
	size_t n = 0;
	unsigned char *u;
	uint8_t *copy;

	if (PQgetisnull(res, row, col))
		return eac_fail(EAC_ERR_DB, "%s: unexpected NULL", what);
	if ((u = PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), &n)) == NULL)
		return eac_fail(EAC_ERR_NOMEM, "%s: out of memory", what);
	if ((copy = malloc(n ? n : 1)) == NULL) {
		PQfreemem(u);
		return eac_fail(EAC_ERR_NOMEM, "%s: out of memory", what);
	}
	memcpy(copy, u, n);
	PQfreemem(u);
	*out = copy;
	*len = n;
	return EAC_OK;
}

eac_err dbi_hash(const PGresult *res, int row, int col, uint8_t *out, size_t len, const char *what)
{
	uint8_t *b = NULL;
	size_t n = 0;
	eac_err r;

	if (PQgetisnull(res, row, col)) {
		memset(out, 0, len);
		return EAC_OK;
	}
	if ((r = dbi_bytes(res, row, col, &b, &n, what)) != EAC_OK)
		return r;
	if (n != len) {
		free(b);
		return eac_fail(EAC_ERR_DB, "%s: %zu octets where %zu were expected", what, n, len);
	}
	memcpy(out, b, len);
	free(b);
	return EAC_OK;
}

/* ---------------------------------------------------------------------------
 * errors */

static const struct {
	const char *constraint;
	db_conflict conflict;
	const char *meaning;
} constraints[] = {
	{ "issuances_chr_uq", DB_CONFLICT_CHR, "the CHR is already used by this issuer (CP-3.1b)" },
	{ "certificates_chr_uq", DB_CONFLICT_CHR, "the CHR is already used by this issuer (CP-3.1b)" },
	{ "issuances_holder_key_uq", DB_CONFLICT_HOLDER_KEY,
	  "this issuer already certified this public key; no renewal (CP-4.6)" },
	{ "certificates_holder_key_uq", DB_CONFLICT_HOLDER_KEY,
	  "this issuer already certified this public key; no renewal (CP-4.6)" },
	{ "issuances_request_uq", DB_CONFLICT_REQUEST, "the request already has an issuance under way" },
	{ "certificates_request_uq", DB_CONFLICT_REQUEST, "the request already has its certificate" },
	{ "certificates_issuance_uq", DB_CONFLICT_INTENT, "the intent already has its certificate" },
	{ "certificates_der_uq", DB_CONFLICT_DUPLICATE, "the same certificate is recorded already" },
	{ "requests_raw_hash_uq", DB_CONFLICT_DUPLICATE, "the same request is recorded already" },
	{ "dv_requests_raw_hash_uq", DB_CONFLICT_DUPLICATE, "the same request is recorded already" },
	{ "dv_requests_answered_by_uq", DB_CONFLICT_DUPLICATE, "the certificate answers another request" },
	{ "keys_pubkey_hash_uq", DB_CONFLICT_KEY, "the public key is registered already" },
	{ "keys_one_active_uq", DB_CONFLICT_KEY, "the authority has an active signing key already" },
	{ "authorities_name_uq", DB_CONFLICT_NAME, "an authority of that country and mnemonic exists" },
	{ "authorities_one_own_uq", DB_CONFLICT_NAME, "this database has its own authority already" },
	{ "inspection_systems_name_uq", DB_CONFLICT_NAME, "an inspection system of that name exists" },
	{ "inspection_systems_mnemonic_uq", DB_CONFLICT_NAME, "an inspection system of that mnemonic exists" },
};

static eac_err map_error(db_conn *db, const char *what, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	const char *cons = res ? PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;

	if (msg == NULL)
		msg = PQerrorMessage(db->pg);
	if (state == NULL)
		state = "";
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state);
	db->conflict = DB_CONFLICT_NONE;

	if (PQstatus(db->pg) == CONNECTION_BAD || strncmp(state, "08", 2) == 0 ||
	    strcmp(state, "57P01") == 0 || strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
		return eac_fail(EAC_ERR_DB_UNAVAILABLE, "%s: %s: connection lost: %s", db->name, what, msg);
	if (strcmp(state, "23505") == 0) {
		const char *meaning = "a unique constraint";
		db->conflict = DB_CONFLICT_OTHER;
		for (size_t i = 0; cons && i < sizeof(constraints) / sizeof(constraints[0]); i++)
			if (strcmp(cons, constraints[i].constraint) == 0) {
				db->conflict = constraints[i].conflict;
				meaning = constraints[i].meaning;
			}
		return eac_fail(EAC_ERR_DB_CONFLICT, "%s: %s: refused by %s: %s%s%s", db->name, what,
				cons ? cons : "a unique index", meaning, detail ? "; " : "",
				detail ? detail : "");
	}
	if (strcmp(state, "23503") == 0) {
		db->conflict = DB_CONFLICT_REFERENCE;
		return eac_fail(EAC_ERR_DB_CONFLICT, "%s: %s: refused by %s: %s%s%s", db->name, what,
				cons ? cons : "a foreign key", msg, detail ? "; " : "", detail ? detail : "");
	}
	if (strcmp(state, "23514") == 0 && cons && strcmp(cons, "seq_counters_range_ck") == 0)
		return eac_fail(EAC_ERR_STATE, "%s: %s: the sequence numbers of this scope are spent (99999)",
				db->name, what);
	if (strncmp(state, "23", 2) == 0) {
		db->conflict = DB_CONFLICT_CHECK;
		return eac_fail(EAC_ERR_DB_CONFLICT, "%s: %s: refused by %s: %s", db->name, what,
				cons ? cons : "a constraint", msg);
	}
	if (strcmp(state, "EA001") == 0)
		return eac_fail(EAC_ERR_DB, "%s: %s: %s", db->name, what, msg);
	if (strcmp(state, "EA002") == 0)
		return eac_fail(EAC_ERR_STATE, "%s: %s: %s", db->name, what, msg);
	if (strcmp(state, "EA003") == 0) {
		db->conflict = DB_CONFLICT_REFERENCE;
		return eac_fail(EAC_ERR_DB_CONFLICT, "%s: %s: %s", db->name, what, msg);
	}
	if (strcmp(state, "EA004") == 0)
		return eac_fail(EAC_ERR_MALFORMED, "%s: %s: %s", db->name, what, msg);
	if (strcmp(state, "EA005") == 0)
		return eac_fail(EAC_ERR_POLICY, "%s: %s: refused: %s", db->name, what, msg);
	if (strcmp(state, "EA006") == 0) {
		db->conflict = DB_CONFLICT_BODY;
		return eac_fail(EAC_ERR_DB_CONFLICT, "%s: %s: %s", db->name, what, msg);
	}
	if (strcmp(state, "42501") == 0)
		return eac_fail(EAC_ERR_DB, "%s: %s: %s (the role lacks the privilege)", db->name, what, msg);
	if (strcmp(state, "57014") == 0)
		return eac_fail(EAC_ERR_DB, "%s: %s: %s (statement timeout %s)", db->name, what, msg,
				STATEMENT_TIMEOUT);
	if (strncmp(state, "22", 2) == 0)
		return eac_fail(EAC_ERR_MALFORMED, "%s: %s: %s", db->name, what, msg);
	return eac_fail(EAC_ERR_DB, "%s: %s: %s%s%s", db->name, what, msg, state[0] ? " SQLSTATE " : "",
			state);
}

eac_err dbi_recode(eac_err from, eac_err to)
{
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", eac_err_detail(from));
	return eac_fail(to, "%s", copy);
}

db_conflict db_last_conflict(const db_conn *db)
{
	return db ? db->conflict : DB_CONFLICT_NONE;
}

static int retryable(const db_conn *db)
{
	return strcmp(db->sqlstate, "40001") == 0 || strcmp(db->sqlstate, "40P01") == 0;
}

/* ---------------------------------------------------------------------------
 * statements */

/* Forget the statements prepared on a connection (it was reset or is
 * closing: the server's side of them is gone with the session). */
static void stmts_forget(db_conn *db)
{
	for (size_t i = 0; i < db->nstmts; i++)
		free(db->stmts[i]);
	db->nstmts = 0;
}

/* The prepared statement for sql on this connection, prepared now if it is
 * new: its name in name, or "" when the cache is full (run unprepared).
 * A text is matched by content, not by address. */
static eac_err stmt_prepared(db_conn *db, const char *what, const char *sql, const dbi_params *p, char name[24])
{
	size_t i;
	PGresult *res;

	name[0] = '\0';
	for (i = 0; i < db->nstmts; i++)
		if (strcmp(db->stmts[i], sql) == 0) {
			snprintf(name, 24, "eac%zu", i);
			return EAC_OK;
		}
	if (db->nstmts == DBI_MAXSTMT)
		return EAC_OK;
	char *copy = strdup(sql);
	if (copy == NULL)
		return eac_fail(EAC_ERR_NOMEM, "%s: %s: out of memory", db->name, what);
	snprintf(name, 24, "eac%zu", db->nstmts);
	res = PQprepare(db->pg, name, sql, p->n, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		eac_err r = map_error(db, what, res);
		PQclear(res);
		free(copy);
		return r;
	}
	PQclear(res);
	db->stmts[db->nstmts++] = copy;
	return EAC_OK;
}

eac_err dbi_exec(db_conn *db, const char *what, const char *sql, const dbi_params *p, PGresult **out)
{
	static const dbi_params none;
	PGresult *res;
	ExecStatusType st;
	char name[24] = "";

	if (p == NULL)
		p = &none;
	if (p->bad)
		return eac_fail(EAC_ERR_USAGE, "%s: %s: a parameter is too long or cannot be sent",
				db->name, what);
	if (p->n > 0) {
		eac_err r = stmt_prepared(db, what, sql, p, name);
		if (r != EAC_OK)
			return r;
	}
	if (name[0])
		res = PQexecPrepared(db->pg, name, p->n, p->v, p->len, p->fmt, 0);
	else
		res = PQexecParams(db->pg, sql, p->n, NULL, p->v, p->len, p->fmt, 0);
	st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		eac_err r = map_error(db, what, res);
		PQclear(res);
		return r;
	}
	db->sqlstate[0] = '\0';
	db->conflict = DB_CONFLICT_NONE;
	if (out)
		*out = res;
	else
		PQclear(res);
	return EAC_OK;
}

eac_err dbi_exec_row(db_conn *db, const char *what, const char *noun, int64_t id, const char *sql,
		     const dbi_params *p, PGresult **out)
{
	PGresult *res = NULL;
	eac_err r = dbi_exec(db, what, sql, p, &res);
	if (r != EAC_OK)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return eac_fail(EAC_ERR_NOT_FOUND, "%s: %s: %s %" PRId64 " not found", db->name, what, noun, id);
	}
	*out = res;
	return EAC_OK;
}

static eac_err session_setup(db_conn *db, const char *timeout)
{
	dbi_params p = { 0 };
	dbi_p_text(&p, timeout);
	dbi_p_text(&p, LOCK_TIMEOUT);
	dbi_p_text(&p, IDLE_TX_TIMEOUT);
	dbi_p_text(&p, db->actor);
	dbi_p_text(&p, db->auditor ? "on" : "off");
	return dbi_exec(db, "session set-up",
			"SELECT set_config('statement_timeout', $1, false),"
			" set_config('lock_timeout', $2, false),"
			" set_config('idle_in_transaction_session_timeout', $3, false),"
			" set_config('TimeZone', 'UTC', false),"
			" set_config('DateStyle', 'ISO, YMD', false),"
			" set_config('IntervalStyle', 'postgres', false),"
			" set_config('default_transaction_isolation', 'read committed', false),"
			" set_config('default_transaction_read_only', $5, false),"
			" set_config('eac.actor', $4, false)",
			&p, NULL);
}

eac_err dbi_ready(db_conn *db)
{
	if (PQstatus(db->pg) == CONNECTION_OK)
		return EAC_OK;
	if (db->in_tx)
		return eac_fail(EAC_ERR_DB_UNAVAILABLE, "%s: connection lost inside a transaction", db->name);
	PQreset(db->pg);
	stmts_forget(db);
	if (PQstatus(db->pg) != CONNECTION_OK)
		return eac_fail(EAC_ERR_DB_UNAVAILABLE, "%s: cannot reconnect: %s", db->name,
				PQerrorMessage(db->pg));
	return session_setup(db, STATEMENT_TIMEOUT);
}

eac_err dbi_set_reason(db_conn *db, const char *what, const char *reason)
{
	dbi_params p = { 0 };
	dbi_p_text(&p, reason ? reason : "");
	return dbi_exec(db, what, "SELECT set_config('eac.reason', $1, true)", &p, NULL);
}

/* ---------------------------------------------------------------------------
 * transactions */

static void backoff(int attempt)
{
	struct timespec now, ts;
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* 5 ms per attempt plus up to 10 ms of jitter, so that retrying
	 * transactions do not collide again in step */
	long ns = (long)attempt * 5000000L + (long)(now.tv_nsec % 10000000L);
	ts.tv_sec = 0;
	ts.tv_nsec = ns;
	nanosleep(&ts, NULL);
}

static void rollback(db_conn *db)
{
	if (PQstatus(db->pg) != CONNECTION_OK)
		return;
	PGresult *res = PQexecParams(db->pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL, 0);
	PQclear(res);
}

eac_err dbi_tx(db_conn *db, const char *what, int own, db_tx_fn fn, void *arg)
{
	eac_err r = EAC_ERR_INTERNAL;
	int reconnected = 0;

	if (db->in_tx) {
		if (own)
			return eac_fail(EAC_ERR_USAGE,
					"%s: %s commits on its own and must not run inside db_tx",
					db->name, what);
		return fn(db, arg);
	}
	for (int attempt = 1;; attempt++) {
		PGresult *res = NULL;
		int began = 0;

		if ((r = dbi_ready(db)) != EAC_OK)
			return r;
		if ((r = dbi_exec(db, what, "BEGIN", NULL, NULL)) != EAC_OK) {
			/* a server restarted since our last statement: nothing
			 * was sent yet, so reconnecting once is safe */
			if (r == EAC_ERR_DB_UNAVAILABLE && !reconnected) {
				reconnected = 1;
				attempt--;
				continue;
			}
			return r;
		}
		began = 1;
		db->in_tx = 1;
		r = fn(db, arg);
		if (r == EAC_OK) {
			r = dbi_exec(db, what, "COMMIT", NULL, &res);
			/* COMMIT of a transaction that failed inside answers
			 * ROLLBACK without an error: that is no commit */
			if (r == EAC_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0)
				r = eac_fail(EAC_ERR_DB, "%s: %s: the transaction was rolled back",
					     db->name, what);
			else if (r == EAC_ERR_DB_UNAVAILABLE)
				eac_fail_prefix(r, "commit outcome unknown: ");
			PQclear(res);
		}
		db->in_tx = 0;
		if (r == EAC_OK)
			return EAC_OK;
		if (began)
			rollback(db);
		if (!retryable(db) || attempt >= DB_TX_RETRIES) {
			if (retryable(db))
				eac_fail_prefix(r, "after %d attempts: ", attempt);
			return r;
		}
		backoff(attempt);
	}
}

eac_err db_tx(db_conn *db, db_tx_fn fn, void *arg)
{
	if (db == NULL || fn == NULL)
		return eac_fail(EAC_ERR_USAGE, "db_tx: no connection or function");
	if (db->in_tx)
		return eac_fail(EAC_ERR_USAGE, "%s: db_tx does not nest", db->name);
	return dbi_tx(db, "transaction", 0, fn, arg);
}

/* ---------------------------------------------------------------------------
 * opening */

static void describe(PGconn *pg, char *out, size_t outlen)
{
	const char *dbn = PQdb(pg), *user = PQuser(pg), *host = PQhost(pg), *port = PQport(pg);
	snprintf(out, outlen, "database %s (%s@%s:%s)", dbn && *dbn ? dbn : "?",
		 user && *user ? user : "?", host && *host ? host : "localhost",
		 port && *port ? port : "5432");
}

/* libpq's multi-line message as one line, without the trailing blanks */
static const char *one_line(const char *msg, char *buf, size_t len)
{
	size_t o = 0;
	int space = 0;
	for (const char *s = msg; *s && o + 1 < len; s++) {
		if (*s == '\n' || *s == '\t' || *s == ' ') {
			space = 1;
			continue;
		}
		if (space && o > 0)
			buf[o++] = ' ';
		space = 0;
		if (o + 1 < len)
			buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

/* Server notices (NOTICE, WARNING) must not reach stderr: a program prints
 * one line on failure, and the error path carries what matters. */
static void no_notices(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static eac_err conn_new(const char *conninfo, const char *flavour, int auditor, const char *timeout,
			db_conn **out)
{
	eac_err r = EAC_ERR_INTERNAL;
	char app[32], line[600];
	char *perr = NULL;
	PQconninfoOption *opts;
	db_conn *db = NULL;

	if ((opts = PQconninfoParse(conninfo, &perr)) == NULL) {
		r = eac_fail(EAC_ERR_CONFIG, "database: invalid libpq connection string: %s",
			     perr ? one_line(perr, line, sizeof(line)) : "out of memory");
		PQfreemem(perr);
		return r;
	}
	PQconninfoFree(opts);
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return eac_fail(EAC_ERR_NOMEM, "database: out of memory");
	snprintf(db->flavour, sizeof(db->flavour), "%s", flavour);
	snprintf(db->actor, sizeof(db->actor), "%s:%s", auditor ? "auditor" : "engine", flavour);
	db->auditor = auditor;
	snprintf(app, sizeof(app), "eac-%s%s", flavour, auditor ? "-audit" : "");
	{
		const char *const kw[] = { "dbname", "fallback_application_name", "client_encoding", NULL };
		const char *const val[] = { conninfo, app, "UTF8", NULL };
		db->pg = PQconnectdbParams(kw, val, 1);
	}
	if (db->pg == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "database: out of memory");
		goto out;
	}
	describe(db->pg, db->name, sizeof(db->name));
	PQsetNoticeProcessor(db->pg, no_notices, NULL);
	if (PQstatus(db->pg) != CONNECTION_OK) {
		r = eac_fail(EAC_ERR_DB_UNAVAILABLE, "%s: cannot connect: %s", db->name,
			     one_line(PQerrorMessage(db->pg), line, sizeof(line)));
		goto out;
	}
	if (PQsetClientEncoding(db->pg, "UTF8") != 0) {
		r = eac_fail(EAC_ERR_DB, "%s: cannot use client encoding UTF8", db->name);
		goto out;
	}
	if ((r = session_setup(db, timeout)) != EAC_OK)
		goto out;
	*out = db;
	db = NULL;
	r = EAC_OK;
out:
	db_close(db);
	return r;
}

static int flavour_ok(const char *flavour)
{
	return flavour && (strcmp(flavour, "cvca") == 0 || strcmp(flavour, "dv") == 0);
}

/* Least privilege (docs/DATABASE.md): the engine's role works through the
 * eac_service grants, and is neither a superuser nor the schema's owner,
 * which could switch the guards off. */
static eac_err check_service_role(db_conn *db)
{
	eac_err r;
	PGresult *res = NULL;
	char user[128];

	r = dbi_exec(db, "check the service role",
		     "SELECT current_user, r.rolsuper, pg_has_role(current_user, n.nspowner, 'MEMBER'),"
		     " pg_has_role(current_user, 'eac_service', 'USAGE')"
		     " FROM pg_roles r, pg_namespace n WHERE r.rolname = current_user AND n.nspname = 'eac'",
		     NULL, &res);
	if (r != EAC_OK)
		return r;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return eac_fail(EAC_ERR_DB_SCHEMA, "%s: schema eac is missing", db->name);
	}
	dbi_text(res, 0, 0, user, sizeof(user));
	if (dbi_bool(res, 0, 1))
		r = eac_fail(EAC_ERR_CONFIG,
			     "%s: the engine connects as '%s', a superuser; it must use the service role (least privilege)",
			     db->name, user);
	else if (dbi_bool(res, 0, 2))
		r = eac_fail(EAC_ERR_CONFIG,
			     "%s: the engine connects as '%s', which owns the schema; it must use the service role (least privilege)",
			     db->name, user);
	else if (!dbi_bool(res, 0, 3))
		r = eac_fail(EAC_ERR_CONFIG, "%s: role '%s' is not a member of eac_service", db->name, user);
	PQclear(res);
	return r;
}

eac_err db_open(const char *conninfo, const char *owner_conninfo, const char *flavour, db_conn **out)
{
	eac_err r;
	db_conn *owner = NULL, *db = NULL;

	if (conninfo == NULL || out == NULL || !flavour_ok(flavour))
		return eac_fail(EAC_ERR_USAGE, "db_open: a connection string and flavour cvca or dv are required");
	if (owner_conninfo != NULL) {
		if ((r = conn_new(owner_conninfo, flavour, 0, MIGRATION_TIMEOUT, &owner)) != EAC_OK)
			return eac_fail_prefix(r, "migrations: ");
		snprintf(owner->actor, sizeof(owner->actor), "migration:%s", flavour);
		r = dbi_migrate(owner, flavour);
		db_close(owner);
		if (r != EAC_OK)
			return r;
	}
	if ((r = conn_new(conninfo, flavour, 0, STATEMENT_TIMEOUT, &db)) != EAC_OK)
		return r;
	if ((r = dbi_schema_check(db, flavour)) != EAC_OK || (r = check_service_role(db)) != EAC_OK) {
		db_close(db);
		return r;
	}
	*out = db;
	return EAC_OK;
}

eac_err db_open_auditor(const char *conninfo, const char *flavour, db_conn **out)
{
	eac_err r;
	db_conn *db = NULL;

	if (conninfo == NULL || out == NULL || !flavour_ok(flavour))
		return eac_fail(EAC_ERR_USAGE,
				"db_open_auditor: a connection string and flavour cvca or dv are required");
	if ((r = conn_new(conninfo, flavour, 1, STATEMENT_TIMEOUT, &db)) != EAC_OK)
		return r;
	if ((r = dbi_schema_check(db, flavour)) != EAC_OK) {
		db_close(db);
		return r;
	}
	*out = db;
	return EAC_OK;
}

void db_close(db_conn *db)
{
	if (db == NULL)
		return;
	if (db->pg)
		PQfinish(db->pg);
	stmts_forget(db);
	OPENSSL_cleanse(db, sizeof(*db));
	free(db);
}

const char *db_name(const db_conn *db)
{
	return db ? db->name : "database";
}

eac_err db_set_actor(db_conn *db, const char *actor)
{
	eac_err r;
	dbi_params p = { 0 };
	size_t n = actor ? strlen(actor) : 0;

	if (n == 0 || n > 200)
		return eac_fail(EAC_ERR_USAGE, "%s: an actor has 1..200 octets", db->name);
	if ((r = dbi_ready(db)) != EAC_OK)
		return r;
	dbi_p_text(&p, actor);
	if ((r = dbi_exec(db, "set the actor", "SELECT set_config('eac.actor', $1, false)", &p, NULL)) !=
	    EAC_OK)
		return r;
	snprintf(db->actor, sizeof(db->actor), "%s", actor);
	return EAC_OK;
}
