/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db/: the issuance protocol against a real PostgreSQL (sandbox):
 * intent -> sign -> result -> release, the constraints that refuse a second
 * CHR, a renewed key (CP-4.6), a second intent for one request, a body that
 * differs from its intent; batches; recovery after a crash (failpoints and
 * SIGKILL); 32 concurrent sequence allocators; the database stopped before
 * signing.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "tests/unit/db/dbtest.h"

static db_conn *db;
static dbt_cvca fx;

static int setup(void **state)
{
	(void)state;
	if (dbt_start() != 0 || dbt_open("cvca", "cvca", &db) != EAC_OK ||
	    db_set_actor(db, "officer:alice") != EAC_OK || dbt_cvca_setup(db, "DV", &fx) != EAC_OK) {
		fprintf(stderr, "# setup: %s\n", eac_err_detail(EAC_ERR_DB));
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_close(db);
	dbt_finish();
	return 0;
}

/* ---- a signer: the certificate around the exact body it is given ---- */

typedef struct signer {
	int calls;
	uint8_t sigbyte;
	int tamper;          /* sign a different body */
	const char *marker;  /* file created when called (crash tests) */
	eac_err fail;        /* fail with this */
} signer;

static eac_err sign_cb(void *arg, const uint8_t *tbs, size_t len, uint8_t **der, size_t *der_len)
{
	signer *s = arg;
	uint8_t body[1024], *out = malloc(1400);
	s->calls++;
	if (s->marker) {
		FILE *f = fopen(s->marker, "w");
		if (f)
			fclose(f);
	}
	if (s->fail != EAC_OK) {
		free(out);
		return eac_fail(s->fail, "token: the key refused to sign");
	}
	memcpy(body, tbs, len);
	if (s->tamper)
		body[len - 1] ^= 1;
	*der_len = dbt_cert(out, body, len, s->sigbyte);
	*der = out;
	return EAC_OK;
}

static int64_t count(const char *sql)
{
	PGconn *c = dbt_pg("cvca", "auditor");
	const char *v = c ? dbt_value(c, sql) : NULL;
	int64_t n = v ? strtoll(v, NULL, 10) : -1;
	PQfinish(c);
	return n;
}

/* ---------------------------------------------------------------------------*/

static void test_protocol_records_then_releases(void **state)
{
	uint8_t body[600], chat[32], kh[32], *der = NULL;
	size_t der_len = 0;
	int64_t req, cert = 0;
	db_intent in;
	signer s = { .sigbyte = 1 };
	db_cert c;
	db_request q;
	db_status st;
	(void)state;

	assert_int_equal(dbt_dv_request(db, fx.dv, "FIDV000001", "a", &req), EAC_OK);
	dbt_dv_intent(&fx, req, "FIDV000001", "dv-key-1", body, chat, kh, &in);
	assert_int_equal(db_issue(db, &in, sign_cb, &s, &cert, &der, &der_len), EAC_OK);
	assert_int_equal(s.calls, 1);
	assert_true(cert > 0);

	/* what is released is what is recorded */
	assert_int_equal(db_cert_get(db, cert, &c), EAC_OK);
	assert_int_equal(c.der_len, der_len);
	assert_memory_equal(c.der, der, der_len);
	assert_string_equal(c.chr, "FIDV000001");
	assert_string_equal(c.car, "FICVCA00001");
	assert_string_equal(c.effective, "2026-01-01");
	assert_string_equal(c.expiry, "2026-04-01");
	assert_int_equal(c.kind, DB_KIND_DV);
	assert_int_equal(c.request, req);
	assert_false(c.imported);
	assert_true(c.issuance > 0);
	assert_true(c.distribute_by > c.issued_at);
	assert_int_equal(c.distributed_at, 0);
	/* the certificate carries the chain head right after its own event */
	assert_true(c.audit.seq > 0);
	db_cert_free(&c);

	/* the request is issued, and asking again gives the same certificate */
	assert_int_equal(db_request_get(db, req, &q), EAC_OK);
	assert_int_equal(q.state, DB_REQ_ISSUED);
	assert_int_equal(q.certificate, cert);
	assert_int_equal(db_cert_by_request(db, req, &c), EAC_OK);
	assert_memory_equal(c.der, der, der_len);
	db_cert_free(&c);

	/* it awaits distribution until distributed; the view derives the time */
	assert_int_equal(db_status_get(db, &st), EAC_OK);
	assert_int_equal(st.awaiting_distribution, 1);
	assert_int_equal(st.open_intents, 0);
	assert_int_equal(db_distribution_record(db, cert, "spoc", "FI DV operator"), EAC_OK);
	assert_int_equal(db_status_get(db, &st), EAC_OK);
	assert_int_equal(st.awaiting_distribution, 0);
	assert_int_equal(db_cert_get(db, cert, &c), EAC_OK);
	assert_true(c.distributed_at > 0);
	db_cert_free(&c);

	/* audited: intent, certificate, request issued, distribution */
	char sql[256];
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM eac.audit_events WHERE actor = 'officer:alice' AND"
		 " ((action = 'certificate.issue' OR action = 'certificate.distribute') AND object = 'certificate:%lld')",
		 (long long)cert);
	assert_int_equal(count(sql), 2);
	assert_int_equal(count("SELECT count(*) FROM eac.audit_events WHERE action = 'issuance.intent'"), 1);
	free(der);
}

static void test_chr_unique_per_issuer(void **state)
{
	uint8_t body[600], chat[32], kh[32];
	int64_t req, id;
	db_intent in;
	(void)state;

	/* a new request asking for a CHR already issued (to another key) */
	assert_int_equal(dbt_dv_request(db, fx.dv, "FIDV000001", "b", &req), EAC_OK);
	dbt_dv_intent(&fx, req, "FIDV000001", "dv-key-other", body, chat, kh, &in);
	assert_int_equal(db_intent_record(db, &in, &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(db), DB_CONFLICT_CHR);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "issuances_chr_uq"));
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "CP-3.1b"));
	/* the certificates table holds the same rule by itself (a superuser
	 * with the triggers off still meets the unique index) */
	/* (the engine-kind check is lifted in the same implicit transaction,
	 * which the refused insert rolls back) */
	const char *st = dbt_tamper("cvca",
		"ALTER TABLE eac.certificates DROP CONSTRAINT certificates_engine_kind_ck;"
		" INSERT INTO eac.certificates (source, issuer_id, kind, chr, car, chat, effective, expiry,"
		" holder_key_hash, der, der_hash, issued_at)"
		" SELECT 'imported', issuer_id, kind, chr, car, chat, effective, expiry, sha256('other'),"
		" der || '\\x00', sha256(der || '\\x00'), issued_at FROM eac.certificates"
		" WHERE chr = 'FIDV000001'");
	assert_string_equal(st, "23505");
	assert_non_null(strstr(dbt_tamper_msg(), "certificates_chr_uq"));
	/* and nothing remains of the refused intent */
	assert_int_equal(count("SELECT count(*) FROM eac.issuances WHERE chr = 'FIDV000001'"), 1);
	assert_int_equal(db_request_reject(db, req, "CP-3.1b", "CHR already used", "officer:alice"), EAC_OK);
}

