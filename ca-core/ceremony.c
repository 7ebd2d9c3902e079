/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The CVCA key ceremonies — initial (CP-4.2.1, CP-4.4) and link rollover
 * (CP-5.4b) — plus distribution records and export. docs/ceremony.md is
 * the script the officers follow around these commands.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca-core/ca.h"

#define MAX_OFFICERS 16

eac_err ca_active_load(eng *e, ca_active *a)
{
	eac_err r;
	db_cert *list = NULL;
	size_t n = 0;

	memset(a, 0, sizeof(*a));
	r = db_authority_own(eng_db(e), &a->own);
	if (r == EAC_ERR_NOT_FOUND)
		return eac_fail(EAC_ERR_STATE,
				"this CVCA has no key yet: the initial key ceremony (eac-cvca init) "
				"comes first (CP-4.2.1)");
	if (r != EAC_OK)
		return r;
	r = db_key_active(eng_db(e), a->own.id, &a->key);
	if (r == EAC_ERR_NOT_FOUND)
		return eac_fail(EAC_ERR_STATE, "this CVCA has no active key: run the key ceremony "
					       "(eac-cvca init) (CP-4.2.1)");
	if (r != EAC_OK)
		return r;
	db_cert_filter f = { .kind = DB_KIND_CVCA, .issuer = a->own.id, .chr = a->key.label,
			     .imported = 0, .limit = 1 };
	if ((r = db_certs_find(eng_db(e), &f, &list, &n)) != EAC_OK)
		return r;
	if (n == 0) {
		db_certs_free(list, n);
		return eac_fail(EAC_ERR_STATE, "no self-signed CVCA certificate for the active key %s",
				a->key.label);
	}
	a->cert = list[0];
	list[0].der = NULL;
	db_certs_free(list, n);
	if ((r = eng_cert_obj(&a->cert, &a->obj)) != EAC_OK) {
		ca_active_free(a);
		return r;
	}
	return EAC_OK;
}

void ca_active_free(ca_active *a)
{
	cvc_obj_free(a->obj);
	db_cert_free(&a->cert);
	memset(a, 0, sizeof(*a));
}

/* ---- ceremony options ---- */

typedef struct ceremony_opts {
	const char *mnemonic;
	const char *keyspec;  /* curve name or rsaNNNN */
	const char *alg;
	const char *validity;
	const char *rights;
	const char *transcript;
	const char *officers[MAX_OFFICERS];
	unsigned nofficers;
	int allow_curve_change;
} ceremony_opts;

static eac_err parse_ceremony(int argc, char **argv, int rollover, ceremony_opts *o)
{
	static const struct option opts[] = {
		{ "mnemonic", required_argument, NULL, 'm' },
		{ "curve", required_argument, NULL, 'k' },
		{ "rsa-bits", required_argument, NULL, 'R' },
		{ "alg", required_argument, NULL, 'a' },
		{ "validity", required_argument, NULL, 'v' },
		{ "rights", required_argument, NULL, 'r' },
		{ "officer", required_argument, NULL, 'o' },
		{ "transcript", required_argument, NULL, 't' },
		{ "allow-curve-change", no_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	static char rsa[16];
	memset(o, 0, sizeof(*o));
	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'm': o->mnemonic = optarg; break;
		case 'k': o->keyspec = optarg; break;
		case 'R':
			snprintf(rsa, sizeof(rsa), "rsa%.8s", optarg);
			o->keyspec = rsa;
			break;
		case 'a': o->alg = optarg; break;
		case 'v': o->validity = optarg; break;
		case 'r': o->rights = optarg; break;
		case 't': o->transcript = optarg; break;
		case 'A': o->allow_curve_change = 1; break;
		case 'o':
			if (o->nofficers == MAX_OFFICERS)
				return eac_fail(EAC_ERR_USAGE, "at most %d officers", MAX_OFFICERS);
			if (eng_text_ok("--officer", optarg, 200) != EAC_OK)
				return EAC_ERR_USAGE;
			for (unsigned i = 0; i < o->nofficers; i++)
				if (strcmp(o->officers[i], optarg) == 0)
					return eac_fail(EAC_ERR_USAGE, "officer '%s' named twice", optarg);
			o->officers[o->nofficers++] = optarg;
			break;
		default:
			return eac_fail(EAC_ERR_USAGE, "%s: unknown or incomplete option '%s'", argv[0],
					argv[optind - 1]);
		}
	}
	if (optind != argc)
		return eac_fail(EAC_ERR_USAGE, "%s: unexpected argument '%s'", argv[0], argv[optind]);
	if (!rollover && o->keyspec == NULL)
		return eac_fail(EAC_ERR_USAGE, "init: --curve NAME or --rsa-bits N is required");
	if (rollover && o->mnemonic != NULL)
		return eac_fail(EAC_ERR_USAGE,
				"rollover keeps the CVCA's mnemonic (CP-3.1c); --mnemonic is not allowed");
	if (!rollover && o->allow_curve_change)
		return eac_fail(EAC_ERR_USAGE, "--allow-curve-change is for rollover");
	return EAC_OK;
}

