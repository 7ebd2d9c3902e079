/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the cvc/ unit tests (see helpers.h). */

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "tests/unit/cvc/helpers.h"

EVP_PKEY *h_ec(cvc_curve c)
{
	static const char *names[CVC_CURVE__COUNT] = {
		[CVC_CURVE_BP256R1] = "brainpoolP256r1", [CVC_CURVE_BP384R1] = "brainpoolP384r1",
		[CVC_CURVE_BP512R1] = "brainpoolP512r1", [CVC_CURVE_P256] = "P-256",
		[CVC_CURVE_P384] = "P-384",
	};
	EVP_PKEY *k = EVP_EC_gen(names[c]);
	assert_non_null(k);
	return k;
}

EVP_PKEY *h_rsa(unsigned bits)
{
	EVP_PKEY *k = EVP_RSA_gen(bits);
	assert_non_null(k);
	return k;
}

uint8_t *h_file(const char *rel, size_t *len)
{
	char path[1024];
	const char *top = getenv("EAC_TOP");
	uint8_t *buf = NULL;
	snprintf(path, sizeof(path), "%s/%s", top ? top : ".", rel);
	eac_err e = eac_file_read(path, 1 << 20, &buf, len);
	if (e != EAC_OK)
		fail_msg("%s", eac_err_detail(e));
	return buf;
}

cvc_obj *h_parse(const uint8_t *buf, size_t len)
{
	cvc_obj *o = NULL;
	eac_err e = cvc_parse(buf, len, &o);
	if (e != EAC_OK)
		fail_msg("parse: %s", eac_err_detail(e));
	return o;
}

cvc_obj *h_parse_file(const char *rel)
{
	size_t len = 0;
	uint8_t *buf = h_file(rel, &len);
	cvc_obj *o = NULL;
	eac_err e = cvc_parse(buf, len, &o);
	free(buf);
	if (e != EAC_OK)
		fail_msg("%s: %s", rel, eac_err_detail(e));
	return o;
}

uint8_t *h_issue(const h_spec *s, size_t *len)
{
	cvc_body b;
	cvc_keybuf kb;
	uint8_t *out = NULL;
	eac_err e;

	memset(&b, 0, sizeof(b));
	assert_int_equal(cvc_ref_set(&b.chr, s->chr, strlen(s->chr)), EAC_OK);
	const char *car = s->car ? s->car : s->chr;
	assert_int_equal(cvc_ref_set(&b.car, car, strlen(car)), EAC_OK);
	b.has_car = 1;
	e = cvc_pubkey_from_pkey(s->subject, s->key_alg, s->role == CVC_ROLE_CVCA, &kb, &b.key);
	if (e != EAC_OK)
		fail_msg("key: %s", eac_err_detail(e));
	b.has_chat = b.has_dates = 1;
	b.chat.type = s->type;
	assert_int_equal(cvc_rights_parse(s->type, s->rights ? s->rights : "", b.chat.auth, &b.chat.len),
			 EAC_OK);
	b.chat.auth[0] |= (uint8_t)(s->role << 6);
	assert_int_equal(cvc_date_parse(s->effective, &b.effective), EAC_OK);
	assert_int_equal(cvc_date_parse(s->expiry, &b.expiry), EAC_OK);
	e = cvc_encode_signed(&b, s->sign_alg, cvc_soft_sign, s->signer, &out, len);
	if (e != EAC_OK)
		fail_msg("issue %s: %s", s->chr, eac_err_detail(e));
	return out;
}

cvc_obj *h_issue_obj(const h_spec *s)
{
	size_t len = 0;
	uint8_t *buf = h_issue(s, &len);
	cvc_obj *o = h_parse(buf, len);
	free(buf);
	return o;
}

cvc_obj *h_request(EVP_PKEY *key, cvc_alg alg, const char *chr, const char *car, EVP_PKEY *outer,
		   cvc_alg outer_alg, const char *outer_car)
{
	cvc_body b;
	cvc_keybuf kb;
	uint8_t *req = NULL, *auth = NULL;
	size_t reqlen = 0, authlen = 0;
	eac_err e;

	memset(&b, 0, sizeof(b));
	assert_int_equal(cvc_ref_set(&b.chr, chr, strlen(chr)), EAC_OK);
	if (car) {
		assert_int_equal(cvc_ref_set(&b.car, car, strlen(car)), EAC_OK);
		b.has_car = 1;
	}
	assert_int_equal(cvc_pubkey_from_pkey(key, alg, 1, &kb, &b.key), EAC_OK);
	e = cvc_encode_signed(&b, alg, cvc_soft_sign, key, &req, &reqlen);
	if (e != EAC_OK)
		fail_msg("request: %s", eac_err_detail(e));
	if (outer) {
		cvc_ref oc;
		assert_int_equal(cvc_ref_set(&oc, outer_car, strlen(outer_car)), EAC_OK);
		e = cvc_auth_request_sign(req, reqlen, &oc, outer_alg, cvc_soft_sign, outer, &auth,
					  &authlen);
		if (e != EAC_OK)
			fail_msg("outer: %s", eac_err_detail(e));
	}
	cvc_obj *o = auth ? h_parse(auth, authlen) : h_parse(req, reqlen);
	free(req);
	free(auth);
	return o;
}

int h_detail_matches(eac_err code, const char *re)
{
	regex_t rx;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
		return 0;
	int ok = regexec(&rx, eac_err_detail(code), 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

void h_assert_err_at(eac_err got, eac_err want, const char *re, const char *file, int line)
{
	if (got != want)
		fail_msg("%s:%d: got %s (%s), wanted %s", file, line, eac_err_str(got),
			 got == EAC_OK ? "ok" : eac_err_detail(got), eac_err_str(want));
	if (!h_detail_matches(got, re))
		fail_msg("%s:%d: detail '%s' does not match /%s/", file, line, eac_err_detail(got), re);
}
