/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the bounded TLV reader, the DER writer and OIDs
 * (cvc/tlv.c, through the module's private header). */

#include <stdlib.h>
#include <string.h>

#include "cvc/internal.h"
#include "tests/unit/cvc/helpers.h"

static eac_err read1(const uint8_t *b, size_t n, cvc_tlv *t)
{
	cvc_rd r;
	cvc_rd_init(&r, b, n);
	eac_err e = cvc_rd_next(&r, t);
	return e;
}

static void test_lengths_minimal(void **state)
{
	(void)state;
	cvc_tlv t;
	uint8_t buf[300] = { 0x42 };

	/* 1 octet: 0..127 */
	buf[1] = 0x7f;
	assert_int_equal(read1(buf, 2 + 0x7f, &t), EAC_OK);
	assert_int_equal(t.vlen, 0x7f);
	assert_int_equal(t.voff, 2);
	/* 81 xx for 128..255, never below */
	buf[1] = 0x81, buf[2] = 0x80;
	assert_int_equal(read1(buf, 3 + 0x80, &t), EAC_OK);
	assert_int_equal(t.vlen, 0x80);
	buf[2] = 0x7f;
	h_assert_err(read1(buf, 3 + 0x7f, &t), EAC_ERR_MALFORMED,
		     "^offset 1: length 127 written in 2 octets is not minimal");
	/* 82 xx xx for 256.., never below */
	buf[1] = 0x82, buf[2] = 0x01, buf[3] = 0x00;
	assert_int_equal(read1(buf, 4 + 0x100, &t), EAC_OK);
	assert_int_equal(t.vlen, 0x100);
	buf[2] = 0x00, buf[3] = 0xff;
	h_assert_err(read1(buf, 4 + 0xff, &t), EAC_ERR_MALFORMED,
		     "^offset 1: length 255 written in 3 octets is not minimal");
	/* indefinite and 4-octet lengths */
	buf[1] = 0x80;
	h_assert_err(read1(buf, 10, &t), EAC_ERR_MALFORMED, "^offset 1: indefinite length \\(80\\)");
	buf[1] = 0x83;
	h_assert_err(read1(buf, 10, &t), EAC_ERR_MALFORMED, "^offset 1: length of 4 octets; at most 3");
	buf[1] = 0xff;
	h_assert_err(read1(buf, 10, &t), EAC_ERR_MALFORMED, "length of 128 octets; at most 3");
}

static void test_lengths_bounds(void **state)
{
	(void)state;
	cvc_tlv t;
	uint8_t big[0x104];
	memset(big, 0xab, sizeof(big));
	big[0] = 0x53, big[1] = 0x82, big[2] = 0x01, big[3] = 0x00;
	assert_int_equal(read1(big, sizeof(big), &t), EAC_OK);
	assert_int_equal(t.vlen, 0x100);
	assert_ptr_equal(t.value, big + 4);
	/* one byte short */
	h_assert_err(read1(big, sizeof(big) - 1, &t), EAC_ERR_MALFORMED,
		     "^offset 1: length 256 of 53 \\(relative authorization\\) exceeds the 255 bytes left$");
	/* truncated inside tag and length */
	static const uint8_t two[] = { 0x7f };
	h_assert_err(read1(two, 1, &t), EAC_ERR_MALFORMED, "^offset 0: truncated in a two-octet tag$");
	static const uint8_t nolen[] = { 0x7f, 0x21 };
	h_assert_err(read1(nolen, 2, &t), EAC_ERR_MALFORMED, "^offset 2: truncated: the length of 7F21");
	static const uint8_t shortlen[] = { 0x42, 0x82, 0x01 };
	h_assert_err(read1(shortlen, 3, &t), EAC_ERR_MALFORMED, "^offset 1: truncated in a length of 3 octets");
	h_assert_err(read1(two, 0, &t), EAC_ERR_MALFORMED, "^offset 0: truncated: a data object was expected");
}

static void test_tags(void **state)
{
	(void)state;
	cvc_tlv t;
	static const uint8_t ok2[] = { 0x5f, 0x1f, 0x00 }; /* tag number 31: the smallest two-octet tag */
	assert_int_equal(read1(ok2, sizeof(ok2), &t), EAC_OK);
	assert_int_equal(t.tag, 0x5f1f);
	static const uint8_t nonmin[] = { 0x5f, 0x1e, 0x00 };
	h_assert_err(read1(nonmin, sizeof(nonmin), &t), EAC_ERR_MALFORMED, "^offset 0: tag 5F 1E is not minimal");
	static const uint8_t three[] = { 0x5f, 0x81, 0x01, 0x00 };
	h_assert_err(read1(three, sizeof(three), &t), EAC_ERR_MALFORMED, "tag of more than two octets");
	static const uint8_t eoc[] = { 0x00, 0x00 };
	h_assert_err(read1(eoc, sizeof(eoc), &t), EAC_ERR_MALFORMED, "end-of-contents octets");
}

static void test_expect_and_done(void **state)
{
	(void)state;
	static const uint8_t b[] = { 0x42, 0x01, 'A', 0x5f, 0x20, 0x00, 0x99 };
	cvc_rd r;
	cvc_tlv t;
	cvc_rd_init(&r, b, sizeof(b));
	assert_int_equal(cvc_rd_peek(&r), 0x42);
	assert_int_equal(cvc_rd_expect(&r, T_CAR, "", &t), EAC_OK);
	h_assert_err(cvc_rd_expect(&r, T_CHAT, "here", &t), EAC_ERR_MALFORMED,
		     "^offset 3: expected 7F4C \\(certificate holder authorization template\\) here, found 5F20 \\(certificate holder reference\\)$");
	h_assert_err(cvc_rd_done(&r, "the thing"), EAC_ERR_MALFORMED,
		     "^offset 6: 1 unexpected trailing bytes after the thing$");
	cvc_rd_init(&r, b, 3);
	assert_int_equal(cvc_rd_expect(&r, T_CAR, "", &t), EAC_OK);
	h_assert_err(cvc_rd_expect(&r, T_SIG, "", &t), EAC_ERR_MALFORMED,
		     "^offset 3: truncated: 5F37 \\(signature\\) is missing$");
	assert_int_equal(cvc_rd_done(&r, "x"), EAC_OK);
}

/* Build 73 { 73 { ... 80 00 } } n deep. */
static uint8_t *nest(unsigned n, size_t *len)
{
	cvc_wr w = { 0 };
	uint8_t *out = NULL;
	size_t marks[64];
	for (unsigned i = 0; i < n; i++)
		marks[i] = cvc_wr_begin(&w);
	cvc_wr_tlv(&w, 0x80, (const uint8_t *)"", 0);
	for (unsigned i = n; i-- > 0;)
		cvc_wr_end(&w, marks[i], T_DDT);
	assert_int_equal(cvc_wr_finish(&w, &out, len), EAC_OK);
	return out;
}

static void test_depth_bound(void **state)
{
	(void)state;
	size_t len;
	cvc_rd r;
	uint8_t *b = nest(CVC_MAX_DEPTH, &len);
	cvc_rd_init(&r, b, len);
	assert_int_equal(cvc_rd_walk(&r), EAC_OK);
	free(b);
	b = nest(CVC_MAX_DEPTH + 1, &len);
	cvc_rd_init(&r, b, len);
	h_assert_err(cvc_rd_walk(&r), EAC_ERR_MALFORMED, "^offset 16: data objects nested deeper than 8 levels$");
	free(b);
	b = nest(60, &len); /* a bomb: refused, not recursed into */
	cvc_rd_init(&r, b, len);
	h_assert_err(cvc_rd_walk(&r), EAC_ERR_MALFORMED, "nested deeper than 8 levels");
	free(b);
}

static void test_writer_lengths(void **state)
{
	(void)state;
	static const size_t sizes[] = { 0, 1, 127, 128, 255, 256, 4096, 65535 };
	static uint8_t v[70000];
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		cvc_wr w = { 0 };
		uint8_t *out = NULL;
		size_t len = 0;
		cvc_tlv t;
		cvc_wr_tlv(&w, T_CHR, v, sizes[i]);
		assert_int_equal(cvc_wr_finish(&w, &out, &len), EAC_OK);
		size_t hl = 2 + (sizes[i] < 128 ? 1 : sizes[i] < 256 ? 2 : 3);
		assert_int_equal(len, hl + sizes[i]);
		/* what we write, we read, with nothing left over */
		assert_int_equal(read1(out, len, &t), EAC_OK);
		assert_int_equal(t.tag, T_CHR);
		assert_int_equal(t.vlen, sizes[i]);
		free(out);
	}
	/* the 3-octet length cannot say more */
	cvc_wr w = { 0 };
	uint8_t *out = NULL;
	size_t len = 0;
	cvc_wr_tlv(&w, 0x53, v, 65536);
	h_assert_err(cvc_wr_finish(&w, &out, &len), EAC_ERR_USAGE, "too long");
	assert_null(out);
}

