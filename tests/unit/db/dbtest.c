/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the db/ unit tests: see dbtest.h. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/unit/db/dbtest.h"

static char dir[64];
static char top[1024];

const char *dbt_dir(void)
{
	return dir;
}

static int sandbox(const char *action)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "'%s/packaging/sandbox' '%s' %s >>'%s/sandbox.log' 2>&1", top, dir, action,
		 dir);
	return system(cmd) == 0 ? 0 : -1;
}

int dbt_start(void)
{
	const char *t = getenv("EAC_TOP");
	snprintf(top, sizeof(top), "%s", t && *t ? t : ".");
	snprintf(dir, sizeof(dir), "/tmp/eac-dbtest-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	if (sandbox("start") != 0) {
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "cat '%s/sandbox.log' >&2", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "sandbox failed\n");
		return -1;
	}
	return 0;
}

static int server_up(void)
{
	char ci[256];
	snprintf(ci, sizeof(ci), "host=%s/run port=5432 dbname=postgres connect_timeout=5", dir);
	return PQping(ci) == PQPING_OK;
}

/*
 * packaging/sandbox run a second time on a DIR as root leaves DIR at mode
 * 0700 (its first run set 0711 so that the postgres user reaches DIR/pg),
 * so `stop` finds no server and `start` cannot start one (reported to the
 * lead). When the sandbox did not do what was asked, drive pg_ctl the way
 * the sandbox does, after restoring the mode its first run set.
 */
static int pg_ctl(const char *action)
{
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "cd / && d='%s' && m=$(cat \"$d/.pg-mode\") && b=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1) &&"
		 " if [ \"$m\" = postgres ]; then chmod 0711 \"$d\"; fi &&"
		 " case $m in postgres) run='runuser -u postgres --' ;; userns) run='unshare --user --map-user=65534 --map-group=65534 --' ;; *) run= ;; esac &&"
		 " $run \"$b/pg_ctl\" -D \"$d/pg\" -l \"$d/pglog/server.log\" -m fast -w -t 60 %s >>\"$d/sandbox.log\" 2>&1",
		 dir, action);
	return system(cmd) == 0 ? 0 : -1;
}

int dbt_stop_server(void)
{
	if (sandbox("stop") == 0 && !server_up())
		return 0;
	return pg_ctl("stop") == 0 && !server_up() ? 0 : -1;
}

int dbt_start_server(void)
{
	if (sandbox("start") == 0 && server_up())
		return 0;
	return pg_ctl("start") == 0 && server_up() ? 0 : -1;
}

void dbt_finish(void)
{
	char cmd[256];
	if (dir[0] == '\0')
		return;
	if (dbt_stop_server() != 0) {
		fprintf(stderr, "# could not stop the sandbox in %s; left in place\n", dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", dir);
}

const char *dbt_conninfo(const char *dbname, const char *role)
{
	static _Thread_local char buf[4][512];
	static _Thread_local int k;
	char *b = buf[k++ % 4];
	snprintf(b, sizeof(buf[0]), "host=%s/run port=5432 dbname=%s user=eac_%s passfile=%s/pgpass connect_timeout=10",
		 dir, dbname, role, dir);
	return b;
}

static void quiet(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

PGconn *dbt_pg(const char *dbname, const char *role)
{
	PGconn *c = PQconnectdb(dbt_conninfo(dbname, role));
	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "# connect %s as %s: %s", dbname, role, c ? PQerrorMessage(c) : "no memory\n");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, quiet, NULL);
	return c;
}

const char *dbt_sql(PGconn *c, const char *sql, const char **msg)
{
	static _Thread_local char state[8];
	static _Thread_local char text[1024];
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		state[0] = '\0';
		text[0] = '\0';
	} else {
		const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		snprintf(state, sizeof(state), "%s", s ? s : "?");
		snprintf(text, sizeof(text), "%s", PQresultErrorMessage(res));
	}
	PQclear(res);
	if (msg)
		*msg = text;
	return state;
}

const char *dbt_value(PGconn *c, const char *sql)
{
	static _Thread_local char val[4096];
	PGresult *res = PQexec(c, sql);
	const char *out = NULL;
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) >= 1) {
		snprintf(val, sizeof(val), "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
		out = val;
	} else {
		fprintf(stderr, "# %s: %s", sql, PQresultErrorMessage(res));
	}
	PQclear(res);
	return out;
}