static void test_no_renewal_of_a_key_cp_4_6(void **state)
{
	uint8_t body[600], chat[32], kh[32];
	int64_t req, id;
	db_intent in;
	int yes = 0;
	(void)state;

	dbt_hash("dv-key-1", kh);
	assert_int_equal(db_key_certified(db, fx.own, kh, &yes), EAC_OK);
	assert_true(yes);
	/* the same public key under a new CHR: a renewal */
	assert_int_equal(dbt_dv_request(db, fx.dv, "FIDV000002", "c", &req), EAC_OK);
	dbt_dv_intent(&fx, req, "FIDV000002", "dv-key-1", body, chat, kh, &in);
	assert_int_equal(db_intent_record(db, &in, &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(db), DB_CONFLICT_HOLDER_KEY);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "issuances_holder_key_uq"));
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "no renewal (CP-4.6)"));
	/* another key is fine */
	dbt_dv_intent(&fx, req, "FIDV000002", "dv-key-2", body, chat, kh, &in);
	assert_int_equal(db_intent_record(db, &in, &id), EAC_OK);
	assert_int_equal(db_abandon(db, id, "test: not needed"), EAC_OK);
	/* the certificates table holds the rule by itself: a certificate for
	 * the abandoned intent's slot with the renewed key meets the index */
	char sql[1024];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO eac.certificates (source, issuance_id, issuer_id, kind, chr, car, chat, effective, expiry,"
		 " holder_key_hash, der, der_hash, issued_at)"
		 " SELECT 'issued', %lld, issuer_id, kind, 'FIDV000099', car, chat, effective, expiry, holder_key_hash,"
		 " der || '\\x01', sha256(der || '\\x01'), issued_at FROM eac.certificates"
		 " WHERE chr = 'FIDV000001'", (long long)id);
	assert_string_equal(dbt_tamper("cvca", sql), "23505");
	assert_non_null(strstr(dbt_tamper_msg(), "certificates_holder_key_uq"));
}

static void test_body_must_match_intent(void **state)
{
	uint8_t body[600], chat[32], kh[32], der[1400];
	int64_t req, id, cert;
	db_intent in;
	const char *msg = NULL;
	(void)state;

	assert_int_equal(dbt_dv_request(db, fx.dv, "FIDV000003", "d", &req), EAC_OK);
	dbt_dv_intent(&fx, req, "FIDV000003", "dv-key-3", body, chat, kh, &in);

	/* the intent must repeat its own body */
	in.expiry = "2026-05-01";
	assert_int_equal(db_intent_record(db, &in, &id), EAC_ERR_DB_CONFLICT);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "its fields differ from its to-be-signed body"));
	in.expiry = "2026-04-01";
	assert_int_equal(db_intent_record(db, &in, &id), EAC_OK);

	/* C refuses a certificate around another body */
	body[in.tbs_len - 1] ^= 1;
	size_t n = dbt_cert(der, body, in.tbs_len, 9);
	assert_int_equal(db_result_record(db, id, der, n, &cert), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(db), DB_CONFLICT_BODY);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "differs from the intent's to-be-signed body"));

	/* and so does the database, whatever the client */
	PGconn *c = dbt_pg("cvca", "service");
	assert_non_null(c);
	char *hex = malloc(2 * n + 1), sql[4096];
	eac_hex(der, n, hex);
	snprintf(sql, sizeof(sql), "INSERT INTO eac.certificates (issuance_id, der, issued_at) VALUES (%lld, '\\x%s', now())",
		 (long long)id, hex);
	assert_string_equal(dbt_sql(c, sql, &msg), "EA006");
	assert_non_null(strstr(msg, "differs from the intent's"));
	/* malformed framing: trailing byte */
	snprintf(sql, sizeof(sql), "INSERT INTO eac.certificates (issuance_id, der, issued_at) VALUES (%lld, '\\x%s00', now())",
		 (long long)id, hex);
	assert_string_equal(dbt_sql(c, sql, &msg), "EA004");
	free(hex);
	PQfinish(c);
	der[n] = 0;
	assert_int_equal(db_result_record(db, id, der, n + 1, &cert), EAC_ERR_MALFORMED);

	/* a row that repeats its intent's columns, as the engines insert it,
	 * is checked once per statement (schema version 4): the body as
	 * above, and each column must be the intent's — none is overwritten */
#define FULL_ROW                                                                                         \
	"INSERT INTO eac.certificates (source, issuance_id, issuer_id, kind, chr, car, chat, effective,"  \
	" expiry, holder_key_hash, request_id, der, der_hash, issued_at, distribute_by)"                  \
	" SELECT 'issued', i.id, i.issuer_id, i.kind, i.chr, i.car, i.chat, i.effective, i.expiry + %d," \
	" i.holder_key_hash, i.request_id, d, sha256(d), now(), now() + i.distribute_within"             \
	" FROM eac.issuances i, (SELECT '\\x%s'::bytea AS d) x WHERE i.id = %lld"
	c = dbt_pg("cvca", "service");
	assert_non_null(c);
	hex = malloc(2 * n + 1);
	eac_hex(der, n, hex);
	snprintf(sql, sizeof(sql), FULL_ROW, 0, hex, (long long)id);
	assert_string_equal(dbt_sql(c, sql, &msg), "EA006");
	assert_non_null(strstr(msg, "differs from the intent's"));
	body[in.tbs_len - 1] ^= 1;
	n = dbt_cert(der, body, in.tbs_len, 9);
	eac_hex(der, n, hex);
	snprintf(sql, sizeof(sql), FULL_ROW, 1, hex, (long long)id);
	assert_string_equal(dbt_sql(c, sql, &msg), "EA003");
	assert_non_null(strstr(msg, "the certificate's columns differ from its intent's"));
	free(hex);
	PQfinish(c);
