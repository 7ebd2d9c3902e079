/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The DV's identity and key (CP-3.2.4), the CVCAs it trusts, its requests
 * to them (CP-3.2.3, CP-4.7c) and the DV certificates they return.
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dv-core/dv.h"

#define MAX_OFFICERS 16

eac_err dv_own(eng *e, db_authority *own, db_key *key)
{
	eac_err r = db_authority_own(eng_db(e), own);
	if (r == EAC_ERR_NOT_FOUND)
		return eac_fail(EAC_ERR_STATE, "this DV has no identity yet: run eac-dv init (CP-3.2.4)");
	if (r != EAC_OK)
		return r;
	r = db_key_active(eng_db(e), own->id, key);
	if (r == EAC_ERR_NOT_FOUND)
		return eac_fail(EAC_ERR_STATE, "this DV has no active key: run eac-dv init (CP-3.2.4)");
	return r;
}

/* A trusted CVCA certificate (self-signed preferred, else link) by CHR. */
static eac_err find_trusted(eng *e, const char *chr, db_cert *out)
{
	db_cert *list = NULL;
	size_t n = 0, pick = (size_t)-1;
	db_cert_filter f = { .chr = chr, .imported = 1, .limit = 8 };
	eac_err r = db_certs_find(eng_db(e), &f, &list, &n);
	if (r != EAC_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (list[i].kind == DB_KIND_CVCA) {
			pick = i;
			break;
		}
		if (list[i].kind == DB_KIND_LINK && pick == (size_t)-1)
			pick = i;
	}
	if (pick == (size_t)-1) {
		db_certs_free(list, n);
		return eac_fail(EAC_ERR_NOT_FOUND,
				"no trusted CVCA certificate %s: import it first with eac-dv trust", chr);
	}
	*out = list[pick];
	list[pick].der = NULL;
	db_certs_free(list, n);
	return EAC_OK;
}

eac_err dv_chain_load(eng *e, const char *dv_chr, dv_chain *c)
{
	db_cert *list = NULL, cv = { 0 };
	size_t n = 0;
	eac_err r;

	memset(c, 0, sizeof(*c));
	db_cert_filter f = { .kind = DB_KIND_DV, .chr = dv_chr, .imported = 1, .limit = 1 };
	if ((r = db_certs_find(eng_db(e), &f, &list, &n)) != EAC_OK)
		return r;
	if (n == 0) {
		db_certs_free(list, n);
		return eac_fail(EAC_ERR_NOT_FOUND, "this DV holds no DV certificate %s", dv_chr);
	}
	c->dv = list[0];
	list[0].der = NULL;
	db_certs_free(list, n);
	c->cvca_authority = c->dv.issuer;
	if ((r = eng_cert_obj(&c->dv, &c->dv_obj)) != EAC_OK ||
	    (r = find_trusted(e, c->dv.car, &cv)) != EAC_OK ||
	    (r = eng_cert_obj(&cv, &c->cvca_obj)) != EAC_OK) {
		db_cert_free(&cv);
		dv_chain_free(c);
		return r;
	}
	db_cert_free(&cv);
	return EAC_OK;
}

void dv_chain_free(dv_chain *c)
{
	cvc_obj_free(c->dv_obj);
	cvc_obj_free(c->cvca_obj);
	db_cert_free(&c->dv);
	memset(c, 0, sizeof(*c));
}

eac_err dv_trust_store(eng *e, cvc_store **out)
{
	cvc_store *s = NULL;
	db_cert *list = NULL;
	size_t n = 0;
	eac_err r;
	db_cert_filter f = { .imported = 1, .ca_only = 1 };

	if ((r = cvc_store_new(&s)) != EAC_OK)
		return r;
	if ((r = db_certs_find(eng_db(e), &f, &list, &n)) != EAC_OK)
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (list[i].kind != DB_KIND_CVCA && list[i].kind != DB_KIND_LINK)
			continue;
		r = cvc_store_add(s, list[i].der, list[i].der_len);
		if (r == EAC_ERR_EXISTS)
			eac_err_clear();
		else if (r != EAC_OK)
			goto out;
	}
	*out = s;
	s = NULL;
	r = EAC_OK;
