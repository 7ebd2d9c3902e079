/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db/: the hash-chained audit log against a real PostgreSQL (sandbox). The
 * canonical form pinned by a vector computed outside this code; the C
 * verifier agreeing with the database's trigger; tampering as superuser —
 * one changed byte, a deleted row, two swapped rows, a cut tail, a full
 * rewrite — detected and named by its first sequence number; an event that
 * cannot be written stops the change it describes.
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
#include "db/db_internal.h"
#include "tests/unit/db/dbtest.h"

static db_conn *db;
static dbt_cvca fx;

static int setup(void **state)
{
	(void)state;
	if (dbt_start() != 0 || dbt_open("cvca", "cvca", &db) != EAC_OK || dbt_cvca_setup(db, "DV", &fx) != EAC_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	db_close(db);
	dbt_finish();
	return 0;
}

static const char *const DETAILS = "{\"reason\": \"wrong PIN\\nthird try\", \"n\": 3}";

/* the canonical form, pinned by SHA-256 computed with Python's hashlib from
 * the specification in docs/DATABASE.md */
static void test_canonical_form_known_answer(void **state)
{
	uint8_t prev[32], h[32];
	char hex[65];
	dbi_audit_row row = { .seq = 7, .at = "2026-11-23 10:00:00.5+00", .db_user = "eac_service",
			      .actor = "officer:\xc3\x85sa", .action = "login.fail", .object = "officer:\xc3\x85sa",
			      .details = DETAILS };
	(void)state;
	for (int i = 0; i < 32; i++)
		prev[i] = (uint8_t)i;
	assert_int_equal(dbi_audit_hash(&row, prev, h), EAC_OK);
	eac_hex(h, 32, hex);
	assert_string_equal(hex, "1af1c631a2b489ab8c01a7ba211da00d135fe0eba1d7bd810b29d72b34eb867d");

	/* the database's function gives the same bytes */
	PGconn *c = dbt_pg("cvca", "admin");
	assert_non_null(c);
	const char *v = dbt_value(c, "SELECT encode(sha256(decode('000102030405060708090a0b0c0d0e0f"
				     "101112131415161718191a1b1c1d1e1f', 'hex') || eac.audit_canonical(7,"
				     " '2026-11-23 10:00:00.5+00', 'eac_service', 'officer:\xc3\x85sa', 'login.fail',"
				     " 'officer:\xc3\x85sa', '{\"reason\": \"wrong PIN\\nthird try\", \"n\": 3}')), 'hex')");
	assert_non_null(v);
	assert_string_equal(v, hex);
	PQfinish(c);

	/* times as PostgreSQL prints them, to the canonical form */
	char iso[28];
	assert_int_equal(dbi_iso_time("2026-11-23 10:00:00+00", iso), EAC_OK);
	assert_string_equal(iso, "2026-11-23T10:00:00.000000Z");
	assert_int_equal(dbi_iso_time("2026-11-23 10:00:00.123456+00", iso), EAC_OK);
	assert_string_equal(iso, "2026-11-23T10:00:00.123456Z");
	assert_int_equal(dbi_iso_time("2026-11-23 10:00:00.1+02", iso), EAC_ERR_MALFORMED);
	assert_int_equal(dbi_iso_time("2026-11-23T10:00:00Z", iso), EAC_ERR_MALFORMED);
}

static void test_events_append_verbatim_and_chain(void **state)
{
	db_anchor a, h;
	const char *odd = "{ \"b\" :1,\n  \"a\": \"\xc3\xa4\" }";
	(void)state;

	assert_int_equal(db_set_actor(db, "officer:\xc3\x85sa"), EAC_OK);
	assert_int_equal(db_audit(db, NULL, "login.fail", "officer:\xc3\x85sa", DETAILS, &a), EAC_OK);
	assert_int_equal(db_audit_head(db, &h), EAC_OK);
	assert_int_equal(a.seq, h.seq);
	assert_memory_equal(a.hash, h.hash, 32);
	assert_int_equal(db_audit(db, "engine:cvca", "config.change", "", odd, NULL), EAC_OK);
	PGconn *c = dbt_pg("cvca", "auditor");
	assert_non_null(c);
	/* stored as given, byte for byte */
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT details FROM eac.audit_events WHERE seq = %" PRId64, a.seq + 1);
	assert_string_equal(dbt_value(c, sql), odd);
	snprintf(sql, sizeof(sql), "SELECT actor || '|' || db_user FROM eac.audit_events WHERE seq = %" PRId64, a.seq);
	assert_string_equal(dbt_value(c, sql), "officer:\xc3\x85sa|eac_service");
	PQfinish(c);
}

static void test_audit_input_refused(void **state)
{
	PGconn *c;
	(void)state;
	assert_int_equal(db_audit(db, NULL, "Login", "", "{}", NULL), EAC_ERR_USAGE);
	assert_int_equal(db_audit(db, NULL, "", "", "{}", NULL), EAC_ERR_USAGE);
	assert_int_equal(db_audit(db, NULL, "login.fail", "", "{\"a\": 1", NULL), EAC_ERR_MALFORMED);
	assert_int_equal(db_audit(db, NULL, "login.fail", "", "[1, 2]", NULL), EAC_ERR_MALFORMED);
	assert_int_equal(db_audit(db, NULL, "login.fail", "", "{\"a\": 1, \"a\": 2}", NULL), EAC_ERR_MALFORMED);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_MALFORMED), "audit login.fail"));
	char *big = malloc(DB_DETAILS_MAX + 16);
	assert_non_null(big);
	memset(big, ' ', DB_DETAILS_MAX + 8);
	big[0] = '{';
	big[DB_DETAILS_MAX + 8] = '}';
	big[DB_DETAILS_MAX + 9] = '\0';
	assert_int_equal(db_audit(db, NULL, "login.fail", "", big, NULL), EAC_ERR_MALFORMED);
	free(big);
	/* the schema holds the same rules for any client */
	c = dbt_pg("cvca", "service");
	assert_non_null(c);
	assert_string_equal(dbt_sql(c, "INSERT INTO eac.audit_events (actor, action, object, details) VALUES ('x', 'x', '', '{')", NULL),
			    "22P02");
	assert_string_equal(dbt_sql(c, "INSERT INTO eac.audit_events (actor, action, object, details) VALUES ('x', 'x', '', '[]')", NULL),
			    "23514");
	assert_string_equal(dbt_sql(c, "INSERT INTO eac.audit_events (actor, action, object, details) VALUES ('x', 'Bad', '', '{}')", NULL),
			    "23514");
	assert_string_equal(dbt_sql(c, "INSERT INTO eac.audit_events (actor, action, object, details) VALUES ('', 'x', '', '{}')", NULL),
			    "23514");
	PQfinish(c);
}

