/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for keys and the 11 Terminal Authentication schemes
 * (cvc/sig.c): fixed-width r||s out, any even length in ([CVF P1]), PSS
 * salt = hash length out, any salt in ([CVF P2]), key conversion, key
 * hash (CP-4.6) and private-key decoding. */

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "tests/unit/cvc/helpers.h"

static const uint8_t msg[] = "7F4E ... the to-be-signed body";
static const cvc_bytes tbs = { msg, sizeof(msg) };

static size_t order_len(cvc_curve c)
{
	return cvc_curve_bits(c) / 8;
}

static void sign_verify(EVP_PKEY *k, cvc_alg alg, size_t want_len)
{
	uint8_t sig[CVC_SIG_MAX];
	size_t siglen = sizeof(sig);
	cvc_keybuf kb;
	cvc_pubkey pub;
	cvc_bytes s;

	assert_int_equal(cvc_soft_sign(k, alg, msg, sizeof(msg), sig, &siglen), EAC_OK);
	assert_int_equal(siglen, want_len);
	/* the key with any scheme that fits it (the hash-size rule would
	 * refuse ECDSA-SHA-512 on 256 bits), then the scheme under test */
	assert_int_equal(cvc_pubkey_from_pkey(k, cvc_alg_is_ec(alg) ? CVC_ALG_ECDSA_SHA1 : CVC_ALG_RSA_V15_SHA1,
					      1, &kb, &pub),
			 EAC_OK);
	pub.alg = alg;
	s.ptr = sig;
	s.len = siglen;
	assert_int_equal(cvc_verify_sig(&pub, NULL, tbs, s), EAC_OK);
	/* the same through a ready EVP_PKEY */
	assert_int_equal(cvc_verify_sig_pkey(k, alg, tbs, s), EAC_OK);
	/* another message */
	cvc_bytes other = { msg, sizeof(msg) - 1 };
	h_assert_err(cvc_verify_sig(&pub, NULL, other, s), EAC_ERR_SIGNATURE, "^signature does not verify \\(");
	/* a flipped bit anywhere in the signature */
	sig[siglen / 3] ^= 0x20;
	h_assert_err(cvc_verify_sig(&pub, NULL, tbs, s), EAC_ERR_SIGNATURE, "signature does not verify");
}

static void test_ecdsa_every_curve_and_hash(void **state)
{
	(void)state;
	for (int c = 1; c < CVC_CURVE__COUNT; c++) {
		EVP_PKEY *k = h_ec((cvc_curve)c);
		for (int a = CVC_ALG_ECDSA_SHA1; a <= CVC_ALG_ECDSA_SHA512; a++)
			sign_verify(k, (cvc_alg)a, 2 * order_len((cvc_curve)c));
		EVP_PKEY_free(k);
	}
}

static void test_rsa_every_scheme(void **state)
{
	(void)state;
	EVP_PKEY *k = h_rsa(2048);
	for (int a = CVC_ALG_RSA_V15_SHA1; a <= CVC_ALG_RSA_PSS_SHA512; a++)
		sign_verify(k, (cvc_alg)a, 256);
	/* v1.5 is not PSS and back */
	uint8_t sig[CVC_SIG_MAX];
	size_t siglen = sizeof(sig);
	assert_int_equal(cvc_soft_sign(k, CVC_ALG_RSA_V15_SHA256, msg, sizeof(msg), sig, &siglen), EAC_OK);
	cvc_bytes s = { sig, siglen };
	h_assert_err(cvc_verify_sig_pkey(k, CVC_ALG_RSA_PSS_SHA256, tbs, s), EAC_ERR_SIGNATURE,
		     "does not verify \\(RSA-PSS-SHA-256\\)");
	h_assert_err(cvc_verify_sig_pkey(k, CVC_ALG_RSA_V15_SHA512, tbs, s), EAC_ERR_SIGNATURE,
		     "does not verify \\(RSA-v1.5-SHA-512\\)");
	EVP_PKEY_free(k);
}