out:
	db_certs_free(list, n);
	cvc_store_free(s);
	return r;
}

/* ---- init ---- */

eac_err dv_cmd_init(eng *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mnemonic", required_argument, NULL, 'm' },
		{ "curve", required_argument, NULL, 'k' },
		{ "rsa-bits", required_argument, NULL, 'R' },
		{ "alg", required_argument, NULL, 'a' },
		{ "key", required_argument, NULL, 'K' },
		{ "officer", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mnemonic = NULL, *keyspec = NULL, *alg_name = NULL, *key_uri = NULL;
	const char *officers[MAX_OFFICERS];
	unsigned nofficers = 0;
	char rsa[16];
	const pol_national *nat = eng_policy(e);
	hsm_keyspec spec;
	cvc_alg alg;
	db_authority own;
	db_key existing, rec;
	int64_t authority = 0, audit_first = 0;
	db_anchor head;
	int seq;
	cvc_ref chr;
	hsm_key *hk = NULL;
	cvc_keybuf kb;
	cvc_pubkey pub;
	json_t *t = NULL, *offs = json_array();
	char *txt = NULL, *offtxt = NULL;
	eac_err r;

	optind = 0; /* 0: glibc re-initialises getopt (argument order, + mode) */
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 'm': mnemonic = optarg; break;
		case 'k': keyspec = optarg; break;
		case 'R':
			snprintf(rsa, sizeof(rsa), "rsa%.8s", optarg);
			keyspec = rsa;
			break;
		case 'a': alg_name = optarg; break;
		case 'K': key_uri = optarg; break;
		case 'o':
			if (eng_text_ok("--officer", optarg, 200) != EAC_OK) {
				r = EAC_ERR_USAGE;
				goto out;
			}
			if (nofficers == MAX_OFFICERS) {
				r = eac_fail(EAC_ERR_USAGE, "--officer: 1..%d names", MAX_OFFICERS);
				goto out;
			}
			officers[nofficers++] = optarg;
			json_array_append_new(offs, json_string(optarg));
			break;
		default:
			r = eac_fail(EAC_ERR_USAGE, "init: unknown or incomplete option '%s'",
				     argv[optind - 1]);
			goto out;
		}
	}
	(void)officers;
	if (optind != argc || mnemonic == NULL || (keyspec == NULL) == (key_uri == NULL)) {
		r = eac_fail(EAC_ERR_USAGE, "usage: init --mnemonic M (--curve NAME | --rsa-bits N | "
					    "--key URI) [--alg ALG] --officer NAME...");
		goto out;
	}
	/* CP-3.2.4: authorised DV staff are present when the key is made */
	if (nofficers == 0) {
		r = eac_fail(EAC_ERR_POLICY, "refused: name the authorised DV staff present with "
					     "--officer (CP-3.2.4)");
		goto out;
	}
	r = db_authority_own(eng_db(e), &own);
	if (r == EAC_OK) {
		if (db_key_active(eng_db(e), own.id, &existing) == EAC_OK) {
			r = eac_fail(EAC_ERR_STATE,
				     "this DV is initialised (key %s); new keys come from a re-key "
				     "request: eac-dv request --rekey",
				     existing.label);
			goto out;
		}
		authority = own.id;
		mnemonic = own.mnemonic;
	} else if (r != EAC_ERR_NOT_FOUND) {
		goto out;
	}
	/* the mnemonic, the key and the token login are settled before
	 * anything is written: a refused or failed init (a key of another
	 * token or none by that name, a curve the policy does not allow, a
	 * wrong PIN) leaves no authority and spends no sequence number, so the
	 * DV's first request is still <CC><mnemonic><CC>001 */
	hsm_ctx *ctx;
	cvc_ref probe;
	if (authority == 0 && (r = eng_make_chr(nat->country, mnemonic, 0, &probe)) != EAC_OK)
		goto out;
	uint8_t h[EAC_SHA256_LEN];
	if (key_uri != NULL) {
		/* a key made in the token beforehand (e.g. by the HSM's own tool);
		 * hsm/ refuses one of another token or one that ever left a token */
		EVP_PKEY *pk = NULL;
		if ((r = eng_token(e, &ctx)) != EAC_OK || (r = hsm_key_find(ctx, key_uri, &hk)) != EAC_OK)
			goto out;
		spec = (hsm_keyspec){ .type = hsm_key_get_type(hk), .curve = hsm_key_curve(hk),
				      .rsa_bits = (unsigned)hsm_key_sig_len(hk) * 8 };
		if ((r = eng_pick_alg(&spec, alg_name, &alg)) != EAC_OK ||
		    (r = hsm_key_public(hk, &pk)) != EAC_OK ||
		    (r = cvc_pubkey_from_pkey(pk, alg, 1, &kb, &pub)) != EAC_OK ||
		    (r = cvc_pubkey_hash(&pub, h)) != EAC_OK) {
			EVP_PKEY_free(pk);
			goto out;
		}
		EVP_PKEY_free(pk);
	} else {
		if ((r = hsm_keyspec_parse(keyspec, &spec)) != EAC_OK ||
		    (r = eng_pick_alg(&spec, alg_name, &alg)) != EAC_OK)
			goto out;
		if (spec.type == HSM_KEY_EC && !(nat->curves & (1u << spec.curve))) {
			r = eac_fail(EAC_ERR_POLICY,
				     "refused: curve %s is not allowed by the national policy "
				     "(TR-03110-3 A.6.4.2)",
				     cvc_curve_name(spec.curve));
			goto out;
		}
		if ((r = eng_token(e, &ctx)) != EAC_OK)
			goto out;
	}
	if ((r = db_audit_head(eng_db(e), &head)) != EAC_OK)
		goto out;
	audit_first = head.seq + 1;
	if (authority == 0) {
		char name[64];
		snprintf(name, sizeof(name), "DV %s%s", nat->country, mnemonic);
		db_authority_in ai = { .kind = DB_AUTH_OWN_DV, .country = nat->country,
				       .mnemonic = mnemonic, .name = name, .domestic = 1 };
		if ((r = db_authority_add(eng_db(e), &ai, &authority)) != EAC_OK)
			goto out;
	}
	if (key_uri != NULL) {
		int64_t kid;
		db_key_in in = { .authority = authority, .pkcs11_uri = hsm_key_uri(hk),
				 .label = hsm_key_label(hk), .pubkey_hash = h,
				 .algorithm = cvc_alg_name(alg),
				 .curve = spec.type == HSM_KEY_EC ? cvc_curve_name(spec.curve) : NULL,
				 .state = DB_KEY_ACTIVE };
		if ((r = db_key_add(eng_db(e), &in, &kid)) != EAC_OK ||
		    (r = db_key_get(eng_db(e), kid, &rec)) != EAC_OK)
			goto out;
	} else {
		/* the key is labelled by the CHR of its first request, to the
		 * national CVCA: the sequence carries the certifying CVCA's
		 * country (A.6.1) */
		char scope[24], seqs[8];
		snprintf(scope, sizeof(scope), "%s%s/%s", nat->country, mnemonic, nat->country);
		if ((r = db_seq_next(eng_db(e), scope, &seq)) != EAC_OK)
			goto out;
		snprintf(seqs, sizeof(seqs), "%s%03d", nat->country, seq % 1000);
		char chrs[CVC_REF_MAX + 8];
		snprintf(chrs, sizeof(chrs), "%s%s%s", nat->country, mnemonic, seqs);
		if ((r = cvc_ref_set(&chr, chrs, strlen(chrs))) != EAC_OK) {
			r = eac_fail(EAC_ERR_USAGE, "holder reference %s: %s (CP-3.1b)", chrs,
				     eac_err_detail(r));
			goto out;
		}
		if ((r = eng_new_key(e, authority, &spec, alg, &chr, DB_KEY_ACTIVE, &hk, &kb, &pub,
				     &rec)) != EAC_OK)
			goto out;
	}
	char iso[21];
	eac_time_iso(eac_now(), iso);
	t = json_pack("{s:s, s:s, s:s, s:O, s:{s:s, s:s}, s:o, s:o}", "ceremony", "dv-init", "time",
		      iso, "operator", eng_actor(e), "officers", offs, "dv", "country",
		      nat->country, "mnemonic", mnemonic, "token", eng_token_json(e), "key",
		      eng_key_json(hk, &pub));
	if (t == NULL || (txt = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS)) == NULL ||
	    (offtxt = json_dumps(offs, JSON_COMPACT)) == NULL) {
		r = eac_fail(EAC_ERR_NOMEM, "out of memory");
		goto out;
	}
	db_anchor anchor;
	int64_t cid;
	db_ceremony_in ci = { .kind = "dv-init", .officers_json = offtxt,
			      .config_hash = eng_config_hash(e), .transcript_json = txt,
			      .audit_first = audit_first };
	if ((r = db_ceremony_record(eng_db(e), &ci, &cid, &anchor)) != EAC_OK)
		goto out;
	json_object_set_new(t, "audit", json_pack("{s:I, s:I, s:o}", "first", (json_int_t)audit_first,
						  "last", (json_int_t)anchor.seq, "last_hash",
						  eng_json_hex(anchor.hash, sizeof(anchor.hash))));
	if (!eng_options(e)->json)
		printf("DV %s%s initialised; key %s (%s) generated in the token; officers recorded\n",
		       nat->country, mnemonic, rec.label, rec.curve[0] ? rec.curve : rec.algorithm);
	eng_emit(e, t, NULL);
	t = NULL;
	r = EAC_OK;