/* ---- tampering ---- */

static int64_t cert_anchor; /* seq recorded by the newest certificate */

static void snapshot(void)
{
	assert_string_equal(dbt_tamper("cvca", "DROP TABLE IF EXISTS public.audit_copy, public.head_copy;"
					       " CREATE TABLE public.audit_copy AS SELECT * FROM eac.audit_events;"
					       " CREATE TABLE public.head_copy AS SELECT * FROM eac.audit_head"), "");
}

static void restore(void)
{
	assert_string_equal(dbt_tamper("cvca", "DELETE FROM eac.audit_events;"
					       " INSERT INTO eac.audit_events SELECT * FROM public.audit_copy;"
					       " DELETE FROM eac.audit_head; INSERT INTO eac.audit_head SELECT * FROM public.head_copy"), "");
}

static int64_t verify_bad(const db_anchor *expected, db_audit_report *rep)
{
	eac_err r = db_audit_verify(db, expected, rep);
	if (r == EAC_OK)
		return 0;
	assert_int_equal(r, EAC_ERR_AUDIT);
	char want[64];
	snprintf(want, sizeof(want), "audit log broken at seq %" PRId64 ": ", rep->first_bad);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_AUDIT), want));
	return rep->first_bad;
}

static void test_intact_chain_with_certificate_anchor(void **state)
{
	uint8_t body[600], chat[32], kh[32], der[1400];
	int64_t req, id, cert;
	db_intent in;
	db_audit_report rep;
	db_cert c;
	(void)state;

	assert_int_equal(dbt_dv_request(db, fx.dv, "FIDV000001", "a", &req), EAC_OK);
	dbt_dv_intent(&fx, req, "FIDV000001", "dv-key-1", body, chat, kh, &in);
	assert_int_equal(db_intent_record(db, &in, &id), EAC_OK);
	size_t n = dbt_cert(der, body, in.tbs_len, 1);
	assert_int_equal(db_result_record(db, id, der, n, &cert), EAC_OK);
	assert_int_equal(db_cert_get(db, cert, &c), EAC_OK);
	cert_anchor = c.audit.seq;
	db_cert_free(&c);
	/* events after the certificate */
	for (int i = 0; i < 5; i++)
		assert_int_equal(db_audit(db, NULL, "login.fail", "officer:mallory", "{\"try\": 1}", NULL), EAC_OK);

	assert_int_equal(db_audit_verify(db, NULL, &rep), EAC_OK);
	assert_int_equal(rep.first_bad, 0);
	assert_true(rep.rows > 10);
	assert_int_equal(rep.last.seq, rep.rows);
	assert_int_equal(rep.anchors, 2); /* the head row and the certificate */
	snapshot();
}

