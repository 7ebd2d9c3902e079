/* SPDX-License-Identifier: Apache-2.0 */
/* Key generation for the ceremonies of both engines, and the key and token
 * facts their transcripts record. */

#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/internal.h"

eac_err eng_new_key(eng *e, int64_t authority, const hsm_keyspec *spec, cvc_alg alg,
		    const cvc_ref *chr, db_key_state state, hsm_key **hk, cvc_keybuf *kb,
		    cvc_pubkey *pub, db_key *rec)
{
	eac_err r;
	hsm_ctx *ctx;
	EVP_PKEY *pk = NULL;
	uint8_t h[EAC_SHA256_LEN];
	int64_t id;

	if ((r = eng_token(e, &ctx)) != EAC_OK ||
	    (r = hsm_key_generate(ctx, spec, chr->s, hk)) != EAC_OK)
		return r;
	if ((r = hsm_key_public(*hk, &pk)) != EAC_OK ||
	    (r = cvc_pubkey_from_pkey(pk, alg, 1, kb, pub)) != EAC_OK ||
	    (r = cvc_pubkey_hash(pub, h)) != EAC_OK)
		goto out;
	db_key_in in = { .authority = authority, .pkcs11_uri = hsm_key_uri(*hk), .label = chr->s,
			 .pubkey_hash = h, .algorithm = cvc_alg_name(alg),
			 .curve = spec->type == HSM_KEY_EC ? cvc_curve_name(spec->curve) : NULL,
			 .state = state };
	if ((r = db_key_add(eng_db(e), &in, &id)) != EAC_OK ||
	    (r = db_key_get(eng_db(e), id, rec)) != EAC_OK)
		goto out;
	r = EAC_OK;
out:
	EVP_PKEY_free(pk);
	return r;
}

json_t *eng_key_json(hsm_key *k, const cvc_pubkey *pub)
{
	hsm_key_info ki;
	uint8_t h[EAC_SHA256_LEN];
	json_t *o = json_object();
	if (hsm_key_attrs(k, &ki) != EAC_OK || cvc_pubkey_hash(pub, h) != EAC_OK)
		return o;
	json_object_set_new(o, "label", json_string(ki.label));
	json_object_set_new(o, "uri", json_string(hsm_key_uri(k)));
	json_object_set_new(o, "type", json_string(ki.type == HSM_KEY_EC ? "EC" : "RSA"));
	if (ki.type == HSM_KEY_EC)
		json_object_set_new(o, "curve", json_string(cvc_curve_name(ki.curve)));
	json_object_set_new(o, "bits", json_integer(ki.bits));
	json_object_set_new(o, "scheme", json_string(cvc_alg_name(pub->alg)));
	json_object_set_new(
		o, "attributes",
		json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "CKA_TOKEN", ki.token, "CKA_PRIVATE",
			  ki.private_, "CKA_SENSITIVE", ki.sensitive, "CKA_EXTRACTABLE",
			  ki.extractable, "CKA_ALWAYS_SENSITIVE", ki.always_sensitive,
			  "CKA_NEVER_EXTRACTABLE", ki.never_extractable, "CKA_LOCAL", ki.local));
	json_object_set_new(o, "public_key_sha256", eng_json_hex(h, sizeof(h)));
	return o;
}

json_t *eng_token_json(eng *e)
{
	hsm_ctx *ctx;
	hsm_token_info ti;
	if (eng_token(e, &ctx) != EAC_OK)
		return json_null();
	hsm_token_describe(ctx, &ti);
	return json_pack("{s:s, s:s, s:s, s:s}", "label", ti.label, "manufacturer",
			 ti.manufacturer, "model", ti.model, "serial", ti.serial);
}

