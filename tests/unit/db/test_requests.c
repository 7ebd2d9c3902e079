/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db/: the request queue and the registries against a real PostgreSQL
 * (sandbox), on both engines' databases: idempotent submission (the same
 * bytes, the same answer), guarded transitions, deadlines and the pending
 * list, status; authorities, keys, inspection systems (CP-3.3.2), imported
 * certificates and the DV's own requests to CVCAs.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "tests/unit/db/dbtest.h"

static db_conn *cv, *dv;
static dbt_cvca fx;

static int setup(void **state)
{
	(void)state;
	unsetenv("EAC_TEST_NOW");
	if (dbt_start() != 0 || dbt_open("cvca", "cvca", &cv) != EAC_OK || dbt_open("dv", "dv", &dv) != EAC_OK ||
	    dbt_cvca_setup(cv, "DV", &fx) != EAC_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_close(cv);
	db_close(dv);
	dbt_finish();
	return 0;
}

static db_request_in req_in(const char *raw, const char *chr, int64_t within)
{
	db_request_in in = { .kind = DB_KIND_DV, .channel = "foreign", .authority = fx.dv,
			     .raw = (const uint8_t *)raw, .raw_len = strlen(raw), .holder_chr = chr,
			     .outer_car = "DECVCA00003", .process_within = within, .acknowledge = 1 };
	return in;
}

static int64_t count(const char *dbname, const char *sql)
{
	PGconn *c = dbt_pg(dbname, "auditor");
	const char *v = c ? dbt_value(c, sql) : NULL;
	int64_t n = v ? strtoll(v, NULL, 10) : -1;
	PQfinish(c);
	return n;
}

static void test_same_bytes_same_request(void **state)
{
	db_request a, b;
	int existing = -1;
	uint8_t h[32], *raw = NULL;
	size_t len = 0;
	(void)state;

	db_request_in in = req_in("first request bytes", "FIDV000001", 72 * 3600);
	assert_int_equal(db_request_submit(cv, &in, &a, &existing), EAC_OK);
	assert_int_equal(existing, 0);
	assert_int_equal(a.state, DB_REQ_RECEIVED);
	assert_int_equal(a.kind, DB_KIND_DV);
	assert_string_equal(a.channel, "foreign");
	assert_string_equal(a.holder_chr, "FIDV000001");
	assert_string_equal(a.outer_car, "DECVCA00003");
	assert_int_equal(a.deadline - a.received_at, 72 * 3600); /* CP-4.2.2 / CP-5.4.2 */
	assert_int_equal(a.acknowledged_at, a.received_at);
	assert_int_equal(eac_sha256(in.raw, in.raw_len, h), EAC_OK);
	assert_memory_equal(a.raw_hash, h, 32);
	assert_int_equal(db_request_raw(cv, a.id, &raw, &len), EAC_OK);
	assert_int_equal(len, in.raw_len);
	assert_memory_equal(raw, in.raw, len);
	free(raw);

	/* again: the same row, and the repetition is an event too */
	assert_int_equal(db_request_submit(cv, &in, &b, &existing), EAC_OK);
	assert_int_equal(existing, 1);
	assert_int_equal(b.id, a.id);
	assert_int_equal(count("cvca", "SELECT count(*) FROM eac.requests"), 1);
	assert_int_equal(count("cvca", "SELECT count(*) FROM eac.audit_events WHERE action = 'request.resubmit'"), 1);

	/* rejected: the resubmission gets the same rejection */
	assert_int_equal(db_request_reject(cv, a.id, "CP-3.2.3", "no outer signature by the national CVCA", "officer:bob"),
			 EAC_OK);
	assert_int_equal(db_request_submit(cv, &in, &b, &existing), EAC_OK);
	assert_int_equal(existing, 1);
	assert_int_equal(b.state, DB_REQ_REJECTED);
	assert_string_equal(b.rule_id, "CP-3.2.3");
	assert_string_equal(b.message, "no outer signature by the national CVCA");
	assert_string_equal(b.decided_by, "officer:bob");
	assert_true(b.decided_at > 0);

	/* issued: the resubmission names the same certificate */
	uint8_t body[600], chat[32], kh[32], der[1400];
	int64_t rid, iid, cert;
	db_intent it;
	db_cert c;
	assert_int_equal(dbt_dv_request(cv, fx.dv, "FIDV000002", "x", &rid), EAC_OK);
	dbt_dv_intent(&fx, rid, "FIDV000002", "dv-key-2", body, chat, kh, &it);
	assert_int_equal(db_intent_record(cv, &it, &iid), EAC_OK);
	size_t n = dbt_cert(der, body, it.tbs_len, 2);
	assert_int_equal(db_result_record(cv, iid, der, n, &cert), EAC_OK);
	char raw2[64] = "request FIDV000002 x";
	db_request_in again = { .kind = DB_KIND_DV, .channel = "domestic", .authority = fx.dv,
				.raw = (const uint8_t *)raw2, .raw_len = strlen(raw2), .holder_chr = "FIDV000002",
				.process_within = 3600 };
	assert_int_equal(db_request_submit(cv, &again, &b, &existing), EAC_OK);
	assert_int_equal(existing, 1);
	assert_int_equal(b.id, rid);
	assert_int_equal(b.state, DB_REQ_ISSUED);
	assert_int_equal(b.certificate, cert);
	assert_int_equal(db_cert_by_request(cv, rid, &c), EAC_OK);
	assert_memory_equal(c.der, der, n);
	db_cert_free(&c);
}

static void test_transitions_guarded(void **state)
{
	db_request q;
	const char *msg = NULL;
	char sql[256];
	(void)state;

	db_request_in in = req_in("second request bytes", "FIDV000003", 72 * 3600);
	in.acknowledge = 0;
	assert_int_equal(db_request_submit(cv, &in, &q, NULL), EAC_OK);
	assert_int_equal(q.acknowledged_at, 0);
	/* CP-4.2.2: the acknowledgement is recorded once */
	assert_int_equal(db_request_acknowledge(cv, q.id), EAC_OK);
	assert_int_equal(db_request_get(cv, q.id, &q), EAC_OK);
	int64_t ack = q.acknowledged_at;
	assert_true(ack > 0);
	assert_int_equal(db_request_acknowledge(cv, q.id), EAC_OK);
	assert_int_equal(db_request_get(cv, q.id, &q), EAC_OK);
	assert_int_equal(q.acknowledged_at, ack);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM eac.audit_events WHERE action = 'request.acknowledge'"
				   " AND object = 'request:%" PRId64 "'", q.id);
	assert_int_equal(count("cvca", sql), 1);

	/* received -> issued without a certificate; received -> received */
	PGconn *c = dbt_pg("cvca", "service");
	assert_non_null(c);
	snprintf(sql, sizeof(sql), "UPDATE eac.requests SET state = 'issued', decided_at = now() WHERE id = %" PRId64, q.id);
	assert_string_equal(dbt_sql(c, sql, &msg), "EA002");
	assert_int_equal(db_request_validate(cv, q.id, "officer:alice"), EAC_OK);
	snprintf(sql, sizeof(sql), "UPDATE eac.requests SET state = 'issued' WHERE id = %" PRId64, q.id);
	assert_string_equal(dbt_sql(c, sql, &msg), "EA003");
	assert_non_null(strstr(msg, "issued only by recording its certificate"));
	snprintf(sql, sizeof(sql), "UPDATE eac.requests SET state = 'received', decided_at = NULL WHERE id = %" PRId64, q.id);
	assert_string_equal(dbt_sql(c, sql, &msg), "EA002");
	/* what was received never changes */
	snprintf(sql, sizeof(sql), "UPDATE eac.requests SET raw = '\\x00' WHERE id = %" PRId64, q.id);
	assert_string_equal(dbt_sql(c, sql, &msg), "42501");
	snprintf(sql, sizeof(sql), "UPDATE eac.requests SET deadline = deadline + interval '1 day' WHERE id = %" PRId64, q.id);
	assert_string_equal(dbt_sql(c, sql, &msg), "42501");
	PQfinish(c);
	c = dbt_pg("cvca", "owner");
	assert_non_null(c);
	snprintf(sql, sizeof(sql), "UPDATE eac.requests SET deadline = deadline + interval '1 day' WHERE id = %" PRId64, q.id);
	assert_string_equal(dbt_sql(c, sql, &msg), "EA001");
	assert_string_equal(dbt_sql(c, "DELETE FROM eac.requests", &msg), "EA001");
	PQfinish(c);

	/* a decision is made once */
	assert_int_equal(db_request_validate(cv, q.id, "officer:mallory"), EAC_ERR_STATE);
	assert_int_equal(db_request_reject(cv, q.id, "CP-3.3.1", "DV no longer valid", "officer:bob"), EAC_OK);
	assert_int_equal(db_request_reject(cv, q.id, "CP-3.3.1", "again", "officer:bob"), EAC_ERR_STATE);
	assert_int_equal(db_request_validate(cv, q.id, "officer:bob"), EAC_ERR_STATE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_STATE), "state rejected cannot become validated"));
	/* a rejection names its rule */
	assert_int_equal(db_request_reject(cv, q.id, "", "x", "officer:bob"), EAC_ERR_USAGE);
	assert_int_equal(db_request_get(cv, 999999, &q), EAC_ERR_NOT_FOUND);
	assert_int_equal(db_request_validate(cv, 999999, "officer:bob"), EAC_ERR_NOT_FOUND);
}