#undef FULL_ROW

	/* the right body is accepted, once */
	assert_int_equal(db_result_record(db, id, der, n, &cert), EAC_OK);
	n = dbt_cert(der, body, in.tbs_len, 10);
	assert_int_equal(db_result_record(db, id, der, n, &cert), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(db), DB_CONFLICT_INTENT);
	/* an intent with its certificate is not abandoned */
	assert_int_equal(db_abandon(db, id, "late"), EAC_ERR_STATE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_STATE), "has its certificate"));
	/* nor is one recorded abandoned from the start (which would put it
	 * outside the unique indexes over open intents): the service role may
	 * not write those columns, and the owner is refused by the schema */
	c = dbt_pg("cvca", "owner");
	assert_non_null(c);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO eac.issuances (issuer_id, signing_key_id, kind, chr, car, holder_key_hash, request_id,"
		 " chat, effective, expiry, tbs, tbs_hash, created_at, abandoned_at, abandon_reason)"
		 " SELECT issuer_id, signing_key_id, kind, chr, car, holder_key_hash, request_id, chat, effective,"
		 " expiry, tbs, tbs_hash, now(), now(), 'born abandoned' FROM eac.issuances WHERE id = %lld",
		 (long long)id);
	assert_string_equal(dbt_sql(c, sql, &msg), "EA003");
	assert_non_null(strstr(msg, "FIDV000003: an intent is recorded open"));
	PQfinish(c);
}

static void test_signer_returning_another_body_abandons(void **state)
{
	uint8_t body[600], chat[32], kh[32], *der = NULL;
	size_t dl = 0;
	int64_t req, cert = 0;
	db_intent in;
	signer s = { .sigbyte = 2, .tamper = 1 };
	(void)state;

	assert_int_equal(dbt_dv_request(db, fx.dv, "FIDV000004", "e", &req), EAC_OK);
	dbt_dv_intent(&fx, req, "FIDV000004", "dv-key-4", body, chat, kh, &in);
	assert_int_equal(db_issue(db, &in, sign_cb, &s, &cert, &der, &dl), EAC_ERR_DB_CONFLICT);
	assert_null(der);
	assert_int_equal(db_last_conflict(db), DB_CONFLICT_BODY);
	assert_int_equal(count("SELECT count(*) FROM eac.issuances WHERE chr = 'FIDV000004' AND abandoned_at IS NOT NULL"), 1);
	/* a signing failure abandons too, with the reason */
	s.tamper = 0;
	s.fail = EAC_ERR_TOKEN;
	assert_int_equal(db_issue(db, &in, sign_cb, &s, &cert, &der, &dl), EAC_ERR_TOKEN);
	assert_string_equal(eac_err_detail(EAC_ERR_TOKEN), "token: the key refused to sign");
	assert_int_equal(count("SELECT count(*) FROM eac.issuances WHERE chr = 'FIDV000004'"
			       " AND abandon_reason LIKE 'signing failed: token: the key refused to sign'"), 1);
	/* after abandonment the request can be served */
	s.fail = EAC_OK;
	assert_int_equal(db_issue(db, &in, sign_cb, &s, &cert, &der, &dl), EAC_OK);
	free(der);
}

static void test_states_refuse_issuance(void **state)
{
	uint8_t body[600], chat[32], kh[32], der[1400];
	int64_t id, cert, key2;
	db_intent in;
	db_request_in rq = { .kind = DB_KIND_DV, .channel = "domestic", .authority = fx.dv,
			     .raw = (const uint8_t *)"unvalidated", .raw_len = 11, .holder_chr = "FIDV000005",
			     .process_within = 3600 };
	db_request q;
	(void)state;

	/* CP-4.2.2: a request not validated yields nothing */
	assert_int_equal(db_request_submit(db, &rq, &q, NULL), EAC_OK);
	dbt_dv_intent(&fx, q.id, "FIDV000005", "dv-key-5", body, chat, kh, &in);
	/* (and a refused intent leaves no claim behind: the checks run at the
	 * end of the statement, and a session lock would survive its rollback) */
	PGconn *watch = dbt_pg("cvca", "admin");
	assert_non_null(watch);
	const char *claims_sql = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
				 " AND classid >= 1073741824"; /* 2^62 + id: the claim key space */
	char before[32];
	snprintf(before, sizeof(before), "%s", dbt_value(watch, claims_sql));
	assert_int_equal(db_intent_record(db, &in, &id), EAC_ERR_STATE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_STATE), "is received, not validated"));
	assert_string_equal(dbt_value(watch, claims_sql), before);
	PQfinish(watch);
	/* a CHR other than the request's */
	assert_int_equal(db_request_validate(db, q.id, "officer:bob"), EAC_OK);
	dbt_dv_intent(&fx, q.id, "FIDV000006", "dv-key-5", body, chat, kh, &in);
	assert_int_equal(db_intent_record(db, &in, &id), EAC_ERR_DB_CONFLICT);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "asks for CHR FIDV000005"));

	/* CP-3.3.1: a suspended DV gets nothing */
	dbt_dv_intent(&fx, q.id, "FIDV000005", "dv-key-5", body, chat, kh, &in);
	assert_int_equal(db_authority_set_status(db, fx.dv, DB_AUTH_SUSPENDED, "conformity lapsed"), EAC_OK);
	assert_int_equal(db_intent_record(db, &in, &id), EAC_ERR_POLICY);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_POLICY), "(CP-3.3.1)"));
	assert_int_equal(db_authority_set_status(db, fx.dv, DB_AUTH_ACTIVE, "renewed"), EAC_OK);

	/* CP-4.5b: an intent under way is refused its certificate once the key
	 * is compromised; a compromised key signs nothing new */
	assert_int_equal(db_intent_record(db, &in, &id), EAC_OK);
	uint8_t k2[32];
	dbt_hash("cvca-key-2", k2);
	db_key_in ki = { .authority = fx.own, .pkcs11_uri = "pkcs11:token=CVCA;object=cvca-2", .pubkey_hash = k2,
			 .algorithm = "ECDSA-SHA-256", .curve = "brainpoolP256r1", .state = DB_KEY_PENDING };
	assert_int_equal(db_key_add(db, &ki, &key2), EAC_OK);
	assert_int_equal(db_key_set_state(db, fx.key, DB_KEY_COMPROMISED, "HSM backup lost"), EAC_OK);
	size_t n = dbt_cert(der, body, in.tbs_len, 3);
	assert_int_equal(db_result_record(db, id, der, n, &cert), EAC_ERR_STATE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_STATE), "is compromised; the certificate is refused (CP-4.5b)"));
	assert_int_equal(db_abandon(db, id, "signing key compromised"), EAC_OK);
	assert_int_equal(db_result_record(db, id, der, n, &cert), EAC_ERR_STATE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_STATE), "was abandoned (signing key compromised)"));
	assert_int_equal(db_intent_record(db, &in, &id), EAC_ERR_STATE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_STATE), "is compromised; it may not sign"));
	/* and never comes back */
	assert_int_equal(db_key_set_state(db, fx.key, DB_KEY_ACTIVE, "oops"), EAC_ERR_STATE);
	int yes = 0;
	uint8_t k1[32];
	dbt_hash("cvca-key-1", k1);
	assert_int_equal(db_key_compromised(db, k1, &yes), EAC_OK);
	assert_true(yes);

	/* a pending key signs only its own self-signed CVCA certificate ... */
	in.signing_key = key2;
	assert_int_equal(db_intent_record(db, &in, &id), EAC_ERR_STATE);
	uint8_t cbody[600], cchat[32];
	size_t cl = dbt_body(cbody, "FICVCA00002", "FICVCA00002", 0xc3, "260101", "290101", 'K');
	db_intent self = { .issuer = fx.own, .signing_key = key2, .kind = DB_KIND_CVCA, .chr = "FICVCA00002",
			   .car = "FICVCA00002", .holder_key_hash = k2, .chat = cchat,
			   .chat_len = dbt_chat(cchat, 0xc3), .effective = "2026-01-01", .expiry = "2029-01-01",
			   .tbs = cbody, .tbs_len = cl, .distribute_within = 0 };
	assert_int_equal(db_intent_record(db, &self, &id), EAC_OK);
	n = dbt_cert(der, cbody, cl, 4);
	assert_int_equal(db_result_record(db, id, der, n, &cert), EAC_OK);
	/* ... until activated, which retires the previous active key */
	assert_int_equal(db_key_activate(db, key2, "rollover ceremony"), EAC_OK);
	db_key k;
	assert_int_equal(db_key_active(db, fx.own, &k), EAC_OK);
	assert_int_equal(k.id, key2);
	fx.key = key2;
	/* from now on the fixture's CAR is the new key's */
}

