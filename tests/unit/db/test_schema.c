/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db/: migrations and least privilege against a real PostgreSQL (sandbox):
 * versioned migrations applied once and checked at every start, refusal of
 * a foreign, missing, newer or altered schema, the service and auditor
 * roles' privileges, the owner stopped by the guards, unreachable database.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "tests/unit/db/dbtest.h"

static int setup(void **state)
{
	(void)state;
	return dbt_start();
}

static int teardown(void **state)
{
	(void)state;
	dbt_finish();
	return 0;
}

static void test_migrations_apply_once_both_engines(void **state)
{
	db_conn *db = NULL;
	PGconn *c;
	(void)state;

	assert_true(db_schema_version() >= 1);
	assert_int_equal(dbt_open("cvca", "cvca", &db), EAC_OK);
	db_close(db);
	/* again: nothing to do, the same schema */
	assert_int_equal(dbt_open("cvca", "cvca", &db), EAC_OK);
	db_close(db);
	assert_int_equal(dbt_open("dv", "dv", &db), EAC_OK);
	db_close(db);

	c = dbt_pg("cvca", "auditor");
	assert_non_null(c);
	char want[16];
	snprintf(want, sizeof(want), "cvca %d", db_schema_version());
	assert_string_equal(dbt_value(c, "SELECT flavour || ' ' || version FROM eac.meta"), want);
	/* the common part and the CVCA's own part, each recorded once */
	assert_string_equal(dbt_value(c, "SELECT string_agg(part, ',' ORDER BY part) FROM eac.schema_migrations WHERE version = 1"),
			    "common,cvca");
	/* one migration event in the chain */
	assert_string_equal(dbt_value(c, "SELECT count(*) FROM eac.audit_events WHERE action = 'schema.migrate'"), "1");
	/* engine-specific tables: inspection systems only on the DV */
	assert_string_equal(dbt_value(c, "SELECT to_regclass('eac.inspection_systems') IS NULL"), "t");
	PQfinish(c);
	c = dbt_pg("dv", "auditor");
	assert_non_null(c);
	assert_string_equal(dbt_value(c, "SELECT to_regclass('eac.inspection_systems') IS NOT NULL"), "t");
	PQfinish(c);
}

static void test_check_only_without_owner(void **state)
{
	db_conn *db = NULL;
	(void)state;

	/* migrated: the service connection alone is enough */
	assert_int_equal(db_open(dbt_conninfo("cvca", "service"), NULL, "cvca", &db), EAC_OK);
	db_close(db);
	db = NULL;
	/* no schema and no owner to create it */
	assert_int_equal(dbt_createdb("empty"), 0);
	assert_int_equal(db_open(dbt_conninfo("empty", "service"), NULL, "cvca", &db), EAC_ERR_DB_SCHEMA);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_SCHEMA), "no schema"));
	assert_null(db);
}

static void test_other_flavour_refused(void **state)
{
	db_conn *db = NULL;
	(void)state;

	assert_int_equal(dbt_open("cvca", "dv", &db), EAC_ERR_DB_SCHEMA);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_SCHEMA), "holds the cvca engine's schema, not the dv's"));
	assert_int_equal(db_open(dbt_conninfo("dv", "service"), NULL, "cvca", &db), EAC_ERR_DB_SCHEMA);
	assert_null(db);
}

static void test_newer_schema_refused(void **state)
{
	db_conn *db = NULL;
	char sql[128];
	(void)state;

	assert_int_equal(dbt_createdb("newer"), 0);
	assert_int_equal(dbt_open("newer", "cvca", &db), EAC_OK);
	db_close(db);
	db = NULL;
	/* a later program migrated it further (the guard lets the version rise) */
	PGconn *c = dbt_pg("newer", "owner");
	assert_non_null(c);
	snprintf(sql, sizeof(sql), "UPDATE eac.meta SET version = %d", db_schema_version() + 1);
	assert_string_equal(dbt_sql(c, sql, NULL), "");
	/* but never falls */
	assert_string_equal(dbt_sql(c, "UPDATE eac.meta SET version = 1", NULL), "EA001");
	PQfinish(c);
	assert_int_equal(dbt_open("newer", "cvca", &db), EAC_ERR_DB_SCHEMA);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_SCHEMA), "is newer than this program knows"));
	assert_int_equal(db_open(dbt_conninfo("newer", "service"), NULL, "cvca", &db), EAC_ERR_DB_SCHEMA);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_SCHEMA), "is newer than this program knows"));
	assert_int_equal(db_open_auditor(dbt_conninfo("newer", "auditor"), "cvca", &db), EAC_ERR_DB_SCHEMA);
	assert_null(db);
}