/* Sign with OpenSSL directly: PSS with a chosen salt length. */
static size_t pss_sign(EVP_PKEY *k, const EVP_MD *md, int saltlen, uint8_t *sig)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *p = NULL;
	size_t len = CVC_SIG_MAX;
	assert_int_equal(EVP_DigestSignInit(m, &p, md, NULL, k), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(p, saltlen), 1);
	assert_int_equal(EVP_DigestSign(m, sig, &len, msg, sizeof(msg)), 1);
	EVP_MD_CTX_free(m);
	return len;
}

/* Verify with OpenSSL directly, requiring a salt length. */
static int pss_verify_strict(EVP_PKEY *k, const EVP_MD *md, int saltlen, const uint8_t *sig, size_t len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_PKEY_CTX *p = NULL;
	assert_int_equal(EVP_DigestVerifyInit(m, &p, md, NULL, k), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_saltlen(p, saltlen), 1);
	int rc = EVP_DigestVerify(m, sig, len, msg, sizeof(msg));
	EVP_MD_CTX_free(m);
	return rc == 1;
}

static void test_pss_salt(void **state)
{
	(void)state;
	EVP_PKEY *k = h_rsa(2048);
	uint8_t sig[CVC_SIG_MAX];
	size_t len = sizeof(sig);
	/* we sign with salt = hash length (TR-03110-3 A.6.3.1): a strict
	 * verifier (Bouncy Castle) accepts it */
	assert_int_equal(cvc_soft_sign(k, CVC_ALG_RSA_PSS_SHA256, msg, sizeof(msg), sig, &len), EAC_OK);
	assert_true(pss_verify_strict(k, EVP_sha256(), 32, sig, len));
	assert_false(pss_verify_strict(k, EVP_sha256(), 222, sig, len));
	/* OpenPACE on OpenSSL 3.0 signs with the maximal salt (222 octets
	 * for 2048 bits): we accept it ([CVF P2]) */
	len = pss_sign(k, EVP_sha256(), RSA_PSS_SALTLEN_MAX, sig);
	assert_true(pss_verify_strict(k, EVP_sha256(), 222, sig, len));
	cvc_bytes s = { sig, len };
	assert_int_equal(cvc_verify_sig_pkey(k, CVC_ALG_RSA_PSS_SHA256, tbs, s), EAC_OK);
	len = pss_sign(k, EVP_sha512(), 0, sig);
	s.len = len;
	assert_int_equal(cvc_verify_sig_pkey(k, CVC_ALG_RSA_PSS_SHA512, tbs, s), EAC_OK);
	EVP_PKEY_free(k);
}

/*
 * A public key for which (r, s) is a valid ECDSA signature of `msg`:
 * Q = r^-1 (s R - e G) with R the curve point of x-coordinate r. This
 * makes signatures whose r and s both have leading zero octets — which
 * OpenPACE, Bouncy Castle and EJBCA then emit short — without signing
 * 65536 times.
 */
