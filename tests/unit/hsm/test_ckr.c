/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the CKR table: classes, one-line messages, libp11's queue. */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/err.h>

#include "hsm/internal.h"

static void test_classes(void **state)
{
	(void)state;
	/* the classes an officer acts on (issue: wrong PIN, PIN locked, token
	 * absent, key not found, mechanism unsupported, device removed) */
	assert_int_equal(hsm_ckr_code(CKR_PIN_INCORRECT), EAC_ERR_PIN_INCORRECT);
	assert_int_equal(hsm_ckr_code(CKR_PIN_LEN_RANGE), EAC_ERR_PIN_INCORRECT);
	assert_int_equal(hsm_ckr_code(CKR_PIN_LOCKED), EAC_ERR_PIN_LOCKED);
	assert_int_equal(hsm_ckr_code(CKR_TOKEN_NOT_PRESENT), EAC_ERR_TOKEN_ABSENT);
	assert_int_equal(hsm_ckr_code(CKR_SLOT_ID_INVALID), EAC_ERR_TOKEN_ABSENT);
	assert_int_equal(hsm_ckr_code(CKR_DEVICE_REMOVED), EAC_ERR_DEVICE_REMOVED);
	assert_int_equal(hsm_ckr_code(CKR_DEVICE_ERROR), EAC_ERR_DEVICE_REMOVED);
	assert_int_equal(hsm_ckr_code(CKR_SESSION_HANDLE_INVALID), EAC_ERR_DEVICE_REMOVED);
	assert_int_equal(hsm_ckr_code(CKR_SESSION_CLOSED), EAC_ERR_DEVICE_REMOVED);
	assert_int_equal(hsm_ckr_code(CKR_MECHANISM_INVALID), EAC_ERR_MECHANISM);
	assert_int_equal(hsm_ckr_code(CKR_CURVE_NOT_SUPPORTED), EAC_ERR_MECHANISM);
	assert_int_equal(hsm_ckr_code(CKR_KEY_HANDLE_INVALID), EAC_ERR_KEY_NOT_FOUND);
	assert_int_equal(hsm_ckr_code(CKR_HOST_MEMORY), EAC_ERR_NOMEM);
	assert_int_equal(hsm_ckr_code(CKR_GENERAL_ERROR), EAC_ERR_TOKEN);
	assert_int_equal(hsm_ckr_code(0x80001234UL), EAC_ERR_TOKEN);
	/* the exit status classes of the programs */
	assert_int_equal(eac_exit_code(hsm_ckr_code(CKR_PIN_INCORRECT)), EAC_EXIT_ENV);
	assert_int_equal(eac_exit_code(hsm_ckr_code(CKR_DEVICE_REMOVED)), EAC_EXIT_ENV);
}

static void test_names_complete(void **state)
{
	(void)state;
	/* every code of p11-kit's v2.40 list below 0x201 has a name */
	static const CK_RV codes[] = {
		CKR_OK, CKR_CANCEL, CKR_HOST_MEMORY, CKR_SLOT_ID_INVALID, CKR_GENERAL_ERROR,
		CKR_FUNCTION_FAILED, CKR_ARGUMENTS_BAD, CKR_NO_EVENT, CKR_NEED_TO_CREATE_THREADS,
		CKR_CANT_LOCK, CKR_ATTRIBUTE_READ_ONLY, CKR_ATTRIBUTE_SENSITIVE,
		CKR_ATTRIBUTE_TYPE_INVALID, CKR_ATTRIBUTE_VALUE_INVALID, CKR_ACTION_PROHIBITED,
		CKR_DATA_INVALID, CKR_DATA_LEN_RANGE, CKR_DEVICE_ERROR, CKR_DEVICE_MEMORY,
		CKR_DEVICE_REMOVED, CKR_ENCRYPTED_DATA_INVALID, CKR_ENCRYPTED_DATA_LEN_RANGE,
		CKR_FUNCTION_CANCELED, CKR_FUNCTION_NOT_PARALLEL, CKR_FUNCTION_NOT_SUPPORTED,
		CKR_KEY_HANDLE_INVALID, CKR_KEY_SIZE_RANGE, CKR_KEY_TYPE_INCONSISTENT,
		CKR_KEY_NOT_NEEDED, CKR_KEY_CHANGED, CKR_KEY_NEEDED, CKR_KEY_INDIGESTIBLE,
		CKR_KEY_FUNCTION_NOT_PERMITTED, CKR_KEY_NOT_WRAPPABLE, CKR_KEY_UNEXTRACTABLE,
		CKR_MECHANISM_INVALID, CKR_MECHANISM_PARAM_INVALID, CKR_OBJECT_HANDLE_INVALID,
		CKR_OPERATION_ACTIVE, CKR_OPERATION_NOT_INITIALIZED, CKR_PIN_INCORRECT,
		CKR_PIN_INVALID, CKR_PIN_LEN_RANGE, CKR_PIN_EXPIRED, CKR_PIN_LOCKED,
		CKR_SESSION_CLOSED, CKR_SESSION_COUNT, CKR_SESSION_HANDLE_INVALID,
		CKR_SESSION_PARALLEL_NOT_SUPPORTED, CKR_SESSION_READ_ONLY, CKR_SESSION_EXISTS,
		CKR_SESSION_READ_ONLY_EXISTS, CKR_SESSION_READ_WRITE_SO_EXISTS, CKR_SIGNATURE_INVALID,
		CKR_SIGNATURE_LEN_RANGE, CKR_TEMPLATE_INCOMPLETE, CKR_TEMPLATE_INCONSISTENT,
		CKR_TOKEN_NOT_PRESENT, CKR_TOKEN_NOT_RECOGNIZED, CKR_TOKEN_WRITE_PROTECTED,
		CKR_UNWRAPPING_KEY_HANDLE_INVALID, CKR_UNWRAPPING_KEY_SIZE_RANGE,
		CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT, CKR_USER_ALREADY_LOGGED_IN,
		CKR_USER_NOT_LOGGED_IN, CKR_USER_PIN_NOT_INITIALIZED, CKR_USER_TYPE_INVALID,
		CKR_USER_ANOTHER_ALREADY_LOGGED_IN, CKR_USER_TOO_MANY_TYPES, CKR_WRAPPED_KEY_INVALID,
		CKR_WRAPPED_KEY_LEN_RANGE, CKR_WRAPPING_KEY_HANDLE_INVALID, CKR_WRAPPING_KEY_SIZE_RANGE,
		CKR_WRAPPING_KEY_TYPE_INCONSISTENT, CKR_RANDOM_SEED_NOT_SUPPORTED, CKR_RANDOM_NO_RNG,
		CKR_DOMAIN_PARAMS_INVALID, CKR_CURVE_NOT_SUPPORTED, CKR_BUFFER_TOO_SMALL,
		CKR_SAVED_STATE_INVALID, CKR_INFORMATION_SENSITIVE, CKR_STATE_UNSAVEABLE,
		CKR_CRYPTOKI_NOT_INITIALIZED, CKR_CRYPTOKI_ALREADY_INITIALIZED, CKR_MUTEX_BAD,
		CKR_MUTEX_NOT_LOCKED, CKR_NEW_PIN_MODE, CKR_NEXT_OTP, CKR_EXCEEDED_MAX_ITERATIONS,
		CKR_FIPS_SELF_TEST_FAILED, CKR_LIBRARY_LOAD_FAILED, CKR_PIN_TOO_WEAK,
		CKR_PUBLIC_KEY_INVALID, CKR_FUNCTION_REJECTED,
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *n = hsm_ckr_name(codes[i]);
		if (n == NULL || strncmp(n, "CKR_", 4) != 0)
			fail_msg("CKR 0x%lx has no name", (unsigned long)codes[i]);
		assert_non_null(hsm_ckr_phrase(codes[i]));
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(codes[i], codes[j]);
	}
	assert_null(hsm_ckr_name(0x80000001UL));
	assert_string_equal(hsm_ckr_phrase(0x80000001UL), "vendor-defined error");
}

