/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/: errors, hex, files, strict JSON, time. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

static char tmpdir[] = "/tmp/eac-common-XXXXXX";

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_error_detail_and_prefix(void **state)
{
	(void)state;
	eac_err_clear();
	assert_string_equal(eac_err_detail(EAC_ERR_MALFORMED), "malformed input");
	assert_int_equal(eac_fail(EAC_ERR_MALFORMED, "offset %d: bad\nlength", 7), EAC_ERR_MALFORMED);
	/* one line: the newline is flattened */
	assert_string_equal(eac_err_detail(EAC_ERR_MALFORMED), "offset 7: bad length");
	eac_fail_prefix(EAC_ERR_MALFORMED, "%s: ", "x.cvcert");
	assert_string_equal(eac_err_detail(EAC_ERR_MALFORMED), "x.cvcert: offset 7: bad length");
	/* the detail as an argument of the next one (re-coding an error) */
	eac_fail(EAC_ERR_IO, "cvca.json: No such file or directory");
	assert_int_equal(eac_fail(EAC_ERR_CONFIG, "%s", eac_err_detail(EAC_ERR_IO)), EAC_ERR_CONFIG);
	assert_string_equal(eac_err_detail(EAC_ERR_CONFIG), "cvca.json: No such file or directory");
	eac_fail(EAC_ERR_IO, "w3/missing-policy.json: No such file or directory");
	eac_fail(EAC_ERR_CONFIG, "national policy: %s", eac_err_detail(EAC_ERR_IO));
	assert_string_equal(eac_err_detail(EAC_ERR_CONFIG),
			    "national policy: w3/missing-policy.json: No such file or directory");
	eac_fail(EAC_ERR_MALFORMED, "offset 7: bad length");
	eac_fail_prefix(EAC_ERR_MALFORMED, "x.cvcert: ");
	/* a detail recorded for another code is not reported for this one */
	assert_string_equal(eac_err_detail(EAC_ERR_IO), "input/output error");
}

static void test_exit_codes(void **state)
{
	(void)state;
	assert_int_equal(eac_exit_code(EAC_OK), 0);
	assert_int_equal(eac_exit_code(EAC_ERR_POLICY), 1);
	assert_int_equal(eac_exit_code(EAC_ERR_SIGNATURE), 1);
	assert_int_equal(eac_exit_code(EAC_ERR_MALFORMED), 2);
	assert_int_equal(eac_exit_code(EAC_ERR_USAGE), 2);
	assert_int_equal(eac_exit_code(EAC_ERR_DB_UNAVAILABLE), 3);
	assert_int_equal(eac_exit_code(EAC_ERR_PIN_INCORRECT), 3);
	for (int c = 0; c < EAC_ERR__COUNT; c++)
		assert_string_not_equal(eac_err_str((eac_err)c), "unknown error");
}

static void test_hex_roundtrip(void **state)
{
	const uint8_t in[] = { 0x00, 0x7f, 0x80, 0xff };
	uint8_t back[4];
	char hex[9];
	(void)state;
	eac_hex(in, sizeof(in), hex);
	assert_string_equal(hex, "007f80ff");
	assert_int_equal(eac_unhex("007F80ff", back, 4), EAC_OK);
	assert_memory_equal(back, in, 4);
	assert_int_equal(eac_unhex("007f80f", back, 4), EAC_ERR_MALFORMED);
	assert_int_equal(eac_unhex("007f80fg", back, 4), EAC_ERR_MALFORMED);
}

static void test_sha256_known_answer(void **state)
{
	uint8_t d[EAC_SHA256_LEN];
	char hex[2 * EAC_SHA256_LEN + 1];
	(void)state;
	assert_int_equal(eac_sha256((const uint8_t *)"abc", 3, d), EAC_OK);
	eac_hex(d, sizeof(d), hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_publish_and_read(void **state)
{
	char path[256];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat st;
	(void)state;

	snprintf(path, sizeof(path), "%s/a.bin", tmpdir);
	assert_int_equal(eac_file_publish(path, (const uint8_t *)"hello", 5, 0640, 0), EAC_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* never overwrites unless asked */
	assert_int_equal(eac_file_publish(path, (const uint8_t *)"other", 5, 0640, 0), EAC_ERR_EXISTS);
	assert_int_equal(eac_file_read(path, 100, &buf, &len), EAC_OK);
	assert_int_equal(len, 5);
	assert_memory_equal(buf, "hello", 5);
	free(buf);
	assert_int_equal(eac_file_publish(path, (const uint8_t *)"other", 5, 0600, 1), EAC_OK);
	/* size limit */
	assert_int_equal(eac_file_read(path, 4, &buf, &len), EAC_ERR_MALFORMED);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_MALFORMED), "a.bin"));
	/* no temporary files are left behind */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s | grep -v '^a.bin$')\"", tmpdir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(eac_file_read(tmpdir, 100, &buf, &len), EAC_ERR_IO);
}

