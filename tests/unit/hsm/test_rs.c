/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the fixed-width ECDSA output (TR-03111 plain r||s). */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hsm/internal.h"

static void test_full_width_unchanged(void **state)
{
	uint8_t in[64], out[64];
	(void)state;
	for (int i = 0; i < 64; i++)
		in[i] = (uint8_t)(i + 1);
	assert_true(hsm_ecdsa_fixed(in, 64, 64, out));
	assert_memory_equal(in, out, 64);
}

static void test_short_halves_padded(void **state)
{
	/* a token that dropped one leading zero octet of r and of s: 31+31 */
	uint8_t in[62], out[64], want[64] = { 0 };
	(void)state;
	for (int i = 0; i < 62; i++)
		in[i] = (uint8_t)(0x80 + i);
	memcpy(want + 1, in, 31);       /* r = 00 || r' */
	memcpy(want + 33, in + 31, 31); /* s = 00 || s' */
	assert_true(hsm_ecdsa_fixed(in, 62, 64, out));
	assert_memory_equal(out, want, 64);
	/* brainpoolP512r1: 128 bytes from 126 */
	uint8_t in2[126], out2[128];
	memset(in2, 0xEE, sizeof(in2));
	assert_true(hsm_ecdsa_fixed(in2, 126, 128, out2));
	assert_int_equal(out2[0], 0);
	assert_int_equal(out2[64], 0);
	assert_int_equal(out2[1], 0xEE);
	assert_int_equal(out2[127], 0xEE);
}

static void test_not_a_signature(void **state)
{
	uint8_t in[70] = { 0 }, out[64];
	(void)state;
	memset(out, 0xAA, sizeof(out));
	assert_false(hsm_ecdsa_fixed(in, 63, 64, out)); /* odd */
	assert_false(hsm_ecdsa_fixed(in, 0, 64, out));  /* empty */
	assert_false(hsm_ecdsa_fixed(in, 66, 64, out)); /* longer than 2·l */
	for (int i = 0; i < 64; i++)
		assert_int_equal(out[i], 0xAA); /* untouched */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_width_unchanged),
		cmocka_unit_test(test_short_halves_padded),
		cmocka_unit_test(test_not_a_signature),
	};
	return cmocka_run_group_tests_name("hsm/rs", tests, NULL, NULL);
}
