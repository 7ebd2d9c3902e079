/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault-requests — test tool: many certificate requests, fast. Each request
 * has a fresh EC key generated here (software), a CHR of PREFIX and a
 * five-digit sequence number, the CAR given, all domain parameters, and its
 * inner signature (proof of possession, TR-03110-3 C.2) — what `eac-cvc
 * request` makes one process at a time, made in one process so that the
 * crash, concurrency and soak tests can feed hundreds of requests to the
 * engines without spending minutes in key generation.
 *
 *   fault-requests --prefix FIGATE1 --car FIDVFI001 [--from N] --count K
 *                  [--curve NAME] --out-dir DIR
 *
 * Writes DIR/<CHR>.cvreq for CHR = PREFIX + %05d of N .. N+K-1 (N default
 * 1; curve default brainpoolP256r1). Every request is parsed and its inner
 * signature verified before it is written (never write what does not
 * verify). Existing files are not replaced. Prints the number written.
 * Exit status as eac-cvc: 0, 2 usage, 3 environment.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "cvc/cvc.h"

#define PROG "fault-requests"

static int usage(void)
{
	fprintf(stderr, "usage: " PROG " --prefix PREFIX --car CAR [--from N] --count K "
			"[--curve NAME] --out-dir DIR\n");
	return EAC_EXIT_INPUT;
}

/* One request for `chr` with a fresh key on `curve`, written to `path`. */
static eac_err one(const char *path, const char *chr, const cvc_ref *car, cvc_curve curve)
{
	EVP_PKEY *key = NULL;
	uint8_t *req = NULL;
	size_t reqlen = 0;
	cvc_obj *check = NULL;
	cvc_keybuf kb;
	cvc_body body;
	cvc_alg alg;
	eac_err r;

	memset(&body, 0, sizeof(body));
	if ((key = EVP_EC_gen(OBJ_nid2sn(cvc_curve_nid(curve)))) == NULL) {
		r = eac_fail(EAC_ERR_INTERNAL, "%s: EC key generation failed", chr);
		goto out;
	}
	alg = cvc_curve_bits(curve) <= 256   ? CVC_ALG_ECDSA_SHA256
	      : cvc_curve_bits(curve) <= 384 ? CVC_ALG_ECDSA_SHA384
					     : CVC_ALG_ECDSA_SHA512;
	if ((r = cvc_ref_set(&body.chr, chr, strlen(chr))) != EAC_OK) {
		r = eac_fail_prefix(r, "CHR %s: ", chr);
		goto out;
	}
	body.car = *car;
	body.has_car = 1;
	if ((r = cvc_pubkey_from_pkey(key, alg, 1, &kb, &body.key)) != EAC_OK ||
	    (r = cvc_encode_signed(&body, alg, cvc_soft_sign, key, &req, &reqlen)) != EAC_OK ||
	    (r = cvc_parse_request(req, reqlen, &check)) != EAC_OK ||
	    (r = cvc_verify_request_inner(check)) != EAC_OK ||
	    (r = eac_file_publish(path, req, reqlen, 0644, 0)) != EAC_OK)
		goto out;
	r = EAC_OK;
out:
	cvc_obj_free(check);
	free(req);
	EVP_PKEY_free(key);
	return r;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prefix", required_argument, NULL, 'p' }, { "car", required_argument, NULL, 'c' },
		{ "from", required_argument, NULL, 'f' },   { "count", required_argument, NULL, 'n' },
		{ "curve", required_argument, NULL, 'k' },  { "out-dir", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *prefix = NULL, *car_s = NULL, *dir = NULL, *curve_s = "brainpoolP256r1";
	long from = 1, count = -1;
	char *end;
	cvc_ref car;
	cvc_curve curve;
	eac_err r;

	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'p': prefix = optarg; break;
		case 'c': car_s = optarg; break;
		case 'k': curve_s = optarg; break;
		case 'o': dir = optarg; break;
		case 'f':
			from = strtol(optarg, &end, 10);
			if (*end != '\0' || from < 0 || from > 99999)
				return usage();
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end != '\0' || count < 0 || count > 99999)
				return usage();
			break;
		default: return usage();
		}
	}
	if (optind != argc || prefix == NULL || car_s == NULL || dir == NULL || count < 0 ||
	    from + count - 1 > 99999 || strlen(prefix) > CVC_REF_MAX - 5)
		return usage();
	if ((curve = cvc_curve_from_name(curve_s)) == CVC_CURVE_NONE) {
		fprintf(stderr, PROG ": unknown curve '%s'\n", curve_s);
		return EAC_EXIT_INPUT;
	}
	if (cvc_ref_set(&car, car_s, strlen(car_s)) != EAC_OK)
		return eac_report(PROG, eac_fail_prefix(EAC_ERR_MALFORMED, "--car: "));
	for (long i = 0; i < count; i++) {
		char chr[CVC_REF_MAX + 1], path[4200];
		snprintf(chr, sizeof(chr), "%s%05ld", prefix, from + i);
		snprintf(path, sizeof(path), "%s/%s.cvreq", dir, chr);
		if ((r = one(path, chr, &car, curve)) != EAC_OK)
			return eac_report(PROG, r);
	}
	printf("%ld requests written to %s\n", count, dir);
	return fflush(stdout) == 0 ? EAC_EXIT_OK : EAC_EXIT_ENV;
}