/* Officers, validity and algorithm lists are checked before a key is
 * generated, so a refused ceremony leaves no key behind. */
static eac_err precheck(eng *e, const ceremony_opts *o, const hsm_keyspec *spec,
			unsigned days)
{
	const pol_national *nat = eng_policy(e);
	pol_decision d;
	cvc_date eff, exp;
	eac_err r;

	pol_decision_init(&d);
	if ((r = pol_ceremony_officers(o->nofficers, nat, &d)) != EAC_OK ||
	    (r = pol_validity(nat, POL_KIND_CVCA, eac_now(), days, NULL, &eff, &exp, &d)) != EAC_OK)
		return r;
	if (spec->type == HSM_KEY_EC && !(nat->curves & (1u << spec->curve)))
		return eac_fail(EAC_ERR_POLICY,
				"refused: curve %s is not allowed by the national policy (TR-03110-3 A.6.4.2)",
				cvc_curve_name(spec->curve));
	if (spec->type == HSM_KEY_RSA) {
		int ok = 0;
		for (size_t i = 0; i < nat->n_rsa_bits; i++)
			ok |= nat->rsa_bits[i] == spec->rsa_bits;
		if (!ok)
			return eac_fail(EAC_ERR_POLICY,
					"refused: RSA-%u is not allowed by the national policy (TR-03110-3 A.6.3)",
					spec->rsa_bits);
	}
	return EAC_OK;
}

static json_t *officers_json(const ceremony_opts *o)
{
	json_t *a = json_array();
	for (unsigned i = 0; i < o->nofficers; i++)
		json_array_append_new(a, json_string(o->officers[i]));
	return a;
}

static json_t *cert_entry(const char *kind, const cvc_body *b, const uint8_t *der, size_t len,
			  const char *file)
{
	uint8_t h[EAC_SHA256_LEN];
	char eff[11], exp[11];
	cvc_date_format(&b->effective, eff);
	cvc_date_format(&b->expiry, exp);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", kind, "chr", b->chr.s, "car",
			      b->car.s, "effective", eff, "expiry", exp, "file", file);
	if (o != NULL && eac_sha256(der, len, h) == EAC_OK)
		json_object_set_new(o, "sha256", eng_json_hex(h, sizeof(h)));
	return o;
}

/* Record the ceremony (anchored in the audit chain), then write and print
 * the transcript with the audit range and the last audit hash. */
