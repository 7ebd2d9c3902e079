/* SPDX-License-Identifier: Apache-2.0 */
/*
 * eac-cvc — print, verify and fingerprint CV certificates and requests,
 * and make certificate requests with a software key. The manual is
 * docs/man/eac-cvc.1.
 *
 * Exit status: 0 everything valid; 1 a signature, chain or date check
 * failed; 2 malformed input or usage; 3 environment (file system). With
 * several files the highest status of any file.
 */

#include <dirent.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "cvc/cvc.h"

#define PROG "eac-cvc"

static const char usage_text[] =
	"usage: eac-cvc COMMAND [OPTIONS] ARGS\n"
	"\n"
	"  print [--json] FILE...\n"
	"      decode certificates and requests: every field, roles and rights by\n"
	"      name, dates in ISO 8601 (--json: one JSON object per file)\n"
	"  verify --trust DIR [--at YYYY-MM-DD | --no-date-check] FILE...\n"
	"      verify each file against the certificates in DIR (any file names):\n"
	"      certificates by their chain to a self-signed CVCA certificate in DIR,\n"
	"      requests by their inner signature and, for authenticated requests,\n"
	"      the outer signature and the outer signer's chain; DV and terminal\n"
	"      certificates are date-checked at --at (default: today, UTC)\n"
	"  fingerprint FILE...\n"
	"      SHA-256 of each encoding, as `sha256sum` prints it\n"
	"  request --key KEY --chr CHR [--car CAR] [--alg ALG]\n"
	"          [--outer-key KEY --outer-car CAR [--outer-alg ALG]] --out FILE\n"
	"      make a certificate request (all domain parameters, inner signature\n"
	"      with KEY as proof of possession), optionally authenticated: wrapped\n"
	"      in 67 and signed by --outer-key, named by --outer-car. Keys are\n"
	"      unencrypted PEM or DER private keys. ALG: ECDSA-SHA-1/224/256/384/512,\n"
	"      RSA-v1.5-SHA-1/256/512, RSA-PSS-SHA-1/256/512 (default: from the key)\n"
	"\n"
	"exit status: 0 all valid; 1 a signature, chain or date check failed;\n"
	"2 malformed input or usage; 3 file system or other environment failure\n";

static int usage_error(const char *fmt, ...) EAC_PRINTF(1, 2);
static int usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return eac_report(PROG, eac_fail(EAC_ERR_USAGE, "%s (see eac-cvc --help)", msg));
}

static int worst(int a, int b)
{
	return a > b ? a : b;
}

/* Read and parse FILE; on failure report "eac-cvc: FILE: detail". */
static eac_err load(const char *path, cvc_obj **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	eac_err e = eac_file_read(path, CVC_MAX_SIZE, &buf, &len);
	if (e != EAC_OK)
		return e; /* the detail names the file */
	e = cvc_parse(buf, len, out);
	free(buf);
	if (e != EAC_OK)
		return eac_fail_prefix(e, "%s: ", path);
	return EAC_OK;
}

/* ---- print ---- */

static int cmd_print(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	int json = 0, rc = EAC_EXIT_OK, c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else if (c == 'h')
			return fputs(usage_text, stdout) < 0 ? EAC_EXIT_ENV : EAC_EXIT_OK;
		else
			return usage_error("print: unknown option %s", argv[optind - 1]);
	}
	if (optind >= argc)
		return usage_error("%s: no FILE given", "print");
	for (int i = optind; i < argc; i++) {
		cvc_obj *o = NULL;
		eac_err e = load(argv[i], &o);
		if (e == EAC_OK) {
			if (json) {
				json_t *j = NULL, *wrap = json_object();
				if ((e = cvc_obj_to_json(o, &j)) == EAC_OK) {
					if (!wrap || json_object_set_new(wrap, "file", json_string(argv[i])) != 0 ||
					    json_object_update(wrap, j) != 0 ||
					    json_dumpf(wrap, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 ||
					    fputc('\n', stdout) == EOF)
						e = eac_fail(EAC_ERR_IO, "cannot write the JSON of %s", argv[i]);
				}
				json_decref(j);
				json_decref(wrap);
			} else {
				char *text = NULL;
				if ((e = cvc_obj_to_text(o, &text)) == EAC_OK &&
				    printf("%s: %s", argv[i], text) < 0)
					e = eac_fail(EAC_ERR_IO, "cannot write the text of %s", argv[i]);
				free(text);
			}
		}
		cvc_obj_free(o);
		if (e != EAC_OK)
			rc = worst(rc, eac_report(PROG, e));
	}
	if (fflush(stdout) != 0)
		rc = worst(rc, EAC_EXIT_ENV);
	return rc;
}