static void test_submission_refusals(void **state)
{
	db_request q;
	(void)state;
	db_request_in in = req_in("", "FIDV000004", 3600);
	assert_int_equal(db_request_submit(cv, &in, &q, NULL), EAC_ERR_MALFORMED);
	uint8_t *big = calloc(1, DB_REQUEST_MAX + 1);
	assert_non_null(big);
	in.raw = big;
	in.raw_len = DB_REQUEST_MAX + 1;
	assert_int_equal(db_request_submit(cv, &in, &q, NULL), EAC_ERR_MALFORMED);
	free(big);
	in = req_in("bytes", "FIDV000004", 3600);
	in.channel = "carrier-pigeon";
	assert_int_equal(db_request_submit(cv, &in, &q, NULL), EAC_ERR_DB_CONFLICT);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "requests_channel_ck"));
	in = req_in("bytes", "FI", 3600);
	assert_int_equal(db_request_submit(cv, &in, &q, NULL), EAC_ERR_DB_CONFLICT);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "requests_holder_chr_ck"));
	in = req_in("bytes", "FIDV000004", 3600);
	in.kind = DB_KIND_IS;
	assert_int_equal(db_request_submit(cv, &in, &q, NULL), EAC_ERR_DB_CONFLICT);
	in = req_in("bytes", "FIDV000004", 0);
	assert_int_equal(db_request_submit(cv, &in, &q, NULL), EAC_ERR_USAGE);
}

