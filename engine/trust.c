/* SPDX-License-Identifier: Apache-2.0 */
/* Importing CVCA and link certificates of other authorities: the CVCA's
 * foreign CVCAs (CP-3.2.2) and the DV's trusted national and foreign CVCAs,
 * each verified before it is recorded. */

#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/internal.h"

eac_err eng_import_cvca(eng *e, const char *path, db_auth_kind kind, json_t *arr)
{
	cvc_obj *o = NULL, *anchor = NULL;
	db_cert *known = NULL;
	size_t nk = 0;
	db_authority fa;
	int64_t authority = 0, cert_id = 0;
	uint8_t h[EAC_SHA256_LEN], chat[CVC_CHAT_TLV_MAX];
	size_t chat_len = 0;
	eac_err r;

	if ((r = eng_parse_file(path, &o)) != EAC_OK)
		return r;
	const cvc_body *b = cvc_obj_body(o);
	if (cvc_obj_kind(o) != CVC_KIND_CERT || cvc_obj_role(o) != CVC_ROLE_CVCA) {
		r = eac_fail(EAC_ERR_MALFORMED, "%s: not a CVCA certificate", path);
		goto out;
	}
	char cc[3], mn[10];
	cvc_ref_country(&b->chr, cc);
	cvc_ref_mnemonic(&b->chr, mn);
	if (kind == DB_AUTH_FOREIGN_CVCA && strcmp(cc, eng_policy(e)->country) == 0) {
		r = eac_fail(EAC_ERR_POLICY,
			     "refused: %s is of this country; only foreign CVCAs are imported here "
			     "(CP-3.2.2)",
			     b->chr.s);
		goto out;
	}
	if (cvc_obj_self_signed(o)) {
		if ((r = cvc_verify_cert(o, &b->key, NULL)) != EAC_OK)
			goto bad_sig;
	} else {
		/* a link certificate must extend a CVCA certificate we hold */
		db_cert_filter f = { .chr = b->car.s, .imported = 1, .limit = 4 };
		if ((r = db_certs_find(eng_db(e), &f, &known, &nk)) != EAC_OK)
			goto out;
		r = EAC_ERR_CHAIN;
		for (size_t i = 0; i < nk && r != EAC_OK; i++) {
			cvc_obj_free(anchor);
			anchor = NULL;
			if (eng_cert_obj(&known[i], &anchor) != EAC_OK)
				continue;
			r = cvc_verify_cert(o, &cvc_obj_body(anchor)->key, NULL);
		}
		if (r != EAC_OK) {
			r = eac_fail(EAC_ERR_CHAIN,
				     "%s: link certificate %s does not verify against a known "
				     "certificate %s; import that first",
				     path, b->chr.s, b->car.s);
			goto out;
		}
	}
	/* one CHR names one key (CP-3.1b); a new key of a CVCA already trusted
	 * comes with its link certificate, which proves the rollover from a key
	 * we trust (CP-1.4b, TR-03110-3 2.3) */
	if ((r = cvc_pubkey_hash(&b->key, h)) != EAC_OK)
		goto out;
	{
		db_cert *same = NULL;
		size_t ns = 0;
		int linked = 0;
		db_cert_filter sf = { .chr = b->chr.s, .imported = 1, .limit = 8 };
		if ((r = db_certs_find(eng_db(e), &sf, &same, &ns)) != EAC_OK)
			goto out;
		for (size_t i = 0; i < ns; i++) {
			if (memcmp(same[i].holder_key_hash, h, sizeof(h)) != 0) {
				db_certs_free(same, ns);
				r = eac_fail(EAC_ERR_POLICY,
					     "refused: %s: a certificate %s for another key is already "
					     "trusted; one holder reference names one key (CP-3.1b)",
					     path, b->chr.s);
				goto out;
			}
			/* this key is trusted already, through a link or itself */
			linked = 1;
		}
		db_certs_free(same, ns);
		if (cvc_obj_self_signed(o) && !linked &&
		    db_authority_find(eng_db(e), cc, mn, &fa) == EAC_OK) {
			db_cert *any = NULL;
			size_t na = 0;
			db_cert_filter af = { .issuer = fa.id, .imported = 1, .limit = 1 };
			if ((r = db_certs_find(eng_db(e), &af, &any, &na)) != EAC_OK)
				goto out;
			db_certs_free(any, na);
			if (na > 0) {
				r = eac_fail(EAC_ERR_POLICY,
					     "refused: %s: %s is a new key of the CVCA %s%s already trusted; "
					     "import its link certificate first, which a trusted key signed "
					     "(CP-1.4b)",
					     path, b->chr.s, cc, mn);
				goto out;
			}
		}
		eac_err_clear();
	}
	r = db_authority_find(eng_db(e), cc, mn, &fa);
	if (r == EAC_OK) {
		if (fa.kind != kind) {
			r = eac_fail(EAC_ERR_STATE, "%s%s is registered, but not as a trusted CVCA", cc,
				     mn);
			goto out;
		}
		authority = fa.id;
	} else if (r == EAC_ERR_NOT_FOUND) {
		char name[64];
		snprintf(name, sizeof(name), "CVCA %s", cc);
		db_authority_in in = { .kind = kind, .country = cc, .mnemonic = mn, .name = name,
				       .domestic = strcmp(cc, eng_policy(e)->country) == 0 };
		if ((r = db_authority_add(eng_db(e), &in, &authority)) != EAC_OK)
			goto out;
	} else {
		goto out;
	}
	char eff[11], exp[11];
	cvc_date_format(&b->effective, eff);
	cvc_date_format(&b->expiry, exp);
	cvc_bytes enc = cvc_obj_encoding(o);
	if ((r = cvc_chat_encode(&b->chat, chat, &chat_len)) != EAC_OK)
		goto out;
	db_import im = { .issuer = authority,
			 .kind = cvc_obj_self_signed(o) ? DB_KIND_CVCA : DB_KIND_LINK,
			 .chr = b->chr.s, .car = b->car.s, .holder_key_hash = h, .chat = chat,
			 .chat_len = chat_len, .effective = eff, .expiry = exp, .der = enc.ptr,
			 .der_len = enc.len };
	r = db_cert_import(eng_db(e), &im, &cert_id);
	int dup = r == EAC_ERR_DB_CONFLICT && db_last_conflict(eng_db(e)) == DB_CONFLICT_DUPLICATE;
	if (dup)
		eac_err_clear();
	else if (r != EAC_OK)
		goto out;
	if (!e->opts.json)
		printf("%s %s certificate %s (CAR %s) of %s\n", dup ? "already known:" : "imported",
		       im.kind == DB_KIND_LINK ? "link" : "CVCA", b->chr.s, b->car.s, cc);
	json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b}", "file", path, "chr", b->chr.s,
					     "car", b->car.s, "already_known", dup));
	r = EAC_OK;
	goto out;
bad_sig:
	r = eac_fail(EAC_ERR_SIGNATURE, "%s: the self-signature of %s does not verify", path,
		     b->chr.s);
out:
	db_certs_free(known, nk);
	cvc_obj_free(anchor);
	cvc_obj_free(o);
	return r;
}