out:
	free(txt);
	free(offtxt);
	json_decref(t);
	json_decref(offs);
	hsm_key_free(hk);
	return r;
}

eac_err dv_cmd_trust(eng *e, int argc, char **argv)
{
	if (argc < 2)
		return eac_fail(EAC_ERR_USAGE, "usage: trust FILE...");
	json_t *arr = json_array();
	for (int i = 1; i < argc; i++) {
		eac_err r = eng_import_cvca(e, argv[i], DB_AUTH_CVCA, arr);
		if (r != EAC_OK) {
			json_decref(arr);
			return r;
		}
	}
	eng_emit(e, json_pack("{s:o}", "trusted", arr), NULL);
	return EAC_OK;
}

/* ---- requests to CVCAs ---- */

/* The next CHR for a request to a CVCA of `cc`: country + mnemonic + cc +
 * a three-digit number of its own sequence (TR-03110-3 A.6.1). */
static eac_err next_chr(eng *e, const db_authority *own, const char *cc, cvc_ref *out)
{
	char scope[24], s[CVC_REF_MAX + 8];
	int seq;
	eac_err r;
	snprintf(scope, sizeof(scope), "%s%s/%s", own->country, own->mnemonic, cc);
	if ((r = db_seq_next(eng_db(e), scope, &seq)) != EAC_OK)
		return r;
	if (seq > 999)
		return eac_fail(EAC_ERR_STATE, "the sequence numbers for %s are spent", scope);
	snprintf(s, sizeof(s), "%s%s%s%03d", own->country, own->mnemonic, cc, seq);
	if ((r = cvc_ref_set(out, s, strlen(s))) != EAC_OK)
		return eac_fail(EAC_ERR_USAGE, "holder reference %s: %s (CP-3.1b)", s, eac_err_detail(r));
	return EAC_OK;
}