static int key_for_sig(cvc_curve c, const BIGNUM *r, const BIGNUM *s, cvc_keybuf *kb, cvc_pubkey *pub)
{
	EC_GROUP *g = EC_GROUP_new_by_curve_name(cvc_curve_nid(c));
	BN_CTX *ctx = BN_CTX_new();
	EC_POINT *R = EC_POINT_new(g), *Q = EC_POINT_new(g);
	BIGNUM *e = NULL, *rinv = NULL, *u1 = BN_new(), *u2 = BN_new();
	const BIGNUM *n = EC_GROUP_get0_order(g);
	uint8_t h[EAC_SHA256_LEN];
	int ok = 0;

	if (EC_POINT_set_compressed_coordinates(g, R, r, 0, ctx) != 1)
		goto out; /* r is no x-coordinate: the caller tries another */
	assert_int_equal(eac_sha256(msg, sizeof(msg), h), EAC_OK);
	assert_non_null(e = BN_bin2bn(h, sizeof(h), NULL)); /* 256-bit curves: no truncation */
	assert_non_null(rinv = BN_mod_inverse(NULL, r, n, ctx));
	assert_int_equal(BN_mod_mul(u1, e, rinv, n, ctx), 1);
	assert_int_equal(BN_mod_sub(u1, n, u1, n, ctx), 1);
	assert_int_equal(BN_mod_mul(u2, s, rinv, n, ctx), 1);
	assert_int_equal(EC_POINT_mul(g, Q, u1, R, u2, ctx), 1);
	size_t pl = EC_POINT_point2oct(g, Q, POINT_CONVERSION_UNCOMPRESSED, kb->b, sizeof(kb->b), ctx);
	assert_int_equal(pl, 65);
	memset(pub, 0, sizeof(*pub));
	pub->alg = CVC_ALG_ECDSA_SHA256;
	pub->curve = c;
	pub->has_params = 1;
	pub->point.ptr = kb->b;
	pub->point.len = pl;
	ok = 1;
out:
	BN_free(e);
	BN_free(rinv);
	BN_free(u1);
	BN_free(u2);
	EC_POINT_free(R);
	EC_POINT_free(Q);
	BN_CTX_free(ctx);
	EC_GROUP_free(g);
	return ok;
}

static void test_ecdsa_short_signatures(void **state)
{
	(void)state;
	static const cvc_curve curves[] = { CVC_CURVE_BP256R1, CVC_CURVE_P256 };
	for (size_t ci = 0; ci < 2; ci++) {
		BIGNUM *r = BN_new(), *s = BN_new();
		cvc_keybuf kb;
		cvc_pubkey pub;
		/* r and s below 2^240: both have two leading zero octets */
		do {
			assert_int_equal(BN_rand(r, 240, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), 1);
			assert_int_equal(BN_rand(s, 240, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY), 1);
		} while (!key_for_sig(curves[ci], r, s, &kb, &pub));
		uint8_t sig[66];
		cvc_bytes sb = { sig, 0 };
		for (int w = 30; w <= 32; w++) {
			/* 60, 62 and 64 octets: each splits at len/2 */
			assert_int_equal(BN_bn2binpad(r, sig, w), w);
			assert_int_equal(BN_bn2binpad(s, sig + w, w), w);
			sb.len = 2 * (size_t)w;
			assert_int_equal(cvc_verify_sig(&pub, NULL, tbs, sb), EAC_OK);
		}
		/* widths that do not match: r in 30 octets, s in 32 */
		assert_int_equal(BN_bn2binpad(r, sig, 30), 30);
		assert_int_equal(BN_bn2binpad(s, sig + 30, 32), 32);
		sb.len = 62;
		h_assert_err(cvc_verify_sig(&pub, NULL, tbs, sb), EAC_ERR_SIGNATURE, "does not verify");
		/* odd, longer than 2l, empty */
		sb.len = 61;
		h_assert_err(cvc_verify_sig(&pub, NULL, tbs, sb), EAC_ERR_SIGNATURE,
			     "^ECDSA signature of 61 octets; plain r\\|\\|s has an even length of at most 64");
		assert_int_equal(BN_bn2binpad(r, sig, 33), 33);
		assert_int_equal(BN_bn2binpad(s, sig + 33, 33), 33);
		sb.len = 66;
		h_assert_err(cvc_verify_sig(&pub, NULL, tbs, sb), EAC_ERR_SIGNATURE, "of 66 octets");
		sb.len = 0;
		h_assert_err(cvc_verify_sig(&pub, NULL, tbs, sb), EAC_ERR_SIGNATURE, "of 0 octets");
		BN_free(r);
		BN_free(s);
	}
}

