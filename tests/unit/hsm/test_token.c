/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of hsm/ against a real SoftHSMv2 token of its own (fixture.c):
 * opening by URI, key generation and its attributes, lookup and the
 * protection check, signatures for every TA scheme verified with OpenSSL,
 * fixed-width r‖s, concurrency, lifetimes and refusals.
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "fixture.h"
#include "hsm/internal.h"

static fixture fx;
static hsm_pin_source pin_src;

static int group_setup(void **state)
{
	(void)state;
	if (fixture_setup(&fx, "UNIT") != 0)
		return -1;
	/* keys that must never sign, made before any hsm_ctx is open */
	if (fixture_weak_key(&fx, "FIWEAK00001", 0) != 0 || fixture_weak_key(&fx, "FIIMPRT0001", 1) != 0)
		return -1;
	pin_src = (hsm_pin_source){ .kind = HSM_PIN_FILE, .path = fx.pin_file };
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	fixture_teardown(&fx);
	return 0;
}

static hsm_ctx *open_token(void)
{
	hsm_ctx *ctx = NULL;
	eac_err r = hsm_open(fx.module, "pkcs11:token=UNIT", &pin_src, &ctx);
	if (r != EAC_OK)
		fail_msg("hsm_open: %s", eac_err_detail(r));
	return ctx;
}

static void expect(eac_err got, eac_err want, const char *needle)
{
	if (got != want || (needle != NULL && strstr(eac_err_detail(got), needle) == NULL))
		fail_msg("got %d '%s', wanted %d with '%s'", (int)got, eac_err_detail(got), (int)want,
			 needle ? needle : "");
}

/* OpenSSL's verdict on a TA signature: plain r‖s re-encoded as DER for
 * ECDSA; RSA-PSS with the salt length fixed to the hash length. */
static int openssl_verifies(EVP_PKEY *pub, cvc_alg alg, const uint8_t *msg, size_t msglen,
			    const uint8_t *sig, size_t siglen)
{
	static const char *const md[] = { [160 / 32] = "SHA1", [224 / 32] = "SHA224",
					  [256 / 32] = "SHA256", [384 / 32] = "SHA384",
					  [512 / 32] = "SHA512" };
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	uint8_t *der = NULL;
	int ok = 0, derlen;

	assert_non_null(mc);
	assert_int_equal(EVP_DigestVerifyInit_ex(mc, &pc, md[cvc_alg_hash_bits(alg) / 32], NULL, NULL,
						 pub, NULL),
			 1);
	if (cvc_alg_is_ec(alg)) {
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn(sig, (int)siglen / 2, NULL), *s = BN_bin2bn(sig + siglen / 2, (int)siglen / 2, NULL);
		assert_int_equal(ECDSA_SIG_set0(es, r, s), 1);
		derlen = i2d_ECDSA_SIG(es, &der);
		ECDSA_SIG_free(es);
		assert_true(derlen > 0);
		ok = EVP_DigestVerify(mc, der, (size_t)derlen, msg, msglen) == 1;
	} else {
		if (cvc_alg_is_pss(alg)) {
			assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING), 1);
			assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST), 1);
		}
		ok = EVP_DigestVerify(mc, sig, siglen, msg, msglen) == 1;
	}
	OPENSSL_free(der);
	EVP_MD_CTX_free(mc);
	return ok;
}

/* ---- opening ---- */

