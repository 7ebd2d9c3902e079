/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the parser, the encoder and the renderings (cvc/parse.c,
 * cvc/encode.c, cvc/print.c): exact bytes, round trips, accessors, every
 * refusal of the encoder, requests and authenticated requests. */

#include <stdlib.h>
#include <string.h>

#include "tests/unit/cvc/helpers.h"

/* brainpoolP256r1's base point: a valid point to encode */
static const uint8_t G256[65] = {
	0x04, 0x8b, 0xd2, 0xae, 0xb9, 0xcb, 0x7e, 0x57, 0xcb, 0x2c, 0x4b, 0x48, 0x2f, 0xfc, 0x81, 0xb7,
	0xaf, 0xb9, 0xde, 0x27, 0xe1, 0xe3, 0xbd, 0x23, 0xc2, 0x3a, 0x44, 0x53, 0xbd, 0x9a, 0xce, 0x32,
	0x62, 0x54, 0x7e, 0xf8, 0x35, 0xc3, 0xda, 0xc4, 0xfd, 0x97, 0xf8, 0x46, 0x1a, 0x14, 0x61, 0x1d,
	0xc9, 0xc2, 0x77, 0x45, 0x13, 0x2d, 0xed, 0x8e, 0x54, 0x5c, 0x1d, 0x54, 0xc7, 0x2f, 0x04, 0x69,
	0x97,
};

/* The DV certificate body of cv-format §2.1 (DECVCA00001 -> DEDVCA00001,
 * DV official domestic + DG1..3 + RI + age, 2026-11-23 .. 2027-11-23). */
static void dv_body(cvc_body *b)
{
	memset(b, 0, sizeof(*b));
	b->has_car = 1;
	assert_int_equal(cvc_ref_set(&b->car, "DECVCA00001", 11), EAC_OK);
	b->key.alg = CVC_ALG_ECDSA_SHA256;
	b->key.point.ptr = G256;
	b->key.point.len = sizeof(G256);
	assert_int_equal(cvc_ref_set(&b->chr, "DEDVCA00001", 11), EAC_OK);
	b->has_chat = b->has_dates = 1;
	b->chat.type = CVC_CHAT_AT;
	b->chat.len = 5;
	static const uint8_t auth[5] = { 0x80, 0x00, 0x00, 0x07, 0x05 };
	memcpy(b->chat.auth, auth, 5);
	assert_int_equal(cvc_date_parse("2026-11-23", &b->effective), EAC_OK);
	assert_int_equal(cvc_date_parse("2027-11-23", &b->expiry), EAC_OK);
}