static void test_rsa_signature_length(void **state)
{
	(void)state;
	EVP_PKEY *k = h_rsa(1024);
	uint8_t sig[CVC_SIG_MAX] = { 0 };
	cvc_bytes s = { sig, 127 };
	h_assert_err(cvc_verify_sig_pkey(k, CVC_ALG_RSA_V15_SHA1, tbs, s), EAC_ERR_SIGNATURE,
		     "^RSA signature of 127 octets; the key's modulus has 128$");
	s.len = 128;
	h_assert_err(cvc_verify_sig_pkey(k, CVC_ALG_RSA_V15_SHA1, tbs, s), EAC_ERR_SIGNATURE,
		     "^signature does not verify \\(RSA-v1.5-SHA-1\\)$");
	EVP_PKEY_free(k);
}

static void test_scheme_key_mismatch(void **state)
{
	(void)state;
	EVP_PKEY *ec = h_ec(CVC_CURVE_P256), *rsa = h_rsa(1024);
	uint8_t sig[CVC_SIG_MAX];
	size_t len = sizeof(sig);
	cvc_bytes s = { sig, 64 };
	cvc_keybuf kb;
	cvc_pubkey pub;
	memset(sig, 1, sizeof(sig));
	h_assert_err(cvc_verify_sig_pkey(rsa, CVC_ALG_ECDSA_SHA256, tbs, s), EAC_ERR_UNSUPPORTED,
		     "scheme ECDSA-SHA-256 does not fit the RSA key");
	h_assert_err(cvc_soft_sign(ec, CVC_ALG_RSA_V15_SHA256, msg, sizeof(msg), sig, &len),
		     EAC_ERR_UNSUPPORTED, "needs an RSA key");
	h_assert_err(cvc_pubkey_from_pkey(rsa, CVC_ALG_ECDSA_SHA256, 1, &kb, &pub), EAC_ERR_UNSUPPORTED,
		     "scheme ECDSA-SHA-256 needs an EC key");
	/* TR-03111: no hash longer than the key */
	h_assert_err(cvc_pubkey_from_pkey(ec, CVC_ALG_ECDSA_SHA384, 1, &kb, &pub), EAC_ERR_UNSUPPORTED,
		     "ECDSA-SHA-384 on a 256-bit curve: the hash must not be longer than the key");
	assert_int_equal(cvc_pubkey_from_pkey(ec, CVC_ALG_ECDSA_SHA224, 1, &kb, &pub), EAC_OK);
	assert_int_equal(cvc_alg_check_key(CVC_ALG_ECDSA_SHA256, &pub), EAC_OK);
	h_assert_err(cvc_alg_check_key(CVC_ALG_ECDSA_SHA512, &pub), EAC_ERR_UNSUPPORTED, "256-bit curve");
	h_assert_err(cvc_alg_check_key(CVC_ALG_RSA_PSS_SHA1, &pub), EAC_ERR_UNSUPPORTED,
		     "scheme RSA-PSS-SHA-1 does not fit an EC key");
	/* P-521 is not supported */
	EVP_PKEY *p521 = EVP_EC_gen("P-521");
	assert_non_null(p521);
	h_assert_err(cvc_pubkey_from_pkey(p521, CVC_ALG_ECDSA_SHA512, 1, &kb, &pub), EAC_ERR_UNSUPPORTED,
		     "unsupported curve");
	len = sizeof(sig);
	h_assert_err(cvc_soft_sign(p521, CVC_ALG_ECDSA_SHA512, msg, sizeof(msg), sig, &len),
		     EAC_ERR_UNSUPPORTED, "supported curve");
	EVP_PKEY_free(p521);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(rsa);
}