static void test_dv_limit_per_country_cp_1_3a(void **state)
{
	int64_t id;
	int n = 0;
	(void)state;
	db_authority_in dv = { .kind = DB_AUTH_DV, .country = "SE", .name = "Swedish DV", .domestic = 0 };
	const char *mn[] = { "DVA", "DVB", "DVC", "DVD" };
	for (int i = 0; i < 3; i++) {
		dv.mnemonic = mn[i];
		assert_int_equal(db_authority_add(db, &dv, &id), EAC_OK);
	}
	dv.mnemonic = mn[3];
	assert_int_equal(db_authority_add(db, &dv, &id), EAC_ERR_POLICY);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_POLICY), "country SE has 3 DVs already; at most 3 (CP-1.3a)"));
	assert_int_equal(db_authority_count_dvs(db, "SE", &n), EAC_OK);
	assert_int_equal(n, 3);
	/* a retired DV frees its place */
	db_authority a;
	assert_int_equal(db_authority_find(db, "SE", "DVA", &a), EAC_OK);
	assert_int_equal(db_authority_set_status(db, a.id, DB_AUTH_RETIRED, "closed"), EAC_OK);
	assert_int_equal(db_authority_add(db, &dv, &id), EAC_OK);
	/* retired is final */
	assert_int_equal(db_authority_set_status(db, a.id, DB_AUTH_ACTIVE, "reopen"), EAC_ERR_STATE);
	/* a second own CVCA, a taken name */
	db_authority_in own = { .kind = DB_AUTH_OWN_CVCA, .country = "FI", .mnemonic = "CVCB", .name = "x", .domestic = 1 };
	assert_int_equal(db_authority_add(db, &own, &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(db), DB_CONFLICT_NAME);
	/* a full country is refused by the rule before the name is compared */
	dv.mnemonic = "DVB";
	assert_int_equal(db_authority_add(db, &dv, &id), EAC_ERR_POLICY);
	dv.country = "FI";
	dv.mnemonic = "DV";
	assert_int_equal(db_authority_add(db, &dv, &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(db), DB_CONFLICT_NAME);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "authorities_name_uq"));
	/* kinds of the other engine are refused by this schema */
	db_authority_in isdv = { .kind = DB_AUTH_OWN_DV, .country = "FI", .mnemonic = "X", .name = "x", .domestic = 1 };
	assert_int_equal(db_authority_add(db, &isdv, &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(db), DB_CONFLICT_CHECK);
}

/* ---- 64 parallel approvals of one request: one intent ---- */

typedef struct race {
	int64_t req;
	eac_err r;
	db_conflict conflict;
} race;

static void *approve_thread(void *arg)
{
	race *x = arg;
	db_conn *c = NULL;
	uint8_t body[600], chat[32], kh[32];
	db_intent in;
	int64_t id;

	x->r = db_open(dbt_conninfo("cvca", "service"), NULL, "cvca", &c);
	if (x->r != EAC_OK)
		return NULL;
	dbt_dv_intent(&fx, x->req, "FIDV000010", "dv-key-10", body, chat, kh, &in);
	in.car = "FICVCA00002";
	in.tbs_len = dbt_body(body, "FICVCA00002", "FIDV000010", 0x83, "260101", "260401", 'd');
	x->r = db_intent_record(c, &in, &id);
	x->conflict = db_last_conflict(c);
	db_close(c);
	return NULL;
}