static eac_err finish_ceremony(eng *e, const char *kind, const ceremony_opts *o,
			       int64_t audit_first, json_t *t, const char *default_name)
{
	eac_err r;
	db_anchor anchor;
	char *txt = NULL, *officers = NULL;
	char path[4200];
	json_t *offs = officers_json(o);
	int64_t id = 0;

	officers = json_dumps(offs, JSON_COMPACT);
	json_decref(offs);
	txt = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
	if (officers == NULL || txt == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	db_ceremony_in in = { .kind = kind, .officers_json = officers,
			      .config_hash = eng_config_hash(e), .transcript_json = txt,
			      .audit_first = audit_first };
	if ((r = db_ceremony_record(eng_db(e), &in, &id, &anchor)) != EAC_OK)
		goto out;
	json_object_set_new(t, "ceremony_id", json_integer(id));
	json_object_set_new(t, "audit",
			    json_pack("{s:I, s:I, s:o}", "first", (json_int_t)audit_first, "last",
				      (json_int_t)anchor.seq, "last_hash",
				      eng_json_hex(anchor.hash, sizeof(anchor.hash))));
	free(txt);
	txt = json_dumps(t, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (txt == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (o->transcript != NULL)
		snprintf(path, sizeof(path), "%s", o->transcript);
	else
		snprintf(path, sizeof(path), "%s/%s", eng_config(e)->data_dir, default_name);
	if ((r = eac_file_publish(path, (const uint8_t *)txt, strlen(txt), 0644, 0)) != EAC_OK)
		goto out;
	json_object_set_new(t, "transcript", json_string(path));
	if (!eng_options(e)->json)
		printf("%s\ntranscript written to %s\n", txt, path);
	r = EAC_OK;
out:
	free(txt);
	free(officers);
	return r;
}

static eac_err ceremony_start(eng *e, const char *kind, const ceremony_opts *o,
			      int64_t *audit_first)
{
	db_anchor head;
	eac_err r;
	json_t *d = json_pack("{s:s, s:o, s:o}", "ceremony", kind, "officers", officers_json(o),
			      "config_sha256", eng_json_hex(eng_config_hash(e), EAC_SHA256_LEN));
	char *txt = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(d);
	if (txt == NULL)
		return eac_fail(EAC_ERR_NOMEM, "out of memory");
	if ((r = db_audit_head(eng_db(e), &head)) == EAC_OK)
		r = db_audit(eng_db(e), NULL, "ceremony.start", kind, txt, NULL);
	free(txt);
	*audit_first = head.seq + 1;
	return r;
}

static void retire_refused(eng *e, const db_key *rec, const char *why)
{
	char reason[400];
	snprintf(reason, sizeof(reason), "key ceremony refused: %s", why);
	if (db_key_set_state(eng_db(e), rec->id, DB_KEY_RETIRED, reason) != EAC_OK)
		fprintf(stderr, "%s: could not retire the unused key %s\n", eng_options(e)->prog,
			rec->label);
}

eac_err ca_cmd_init(eng *e, int argc, char **argv)
{
	eac_err r;
	ceremony_opts o;
	hsm_keyspec spec;
	cvc_alg alg;
	unsigned days;
	const pol_national *nat = eng_policy(e);
	db_authority own;
	db_key existing, rec;
	int64_t audit_first = 0, authority = 0, cert_id = 0;
	int seq;
	cvc_ref chr;
	hsm_key *hk = NULL;
	cvc_keybuf kb;
	cvc_pubkey pub;
	cvc_body body;
	cvc_chat rights;
	pol_decision d;
	uint8_t *der = NULL;
	size_t der_len = 0;
	char file[4200];
	json_t *t = NULL;

	if ((r = parse_ceremony(argc, argv, 0, &o)) != EAC_OK ||
	    (r = hsm_keyspec_parse(o.keyspec, &spec)) != EAC_OK ||
	    (r = eng_pick_alg(&spec, o.alg, &alg)) != EAC_OK ||
	    (r = eng_parse_days(o.validity, &days)) != EAC_OK)
		return r;
	if (o.rights != NULL && (r = eng_parse_rights(nat, o.rights, &rights)) != EAC_OK)
		return r;
	if (o.mnemonic == NULL)
		o.mnemonic = "CVCA";

	r = db_authority_own(eng_db(e), &own);
	if (r == EAC_OK) {
		if (db_key_active(eng_db(e), own.id, &existing) == EAC_OK)
			return eac_fail(EAC_ERR_STATE,
					"this CVCA is initialised (active key %s); a new key comes "
					"from the link ceremony: eac-cvca rollover (CP-5.4b)",
					existing.label);
		if (strcmp(own.mnemonic, o.mnemonic) != 0)
			return eac_fail(EAC_ERR_STATE,
					"this CVCA is registered as %s%s; an interrupted ceremony is "
					"resumed with the same --mnemonic",
					own.country, own.mnemonic);
		authority = own.id;
	} else if (r != EAC_ERR_NOT_FOUND) {
		return r;
	}
	if ((r = precheck(e, &o, &spec, days)) != EAC_OK)
		return r;
	if ((r = ceremony_start(e, "init", &o, &audit_first)) != EAC_OK)
		return r;
	if (authority == 0) {
		char name[64];
		snprintf(name, sizeof(name), "CVCA %s", nat->country);
		db_authority_in ai = { .kind = DB_AUTH_OWN_CVCA, .country = nat->country,
				       .mnemonic = o.mnemonic, .name = name, .domestic = 1 };
		if ((r = db_authority_add(eng_db(e), &ai, &authority)) != EAC_OK)
			return r;
	}
	char scope[16];
	snprintf(scope, sizeof(scope), "%s%s", nat->country, o.mnemonic);
	if ((r = db_seq_next(eng_db(e), scope, &seq)) != EAC_OK ||
	    (r = eng_make_chr(nat->country, o.mnemonic, seq, &chr)) != EAC_OK)
		return r;
	if ((r = eng_new_key(e, authority, &spec, alg, &chr, DB_KEY_PENDING, &hk, &kb, &pub, &rec)) != EAC_OK)
		goto out;

	pol_cvca_facts f = { .now = eac_now(), .key = &pub, .chr = chr, .officers = o.nofficers,
			     .validity_days = days, .rights = o.rights ? &rights : NULL };
	if ((r = db_key_compromised(eng_db(e), rec.pubkey_hash, &f.key_facts.compromised)) != EAC_OK)
		goto out;
	if ((r = pol_cvca_certificate(nat, &f, &body, &d)) != EAC_OK) {
		if (r == EAC_ERR_POLICY)
			retire_refused(e, &rec, d.message);
		goto out;
	}
	json_t *warnings = eng_warnings(e, &d, chr.s);
	snprintf(file, sizeof(file), "%s/%s.cvcert", eng_config(e)->data_dir, chr.s);
	eng_issue_in in = { .issuer = authority, .signing_key = &rec, .key = hk, .alg = alg,
			    .issuer_pub = &pub, .kind = DB_KIND_CVCA };
	if ((r = eng_issue(e, &in, &body, file, &der, &der_len, &cert_id)) != EAC_OK) {
		json_decref(warnings);
		goto out;
	}
	/* CP-4.4: accepted at the end of the ceremony — the key becomes the
	 * CVCA's signing key */
	if ((r = db_key_activate(eng_db(e), rec.id, "initial key ceremony")) != EAC_OK) {
		json_decref(warnings);
		goto out;
	}
	char iso[21];
	eac_time_iso(eac_now(), iso);
	t = json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:o}, s:{s:s, s:s}, s:o, s:o, s:o, s:o}",
		      "ceremony", "init", "time", iso, "operator", eng_actor(e), "officers",
		      officers_json(&o), "configuration", "file", eng_options(e)->config_path,
		      "sha256", eng_json_hex(eng_config_hash(e), EAC_SHA256_LEN), "national_policy",
		      "oid", nat->policy_oid, "country", nat->country, "token", eng_token_json(e), "key",
		      eng_key_json(hk, &pub), "certificates",
		      json_pack("[o]", cert_entry("cvca", &body, der, der_len, file)), "warnings",
		      warnings);
	if (t == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	char tname[64];
	snprintf(tname, sizeof(tname), "ceremony-init-%s.json", chr.s);
	if ((r = finish_ceremony(e, "init", &o, audit_first, t, tname)) != EAC_OK)
		goto out;
	eng_emit(e, t, NULL);
	t = NULL;
	r = EAC_OK;
out:
	json_decref(t);
	free(der);
	hsm_key_free(hk);
	return r;
}

/* The key spec of the current key when rollover is not told another. */
static eac_err current_spec(const ca_active *a, hsm_keyspec *spec)
{
	const cvc_pubkey *k = &cvc_obj_body(a->obj)->key;
	if (cvc_alg_is_ec(k->alg)) {
		*spec = (hsm_keyspec){ .type = HSM_KEY_EC, .curve = cvc_pubkey_curve(k, NULL) };
		return EAC_OK;
	}
	*spec = (hsm_keyspec){ .type = HSM_KEY_RSA, .rsa_bits = (unsigned)k->n.len * 8 };
	return EAC_OK;
}

eac_err ca_cmd_rollover(eng *e, int argc, char **argv)
{
	eac_err r;
	ceremony_opts o;
	ca_active a;
	hsm_keyspec spec;
	cvc_alg alg;
	unsigned days;
	const pol_national *nat = eng_policy(e);
	int64_t audit_first = 0, link_id = 0, self_id = 0;
	int seq;
	cvc_ref chr;
	hsm_key *new_hk = NULL, *old_hk = NULL;
	cvc_keybuf kb;
	cvc_pubkey pub;
	cvc_body link, self;
	cvc_chat rights;
	pol_decision d1, d2;
	uint8_t *link_der = NULL, *self_der = NULL;
	size_t link_len = 0, self_len = 0;
	cvc_obj *link_obj = NULL, *self_obj = NULL;
	char link_file[4200], self_file[4200], own_mn[10];
	json_t *t = NULL, *w1 = NULL, *w2 = NULL;

	if ((r = parse_ceremony(argc, argv, 1, &o)) != EAC_OK ||
	    (r = eng_parse_days(o.validity, &days)) != EAC_OK)
		return r;
	if (o.rights != NULL && (r = eng_parse_rights(nat, o.rights, &rights)) != EAC_OK)
		return r;
	if ((r = ca_active_load(e, &a)) != EAC_OK)
		return r;
	const cvc_body *old = cvc_obj_body(a.obj);
	if (o.keyspec != NULL)
		r = hsm_keyspec_parse(o.keyspec, &spec);
	else
		r = current_spec(&a, &spec);
	if (r != EAC_OK || (r = eng_pick_alg(&spec, o.alg, &alg)) != EAC_OK ||
	    (r = precheck(e, &o, &spec, days)) != EAC_OK)
		goto out;
	if ((r = ceremony_start(e, "rollover", &o, &audit_first)) != EAC_OK)
		goto out;
	cvc_ref_mnemonic(&old->chr, own_mn);
	char scope[16];
	snprintf(scope, sizeof(scope), "%s%s", a.own.country, own_mn);
	if ((r = db_seq_next(eng_db(e), scope, &seq)) != EAC_OK ||
	    (r = eng_make_chr(a.own.country, own_mn, seq, &chr)) != EAC_OK)
		goto out;
	db_key rec;
	if ((r = eng_new_key(e, a.own.id, &spec, alg, &chr, DB_KEY_PENDING, &new_hk, &kb, &pub, &rec)) != EAC_OK)
		goto out;

	pol_cvca_facts f = { .now = eac_now(), .key = &pub, .chr = chr, .officers = o.nofficers,
			     .previous = old, .allow_curve_change = o.allow_curve_change,
			     .validity_days = days, .rights = o.rights ? &rights : NULL };
	if ((r = db_key_compromised(eng_db(e), rec.pubkey_hash, &f.key_facts.compromised)) !=
	    EAC_OK)
		goto out;
	/* both certificates are checked before either is signed */
	if ((r = pol_link_certificate(nat, &f, &link, &d1)) != EAC_OK ||
	    (r = pol_cvca_certificate(nat, &f, &self, &d2)) != EAC_OK) {
		if (r == EAC_ERR_POLICY)
			retire_refused(e, &rec, d1.allowed ? d2.message : d1.message);
		goto out;
	}
	w1 = eng_warnings(e, &d1, chr.s);
	w2 = eng_warnings(e, &d2, chr.s);
	if ((r = eng_signing_key(e, &a.key, &old_hk)) != EAC_OK)
		goto out;
	/* first the self-signed anchor of the new key (signed by the new,
	 * still pending key: if anything later fails, nothing that links the
	 * old key to it exists) */
	snprintf(self_file, sizeof(self_file), "%s/%s.cvcert", eng_config(e)->data_dir, chr.s);
	eng_issue_in sin = { .issuer = a.own.id, .signing_key = &rec, .key = new_hk, .alg = alg,
			     .issuer_pub = &pub, .kind = DB_KIND_CVCA };
	if ((r = eng_issue(e, &sin, &self, self_file, &self_der, &self_len, &self_id)) != EAC_OK)
		goto out;
	/* then the link certificate: new key, CAR = old CHR, signed by the old
	 * key with the old key's scheme (CP-5.4b, TR-03110-3 2.3) */
	snprintf(link_file, sizeof(link_file), "%s/%s.link.cvcert", eng_config(e)->data_dir,
		 chr.s);
	eng_issue_in lin = { .issuer = a.own.id, .signing_key = &a.key, .key = old_hk,
			     .alg = old->key.alg, .issuer_pub = &old->key, .kind = DB_KIND_LINK };
	if ((r = eng_issue(e, &lin, &link, link_file, &link_der, &link_len, &link_id)) != EAC_OK)
		goto out;
	if ((r = cvc_parse_cert(link_der, link_len, &link_obj)) != EAC_OK)
		goto out;

	/* old → link → new before the new key becomes the active one */
	if ((r = cvc_parse_cert(self_der, self_len, &self_obj)) != EAC_OK)
		goto out;
	const cvc_obj *chain[2] = { a.obj, link_obj };
	if ((r = cvc_chain_verify(chain, 2, NULL, NULL)) != EAC_OK ||
	    (r = cvc_verify_cert(self_obj, &cvc_obj_body(link_obj)->key, NULL)) != EAC_OK) {
		r = eac_fail_prefix(r, "rollover: old -> link -> new does not verify; the new key "
				       "stays inactive: ");
		goto out;
	}
	if ((r = db_key_activate(eng_db(e), rec.id, "link ceremony (rollover)")) != EAC_OK)
		goto out;

	char iso[21];
	eac_time_iso(eac_now(), iso);
	t = json_pack("{s:s, s:s, s:s, s:o, s:{s:s, s:o}, s:{s:s, s:s}, s:o, s:s, s:o, s:o, s:b, s:o}",
		      "ceremony", "rollover", "time", iso, "operator", eng_actor(e), "officers",
		      officers_json(&o), "configuration", "file", eng_options(e)->config_path,
		      "sha256", eng_json_hex(eng_config_hash(e), EAC_SHA256_LEN), "national_policy",
		      "oid", nat->policy_oid, "country", nat->country, "token", eng_token_json(e),
		      "previous_chr", old->chr.s, "key", eng_key_json(new_hk, &pub), "certificates",
		      json_pack("[o, o]", cert_entry("link", &link, link_der, link_len, link_file),
				cert_entry("cvca", &self, self_der, self_len, self_file)),
		      "chain_verified", 1, "warnings", json_array());
	if (t == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	json_array_extend(json_object_get(t, "warnings"), w1);
	json_array_extend(json_object_get(t, "warnings"), w2);
	char tname[64];
	snprintf(tname, sizeof(tname), "ceremony-rollover-%s.json", chr.s);
	if ((r = finish_ceremony(e, "rollover", &o, audit_first, t, tname)) != EAC_OK)
		goto out;
	eng_emit(e, t, NULL);
	t = NULL;
	r = EAC_OK;
out:
	json_decref(t);
	json_decref(w1);
	json_decref(w2);
	cvc_obj_free(link_obj);
	cvc_obj_free(self_obj);
	free(link_der);
	free(self_der);
	hsm_key_free(new_hk);
	hsm_key_free(old_hk);
	ca_active_free(&a);
	return r;
}

eac_err ca_cmd_publish(eng *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "channel", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = "European Commission, SPOC, DVs", *channel = "out-of-band";
	db_authority own;
	db_cert *list = NULL;
	size_t n = 0;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c == 't')
			to = optarg;
		else if (c == 'c')
			channel = optarg;
		else
			return eac_fail(EAC_ERR_USAGE, "publish: unknown or incomplete option '%s'",
					argv[optind - 1]);
	}
	if (optind != argc - 1)
		return eac_fail(EAC_ERR_USAGE, "usage: publish CHR [--to RECIPIENT] [--channel HOW]");
	if ((r = eng_text_ok("--to", to, 200)) != EAC_OK ||
	    (r = eng_text_ok("--channel", channel, 100)) != EAC_OK)
		return r;
	const char *chr = argv[optind];
	if ((r = db_authority_own(eng_db(e), &own)) != EAC_OK)
		return r;
	db_cert_filter f = { .issuer = own.id, .chr = chr, .imported = 0 };
	if ((r = db_certs_find(eng_db(e), &f, &list, &n)) != EAC_OK)
		return r;
	json_t *arr = json_array();
	size_t published = 0;
	for (size_t i = 0; i < n && r == EAC_OK; i++) {
		if (list[i].kind != DB_KIND_CVCA && list[i].kind != DB_KIND_LINK)
			continue;
		if ((r = db_distribution_record(eng_db(e), list[i].id, channel, to)) != EAC_OK)
			break;
		published++;
		json_array_append_new(arr, eng_cert_json(&list[i]));
		if (!eng_options(e)->json)
			printf("recorded: %s certificate %s (CAR %s) distributed to %s\n",
			       db_kind_name(list[i].kind), list[i].chr, list[i].car, to);
	}
	db_certs_free(list, n);
	if (r == EAC_OK && published == 0)
		r = eac_fail(EAC_ERR_NOT_FOUND, "no CVCA or link certificate with CHR %s", chr);
	if (r == EAC_OK)
		eng_emit(e, json_pack("{s:o}", "published", arr), NULL);
	else
		json_decref(arr);
	return r;
}

