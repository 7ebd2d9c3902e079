/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hsm-selfsign — a self-signed CVCA certificate whose signature is made in
 * the token: the codec encodes the body (cvc_body_encode) and calls hsm_sign
 * as its signer, exactly as the CVCA engine does at a key ceremony. The
 * result is parsed and its self-signature verified with the codec before it
 * is written; the shell test then checks it with OpenPACE's cvc-print.
 *
 *   hsm-selfsign --module LIB.so --token-uri URI --pin-file F --key KEY
 *                [--alg ALG] --effective YYYY-MM-DD --expiry YYYY-MM-DD
 *                [--rights dg3,dg4] --out FILE
 *
 * CHR = CAR = the key's label; CHAT id-IS with role CVCA.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hsm/hsm.h"

static const char *prog = "hsm-selfsign";

static cvc_alg default_alg(const hsm_key *k)
{
	if (hsm_key_get_type(k) == HSM_KEY_RSA)
		return CVC_ALG_RSA_PSS_SHA256;
	unsigned bits = cvc_curve_bits(hsm_key_curve(k));
	return bits <= 256 ? CVC_ALG_ECDSA_SHA256 : bits <= 384 ? CVC_ALG_ECDSA_SHA384
							    : CVC_ALG_ECDSA_SHA512;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "module", required_argument, NULL, 'm' },   { "token-uri", required_argument, NULL, 'u' },
		{ "pin-file", required_argument, NULL, 'p' }, { "key", required_argument, NULL, 'k' },
		{ "alg", required_argument, NULL, 'a' },      { "effective", required_argument, NULL, 'f' },
		{ "expiry", required_argument, NULL, 'x' },   { "rights", required_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },      { NULL, 0, NULL, 0 },
	};
	const char *module = NULL, *uri = NULL, *pin_file = NULL, *keyname = NULL, *algname = NULL,
		   *eff = NULL, *exp = NULL, *rights = "dg3,dg4", *outp = NULL;
	hsm_pin_source src;
	hsm_ctx *ctx = NULL;
	hsm_key *key = NULL;
	EVP_PKEY *pub = NULL;
	cvc_obj *obj = NULL;
	uint8_t *out = NULL;
	size_t outlen = 0;
	cvc_keybuf kb;
	cvc_body b;
	eac_err r;

	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'm': module = optarg; break;
		case 'u': uri = optarg; break;
		case 'p': pin_file = optarg; break;
		case 'k': keyname = optarg; break;
		case 'a': algname = optarg; break;
		case 'f': eff = optarg; break;
		case 'x': exp = optarg; break;
		case 'r': rights = optarg; break;
		case 'o': outp = optarg; break;
		default: goto usage;
		}
	}
	if (!module || !uri || !pin_file || !keyname || !eff || !exp || !outp || optind != argc)
		goto usage;

	memset(&b, 0, sizeof(b));
	b.has_car = b.has_chat = b.has_dates = 1;
	b.chat.type = CVC_CHAT_IS;
	if ((r = cvc_rights_parse(CVC_CHAT_IS, rights, b.chat.auth, &b.chat.len)) != EAC_OK ||
	    (r = cvc_date_parse(eff, &b.effective)) != EAC_OK ||
	    (r = cvc_date_parse(exp, &b.expiry)) != EAC_OK)
		return eac_report(prog, r);
	b.chat.auth[0] |= (uint8_t)(CVC_ROLE_CVCA << 6);

	if ((r = hsm_pin_source_from_args(NULL, pin_file, &src)) != EAC_OK ||
	    (r = hsm_open(module, uri, &src, &ctx)) != EAC_OK ||
	    (r = hsm_key_find(ctx, keyname, &key)) != EAC_OK)
		goto out;
	cvc_alg alg = algname ? cvc_alg_from_name(algname) : default_alg(key);
	if (alg == CVC_ALG_NONE) {
		r = eac_fail(EAC_ERR_USAGE, "--alg: unknown scheme %s", algname);
		goto out;
	}
	const char *label = hsm_key_label(key);
	if ((r = cvc_ref_set(&b.chr, label, strlen(label))) != EAC_OK) {
		r = eac_fail_prefix(r, "key label as CHR: ");
		goto out;
	}
	b.car = b.chr;
	/* a CVCA certificate carries the full domain parameters (CVF §2.2) */
	if ((r = hsm_key_public(key, &pub)) != EAC_OK ||
	    (r = cvc_pubkey_from_pkey(pub, alg, 1, &kb, &b.key)) != EAC_OK)
		goto out;
	if ((r = cvc_encode_signed(&b, alg, hsm_sign, key, &out, &outlen)) != EAC_OK)
		goto out;
	/* the codec's own verdict before anything is written */
	if ((r = cvc_parse_cert(out, outlen, &obj)) != EAC_OK ||
	    (r = cvc_verify_cert(obj, &cvc_obj_body(obj)->key, NULL)) != EAC_OK) {
		r = eac_fail_prefix(r, "the token-signed certificate: ");
		goto out;
	}
	if ((r = eac_file_publish(outp, out, outlen, 0644, 1)) != EAC_OK)
		goto out;
	printf("%s: %s self-signed in token, %zu bytes\n", outp, cvc_alg_name(alg), outlen);
out:
	cvc_obj_free(obj);
	free(out);
	EVP_PKEY_free(pub);
	hsm_key_free(key);
	hsm_close(ctx);
	return r == EAC_OK ? 0 : eac_report(prog, r);
usage:
	fprintf(stderr,
		"usage: %s --module LIB.so --token-uri URI --pin-file F --key KEY [--alg ALG] "
		"--effective YYYY-MM-DD --expiry YYYY-MM-DD [--rights LIST] --out FILE\n",
		prog);
	return EAC_EXIT_INPUT;
}