/* ---- upgrades; schema version 3's inline TLV readers against version 1's ---- */

/* Run one CREATE FUNCTION statement of migration 1 on c: into pg_temp (the
 * calls between such functions too) when `to_temp`, else as CREATE OR
 * REPLACE in eac itself (back to version 1). */
static void run_v1_function(PGconn *c, const char *s, size_t n, int to_temp)
{
	char *out = malloc(2 * n + 32);
	size_t o = 0;
	assert_non_null(out);
	if (!to_temp) {
		o = (size_t)sprintf(out, "CREATE OR REPLACE FUNCTION ");
		s += strlen("CREATE FUNCTION ");
		n -= strlen("CREATE FUNCTION ");
	}
	for (size_t i = 0; i < n; i++) {
		if (to_temp && i + 4 <= n && strncmp(s + i, "eac.", 4) == 0) {
			memcpy(out + o, "pg_temp.", 8);
			o += 8;
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	assert_string_equal(dbt_sql(c, out, NULL), "");
	free(out);
}

/* The statement of migration 1 (any part) that creates FUNCTION eac.NAME,
 * run on c as run_v1_function does; exactly one must exist. */
static void create_v1_function(PGconn *c, const char *name, int to_temp)
{
	char head[96];
	int found = 0;

	snprintf(head, sizeof(head), "CREATE FUNCTION eac.%s(", name);
	for (size_t mi = 0; mi < dbi_migrations_count; mi++) {
		const dbi_migration *m = &dbi_migrations[mi];
		size_t pos = 0, start, end;
		int line, k;
		if (m->version != 1)
			continue;
		while ((k = dbi_sql_next((const char *)m->sql, m->len, &pos, &start, &end, &line)) == 1) {
			const char *s = (const char *)m->sql + start;
			if (end - start >= strlen(head) && strncmp(s, head, strlen(head)) == 0) {
				run_v1_function(c, s, end - start, to_temp);
				found++;
			}
		}
		assert_int_equal(k, 0);
	}
	assert_int_equal(found, 1);
}

/* b as a bytea literal: '\\x<hex>'::bytea */
static void hex(char *out, const uint8_t *b, size_t n)
{
	out += sprintf(out, "'\\x");
	eac_hex(b, n, out);
	strcat(out, "'::bytea");
}

/* A database at version 1 (before certificates_ca_ix, the inline TLV
 * readers, the statement checks and the pending side table) is brought to
 * the latest version by the owner's start, audited, and each later change
 * is there; the check-only start of the service role refuses the old
 * schema. */
static void test_upgrade_from_version_1(void **state)
{
	db_conn *db = NULL;
	char want[64];
	(void)state;
	assert_true(db_schema_version() >= 4);
	assert_int_equal(dbt_createdb("upgrade"), 0);
	assert_int_equal(dbt_open("upgrade", "dv", &db), EAC_OK);
	db_close(db);
	db = NULL;
	/* back to exactly what version 1 made (the later changes undone) */
	assert_string_equal(dbt_tamper("upgrade",
				       "DROP INDEX eac.certificates_ca_ix;"
				       " DELETE FROM eac.schema_migrations WHERE version > 1;"
				       " UPDATE eac.meta SET version = 1"),
			    "");
	PGconn *o = dbt_pg("upgrade", "owner");
	assert_non_null(o);
	create_v1_function(o, "cv_body_fields", 0);
	create_v1_function(o, "cv_cert_body", 0);
	assert_string_equal(dbt_sql(o, "DROP TRIGGER issuances_admit_rows ON eac.issuances;"
				       " DROP FUNCTION eac.issuances_admit_rows();"
				       " DROP TRIGGER issuances_admit_is ON eac.issuances;"
				       " DROP FUNCTION eac.issuances_admit_is();"
				       " DROP TRIGGER issuances_guard ON eac.issuances", NULL), "");
	create_v1_function(o, "issuances_guard", 0);
	create_v1_function(o, "issuances_dv_check", 0);
	assert_string_equal(dbt_sql(o, "CREATE TRIGGER issuances_guard BEFORE INSERT OR UPDATE ON eac.issuances"
				       " FOR EACH ROW EXECUTE FUNCTION eac.issuances_guard();"
				       " CREATE TRIGGER issuances_dv_check BEFORE INSERT ON eac.issuances"
				       " FOR EACH ROW EXECUTE FUNCTION eac.issuances_dv_check()", NULL), "");
	/* version 4 undone: the pending queue as a partial index, the row
	 * guards without conditions, no statement checks */
	assert_string_equal(dbt_sql(o, "DROP TABLE eac.pending_requests;"
				       " DROP TRIGGER open_issuances_direct ON eac.open_issuances;"
				       " DROP TRIGGER awaiting_distribution_direct ON eac.awaiting_distribution;"
				       " DROP FUNCTION eac.forbid_direct();"
				       " CREATE INDEX requests_pending_ix ON eac.requests (deadline)"
				       " WHERE state IN ('received', 'validated');"
				       " ALTER TABLE eac.requests RESET (fillfactor);"
				       " DROP TRIGGER requests_guard_insert ON eac.requests;"
				       " DROP TRIGGER requests_guard_update ON eac.requests;"
				       " DROP TRIGGER requests_guard_update_dv ON eac.requests;"
				       " DROP TRIGGER requests_after_insert ON eac.requests;"
				       " DROP TRIGGER requests_after_update ON eac.requests;"
				       " DROP FUNCTION eac.requests_after_insert(), eac.requests_after_update();"
				       " CREATE TRIGGER requests_guard BEFORE INSERT OR UPDATE ON eac.requests"
				       " FOR EACH ROW EXECUTE FUNCTION eac.requests_guard();"
				       " DROP TRIGGER certificates_guard ON eac.certificates;"
				       " DROP TRIGGER certificates_admit ON eac.certificates;"
				       " DROP FUNCTION eac.certificates_admit();"
				       " CREATE TRIGGER certificates_guard BEFORE INSERT ON eac.certificates"
				       " FOR EACH ROW EXECUTE FUNCTION eac.certificates_guard();"
				       " REVOKE INSERT (source, request_id, der_hash, distribute_by) ON eac.certificates"
				       " FROM eac_service", NULL), "");
	assert_string_equal(dbt_value(o, "SELECT count(*) FROM pg_proc WHERE proname IN ('cv_body_fields', 'cv_cert_body')"
					 " AND prosrc LIKE '%eac.tlv(%'"), "2");
	PQfinish(o);
	/* a request pending at version 1 (triggers off: no inspection system
	 * in this database) must be in the queue after the upgrade */
	assert_string_equal(dbt_tamper("upgrade",
				       "INSERT INTO eac.requests (kind, channel, inspection_system_id, raw, raw_hash,"
				       " holder_chr, received_at, deadline) VALUES ('is', 'is', 999, '\\x01',"
				       " sha256('\\x01'), 'FIABCDE00001', now(), now() + interval '1 day')"),
			    "");
	assert_int_equal(db_open(dbt_conninfo("upgrade", "service"), NULL, "dv", &db), EAC_ERR_DB_SCHEMA);
	assert_null(db);
	assert_int_equal(dbt_open("upgrade", "dv", &db), EAC_OK);
	db_close(db);
	PGconn *c = dbt_pg("upgrade", "auditor");
	assert_non_null(c);
	snprintf(want, sizeof(want), "dv %d", db_schema_version());
	assert_string_equal(dbt_value(c, "SELECT flavour || ' ' || version FROM eac.meta"), want);
	/* version 2 */
	assert_string_equal(dbt_value(c, "SELECT to_regclass('eac.certificates_ca_ix') IS NOT NULL"), "t");
	/* version 3 */
	assert_string_equal(dbt_value(c, "SELECT count(*) FROM pg_proc WHERE proname IN ('cv_body_fields', 'cv_cert_body')"
					 " AND prosrc NOT LIKE '%eac.tlv(%'"), "2");
	assert_string_equal(dbt_value(c, "SELECT string_agg(tgname || ' ' || (tgtype & 28)::text, ',' ORDER BY tgname)"
					 " FROM pg_trigger WHERE tgrelid = 'eac.issuances'::regclass AND NOT tgisinternal"
					 " AND tgname ~ '^issuances_(admit|guard|dv)'"),
			    /* 4 INSERT, 16 UPDATE */
			    "issuances_admit_is 4,issuances_admit_rows 4,issuances_guard 16");
	/* version 4 */
	assert_string_equal(dbt_value(c, "SELECT count(*) || ' ' || bool_and(p.deadline = r.deadline)"
					 " FROM eac.pending_requests p JOIN eac.requests r ON r.id = p.request_id"),
			    "1 true");
	assert_string_equal(dbt_value(c, "SELECT to_regclass('eac.requests_pending_ix') IS NULL"
					 " AND 'fillfactor=70' = ANY(reloptions) FROM pg_class"
					 " WHERE oid = 'eac.requests'::regclass"),
			    "t");
	assert_string_equal(dbt_value(c, "SELECT string_agg(tgname || ' ' || (tgtype & 29)::text || ' '"
					 " || (tgqual IS NOT NULL)::text, ',' ORDER BY tgname)"
					 " FROM pg_trigger WHERE tgrelid IN ('eac.requests'::regclass, 'eac.certificates'::regclass)"
					 " AND NOT tgisinternal AND tgname ~ '_(guard|admit|after)'"),
			    /* 1 ROW, 4 INSERT, 16 UPDATE; a condition or not */
			    "certificates_admit 4 false,certificates_after 4 false,certificates_guard 5 true,"
			    "requests_after_insert 4 false,requests_after_update 16 false,requests_guard_insert 5 true,"
			    "requests_guard_update 17 true,requests_guard_update_dv 17 false");
	assert_string_equal(dbt_value(c, "SELECT string_agg(version || ' ' || part, ',' ORDER BY version, part)"
					 " FROM eac.schema_migrations WHERE version > 1"),
			    "2 common,3 common,3 dv,4 common,4 dv");
	snprintf(want, sizeof(want), "1->%d", db_schema_version());
	assert_string_equal(dbt_value(c, "SELECT details::json->>'from' || '->' || (details::json->>'to')"
					 " FROM eac.audit_events WHERE action = 'schema.migrate' ORDER BY seq DESC LIMIT 1"),
			    want);
	PQfinish(c);
	/* and the service role's start accepts it again */
	assert_int_equal(db_open(dbt_conninfo("upgrade", "service"), NULL, "dv", &db), EAC_OK);
	db_close(db);
}

/* eac.cv_body_fields and eac.cv_cert_body of version 3 read headers inline
 * instead of calling eac.tlv(): on valid bodies and certificates and on
 * thousands of mutated ones (a byte changed, a length octet replaced by
 * each length form, bytes cut or inserted), each returns exactly what
 * version 1 returns, or fails with the same SQLSTATE and message. */
static void test_v3_tlv_readers_match_v1(void **state)
{
	uint8_t body[600], big[900], cert[1400], bigcert[1400];
	char sql[8192], *b1, *b2, *c1, *c2;
	(void)state;

	size_t bn = dbt_body(body, "FICVCA00001", "FIDV000001", 0x80, "260101", "261231", 'K');
	/* a second body over 255 octets, with an extension 65 after the dates */
	size_t hl = body[2] == 0x81 ? 4 : 3, cn = bn - hl, en = 300, gn = 0;
	uint8_t content[900];
	memcpy(content, body + hl, cn);
	content[cn] = 0x65;
	content[cn + 1] = 0x82;
	content[cn + 2] = (uint8_t)(en >> 8);
	content[cn + 3] = (uint8_t)en;
	for (size_t i = 0; i < en; i++)
		content[cn + 4 + i] = (uint8_t)(i * 13);
	cn += 4 + en;
	big[gn++] = 0x7f;
	big[gn++] = 0x4e;
	big[gn++] = 0x82;
	big[gn++] = (uint8_t)(cn >> 8);
	big[gn++] = (uint8_t)cn;
	memcpy(big + gn, content, cn);
	gn += cn;
	size_t ctn = dbt_cert(cert, body, bn, 5), gtn = dbt_cert(bigcert, big, gn, 6);

	PGconn *c = dbt_pg("dv", "admin");
	assert_non_null(c);
	create_v1_function(c, "tlv", 1);
	create_v1_function(c, "cv_date", 1);
	create_v1_function(c, "cv_body_fields", 1);
	create_v1_function(c, "cv_cert_body", 1);
	/* outcome of one call: the value, or the SQLSTATE and message */
	assert_string_equal(dbt_sql(c,
		"CREATE FUNCTION pg_temp.outcome(fn text, b bytea) RETURNS text LANGUAGE plpgsql AS $$"
		" DECLARE r text;"
		" BEGIN EXECUTE format('SELECT (%s($1))::text', fn) INTO r USING b; RETURN 'ok ' || coalesce(r, 'null');"
		" EXCEPTION WHEN OTHERS THEN RETURN 'error ' || SQLSTATE || ' ' || SQLERRM; END $$", NULL), "");
	/* mutations of a seed: one random byte; a length-ish octet set to each
	 * length form; cut short; a byte inserted; two bytes changed */
	assert_string_equal(dbt_sql(c,
		"CREATE FUNCTION pg_temp.mutate(b bytea, g int) RETURNS bytea LANGUAGE plpgsql AS $$"
		" DECLARE n int := octet_length(b); p int := floor(random() * n)::int; v int := floor(random() * 256)::int;"
		" BEGIN CASE g % 6"
		"  WHEN 0 THEN RETURN set_byte(b, p, v);"
		"  WHEN 1 THEN RETURN set_byte(b, p, (ARRAY[128, 129, 130, 131, 127, 0, 1, 255])[1 + g / 6 % 8]);"
		"  WHEN 2 THEN RETURN substring(b FOR p);"
		"  WHEN 3 THEN RETURN substring(b FOR p) || set_byte('\\x00'::bytea, 0, v) || substring(b FROM p + 1);"
		"  WHEN 4 THEN RETURN set_byte(set_byte(b, p, v), floor(random() * n)::int, floor(random() * 256)::int);"
		"  ELSE RETURN set_byte(b, floor(random() * least(n, 12))::int, v);"
		" END CASE; END $$", NULL), "");
	b1 = malloc(2 * sizeof(body) + 16);
	b2 = malloc(2 * sizeof(big) + 16);
	c1 = malloc(2 * sizeof(cert) + 16);
	c2 = malloc(2 * sizeof(bigcert) + 16);
	assert_true(b1 && b2 && c1 && c2);
	hex(b1, body, bn);
	hex(b2, big, gn);
	hex(c1, cert, ctn);
	hex(c2, bigcert, gtn);
	assert_string_equal(dbt_sql(c, "SELECT setseed(0.3)", NULL), "");
	snprintf(sql, sizeof(sql),
		 "CREATE TEMP TABLE cases AS"
		 " SELECT 'cv_body_fields' AS fn, s.b AS seed, pg_temp.mutate(s.b, g) AS v"
		 "  FROM (VALUES (%s), (%s)) s(b), generate_series(1, 3000) g"
		 " UNION ALL SELECT 'cv_cert_body', s.b, pg_temp.mutate(s.b, g)"
		 "  FROM (VALUES (%s), (%s)) s(b), generate_series(1, 3000) g"
		 " UNION ALL SELECT f, b, b FROM (VALUES ('cv_body_fields', %s), ('cv_body_fields', %s),"
		 "  ('cv_cert_body', %s), ('cv_cert_body', %s)) x(f, b)"
		 " UNION ALL SELECT f, v, v FROM unnest(ARRAY['cv_body_fields', 'cv_cert_body']) f,"
		 "  unnest(ARRAY['\\x'::bytea, '\\x7f', '\\x7f4e', '\\x7f4e00', '\\x7f4e80', '\\x7f4e8100', '\\x7f4e820001',"
		 "   '\\x7f4e8180', '\\x7f21035f3700', '\\x7f2103420100', '\\x7fff0100']) v"
		 /* each length form at its bounds: non-minimal, minimal */
		 " UNION ALL SELECT f, v, v FROM unnest(ARRAY['cv_body_fields', 'cv_cert_body']) f,"
		 "  unnest(ARRAY['\\x817f', '\\x8180', '\\x8200ff', '\\x820100', '\\x8300']) l,"
		 "  unnest(ARRAY['\\x7f4e'::bytea, '\\x7f21']) t,"
		 "  LATERAL (SELECT t || l::bytea || decode(repeat('5f', 300), 'hex') AS v) x",
		 b1, b2, c1, c2, b1, b2, c1, c2);
	assert_string_equal(dbt_sql(c, sql, NULL), "");
	assert_string_equal(dbt_sql(c,
		"CREATE TEMP TABLE outcomes AS SELECT fn, v,"
		" pg_temp.outcome('pg_temp.' || fn, v) AS v1, pg_temp.outcome('eac.' || fn, v) AS v3 FROM cases", NULL), "");
	const char *bad = dbt_value(c, "SELECT coalesce(string_agg(fn || ' ' || encode(v, 'hex') || ': v1 ' || v1 || ' | v3 ' || v3,"
				       " E'\\n'), '') FROM (SELECT * FROM outcomes WHERE v1 IS DISTINCT FROM v3 LIMIT 3) x");
	assert_non_null(bad);
	if (bad[0] != '\0')
		fprintf(stderr, "# differ:\n%s\n", bad);
	assert_string_equal(dbt_value(c, "SELECT count(*) FROM outcomes WHERE v1 IS DISTINCT FROM v3"), "0");
	/* and the cases reach both outcomes and most of the refusals */
	assert_true(atoi(dbt_value(c, "SELECT count(*) FROM outcomes WHERE v3 LIKE 'ok %'")) > 1000);
	assert_true(atoi(dbt_value(c, "SELECT count(*) FROM outcomes WHERE v3 LIKE 'error EA004 %'")) > 3000);
	assert_true(atoi(dbt_value(c, "SELECT count(DISTINCT regexp_replace(v3, '[0-9]+', 'N', 'g'))"
				      " FROM outcomes WHERE v3 LIKE 'error %'")) >= 15);
	PQfinish(c);
	free(b1);
	free(b2);
	free(c1);
	free(c2);
}

static void test_dropped_schema_needs_owner(void **state)
{
	db_conn *db = NULL;
	(void)state;
	assert_int_equal(dbt_createdb("dropped"), 0);
	assert_int_equal(dbt_open("dropped", "dv", &db), EAC_OK);
	db_close(db);
	db = NULL;
	assert_string_equal(dbt_tamper("dropped", "DROP SCHEMA eac CASCADE"), "");
	/* the check-only start names the owner connection */
	assert_int_equal(db_open(dbt_conninfo("dropped", "service"), NULL, "dv", &db), EAC_ERR_DB_SCHEMA);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_SCHEMA), "owner connection"));
	assert_null(db);
	/* and the owner creates it again */
	assert_int_equal(dbt_open("dropped", "dv", &db), EAC_OK);
	db_close(db);
}