eac_err ca_cmd_export(eng *e, int argc, char **argv)
{
	static const struct option opts[] = { { "out-dir", required_argument, NULL, 'o' },
					      { NULL, 0, NULL, 0 } };
	const char *dir = NULL;
	db_authority own;
	db_cert *list = NULL;
	size_t n = 0;
	eac_err r;
	char path[4200];
	size_t fplen = 0, fpcap = 4096;
	char *fp = NULL;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		if (c == 'o')
			dir = optarg;
		else
			return eac_fail(EAC_ERR_USAGE, "export: unknown or incomplete option '%s'",
					argv[optind - 1]);
	}
	if (dir == NULL || optind != argc)
		return eac_fail(EAC_ERR_USAGE, "usage: export --out-dir DIR");
	if ((r = db_authority_own(eng_db(e), &own)) != EAC_OK || (r = eng_mkdirs(dir)) != EAC_OK)
		return r;
	/* the CVCA and link certificates only, never a scan of the DV ones */
	db_cert_filter f = { .issuer = own.id, .imported = 0, .ca_only = 1 };
	if ((r = db_certs_find(eng_db(e), &f, &list, &n)) != EAC_OK)
		return r;
	if ((fp = malloc(fpcap)) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	fp[0] = '\0';
	json_t *arr = json_array();
	/* oldest first, so fingerprints.txt reads like the history */
	for (size_t k = n; k-- > 0;) {
		const db_cert *c = &list[k];
		if (c->kind != DB_KIND_CVCA && c->kind != DB_KIND_LINK)
			continue;
		/* a key whose ceremony did not finish never became the CVCA's:
		 * its certificates are not for distribution */
		db_key hk;
		eac_err kr = db_key_find(eng_db(e), c->holder_key_hash, &hk);
		if (kr == EAC_OK && hk.state == DB_KEY_PENDING)
			continue;
		if (kr != EAC_OK && kr != EAC_ERR_NOT_FOUND) {
			json_decref(arr);
			r = kr;
			goto out;
		}
		char name[64], hex[2 * EAC_SHA256_LEN + 1];
		snprintf(name, sizeof(name), "%s%s.cvcert", c->chr,
			 c->kind == DB_KIND_LINK ? ".link" : "");
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if ((r = eac_file_publish(path, c->der, c->der_len, 0644, 1)) != EAC_OK) {
			json_decref(arr);
			goto out;
		}
		eac_hex(c->der_hash, EAC_SHA256_LEN, hex);
		int w = snprintf(fp + fplen, fpcap - fplen, "%s  %s\n", hex, name);
		if (w < 0 || (size_t)w >= fpcap - fplen) {
			char *nfp = realloc(fp, fpcap * 2);
			if (nfp == NULL) {
				json_decref(arr);
				r = eac_fail(EAC_ERR_NOMEM, "out of memory");
				goto out;
			}
			fp = nfp;
			fpcap *= 2;
			k++; /* again with room */
			continue;
		}
		fplen += (size_t)w;
		json_t *cj = eng_cert_json(c);
		json_object_set_new(cj, "file", json_string(path));
		json_array_append_new(arr, cj);
		if (!eng_options(e)->json)
			printf("%s  %s\n", hex, path);
	}
	snprintf(path, sizeof(path), "%s/fingerprints.txt", dir);
	if ((r = eac_file_publish(path, (const uint8_t *)fp, fplen, 0644, 1)) != EAC_OK) {
		json_decref(arr);
		goto out;
	}
	if (!eng_options(e)->json)
		printf("fingerprints (SHA-256) in %s\n", path);
	eng_emit(e, json_pack("{s:o, s:s}", "exported", arr, "fingerprints", path), NULL);
	r = EAC_OK;
out:
	free(fp);
	db_certs_free(list, n);
	return r;
}