static void test_encode_exact_bytes(void **state)
{
	(void)state;
	cvc_body b;
	uint8_t *out = NULL;
	size_t len = 0;
	dv_body(&b);
	assert_int_equal(cvc_body_encode(&b, &out, &len), EAC_OK);
	/* the layout annotated in cv-format §2.1: 7F4E 81 98, 7F49 4F */
	static const uint8_t head[] = { 0x7f, 0x4e, 0x81, 0x98, 0x5f, 0x29, 0x01, 0x00, 0x42, 0x0b,
					'D',  'E',  'C',  'V',	'C',  'A',  '0',  '0',	'0',  '0',
					'1',  0x7f, 0x49, 0x4f, 0x06, 0x0a, 0x04, 0x00, 0x7f, 0x00,
					0x07, 0x02, 0x02, 0x02, 0x02, 0x03, 0x86, 0x41 };
	static const uint8_t tail[] = { 0x5f, 0x20, 0x0b, 'D',	'E',  'D',  'V',  'C',	'A',  '0',
					'0',  '0',  '0',  '1',	0x7f, 0x4c, 0x12, 0x06, 0x09, 0x04,
					0x00, 0x7f, 0x00, 0x07, 0x03, 0x01, 0x02, 0x02, 0x53, 0x05,
					0x80, 0x00, 0x00, 0x07, 0x05, 0x5f, 0x25, 0x06, 0x02, 0x06,
					0x01, 0x01, 0x02, 0x03, 0x5f, 0x24, 0x06, 0x02, 0x07, 0x01,
					0x01, 0x02, 0x03 };
	assert_int_equal(len, 4 + 0x98);
	assert_memory_equal(out, head, sizeof(head));
	assert_memory_equal(out + sizeof(head), G256, sizeof(G256));
	assert_memory_equal(out + sizeof(head) + sizeof(G256), tail, sizeof(tail));
	assert_int_equal(sizeof(head) + sizeof(G256) + sizeof(tail), len);
	/* assembled with a signature, it parses back to the same fields */
	uint8_t sig[64], *cert = NULL;
	size_t certlen = 0;
	memset(sig, 0x5a, sizeof(sig));
	assert_int_equal(cvc_assemble(out, len, sig, sizeof(sig), &cert, &certlen), EAC_OK);
	assert_int_equal(certlen, 227); /* cv-format §2.1: 7F21 81DF */
	cvc_obj *o = h_parse(cert, certlen);
	assert_int_equal(cvc_obj_kind(o), CVC_KIND_CERT);
	assert_int_equal(cvc_obj_role(o), CVC_ROLE_DV_DOMESTIC);
	assert_false(cvc_obj_self_signed(o));
	const cvc_body *p = cvc_obj_body(o);
	assert_string_equal(p->car.s, "DECVCA00001");
	assert_string_equal(p->chr.s, "DEDVCA00001");
	assert_int_equal(p->key.alg, CVC_ALG_ECDSA_SHA256);
	assert_false(p->key.has_params);
	assert_int_equal(p->key.curve, CVC_CURVE_NONE);
	assert_int_equal(p->effective.year, 2026);
	assert_int_equal(p->expiry.month, 11);
	cvc_bytes t = cvc_obj_tbs(o);
	assert_int_equal(t.len, len);
	assert_memory_equal(t.ptr, out, len);
	assert_int_equal(cvc_obj_signature(o).len, 64);
	assert_int_equal(cvc_obj_inner(o).len, certlen);
	assert_null(cvc_obj_outer_car(o));
	assert_int_equal(cvc_obj_outer_tbs(o).len, 0);
	uint8_t *re = NULL;
	size_t relen = 0;
	assert_int_equal(cvc_obj_reencode(o, &re, &relen), EAC_OK);
	assert_int_equal(relen, certlen);
	assert_memory_equal(re, cert, certlen);
	free(re);
	cvc_obj_free(o);
	free(cert);
	free(out);
}

static void test_encode_refusals(void **state)
{
	(void)state;
	cvc_body b;
	uint8_t *out = NULL;
	size_t len = 0;
	static uint8_t compressed[33] = { 0x02 };

	dv_body(&b);
	b.has_dates = 0;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "a CHAT and dates, a request body neither");
	dv_body(&b);
	b.has_car = 0;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "a certificate needs a CAR");
	dv_body(&b);
	b.chr.s[2] = 0x0a;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "^CHR .*control character \\(0x0a\\)");
	dv_body(&b);
	b.car.len = 20;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "^CAR: length 20 does not match its text");
	dv_body(&b);
	b.chat.len = 1;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "CHAT of id-AT has 5 octets, not 1");
	dv_body(&b);
	b.chat.type = CVC_CHAT_NONE;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "CHAT without a terminal type");
	dv_body(&b);
	b.expiry.month = 13;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "calendar dates");
	dv_body(&b);
	b.expiry.year = 2026, b.expiry.month = 11, b.expiry.day = 22;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "expiration date precedes the effective date");
	/* TR-03110-3 D.3.3: DV/terminal certificates carry no domain parameters */
	dv_body(&b);
	b.key.has_params = 1;
	b.key.curve = CVC_CURVE_BP256R1;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE,
		     "a dv_domestic certificate must not carry domain parameters");
	/* CVCA certificates carry all of 81..87 ([CVF P5]) */
	dv_body(&b);
	b.chat.auth[0] = 0xc0;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE,
		     "a CVCA certificate must carry all domain parameters 81..87 including the cofactor");
	b.key.has_params = 1;
	b.key.curve = CVC_CURVE_BP256R1;
	b.key.no_cofactor = 1;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "including the cofactor");
	b.key.no_cofactor = 0;
	assert_int_equal(cvc_body_encode(&b, &out, &len), EAC_OK);
	free(out);
	out = NULL;
	/* requests carry domain parameters */
	dv_body(&b);
	b.has_chat = b.has_dates = 0;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE,
		     "a request must carry the domain parameters of its key");
	/* keys */
	dv_body(&b);
	b.key.point.ptr = compressed;
	b.key.point.len = sizeof(compressed);
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "must be uncompressed");
	dv_body(&b);
	b.key.point.len = 64;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "of 64 octets fits no supported curve");
	dv_body(&b);
	b.key.alg = CVC_ALG_NONE;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "no signature scheme");
	dv_body(&b);
	b.key.alg = CVC_ALG_RSA_V15_SHA256;
	b.key.n.ptr = G256;
	b.key.n.len = 65; /* 0x04...: leading octet 04 → 515 bits */
	b.key.e.ptr = G256 + 1;
	b.key.e.len = 1;
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "RSA modulus of 515 bits");
	/* extensions must be 73 templates */
	dv_body(&b);
	static const uint8_t badext[] = { 0x74, 0x00 };
	b.ext.ptr = badext;
	b.ext.len = sizeof(badext);
	h_assert_err(cvc_body_encode(&b, &out, &len), EAC_ERR_USAGE, "extensions \\(65\\) are not a sequence of 73 templates");
	assert_null(out);
}

