/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsm-tool — drives hsm/ from shell tests against a sandbox token or the
 * fault-injection module:
 *
 *   hsm-tool --module LIB.so --token-uri URI [--pin-file F | --pin-fd N] CMD ...
 *     login                       open the token (the one login), close it
 *     info                        print the selected token
 *     genkey SPEC CHR             generate a key pair; print its URI
 *     find KEY                    print the URI of the key (URI or label)
 *     attrs KEY                   print the key's attributes as NAME=VALUE
 *     pubkey KEY OUT.pem          write the public key (SubjectPublicKeyInfo PEM)
 *     sign KEY ALG IN OUT [N]     sign IN N times (default 1) on one login and
 *                                 publish the last signature to OUT
 *     sign-many KEY ALG N DIR     sign "message I" for I = 1..N, publishing
 *                                 DIR/I.sig after each signature
 *     verify KEY ALG IN SIG       verify SIG over IN with the key's public
 *                                 key by the codec (cvc_verify_sig_pkey)
 *     threads KEY ALG N T         T threads sign N messages each; every
 *                                 signature is verified with OpenSSL
 *     hardening                   print dumpable=D core=C after the PIN was read
 * Without --pin-file/--pin-fd the PIN is asked for on the terminal.
 * Exit status as eac_report(): 0, 1 refused, 2 input, 3 token/environment.
 */

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "hsm/hsm.h"

static const char *prog = "hsm-tool";

static int usage(void)
{
	fprintf(stderr, "usage: %s --module LIB.so --token-uri URI [--pin-file F | --pin-fd N] "
			"login|info|genkey|find|attrs|pubkey|sign|sign-many|verify|threads|hardening ...\n",
		prog);
	return EAC_EXIT_INPUT;
}

static const char *tf(int b)
{
	return b ? "true" : "false";
}

/* OpenSSL check of a signature in the TA format: plain r‖s for ECDSA,
 * PKCS#1 v1.5 or PSS with salt = hash length for RSA. */
static eac_err verify(EVP_PKEY *pub, cvc_alg alg, const uint8_t *msg, size_t msglen,
		      const uint8_t *sig, size_t siglen)
{
	eac_err r = EAC_ERR_INTERNAL;
	EVP_MD_CTX *mc = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pc = NULL;
	ECDSA_SIG *es = NULL;
	uint8_t *der = NULL;
	int derlen = 0;
	const char *md;

	switch (cvc_alg_hash_bits(alg)) {
	case 160: md = "SHA1"; break;
	case 224: md = "SHA224"; break;
	case 256: md = "SHA256"; break;
	case 384: md = "SHA384"; break;
	default: md = "SHA512"; break;
	}
	if (mc == NULL || EVP_DigestVerifyInit_ex(mc, &pc, md, NULL, NULL, pub, NULL) != 1)
		goto out;
	if (cvc_alg_is_ec(alg)) {
		BIGNUM *br = BN_bin2bn(sig, (int)siglen / 2, NULL);
		BIGNUM *bs = BN_bin2bn(sig + siglen / 2, (int)siglen / 2, NULL);
		if ((es = ECDSA_SIG_new()) == NULL || br == NULL || bs == NULL ||
		    ECDSA_SIG_set0(es, br, bs) != 1) {
			BN_free(br);
			BN_free(bs);
			goto out;
		}
		if ((derlen = i2d_ECDSA_SIG(es, &der)) <= 0)
			goto out;
		sig = der;
		siglen = (size_t)derlen;
	} else if (cvc_alg_is_pss(alg)) {
		if (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) != 1)
			goto out;
	}
	if (EVP_DigestVerify(mc, sig, siglen, msg, msglen) != 1) {
		r = eac_fail(EAC_ERR_SIGNATURE, "%s signature does not verify with OpenSSL",
			     cvc_alg_name(alg));
		goto out;
	}
	r = EAC_OK;
out:
	if (r == EAC_ERR_INTERNAL)
		r = eac_fail(EAC_ERR_INTERNAL, "OpenSSL verification could not run");
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(mc);
	return r;
}