static void test_open(void **state)
{
	hsm_ctx *ctx = NULL;
	hsm_token_info ti;
	char uri[256];
	(void)state;

	ctx = open_token();
	hsm_token_describe(ctx, &ti);
	assert_string_equal(ti.label, "UNIT");
	assert_string_equal(ti.manufacturer, "SoftHSM project");
	assert_string_equal(ti.module, fx.module);
	hsm_close(ctx);

	/* more attributes select the same token */
	snprintf(uri, sizeof(uri), "pkcs11:token=UNIT;serial=%s;slot-id=%lu;library-manufacturer=SoftHSM",
		 ti.serial, ti.slot_id);
	assert_int_equal(hsm_open(fx.module, uri, &pin_src, &ctx), EAC_OK);
	hsm_close(ctx);

	ctx = NULL;
	expect(hsm_open(fx.module, "pkcs11:token=NOPE", &pin_src, &ctx), EAC_ERR_TOKEN_ABSENT,
	       "no token matching pkcs11:token=NOPE");
	assert_null(ctx);
	expect(hsm_open(fx.module, "pkcs11:token=UNIT;serial=0000", &pin_src, &ctx),
	       EAC_ERR_TOKEN_ABSENT, "tokens present: UNIT");
	expect(hsm_open(fx.module, "pkcs11:token=UNIT;object=FICVCA00001", &pin_src, &ctx),
	       EAC_ERR_CONFIG, "names an object");
	expect(hsm_open(fx.module, "pkcs11:token=UNIT?pin-value=1234", &pin_src, &ctx),
	       EAC_ERR_CONFIG, "a PIN never comes from a URI");
	expect(hsm_open("/nonexistent/pkcs11.so", "pkcs11:token=UNIT", &pin_src, &ctx),
	       EAC_ERR_TOKEN_ABSENT, "/nonexistent/pkcs11.so");
	expect(hsm_open("/etc/hostname", "pkcs11:token=UNIT", &pin_src, &ctx), EAC_ERR_TOKEN_ABSENT,
	       "cannot be loaded");
	assert_null(ctx);
}

static void test_wrong_pin(void **state)
{
	hsm_ctx *ctx = NULL;
	hsm_pin_source wrong = { .kind = HSM_PIN_FILE, .path = fx.wrong_pin_file };
	(void)state;

	eac_err r = hsm_open(fx.module, "pkcs11:token=UNIT", &wrong, &ctx);
	expect(r, EAC_ERR_PIN_INCORRECT, "token UNIT: wrong PIN (CKR_PIN_INCORRECT)");
	assert_null(ctx);
	assert_null(strstr(eac_err_detail(r), getenv("EAC_TEST_PIN_MARKER") ? getenv("EAC_TEST_PIN_MARKER") : "PINMARKunit"));
	/* the right PIN still works: one wrong try does not lock SoftHSM */
	hsm_close(open_token());
}

/* ---- generation ---- */

static void test_generate(void **state)
{
	static const struct {
		const char *spec, *chr;
		unsigned bits;
		size_t siglen;
		const char *group;
	} cases[] = {
		{ "brainpoolP256r1", "FIGEN000001", 256, 64, "brainpoolP256r1" },
		{ "brainpoolP384r1", "FIGEN000002", 384, 96, "brainpoolP384r1" },
		{ "brainpoolP512r1", "FIGEN000003", 512, 128, "brainpoolP512r1" },
		{ "P-256", "FIGEN000004", 256, 64, "prime256v1" },
		{ "P-384", "FIGEN000005", 384, 96, "secp384r1" },
		{ "rsa2048", "FIGEN000006", 2048, 256, NULL },
	};
	hsm_ctx *ctx = open_token();
	(void)state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		hsm_keyspec spec;
		hsm_key *k = NULL;
		hsm_key_info info;
		EVP_PKEY *pub = NULL;
		hsm_uri u;
		char group[64];

		assert_int_equal(hsm_keyspec_parse(cases[i].spec, &spec), EAC_OK);
		eac_err r = hsm_key_generate(ctx, &spec, cases[i].chr, &k);
		if (r != EAC_OK)
			fail_msg("%s: %s", cases[i].spec, eac_err_detail(r));
		/* read back from the token: the attributes of a CA key */
		assert_int_equal(hsm_key_attrs(k, &info), EAC_OK);
		assert_true(info.token && info.private_ && info.sensitive && !info.extractable);
		assert_true(info.always_sensitive && info.never_extractable && info.local);
		assert_true(info.sign && !info.always_authenticate);
		assert_string_equal(info.label, cases[i].chr);
		assert_int_equal(info.id_len, strlen(cases[i].chr));
		assert_memory_equal(info.id, cases[i].chr, info.id_len);
		assert_int_equal(info.bits, cases[i].bits);
		assert_int_equal(hsm_key_sig_len(k), cases[i].siglen);
		assert_string_equal(hsm_key_label(k), cases[i].chr);
		/* the public key for the codec: public only, on the right curve */
		assert_int_equal(hsm_key_public(k, &pub), EAC_OK);
		assert_int_equal(EVP_PKEY_get_bits(pub), (int)cases[i].bits);
		if (cases[i].group != NULL) {
			assert_int_equal(hsm_key_get_type(k), HSM_KEY_EC);
			assert_int_equal(EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL), 1);
			assert_string_equal(group, cases[i].group);
		} else {
			assert_int_equal(hsm_key_get_type(k), HSM_KEY_RSA);
			assert_int_equal(hsm_key_curve(k), CVC_CURVE_NONE);
		}
		BIGNUM *priv = NULL;
		assert_int_equal(EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_PRIV_KEY, &priv), 0);
		assert_null(priv);
		EVP_PKEY_free(pub);
		/* the URI names the token and the key, and parses */
		assert_int_equal(hsm_uri_parse(hsm_key_uri(k), &u), EAC_OK);
		assert_string_equal(u.token, "UNIT");
		assert_string_equal(u.object, cases[i].chr);
		assert_int_equal(u.type, HSM_URI_TYPE_PRIVATE);
		hsm_key_free(k);
	}
	hsm_close(ctx);
}