static void test_pending_by_deadline_and_overdue(void **state)
{
	db_request q, *list = NULL;
	size_t n = 0;
	db_status st;
	(void)state;

	db_request_in a = req_in("late request", "FIDV000010", 72 * 3600);
	db_request_in b = req_in("early request", "FIDV000011", 3600);
	db_request_in c = req_in("middle request", "FIDV000012", 24 * 3600);
	assert_int_equal(db_request_submit(cv, &a, &q, NULL), EAC_OK);
	assert_int_equal(db_request_submit(cv, &b, &q, NULL), EAC_OK);
	assert_int_equal(db_request_submit(cv, &c, &q, NULL), EAC_OK);
	assert_int_equal(db_request_validate(cv, q.id, "officer:alice"), EAC_OK); /* validated: still pending */

	assert_int_equal(db_requests_pending(cv, 10, &list, &n), EAC_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].holder_chr, "FIDV000011");
	assert_string_equal(list[1].holder_chr, "FIDV000012");
	assert_int_equal(list[1].state, DB_REQ_VALIDATED);
	assert_string_equal(list[2].holder_chr, "FIDV000010");
	free(list);
	assert_int_equal(db_requests_pending(cv, 1, &list, &n), EAC_OK);
	assert_int_equal(n, 1);
	free(list);

	assert_int_equal(db_status_get(cv, &st), EAC_OK);
	assert_int_equal(st.requests_pending, 3);
	assert_int_equal(st.requests_overdue, 0);
	assert_true(st.next_deadline > 0);
	/* two hours on: the one-hour request is overdue */
	char now[32];
	snprintf(now, sizeof(now), "%lld", (long long)(eac_now() + 2 * 3600));
	setenv("EAC_TEST_NOW", now, 1);
	assert_int_equal(db_status_get(cv, &st), EAC_OK);
	assert_int_equal(st.requests_overdue, 1);
	snprintf(now, sizeof(now), "%lld", (long long)(eac_now() + 48 * 3600));
	setenv("EAC_TEST_NOW", now, 1);
	assert_int_equal(db_status_get(cv, &st), EAC_OK);
	/* 50 hours on: the 24-hour one too; distribution deadlines as well */
	assert_int_equal(st.requests_overdue, 2);
	assert_int_equal(st.awaiting_distribution, 1);
	assert_int_equal(st.distribution_overdue, 1);
	unsetenv("EAC_TEST_NOW");
}