static void test_writer_nested(void **state)
{
	(void)state;
	cvc_wr w = { 0 };
	uint8_t *out = NULL, fill[200];
	size_t len = 0;
	memset(fill, 7, sizeof(fill));
	size_t m = cvc_wr_begin(&w);
	cvc_wr_tlv(&w, 0x42, fill, 10);
	size_t m2 = cvc_wr_begin(&w);
	cvc_wr_tlv(&w, 0x53, fill, 200); /* the inner object needs 81 xx */
	cvc_wr_end(&w, m2, T_CHAT);
	cvc_wr_end(&w, m, T_BODY);
	assert_int_equal(cvc_wr_finish(&w, &out, &len), EAC_OK);
	static const uint8_t head[] = { 0x7f, 0x4e, 0x81, 0xdb, 0x42, 0x0a };
	assert_memory_equal(out, head, sizeof(head));
	static const uint8_t inner[] = { 0x7f, 0x4c, 0x81, 0xcb, 0x53, 0x81, 0xc8 };
	assert_memory_equal(out + 16, inner, sizeof(inner));
	assert_int_equal(len, 4 + 12 + 4 + 3 + 200);
	free(out);
}

static void test_oids(void **state)
{
	(void)state;
	char txt[64];
	cvc_bytes o = cvc_alg_oid(CVC_ALG_ECDSA_SHA256);
	cvc_oid_text(o, txt, sizeof(txt));
	assert_string_equal(txt, "0.4.0.127.0.7.2.2.2.2.3");
	assert_int_equal(cvc_alg_by_oid(o.ptr, o.len), CVC_ALG_ECDSA_SHA256);
	o = cvc_alg_oid(CVC_ALG_RSA_PSS_SHA512);
	cvc_oid_text(o, txt, sizeof(txt));
	assert_string_equal(txt, "0.4.0.127.0.7.2.2.2.1.6");
	/* every scheme has its own OID, and it maps back */
	for (int a = 1; a < CVC_ALG__COUNT; a++) {
		cvc_bytes x = cvc_alg_oid((cvc_alg)a);
		assert_int_equal(cvc_alg_by_oid(x.ptr, x.len), a);
	}
	o = cvc_chat_oid(CVC_CHAT_IS);
	cvc_oid_text(o, txt, sizeof(txt));
	assert_string_equal(txt, "0.4.0.127.0.7.3.1.2.1");
	static const uint8_t big[] = { 0x88, 0x37, 0x03 }; /* 2.999.3 */
	cvc_bytes b = { big, sizeof(big) };
	cvc_oid_text(b, txt, sizeof(txt));
	assert_string_equal(txt, "2.999.3");
	static const uint8_t lead80[] = { 0x04, 0x80, 0x01 };
	assert_false(cvc_oid_valid(lead80, sizeof(lead80)));
	static const uint8_t open[] = { 0x04, 0x81 };
	assert_false(cvc_oid_valid(open, sizeof(open)));
	static const uint8_t huge[] = { 0x04, 0x90, 0x80, 0x80, 0x80, 0x00 }; /* 2^32 */
	assert_false(cvc_oid_valid(huge, sizeof(huge)));
	assert_false(cvc_oid_valid(big, 0));
	static const uint8_t desc[] = { 0x04, 0x00, 0x7f, 0x00, 0x07, 0x03, 0x01, 0x03, 0x01 };
	cvc_bytes d = { desc, sizeof(desc) };
	assert_string_equal(cvc_ext_name(d), "id-description");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lengths_minimal), cmocka_unit_test(test_lengths_bounds),
		cmocka_unit_test(test_tags),		cmocka_unit_test(test_expect_and_done),
		cmocka_unit_test(test_depth_bound),	cmocka_unit_test(test_writer_lengths),
		cmocka_unit_test(test_writer_nested),	cmocka_unit_test(test_oids),
	};
	return cmocka_run_group_tests_name("cvc-tlv", tests, NULL, NULL);
}