/* ---- threads ---- */

typedef struct worker {
	hsm_key *key;
	EVP_PKEY *pub;
	cvc_alg alg;
	unsigned n, id;
	eac_err r;
	char detail[512];
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	for (unsigned i = 0; i < w->n; i++) {
		char msg[64];
		uint8_t sig[512];
		size_t siglen = sizeof(sig);
		int len = snprintf(msg, sizeof(msg), "thread %u message %u", w->id, i);
		if ((w->r = hsm_sign(w->key, w->alg, (const uint8_t *)msg, (size_t)len, sig, &siglen)) !=
			    EAC_OK ||
		    (w->r = verify(w->pub, w->alg, (const uint8_t *)msg, (size_t)len, sig, siglen)) !=
			    EAC_OK ||
		    (siglen != hsm_key_sig_len(w->key) &&
		     (w->r = eac_fail(EAC_ERR_INTERNAL, "signature of %zu bytes", siglen)))) {
			snprintf(w->detail, sizeof(w->detail), "%s", eac_err_detail(w->r));
			return NULL;
		}
	}
	w->r = EAC_OK;
	return NULL;
}

static eac_err cmd_threads(hsm_key *key, cvc_alg alg, unsigned n, unsigned t)
{
	eac_err r = EAC_OK;
	EVP_PKEY *pub = NULL;
	worker w[64];
	pthread_t th[64];
	unsigned started = 0;

	if (t == 0 || t > 64)
		return eac_fail(EAC_ERR_USAGE, "threads: 1 to 64 threads");
	if ((r = hsm_key_public(key, &pub)) != EAC_OK)
		return r;
	for (unsigned i = 0; i < t; i++) {
		w[i] = (worker){ .key = key, .pub = pub, .alg = alg, .n = n, .id = i };
		if (pthread_create(&th[i], NULL, work, &w[i]) != 0) {
			r = eac_fail(EAC_ERR_INTERNAL, "cannot start thread %u", i);
			break;
		}
		started++;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < started && r == EAC_OK; i++)
		if (w[i].r != EAC_OK)
			r = eac_fail(w[i].r, "thread %u: %s", i, w[i].detail);
	if (r == EAC_OK)
		printf("%u signatures verified (%u threads)\n", n * started, started);
	EVP_PKEY_free(pub);
	return r;
}

/* ---- commands ---- */

static eac_err cmd_attrs(const hsm_key *key)
{
	hsm_key_info i;
	char hex[2 * sizeof(i.id) + 1];
	eac_err r = hsm_key_attrs(key, &i);
	if (r != EAC_OK)
		return r;
	eac_hex(i.id, i.id_len, hex);
	printf("uri=%s\nlabel=%s\nid=%s\n", hsm_key_uri(key), i.label, hex);
	if (i.type == HSM_KEY_EC)
		printf("type=EC\ncurve=%s\nbits=%u\n", cvc_curve_name(i.curve), i.bits);
	else
		printf("type=RSA\nbits=%u\n", i.bits);
	printf("CKA_TOKEN=%s\nCKA_PRIVATE=%s\nCKA_SENSITIVE=%s\nCKA_EXTRACTABLE=%s\n"
	       "CKA_ALWAYS_SENSITIVE=%s\nCKA_NEVER_EXTRACTABLE=%s\nCKA_LOCAL=%s\nCKA_SIGN=%s\n"
	       "CKA_ALWAYS_AUTHENTICATE=%s\n",
	       tf(i.token), tf(i.private_), tf(i.sensitive), tf(i.extractable), tf(i.always_sensitive),
	       tf(i.never_extractable), tf(i.local), tf(i.sign), tf(i.always_authenticate));
	return EAC_OK;
}