static void test_key_conversion(void **state)
{
	(void)state;
	cvc_keybuf kb;
	cvc_pubkey pub, bare;
	EVP_PKEY *back = NULL;
	for (int c = 1; c < CVC_CURVE__COUNT; c++) {
		EVP_PKEY *k = h_ec((cvc_curve)c);
		cvc_alg a = cvc_curve_bits((cvc_curve)c) >= 384 ? CVC_ALG_ECDSA_SHA384 : CVC_ALG_ECDSA_SHA256;
		assert_int_equal(cvc_pubkey_from_pkey(k, a, 1, &kb, &pub), EAC_OK);
		assert_int_equal(pub.curve, c);
		assert_true(pub.has_params);
		assert_false(pub.no_cofactor);
		assert_int_equal(pub.point.len, 2 * cvc_curve_bits((cvc_curve)c) / 8 + 1);
		assert_int_equal(cvc_pubkey_to_pkey(&pub, NULL, &back), EAC_OK);
		assert_int_equal(EVP_PKEY_eq(k, back), 1);
		EVP_PKEY_free(back);
		back = NULL;
		/* without parameters: only with a domain source */
		bare = pub;
		bare.has_params = 0;
		bare.curve = CVC_CURVE_NONE;
		h_assert_err(cvc_pubkey_to_pkey(&bare, NULL, &back), EAC_ERR_UNSUPPORTED,
			     "no CVCA key to inherit them from");
		assert_int_equal(cvc_pubkey_to_pkey(&bare, &pub, &back), EAC_OK);
		assert_int_equal(EVP_PKEY_eq(k, back), 1);
		EVP_PKEY_free(back);
		back = NULL;
		EVP_PKEY_free(k);
	}
	EVP_PKEY *r = h_rsa(1024);
	assert_int_equal(cvc_pubkey_from_pkey(r, CVC_ALG_RSA_V15_SHA256, 0, &kb, &pub), EAC_OK);
	assert_int_equal(pub.n.len, 128);
	static const uint8_t f4[] = { 0x01, 0x00, 0x01 };
	assert_int_equal(pub.e.len, 3);
	assert_memory_equal(pub.e.ptr, f4, 3);
	assert_int_equal(cvc_pubkey_to_pkey(&pub, NULL, &back), EAC_OK);
	assert_int_equal(EVP_PKEY_eq(r, back), 1);
	EVP_PKEY_free(back);
	EVP_PKEY_free(r);
}

static void test_explicit_parameters_key(void **state)
{
	(void)state;
	size_t len;
	uint8_t *pem = h_file("tests/vectors/keys/explicit-bp256.pem", &len);
	EVP_PKEY *k = NULL;
	cvc_keybuf kb;
	cvc_pubkey pub;
	assert_int_equal(cvc_privkey_decode(pem, len, &k), EAC_OK);
	assert_int_equal(cvc_pubkey_from_pkey(k, CVC_ALG_ECDSA_SHA256, 1, &kb, &pub), EAC_OK);
	assert_int_equal(pub.curve, CVC_CURVE_BP256R1);
	sign_verify(k, CVC_ALG_ECDSA_SHA256, 64);
	EVP_PKEY_free(k);
	free(pem);
	uint8_t *der = h_file("tests/vectors/keys/explicit-bp256.pkcs8", &len);
	assert_int_equal(cvc_privkey_decode(der, len, &k), EAC_OK);
	assert_int_equal(cvc_pubkey_from_pkey(k, CVC_ALG_ECDSA_SHA256, 0, &kb, &pub), EAC_OK);
	assert_int_equal(pub.curve, CVC_CURVE_BP256R1);
	assert_false(pub.has_params);
	EVP_PKEY_free(k);
	free(der);
}

