/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsm-bench — signatures per second through hsm_sign() next to a bare
 * C_SignInit + C_Sign loop on the same key of the same token, in the same
 * process and run (so the ratio, not the absolute number, is the result):
 *
 *   hsm-bench --module LIB.so --token-uri URI --pin-file F --key KEY
 *             [--alg ALG] [--n N] [--threads T] [--rounds R]
 *
 * The bare loop signs a fixed digest of the scheme's length on a session
 * of its own per thread (the token's cost and nothing else); hsm_sign()
 * hashes a 230-byte body (a CV certificate body's size) and signs it,
 * outputting fixed-width r‖s. The two alternate in R rounds (default 10)
 * of N/R signatures per thread, so that drift (CPU frequency) hits both
 * alike, and the rates come from the median round of each side, so that a
 * burst of other load on the machine during a few rounds does not decide
 * the ratio (the means are reported too). Prints one JSON object.
 */

#include <dlfcn.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hsm/internal.h"

static const char *prog = "hsm-bench";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct job {
	/* bare */
	CK_FUNCTION_LIST_PTR f;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE priv;
	CK_MECHANISM mech;
	uint8_t in[64];
	CK_ULONG inlen;
	/* hsm */
	hsm_key *key;
	cvc_alg alg;
	uint8_t body[230];
	/* run */
	int bare;
	unsigned n;
	int failed;
	char detail[256];
} job;

static void *run(void *arg)
{
	job *j = arg;
	uint8_t sig[CVC_SIG_MAX];
	for (unsigned i = 0; i < j->n; i++) {
		if (j->bare) {
			CK_ULONG len = sizeof(sig);
			CK_RV rv = j->f->C_SignInit(j->s, &j->mech, j->priv);
			if (rv == CKR_OK)
				rv = j->f->C_Sign(j->s, j->in, j->inlen, sig, &len);
			if (rv != CKR_OK) {
				snprintf(j->detail, sizeof(j->detail), "C_Sign: %s",
					 hsm_ckr_name(rv) ? hsm_ckr_name(rv) : "?");
				j->failed = 1;
				return NULL;
			}
		} else {
			size_t len = sizeof(sig);
			j->body[i % sizeof(j->body)] ^= 1; /* a different body each time */
			eac_err r = hsm_sign(j->key, j->alg, j->body, sizeof(j->body), sig, &len);
			if (r != EAC_OK) {
				snprintf(j->detail, sizeof(j->detail), "%s", eac_err_detail(r));
				j->failed = 1;
				return NULL;
			}
		}
	}
	return NULL;
}

/* one timed round of `per` signatures in each of `t` threads */
static double round_of(job *jobs, unsigned t, int bare, unsigned per, int *failed, char *why,
		       size_t whylen)
{
	pthread_t th[64];
	double t0 = now();
	for (unsigned i = 0; i < t; i++) {
		jobs[i].bare = bare;
		jobs[i].n = per;
		pthread_create(&th[i], NULL, run, &jobs[i]);
	}
	for (unsigned i = 0; i < t; i++)
		pthread_join(th[i], NULL);
	double dt = now() - t0;
	for (unsigned i = 0; i < t; i++)
		if (jobs[i].failed && !*failed) {
			*failed = 1;
			snprintf(why, whylen, "%s", jobs[i].detail);
		}
	return dt;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static unsigned num(const char *s, unsigned max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	return (*s >= '0' && *s <= '9' && *end == '\0' && v > 0 && v <= max) ? (unsigned)v : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },  { "token-uri", required_argument, NULL, 'u' },
		{ "pin-file", required_argument, NULL, 'p' }, { "key", required_argument, NULL, 'k' },
		{ "alg", required_argument, NULL, 'a' },     { "n", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' }, { "rounds", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *module = NULL, *uri = NULL, *pin_file = NULL, *keyname = NULL, *algname = NULL;
	unsigned n = 2000, t = 1, rounds = 10;
	hsm_pin_source src;
	hsm_ctx *ctx = NULL;
	hsm_key *key = NULL;
	job jobs[64];
	unsigned nsessions = 0;
	eac_err r;
	int failed = 0;
	char why[256] = "";

	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'm': module = optarg; break;
		case 'u': uri = optarg; break;
		case 'p': pin_file = optarg; break;
		case 'k': keyname = optarg; break;
		case 'a': algname = optarg; break;
		case 'n': n = num(optarg, 10000000); break;
		case 't': t = num(optarg, 64); break;
		case 'r': rounds = num(optarg, 1000); break;
		default: goto usage;
		}
	}
	if (!module || !uri || !pin_file || !keyname || n == 0 || t == 0 || rounds == 0 ||
	    optind != argc)
		goto usage;
	if ((r = hsm_pin_source_from_args(NULL, pin_file, &src)) != EAC_OK ||
	    (r = hsm_open(module, uri, &src, &ctx)) != EAC_OK ||
	    (r = hsm_key_find(ctx, keyname, &key)) != EAC_OK)
		goto out;
	cvc_alg alg = algname ? cvc_alg_from_name(algname)
			      : hsm_key_get_type(key) == HSM_KEY_RSA ? CVC_ALG_RSA_PSS_SHA256
								     : CVC_ALG_ECDSA_SHA256;
	if (!cvc_alg_is_ec(alg)) {
		r = eac_fail(EAC_ERR_USAGE, "%s: the bare loop benchmarks ECDSA only", prog);
		goto out;
	}

	/* the bare loop uses the same module instance and the same object
	 * handle through the function list hsm/ itself holds */
	memset(jobs, 0, sizeof(jobs));
	for (unsigned i = 0; i < t; i++) {
		job *j = &jobs[i];
		j->f = ctx->f;
		j->priv = key->priv;
		j->mech = (CK_MECHANISM){ CKM_ECDSA, NULL, 0 };
		j->inlen = cvc_alg_hash_bits(alg) / 8;
		memset(j->in, 0x5A, sizeof(j->in));
		j->key = key;
		j->alg = alg;
		for (size_t b = 0; b < sizeof(j->body); b++)
			j->body[b] = (uint8_t)(b * 31 + i);
		CK_RV rv = ctx->f->C_OpenSession(ctx->slot, CKF_SERIAL_SESSION, NULL, NULL, &j->s);
		if (rv != CKR_OK) {
			r = hsm_ckr_fail(rv, ctx->info.label, "opening a session for the bare loop");
			goto out;
		}
		nsessions++;
	}
	/* warm-up: both paths, so that first-use costs (session opening,
	 * OpenSSL's lazy initialisation) are outside the measurement */
	round_of(jobs, t, 1, 20, &failed, why, sizeof(why));
	round_of(jobs, t, 0, 20, &failed, why, sizeof(why));
	double bare = 0, via = 0, bt[1000], vt[1000];
	unsigned per = n / rounds ? n / rounds : 1;
	for (unsigned k = 0; k < rounds && !failed; k++) {
		bare += bt[k] = round_of(jobs, t, 1, per, &failed, why, sizeof(why));
		via += vt[k] = round_of(jobs, t, 0, per, &failed, why, sizeof(why));
	}
	if (failed) {
		r = eac_fail(EAC_ERR_TOKEN, "%s", why);
		goto out;
	}
	qsort(bt, rounds, sizeof(bt[0]), cmp_double);
	qsort(vt, rounds, sizeof(vt[0]), cmp_double);
	double bmed = rounds % 2 ? bt[rounds / 2] : (bt[rounds / 2 - 1] + bt[rounds / 2]) / 2;
	double vmed = rounds % 2 ? vt[rounds / 2] : (vt[rounds / 2 - 1] + vt[rounds / 2]) / 2;
	double total = (double)per * rounds * t, round_sigs = (double)per * t;
	printf("{\"key\": \"%s\", \"curve\": \"%s\", \"alg\": \"%s\", \"threads\": %u, "
	       "\"signatures\": %.0f, \"rounds\": %u, \"bare_c_sign_per_s\": %.1f, "
	       "\"hsm_sign_per_s\": %.1f, \"ratio\": %.4f, \"ratio_mean\": %.4f}\n",
	       hsm_key_label(key), cvc_curve_name(hsm_key_curve(key)), cvc_alg_name(alg), t, total,
	       rounds, round_sigs / bmed, round_sigs / vmed, bmed / vmed, bare / via);
	r = EAC_OK;
out:
	for (unsigned i = 0; i < nsessions; i++)
		(void)ctx->f->C_CloseSession(jobs[i].s);
	hsm_key_free(key);
	hsm_close(ctx);
	return r == EAC_OK ? 0 : eac_report(prog, r);
usage:
	fprintf(stderr,
		"usage: %s --module LIB.so --token-uri URI --pin-file F --key KEY [--alg ALG] "
		"[--n N] [--threads T] [--rounds R]\n",
		prog);
	return EAC_EXIT_INPUT;
}