static void test_parallel_approvals_one_intent(void **state)
{
	enum { N = 64 };
	pthread_t t[N];
	race x[N];
	int64_t req;
	int ok = 0;
	(void)state;

	assert_int_equal(dbt_dv_request(db, fx.dv, "FIDV000010", "f", &req), EAC_OK);
	for (int i = 0; i < N; i++) {
		x[i].req = req;
		assert_int_equal(pthread_create(&t[i], NULL, approve_thread, &x[i]), 0);
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (x[i].r == EAC_OK)
			ok++;
		else {
			assert_int_equal(x[i].r, EAC_ERR_DB_CONFLICT);
			assert_true(x[i].conflict == DB_CONFLICT_REQUEST || x[i].conflict == DB_CONFLICT_CHR ||
				    x[i].conflict == DB_CONFLICT_HOLDER_KEY);
		}
	}
	assert_int_equal(ok, 1);
	assert_int_equal(count("SELECT count(*) FROM eac.issuances WHERE chr = 'FIDV000010'"), 1);
	/* the request is bound to its intent: it cannot be rejected meanwhile */
	assert_int_equal(db_request_reject(db, req, "CP-4.2.2", "changed our mind", "officer:bob"), EAC_ERR_STATE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_STATE), "abandon it before rejecting"));
	/* abandoned, the request can be rejected */
	db_open_intent *list = NULL;
	size_t n = 0;
	assert_int_equal(db_recover_list(db, &list, &n), EAC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].chr, "FIDV000010");
	assert_int_equal(db_abandon(db, list[0].id, "officer withdrew the approval"), EAC_OK);
	db_open_intents_free(list, n);
	assert_int_equal(db_request_reject(db, req, "CP-4.2.2", "changed our mind", "officer:bob"), EAC_OK);
}

/* ---- batches ---- */

static void test_batches(void **state)
{
	enum { N = 20 };
	static uint8_t body[N][600], chat[N][32], kh[N][32], der[N][1400];
	static char chr[N][17], label[N][24];
	db_intent in[N];
	db_batch_item out[N];
	db_result res[N];
	int64_t req[N];
	(void)state;

	for (int i = 0; i < N; i++) {
		snprintf(chr[i], sizeof(chr[i]), "FIDV0%05d", 100 + i);
		snprintf(label[i], sizeof(label[i]), "%cbatch-key-%d", 'a' + i, i);
		assert_int_equal(dbt_dv_request(db, fx.dv, chr[i], "g", &req[i]), EAC_OK);
		dbt_dv_intent(&fx, req[i], chr[i], label[i], body[i], chat[i], kh[i], &in[i]);
		in[i].car = "FICVCA00002";
		in[i].tbs_len = dbt_body(body[i], "FICVCA00002", chr[i], 0x83, "260101", "260401", (uint8_t)label[i][0]);
	}
	/* item 7 renews item 3's key: refused alone */
	in[7].holder_key_hash = kh[3];
	/* item 11 is incomplete */
	in[11].chat = NULL;
	assert_int_equal(db_intent_record_batch(db, in, N, out), EAC_OK);
	for (int i = 0; i < N; i++) {
		if (i == 7) {
			assert_int_equal(out[i].status, EAC_ERR_DB_CONFLICT);
			assert_int_equal(out[i].conflict, DB_CONFLICT_HOLDER_KEY);
			assert_non_null(strstr(out[i].detail, "CP-4.6"));
		} else if (i == 11) {
			assert_int_equal(out[i].status, EAC_ERR_USAGE);
		} else {
			assert_int_equal(out[i].status, EAC_OK);
			assert_true(out[i].id > 0);
		}
	}
	/* results: one with a foreign body, the rest recorded in one commit */
	size_t m = 0;
	for (int i = 0; i < N; i++) {
		if (i == 7 || i == 11)
			continue;
		if (i == 5)
			body[i][in[i].tbs_len - 1] ^= 1;
		res[m].intent_id = out[i].id;
		res[m].der = der[i];
		res[m].der_len = dbt_cert(der[i], body[i], in[i].tbs_len, (uint8_t)i);
		m++;
	}
	db_batch_item rout[N];
	int64_t before = count("SELECT count(*) FROM eac.certificates");
	assert_int_equal(db_result_record_batch(db, res, m, rout), EAC_OK);
	int fails = 0;
	for (size_t j = 0; j < m; j++)
		if (rout[j].status != EAC_OK) {
			fails++;
			assert_int_equal(rout[j].conflict, DB_CONFLICT_BODY);
			assert_int_equal(res[j].intent_id, out[5].id);
		}
	assert_int_equal(fails, 1);
	assert_int_equal(count("SELECT count(*) FROM eac.certificates") - before, (int64_t)m - 1);
	/* every certificate is named by an audit event (a batch's statement
	 * appends one event naming all of its rows), and anchored to it */
	assert_int_equal(count("SELECT coalesce(sum(coalesce((details::json->>'count')::int, 1)), 0)"
			       " FROM eac.audit_events WHERE action = 'certificate.issue'"),
			 count("SELECT count(*) FROM eac.certificates WHERE source = 'issued'"));
	assert_int_equal(count("SELECT count(*) FROM eac.certificates c WHERE c.source = 'issued' AND NOT EXISTS"
			       " (SELECT 1 FROM eac.certificate_anchors a JOIN eac.audit_events e ON e.seq = a.audit_seq"
			       "  WHERE a.certificate_id = c.id AND e.action = 'certificate.issue' AND"
			       "  (e.object = 'certificate:' || c.id OR (e.details::json->'ids')::jsonb @> to_jsonb(c.id)))"),
			 0);
	assert_true(count("SELECT count(*) FROM eac.audit_events WHERE action = 'certificate.issue'"
			  " AND details::json->>'count' IS NOT NULL") >= 1);
	/* inside db_tx the committing calls refuse */
	assert_int_equal(db_abandon(db, out[5].id, "foreign body"), EAC_OK);
}

static eac_err nested(db_conn *c, void *arg)
{
	int64_t id;
	(void)arg;
	return db_intent_record(c, arg, &id);
}

static void test_protocol_calls_refuse_inside_tx(void **state)
{
	db_intent in = { 0 };
	(void)state;
	assert_int_equal(db_tx(db, nested, &in), EAC_ERR_USAGE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_USAGE), "commits on its own"));
}

/* ---- crash and recovery ---- */

/* Run db_issue in a child with EAC_FAILPOINT set; returns the signal that
 * ended it (SIGKILL expected), or -exit status. */