static void test_generate_refused(void **state)
{
	hsm_ctx *ctx = open_token();
	hsm_keyspec spec;
	hsm_key *k = NULL;
	(void)state;

	assert_int_equal(hsm_keyspec_parse("P-256", &spec), EAC_OK);
	assert_int_equal(hsm_key_generate(ctx, &spec, "FIDUP000001", &k), EAC_OK);
	hsm_key_free(k);
	k = NULL;
	/* CP-3.1b: one key per CHR; the label or the id already in use */
	expect(hsm_key_generate(ctx, &spec, "FIDUP000001", &k), EAC_ERR_EXISTS, "(CP-3.1b)");
	expect(hsm_key_generate(ctx, &spec, "FIWEAK00001", &k), EAC_ERR_EXISTS, "FIWEAK00001");
	assert_null(k);
	/* not a CHR */
	eac_err r = hsm_key_generate(ctx, &spec, "fi-not-a-chr", &k);
	assert_int_not_equal(r, EAC_OK);
	assert_non_null(strstr(eac_err_detail(r), "CHR for the new key: "));
	/* specs outside the set */
	expect(hsm_keyspec_parse("secp521r1", &spec), EAC_ERR_UNSUPPORTED, "curve 'secp521r1' refused");
	expect(hsm_keyspec_parse("rsa1024", &spec), EAC_ERR_UNSUPPORTED, "rsa2048 to rsa4096");
	expect(hsm_keyspec_parse("rsa4097", &spec), EAC_ERR_UNSUPPORTED, "rsa2048 to rsa4096");
	hsm_keyspec bad = { .type = HSM_KEY_EC, .curve = CVC_CURVE_NONE };
	expect(hsm_key_generate(ctx, &bad, "FIBAD000001", &k), EAC_ERR_UNSUPPORTED, "curve refused");
	bad = (hsm_keyspec){ .type = HSM_KEY_RSA, .rsa_bits = 1024 };
	expect(hsm_key_generate(ctx, &bad, "FIBAD000002", &k), EAC_ERR_UNSUPPORTED, "RSA-1024 refused");
	/* a refused generation leaves nothing in the token */
	expect(hsm_key_find(ctx, "FIBAD000001", &k), EAC_ERR_KEY_NOT_FOUND, "no private key");
	assert_null(k);
	hsm_close(ctx);
}

/* ---- lookup and protection ---- */

