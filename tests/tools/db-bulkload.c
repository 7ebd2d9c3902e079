/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db-bulkload --config DV.json --admin CONNINFO [--rows N] [--explain-only] [--also SQL]...
 *
 * Fills an engine database (the DV's: its IS certificates are the bulk)
 * with N imported certificates and N decided requests through COPY
 * (PQputCopyData, as the superuser with the triggers off: this measures
 * plans, not the triggers), adds a few pending requests and an own
 * certificate through the API, runs ANALYZE, then EXPLAINs every status
 * query of db/ (dbi_status_sql, dbi_requests_pending_sql) and each --also
 * query, and fails when a plan reads a big table (certificates, requests,
 * issuances, audit_events, distributions) with a sequential scan. It times
 * nothing: timing is the benchmark's. Prints one line per query:
 *   plan ok: <first 60 characters of the query>
 *   plan SEQ SCAN on <table>: <query>
 * each followed by "plan indexes: <the indexes it reads, or none>",
 * and the status it reads at the end. --explain-only skips the loading.
 * Exit 0 all plans indexed, 1 a scan,
 * 2 usage, 3 environment.
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "common/common.h"
#include "db/db.h"
#include "db/db_internal.h"

#define PROG "db-bulkload"

static const char *const big_tables[] = { "certificates", "requests", "issuances", "audit_events",
					  "distributions", NULL };

static void quiet(void *arg, const char *m)
{
	(void)arg;
	(void)m;
}

static eac_err admin_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(res);
	eac_err r = EAC_OK;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		r = eac_fail(EAC_ERR_DB, "%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	return r;
}

static eac_err copy_put(PGconn *c, const char *buf, size_t len)
{
	if (PQputCopyData(c, buf, (int)len) != 1)
		return eac_fail(EAC_ERR_DB, "COPY: %s", PQerrorMessage(c));
	return EAC_OK;
}

static eac_err copy_end(PGconn *c)
{
	eac_err r = EAC_OK;
	PGresult *res;
	if (PQputCopyEnd(c, NULL) != 1)
		return eac_fail(EAC_ERR_DB, "COPY end: %s", PQerrorMessage(c));
	while ((res = PQgetResult(c)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			r = eac_fail(EAC_ERR_DB, "COPY: %s", PQresultErrorMessage(res));
		PQclear(res);
	}
	return r;
}

static eac_err copy_begin(PGconn *c, const char *sql)
{
	PGresult *res = PQexecParams(c, sql, 0, NULL, NULL, NULL, NULL, 0);
	eac_err r = EAC_OK;
	if (PQresultStatus(res) != PGRES_COPY_IN)
		r = eac_fail(EAC_ERR_DB, "%s: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	return r;
}

/* N certificates of DVs' ... no: of this DV from its CVCA, kind dv, and
 * N requests already issued; every unique column distinct */
static eac_err load(PGconn *c, long rows, int64_t cvca, int64_t is)
{
	eac_err r;
	char line[1024], hk[65], dh[65], rh[65], der[64], dhex[129];
	uint8_t h[32];

	if ((r = admin_exec(c, "SET session_replication_role = replica")) != EAC_OK ||
	    (r = admin_exec(c, "BEGIN")) != EAC_OK)
		return r;
	if ((r = copy_begin(c, "COPY eac.certificates (source, issuer_id, kind, chr, car, chat, effective, expiry,"
			       " holder_key_hash, der, der_hash, issued_at) FROM STDIN")) != EAC_OK)
		return r;
	for (long i = 0; i < rows; i++) {
		int n = snprintf(der, sizeof(der), "bulk certificate %ld", i);
		eac_hex((const uint8_t *)der, (size_t)n, dhex);
		if ((r = eac_sha256((const uint8_t *)der, (size_t)n, h)) != EAC_OK)
			return r;
		eac_hex(h, 32, dh);
		snprintf(line, sizeof(line), "holder %ld", i);
		if ((r = eac_sha256((const uint8_t *)line, strlen(line), h)) != EAC_OK)
			return r;
		eac_hex(h, 32, hk);
		n = snprintf(line, sizeof(line),
			     "imported\t%" PRId64 "\tdv\tFIB%06ld00001\tFICVCA00001\t\\\\x7f4c00\t2026-01-01\t2026-04-01\t"
			     "\\\\x%s\t\\\\x%s\t\\\\x%s\t2026-01-01 00:00:00+00\n",
			     cvca, i, hk, dhex, dh);
		if ((r = copy_put(c, line, (size_t)n)) != EAC_OK)
			return r;
	}
	if ((r = copy_end(c)) != EAC_OK)
		return r;
	if ((r = copy_begin(c, "COPY eac.requests (kind, channel, inspection_system_id, raw, raw_hash, holder_chr,"
			       " received_at, acknowledged_at, deadline, state, decided_by, decided_at) FROM STDIN")) != EAC_OK)
		return r;
	for (long i = 0; i < rows; i++) {
		char raw[48];
		int n = snprintf(raw, sizeof(raw), "bulk request %ld", i);
		char rhex[97];
		eac_hex((const uint8_t *)raw, (size_t)n, rhex);
		if ((r = eac_sha256((const uint8_t *)raw, (size_t)n, h)) != EAC_OK)
			return r;
		eac_hex(h, 32, rh);
		n = snprintf(line, sizeof(line),
			     "is\tis\t%" PRId64 "\t\\\\x%s\t\\\\x%s\tFIB%06ld00001\t2026-01-01 00:00:00+00\t"
			     "2026-01-01 00:00:00+00\t2026-01-02 00:00:00+00\tissued\tbulk\t2026-01-01 01:00:00+00\n",
			     is, rhex, rh, i);
		if ((r = copy_put(c, line, (size_t)n)) != EAC_OK)
			return r;
	}
	if ((r = copy_end(c)) != EAC_OK || (r = admin_exec(c, "COMMIT")) != EAC_OK ||
	    (r = admin_exec(c, "SET session_replication_role = origin")) != EAC_OK ||
	    (r = admin_exec(c, "ANALYZE")) != EAC_OK)
		return r;
	return EAC_OK;
}

/* A sequential scan of a big table anywhere in the plan tree: its name. */
static const char *seq_scan(const json_t *node)
{
	const char *type = json_string_value(json_object_get(node, "Node Type"));
	const char *rel = json_string_value(json_object_get(node, "Relation Name"));
	const json_t *plans = json_object_get(node, "Plans");
	size_t i;
	const json_t *child;

	if (type && rel && strcmp(type, "Seq Scan") == 0)
		for (int k = 0; big_tables[k]; k++)
			if (strcmp(rel, big_tables[k]) == 0)
				return big_tables[k];
	json_array_foreach(plans, i, child) {
		const char *t = seq_scan(child);
		if (t)
			return t;
	}
	return NULL;
}

/* The indexes the plan tree reads, comma-separated, appended to buf. */
static void indexes(const json_t *node, char *buf, size_t cap)
{
	const char *ix = json_string_value(json_object_get(node, "Index Name"));
	size_t i;
	const json_t *child;
	if (ix && strlen(buf) + strlen(ix) + 2 < cap) {
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, ix);
	}
	json_array_foreach(json_object_get(node, "Plans"), i, child)
		indexes(child, buf, cap);
}

/* 1: scan, 0: indexed, -1: could not explain */
static int explain(PGconn *c, const char *sql, const char *param)
{
	char *q = malloc(strlen(sql) + 32);
	const char *vals[1] = { param };
	PGresult *res;
	json_t *plan = NULL;
	json_error_t je;
	int out = -1;

	if (q == NULL)
		return -1;
	snprintf(q, strlen(sql) + 32, "EXPLAIN (FORMAT JSON) %s", sql);
	res = PQexecParams(c, q, strstr(sql, "$1") ? 1 : 0, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, PROG ": EXPLAIN %s: %s", sql, PQresultErrorMessage(res));
		goto out;
	}
	if ((plan = json_loads(PQgetvalue(res, 0, 0), 0, &je)) == NULL)
		goto out;
	const json_t *top = json_object_get(json_array_get(plan, 0), "Plan");
	const char *t = seq_scan(top);
	char ix[512] = "";
	indexes(top, ix, sizeof(ix));
	if (t)
		printf("plan SEQ SCAN on %s: %.60s\n", t, sql);
	else
		printf("plan ok: %.60s\n", sql);
	printf("plan indexes: %s\n", ix[0] ? ix : "none");
	out = t != NULL;
out:
	json_decref(plan);
	PQclear(res);
	free(q);
	return out;
}

/* a short-form TLV (values under 128 octets) */
static size_t tlv(uint8_t *out, unsigned tag, const uint8_t *val, size_t len)
{
	size_t o = 0;
	if (tag > 0xff)
		out[o++] = (uint8_t)(tag >> 8);
	out[o++] = (uint8_t)tag;
	out[o++] = (uint8_t)len;
	if (len)
		memcpy(out + o, val, len);
	return o + len;
}

static eac_err fixture(db_conn *db, int64_t *cvca, int64_t *is)
{
	eac_err r;
	int64_t own, key, cert, id;
	uint8_t kh[32];
	db_authority_in me = { .kind = DB_AUTH_OWN_DV, .country = "FI", .mnemonic = "DV", .name = "Bulk DV", .domestic = 1 };
	db_authority_in ca = { .kind = DB_AUTH_CVCA, .country = "FI", .mnemonic = "CVCA", .name = "Finnish CVCA", .domestic = 1 };

	if ((r = db_authority_add(db, &me, &own)) != EAC_OK || (r = db_authority_add(db, &ca, cvca)) != EAC_OK)
		return r;
	if ((r = eac_sha256((const uint8_t *)"bulk dv key", 11, kh)) != EAC_OK)
		return r;
	db_key_in ki = { .authority = own, .pkcs11_uri = "pkcs11:token=DV;object=dv", .pubkey_hash = kh,
			 .algorithm = "ECDSA-SHA-256", .curve = "brainpoolP256r1", .state = DB_KEY_PENDING };
	if ((r = db_key_add(db, &ki, &key)) != EAC_OK)
		return r;
	/* our DV certificate (no key or signature worth the name: db/ does
	 * not verify signatures; it checks the fields against the body) */
	uint8_t body[128], der[160], v[128];
	size_t n = 0;
	static const uint8_t d1[] = { 2, 6, 0, 1, 0, 1 }, d2[] = { 2, 6, 0, 4, 0, 1 }, sig[] = { 1, 2 };
	n += tlv(v + n, 0x5f29, (const uint8_t *)"", 1);
	n += tlv(v + n, 0x42, (const uint8_t *)"FICVCA00001", 11);
	n += tlv(v + n, 0x7f49, NULL, 0);
	n += tlv(v + n, 0x5f20, (const uint8_t *)"FIDV000001", 10);
	n += tlv(v + n, 0x7f4c, NULL, 0);
	n += tlv(v + n, 0x5f25, d1, 6);
	n += tlv(v + n, 0x5f24, d2, 6);
	size_t bl = tlv(body, 0x7f4e, v, n);
	memcpy(v, body, bl);
	n = bl + tlv(v + bl, 0x5f37, sig, 2);
	size_t dl = tlv(der, 0x7f21, v, n);
	static const uint8_t chat[] = { 0x7f, 0x4c, 0x00 };
	db_import im = { .issuer = *cvca, .kind = DB_KIND_DV, .chr = "FIDV000001", .car = "FICVCA00001",
			 .holder_key_hash = kh, .chat = chat, .chat_len = sizeof(chat), .effective = "2026-01-01",
			 .expiry = "2026-04-01", .der = der, .der_len = dl };
	if ((r = db_cert_import(db, &im, &cert)) != EAC_OK || (r = db_key_activate(db, key, "bulk load")) != EAC_OK)
		return r;
	if ((r = db_is_add(db, "Bulk gate", "BULK", "Border Guard", is)) != EAC_OK)
		return r;
	/* three pending requests, one validated */
	for (int i = 0; i < 3; i++) {
		char raw[32], chr[17];
		db_request q;
		snprintf(raw, sizeof(raw), "pending %d", i);
		snprintf(chr, sizeof(chr), "FIBULK0000%d", i);
		db_request_in in = { .kind = DB_KIND_IS, .channel = "is", .inspection_system = *is,
				     .raw = (const uint8_t *)raw, .raw_len = strlen(raw), .holder_chr = chr,
				     .process_within = (i + 1) * 3600, .acknowledge = 1 };
		if ((r = db_request_submit(db, &in, &q, NULL)) != EAC_OK)
			return r;
		id = q.id;
		if (i == 0 && (r = db_request_validate(db, id, "bulk")) != EAC_OK)
			return r;
	}
	return EAC_OK;
}

int main(int argc, char **argv)
{
	const char *config = NULL, *admin = NULL;
	const char *also[8];
	int nalso = 0, scans = 0, explain_only = 0;
	long rows = 1000000;
	eac_config cfg = { 0 };
	db_conn *db = NULL;
	PGconn *c = NULL;
	int64_t cvca = 0, is = 0;
	eac_err r;
	int rc = EAC_EXIT_ENV;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--admin") == 0 && i + 1 < argc)
			admin = argv[++i];
		else if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
			rows = strtol(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--explain-only") == 0)
			explain_only = 1;
		else if (strcmp(argv[i], "--also") == 0 && i + 1 < argc && nalso < 8)
			also[nalso++] = argv[++i];
		else {
			fprintf(stderr, "usage: " PROG " --config DV.json --admin CONNINFO [--rows N] [--also SQL]...\n");
			return EAC_EXIT_INPUT;
		}
	}
	if (config == NULL || admin == NULL || rows < 0) {
		fprintf(stderr, "usage: " PROG " --config DV.json --admin CONNINFO [--rows N] [--also SQL]...\n");
		return EAC_EXIT_INPUT;
	}
	if ((r = eac_config_load(config, "dv", &cfg)) != EAC_OK)
		return eac_report(PROG, r);
	if ((r = db_open(cfg.db_conninfo, cfg.db_owner_conninfo, "dv", &db)) != EAC_OK ||
	    (!explain_only && (r = fixture(db, &cvca, &is)) != EAC_OK)) {
		rc = eac_report(PROG, r);
		goto out;
	}
	c = PQconnectdb(admin);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, PROG ": %s", PQerrorMessage(c));
		goto out;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	if (!explain_only) {
		if ((r = load(c, rows, cvca, is)) != EAC_OK) {
			rc = eac_report(PROG, r);
			goto out;
		}
		printf("loaded %ld certificates and %ld requests\n", rows, rows);
	}

	char now[24];
	snprintf(now, sizeof(now), "%" PRId64, eac_now());
	for (size_t i = 0; i < dbi_status_sql_count; i++) {
		int s = explain(c, dbi_status_sql[i], now);
		if (s < 0)
			goto out;
		scans += s;
	}
	int s = explain(c, dbi_requests_pending_sql(db), "100");
	if (s < 0)
		goto out;
	scans += s;
	for (int i = 0; i < nalso; i++) {
		if ((s = explain(c, also[i], now)) < 0)
			goto out;
		scans += s;
	}

	db_status st;
	if ((r = db_status_get(db, &st)) != EAC_OK) {
		rc = eac_report(PROG, r);
		goto out;
	}
	printf("status: pending %" PRId64 " overdue %" PRId64 " awaiting %" PRId64 " open %" PRId64
	       " own %s expiring %s\n", st.requests_pending, st.requests_overdue, st.awaiting_distribution,
	       st.open_intents, st.has_own_cert ? st.own_chr : "-", st.own_expiry);
	rc = scans ? EAC_EXIT_REFUSED : EAC_EXIT_OK;
out:
	PQfinish(c);
	db_close(db);
	eac_config_free(&cfg);
	return rc;
}