/* The public key of a token key as a request carries it (with the domain
 * parameters, TR-03110-3 D.3.3). */
static eac_err token_pub(hsm_key *k, cvc_alg alg, cvc_keybuf *kb, cvc_pubkey *pub)
{
	EVP_PKEY *pk = NULL;
	eac_err r = hsm_key_public(k, &pk);
	if (r == EAC_OK)
		r = cvc_pubkey_from_pkey(pk, alg, 1, kb, pub);
	EVP_PKEY_free(pk);
	return r;
}

eac_err dv_cmd_request(eng *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "rekey", no_argument, NULL, 'r' },
		{ "out", required_argument, NULL, 'o' },
		{ "officer", required_argument, NULL, 'O' },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = NULL, *out_path = NULL;
	int rekey = 0;
	db_authority own;
	db_key cur, newrec;
	db_cert cvca = { 0 };
	cvc_obj *cvca_obj = NULL;
	db_dv_request *reqs = NULL;
	size_t nreqs = 0;
	db_cert *held = NULL;
	size_t nheld = 0;
	hsm_key *cur_key = NULL, *new_key = NULL;
	cvc_keybuf kb;
	cvc_pubkey pub;
	cvc_ref chr;
	uint8_t *inner = NULL, *der = NULL;
	size_t inner_len = 0, der_len = 0;
	json_t *officers = json_array();
	eac_err r;

	optind = 0;
	for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
		switch (c) {
		case 't': to = optarg; break;
		case 'r': rekey = 1; break;
		case 'o': out_path = optarg; break;
		case 'O':
			if ((r = eng_text_ok("--officer", optarg, 200)) != EAC_OK)
				goto out;
			json_array_append_new(officers, json_string(optarg));
			break;
		default:
			r = eac_fail(EAC_ERR_USAGE, "request: unknown or incomplete option '%s'",
				     argv[optind - 1]);
			goto out;
		}
	}
	if (optind != argc || to == NULL || out_path == NULL) {
		r = eac_fail(EAC_ERR_USAGE, "usage: request --to CAR [--rekey] --out FILE [--officer NAME]...");
		goto out;
	}
	if ((r = dv_own(e, &own, &cur)) != EAC_OK || (r = find_trusted(e, to, &cvca)) != EAC_OK ||
	    (r = eng_cert_obj(&cvca, &cvca_obj)) != EAC_OK)
		goto out;
	const cvc_body *cb = cvc_obj_body(cvca_obj);
	char cc[3];
	cvc_ref_country(&cb->chr, cc);
	cvc_alg alg = cvc_alg_from_name(cur.algorithm);
	if ((r = eng_signing_key(e, &cur, &cur_key)) != EAC_OK ||
	    (r = token_pub(cur_key, alg, &kb, &pub)) != EAC_OK)
		goto out;
	/* TR-03110-3 D.3.3: a DV key inherits the CVCA's domain parameters;
	 * the request must carry those of the CVCA it is addressed to */
	if (!cvc_pubkey_same_domain(&pub, NULL, &cb->key, NULL)) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: the DV key %s is not on the domain parameters of %s "
			     "(TR-03110-3 D.3.3)",
			     cur.label, cb->chr.s);
		goto out;
	}
	/* what this DV holds from that CVCA, and what it has asked it */
	db_cert_filter hf = { .kind = DB_KIND_DV, .issuer = cvca.issuer, .imported = 1 };
	if ((r = db_certs_find(eng_db(e), &hf, &held, &nheld)) != EAC_OK ||
	    (r = db_dv_requests_list(eng_db(e), 1, &reqs, &nreqs)) != EAC_OK)
		goto out;
	const db_cert *current = NULL; /* newest certificate of the active key */
	for (size_t i = 0; i < nheld && !current; i++)
		if (memcmp(held[i].holder_key_hash, cur.pubkey_hash, DB_HASH_LEN) == 0)
			current = &held[i];

	if (!rekey) {
		if (current != NULL) {
			r = eac_fail(EAC_ERR_POLICY,
				     "refused: key %s is already certified by %s (%s); a new "
				     "certificate needs a new key: request --rekey (CP-4.6)",
				     cur.label, cb->chr.s, current->chr);
			goto out;
		}
		/* an unanswered request to this CVCA for this key: the same
		 * bytes again, not a second request */
		for (size_t i = 0; i < nreqs; i++) {
			if (reqs[i].cvca != cvca.issuer || reqs[i].key != cur.id)
				continue;
			r = eac_fail(EAC_ERR_EXISTS,
				     "request %lld (%s) to %s is still unanswered; import its answer "
				     "or send that request again",
				     (long long)reqs[i].id, reqs[i].chr, cb->chr.s);
			goto out;
		}
		/* the key's own label is the CHR of its first national request */
		cvc_ref lab;
		int label_used = 0;
		for (size_t i = 0; i < nreqs; i++)
			label_used |= strcmp(reqs[i].chr, cur.label) == 0;
		db_dv_request *all = NULL;
		size_t nall = 0;
		if ((r = db_dv_requests_list(eng_db(e), 0, &all, &nall)) != EAC_OK)
			goto out;
		for (size_t i = 0; i < nall; i++)
			label_used |= strcmp(all[i].chr, cur.label) == 0;
		free(all);
		if (!label_used && cvc_ref_set(&lab, cur.label, strlen(cur.label)) == EAC_OK &&
		    strncmp(lab.s + lab.len - 5, cc, 2) == 0)
			chr = lab;
		else if ((r = next_chr(e, &own, cc, &chr)) != EAC_OK)
			goto out;
		cvc_body b = { .has_car = 1, .car = cb->chr, .key = pub, .chr = chr };
		if ((r = cvc_encode_signed(&b, alg, hsm_sign, cur_key, &der, &der_len)) != EAC_OK)
			goto out;
	} else {
		/* CP-4.7c: the successive request is authenticated by the
		 * current key, valid for that CVCA */
		if (current == NULL) {
			r = eac_fail(EAC_ERR_POLICY,
				     "refused: this DV holds no certificate from %s for its key %s; "
				     "without one a new key needs an initial request (CP-4.7c)",
				     cb->chr.s, cur.label);
			goto out;
		}
		cvc_date today, exp;
		cvc_date_from_time(eac_now(), &today);
		if ((r = cvc_date_parse(current->expiry, &exp)) != EAC_OK)
			goto out;
		if (cvc_date_cmp(&exp, &today) < 0) {
			r = eac_fail(EAC_ERR_POLICY,
				     "refused: certificate %s expired on %s; an expired DV goes through "
				     "the initial procedure again (CP-4.7c)",
				     current->chr, current->expiry);
			goto out;
		}
		/* one new key for the whole re-key round: reuse a pending one */
		db_key *keys = NULL;
		size_t nk = 0;
		int have_pending = 0;
		if ((r = db_keys_list(eng_db(e), own.id, &keys, &nk)) != EAC_OK)
			goto out;
		for (size_t i = nk; i-- > 0 && !have_pending;)
			if (keys[i].state == DB_KEY_PENDING) {
				newrec = keys[i];
				have_pending = 1;
			}
		free(keys);
		cvc_keybuf nkb;
		cvc_pubkey npub;
		if ((r = next_chr(e, &own, cc, &chr)) != EAC_OK)
			goto out;
		if (have_pending) {
			if ((r = eng_signing_key(e, &newrec, &new_key)) != EAC_OK ||
			    (r = token_pub(new_key, alg, &nkb, &npub)) != EAC_OK)
				goto out;
		} else {
			hsm_keyspec spec = { .type = cvc_alg_is_ec(alg) ? HSM_KEY_EC : HSM_KEY_RSA,
					     .curve = cvc_pubkey_curve(&pub, NULL),
					     .rsa_bits = (unsigned)pub.n.len * 8 };
			if ((r = eng_new_key(e, own.id, &spec, alg, &chr, DB_KEY_PENDING, &new_key,
					     &nkb, &npub, &newrec)) != EAC_OK)
				goto out;
		}
		cvc_body b = { .has_car = 1, .car = cb->chr, .key = npub, .chr = chr };
		cvc_ref outer;
		if ((r = cvc_ref_set(&outer, current->chr, strlen(current->chr))) != EAC_OK ||
		    (r = cvc_encode_signed(&b, alg, hsm_sign, new_key, &inner, &inner_len)) != EAC_OK ||
		    (r = cvc_auth_request_sign(inner, inner_len, &outer, alg, hsm_sign, cur_key, &der,
					       &der_len)) != EAC_OK)
			goto out;
	}
	int64_t rid;
	db_dv_request_in ri = { .cvca = cvca.issuer, .car = cb->chr.s, .chr = chr.s,
				.key = rekey ? newrec.id : cur.id, .raw = der, .raw_len = der_len };
	if ((r = db_dv_request_record(eng_db(e), &ri, &rid)) != EAC_OK ||
	    (r = eac_file_publish(out_path, der, der_len, 0644, 0)) != EAC_OK)
		goto out;
	int foreign = strcmp(cc, own.country) != 0;
	if (!eng_options(e)->json) {
		printf("request %lld: %s to %s%s, written to %s\n", (long long)rid, chr.s, cb->chr.s,
		       rekey ? " (re-key, authenticated by the current key)" : "", out_path);
		if (foreign && !rekey)
			printf("a first request to a foreign CVCA needs the national CVCA's "
			       "countersignature: eac-cvca countersign %s --out FILE (CP-3.2.3)\n",
			       out_path);
	}
	eng_emit(e, json_pack("{s:I, s:s, s:s, s:b, s:b, s:s, s:O}", "request", (json_int_t)rid, "chr",
			      chr.s, "car", cb->chr.s, "rekey", rekey, "needs_countersignature",
			      foreign && !rekey, "file", out_path, "officers", officers),
		 NULL);
	r = EAC_OK;
