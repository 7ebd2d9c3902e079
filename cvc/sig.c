/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Keys and the 11 Terminal Authentication signature schemes
 * (TR-03110-3 A.6.3 RSA, A.6.4 ECDSA) through OpenSSL 3's EVP interface.
 *
 * ECDSA signatures are plain r‖s (TR-03111): we emit exactly 2·l octets,
 * l the byte length of the group order, and accept any even length up to
 * 2·l, split at len/2, because OpenPACE, Bouncy Castle and EJBCA drop
 * leading zero octets ([CVF P1]). RSA-PSS: salt = hash length when
 * signing (A.6.3.1), any salt when verifying — OpenPACE on OpenSSL 3.0
 * signs with the maximal salt ([CVF P2]).
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "cvc/internal.h"

static const EVP_MD *alg_md(cvc_alg alg)
{
	switch (cvc_alg_hash_bits(alg)) {
	case 160: return EVP_sha1();
	case 224: return EVP_sha224();
	case 256: return EVP_sha256();
	case 384: return EVP_sha384();
	case 512: return EVP_sha512();
	default: return NULL;
	}
}

static int pkey_is_ec(EVP_PKEY *pkey)
{
	return EVP_PKEY_is_a(pkey, "EC") == 1;
}

static int pkey_is_rsa(EVP_PKEY *pkey)
{
	return EVP_PKEY_is_a(pkey, "RSA") == 1;
}

/* A BIGNUM parameter of `pkey` equals the minimal unsigned `want`? */
static int bn_param_is(EVP_PKEY *pkey, const char *name, cvc_bytes want)
{
	BIGNUM *bn = NULL;
	uint8_t buf[80];
	int ok = 0;
	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return 0;
	int n = BN_num_bytes(bn);
	if (n > 0 && (size_t)n <= sizeof(buf) && BN_bn2bin(bn, buf) == n) {
		cvc_bytes got = { buf, (size_t)n };
		ok = cvc_bytes_eq(got, want);
	}
	BN_free(bn);
	return ok;
}

/* The supported curve of an EC key, named or with explicit parameters. */
static cvc_curve pkey_curve(EVP_PKEY *pkey)
{
	char name[80];
	size_t nl = 0;
	BIGNUM *p = NULL;
	uint8_t buf[80], g[160];
	size_t glen = 0;
	cvc_curve c = CVC_CURVE_NONE;

	if (!pkey_is_ec(pkey))
		return CVC_CURVE_NONE;
	if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, name, sizeof(name),
					   &nl) == 1)
		return cvc_curve_from_name(name);
	/* explicit parameters (e.g. `openssl ecparam -param_enc explicit`):
	 * recognise the curve by all of its parameters */
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_P, &p) != 1)
		goto out;
	int n = BN_num_bytes(p);
	if (n <= 0 || (size_t)n > sizeof(buf) || BN_bn2bin(p, buf) != n)
		goto out;
	cvc_curve cand = cvc_curve_by_prime(buf, (size_t)n);
	const cvc_curve_params *cp = cvc_curve_get(cand);
	if (!cp || !bn_param_is(pkey, OSSL_PKEY_PARAM_EC_A, cp->a) ||
	    !bn_param_is(pkey, OSSL_PKEY_PARAM_EC_B, cp->b) ||
	    !bn_param_is(pkey, OSSL_PKEY_PARAM_EC_ORDER, cp->n) ||
	    !bn_param_is(pkey, OSSL_PKEY_PARAM_EC_COFACTOR, cp->f))
		goto out;
	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_EC_GENERATOR, g, sizeof(g),
					    &glen) != 1 || glen == 0)
		goto out;
	/* compressed or uncompressed: the x coordinate decides */
	if ((g[0] == 0x04 && glen == cp->g.len && memcmp(g, cp->g.ptr, glen) == 0) ||
	    ((g[0] == 0x02 || g[0] == 0x03) && glen == cp->field_len + 1 &&
	     memcmp(g + 1, cp->g.ptr + 1, cp->field_len) == 0))
		c = cand;