static void test_altered_migration_refused(void **state)
{
	db_conn *db = NULL;
	(void)state;
	assert_int_equal(dbt_createdb("altered"), 0);
	assert_int_equal(dbt_open("altered", "cvca", &db), EAC_OK);
	db_close(db);
	db = NULL;
	/* the bookkeeping is insert-only for the owner too */
	PGconn *c = dbt_pg("altered", "owner");
	assert_non_null(c);
	assert_string_equal(dbt_sql(c, "UPDATE eac.schema_migrations SET sha256 = sha256('x')", NULL), "EA001");
	PQfinish(c);
	/* a superuser's change is noticed at the next start */
	assert_string_equal(dbt_tamper("altered", "UPDATE eac.schema_migrations SET sha256 = sha256('x') WHERE part = 'cvca'"),
			    "");
	assert_int_equal(dbt_open("altered", "cvca", &db), EAC_ERR_DB_SCHEMA);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_DB_SCHEMA), "migration 0001-cvca.sql was applied with another text"));
	assert_null(db);
}

static void *open_thread(void *arg)
{
	db_conn *db = NULL;
	eac_err r = dbt_open("race", "dv", &db);
	db_close(db);
	*(eac_err *)arg = r;
	return NULL;
}

static void test_concurrent_starts_migrate_once(void **state)
{
	pthread_t t[8];
	eac_err r[8];
	(void)state;
	assert_int_equal(dbt_createdb("race"), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, open_thread, &r[i]), 0);
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(r[i], EAC_OK);
	}
	PGconn *c = dbt_pg("race", "auditor");
	assert_non_null(c);
	assert_string_equal(dbt_value(c, "SELECT count(*) FROM eac.audit_events WHERE action = 'schema.migrate'"), "1");
	PQfinish(c);
}

