/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvc-bench N OUT.json — parse+verify rate of a DV certificate against its
 * CVCA key, next to OpenSSL's raw verify rate for the same key, data and
 * signature (EVP_DigestVerify over the 7F4E bytes with a ready EVP_PKEY and
 * a DER signature), measured in the same run, for brainpoolP256r1 and
 * P-256. Three ways of ours:
 *   parse+verify        cvc_parse_cert + cvc_verify_cert(issuer cvc_pubkey):
 *                       what a trust-store verification does per link (the
 *                       issuer's EVP_PKEY comes from the module's key cache)
 *   parse+verify(pkey)  cvc_parse_cert + cvc_verify_sig_pkey with the
 *                       issuer's EVP_PKEY made once (an engine's own key)
 *   cold                cvc_parse_cert + cvc_pubkey_to_pkey + verify: a key
 *                       seen for the first time (a request's own key)
 * Rounds alternate between ours and OpenSSL; the best round of each counts.
 * Not a test: it asserts nothing, it measures.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "cvc/cvc.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, eac_err e)
{
	fprintf(stderr, "cvc-bench: %s: %s\n", what, eac_err_detail(e));
	exit(3);
}

typedef struct ctx {
	const uint8_t *cert;
	size_t certlen;
	const cvc_pubkey *issuer;
	EVP_PKEY *pkey;
	uint8_t der[160];
	size_t derlen;
	cvc_bytes tbs;
} ctx;

static void run_ours(const ctx *c, long n)
{
	for (long i = 0; i < n; i++) {
		cvc_obj *o = NULL;
		eac_err e = cvc_parse_cert(c->cert, c->certlen, &o);
		if (e == EAC_OK)
			e = cvc_verify_cert(o, c->issuer, NULL);
		if (e != EAC_OK)
			die("parse+verify", e);
		cvc_obj_free(o);
	}
}

static void run_ours_pkey(const ctx *c, long n)
{
	for (long i = 0; i < n; i++) {
		cvc_obj *o = NULL;
		eac_err e = cvc_parse_cert(c->cert, c->certlen, &o);
		if (e == EAC_OK)
			e = cvc_verify_sig_pkey(c->pkey, c->issuer->alg, cvc_obj_tbs(o), cvc_obj_signature(o));
		if (e != EAC_OK)
			die("parse+verify(pkey)", e);
		cvc_obj_free(o);
	}
}

static void run_cold(const ctx *c, long n)
{
	for (long i = 0; i < n; i++) {
		cvc_obj *o = NULL;
		EVP_PKEY *k = NULL;
		eac_err e = cvc_parse_cert(c->cert, c->certlen, &o);
		if (e == EAC_OK && (e = cvc_pubkey_to_pkey(c->issuer, NULL, &k)) == EAC_OK)
			e = cvc_verify_sig_pkey(k, c->issuer->alg, cvc_obj_tbs(o), cvc_obj_signature(o));
		if (e != EAC_OK)
			die("cold", e);
		EVP_PKEY_free(k);
		cvc_obj_free(o);
	}
}

static void run_openssl(const ctx *c, long n)
{
	for (long i = 0; i < n; i++) {
		EVP_MD_CTX *m = EVP_MD_CTX_new();
		if (!m || EVP_DigestVerifyInit(m, NULL, EVP_sha256(), NULL, c->pkey) != 1 ||
		    EVP_DigestVerify(m, c->der, c->derlen, c->tbs.ptr, c->tbs.len) != 1) {
			fprintf(stderr, "cvc-bench: OpenSSL verify failed\n");
			exit(3);
		}
		EVP_MD_CTX_free(m);
	}
}

static double rate(void (*fn)(const ctx *, long), const ctx *c, long n)
{
	double t0 = now();
	fn(c, n);
	double dt = now() - t0;
	return dt > 0 ? (double)n / dt : 0;
}

int main(int argc, char **argv)
{
	static const cvc_curve curves[] = { CVC_CURVE_BP256R1, CVC_CURVE_P256 };
	long n = argc > 1 ? atol(argv[1]) : 2000;
	FILE *out = argc > 2 ? fopen(argv[2], "w") : NULL;
	if (n < 10)
		n = 10;
	if (argc > 2 && !out) {
		perror(argv[2]);
		return 3;
	}
	printf("%-16s %14s %10s %10s %10s %7s %7s %7s\n", "curve", "parse+verify/s", "(pkey)/s", "cold/s",
	       "OpenSSL/s", "ratio", "(pkey)", "cold");
	if (out)
		fprintf(out, "{\n  \"benchmark\": \"cvc parse+verify vs OpenSSL raw verify\",\n  \"n\": %ld,\n  \"results\": [\n", n);
	for (size_t ci = 0; ci < 2; ci++) {
		cvc_curve cv = curves[ci];
		EVP_PKEY *ck = EVP_EC_gen(cvc_curve_name(cv)), *dk = EVP_EC_gen(cvc_curve_name(cv));
		cvc_keybuf ckb, dkb;
		cvc_body b;
		uint8_t *cert = NULL;
		size_t certlen = 0;
		eac_err e;
		memset(&b, 0, sizeof(b));
		if (!ck || !dk)
			die("keys", EAC_ERR_INTERNAL);
		cvc_pubkey issuer;
		if ((e = cvc_pubkey_from_pkey(ck, CVC_ALG_ECDSA_SHA256, 1, &ckb, &issuer)) != EAC_OK ||
		    (e = cvc_pubkey_from_pkey(dk, CVC_ALG_ECDSA_SHA256, 0, &dkb, &b.key)) != EAC_OK ||
		    (e = cvc_ref_set(&b.car, "DECVCA00001", 11)) != EAC_OK ||
		    (e = cvc_ref_set(&b.chr, "DEDVCA00001", 11)) != EAC_OK ||
		    (e = cvc_rights_parse(CVC_CHAT_AT, "dg1,dg2,age", b.chat.auth, &b.chat.len)) != EAC_OK ||
		    (e = cvc_date_parse("2025-01-01", &b.effective)) != EAC_OK ||
		    (e = cvc_date_parse("2025-03-31", &b.expiry)) != EAC_OK)
			die("setup", e);
		b.has_car = b.has_chat = b.has_dates = 1;
		b.chat.type = CVC_CHAT_AT;
		b.chat.auth[0] |= 0x80;
		if ((e = cvc_encode_signed(&b, CVC_ALG_ECDSA_SHA256, cvc_soft_sign, ck, &cert, &certlen)) != EAC_OK)
			die("issue", e);
		ctx c = { cert, certlen, &issuer, ck, { 0 }, 0, { NULL, 0 } };
		/* the same signature as DER, for OpenSSL */
		cvc_obj *o = NULL;
		if ((e = cvc_parse_cert(cert, certlen, &o)) != EAC_OK)
			die("parse", e);
		cvc_bytes sig = cvc_obj_signature(o);
		ECDSA_SIG *es = ECDSA_SIG_new();
		BIGNUM *r = BN_bin2bn(sig.ptr, (int)sig.len / 2, NULL), *s = BN_bin2bn(sig.ptr + sig.len / 2, (int)sig.len / 2, NULL);
		unsigned char *p = c.der;
		if (!es || !r || !s || ECDSA_SIG_set0(es, r, s) != 1)
			die("signature", EAC_ERR_INTERNAL);
		c.derlen = (size_t)i2d_ECDSA_SIG(es, &p);
		ECDSA_SIG_free(es);
		uint8_t *tbscopy = malloc(cvc_obj_tbs(o).len);
		memcpy(tbscopy, cvc_obj_tbs(o).ptr, cvc_obj_tbs(o).len);
		c.tbs.ptr = tbscopy;
		c.tbs.len = cvc_obj_tbs(o).len;
		cvc_obj_free(o);

		double best_ours = 0, best_pkey = 0, best_cold = 0, best_ssl = 0;
		run_ours(&c, n / 10); /* warm up */
		run_openssl(&c, n / 10);
		for (int round = 0; round < 5; round++) {
			double a = rate(run_ours, &c, n), k = rate(run_ours_pkey, &c, n), o2 = rate(run_openssl, &c, n),
			       cd = rate(run_cold, &c, n / 4 + 1);
			best_ours = a > best_ours ? a : best_ours;
			best_cold = cd > best_cold ? cd : best_cold;
			best_pkey = k > best_pkey ? k : best_pkey;
			best_ssl = o2 > best_ssl ? o2 : best_ssl;
		}
		double ratio = best_ours / best_ssl, ratio_pkey = best_pkey / best_ssl, ratio_cold = best_cold / best_ssl;
		printf("%-16s %14.0f %10.0f %10.0f %10.0f %7.3f %7.3f %7.3f\n", cvc_curve_name(cv), best_ours, best_pkey,
		       best_cold, best_ssl, ratio, ratio_pkey, ratio_cold);
		if (out)
			fprintf(out,
				"    { \"curve\": \"%s\", \"scheme\": \"ECDSA-SHA-256\", \"cert_bytes\": %zu,\n"
				"      \"parse_verify_per_sec\": %.0f, \"parse_verify_pkey_per_sec\": %.0f,\n"
				"      \"parse_verify_cold_key_per_sec\": %.0f, \"openssl_verify_per_sec\": %.0f,\n"
				"      \"ratio\": %.3f, \"ratio_pkey\": %.3f, \"ratio_cold_key\": %.3f }%s\n",
				cvc_curve_name(cv), certlen, best_ours, best_pkey, best_cold, best_ssl, ratio, ratio_pkey,
				ratio_cold, ci + 1 < 2 ? "," : "");
		free(tbscopy);
		free(cert);
		EVP_PKEY_free(ck);
		EVP_PKEY_free(dk);
	}
	if (out) {
		fprintf(out, "  ],\n  \"target_ratio\": 0.9\n}\n");
		fclose(out);
	}
	return 0;
}
