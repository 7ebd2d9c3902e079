/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for PKCS#11 URIs (RFC 7512): parsing, refusals, formatting. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hsm/internal.h"

static void refused(const char *uri, const char *needle)
{
	hsm_uri u;
	eac_err r = hsm_uri_parse(uri, &u);
	if (r != EAC_ERR_CONFIG || strstr(eac_err_detail(r), needle) == NULL)
		fail_msg("%s: got %d '%s', wanted EAC_ERR_CONFIG with '%s'", uri, (int)r,
			 eac_err_detail(r), needle);
}

static void test_parse_token_and_object(void **state)
{
	hsm_uri u;
	(void)state;

	assert_int_equal(hsm_uri_parse("pkcs11:token=CVCA;object=FICVCA00002", &u), EAC_OK);
	assert_int_equal(u.has, HSM_URI_HAS_TOKEN | HSM_URI_HAS_OBJECT);
	assert_string_equal(u.token, "CVCA");
	assert_string_equal(u.object, "FICVCA00002");

	/* scheme is case-insensitive, values are percent-decoded */
	assert_int_equal(hsm_uri_parse("PKCS11:token=My%20Token;manufacturer=SoftHSM%20project;"
				       "model=SoftHSM%20v2;serial=03647092ae591b09",
				       &u),
			 EAC_OK);
	assert_string_equal(u.token, "My Token");
	assert_string_equal(u.manufacturer, "SoftHSM project");
	assert_string_equal(u.model, "SoftHSM v2");
	assert_string_equal(u.serial, "03647092ae591b09");

	/* id is bytes, NUL included */
	assert_int_equal(hsm_uri_parse("pkcs11:id=%00%01%fF;type=private", &u), EAC_OK);
	assert_int_equal(u.id_len, 3);
	assert_memory_equal(u.id, "\x00\x01\xff", 3);
	assert_int_equal(u.type, HSM_URI_TYPE_PRIVATE);

	assert_int_equal(hsm_uri_parse("pkcs11:slot-id=777591561;library-version=2.6;"
				       "library-manufacturer=SoftHSM;slot-description=x",
				       &u),
			 EAC_OK);
	assert_int_equal(u.slot_id, 777591561UL);
	assert_int_equal(u.lib_ver_major, 2);
	assert_int_equal(u.lib_ver_minor, 6);
	assert_int_equal(hsm_uri_parse("pkcs11:library-version=3", &u), EAC_OK);
	assert_int_equal(u.lib_ver_major, 3);
	assert_int_equal(u.lib_ver_minor, 0);

	/* the empty URI selects anything; RFC 7512 pchar literals are allowed */
	assert_int_equal(hsm_uri_parse("pkcs11:", &u), EAC_OK);
	assert_int_equal(u.has, 0);
	assert_int_equal(hsm_uri_parse("pkcs11:object=a:b@c!$'()*+,=&", &u), EAC_OK);
	assert_string_equal(u.object, "a:b@c!$'()*+,=&");
}

static void test_parse_refusals(void **state)
{
	(void)state;
	refused("token=CVCA", "not a PKCS#11 URI");
	refused("pkcs11:tokn=CVCA", "unknown attribute 'tokn'");
	refused("pkcs11:token=CVCA;token=DV", "'token' given twice");
	refused("pkcs11:token=CV%4", "two hex digits");
	refused("pkcs11:token=CV%zz", "two hex digits");
	refused("pkcs11:token=My Token", "0x20 must be percent-encoded");
	refused("pkcs11:object=a/b", "0x2f must be percent-encoded");
	refused("pkcs11:token=A%00B", "NUL byte");
	refused("pkcs11:token=123456789012345678901234567890123", "longer than 32 bytes");
	refused("pkcs11:serial=12345678901234567", "longer than 16 bytes");
	refused("pkcs11:token=CVCA;", "trailing ';'");
	refused("pkcs11:token=CVCA;;object=x", "empty attribute");
	refused("pkcs11:token", "is not NAME=VALUE");
	refused("pkcs11:slot-id=12a", "not a decimal number");
	refused("pkcs11:slot-id=-1", "not a decimal number");
	refused("pkcs11:library-version=2.x", "not M or M.N");
	refused("pkcs11:type=privat", "unknown type 'privat'");
	refused("pkcs11:id=", "1 to 64 bytes");
	/* secrets and modules never come from a URI */
	refused("pkcs11:token=CVCA?pin-value=1234", "'pin-value' refused: a PIN never comes from a URI");
	refused("pkcs11:token=CVCA?pin-source=file:/x", "'pin-source' refused");
	refused("pkcs11:token=CVCA?module-path=/x.so", "'module-path' refused");
	refused("pkcs11:token=CVCA?module-name=x", "'module-name' refused");
	refused("pkcs11:token=CVCA?foo=bar", "unknown query attribute 'foo'");
	refused("pkcs11:token=CVCA?", "empty query");
}

static void test_format_roundtrip(void **state)
{
	hsm_uri u, v;
	char out[HSM_URI_MAX];
	(void)state;

	memset(&u, 0, sizeof(u));
	u.has = HSM_URI_HAS_MODEL | HSM_URI_HAS_MANUFACTURER | HSM_URI_HAS_SERIAL |
		HSM_URI_HAS_TOKEN | HSM_URI_HAS_ID | HSM_URI_HAS_OBJECT | HSM_URI_HAS_TYPE;
	strcpy(u.model, "SoftHSM v2");
	strcpy(u.manufacturer, "SoftHSM project");
	strcpy(u.serial, "03647092ae591b09");
	strcpy(u.token, "CVCA");
	strcpy(u.object, "FICVCA00001");
	memcpy(u.id, "FI", 2);
	u.id_len = 2;
	u.type = HSM_URI_TYPE_PRIVATE;
	assert_int_equal(hsm_uri_format(&u, out, sizeof(out)), EAC_OK);
	assert_string_equal(out, "pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;"
				 "serial=03647092ae591b09;token=CVCA;id=%46%49;object=FICVCA00001;"
				 "type=private");
	assert_int_equal(hsm_uri_parse(out, &v), EAC_OK);
	assert_int_equal(v.has, u.has);
	assert_string_equal(v.model, u.model);
	assert_string_equal(v.object, u.object);
	assert_memory_equal(v.id, u.id, 2);

	/* a buffer too small is an error, never a truncated URI */
	assert_int_equal(hsm_uri_format(&u, out, 20), EAC_ERR_INTERNAL);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_token_and_object),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_format_roundtrip),
	};
	return cmocka_run_group_tests_name("hsm/uri", tests, NULL, NULL);
}