/* ---- fingerprint ---- */

static int cmd_fingerprint(int argc, char **argv)
{
	int rc = EAC_EXIT_OK;
	if (argc < 2)
		return usage_error("%s: no FILE given", "fingerprint");
	if (strcmp(argv[1], "--help") == 0)
		return fputs(usage_text, stdout) < 0 ? EAC_EXIT_ENV : EAC_EXIT_OK;
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-')
			return usage_error("fingerprint: unknown option %s", argv[i]);
	for (int i = 1; i < argc; i++) {
		cvc_obj *o = NULL;
		uint8_t h[EAC_SHA256_LEN];
		char hx[2 * EAC_SHA256_LEN + 1];
		eac_err e = load(argv[i], &o);
		if (e == EAC_OK && (e = cvc_obj_fingerprint(o, h)) == EAC_OK) {
			eac_hex(h, sizeof(h), hx);
			printf("%s  %s\n", hx, argv[i]);
		}
		cvc_obj_free(o);
		if (e != EAC_OK)
			rc = worst(rc, eac_report(PROG, e));
	}
	if (fflush(stdout) != 0)
		rc = worst(rc, EAC_EXIT_ENV);
	return rc;
}

/* ---- verify ---- */

/* Every regular, non-hidden file of DIR must be a certificate. */
static eac_err load_trust(const char *dir, cvc_store *st)
{
	eac_err e = EAC_OK;
	DIR *d = opendir(dir);
	struct dirent *de;
	if (!d)
		return eac_fail(EAC_ERR_IO, "%s: cannot open the trust directory", dir);
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		struct stat sb;
		uint8_t *buf = NULL;
		size_t len = 0;
		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path)) {
			e = eac_fail(EAC_ERR_IO, "%s/%s: path too long", dir, de->d_name);
			break;
		}
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if ((e = eac_file_read(path, CVC_MAX_SIZE, &buf, &len)) != EAC_OK)
			break;
		e = cvc_store_add(st, buf, len);
		free(buf);
		if (e != EAC_OK) {
			e = eac_fail_prefix(e, "%s: ", path);
			break;
		}
	}
	closedir(d);
	if (e == EAC_OK && cvc_store_count(st) == 0)
		e = eac_fail(EAC_ERR_CHAIN, "%s: no certificates in the trust directory", dir);
	return e;
}

static void path_text(const cvc_chain_result *r, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < r->len; i++) {
		int w = snprintf(out + used, outlen - used, "%s%s", i ? " > " : "", r->path[i].s);
		if (w < 0 || (size_t)w >= outlen - used)
			return;
		used += (size_t)w;
	}
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = { { "trust", required_argument, NULL, 't' },
					       { "at", required_argument, NULL, 'a' },
					       { "no-date-check", no_argument, NULL, 'n' },
					       { "help", no_argument, NULL, 'h' },
					       { NULL, 0, NULL, 0 } };
	const char *trust = NULL, *at_arg = NULL;
	int nodate = 0, rc = EAC_EXIT_OK, c;
	cvc_date at;
	cvc_store *st = NULL;
	eac_err e;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 't': trust = optarg; break;
		case 'a': at_arg = optarg; break;
		case 'n': nodate = 1; break;
		case 'h': return fputs(usage_text, stdout) < 0 ? EAC_EXIT_ENV : EAC_EXIT_OK;
		default: return usage_error("verify: unknown option %s", argv[optind - 1]);
		}
	}
	if (!trust)
		return usage_error("%s: --trust DIR is required", "verify");
	if (at_arg && nodate)
		return usage_error("%s: --at and --no-date-check exclude each other", "verify");
	if (optind >= argc)
		return usage_error("%s: no FILE given", "verify");
	if (at_arg) {
		if ((e = cvc_date_parse(at_arg, &at)) != EAC_OK)
			return eac_report(PROG, eac_fail_prefix(e, "--at: "));
	} else {
		cvc_date_from_time(eac_now(), &at);
	}
	if ((e = cvc_store_new(&st)) != EAC_OK || (e = load_trust(trust, st)) != EAC_OK) {
		rc = eac_report(PROG, e);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		cvc_obj *o = NULL;
		cvc_chain_result res;
		char path[CVC_CHAIN_MAX * (CVC_REF_MAX + 3) + 1], rights[512];
		if ((e = load(argv[i], &o)) == EAC_OK &&
		    (e = cvc_store_verify(st, o, nodate ? NULL : &at, &res)) != EAC_OK)
			e = eac_fail_prefix(e, "%s: ", argv[i]);
		if (e != EAC_OK) {
			rc = worst(rc, eac_report(PROG, e));
			cvc_obj_free(o);
			continue;
		}
		const cvc_body *b = cvc_obj_body(o);
		path_text(&res, path, sizeof(path));
		if (cvc_obj_kind(o) == CVC_KIND_CERT) {
			cvc_rights_format(&res.chat, rights, sizeof(rights));
			printf("%s: valid: certificate %s, %s (id-%s); chain %s; effective rights: %s\n",
			       argv[i], b->chr.s, cvc_role_description(b->chat.type, res.role),
			       cvc_chat_type_name(res.type), path, rights[0] ? rights : "none");
		} else if (cvc_obj_kind(o) == CVC_KIND_REQUEST) {
			printf("%s: valid: request %s, inner signature (proof of possession) verified\n",
			       argv[i], b->chr.s);
		} else {
			printf("%s: valid: authenticated request %s, inner signature (proof of possession) verified; outer signature by %s verified (chain %s)\n",
			       argv[i], b->chr.s, cvc_obj_outer_car(o)->s, path);
		}
		cvc_obj_free(o);
	}
	if (fflush(stdout) != 0)
		rc = worst(rc, EAC_EXIT_ENV);