static void test_assemble_refusals(void **state)
{
	(void)state;
	cvc_body b;
	uint8_t *body = NULL, *out = NULL, sig[64] = { 1 };
	size_t len = 0, outlen = 0;
	dv_body(&b);
	assert_int_equal(cvc_body_encode(&b, &body, &len), EAC_OK);
	h_assert_err(cvc_assemble(body, len, sig, 0, &out, &outlen), EAC_ERR_USAGE, "signature of 0 octets");
	h_assert_err(cvc_assemble(body, len, sig, CVC_SIG_MAX + 1, &out, &outlen), EAC_ERR_USAGE,
		     "signature of 513 octets");
	/* not a body: refused by the parser before it is handed out */
	h_assert_err(cvc_assemble(body + 4, len - 4, sig, 64, &out, &outlen), EAC_ERR_MALFORMED,
		     "^assembled certificate: offset [0-9]+: expected 7F4E");
	/* a body cut short: its length now reaches into the signature */
	h_assert_err(cvc_assemble(body, len - 1, sig, 64, &out, &outlen), EAC_ERR_MALFORMED,
		     "^assembled certificate: offset [0-9]+: ");
	assert_null(out);
	free(body);
}

static void test_requests(void **state)
{
	(void)state;
	EVP_PKEY *k = h_ec(CVC_CURVE_BP256R1), *outer = h_ec(CVC_CURVE_BP256R1);
	cvc_obj *r = h_request(k, CVC_ALG_ECDSA_SHA256, "DEDVCA00002", "DECVCA00001", NULL, CVC_ALG_NONE, NULL);
	assert_int_equal(cvc_obj_kind(r), CVC_KIND_REQUEST);
	const cvc_body *b = cvc_obj_body(r);
	assert_false(b->has_chat);
	assert_false(b->has_dates);
	assert_true(b->has_car);
	assert_true(b->key.has_params);
	assert_false(b->key.no_cofactor);
	assert_int_equal(b->key.curve, CVC_CURVE_BP256R1);
	assert_int_equal(cvc_verify_request_inner(r), EAC_OK);
	h_assert_err(cvc_verify_request_outer(r, &b->key, NULL), EAC_ERR_USAGE, "has no outer signature");
	/* the authenticated request: 67 { 7F21, 42, 5F37 } */
	cvc_bytes inner = cvc_obj_encoding(r);
	cvc_ref oc;
	assert_int_equal(cvc_ref_set(&oc, "DEDVCA00001", 11), EAC_OK);
	uint8_t *tbs = NULL, *auth = NULL;
	size_t tbslen = 0, authlen = 0;
	assert_int_equal(cvc_auth_request_tbs(inner.ptr, inner.len, &oc, &tbs, &tbslen), EAC_OK);
	assert_int_equal(tbslen, inner.len + 13);
	assert_memory_equal(tbs, inner.ptr, inner.len);
	static const uint8_t car42[] = { 0x42, 0x0b, 'D', 'E', 'D', 'V', 'C', 'A', '0', '0', '0', '0', '1' };
	assert_memory_equal(tbs + inner.len, car42, sizeof(car42));
	uint8_t sig[CVC_SIG_MAX];
	size_t siglen = sizeof(sig);
	assert_int_equal(cvc_soft_sign(outer, CVC_ALG_ECDSA_SHA256, tbs, tbslen, sig, &siglen), EAC_OK);
	assert_int_equal(cvc_auth_request_assemble(inner.ptr, inner.len, &oc, sig, siglen, &auth, &authlen),
			 EAC_OK);
	cvc_obj *a = h_parse(auth, authlen);
	assert_int_equal(cvc_obj_kind(a), CVC_KIND_AUTH_REQUEST);
	assert_string_equal(cvc_obj_outer_car(a)->s, "DEDVCA00001");
	cvc_bytes ot = cvc_obj_outer_tbs(a);
	assert_int_equal(ot.len, tbslen);
	assert_memory_equal(ot.ptr, tbs, tbslen);
	/* contiguous in the encoding, right after the 67 header */
	assert_ptr_equal(ot.ptr, cvc_obj_inner(a).ptr);
	assert_ptr_equal(ot.ptr, cvc_obj_encoding(a).ptr + 4);
	assert_memory_equal(cvc_obj_inner(a).ptr, inner.ptr, inner.len);
	assert_int_equal(cvc_obj_outer_signature(a).len, 64);
	assert_int_equal(cvc_verify_request_inner(a), EAC_OK);
	cvc_keybuf kb;
	cvc_pubkey opub;
	assert_int_equal(cvc_pubkey_from_pkey(outer, CVC_ALG_ECDSA_SHA256, 0, &kb, &opub), EAC_OK);
	assert_int_equal(cvc_verify_request_outer(a, &opub, NULL), EAC_OK);
	/* the outer signature is not by the inner key */
	h_assert_err(cvc_verify_request_outer(a, &b->key, NULL), EAC_ERR_SIGNATURE,
		     "^request DEDVCA00002: outer signature by DEDVCA00001: signature does not verify");
	/* a 67 cannot go into a 67, nor a certificate */
	h_assert_err(cvc_auth_request_tbs(auth, authlen, &oc, &tbs, &tbslen), EAC_ERR_USAGE,
		     "already an authenticated request");
	uint8_t *re = NULL;
	size_t relen = 0;
	assert_int_equal(cvc_obj_reencode(a, &re, &relen), EAC_OK);
	assert_int_equal(relen, authlen);
	assert_memory_equal(re, auth, authlen);
	free(re);
	/* the convenience path gives the same structure */
	uint8_t *auth2 = NULL;
	size_t auth2len = 0;
	assert_int_equal(cvc_auth_request_sign(inner.ptr, inner.len, &oc, CVC_ALG_ECDSA_SHA256, cvc_soft_sign,
					       outer, &auth2, &auth2len),
			 EAC_OK);
	assert_int_equal(auth2len, authlen);
	free(auth2);
	/* parse-kind requirements */
	cvc_obj *x = NULL;
	h_assert_err(cvc_parse_cert(auth, authlen, &x), EAC_ERR_MALFORMED,
		     "^offset 0: not a certificate \\(found authenticated request\\)$");
	assert_int_equal(cvc_parse_request(auth, authlen, &x), EAC_OK);
	cvc_obj_free(x);
	cvc_obj_free(a);
	free(auth);
	free(tbs);
	cvc_obj_free(r);
	EVP_PKEY_free(k);
	EVP_PKEY_free(outer);
}