static void test_changed_byte_detected(void **state)
{
	db_audit_report rep;
	char sql[256];
	(void)state;
	int64_t k = cert_anchor - 3;
	snprintf(sql, sizeof(sql), "UPDATE eac.audit_events SET details = regexp_replace(details, 'e', 'f')"
				   " WHERE seq = %" PRId64, k);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), k);
	assert_non_null(strstr(rep.why, "does not match its hash (changed)"));
	restore();
	assert_int_equal(verify_bad(NULL, &rep), 0);

	/* one byte of the stored hash, or of prev_hash, or of the time */
	snprintf(sql, sizeof(sql), "UPDATE eac.audit_events SET at = at + interval '1 microsecond' WHERE seq = %" PRId64, k);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), k);
	restore();
	snprintf(sql, sizeof(sql), "UPDATE eac.audit_events SET actor = 'officer:alicf' WHERE seq = %" PRId64, k);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), k);
	restore();
	snprintf(sql, sizeof(sql), "UPDATE eac.audit_events SET hash = set_byte(hash, 0, get_byte(hash, 0) # 1) WHERE seq = %" PRId64, k);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), k);
	restore();
	assert_int_equal(verify_bad(NULL, &rep), 0);
}

static void test_deleted_row_detected(void **state)
{
	db_audit_report rep;
	char sql[256];
	(void)state;
	int64_t k = 4;
	snprintf(sql, sizeof(sql), "DELETE FROM eac.audit_events WHERE seq = %" PRId64, k);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), k);
	assert_non_null(strstr(rep.why, "is missing"));
	/* renumbering the rest to hide the gap does not help */
	snprintf(sql, sizeof(sql), "UPDATE eac.audit_events SET seq = seq - 1 WHERE seq > %" PRId64, k);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), k);
	restore();
	assert_int_equal(verify_bad(NULL, &rep), 0);
}

static void test_swapped_rows_detected(void **state)
{
	db_audit_report rep;
	char sql[512];
	(void)state;
	int64_t i = 5, j = 9;
	snprintf(sql, sizeof(sql), "UPDATE eac.audit_events SET seq = -1 WHERE seq = %" PRId64 ";"
				   " UPDATE eac.audit_events SET seq = %" PRId64 " WHERE seq = %" PRId64 ";"
				   " UPDATE eac.audit_events SET seq = %" PRId64 " WHERE seq = -1",
		 i, i, j, j);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), i);
	assert_non_null(strstr(rep.why, "prev_hash is not the hash of seq"));
	restore();
	assert_int_equal(verify_bad(NULL, &rep), 0);
}