static void test_status_own_certificate(void **state)
{
	db_status st;
	uint8_t body[600], chat[32], kh[32], der[1400];
	int64_t id, cert;
	(void)state;

	assert_int_equal(db_status_get(cv, &st), EAC_OK);
	assert_int_equal(st.own_key, fx.key);
	assert_false(st.has_own_cert);
	/* the self-signed CVCA certificate of the active key */
	dbt_hash("cvca-key-1", kh);
	size_t bl = dbt_body(body, "FICVCA00001", "FICVCA00001", 0xc3, "260101", "281231", 'C');
	db_intent in = { .issuer = fx.own, .signing_key = fx.key, .kind = DB_KIND_CVCA, .chr = "FICVCA00001",
			 .car = "FICVCA00001", .holder_key_hash = kh, .chat = chat, .chat_len = dbt_chat(chat, 0xc3),
			 .effective = "2026-01-01", .expiry = "2028-12-31", .tbs = body, .tbs_len = bl,
			 .distribute_within = 90 * 86400 };
	assert_int_equal(db_intent_record(cv, &in, &id), EAC_OK);
	assert_int_equal(db_status_get(cv, &st), EAC_OK);
	assert_int_equal(st.open_intents, 1);
	size_t n = dbt_cert(der, body, bl, 7);
	assert_int_equal(db_result_record(cv, id, der, n, &cert), EAC_OK);
	assert_int_equal(db_status_get(cv, &st), EAC_OK);
	assert_int_equal(st.open_intents, 0);
	assert_true(st.has_own_cert);
	assert_string_equal(st.own_chr, "FICVCA00001");
	assert_string_equal(st.own_car, "FICVCA00001");
	assert_string_equal(st.own_expiry, "2028-12-31");
	/* a CVCA certificate needs no request; a DV certificate does (CP-4.1) */
	in.kind = DB_KIND_DV;
	assert_int_equal(db_intent_record(cv, &in, &id), EAC_ERR_DB_CONFLICT);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "issuances_request_ck"));
}

static void test_keys_registry(void **state)
{
	uint8_t h[32];
	int64_t id;
	db_key k;
	int yes = 1;
	(void)state;

	dbt_hash("cvca-key-1", h);
	assert_int_equal(db_key_find(cv, h, &k), EAC_OK);
	assert_int_equal(k.id, fx.key);
	assert_int_equal(k.state, DB_KEY_ACTIVE);
	assert_string_equal(k.pkcs11_uri, "pkcs11:token=CVCA;object=cvca-1");
	assert_string_equal(k.curve, "brainpoolP256r1");
	assert_int_equal(db_key_compromised(cv, h, &yes), EAC_OK);
	assert_false(yes);
	/* a PIN never goes into the record */
	dbt_hash("key-with-pin", h);
	db_key_in in = { .authority = fx.own, .pkcs11_uri = "pkcs11:token=CVCA;object=x?pin-value=1234",
			 .pubkey_hash = h, .algorithm = "ECDSA-SHA-256", .state = DB_KEY_PENDING };
	assert_int_equal(db_key_add(cv, &in, &id), EAC_ERR_DB_CONFLICT);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "keys_pkcs11_uri_ck"));
	/* a key in our token belongs to our own authority */
	in.pkcs11_uri = "pkcs11:token=CVCA;object=x";
	in.authority = fx.dv;
	assert_int_equal(db_key_add(cv, &in, &id), EAC_ERR_DB_CONFLICT);
	/* one active signing key per authority */
	in.authority = fx.own;
	in.state = DB_KEY_ACTIVE;
	assert_int_equal(db_key_add(cv, &in, &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(cv), DB_CONFLICT_KEY);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "keys_one_active_uq"));
	in.state = DB_KEY_PENDING;
	assert_int_equal(db_key_add(cv, &in, &id), EAC_OK);
	assert_int_equal(db_key_add(cv, &in, &id), EAC_ERR_DB_CONFLICT); /* registered once */
	/* labels are set once */
	int64_t pid;
	assert_int_equal(db_key_find(cv, h, &k), EAC_OK);
	pid = k.id;
	assert_int_equal(db_key_set_label(cv, pid, "FICVCA00002"), EAC_OK);
	assert_int_equal(db_key_set_label(cv, pid, "FICVCA00003"), EAC_ERR_DB);
	/* retired pending key; retired -> active refused */
	assert_int_equal(db_key_set_state(cv, pid, DB_KEY_RETIRED, "ceremony aborted"), EAC_OK);
	assert_int_equal(db_key_activate(cv, pid, "x"), EAC_ERR_STATE);
	assert_int_equal(db_key_active(cv, fx.own, &k), EAC_OK);
	assert_int_equal(k.id, fx.key);
	assert_int_equal(count("cvca", "SELECT count(*) FROM eac.audit_events WHERE action = 'key.retired'"
				       " AND details LIKE '%ceremony aborted%'"), 1);
}