static void test_find(void **state)
{
	hsm_ctx *ctx = open_token();
	hsm_keyspec spec;
	hsm_key *k = NULL, *k2 = NULL;
	(void)state;

	assert_int_equal(hsm_keyspec_parse("brainpoolP256r1", &spec), EAC_OK);
	assert_int_equal(hsm_key_generate(ctx, &spec, "FIFIND00001", &k), EAC_OK);
	char uri[HSM_URI_MAX];
	snprintf(uri, sizeof(uri), "%s", hsm_key_uri(k));
	hsm_key_free(k);

	static const char *const names[] = {
		"FIFIND00001",
		"pkcs11:object=FIFIND00001",
		"pkcs11:token=UNIT;object=FIFIND00001;type=private",
		"pkcs11:id=%46%49%46%49%4E%44%30%30%30%30%31",
		"pkcs11:id=FIFIND00001",
	};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		k = NULL;
		eac_err r = hsm_key_find(ctx, names[i], &k);
		if (r != EAC_OK)
			fail_msg("%s: %s", names[i], eac_err_detail(r));
		assert_string_equal(hsm_key_label(k), "FIFIND00001");
		assert_string_equal(hsm_key_uri(k), uri);
		hsm_key_free(k);
	}
	/* the URI the module hands out finds the same key */
	assert_int_equal(hsm_key_find(ctx, uri, &k2), EAC_OK);
	assert_string_equal(hsm_key_label(k2), "FIFIND00001");
	hsm_key_free(k2);

	k = NULL;
	expect(hsm_key_find(ctx, "FINONE00001", &k), EAC_ERR_KEY_NOT_FOUND,
	       "token UNIT: key not found: no private key labelled 'FINONE00001'");
	expect(hsm_key_find(ctx, "pkcs11:token=CVCA;object=FIFIND00001", &k), EAC_ERR_POLICY,
	       "names token 'CVCA', not the configured token UNIT");
	expect(hsm_key_find(ctx, "pkcs11:serial=0000;object=FIFIND00001", &k), EAC_ERR_POLICY,
	       "(CP-4.5a)");
	expect(hsm_key_find(ctx, "pkcs11:object=FIFIND00001;type=public", &k), EAC_ERR_USAGE,
	       "only a private key");
	expect(hsm_key_find(ctx, "pkcs11:token=UNIT", &k), EAC_ERR_USAGE, "names no object= or id=");
	expect(hsm_key_find(ctx, "pkcs11:objekt=x", &k), EAC_ERR_CONFIG, "unknown attribute 'objekt'");
	assert_null(k);
	hsm_close(ctx);
}

static void test_unprotected_refused(void **state)
{
	hsm_ctx *ctx = open_token();
	hsm_key *k = NULL;
	eac_err r;
	(void)state;

	/* generated in the token, but readable once: never a CA key */
	r = hsm_key_find(ctx, "FIWEAK00001", &k);
	expect(r, EAC_ERR_KEY_UNPROTECTED, "key FIWEAK00001 is not token-protected");
	assert_non_null(strstr(eac_err_detail(r), "CKA_SENSITIVE false"));
	assert_non_null(strstr(eac_err_detail(r), "CKA_EXTRACTABLE true"));
	assert_non_null(strstr(eac_err_detail(r), "CKA_ALWAYS_SENSITIVE false"));
	assert_non_null(strstr(eac_err_detail(r), "CKA_NEVER_EXTRACTABLE false"));
	assert_null(strstr(eac_err_detail(r), "CKA_LOCAL"));
	assert_non_null(strstr(eac_err_detail(r), "(CP-4.5a, CP-4.12)"));
	/* imported from outside, sensitive from then on: still refused */
	r = hsm_key_find(ctx, "FIIMPRT0001", &k);
	expect(r, EAC_ERR_KEY_UNPROTECTED, "key FIIMPRT0001 is not token-protected");
	assert_non_null(strstr(eac_err_detail(r), "CKA_LOCAL false"));
	assert_non_null(strstr(eac_err_detail(r), "CKA_ALWAYS_SENSITIVE false"));
	assert_null(strstr(eac_err_detail(r), "CKA_SENSITIVE false"));
	assert_int_equal(eac_exit_code(EAC_ERR_KEY_UNPROTECTED), EAC_EXIT_ENV);
	assert_null(k);
	hsm_close(ctx);
}

/* ---- signing ---- */