static void test_cut_tail_detected(void **state)
{
	db_audit_report rep;
	db_anchor transcript;
	char sql[512];
	(void)state;

	/* naive: the last rows go, the head row still counts them */
	assert_string_equal(dbt_tamper("cvca", "DELETE FROM eac.audit_events WHERE seq > (SELECT seq - 2 FROM eac.audit_head)"), "");
	int64_t bad = verify_bad(NULL, &rep);
	assert_true(bad > cert_anchor);
	assert_non_null(strstr(rep.why, "the chain head row recorded"));
	restore();

	/* careful: the head row rewritten to the new last row; the newest
	 * certificate's anchor still names what is missing */
	snprintf(sql, sizeof(sql), "DELETE FROM eac.audit_events WHERE seq >= %" PRId64 ";"
				   " UPDATE eac.audit_head SET (seq, hash) = (SELECT seq, hash FROM eac.audit_events"
				   " ORDER BY seq DESC LIMIT 1)", cert_anchor);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), cert_anchor);
	assert_non_null(strstr(rep.why, "certificate"));
	assert_non_null(strstr(rep.why, "(events cut from the tail)"));
	restore();

	/* events after the newest certificate: only an anchor kept off the
	 * database (a ceremony transcript, a printed head) can tell — the
	 * verifier takes it as expected_tail */
	assert_int_equal(db_audit_head(db, &transcript), EAC_OK);
	snprintf(sql, sizeof(sql), "DELETE FROM eac.audit_events WHERE seq > %" PRId64 ";"
				   " UPDATE eac.audit_head SET (seq, hash) = (SELECT seq, hash FROM eac.audit_events"
				   " ORDER BY seq DESC LIMIT 1)", cert_anchor);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), 0); /* the limit of what the database alone proves */
	assert_int_equal(verify_bad(&transcript, &rep), cert_anchor + 1);
	assert_non_null(strstr(rep.why, "the expected tail"));
	restore();
	assert_int_equal(verify_bad(&transcript, &rep), 0);
	/* an expected tail whose hash differs: the chain was rewritten */
	transcript.hash[0] ^= 1;
	assert_int_equal(verify_bad(&transcript, &rep), transcript.seq);
}

static void test_ceremony_anchor(void **state)
{
	db_audit_report rep;
	db_anchor start, a;
	uint8_t cfg[32];
	int64_t id;
	char sql[512];
	(void)state;

	assert_int_equal(db_audit_head(db, &start), EAC_OK);
	assert_int_equal(db_audit(db, "officer:alice", "ceremony.step", "ceremony", "{\"step\": \"keygen\"}", NULL), EAC_OK);
	dbt_hash("configuration", cfg);
	db_ceremony_in in = { .kind = "cvca_rollover", .officers_json = "[\"alice\", \"bob\"]", .config_hash = cfg,
			      .transcript_json = "{\"steps\": [\"keygen\", \"link\"]}", .audit_first = start.seq + 1 };
	assert_int_equal(db_ceremony_record(db, &in, &id, &a), EAC_OK);
	assert_int_equal(a.seq, start.seq + 2);
	assert_int_equal(verify_bad(NULL, &rep), 0);
	assert_int_equal(rep.anchors, 3);
	snapshot();
	/* cut the ceremony's own event and everything after, head rewritten */
	snprintf(sql, sizeof(sql), "DELETE FROM eac.audit_events WHERE seq >= %" PRId64 ";"
				   " UPDATE eac.audit_head SET (seq, hash) = (SELECT seq, hash FROM eac.audit_events"
				   " ORDER BY seq DESC LIMIT 1)", a.seq);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	assert_int_equal(verify_bad(NULL, &rep), a.seq);
	assert_non_null(strstr(rep.why, "ceremony"));
	restore();
	/* a ceremony is insert-only */
	PGconn *c = dbt_pg("cvca", "owner");
	assert_non_null(c);
	assert_string_equal(dbt_sql(c, "UPDATE eac.ceremonies SET transcript = '{}'", NULL), "EA001");
	PQfinish(c);
	/* its audit range is checked */
	in.audit_first = a.seq + 100;
	assert_int_equal(db_ceremony_record(db, &in, &id, &a), EAC_ERR_DB_CONFLICT);
}

