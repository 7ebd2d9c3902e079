/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db/: the pure helpers, without a database: splitting migration scripts
 * into statements, the strict framing of a CV certificate, ISO 8859-1 <->
 * UTF-8 for references, the embedded migrations themselves.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "db/db.h"
#include "db/db_internal.h"
#include "tests/unit/db/dbtest.h"

/* the statements of `sql`, joined by '|' */
static const char *split(const char *sql, int *err_line)
{
	static char out[4096];
	size_t pos = 0, start, end, o = 0, len = strlen(sql);
	int line = 0, k;
	out[0] = '\0';
	*err_line = 0;
	while ((k = dbi_sql_next(sql, len, &pos, &start, &end, &line)) == 1) {
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s", o ? "|" : "", (int)(end - start),
				      sql + start);
	}
	if (k < 0)
		*err_line = line;
	return out;
}

static void test_sql_split(void **state)
{
	int e;
	(void)state;
	assert_string_equal(split("SELECT 1; SELECT 2;", &e), "SELECT 1|SELECT 2");
	assert_string_equal(split("  -- comment; not a statement\nSELECT 1 ;\n\n", &e), "SELECT 1");
	assert_string_equal(split("SELECT ';' ; SELECT \"a;b\" FROM t", &e), "SELECT ';'|SELECT \"a;b\" FROM t");
	assert_string_equal(split("SELECT 'it''s;'; SELECT 2", &e), "SELECT 'it''s;'|SELECT 2");
	assert_string_equal(split("SELECT E'\\';'; SELECT 2", &e), "SELECT E'\\';'|SELECT 2");
	assert_string_equal(split("/* a; /* nested; */ b; */ SELECT 1; /* tail */", &e), "SELECT 1");
	assert_string_equal(split("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$; SELECT 2", &e),
			    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$|SELECT 2");
	assert_string_equal(split("DO $body$ BEGIN PERFORM 1; -- $$;\n END $body$; SELECT $1", &e),
			    "DO $body$ BEGIN PERFORM 1; -- $$;\n END $body$|SELECT $1");
	assert_string_equal(split("SELECT a$b FROM t; SELECT 2", &e), "SELECT a$b FROM t|SELECT 2");
	/* unterminated: the line where it began */
	split("SELECT 1;\nSELECT 'open;\n", &e);
	assert_int_equal(e, 2);
	split("SELECT 1;\n\nDO $$ BEGIN", &e);
	assert_int_equal(e, 3);
	split("/* never closed", &e);
	assert_int_equal(e, 1);
}

static void test_embedded_migrations(void **state)
{
	(void)state;
	assert_true(dbi_migrations_count >= 3);
	int v = db_schema_version();
	for (int version = 1; version <= v; version++) {
		int common = 0;
		for (size_t i = 0; i < dbi_migrations_count; i++) {
			const dbi_migration *m = &dbi_migrations[i];
			char want[32];
			snprintf(want, sizeof(want), "%04d-%s.sql", m->version, m->part);
			assert_string_equal(m->name, want);
			assert_int_equal(strlen((const char *)m->sql), m->len);
			if (m->version == version && strcmp(m->part, "common") == 0)
				common++;
		}
		assert_int_equal(common, 1);
	}
	/* every script splits cleanly and starts with its licence */
	for (size_t i = 0; i < dbi_migrations_count; i++) {
		const dbi_migration *m = &dbi_migrations[i];
		size_t pos = 0, start, end;
		int line, k, n = 0;
		assert_non_null(strstr((const char *)m->sql, "SPDX-License-Identifier: Apache-2.0"));
		while ((k = dbi_sql_next((const char *)m->sql, m->len, &pos, &start, &end, &line)) == 1)
			n++;
		assert_int_equal(k, 0);
		assert_true(n >= 1);
	}
}

static void test_cv_certificate_framing(void **state)
{
	uint8_t body[600], der[1400], bad[1400];
	const uint8_t *b = NULL;
	size_t bl = 0;
	(void)state;

	size_t n = dbt_body(body, "FICVCA00001", "FIDV000001", 0x83, "260101", "260401", 'x');
	size_t dn = dbt_cert(der, body, n, 1);
	assert_int_equal(dbi_cv_cert_body(der, dn, &b, &bl), EAC_OK);
	assert_int_equal(bl, n);
	assert_memory_equal(b, body, n);

	/* trailing byte */
	memcpy(bad, der, dn);
	bad[dn] = 0;
	assert_int_equal(dbi_cv_cert_body(bad, dn + 1, &b, &bl), EAC_ERR_MALFORMED);
	/* truncated */
	assert_int_equal(dbi_cv_cert_body(der, dn - 1, &b, &bl), EAC_ERR_MALFORMED);
	assert_int_equal(dbi_cv_cert_body(der, 2, &b, &bl), EAC_ERR_MALFORMED);
	assert_int_equal(dbi_cv_cert_body(NULL, 0, &b, &bl), EAC_ERR_MALFORMED);
	/* another outer tag (a request 67) */
	memcpy(bad, der, dn);
	bad[0] = 0x67;
	assert_int_equal(dbi_cv_cert_body(bad, dn, &b, &bl), EAC_ERR_MALFORMED);
	/* no signature after the body */
	uint8_t only[700];
	size_t on = 0;
	only[on++] = 0x7f;
	only[on++] = 0x21;
	only[on++] = 0x81;
	only[on++] = (uint8_t)n;
	memcpy(only + on, body, n);
	on += n;
	assert_true(n >= 128 && n < 256);
	assert_int_equal(dbi_cv_cert_body(only, on, &b, &bl), EAC_ERR_MALFORMED);
	/* a non-minimal length (81 xx for a value under 128) is refused */
	uint8_t tiny[] = { 0x7f, 0x21, 0x81, 0x0a, 0x7f, 0x4e, 0x02, 0x5f, 0x29, 0x5f, 0x37, 0x02, 0x01, 0x02 };
	assert_int_equal(dbi_cv_cert_body(tiny, sizeof(tiny), &b, &bl), EAC_ERR_MALFORMED);
	/* a minimal one of the same content is read */
	uint8_t tiny2[] = { 0x7f, 0x21, 0x0a, 0x7f, 0x4e, 0x02, 0x5f, 0x29, 0x5f, 0x37, 0x02, 0x01, 0x02 };
	assert_int_equal(dbi_cv_cert_body(tiny2, sizeof(tiny2), &b, &bl), EAC_OK);
	assert_int_equal(bl, 5);
}

static void test_latin1_references(void **state)
{
	char u[64], l[64];
	(void)state;
	/* "FIÅBO00001": Å is 0xC5 in ISO 8859-1, C3 85 in UTF-8 */
	assert_int_equal(dbi_latin1_to_utf8("FI\xc5" "BO00001", u, sizeof(u)), 0);
	assert_string_equal(u, "FI\xc3\x85" "BO00001");
	assert_int_equal(dbi_utf8_to_latin1(u, l, sizeof(l)), 0);
	assert_string_equal(l, "FI\xc5" "BO00001");
	/* outside ISO 8859-1, or not UTF-8 */
	assert_int_equal(dbi_utf8_to_latin1("\xe2\x82\xac", l, sizeof(l)), -1);
	assert_int_equal(dbi_utf8_to_latin1("\xc3", l, sizeof(l)), -1);
	/* too long for the buffer */
	assert_int_equal(dbi_latin1_to_utf8("\xc5\xc5\xc5", u, 6), -1);
	assert_int_equal(dbi_latin1_to_utf8("\xc5\xc5\xc5", u, 7), 0);
	/* names */
	assert_string_equal(db_kind_name(DB_KIND_LINK), "link");
	assert_null(db_kind_name((db_kind)9));
	assert_string_equal(db_req_state_name(DB_REQ_REJECTED), "rejected");
}

static void test_params(void **state)
{
	dbi_params p = { 0 };
	(void)state;
	dbi_p_id(&p, 0);
	dbi_p_int(&p, -42);
	dbi_p_latin1(&p, "FI\xc5" "BO00001");
	dbi_p_bytes(&p, (const uint8_t *)"\0\1", 2);
	assert_int_equal(p.n, 4);
	assert_null(p.v[0]);
	assert_string_equal(p.v[1], "-42");
	assert_string_equal(p.v[2], "FI\xc3\x85" "BO00001");
	assert_int_equal(p.fmt[3], 1);
	assert_int_equal(p.len[3], 2);
	assert_false(p.bad);
	dbi_p_latin1(&p, "0123456789012345678901234567890123"); /* no reference is this long */
	assert_true(p.bad);
	dbi_params q = { 0 };
	for (int i = 0; i < DBI_MAXP + 1; i++)
		dbi_p_null(&q);
	assert_true(q.bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_split),
		cmocka_unit_test(test_embedded_migrations),
		cmocka_unit_test(test_cv_certificate_framing),
		cmocka_unit_test(test_latin1_references),
		cmocka_unit_test(test_params),
	};
	return cmocka_run_group_tests_name("db internals", tests, NULL, NULL);
}