static void test_json_strict(void **state)
{
	json_t *j = NULL;
	const char *s = NULL;
	long long n = 0;
	static const char *const allowed[] = { "module", "count", NULL };
	(void)state;

	assert_int_equal(eac_json_load_string("{\"a\":1,\"a\":2}", "t.json", &j), EAC_ERR_CONFIG);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_CONFIG), "duplicate"));
	assert_non_null(strstr(eac_err_detail(EAC_ERR_CONFIG), "'\"a\"'"));
	assert_int_equal(eac_json_load_string("[1]", "t.json", &j), EAC_ERR_CONFIG);

	assert_int_equal(eac_json_load_string("{\"module\":\"m\",\"count\":3}", "t.json", &j), EAC_OK);
	assert_int_equal(eac_json_only_keys(j, allowed, "t.json"), EAC_OK);
	assert_int_equal(eac_json_string(j, "module", 1, "t.json", &s), EAC_OK);
	assert_string_equal(s, "m");
	assert_int_equal(eac_json_int(j, "count", 1, "t.json", 1, 2, &n), EAC_ERR_CONFIG);
	assert_int_equal(eac_json_int(j, "count", 1, "t.json", 1, 5, &n), EAC_OK);
	assert_int_equal(n, 3);
	assert_int_equal(eac_json_string(j, "nope", 1, "t.json", &s), EAC_ERR_CONFIG);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_CONFIG), "missing key 'nope'"));
	json_decref(j);

	assert_int_equal(eac_json_load_string("{\"modul\":\"m\"}", "t.json", &j), EAC_OK);
	assert_int_equal(eac_json_only_keys(j, allowed, "t.json"), EAC_ERR_CONFIG);
	assert_string_equal(eac_err_detail(EAC_ERR_CONFIG), "t.json: unknown key 'modul'");
	json_decref(j);
}

static void write_file(const char *name, const char *text, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_config(void **state)
{
	char path[256];
	eac_config c;
	(void)state;

	write_file("good.json",
		   "{\"engine\":\"cvca\",\"token\":{\"module\":\"/m.so\",\"uri\":\"pkcs11:token=CVCA\"},"
		   "\"database\":{\"conninfo\":\"dbname=cvca\"},\"policy\":\"/p.json\",\"data_dir\":\"/d\"}",
		   path, sizeof(path));
	assert_int_equal(eac_config_load(path, "cvca", &c), EAC_OK);
	assert_string_equal(c.token_uri, "pkcs11:token=CVCA");
	assert_null(c.token_pin_file);
	assert_null(c.db_owner_conninfo);
	eac_config_free(&c);
	/* the DV engine refuses the CVCA's file */
	assert_int_equal(eac_config_load(path, "dv", &c), EAC_ERR_CONFIG);

	write_file("unknown.json",
		   "{\"engine\":\"cvca\",\"token\":{\"module\":\"/m.so\",\"uri\":\"u\",\"pin\":\"1234\"},"
		   "\"database\":{\"conninfo\":\"x\"},\"policy\":\"/p.json\",\"data_dir\":\"/d\"}",
		   path, sizeof(path));
	assert_int_equal(eac_config_load(path, "cvca", &c), EAC_ERR_CONFIG);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_CONFIG), "unknown.json: token: unknown key 'pin'"));

	write_file("dup.json", "{\"engine\":\"cvca\",\n\"engine\":\"dv\"}", path, sizeof(path));
	assert_int_equal(eac_config_load(path, "cvca", &c), EAC_ERR_CONFIG);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_CONFIG), "dup.json:2:"));
	assert_non_null(strstr(eac_err_detail(EAC_ERR_CONFIG), "duplicate object key"));
}

static void test_time(void **state)
{
	int64_t t = 0;
	char iso[21];
	(void)state;
	assert_int_equal(eac_time_parse("1970-01-01", &t), EAC_OK);
	assert_int_equal(t, 0);
	assert_int_equal(eac_time_parse("2024-02-29T12:00:01Z", &t), EAC_OK);
	eac_time_iso(t, iso);
	assert_string_equal(iso, "2024-02-29T12:00:01Z");
	assert_int_equal(eac_time_parse("2023-02-29", &t), EAC_ERR_MALFORMED);
	assert_int_equal(eac_time_parse("2023-13-01", &t), EAC_ERR_MALFORMED);
	assert_int_equal(eac_time_parse("2023-1-01", &t), EAC_ERR_MALFORMED);
	assert_int_equal(eac_time_parse("2099-12-31T23:59:59Z", &t), EAC_OK);
	eac_time_iso(t, iso);
	assert_string_equal(iso, "2099-12-31T23:59:59Z");
}

static void test_clock_override_only_in_test_builds(void **state)
{
	(void)state;
	setenv("EAC_TEST_NOW", "2030-01-02T03:04:05Z", 1);
	int64_t t = eac_now();
	unsetenv("EAC_TEST_NOW");
	char iso[21];
	eac_time_iso(t, iso);
#ifdef EAC_TESTING
	assert_string_equal(iso, "2030-01-02T03:04:05Z");
#else
	assert_string_not_equal(iso, "2030-01-02T03:04:05Z");
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_detail_and_prefix),
		cmocka_unit_test(test_exit_codes),
		cmocka_unit_test(test_hex_roundtrip),
		cmocka_unit_test(test_sha256_known_answer),
		cmocka_unit_test(test_publish_and_read),
		cmocka_unit_test(test_json_strict),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_clock_override_only_in_test_builds),
	};
	return cmocka_run_group_tests_name("common", tests, setup, teardown);
}