out:
	BN_free(p);
	return c;
}

static unsigned pkey_rsa_bits(EVP_PKEY *pkey)
{
	int bits = EVP_PKEY_get_bits(pkey);
	return bits > 0 ? (unsigned)bits : 0;
}

eac_err cvc_alg_check_key(cvc_alg alg, const cvc_pubkey *key)
{
	if (!cvc_alg_name(alg) || alg == CVC_ALG_NONE)
		return eac_fail(EAC_ERR_UNSUPPORTED, "no signature scheme");
	if (cvc_alg_is_ec(alg) != cvc_alg_is_ec(key->alg))
		return eac_fail(EAC_ERR_UNSUPPORTED, "scheme %s does not fit %s key", cvc_alg_name(alg),
				cvc_alg_is_ec(key->alg) ? "an EC" : "an RSA");
	unsigned bits = cvc_curve_bits(cvc_pubkey_curve(key, NULL));
	if (cvc_alg_is_ec(alg) && bits && cvc_alg_hash_bits(alg) > bits)
		return eac_fail(EAC_ERR_UNSUPPORTED,
				"%s on a %u-bit curve: the hash must not be longer than the key (TR-03111)",
				cvc_alg_name(alg), bits);
	return EAC_OK;
}

/* ---- keys ---- */

cvc_curve cvc_pubkey_curve(const cvc_pubkey *key, const cvc_pubkey *domain)
{
	if (!cvc_alg_is_ec(key->alg))
		return CVC_CURVE_NONE;
	if (key->curve != CVC_CURVE_NONE)
		return key->curve;
	if (domain && cvc_alg_is_ec(domain->alg))
		return domain->curve;
	return CVC_CURVE_NONE;
}

/*
 * A key holding only CURVE's domain parameters, made once per process and
 * shared read-only. Building an EC group from its name costs about three
 * times as much as copying one (18 against 5 us on the development
 * machine), and a batch makes two new keys per request: each EC public key
 * is this template's copy with its point set (which OpenSSL checks is on
 * the curve, as when it builds the key from the name).
 */
static EVP_PKEY *curve_template(cvc_curve c)
{
	static EVP_PKEY *tmpl[CVC_CURVE__COUNT];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	EVP_PKEY *t;

	if (c <= CVC_CURVE_NONE || c >= CVC_CURVE__COUNT || pthread_mutex_lock(&lock) != 0)
		return NULL;
	if (tmpl[c] == NULL) {
		OSSL_PARAM p[2] = { OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
								     (char *)cvc_curve_ossl_name(c), 0),
				    OSSL_PARAM_construct_end() };
		EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
		    EVP_PKEY_fromdata(ctx, &tmpl[c], EVP_PKEY_KEY_PARAMETERS, p) != 1)
			tmpl[c] = NULL;
		EVP_PKEY_CTX_free(ctx);
	}
	t = tmpl[c];
	pthread_mutex_unlock(&lock);
	return t;
}

/* An EC public key: its curve's template with the point set. */
static eac_err ec_pkey(const cvc_pubkey *key, const cvc_pubkey *domain, EVP_PKEY **out)
{
	cvc_curve c = cvc_pubkey_curve(key, domain);
	const cvc_curve_params *cp = cvc_curve_get(c);
	EVP_PKEY *t, *pkey = NULL;
	eac_err e;

	if (!cp)
		return eac_fail(EAC_ERR_UNSUPPORTED,
				"EC key without domain parameters and no CVCA key to inherit them from");
	if (!key->point.ptr || key->point.len != 2 * cp->field_len + 1)
		return eac_fail(EAC_ERR_MALFORMED, "EC point of %zu octets is not a %s point",
				key->point.len, cvc_curve_name(c));
	if ((t = curve_template(c)) == NULL || (pkey = EVP_PKEY_dup(t)) == NULL)
		e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot make a %s key", cvc_curve_name(c));
	else if (EVP_PKEY_set1_encoded_public_key(pkey, key->point.ptr, key->point.len) != 1)
		e = eac_fail(EAC_ERR_MALFORMED, "EC public key is not valid (point not on the curve)");
	else {
		*out = pkey;
		pkey = NULL;
		e = EAC_OK;
	}
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	return e;
}