out:
	json_decref(officers);
	free(inner);
	free(der);
	free(reqs);
	db_certs_free(held, nheld);
	hsm_key_free(cur_key);
	hsm_key_free(new_key);
	cvc_obj_free(cvca_obj);
	db_cert_free(&cvca);
	return r;
}

eac_err dv_cmd_import(eng *e, int argc, char **argv)
{
	cvc_obj *o = NULL;
	cvc_store *store = NULL;
	db_dv_request *reqs = NULL;
	size_t nreqs = 0;
	db_key key;
	eac_err r;

	if (argc != 2)
		return eac_fail(EAC_ERR_USAGE, "usage: import FILE");
	const char *path = argv[1];
	if ((r = eng_parse_file(path, &o)) != EAC_OK)
		return r;
	const cvc_body *b = cvc_obj_body(o);
	if (cvc_obj_kind(o) != CVC_KIND_CERT ||
	    (cvc_obj_role(o) != CVC_ROLE_DV_DOMESTIC && cvc_obj_role(o) != CVC_ROLE_DV_FOREIGN)) {
		r = eac_fail(EAC_ERR_MALFORMED, "%s: not a DV certificate", path);
		goto out;
	}
	/* it must answer a request of ours: same CHR, same key */
	if ((r = db_dv_requests_list(eng_db(e), 1, &reqs, &nreqs)) != EAC_OK)
		goto out;
	const db_dv_request *q = NULL;
	for (size_t i = 0; i < nreqs && !q; i++)
		if (strcmp(reqs[i].chr, b->chr.s) == 0)
			q = &reqs[i];
	if (q == NULL) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: %s answers no pending request of this DV (CP-4.4)", b->chr.s);
		goto out;
	}
	uint8_t h[EAC_SHA256_LEN];
	if ((r = db_key_get(eng_db(e), q->key, &key)) != EAC_OK ||
	    (r = cvc_pubkey_hash(&b->key, h)) != EAC_OK)
		goto out;
	if (memcmp(h, key.pubkey_hash, sizeof(h)) != 0) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: %s certifies another public key than request %lld asked for "
			     "(CP-4.3)",
			     b->chr.s, (long long)q->id);
		goto out;
	}
	/* and verify against the trusted CVCA chain, today */
	cvc_date today;
	cvc_chain_result cr;
	cvc_date_from_time(eac_now(), &today);
	if ((r = dv_trust_store(e, &store)) != EAC_OK ||
	    (r = cvc_store_verify(store, o, &today, &cr)) != EAC_OK) {
		r = eac_fail_prefix(r, "%s: ", path);
		goto out;
	}
	db_cert issuer_cert = { 0 };
	if ((r = find_trusted(e, b->car.s, &issuer_cert)) != EAC_OK)
		goto out;
	int64_t issuer = issuer_cert.issuer;
	db_cert_free(&issuer_cert);
	if (issuer != q->cvca) {
		r = eac_fail(EAC_ERR_POLICY, "refused: %s was issued by %s, not by the CVCA request "
					     "%lld went to (CP-4.3)",
			     b->chr.s, b->car.s, (long long)q->id);
		goto out;
	}
	uint8_t chat[CVC_CHAT_TLV_MAX];
	size_t chat_len;
	char eff[11], exp[11];
	int64_t cert_id;
	cvc_date_format(&b->effective, eff);
	cvc_date_format(&b->expiry, exp);
	cvc_bytes enc = cvc_obj_encoding(o);
	if ((r = cvc_chat_encode(&b->chat, chat, &chat_len)) != EAC_OK)
		goto out;
	db_import im = { .issuer = issuer, .kind = DB_KIND_DV, .chr = b->chr.s, .car = b->car.s,
			 .holder_key_hash = h, .chat = chat, .chat_len = chat_len,
			 .effective = eff, .expiry = exp, .der = enc.ptr, .der_len = enc.len };
	if ((r = db_cert_import(eng_db(e), &im, &cert_id)) != EAC_OK ||
	    (r = db_dv_request_answer(eng_db(e), q->id, cert_id)) != EAC_OK)
		goto out;
	/* the first certificate of a re-keyed key makes it the DV's key */
	if (key.state == DB_KEY_PENDING &&
	    (r = db_key_activate(eng_db(e), key.id, "first DV certificate of the new key")) != EAC_OK)
		goto out;
	char rights[128];
	cvc_rights_format(&b->chat, rights, sizeof(rights));
	if (!eng_options(e)->json)
		printf("imported DV certificate %s from %s (%s, rights %s) valid %s .. %s; chain "
		       "verified\n",
		       b->chr.s, b->car.s, cvc_role_description(b->chat.type, cvc_chat_role(&b->chat)),
		       rights, eff, exp);
	eng_emit(e, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s}", "certificate", (json_int_t)cert_id,
			      "chr", b->chr.s, "car", b->car.s, "rights", rights, "effective", eff,
			      "expiry", exp),
		 NULL);
	r = EAC_OK;
out:
	free(reqs);
	cvc_store_free(store);
	cvc_obj_free(o);
	return r;
}

eac_err dv_cmd_certs(eng *e, int argc, char **argv)
{
	db_cert *list = NULL;
	size_t n = 0;
	eac_err r;
	(void)argv;
	if (argc != 1)
		return eac_fail(EAC_ERR_USAGE, "usage: certs");
	db_cert_filter f = { .imported = 1 };
	if ((r = db_certs_find(eng_db(e), &f, &list, &n)) != EAC_OK)
		return r;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(arr, eng_cert_json(&list[i]));
		if (!eng_options(e)->json)
			printf("%-5s %-17s CAR %-17s %s .. %s\n", db_kind_name(list[i].kind), list[i].chr,
			       list[i].car, list[i].effective, list[i].expiry);
	}
	db_certs_free(list, n);
	eng_emit(e, json_pack("{s:o}", "certificates", arr), NULL);
	return EAC_OK;
}
