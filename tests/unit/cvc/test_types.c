/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the shared CV types: names, rights, references, dates. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "cvc/cvc.h"

static void test_alg_names(void **state)
{
	(void)state;
	for (int a = 1; a < CVC_ALG__COUNT; a++)
		assert_int_equal(cvc_alg_from_name(cvc_alg_name((cvc_alg)a)), a);
	assert_int_equal(cvc_alg_from_name("ecdsa_sha_256"), CVC_ALG_ECDSA_SHA256);
	assert_int_equal(cvc_alg_from_name("RSA_PSS_SHA_512"), CVC_ALG_RSA_PSS_SHA512);
	assert_int_equal(cvc_alg_from_name("RSA-PSS-SHA-384"), CVC_ALG_NONE); /* no such OID */
	assert_true(cvc_alg_is_ec(CVC_ALG_ECDSA_SHA1));
	assert_false(cvc_alg_is_ec(CVC_ALG_RSA_V15_SHA1));
	assert_true(cvc_alg_is_pss(CVC_ALG_RSA_PSS_SHA1));
	assert_int_equal(cvc_alg_hash_bits(CVC_ALG_ECDSA_SHA224), 224);
}

static void test_curve_names(void **state)
{
	(void)state;
	assert_int_equal(cvc_curve_from_name("prime256v1"), CVC_CURVE_P256);
	assert_int_equal(cvc_curve_from_name("secp384r1"), CVC_CURVE_P384);
	assert_int_equal(cvc_curve_from_name("BRAINPOOLP512R1"), CVC_CURVE_BP512R1);
	assert_int_equal(cvc_curve_from_name("secp521r1"), CVC_CURVE_NONE);
	assert_int_equal(cvc_curve_bits(CVC_CURVE_BP384R1), 384);
}

static void test_rights(void **state)
{
	uint8_t a[CVC_CHAT_MAX], n;
	char out[128];
	(void)state;

	assert_int_equal(cvc_rights_parse(CVC_CHAT_IS, "dg3,dg4", a, &n), EAC_OK);
	assert_int_equal(n, 1);
	assert_int_equal(a[0], 0x03);
	/* the DV example of cv-format §2.1: 80 00 00 07 05 = DV domestic + DG1..3 + RI + age */
	assert_int_equal(cvc_rights_parse(CVC_CHAT_AT, "dg1,dg2,dg3,ri,age", a, &n), EAC_OK);
	assert_int_equal(n, 5);
	const uint8_t want[5] = { 0x00, 0x00, 0x00, 0x07, 0x05 };
	assert_memory_equal(a, want, 5);
	assert_int_equal(cvc_rights_parse(CVC_CHAT_AT, "wdg17,dg21", a, &n), EAC_OK);
	assert_int_equal(a[0], 0x20);
	assert_int_equal(a[1], 0x10);
	assert_int_equal(cvc_rights_parse(CVC_CHAT_IS, "dg3,dg5", a, &n), EAC_ERR_USAGE);
	assert_non_null(strstr(eac_err_detail(EAC_ERR_USAGE), "'dg5'"));

	cvc_chat c = { CVC_CHAT_AT, { 0x80, 0x00, 0x00, 0x07, 0x05 }, 5 };
	cvc_rights_format(&c, out, sizeof(out));
	assert_string_equal(out, "age,ri,dg1,dg2,dg3");
	assert_int_equal(cvc_chat_role(&c), CVC_ROLE_DV_DOMESTIC);

	cvc_chat is_cvca = { CVC_CHAT_IS, { 0xC3 }, 1 }, is_dv = { CVC_CHAT_IS, { 0x81 }, 1 };
	cvc_chat is_wide = { CVC_CHAT_IS, { 0x03 }, 1 }, is_dv3 = { CVC_CHAT_IS, { 0x41 }, 1 };
	assert_true(cvc_chat_rights_subset(&is_dv, &is_cvca));
	assert_false(cvc_chat_rights_subset(&is_wide, &is_dv));
	assert_true(cvc_chat_rights_subset(&is_dv3, &is_dv)); /* role bits ignored */
	assert_false(cvc_chat_rights_subset(&is_dv, &c));     /* different types */
}

static void test_refs(void **state)
{
	cvc_ref r;
	char part[10];
	(void)state;
	assert_int_equal(cvc_ref_set(&r, "DECVCAeID00102", 14), EAC_OK);
	cvc_ref_country(&r, part);
	assert_string_equal(part, "DE");
	cvc_ref_mnemonic(&r, part);
	assert_string_equal(part, "CVCAeID");
	cvc_ref_sequence(&r, part);
	assert_string_equal(part, "00102");
	assert_int_equal(cvc_ref_set(&r, "FI00001", 7), EAC_OK); /* empty mnemonic */
	assert_int_equal(cvc_ref_set(&r, "FI0001", 6), EAC_ERR_MALFORMED);
	assert_int_equal(cvc_ref_set(&r, "FIABCDEFGHIJ00001", 17), EAC_ERR_MALFORMED);
	assert_int_equal(cvc_ref_set(&r, "fiCVCA00001", 11), EAC_ERR_MALFORMED);
	assert_int_equal(cvc_ref_set(&r, "FICV\x01" "A00001", 11), EAC_ERR_MALFORMED);
	assert_int_equal(cvc_ref_set(&r, "FICVCA0000a", 11), EAC_ERR_MALFORMED);
}

static void test_dates(void **state)
{
	cvc_date d, e;
	char s[11];
	(void)state;
	assert_int_equal(cvc_date_parse("2024-02-29", &d), EAC_OK);
	assert_int_equal(cvc_date_parse("2023-02-29", &d), EAC_ERR_USAGE);
	assert_int_equal(cvc_date_parse("2100-01-01", &d), EAC_ERR_USAGE);
	assert_int_equal(cvc_date_parse("2099-12-31", &d), EAC_OK);
	cvc_date_from_days(cvc_date_to_days(&d) + 1, &e);
	cvc_date_format(&e, s);
	assert_string_equal(s, "2100-01-01");
	assert_false(cvc_date_valid(&e));
	cvc_date_from_time(1795000000, &d); /* 2026-11-18T... UTC */
	cvc_date_format(&d, s);
	assert_string_equal(s, "2026-11-18");
	cvc_date a = { 2026, 11, 23 }, b = { 2026, 12, 1 };
	assert_int_equal(cvc_date_cmp(&a, &b), -1);
	assert_int_equal(cvc_date_cmp(&b, &a), 1);
	assert_int_equal(cvc_date_cmp(&a, &a), 0);
	assert_int_equal(cvc_date_to_days(&b) - cvc_date_to_days(&a), 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alg_names), cmocka_unit_test(test_curve_names),
		cmocka_unit_test(test_rights),	  cmocka_unit_test(test_refs),
		cmocka_unit_test(test_dates),
	};
	return cmocka_run_group_tests_name("cvc-types", tests, NULL, NULL);
}