eac_err cvc_pubkey_to_pkey(const cvc_pubkey *key, const cvc_pubkey *domain, EVP_PKEY **out)
{
	eac_err e = EAC_ERR_INTERNAL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *bparams = NULL;
	BIGNUM *n = NULL, *x = NULL;

	if (cvc_alg_is_ec(key->alg))
		return ec_pkey(key, domain, out);
	if (cvc_alg_is_rsa(key->alg)) {
		if (!key->n.ptr || !key->e.ptr || key->n.len == 0 || key->e.len == 0) {
			e = eac_fail(EAC_ERR_MALFORMED, "RSA key without modulus or exponent");
			goto out;
		}
		if ((n = BN_bin2bn(key->n.ptr, (int)key->n.len, NULL)) == NULL ||
		    (x = BN_bin2bn(key->e.ptr, (int)key->e.len, NULL)) == NULL ||
		    (bld = OSSL_PARAM_BLD_new()) == NULL ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, x) != 1 ||
		    (bparams = OSSL_PARAM_BLD_to_param(bld)) == NULL) {
			e = eac_fail(EAC_ERR_NOMEM, "out of memory building an RSA key");
			goto out;
		}
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		e = eac_fail(EAC_ERR_USAGE, "public key without a signature scheme");
		goto out;
	}
	if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1) {
		e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot make a public key");
		goto out;
	}
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, bparams) != 1 || !pkey) {
		e = eac_fail(EAC_ERR_MALFORMED, "RSA public key is not valid");
		goto out;
	}
	*out = pkey;
	pkey = NULL;
	e = EAC_OK;
out:
	ERR_clear_error();
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(bparams);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(x);
	return e;
}