static void test_engine_refuses_owner_and_superuser(void **state)
{
	db_conn *db = NULL;
	(void)state;
	assert_int_equal(db_open(dbt_conninfo("cvca", "owner"), NULL, "cvca", &db), EAC_ERR_CONFIG);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_CONFIG), "'eac_owner', which owns the schema"));
	assert_int_equal(db_open(dbt_conninfo("cvca", "admin"), NULL, "cvca", &db), EAC_ERR_CONFIG);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_CONFIG), "a superuser"));
	assert_int_equal(db_open(dbt_conninfo("cvca", "auditor"), NULL, "cvca", &db), EAC_ERR_CONFIG);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_CONFIG), "not a member of eac_service"));
	assert_null(db);
}

static void expect_denied(PGconn *c, const char *sql)
{
	const char *msg = NULL;
	const char *st = dbt_sql(c, sql, &msg);
	if (strcmp(st, "42501") != 0)
		fail_msg("%s: expected permission denied, got %s %s", sql, st, msg);
	assert_non_null(strstr(msg, "permission denied"));
}

static void test_service_role_never_updates_or_deletes_records(void **state)
{
	PGconn *c = dbt_pg("cvca", "service");
	(void)state;
	assert_non_null(c);
	static const char *const insert_only[] = { "certificates", "audit_events", "distributions", "ceremonies",
						   "schema_migrations", "audit_head", "meta" };
	for (size_t i = 0; i < sizeof(insert_only) / sizeof(insert_only[0]); i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "UPDATE eac.%s SET %s", insert_only[i],
			 strcmp(insert_only[i], "certificates") == 0 ? "chr = chr" :
			 strcmp(insert_only[i], "audit_events") == 0 ? "actor = actor" :
			 strcmp(insert_only[i], "distributions") == 0 ? "channel = channel" :
			 strcmp(insert_only[i], "ceremonies") == 0 ? "kind = kind" :
			 strcmp(insert_only[i], "schema_migrations") == 0 ? "name = name" :
			 strcmp(insert_only[i], "audit_head") == 0 ? "seq = seq" : "version = version");
		expect_denied(c, sql);
		snprintf(sql, sizeof(sql), "DELETE FROM eac.%s", insert_only[i]);
		expect_denied(c, sql);
		snprintf(sql, sizeof(sql), "TRUNCATE eac.%s", insert_only[i]);
		expect_denied(c, sql);
	}
	/* the state-bearing tables: no DELETE, no TRUNCATE, UPDATE only of the
	 * guarded state columns */
	static const char *const stateful[] = { "issuances", "requests", "keys", "authorities", "seq_counters",
						"open_issuances", "awaiting_distribution" };
	for (size_t i = 0; i < sizeof(stateful) / sizeof(stateful[0]); i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "DELETE FROM eac.%s", stateful[i]);
		expect_denied(c, sql);
		snprintf(sql, sizeof(sql), "TRUNCATE eac.%s", stateful[i]);
		expect_denied(c, sql);
	}
	expect_denied(c, "UPDATE eac.issuances SET tbs = tbs");
	expect_denied(c, "UPDATE eac.requests SET raw = raw");
	expect_denied(c, "UPDATE eac.keys SET pubkey_hash = pubkey_hash");
	expect_denied(c, "UPDATE eac.authorities SET country = country");
	/* the chain is the database's: no seq or hash of the caller's */
	expect_denied(c, "INSERT INTO eac.audit_events (seq, actor, action, object, details) VALUES (1, 'x', 'x', '', '{}')");
	expect_denied(c, "SELECT eac.audit_append('x', '', '{}')");
	expect_denied(c, "CREATE TABLE eac.mine (x int)");
	PQfinish(c);
}