static void test_request_rsa_and_no_car(void **state)
{
	(void)state;
	EVP_PKEY *k = h_rsa(2048);
	cvc_obj *r = h_request(k, CVC_ALG_RSA_PSS_SHA256, "DETERM00001", NULL, k, CVC_ALG_RSA_V15_SHA512, "DETERM00000");
	assert_int_equal(cvc_obj_kind(r), CVC_KIND_AUTH_REQUEST);
	assert_false(cvc_obj_body(r)->has_car);
	assert_int_equal(cvc_verify_request_inner(r), EAC_OK);
	cvc_pubkey key = cvc_obj_body(r)->key;
	key.alg = CVC_ALG_RSA_V15_SHA512;
	assert_int_equal(cvc_verify_request_outer(r, &key, NULL), EAC_OK);
	cvc_obj *c = NULL;
	h_assert_err(cvc_parse_cert(cvc_obj_encoding(r).ptr, cvc_obj_encoding(r).len, &c), EAC_ERR_MALFORMED,
		     "not a certificate");
	cvc_obj_free(r);
	EVP_PKEY_free(k);
}

static void test_real_world(void **state)
{
	(void)state;
	static const char *files[] = {
		"DECVCAEPASS00102", "DECVCAeID00102", "DECVCAeSign00102", "dv_cert_19.cvcert",
		"at_cert_19a.cvcert",
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char rel[256];
		snprintf(rel, sizeof(rel), "tests/vectors/real-world/%s", files[i]);
		size_t len;
		uint8_t *buf = h_file(rel, &len), *re = NULL;
		size_t relen = 0;
		cvc_obj *o = h_parse(buf, len);
		assert_int_equal(cvc_obj_kind(o), CVC_KIND_CERT);
		assert_int_equal(cvc_obj_reencode(o, &re, &relen), EAC_OK);
		assert_int_equal(relen, len);
		assert_memory_equal(re, buf, len);
		if (cvc_obj_self_signed(o))
			assert_int_equal(cvc_verify_cert(o, &cvc_obj_body(o)->key, NULL), EAC_OK);
		free(re);
		free(buf);
		cvc_obj_free(o);
	}
	cvc_obj *o = h_parse_file("tests/vectors/real-world/DECVCAeID00102");
	const cvc_body *b = cvc_obj_body(o);
	assert_int_equal(b->key.curve, CVC_CURVE_BP256R1);
	assert_true(b->key.has_params);
	assert_false(b->key.no_cofactor);
	assert_int_equal(b->chat.type, CVC_CHAT_AT);
	static const uint8_t auth[5] = { 0xfe, 0x0f, 0x01, 0xff, 0xff };
	assert_memory_equal(b->chat.auth, auth, 5);
	char d[11];
	cvc_date_format(&b->effective, d);
	assert_string_equal(d, "2010-10-18");
	cvc_date_format(&b->expiry, d);
	assert_string_equal(d, "2013-10-18");
	cvc_obj_free(o);
	o = h_parse_file("tests/vectors/real-world/dv_cert_19.cvcert");
	b = cvc_obj_body(o);
	assert_int_equal(b->key.alg, CVC_ALG_RSA_V15_SHA1);
	assert_int_equal(b->key.n.len, 128);
	assert_string_equal(b->car.s, "DETESTCVCA00003");
	assert_int_equal(cvc_obj_role(o), CVC_ROLE_DV_DOMESTIC);
	/* the terminal certificate under it verifies with its key */
	cvc_obj *t = h_parse_file("tests/vectors/real-world/at_cert_19a.cvcert");
	assert_int_equal(cvc_verify_cert(t, &b->key, NULL), EAC_OK);
	cvc_obj_free(t);
	cvc_obj_free(o);
}