static int crash_child(const char *failpoint, const char *chr, const char *keylabel, const char *marker,
		       const char *released)
{
	pid_t pid = fork();
	if (pid == 0) {
		db_conn *c = NULL;
		uint8_t body[600], chat[32], kh[32], *der = NULL;
		size_t dl;
		int64_t req, cert;
		db_intent in;
		signer s = { .sigbyte = 5, .marker = marker };
		setenv("EAC_FAILPOINT", failpoint, 1);
		if (db_open(dbt_conninfo("cvca", "service"), NULL, "cvca", &c) != EAC_OK ||
		    dbt_dv_request(c, fx.dv, chr, "crash", &req) != EAC_OK)
			_exit(3);
		dbt_dv_intent(&fx, req, chr, keylabel, body, chat, kh, &in);
		in.car = "FICVCA00002";
		in.tbs_len = dbt_body(body, "FICVCA00002", chr, 0x83, "260101", "260401", (uint8_t)keylabel[0]);
		if (db_issue(c, &in, sign_cb, &s, &cert, &der, &dl) != EAC_OK)
			_exit(4);
		/* 4. release: only reached when the result committed */
		FILE *f = fopen(released, "w");
		if (f) {
			fwrite(der, 1, dl, f);
			fclose(f);
		}
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFSIGNALED(st) ? WTERMSIG(st) : -WEXITSTATUS(st);
}

static int exists_file(const char *p)
{
	struct stat sb;
	return stat(p, &sb) == 0;
}

static void test_crash_after_intent_then_recovery_completes(void **state)
{
	char marker[128], released[128];
	db_open_intent *list = NULL;
	size_t n = 0;
	(void)state;
	snprintf(marker, sizeof(marker), "%s/signed-1", dbt_dir());
	snprintf(released, sizeof(released), "%s/released-1", dbt_dir());

	assert_int_equal(crash_child("after_intent_commit", "FIDV000200", "crash-key-1", marker, released), SIGKILL);
	assert_false(exists_file(marker));   /* never signed */
	assert_false(exists_file(released)); /* never written out */

	assert_int_equal(db_recover_list(db, &list, &n), EAC_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].chr, "FIDV000200");
	assert_int_equal(list[0].kind, DB_KIND_DV);
	uint8_t h[32];
	assert_int_equal(eac_sha256(list[0].tbs, list[0].tbs_len, h), EAC_OK);
	assert_memory_equal(h, list[0].tbs_hash, 32);
	/* recovery signs the same body again and records it */
	uint8_t der[1400];
	int64_t cert;
	size_t dl = dbt_cert(der, list[0].tbs, list[0].tbs_len, 6);
	assert_int_equal(db_result_record(db, list[0].id, der, dl, &cert), EAC_OK);
	db_open_intents_free(list, n);
	assert_int_equal(db_recover_list(db, &list, &n), EAC_OK);
	assert_int_equal(n, 0);
	db_open_intents_free(list, n);
}

static void test_crash_after_sign_then_recovery_abandons(void **state)
{
	char marker[128], released[128], sql[256];
	db_open_intent *list = NULL;
	size_t n = 0;
	(void)state;
	snprintf(marker, sizeof(marker), "%s/signed-2", dbt_dir());
	snprintf(released, sizeof(released), "%s/released-2", dbt_dir());

	assert_int_equal(crash_child("after_sign", "FIDV000201", "crash-key-2", marker, released), SIGKILL);
	assert_true(exists_file(marker));    /* it signed ... */
	assert_false(exists_file(released)); /* ... but nothing left the appliance */
	assert_int_equal(count("SELECT count(*) FROM eac.certificates WHERE chr = 'FIDV000201'"), 0);

	assert_int_equal(db_recover_list(db, &list, &n), EAC_OK);
	assert_int_equal(n, 1);
	int64_t id = list[0].id;
	assert_int_equal(db_abandon(db, id, "recovery: signed before a crash, not recorded"), EAC_OK);
	db_open_intents_free(list, n);
	assert_int_equal(db_recover_list(db, &list, &n), EAC_OK);
	assert_int_equal(n, 0);
	db_open_intents_free(list, n);
	/* audited, and final */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM eac.audit_events WHERE action = 'issuance.abandon'"
		 " AND object = 'issuance:%lld' AND details LIKE '%%recovery: signed before a crash%%'", (long long)id);
	assert_int_equal(count(sql), 1);
	assert_int_equal(db_abandon(db, id, "again"), EAC_ERR_STATE);
	uint8_t der[1400];
	int64_t cert;
	uint8_t body[600];
	size_t bl = dbt_body(body, "FICVCA00002", "FIDV000201", 0x83, "260101", "260401", 'c');
	size_t dl = dbt_cert(der, body, bl, 1);
	assert_int_equal(db_result_record(db, id, der, dl, &cert), EAC_ERR_STATE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_STATE), "was abandoned"));
}