eac_err cvc_pubkey_from_pkey(EVP_PKEY *pkey, cvc_alg alg, int with_params, cvc_keybuf *buf,
			     cvc_pubkey *out)
{
	eac_err e = EAC_ERR_INTERNAL;
	BIGNUM *a = NULL, *b = NULL;
	cvc_pubkey k;

	memset(&k, 0, sizeof(k));
	k.alg = alg;
	if (!cvc_alg_name(alg) || alg == CVC_ALG_NONE) {
		e = eac_fail(EAC_ERR_USAGE, "no signature scheme for the key");
		goto out;
	}
	if (cvc_alg_is_ec(alg)) {
		if (!pkey_is_ec(pkey)) {
			e = eac_fail(EAC_ERR_UNSUPPORTED, "scheme %s needs an EC key", cvc_alg_name(alg));
			goto out;
		}
		cvc_curve c = pkey_curve(pkey);
		const cvc_curve_params *cp = cvc_curve_get(c);
		if (!cp) {
			e = eac_fail(EAC_ERR_UNSUPPORTED,
				     "EC key on an unsupported curve (brainpoolP256r1/P384r1/P512r1, P-256, P-384)");
			goto out;
		}
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &a) != 1 ||
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &b) != 1) {
			e = eac_fail(EAC_ERR_MALFORMED, "EC key without a public point");
			goto out;
		}
		size_t fl = cp->field_len;
		buf->b[0] = 0x04;
		if (BN_bn2binpad(a, buf->b + 1, (int)fl) != (int)fl ||
		    BN_bn2binpad(b, buf->b + 1 + fl, (int)fl) != (int)fl) {
			e = eac_fail(EAC_ERR_MALFORMED, "EC public point does not fit its curve");
			goto out;
		}
		k.curve = c;
		k.point.ptr = buf->b;
		k.point.len = 2 * fl + 1;
		k.has_params = with_params ? 1 : 0;
	} else {
		if (!pkey_is_rsa(pkey)) {
			e = eac_fail(EAC_ERR_UNSUPPORTED, "scheme %s needs an RSA key", cvc_alg_name(alg));
			goto out;
		}
		unsigned bits = pkey_rsa_bits(pkey);
		if (bits < CVC_RSA_MIN_BITS || bits > CVC_RSA_MAX_BITS) {
			e = eac_fail(EAC_ERR_UNSUPPORTED, "RSA key of %u bits; %d to %d are supported",
				     bits, CVC_RSA_MIN_BITS, CVC_RSA_MAX_BITS);
			goto out;
		}
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &a) != 1 ||
		    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &b) != 1) {
			e = eac_fail(EAC_ERR_MALFORMED, "RSA key without modulus or exponent");
			goto out;
		}
		int nl = BN_num_bytes(a), el = BN_num_bytes(b);
		if (nl <= 0 || el <= 0 || el > 4 || (size_t)(nl + el) > sizeof(buf->b) ||
		    !BN_is_odd(b)) {
			e = eac_fail(EAC_ERR_UNSUPPORTED,
				     "RSA public exponent must be odd and at most 32 bits (TR-03110-3 A.6.3.2)");
			goto out;
		}
		BN_bn2bin(a, buf->b);
		BN_bn2bin(b, buf->b + nl);
		k.n.ptr = buf->b;
		k.n.len = (size_t)nl;
		k.e.ptr = buf->b + nl;
		k.e.len = (size_t)el;
	}
	if ((e = cvc_alg_check_key(alg, &k)) != EAC_OK)
		goto out;
	*out = k;
	e = EAC_OK;
out:
	BN_free(a);
	BN_free(b);
	return e;
}

eac_err cvc_pubkey_hash(const cvc_pubkey *key, uint8_t out[static EAC_SHA256_LEN])
{
	if (cvc_alg_is_ec(key->alg)) {
		if (!key->point.ptr || key->point.len == 0)
			return eac_fail(EAC_ERR_USAGE, "EC key without a point");
		return eac_sha256(key->point.ptr, key->point.len, out);
	}
	if (!cvc_alg_is_rsa(key->alg) || !key->n.ptr || !key->e.ptr)
		return eac_fail(EAC_ERR_USAGE, "key without a scheme or without n and e");
	/* 81 L n ‖ 82 L e: unambiguous, independent of the scheme OID */
	cvc_wr w = { 0 };
	uint8_t *enc = NULL;
	size_t enclen = 0;
	cvc_wr_tlv(&w, 0x81, key->n.ptr, key->n.len);
	cvc_wr_tlv(&w, 0x82, key->e.ptr, key->e.len);
	eac_err e = cvc_wr_finish(&w, &enc, &enclen);
	if (e != EAC_OK)
		return e;
	e = eac_sha256(enc, enclen, out);
	free(enc);
	return e;
}

static size_t bit_length(cvc_bytes v)
{
	size_t i = 0;
	while (i < v.len && v.ptr[i] == 0)
		i++;
	if (i == v.len)
		return 0;
	size_t bits = (v.len - i - 1) * 8;
	for (unsigned top = v.ptr[i]; top; top >>= 1)
		bits++;
	return bits;
}

int cvc_pubkey_same_domain(const cvc_pubkey *a, const cvc_pubkey *adom, const cvc_pubkey *b,
			   const cvc_pubkey *bdom)
{
	if (cvc_alg_is_ec(a->alg) && cvc_alg_is_ec(b->alg)) {
		cvc_curve ca = cvc_pubkey_curve(a, adom), cb = cvc_pubkey_curve(b, bdom);
		return ca != CVC_CURVE_NONE && ca == cb;
	}
	if (cvc_alg_is_rsa(a->alg) && cvc_alg_is_rsa(b->alg))
		return bit_length(a->n) != 0 && bit_length(a->n) == bit_length(b->n);
	return 0;
}

