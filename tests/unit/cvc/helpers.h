/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the cvc/ unit tests: software keys, certificates issued with
 * our encoder, files of tests/vectors/, and error assertions. They assert
 * with cmocka, so they may only be called from inside a test. */
#ifndef EAC_TEST_CVC_HELPERS_H
#define EAC_TEST_CVC_HELPERS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cvc/cvc.h"

/* A new EC key on a supported curve / RSA key of `bits` (EVP_PKEY_free). */
EVP_PKEY *h_ec(cvc_curve c);
EVP_PKEY *h_rsa(unsigned bits);

/* The contents of EAC_TOP/rel (malloc'ed). */
uint8_t *h_file(const char *rel, size_t *len);
cvc_obj *h_parse_file(const char *rel);
cvc_obj *h_parse(const uint8_t *buf, size_t len);

/* What to issue: a certificate signed by `signer` with `sign_alg`, CAR
 * `car` (NULL: self-signed, CAR = CHR), for the public key of `subject`
 * with scheme `key_alg`. Domain parameters: with the CVCA role. */
typedef struct h_spec {
	EVP_PKEY *signer;
	cvc_alg sign_alg;
	const char *car;
	EVP_PKEY *subject;
	cvc_alg key_alg;
	const char *chr;
	cvc_role role;
	cvc_chat_type type;
	const char *rights;
	const char *effective;
	const char *expiry;
} h_spec;

uint8_t *h_issue(const h_spec *s, size_t *len);
cvc_obj *h_issue_obj(const h_spec *s);

/* A request for `key` (scheme `alg`), optionally authenticated by
 * `outer` (scheme `outer_alg`) under `outer_car`. */
cvc_obj *h_request(EVP_PKEY *key, cvc_alg alg, const char *chr, const char *car,
		   EVP_PKEY *outer, cvc_alg outer_alg, const char *outer_car);

/* Assert `got` == `want` and the current detail matches the extended
 * regular expression `re`. */
#define h_assert_err(got, want, re) h_assert_err_at((got), (want), (re), __FILE__, __LINE__)
void h_assert_err_at(eac_err got, eac_err want, const char *re, const char *file, int line);
/* Does the current detail of `code` match `re`? */
int h_detail_matches(eac_err code, const char *re);

#endif