out:
	cvc_store_free(st);
	return rc;
}

/* ---- request ---- */

static eac_err load_key(const char *path, EVP_PKEY **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	eac_err e = eac_file_read(path, 64 * 1024, &buf, &len);
	if (e != EAC_OK)
		return e;
	e = cvc_privkey_decode(buf, len, out);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (e != EAC_OK)
		return eac_fail_prefix(e, "%s: ", path);
	return EAC_OK;
}

/* The scheme of --alg, or the default for the key: ECDSA with the hash of
 * the curve's size, RSA-v1.5-SHA-256. */
static eac_err pick_alg(const char *opt, const char *name, EVP_PKEY *pkey, cvc_keybuf *kb,
			cvc_pubkey *key, cvc_alg *alg)
{
	cvc_alg a;
	eac_err e;
	if (name) {
		if ((a = cvc_alg_from_name(name)) == CVC_ALG_NONE)
			return eac_fail(EAC_ERR_USAGE, "%s: unknown scheme '%s'", opt, name);
	} else if (EVP_PKEY_is_a(pkey, "EC") == 1) {
		int bits = EVP_PKEY_get_bits(pkey);
		a = bits <= 256 ? CVC_ALG_ECDSA_SHA256 : bits <= 384 ? CVC_ALG_ECDSA_SHA384
								       : CVC_ALG_ECDSA_SHA512;
	} else {
		a = CVC_ALG_RSA_V15_SHA256;
	}
	if ((e = cvc_pubkey_from_pkey(pkey, a, 1, kb, key)) != EAC_OK)
		return eac_fail_prefix(e, "%s: ", opt);
	*alg = a;
	return EAC_OK;
}