static int no_passphrase(char *pass, size_t size, size_t *len, const OSSL_PARAM params[], void *arg)
{
	(void)pass;
	(void)size;
	(void)len;
	(void)params;
	(void)arg;
	return 0; /* encrypted keys are refused, never prompted for */
}

eac_err cvc_privkey_decode(const uint8_t *buf, size_t len, EVP_PKEY **out)
{
	eac_err e = EAC_ERR_INTERNAL;
	EVP_PKEY *pkey = NULL;
	OSSL_DECODER_CTX *dctx = NULL;
	BIGNUM *d = NULL;
	const unsigned char *p = buf;
	size_t left = len;

	dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, NULL, NULL, OSSL_KEYMGMT_SELECT_KEYPAIR,
					     NULL, NULL);
	if (!dctx || OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL) != 1) {
		e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL has no key decoder");
		goto out;
	}
	if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || !pkey) {
		e = eac_fail(EAC_ERR_MALFORMED,
			     "not an unencrypted private key (PEM or DER, PKCS#8 or traditional)");
		goto out;
	}
	const char *priv = pkey_is_ec(pkey) ? OSSL_PKEY_PARAM_PRIV_KEY
			 : pkey_is_rsa(pkey) ? OSSL_PKEY_PARAM_RSA_D
					     : NULL;
	if (!priv) {
		e = eac_fail(EAC_ERR_UNSUPPORTED, "private key is neither EC nor RSA");
		goto out;
	}
	if (EVP_PKEY_get_bn_param(pkey, priv, &d) != 1) {
		e = eac_fail(EAC_ERR_MALFORMED, "key file holds no private key");
		goto out;
	}
	*out = pkey;
	pkey = NULL;
	e = EAC_OK;
out:
	ERR_clear_error();
	BN_clear_free(d);
	EVP_PKEY_free(pkey);
	OSSL_DECODER_CTX_free(dctx);
	return e;
}

/* ---- signing ---- */