static void test_json(void **state)
{
	(void)state;
	json_t *j = NULL;
	cvc_obj *o = h_parse_file("tests/vectors/real-world/DECVCAeID00102");
	assert_int_equal(cvc_obj_to_json(o, &j), EAC_OK);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "certificate");
	assert_int_equal(json_integer_value(json_object_get(j, "size")), 443);
	assert_string_equal(json_string_value(json_object_get(j, "sha256")),
			    "b97b252dd4beea03a9e9feba8ed021cbdc7c31b26eedf9ab80509198e09bea59");
	json_t *chr = json_object_get(j, "chr");
	assert_string_equal(json_string_value(json_object_get(chr, "mnemonic")), "CVCAeID");
	assert_string_equal(json_string_value(json_object_get(chr, "sequence")), "00102");
	json_t *key = json_object_get(j, "public_key");
	assert_string_equal(json_string_value(json_object_get(key, "algorithm")), "ECDSA-SHA-256");
	assert_string_equal(json_string_value(json_object_get(key, "curve")), "brainpoolP256r1");
	assert_true(json_is_true(json_object_get(key, "domain_parameters")));
	json_t *chat = json_object_get(j, "chat");
	assert_string_equal(json_string_value(json_object_get(chat, "type")), "id-AT");
	assert_string_equal(json_string_value(json_object_get(chat, "role")), "cvca");
	assert_string_equal(json_string_value(json_object_get(chat, "authorization")), "fe0f01ffff");
	json_t *rights = json_object_get(chat, "rights");
	assert_int_equal(json_array_size(rights), 26);
	assert_string_equal(json_string_value(json_array_get(rights, 0)), "age");
	assert_string_equal(json_string_value(json_array_get(rights, 25)), "wdg17");
	assert_string_equal(json_string_value(json_object_get(j, "effective")), "2010-10-18");
	assert_true(json_is_true(json_object_get(j, "self_signed")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "signature"), "length")), 64);
	json_decref(j);
	cvc_obj_free(o);

	/* an extension, named and with its data objects */
	o = h_parse_file("tests/vectors/good/DETERM00002");
	assert_int_equal(cvc_obj_to_json(o, &j), EAC_OK);
	json_t *ext = json_array_get(json_object_get(j, "extensions"), 0);
	assert_string_equal(json_string_value(json_object_get(ext, "name")), "id-description");
	assert_string_equal(json_string_value(json_object_get(ext, "oid")), "0.4.0.127.0.7.3.1.3.1");
	json_t *obj = json_array_get(json_object_get(ext, "objects"), 0);
	assert_string_equal(json_string_value(json_object_get(obj, "tag")), "80");
	assert_int_equal(strlen(json_string_value(json_object_get(obj, "value"))), 64);
	json_decref(j);
	cvc_obj_free(o);

	/* an authenticated request: outer CAR and signature */
	o = h_parse_file("tests/vectors/good/DEDVCA00003.cvreq");
	assert_int_equal(cvc_obj_to_json(o, &j), EAC_OK);
	assert_string_equal(json_string_value(json_object_get(j, "kind")), "authenticated request");
	assert_null(json_object_get(j, "chat"));
	json_t *outer = json_object_get(j, "outer");
	assert_string_equal(json_string_value(json_object_get(json_object_get(outer, "car"), "ref")), "DEDVCA00001");
	json_decref(j);
	cvc_obj_free(o);
}