static void test_key_hash(void **state)
{
	(void)state;
	cvc_keybuf kb, kb2;
	cvc_pubkey a, b;
	uint8_t h1[32], h2[32], want[32];
	EVP_PKEY *k = h_ec(CVC_CURVE_BP256R1), *k2 = h_ec(CVC_CURVE_BP256R1);
	/* the same key hashes the same with or without parameters and
	 * whatever its scheme OID (CP-4.6: no renewal of a certified key) */
	assert_int_equal(cvc_pubkey_from_pkey(k, CVC_ALG_ECDSA_SHA256, 1, &kb, &a), EAC_OK);
	assert_int_equal(cvc_pubkey_from_pkey(k, CVC_ALG_ECDSA_SHA1, 0, &kb2, &b), EAC_OK);
	assert_int_equal(cvc_pubkey_hash(&a, h1), EAC_OK);
	assert_int_equal(cvc_pubkey_hash(&b, h2), EAC_OK);
	assert_memory_equal(h1, h2, 32);
	assert_int_equal(eac_sha256(a.point.ptr, a.point.len, want), EAC_OK);
	assert_memory_equal(h1, want, 32);
	assert_int_equal(cvc_pubkey_from_pkey(k2, CVC_ALG_ECDSA_SHA256, 1, &kb2, &b), EAC_OK);
	assert_int_equal(cvc_pubkey_hash(&b, h2), EAC_OK);
	assert_memory_not_equal(h1, h2, 32);
	/* RSA: SHA-256 of 81 L n || 82 L e */
	EVP_PKEY *r = h_rsa(1024);
	assert_int_equal(cvc_pubkey_from_pkey(r, CVC_ALG_RSA_PSS_SHA1, 0, &kb, &a), EAC_OK);
	uint8_t enc[3 + 128 + 2 + 3] = { 0x81, 0x81, 0x80 };
	memcpy(enc + 3, a.n.ptr, 128);
	enc[131] = 0x82, enc[132] = 0x03;
	memcpy(enc + 133, a.e.ptr, 3);
	assert_int_equal(eac_sha256(enc, sizeof(enc), want), EAC_OK);
	assert_int_equal(cvc_pubkey_hash(&a, h1), EAC_OK);
	assert_memory_equal(h1, want, 32);
	EVP_PKEY_free(r);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

static void test_same_domain(void **state)
{
	(void)state;
	cvc_keybuf k1, k2, k3;
	cvc_pubkey a, b, c;
	EVP_PKEY *x = h_ec(CVC_CURVE_BP256R1), *y = h_ec(CVC_CURVE_BP256R1), *z = h_ec(CVC_CURVE_P256);
	assert_int_equal(cvc_pubkey_from_pkey(x, CVC_ALG_ECDSA_SHA256, 1, &k1, &a), EAC_OK);
	assert_int_equal(cvc_pubkey_from_pkey(y, CVC_ALG_ECDSA_SHA256, 0, &k2, &b), EAC_OK);
	assert_int_equal(cvc_pubkey_from_pkey(z, CVC_ALG_ECDSA_SHA256, 1, &k3, &c), EAC_OK);
	assert_true(cvc_pubkey_same_domain(&a, NULL, &b, NULL));
	/* same size, different curve */
	assert_false(cvc_pubkey_same_domain(&a, NULL, &c, NULL));
	/* a DV key (no parameters, no curve) takes its CVCA's */
	b.curve = CVC_CURVE_NONE;
	assert_false(cvc_pubkey_same_domain(&a, NULL, &b, NULL));
	assert_true(cvc_pubkey_same_domain(&a, NULL, &b, &a));
	assert_false(cvc_pubkey_same_domain(&c, NULL, &b, &a));
	EVP_PKEY *r1 = h_rsa(1024), *r2 = h_rsa(2048);
	assert_int_equal(cvc_pubkey_from_pkey(r1, CVC_ALG_RSA_V15_SHA256, 0, &k1, &a), EAC_OK);
	assert_int_equal(cvc_pubkey_from_pkey(r2, CVC_ALG_RSA_V15_SHA256, 0, &k2, &b), EAC_OK);
	assert_false(cvc_pubkey_same_domain(&a, NULL, &b, NULL));
	assert_true(cvc_pubkey_same_domain(&a, NULL, &a, NULL));
	assert_false(cvc_pubkey_same_domain(&a, NULL, &c, NULL));
	EVP_PKEY_free(x);
	EVP_PKEY_free(y);
	EVP_PKEY_free(z);
	EVP_PKEY_free(r1);
	EVP_PKEY_free(r2);
}

static void test_point_not_on_curve(void **state)
{
	(void)state;
	cvc_keybuf kb;
	cvc_pubkey pub;
	EVP_PKEY *k = h_ec(CVC_CURVE_BP256R1), *back = NULL;
	assert_int_equal(cvc_pubkey_from_pkey(k, CVC_ALG_ECDSA_SHA256, 1, &kb, &pub), EAC_OK);
	kb.b[64] ^= 1;
	h_assert_err(cvc_pubkey_to_pkey(&pub, NULL, &back), EAC_ERR_MALFORMED, "point not on the curve");
	assert_null(back);
	uint8_t sig[64] = { 1 };
	cvc_bytes s = { sig, 64 };
	h_assert_err(cvc_verify_sig(&pub, NULL, tbs, s), EAC_ERR_SIGNATURE,
		     "^cannot verify: EC public key is not valid \\(point not on the curve\\)$");
	/* a point of the wrong size for its curve */
	pub.point.len = 97;
	h_assert_err(cvc_pubkey_to_pkey(&pub, NULL, &back), EAC_ERR_MALFORMED,
		     "EC point of 97 octets is not a brainpoolP256r1 point");
	EVP_PKEY_free(k);
}

static uint8_t *encode_key(EVP_PKEY *k, const char *fmt, const char *structure, int sel, size_t *len)
{
	OSSL_ENCODER_CTX *e = OSSL_ENCODER_CTX_new_for_pkey(k, sel, fmt, structure, NULL);
	uint8_t *out = NULL;
	assert_non_null(e);
	assert_int_equal(OSSL_ENCODER_to_data(e, &out, len), 1);
	OSSL_ENCODER_CTX_free(e);
	return out;
}

static void test_privkey_decode(void **state)
{
	(void)state;
	EVP_PKEY *k = h_ec(CVC_CURVE_P384), *back = NULL;
	size_t len;
	uint8_t *b = encode_key(k, "PEM", "PrivateKeyInfo", OSSL_KEYMGMT_SELECT_KEYPAIR, &len);
	assert_int_equal(cvc_privkey_decode(b, len, &back), EAC_OK);
	assert_int_equal(EVP_PKEY_eq(k, back), 1);
	EVP_PKEY_free(back);
	OPENSSL_free(b);
	b = encode_key(k, "DER", "PrivateKeyInfo", OSSL_KEYMGMT_SELECT_KEYPAIR, &len);
	assert_int_equal(cvc_privkey_decode(b, len, &back), EAC_OK);
	EVP_PKEY_free(back);
	OPENSSL_free(b);
	b = encode_key(k, "PEM", "type-specific", OSSL_KEYMGMT_SELECT_KEYPAIR, &len);
	assert_int_equal(cvc_privkey_decode(b, len, &back), EAC_OK);
	EVP_PKEY_free(back);
	OPENSSL_free(b);
	/* a public key is not a signing key */
	back = NULL;
	b = encode_key(k, "PEM", "SubjectPublicKeyInfo", OSSL_KEYMGMT_SELECT_PUBLIC_KEY, &len);
	assert_int_equal(cvc_privkey_decode(b, len, &back), EAC_ERR_MALFORMED);
	assert_null(back);
	OPENSSL_free(b);
	/* encrypted keys are refused without a prompt */
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem = NULL;
	assert_int_equal(PEM_write_bio_PKCS8PrivateKey(bio, k, EVP_aes_128_cbc(), "secret", 6, NULL, NULL), 1);
	BIO_get_mem_ptr(bio, &mem);
	h_assert_err(cvc_privkey_decode((const uint8_t *)mem->data, mem->length, &back), EAC_ERR_MALFORMED,
		     "not an unencrypted private key");
	BIO_free(bio);
	static const uint8_t junk[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	h_assert_err(cvc_privkey_decode(junk, sizeof(junk) - 1, &back), EAC_ERR_MALFORMED,
		     "not an unencrypted private key");
	EVP_PKEY_free(k);
}

/* Verification keeps the last keys it made (sig.c): the cache must never
 * answer for another key, another curve or another exponent. */
static void test_key_cache(void **state)
{
	(void)state;
	enum { N = 20 };
	EVP_PKEY *k[N];
	cvc_keybuf kb[N];
	cvc_pubkey pub[N];
	uint8_t sig[N][CVC_SIG_MAX];
	size_t len[N];
	for (int i = 0; i < N; i++) {
		k[i] = h_ec(i % 2 ? CVC_CURVE_P256 : CVC_CURVE_BP256R1);
		len[i] = CVC_SIG_MAX;
		assert_int_equal(cvc_soft_sign(k[i], CVC_ALG_ECDSA_SHA256, msg, sizeof(msg), sig[i], &len[i]), EAC_OK);
		assert_int_equal(cvc_pubkey_from_pkey(k[i], CVC_ALG_ECDSA_SHA256, 1, &kb[i], &pub[i]), EAC_OK);
	}
	/* twice round, more keys than the cache holds; each signature only
	 * with its own key */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < N; i++) {
			cvc_bytes s = { sig[i], len[i] };
			assert_int_equal(cvc_verify_sig(&pub[i], NULL, tbs, s), EAC_OK);
			cvc_bytes s2 = { sig[(i + 1) % N], len[(i + 1) % N] };
			h_assert_err(cvc_verify_sig(&pub[i], NULL, tbs, s2), EAC_ERR_SIGNATURE, "");
		}
	/* the same point bytes on another curve are another key */
	cvc_bytes s0 = { sig[0], len[0] };
	assert_int_equal(cvc_verify_sig(&pub[0], NULL, tbs, s0), EAC_OK);
	cvc_pubkey other = pub[0];
	other.curve = CVC_CURVE_P256;
	assert_int_equal(cvc_verify_sig(&other, NULL, tbs, s0), EAC_ERR_SIGNATURE);
	/* and without parameters the domain source decides the curve */
	other.has_params = 0;
	other.curve = CVC_CURVE_NONE;
	assert_int_equal(cvc_verify_sig(&other, &pub[1], tbs, s0), EAC_ERR_SIGNATURE);
	assert_int_equal(cvc_verify_sig(&other, &pub[2], tbs, s0), EAC_OK);
	/* RSA: the exponent is part of the key */
	EVP_PKEY *r = h_rsa(1024);
	cvc_keybuf rb;
	cvc_pubkey rp;
	uint8_t rs[CVC_SIG_MAX];
	size_t rl = sizeof(rs);
	assert_int_equal(cvc_soft_sign(r, CVC_ALG_RSA_V15_SHA256, msg, sizeof(msg), rs, &rl), EAC_OK);
	assert_int_equal(cvc_pubkey_from_pkey(r, CVC_ALG_RSA_V15_SHA256, 0, &rb, &rp), EAC_OK);
	cvc_bytes sr = { rs, rl };
	assert_int_equal(cvc_verify_sig(&rp, NULL, tbs, sr), EAC_OK);
	static const uint8_t three[] = { 0x03 };
	rp.e.ptr = three;
	rp.e.len = 1;
	h_assert_err(cvc_verify_sig(&rp, NULL, tbs, sr), EAC_ERR_SIGNATURE, "does not verify");
	EVP_PKEY_free(r);
	for (int i = 0; i < N; i++)
		EVP_PKEY_free(k[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ecdsa_every_curve_and_hash),
		cmocka_unit_test(test_rsa_every_scheme),
		cmocka_unit_test(test_pss_salt),
		cmocka_unit_test(test_ecdsa_short_signatures),
		cmocka_unit_test(test_rsa_signature_length),
		cmocka_unit_test(test_scheme_key_mismatch),
		cmocka_unit_test(test_key_conversion),
		cmocka_unit_test(test_explicit_parameters_key),
		cmocka_unit_test(test_key_hash),
		cmocka_unit_test(test_same_domain),
		cmocka_unit_test(test_point_not_on_curve),
		cmocka_unit_test(test_privkey_decode),
		cmocka_unit_test(test_key_cache),
	};
	return cmocka_run_group_tests_name("cvc-sig", tests, NULL, NULL);
}
