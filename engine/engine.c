/* SPDX-License-Identifier: Apache-2.0 */
/* Opening an engine: options, configuration, national policy, database,
 * and the token on first use. */

#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/internal.h"

int eng_parse_global(int argc, char **argv, eng_opts *o, int *help)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "pin-fd", required_argument, NULL, 'p' },
		{ "operator", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	*help = 0;
	opterr = 0;
	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1;) {
		switch (c) {
		case 'c': o->config_path = optarg; break;
		case 'j': o->json = 1; break;
		case 'p': o->pin_fd = optarg; break;
		case 'o': o->operator_ = optarg; break;
		case 'h': *help = 1; return -1;
		default:
			fprintf(stderr, "%s: unknown or incomplete option '%s' (see --help)\n", o->prog,
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "%s: no command given (see --help)\n", o->prog);
		return -1;
	}
	return optind;
}

const eng_opts *eng_options(const eng *e) { return &e->opts; }
const eac_config *eng_config(const eng *e) { return &e->cfg; }
const pol_national *eng_policy(const eng *e) { return e->pol; }
db_conn *eng_db(eng *e) { return e->db; }
const uint8_t *eng_config_hash(const eng *e) { return e->config_hash; }
const char *eng_actor(const eng *e) { return e->actor; }

eac_err eng_open(const eng_opts *o, eng **out)
{
	eac_err r = EAC_ERR_INTERNAL;
	eng *e = calloc(1, sizeof(*e));
	uint8_t *buf = NULL;
	size_t len = 0;
	char *text = NULL;

	if (e == NULL)
		return eac_fail(EAC_ERR_NOMEM, "out of memory");
	e->opts = *o;
	if (e->opts.config_path == NULL) {
		const char *env = getenv(strcmp(o->flavour, "cvca") == 0 ? "EAC_CVCA_CONFIG"
									  : "EAC_DV_CONFIG");
		snprintf(e->default_config, sizeof(e->default_config), "/etc/eac/%s.json",
			 o->flavour);
		e->opts.config_path = env && *env ? env : e->default_config;
	}
	if ((r = eac_config_load(e->opts.config_path, o->flavour, &e->cfg)) != EAC_OK)
		goto out;
	if ((r = eac_file_read(e->opts.config_path, EAC_JSON_MAX_FILE, &buf, &len)) != EAC_OK ||
	    (r = eac_sha256(buf, len, e->config_hash)) != EAC_OK)
		goto out;
	free(buf);
	buf = NULL;

	/* the national policy: its text, parsed and checked against the
	 * common policy (CP-1) by policy/ */
	if ((r = eac_file_read(e->cfg.policy_path, EAC_JSON_MAX_FILE, &buf, &len)) != EAC_OK) {
		r = eac_fail(EAC_ERR_CONFIG, "national policy: %s", eac_err_detail(r));
		goto out;
	}
	if ((text = malloc(len + 1)) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	if ((r = pol_national_parse(text, e->cfg.policy_path, &e->pol)) != EAC_OK)
		goto out;

	if (o->operator_ != NULL) {
		if ((r = eng_text_ok("--operator", o->operator_, 200)) != EAC_OK)
			goto out;
		snprintf(e->actor, sizeof(e->actor), "%s", o->operator_);
	} else {
		struct passwd *pw = getpwuid(geteuid());
		snprintf(e->actor, sizeof(e->actor), "user:%s", pw ? pw->pw_name : "unknown");
	}
	/* the database before anything else that acts: unreachable means a
	 * clear error before any token login or signature */
	if ((r = db_open(e->cfg.db_conninfo, e->cfg.db_owner_conninfo, o->flavour, &e->db)) !=
	    EAC_OK)
		goto out;
	if ((r = db_set_actor(e->db, e->actor)) != EAC_OK)
		goto out;
	*out = e;
	e = NULL;
	r = EAC_OK;
out:
	free(buf);
	free(text);
	eng_close(e);
	return r;
}

void eng_close(eng *e)
{
	if (e == NULL)
		return;
	hsm_close(e->hsm);
	db_close(e->db);
	pol_national_free(e->pol);
	eac_config_free(&e->cfg);
	free(e);
}

eac_err eng_token(eng *e, hsm_ctx **out)
{
	hsm_pin_source src;
	eac_err r;

	if (e->hsm != NULL) {
		*out = e->hsm;
		return EAC_OK;
	}
	if ((r = hsm_pin_source_from_args(e->opts.pin_fd, e->cfg.token_pin_file, &src)) != EAC_OK)
		return r;
	r = hsm_open(e->cfg.token_module, e->cfg.token_uri, &src, &e->hsm);
	if (r == EAC_ERR_PIN_INCORRECT || r == EAC_ERR_PIN_LOCKED || r == EAC_ERR_PIN_FINAL_TRY) {
		/* a failed or refused login is an officer action the auditor
		 * must see; the error text never holds the PIN */
		char detail[1200];
		json_t *d = json_pack("{s:s, s:s}", "token", e->cfg.token_uri, "error",
				      eac_err_detail(r));
		char *txt = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
		snprintf(detail, sizeof(detail), "%s", eac_err_detail(r));
		eac_err a = db_audit(e->db, NULL, "login.fail", e->cfg.token_uri, txt, NULL);
		free(txt);
		json_decref(d);
		if (a != EAC_OK)
			return a; /* the event could not be written: report that */
		return eac_fail(r, "%s", detail);
	}
	if (r != EAC_OK)
		return r;
	*out = e->hsm;
	return EAC_OK;
}

eac_err eng_signing_key(eng *e, const db_key *rec, hsm_key **key)
{
	eac_err r;
	hsm_ctx *ctx;
	hsm_key *k = NULL;
	EVP_PKEY *pk = NULL;
	cvc_keybuf kb;
	cvc_pubkey pub;
	uint8_t h[EAC_SHA256_LEN];
	cvc_alg alg = cvc_alg_from_name(rec->algorithm);

	if (alg == CVC_ALG_NONE)
		return eac_fail(EAC_ERR_DB, "key %s: unknown algorithm '%s' in the database",
				rec->label, rec->algorithm);
	if ((r = eng_token(e, &ctx)) != EAC_OK)
		return r;
	if ((r = hsm_key_find(ctx, rec->pkcs11_uri, &k)) != EAC_OK)
		goto out;
	if ((r = hsm_key_public(k, &pk)) != EAC_OK ||
	    (r = cvc_pubkey_from_pkey(pk, alg, 0, &kb, &pub)) != EAC_OK ||
	    (r = cvc_pubkey_hash(&pub, h)) != EAC_OK)
		goto out;
	if (memcmp(h, rec->pubkey_hash, sizeof(h)) != 0) {
		r = eac_fail(EAC_ERR_KEY_NOT_FOUND,
			     "key %s in the token is not the key the database recorded (public key "
			     "hash differs); refusing to sign with it",
			     rec->label);
		goto out;
	}
	*key = k;
	k = NULL;
	r = EAC_OK;
out:
	EVP_PKEY_free(pk);
	hsm_key_free(k);
	return r;
}

void eng_emit_json(int json, json_t *obj, const char *text)
{
	if (json && obj != NULL) {
		char *s = json_dumps(obj, JSON_INDENT(2) | JSON_SORT_KEYS);
		if (s != NULL)
			printf("%s\n", s);
		free(s);
	} else if (!json && text != NULL) {
		fputs(text, stdout);
		if (*text && text[strlen(text) - 1] != '\n')
			putchar('\n');
	}
	fflush(stdout);
	json_decref(obj);
}

void eng_emit(const eng *e, json_t *obj, const char *text)
{
	eng_emit_json(e->opts.json, obj, text);
}

json_t *eng_json_time(int64_t t)
{
	char iso[21];
	if (t == 0)
		return json_null();
	eac_time_iso(t, iso);
	return json_string(iso);
}

json_t *eng_json_hex(const uint8_t *b, size_t n)
{
	char *h = malloc(2 * n + 1);
	if (h == NULL)
		return json_null();
	eac_hex(b, n, h);
	json_t *j = json_string(h);
	free(h);
	return j;
}

eac_err eng_read_input(const char *path, uint8_t **buf, size_t *len)
{
	eac_err r = eac_file_read(path, CVC_MAX_SIZE, buf, len);
	if (r == EAC_ERR_MALFORMED)
		return eac_fail(r, "%s: larger than %d bytes, the limit of a CV object", path,
				CVC_MAX_SIZE);
	return r;
}

eac_err eng_parse_file(const char *path, cvc_obj **out)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	eac_err r = eng_read_input(path, &buf, &len);
	if (r != EAC_OK)
		return r;
	r = cvc_parse(buf, len, out);
	free(buf);
	if (r != EAC_OK)
		return eac_fail_prefix(r, "%s: ", path);
	return EAC_OK;
}