static eac_err cmd_pubkey(const hsm_key *key, const char *path)
{
	eac_err r;
	EVP_PKEY *pub = NULL;
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long len;

	if (b == NULL)
		return eac_fail(EAC_ERR_NOMEM, "out of memory");
	if ((r = hsm_key_public(key, &pub)) != EAC_OK)
		goto out;
	if (PEM_write_bio_PUBKEY(b, pub) != 1 || (len = BIO_get_mem_data(b, &data)) <= 0) {
		r = eac_fail(EAC_ERR_INTERNAL, "cannot encode the public key");
		goto out;
	}
	r = eac_file_publish(path, (const uint8_t *)data, (size_t)len, 0644, 1);
out:
	EVP_PKEY_free(pub);
	BIO_free(b);
	return r;
}

static eac_err cmd_sign(hsm_key *key, cvc_alg alg, const char *in, const char *outp,
			unsigned count)
{
	eac_err r;
	uint8_t *msg = NULL;
	size_t msglen = 0;
	uint8_t sig[512];
	size_t siglen = 0;

	if ((r = eac_file_read(in, 1 << 20, &msg, &msglen)) != EAC_OK)
		return r;
	for (unsigned i = 0; i < count; i++) {
		siglen = sizeof(sig);
		if ((r = hsm_sign(key, alg, msg, msglen, sig, &siglen)) != EAC_OK)
			goto out;
	}
	r = eac_file_publish(outp, sig, siglen, 0644, 1);
out:
	free(msg);
	return r;
}

static eac_err cmd_sign_many(hsm_key *key, cvc_alg alg, unsigned n, const char *dir)
{
	eac_err r = EAC_OK;
	for (unsigned i = 1; i <= n; i++) {
		char msg[64], path[4096];
		uint8_t sig[512];
		size_t siglen = sizeof(sig);
		int len = snprintf(msg, sizeof(msg), "message %u", i);
		if ((r = hsm_sign(key, alg, (const uint8_t *)msg, (size_t)len, sig, &siglen)) != EAC_OK)
			return eac_fail_prefix(r, "message %u: ", i);
		snprintf(path, sizeof(path), "%s/%u.sig", dir, i);
		if ((r = eac_file_publish(path, sig, siglen, 0644, 0)) != EAC_OK)
			return r;
	}
	printf("%u signatures\n", n);
	return r;
}

static eac_err cmd_verify(const hsm_key *key, cvc_alg alg, const char *in, const char *sigp)
{
	eac_err r;
	uint8_t *msg = NULL, *sig = NULL;
	size_t msglen = 0, siglen = 0;
	EVP_PKEY *pub = NULL;

	if ((r = eac_file_read(in, 1 << 20, &msg, &msglen)) != EAC_OK ||
	    (r = eac_file_read(sigp, CVC_SIG_MAX, &sig, &siglen)) != EAC_OK ||
	    (r = hsm_key_public(key, &pub)) != EAC_OK)
		goto out;
	if ((r = cvc_verify_sig_pkey(pub, alg, (cvc_bytes){ msg, msglen }, (cvc_bytes){ sig, siglen })) ==
	    EAC_OK)
		printf("codec: %s signature verified\n", cvc_alg_name(alg));
out:
	EVP_PKEY_free(pub);
	free(msg);
	free(sig);
	return r;
}

static unsigned parse_count(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	return (*s >= '0' && *s <= '9' && *end == '\0' && v > 0 && v <= 10000000) ? (unsigned)v : 0;
}