static void sign_and_verify(hsm_key *k, cvc_alg alg, const char *msg)
{
	uint8_t sig[CVC_SIG_MAX];
	size_t siglen = sizeof(sig);
	EVP_PKEY *pub = NULL;
	eac_err r = hsm_sign(k, alg, (const uint8_t *)msg, strlen(msg), sig, &siglen);
	if (r != EAC_OK)
		fail_msg("%s with %s: %s", cvc_alg_name(alg), hsm_key_label(k), eac_err_detail(r));
	assert_int_equal(siglen, hsm_key_sig_len(k));
	assert_int_equal(hsm_key_public(k, &pub), EAC_OK);
	if (!openssl_verifies(pub, alg, (const uint8_t *)msg, strlen(msg), sig, siglen))
		fail_msg("%s with %s does not verify", cvc_alg_name(alg), hsm_key_label(k));
	/* and a changed message does not */
	assert_false(openssl_verifies(pub, alg, (const uint8_t *)"other", 5, sig, siglen));
	EVP_PKEY_free(pub);
}

static hsm_key *gen(hsm_ctx *ctx, const char *spec_name, const char *chr)
{
	hsm_keyspec spec;
	hsm_key *k = NULL;
	assert_int_equal(hsm_keyspec_parse(spec_name, &spec), EAC_OK);
	eac_err r = hsm_key_generate(ctx, &spec, chr, &k);
	if (r != EAC_OK)
		fail_msg("%s: %s", spec_name, eac_err_detail(r));
	return k;
}

static void test_sign_ecdsa(void **state)
{
	hsm_ctx *ctx = open_token();
	(void)state;

	hsm_key *bp256 = gen(ctx, "brainpoolP256r1", "FISIGN00001");
	hsm_key *p256 = gen(ctx, "P-256", "FISIGN00002");
	hsm_key *bp384 = gen(ctx, "brainpoolP384r1", "FISIGN00003");
	hsm_key *bp512 = gen(ctx, "brainpoolP512r1", "FISIGN00004");
	hsm_key *p384 = gen(ctx, "P-384", "FISIGN00005");

	/* every ECDSA scheme of TR-03110-3 A.6.4 */
	for (cvc_alg a = CVC_ALG_ECDSA_SHA1; a <= CVC_ALG_ECDSA_SHA512; a++) {
		sign_and_verify(bp512, a, "a CV certificate body");
		sign_and_verify(bp384, a, "a CV certificate body");
	}
	sign_and_verify(bp256, CVC_ALG_ECDSA_SHA256, "body");
	sign_and_verify(bp256, CVC_ALG_ECDSA_SHA224, "body");
	sign_and_verify(p256, CVC_ALG_ECDSA_SHA256, "body");
	sign_and_verify(p384, CVC_ALG_ECDSA_SHA384, "body");
	sign_and_verify(p384, CVC_ALG_ECDSA_SHA256, "");

	/* fixed width 2·l every time, though r or s sometimes has leading
	 * zero octets (about 1 in 128 signatures has one: ~16 expected here) */
	uint8_t sig[CVC_SIG_MAX];
	int leading_zero = 0;
	for (int i = 0; i < 2000; i++) {
		size_t siglen = sizeof(sig);
		char msg[32];
		snprintf(msg, sizeof(msg), "message %d", i);
		assert_int_equal(hsm_sign(p256, CVC_ALG_ECDSA_SHA256, (const uint8_t *)msg, strlen(msg),
					  sig, &siglen),
				 EAC_OK);
		assert_int_equal(siglen, 64);
		leading_zero += sig[0] == 0 || sig[32] == 0;
	}
	assert_true(leading_zero > 0);

	hsm_key_free(bp256);
	hsm_key_free(p256);
	hsm_key_free(bp384);
	hsm_key_free(bp512);
	hsm_key_free(p384);
	hsm_close(ctx);
}

static void test_sign_rsa(void **state)
{
	hsm_ctx *ctx = open_token();
	(void)state;

	hsm_key *k = gen(ctx, "rsa2048", "FIRSA000001");
	static const cvc_alg algs[] = { CVC_ALG_RSA_V15_SHA1, CVC_ALG_RSA_V15_SHA256,
					CVC_ALG_RSA_V15_SHA512, CVC_ALG_RSA_PSS_SHA1,
					CVC_ALG_RSA_PSS_SHA256, CVC_ALG_RSA_PSS_SHA512 };
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		sign_and_verify(k, algs[i], "an RSA CV certificate body");
	hsm_key_free(k);

	k = gen(ctx, "rsa3072", "FIRSA000002");
	sign_and_verify(k, CVC_ALG_RSA_PSS_SHA256, "body");
	assert_int_equal(hsm_key_sig_len(k), 384);
	hsm_key_free(k);
	hsm_close(ctx);
}