static void test_crash_before_or_after_result_commit(void **state)
{
	char marker[128], released[128];
	db_open_intent *list = NULL;
	size_t n = 0;
	(void)state;

	/* killed before COMMIT: the result is not there, the intent is open */
	snprintf(marker, sizeof(marker), "%s/signed-3", dbt_dir());
	snprintf(released, sizeof(released), "%s/released-3", dbt_dir());
	assert_int_equal(crash_child("before_result_commit", "FIDV000202", "crash-key-3", marker, released), SIGKILL);
	assert_false(exists_file(released));
	assert_int_equal(count("SELECT count(*) FROM eac.certificates WHERE chr = 'FIDV000202'"), 0);
	assert_int_equal(db_recover_list(db, &list, &n), EAC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(db_abandon(db, list[0].id, "recovery"), EAC_OK);
	db_open_intents_free(list, n);

	/* killed after COMMIT: recorded, nothing to recover, not yet released */
	snprintf(marker, sizeof(marker), "%s/signed-4", dbt_dir());
	snprintf(released, sizeof(released), "%s/released-4", dbt_dir());
	assert_int_equal(crash_child("after_result_commit", "FIDV000203", "crash-key-4", marker, released), SIGKILL);
	assert_false(exists_file(released));
	assert_int_equal(count("SELECT count(*) FROM eac.certificates WHERE chr = 'FIDV000203'"), 1);
	assert_int_equal(db_recover_list(db, &list, &n), EAC_OK);
	assert_int_equal(n, 0);
	db_open_intents_free(list, n);

	/* without a failpoint the same child releases */
	snprintf(released, sizeof(released), "%s/released-5", dbt_dir());
	assert_int_equal(crash_child("none", "FIDV000204", "crash-key-5", marker, released), 0);
	assert_true(exists_file(released));
}

/* ---- sequence numbers under contention ---- */

typedef struct seqw {
	int got[40];
	eac_err r;
} seqw;

static void *seq_thread(void *arg)
{
	seqw *w = arg;
	db_conn *c = NULL;
	if ((w->r = db_open(dbt_conninfo("cvca", "service"), NULL, "cvca", &c)) != EAC_OK)
		return NULL;
	for (int i = 0; i < 40 && w->r == EAC_OK; i++)
		w->r = db_seq_next(c, "FICVCA", &w->got[i]);
	db_close(c);
	return NULL;
}

static void test_32_concurrent_sequence_allocators(void **state)
{
	enum { T = 32, K = 40 };
	pthread_t t[T];
	static seqw w[T];
	static unsigned char seen[T * K + 1];
	(void)state;

	for (int i = 0; i < T; i++)
		assert_int_equal(pthread_create(&t[i], NULL, seq_thread, &w[i]), 0);
	for (int i = 0; i < T; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < T; i++) {
		assert_int_equal(w[i].r, EAC_OK);
		for (int k = 0; k < K; k++) {
			int v = w[i].got[k];
			assert_true(v >= 1 && v <= T * K);
			assert_int_equal(seen[v], 0); /* never handed out twice */
			seen[v] = 1;
			if (k > 0)
				assert_true(v > w[i].got[k - 1]); /* monotonic for each caller */
		}
	}
	/* no gaps either, and each allocation is audited */
	assert_int_equal(count("SELECT last_value FROM eac.seq_counters WHERE scope = 'FICVCA'"), T * K);
	assert_int_equal(count("SELECT count(*) FROM eac.audit_events WHERE action = 'sequence.allocate'"), T * K);
	/* the counter only goes up, for the owner too */
	PGconn *c = dbt_pg("cvca", "owner");
	assert_non_null(c);
	assert_string_equal(dbt_sql(c, "UPDATE eac.seq_counters SET last_value = 1", NULL), "EA001");
	assert_string_equal(dbt_sql(c, "DELETE FROM eac.seq_counters", NULL), "EA001");
	PQfinish(c);
	/* and ends at 99999 */
	assert_string_equal(dbt_tamper("cvca", "INSERT INTO eac.seq_counters VALUES ('FIDVX', 99999)"), "");
	int v;
	assert_int_equal(db_seq_next(db, "FIDVX", &v), EAC_ERR_STATE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_STATE), "spent"));
}

/* ---- the database stopped: nothing is signed ---- */

static void test_database_stopped_fails_before_signing(void **state)
{
	uint8_t body[600], chat[32], kh[32], *der = NULL;
	size_t dl = 0;
	int64_t req, cert = 0;
	db_intent in;
	signer s = { .sigbyte = 8 };
	db_conn *c = NULL;
	(void)state;

	assert_int_equal(dbt_dv_request(db, fx.dv, "FIDV000300", "h", &req), EAC_OK);
	dbt_dv_intent(&fx, req, "FIDV000300", "stopped-key", body, chat, kh, &in);
	in.car = "FICVCA00002";
	in.tbs_len = dbt_body(body, "FICVCA00002", "FIDV000300", 0x83, "260101", "260401", 's');
	assert_int_equal(dbt_stop_server(), 0);

	assert_int_equal(db_issue(db, &in, sign_cb, &s, &cert, &der, &dl), EAC_ERR_DB_UNAVAILABLE);
	assert_int_equal(s.calls, 0);
	assert_null(der);
	const char *d = eac_err_detail(EAC_ERR_DB_UNAVAILABLE);
	assert_non_null(strstr(d, "database cvca (eac_service@"));
	assert_null(strchr(d, '\n'));
	/* a fresh start says it cannot connect */
	assert_int_equal(db_open(dbt_conninfo("cvca", "service"), NULL, "cvca", &c), EAC_ERR_DB_UNAVAILABLE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_UNAVAILABLE), "cannot connect"));

	/* the server back, the same connection carries on */
	assert_int_equal(dbt_start_server(), 0);
	assert_int_equal(db_issue(db, &in, sign_cb, &s, &cert, &der, &dl), EAC_OK);
	assert_int_equal(s.calls, 1);
	free(der);
}

/* Parametrised statements are prepared once per connection (db/conn.c:
 * parsed and analysed once); a session that ends under the connection
 * takes them with it, and the reconnected one prepares them anew instead
 * of executing names the new session never had. */
static void test_statements_prepared_once_per_session(void **state)
{
	const char *count = "SELECT count(*), pg_backend_pid() FROM pg_prepared_statements WHERE name ~ '^eac[0-9]+$'";
	db_status st;
	PGresult *res = NULL;
	char sql[96];
	(void)state;

	assert_int_equal(db_status_get(db, &st), EAC_OK);
	size_t n = db->nstmts;
	assert_true(n > 0);
	assert_int_equal(db_status_get(db, &st), EAC_OK);
	assert_int_equal(db->nstmts, n);
	assert_int_equal(dbi_exec(db, "count prepared statements", count, NULL, &res), EAC_OK);
	assert_int_equal(dbi_int(res, 0, 0), (int64_t)n);
	int64_t pid = dbi_int(res, 0, 1);
	PQclear(res);
	/* the session ends (an administrator, a failover) */
	PGconn *a = dbt_pg("cvca", "admin");
	assert_non_null(a);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%lld)", (long long)pid);
	assert_string_equal(dbt_value(a, sql), "t");
	PQfinish(a);
	/* the next call may find the connection gone; the one after it
	 * reconnects and prepares on the new session */
	if (db_status_get(db, &st) != EAC_OK)
		assert_int_equal(db_status_get(db, &st), EAC_OK);
	assert_int_equal(db_status_get(db, &st), EAC_OK);
	assert_int_equal(dbi_exec(db, "count prepared statements", count, NULL, &res), EAC_OK);
	assert_true(dbi_int(res, 0, 1) != pid);
	assert_true(db->nstmts > 0);
	assert_int_equal(dbi_int(res, 0, 0), (int64_t)db->nstmts);
	PQclear(res);
}

/* ---- the chain after all of this ---- */

/* Rows of certificates and issuances the plan of a 64-item facts chunk
 * reads (EXPLAIN ANALYZE: rows x loops of their scans), on connection c. */