eac_err cvc_soft_sign(void *ctx, cvc_alg alg, const uint8_t *tbs, size_t tbslen, uint8_t *sig,
		      size_t *siglen)
{
	eac_err e = EAC_ERR_INTERNAL;
	EVP_PKEY *pkey = ctx;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	ECDSA_SIG *es = NULL;
	uint8_t buf[CVC_SIG_MAX + 16];
	size_t blen = sizeof(buf), l = 0;
	const EVP_MD *md = alg_md(alg);

	if (!pkey || !md) {
		e = eac_fail(EAC_ERR_USAGE, "no key or no signature scheme to sign with");
		goto out;
	}
	if (cvc_alg_is_ec(alg)) {
		const cvc_curve_params *cp = cvc_curve_get(pkey_curve(pkey));
		if (!pkey_is_ec(pkey) || !cp) {
			e = eac_fail(EAC_ERR_UNSUPPORTED, "%s needs an EC key on a supported curve",
				     cvc_alg_name(alg));
			goto out;
		}
		l = cp->order_len;
		if (*siglen < 2 * l) {
			e = eac_fail(EAC_ERR_USAGE, "signature buffer too small");
			goto out;
		}
	} else {
		unsigned bits = pkey_rsa_bits(pkey);
		if (!pkey_is_rsa(pkey) || bits < CVC_RSA_MIN_BITS || bits > CVC_RSA_MAX_BITS) {
			e = eac_fail(EAC_ERR_UNSUPPORTED, "%s needs an RSA key of %d to %d bits",
				     cvc_alg_name(alg), CVC_RSA_MIN_BITS, CVC_RSA_MAX_BITS);
			goto out;
		}
		if ((size_t)EVP_PKEY_get_size(pkey) > *siglen) {
			e = eac_fail(EAC_ERR_USAGE, "signature buffer too small");
			goto out;
		}
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mctx, &pctx, md, NULL, pkey) != 1) {
		e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot start a %s signature", cvc_alg_name(alg));
		goto out;
	}
	if (cvc_alg_is_rsa(alg)) {
		int pss = cvc_alg_is_pss(alg);
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) !=
			    1 ||
		    (pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
			     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))) {
			e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot set up %s", cvc_alg_name(alg));
			goto out;
		}
	}
	if (EVP_DigestSign(mctx, buf, &blen, tbs, tbslen) != 1) {
		e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL failed to sign (%s)", cvc_alg_name(alg));
		goto out;
	}
	if (cvc_alg_is_ec(alg)) {
		const unsigned char *p = buf;
		const BIGNUM *r = NULL, *s = NULL;
		if ((es = d2i_ECDSA_SIG(NULL, &p, (long)blen)) == NULL) {
			e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL returned an unreadable ECDSA signature");
			goto out;
		}
		ECDSA_SIG_get0(es, &r, &s);
		/* TR-03111: r and s each of exactly l octets ([CVF P1]) */
		if (BN_bn2binpad(r, sig, (int)l) != (int)l || BN_bn2binpad(s, sig + l, (int)l) != (int)l) {
			e = eac_fail(EAC_ERR_INTERNAL, "ECDSA signature does not fit 2x%zu octets", l);
			goto out;
		}
		*siglen = 2 * l;
	} else {
		memcpy(sig, buf, blen);
		*siglen = blen;
	}
	e = EAC_OK;
out:
	ERR_clear_error();
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(mctx);
	return e;
}

/* ---- verifying ---- */

eac_err cvc_verify_sig_pkey(EVP_PKEY *pkey, cvc_alg alg, cvc_bytes tbs, cvc_bytes sig)
{
	eac_err e = EAC_ERR_INTERNAL;
	EVP_MD_CTX *mctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	uint8_t der[2 * 66 + 16];
	const uint8_t *sp = sig.ptr;
	size_t slen = sig.len;
	const EVP_MD *md = alg_md(alg);

	if (!md) {
		e = eac_fail(EAC_ERR_UNSUPPORTED, "no signature scheme");
		goto out;
	}
	if (cvc_alg_is_ec(alg) ? !pkey_is_ec(pkey) : !pkey_is_rsa(pkey)) {
		e = eac_fail(EAC_ERR_UNSUPPORTED, "scheme %s does not fit the %s key", cvc_alg_name(alg),
			     pkey_is_ec(pkey) ? "EC" : "RSA");
		goto out;
	}
	if (cvc_alg_is_ec(alg)) {
		int bits = EVP_PKEY_get_bits(pkey);
		size_t l = bits > 0 ? ((size_t)bits + 7) / 8 : 0;
		/* [CVF P1]: any even length up to 2·l, split at len/2 */
		if (sig.len == 0 || sig.len % 2 != 0 || sig.len > 2 * l || l > 66) {
			e = eac_fail(EAC_ERR_SIGNATURE,
				     "ECDSA signature of %zu octets; plain r||s has an even length of at most %zu (TR-03111)",
				     sig.len, 2 * l);
			goto out;
		}
		size_t half = sig.len / 2;
		unsigned char *p = der;
		if ((r = BN_bin2bn(sig.ptr, (int)half, NULL)) == NULL ||
		    (s = BN_bin2bn(sig.ptr + half, (int)half, NULL)) == NULL ||
		    (es = ECDSA_SIG_new()) == NULL) {
			e = eac_fail(EAC_ERR_NOMEM, "out of memory verifying a signature");
			goto out;
		}
		if (ECDSA_SIG_set0(es, r, s) != 1) {
			e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL refused an ECDSA signature value");
			goto out;
		}
		r = s = NULL; /* owned by es */
		int dl = i2d_ECDSA_SIG(es, NULL);
		if (dl <= 0 || (size_t)dl > sizeof(der) || i2d_ECDSA_SIG(es, &p) != dl) {
			e = eac_fail(EAC_ERR_INTERNAL, "cannot convert the ECDSA signature");
			goto out;
		}
		sp = der;
		slen = (size_t)dl;
	} else {
		size_t n = (size_t)EVP_PKEY_get_size(pkey);
		if (sig.len != n) {
			e = eac_fail(EAC_ERR_SIGNATURE,
				     "RSA signature of %zu octets; the key's modulus has %zu", sig.len, n);
			goto out;
		}
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pkey) != 1) {
		e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot start verifying %s", cvc_alg_name(alg));
		goto out;
	}
	if (cvc_alg_is_rsa(alg)) {
		int pss = cvc_alg_is_pss(alg);
		if (EVP_PKEY_CTX_set_rsa_padding(pctx, pss ? RSA_PKCS1_PSS_PADDING : RSA_PKCS1_PADDING) !=
			    1 ||
		    (pss && (EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) != 1 ||
			     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1))) {
			e = eac_fail(EAC_ERR_INTERNAL, "OpenSSL cannot set up %s", cvc_alg_name(alg));
			goto out;
		}
	}
	if (EVP_DigestVerify(mctx, sp, slen, tbs.ptr, tbs.len) != 1) {
		e = eac_fail(EAC_ERR_SIGNATURE, "signature does not verify (%s)", cvc_alg_name(alg));
		goto out;
	}
	e = EAC_OK;