static void test_sign_refused(void **state)
{
	hsm_ctx *ctx = open_token();
	hsm_key *ec = gen(ctx, "P-256", "FIREFU00001");
	uint8_t sig[CVC_SIG_MAX];
	size_t siglen = sizeof(sig);
	(void)state;

	/* the scheme must fit the key */
	expect(hsm_sign(ec, CVC_ALG_RSA_PSS_SHA256, (const uint8_t *)"x", 1, sig, &siglen),
	       EAC_ERR_UNSUPPORTED, "key FIREFU00001 is an EC key; it cannot sign RSA-PSS-SHA-256");
	expect(hsm_sign(ec, CVC_ALG_NONE, (const uint8_t *)"x", 1, sig, &siglen), EAC_ERR_UNSUPPORTED,
	       "no such signature scheme");
	/* a buffer too small: an error and nothing written */
	memset(sig, 0xAA, sizeof(sig));
	siglen = 63;
	expect(hsm_sign(ec, CVC_ALG_ECDSA_SHA256, (const uint8_t *)"x", 1, sig, &siglen),
	       EAC_ERR_USAGE, "cannot hold the 64-byte signature");
	assert_int_equal(siglen, 63);
	for (size_t i = 0; i < sizeof(sig); i++)
		assert_int_equal(sig[i], 0xAA);
	hsm_key_free(ec);
	hsm_close(ctx);
}

/* ---- threads ---- */

typedef struct worker {
	hsm_key *key;
	EVP_PKEY *pub;
	int id, bad;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	for (int i = 0; i < 150; i++) {
		char msg[48];
		uint8_t sig[CVC_SIG_MAX];
		size_t siglen = sizeof(sig);
		snprintf(msg, sizeof(msg), "thread %d certificate %d", w->id, i);
		if (hsm_sign(w->key, CVC_ALG_ECDSA_SHA256, (const uint8_t *)msg, strlen(msg), sig,
			     &siglen) != EAC_OK ||
		    siglen != 64 ||
		    !openssl_verifies(w->pub, CVC_ALG_ECDSA_SHA256, (const uint8_t *)msg, strlen(msg), sig,
				      siglen))
			w->bad++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	hsm_ctx *ctx = open_token();
	hsm_key *k = gen(ctx, "P-256", "FITHRD00001");
	worker w[8];
	pthread_t th[8];
	(void)state;

	EVP_PKEY *pub = NULL;
	assert_int_equal(hsm_key_public(k, &pub), EAC_OK);
	for (int i = 0; i < 8; i++) {
		w[i] = (worker){ .key = k, .pub = pub, .id = i };
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	/* sessions are reused, not one per signature: at most one per thread */
	assert_true(ctx->nopen <= 8);
	assert_int_equal(ctx->nidle, ctx->nopen);
	EVP_PKEY_free(pub);
	hsm_key_free(k);
	hsm_close(ctx);
}

/* ---- lifetimes ---- */

static void test_lifetimes(void **state)
{
	hsm_ctx *ctx = open_token();
	hsm_key *k = gen(ctx, "brainpoolP256r1", "FILIFE00001");
	(void)state;

	/* a key keeps its token open after hsm_close() */
	hsm_close(ctx);
	sign_and_verify(k, CVC_ALG_ECDSA_SHA256, "still signing");
	hsm_key_free(k);

	/* keys are in the token: a new context finds and uses them */
	ctx = open_token();
	k = NULL;
	assert_int_equal(hsm_key_find(ctx, "FILIFE00001", &k), EAC_OK);
	sign_and_verify(k, CVC_ALG_ECDSA_SHA256, "after reopening");
	hsm_key_free(k);
	hsm_close(ctx);
	hsm_close(NULL);
	hsm_key_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_wrong_pin),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_generate_refused),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_unprotected_refused),
		cmocka_unit_test(test_sign_ecdsa),
		cmocka_unit_test(test_sign_rsa),
		cmocka_unit_test(test_sign_refused),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_lifetimes),
	};
	return cmocka_run_group_tests_name("hsm/token", tests, group_setup, group_teardown);
}