static void test_auditor_only_reads(void **state)
{
	PGconn *c = dbt_pg("cvca", "auditor");
	db_conn *db = NULL;
	db_audit_report rep;
	(void)state;
	assert_non_null(c);
	assert_non_null(dbt_value(c, "SELECT count(*) FROM eac.audit_events"));
	assert_non_null(dbt_value(c, "SELECT count(*) FROM eac.certificates_v"));
	expect_denied(c, "INSERT INTO eac.audit_events (actor, action, object, details) VALUES ('x', 'x', '', '{}')");
	expect_denied(c, "INSERT INTO eac.authorities (kind, country, mnemonic, name, domestic, created_at)"
			 " VALUES ('dv', 'FI', 'X', 'x', true, now())");
	expect_denied(c, "UPDATE eac.requests SET state = state");
	expect_denied(c, "DELETE FROM eac.audit_events");
	expect_denied(c, "SELECT eac.audit_append('x', '', '{}')");
	PQfinish(c);

	/* through the API: verify works, writing does not */
	assert_int_equal(db_open_auditor(dbt_conninfo("cvca", "auditor"), "cvca", &db), EAC_OK);
	assert_int_equal(db_audit_verify(db, NULL, &rep), EAC_OK);
	assert_true(rep.rows >= 1);
	assert_int_equal(db_audit(db, NULL, "login.fail", "officer:eve", "{}", NULL), EAC_ERR_AUDIT);
	db_close(db);
}