static long facts_rows_read(PGconn *c)
{
	PGresult *res = PQexec(c, "SELECT ARRAY(SELECT sha256(int8send(g)) FROM generate_series(101, 164) g),"
				  " ARRAY(SELECT 'FIIS' || lpad(g::text, 7, '0') || '00002' FROM generate_series(101, 164) g),"
				  " ARRAY(SELECT 'FIIS' || lpad(g::text, 7, '0') || '00001' FROM generate_series(101, 164) g)");
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	size_t en = strlen(PQgetvalue(res, 0, 0)) + strlen(PQgetvalue(res, 0, 1)) + strlen(PQgetvalue(res, 0, 2)) + 256;
	char *ex = malloc(en);
	assert_non_null(ex);
	snprintf(ex, en, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) EXECUTE facts(7, 'is', '%s', '%s', '%s')",
		 PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	PQclear(res);
	res = PQexec(c, ex);
	free(ex);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fprintf(stderr, "# %s", PQresultErrorMessage(res));
	assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
	long read = 0, result_rows = -1;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *line = PQgetvalue(res, i, 0), *r = strstr(line, "rows="), *l = strstr(line, "loops=");
		if (r == NULL || l == NULL)
			continue;
		long rows = atol(r + 5) * atol(l + 6);
		if (strstr(line, " on certificates") || strstr(line, " on issuances"))
			read += rows;
		if (result_rows < 0)
			result_rows = rows;
	}
	PQclear(res);
	assert_int_equal(result_rows, 64);
	return read;
}

/* The facts of a chunk are index probes per item, never a pass over the
 * issuer's certificates and intents, whatever the statistics say: with
 * 20,000 of each in the tables, a 64-item chunk reads at most 4 rows per
 * item from them — planned on statistics taken while the tables were
 * empty (as after a first large batch, before autovacuum's ANALYZE),
 * again on fresh ones, and as a generic plan. (The earlier form, EXISTS sublinks and a plain
 * join, was planned on stale statistics as hashed subplans and a hash
 * join that read all 20,000 rows of each, per chunk.) */
static void test_facts_probe_per_item(void **state)
{
	db_conn *d = NULL;
	(void)state;
	assert_int_equal(dbt_createdb("facts"), 0);
	assert_int_equal(dbt_open("facts", "dv", &d), EAC_OK);
	db_close(d);
	const char *st = dbt_tamper("facts",
		"ANALYZE;"
		" INSERT INTO eac.issuances (issuer_id, signing_key_id, kind, chr, car, holder_key_hash, request_id,"
		" chat, effective, expiry, tbs, tbs_hash, created_at)"
		" SELECT 7, 1, 'is', 'FIIS' || lpad(g::text, 7, '0') || '00001', 'FIDVFI00001', sha256(int8send(g)), g,"
		" '\\x7f4c00', '2026-01-01', '2026-04-01', int8send(g), sha256(int8send(g)), now()"
		" FROM generate_series(1, 20000) g;"
		" INSERT INTO eac.certificates (source, issuance_id, issuer_id, kind, chr, car, chat, effective, expiry,"
		" holder_key_hash, request_id, der, der_hash, issued_at)"
		" SELECT 'issued', i.id, 7, 'is', i.chr, i.car, i.chat, i.effective, i.expiry, i.holder_key_hash,"
		" i.request_id, '\\x7f21'::bytea || i.tbs, sha256('\\x7f21'::bytea || i.tbs), now() FROM eac.issuances i");
	if (st[0] != '\0')
		fprintf(stderr, "# %s", dbt_tamper_msg());
	assert_string_equal(st, "");
	PGconn *c = dbt_pg("facts", "auditor");
	assert_non_null(c);
	size_t qn = strlen(dbi_issue_facts_sql) + 128;
	char *q = malloc(qn);
	assert_non_null(q);
	snprintf(q, qn, "PREPARE facts(bigint, text, bytea[], text[], text[]) AS %s", dbi_issue_facts_sql);
	assert_string_equal(dbt_sql(c, q, NULL), "");
	free(q);
	/* 64 re-keys: a certified key each (hits), a new CHR each (misses),
	 * each outer certificate there */
	long stale = facts_rows_read(c);
	assert_string_equal(dbt_tamper("facts", "ANALYZE"), "");
	long fresh = facts_rows_read(c);
	/* the engines prepare their statements once per session (db/conn.c),
	 * so PostgreSQL may settle on a generic plan: it must probe too */
	assert_string_equal(dbt_sql(c, "SET plan_cache_mode = force_generic_plan", NULL), "");
	long generic = facts_rows_read(c);
	PQfinish(c);
	fprintf(stderr, "# facts of 64 items: %ld rows read on stale statistics, %ld on fresh ones, %ld generic\n",
		stale, fresh, generic);
	assert_true(stale >= 64 && stale <= 4 * 64);
	assert_true(fresh >= 64 && fresh <= 4 * 64);
	assert_true(generic >= 64 && generic <= 4 * 64);
}

static void test_chain_intact_after_everything(void **state)
{
	db_audit_report rep;
	(void)state;
	assert_int_equal(db_audit_verify(db, NULL, &rep), EAC_OK);
	assert_int_equal(rep.first_bad, 0);
	assert_true(rep.rows > 1000);
	assert_true(rep.anchors >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protocol_records_then_releases),
		cmocka_unit_test(test_chr_unique_per_issuer),
		cmocka_unit_test(test_no_renewal_of_a_key_cp_4_6),
		cmocka_unit_test(test_body_must_match_intent),
		cmocka_unit_test(test_signer_returning_another_body_abandons),
		cmocka_unit_test(test_states_refuse_issuance),
		cmocka_unit_test(test_dv_limit_per_country_cp_1_3a),
		cmocka_unit_test(test_parallel_approvals_one_intent),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_protocol_calls_refuse_inside_tx),
		cmocka_unit_test(test_crash_after_intent_then_recovery_completes),
		cmocka_unit_test(test_crash_after_sign_then_recovery_abandons),
		cmocka_unit_test(test_crash_before_or_after_result_commit),
		cmocka_unit_test(test_32_concurrent_sequence_allocators),
		cmocka_unit_test(test_database_stopped_fails_before_signing),
		cmocka_unit_test(test_statements_prepared_once_per_session),
		cmocka_unit_test(test_facts_probe_per_item),
		cmocka_unit_test(test_chain_intact_after_everything),
	};
	return cmocka_run_group_tests_name("db issuance", tests, setup, teardown);
}