static void test_messages(void **state)
{
	eac_err r;
	(void)state;

	r = hsm_ckr_fail(CKR_PIN_INCORRECT, "CVCA", NULL);
	assert_int_equal(r, EAC_ERR_PIN_INCORRECT);
	assert_string_equal(eac_err_detail(r), "token CVCA: wrong PIN (CKR_PIN_INCORRECT)");

	r = hsm_ckr_fail(CKR_DEVICE_REMOVED, "DV", "signing with key %s", "FIDV000001");
	assert_int_equal(r, EAC_ERR_DEVICE_REMOVED);
	assert_string_equal(eac_err_detail(r),
			    "token DV: signing with key FIDV000001: device removed (CKR_DEVICE_REMOVED)");

	r = hsm_ckr_fail(CKR_PIN_LOCKED, "CVCA", NULL);
	assert_int_equal(r, EAC_ERR_PIN_LOCKED);
	assert_non_null(strstr(eac_err_detail(r), "PIN locked"));

	r = hsm_ckr_fail(CKR_TOKEN_NOT_PRESENT, "CVCA", NULL);
	assert_string_equal(eac_err_detail(r), "token CVCA: token absent (CKR_TOKEN_NOT_PRESENT)");

	r = hsm_ckr_fail(CKR_MECHANISM_INVALID, "CVCA", "signing");
	assert_string_equal(eac_err_detail(r),
			    "token CVCA: signing: mechanism not supported by the token (CKR_MECHANISM_INVALID)");

	r = hsm_ckr_fail(0x80000042UL, "CVCA", NULL);
	assert_int_equal(r, EAC_ERR_TOKEN);
	assert_string_equal(eac_err_detail(r), "token CVCA: vendor-defined error (CKR 0x80000042)");
}

static void test_libp11_queue(void **state)
{
	(void)state;
	/* libp11 reports a module's CKR as the reason of an error of its
	 * "CKR" library (ERR_get_CKR_code()); its own ERR_CKR_error() is not
	 * exported, so the test raises what it raises. The real path — a
	 * C_Initialize failure through libp11 — is in integration/hsm-faults. */
	int lib = ERR_get_CKR_code();
	assert_int_not_equal(lib, 0);
	ERR_clear_error();
	assert_int_equal(hsm_ckr_from_libp11(), CKR_OK);
	ERR_raise(lib, (int)CKR_PIN_INCORRECT);
	assert_int_equal(hsm_ckr_from_libp11(), CKR_PIN_INCORRECT);
	assert_int_equal(ERR_peek_error(), 0); /* the queue is emptied */
	ERR_raise(lib, (int)CKR_GENERAL_ERROR);
	ERR_raise(ERR_LIB_EVP, 1); /* other libraries' errors are not CKR codes */
	ERR_raise(lib, (int)CKR_DEVICE_ERROR);
	assert_int_equal(hsm_ckr_from_libp11(), CKR_DEVICE_ERROR); /* the last one */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_names_complete),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_libp11_queue),
	};
	return cmocka_run_group_tests_name("hsm/ckr", tests, NULL, NULL);
}