static void test_owner_stopped_by_guards(void **state)
{
	PGconn *c = dbt_pg("cvca", "owner");
	const char *msg = NULL;
	(void)state;
	assert_non_null(c);
	assert_string_equal(dbt_sql(c, "UPDATE eac.audit_events SET details = '{}'", &msg), "EA001");
	assert_non_null(strstr(msg, "UPDATE on audit_events is forbidden"));
	assert_string_equal(dbt_sql(c, "DELETE FROM eac.audit_events", &msg), "EA001");
	assert_string_equal(dbt_sql(c, "TRUNCATE eac.audit_events CASCADE", &msg), "EA001");
	assert_string_equal(dbt_sql(c, "TRUNCATE eac.certificates CASCADE", &msg), "EA001");
	assert_string_equal(dbt_sql(c, "DELETE FROM eac.audit_head", &msg), "EA001");
	assert_string_equal(dbt_sql(c, "UPDATE eac.audit_head SET seq = 0", &msg), "EA001");
	/* the chain numbers an owner's event like any other */
	assert_string_equal(dbt_sql(c, "INSERT INTO eac.audit_events (seq, at, db_user, actor, action, object, details, prev_hash, hash)"
				       " VALUES (1, now(), 'x', 'x', 'forged', '', '{}', sha256('x'), sha256('y'))", &msg), "");
	assert_string_equal(dbt_value(c, "SELECT (seq > 1 AND db_user = 'eac_owner' AND prev_hash <> sha256('x'))::text"
					 " FROM eac.audit_events WHERE action = 'forged'"), "true");
	PQfinish(c);
}

