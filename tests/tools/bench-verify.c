/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-verify CURVE N THREADS — OpenSSL's raw ECDSA verify rate on CURVE
 * (EVP_DigestVerify with the curve's hash over a 230-byte body, a CV
 * certificate body's size), THREADS threads verifying N signatures each at
 * once. Prints {"curve":…, "threads":…, "verify_per_s":…}. Part of the
 * DV benchmark's bound: a request costs one token signature and two
 * verifications (inner and outer signature).
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/ec.h>
#include <openssl/evp.h>

#include "cvc/cvc.h"

static EVP_PKEY *key;
static const EVP_MD *md;
static unsigned char body[230], sig[256];
static size_t siglen;
static long n;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	long *bad = arg;
	for (long i = 0; i < n; i++) {
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		if (c == NULL || EVP_DigestVerifyInit(c, NULL, md, NULL, key) != 1 ||
		    EVP_DigestVerify(c, sig, siglen, body, sizeof(body)) != 1)
			(*bad)++;
		EVP_MD_CTX_free(c);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return fprintf(stderr, "usage: bench-verify CURVE N THREADS\n"), 2;
	cvc_curve cv = cvc_curve_from_name(argv[1]);
	n = strtol(argv[2], NULL, 10);
	int t = atoi(argv[3]);
	if (cv == CVC_CURVE_NONE || n < 1 || t < 1 || t > 64)
		return fprintf(stderr, "bench-verify: bad arguments\n"), 2;
	md = cvc_curve_bits(cv) == 384 ? EVP_sha384() : cvc_curve_bits(cv) == 512 ? EVP_sha512()
										  : EVP_sha256();
	EVP_PKEY_CTX *kc = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	if (!kc || EVP_PKEY_keygen_init(kc) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(kc, cvc_curve_nid(cv)) != 1 ||
	    EVP_PKEY_keygen(kc, &key) != 1)
		return fprintf(stderr, "bench-verify: keygen failed\n"), 3;
	EVP_PKEY_CTX_free(kc);
	memset(body, 0x5a, sizeof(body));
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	siglen = sizeof(sig);
	if (EVP_DigestSignInit(c, NULL, md, NULL, key) != 1 ||
	    EVP_DigestSign(c, sig, &siglen, body, sizeof(body)) != 1)
		return fprintf(stderr, "bench-verify: sign failed\n"), 3;
	EVP_MD_CTX_free(c);
	pthread_t th[64];
	long bad[64] = { 0 };
	double t0 = now();
	for (int i = 0; i < t; i++)
		pthread_create(&th[i], NULL, run, &bad[i]);
	for (int i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	double dt = now() - t0;
	long nbad = 0;
	for (int i = 0; i < t; i++)
		nbad += bad[i];
	if (nbad)
		return fprintf(stderr, "bench-verify: %ld verifications failed\n", nbad), 3;
	printf("{\"curve\": \"%s\", \"threads\": %d, \"verify_per_s\": %.1f}\n", cvc_curve_name(cv), t,
	       (double)n * t / dt);
	EVP_PKEY_free(key);
	return 0;
}