static char tamper_msg[1024];

const char *dbt_tamper_msg(void)
{
	return tamper_msg;
}

const char *dbt_tamper(const char *dbname, const char *sql)
{
	static char state[8];
	const char *msg = NULL;
	PGconn *c = dbt_pg(dbname, "admin");
	if (c == NULL)
		return "?";
	if (dbt_sql(c, "SET session_replication_role = replica", NULL)[0] != '\0') {
		PQfinish(c);
		return "?";
	}
	snprintf(state, sizeof(state), "%s", dbt_sql(c, sql, &msg));
	snprintf(tamper_msg, sizeof(tamper_msg), "%s", msg ? msg : "");
	PQfinish(c);
	return state;
}

int dbt_createdb(const char *dbname)
{
	char sql[512];
	PGconn *c = dbt_pg("postgres", "admin");
	int ok = c != NULL;
	if (ok) {
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s OWNER eac_owner", dbname);
		ok = dbt_sql(c, sql, NULL)[0] == '\0';
		snprintf(sql, sizeof(sql), "GRANT CONNECT ON DATABASE %s TO eac_service, eac_auditor", dbname);
		ok = ok && dbt_sql(c, sql, NULL)[0] == '\0';
	}
	PQfinish(c);
	return ok ? 0 : -1;
}

eac_err dbt_open(const char *dbname, const char *flavour, db_conn **db)
{
	return db_open(dbt_conninfo(dbname, "service"), dbt_conninfo(dbname, "owner"), flavour, db);
}

/* ---- CV bytes ---- */

static size_t put_tlv(uint8_t *out, unsigned tag, const uint8_t *v, size_t len)
{
	size_t o = 0;
	if (tag > 0xff)
		out[o++] = (uint8_t)(tag >> 8);
	out[o++] = (uint8_t)tag;
	if (len < 128) {
		out[o++] = (uint8_t)len;
	} else if (len < 256) {
		out[o++] = 0x81;
		out[o++] = (uint8_t)len;
	} else {
		out[o++] = 0x82;
		out[o++] = (uint8_t)(len >> 8);
		out[o++] = (uint8_t)len;
	}
	memmove(out + o, v, len);
	return o + len;
}

size_t dbt_chat(uint8_t *out, uint8_t role)
{
	static const uint8_t oid_is[] = { 0x06, 0x09, 0x04, 0x00, 0x7f, 0x00, 0x07, 0x03, 0x01, 0x02, 0x01 };
	uint8_t v[32];
	size_t n = 0;
	memcpy(v, oid_is, sizeof(oid_is));
	n = sizeof(oid_is);
	v[n++] = 0x53;
	v[n++] = 0x01;
	v[n++] = role;
	return put_tlv(out, 0x7f4c, v, n);
}

size_t dbt_body(uint8_t *out, const char *car, const char *chr, uint8_t role, const char *eff6,
		const char *exp6, uint8_t keybyte)
{
	static const uint8_t oid[] = { 0x04, 0x00, 0x7f, 0x00, 0x07, 0x02, 0x02, 0x02, 0x02, 0x03 };
	uint8_t v[600], key[120], point[65], d[6];
	size_t n = 0, k = 0;

	n += put_tlv(v + n, 0x5f29, (const uint8_t *)"\0", 1);
	n += put_tlv(v + n, 0x42, (const uint8_t *)car, strlen(car));
	point[0] = 0x04;
	for (int i = 1; i < 65; i++)
		point[i] = (uint8_t)(keybyte + i);
	k += put_tlv(key + k, 0x06, oid, sizeof(oid));
	k += put_tlv(key + k, 0x86, point, sizeof(point));
	n += put_tlv(v + n, 0x7f49, key, k);
	n += put_tlv(v + n, 0x5f20, (const uint8_t *)chr, strlen(chr));
	n += dbt_chat(v + n, role);
	for (int i = 0; i < 6; i++)
		d[i] = (uint8_t)(eff6[i] - '0');
	n += put_tlv(v + n, 0x5f25, d, 6);
	for (int i = 0; i < 6; i++)
		d[i] = (uint8_t)(exp6[i] - '0');
	n += put_tlv(v + n, 0x5f24, d, 6);
	return put_tlv(out, 0x7f4e, v, n);
}