static void test_unreachable_database(void **state)
{
	db_conn *db = NULL;
	char ci[512];
	(void)state;
	snprintf(ci, sizeof(ci), "host=%s/nowhere port=5432 dbname=cvca user=eac_service connect_timeout=2",
		 dbt_dir());
	assert_int_equal(db_open(ci, NULL, "cvca", &db), EAC_ERR_DB_UNAVAILABLE);
	const char *d = eac_err_detail(EAC_ERR_DB_UNAVAILABLE);
	assert_non_null(strstr(d, "database cvca (eac_service@"));
	assert_non_null(strstr(d, "nowhere:5432): cannot connect"));
	assert_non_null(strstr(d, "No such file or directory"));
	assert_null(strchr(d, '\n'));
	assert_int_equal(db_open("host=/x dbname=cvca bogus=1", NULL, "cvca", &db), EAC_ERR_CONFIG);
	assert_int_equal(db_open(ci, NULL, "ca", &db), EAC_ERR_USAGE);
	assert_null(db);
	/* a wrong password is an environment failure, and the password is not printed */
	assert_int_equal(db_open("host=/tmp/none dbname=cvca user=eac_service password=Sekr1tPW connect_timeout=1",
				 NULL, "cvca", &db), EAC_ERR_DB_UNAVAILABLE);
	assert_null(strstr(eac_err_detail(EAC_ERR_DB_UNAVAILABLE), "Sekr1tPW"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrations_apply_once_both_engines),
		cmocka_unit_test(test_check_only_without_owner),
		cmocka_unit_test(test_other_flavour_refused),
		cmocka_unit_test(test_newer_schema_refused),
		cmocka_unit_test(test_upgrade_from_version_1),
		cmocka_unit_test(test_v3_tlv_readers_match_v1),
		cmocka_unit_test(test_dropped_schema_needs_owner),
		cmocka_unit_test(test_altered_migration_refused),
		cmocka_unit_test(test_concurrent_starts_migrate_once),
		cmocka_unit_test(test_engine_refuses_owner_and_superuser),
		cmocka_unit_test(test_service_role_never_updates_or_deletes_records),
		cmocka_unit_test(test_auditor_only_reads),
		cmocka_unit_test(test_owner_stopped_by_guards),
		cmocka_unit_test(test_unreachable_database),
	};
	return cmocka_run_group_tests_name("db schema", tests, setup, teardown);
}