int main(int argc, char **argv)
{
	const char *module = NULL, *uri = NULL, *pin_file = NULL, *pin_fd = NULL;
	hsm_pin_source src;
	hsm_ctx *ctx = NULL;
	hsm_key *key = NULL;
	eac_err r;
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },
		{ "token-uri", required_argument, NULL, 'u' },
		{ "pin-file", required_argument, NULL, 'f' },
		{ "pin-fd", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};

	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'm': module = optarg; break;
		case 'u': uri = optarg; break;
		case 'f': pin_file = optarg; break;
		case 'd': pin_fd = optarg; break;
		default: return usage();
		}
	}
	if (module == NULL || uri == NULL || optind >= argc)
		return usage();
	const char *cmd = argv[optind];
	char **a = argv + optind + 1;
	int na = argc - optind - 1;

	if ((r = eac_harden_process()) != EAC_OK)
		return eac_report(prog, r);
	if ((r = hsm_pin_source_from_args(pin_fd, pin_file, &src)) != EAC_OK)
		return eac_report(prog, r);

	/* argument shape first: a usage error costs no login */
	cvc_alg alg = CVC_ALG_NONE;
	unsigned n = 1, t = 1;
	hsm_keyspec spec;
	if (strcmp(cmd, "login") == 0 || strcmp(cmd, "info") == 0 || strcmp(cmd, "hardening") == 0) {
		if (na != 0)
			return usage();
	} else if (strcmp(cmd, "genkey") == 0) {
		if (na != 2)
			return usage();
		if ((r = hsm_keyspec_parse(a[0], &spec)) != EAC_OK)
			return eac_report(prog, r);
	} else if (strcmp(cmd, "find") == 0 || strcmp(cmd, "attrs") == 0) {
		if (na != 1)
			return usage();
	} else if (strcmp(cmd, "pubkey") == 0) {
		if (na != 2)
			return usage();
	} else if (strcmp(cmd, "sign") == 0 || strcmp(cmd, "sign-many") == 0 ||
		   strcmp(cmd, "threads") == 0 || strcmp(cmd, "verify") == 0) {
		if (na != 4 && !(strcmp(cmd, "sign") == 0 && na == 5))
			return usage();
		if ((alg = cvc_alg_from_name(a[1])) == CVC_ALG_NONE)
			return eac_report(prog, eac_fail(EAC_ERR_UNSUPPORTED, "unknown scheme '%s'", a[1]));
		if (strcmp(cmd, "sign") == 0 && na == 5 && (n = parse_count(a[4])) == 0)
			return usage();
		if (strcmp(cmd, "sign-many") == 0 && (n = parse_count(a[2])) == 0)
			return usage();
		if (strcmp(cmd, "threads") == 0 &&
		    ((n = parse_count(a[2])) == 0 || (t = parse_count(a[3])) == 0))
			return usage();
	} else {
		return usage();
	}

	if ((r = hsm_open(module, uri, &src, &ctx)) != EAC_OK)
		return eac_report(prog, r);

	if (strcmp(cmd, "login") == 0) {
		printf("logged in to token %s\n", uri);
	} else if (strcmp(cmd, "info") == 0) {
		hsm_token_info ti;
		hsm_token_describe(ctx, &ti);
		printf("label=%s\nmanufacturer=%s\nmodel=%s\nserial=%s\nslot=%lu\n", ti.label,
		       ti.manufacturer, ti.model, ti.serial, ti.slot_id);
	} else if (strcmp(cmd, "hardening") == 0) {
		struct rlimit rl;
		getrlimit(RLIMIT_CORE, &rl);
		printf("dumpable=%d core=%llu\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0),
		       (unsigned long long)rl.rlim_max);
	} else if (strcmp(cmd, "genkey") == 0) {
		if ((r = hsm_key_generate(ctx, &spec, a[1], &key)) == EAC_OK)
			printf("%s\n", hsm_key_uri(key));
	} else {
		if ((r = hsm_key_find(ctx, a[0], &key)) != EAC_OK)
			goto out;
		if (strcmp(cmd, "find") == 0)
			printf("%s\n", hsm_key_uri(key));
		else if (strcmp(cmd, "attrs") == 0)
			r = cmd_attrs(key);
		else if (strcmp(cmd, "pubkey") == 0)
			r = cmd_pubkey(key, a[1]);
		else if (strcmp(cmd, "sign") == 0)
			r = cmd_sign(key, alg, a[2], a[3], n);
		else if (strcmp(cmd, "sign-many") == 0)
			r = cmd_sign_many(key, alg, n, a[3]);
		else if (strcmp(cmd, "verify") == 0)
			r = cmd_verify(key, alg, a[2], a[3]);
		else
			r = cmd_threads(key, alg, n, t);
	}
out:
	hsm_key_free(key);
	hsm_close(ctx);
	return r == EAC_OK ? 0 : eac_report(prog, r);
}
