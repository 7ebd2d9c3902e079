/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench-prep — the inspection systems and requests of `make bench`:
 *
 *   bench-prep register --config DV.json --n N --prefix P
 *       registers N inspection systems P000001.. (one transaction)
 *   bench-prep requests --n N --prefix P --country CC --car DVCHR --curve C --out DIR
 *                       [--keys DIR] [--seq S] [--old-keys DIR --old-seq S]
 *       N requests DIR/rNNNNNN.cvreq for IS CC+P000001+S.. (CHR sequence S,
 *       default 00001), with software keys (saved to --keys when given);
 *       with --old-keys, each request is a re-key: outer-signed by the old
 *       key of the same IS, outer CAR = its previous certificate's CHR
 *       (sequence --old-seq) — an authenticated request (TR-03110-3 C.2.6).
 *
 * Not a test; it prepares what the benchmark measures.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/common.h"
#include "cvc/cvc.h"
#include "db/db.h"

static void die(const char *what, eac_err r)
{
	fprintf(stderr, "bench-prep: %s: %s\n", what, eac_err_detail(r));
	exit(3);
}

typedef struct reg_arg {
	long n;
	const char *prefix;
} reg_arg;

static eac_err reg_fn(db_conn *db, void *arg)
{
	reg_arg *a = arg;
	for (long i = 1; i <= a->n; i++) {
		char name[96], mn[32];
		int64_t id;
		snprintf(mn, sizeof(mn), "%s%06ld", a->prefix, i);
		snprintf(name, sizeof(name), "bench terminal %s", mn);
		eac_err r = db_is_add(db, name, mn, "benchmark", &id);
		if (r != EAC_OK)
			return r;
	}
	return EAC_OK;
}

static EVP_PKEY *genkey(cvc_curve c)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx, cvc_curve_nid(c)) != 1 ||
	    EVP_PKEY_keygen(ctx, &k) != 1)
		k = NULL;
	EVP_PKEY_CTX_free(ctx);
	return k;
}

static EVP_PKEY *loadkey(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
	if (f)
		fclose(f);
	return k;
}

static void savekey(const char *path, EVP_PKEY *k)
{
	FILE *f = fopen(path, "w");
	if (f == NULL || PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) != 1) {
		fprintf(stderr, "bench-prep: cannot write %s\n", path);
		exit(3);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "n", required_argument, NULL, 'n' },
		{ "prefix", required_argument, NULL, 'p' }, { "country", required_argument, NULL, 'C' },
		{ "car", required_argument, NULL, 'a' },    { "curve", required_argument, NULL, 'k' },
		{ "out", required_argument, NULL, 'o' },    { "keys", required_argument, NULL, 'K' },
		{ "seq", required_argument, NULL, 's' },    { "old-keys", required_argument, NULL, 'O' },
		{ "old-seq", required_argument, NULL, 'S' }, { NULL, 0, NULL, 0 },
	};
	const char *config = NULL, *prefix = "B", *country = "FI", *car = NULL, *curve = NULL;
	const char *out = NULL, *keys = NULL, *seq = "00001", *old_keys = NULL, *old_seq = "00001";
	long n = 0;
	eac_err r;

	if (argc < 2) {
		fprintf(stderr, "usage: bench-prep register|requests ...\n");
		return 2;
	}
	const char *mode = argv[1];
	optind = 2;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'n': n = strtol(optarg, NULL, 10); break;
		case 'p': prefix = optarg; break;
		case 'C': country = optarg; break;
		case 'a': car = optarg; break;
		case 'k': curve = optarg; break;
		case 'o': out = optarg; break;
		case 'K': keys = optarg; break;
		case 's': seq = optarg; break;
		case 'O': old_keys = optarg; break;
		case 'S': old_seq = optarg; break;
		default: return 2;
		}
	}
	if (n < 1 || n > 999999)
		return fprintf(stderr, "bench-prep: --n 1..999999\n"), 2;

	if (strcmp(mode, "register") == 0) {
		eac_config cfg;
		db_conn *db = NULL;
		reg_arg a = { n, prefix };
		if (config == NULL)
			return 2;
		if ((r = eac_config_load(config, "dv", &cfg)) != EAC_OK)
			die(config, r);
		if ((r = db_open(cfg.db_conninfo, cfg.db_owner_conninfo, "dv", &db)) != EAC_OK)
			die("database", r);
		if ((r = db_set_actor(db, "bench-prep")) != EAC_OK || (r = db_tx(db, reg_fn, &a)) != EAC_OK)
			die("register", r);
		db_close(db);
		eac_config_free(&cfg);
		return 0;
	}
	if (strcmp(mode, "requests") != 0 || !car || !curve || !out)
		return fprintf(stderr, "bench-prep: requests needs --car --curve --out\n"), 2;
	cvc_curve cv = cvc_curve_from_name(curve);
	cvc_alg alg = cvc_curve_bits(cv) == 384 ? CVC_ALG_ECDSA_SHA384 : CVC_ALG_ECDSA_SHA256;
	cvc_ref carref;
	if (cv == CVC_CURVE_NONE || (r = cvc_ref_set(&carref, car, strlen(car))) != EAC_OK)
		return fprintf(stderr, "bench-prep: bad --curve or --car\n"), 2;
	mkdir(out, 0755);
	if (keys)
		mkdir(keys, 0700);
	for (long i = 1; i <= n; i++) {
		char chrs[32], path[4096];
		cvc_ref chr;
		cvc_keybuf kb;
		cvc_body b = { .has_car = 1, .car = carref };
		uint8_t *req = NULL, *der = NULL;
		size_t rlen = 0, dlen = 0;
		EVP_PKEY *k = genkey(cv), *old = NULL;
		if (k == NULL)
			die("key generation", EAC_ERR_INTERNAL);
		snprintf(chrs, sizeof(chrs), "%s%s%06ld%s", country, prefix, i, seq);
		if ((r = cvc_ref_set(&chr, chrs, strlen(chrs))) != EAC_OK ||
		    (r = cvc_pubkey_from_pkey(k, alg, 1, &kb, &b.key)) != EAC_OK)
			die(chrs, r);
		b.chr = chr;
		if ((r = cvc_encode_signed(&b, alg, cvc_soft_sign, k, &req, &rlen)) != EAC_OK)
			die("request", r);
		if (old_keys != NULL) {
			char oc[32];
			cvc_ref ocar;
			snprintf(path, sizeof(path), "%s/%06ld.pem", old_keys, i);
			snprintf(oc, sizeof(oc), "%s%s%06ld%s", country, prefix, i, old_seq);
			if ((old = loadkey(path)) == NULL)
				die(path, EAC_ERR_IO);
			if ((r = cvc_ref_set(&ocar, oc, strlen(oc))) != EAC_OK ||
			    (r = cvc_auth_request_sign(req, rlen, &ocar, alg, cvc_soft_sign, old, &der,
						       &dlen)) != EAC_OK)
				die("authenticated request", r);
		}
		snprintf(path, sizeof(path), "%s/r%06ld.cvreq", out, i);
		if ((r = eac_file_publish_ex(path, der ? der : req, der ? dlen : rlen, 0644,
					     EAC_PUBLISH_OVERWRITE | EAC_PUBLISH_NOSYNC)) != EAC_OK)
			die(path, r);
		if (keys) {
			snprintf(path, sizeof(path), "%s/%06ld.pem", keys, i);
			savekey(path, k);
		}
		free(req);
		free(der);
		EVP_PKEY_free(k);
		EVP_PKEY_free(old);
	}
	return 0;
}
