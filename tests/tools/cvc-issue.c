/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cvc-issue — test tool: issue a CV certificate with this project's encoder
 * and a software key, the way the engines do with a token key. Used by the
 * interoperability tests (our certificates must verify with OpenPACE) and
 * to make the vectors in tests/vectors/.
 *
 *   cvc-issue --sign-key KEY [--issuer CERT] [--sign-alg ALG]
 *             (--key KEY [--alg ALG] | --request REQ)
 *             --chr CHR --role cvca|dv_domestic|dv_foreign|terminal
 *             --type is|at|st [--rights LIST] --effective YYYY-MM-DD
 *             --expiry YYYY-MM-DD [--ext HEX] --out FILE
 *
 * Without --issuer the certificate is self-signed (CAR = CHR) and the
 * subject key defaults to the signing key. The signing scheme is the OID of
 * the issuer's key (--sign-alg only for self-signed certificates or to test
 * mismatches). Exit status as eac-cvc.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cvc/cvc.h"

#define PROG "cvc-issue"

static eac_err read_key(const char *path, EVP_PKEY **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	eac_err e = eac_file_read(path, 65536, &buf, &len);
	if (e != EAC_OK)
		return e;
	e = cvc_privkey_decode(buf, len, out);
	OPENSSL_cleanse(buf, len);
	free(buf);
	return e == EAC_OK ? e : eac_fail_prefix(e, "%s: ", path);
}

static eac_err read_obj(const char *path, cvc_obj **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	eac_err e = eac_file_read(path, CVC_MAX_SIZE, &buf, &len);
	if (e != EAC_OK)
		return e;
	e = cvc_parse(buf, len, out);
	free(buf);
	return e == EAC_OK ? e : eac_fail_prefix(e, "%s: ", path);
}