/* ---- the DV's database ---- */

static void test_dv_registries_and_is_certificates(void **state)
{
	int64_t own, cvca, key, isid, cert, dvreq, rid, iid, id;
	uint8_t kh[32], ish[32], body[600], chat[32], der[1400];
	db_inspection_system s;
	db_request q;
	(void)state;

	assert_int_equal(db_set_actor(dv, "officer:dora"), EAC_OK);
	db_authority_in me = { .kind = DB_AUTH_OWN_DV, .country = "FI", .mnemonic = "DV", .name = "Border Guard DV",
			       .domestic = 1, .conformity_expiry = "2027-06-30" };
	db_authority_in ca = { .kind = DB_AUTH_CVCA, .country = "FI", .mnemonic = "CVCA", .name = "Finnish CVCA",
			       .domestic = 1 };
	assert_int_equal(db_authority_add(dv, &me, &own), EAC_OK);
	assert_int_equal(db_authority_add(dv, &ca, &cvca), EAC_OK);
	db_authority a;
	assert_int_equal(db_authority_own(dv, &a), EAC_OK);
	assert_int_equal(a.id, own);
	assert_string_equal(a.conformity_expiry, "2027-06-30");
	assert_int_equal(db_authority_update(dv, own, "2028-06-30", "[\"Border Guard\", \"Customs\"]", "new audit"), EAC_OK);
	assert_int_equal(db_authority_get(dv, own, &a), EAC_OK);
	assert_string_equal(a.conformity_expiry, "2028-06-30");
	assert_non_null(strstr(a.organisations, "Customs"));
	/* kinds of the CVCA's database are not this one's */
	db_authority_in wrong = { .kind = DB_AUTH_DV, .country = "SE", .mnemonic = "DV", .name = "x" };
	assert_int_equal(db_authority_add(dv, &wrong, &id), EAC_ERR_DB_CONFLICT);

	/* the DV's key, pending until its certificate arrives */
	dbt_hash("dv-own-key", kh);
	db_key_in ki = { .authority = own, .pkcs11_uri = "pkcs11:token=DV;object=dv-1", .pubkey_hash = kh,
			 .algorithm = "ECDSA-SHA-256", .curve = "brainpoolP256r1", .state = DB_KEY_PENDING };
	assert_int_equal(db_key_add(dv, &ki, &key), EAC_OK);
	db_dv_request_in dr = { .cvca = cvca, .car = "FICVCA00001", .chr = "FIDV000001", .key = key,
				.raw = (const uint8_t *)"dv request bytes", .raw_len = 16 };
	assert_int_equal(db_dv_request_record(dv, &dr, &dvreq), EAC_OK);
	assert_int_equal(db_dv_request_record(dv, &dr, &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(dv), DB_CONFLICT_DUPLICATE);

	/* the answer: our DV certificate, imported; it must repeat its body */
	size_t bl = dbt_body(body, "FICVCA00001", "FIDV000001", 0x83, "260101", "260401", 'D');
	size_t n = dbt_cert(der, body, bl, 1);
	db_import im = { .issuer = cvca, .kind = DB_KIND_DV, .chr = "FIDV000001", .car = "FICVCA00001",
			 .holder_key_hash = kh, .chat = chat, .chat_len = dbt_chat(chat, 0x83), .effective = "2026-01-01",
			 .expiry = "2026-04-02", .der = der, .der_len = n };
	assert_int_equal(db_cert_import(dv, &im, &cert), EAC_ERR_DB_CONFLICT);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "its fields differ from its body"));
	im.expiry = "2026-04-01";
	im.issuer = own;
	assert_int_equal(db_cert_import(dv, &im, &cert), EAC_ERR_DB_CONFLICT);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_CONFLICT), "recorded only by issuance"));
	im.issuer = cvca;
	assert_int_equal(db_cert_import(dv, &im, &cert), EAC_OK);
	assert_int_equal(db_cert_import(dv, &im, &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(dv), DB_CONFLICT_DUPLICATE);
	db_cert c;
	assert_int_equal(db_cert_get(dv, cert, &c), EAC_OK);
	assert_true(c.imported);
	assert_int_equal(c.distribute_by, 0);
	db_cert_free(&c);
	assert_int_equal(db_dv_request_answer(dv, dvreq, cert), EAC_OK);
	assert_int_equal(db_dv_request_answer(dv, dvreq, cert), EAC_ERR_STATE);
	assert_int_equal(db_key_activate(dv, key, "DV certificate received"), EAC_OK);
	db_status st;
	assert_int_equal(db_status_get(dv, &st), EAC_OK);
	assert_true(st.has_own_cert);
	assert_string_equal(st.own_chr, "FIDV000001");

	/* inspection systems: unique names and mnemonics */
	assert_int_equal(db_is_add(dv, "Helsinki-Vantaa gate 12", "HELG12", "Border Guard", &isid), EAC_OK);
	assert_int_equal(db_is_add(dv, "Helsinki-Vantaa gate 12", "HELG13", "Border Guard", &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_last_conflict(dv), DB_CONFLICT_NAME);
	assert_int_equal(db_is_add(dv, "Helsinki-Vantaa gate 13", "HELG12", "Border Guard", &id), EAC_ERR_DB_CONFLICT);
	assert_int_equal(db_is_find(dv, "HELG12", &s), EAC_OK);
	assert_int_equal(s.status, DB_IS_OPERATIONAL);

	/* an IS request (from a registered IS) and its certificate */
	const char *raw = "is request HELG1200001";
	db_request_in ir = { .kind = DB_KIND_IS, .channel = "is", .inspection_system = isid,
			     .raw = (const uint8_t *)raw, .raw_len = strlen(raw), .holder_chr = "FIHELG1200001",
			     .process_within = 24 * 3600, .acknowledge = 1 };
	assert_int_equal(db_request_submit(dv, &ir, &q, NULL), EAC_OK);
	assert_int_equal(q.inspection_system, isid);
	assert_int_equal(q.deadline - q.received_at, 24 * 3600);
	rid = q.id;
	assert_int_equal(db_request_validate(dv, rid, "officer:dora"), EAC_OK);
	dbt_hash("is-key-1", ish);
	bl = dbt_body(body, "FIDV000001", "FIHELG1200001", 0x03, "260101", "260201", 'I');
	db_intent in = { .issuer = own, .signing_key = key, .kind = DB_KIND_IS, .chr = "FIHELG1200001",
			 .car = "FIDV000001", .holder_key_hash = ish, .request = rid, .chat = chat,
			 .chat_len = dbt_chat(chat, 0x03), .effective = "2026-01-01", .expiry = "2026-02-01",
			 .tbs = body, .tbs_len = bl, .distribute_within = 48 * 3600 };
	/* CP-3.3.2: a stolen IS gets nothing */
	assert_int_equal(db_is_set_status(dv, isid, DB_IS_LOST, "reported lost"), EAC_OK);
	assert_int_equal(db_intent_record(dv, &in, &iid), EAC_ERR_POLICY);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_POLICY), "is lost; no certificate is issued to it (CP-3.3.2)"));
	assert_int_equal(db_is_set_status(dv, isid, DB_IS_OPERATIONAL, "found in the office"), EAC_OK);
	assert_int_equal(db_intent_record(dv, &in, &iid), EAC_OK);
	n = dbt_cert(der, body, bl, 3);
	assert_int_equal(db_result_record(dv, iid, der, n, &cert), EAC_OK);
	/* stolen is final */
	assert_int_equal(db_is_set_status(dv, isid, DB_IS_STOLEN, "stolen from the booth"), EAC_OK);
	assert_int_equal(db_is_set_status(dv, isid, DB_IS_OPERATIONAL, "back"), EAC_ERR_STATE);
	/* and its key can be marked compromised (CP-4.7a(c)) */
	db_key_in isk = { .inspection_system = isid, .pubkey_hash = ish, .algorithm = "ECDSA-SHA-256", .state = DB_KEY_ACTIVE };
	int64_t iskey;
	int yes = 0;
	assert_int_equal(db_key_add(dv, &isk, &iskey), EAC_OK);
	assert_int_equal(db_key_set_state(dv, iskey, DB_KEY_COMPROMISED, "IS stolen"), EAC_OK);
	assert_int_equal(db_key_compromised(dv, ish, &yes), EAC_OK);
	assert_true(yes);

	/* an IS request names its IS */
	ir.inspection_system = 0;
	ir.raw = (const uint8_t *)"anonymous";
	ir.raw_len = 9;
	assert_int_equal(db_request_submit(dv, &ir, &q, NULL), EAC_ERR_DB_CONFLICT);
	/* the CVCA's database has no inspection systems */
	assert_int_equal(db_is_add(cv, "x", "X", "y", &id), EAC_ERR_USAGE);
	assert_int_equal(db_dv_request_record(cv, &dr, &id), EAC_ERR_USAGE);

	db_audit_report rep;
	assert_int_equal(db_audit_verify(dv, NULL, &rep), EAC_OK);
	assert_int_equal(rep.anchors, 2);
	assert_int_equal(db_audit_verify(cv, NULL, &rep), EAC_OK);
}