static void test_full_rewrite_detected_by_anchor(void **state)
{
	db_audit_report rep;
	char sql[1024];
	(void)state;
	int64_t k = cert_anchor - 2;
	/* a superuser who changes a row and recomputes every hash after it */
	snprintf(sql, sizeof(sql),
		 "DO $$ DECLARE r record; prev bytea; h bytea; BEGIN"
		 " UPDATE eac.audit_events SET details = '{\"rewritten\": true}' WHERE seq = %" PRId64 ";"
		 " SELECT hash INTO prev FROM eac.audit_events WHERE seq = %" PRId64 ";"
		 " FOR r IN SELECT * FROM eac.audit_events WHERE seq >= %" PRId64 " ORDER BY seq LOOP"
		 "  h := sha256(prev || eac.audit_canonical(r.seq, r.at, r.db_user, r.actor, r.action, r.object, r.details));"
		 "  UPDATE eac.audit_events SET prev_hash = prev, hash = h WHERE seq = r.seq;"
		 "  prev := h;"
		 " END LOOP;"
		 " UPDATE eac.audit_head SET hash = prev; END $$",
		 k, k - 1, k);
	assert_string_equal(dbt_tamper("cvca", sql), "");
	/* the chain is consistent again, but the certificate remembers */
	assert_int_equal(verify_bad(NULL, &rep), cert_anchor);
	assert_non_null(strstr(rep.why, "differs from the one certificate"));
	restore();
	assert_int_equal(verify_bad(NULL, &rep), 0);
}

/* ---- an event that cannot be written stops the change ---- */

static eac_err register_and_audit(db_conn *c, void *arg)
{
	eac_err r;
	int64_t id;
	db_authority_in dv = { .kind = DB_AUTH_DV, .country = "DE", .mnemonic = arg, .name = "German DV", .domestic = 0 };
	if ((r = db_authority_add(c, &dv, &id)) != EAC_OK)
		return r;
	return db_audit(c, NULL, "config.change", "authority", "{\"why\": \"test\"}", NULL);
}

static void test_unwritable_event_stops_the_change(void **state)
{
	int64_t id;
	db_authority a;
	(void)state;

	/* the trigger path: no chain head, no authority */
	assert_string_equal(dbt_tamper("cvca", "DELETE FROM eac.audit_head"), "");
	db_authority_in dv = { .kind = DB_AUTH_DV, .country = "DE", .mnemonic = "DVX", .name = "German DV", .domestic = 0 };
	assert_int_not_equal(db_authority_add(db, &dv, &id), EAC_OK);
	assert_int_equal(db_authority_find(db, "DE", "DVX", &a), EAC_ERR_NOT_FOUND);
	restore();

	/* the C path inside a transaction: the service may not write events
	 * for a moment; the authority registered before it is rolled back */
	assert_string_equal(dbt_tamper("cvca", "REVOKE INSERT ON eac.audit_events FROM eac_service"), "");
	assert_int_equal(db_tx(db, register_and_audit, "DVY"), EAC_ERR_AUDIT);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_AUDIT), "permission denied"));
	assert_int_equal(db_authority_find(db, "DE", "DVY", &a), EAC_ERR_NOT_FOUND);
	assert_string_equal(dbt_tamper("cvca", "GRANT INSERT (actor, action, object, details) ON eac.audit_events TO eac_service"), "");
	assert_int_equal(db_tx(db, register_and_audit, "DVY"), EAC_OK);
	assert_int_equal(db_authority_find(db, "DE", "DVY", &a), EAC_OK);

	db_audit_report rep;
	assert_int_equal(verify_bad(NULL, &rep), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canonical_form_known_answer),
		cmocka_unit_test(test_events_append_verbatim_and_chain),
		cmocka_unit_test(test_audit_input_refused),
		cmocka_unit_test(test_intact_chain_with_certificate_anchor),
		cmocka_unit_test(test_changed_byte_detected),
		cmocka_unit_test(test_deleted_row_detected),
		cmocka_unit_test(test_swapped_rows_detected),
		cmocka_unit_test(test_cut_tail_detected),
		cmocka_unit_test(test_full_rewrite_detected_by_anchor),
		cmocka_unit_test(test_ceremony_anchor),
		cmocka_unit_test(test_unwritable_event_stops_the_change),
	};
	return cmocka_run_group_tests_name("db audit", tests, setup, teardown);
}