size_t dbt_cert(uint8_t *out, const uint8_t *body, size_t len, uint8_t sigbyte)
{
	uint8_t v[1200], sig[64];
	size_t n;
	for (int i = 0; i < 64; i++)
		sig[i] = (uint8_t)(sigbyte * 7 + i);
	memcpy(v, body, len);
	n = len + put_tlv(v + len, 0x5f37, sig, sizeof(sig));
	return put_tlv(out, 0x7f21, v, n);
}

void dbt_hash(const char *label, uint8_t out[DB_HASH_LEN])
{
	if (eac_sha256((const uint8_t *)label, strlen(label), out) != EAC_OK)
		memset(out, 0, DB_HASH_LEN);
}

/* ---- fixtures ---- */

eac_err dbt_cvca_setup(db_conn *db, const char *dvmn, dbt_cvca *out)
{
	db_authority_in own = { .kind = DB_AUTH_OWN_CVCA, .country = "FI", .mnemonic = "CVCA",
				.name = "Finnish CVCA", .domestic = 1 };
	uint8_t kh[DB_HASH_LEN];
	db_key_in key = { .pkcs11_uri = "pkcs11:token=CVCA;object=cvca-1", .label = "FICVCA00001",
			  .pubkey_hash = kh, .algorithm = "ECDSA-SHA-256", .curve = "brainpoolP256r1",
			  .state = DB_KEY_ACTIVE };
	eac_err r;

	memset(out, 0, sizeof(*out));
	dbt_hash("cvca-key-1", kh);
	if ((r = db_authority_add(db, &own, &out->own)) != EAC_OK)
		return r;
	key.authority = out->own;
	if ((r = db_key_add(db, &key, &out->key)) != EAC_OK)
		return r;
	if (dvmn) {
		db_authority_in dv = { .kind = DB_AUTH_DV, .country = "FI", .mnemonic = dvmn,
				       .name = "Finnish border guard DV", .organisations_json = "[\"Border Guard\"]",
				       .domestic = 1, .conformity_expiry = "2027-12-31" };
		if ((r = db_authority_add(db, &dv, &out->dv)) != EAC_OK)
			return r;
	}
	return EAC_OK;
}

eac_err dbt_dv_request(db_conn *db, int64_t dv, const char *chr, const char *salt, int64_t *id)
{
	char raw[128];
	db_request q;
	int existing = 0;
	eac_err r;
	snprintf(raw, sizeof(raw), "request %s %s", chr, salt);
	db_request_in in = { .kind = DB_KIND_DV, .channel = "domestic", .authority = dv,
			     .raw = (const uint8_t *)raw, .raw_len = strlen(raw), .holder_chr = chr,
			     .process_within = 72 * 3600, .acknowledge = 1 };
	if ((r = db_request_submit(db, &in, &q, &existing)) != EAC_OK)
		return r;
	if ((r = db_request_validate(db, q.id, "officer:alice")) != EAC_OK)
		return r;
	*id = q.id;
	return EAC_OK;
}

void dbt_dv_intent(const dbt_cvca *f, int64_t req, const char *chr, const char *keylabel, uint8_t *body,
		   uint8_t *chat, uint8_t *keyhash, db_intent *in)
{
	uint8_t kb = (uint8_t)keylabel[0];
	size_t blen = dbt_body(body, "FICVCA00001", chr, 0x83, "260101", "260401", kb);
	size_t clen = dbt_chat(chat, 0x83);
	dbt_hash(keylabel, keyhash);
	memset(in, 0, sizeof(*in));
	in->issuer = f->own;
	in->signing_key = f->key;
	in->kind = DB_KIND_DV;
	in->chr = chr;
	in->car = "FICVCA00001";
	in->holder_key_hash = keyhash;
	in->request = req;
	in->chat = chat;
	in->chat_len = clen;
	in->effective = "2026-01-01";
	in->expiry = "2026-04-01";
	in->tbs = body;
	in->tbs_len = blen;
	in->distribute_within = 24 * 3600;
}