out:
	ERR_clear_error();
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(mctx);
	return e;
}

/*
 * Verifiers meet the same few keys again and again (a CVCA key, a DV key
 * in a trust store), and making an EVP_PKEY still costs something (the
 * curve template copied, the point checked on the curve; an RSA key is
 * built from its numbers).
 * So the last keys made are kept, looked up by their exact public bytes and
 * curve, and shared read-only (OpenSSL 3 allows concurrent verification
 * with one EVP_PKEY). A process-wide table under a mutex; entries stay
 * reachable until exit.
 */
#define KEY_CACHE 16

static struct {
	EVP_PKEY *pkey;
	cvc_curve curve; /* CVC_CURVE_NONE: RSA */
	size_t alen, blen;
	uint8_t a[CVC_RSA_MAX_BITS / 8]; /* EC point or RSA n */
	uint8_t b[4];			 /* RSA e */
} key_cache[KEY_CACHE];
static unsigned key_cache_next;
static pthread_mutex_t key_cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* A new reference to the EVP_PKEY of `key`, from the cache or made. */
static eac_err cached_pkey(const cvc_pubkey *key, const cvc_pubkey *domain, EVP_PKEY **out)
{
	int ec = cvc_alg_is_ec(key->alg);
	cvc_curve c = ec ? cvc_pubkey_curve(key, domain) : CVC_CURVE_NONE;
	cvc_bytes a = ec ? key->point : key->n, b = ec ? (cvc_bytes){ NULL, 0 } : key->e;
	int cacheable = (ec ? c != CVC_CURVE_NONE : cvc_alg_is_rsa(key->alg)) && a.ptr &&
			a.len <= sizeof(key_cache[0].a) && b.len <= sizeof(key_cache[0].b) &&
			(b.len == 0 || b.ptr);
	EVP_PKEY *pkey = NULL;

	if (cacheable && pthread_mutex_lock(&key_cache_lock) == 0) {
		for (unsigned i = 0; i < KEY_CACHE && !pkey; i++)
			if (key_cache[i].pkey && key_cache[i].curve == c && key_cache[i].alen == a.len &&
			    key_cache[i].blen == b.len && memcmp(key_cache[i].a, a.ptr, a.len) == 0 &&
			    (b.len == 0 || memcmp(key_cache[i].b, b.ptr, b.len) == 0) &&
			    EVP_PKEY_up_ref(key_cache[i].pkey) == 1)
				pkey = key_cache[i].pkey;
		pthread_mutex_unlock(&key_cache_lock);
	}
	if (pkey) {
		*out = pkey;
		return EAC_OK;
	}
	eac_err e = cvc_pubkey_to_pkey(key, domain, &pkey);
	if (e != EAC_OK)
		return e;
	if (cacheable && pthread_mutex_lock(&key_cache_lock) == 0) {
		unsigned i = key_cache_next++ % KEY_CACHE;
		if (EVP_PKEY_up_ref(pkey) == 1) {
			EVP_PKEY_free(key_cache[i].pkey);
			key_cache[i].pkey = pkey;
			key_cache[i].curve = c;
			key_cache[i].alen = a.len;
			key_cache[i].blen = b.len;
			memcpy(key_cache[i].a, a.ptr, a.len);
			if (b.len)
				memcpy(key_cache[i].b, b.ptr, b.len);
		}
		pthread_mutex_unlock(&key_cache_lock);
	}
	*out = pkey;
	return EAC_OK;
}