static int cmd_request(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },       { "chr", required_argument, NULL, 'c' },
		{ "car", required_argument, NULL, 'r' },       { "alg", required_argument, NULL, 'a' },
		{ "outer-key", required_argument, NULL, 'K' }, { "outer-car", required_argument, NULL, 'R' },
		{ "outer-alg", required_argument, NULL, 'A' }, { "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },	       { NULL, 0, NULL, 0 }
	};
	const char *keyp = NULL, *chr = NULL, *car = NULL, *alg = NULL, *okeyp = NULL,
		   *ocar = NULL, *oalg = NULL, *outp = NULL;
	EVP_PKEY *key = NULL, *okey = NULL;
	uint8_t *req = NULL, *auth = NULL;
	size_t reqlen = 0, authlen = 0;
	cvc_obj *check = NULL;
	cvc_keybuf kb, okb;
	cvc_pubkey okpub;
	cvc_alg a = CVC_ALG_NONE, oa = CVC_ALG_NONE;
	cvc_body body;
	cvc_ref outer_car;
	eac_err e = EAC_OK;
	int c;

	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'k': keyp = optarg; break;
		case 'c': chr = optarg; break;
		case 'r': car = optarg; break;
		case 'a': alg = optarg; break;
		case 'K': okeyp = optarg; break;
		case 'R': ocar = optarg; break;
		case 'A': oalg = optarg; break;
		case 'o': outp = optarg; break;
		case 'h': return fputs(usage_text, stdout) < 0 ? EAC_EXIT_ENV : EAC_EXIT_OK;
		default: return usage_error("request: unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("request: unexpected argument '%s'", argv[optind]);
	if (!keyp || !chr || !outp)
		return usage_error("%s: --key, --chr and --out are required", "request");
	if (!okeyp != !ocar)
		return usage_error("%s: --outer-key and --outer-car go together", "request");
	if (oalg && !okeyp)
		return usage_error("%s: --outer-alg needs --outer-key", "request");

	/* private keys are in memory from here on: no core dumps, no ptrace */
	if ((e = eac_harden_process()) != EAC_OK)
		goto out;
	memset(&body, 0, sizeof(body));
	if (cvc_ref_set(&body.chr, chr, strlen(chr)) != EAC_OK) {
		e = eac_fail_prefix(EAC_ERR_MALFORMED, "--chr: ");
		goto out;
	}
	if (car) {
		if (cvc_ref_set(&body.car, car, strlen(car)) != EAC_OK) {
			e = eac_fail_prefix(EAC_ERR_MALFORMED, "--car: ");
			goto out;
		}
		body.has_car = 1;
	}
	if (ocar && cvc_ref_set(&outer_car, ocar, strlen(ocar)) != EAC_OK) {
		e = eac_fail_prefix(EAC_ERR_MALFORMED, "--outer-car: ");
		goto out;
	}
	if ((e = load_key(keyp, &key)) != EAC_OK ||
	    (e = pick_alg("--key", alg, key, &kb, &body.key, &a)) != EAC_OK)
		goto out;
	if (okeyp && ((e = load_key(okeyp, &okey)) != EAC_OK ||
		      (e = pick_alg("--outer-key", oalg, okey, &okb, &okpub, &oa)) != EAC_OK))
		goto out;
	/* the inner signature is the proof of possession (TR-03110-3 C.2) */
	if ((e = cvc_encode_signed(&body, a, cvc_soft_sign, key, &req, &reqlen)) != EAC_OK)
		goto out;
	if (okey &&
	    (e = cvc_auth_request_sign(req, reqlen, &outer_car, oa, cvc_soft_sign, okey, &auth,
				       &authlen)) != EAC_OK)
		goto out;
	/* never write what does not verify */
	if ((e = cvc_parse_request(auth ? auth : req, auth ? authlen : reqlen, &check)) != EAC_OK ||
	    (e = cvc_verify_request_inner(check)) != EAC_OK ||
	    (okey && (e = cvc_verify_request_outer(check, &okpub, NULL)) != EAC_OK))
		goto out;
	if ((e = eac_file_publish(outp, auth ? auth : req, auth ? authlen : reqlen, 0644, 0)) !=
	    EAC_OK)
		goto out;
	printf("%s: %s %s (%s", outp, auth ? "authenticated request" : "request", body.chr.s,
	       cvc_alg_name(a));
	if (cvc_alg_is_ec(a))
		printf(", %s", cvc_curve_name(body.key.curve));
	if (okey)
		printf("; outer signature by %s, %s", outer_car.s, cvc_alg_name(oa));
	printf(")\n");
	e = EAC_OK;
out:
	cvc_obj_free(check);
	free(req);
	free(auth);
	EVP_PKEY_free(key);
	EVP_PKEY_free(okey);
	return e == EAC_OK ? (fflush(stdout) == 0 ? EAC_EXIT_OK : EAC_EXIT_ENV) : eac_report(PROG, e);
}

int main(int argc, char **argv)
{
	opterr = 0; /* our own one-line message instead of getopt's */
	if (argc < 2)
		return usage_error("%s", "no command given");
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0)
		return fputs(usage_text, stdout) < 0 ? EAC_EXIT_ENV : EAC_EXIT_OK;
	/* each command parses its own options from argv[1] on */
	if (strcmp(cmd, "print") == 0)
		return cmd_print(argc - 1, argv + 1);
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(cmd, "fingerprint") == 0)
		return cmd_fingerprint(argc - 1, argv + 1);
	if (strcmp(cmd, "request") == 0)
		return cmd_request(argc - 1, argv + 1);
	return usage_error("unknown command '%s'", cmd);
}