static void test_text_and_latin1(void **state)
{
	(void)state;
	char *text = NULL;
	json_t *j = NULL;
	EVP_PKEY *k = h_ec(CVC_CURVE_P256);
	/* a mnemonic in ISO 8859-1: "Prüf" */
	h_spec s = { k, CVC_ALG_ECDSA_SHA256, NULL, k, CVC_ALG_ECDSA_SHA256, "ATPr\xfc" "f00001",
		     CVC_ROLE_CVCA, CVC_CHAT_IS, "dg3,dg4", "2025-01-01", "2027-01-01" };
	cvc_obj *o = h_issue_obj(&s);
	assert_int_equal(cvc_obj_to_text(o, &text), EAC_OK);
	assert_non_null(strstr(text, "certificate, "));
	assert_non_null(strstr(text, "CHR:                ATPr\xc3\xbc" "f00001 (country AT, mnemonic 'Pr\xc3\xbc" "f', sequence 00001)"));
	assert_non_null(strstr(text, "curve:            P-256, domain parameters 81..87"));
	assert_non_null(strstr(text, "role:             CVCA"));
	assert_non_null(strstr(text, "rights:           dg3,dg4"));
	assert_non_null(strstr(text, "effective:          2025-01-01"));
	free(text);
	assert_int_equal(cvc_obj_to_json(o, &j), EAC_OK);
	/* valid UTF-8 in JSON */
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "chr"), "ref")),
			    "ATPr\xc3\xbc" "f00001");
	json_decref(j);
	cvc_obj_free(o);
	EVP_PKEY_free(k);
	assert_string_equal(cvc_role_description(CVC_CHAT_IS, CVC_ROLE_DV_FOREIGN), "DV (official foreign)");
	assert_string_equal(cvc_role_description(CVC_CHAT_AT, CVC_ROLE_DV_FOREIGN), "DV (non-official / foreign)");
	assert_string_equal(cvc_role_description(CVC_CHAT_ST, CVC_ROLE_DV_DOMESTIC), "DV (accreditation body)");
	assert_string_equal(cvc_role_description(CVC_CHAT_ST, CVC_ROLE_TERMINAL), "signature terminal");
}

static void test_parse_size_limit(void **state)
{
	(void)state;
	static uint8_t big[CVC_MAX_SIZE + 1];
	cvc_obj *o = NULL;
	h_assert_err(cvc_parse(big, sizeof(big), &o), EAC_ERR_MALFORMED,
		     "^offset 0: input of 4097 bytes exceeds the limit of 4096 bytes$");
	h_assert_err(cvc_parse(big, 0, &o), EAC_ERR_MALFORMED, "^offset 0: empty input$");
	assert_null(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_exact_bytes), cmocka_unit_test(test_encode_refusals),
		cmocka_unit_test(test_assemble_refusals),  cmocka_unit_test(test_requests),
		cmocka_unit_test(test_request_rsa_and_no_car), cmocka_unit_test(test_real_world),
		cmocka_unit_test(test_json),		   cmocka_unit_test(test_text_and_latin1),
		cmocka_unit_test(test_parse_size_limit),
	};
	return cmocka_run_group_tests_name("cvc-codec", tests, NULL, NULL);
}