eac_err cvc_verify_sig(const cvc_pubkey *key, const cvc_pubkey *domain, cvc_bytes tbs,
		       cvc_bytes sig)
{
	EVP_PKEY *pkey = NULL;
	eac_err e = cached_pkey(key, domain, &pkey);
	/* a key that parsed but is not a key (point off the curve) verifies
	 * nothing: that is a verification failure, not malformed input */
	if (e == EAC_ERR_MALFORMED) {
		char d[256];
		snprintf(d, sizeof(d), "%s", eac_err_detail(e));
		e = eac_fail(EAC_ERR_SIGNATURE, "cannot verify: %s", d);
	}
	if (e == EAC_OK)
		e = cvc_verify_sig_pkey(pkey, key->alg, tbs, sig);
	EVP_PKEY_free(pkey);
	return e;
}

eac_err cvc_verify_cert(const cvc_obj *cert, const cvc_pubkey *issuer, const cvc_pubkey *domain)
{
	if (cert->kind != CVC_KIND_CERT)
		return eac_fail(EAC_ERR_USAGE, "%s is not a certificate (found %s)", cert->body.chr.s,
				cvc_kind_name(cert->kind));
	eac_err e = cvc_verify_sig(issuer, domain, cert->tbs, cert->sig);
	if (e != EAC_OK)
		return eac_fail_prefix(e, "certificate %s, signed by %s: ", cert->body.chr.s,
				       cert->body.car.s);
	return EAC_OK;
}

eac_err cvc_verify_request_inner(const cvc_obj *req)
{
	if (req->kind != CVC_KIND_REQUEST && req->kind != CVC_KIND_AUTH_REQUEST)
		return eac_fail(EAC_ERR_USAGE, "%s is a certificate, not a request", req->body.chr.s);
	eac_err e = cvc_verify_sig(&req->body.key, NULL, req->tbs, req->sig);
	if (e != EAC_OK)
		return eac_fail_prefix(e, "request %s: inner signature (proof of possession): ",
				       req->body.chr.s);
	return EAC_OK;
}

eac_err cvc_verify_request_outer(const cvc_obj *req, const cvc_pubkey *signer,
				 const cvc_pubkey *domain)
{
	if (req->kind != CVC_KIND_AUTH_REQUEST)
		return eac_fail(EAC_ERR_USAGE, "%s has no outer signature", req->body.chr.s);
	eac_err e = cvc_verify_sig(signer, domain, req->outer_tbs, req->outer_sig);
	if (e != EAC_OK)
		return eac_fail_prefix(e, "request %s: outer signature by %s: ", req->body.chr.s,
				       req->outer_car.s);
	return EAC_OK;
}