static cvc_alg default_alg(EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "EC") != 1)
		return CVC_ALG_RSA_V15_SHA256;
	int bits = EVP_PKEY_get_bits(k);
	return bits <= 256 ? CVC_ALG_ECDSA_SHA256 : bits <= 384 ? CVC_ALG_ECDSA_SHA384
							       : CVC_ALG_ECDSA_SHA512;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sign-key", required_argument, NULL, 's' }, { "issuer", required_argument, NULL, 'i' },
		{ "sign-alg", required_argument, NULL, 'S' }, { "key", required_argument, NULL, 'k' },
		{ "alg", required_argument, NULL, 'a' },      { "request", required_argument, NULL, 'q' },
		{ "chr", required_argument, NULL, 'c' },      { "role", required_argument, NULL, 'r' },
		{ "type", required_argument, NULL, 't' },     { "rights", required_argument, NULL, 'R' },
		{ "effective", required_argument, NULL, 'f' }, { "expiry", required_argument, NULL, 'x' },
		{ "ext", required_argument, NULL, 'e' },      { "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	const char *signkey = NULL, *issuer = NULL, *signalg = NULL, *keyp = NULL, *alg = NULL,
		   *reqp = NULL, *chr = NULL, *role = NULL, *type = NULL, *rights = "",
		   *eff = NULL, *exp = NULL, *ext = NULL, *outp = NULL;
	EVP_PKEY *sk = NULL, *subj = NULL;
	cvc_obj *iss = NULL, *req = NULL;
	uint8_t *out = NULL, *extb = NULL;
	size_t outlen = 0;
	cvc_keybuf kb;
	cvc_body b;
	cvc_alg sa;
	eac_err e = EAC_ERR_USAGE;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': signkey = optarg; break;
		case 'i': issuer = optarg; break;
		case 'S': signalg = optarg; break;
		case 'k': keyp = optarg; break;
		case 'a': alg = optarg; break;
		case 'q': reqp = optarg; break;
		case 'c': chr = optarg; break;
		case 'r': role = optarg; break;
		case 't': type = optarg; break;
		case 'R': rights = optarg; break;
		case 'f': eff = optarg; break;
		case 'x': exp = optarg; break;
		case 'e': ext = optarg; break;
		case 'o': outp = optarg; break;
		default:
			e = eac_fail(EAC_ERR_USAGE, "unknown option %s", argv[optind - 1]);
			goto out;
		}
	}
	if (!signkey || !chr || !role || !type || !eff || !exp || !outp || (keyp && reqp)) {
		e = eac_fail(EAC_ERR_USAGE, "see the comment at the top of tests/tools/cvc-issue.c");
		goto out;
	}
	memset(&b, 0, sizeof(b));
	if ((e = read_key(signkey, &sk)) != EAC_OK)
		goto out;
	if (cvc_ref_set(&b.chr, chr, strlen(chr)) != EAC_OK) {
		e = eac_fail_prefix(EAC_ERR_MALFORMED, "--chr: ");
		goto out;
	}
	b.has_car = 1;
	if (issuer) {
		if ((e = read_obj(issuer, &iss)) != EAC_OK)
			goto out;
		b.car = cvc_obj_body(iss)->chr;
		sa = cvc_obj_body(iss)->key.alg;
	} else {
		b.car = b.chr;
		sa = default_alg(sk);
	}
	if (signalg && (sa = cvc_alg_from_name(signalg)) == CVC_ALG_NONE) {
		e = eac_fail(EAC_ERR_USAGE, "--sign-alg: unknown scheme %s", signalg);
		goto out;
	}
	/* the subject key: from a request (proof of possession checked), a
	 * key file, or the signing key itself (self-signed) */
	int is_cvca = strcmp(role, "cvca") == 0;
	if (reqp) {
		if ((e = read_obj(reqp, &req)) != EAC_OK || (e = cvc_verify_request_inner(req)) != EAC_OK)
			goto out;
		b.key = cvc_obj_body(req)->key;
		b.key.has_params = is_cvca;
		b.key.no_cofactor = 0;
	} else {
		EVP_PKEY *k = sk;
		if (keyp) {
			if ((e = read_key(keyp, &subj)) != EAC_OK)
				goto out;
			k = subj;
		}
		cvc_alg ka = alg ? cvc_alg_from_name(alg) : issuer ? sa : default_alg(k);
		if (!issuer && alg && !signalg && !keyp)
			sa = ka;
		if ((e = cvc_pubkey_from_pkey(k, ka, is_cvca, &kb, &b.key)) != EAC_OK)
			goto out;
	}
	b.has_chat = b.has_dates = 1;
	b.chat.type = cvc_chat_type_from_name(type);
	if ((e = cvc_rights_parse(b.chat.type, rights, b.chat.auth, &b.chat.len)) != EAC_OK)
		goto out;
	cvc_role r = strcmp(role, "cvca") == 0		? CVC_ROLE_CVCA
		     : strcmp(role, "dv_domestic") == 0 ? CVC_ROLE_DV_DOMESTIC
		     : strcmp(role, "dv_foreign") == 0	? CVC_ROLE_DV_FOREIGN
							: CVC_ROLE_TERMINAL;
	b.chat.auth[0] |= (uint8_t)(r << 6);
	if ((e = cvc_date_parse(eff, &b.effective)) != EAC_OK ||
	    (e = cvc_date_parse(exp, &b.expiry)) != EAC_OK)
		goto out;
	if (ext) {
		size_t n = strlen(ext) / 2;
		if (n == 0 || (extb = malloc(n)) == NULL || (e = eac_unhex(ext, extb, n)) != EAC_OK) {
			e = eac_fail(EAC_ERR_USAGE, "--ext: not hex");
			goto out;
		}
		b.ext.ptr = extb;
		b.ext.len = n;
	}
	if ((e = cvc_encode_signed(&b, sa, cvc_soft_sign, sk, &out, &outlen)) != EAC_OK ||
	    (e = eac_file_publish(outp, out, outlen, 0644, 1)) != EAC_OK)
		goto out;
	e = EAC_OK;
out:
	free(out);
	free(extb);
	cvc_obj_free(iss);
	cvc_obj_free(req);
	EVP_PKEY_free(sk);
	EVP_PKEY_free(subj);
	return e == EAC_OK ? 0 : eac_report(PROG, e);
}