/* Every column of a request except its state, decision and (once) its
 * acknowledgement is what was received and never changes (CP-4.2.2: the
 * record of what was asked). The schema's fast path (version 4) decides
 * the common transitions without calling the guard and names the columns
 * it compares; this tries each column of the table as it is — an engine's
 * own included — together with the transition `moves`, as the owner (who
 * may write every column), and wants the guard's refusal each time. */
static void every_column_refused(const char *dbname, int64_t id, const char *moves, int want)
{
	char cols[2048], sql[1024];
	const char *msg = NULL;
	PGconn *o = dbt_pg(dbname, "owner");
	assert_non_null(o);
	const char *v = dbt_value(o, "SELECT string_agg(attname || ':' || format_type(atttypid, NULL), ';' ORDER BY attnum)"
				     " FROM pg_attribute WHERE attrelid = 'eac.requests'::regclass AND attnum > 0"
				     " AND NOT attisdropped AND attname NOT IN"
				     " ('state', 'rule_id', 'message', 'decided_by', 'decided_at', 'acknowledged_at')");
	assert_non_null(v);
	snprintf(cols, sizeof(cols), "%s", v);
	int tried = 0;
	for (char *save = NULL, *c = strtok_r(cols, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
		char *type = strchr(c, ':');
		char set[256];
		*type++ = '\0';
		if (strcmp(c, "id") == 0)
			snprintf(set, sizeof(set), "id = DEFAULT");
		else if (strcmp(type, "bigint") == 0)
			snprintf(set, sizeof(set), "%s = coalesce(%s + 1, 1)", c, c);
		else if (strcmp(type, "text") == 0)
			snprintf(set, sizeof(set), "%s = coalesce(%s || 'X', 'X')", c, c);
		else if (strcmp(type, "bytea") == 0)
			snprintf(set, sizeof(set), "%s = coalesce(%s || '\\x00'::bytea, '\\x00')", c, c);
		else if (strcmp(type, "timestamp with time zone") == 0)
			snprintf(set, sizeof(set), "%s = coalesce(%s + interval '1 second', now())", c, c);
		else
			fail_msg("requests.%s: a column of type %s; teach this test to change it", c, type);
		snprintf(sql, sizeof(sql), "UPDATE eac.requests SET %s, %s WHERE id = %" PRId64, moves, set, id);
		const char *st = dbt_sql(o, sql, &msg);
		if (strcmp(st, "EA001") != 0 || strstr(msg, "what was received never changes") == NULL)
			fail_msg("%s: %s -> %s %s", dbname, sql, st, msg ? msg : "");
		tried++;
	}
	assert_int_equal(tried, want);
	PQfinish(o);
}

static void test_what_was_received_never_changes(void **state)
{
	db_request q;
	const char *msg = NULL;
	char sql[512];
	(void)state;

	db_request_in in = req_in("request to leave alone", "FIDV000030", 72 * 3600);
	assert_int_equal(db_request_submit(cv, &in, &q, NULL), EAC_OK);
	/* the CVCA's table: version 1's columns */
	every_column_refused("cvca", q.id, "state = state", 10);
	every_column_refused("cvca", q.id, "state = 'validated', decided_by = 'officer:eve', decided_at = now()", 10);
	assert_int_equal(db_request_validate(cv, q.id, "officer:alice"), EAC_OK);
	every_column_refused("cvca", q.id, "state = 'issued'", 10);
	/* the DV's adds the inspection system it came from */
	PGconn *a = dbt_pg("dv", "auditor");
	assert_non_null(a);
	const char *v = dbt_value(a, "SELECT min(id) FROM eac.requests");
	assert_non_null(v);
	every_column_refused("dv", strtoll(v, NULL, 10), "state = state", 11);
	PQfinish(a);

	PGconn *o = dbt_pg("cvca", "owner");
	assert_non_null(o);
	/* an acknowledgement is recorded once */
	snprintf(sql, sizeof(sql), "UPDATE eac.requests SET acknowledged_at = acknowledged_at + interval '1 second'"
				   " WHERE id = %" PRId64, q.id);
	assert_string_equal(dbt_sql(o, sql, &msg), "EA001");
	/* a request enters the queue as received, whoever inserts it */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO eac.requests (kind, channel, authority_id, raw, raw_hash, holder_chr, received_at, deadline,"
		 " state, decided_by, decided_at) SELECT kind, channel, authority_id, raw || '\\x01'::bytea,"
		 " sha256(raw || '\\x01'::bytea), holder_chr, received_at, deadline, 'validated', 'officer:eve', now()"
		 " FROM eac.requests WHERE id = %" PRId64, q.id);
	assert_string_equal(dbt_sql(o, sql, &msg), "EA002");
	assert_non_null(strstr(msg, "a request enters the queue as received"));
	PQfinish(o);
	assert_int_equal(db_request_reject(cv, q.id, "CP-4.2.2", "test over", "officer:alice"), EAC_OK);
}

/* The queue (eac.pending_requests, schema version 4) holds exactly the
 * received and validated requests, whatever the tests above did to them:
 * issued and rejected ones have left it. */
static void test_queue_is_the_pending_requests(void **state)
{
	const char *const dbs[] = { "cvca", "dv" };
	int64_t left = 0, pending = 0;
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		left += count(dbs[i], "SELECT count(*) FROM eac.requests WHERE state IN ('issued', 'rejected')");
		pending += count(dbs[i], "SELECT count(*) FROM eac.pending_requests");
		assert_int_equal(count(dbs[i], "SELECT count(*) FROM eac.requests r"
					       " FULL JOIN eac.pending_requests p ON p.request_id = r.id"
					       " WHERE (p.request_id IS NOT NULL) <> (r.state IN ('received', 'validated'))"
					       " OR p.deadline <> r.deadline"),
				 0);
	}
	assert_true(left > 0);
	assert_true(pending > 0);
	/* and it changes only with the record: not even the owner takes a
	 * request out of it or puts one in (nor an open intent or a
	 * distribution deadline out of theirs) */
	const char *const direct[][2] = {
		{ "cvca", "DELETE FROM eac.pending_requests" },
		{ "cvca", "INSERT INTO eac.pending_requests SELECT id, deadline FROM eac.requests"
			  " WHERE state IN ('issued', 'rejected')" },
		{ "dv", "INSERT INTO eac.open_issuances SELECT id FROM eac.issuances" },
		{ "dv", "DELETE FROM eac.awaiting_distribution" },
		{ "dv", "INSERT INTO eac.awaiting_distribution SELECT id, now() FROM eac.certificates" },
	};
	for (size_t i = 0; i < sizeof(direct) / sizeof(direct[0]); i++) {
		const char *msg = NULL;
		PGconn *o = dbt_pg(direct[i][0], "owner");
		assert_non_null(o);
		const char *st = dbt_sql(o, direct[i][1], &msg);
		if (strcmp(st, "EA001") != 0 || strstr(msg, "changes only with it") == NULL)
			fail_msg("%s: %s -> %s %s", direct[i][0], direct[i][1], st, msg ? msg : "");
		PQfinish(o);
	}
	assert_true(count("cvca", "SELECT count(*) FROM eac.pending_requests") > 0);
	assert_true(count("dv", "SELECT count(*) FROM eac.awaiting_distribution") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes_same_request),
		cmocka_unit_test(test_transitions_guarded),
		cmocka_unit_test(test_submission_refusals),
		cmocka_unit_test(test_pending_by_deadline_and_overdue),
		cmocka_unit_test(test_status_own_certificate),
		cmocka_unit_test(test_keys_registry),
		cmocka_unit_test(test_dv_registries_and_is_certificates),
		cmocka_unit_test(test_what_was_received_never_changes),
		cmocka_unit_test(test_queue_is_the_pending_requests),
	};
	return cmocka_run_group_tests_name("db requests and registries", tests, setup, teardown);
}
